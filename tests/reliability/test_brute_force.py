"""Brute force against the real daemon: a day of guessing member PINs, staff PINs and codes.

Each attack runs for a simulated 24 hours on a fake clock (guess until refused, wait out
Retry-After, guess again) and counts the guesses the station actually checked, from the usage
log. The bounds asserted here are the ones docs/security.md states; the figures go to the
reliability summary as "guesses an attacker gets per day".
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from launcher.main import main
from station.people.config import PeopleConfig
from station.people.staff import add_staff
from tests.reliability.attackkit import (
    CODE_KEYSPACE,
    DAY_S,
    PIN_KEYSPACE,
    checked_guesses,
    guess_for_a_day,
    lockout_bound,
    wrong_codes,
    wrong_pins,
)
from tests.reliability.report import record
from tests.simstation import running_station
from tests.station.conftest import PIN, Harness, services_config, start_harness
from tests.ui.conftest import station_data, stock
from tests.ui.kiosk import Kiosk, build_app

DEFAULTS = PeopleConfig()
MEMBER = "13812345678"
ONE_TARGET_MAX = 45
"""docs/security.md: one phone number or one staff number, first day (5 tries, then 5 min
doubling to a day)."""
SPRAY_MAX = 120
"""docs/security.md: all numbers together, 30 wrong per 6 hours."""
CHANCE_CEILING = 2e-4
"""docs/security.md: an attacker's chance of one success per day, per kind of secret."""


def harness(tmp_path: Path, **people: Any):
    """The test station; pickup codes last two days, so a day of guessing has codes to guess."""
    data = services_config(tmp_path)
    data["people"] |= people
    data["services"]["storage"] = {"code_valid_h": 48.0}
    return start_harness(data)


def identify(h: Harness, phone: str, pin: str):
    return h.kiosk.post("/api/v1/members/identify", json={"phone": h.phone(phone), "pin": pin})


def staff_login(h: Harness, staff_no: str, pin: str):
    return h.kiosk.post("/api/v1/staff/login", json={"staff_no": staff_no, "pin": pin})


def pickup(h: Harness, code: str):
    """A pickup as the kiosk sends it: the code alone."""
    return h.kiosk.post("/api/v1/pickups", json={"code": code})


async def deposit(h: Harness) -> dict:
    r = await h.kiosk.post("/api/v1/deposits", json={"kind": "bag"})
    assert r.status_code == 202, r.text
    done = await h.finish(r.json())
    assert done["state"] == "completed", done
    return done


async def open_alarms(h: Harness, kind: str) -> list[dict]:
    staff = await h.staff()
    alarms = (await staff.get("/api/v1/alarms")).json()
    return [a for a in alarms if a["type"] == kind]


