"""`/v1/admin`: the operators' backoffice — tenants, plans and the audit trail."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Path, Query, Response
from fastapi.responses import StreamingResponse

from actors.ingress.tenant_deletion import TenantDeletions
from actors.ingress.tenant_export import tenant_records
from actors.retention import retention_of
from engine.retention import check_retention
from engine.tenant_lifecycle import settle, stored_state
from serve import background
from serve.api_key_auth import ID_PATTERN
from serve.backoffice import Acting, allowed
from serve.backoffice_schemas import (
    AuditEntry,
    AuditHead,
    AuditPage,
    Plan,
    PlanIn,
    PlanList,
    PlanReplacement,
    RetentionSetting,
    Tenant,
    TenantDeletion,
    TenantDeletionIn,
    TenantIn,
    TenantPage,
    TenantPatch,
    TenantStateIn,
)
from serve.pagination import SORT_SCAN_LIMIT, Cursor, Limit, Sort, decode_id_cursor, encode_cursor, sorted_page
from serve.problems import ProblemError, problem_responses
from serve.sorting import AuditSort

router = APIRouter(prefix="/v1/admin", tags=["admin"])
TenantId = Annotated[str, Path(pattern=ID_PATTERN, examples=["acme"])]
PlanId = Annotated[str, Path(pattern=ID_PATTERN, examples=["indie"])]
Search = Annotated[str | None, Query(max_length=120, description="Case-insensitive substring of id or name.")]
ERRORS = problem_responses(400, 401, 403, 404, 409, 422, 429)
NDJSON = "application/x-ndjson"


@router.get("/tenants", response_model=TenantPage, responses=ERRORS, summary="List tenants")
async def list_tenants(
    acting: Annotated[Acting, allowed("tenants:read")],
    q: Search = None,
    planId: Annotated[str | None, Query(max_length=64, description="Only tenants on this plan.")] = None,
    sort: Sort = "id",
    cursor: Cursor = None,
    limit: Limit = 50,
) -> TenantPage:
    """Tenants searched by id or name, filtered by plan, in the order asked for."""
    found = await acting.control.list_tenants(after=None, limit=SORT_SCAN_LIMIT, query=q)
    matching = [t for t in found if planId is None or t.get("planId") == planId]
    page, next_cursor = sorted_page(matching, sort, cursor, limit)
    return TenantPage(items=[tenant_now(t) for t in page], nextCursor=next_cursor)


@router.post("/tenants", status_code=201, response_model=Tenant, responses=ERRORS, summary="Create a tenant")
async def create_tenant(body: TenantIn, acting: Annotated[Acting, allowed("tenants:write")]) -> Tenant:
    """Creates a tenant on a plan (default `free`), active, or in a trial until `trialEndsAt`."""
    tenant = await acting.control.create_tenant(body.id, body.name, body.planId, trial_ends_at=body.trialEndsAt)
    await acting.record("tenant.create", body.id, tenant_id=body.id, before=None, after=tenant)
    await background.plan_changed(acting.backend, body.id, None, tenant.get("planId"))
    return tenant_now(tenant)


@router.get("/tenants/{tenantId}", response_model=Tenant, responses=ERRORS, summary="Get a tenant")
async def get_tenant(tenantId: TenantId, acting: Annotated[Acting, allowed("tenants:read")]) -> Tenant:
    """One tenant with its plan."""
    return tenant_now(await acting.control.live_tenant(tenantId))


@router.patch("/tenants/{tenantId}", response_model=Tenant, responses=ERRORS, summary="Update a tenant")
async def update_tenant(
    tenantId: TenantId, body: TenantPatch, acting: Annotated[Acting, allowed("tenants:write")]
) -> Tenant:
    """Renames a tenant, moves it to another plan, records a payment on file, or suspends it
    (`suspended: true`: its game API keys and realtime sockets answer 403 `tenant-suspended`
    until `suspended: false`; the same moves as `POST .../state`)."""
    changes = body.model_dump(exclude_none=True)
    suspend = changes.pop("suspended", None)
    if suspend is not None and (tenant_now(await acting.control.live_tenant(tenantId)).state == "suspended") != suspend:
        await move(acting, tenantId, TenantStateIn(state="suspended" if suspend else "active"))
    before, after = await acting.control.update_tenant(tenantId, changes)
    await acting.record("tenant.update", tenantId, tenant_id=tenantId, before=before, after=after)
    await background.plan_changed(acting.backend, tenantId, before.get("planId"), after.get("planId"))
    return tenant_now(after)


@router.post("/tenants/{tenantId}/state", response_model=Tenant, responses=ERRORS, summary="Move a tenant's state")
async def move_tenant(
    tenantId: TenantId, body: TenantStateIn, acting: Annotated[Acting, allowed("tenants:write")]
) -> Tenant:
    """Moves the tenant in its lifecycle (trial, active, past-due, read-only, suspended; 409
    `invalid-transition` for a move the lifecycle does not allow, docs/TENANTS.md). Each move,
    and each move time made first, sends `tenant.state.changed` to the billing webhook."""
    return tenant_now(await move(acting, tenantId, body))


async def move(acting: Acting, tenant_id: str, body: TenantStateIn) -> dict[str, Any]:
    before, after, moves = await acting.control.move_tenant(
        tenant_id, body.state, trial_ends_at=body.trialEndsAt, grace_days=body.graceDays, reason=body.reason
    )
    await acting.record("tenant.state", tenant_id, tenant_id=tenant_id, before=before, after=after)
    await background.state_changed(acting.backend, moves)
    return after


def tenant_now(document: dict[str, Any]) -> Tenant:
    """The tenant as its answer shows it: in the state time has moved it to by now."""
    settled, _ = settle(document, None, datetime.now(UTC))
    return Tenant(**{**settled, "state": stored_state(settled), "paymentOnFile": bool(settled.get("paymentOnFile"))})


@router.delete("/tenants/{tenantId}", status_code=204, responses=ERRORS, summary="Delete a tenant")
async def delete_tenant(tenantId: TenantId, acting: Annotated[Acting, allowed("tenants:write")]) -> Response:
    """Soft delete: the tenant disappears from lists and answers 404; its data is kept."""
    before = await acting.control.delete_tenant(tenantId)
    await acting.record("tenant.delete", tenantId, tenant_id=tenantId, before=before, after=None)
    return Response(status_code=204)


@router.get(
    "/tenants/{tenantId}/export",
    responses={**ERRORS, 200: {"content": {NDJSON: {"schema": {"type": "string"}}}, "description": "NDJSON records"}},
    response_class=StreamingResponse,
    summary="Export everything a tenant owns",
)
async def export_tenant(tenantId: TenantId, acting: Annotated[Acting, allowed("tenants:write")]) -> StreamingResponse:
    """Streams the tenant's data as NDJSON, one record a line (`kind`: tenant, project, economy,
    player, journal, event, apiKey without secrets, webhook without secrets, audit), ending with a
    `summary` of the counts: a file without it was cut short. Audited as `tenant.export`."""
    await acting.control.live_tenant(tenantId)
    await acting.record("tenant.export", tenantId, tenant_id=tenantId, before=None, after={"id": tenantId})

    async def lines() -> AsyncIterator[bytes]:
        async for record in tenant_records(acting.backend.store, tenantId):
            yield orjson.dumps(record) + b"\n"

    disposition = f'attachment; filename="{tenantId}-export.ndjson"'
    return StreamingResponse(lines(), media_type=NDJSON, headers={"Content-Disposition": disposition})


def deletions(acting: Acting) -> TenantDeletions:
    backend = acting.backend
    return TenantDeletions(backend.store, backend.control.clock, backups=backend.settings.backups_path)


@router.get("/tenants/{tenantId}/deletion", response_model=TenantDeletion, responses=ERRORS, summary="A deletion")
async def get_deletion(tenantId: TenantId, acting: Annotated[Acting, allowed("tenants:read")]) -> TenantDeletion:
    """The tenant's deletion: scheduled (with its date), cancelled, or done with the report of
    what was removed (kept after the tenant is gone)."""
    found = await deletions(acting).status(tenantId)
    if found is None:
        raise ProblemError("not-found", f"tenant '{tenantId}' has no deletion")
    return TenantDeletion(tenantId=tenantId, **found)


@router.post(
    "/tenants/{tenantId}/deletion", status_code=202, response_model=TenantDeletion, responses=ERRORS,
    summary="Schedule a tenant's deletion",
)  # fmt: skip
async def schedule_deletion(
    tenantId: TenantId, body: TenantDeletionIn, acting: Annotated[Acting, allowed("tenants:write")]
) -> TenantDeletion:
    """After `waitingDays` (cancellable until then) every row, event, board and delivery of the
    tenant is removed; export it first (`.../export`). Audited in the platform's chain, which
    outlives the tenant's own."""
    scheduled = await deletions(acting).schedule(tenantId, body.waitingDays)
    await acting.record("tenant.deletion.schedule", tenantId, tenant_id=None, before=None, after=scheduled)
    return TenantDeletion(tenantId=tenantId, **scheduled)


