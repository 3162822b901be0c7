"""The backoffice at the route seam (no Ray): every route tried by every role gives exactly the
expected allow/deny; a second tenant's users and keys get nothing of the first tenant; changes
are audited; lists sort, filter, search and page; bodies the OpenAPI allows are taken as it says.
tests/e2e/test_backoffice.py keeps what proves the wiring through Ray Serve (keys revoked and
rotated on every replica, economies applied by the shard hosts, members, deleted tenants)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.e2e.helpers import assert_problem
from tests.routes.conftest import Dashboard, RouteApi, Seam, sign_in
from tests.support.backoffice_world import OTHER, PASSWORD, PROJECT, ROLES, TENANT, build_world, uid


@pytest.fixture(scope="module")
def world(office: Seam, office_accounts: Any, office_control: Any, demo_economy_document: Any) -> dict[str, Any]:
    """Two tenants with a project each, and one signed-in client per role."""
    world = build_world(
        office_control,
        office_accounts,
        lambda email, password: sign_in(office, email, password, TENANT),
        demo_economy_document,
    )
    return {**world, "seam": office}


def fresh_key(control: Any) -> str:
    key, _ = control.create_api_key(TENANT, "main", uid("k"))
    return str(key.id)


def fresh_player(world: dict[str, Any]) -> str:
    """A new player of the first tenant's project, made with a game API key."""
    if "player_key" not in world:
        _, world["player_key"] = world["control"].create_api_key(TENANT, "main", uid("k"))
    player_id = uid("pl")
    game = RouteApi(world["seam"].client, TENANT, "main", world["player_key"])
    response = game.post("/players", {"playerId": player_id, "username": player_id})
    assert response.status_code == 201, response.text
    return player_id


