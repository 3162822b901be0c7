"""Tenant owners as attackers: a member limited to some projects cannot widen its reach, adding
a member tells nothing about accounts elsewhere, and a tenant's audit log holds only its own
view of a user."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from engine.rbac import Membership
from serve.launcher import Launched

PASSWORD = "correct horse battery staple"


def signed_in(
    ludex: Launched, accounts: Any, tenant: str, memberships: tuple[Membership, ...], platform_role: str | None = None
) -> httpx.Client:
    email = f"u-{uuid.uuid4().hex[:8]}@example.com"
    accounts.create_user(email, PASSWORD, platform_role, memberships)
    login = httpx.post(f"{ludex.base_url}/v1/auth/login", json={"email": email, "password": PASSWORD}, timeout=30)
    assert login.status_code == 200, login.text
    headers = {"Authorization": f"Bearer {login.json()['accessToken']}", "x-tenant-id": tenant}
    return httpx.Client(base_url=ludex.base_url, headers=headers, timeout=30)


@pytest.fixture(scope="module")
def tenants(control_plane: Any) -> tuple[str, str]:
    ours, theirs = f"sec-{uuid.uuid4().hex[:6]}", f"sec-{uuid.uuid4().hex[:6]}"
    for tenant in (ours, theirs):
        control_plane.ensure_tenant(tenant, tenant)
        control_plane.ensure_project(tenant, "p1", "one")
        control_plane.ensure_project(tenant, "p2", "two")
    return ours, theirs


def test_an_owner_of_some_projects_cannot_grant_itself_more(
    ludex: Launched, accounts: Any, tenants: tuple[str, str]
) -> None:
    ours, _ = tenants
    scoped = signed_in(ludex, accounts, ours, (Membership(ours, "owner", ("p1",)),))
    me = scoped.get("/v1/auth/me").json()
    widen = scoped.post("/v1/client/members", json={"email": me["email"], "role": "owner", "projects": ["*"]})
    assert widen.status_code == 403, widen.text
    assert scoped.post("/v1/client/projects", json={"id": "p3", "name": "three"}).status_code == 403
    assert scoped.get("/v1/client/members").status_code == 403
    assert scoped.patch("/v1/client/projects/p1", json={"name": "still mine"}).status_code == 200
    assert scoped.patch("/v1/client/projects/p2", json={"name": "not mine"}).status_code == 403


def test_adding_a_member_answers_alike_whether_or_not_the_email_has_an_account(
    ludex: Launched, accounts: Any, tenants: tuple[str, str]
) -> None:
    ours, theirs = tenants
    owner = signed_in(ludex, accounts, ours, (Membership(ours, "owner"),))
    elsewhere = f"elsewhere-{uuid.uuid4().hex[:8]}@example.com"
    accounts.create_user(elsewhere, PASSWORD, None, (Membership(theirs, "owner"),))
    nowhere = f"nowhere-{uuid.uuid4().hex[:8]}@example.com"
    answers = [owner.post("/v1/client/members", json={"email": e, "role": "analyst"}) for e in (elsewhere, nowhere)]
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    assert [sorted(a.json()) for a in answers][0] == sorted(answers[1].json())
    for answer in answers:
        assert answer.json()["memberships"] == [{"tenantId": ours, "role": "analyst", "projects": ["*"]}]
        assert answer.json()["platformRole"] is None
    # the invited account has no usable password until a platform admin sets one
    refused = httpx.post(f"{ludex.base_url}/v1/auth/login", json={"email": nowhere, "password": PASSWORD}, timeout=30)
    assert refused.status_code == 401


def test_a_tenants_audit_log_shows_only_its_own_view_of_a_user(
    ludex: Launched, accounts: Any, admin: httpx.Client, tenants: tuple[str, str]
) -> None:
    ours, theirs = tenants
    owner = signed_in(ludex, accounts, ours, (Membership(ours, "owner"),))
    email = f"audited-{uuid.uuid4().hex[:8]}@example.com"
    accounts.create_user(email, PASSWORD, None, (Membership(theirs, "developer", ("p2",)),))
    assert owner.post("/v1/client/members", json={"email": email, "role": "analyst"}).status_code == 200
    entries = owner.get("/v1/admin/audit", params={"tenantId": ours, "action": "member.put", "limit": 200})
    assert entries.status_code == 200, entries.text
    (entry,) = [e for e in entries.json()["items"] if (e.get("after") or {}).get("email") == email]
    assert theirs not in str(entry), entry


def test_the_backoffice_player_lookup_follows_roles_and_tenants(
    ludex: Launched, accounts: Any, api: Any, tenants: tuple[str, str]
) -> None:
    player = f"lookup-{uuid.uuid4().hex[:8]}"
    assert api.post("/players", {"playerId": player, "username": player}).status_code == 201
    assert api.post(f"/players/{player}/wallet/credit", {"currency": "coins", "amount": 9}).status_code == 200
    path = f"/v1/client/projects/demo/players/{player}"
    support = signed_in(ludex, accounts, "demo", (), platform_role="support")
    assert support.get(path).json()["wallet"] == {"coins": 9}
    assert [e["delta"] for e in support.get(f"{path}/wallet/history").json()["items"]] == [9]
    analyst = signed_in(ludex, accounts, "demo", (Membership("demo", "analyst"),))
    assert analyst.get(path).status_code == 403, "analysts read reports, not players' personal data"
    _, theirs = tenants
    outsider = signed_in(ludex, accounts, theirs, (Membership(theirs, "owner"),))
    outsider.headers["x-tenant-id"] = "demo"
    assert outsider.get(path).status_code == 403
    outsider.headers["x-tenant-id"] = theirs
    assert outsider.get(f"/v1/client/projects/demo/players/{player}").status_code == 404
