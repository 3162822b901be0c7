"""The backoffice's one preamble, as a dependency: who is calling (the signed-in principal of
`serve.bearer_tokens`), whether they may do this here (`engine.rbac.can` on the permission and the
tenant/project scope), and an `Acting` context handed to the route — the principal, the connected
backend and `record`, which appends the action's audit entry keeping only the fields
`serve.audit_fields` lists. A backoffice route then reads like a game route: one parameter,

    async def get_plan(planId: PlanId, acting: Annotated[Acting, allowed("plans:read")]) -> Plan:

`allowed` (platform-wide, or a tenant filter read by the route's own dependency), `in_tenant`
(the `x-tenant-id` header) and `in_project` (the header and the `projectId` path) build it; order
of checks: tenant header (400), token (401), backoffice rate (429), permission (403), then with
`live=True` the project itself (404 `project-not-found`). `on_project` runs `in_project`'s checks
on a principal the route found itself (the events reader, whose token is one of two ways in).
Control-plane errors become problems in `serve.problems`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, Final

from fastapi import Depends, Request

from actors.ingress.control_plane import Backoffice
from engine.rbac import Principal
from serve.api_key_auth import ProjectId, tenant_id
from serve.audit_fields import audited
from serve.backend import Backend, backend
from serve.bearer_tokens import CurrentPrincipal, ensure_can

Connected = Annotated[Backend, Depends(backend)]


class _Own:
    """`record`'s default tenant: the one the route acts in."""


OWN: Final = _Own()


@dataclass(frozen=True)
class Acting:
    """An allowed backoffice call: who makes it, over which backend, in which tenant (None:
    platform-wide), and the audit trail its changes go to."""

    request: Request
    principal: Principal
    backend: Backend
    tenant: str | None

    @property
    def control(self) -> Backoffice:
        """Tenants, plans, projects, keys and the audit log."""
        return self.backend.control

    async def record(
        self, action: str, target: str, *, before: Any, after: Any, tenant_id: str | None | _Own = OWN
    ) -> None:
        """Appends the audit entry of `action` on `target` (in the acting tenant unless
        `tenant_id` says otherwise), keeping only the fields `serve.audit_fields` lists for
        `action`: an action missing there raises `UnauditedActionError`."""
        await self.backend.control.audit(
            actor=self.principal.email,
            action=action,
            target=target,
            tenant_id=self.tenant if isinstance(tenant_id, _Own) else tenant_id,
            before=audited(action, before),
            after=audited(action, after),
            request_id=getattr(self.request.state, "request_id", None),
        )


@dataclass(frozen=True)
class InTenant(Acting):
    """An allowed call acting in one tenant (`x-tenant-id`)."""

    tenant: str


@dataclass(frozen=True)
class InProject(InTenant):
    """An allowed call acting on one project of the tenant (`projectId` in the path)."""

    project: str


async def _platform() -> None:
    """No tenant: a platform-wide permission."""
    return None


async def _project_path(projectId: ProjectId) -> str:
    return projectId


def allowed(permission: str, tenant: Callable[..., Awaitable[str | None]] = _platform) -> Any:
    """The `Depends` of a platform-wide call (or one whose tenant is a filter the `tenant`
    dependency reads, e.g. `?tenantId=`): 403 `forbidden` unless the principal may `permission`."""

    async def acting(
        request: Request,
        principal: CurrentPrincipal,
        connected: Connected,
        scope: str | None = Depends(tenant),  # noqa: B008 - a closure's dependency: annotations resolve globally
    ) -> Acting:
        ensure_can(principal, permission, scope)
        return Acting(request, principal, connected, scope)

    return Depends(acting)


def in_tenant(permission: str) -> Any:
    """The `Depends` of a call in the `x-tenant-id` tenant: 403 unless the principal may there."""

    async def acting(
        request: Request,
        tenant: Annotated[str, Depends(tenant_id)],
        principal: CurrentPrincipal,
        connected: Connected,
    ) -> InTenant:
        ensure_can(principal, permission, tenant)
        return InTenant(request, principal, connected, tenant)

    return Depends(acting)


def in_project(permission: str, *, live: bool = True) -> Any:
    """The `Depends` of a call on the path's project: 403 unless the principal may there; with
    `live` (most routes), 404 `project-not-found` unless the project exists and is not deleted."""

    async def acting(
        request: Request,
        tenant: Annotated[str, Depends(tenant_id)],
        principal: CurrentPrincipal,
        connected: Connected,
        project: Annotated[str, Depends(_project_path)],
    ) -> InProject:
        return await on_project(request, principal, connected, permission, tenant, project, live=live)

    return Depends(acting)


async def on_project(
    request: Request,
    principal: Principal,
    connected: Backend,
    permission: str,
    tenant: str,
    project: str,
    *,
    live: bool = True,
) -> InProject:
    """`in_project`'s checks for a principal found some other way: a route whose dashboard token
    is only one of its ways in (the events reader also takes an API key, so cannot require a
    token up front) still gets the same 403, then 404 `project-not-found` when `live`."""
    ensure_can(principal, permission, tenant, project)
    if live:
        await connected.control.live_project(tenant, project)
    return InProject(request, principal, connected, tenant, project)
