"""Sessions: idle expiry on the monotonic clock, ending, and only hashes of tokens kept."""

from __future__ import annotations

from station.clock import FakeClock
from station.people.sessions import SessionStore


def test_idle_expiry_and_activity(clock: FakeClock) -> None:
    sessions = SessionStore(clock, idle_s=120)
    token, _ = sessions.create("S001", "staff:S001")
    clock.advance(119)
    assert sessions.get(token) is not None  # and this use restarts the idle time
    clock.advance(119)
    assert sessions.get(token, touch=False) is not None
    clock.advance(1)
    assert sessions.get(token) is None
    assert [s.subject for s in sessions.expire()] == ["S001"]
    assert len(sessions) == 0


def test_tokens_are_random_and_only_their_hash_is_kept(clock: FakeClock) -> None:
    sessions = SessionStore(clock, idle_s=60)
    a, _ = sessions.create("m1", "member:1")
    b, _ = sessions.create("m1", "member:1")
    assert a != b and len(a) >= 40
    assert a not in repr(vars(sessions))
    assert sessions.get("forged") is None


def test_end_one_and_end_all_of_a_subject(clock: FakeClock) -> None:
    sessions = SessionStore(clock, idle_s=60)
    a, _ = sessions.create("m1", "member:1")
    b, _ = sessions.create("m1", "member:1")
    c, _ = sessions.create("m2", "member:2")
    assert sessions.end(a) is not None
    assert sessions.get(a) is None
    assert sessions.end_subject("m1") == 1
    assert sessions.get(b) is None and sessions.get(c) is not None


def test_a_wall_clock_jump_does_not_end_a_session(clock: FakeClock) -> None:
    sessions = SessionStore(clock, idle_s=60)
    token, _ = sessions.create("S001", "staff:S001")
    clock._wall += 10 * 365 * 86400  # NTP fixes a Pi that booted in 1970
    assert sessions.get(token) is not None
