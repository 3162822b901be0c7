"""Dashboard users: platform staff under `/v1/admin/users`, a tenant's members under
`/v1/client/members`. Secrets (password hashes, TOTP secrets) never leave the store."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from actors.ingress.accounts import AccountService
from serve.api_key_auth import tenant_id
from serve.backoffice import Connected, record
from serve.backoffice_schemas import MemberIn, User, UserIn, UserPage, UserPatch
from serve.bearer_tokens import CurrentPrincipal, accounts, ensure_can
from serve.pagination import Cursor, Limit, decode_id_cursor, encode_cursor
from serve.problems import ProblemError, problem_responses

router = APIRouter(tags=["users"])
Accounts = Annotated[AccountService, Depends(accounts)]
Tenant = Annotated[str, Depends(tenant_id)]
UserId = Annotated[str, Path(pattern=r"^usr_[0-9a-f]{16}$", examples=["usr_0123456789abcdef"])]
ERRORS = problem_responses(400, 401, 403, 404, 409, 422, 429)


def _user(user: dict[str, Any], tenant: str | None = None) -> User:
    memberships = [m for m in user.get("memberships", []) if tenant is None or m["tenantId"] == tenant]
    return User(
        id=user["id"],
        email=user["email"],
        platformRole=None if tenant else user.get("platformRole"),
        memberships=memberships,
        totpEnabled=bool(user.get("totpEnabled")),
        disabled=bool(user.get("disabled")),
        createdAt=user["createdAt"],
    )


def _safe(user: dict[str, Any], tenant: str | None = None) -> dict[str, Any]:
    """What an audit entry keeps of a user: in a tenant's log, only that tenant's membership."""
    return _user(user, tenant).model_dump()


async def _existing(service: AccountService, user_id: str, tenant: str | None = None) -> dict[str, Any]:
    user = await service.get_user(user_id)
    if user is None or (tenant and not any(m["tenantId"] == tenant for m in user.get("memberships", []))):
        raise ProblemError("not-found", f"no user '{user_id}' here")
    return user


@router.get("/v1/admin/users", response_model=UserPage, responses=ERRORS, summary="List dashboard users")
async def list_users(
    principal: CurrentPrincipal,
    service: Accounts,
    q: Annotated[str | None, Query(max_length=254, description="Substring of the email.")] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> UserPage:
    """Every dashboard user ordered by id, with roles and 2FA state."""
    ensure_can(principal, "users:read")
    found = await service.list_users(after=decode_id_cursor(cursor), limit=limit + 1, query=q)
    next_cursor = encode_cursor(found[limit - 1]["id"]) if len(found) > limit else None
    return UserPage(items=[_user(u) for u in found[:limit]], nextCursor=next_cursor)


@router.post("/v1/admin/users", status_code=201, response_model=User, responses=ERRORS, summary="Create a user")
async def create_user(
    request: Request, body: UserIn, principal: CurrentPrincipal, service: Accounts, connected: Connected
) -> User:
    """A dashboard user with a platform role and/or tenant memberships."""
    ensure_can(principal, "users:write")
    try:
        user = await service.create_user(
            body.email, body.password, body.platformRole, [m.model_dump() for m in body.memberships]
        )
    except ValueError as error:
        raise ProblemError("validation-error", str(error), errors=[{"field": "body", "message": str(error)}]) from error
    await record(
        request, connected, principal, "user.create", user["id"], tenant_id=None, before=None, after=_safe(user)
    )
    return _user(user)


@router.patch("/v1/admin/users/{userId}", response_model=User, responses=ERRORS, summary="Change a user")
async def change_user(
    request: Request,
    userId: UserId,
    body: UserPatch,
    principal: CurrentPrincipal,
    service: Accounts,
    connected: Connected,
) -> User:
    """Sets the platform role, disables the user (a disabled user's tokens stop working) or sets
    a new password (every session of the user ends; how an invited member gets one)."""
    ensure_can(principal, "users:write")
    before = await _existing(service, userId)
    changes = body.model_dump(exclude_unset=True)
    password = changes.pop("password", None)
    if password is not None:
        await service.set_password(userId, password)
    user = await service.change_user(userId, **changes)
    await record(
        request, connected, principal, "user.update", userId, tenant_id=None, before=_safe(before), after=_safe(user)
    )
    return _user(user)


@router.get("/v1/client/members", response_model=UserPage, responses=ERRORS, summary="List the tenant's members")
async def list_members(
    tenant: Tenant, principal: CurrentPrincipal, service: Accounts, cursor: Cursor = None, limit: Limit = 50
) -> UserPage:
    """Users with a role in this tenant, showing only that membership."""
    ensure_can(principal, "members:read", tenant)
    found = await service.list_users(after=decode_id_cursor(cursor), limit=limit + 1, tenant_id=tenant)
    next_cursor = encode_cursor(found[limit - 1]["id"]) if len(found) > limit else None
    return UserPage(items=[_user(u, tenant) for u in found[:limit]], nextCursor=next_cursor)


@router.post("/v1/client/members", response_model=User, responses=ERRORS, summary="Add or change a member")
async def put_member(
    request: Request,
    body: MemberIn,
    tenant: Tenant,
    principal: CurrentPrincipal,
    service: Accounts,
    connected: Connected,
) -> User:
    """Gives a user (found by email, or created) a role in this tenant, for all projects (`*`)
    or the listed ones. Replaces the user's previous role here. The answer is the same whether
    or not the email already had an account elsewhere: a new account gets `password`, or none
    usable until a platform admin sets one (an invitation)."""
    ensure_can(principal, "members:write", tenant)
    user = await service.find_user_by_email(body.email)
    if user is None:
        try:
            user = await service.create_user(body.email, body.password or secrets.token_urlsafe(32))
        except ValueError as error:
            raise ProblemError(
                "validation-error", str(error), errors=[{"field": "email", "message": str(error)}]
            ) from error
    before = _safe(user, tenant)
    membership = {"tenantId": tenant, "role": body.role, "projects": body.projects}
    user = await service.set_membership(user["id"], membership)
    await record(
        request,
        connected,
        principal,
        "member.put",
        user["id"],
        tenant_id=tenant,
        before=before,
        after=_safe(user, tenant),
    )
    return _user(user, tenant)


@router.delete("/v1/client/members/{userId}", status_code=204, responses=ERRORS, summary="Remove a member")
async def remove_member(
    request: Request,
    userId: UserId,
    tenant: Tenant,
    principal: CurrentPrincipal,
    service: Accounts,
    connected: Connected,
) -> Response:
    """Takes the user's role in this tenant away; their access tokens lose it at once."""
    ensure_can(principal, "members:write", tenant)
    before = await _existing(service, userId, tenant)
    user = await service.remove_membership(userId, tenant)
    await record(
        request,
        connected,
        principal,
        "member.remove",
        userId,
        tenant_id=tenant,
        before=_safe(before, tenant),
        after=_safe(user, tenant),
    )
    return Response(status_code=204)
