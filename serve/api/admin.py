"""`/v1/admin`: the operators' backoffice — tenants, plans and the audit trail."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from serve.api import billing
from serve.api_key_auth import ID_PATTERN
from serve.backoffice import Connected, record
from serve.backoffice_schemas import (
    AuditEntry,
    AuditPage,
    Plan,
    PlanIn,
    PlanList,
    Tenant,
    TenantIn,
    TenantPage,
    TenantPatch,
)
from serve.bearer_tokens import CurrentPrincipal, ensure_can
from serve.pagination import SORT_SCAN_LIMIT, Cursor, Limit, Sort, decode_id_cursor, encode_cursor, sorted_page
from serve.problems import ProblemError, problem_responses

router = APIRouter(prefix="/v1/admin", tags=["admin"])
TenantId = Annotated[str, Path(pattern=ID_PATTERN, examples=["acme"])]
PlanId = Annotated[str, Path(pattern=ID_PATTERN, examples=["indie"])]
Search = Annotated[str | None, Query(max_length=120, description="Case-insensitive substring of id or name.")]
ERRORS = problem_responses(400, 401, 403, 404, 409, 422, 429)


@router.get("/tenants", response_model=TenantPage, responses=ERRORS, summary="List tenants")
async def list_tenants(
    principal: CurrentPrincipal,
    connected: Connected,
    q: Search = None,
    planId: Annotated[str | None, Query(max_length=64, description="Only tenants on this plan.")] = None,
    sort: Sort = "id",
    cursor: Cursor = None,
    limit: Limit = 50,
) -> TenantPage:
    """Tenants searched by id or name, filtered by plan, in the order asked for."""
    ensure_can(principal, "tenants:read")
    found = await connected.control.list_tenants(after=None, limit=SORT_SCAN_LIMIT, query=q)
    matching = [t for t in found if planId is None or t.get("planId") == planId]
    page, next_cursor = sorted_page(matching, sort, cursor, limit)
    return TenantPage(items=[Tenant(**t) for t in page], nextCursor=next_cursor)


@router.post("/tenants", status_code=201, response_model=Tenant, responses=ERRORS, summary="Create a tenant")
async def create_tenant(request: Request, body: TenantIn, principal: CurrentPrincipal, connected: Connected) -> Tenant:
    """Creates a tenant on a plan (default `free`)."""
    ensure_can(principal, "tenants:write")
    tenant = await connected.control.create_tenant(body.id, body.name, body.planId)
    await record(request, connected, principal, "tenant.create", body.id, tenant_id=body.id, before=None, after=tenant)
    await billing.plan_changed(request, connected, body.id, None, tenant.get("planId"))
    return Tenant(**tenant)


@router.get("/tenants/{tenantId}", response_model=Tenant, responses=ERRORS, summary="Get a tenant")
async def get_tenant(tenantId: TenantId, principal: CurrentPrincipal, connected: Connected) -> Tenant:
    """One tenant with its plan."""
    ensure_can(principal, "tenants:read")
    return Tenant(**await connected.control.live_tenant(tenantId))


@router.patch("/tenants/{tenantId}", response_model=Tenant, responses=ERRORS, summary="Update a tenant")
async def update_tenant(
    request: Request,
    tenantId: TenantId,
    body: TenantPatch,
    principal: CurrentPrincipal,
    connected: Connected,
) -> Tenant:
    """Renames a tenant, moves it to another plan, or suspends it (`suspended: true`: its game
    API keys and realtime sockets answer 403 `tenant-suspended` until `suspended: false`)."""
    ensure_can(principal, "tenants:write")
    before, after = await connected.control.update_tenant(tenantId, body.model_dump(exclude_none=True))
    await record(
        request, connected, principal, "tenant.update", tenantId, tenant_id=tenantId, before=before, after=after
    )
    await billing.plan_changed(request, connected, tenantId, before.get("planId"), after.get("planId"))
    return Tenant(**after)


@router.delete("/tenants/{tenantId}", status_code=204, responses=ERRORS, summary="Delete a tenant")
async def delete_tenant(
    request: Request, tenantId: TenantId, principal: CurrentPrincipal, connected: Connected
) -> Response:
    """Soft delete: the tenant disappears from lists and answers 404; its data is kept."""
    ensure_can(principal, "tenants:write")
    before = await connected.control.delete_tenant(tenantId)
    await record(
        request, connected, principal, "tenant.delete", tenantId, tenant_id=tenantId, before=before, after=None
    )
    return Response(status_code=204)


@router.get("/plans", response_model=PlanList, responses=ERRORS, summary="List plans")
async def list_plans(principal: CurrentPrincipal, connected: Connected) -> PlanList:
    """Every plan with its quotas (Free, Indie, Studio and Enterprise are seeded)."""
    ensure_can(principal, "plans:read")
    return PlanList(items=[Plan(**p) for p in await connected.control.list_plans()])


@router.post("/plans", status_code=201, response_model=Plan, responses=ERRORS, summary="Create a plan")
async def create_plan(request: Request, body: PlanIn, principal: CurrentPrincipal, connected: Connected) -> Plan:
    """A new plan; quotas left out are unlimited."""
    ensure_can(principal, "plans:write")
    _, after = await connected.control.put_plan(body.model_dump(), create=True)
    await record(request, connected, principal, "plan.create", body.id, tenant_id=None, before=None, after=after)
    return Plan(**after)


@router.get("/plans/{planId}", response_model=Plan, responses=ERRORS, summary="Get a plan")
async def get_plan(planId: PlanId, principal: CurrentPrincipal, connected: Connected) -> Plan:
    """One plan with its quotas."""
    ensure_can(principal, "plans:read")
    return Plan(**await connected.control.live_plan(planId))


@router.put("/plans/{planId}", response_model=Plan, responses=ERRORS, summary="Replace a plan")
async def replace_plan(
    request: Request,
    planId: PlanId,
    body: PlanIn,
    principal: CurrentPrincipal,
    connected: Connected,
) -> Plan:
    """Replaces a plan's name and quotas; the body's `id` must match the path."""
    ensure_can(principal, "plans:write")
    if body.id != planId:
        raise ProblemError(
            "validation-error", "id must match the path", errors=[{"field": "id", "message": "must match the path"}]
        )
    before, after = await connected.control.put_plan(body.model_dump(), create=False)
    await record(request, connected, principal, "plan.update", planId, tenant_id=None, before=before, after=after)
    return Plan(**after)


@router.delete("/plans/{planId}", status_code=204, responses=ERRORS, summary="Delete a plan")
async def delete_plan(request: Request, planId: PlanId, principal: CurrentPrincipal, connected: Connected) -> Response:
    """Refused (409 `plan-in-use`) while a tenant is on it."""
    ensure_can(principal, "plans:write")
    before = await connected.control.delete_plan(planId)
    await record(request, connected, principal, "plan.delete", planId, tenant_id=None, before=before, after=None)
    return Response(status_code=204)


@router.get("/audit", response_model=AuditPage, responses=ERRORS, summary="List the audit log")
async def list_audit(
    principal: CurrentPrincipal,
    connected: Connected,
    tenantId: Annotated[str | None, Query(max_length=64)] = None,
    actor: Annotated[str | None, Query(max_length=254)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    target: Annotated[str | None, Query(max_length=200)] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> AuditPage:
    """Every backoffice change, oldest first, filtered by tenant, actor, action or target."""
    ensure_can(principal, "audit:read", tenantId)
    filters = {k: v for k, v in {"actor": actor, "action": action, "target": target}.items() if v is not None}
    after = decode_id_cursor(cursor)
    found = await connected.control.list_audit(tenant_id=tenantId, filters=filters, after=after, limit=limit + 1)
    next_cursor = encode_cursor(found[limit - 1]["id"]) if len(found) > limit else None
    return AuditPage(items=[AuditEntry(**e) for e in found[:limit]], nextCursor=next_cursor)
