"""The coordinator and shard hosts in one process (real SQLite, no Ray): handoffs hold and
re-route commands, epochs fence a host that lost its slots, silent hosts lose theirs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from actors.coordinator import Coordinator
from actors.host import CommandRequest, ShardHost
from actors.slots import WRONG_OWNER, SlotGate
from actors.stores.sqlite import SqliteStore
from engine import commands as c
from engine.slots import slot_of
from tests.support.in_process import LocalHostPool

T, P = "acme", "space"
SLOTS = 16


class LocalPool(LocalHostPool):
    """Plain hosts on one SQLite file, no sweeper; a host can be made silent to the watchdog."""

    sweep = False

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self.silent: set[str] = set()

    def new_host(self, name: str, slots: int) -> ShardHost:
        return ShardHost(SqliteStore(self.path), slot_gate=SlotGate(slots, name))

    async def alive(self, name: str, timeout_s: float) -> bool:
        return name not in self.silent


@pytest.fixture
async def cluster(
    tmp_path: Path, demo_economy_document: dict[str, Any]
) -> AsyncIterator[tuple[Coordinator, LocalPool]]:
    path = tmp_path / "ludex.sqlite3"
    pool = LocalPool(path)
    coordinator = Coordinator(SqliteStore(path), pool, host_name=lambda i: f"h{i}", slots=SLOTS, down_after_s=0.0)
    await coordinator.start(2, watch=False)
    await coordinator.scale(2)
    assert (await pool.hosts["h0"].define_economy(T, P, demo_economy_document)).ok
    yield coordinator, pool
    await coordinator.stop()
    for host in list(pool.hosts.values()):
        await host.stop()


def owner(coordinator: Coordinator, player: str) -> str:
    return coordinator.table[slot_of(T, P, player, SLOTS)].host


async def send(pool: LocalPool, coordinator: Coordinator, player: str, command: c.Command, key: str) -> dict[str, Any]:
    """What the ingress does: to the owner by the map, again on wrong-owner."""
    for _ in range(20):
        outcome = (await pool.hosts[owner(coordinator, player)].execute([CommandRequest(T, P, player, command, key)]))[
            0
        ]
        if outcome.ok or outcome.slug != WRONG_OWNER:
            return outcome
        await asyncio.sleep(0.01)
    raise AssertionError("never reached the owner")


async def test_a_host_answers_wrong_owner_for_slots_it_does_not_own(cluster: tuple[Coordinator, LocalPool]) -> None:
    coordinator, pool = cluster
    other = "h1" if owner(coordinator, "ada") == "h0" else "h0"
    outcome = (await pool.hosts[other].execute([CommandRequest(T, P, "ada", c.CreatePlayer("ada"), "k")]))[0]
    assert outcome.slug == WRONG_OWNER
    assert (await pool.hosts[other].view(T, P, "ada", "profile")).slug == WRONG_OWNER
    assert (await send(pool, coordinator, "ada", c.CreatePlayer("ada"), "k")).ok


async def test_commands_held_during_a_handoff_go_to_the_new_owner(cluster: tuple[Coordinator, LocalPool]) -> None:
    coordinator, pool = cluster
    assert (await send(pool, coordinator, "ada", c.CreatePlayer("ada"), "create")).ok
    source = owner(coordinator, "ada")
    slot = slot_of(T, P, "ada", SLOTS)
    passivated = await pool.hosts[source].release_slots([slot], 5.0)
    assert passivated == 1, "the player's entity was snapshotted and dropped"
    held = asyncio.create_task(pool.hosts[source].execute([CommandRequest(T, P, "ada", c.AwardXp(10), "xp")]))
    await asyncio.sleep(0.05)
    assert not held.done(), "a command for a slot being handed off waits"
    target = "h1" if source == "h0" else "h0"
    moved = await coordinator._claim([slot], source, target)
    pool.hosts[target].adopt_slots({row.slot: row.epoch for row in moved})
    pool.hosts[source].forget_slots([slot])
    assert (await held)[0].slug == WRONG_OWNER
    outcome = await send(pool, coordinator, "ada", c.AwardXp(10), "xp")
    assert outcome.ok and outcome.body["xp"] == 10
    replay = await send(pool, coordinator, "ada", c.AwardXp(10), "xp")
    assert replay.replayed and replay.body == outcome.body


async def test_a_host_that_lost_its_slot_unknowingly_cannot_write_to_it(cluster: tuple[Coordinator, LocalPool]) -> None:
    coordinator, pool = cluster
    assert (await send(pool, coordinator, "ada", c.CreatePlayer("ada"), "create")).ok
    stale_host = pool.hosts[owner(coordinator, "ada")]
    target = "h1" if owner(coordinator, "ada") == "h0" else "h0"
    # The slot moves in the store behind the old owner's back (it was presumed dead).
    await coordinator._claim([slot_of(T, P, "ada", SLOTS)], owner(coordinator, "ada"), target)
    refused = (await stale_host.execute([CommandRequest(T, P, "ada", c.AwardXp(5), "late")]))[0]
    assert refused.slug == WRONG_OWNER, "the store refused the stale epoch"
    again = (await stale_host.execute([CommandRequest(T, P, "ada", c.AwardXp(5), "later")]))[0]
    assert again.slug == WRONG_OWNER, "and the host learned it does not own the slot"
    journal = await stale_host.store.read_journal("player:acme/space/ada")
    assert [r.idempotency_key for r in journal] == ["create"]


async def test_a_silent_host_loses_its_slots_and_gets_a_share_back(cluster: tuple[Coordinator, LocalPool]) -> None:
    coordinator, pool = cluster
    pool.silent.add("h1")
    await coordinator.check_hosts()  # first silence noted
    assert await coordinator.check_hosts() == ["h1"]
    assert {row.host for row in coordinator.table} == {"h0"}
    assert pool.hosts["h0"].slots.owned.keys() == set(range(SLOTS))
    pool.silent.clear()
    assert await coordinator.check_hosts() == []
    assert sorted(row.host for row in coordinator.table).count("h1") == SLOTS // 2
    assert len(pool.hosts["h1"].slots.owned) == SLOTS // 2


async def test_a_restarted_host_reclaims_its_slots_one_epoch_on(
    cluster: tuple[Coordinator, LocalPool], tmp_path: Path
) -> None:
    coordinator, pool = cluster
    before = {row.slot: row.epoch for row in await coordinator.store.load_slots() if row.host == "h0"}
    restarted = ShardHost(SqliteStore(tmp_path / "ludex.sqlite3"), slot_gate=SlotGate(SLOTS, "h0"))
    await restarted.start(sweep=False)
    try:
        assert restarted.slots.owned == {slot: epoch + 1 for slot, epoch in before.items()}
        player = next(p for p in (f"x{i}" for i in range(100)) if owner(coordinator, p) == "h0")
        stale = (await pool.hosts["h0"].execute([CommandRequest(T, P, player, c.CreatePlayer(player), "k")]))[0]
        assert stale.slug == WRONG_OWNER, "the earlier incarnation is fenced out"
        fresh = (await restarted.execute([CommandRequest(T, P, player, c.CreatePlayer(player), "k")]))[0]
        assert fresh.ok
        await coordinator.rebalance()  # the coordinator's epochs are behind: it reads them again
        assert {row.host for row in coordinator.table} == {"h0", "h1"}
    finally:
        await restarted.stop()
