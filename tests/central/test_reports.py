"""The office's report from a month of simulated use at three stations, through the real
ingest and report endpoints on uvicorn, on SQLite and PostgreSQL.

Every figure of every view is recounted here from the raw events (reportkit.recount), not from
central's fold. Batches are delivered the way a poor link delivers them: retried after a lost
answer, and one station's batch arriving before the one in front of it (a gap), during which
the report must not yet count what lies past the gap. The XLSX is read back with openpyxl and
must hold the CSV's cells, numbers as numbers.
"""

from __future__ import annotations

import csv
import io
import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest

from central.app import create_app
from central.auth import new_token, token_hash
from central.server import BackgroundServer
from central.settings import CentralSettings
from central.storage.base import Storage
from tests.central import reportkit as kit

openpyxl = pytest.importorskip("openpyxl", reason="openpyxl is installed with central")

FIRST, LAST = date(2026, 11, 1), date(2026, 11, 30)
NOW = datetime(2026, 12, 3, 10, 0, tzinfo=kit.TZ).timestamp()
FIGURES = (
    "served",
    "rest_visits",
    "rest_minutes",
    "loans",
    "returns",
    "late_returns",
    "overdue_loans",
    "found_handed_in",
    "found_returned",
    "deposits",
    "phone_charges",
    "supplies_restocked",
    "supplies_used",
    "door_alarms",
)


@dataclass
class Month:
    http: httpx.Client
    office: dict[str, str]
    sims: dict[str, list[kit.Sim]]
    gap_checked: bool


def figures_of(f: dict[str, float]) -> dict[str, Any]:
    out: dict[str, Any] = {k: int(f.get(k, 0)) for k in FIGURES}
    out["served"] = int(sum(f.get(k, 0) for k in kit.SERVICES))
    out["rest_minutes"] = round(f.get("rest_seconds", 0.0) / 60.0, 1)
    return out


def summed(days: dict, stations: list[str], day_list: list[date]) -> dict[str, Any]:
    total: dict[str, float] = defaultdict(float)
    for d in day_list:
        for s in stations:
            for k, v in days.get(d.isoformat(), {}).get(s, {}).items():
                total[k] += v
    return figures_of(total)


@pytest.fixture
def month(storage: Storage) -> Iterator[Month]:
    rng = random.Random(20)
    # a day either side of November, which the report must leave out
    sims = {s: kit.simulate(rng, s, FIRST - timedelta(days=1), 32) for s in kit.STATIONS}
    tokens = {}
    for sid, name in kit.STATIONS.items():
        tokens[sid] = new_token()
        storage.add_station(sid, name, token_hash(tokens[sid]), NOW - 40 * 86_400)
    office = new_token()
    storage.add_office_token("office", token_hash(office), NOW)
    app = create_app(storage, CentralSettings(), clock=lambda: NOW)
    with BackgroundServer(app) as server, httpx.Client(base_url=server.url, timeout=60) as http:
        auth = {"Authorization": f"Bearer {office}"}
        gap_checked = False
        for sid, events in sims.items():
            wire = kit.wire(sid, events)
            batches = [wire[i : i + 150] for i in range(0, len(wire), 150)]
            order = list(range(len(batches)))
            if sid == "WEST-02":
                order[2], order[3] = order[3], order[2]  # batch 3 overtakes batch 2
            for k in order:
                after = batches[k][0]["seq"] - 1
                kit.post_batch(http, tokens[sid], sid, after, batches[k])
                if rng.random() < 0.3:  # the answer was lost: the station sends it again
                    again = kit.post_batch(http, tokens[sid], sid, after, batches[k])
                    assert again["stored"] == 0
                if sid == "WEST-02" and k == 3:
                    # central holds batch 3 but not 2: only batches 0 and 1 may count
                    held = [s for s in events[: batches[1][-1]["seq"]]]
                    days = kit.recount({sid: held}, FIRST - timedelta(days=1), LAST)
                    r = http.get(
                        "/api/v1/reports/summary",
                        params={
                            "from": str(FIRST - timedelta(days=1)),
                            "to": str(LAST),
                            "station": sid,
                            "period": "month",
                        },
                        headers=auth,
                    )
                    assert r.status_code == 200, r.text
                    got = {
                        k: sum(row[k] for row in r.json()["rows"] if row["station"] == sid)
                        for k in ("served", "loans")
                    }
                    day_list = [FIRST - timedelta(days=1) + timedelta(days=i) for i in range(31)]
                    want = summed(days, [sid], day_list)
                    assert got == {"served": want["served"], "loans": want["loans"]}
                    gap_checked = True
        yield Month(http, auth, sims, gap_checked)


