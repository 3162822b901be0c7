"""The seam itself: commands reach real hosts on both shards and are durable in the store."""

from __future__ import annotations

from tests.routes.conftest import SHARDS, RouteApi, Seam


def test_commands_reach_the_host_of_each_players_slot_and_are_journaled(seam: Seam, api: RouteApi) -> None:
    slot_map = seam.client.portal.call(seam.holder.get)
    players: dict[str, str] = {}
    index = 0
    while len(players) < SHARDS:
        player_id = f"seam-{index}"
        players.setdefault(slot_map.directory.map.owner("demo", "demo", player_id), player_id)
        index += 1
    for player_id in players.values():
        assert api.post("/players", {"playerId": player_id, "username": player_id}).status_code == 201
        credited = api.post(f"/players/{player_id}/wallet/credit", {"currency": "coins", "amount": 7})
        assert credited.status_code == 200, credited.text
        assert credited.json()["balance"] == 7
    for host_name, player_id in players.items():
        assert seam.cluster.pool is not None
        host = seam.cluster.pool.hosts[host_name]
        view = seam.client.portal.call(host.view, "demo", "demo", player_id, "wallet")
        assert view.body["balances"] == {"coins": 7}
