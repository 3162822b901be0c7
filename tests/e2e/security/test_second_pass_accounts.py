"""Issue 25's account findings over real HTTP: parallel password guesses are counted before they
are checked, so a burst from one address gets no more checks than the lockout allows; and a
suspended tenant's owners can mint no API key and create or enable no webhook until it is
reinstated."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from actors.ingress.accounts import LOCK_AFTER_FAILURES
from engine.rbac import Membership
from serve.launcher import Launched
from tests.e2e.helpers import assert_problem, login

PASSWORD = "correct horse battery staple"
GUESSES = 30


async def guess_at_once(base_url: str, email: str, count: int) -> list[httpx.Response]:
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        wrong = [
            client.post("/v1/auth/login", json={"email": email, "password": f"guess {i:04d} !!"}) for i in range(count)
        ]
        return list(await asyncio.gather(*wrong))


def test_thirty_parallel_wrong_passwords_get_at_most_the_lockout_threshold_of_checks(
    ludex: Launched, accounts: Any
) -> None:
    email = f"guessed-{uuid.uuid4().hex[:8]}@example.com"
    accounts.create_user(email, PASSWORD)
    answers = asyncio.run(guess_at_once(ludex.base_url, email, GUESSES))
    checked = [a for a in answers if a.status_code == 401]
    for answer in checked:
        assert_problem(answer, 401, "invalid-credentials")
    throttled = [a for a in answers if a.status_code == 429]
    assert len(checked) + len(throttled) == GUESSES, sorted(a.status_code for a in answers)
    assert 1 <= len(checked) <= LOCK_AFTER_FAILURES, f"{len(checked)} passwords were checked"
    for answer in throttled:  # the account's lock, or the per-address limit: one problem type
        assert_problem(answer, 429, "login-throttled")
    stored = accounts.find_user_by_email(email)
    assert stored["failedLogins"] == len(checked), "each checked guess counted once, the refused ones not at all"


@pytest.fixture
def suspended_tenant(ludex: Launched, accounts: Any, control_plane: Any, admin: httpx.Client) -> dict[str, Any]:
    """A tenant with a project, a key and a webhook, then suspended; its owner signed in."""
    tenant = f"susp-{uuid.uuid4().hex[:6]}"
    control_plane.ensure_tenant(tenant, tenant)
    control_plane.ensure_project(tenant, "p1", "one")
    email = f"owner-{uuid.uuid4().hex[:8]}@example.com"
    accounts.create_user(email, PASSWORD, None, (Membership(tenant, "owner"),))
    owner = login(ludex.base_url, email, PASSWORD, tenant)
    key = owner.post("/v1/client/projects/p1/api-keys", json={"name": "before", "scopes": ["players:read"]})
    assert key.status_code == 201, key.text
    hook = owner.post(
        "/v1/client/projects/p1/webhooks", json={"url": "http://127.0.0.1:9/hook", "eventTypes": ["*"], "active": False}
    )
    assert hook.status_code == 201, hook.text
    suspended = admin.patch(f"/v1/admin/tenants/{tenant}", json={"suspended": True})
    assert suspended.status_code == 200 and suspended.json()["suspended"] is True
    return {"tenant": tenant, "owner": owner, "keyId": key.json()["id"], "webhookId": hook.json()["id"]}


def test_a_suspended_tenant_can_mint_no_key_and_create_or_enable_no_webhook(
    suspended_tenant: dict[str, Any], admin: httpx.Client
) -> None:
    owner: httpx.Client = suspended_tenant["owner"]
    keys, hooks = "/v1/client/projects/p1/api-keys", "/v1/client/projects/p1/webhooks"
    key_count = len(owner.get(keys).json()["items"])
    hook_count = len(owner.get(hooks).json()["items"])
    assert_problem(owner.post(keys, json={"name": "after", "scopes": ["players:read"]}), 403, "tenant-suspended")
    assert_problem(owner.post(f"{keys}/{suspended_tenant['keyId']}/rotate"), 403, "tenant-suspended")
    new_hook = {"url": "http://127.0.0.1:9/other", "eventTypes": ["*"]}
    assert_problem(owner.post(hooks, json=new_hook), 403, "tenant-suspended")
    enable = owner.patch(f"{hooks}/{suspended_tenant['webhookId']}", json={"active": True})
    assert_problem(enable, 403, "tenant-suspended")
    assert len(owner.get(keys).json()["items"]) == key_count, "no key was minted"
    assert len(owner.get(hooks).json()["items"]) == hook_count, "no webhook was created"
    assert owner.get(f"{hooks}/{suspended_tenant['webhookId']}").json()["active"] is False
    assert owner.post(f"{keys}/{suspended_tenant['keyId']}/revoke").status_code == 200, "revoking stays possible"

    tenant = suspended_tenant["tenant"]
    assert admin.patch(f"/v1/admin/tenants/{tenant}", json={"suspended": False}).status_code == 200
    assert owner.post(keys, json={"name": "after", "scopes": ["players:read"]}).status_code == 201
    assert owner.patch(f"{hooks}/{suspended_tenant['webhookId']}", json={"active": True}).status_code == 200
