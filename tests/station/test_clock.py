"""The real clock on the hot path: an append asks the kernel, never starts a program."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from station.clock import SystemClock, kernel_clock_synced
from station.store import Store

# Audit events CPython raises whenever a process is started (see the audit events table).
_SPAWNING = {"subprocess.Popen", "os.posix_spawn", "os.spawn", "os.fork", "os.exec", "os.system"}


class _SpawnWatch:
    """One audit hook per test process (hooks cannot be removed); it records only when armed."""

    def __init__(self) -> None:
        self.armed = False
        self.seen: list[tuple[str, tuple[Any, ...]]] = []
        sys.addaudithook(self._hook)

    def _hook(self, event: str, args: tuple[Any, ...]) -> None:
        if self.armed and event in _SPAWNING:
            self.seen.append((event, args))


_WATCH: list[_SpawnWatch] = []


@contextmanager
def no_process_started() -> Iterator[list[tuple[str, tuple[Any, ...]]]]:
    if not _WATCH:
        _WATCH.append(_SpawnWatch())
    watch = _WATCH[0]
    watch.seen.clear()
    watch.armed = True
    try:
        yield watch.seen
    finally:
        watch.armed = False


def test_the_watch_sees_a_subprocess() -> None:
    """The hook itself works: a real subprocess is seen (else the tests below prove nothing)."""
    import subprocess

    with no_process_started() as seen:
        subprocess.run([sys.executable, "-c", "pass"], check=True)
    assert any(event == "subprocess.Popen" for event, _ in seen)


def test_kernel_clock_question_starts_no_process() -> None:
    kernel_clock_synced()  # the first call may load libc; later ones must not even do that
    with no_process_started() as seen:
        answers = {kernel_clock_synced() for _ in range(50)}
    assert seen == []
    assert len(answers) == 1 and answers <= {True, False, None}


def test_append_with_the_real_clock_starts_no_process(tmp_path: Path) -> None:
    clock = SystemClock()  # asks the kernel on every append, as on a station
    store = Store(tmp_path / "s.db", clock)
    with no_process_started() as seen:
        for n in range(20):
            store.write_now(
                lambda tx, n=n: tx.append("door_opened", actor="system", payload={"n": n})
            )
    assert seen == [], f"an append started a process: {seen[:3]}"
    events = store.events_after(0)
    assert [e.payload["n"] for e in events] == list(range(20))
    expected = kernel_clock_synced()
    assert all(e.clock_synced is bool(expected) for e in events)
    store.close()


@pytest.mark.parametrize("assume", [True, False])
def test_assumed_sync_overrides_the_kernel(assume: bool) -> None:
    assert SystemClock(assume_synced=assume).synced() is assume
