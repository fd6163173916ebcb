"""A month of simulated station usage for the report suites, and the figures counted from it
independently of central's fold (straight from the raw events, by local day and hour).

The events carry the types and payload fields the station writes (station/services/lending,
lostfound, deposits and supplies, station/alarms.py, station/occupancy/tracker.py), with the
door and flow events around them that reports must ignore. A few events come from a boot
whose clock was not synchronised: their `ts` is years off and `ts_corrected` holds the real
time, as the station's sync sends them.
"""

from __future__ import annotations

import gzip
import json
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

TZ = ZoneInfo("Asia/Shanghai")
STATIONS = {"EAST-01": "东门站", "WEST-02": "西门站", "SOUTH-03": "南湖公园站"}
TOOLS = ["T-DRILL", "T-LADDER", "T-PUMP", "T-WRENCH", "T-SAW", "T-GLUE"]
SUPPLIES = ["water", "huoxiang", "wipes"]
DOOR_ALARMS = ("forced_open", "door_jammed", "door_left_open")
SERVICES = (
    "rest_visits",
    "loans",
    "returns",
    "found_handed_in",
    "found_returned",
    "deposits",
    "phone_charges",
)
CLOCK_OFF = -1.5e9
"""How far an unsynchronised boot's clock is off (it thinks it is 1978)."""


@dataclass
class Sim:
    """One generated event and its real time (what central should count it at)."""

    type: str
    real: float
    payload: dict[str, Any]
    locker: str | None = None
    synced: bool = True


def local(t: float) -> datetime:
    return datetime.fromtimestamp(t, TZ)


def midnight(day: date) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=TZ).timestamp()


def simulate(rng: random.Random, station: str, first: date, days: int) -> list[Sim]:
    """`days` local days of one station's use from `first`, busiest around midday."""
    busy = {"EAST-01": 1.0, "WEST-02": 0.7, "SOUTH-03": 0.4}[station]
    out: list[Sim] = []
    loans: list[tuple[int, str, float]] = []
    n = 0
    for d in range(days):
        base = midnight(first + timedelta(days=d))
        unsynced = d % 9 == 4  # a day after a power cut with no NTP yet
        for hour in range(6, 23):
            weight = busy * (1.3 - abs(hour - 13) / 8)
            for _ in range(rng.randint(0, 3)):
                if rng.random() > weight:
                    continue
                t = base + hour * 3600 + rng.randint(0, 3599)
                n += 1
                what = rng.choices(
                    [
                        "rest",
                        "loan",
                        "return",
                        "found",
                        "claim",
                        "deposit",
                        "supply",
                        "alarm",
                        "notice",
                    ],
                    [5, 3, 3, 1, 1, 2, 1, 1, 1],
                )[0]
                if what == "rest":
                    length = rng.randint(60, 5400)  # some cross an hour or midnight
                    start, end = t, t + length
                    out.append(
                        Sim(
                            "occupancy_session",
                            end,
                            {
                                "session_id": f"s{n}",
                                "started_at": start,
                                "ended_at": end,
                                "duration_s": length,
                                "end_reason": "vacant",
                            },
                            synced=not unsynced,
                        )
                    )
                elif what == "loan":
                    tool = rng.choices(TOOLS, [6, 4, 3, 2, 1, 1])[0]
                    locker = f"A{TOOLS.index(tool) + 1:02d}"
                    out.append(Sim("door_unlocked", t, {"reason": "loan"}, locker))
                    out.append(Sim("door_opened", t + 2, {"from": "closed"}, locker))
                    out.append(
                        Sim(
                            "loan_started",
                            t + 3,
                            {"loan_id": n, "tool_id": tool, "due_at": t + 86_400},
                            locker,
                            synced=not unsynced,
                        )
                    )
                    loans.append((n, tool, t + 86_400))
                elif what == "return" and loans:
                    loan_id, tool, due = loans.pop(0)
                    late = t > due
                    if late and rng.random() < 0.7:
                        out.append(
                            Sim(
                                "loan_overdue",
                                due + 60,
                                {"loan_id": loan_id, "tool_id": tool, "member": "M***1"},
                            )
                        )
                    out.append(
                        Sim(
                            "tool_returned",
                            t,
                            {
                                "loan_id": loan_id,
                                "tool_id": tool,
                                "borrower": "M***1",
                                "late": late,
                            },
                            f"A{TOOLS.index(tool) + 1:02d}",
                        )
                    )
                elif what == "found":
                    out.append(
                        Sim("found_item_registered", t, {"number": f"F{n}", "category": "bag"})
                    )
                    out.append(Sim("found_handin_cancelled", t + 9, {"reason": "door"}))
                elif what == "claim":
                    if rng.random() < 0.5:
                        out.append(Sim("found_item_claimed", t, {"claim_id": n, "number": "F1"}))
                    else:
                        handed = rng.random() < 0.5
                        payload: dict[str, Any] = {"claim_id": n, "number": "F2"}
                        if handed:
                            payload["handed_over"] = True
                        else:
                            payload["code_expires_at"] = t + 86_400
                        out.append(Sim("claim_approved", t, payload))
                elif what == "deposit":
                    kind = rng.choice(["bag", "phone_charge"])
                    out.append(Sim("deposit_started", t, {"deposit_id": n, "kind": kind}, "B01"))
                    out.append(Sim("deposit_collected", t + 1800, {"deposit_id": n}, "B01"))
                elif what == "supply":
                    supply = rng.choice(SUPPLIES)
                    was = rng.randint(0, 40)
                    if rng.random() < 0.5:
                        added = rng.randint(5, 30)
                        payload = {"supply": supply, "was": was, "count": was + added}
                        out.append(Sim("supply_restocked", t, payload | {"added": added}))
                    else:
                        count = max(0, was - rng.randint(-2, 12))  # a recount may find more
                        out.append(
                            Sim("supply_counted", t, {"supply": supply, "was": was, "count": count})
                        )
                elif what == "notice":  # the kiosk's report of its showings
                    notice = rng.choice(["heat-warning", "promo-haolinju", "water-cut"])
                    out.append(
                        Sim("notice_shown", t, {"notice": notice, "count": rng.randint(1, 40)})
                    )
                else:
                    alarm = rng.choice([*DOOR_ALARMS, "board_offline", "low_stock"])
                    out.append(
                        Sim("alarm_raised", t, {"alarm_id": n, "alarm": alarm, "subject": "A03"})
                    )
                    out.append(Sim("alarm_cleared", t + 600, {"alarm_id": n, "alarm": alarm}))
    return sorted(out, key=lambda s: s.real)