def get(month: Month, path: str, **params: Any) -> httpx.Response:
    r = month.http.get(path, params=params, headers=month.office)
    assert r.status_code == 200, r.text
    return r


def test_every_figure_of_the_month_matches_the_raw_events(month: Month) -> None:
    assert month.gap_checked
    days = kit.recount(month.sims, FIRST, LAST)
    ids = sorted(kit.STATIONS)
    nov = [FIRST + timedelta(days=i) for i in range(30)]

    # the default report is last full month, one row per station and the fleet row
    body = get(month, "/api/v1/reports").json()
    assert (body["from"], body["to"], body["period"]) == ("2026-11-01", "2026-11-30", "month")
    summary = next(v for v in body["views"] if v["name"] == "summary")["rows"]
    assert [r["station"] for r in summary] == [*ids, "*"]
    for row in summary:
        stations = ids if row["station"] == "*" else [row["station"]]
        want = summed(days, stations, nov)
        assert {k: row[k] for k in FIGURES} == want, row["station"]
        assert row["period"] == "2026-11"
    fleet = summary[-1]
    assert fleet["served"] > 500 and fleet["door_alarms"] > 5 and fleet["phone_charges"] > 20
    assert fleet["late_returns"] > 0 and fleet["supplies_used"] > 0

    # per day and per ISO week for two of the stations
    chosen = ["EAST-01", "SOUTH-03"]
    for period in ("day", "week"):
        rows = get(
            month,
            "/api/v1/reports/summary",
            period=period,
            station=chosen,
            **{"from": "2026-11-01", "to": "2026-11-30"},
        ).json()["rows"]
        seen = set()
        for row in rows:
            a, b = date.fromisoformat(row["from"]), date.fromisoformat(row["to"])
            span = [a + timedelta(days=i) for i in range((b - a).days + 1)]
            stations = chosen if row["station"] == "*" else [row["station"]]
            assert row["station"] in (*chosen, "*")
            assert {k: row[k] for k in FIGURES} == summed(days, stations, span), row
            seen.update((d, row["station"]) for d in span)
        assert len(seen) == 30 * 3  # every day once per station and for the fleet
        if period == "week":  # 1 November 2026 is a Sunday: its week is clipped to it
            assert (rows[0]["period"], rows[0]["from"], rows[0]["to"]) == (
                f"2026-W{FIRST.isocalendar()[1]:02d}",
                "2026-11-01",
                "2026-11-01",
            )

    # busiest hours
    hours = kit.hours_recount(month.sims, FIRST, LAST)
    rows = get(month, "/api/v1/reports/hours").json()["rows"]
    assert len(rows) == 24 * 4
    for row in rows:
        stations = ids if row["station"] == "*" else [row["station"]]
        h = defaultdict(float)
        for s in stations:
            for k, v in hours[s][row["hour"]].items():
                h[k] += v
        assert row["served"] == h["served"], row
        assert row["rest_visits"] == h["rest_visits"], row
        assert row["loans"] == h["loans"], row
        assert row["rest_minutes"] == round(h["rest_seconds"] / 60, 1), row

    # top tools: loans and returns per tool, ranked by loans
    lo, hi = kit.midnight(FIRST), kit.midnight(LAST + timedelta(days=1))
    rows = get(month, "/api/v1/reports/tools").json()["rows"]
    for station in [*ids, "*"]:
        counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for s in ids if station == "*" else [station]:
            for e in month.sims[s]:
                if lo <= e.real < hi and e.type in ("loan_started", "tool_returned"):
                    counts[e.payload["tool_id"]][e.type == "tool_returned"] += 1
        want = sorted(counts.items(), key=lambda kv: (-kv[1][0], -kv[1][1], kv[0]))
        got = [r for r in rows if r["station"] == station]
        assert [(r["tool"], [r["loans"], r["returns"]]) for r in got] == want
        assert [r["rank"] for r in got] == list(range(1, len(want) + 1))

    # supplies restocked and used, per supply
    rows = get(month, "/api/v1/reports/supplies").json()["rows"]
    for station in [*ids, "*"]:
        want_s: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for s in ids if station == "*" else [station]:
            for e in month.sims[s]:
                if not lo <= e.real < hi:
                    continue
                if e.type == "supply_restocked":
                    want_s[e.payload["supply"]][0] += e.payload["added"]
                elif e.type == "supply_counted":
                    want_s[e.payload["supply"]][1] += max(0, e.payload["was"] - e.payload["count"])
        got_s = {r["supply"]: [r["restocked"], r["used"]] for r in rows if r["station"] == station}
        assert got_s == {k: v for k, v in want_s.items()}

    # how often each notice was shown (the kiosk's notice_shown reports)
    rows = get(month, "/api/v1/reports/notices").json()["rows"]
    for station in [*ids, "*"]:
        want_n: dict[str, int] = defaultdict(int)
        for s in ids if station == "*" else [station]:
            for e in month.sims[s]:
                if lo <= e.real < hi and e.type == "notice_shown":
                    want_n[e.payload["notice"]] += e.payload["count"]
        got_n = [(r["notice"], r["shows"]) for r in rows if r["station"] == station]
        assert got_n == sorted(want_n.items(), key=lambda kv: (-kv[1], kv[0]))
        assert got_n


