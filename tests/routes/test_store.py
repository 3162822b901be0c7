"""The store over HTTP: catalog, SKUs, purchases and receipts."""

from __future__ import annotations

from typing import Any

from tests.e2e.helpers import assert_problem, balances, credit, new_player, snapshot, unique
from tests.routes.conftest import RouteApi as Api

POTION_PACK = {
    "sku": "potion-pack",
    "title": "Potion pack",
    "price": {"coins": 100},
    "grants": {"items": [{"itemId": "potion", "quantity": 5}]},
    "bundle": False,
}
STARTER_BUNDLE = {
    "sku": "starter-bundle",
    "title": "Starter bundle",
    "price": {"gems": 10},
    "grants": {"xp": 200, "items": [{"itemId": "sword", "quantity": 1}], "currencies": {"coins": 500}},
    "bundle": True,
}


def without_nulls(sku: dict[str, Any]) -> dict[str, Any]:
    """Optional grant members may come as null or be absent; compare them as absent."""
    return {**sku, "grants": {k: v for k, v in sku["grants"].items() if v is not None}}


def test_the_catalog_lists_the_demo_skus(api: Api) -> None:
    response = api.get("/store/catalog")
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [without_nulls(sku) for sku in items] == [POTION_PACK, STARTER_BUNDLE]


def test_a_sku_is_found_by_id(api: Api) -> None:
    response = api.get("/store/skus/starter-bundle")
    assert response.status_code == 200, response.text
    assert response.json() == STARTER_BUNDLE
    assert without_nulls(api.get("/store/skus/potion-pack").json()) == POTION_PACK


def test_an_unknown_sku_answers_404_unknown_sku(api: Api, player: str) -> None:
    assert_problem(api.get("/store/skus/nope"), 404, "unknown-sku")
    credit(api, player, "coins", 100)
    assert_problem(api.post(f"/players/{player}/purchases", {"sku": "nope"}), 404, "unknown-sku")
    assert balances(api, player) == {"coins": 100}


def test_buying_a_potion_pack_answers_201_with_a_receipt(api: Api, player: str) -> None:
    credit(api, player, "coins", 250)
    response = api.post(f"/players/{player}/purchases", {"sku": "potion-pack"})
    assert response.status_code == 201, response.text
    receipt = response.json()
    assert receipt.pop("purchaseId")
    assert receipt.pop("occurredAt").endswith("Z")
    assert receipt == {
        "sku": "potion-pack",
        "quantity": 1,
        "price": {"coins": 100},
        "grants": {"items": [{"itemId": "potion", "quantity": 5}]},
        "balances": {"coins": 150},
    }
    assert balances(api, player) == {"coins": 150}
    assert api.get(f"/players/{player}/inventory").json() == {"items": [{"itemId": "potion", "quantity": 5}]}


def test_buying_several_at_once_multiplies_price_and_grants(api: Api, player: str) -> None:
    credit(api, player, "coins", 300)
    receipt = api.post(f"/players/{player}/purchases", {"sku": "potion-pack", "quantity": 3}).json()
    assert (receipt["quantity"], receipt["price"], receipt["balances"]) == (3, {"coins": 300}, {"coins": 0})
    assert receipt["grants"] == {"items": [{"itemId": "potion", "quantity": 15}]}
    assert api.get(f"/players/{player}/inventory").json() == {"items": [{"itemId": "potion", "quantity": 15}]}


def test_buying_the_starter_bundle_applies_every_grant(api: Api, player: str) -> None:
    credit(api, player, "gems", 10)
    response = api.post(f"/players/{player}/purchases", {"sku": "starter-bundle"})
    assert response.status_code == 201, response.text
    receipt = response.json()
    assert (receipt["sku"], receipt["quantity"], receipt["price"]) == ("starter-bundle", 1, {"gems": 10})
    assert receipt["grants"] == STARTER_BUNDLE["grants"]
    assert receipt["balances"] == {"gems": 0, "coins": 500}
    profile = api.get(f"/players/{player}").json()
    assert profile["wallet"] == {"gems": 0, "coins": 500}
    assert profile["inventory"] == [{"itemId": "sword", "quantity": 1}]
    assert (profile["xp"], profile["level"]) == (200, 2)


