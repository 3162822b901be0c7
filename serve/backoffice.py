"""What every backoffice route shares besides the principal and the RBAC check
(`serve.bearer_tokens`): the connected backend and the audit trail. Control-plane errors become
problems in `serve.problems`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from engine.rbac import Principal
from serve.audit_fields import audited
from serve.backend import Backend, backend

Connected = Annotated[Backend, Depends(backend)]


async def record(
    request: Request,
    connected: Backend,
    principal: Principal,
    action: str,
    target: str,
    *,
    tenant_id: str | None,
    before: Any,
    after: Any,
) -> None:
    """Appends an audit entry keeping only the fields `serve.audit_fields` lists for `action`."""
    await connected.control.audit(
        actor=principal.email,
        action=action,
        target=target,
        tenant_id=tenant_id,
        before=audited(action, before),
        after=audited(action, after),
        request_id=getattr(request.state, "request_id", None),
    )
