"""The seam itself: commands reach real hosts on both shards and are durable in the store."""

from __future__ import annotations

from actors.sharding import shard_for
from tests.routes.conftest import SHARDS, RouteApi, Seam


def test_commands_reach_the_host_of_each_players_shard_and_are_journaled(seam: Seam, api: RouteApi) -> None:
    players: dict[int, str] = {}
    index = 0
    while len(players) < SHARDS:
        player_id = f"seam-{index}"
        players.setdefault(shard_for("demo", "demo", player_id, SHARDS), player_id)
        index += 1
    for player_id in players.values():
        assert api.post("/players", {"playerId": player_id, "username": player_id}).status_code == 201
        credited = api.post(f"/players/{player_id}/wallet/credit", {"currency": "coins", "amount": 7})
        assert credited.status_code == 200, credited.text
        assert credited.json()["balance"] == 7
    for shard, player_id in players.items():
        host = seam.holder.hosts[shard]
        view = seam.client.portal.call(host.view, "demo", "demo", player_id, "wallet")
        assert view.body["balances"] == {"coins": 7}
