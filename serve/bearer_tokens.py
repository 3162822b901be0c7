"""Who is calling the backoffice: `Authorization: Bearer <access token>` from `POST
/v1/auth/login`, turned into an `engine.rbac.Principal`. Missing → 401 `missing-token`;
malformed, expired or revoked → 401 `invalid-token`; not allowed → 403 `forbidden`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from actors.ingress.accounts import AccountError, AccountService
from actors.secret_box import SecretBox
from engine.rbac import Principal, can
from serve.backend import backend
from serve.problems import ProblemError

bearer = HTTPBearer(
    auto_error=False,
    bearerFormat="JWT",
    description="A dashboard access token from `POST /v1/auth/login` (renew it with `/v1/auth/refresh`).",
)


async def accounts(request: Request) -> AccountService:
    """The replica's AccountService over the backend's store, created on first use."""
    service: AccountService | None = getattr(request.app.state, "accounts", None)
    if service is None:
        connected = await backend(request)
        service = getattr(request.app.state, "accounts", None)
        if service is None:
            service = AccountService(
                connected.store,
                access_ttl_s=connected.settings.auth_access_ttl_s,
                box=SecretBox.from_settings(connected.settings),
            )
            request.app.state.accounts = service
    return service


async def current_principal(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    service: Annotated[AccountService, Depends(accounts)],
) -> Principal:
    """The signed-in dashboard user of this request."""
    if credentials is None or not credentials.credentials:
        raise ProblemError("missing-token", "the Authorization: Bearer <access token> header is required")
    try:
        return await service.verify_access_token(credentials.credentials)
    except AccountError as error:
        raise ProblemError("invalid-token", error.detail) from error


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def ensure_can(principal: Principal, action: str, tenant_id: str | None = None, project_id: str | None = None) -> None:
    """403 `forbidden` unless `engine.rbac.can` allows the action on that tenant/project."""
    if not can(principal, action, tenant_id, project_id):
        raise ProblemError("forbidden", f"you may not perform '{action}' here")