@router.delete("/tenants/{tenantId}/deletion", response_model=TenantDeletion, responses=ERRORS, summary="Cancel")
async def cancel_deletion(tenantId: TenantId, acting: Annotated[Acting, allowed("tenants:write")]) -> TenantDeletion:
    """Cancels a scheduled deletion (409 `deletion-not-scheduled` when none is waiting)."""
    cancelled = await deletions(acting).cancel(tenantId)
    await acting.record("tenant.deletion.cancel", tenantId, tenant_id=None, before=None, after=cancelled)
    return TenantDeletion(tenantId=tenantId, **cancelled)


@router.get("/plans", response_model=PlanList, responses=ERRORS, summary="List plans")
async def list_plans(acting: Annotated[Acting, allowed("plans:read")]) -> PlanList:
    """Every plan with its quotas (Free, Indie, Studio and Enterprise are seeded)."""
    return PlanList(items=[Plan(**p) for p in await acting.control.list_plans()])


@router.post("/plans", status_code=201, response_model=Plan, responses=ERRORS, summary="Create a plan")
async def create_plan(body: PlanIn, acting: Annotated[Acting, allowed("plans:write")]) -> Plan:
    """A new plan; quotas left out are unlimited."""
    check_plan_retention(acting, body.retention)
    _, after = await acting.control.put_plan(body.model_dump(), create=True)
    await acting.record("plan.create", body.id, before=None, after=after)
    return Plan(**after)


