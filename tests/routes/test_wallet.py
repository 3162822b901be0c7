"""Wallet over HTTP: balances, credits, debits, and a ledger history that agrees with them."""

from __future__ import annotations

from typing import Any

from tests.e2e.helpers import assert_problem, balances, credit, new_player, unique
from tests.routes.conftest import RouteApi as Api


def walk_history(api: Api, player_id: str, limit: int, currency: str | None = None) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": limit}
        if currency is not None:
            params["currency"] = currency
        if cursor is not None:
            params["cursor"] = cursor
        response = api.get(f"/players/{player_id}/wallet/history", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        assert set(page) == {"items", "nextCursor"}
        assert len(page["items"]) <= limit
        entries += page["items"]
        cursor = page["nextCursor"]
        if cursor is None:
            return entries


def test_a_new_wallet_is_empty(api: Api, player: str) -> None:
    response = api.get(f"/players/{player}/wallet")
    assert response.status_code == 200
    assert response.json() == {"balances": {}}


def test_crediting_answers_the_new_balance_and_an_entry_id(api: Api, player: str) -> None:
    response = api.post(f"/players/{player}/wallet/credit", {"currency": "coins", "amount": 100, "reason": "bonus"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"currency", "balance", "entryId"}
    assert (body["currency"], body["balance"]) == ("coins", 100)
    assert isinstance(body["entryId"], str) and body["entryId"]
    assert credit(api, player, "coins", 25)["balance"] == 125
    assert credit(api, player, "gems", 3)["balance"] == 3
    assert api.get(f"/players/{player}/wallet").json() == {"balances": {"coins": 125, "gems": 3}}


def test_debiting_answers_the_new_balance(api: Api, player: str) -> None:
    credit(api, player, "coins", 100)
    response = api.post(f"/players/{player}/wallet/debit", {"currency": "coins", "amount": 40})
    assert response.status_code == 200, response.text
    assert response.json()["balance"] == 60
    assert response.json()["currency"] == "coins"
    debit_to_zero = api.post(f"/players/{player}/wallet/debit", {"currency": "coins", "amount": 60})
    assert debit_to_zero.json()["balance"] == 0
    assert balances(api, player) == {"coins": 0}


def test_debiting_more_than_the_balance_answers_409_and_changes_nothing(api: Api, player: str) -> None:
    credit(api, player, "coins", 10)
    body = assert_problem(
        api.post(f"/players/{player}/wallet/debit", {"currency": "coins", "amount": 11}), 409, "insufficient-funds"
    )
    assert "coins" in body["detail"]
    assert_problem(
        api.post(f"/players/{player}/wallet/debit", {"currency": "gems", "amount": 1}), 409, "insufficient-funds"
    )
    assert balances(api, player) == {"coins": 10}
    assert len(walk_history(api, player, 50)) == 1


def test_an_unknown_currency_answers_422_unknown_currency(api: Api, player: str) -> None:
    for path in ("credit", "debit"):
        response = api.post(f"/players/{player}/wallet/{path}", {"currency": "zorkmids", "amount": 1})
        body = assert_problem(response, 422, "unknown-currency")
        assert "zorkmids" in body["detail"]
    assert balances(api, player) == {}


def test_a_non_positive_or_non_integer_amount_answers_422(api: Api, player: str) -> None:
    for amount in (0, -1, 1.5, "10", None, True):
        response = api.post(f"/players/{player}/wallet/credit", {"currency": "coins", "amount": amount})
        body = assert_problem(response, 422, "validation-error")
        assert [e["field"] for e in body["errors"]] == ["amount"], amount
    assert balances(api, player) == {}


def test_crediting_an_unknown_player_answers_404(api: Api) -> None:
    response = api.post(f"/players/{unique('ghost')}/wallet/credit", {"currency": "coins", "amount": 1})
    assert_problem(response, 404, "player-not-found")


def test_history_records_each_change_with_reason_metadata_and_key(api: Api, player: str) -> None:
    first = credit(api, player, "coins", 30, reason="daily", metadata={"day": 1})
    second = api.post(
        f"/players/{player}/wallet/debit",
        {"currency": "coins", "amount": 5, "reason": "shop"},
        headers={"Idempotency-Key": "debit-1"},
    ).json()
    items = api.get(f"/players/{player}/wallet/history").json()["items"]
    assert len(items) == 2
    for entry in items:
        assert set(entry) == {
            "entryId",
            "currency",
            "delta",
            "balanceAfter",
            "reason",
            "metadata",
            "idempotencyKey",
            "occurredAt",
        }
    assert [e["entryId"] for e in items] == [first["entryId"], second["entryId"]]
    assert [(e["currency"], e["delta"], e["balanceAfter"], e["reason"]) for e in items] == [
        ("coins", 30, 30, "daily"),
        ("coins", -5, 25, "shop"),
    ]
    assert [e["metadata"] for e in items] == [{"day": 1}, {}]
    assert [e["idempotencyKey"] for e in items] == [None, "debit-1"]
    assert items[0]["occurredAt"] <= items[1]["occurredAt"]


def test_history_pages_agree_with_the_balance(api: Api, player: str) -> None:
    expected = {"coins": 0, "gems": 0}
    entry_ids: list[str] = []
    for i in range(25):
        currency = "coins" if i % 3 else "gems"
        if i % 4 == 3 and expected[currency] > 0:
            amount = 1 + expected[currency] // 2
            response = api.post(f"/players/{player}/wallet/debit", {"currency": currency, "amount": amount})
            expected[currency] -= amount
        else:
            amount = 10 + i
            response = api.post(f"/players/{player}/wallet/credit", {"currency": currency, "amount": amount})
            expected[currency] += amount
        assert response.status_code == 200, response.text
        assert response.json()["balance"] == expected[currency]
        entry_ids.append(response.json()["entryId"])
    assert balances(api, player) == expected

    entries = walk_history(api, player, limit=7)
    ids = [e["entryId"] for e in entries]
    assert len(ids) == len(set(ids)) == 25
    assert ids == entry_ids  # oldest first, exactly the answers' entry ids
    for currency, balance in expected.items():
        mine = [e for e in entries if e["currency"] == currency]
        assert sum(e["delta"] for e in mine) == balance
        assert mine[-1]["balanceAfter"] == balance
        running = 0
        for entry in mine:
            running += entry["delta"]
            assert entry["balanceAfter"] == running

    for currency, balance in expected.items():
        filtered = walk_history(api, player, limit=7, currency=currency)
        assert all(e["currency"] == currency for e in filtered)
        assert filtered == [e for e in entries if e["currency"] == currency]
        assert sum(e["delta"] for e in filtered) == balance
        assert filtered[-1]["balanceAfter"] == balance


def test_history_pages_split_the_entries_of_one_purchase(api: Api, player: str) -> None:
    credit(api, player, "gems", 20)
    assert api.post(f"/players/{player}/purchases", {"sku": "starter-bundle"}).status_code == 201
    api.post(f"/players/{player}/items/consume", {"itemId": "sword", "quantity": 1})
    assert api.post(f"/players/{player}/purchases", {"sku": "starter-bundle"}).status_code == 201
    everything = api.get(f"/players/{player}/wallet/history").json()["items"]
    assert [(e["currency"], e["delta"]) for e in everything] == [
        ("gems", 20),
        ("gems", -10),
        ("coins", 500),
        ("gems", -10),
        ("coins", 500),
    ]
    assert walk_history(api, player, limit=1) == everything
    assert walk_history(api, player, limit=2) == everything


def test_history_of_an_unknown_currency_is_empty(api: Api, player: str) -> None:
    credit(api, player, "coins", 1)
    page = api.get(f"/players/{player}/wallet/history", params={"currency": "zorkmids"}).json()
    assert page == {"items": [], "nextCursor": None}


def test_history_with_an_invalid_cursor_answers_422_invalid_cursor(api: Api, player: str) -> None:
    for cursor in ("not-a-cursor!", "e30", "bm90IGpzb24"):  # garbage, `{}`, `not json`
        response = api.get(f"/players/{player}/wallet/history", params={"cursor": cursor})
        assert_problem(response, 422, "invalid-cursor")


def test_history_of_another_player_is_not_mixed_in(api: Api, player: str) -> None:
    other = new_player(api)
    credit(api, player, "coins", 5)
    credit(api, other, "coins", 7)
    assert [e["delta"] for e in walk_history(api, player, 10)] == [5]
    assert [e["delta"] for e in walk_history(api, other, 10)] == [7]
