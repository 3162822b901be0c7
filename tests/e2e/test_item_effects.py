"""Item effects and list sorting through Ray Serve: consuming on a shard host applies the effects
once per unit, the profile read on the host shows the running boost, a later award is multiplied,
and the events list walks newest first. The rules' edge cases (expiry, stacking, rounding) are in
tests/unit/engine/test_item_effects.py; the routes' in tests/routes/test_item_effects.py and
tests/routes/test_list_sorting.py."""

from __future__ import annotations

from typing import Any

import httpx

from serve.launcher import Launched
from tests.e2e.helpers import new_player, new_project

ECONOMY: dict[str, Any] = {
    "currencies": [{"id": "coins", "kind": "soft"}],
    "items": [
        {
            "id": "elixir",
            "stackLimit": 10,
            "effects": [
                {"kind": "currency", "currency": "coins", "amount": 3},
                {"kind": "boost", "metric": "currency:coins", "multiplier": 1.5, "durationS": 600},
            ],
        }
    ],
    "xpCurve": {"levels": [0, 100]},
}


def test_consuming_on_a_shard_host_applies_effects_and_boosts_later_credits(
    ludex: Launched, admin: httpx.Client
) -> None:
    scopes = ["players:read", "players:write", "economy:write", "events:read"]
    game = new_project(admin, ludex.base_url, ECONOMY, scopes, prefix="eff")
    player = new_player(game)
    assert game.post(f"/players/{player}/items/grant", {"itemId": "elixir", "quantity": 4}).status_code == 200
    consumed = game.post(f"/players/{player}/items/consume", {"itemId": "elixir", "quantity": 4})
    assert consumed.status_code == 200, consumed.text
    profile = game.get(f"/players/{player}").json()
    assert profile["wallet"] == {"coins": 12} and profile["inventory"] == []
    assert [(b["metric"], b["multiplier"]) for b in profile["boosts"]] == [("currency:coins", 1.5)]
    credited = game.post(f"/players/{player}/wallet/credit", {"currency": "coins", "amount": 10})
    assert credited.json()["balance"] == 27  # 12 + floor(10 x 1.5)
    newest = game.get("/events", params={"playerId": player, "sort": "-position", "limit": 3}).json()["items"]
    assert [e["type"] for e in newest] == ["wallet.credited", "player.boost.started", "wallet.credited"]
    assert [e["data"]["amount"] for e in (newest[0], newest[2])] == [15, 12]