def wire(station: str, sims: list[Sim], first_seq: int = 1) -> list[dict[str, Any]]:
    """The events as the station's sync sends them."""
    out = []
    for seq, s in enumerate(sims, start=first_seq):
        payload = dict(s.payload)
        shift = 0.0 if s.synced else CLOCK_OFF
        if s.type == "occupancy_session":
            payload["started_at"] += shift
            payload["ended_at"] += shift
        out.append(
            {
                "seq": seq,
                "id": f"{station}-{seq}",
                "type": s.type,
                "ts": s.real + shift,
                "ts_corrected": None if s.synced else s.real,
                "mono": float(seq),
                "boot_id": "b-unsynced" if not s.synced else "b1",
                "clock_synced": s.synced,
                "actor": "system",
                "locker": s.locker,
                "payload": payload,
            }
        )
    return out


def post_batch(
    http: httpx.Client, token: str, station: str, after: int, events: list[dict[str, Any]]
) -> dict[str, Any]:
    body = {"station": station, "after": after, "events": events}
    r = http.post(
        "/api/v1/ingest",
        content=gzip.compress(json.dumps(body).encode()),
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Encoding": "gzip",
            "Content-Type": "application/json",
        },
    )
    assert r.status_code == 200, r.text
    return r.json()


# --- the independent count ------------------------------------------------------------------


def overlap(a: float, b: float, c: float, d: float) -> float:
    return max(0.0, min(b, d) - max(a, c))


def recount(
    sims: dict[str, list[Sim]], first: date, last: date
) -> dict[str, dict[tuple[str, str], float]]:
    """Per local day (ISO date) and per station: each metric, counted event by event.

    Returns {"day": {(day, station): {metric: value}} ...} flattened as
    {day: {station: {metric: value}}} for the days from `first` to `last`.
    """
    days: dict[str, dict[str, dict[str, float]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(float))
    )
    lo, hi = midnight(first), midnight(last + timedelta(days=1))
    for station, events in sims.items():
        for s in events:
            p = s.payload
            if s.type == "occupancy_session":
                start, end = p["started_at"], p["ended_at"]
                if lo <= start < hi:
                    days[local(start).date().isoformat()][station]["rest_visits"] += 1
                d = local(start).date()
                while midnight(d) < end:
                    a, b = midnight(d), midnight(d + timedelta(days=1))
                    if lo <= a < hi:
                        secs = overlap(start, end, a, b)
                        days[d.isoformat()][station]["rest_seconds"] += secs
                    d += timedelta(days=1)
                continue
            if not lo <= s.real < hi:
                continue
            f = days[local(s.real).date().isoformat()][station]
            if s.type == "loan_started":
                f["loans"] += 1
            elif s.type == "tool_returned":
                f["returns"] += 1
                f["late_returns"] += p["late"]
            elif s.type == "loan_overdue":
                f["overdue_loans"] += 1
            elif s.type == "found_item_registered":
                f["found_handed_in"] += 1
            elif s.type == "found_item_claimed" or (
                s.type == "claim_approved" and p.get("handed_over")
            ):
                f["found_returned"] += 1
            elif s.type == "deposit_started":
                f["deposits" if p["kind"] == "bag" else "phone_charges"] += 1
            elif s.type == "supply_restocked":
                f["supplies_restocked"] += p["added"]
            elif s.type == "supply_counted":
                f["supplies_used"] += max(0, p["was"] - p["count"])
            elif s.type == "alarm_raised" and p["alarm"] in DOOR_ALARMS:
                f["door_alarms"] += 1
    return days  # type: ignore[return-value]


def hours_recount(sims: dict[str, list[Sim]], first: date, last: date) -> dict[str, dict]:
    """Per station and local hour of day over the days: served, rest visits, rest seconds,
    loans."""
    out: dict[str, dict[int, dict[str, float]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(float))
    )
    lo, hi = midnight(first), midnight(last + timedelta(days=1))
    for station, events in sims.items():
        for s in events:
            p = s.payload
            if s.type == "occupancy_session":
                start, end = p["started_at"], p["ended_at"]
                if lo <= start < hi:
                    h = out[station][local(start).hour]
                    h["rest_visits"] += 1
                    h["served"] += 1
                t = start - start % 3600
                while t < end:
                    if lo <= t < hi:
                        out[station][local(t).hour]["rest_seconds"] += overlap(
                            start, end, t, t + 3600
                        )
                    t += 3600
                continue
            if not lo <= s.real < hi:
                continue
            h = out[station][local(s.real).hour]
            served = s.type in (
                "loan_started",
                "tool_returned",
                "found_item_registered",
                "found_item_claimed",
                "deposit_started",
            ) or (s.type == "claim_approved" and p.get("handed_over") is True)
            h["served"] += served
            h["loans"] += s.type == "loan_started"
    return out
