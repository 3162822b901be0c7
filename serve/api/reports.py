"""`/v1/client/projects/{projectId}/reports/{report}`: per-day reports of a project's journal for
the backoffice — events per day, active players, purchases and currency flow.

A report reads the project's player journal between two UTC days a page at a time (a keyset
scan through the backend's store) and folds each page into `engine.reports`, so memory follows
the number of days and distinct keys, not the number of records."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from engine.reports import REPORT_NAMES, ReportFold, new_report
from serve.backend import Backend
from serve.backoffice import InProject, in_project
from serve.csv_cells import csv_row
from serve.problems import ProblemError, problem_responses

router = APIRouter(prefix="/v1/client", tags=["reports"])
ERRORS = problem_responses(400, 401, 403, 404, 422, 429)
DEFAULT_DAYS = 30
MAX_DAYS = 366
PAGE_SIZE = 1_000
DAY_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


class _Report(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    report: str = Field(description="Which report this is.")
    from_: str = Field(alias="from", description="First UTC day of the window (inclusive).", examples=["2026-03-01"])
    to: str = Field(description="UTC day after the window (exclusive).", examples=["2026-03-31"])


class EventsPerDayRow(BaseModel):
    day: str = Field(examples=["2026-03-01"])
    type: str = Field(examples=["wallet.credited"])
    count: int = Field(examples=[42])


class EventsPerDayTotals(BaseModel):
    events: int = Field(description="Events in the whole window.")


class EventsPerDayReport(_Report):
    """How many events of each type the project's players caused each day."""

    model_config = ConfigDict(
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {
                    "report": "events-per-day",
                    "from": "2026-03-01",
                    "to": "2026-03-03",
                    "rows": [
                        {"day": "2026-03-01", "type": "player.created", "count": 12},
                        {"day": "2026-03-01", "type": "wallet.credited", "count": 40},
                        {"day": "2026-03-02", "type": "wallet.credited", "count": 31},
                    ],
                    "totals": {"events": 83},
                }
            ]
        },
    )
    report: Literal["events-per-day"]
    rows: list[EventsPerDayRow]
    totals: EventsPerDayTotals


class ActivePlayersRow(BaseModel):
    day: str = Field(examples=["2026-03-01"])
    players: int = Field(description="Distinct players with at least one event that day.", examples=[12])


class ActivePlayersTotals(BaseModel):
    players: int = Field(description="Distinct players with at least one event in the window.")


class ActivePlayersReport(_Report):
    """Distinct active players per day, and over the whole window (`totals.players`)."""

    model_config = ConfigDict(
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {
                    "report": "active-players",
                    "from": "2026-03-01",
                    "to": "2026-03-03",
                    "rows": [{"day": "2026-03-01", "players": 12}, {"day": "2026-03-02", "players": 9}],
                    "totals": {"players": 17},
                }
            ]
        },
    )
    report: Literal["active-players"]
    rows: list[ActivePlayersRow]
    totals: ActivePlayersTotals


class PurchasesRow(BaseModel):
    day: str = Field(examples=["2026-03-01"])
    sku: str = Field(examples=["potion-pack"])
    count: int = Field(description="Purchases (receipts).", examples=[3])
    quantity: int = Field(description="Units bought over those purchases.", examples=[4])
    revenue: dict[str, int] = Field(description="What they cost, per currency.", examples=[{"coins": 400}])


class PurchasesTotals(BaseModel):
    count: int
    quantity: int
    revenue: dict[str, int]


class PurchasesReport(_Report):
    """Store purchases per day and SKU, with what they cost in each currency."""

    model_config = ConfigDict(
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {
                    "report": "purchases",
                    "from": "2026-03-01",
                    "to": "2026-03-03",
                    "rows": [
                        {
                            "day": "2026-03-01",
                            "sku": "potion-pack",
                            "count": 3,
                            "quantity": 4,
                            "revenue": {"coins": 400},
                        },
                        {
                            "day": "2026-03-02",
                            "sku": "starter-bundle",
                            "count": 1,
                            "quantity": 1,
                            "revenue": {"gems": 10},
                        },
                    ],
                    "totals": {"count": 4, "quantity": 5, "revenue": {"coins": 400, "gems": 10}},
                }
            ]
        },
    )
    report: Literal["purchases"]
    rows: list[PurchasesRow]
    totals: PurchasesTotals


class CurrencyFlowRow(BaseModel):
    day: str = Field(examples=["2026-03-01"])
    currency: str = Field(examples=["coins"])
    earned: int = Field(description="Sum of `wallet.credited` amounts.", examples=[1500])
    spent: int = Field(description="Sum of `wallet.debited` amounts (purchases included).", examples=[400])
    net: int = Field(description="earned - spent: how much all balances changed.", examples=[1100])


class CurrencyTotals(BaseModel):
    earned: int
    spent: int
    net: int


class CurrencyFlowTotals(BaseModel):
    currencies: dict[str, CurrencyTotals]


class CurrencyFlowReport(_Report):
    """Currency earned, spent and net per day and currency."""

    model_config = ConfigDict(
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {
                    "report": "currency-flow",
                    "from": "2026-03-01",
                    "to": "2026-03-02",
                    "rows": [{"day": "2026-03-01", "currency": "coins", "earned": 1500, "spent": 400, "net": 1100}],
                    "totals": {"currencies": {"coins": {"earned": 1500, "spent": 400, "net": 1100}}},
                }
            ]
        },
    )
    report: Literal["currency-flow"]
    rows: list[CurrencyFlowRow]
    totals: CurrencyFlowTotals