@router.get("/plans/{planId}", response_model=Plan, responses=ERRORS, summary="Get a plan")
async def get_plan(planId: PlanId, acting: Annotated[Acting, allowed("plans:read")]) -> Plan:
    """One plan with its quotas."""
    return Plan(**await acting.control.live_plan(planId))


@router.put("/plans/{planId}", response_model=Plan, responses=ERRORS, summary="Replace a plan")
async def replace_plan(
    planId: PlanId, body: PlanReplacement, acting: Annotated[Acting, allowed("plans:write")]
) -> Plan:
    """Replaces a plan's name and quotas. The path names the plan: the body's `id` may be left
    out, and is not used (a plan is never renamed by its id)."""
    check_plan_retention(acting, body.retention)
    before, after = await acting.control.put_plan({**body.model_dump(), "id": planId}, create=False)
    await acting.record("plan.update", planId, before=before, after=after)
    return Plan(**after)


def check_plan_retention(acting: Acting, setting: RetentionSetting | None) -> None:
    """A plan's retention is held to the same bounds as a tenant's (`serve/api/retention.py`)."""
    if setting is not None:
        platform, bounds = retention_of(acting.backend.settings)
        check_retention(setting.model_dump(exclude_none=True), platform, bounds, "retention")


@router.delete("/plans/{planId}", status_code=204, responses=ERRORS, summary="Delete a plan")
async def delete_plan(planId: PlanId, acting: Annotated[Acting, allowed("plans:write")]) -> Response:
    """Refused (409 `plan-in-use`) while a tenant is on it."""
    before = await acting.control.delete_plan(planId)
    await acting.record("plan.delete", planId, before=before, after=None)
    return Response(status_code=204)


async def audit_tenant(tenantId: Annotated[str | None, Query(max_length=64)] = None) -> str | None:
    """The audit log's tenant filter, also the scope its reader must be allowed in."""
    return tenantId


@router.get("/audit", response_model=AuditPage, responses=ERRORS, summary="List the audit log")
async def list_audit(
    acting: Annotated[Acting, allowed("audit:read", audit_tenant)],
    actor: Annotated[str | None, Query(max_length=254)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    target: Annotated[str | None, Query(max_length=200)] = None,
    sort: AuditSort = "occurredAt",
    cursor: Cursor = None,
    limit: Limit = 50,
) -> AuditPage:
    """Every backoffice change, oldest first (`sort=-occurredAt`: newest first), filtered by
    tenant, actor, action or target."""
    filters = {k: v for k, v in {"actor": actor, "action": action, "target": target}.items() if v is not None}
    after = decode_id_cursor(cursor)
    found = await acting.control.list_audit(
        tenant_id=acting.tenant, filters=filters, after=after, limit=limit + 1, newest_first=sort == "-occurredAt"
    )
    next_cursor = encode_cursor(found[limit - 1]["id"]) if len(found) > limit else None
    return AuditPage(items=[AuditEntry(**e) for e in found[:limit]], nextCursor=next_cursor)


@router.get("/audit/head", response_model=AuditHead, responses=ERRORS, summary="The audit chain's head")
async def audit_head(acting: Annotated[Acting, allowed("audit:read", audit_tenant)]) -> AuditHead:
    """The last entry of the tenant's hash chain (`tenantId`; without it, the platform's own chain
    of platform-wide changes): `ludex audit verify` checks every entry up to it."""
    head = await acting.control.audit_log.head(acting.tenant)
    if head is None:
        return AuditHead(tenantId=acting.tenant, seq=0, hash=None, entryId=None)
    return AuditHead(tenantId=acting.tenant, seq=head.seq, hash=head.hash, entryId=head.id)
