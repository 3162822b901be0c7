"""Feature flags through Ray Serve: the project's overrides, saved by the backoffice, win for
every player the shard hosts evaluate, and clear. Rollouts, targeting, bad overrides and tenant
isolation are tested at the route seam (tests/routes/test_flags.py), without Ray."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from engine.flags import is_in_rollout
from serve.launcher import Launched
from tests.e2e.conftest import Api
from tests.e2e.helpers import new_player, new_project


@pytest.fixture(scope="module")
def flagged(ludex: Launched, admin: httpx.Client, demo_economy_document: Any) -> dict[str, Any]:
    """A fresh project of the demo tenant on the demo economy (which defines three flags)."""
    game = new_project(admin, ludex.base_url, demo_economy_document, ["players:read", "players:write"], prefix="flg")
    return {"game": game, "overrides": f"/v1/client/projects/{game.project}/flags/overrides"}


def flags_of(game: Api, player_id: str) -> dict[str, Any]:
    response = game.get(f"/players/{player_id}/flags")
    assert response.status_code == 200, response.text
    flags: dict[str, Any] = response.json()["flags"]
    return flags


def test_the_project_s_overrides_win_for_every_player_and_can_be_cleared(
    flagged: dict[str, Any], admin: httpx.Client
) -> None:
    game = flagged["game"]
    players = [new_player(game) for _ in range(3)]
    saved = admin.put(flagged["overrides"], json={"overrides": {"newShop": True, "veteranOffer": "vip"}})
    assert saved.status_code == 200, saved.text
    assert saved.json()["overrides"] == {"newShop": True, "veteranOffer": "vip"}
    assert admin.get(flagged["overrides"]).json()["overrides"] == {"newShop": True, "veteranOffer": "vip"}
    for player in players:
        assert flags_of(game, player) == {"doubleXp": False, "newShop": True, "veteranOffer": "vip"}
    assert admin.put(flagged["overrides"], json={"overrides": {}}).status_code == 200
    for player in players:
        assert flags_of(game, player)["newShop"] == is_in_rollout("newShop", player, 25)