Route = tuple[str, Callable[[Dashboard, Any], httpx.Response], set[str]]
PLATFORM = {"superadmin", "admin", "support"}
READERS = PLATFORM | {"owner", "developer"}  # players:read
ROUTES: list[Route] = [
    ("GET tenants", lambda c, w: c.get("/v1/admin/tenants"), PLATFORM),
    (
        "POST tenant",
        lambda c, w: c.post("/v1/admin/tenants", json={"id": uid("t"), "name": "T"}),
        {"superadmin", "admin"},
    ),
    ("GET tenant", lambda c, w: c.get(f"/v1/admin/tenants/{TENANT}"), PLATFORM),
    (
        "PATCH tenant",
        lambda c, w: c.patch(f"/v1/admin/tenants/{TENANT}", json={"name": "Acme"}),
        {"superadmin", "admin"},
    ),
    (
        "DELETE tenant",
        lambda c, w: c.delete(f"/v1/admin/tenants/{w['control'].ensure_tenant(uid('gone'), 'Gone')['id']}"),
        {"superadmin", "admin"},
    ),
    ("GET plans", lambda c, w: c.get("/v1/admin/plans"), PLATFORM),
    ("GET plan", lambda c, w: c.get("/v1/admin/plans/indie"), PLATFORM),
    ("POST plan", lambda c, w: c.post("/v1/admin/plans", json={"id": uid("plan"), "name": "P"}), {"superadmin"}),
    (
        "PUT plan",
        lambda c, w: c.put("/v1/admin/plans/studio", json={"id": "studio", "name": "Studio", "projects": 20}),
        {"superadmin"},
    ),
    ("GET audit (platform)", lambda c, w: c.get("/v1/admin/audit"), PLATFORM),
    ("GET audit (tenant)", lambda c, w: c.get("/v1/admin/audit", params={"tenantId": TENANT}), PLATFORM | {"owner"}),
    ("GET audit head (platform)", lambda c, w: c.get("/v1/admin/audit/head"), PLATFORM),
    (
        "GET audit head (tenant)",
        lambda c, w: c.get("/v1/admin/audit/head", params={"tenantId": TENANT}),
        PLATFORM | {"owner"},
    ),
    ("GET projects", lambda c, w: c.get("/v1/client/projects"), PLATFORM | {"owner", "developer", "analyst"}),
    (
        "POST project",
        lambda c, w: c.post("/v1/client/projects", json={"id": uid("p"), "name": "P"}),
        {"superadmin", "admin", "owner"},
    ),
    ("GET project", lambda c, w: c.get(PROJECT), PLATFORM | {"owner", "developer", "analyst"}),
    ("PATCH project", lambda c, w: c.patch(PROJECT, json={"name": "Main"}), {"superadmin", "admin", "owner"}),
    (
        "POST api-key",
        lambda c, w: c.post(f"{PROJECT}/api-keys", json={"name": "k", "scopes": ["players:read"]}),
        {"superadmin", "admin", "owner", "developer"},
    ),
    ("GET api-keys", lambda c, w: c.get(f"{PROJECT}/api-keys"), PLATFORM | {"owner", "developer"}),
    (
        "rotate api-key",
        lambda c, w: c.post(f"{PROJECT}/api-keys/{fresh_key(w['control'])}/rotate"),
        {"superadmin", "admin", "owner", "developer"},
    ),
    (
        "revoke api-key",
        lambda c, w: c.post(f"{PROJECT}/api-keys/{fresh_key(w['control'])}/revoke"),
        {"superadmin", "admin", "owner", "developer"},
    ),
    ("GET economy", lambda c, w: c.get(f"{PROJECT}/economy"), PLATFORM | {"owner", "developer", "analyst"}),
    (
        "PUT economy (dry run)",
        lambda c, w: c.put(f"{PROJECT}/economy", params={"dryRun": "true"}, json=w["economy"]),
        {"superadmin", "admin", "owner", "developer"},
    ),
    ("GET scopes", lambda c, w: c.get("/v1/client/scopes"), PLATFORM | {"owner", "developer"}),
    (
        "POST economy diff",
        lambda c, w: c.post(f"{PROJECT}/economy/diff", json={"before": None, "after": w["economy"]}),
        PLATFORM | {"owner", "developer", "analyst"},
    ),
    (
        "POST economy verify",
        lambda c, w: c.post(f"{PROJECT}/economy/verify", json=w["economy"]),
        PLATFORM | {"owner", "developer", "analyst"},
    ),
    ("GET users", lambda c, w: c.get("/v1/admin/users"), PLATFORM),
    (
        "POST user",
        lambda c, w: c.post("/v1/admin/users", json={"email": f"{uid('u')}@example.com", "password": PASSWORD}),
        {"superadmin"},
    ),
    ("GET members", lambda c, w: c.get("/v1/client/members"), PLATFORM | {"owner"}),
    (
        "POST member",
        lambda c, w: c.post(
            "/v1/client/members",
            json={"email": f"{uid('m')}@example.com", "role": "analyst", "password": PASSWORD},
        ),
        {"superadmin", "admin", "owner"},
    ),
    ("GET export", lambda c, w: c.get(f"{PROJECT}/players/{fresh_player(w)}/export"), READERS),
    ("GET journal", lambda c, w: c.get(f"{PROJECT}/players/{fresh_player(w)}/journal"), READERS),
    ("GET state", lambda c, w: c.get(f"{PROJECT}/players/{fresh_player(w)}/state?seq=1"), READERS),
    ("POST erase", lambda c, w: c.post(f"{PROJECT}/players/{fresh_player(w)}/erase"), {"superadmin", "admin", "owner"}),
    (
        "PUT economy",
        lambda c, w: c.put(f"{PROJECT}/economy", json=w["economy"]),
        {"superadmin", "admin", "owner", "developer"},
    ),
]


@pytest.mark.parametrize(("name", "call", "allowed"), ROUTES, ids=[r[0] for r in ROUTES])
def test_every_role_gets_exactly_the_expected_answer(
    name: str, call: Callable[..., httpx.Response], allowed: set[str], world: dict[str, Any], demo_economy_document: Any
) -> None:
    world["economy"] = demo_economy_document
    outcomes = {}
    for role in ROLES:
        response = call(world["clients"][role], world)
        assert response.status_code < 500, f"{name} as {role}: {response.status_code} {response.text}"
        outcomes[role] = response.status_code
    granted = {role for role, status in outcomes.items() if status < 300}
    denied = {role for role, status in outcomes.items() if status == 403}
    assert granted == allowed, outcomes
    assert denied == set(ROLES) - allowed, outcomes


def test_another_tenants_staff_and_keys_get_nothing(world: dict[str, Any], office: Seam, office_control: Any) -> None:
    outsider = world["clients"]["outsider"]
    for name, call, _ in ROUTES:
        response = call(outsider, {**world, "economy": {}})
        assert response.status_code in (403, 404, 422), f"{name}: {response.status_code}"
        assert TENANT not in response.text.replace(f"/{TENANT}", ""), f"{name} leaked {TENANT}: {response.text}"
    # The outsider in its own tenant, naming the first tenant's project, finds nothing.
    response = outsider.get(PROJECT, headers={"x-tenant-id": OTHER})
    assert response.status_code == 200 and response.json()["tenantId"] == OTHER
    _, foreign_key = office_control.create_api_key(OTHER, "main", "foreign")
    as_acme = RouteApi(office.client, TENANT, "main", foreign_key)
    assert as_acme.get("/store/catalog").status_code == 403
    as_globex = RouteApi(office.client, OTHER, "main", foreign_key)
    assert as_globex.get("/store/catalog").status_code == 409, "globex's project has no economy: nothing of acme's"


