"""Dashboard sign-in: login, token refresh, logout and TOTP two-factor setup. No `x-tenant-id`
here: a dashboard user may belong to several tenants (or, as platform staff, to none)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from actors.ingress.accounts import MAX_PASSWORD_LENGTH, AccountService
from engine.rbac import Principal
from serve.backoffice import Connected
from serve.bearer_tokens import accounts, current_principal
from serve.problems import ProblemError, problem_responses

router = APIRouter(prefix="/v1/auth", tags=["auth"])
Accounts = Annotated[AccountService, Depends(accounts)]
Signed = Annotated[Principal, Depends(current_principal)]


RefreshToken = Annotated[str, Field(min_length=1, max_length=512, description="A refresh token (`rt_...`).")]
TotpCode = Annotated[
    str, Field(pattern=r"^[0-9]{6}$", description="The current 6-digit code of the authenticator app.")
]


class Login(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"email": "ada@studio.example", "password": "correct horse battery staple", "totp": "123456"}]
        },
    )
    email: Annotated[str, Field(min_length=3, max_length=254, description="The account's email (case-insensitive).")]
    password: Annotated[str, Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)]
    totp: Annotated[str | None, Field(max_length=16, description="The TOTP code; required once 2FA is enabled.")] = None


class Refresh(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"refreshToken": "rt_Vh3k9c2Q..."}]})
    refreshToken: RefreshToken


class Logout(Refresh):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"refreshToken": "rt_Vh3k9c2Q..."}]})


class TotpSetupRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"password": "correct horse battery staple", "totp": "123456"}]},
    )
    password: Annotated[
        str, Field(min_length=1, max_length=MAX_PASSWORD_LENGTH, description="The account's current password.")
    ]
    totp: Annotated[
        str | None, Field(max_length=16, description="The current TOTP code; required when 2FA is already enabled.")
    ] = None


class TotpVerify(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"code": "123456"}]})
    code: TotpCode


class Tokens(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "accessToken": "eyJhbGciOiJIUzI1NiIs...",
                    "refreshToken": "rt_Vh3k9c2Q...",
                    "expiresIn": 900,
                    "tokenType": "Bearer",
                }  # fmt: skip
            ]
        }
    )
    accessToken: str = Field(description="A JWT for `Authorization: Bearer`, valid `expiresIn` seconds.")
    refreshToken: str = Field(description="Single use: exchange it at `/v1/auth/refresh` for a new pair.")
    expiresIn: int = Field(description="Seconds until the access token expires.")
    tokenType: str = "Bearer"


class TotpSetup(BaseModel):
    secret: str = Field(description="The base32 TOTP secret, for manual entry.")
    otpauthUri: str = Field(description="An `otpauth://` URI to show as a QR code.")


class TotpStatus(BaseModel):
    totpEnabled: bool


class MembershipOut(BaseModel):
    tenantId: str
    role: str = Field(description="`owner`, `developer` or `analyst`.")
    projects: list[str] = Field(description='The project ids the role covers; `["*"]` for all.')


class Me(BaseModel):
    userId: str
    email: str
    platformRole: str | None = Field(description="`superadmin`, `admin`, `support`, or null for tenant users.")
    memberships: list[MembershipOut]


async def throttle_logins(request: Request) -> None:
    """Sign-in attempts per client address and in all (`LUDEX_LOGIN_RATE_PER_IP_PER_S`,
    `LUDEX_LOGIN_RATE_PER_S`, bursts of twice that), checked before any password work: password
    hashing is slow on purpose, so unthrottled attempts would take every core, and the account
    lock alone does not slow an attacker trying one password on many accounts."""
    settings = request.app.state.backend_holder.settings
    address = request.client.host if request.client else "unknown"
    decision = await request.app.state.rate_limiter.hit(
        f"login-ip:{address}", settings.login_rate_per_ip_per_s, tenant=("login:all", settings.login_rate_per_s)
    )
    if not decision.allowed:
        raise ProblemError(
            "login-throttled",
            "too many sign-in attempts; wait and try again",
            headers={"Retry-After": str(decision.retry_after_s)},
        )


@router.post(
    "/login",
    response_model=Tokens,
    responses=problem_responses(400, 401, 422, 429),
    summary="Log in",
    dependencies=[Depends(throttle_logins)],
)
async def login(body: Login, service: Accounts) -> Tokens:
    """Exchanges email and password (and the TOTP code once 2FA is enabled) for an access token
    and a refresh token. A wrong email or password is always 401 `invalid-credentials`; 2FA
    accounts answer 401 `totp-required` without a code and `invalid-totp` with a wrong one. After
    5 consecutive failures the account is locked for 1 s, then 2 s, 4 s, ... up to 15 minutes:
    429 `login-throttled` with `Retry-After`. Attempts are also limited per client address and
    in all (429 `login-throttled`)."""
    return Tokens(**await service.login(body.email, body.password, body.totp))


@router.post("/refresh", response_model=Tokens, responses=problem_responses(400, 401, 422), summary="Refresh tokens")
async def refresh(body: Refresh, service: Accounts) -> Tokens:
    """Exchanges a refresh token for a new access and refresh token of the same session. Each
    refresh token works once: presenting a used one again answers 401 `token-reused` and revokes
    the whole session (its newer tokens too), as it suggests the token was stolen."""
    return Tokens(**await service.refresh(body.refreshToken))


@router.post("/logout", status_code=204, responses=problem_responses(400, 401, 422), summary="Log out")
async def logout(body: Logout, service: Accounts, connected: Connected) -> Response:
    """Ends the session of the refresh token: its refresh tokens and access tokens stop working,
    and the API keys it made with `endsWithSession` (the console's) are revoked. Logging out an
    already ended session answers 204 again; an unknown token, 401."""
    session_id = await service.logout(body.refreshToken)
    await connected.control.revoke_session_keys(session_id)
    return Response(status_code=204)


@router.post(
    "/2fa/setup", response_model=TotpSetup, responses=problem_responses(400, 401, 422, 429), summary="Start TOTP setup"
)
async def totp_setup(body: TotpSetupRequest, principal: Signed, service: Accounts) -> TotpSetup:
    """Creates a TOTP secret for the signed-in user. It takes effect only once
    `/v1/auth/2fa/verify` confirms a code from it; until then login works as before (and an
    already enabled 2FA keeps its old secret). The access token is not enough: the body carries
    the `password`, and once 2FA is enabled a current `totp` code. These are checked as at login
    and failures count towards its lock: a wrong password is 401 `invalid-credentials`, a
    missing or wrong code 401 `totp-required` / `invalid-totp`, a locked account 429
    `login-throttled`."""
    return TotpSetup(**await service.totp_setup(principal.user_id, body.password, body.totp))


@router.post(
    "/2fa/verify", response_model=TotpStatus, responses=problem_responses(400, 401, 422, 429), summary="Enable TOTP"
)
async def totp_verify(body: TotpVerify, principal: Signed, service: Accounts) -> TotpStatus:
    """Confirms a code from the secret of `/v1/auth/2fa/setup` and turns 2FA on: from now on
    login needs `totp`. A wrong code answers 401 `invalid-totp`."""
    return TotpStatus(totpEnabled=await service.totp_verify(principal.user_id, body.code))


@router.get("/me", response_model=Me, responses=problem_responses(401, 429), summary="Who am I")
async def me(principal: Signed) -> Me:
    """The signed-in user of the access token: platform role and tenant memberships."""
    return Me(
        userId=principal.user_id,
        email=principal.email,
        platformRole=principal.platform_role,
        memberships=[
            MembershipOut(tenantId=m.tenant_id, role=m.role, projects=list(m.projects)) for m in principal.memberships
        ],
    )
