"""The office's report routes: GET /api/v1/reports (JSON), /api/v1/reports.xlsx (every view,
one sheet each) and /api/v1/reports/{view} (JSON, or CSV with ?format=csv). Office token only.

The period is chosen with `from` and `to` (local dates, both inside the report; by default the
last full month) and `period` (day, week or month rows); `station` may be repeated to choose
stations (by default all). The fleet row (`*`) sums the chosen stations.

No `from __future__ import annotations` here: FastAPI must see the routes' dependency types
as objects.
"""

from collections.abc import Callable, Coroutine
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Response
from fastapi.concurrency import run_in_threadpool

from central.reports.build import (
    MAX_DAYS,
    VIEWS,
    Period,
    Report,
    ReportRequest,
    build,
    local_midnight,
)
from central.reports.export import (
    CSV_MEDIA,
    XLSX_MEDIA,
    SpreadsheetUnavailable,
    report_xlsx,
    table_csv,
)
from central.settings import CentralSettings
from central.storage.base import Storage, TokenRecord
from wire.batch import StationId


def last_full_month(now: float, tz: ZoneInfo) -> tuple[date, date]:
    first_of_this = datetime.fromtimestamp(now, tz).date().replace(day=1)
    last = first_of_this - timedelta(days=1)
    return last.replace(day=1), last


def make_report(storage: Storage, settings: CentralSettings, request: ReportRequest) -> Report:
    """Read the figures and build the report; unknown stations are refused by name."""
    registered = {r.id: r.name for r in storage.stations()}
    unknown = [s for s in request.stations if s not in registered]
    if unknown:
        raise HTTPException(
            404,
            f"no station {', '.join(unknown)} is registered: check the ids "
            "(GET /api/v1/stations lists them)",
        )
    chosen = request.stations or tuple(registered)
    tz = ZoneInfo(settings.timezone)
    since = local_midnight(request.first, tz)
    until = local_midnight(request.last + timedelta(days=1), tz)
    rows = storage.report_counts(since, until, request.stations)
    return build(rows, request, [(s, registered[s]) for s in chosen], settings.timezone)


def _filename(report: Report, what: str, ext: str) -> str:
    r = report.request
    return f"report-{what}-{r.first.isoformat()}_{r.last.isoformat()}-{r.period}.{ext}"


def install_reports(
    app: FastAPI,
    storage: Storage,
    settings: CentralSettings,
    clock: Callable[[], float],
    office: Callable[..., Coroutine[Any, Any, TokenRecord]],
) -> None:
    router = APIRouter()
    Office = Annotated[TokenRecord, Depends(office)]
    tz = ZoneInfo(settings.timezone)

    def request_of(
        period: Annotated[Period, Query(description="Rows per day, ISO week or month")] = "month",
        first: Annotated[date | None, Query(alias="from", description="First local day")] = None,
        last: Annotated[date | None, Query(alias="to", description="Last local day")] = None,
        station: Annotated[list[StationId] | None, Query(description="Repeat to choose")] = None,
    ) -> ReportRequest:
        if first is None or last is None:
            default_first, default_last = last_full_month(clock(), tz)
            first, last = first or default_first, last or default_last
        if last < first:
            raise HTTPException(
                422, f"'to' ({last}) is before 'from' ({first}): give the first day, then the last"
            )
        if (last - first).days + 1 > MAX_DAYS:
            raise HTTPException(
                422,
                f"{(last - first).days + 1} days asked; one report covers at most {MAX_DAYS}: "
                "ask for a year at a time",
            )
        return ReportRequest(period, first, last, tuple(dict.fromkeys(station or ())))

    Request = Annotated[ReportRequest, Depends(request_of)]

    def head(report: Report) -> dict[str, Any]:
        r = report.request
        return {
            "period": r.period,
            "from": r.first.isoformat(),
            "to": r.last.isoformat(),
            "timezone": report.timezone,
            "since": report.since,
            "until": report.until,
        }

    @router.get("/api/v1/reports", tags=["reports"])
    async def everything(_: Office, request: Request) -> dict[str, Any]:
        """Every view of the report (summary, tools, hours, supplies) as JSON tables."""
        report = await run_in_threadpool(make_report, storage, settings, request)
        return head(report) | {"views": [t.to_dict() for t in report.tables]}

    @router.get(
        "/api/v1/reports.xlsx",
        tags=["reports"],
        response_class=Response,
        responses={200: {"content": {XLSX_MEDIA: {}}}},
    )
    async def workbook(_: Office, request: Request) -> Response:
        """The report as a workbook: one sheet per view, a header row, numbers as numbers."""
        report = await run_in_threadpool(make_report, storage, settings, request)
        try:
            body = await run_in_threadpool(report_xlsx, report)
        except SpreadsheetUnavailable as exc:
            raise HTTPException(503, str(exc)) from None
        disposition = f'attachment; filename="{_filename(report, "all", "xlsx")}"'
        return Response(body, media_type=XLSX_MEDIA, headers={"Content-Disposition": disposition})

    @router.get("/api/v1/reports/{view}", tags=["reports"])
    async def one_view(
        _: Office,
        view: str,
        request: Request,
        format: Literal["json", "csv"] = "json",
    ) -> Any:
        """One view of the report, as JSON or as CSV (header row of bilingual labels)."""
        if view not in VIEWS:
            raise HTTPException(404, f"no report view {view!r}: choose one of {', '.join(VIEWS)}")
        report = await run_in_threadpool(make_report, storage, settings, request)
        table = report.table(view)
        if format == "json":
            return head(report) | table.to_dict()
        disposition = f'attachment; filename="{_filename(report, view, "csv")}"'
        return Response(
            table_csv(table), media_type=CSV_MEDIA, headers={"Content-Disposition": disposition}
        )

    app.include_router(router)