def test_buying_without_enough_coins_answers_409_and_changes_nothing(api: Api, player: str) -> None:
    credit(api, player, "coins", 99)
    before = snapshot(api, player)
    assert_problem(api.post(f"/players/{player}/purchases", {"sku": "potion-pack"}), 409, "insufficient-funds")
    assert snapshot(api, player) == before
    assert len(api.get(f"/players/{player}/wallet/history").json()["items"]) == 1


def test_the_starter_bundle_while_holding_a_sword_answers_409_and_changes_nothing(api: Api, player: str) -> None:
    credit(api, player, "gems", 25)
    credit(api, player, "coins", 7)
    api.post(f"/players/{player}/xp", {"amount": 50})
    assert api.post(f"/players/{player}/items/grant", {"itemId": "sword", "quantity": 1}).status_code == 200
    before = snapshot(api, player)
    history_before = api.get(f"/players/{player}/wallet/history").json()
    assert_problem(api.post(f"/players/{player}/purchases", {"sku": "starter-bundle"}), 409, "stack-limit")
    after = snapshot(api, player)
    assert after == before
    assert after["wallet"] == {"gems": 25, "coins": 7}
    assert (after["xp"], after["level"]) == (50, 1)
    assert after["inventory"] == [{"itemId": "sword", "quantity": 1}]
    assert api.get(f"/players/{player}/wallet/history").json() == history_before


def test_buying_more_potions_than_stack_would_answers_409_and_changes_nothing(api: Api, player: str) -> None:
    credit(api, player, "coins", 2000)
    before = snapshot(api, player)
    response = api.post(f"/players/{player}/purchases", {"sku": "potion-pack", "quantity": 20})  # 100 > 99
    assert_problem(response, 409, "stack-limit")
    assert snapshot(api, player) == before


def test_a_purchase_quantity_out_of_range_answers_422(api: Api, player: str) -> None:
    credit(api, player, "coins", 100)
    for quantity in (0, 101, "1"):
        response = api.post(f"/players/{player}/purchases", {"sku": "potion-pack", "quantity": quantity})
        body = assert_problem(response, 422, "validation-error")
        assert [e["field"] for e in body["errors"]] == ["quantity"]
    assert balances(api, player) == {"coins": 100}


def test_the_receipt_lists_the_purchase_in_the_ledger(api: Api, player: str) -> None:
    credit(api, player, "coins", 100)
    api.post(f"/players/{player}/purchases", {"sku": "potion-pack"})
    history = api.get(f"/players/{player}/wallet/history").json()["items"]
    assert [(e["delta"], e["reason"]) for e in history] == [(100, ""), (-100, "purchase:potion-pack")]


def test_getting_a_receipt_answers_exactly_what_the_purchase_answered(api: Api, player: str) -> None:
    credit(api, player, "coins", 100)
    posted = api.post(f"/players/{player}/purchases", {"sku": "potion-pack"})
    assert posted.status_code == 201
    fetched = api.get(f"/players/{player}/purchases/{posted.json()['purchaseId']}")
    assert fetched.status_code == 200, fetched.text
    assert fetched.json() == posted.json()


def test_getting_a_receipt_answers_the_same_purchase(api: Api, player: str) -> None:
    """Receipts agree on every member the purchase answered."""
    credit(api, player, "gems", 10)
    posted = api.post(f"/players/{player}/purchases", {"sku": "starter-bundle"}).json()
    fetched = api.get(f"/players/{player}/purchases/{posted['purchaseId']}")
    assert fetched.status_code == 200, fetched.text
    assert fetched.json() == posted  # every grant member is set for the bundle, so no nulls differ


def test_an_unknown_purchase_id_answers_404_purchase_not_found(api: Api, player: str) -> None:
    assert_problem(api.get(f"/players/{player}/purchases/{unique('pur')}"), 404, "purchase-not-found")
    credit(api, player, "coins", 100)
    real = api.post(f"/players/{player}/purchases", {"sku": "potion-pack"}).json()["purchaseId"]
    assert_problem(api.get(f"/players/{player}/purchases/{real}x"), 404, "purchase-not-found")


def test_a_receipt_is_only_found_under_its_own_player(api: Api, player: str) -> None:
    other = new_player(api)
    credit(api, player, "coins", 100)
    purchase_id = api.post(f"/players/{player}/purchases", {"sku": "potion-pack"}).json()["purchaseId"]
    assert_problem(api.get(f"/players/{other}/purchases/{purchase_id}"), 404, "purchase-not-found")
