"""The office's report from folded figures: periods of local days, one table per view.

A report is plain tables (columns with a key and a bilingual label, rows of numbers and text)
so JSON, CSV and XLSX are three renderings of the same thing and can never disagree.

Figures are kept per UTC hour; a local day is made of the hours that start inside it. That is
exact for every zone whose offset is whole hours (Asia/Shanghai, the stations' zone), which is
all the settings' time zone is meant for.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

Period = Literal["day", "week", "month"]
PERIODS: tuple[Period, ...] = ("day", "week", "month")
FLEET = "*"
"""The station column of a row that sums every chosen station (no station id can be `*`)."""
FLEET_NAME = "全部站点 all stations"
MAX_DAYS = 366
TOP_TOOLS = 10

SERVICES = (
    "rest_visits",
    "loans",
    "returns",
    "found_handed_in",
    "found_returned",
    "deposits",
    "phone_charges",
)
"""What one person served counts as (服务人次): one use of one service."""


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    title: str
    columns: tuple[Column, ...]
    rows: list[list[Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "columns": [{"key": c.key, "label": c.label} for c in self.columns],
            "rows": [dict(zip((c.key for c in self.columns), r, strict=True)) for r in self.rows],
        }


@dataclass(frozen=True, slots=True)
class ReportRequest:
    period: Period
    first: date
    last: date
    """Both local dates are inside the report."""
    stations: tuple[str, ...] = ()
    """Empty for every registered station."""


@dataclass(frozen=True, slots=True)
class Report:
    request: ReportRequest
    timezone: str
    since: float
    until: float
    tables: tuple[Table, ...]

    def table(self, name: str) -> Table:
        return next(t for t in self.tables if t.name == name)


_STATION = (Column("station", "站点编号 station"), Column("station_name", "站点 station name"))
_FIGURES = (
    Column("served", "服务人次 people served"),
    Column("rest_visits", "休息区人次 rest-area visits"),
    Column("rest_minutes", "休息区分钟 rest-area minutes"),
    Column("loans", "工具借出 tool loans"),
    Column("returns", "工具归还 tool returns"),
    Column("late_returns", "逾期归还 late returns"),
    Column("overdue_loans", "逾期借用 overdue loans"),
    Column("found_handed_in", "拾物上交 found items handed in"),
    Column("found_returned", "失物领回 found items returned"),
    Column("deposits", "物品寄存 deposits"),
    Column("phone_charges", "手机充电 phone charges"),
    Column("supplies_restocked", "物资补充 supplies restocked"),
    Column("supplies_used", "物资消耗 supplies used"),
    Column("door_alarms", "柜门告警 door alarms"),
)
SUMMARY_COLUMNS = (
    Column("period", "期间 period"),
    Column("from", "起 from"),
    Column("to", "止 to"),
    *_STATION,
    *_FIGURES,
)
TOOLS_COLUMNS = (
    *_STATION,
    Column("rank", "名次 rank"),
    Column("tool", "工具 tool"),
    Column("loans", "借出 loans"),
    Column("returns", "归还 returns"),
)
HOURS_COLUMNS = (
    *_STATION,
    Column("hour", "时段 hour"),
    Column("served", "服务人次 people served"),
    Column("rest_visits", "休息区人次 rest-area visits"),
    Column("rest_minutes", "休息区分钟 rest-area minutes"),
    Column("loans", "工具借出 tool loans"),
)
SUPPLIES_COLUMNS = (
    *_STATION,
    Column("supply", "物资 supply"),
    Column("restocked", "补充 restocked"),
    Column("used", "消耗 used"),
)
NOTICES_COLUMNS = (
    *_STATION,
    Column("notice", "通知 notice"),
    Column("shows", "展示次数 times shown"),
)
VIEWS = ("summary", "tools", "hours", "supplies", "notices")


def periods(request: ReportRequest) -> list[tuple[str, date, date]]:
    """(label, first day, last day) of each period, clipped to the request's days."""
    out: list[tuple[str, date, date]] = []
    day = request.first
    while day <= request.last:
        if request.period == "day":
            end, label = day, day.isoformat()
        elif request.period == "week":
            end = day + timedelta(days=6 - day.weekday())
            year, week, _ = day.isocalendar()
            label = f"{year}-W{week:02d}"
        else:
            following = date(day.year + day.month // 12, day.month % 12 + 1, 1)
            end, label = following - timedelta(days=1), f"{day.year}-{day.month:02d}"
        end = min(end, request.last)
        out.append((label, day, end))
        day = end + timedelta(days=1)
    return out


def local_midnight(day: date, tz: ZoneInfo) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=tz).timestamp()


