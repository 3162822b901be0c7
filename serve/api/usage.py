"""`/v1/admin/usage` and `/v1/admin/metrics`: monthly usage per tenant with its quota use (and
a CSV export for billing), and platform-wide figures for operators."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from actors.cluster import webhook_stats
from actors.ingress.control_plane import Backoffice
from engine.quotas import Usage, month_of
from serve.api_key_auth import ID_PATTERN, metering
from serve.backend import Backend
from serve.backoffice import Acting, allowed
from serve.csv_cells import csv_rows
from serve.pagination import Cursor, Limit, decode_cursor, encode_cursor
from serve.problems import ProblemError, problem_responses

router = APIRouter(prefix="/v1/admin", tags=["admin"])
ERRORS = problem_responses(400, 401, 403, 422, 429)
MONTH_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
CSV_COLUMNS = (
    "tenantId",
    "month",
    "planId",
    "requests",
    "requestsPerMonth",
    "requestsUse",
    "events",
    "eventsPerMonth",
    "eventsUse",
)
CSV_EXAMPLE = "tenantId,month,planId,requests,requestsPerMonth,requestsUse,events,eventsPerMonth,eventsUse\r\n" + (
    "acme,2026-03,free,1200,100000,0.012,5400,50000,0.108\r\n"
)
PAGE_SIZE = 500
USAGE_EXAMPLE: dict[str, Any] = {
    "tenantId": "acme",
    "month": "2026-03",
    "planId": "free",
    "requests": 1200,
    "requestsPerMonth": 100_000,
    "requestsUse": 0.012,
    "events": 5400,
    "eventsPerMonth": 50_000,
    "eventsUse": 0.108,
}


class UsageRow(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [USAGE_EXAMPLE]})
    tenantId: str
    month: str = Field(description="The UTC month, `YYYY-MM`.")
    planId: str | None = Field(description="The tenant's current plan (None: no plan, no quotas).")
    requests: int = Field(description="Authenticated game API calls in the month.")
    requestsPerMonth: int | None = Field(description="The plan's quota of calls (None: unlimited).")
    requestsUse: float | None = Field(description="requests / requestsPerMonth (None when unlimited).")
    events: int = Field(description="Events produced by accepted commands in the month (replays excluded).")
    eventsPerMonth: int | None = Field(description="The plan's quota of events (None: unlimited).")
    eventsUse: float | None = Field(description="events / eventsPerMonth (None when unlimited).")


class UsagePage(BaseModel):
    items: list[UsageRow]
    nextCursor: str | None


class Deliveries(BaseModel):
    ok: int = Field(description="Webhook deliveries accepted by their receiver since the worker started.")
    failed: int = Field(description="Webhook deliveries that ended dead since the worker started.")


class PlatformMetrics(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "month": "2026-03",
                    "tenants": 12,
                    "projects": 19,
                    "players": 48210,
                    "requestsThisMonth": 2_300_000,
                    "eventsThisMonth": 910_000,
                    "deliveries": {"ok": 0, "failed": 0},
                    "quotaUse": [USAGE_EXAMPLE],
                }
            ]
        }
    )
    month: str = Field(description="The current UTC month, `YYYY-MM`.")
    tenants: int = Field(description="Live tenants.")
    projects: int = Field(description="Live projects of live tenants.")
    players: int = Field(description="Live players (rows of the player index) of those projects.")
    requestsThisMonth: int
    eventsThisMonth: int
    deliveries: Deliveries
    quotaUse: list[UsageRow] = Field(description="This month's usage and quota use of every live tenant.")


def _use(count: int, quota: int | None) -> float | None:
    if quota is None:
        return None
    return round(count / quota, 6) if quota > 0 else 1.0  # a quota of 0 is used up from the start


class _Plans:
    """Tenants' current plans, read once per request."""

    def __init__(self, control: Backoffice) -> None:
        self.control = control
        self._plans: dict[str, dict[str, Any]] | None = None
        self._plan_ids: dict[str, str | None] = {}

    def know(self, tenant: dict[str, Any]) -> None:
        self._plan_ids[tenant["id"]] = tenant.get("planId")

    async def row(self, usage: Usage) -> UsageRow:
        if self._plans is None:
            self._plans = {p["id"]: p for p in await self.control.list_plans()}
        if usage.tenant not in self._plan_ids:
            tenant = await self.control.get_tenant(usage.tenant)
            self._plan_ids[usage.tenant] = None if tenant is None else tenant.get("planId")
        plan_id = self._plan_ids[usage.tenant]
        plan = self._plans.get(plan_id) if plan_id else None
        requests_quota = None if plan is None else plan.get("requestsPerMonth")
        events_quota = None if plan is None else plan.get("eventsPerMonth")
        return UsageRow(
            tenantId=usage.tenant,
            month=usage.month,
            planId=plan_id,
            requests=usage.requests,
            requestsPerMonth=requests_quota,
            requestsUse=_use(usage.requests, requests_quota),
            events=usage.events,
            eventsPerMonth=events_quota,
            eventsUse=_use(usage.events, events_quota),
        )