def _csv_rows(text: bytes) -> list[list[Any]]:
    assert text.startswith("\ufeff".encode())

    def value(cell: str) -> Any:
        for cast in (int, float):
            try:
                return cast(cell)
            except ValueError:
                pass
        return cell

    rows = list(csv.reader(io.StringIO(text.decode("utf-8-sig"))))
    return [rows[0], *[[value(c) for c in r] for r in rows[1:]]]


def test_the_workbook_holds_the_csv_numbers_as_numbers(month: Month) -> None:
    params = {"from": "2026-11-01", "to": "2026-11-30", "period": "week"}
    r = get(month, "/api/v1/reports.xlsx", **params)
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in r.headers["content-disposition"]
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    assert book.sheetnames == ["summary", "tools", "hours", "supplies", "notices"]
    for name in book.sheetnames:
        csv_rows = _csv_rows(get(month, f"/api/v1/reports/{name}", format="csv", **params).content)
        sheet = [list(row) for row in book[name].iter_rows(values_only=True)]
        assert sheet == csv_rows, name
        assert len(sheet) > 4
        header = sheet[0]
        assert all(isinstance(h, str) and h for h in header)
        for row in sheet[1:]:
            for label, cell in zip(header, row, strict=True):
                if label.split()[-1] in ("served", "loans", "returns", "minutes", "hour", "used"):
                    assert isinstance(cell, int | float) and not isinstance(cell, bool), label
    assert "服务人次 people served" in [c.value for c in book["summary"][1]]


def test_refusals_say_what_to_do(month: Month) -> None:
    h = month.office
    r = month.http.get(
        "/api/v1/reports", params={"from": "2026-11-30", "to": "2026-11-01"}, headers=h
    )
    assert r.status_code == 422 and "before" in r.json()["detail"]
    r = month.http.get("/api/v1/reports", params={"station": "NOPE-9"}, headers=h)
    assert r.status_code == 404 and "NOPE-9" in r.json()["detail"]
    r = month.http.get("/api/v1/reports/everything", headers=h)
    assert r.status_code == 404 and "summary" in r.json()["detail"]
    r = month.http.get(
        "/api/v1/reports", params={"from": "2024-01-01", "to": "2026-01-01"}, headers=h
    )
    assert r.status_code == 422 and "at most" in r.json()["detail"]
    assert month.http.get("/api/v1/reports").status_code == 401
    assert month.http.get("/api/v1/reports.xlsx").status_code == 401
