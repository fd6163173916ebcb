"""An attacker against the real daemon, on a fake clock, for the brute-force and access suites.

The attacker does what a patient guesser at the kiosk (or on its network, with the kiosk's token)
would: guess until refused, read when it may try again (`Retry-After`), wait exactly that long
(the test moves the fake clock instead of sleeping), and guess again, for a whole simulated day.
What counts is not how many requests it sent but how many guesses the station actually checked,
which the usage log tells: every checked wrong PIN is a `pin_failed` event and every checked
wrong code a `code_wrong` event, written in the transaction that checked it.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from tests.station.conftest import Harness

DAY_S = 86_400.0
PIN_KEYSPACE = 1_000_000 - 1_200
"""Six-digit PINs the station accepts: a million, less the repeated, consecutive and
self-repeating ones check_new_pin refuses (fewer than 1,200), so a guess has at least a one in
998,800 chance."""
CODE_KEYSPACE = 100_000_000
"""Pickup codes are any eight digits, drawn by `secrets`; each guess is checked against every
waiting code (the code alone finds its locker), so a guess's chance is waiting / keyspace."""


@dataclass
class DayOfGuessing:
    requests: int
    """Requests the attacker sent, refused ones included."""
    refused: int
    """Requests answered 429 (the one that triggered a lockout was checked; the rest were not)."""
    checked: int
    """Guesses the station checked (from the usage log)."""


def wrong_pins(right: str) -> Callable[[int], str]:
    """The i-th guess of a PIN that is never the right one (so the attack runs all day)."""

    def guess(i: int) -> str:
        pin = f"{(int(right) + 1 + i * 7919) % 1_000_000:06d}"
        return pin if pin != right else f"{(int(pin) + 1) % 1_000_000:06d}"

    return guess


def wrong_codes(rights: list[str]) -> Callable[[int], str]:
    """The i-th guess of a pickup code that is none of the waiting ones."""

    def guess(i: int) -> str:
        code = f"{(int(rights[0]) + 1 + i * 7919) % CODE_KEYSPACE:08d}"
        while code in rights:
            code = f"{(int(code) + 1) % CODE_KEYSPACE:08d}"
        return code

    return guess


async def checked_guesses(h: Harness, event: str, prefix: str | None = None) -> int:
    """Wrong guesses the station checked: `pin_failed` (of members or staff) or `code_wrong`."""
    rows = await h.events(event)
    if prefix is None:
        return len(rows)
    return sum(1 for r in rows if json.loads(r["payload"])["subject"].startswith(prefix))


async def guess_for_a_day(
    h: Harness,
    send: Callable[[int], Awaitable[httpx.Response]],
    event: str,
    prefix: str | None = None,
    *,
    seconds: float = DAY_S,
    stop: Callable[[httpx.Response], bool] | None = None,
) -> DayOfGuessing:
    """Guess as fast as the station answers; when refused, wait out `Retry-After` and go on.

    `stop` ends the attack early when there is nothing left to guess (every code burned).
    """
    assert h.clock is not None, "the attack needs the fake clock"
    before = await checked_guesses(h, event, prefix)
    end = h.clock.wall() + seconds
    requests = refused = 0
    while h.clock.wall() < end:
        r = await send(requests)
        requests += 1
        assert r.status_code < 500, r.text
        assert r.status_code != 200 and r.status_code != 202, f"a wrong guess got in: {r.text}"
        if stop is not None and stop(r):
            break
        if stop is None:
            assert r.status_code in (403, 429), f"nothing left to guess: {r.status_code} {r.text}"
        if r.status_code == 429:
            wait = float(r.headers["Retry-After"])
            assert wait >= 1, r.headers
            until = r.json()["locked_until"]
            assert until - 1 < h.clock.wall() + wait <= until + 1, (r.headers, r.text)
            refused += 1
            await h.sweep(advance_s=wait)
    checked = await checked_guesses(h, event, prefix) - before
    return DayOfGuessing(requests=requests, refused=refused, checked=checked)


def lockout_bound(pin_max_failures: int, lockout_s: float, lockout_max_s: float, day: float) -> int:
    """Guesses the per-subject lockout alone allows in `day` seconds from a clean start: a
    burst of `pin_max_failures`, then a lock that doubles each time up to its ceiling."""
    t, n, lockouts = 0.0, 0, 0
    while t < day:
        n += pin_max_failures
        lockouts += 1
        t += min(lockout_s * 2 ** (lockouts - 1), lockout_max_s)
    return n


# --- walking every route ------------------------------------------------------------------------

PATH_VALUES = {
    "locker_id": "Z99",
    "alarm_id": "999999",
    "member_id": "0" * 64,
    "staff_no": "NOSUCHSTAFF",
    "kind": "no_such_kind",
    "flow_id": "no-such-flow",
    "tool_id": "NO-SUCH-TOOL",
    "number": "F9999",
    "claim_id": "999999",
    "deposit_id": "999999",
    "supply_id": "no-such-supply",
    "relay": "no-such-relay",
    "notice_id": "no-such-notice",
    "alert_id": "999999",
    "view": "no-such-view",
    "asset": "no-such-asset.js",
    "version": "0.0.0-no-such-release",
    "name": "no-such-file.whl",
}
"""Path parameters that name nothing, so a request a role is admitted to changes nothing."""


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    path: str
    has_body: bool

    def url(self, values: dict[str, str] | None = None) -> str:
        """The path with harmless parameter values, or the given ones (to read real records)."""
        url = self.path
        for name, value in (PATH_VALUES | (values or {})).items():
            url = url.replace("{" + name + "}", value)
        assert "{" not in url, f"no harmless value for a path parameter of {self.path}"
        return url

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def routes_of(spec: dict) -> list[Route]:
    return [
        Route(method.upper(), path, "requestBody" in op)
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
    ]


async def call(client: httpx.AsyncClient, route: Route, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return await client.request(
        route.method, route.url(), headers=headers, json={} if route.has_body else None
    )


def role_refused(r: httpx.Response) -> bool:
    """Refused for who the caller is (401 bearer / 403 role), not for what it asked."""
    if r.status_code == 401:
        return r.headers.get("www-authenticate") == "Bearer"
    return r.status_code == 403 and "may not do this" in r.json().get("detail", "")