def test_backoffice_changes_are_in_the_audit_log(world: dict[str, Any]) -> None:
    owner = world["clients"]["owner"]
    project = uid("audited")
    assert owner.post("/v1/client/projects", json={"id": project, "name": "Audited"}).status_code == 201
    entries = owner.get("/v1/admin/audit", params={"tenantId": TENANT, "action": "project.create", "limit": 200})
    assert entries.status_code == 200
    mine = [e for e in entries.json()["items"] if e["target"] == project]
    assert len(mine) == 1 and mine[0]["actor"].startswith("owner-") and mine[0]["after"]["name"] == "Audited"
    assert mine[0]["requestId"]


def test_the_audit_head_is_the_last_entry_of_the_tenants_chain(world: dict[str, Any]) -> None:
    owner = world["clients"]["owner"]
    assert owner.post("/v1/client/projects", json={"id": uid("chained"), "name": "Chained"}).status_code == 201
    head = owner.get("/v1/admin/audit/head", params={"tenantId": TENANT}).json()
    entries: list[dict[str, Any]] = []
    params = {"tenantId": TENANT, "limit": 100}
    while True:
        page = owner.get("/v1/admin/audit", params=params).json()
        assert "items" in page, page
        entries += page["items"]
        if not page["nextCursor"]:
            break
        params["cursor"] = page["nextCursor"]
    chained = [e for e in entries if e["seq"] is not None]
    assert head["tenantId"] == TENANT and head["seq"] == len(chained) == chained[-1]["seq"]
    assert head["hash"] == chained[-1]["hash"] and head["entryId"] == chained[-1]["id"]
    assert all(e["prev"] == before["hash"] for before, e in zip(chained, chained[1:], strict=False))


