"""Dashboard users: platform staff under `/v1/admin/users`, a tenant's members under
`/v1/client/members`. Secrets (password hashes, TOTP secrets) never leave the store."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response

from actors.ingress.accounts import AccountService
from serve.backoffice import Acting, InTenant, allowed, in_tenant
from serve.backoffice_schemas import MemberIn, User, UserIn, UserPage, UserPatch
from serve.bearer_tokens import accounts
from serve.pagination import SORT_SCAN_LIMIT, Cursor, Limit, decode_id_cursor, encode_cursor, sorted_page
from serve.problems import ProblemError, problem_responses
from serve.sorting import UserSort

router = APIRouter(tags=["users"])
Accounts = Annotated[AccountService, Depends(accounts)]
UserId = Annotated[str, Path(pattern=r"^usr_[0-9a-f]{16}$", examples=["usr_0123456789abcdef"])]
ERRORS = problem_responses(400, 401, 403, 404, 409, 422, 429)


def _user(user: dict[str, Any], tenant: str | None = None) -> User:
    memberships: list[Any] = user.get("memberships", []) if tenant is None else _memberships(user, tenant)
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
    acting: Annotated[Acting, allowed("users:read")],
    service: Accounts,
    q: Annotated[str | None, Query(max_length=254, description="Substring of the email.")] = None,
    sort: UserSort = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> UserPage:
    """Every dashboard user ordered by id (or `sort`), with roles and 2FA state."""
    if sort is not None:
        every = await service.list_users(after=None, limit=SORT_SCAN_LIMIT, query=q)
        page, next_cursor = sorted_page(every, sort, cursor, limit)
        return UserPage(items=[_user(u) for u in page], nextCursor=next_cursor)
    found = await service.list_users(after=decode_id_cursor(cursor), limit=limit + 1, query=q)
    next_cursor = encode_cursor(found[limit - 1]["id"]) if len(found) > limit else None
    return UserPage(items=[_user(u) for u in found[:limit]], nextCursor=next_cursor)


@router.post("/v1/admin/users", status_code=201, response_model=User, responses=ERRORS, summary="Create a user")
async def create_user(body: UserIn, acting: Annotated[Acting, allowed("users:write")], service: Accounts) -> User:
    """A dashboard user with a platform role and/or tenant memberships."""
    try:
        user = await service.create_user(
            body.email, body.password, body.platformRole, [m.model_dump() for m in body.memberships]
        )
    except ValueError as error:
        raise ProblemError("validation-error", str(error), errors=[{"field": "body", "message": str(error)}]) from error
    await acting.record("user.create", user["id"], before=None, after=_safe(user))
    return _user(user)


@router.patch("/v1/admin/users/{userId}", response_model=User, responses=ERRORS, summary="Change a user")
async def change_user(
    userId: UserId, body: UserPatch, acting: Annotated[Acting, allowed("users:write")], service: Accounts
) -> User:
    """Sets the platform role, disables the user (a disabled user's tokens stop working) or sets
    a new password (every session of the user ends; how an invited member gets one)."""
    before = await _existing(service, userId)
    changes = body.model_dump(exclude_unset=True)
    password = changes.pop("password", None)
    if password is not None:
        await service.set_password(userId, password)
    user = await service.change_user(userId, **changes)
    await acting.record("user.update", userId, before=_safe(before), after=_safe(user))
    return _user(user)


@router.get("/v1/client/members", response_model=UserPage, responses=ERRORS, summary="List the tenant's members")
async def list_members(
    acting: Annotated[InTenant, in_tenant("members:read")],
    service: Accounts,
    q: Annotated[str | None, Query(max_length=254, description="Substring of the email.")] = None,
    role: Annotated[str | None, Query(max_length=32, description="Only members with this role here.")] = None,
    sort: UserSort = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> UserPage:
    """Users with a role in this tenant, showing only that membership, ordered by id (or `sort`),
    searched by email and filtered by role."""
    tenant = acting.tenant
    if sort is None and role is None:
        found = await service.list_users(after=decode_id_cursor(cursor), limit=limit + 1, query=q, tenant_id=tenant)
        next_cursor = encode_cursor(found[limit - 1]["id"]) if len(found) > limit else None
        return UserPage(items=[_user(u, tenant) for u in found[:limit]], nextCursor=next_cursor)
    every = await service.list_users(after=None, limit=SORT_SCAN_LIMIT, query=q, tenant_id=tenant)
    kept = [u for u in every if role is None or any(m["role"] == role for m in _memberships(u, tenant))]
    page, next_cursor = sorted_page(kept, sort or "id", cursor, limit)
    return UserPage(items=[_user(u, tenant) for u in page], nextCursor=next_cursor)


def _memberships(user: dict[str, Any], tenant: str) -> list[dict[str, Any]]:
    return [m for m in user.get("memberships", []) if m["tenantId"] == tenant]


@router.post("/v1/client/members", response_model=User, responses=ERRORS, summary="Add or change a member")
async def put_member(
    body: MemberIn, acting: Annotated[InTenant, in_tenant("members:write")], service: Accounts
) -> User:
    """Gives a user (found by email, or created) a role in this tenant, for all projects (`*`)
    or the listed ones. Replaces the user's previous role here. The answer is the same whether
    or not the email already had an account elsewhere: a new account gets `password`, or none
    usable until a platform admin sets one (an invitation)."""
    tenant = acting.tenant
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
    await acting.record("member.put", user["id"], before=before, after=_safe(user, tenant))
    return _user(user, tenant)


@router.delete("/v1/client/members/{userId}", status_code=204, responses=ERRORS, summary="Remove a member")
async def remove_member(
    userId: UserId, acting: Annotated[InTenant, in_tenant("members:write")], service: Accounts
) -> Response:
    """Takes the user's role in this tenant away; their access tokens lose it at once."""
    tenant = acting.tenant
    before = await _existing(service, userId, tenant)
    user = await service.remove_membership(userId, tenant)
    await acting.record("member.remove", userId, before=_safe(before, tenant), after=_safe(user, tenant))
    return Response(status_code=204)
