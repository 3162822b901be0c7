"""The backoffice through Ray Serve, where the wiring matters: keys revoke and rotate for the game
API, economy changes apply on the shard hosts without a restart, a member's access follows at
once, a deleted tenant loses its keys. Every route by every role, tenant isolation, the audit log,
lists and bodies are tested at the route seam (tests/routes/test_backoffice.py), without Ray."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from engine.access import SCOPES
from engine.definitions import economy_to_document, parse_economy
from engine.economy_diff import diff_economies
from serve.launcher import Launched
from tests.e2e.conftest import Api
from tests.support.backoffice_world import PASSWORD, PROJECT, TENANT, build_world, uid


def signed_in(base_url: str) -> Callable[[str, str], httpx.Client]:
    def sign_in(email: str, password: str) -> httpx.Client:
        login = httpx.post(f"{base_url}/v1/auth/login", json={"email": email, "password": password}, timeout=30)
        assert login.status_code == 200, login.text
        headers = {"Authorization": f"Bearer {login.json()['accessToken']}", "x-tenant-id": TENANT}
        return httpx.Client(base_url=base_url, headers=headers, timeout=30)

    return sign_in


@pytest.fixture(scope="module")
def world(ludex: Launched, accounts: Any, control_plane: Any, demo_economy_document: Any) -> dict[str, Any]:
    """Two tenants with a project each, and one signed-in client per role."""
    return build_world(control_plane, accounts, signed_in(ludex.base_url), demo_economy_document)


def test_a_revoked_key_answers_401_and_a_rotated_one_keeps_working_for_its_grace(
    world: dict[str, Any], ludex: Launched, demo_economy_document: Any
) -> None:
    owner = world["clients"]["owner"]
    assert owner.put(f"{PROJECT}/economy", json=demo_economy_document).status_code == 200
    created = owner.post(f"{PROJECT}/api-keys", json={"name": "svc", "scopes": ["players:read"]})
    assert created.status_code == 201 and created.json()["apiKey"].startswith("ldx_")
    listed = owner.get(f"{PROJECT}/api-keys").json()["items"]
    assert all("apiKey" not in item and "secretHash" not in item for item in listed)
    game = Api(ludex.base_url, TENANT, "main", created.json()["apiKey"])
    assert game.get("/store/catalog").status_code == 200
    rotated = owner.post(f"{PROJECT}/api-keys/{created.json()['id']}/rotate")
    assert rotated.status_code == 201 and rotated.json()["apiKey"] != created.json()["apiKey"]
    assert game.get("/store/catalog").status_code == 200, "the old key works during its grace period"
    assert Api(ludex.base_url, TENANT, "main", rotated.json()["apiKey"]).get("/store/catalog").status_code == 200
    revoked = owner.post(f"{PROJECT}/api-keys/{created.json()['id']}/revoke")
    assert revoked.status_code == 200 and revoked.json()["revokedAt"]
    assert game.get("/store/catalog").status_code == 401


def test_a_new_economy_version_applies_to_the_game_api_without_a_restart(
    world: dict[str, Any], ludex: Launched, demo_economy_document: Any
) -> None:
    developer = world["clients"]["developer"]
    document = {
        **demo_economy_document,
        "currencies": [*demo_economy_document["currencies"], {"id": "stars", "kind": "soft"}],
    }
    before = developer.get(f"{PROJECT}/economy")
    installed = developer.put(f"{PROJECT}/economy", json=document)
    assert installed.status_code == 200
    assert before.status_code == 404 or installed.json()["version"] == before.json()["version"] + 1
    key = developer.post(f"{PROJECT}/api-keys", json={"name": "g", "scopes": ["players:write", "economy:write"]}).json()
    game = Api(ludex.base_url, TENANT, "main", key["apiKey"])
    player = uid("pl")
    assert game.post("/players", {"playerId": player, "username": player}).status_code == 201
    assert game.post(f"/players/{player}/wallet/credit", {"currency": "stars", "amount": 3}).json()["balance"] == 3
    bad = developer.put(f"{PROJECT}/economy", json={**document, "items": [{"id": "x", "stackLimit": 0}]})
    assert bad.status_code == 422 and bad.json()["type"].endswith("/invalid-definition")
    assert any(e["field"] == "items[0].stackLimit" for e in bad.json()["errors"])


def test_a_dry_run_answers_the_canonical_diff_and_stores_and_audits_nothing(
    world: dict[str, Any], demo_economy_document: Any
) -> None:
    owner = world["clients"]["owner"]
    project = uid("dry")
    assert owner.post("/v1/client/projects", json={"id": project, "name": "Dry"}).status_code == 201
    path = f"/v1/client/projects/{project}/economy"
    first = owner.put(path, json=demo_economy_document)
    assert first.status_code == 200 and first.json()["dryRun"] is False
    assert first.json()["changes"] and all(line.startswith("+ ") for line in first.json()["changes"])

    def audited() -> int:
        entries = owner.get("/v1/admin/audit", params={"tenantId": TENANT, "action": "economy.define", "limit": 200})
        return sum(e["target"] == project for e in entries.json()["items"])

    assert audited() == 1
    kept = owner.get(path).json()
    spelled_out = economy_to_document(parse_economy(demo_economy_document))
    assert spelled_out != demo_economy_document, "the canonical form writes defaults the demo leaves implicit"
    same = owner.put(path, params={"dryRun": "true"}, json=spelled_out)
    assert same.status_code == 200, same.text
    answer = same.json()
    assert {finding["severity"] for finding in answer.pop("findings")} <= {"info", "warning"}
    assert answer == {"version": 2, "document": spelled_out, "changes": [], "dryRun": True}
    more = {
        **demo_economy_document,
        "currencies": [*demo_economy_document["currencies"], {"id": "stars", "kind": "soft"}],
    }
    changed = owner.put(path, params={"dryRun": "true"}, json=more)
    assert changed.status_code == 200 and changed.json()["changes"] == ["+ currency stars (soft)"]
    bad = owner.put(path, params={"dryRun": "true"}, json={**more, "items": [{"id": "x", "stackLimit": 0}]})
    assert bad.status_code == 422 and bad.json()["type"].endswith("/invalid-definition")
    assert any(e["field"] == "items[0].stackLimit" for e in bad.json()["errors"])
    assert owner.get(path).json() == kept and kept["version"] == 1, "a dry run stores nothing"
    assert audited() == 1, "a dry run writes no audit entry"


def test_the_diff_route_answers_the_engines_diff(world: dict[str, Any], demo_economy_document: Any) -> None:
    analyst = world["clients"]["analyst"]
    spelled_out = economy_to_document(parse_economy(demo_economy_document))
    same = analyst.post(f"{PROJECT}/economy/diff", json={"before": demo_economy_document, "after": spelled_out})
    assert same.status_code == 200 and same.json() == {"changes": []}
    new = analyst.post(f"{PROJECT}/economy/diff", json={"after": demo_economy_document})
    assert new.json()["changes"] == diff_economies(None, demo_economy_document) != []


def test_the_scopes_come_from_the_server_with_what_each_allows(world: dict[str, Any]) -> None:
    answer = world["clients"]["developer"].get("/v1/client/scopes")
    assert answer.status_code == 200
    assert [s["id"] for s in answer.json()["items"]] == list(SCOPES)
    assert all(s["description"] for s in answer.json()["items"])


def test_an_owner_adds_and_removes_a_member_whose_access_follows_at_once(
    world: dict[str, Any], ludex: Launched
) -> None:
    owner = world["clients"]["owner"]
    email = f"{uid('new')}@example.com"
    added = owner.post("/v1/client/members", json={"email": email, "role": "developer", "password": PASSWORD})
    assert added.status_code == 200, added.text
    assert added.json()["memberships"] == [{"tenantId": TENANT, "role": "developer", "projects": ["*"]}]
    assert "passwordHash" not in added.text and "totpSecret" not in added.text
    login = httpx.post(f"{ludex.base_url}/v1/auth/login", json={"email": email, "password": PASSWORD}, timeout=30)
    member = httpx.Client(
        base_url=ludex.base_url,
        headers={"Authorization": f"Bearer {login.json()['accessToken']}", "x-tenant-id": TENANT},
        timeout=30,
    )
    assert member.get(f"{PROJECT}/api-keys").status_code == 200
    listed = owner.get("/v1/client/members").json()["items"]
    assert any(u["email"] == email for u in listed)
    assert owner.delete(f"/v1/client/members/{added.json()['id']}").status_code == 204
    assert member.get(f"{PROJECT}/api-keys").status_code == 403, "a removed member loses access at once"


def test_a_deleted_tenant_loses_its_game_keys_and_its_backoffice(
    world: dict[str, Any], ludex: Launched, control_plane: Any, demo_economy_document: Any
) -> None:
    admin = world["clients"]["superadmin"]
    tenant = uid("doomed")
    assert admin.post("/v1/admin/tenants", json={"id": tenant, "name": "Doomed"}).status_code == 201
    client = {"x-tenant-id": tenant}
    assert admin.post("/v1/client/projects", json={"id": "g", "name": "G"}, headers=client).status_code == 201
    assert admin.put("/v1/client/projects/g/economy", json=demo_economy_document, headers=client).status_code == 200
    _, key = control_plane.create_api_key(tenant, "g", "k")
    game = Api(ludex.base_url, tenant, "g", key)
    assert game.get("/store/catalog").status_code == 200
    assert admin.delete(f"/v1/admin/tenants/{tenant}").status_code == 204
    assert game.get("/store/catalog").status_code == 404
    assert admin.get("/v1/client/projects", headers=client).status_code == 404
    assert admin.get("/v1/client/projects/g", headers=client).status_code == 404
