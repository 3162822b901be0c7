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
from serve.ratelimit import rate_limit_headers

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
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    service: Annotated[AccountService, Depends(accounts)],
) -> Principal:
    """The signed-in dashboard user of this request, within their backoffice rate."""
    if credentials is None or not credentials.credentials:
        raise ProblemError("missing-token", "the Authorization: Bearer <access token> header is required")
    try:
        principal = await service.verify_access_token(credentials.credentials)
    except AccountError as error:
        raise ProblemError("invalid-token", error.detail) from error
    await throttle_backoffice(request, principal)
    return principal


async def throttle_backoffice(request: Request, principal: Principal) -> None:
    """Backoffice calls per signed-in user (`LUDEX_BACKOFFICE_RATE_PER_USER_PER_S`, bursts of
    twice that; all of a user's sessions share it): exports, reports and listings are costly
    reads, and a stolen or scripted session must not take the store from everyone else.
    429 `rate-limited` with Retry-After."""
    rate = request.app.state.backend_holder.settings.backoffice_rate_per_user_per_s
    decision = await request.app.state.rate_limiter.hit(f"backoffice-user:{principal.user_id}", rate)
    if not decision.allowed:
        raise ProblemError(
            "rate-limited",
            f"more than {rate:g} backoffice calls a second from this user; wait and try again",
            headers={"Retry-After": str(decision.retry_after_s), **rate_limit_headers(decision)},
        )


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def ensure_can(principal: Principal, action: str, tenant_id: str | None = None, project_id: str | None = None) -> None:
    """403 `forbidden` unless `engine.rbac.can` allows the action on that tenant/project."""
    if not can(principal, action, tenant_id, project_id):
        raise ProblemError("forbidden", f"you may not perform '{action}' here")