def _csv(rows: list[UsageRow]) -> str:
    values = [row.model_dump() for row in rows]
    return csv_rows([CSV_COLUMNS, *(["" if v[c] is None else v[c] for c in CSV_COLUMNS] for v in values)])


async def usage_tenant(
    tenantId: Annotated[str | None, Query(pattern=ID_PATTERN, description="Only this tenant.")] = None,
) -> str | None:
    """The usage list's tenant filter, also the scope its reader must be allowed in."""
    return tenantId


@router.get(
    "/usage",
    response_model=UsagePage,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}, "example": CSV_EXAMPLE}}}, **ERRORS},
    summary="List usage per tenant and month",
)
async def list_usage(
    acting: Annotated[Acting, allowed("usage:read", usage_tenant)],
    month: Annotated[str | None, Query(pattern=MONTH_PATTERN, description="Only this UTC month, `YYYY-MM`.")] = None,
    format: Annotated[
        Literal["json", "csv"], Query(description="`csv`: every matching row as one CSV file, for billing.")
    ] = "json",
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Any:
    """Requests and events counted per tenant per month, with the tenant's current plan quotas
    and how much of them is used (`count / quota`). `format=csv` exports every matching row
    (no paging) with a header row; the JSON list pages with `cursor` and `limit`."""
    tenantId = acting.tenant
    meter = metering(acting.request, acting.backend).meter
    plans = _Plans(acting.control)
    if format == "csv":
        rows: list[UsageRow] = []
        after: str | None = None
        while True:
            page = await meter.list(tenant=tenantId, month=month, after=after, limit=PAGE_SIZE)
            rows += [await plans.row(u) for u in page]
            if len(page) < PAGE_SIZE:
                break
            after = page[-1].id
        name = f"ludex-usage-{tenantId or 'all'}-{month or 'all'}.csv"
        return Response(
            _csv(rows),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    position = decode_cursor(cursor, None)
    if position is not None and not isinstance(position, str):
        raise ProblemError("invalid-cursor", "the cursor is not one this API returned")
    found = await meter.list(tenant=tenantId, month=month, after=position, limit=limit + 1)
    next_cursor = encode_cursor(found[limit - 1].id) if len(found) > limit else None
    return UsagePage(items=[await plans.row(u) for u in found[:limit]], nextCursor=next_cursor)


@router.get("/metrics", response_model=PlatformMetrics, responses=ERRORS, summary="Get platform metrics")
async def platform_metrics(acting: Annotated[Acting, allowed("platform:metrics")]) -> PlatformMetrics:
    """Platform-wide figures: live tenants, projects and players, this month's requests and
    events, webhook deliveries (`ok`/`failed`, counted by the webhook worker) and every
    live tenant's quota use this month. Players are counted from the player index, page by page,
    so this call costs in proportion to the number of players."""
    control, connected = acting.control, acting.backend
    meters = metering(acting.request, connected)
    meter, month = meters.meter, month_of(meters.clock.now())
    plans = _Plans(control)
    tenants = await control.list_tenants(after=None, limit=1_000_000)
    projects = players = 0
    quota_use: list[UsageRow] = []
    for tenant in tenants:
        plans.know(tenant)
        for project in await control.list_projects(tenant["id"], after=None, limit=1_000_000):
            projects += 1
            players += await _count_players(connected, tenant["id"], project["id"])
        quota_use.append(await plans.row(await meter.get(tenant["id"], month)))
    this_month: list[Usage] = []
    after: str | None = None
    while True:
        page = await meter.list(month=month, after=after, limit=PAGE_SIZE)
        this_month += page
        if len(page) < PAGE_SIZE:
            break
        after = page[-1].id
    webhooks = await webhook_stats(connected.settings.deployment)
    return PlatformMetrics(
        month=month,
        tenants=len(tenants),
        projects=projects,
        players=players,
        requestsThisMonth=sum(u.requests for u in this_month),
        eventsThisMonth=sum(u.events for u in this_month),
        deliveries=Deliveries(ok=webhooks["delivered"] if webhooks else 0, failed=webhooks["dead"] if webhooks else 0),
        quotaUse=quota_use,
    )


async def _count_players(connected: Backend, tenant: str, project: str) -> int:
    count, after = 0, None
    while True:
        page = await connected.store.list_players(tenant, project, after=after, limit=1000)
        count += len(page)
        if len(page) < 1000:
            return count
        after = page[-1].player_id