def _served(f: dict[str, float]) -> int:
    return int(sum(f.get(k, 0.0) for k in SERVICES))


def _figures(f: dict[str, float]) -> list[Any]:
    """The summary's figure columns from summed metrics (minutes to one decimal)."""
    out: list[Any] = []
    for c in _FIGURES:
        if c.key == "served":
            out.append(_served(f))
        elif c.key == "rest_minutes":
            out.append(round(f.get("rest_seconds", 0.0) / 60.0, 1))
        else:
            out.append(round(f.get(c.key, 0.0)))
    return out


def build(
    rows: Iterable[dict[str, Any]],
    request: ReportRequest,
    stations: Sequence[tuple[str, str]],
    timezone: str,
) -> Report:
    """The report from report_counts rows; `stations` are (id, name) of the chosen stations,
    in the order the report lists them."""
    tz = ZoneInfo(timezone)
    since = local_midnight(request.first, tz)
    until = local_midnight(request.last + timedelta(days=1), tz)
    spans = periods(request)
    index = {d: i for i, (_, a, b) in enumerate(spans) for d in _days(a, b)}
    names = dict(stations)
    ids = [*names, FLEET]
    per_period: dict[tuple[int, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    tools: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    hours: dict[tuple[str, int], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    supplies: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    shows: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for r in rows:
        station = r["station"]
        if station not in names or not since <= r["hour"] < until:
            continue
        local = datetime.fromtimestamp(r["hour"], tz)
        i = index.get(local.date())
        if i is None:
            continue
        metric, key, value = r["metric"], r["key"], float(r["value"])
        for s in (station, FLEET):
            per_period[(i, s)][metric] += value
            hours[(s, local.hour)][metric] += value
            if metric in ("loans", "returns") and key:
                tools[s][key][metric == "returns"] += value
            if metric in ("supplies_restocked", "supplies_used") and key:
                supplies[s][key][metric == "supplies_used"] += value
            if metric == "notice_shows" and key:
                shows[s][key] += value

    def name(s: str) -> str:
        return FLEET_NAME if s == FLEET else names[s]

    summary = Table("summary", "服务汇总 Services", SUMMARY_COLUMNS)
    for i, (label, a, b) in enumerate(spans):
        for s in ids:
            f = per_period.get((i, s), {})
            summary.rows.append([label, a.isoformat(), b.isoformat(), s, name(s), *_figures(f)])
    top = Table("tools", "热门工具 Top tools", TOOLS_COLUMNS)
    for s in ids:
        ranked = sorted(tools.get(s, {}).items(), key=lambda kv: (-kv[1][0], -kv[1][1], kv[0]))
        for rank, (tool, (loans, returns)) in enumerate(ranked[:TOP_TOOLS], start=1):
            top.rows.append([s, name(s), rank, tool, int(loans), int(returns)])
    busy = Table("hours", "繁忙时段 Busiest hours", HOURS_COLUMNS)
    for s in ids:
        for hour in range(24):
            f = hours.get((s, hour), {})
            busy.rows.append(
                [
                    s,
                    name(s),
                    hour,
                    _served(f),
                    int(f.get("rest_visits", 0)),
                    round(f.get("rest_seconds", 0.0) / 60.0, 1),
                    int(f.get("loans", 0)),
                ]
            )
    stock = Table("supplies", "物资 Supplies", SUPPLIES_COLUMNS)
    for s in ids:
        for supply, (restocked, used) in sorted(supplies.get(s, {}).items()):
            stock.rows.append([s, name(s), supply, int(restocked), int(used)])
    seen = Table("notices", "通知展示 Notices shown", NOTICES_COLUMNS)
    for s in ids:
        for notice, count in sorted(shows.get(s, {}).items(), key=lambda kv: (-kv[1], kv[0])):
            seen.rows.append([s, name(s), notice, int(count)])
    return Report(request, timezone, since, until, (summary, top, busy, stock, seen))


def _days(first: date, last: date) -> Iterable[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)
