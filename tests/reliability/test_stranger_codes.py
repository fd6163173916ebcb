"""Wrong codes typed at a kiosk never burn a stranger's pickup code (issue 16), against the
real daemon over HTTP on a fake clock.

Before the fix a pickup named a locker and its code, and 5 wrong codes at that locker burned
its code for good: anyone could lock a stranger out of their deposit, the owner was then told
nothing was waiting, and no staff alarm was raised. Now the code alone finds its locker, so a
wrong code is counted against the kiosk that typed it and against the station, never a code.
"""

from __future__ import annotations

import httpx

from station.people.config import PeopleConfig
from tests.reliability.attackkit import wrong_codes
from tests.reliability.report import record
from tests.station.conftest import Harness, services_config, start_harness

SECOND_KIOSK = "second-kiosk-token-for-tests-01"
"""A second touchscreen of the station (a booth with two screens, or its token in the wrong
hands): its wrong codes must not pause the first one either."""


async def deposit(h: Harness) -> dict:
    r = await h.kiosk.post("/api/v1/deposits", json={"kind": "bag"})
    assert r.status_code == 202, r.text
    done = await h.finish(r.json())
    assert done["state"] == "completed", done
    return done


async def test_wrong_codes_at_the_kiosk_never_burn_a_strangers_code(tmp_path) -> None:
    data = services_config(tmp_path)
    data["api"]["tokens"].append({"name": "second", "role": "kiosk", "token": SECOND_KIOSK})
    async with start_harness(data) as h:
        victim = await deposit(h)
        code, locker = victim["result"]["code"], victim["locker"]
        guess = wrong_codes([code])
        async with httpx.AsyncClient(
            base_url=h.station.url, headers={"Authorization": f"Bearer {SECOND_KIOSK}"}
        ) as stranger:
            answers = []
            tries = PeopleConfig().pin_max_failures
            for round_ in range(3):  # three rounds of guessing, each waited out but the last
                for i in range(tries):
                    r = await stranger.post("/api/v1/pickups", json={"code": guess(round_ * 9 + i)})
                    answers.append(r.status_code)
                assert r.status_code == 429 and r.json()["code"] == "codes_locked", r.text
                if round_ < 2:
                    await h.sweep(advance_s=float(r.headers["Retry-After"]))
            assert answers == ([403] * (tries - 1) + [429]) * 3, answers
            # the stranger's screen is paused and staff were told; the code never was touched
            r = await stranger.post("/api/v1/pickups", json={"code": code})
            assert (r.status_code, r.json()["code"]) == (429, "codes_locked"), r.text
        staff = await h.staff()
        alarms = (await staff.get("/api/v1/alarms")).json()
        assert ("guessing", "codes@kiosk:second") in {(a["type"], a["subject"]) for a in alarms}
        [waiting] = (await staff.get("/api/v1/pickups")).json()
        assert (waiting["locker"], waiting["code_status"]) == (locker, "active")
        assert not await h.events("code_exhausted")
        # the owner, at the first screen, opens the locker with the code, at once
        r = await h.kiosk.post("/api/v1/pickups", json={"code": code})
        assert r.status_code == 202, r.text
        done = await h.finish(r.json())
        assert (done["locker"], done["state"]) == (locker, "completed")
        assert done["result"] == {"kind": "deposit", "ref": victim["result"]["deposit_id"]}
        record("attacks_refused", answers.count(429))
