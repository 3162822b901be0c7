"""Per-operation rate limits (issue 33): a plan's `operationRatesPerSecond` gives each tenant one
bucket per limited op, shared by all its keys, beside the key's and the tenant's request rates.
An op short of tokens is refused 429 `rate-limited` (with the op and Retry-After) and applies
nothing; the call's other ops, other tenants and unlimited ops go on."""

from __future__ import annotations

import uuid
from typing import Any

from engine.plans import QUOTA_FIELDS
from tests.e2e.helpers import assert_problem
from tests.routes.conftest import Dashboard, PortalProxy, RouteApi, Seam


def limited_tenant(seam: Seam, backoffice: PortalProxy, economy: dict[str, Any], rates: dict[str, int]) -> RouteApi:
    """A fresh tenant on a plan with these per-op rates, its project `game` on `economy`."""
    tenant = f"ops-{uuid.uuid4().hex[:8]}"
    backoffice.put_plan(
        {"id": f"plan-{tenant}", "name": "ops", **dict.fromkeys(QUOTA_FIELDS), "operationRatesPerSecond": rates},
        create=True,
    )
    backoffice.create_tenant(tenant, "Ops Games", f"plan-{tenant}")
    backoffice.create_project(tenant, "game", "Game")
    _, token = backoffice.create_api_key(tenant, "game", "ops-test")

    async def define() -> Any:
        return await (await seam.holder.get()).directory.define_economy(tenant, "game", economy)

    assert seam.client.portal.call(define).ok
    return RouteApi(seam.client, tenant, "game", token)


def rich_player(api: RouteApi) -> str:
    player = f"p-{uuid.uuid4().hex[:6]}"
    assert api.post("/players", {"playerId": player, "username": player}).status_code == 201
    assert api.post(f"/players/{player}/wallet/credit", {"currency": "coins", "amount": 1000}).status_code == 200
    return player


def test_purchases_past_the_plans_rate_are_refused_while_other_ops_go_on(
    seam: Seam, control_plane: PortalProxy, demo_economy_document: dict[str, Any]
) -> None:
    api = limited_tenant(seam, control_plane, demo_economy_document, {"purchase": 1})  # burst 2
    player = rich_player(api)
    answers = [api.post(f"/players/{player}/purchases", {"sku": "potion-pack"}) for _ in range(4)]
    assert [a.status_code for a in answers[:2]] == [201, 201], [a.text for a in answers]
    refused = assert_problem(answers[3], 429, "rate-limited")
    assert refused["operation"] == "purchase" and "'purchase'" in refused["detail"], refused
    assert int(answers[3].headers["Retry-After"]) >= 1
    bought = len([a for a in answers if a.status_code == 201])
    assert bought in (2, 3)  # a token may have refilled meanwhile, never more
    assert api.get(f"/players/{player}/wallet").json()["balances"]["coins"] == 1000 - bought * 100  # refused: nothing
    for _ in range(5):  # credits have no limit of their own on this plan
        assert api.post(f"/players/{player}/wallet/credit", {"currency": "gems", "amount": 1}).status_code == 200


def test_a_batchs_limited_op_is_refused_as_a_group_and_its_other_ops_apply(
    seam: Seam, control_plane: PortalProxy, demo_economy_document: dict[str, Any]
) -> None:
    api = limited_tenant(seam, control_plane, demo_economy_document, {"purchase": 1, "xp": 100})
    player = rich_player(api)
    commands = [{"op": "purchase", "playerId": player, "sku": "potion-pack"} for _ in range(3)]  # burst is 2
    commands.append({"op": "xp", "playerId": player, "amount": 50})
    answer = api.post("/commands", {"commands": commands})
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert [r["status"] for r in results] == [429, 429, 429, 200], results
    assert {r["problem"]["operation"] for r in results[:3]} == {"purchase"}
    assert all(r["retryAfterS"] >= 1 for r in results[:3])
    profile = api.get(f"/players/{player}").json()
    assert profile["inventory"] == [] and profile["xp"] == 50  # no purchase applied, the XP did


def test_the_bucket_is_the_tenants_not_the_keys_and_other_tenants_are_untouched(
    seam: Seam, control_plane: PortalProxy, demo_economy_document: dict[str, Any]
) -> None:
    api = limited_tenant(seam, control_plane, demo_economy_document, {"credit": 1})
    player = f"p-{uuid.uuid4().hex[:6]}"
    assert api.post("/players", {"playerId": player, "username": player}).status_code == 201
    tenant = api.headers["x-tenant-id"]
    _, second = control_plane.create_api_key(tenant, "game", "second")
    other_key = RouteApi(seam.client, tenant, "game", second)
    spent = [api.post(f"/players/{player}/wallet/credit", {"currency": "coins", "amount": 1}) for _ in range(3)]
    assert spent[-1].status_code == 429, [s.status_code for s in spent]
    one_more = other_key.post(f"/players/{player}/wallet/credit", {"currency": "coins", "amount": 1})
    assert_problem(one_more, 429, "rate-limited")
    neighbour = limited_tenant(seam, control_plane, demo_economy_document, {"credit": 1})
    assert neighbour.post("/players", {"playerId": player, "username": player}).status_code == 201
    credited = neighbour.post(f"/players/{player}/wallet/credit", {"currency": "coins", "amount": 1})
    assert credited.status_code == 200, credited.text


def test_a_plan_naming_an_unknown_op_or_a_zero_rate_is_refused_and_changes_nothing(office_admin: Dashboard) -> None:
    plan = f"plan-{uuid.uuid4().hex[:8]}"
    for rates in ({"teleport": 5}, {"purchase": 0}, {"purchase": "fast"}):
        refused = office_admin.post("/v1/admin/plans", json={"id": plan, "name": "P", "operationRatesPerSecond": rates})
        body = assert_problem(refused, 422, "validation-error")
        assert any("operationRatesPerSecond" in e["field"] for e in body["errors"]), body
        assert_problem(office_admin.get(f"/v1/admin/plans/{plan}"), 404, "plan-not-found")
    created = office_admin.post(
        "/v1/admin/plans", json={"id": plan, "name": "P", "operationRatesPerSecond": {"purchase": 5, "credit": 50}}
    )
    assert created.status_code == 201, created.text
    stored = office_admin.get(f"/v1/admin/plans/{plan}").json()
    assert stored["operationRatesPerSecond"] == {"purchase": 5, "credit": 50}