AnyReport = Annotated[
    EventsPerDayReport | ActivePlayersReport | PurchasesReport | CurrencyFlowReport,
    Field(discriminator="report"),
]
_MODELS: dict[str, type[_Report]] = {
    "events-per-day": EventsPerDayReport,
    "active-players": ActivePlayersReport,
    "purchases": PurchasesReport,
    "currency-flow": CurrencyFlowReport,
}
assert tuple(_MODELS) == REPORT_NAMES

CSV_EXAMPLE = "day,type,count\r\n2026-03-01,player.created,12\r\n2026-03-01,wallet.credited,40\r\n"
ReportName = Annotated[
    str,
    Path(
        description="Which report: " + ", ".join(f"`{name}`" for name in REPORT_NAMES) + ".",
        examples=["events-per-day"],
        json_schema_extra={"enum": list(REPORT_NAMES)},
    ),
]


FromDay = Annotated[
    str | None,
    Query(
        alias="from",
        pattern=DAY_PATTERN,
        description="First UTC day `YYYY-MM-DD`, inclusive (default: 30 days before `to`).",
        examples=["2026-03-01"],
    ),
]
ToDay = Annotated[
    str | None,
    Query(
        pattern=DAY_PATTERN,
        description="UTC day after the last one, exclusive (default: tomorrow, or 30 days after `from`).",
        examples=["2026-03-31"],
    ),
]


def parse_day(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        message = "must be a calendar day YYYY-MM-DD"
        raise ProblemError(
            "validation-error", f"{name}: {message}", errors=[{"field": name, "message": message}]
        ) from error


def window(start: date | None, end: date | None, today: date) -> tuple[date, date]:
    """`[from, to)` in UTC days: by default the last 30 days including today; at most 366 days."""
    try:
        if end is None:
            end = today + timedelta(days=1) if start is None else start + timedelta(days=DEFAULT_DAYS)
        if start is None:
            start = end - timedelta(days=DEFAULT_DAYS)
    except OverflowError as error:
        message = "the window falls outside the calendar"
        raise ProblemError("validation-error", message, errors=[{"field": "from", "message": message}]) from error
    if start >= end:
        message = "must be a day after 'from'"
        raise ProblemError("validation-error", f"to: {message}", errors=[{"field": "to", "message": message}])
    if (end - start).days > MAX_DAYS:
        message = f"the window may span at most {MAX_DAYS} days"
        raise ProblemError("validation-error", f"to: {message}", errors=[{"field": "to", "message": message}])
    return start, end


async def _fold(connected: Backend, tenant: str, project: str, report: ReportFold, start: date, end: date) -> None:
    """Feeds every journal record of the project's players in `[start, end)` to `report`, one
    page at a time; records come ordered by player, as `ActivePlayers` needs."""
    prefix = f"player:{tenant}/{project}/"
    since, until = f"{start.isoformat()}T00:00:00.000Z", f"{end.isoformat()}T00:00:00.000Z"
    after: tuple[str, int] | None = None
    while True:
        page = await connected.store.scan_journal(prefix, since=since, until=until, after=after, limit=PAGE_SIZE)
        for record in page:
            report.add(record.entity[len(prefix) :], record.occurred_at, record.events)
        if len(page) < PAGE_SIZE:
            return
        after = (page[-1].entity, page[-1].seq)


def _csv_lines(report: ReportFold) -> Iterator[str]:
    """The header row, then one line per row; purchase revenue becomes a `revenue.<currency>`
    column per currency."""
    rows = report.rows()
    columns = [c for c in report.columns if c != "revenue"]
    currencies: list[str] = []
    if "revenue" in report.columns:
        currencies = sorted({currency for row in rows for currency in row["revenue"]})
    yield csv_row([*columns, *(f"revenue.{c}" for c in currencies)])
    for row in rows:
        yield csv_row([*(row[c] for c in columns), *(row["revenue"].get(c, 0) for c in currencies)])


@router.get(
    "/projects/{projectId}/reports/{report}",
    response_model=AnyReport,
    responses={
        200: {
            "description": "The report as JSON, or as CSV with `format=csv`.",
            "content": {"text/csv": {"schema": {"type": "string"}, "example": CSV_EXAMPLE}},
        },
        **ERRORS,
    },
    summary="Read a report",
)
async def read_report(
    report: ReportName,
    acting: Annotated[InProject, in_project("reports:read")],
    from_: FromDay = None,
    to: ToDay = None,
    format: Annotated[Literal["json", "csv"], Query(description="`csv` streams rows after a header row.")] = "json",
) -> Any:
    """A per-day report of the project's players between two UTC days (`from` inclusive, `to`
    exclusive; by default the last 30 days including today; at most 366 days). Rows are ordered
    by day. `events-per-day`: events of each type; `active-players`: distinct players with any
    event (`totals.players` counts the whole window); `purchases`: receipts, units and revenue
    per SKU; `currency-flow`: currency earned (credits), spent (debits) and net. An unknown
    report is 404 `not-found`; a malformed or too long window is 422 `validation-error`."""
    projectId = acting.project
    if report not in REPORT_NAMES:
        raise ProblemError("not-found", f"there is no report '{report}'; reports: {', '.join(REPORT_NAMES)}")
    start, end = window(parse_day(from_, "from"), parse_day(to, "to"), datetime.now(UTC).date())
    fold = new_report(report)
    await _fold(acting.backend, acting.tenant, projectId, fold, start, end)
    if format == "csv":
        filename = f"{projectId}-{report}-{start.isoformat()}-{end.isoformat()}.csv"
        return StreamingResponse(
            _csv_lines(fold),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    return _MODELS[report].model_validate(
        {
            "report": report,
            "from": start.isoformat(),
            "to": end.isoformat(),
            "rows": fold.rows(),
            "totals": fold.totals(),
        }
    )
