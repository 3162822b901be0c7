"""Dashboard sign-in with a tenant's OpenID Connect provider (docs/SECURITY.md, "Dashboard
sign-in with OIDC"): the tenant's owner configures it under `/v1/client/oidc`; the browser goes
`/v1/auth/oidc/tenants/{tenantId}/start` → the provider → `/v1/auth/oidc/callback` → the console, which
exchanges the one-time ticket at `/v1/auth/oidc/token` for the same tokens a password login gives."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, ConfigDict, Field

from actors.ingress.oidc_providers import OidcProviders
from actors.ingress.oidc_signin import OidcSignIn, problem_detail
from actors.secret_box import SecretBox
from engine.rbac import TENANT_ROLES
from serve.api.dashboard_login import Tokens, throttle_logins
from serve.api_key_auth import ID_PATTERN
from serve.backend import backend
from serve.backoffice import InTenant, in_tenant
from serve.bearer_tokens import accounts
from serve.problems import ProblemError, problem_responses

router = APIRouter(tags=["auth"])
COOKIE, COOKIE_PATH = "ludex_oidc", "/v1/auth/oidc"
ERRORS = problem_responses(400, 401, 403, 404, 422, 429)
TenantPath = Annotated[str, Path(pattern=ID_PATTERN, description="The tenant to sign in to.", examples=["demo"])]


class OidcProviderIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "displayName": "Studio SSO",
                    "issuer": "https://login.studio.example",
                    "clientId": "ludex-dashboard",
                    "clientSecret": "s3cr3t-from-the-provider",
                    "allowedDomains": ["studio.example"],
                    "role": "analyst",
                    "projects": ["*"],
                    "enabled": True,
                }
            ]
        },
    )
    displayName: Annotated[
        str, Field(min_length=1, max_length=60, description="Shown on the button: Sign in with <displayName>.")
    ]
    issuer: Annotated[
        str,
        Field(
            min_length=8,
            max_length=512,
            description="The provider's issuer URL (discovery at `{issuer}/.well-known/openid-configuration`).",
        ),
    ]
    clientId: Annotated[str, Field(min_length=1, max_length=255)]
    clientSecret: Annotated[
        str | None,
        Field(min_length=1, max_length=1024, description="Write-only, stored sealed; omit to keep the current one."),
    ] = None
    allowedDomains: Annotated[
        list[Annotated[str, Field(min_length=3, max_length=253)]],
        Field(min_length=1, max_length=50, description="Email domains that may sign in (exact match)."),
    ]
    role: Annotated[
        str, Field(description=f"The role of people signing in for the first time: one of {', '.join(TENANT_ROLES)}.")
    ] = "analyst"
    projects: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=64)]],
        Field(min_length=1, max_length=100, description='The projects that role covers; `["*"]` for all.'),
    ] = ["*"]  # noqa: RUF012 - pydantic copies defaults
    enabled: bool = True


class OidcProvider(BaseModel):
    displayName: str
    issuer: str
    clientId: str
    hasClientSecret: bool = Field(description="The secret itself is never returned.")
    allowedDomains: list[str]
    role: str
    projects: list[str]
    enabled: bool
    redirectUri: str = Field(description="The callback URL to register at the provider.")
    startUrl: str = Field(description="Where the console's button sends the browser.")
    createdAt: str
    updatedAt: str


class OidcPublic(BaseModel):
    tenantId: str
    displayName: str
    startUrl: str


class TicketIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"ticket": "oit_Q2xh..."}]})
    ticket: Annotated[str, Field(min_length=1, max_length=128, description="The `oidc-ticket` of the console's URL.")]


async def providers(request: Request) -> OidcProviders:
    found: OidcProviders | None = getattr(request.app.state, "oidc_providers", None)
    if found is None:
        connected = await backend(request)
        found = OidcProviders(
            connected.store,
            SecretBox.from_settings(connected.settings),
            allow_private=connected.settings.webhook_allow_private,
        )
        request.app.state.oidc_providers = found
    return found


async def signin(request: Request, configured: Annotated[OidcProviders, Depends(providers)]) -> OidcSignIn:
    found: OidcSignIn | None = getattr(request.app.state, "oidc_signin", None)
    if found is None:
        found = OidcSignIn(configured.store, configured, await accounts(request))
        request.app.state.oidc_signin = found
    return found


Providers = Annotated[OidcProviders, Depends(providers)]
SignIn = Annotated[OidcSignIn, Depends(signin)]


def _callback_url(request: Request) -> str:
    return str(request.url_for("oidc_callback"))


def _start_url(request: Request, tenant_id: str) -> str:
    return str(request.url_for("oidc_start", tenantId=tenant_id))


def _provider(request: Request, document: dict[str, Any]) -> OidcProvider:
    return OidcProvider(
        **{k: document[k] for k in ("displayName", "issuer", "clientId", "allowedDomains", "role", "projects")},
        hasClientSecret=bool(document.get("clientSecret")),
        enabled=bool(document.get("enabled")),
        redirectUri=_callback_url(request),
        startUrl=_start_url(request, document["id"]),
        createdAt=document["createdAt"],
        updatedAt=document["updatedAt"],
    )


# -- the tenant's configuration -----------------------------------------------------------------


@router.get("/v1/client/oidc", response_model=OidcProvider, responses=ERRORS, summary="Show the OIDC provider")
async def get_provider(
    request: Request, acting: Annotated[InTenant, in_tenant("members:read")], configured: Providers
) -> OidcProvider:
    """The tenant's OIDC sign-in configuration (without its client secret); 404
    `oidc-not-configured` when there is none."""
    document = await configured.get(acting.tenant)
    if document is None:
        raise ProblemError("oidc-not-configured", "this tenant has no OIDC provider")
    return _provider(request, document)


@router.put("/v1/client/oidc", response_model=OidcProvider, responses=ERRORS, summary="Configure the OIDC provider")
async def put_provider(
    request: Request,
    body: OidcProviderIn,
    acting: Annotated[InTenant, in_tenant("members:write")],
    configured: Providers,
) -> OidcProvider:
    """Creates or replaces the tenant's OIDC provider (owners and platform admins). People whose
    verified email is in `allowedDomains` can then sign in to this tenant's dashboard with it; a
    person signing in for the first time becomes a member with `role` on `projects`. Register
    `redirectUri` at the provider. The issuer must be reachable under the same rules as webhook
    URLs (422 `validation-error` otherwise)."""
    before = await configured.get(acting.tenant)
    document = await configured.put(acting.tenant, body.model_dump(exclude={"clientSecret"}), body.clientSecret)
    await acting.record("oidc.put", acting.tenant, before=before, after=document)
    return _provider(request, document)


@router.delete("/v1/client/oidc", status_code=204, responses=ERRORS, summary="Remove the OIDC provider")
async def delete_provider(acting: Annotated[InTenant, in_tenant("members:write")], configured: Providers) -> Response:
    """Turns OIDC sign-in off for the tenant. Sessions already signed in go on until they end;
    members keep their accounts (a platform admin can give them a password)."""
    before = await configured.get(acting.tenant)
    if before is None or not await configured.delete(acting.tenant):
        raise ProblemError("oidc-not-configured", "this tenant has no OIDC provider")
    await acting.record("oidc.delete", acting.tenant, before=before, after=None)
    return Response(status_code=204)


# -- the browser's flow -------------------------------------------------------------------------


@router.get(
    "/v1/auth/oidc/callback",
    name="oidc_callback",
    status_code=303,
    response_class=RedirectResponse,
    responses=problem_responses(401, 403, 404, 422, 429, 502),
    summary="OIDC callback",
    dependencies=[Depends(throttle_logins)],
)
async def callback(
    request: Request,
    service: SignIn,
    state: Annotated[str, Query(min_length=1, max_length=128, description="The `state` of the start route.")],
    code: Annotated[str | None, Query(max_length=2048)] = None,
    error: Annotated[str | None, Query(max_length=128)] = None,
    error_description: Annotated[str | None, Query(max_length=1024)] = None,
) -> RedirectResponse:
    """Where the provider sends the browser back. Checks the state (401 `invalid-oidc-state`
    when unknown, used, expired or started in another browser), exchanges the code, verifies
    the ID token (401 `invalid-id-token`), the email (403 `oidc-email-refused`: unverified,
    another domain, platform staff) and redirects (303) to the console with a one-time ticket in
    the URL's fragment. A provider refusal (`error=`) answers 401 `oidc-denied`; a provider that
    cannot be reached, 502 `oidc-provider-error`."""
    binding = request.cookies.get(COOKIE)
    if error or not code:
        await service.discard(state, binding)
        raise ProblemError("oidc-denied", problem_detail(error or "no code", error_description))
    ticket = await service.finish(state, code, binding)
    return RedirectResponse(f"/dashboard/#oidc-ticket={ticket}", status_code=303)


@router.post(
    "/v1/auth/oidc/token",
    response_model=Tokens,
    responses=problem_responses(400, 401, 422, 429),
    summary="Exchange an OIDC ticket",
    dependencies=[Depends(throttle_logins)],
)
async def token(request: Request, body: TicketIn, service: SignIn) -> Tokens:
    """Exchanges the callback's one-time ticket (valid 60 s, in the browser that signed in) for
    an access and a refresh token, as `/v1/auth/login` answers. The session carries only the
    membership of the tenant signed in to."""
    return Tokens(**await service.redeem(body.ticket, request.cookies.get(COOKIE)))


@router.get(
    "/v1/auth/oidc/tenants/{tenantId}",
    response_model=OidcPublic,
    responses=problem_responses(404, 422, 429),
    summary="A tenant's OIDC sign-in",
)
async def public(request: Request, tenantId: TenantPath, configured: Providers) -> OidcPublic:
    """What the sign-in page shows for a tenant: the button's name and where it leads; 404
    `oidc-not-configured` when the tenant has no enabled provider."""
    document = await configured.get(tenantId)
    if document is None or not document.get("enabled"):
        raise ProblemError("oidc-not-configured", f"tenant '{tenantId}' has no OIDC sign-in")
    return OidcPublic(tenantId=tenantId, displayName=document["displayName"], startUrl=_start_url(request, tenantId))


@router.get(
    "/v1/auth/oidc/tenants/{tenantId}/start",
    name="oidc_start",
    status_code=302,
    response_class=RedirectResponse,
    responses=problem_responses(404, 422, 429, 502),
    summary="Start OIDC sign-in",
    dependencies=[Depends(throttle_logins)],
)
async def start(request: Request, tenantId: TenantPath, service: SignIn) -> RedirectResponse:
    """Redirects the browser to the tenant's provider (authorization code with PKCE S256,
    `state` and `nonce`), binding the sign-in to this browser with an HttpOnly cookie."""
    binding = secrets.token_urlsafe(32)
    url = await service.start(tenantId, _callback_url(request), binding)
    response = RedirectResponse(url, status_code=302)
    response.set_cookie(
        COOKIE,
        binding,
        max_age=600,
        path=COOKIE_PATH,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response
