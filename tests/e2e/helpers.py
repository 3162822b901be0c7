"""Shared assertions and small builders for the end-to-end tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from engine.plans import QUOTA_FIELDS
from tests.e2e.conftest import Api

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://ludex.dev/problems/"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def tenant_with_quotas(backoffice: Any, prefix: str, **quotas: int) -> tuple[str, str]:
    """A fresh tenant on a fresh plan with `quotas` (the others unlimited), its project `game`
    with no economy yet, and an all-scope key for it: the tenant and the key's token."""
    tenant = unique(prefix)
    plan = {"id": f"plan-{tenant}", "name": prefix, **dict.fromkeys(QUOTA_FIELDS), **quotas}
    backoffice.put_plan(plan, create=True)
    backoffice.create_tenant(tenant, f"{prefix} Games", f"plan-{tenant}")
    backoffice.create_project(tenant, "game", "Game")
    _, token = backoffice.create_api_key(tenant, "game", f"{prefix}-test")
    return tenant, token


def new_player(api: Api, **fields: Any) -> str:
    """Creates a fresh player of the demo project and answers its id."""
    player_id = fields.pop("playerId", None) or unique("pl")
    response = api.post("/players", {"playerId": player_id, "username": fields.pop("username", player_id), **fields})
    assert response.status_code == 201, response.text
    return player_id


def assert_problem_shape(body: dict[str, Any], status: int, slug: str) -> None:
    """The RFC 9457 members every Ludex problem carries."""
    assert body["type"] == PROBLEM_BASE + slug, body
    assert body["type"].endswith("/" + slug)
    assert body["status"] == status, body
    assert isinstance(body["title"], str) and body["title"], body
    assert isinstance(body["detail"], str) and body["detail"], body
    assert isinstance(body["instance"], str) and body["instance"].startswith("/"), body
    assert isinstance(body["requestId"], str) and body["requestId"], body


def assert_problem(response: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    """A complete problem answer: status, media type, members, instance and request id."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON), response.headers
    body: dict[str, Any] = response.json()
    assert_problem_shape(body, status, slug)
    assert body["instance"] == response.request.url.path
    assert body["requestId"] == response.headers["x-request-id"]
    return body


def balances(api: Api, player_id: str) -> dict[str, int]:
    response = api.get(f"/players/{player_id}/wallet")
    assert response.status_code == 200, response.text
    result: dict[str, int] = response.json()["balances"]
    return result


def credit(api: Api, player_id: str, currency: str, amount: int, **extra: Any) -> dict[str, Any]:
    response = api.post(f"/players/{player_id}/wallet/credit", {"currency": currency, "amount": amount, **extra})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def snapshot(api: Api, player_id: str) -> dict[str, Any]:
    """The profile without `updatedAt`, to compare "nothing changed" before and after."""
    response = api.get(f"/players/{player_id}")
    assert response.status_code == 200, response.text
    profile: dict[str, Any] = response.json()
    profile.pop("updatedAt")
    return profile


@contextmanager
def api_with_key(base_url: str, api_key: str | None, *, tenant: str = "demo", project: str = "demo") -> Iterator[Api]:
    """An `Api` for a given key (None: no key header), closed afterwards."""
    client = Api(base_url, tenant, project, api_key)
    try:
        yield client
    finally:
        client.client.close()


def login(base_url: str, email: str, password: str, tenant: str) -> httpx.Client:
    """A dashboard client signed in as `email`, acting for `tenant`."""
    response = httpx.post(f"{base_url}/v1/auth/login", json={"email": email, "password": password}, timeout=30)
    assert response.status_code == 200, response.text
    headers = {"Authorization": f"Bearer {response.json()['accessToken']}", "x-tenant-id": tenant}
    return httpx.Client(base_url=base_url, headers=headers, timeout=30)


def new_project(admin: httpx.Client, base_url: str, economy: Any, scopes: list[str], *, prefix: str = "prj") -> Api:
    """A fresh project of the demo tenant on `economy`, and an `Api` with a key of those scopes."""
    project = unique(prefix)
    assert admin.post("/v1/client/projects", json={"id": project, "name": project}).status_code == 201
    defined = admin.put(f"/v1/client/projects/{project}/economy", json=economy)
    assert defined.status_code == 200, defined.text
    key = admin.post(f"/v1/client/projects/{project}/api-keys", json={"name": "tests", "scopes": scopes})
    assert key.status_code == 201, key.text
    return Api(base_url, "demo", project, key.json()["apiKey"])
