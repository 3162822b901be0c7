"""`/v1/client/projects/{projectId}/reports/economy-health`: per currency and UTC day, sources,
sinks, net flow, circulating supply and the top 1 %'s share, read from the aggregates that
`actors.economy_health` keeps (caught up to the request first), as JSON or CSV."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from actors.economy_health import EconomyHealth
from engine.economy_health import SINK_KINDS, SOURCE_KINDS
from serve.api.reports import FromDay, ToDay, parse_day, window
from serve.api_key_auth import ID_PATTERN
from serve.backend import Backend
from serve.backoffice import InProject, in_project
from serve.csv_cells import csv_row
from serve.problems import problem_responses

router = APIRouter(prefix="/v1/client", tags=["reports"])
ERRORS = problem_responses(400, 401, 403, 404, 422, 429)
ROW_EXAMPLE: dict[str, Any] = {
    "day": "2026-03-01",
    "currency": "coins",
    "sources": {
        "credits": {"daily-login": 1000},
        "purchases": {"starter-bundle": 500},
        "quests": {"daily-battles": 150},
        "achievements": {},
        "total": 1650,
    },
    "sinks": {"debits": {"repair": 40}, "purchases": {"potion-pack": 600}, "total": 640},
    "net": 1010,
    "supply": 48210,
    "holders": 310,
    "top1PercentShare": 0.182,
}
CSV_EXAMPLE = (
    "day,currency,sourcesTotal,sinksTotal,net,supply,holders,top1PercentShare,"
    "sources.credits.daily-login,sinks.purchases.potion-pack\r\n"
    "2026-03-01,coins,1650,640,1010,48210,310,0.182,1000,600\r\n"
)


class Sources(BaseModel):
    credits: dict[str, int] = Field(description="Credits by reason (`(none)` without one).")
    purchases: dict[str, int] = Field(description="Currency granted by purchases, by SKU.")
    quests: dict[str, int] = Field(description="Quest rewards, by quest.")
    achievements: dict[str, int] = Field(description="Achievement rewards, by achievement.")
    total: int


class Sinks(BaseModel):
    debits: dict[str, int] = Field(description="Debits by reason (`(none)` without one).")
    purchases: dict[str, int] = Field(description="Prices paid, by SKU.")
    total: int


class EconomyHealthRow(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [ROW_EXAMPLE]})
    day: str = Field(description="The UTC day, `YYYY-MM-DD`.")
    currency: str
    sources: Sources
    sinks: Sinks
    net: int = Field(description="sources.total - sinks.total: how much all balances grew that day.")
    supply: int = Field(description="The sum of all balances after the day's last movement.")
    holders: int = Field(description="Players with a positive balance after the day's last movement.")
    top1PercentShare: float = Field(
        description="The share of the supply held by the top 1 % of holders (the ceil(holders / 100) largest balances)."
    )


class EconomyHealthReport(BaseModel):
    """Per currency and UTC day: where currency came from and went, and how it is held."""

    model_config = ConfigDict(
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {
                    "report": "economy-health",
                    "from": "2026-03-01",
                    "to": "2026-03-02",
                    "currency": None,
                    "rows": [ROW_EXAMPLE],
                }
            ]
        },
    )
    report: Literal["economy-health"] = "economy-health"
    from_: str = Field(alias="from", description="First UTC day of the window (inclusive).")
    to: str = Field(description="UTC day after the window (exclusive).")
    currency: str | None = Field(description="The currency asked for (None: every currency).")
    rows: list[EconomyHealthRow] = Field(
        description="Ordered by day, then currency; a day without movement has no row."
    )


def aggregates(request: Request, connected: Backend) -> EconomyHealth:
    """The process's aggregator (one per store: its locks keep this process's catch-ups in turn)."""
    current: EconomyHealth | None = getattr(request.app.state, "economy_health", None)
    if current is None or current.store is not connected.store:
        current = EconomyHealth(connected.store)
        request.app.state.economy_health = current
    return current


def csv_lines(rows: list[dict[str, Any]]) -> Iterator[str]:
    """A header, then a line per row: totals first, then a `sources.<kind>.<key>` /
    `sinks.<kind>.<key>` column for every key any row has."""
    breakdown = sorted(
        {
            (flow, kind, key)
            for row in rows
            for flow, kinds in (("sources", SOURCE_KINDS), ("sinks", SINK_KINDS))
            for kind in kinds
            for key in row[flow][kind]
        }
    )
    fixed = ["day", "currency", "sourcesTotal", "sinksTotal", "net", "supply", "holders", "top1PercentShare"]
    yield csv_row([*fixed, *(f"{flow}.{kind}.{key}" for flow, kind, key in breakdown)])
    for row in rows:
        totals = [row["sources"]["total"], row["sinks"]["total"], row["net"], row["supply"], row["holders"]]
        amounts = [row[flow][kind].get(key, 0) for flow, kind, key in breakdown]
        yield csv_row([row["day"], row["currency"], *totals, row["top1PercentShare"], *amounts])


@router.get(
    "/projects/{projectId}/reports/economy-health",
    response_model=EconomyHealthReport,
    responses={
        200: {
            "description": "The report as JSON, or as CSV with `format=csv` or `Accept: text/csv`.",
            "content": {"text/csv": {"schema": {"type": "string"}, "example": CSV_EXAMPLE}},
        },
        **ERRORS,
    },
    summary="Read the economy-health report",
)
async def read_economy_health(
    acting: Annotated[InProject, in_project("reports:read")],
    from_: FromDay = None,
    to: ToDay = None,
    currency: Annotated[
        str | None, Query(pattern=ID_PATTERN, description="Only this currency.", examples=["coins"])
    ] = None,
    format: Annotated[Literal["json", "csv"] | None, Query(description="`csv` streams rows after a header.")] = None,
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Any:
    """Per currency and UTC day in `[from, to)` (at most 366 days): `sources` (credits by reason,
    purchase grants by SKU, quest and achievement rewards), `sinks` (debits by reason, purchase
    prices by SKU), `net`, and after the day's last movement the circulating `supply`, the
    `holders` and `top1PercentShare`. Kept incrementally from the event store (docs/BACKOFFICE.md):
    a request folds only the events committed since the last one."""
    tenant, projectId = acting.tenant, acting.project
    start, end = window(parse_day(from_, "from"), parse_day(to, "to"), datetime.now(UTC).date())
    health = aggregates(acting.request, acting.backend)
    await health.catch_up(tenant, projectId)
    currencies = [currency] if currency is not None else await health.currencies(tenant, projectId)
    rows = [
        flows.row()
        for name in currencies
        for flows in await health.days(tenant, projectId, name, start.isoformat(), end.isoformat())
    ]
    rows.sort(key=lambda row: (row["day"], row["currency"]))
    wants_csv = format == "csv" or (format is None and "text/csv" in (accept or ""))
    if wants_csv:
        filename = f"{projectId}-economy-health-{start.isoformat()}-{end.isoformat()}.csv"
        return StreamingResponse(
            csv_lines(rows),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    return EconomyHealthReport.model_validate(
        {"from": start.isoformat(), "to": end.isoformat(), "currency": currency, "rows": rows}
    )
