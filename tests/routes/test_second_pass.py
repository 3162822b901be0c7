"""Issue 25's route findings through the app, without Ray (the HTTP versions are in
`tests/e2e/security/test_second_pass_accounts.py` and `tests/e2e/test_flags.py`): a suspended
tenant mints no key and creates or enables no webhook, a flag override of another type than its
flag is 422 naming its field, with nothing saved, and thirty wrong passwords sent at once get no
more checks than the lockout allows."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.helpers import assert_problem, unique
from tests.routes.conftest import Seam


@pytest.fixture(scope="module")
def admin(seam: Seam) -> dict[str, str]:
    """The demo superadmin's bearer header."""
    creds = seam.credentials
    login = seam.client.post("/v1/auth/login", json={"email": creds["adminEmail"], "password": creds["adminPassword"]})
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['accessToken']}"}


def test_a_suspended_tenant_mints_no_key_and_creates_or_enables_no_webhook(
    seam: Seam, admin: dict[str, str], control_plane: Any
) -> None:
    tenant = unique("susp")
    control_plane.ensure_tenant(tenant, tenant)
    control_plane.ensure_project(tenant, "p1", "one")
    client, headers = seam.client, {**admin, "x-tenant-id": tenant}
    keys, hooks = "/v1/client/projects/p1/api-keys", "/v1/client/projects/p1/webhooks"
    key = client.post(keys, json={"name": "before", "scopes": ["players:read"]}, headers=headers)
    hook = client.post(
        hooks, json={"url": "http://127.0.0.1:9/h", "eventTypes": ["*"], "active": False}, headers=headers
    )
    assert key.status_code == 201 and hook.status_code == 201, (key.text, hook.text)
    assert client.patch(f"/v1/admin/tenants/{tenant}", json={"suspended": True}, headers=admin).status_code == 200

    refused = [
        client.post(keys, json={"name": "after", "scopes": ["players:read"]}, headers=headers),
        client.post(f"{keys}/{key.json()['id']}/rotate", headers=headers),
        client.post(hooks, json={"url": "http://127.0.0.1:9/other", "eventTypes": ["*"]}, headers=headers),
        client.patch(f"{hooks}/{hook.json()['id']}", json={"active": True}, headers=headers),
    ]
    for answer in refused:
        assert_problem(answer, 403, "tenant-suspended")
    assert len(client.get(keys, headers=headers).json()["items"]) == 1
    assert len(client.get(hooks, headers=headers).json()["items"]) == 1
    assert client.get(f"{hooks}/{hook.json()['id']}", headers=headers).json()["active"] is False

    assert client.patch(f"/v1/admin/tenants/{tenant}", json={"suspended": False}, headers=admin).status_code == 200
    assert client.patch(f"{hooks}/{hook.json()['id']}", json={"active": True}, headers=headers).status_code == 200
    assert client.post(keys, json={"name": "after", "scopes": ["players:read"]}, headers=headers).status_code == 201


def test_an_override_of_another_type_than_its_flag_is_422_naming_it_and_saves_nothing(
    seam: Seam, admin: dict[str, str], demo_economy_document: dict[str, Any]
) -> None:
    client, headers = seam.client, {**admin, "x-tenant-id": "demo"}
    project = unique("flg")
    assert client.post("/v1/client/projects", json={"id": project, "name": project}, headers=headers).status_code == 201
    assert client.put(f"/v1/client/projects/{project}/economy", json=demo_economy_document, headers=headers).is_success
    overrides = f"/v1/client/projects/{project}/flags/overrides"
    assert client.put(overrides, json={"overrides": {"newShop": True}}, headers=headers).status_code == 200
    before = client.get(overrides, headers=headers).json()
    for bad, field in (
        ({"doubleXp": "yes"}, "doubleXp"),
        ({"newShop": 1}, "newShop"),
        ({"veteranOffer": False}, "veteranOffer"),
    ):
        problem = assert_problem(
            client.put(overrides, json={"overrides": bad}, headers=headers), 422, "validation-error"
        )
        assert [error["field"] for error in problem["errors"]] == [f"overrides.{field}"]
    assert client.get(overrides, headers=headers).json() == before


def test_thirty_wrong_passwords_at_once_get_at_most_five_checks(seam: Seam, admin: dict[str, str]) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from actors.ingress.accounts import LOCK_AFTER_FAILURES

    email = f"{unique('guessed')}@example.com"
    user = {"email": email, "password": "correct horse battery staple"}
    assert seam.client.post("/v1/admin/users", json=user, headers=admin).status_code == 201

    def guess(index: int) -> int:
        body = {"email": email, "password": f"guess {index:04d} !!"}
        return seam.client.post("/v1/auth/login", json=body).status_code

    with ThreadPoolExecutor(max_workers=30) as pool:
        statuses = list(pool.map(guess, range(30)))
    assert statuses.count(401) <= LOCK_AFTER_FAILURES and statuses.count(401) + statuses.count(429) == 30, statuses