def test_tenant_and_project_lists_sort_filter_search_and_page(world: dict[str, Any]) -> None:
    admin = world["clients"]["superadmin"]
    tag = uuid.uuid4().hex[:6]
    names = ["delta", "alpha", "charlie", "bravo"]
    for name in names:
        created = admin.post(
            "/v1/admin/tenants", json={"id": f"s-{tag}-{name}", "name": f"{name} {tag}", "planId": "indie"}
        )
        assert created.status_code == 201
    seen: list[str] = []
    cursor = None
    while True:
        params = {"q": tag, "sort": "-name", "limit": 3, **({"cursor": cursor} if cursor else {})}
        page = admin.get("/v1/admin/tenants", params=params).json()
        seen += [t["name"].split()[0] for t in page["items"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert seen == sorted(names, reverse=True)
    on_plan = admin.get("/v1/admin/tenants", params={"q": tag, "planId": "indie"}).json()["items"]
    assert len(on_plan) == 4
    assert admin.get("/v1/admin/tenants", params={"q": tag, "planId": "studio"}).json()["items"] == []
    assert admin.get("/v1/admin/tenants", params={"sort": "bogus"}).status_code == 422
    owner = world["clients"]["owner"]
    for name in ("zeta", "eta"):
        assert owner.post("/v1/client/projects", json={"id": f"{name}-{tag}", "name": name}).status_code == 201
    listed = owner.get("/v1/client/projects", params={"q": tag, "sort": "name"}).json()["items"]
    assert [p["name"] for p in listed] == ["eta", "zeta"]


def test_a_plan_replaced_takes_its_id_from_the_path(world: dict[str, Any]) -> None:
    """The OpenAPI allows any `id` in the body (or none): the path names the plan, always."""
    admin = world["clients"]["superadmin"]
    plan = uid("plan")
    assert admin.post("/v1/admin/plans", json={"id": plan, "name": "P", "players": 5}).status_code == 201
    without = admin.put(f"/v1/admin/plans/{plan}", json={"name": "Renamed", "players": 6})
    assert without.status_code == 200, without.text
    assert without.json()["id"] == plan and without.json()["players"] == 6
    other = admin.put(f"/v1/admin/plans/{plan}", json={"id": "someone-else", "name": "Again", "players": 7})
    assert other.status_code == 200, other.text
    assert other.json()["id"] == plan and other.json()["name"] == "Again"
    assert admin.get(f"/v1/admin/plans/{plan}").json()["players"] == 7
    assert_problem(admin.get("/v1/admin/plans/someone-else"), 404, "plan-not-found")
    assert_problem(admin.put(f"/v1/admin/plans/{uid('nope')}", json={"name": "N"}), 404, "plan-not-found")
    audit = admin.get("/v1/admin/audit", params={"action": "plan.update", "target": plan}).json()["items"]
    assert [entry["after"]["id"] for entry in audit] == [plan, plan]


def test_malformed_json_to_the_shards_is_the_documented_400_problem(world: dict[str, Any]) -> None:
    admin = world["clients"]["superadmin"]
    before = admin.get("/v1/admin/shards").json()
    response = admin.put("/v1/admin/shards", content=b'{"hosts": 2', headers={"content-type": "application/json"})
    assert_problem(response, 400, "malformed-json")
    assert admin.get("/v1/admin/shards").json()["hosts"] == before["hosts"]
    spec = world["seam"].client.get("/v1/openapi.json").json()
    assert "400" in spec["paths"]["/v1/admin/shards"]["put"]["responses"]


def test_the_shards_scale_in_process_and_a_count_above_the_slots_is_refused(world: dict[str, Any]) -> None:
    admin = world["clients"]["superadmin"]
    described = admin.get("/v1/admin/shards").json()
    hosts = len(described["hosts"]) if isinstance(described["hosts"], list) else described["hosts"]
    same = admin.put("/v1/admin/shards", json={"hosts": hosts})
    assert same.status_code == 200, same.text
    refused = admin.put("/v1/admin/shards", json={"hosts": described["slots"] + 1})
    assert_problem(refused, 422, "validation-error")
    for not_a_count in (True, "2", 2.5):
        assert_problem(admin.put("/v1/admin/shards", json={"hosts": not_a_count}), 422, "validation-error")
    assert_problem(world["clients"]["owner"].put("/v1/admin/shards", json={"hosts": hosts}), 403, "forbidden")


def test_more_shard_hosts_than_the_deployment_holds_is_refused_before_any_starts(world: dict[str, Any]) -> None:
    """Found by schemathesis over the whole API: a scale to 255 hosts on a 2-core scratch server
    held the call until the client timed out (Ray cannot start that many hosts there). Above
    `LUDEX_MAX_SHARD_HOSTS` the answer is a 422 at once, the hosts untouched; the OpenAPI says so."""
    admin = world["clients"]["superadmin"]
    before = admin.get("/v1/admin/shards").json()
    most = world["seam"].holder.settings.max_shard_hosts
    assert most + 1 <= before["slots"]  # refused for the setting, not for the slots
    refused = admin.put("/v1/admin/shards", json={"hosts": most + 1})
    assert_problem(refused, 422, "validation-error")
    assert "LUDEX_MAX_SHARD_HOSTS" in refused.json()["detail"]
    after = admin.get("/v1/admin/shards").json()
    assert (after["hosts"], after["version"]) == (before["hosts"], before["version"])
    spec = world["seam"].client.get("/v1/openapi.json").json()
    hosts = spec["components"]["schemas"]["ShardScaleIn"]["properties"]["hosts"]
    assert "LUDEX_MAX_SHARD_HOSTS" in hosts["description"]


def test_a_project_without_an_economy_answers_the_documented_409(world: dict[str, Any]) -> None:
    """Found by schemathesis over the backoffice: player lookups, a board read and an erasure in a
    project with no economy yet answer 409 `economy-not-defined`, which the OpenAPI now lists."""
    admin = world["clients"]["superadmin"]
    project = uid("bare")
    assert admin.post("/v1/client/projects", json={"id": project, "name": "Bare"}).status_code == 201
    base = f"/v1/client/projects/{project}"
    calls = {
        ("get", "/v1/client/projects/{projectId}/players/{playerId}"): f"{base}/players/p1",
        (
            "get",
            "/v1/client/projects/{projectId}/players/{playerId}/wallet/history",
        ): f"{base}/players/p1/wallet/history",
        ("get", "/v1/client/projects/{projectId}/leaderboards/{boardId}"): f"{base}/leaderboards/b1",
        ("post", "/v1/client/projects/{projectId}/players/{playerId}/erase"): f"{base}/players/p1/erase",
    }
    spec = world["seam"].client.get("/v1/openapi.json").json()
    for (method, template), url in calls.items():
        assert_problem(admin.request(method.upper(), url), 409, "economy-not-defined")
        assert "409" in spec["paths"][template][method]["responses"], template
