"""Project budgets over several shard hosts on one real store (SQLite file, MongoDB): each host
leases its share by compare-and-set, so however the commands interleave and whichever host takes
over, the project never receives more than its budget in a window, and at most one lease per
host of it goes unspent."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from actors.guardrail_leases import LEASE_KIND, BudgetLeases, lease_key, lease_share
from actors.host.pipeline import CommandRequest
from actors.host.shard_host import ShardHost
from actors.stores.base import Store
from actors.stores.mongo import MongoStore
from actors.stores.sqlite import SqliteStore
from engine import commands as c

BUDGET = 50
ECONOMY: dict[str, Any] = {
    "currencies": [{"id": "coins", "kind": "soft"}],
    "items": [{"id": "sword", "stackLimit": 1000}],
    "xpCurve": {"levels": [0, 100]},
    "guardrails": [
        {"id": "swords", "itemId": "sword", "project": {"amount": BUDGET, "per": "day"}, "action": "refuse"},
    ],
}

OpenStore = Callable[[], Store]


@pytest.fixture(params=["sqlite", pytest.param("mongo", marks=pytest.mark.mongo)])
async def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[OpenStore]:
    """Opens another connection to one store, as another host's process would."""
    opened: list[Store] = []
    database = f"leases_{uuid.uuid4().hex[:8]}"

    def make() -> Store:
        if request.param == "sqlite":
            store: Store = SqliteStore(tmp_path / "ludex.sqlite3")
        else:
            store = MongoStore(request.getfixturevalue("mongo_url"), database)
        opened.append(store)
        return store

    yield make
    for store in opened:
        await store.close()


async def test_leasers_never_grant_more_than_the_budget(open_store: OpenStore) -> None:
    leasers = []
    for _ in range(4):
        store = open_store()
        await store.open()
        leasers.append(BudgetLeases(store))
    key = lease_key("t", "p", "swords")

    async def spend(leases: BudgetLeases) -> int:
        spent = 0
        for _ in range(30):
            if await leases.reserve(key, 0, BUDGET, 1) >= 1:
                leases.spend(key, 0, 1)
                spent += 1
        return spent

    spent = await asyncio.gather(*(spend(leases) for leases in leasers))
    assert BUDGET - len(leasers) * lease_share(BUDGET) <= sum(spent) <= BUDGET
    document = await leasers[0].store.get_document(LEASE_KIND, key)
    assert document is not None and document["granted"] <= BUDGET
    assert await leasers[0].reserve(key, 86_400, BUDGET, 1) >= 1, "the next window has its whole budget again"


async def test_hosts_share_a_project_budget_across_a_takeover(open_store: OpenStore) -> None:
    hosts = [ShardHost(open_store()) for _ in range(2)]
    for host in hosts:
        await host.start(sweep=False)
    assert (await hosts[0].define_economy("t", "p", ECONOMY)).ok
    players = [f"pl-{index}" for index in range(30)]

    async def play(host: ShardHost, player: str) -> int:
        await host.execute([CommandRequest("t", "p", player, c.CreatePlayer(player))])
        given = 0
        for _ in range(2):
            (outcome,) = await host.execute([CommandRequest("t", "p", player, c.GrantItem("sword", 1))])
            if outcome.ok:
                given += 1
            else:
                assert outcome.refusal is not None and outcome.refusal.slug == "guardrail-tripped"
        return given

    first = await asyncio.gather(*(play(hosts[index % 2], player) for index, player in enumerate(players[:20])))
    await hosts[0].stop()  # its unspent lease is lost with it; a new host takes its players over
    hosts[0] = ShardHost(open_store())
    await hosts[0].start(sweep=False)
    second = await asyncio.gather(*(play(hosts[index % 2], player) for index, player in enumerate(players[20:])))
    given = sum(first) + sum(second)
    try:
        assert given <= BUDGET
        assert given >= BUDGET - 3 * lease_share(BUDGET)  # at most one unspent lease per host that held one
    finally:
        for host in hosts:
            await host.stop()


async def test_a_player_cap_survives_a_restart_and_a_new_host(open_store: OpenStore) -> None:
    """The windows are journaled with the player: another host activating it from the store
    (a restart, a slot move) refuses what the first host would have."""
    capped = {
        **ECONOMY,
        "guardrails": [
            {"id": "cap", "currency": "coins", "perPlayer": {"amount": 30, "per": "day"}, "action": "refuse"}
        ],
    }
    first = ShardHost(open_store())
    await first.start(sweep=False)
    assert (await first.define_economy("t", "p", capped)).ok
    await first.execute([CommandRequest("t", "p", "ann", c.CreatePlayer("ann"))])
    (credited,) = await first.execute([CommandRequest("t", "p", "ann", c.Credit("coins", 30))])
    assert credited.ok
    await first.stop()
    second = ShardHost(open_store())
    await second.start(sweep=False)
    try:
        (refused,) = await second.execute([CommandRequest("t", "p", "ann", c.Credit("coins", 1), idempotency_key="k")])
        assert refused.refusal is not None and refused.refusal.slug == "guardrail-tripped"
        assert refused.refusal.data["guardrail"] == "cap"
        (again,) = await second.execute([CommandRequest("t", "p", "ann", c.Credit("coins", 1), idempotency_key="k")])
        assert again.replayed and again.refusal is not None and again.refusal.slug == "guardrail-tripped"
    finally:
        await second.stop()
