"""What every backoffice route shares besides the principal and the RBAC check
(`serve.bearer_tokens`): the connected backend and the audit trail. Control-plane errors become
problems in `serve.problems`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from engine.rbac import Principal
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
    await connected.control.audit(
        actor=principal.email,
        action=action,
        target=target,
        tenant_id=tenant_id,
        before=_public(before),
        after=_public(after),
        request_id=getattr(request.state, "request_id", None),
    )


def _public(document: Any) -> Any:
    """Audit entries never keep secrets."""
    if isinstance(document, dict):
        return {k: v for k, v in document.items() if k not in ("secretHash", "apiKey", "passwordHash", "totpSecret")}
    return document