def test_the_documented_one_target_bound_follows_from_the_defaults() -> None:
    bound = lockout_bound(
        DEFAULTS.pin_max_failures, DEFAULTS.lockout_s, DEFAULTS.lockout_max_s, DAY_S
    )
    assert bound == ONE_TARGET_MAX
    windows = -(-DAY_S // DEFAULTS.guess_window_s)
    for limit in (
        DEFAULTS.station_member_pin_failures,
        DEFAULTS.station_staff_pin_failures,
        DEFAULTS.station_code_failures,
    ):
        assert limit * windows == SPRAY_MAX


async def test_a_day_of_guessing_one_members_pin(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        member = await h.register(MEMBER)
        guess = wrong_pins(PIN)
        day = await guess_for_a_day(
            h, lambda i: identify(h, MEMBER, guess(i)), "pin_failed", "member:"
        )
        assert 5 <= day.checked <= ONE_TARGET_MAX, day
        assert day.checked / PIN_KEYSPACE < CHANCE_CEILING
        record("guesses_per_day", day.checked, label="member PIN, one phone number")
        record("attacks_refused", day.requests)
        # locked out again at once; staff check who is at the screen and release them
        for i in range(5):
            r = await identify(h, MEMBER, guess(i))
        assert r.status_code == 429 and r.json()["code"] == "locked", r.text
        assert (await identify(h, MEMBER, PIN)).status_code == 429
        staff = await h.staff()
        r = await staff.post(
            f"/api/v1/members/{member['member_id']}/unlock", json={"reason": "ID card checked"}
        )
        assert r.status_code == 200, r.text
        assert (await identify(h, MEMBER, PIN)).status_code == 200


async def test_a_day_of_spraying_one_pin_over_many_phone_numbers(tmp_path: Path) -> None:
    """Each number has its own 5 tries, so only the station-wide budget stops this."""
    async with harness(tmp_path) as h:
        await h.register(MEMBER)
        sprayed = "710394" if PIN != "710394" else "710395"
        day = await guess_for_a_day(
            h, lambda i: identify(h, f"139{i:08d}", sprayed), "pin_failed", "member:"
        )
        assert day.checked <= SPRAY_MAX, day
        assert day.checked == SPRAY_MAX  # the attacker gets the whole budget, and no more
        assert day.checked / PIN_KEYSPACE < CHANCE_CEILING
        record("guesses_per_day", day.checked, label="member PIN, sprayed over phone numbers")
        record("attacks_refused", day.requests)
        throttled = await h.events("guess_throttled")
        assert {json.loads(e["payload"])["kind"] for e in throttled} == {"member_pin"}


async def test_a_day_of_guessing_one_staff_pin(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        add_staff(h.services.store, "S777", "Night shift", "639402")
        guess = wrong_pins("639402")
        day = await guess_for_a_day(
            h, lambda i: staff_login(h, "S777", guess(i)), "pin_failed", "staff:"
        )
        assert 5 <= day.checked <= ONE_TARGET_MAX, day
        assert day.checked / PIN_KEYSPACE < CHANCE_CEILING
        record("guesses_per_day", day.checked, label="staff PIN, one staff number")
        record("attacks_refused", day.requests)


async def test_a_day_of_spraying_one_pin_over_staff_numbers(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        add_staff(h.services.store, "S777", "Night shift", "639402")
        day = await guess_for_a_day(
            h, lambda i: staff_login(h, f"S{i:04d}", "520731"), "pin_failed", "staff:"
        )
        assert day.checked == SPRAY_MAX, day
        record("guesses_per_day", day.checked, label="staff PIN, sprayed over staff numbers")
        record("attacks_refused", day.requests)


async def test_a_day_of_guessing_codes_burns_no_waiting_code(tmp_path: Path) -> None:
    """The code alone finds its locker, so the attacker guesses codes, not lockers: every
    guess is checked against all waiting codes, counted against the kiosk (5 in a row, then a
    pause that doubles) and the station's budget, and no waiting code loses anything."""
    async with harness(tmp_path) as h:
        deposits = [await deposit(h) for _ in range(3)]
        codes = {d["locker"]: d["result"]["code"] for d in deposits}
        guess = wrong_codes(list(codes.values()))
        day = await guess_for_a_day(h, lambda i: pickup(h, guess(i)), "code_wrong")
        waiting = len(codes)
        assert 5 <= day.checked <= ONE_TARGET_MAX, day
        assert day.checked * waiting / CODE_KEYSPACE < CHANCE_CEILING
        record("guesses_per_day", day.checked, label=f"pickup codes, {waiting} waiting lockers")
        record("attacks_refused", day.requests)
        assert not await h.events("code_exhausted")
        assert await h.events("code_lockout")  # each pause of the kiosk alarmed staff
        alarmed = h.services.store.query("SELECT DISTINCT subject FROM alarms")
        assert {"subject": "codes@kiosk:test-kiosk"} in alarmed
        # staff check the screen and end the pause; every owner's code still opens its door
        staff = await h.staff()
        r = await staff.post("/api/v1/throttles/code/release", json={"reason": "checked"})
        assert r.status_code == 200, r.text
        for locker, code in codes.items():
            r = await pickup(h, code)
            assert r.status_code == 202, r.text
            done = await h.finish(r.json())
            assert (done["locker"], done["state"]) == (locker, "completed")
        assert h.sim.unlocks(14) == h.sim.unlocks(15) == h.sim.unlocks(16) == 2


async def test_the_station_wide_code_budget_holds(tmp_path: Path) -> None:
    """With a budget of 2 wrong codes per 6 hours, a day of guessing checks 8, alarmed."""
    async with harness(tmp_path, station_code_failures=2) as h:
        codes = [d["result"]["code"] for d in [await deposit(h) for _ in range(3)]]
        guess = wrong_codes(codes)
        day = await guess_for_a_day(h, lambda i: pickup(h, guess(i)), "code_wrong")
        assert day.checked == 2 * 4, day
        staff = await h.staff()
        r = await staff.post("/api/v1/throttles/code/release", json={"reason": "checked"})
        assert r.status_code == 200, r.text
        for i in range(2):  # released: spend the budget again, then even the right code waits
            assert (await pickup(h, guess(100 + i))).status_code == 403
        r = await pickup(h, codes[0])
        assert r.status_code == 429 and r.json()["code"] == "guessing_throttled", r.text
        assert [a["subject"] for a in await open_alarms(h, "guessing")] == ["code"]
        record("attacks_refused", day.requests)


async def test_a_claim_code_outlives_guessing_and_dies_at_its_expiry(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        staff = await h.staff()
        approvals = []
        for owner in ("17733334444", "13544445555"):
            r = await h.kiosk.post(
                "/api/v1/found", json={"category": "keys", "colour": "red", "place": "公园"}
            )
            assert r.status_code == 202, r.text
            number = (await h.finish(r.json()))["result"]["number"]
            r = await h.kiosk.post(
                f"/api/v1/found/{number}/claims",
                json={"phone": h.phone(owner), "description": "red keys"},
            )
            assert r.status_code == 201, r.text
            r = await staff.post(f"/api/v1/claims/{r.json()['id']}/approve", json={})
            assert r.status_code == 200, r.text
            approvals.append(r.json())
        first, second = approvals
        guess = wrong_codes([first["code"], second["code"]])
        answers = [await pickup(h, guess(i)) for i in range(5)]
        assert [r.status_code for r in answers] == [403] * 4 + [429]
        await h.sweep(advance_s=DEFAULTS.lockout_s)
        r = await pickup(h, first["code"])
        assert r.status_code == 202, r.text
        assert (await h.finish(r.json()))["result"]["number"] == first["claim"]["item"]
        # the other claim's code, never used, dies at its expiry (48 h by default)
        await h.sweep(advance_s=48 * 3600 + 1)
        r = await pickup(h, second["code"])
        assert (r.status_code, r.json()["code"]) == (410, "code_expired"), r.text


# --- concurrency: a burst must not be checked before the lockout sees it ----------------------


async def test_thirty_concurrent_wrong_pins_check_five(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await h.register(MEMBER)
        add_staff(h.services.store, "S777", "Night shift", "639402")
        guess = wrong_pins(PIN)
        members = await asyncio.gather(*(identify(h, MEMBER, guess(i)) for i in range(30)))
        staff = await asyncio.gather(*(staff_login(h, "S777", guess(i)) for i in range(30)))
        for answers in (members, staff):
            codes = sorted(r.status_code for r in answers)
            assert codes == [403] * 4 + [429] * 26, codes
        assert await checked_guesses(h, "pin_failed", "member:") == 5
        assert await checked_guesses(h, "pin_failed", "staff:") == 5
        record("attacks_refused", 52)


async def test_a_concurrent_spray_stays_within_the_station_budget(tmp_path: Path) -> None:
    async with harness(tmp_path, station_member_pin_failures=4) as h:
        answers = await asyncio.gather(*(identify(h, f"139{i:08d}", "710394") for i in range(30)))
        assert sorted(r.status_code for r in answers) == [403] * 4 + [429] * 26
        assert await checked_guesses(h, "pin_failed", "member:") == 4
        record("attacks_refused", 26)


async def test_thirty_concurrent_wrong_codes_check_five_and_burn_nothing(
    tmp_path: Path,
) -> None:
    """Regression: 30 concurrent wrong codes were all checked; now the kiosk's five are, and
    the waiting code opens its door once the pause is over."""
    async with harness(tmp_path) as h:
        done = await deposit(h)
        locker, code = done["locker"], done["result"]["code"]
        guess = wrong_codes([code])
        answers = await asyncio.gather(*(pickup(h, guess(i)) for i in range(30)))
        statuses = sorted(r.status_code for r in answers)
        assert statuses == [403] * 4 + [429] * 26, statuses
        assert await checked_guesses(h, "code_wrong") == 5
        assert (await pickup(h, code)).status_code == 429
        await h.sweep(advance_s=DEFAULTS.lockout_s)
        r = await pickup(h, code)
        assert r.status_code == 202, r.text
        await h.finish(r.json())
        assert h.sim.unlocks(int(locker[1:])) == 2  # the deposit's opening and its pickup
        record("attacks_refused", 26)


# --- staff end a station-wide pause -----------------------------------------------------------


async def test_a_station_wide_pause_is_alarmed_and_staff_release_it(tmp_path: Path) -> None:
    async with harness(tmp_path, station_member_pin_failures=3) as h:
        await h.register(MEMBER)
        for i in range(3):
            assert (await identify(h, f"139{i:08d}", "710394")).status_code == 403
        r = await identify(h, MEMBER, PIN)  # even the right PIN waits: no oracle while paused
        assert (r.status_code, r.json()["code"]) == (429, "guessing_throttled"), r.text
        assert int(r.headers["Retry-After"]) == DEFAULTS.guess_window_s
        assert "ask staff" in r.json()["detail"]
        [alarm] = await open_alarms(h, "guessing")
        assert alarm["subject"] == "member_pin" and "3 wrong member PINs" in alarm["detail"]
        staff = await h.staff()
        view = {t["kind"]: t for t in (await staff.get("/api/v1/throttles")).json()}
        assert view["member_pin"]["blocked_until"] == h.clock.wall() + DEFAULTS.guess_window_s
        assert view["code"]["blocked_until"] is None
        r = await h.kiosk.post("/api/v1/throttles/member_pin/release", json={"reason": "test"})
        assert r.status_code == 403
        r = await staff.post("/api/v1/throttles/nonsense/release", json={"reason": "test"})
        assert r.status_code == 404
        r = await staff.post(
            "/api/v1/throttles/member_pin/release", json={"reason": "nobody at the screen"}
        )
        assert r.status_code == 200 and r.json()["blocked_until"] is None, r.text
        assert not await open_alarms(h, "guessing")
        [released] = await h.events("guess_throttle_released")
        assert released["actor"].startswith("staff:")
        assert (await identify(h, MEMBER, PIN)).status_code == 200
        # without staff, the pause ends by itself when the window has passed
        for i in range(3, 6):
            await identify(h, f"139{i:08d}", "710394")
        assert (await identify(h, MEMBER, PIN)).status_code == 429
        assert await open_alarms(h, "guessing")
        await h.sweep(advance_s=DEFAULTS.guess_window_s)
        assert not await open_alarms(h, "guessing")
        assert (await identify(h, MEMBER, PIN)).status_code == 200


async def test_a_technician_releases_paused_staff_logins_from_the_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With the staff-login budget spent nobody can log in to release it: `station staff
    release-guessing` at the station's terminal can, while the daemon runs."""
    data = services_config(tmp_path)
    data["people"] |= {"station_staff_pin_failures": 3}
    config_file = tmp_path / "station.toml"
    config_file.write_text(tomli_w.dumps(data), encoding="utf-8")
    async with start_harness(data) as h:
        add_staff(h.services.store, "S777", "Night shift", "639402")
        for i in range(3):
            assert (await staff_login(h, f"X{i}", "520731")).status_code == 403
        r = await staff_login(h, "S777", "639402")
        assert (r.status_code, r.json()["code"]) == (429, "guessing_throttled")
        argv = ["staff", "release-guessing", "staff_pin", "--reason", "kiosk checked"]
        assert await asyncio.to_thread(main, [*argv, "--config", str(config_file)]) == 0
        # (the command reads the system clock, the daemon here a fake one: only the release counts)
        assert capsys.readouterr().out.startswith("staff_pin")
        assert (await staff_login(h, "S777", "639402")).status_code == 200
        [released] = await h.events("guess_throttle_released")
        assert released["actor"] == "cli" and "kiosk checked" in released["payload"]
        assert not await open_alarms(h, "guessing")


async def test_the_touchscreen_says_the_station_paused_guessing(tmp_path: Path) -> None:
    """A member at the screen during a pause is told in plain words when to come back."""
    data = station_data(tmp_path)
    data["people"] |= {"station_member_pin_failures": 2}
    async with running_station(data) as st:
        await stock(st)
        async with st.client("kiosk") as attacker:
            for i in range(2):
                r = await attacker.post(
                    "/api/v1/members/identify", json={"phone": f"139{i:08d}", "pin": "710394"}
                )
                assert r.status_code == 403
        app = build_app(st)
        async with app.run_test(size=(100, 30)) as pilot:
            kiosk = Kiosk(app, pilot, st)
            await kiosk.home()
            await kiosk.tap("#tile-borrow")
            await kiosk.tap("#choice-T-DRILL-1")
            await kiosk.identify()  # the right number and PIN: not checked while paused
            await kiosk.on("ErrorScreen")
            await kiosk.sees("暂停办理")
            await kiosk.sees("本站错误输入次数过多")
            assert "#retry" not in [f"#{b.id}" for b in kiosk.screen.query("Button")]
