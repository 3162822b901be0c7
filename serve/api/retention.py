"""`/v1/admin/tenants/{tenantId}/retention`: how long a tenant's events, webhook deliveries and
idempotency answers are kept (the journal always is), over its plan's and the platform's, within
the platform's floor and ceiling. Shard host 0 and the webhook worker purge by it hourly."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter

from actors.retention import retention_of
from engine.retention import Retention, check_retention, effective_retention
from serve.api.admin import TenantId
from serve.backoffice import Acting, allowed
from serve.backoffice_schemas import RetentionBoundsOut, RetentionDays, RetentionSetting, TenantRetention
from serve.problems import problem_responses

router = APIRouter(prefix="/v1/admin", tags=["admin"])
ERRORS = problem_responses(400, 401, 403, 404, 422, 429)


@router.get(
    "/tenants/{tenantId}/retention",
    response_model=TenantRetention,
    responses=ERRORS,
    summary="Get a tenant's retention",
)
async def get_retention(tenantId: TenantId, acting: Annotated[Acting, allowed("tenants:read")]) -> TenantRetention:
    """The tenant's own setting, its plan's, the platform's and the bounds, and what applies."""
    return await _retention(acting, await acting.control.live_tenant(tenantId))


@router.put(
    "/tenants/{tenantId}/retention",
    response_model=TenantRetention,
    responses=ERRORS,
    summary="Set a tenant's retention",
)
async def set_retention(
    tenantId: TenantId, body: RetentionSetting, acting: Annotated[Acting, allowed("tenants:write")]
) -> TenantRetention:
    """Replaces the tenant's own setting (`{}` inherits everything from its plan). A value outside
    the platform's floor and ceiling is refused (422), and so is keeping idempotency answers
    longer than the platform does. Takes effect at the next hourly purge."""
    platform, bounds = retention_of(acting.backend.settings)
    setting = body.model_dump(exclude_none=True)
    check_retention(setting, platform, bounds)
    before, after = await acting.control.update_tenant(tenantId, {"retention": setting or None})
    await acting.record("tenant.retention", tenantId, tenant_id=tenantId, before=before, after=after)
    return await _retention(acting, after)


async def _retention(acting: Acting, tenant: dict[str, Any]) -> TenantRetention:
    platform, bounds = retention_of(acting.backend.settings)
    plan = await acting.control.live_plan(tenant["planId"]) if tenant.get("planId") else None
    plan_setting, own_setting = (plan or {}).get("retention"), tenant.get("retention")
    effective = effective_retention(platform, bounds, plan_setting, own_setting)
    return TenantRetention(
        tenantId=tenant["id"],
        own=None if own_setting is None else RetentionSetting(**own_setting),
        plan=None if plan_setting is None else RetentionSetting(**plan_setting),
        platform=_days(platform),
        bounds=RetentionBoundsOut(floorDays=bounds.floor_days, ceilingDays=bounds.ceiling_days),
        effective=_days(effective),
    )


def _days(retention: Retention) -> RetentionDays:
    return RetentionDays(
        eventsDays=retention.events_days,
        deliveriesDays=retention.deliveries_days,
        idempotencyDays=retention.idempotency_days,
    )
