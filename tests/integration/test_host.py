"""The shard host over a real SQLite store, without Ray: serial order per entity, group commit,
exactly-once with idempotency keys, activation, snapshots and passivation."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from actors.clock import FakeClock
from actors.host import CommandRequest, ShardHost
from actors.stores.sqlite import SqliteStore
from config.gc_tuning import HOST_THRESHOLDS
from engine import commands as c
from engine.identity import player_key

T, P = "acme", "space"


def req(player: str, command: c.Command, key: str | None = None) -> CommandRequest:
    return CommandRequest(T, P, player, command, key)


async def make_host(path: Path, document: dict[str, Any], **options: Any) -> ShardHost:
    host = ShardHost(SqliteStore(path / "ludex.sqlite3"), **options)
    await host.start(sweep=False)
    if (await host.store.read_journal(f"project:{T}/{P}")) == []:
        assert (await host.define_economy(T, P, document)).ok
    return host


@pytest.fixture
async def host(tmp_path: Path, demo_economy_document: dict[str, Any]) -> AsyncIterator[ShardHost]:
    host = await make_host(tmp_path, demo_economy_document)
    yield host
    await host.stop()


async def one(host: ShardHost, request: CommandRequest) -> dict[str, Any]:
    return (await host.execute([request]))[0]


async def rich_player(host: ShardHost, player: str, coins: int = 0, gems: int = 0) -> None:
    await one(host, req(player, c.CreatePlayer(username=player)))
    for currency, amount in (("coins", coins), ("gems", gems)):
        if amount:
            assert (await one(host, req(player, c.Credit(currency, amount)))).ok


async def test_commands_of_one_call_apply_in_array_order(host: ShardHost) -> None:
    await rich_player(host, "ann")
    outcomes = await host.execute(
        [req("ann", c.Credit("coins", 10)), req("ann", c.Debit("coins", 10)), req("ann", c.Debit("coins", 1))]
    )
    assert [o.ok for o in outcomes] == [True, True, False]
    assert outcomes[2].refusal.slug == "insufficient-funds"


async def test_concurrent_commands_share_transactions(host: ShardHost) -> None:
    await rich_player(host, "bob")
    commits_before = host.committer.commits
    outcomes = await asyncio.gather(*(one(host, req("bob", c.Credit("coins", 1))) for _ in range(200)))
    assert all(o.ok for o in outcomes)
    assert sorted(o.body["balance"] for o in outcomes) == list(range(1, 201))
    assert host.committer.commits - commits_before < 200 / 4, "a burst should need far fewer commits than commands"
    journal = await host.store.read_journal(player_key(T, P, "bob"))
    assert len(journal) == 201


async def test_200_concurrent_copies_of_one_keyed_purchase_debit_once(host: ShardHost) -> None:
    await rich_player(host, "cat", coins=1_000)
    copies = [one(host, req("cat", c.Purchase("potion-pack"), key="buy-1")) for _ in range(200)]
    outcomes = await asyncio.gather(*copies)
    assert all(o.ok for o in outcomes)
    assert sum(not o.replayed for o in outcomes) == 1
    assert len({repr(o.body) for o in outcomes}) == 1, "every caller gets the same receipt"
    wallet = await host.view(T, P, "cat", "wallet")
    assert wallet.body["balances"]["coins"] == 900
    inventory = await host.view(T, P, "cat", "inventory")
    assert inventory.body["items"] == [{"itemId": "potion", "quantity": 5}]
    debits = [
        event
        for record in await host.store.read_journal(player_key(T, P, "cat"))
        for event in record.events
        if event["type"] == "wallet.debited"
    ]
    assert len(debits) == 1


async def test_a_key_reused_with_another_request_is_refused_and_changes_nothing(host: ShardHost) -> None:
    await rich_player(host, "dan", coins=100)
    assert (await one(host, req("dan", c.Debit("coins", 10), key="k"))).ok
    reused = await one(host, req("dan", c.Debit("coins", 20), key="k"))
    assert reused.refusal.slug == "idempotency-key-reused"
    assert (await host.view(T, P, "dan", "wallet")).body["balances"]["coins"] == 90


async def test_a_keyed_rejection_is_replayed_even_after_funds_arrive(host: ShardHost) -> None:
    await rich_player(host, "eve")
    first = await one(host, req("eve", c.Debit("coins", 50), key="d1"))
    assert first.refusal.slug == "insufficient-funds" and not first.replayed
    await one(host, req("eve", c.Credit("coins", 100)))
    again = await one(host, req("eve", c.Debit("coins", 50), key="d1"))
    assert again.refusal == first.refusal and again.replayed
    assert (await host.view(T, P, "eve", "wallet")).body["balances"]["coins"] == 100


async def test_keys_are_scoped_per_player(host: ShardHost) -> None:
    await rich_player(host, "fay")
    await rich_player(host, "gus")
    a = await one(host, req("fay", c.Credit("coins", 5), key="same"))
    b = await one(host, req("gus", c.Credit("coins", 5), key="same"))
    assert not a.replayed and not b.replayed


async def test_idempotent_answers_survive_a_restart(tmp_path: Path, demo_economy_document: dict[str, Any]) -> None:
    host = await make_host(tmp_path, demo_economy_document)
    await rich_player(host, "hal", coins=500)
    first = await one(host, req("hal", c.Purchase("potion-pack", 2), key="p"))
    await host.stop()
    host = await make_host(tmp_path, demo_economy_document)
    again = await one(host, req("hal", c.Purchase("potion-pack", 2), key="p"))
    assert again.replayed and again.body == first.body
    assert (await host.view(T, P, "hal", "wallet")).body["balances"]["coins"] == 300
    await host.stop()


async def test_keys_are_forgotten_after_the_retention(tmp_path: Path, demo_economy_document: dict[str, Any]) -> None:
    clock = FakeClock()
    host = await make_host(tmp_path, demo_economy_document, clock=clock, idempotency_retention_s=3600)
    await rich_player(host, "ida")
    await one(host, req("ida", c.Credit("coins", 7), key="k"))
    clock.advance(1800)
    assert (await one(host, req("ida", c.Credit("coins", 7), key="k"))).replayed
    clock.advance(3600)
    assert not (await one(host, req("ida", c.Credit("coins", 7), key="k"))).replayed
    assert (await host.view(T, P, "ida", "wallet")).body["balances"]["coins"] == 14
    await host.stop()


async def awarded_player(
    tmp_path: Path, document: dict[str, Any], player: str, *, awards: int
) -> tuple[ShardHost, FakeClock, str]:
    """A host that snapshots every 5 records and on passivation from a tail of 3, idles entities
    after 60 s of its clock, and holds `player` after creation and `awards` XP awards of 25."""
    clock = FakeClock()
    host = await make_host(
        tmp_path, document, clock=clock, snapshot_every=5, snapshot_on_passivation_after=3, idle_timeout_s=60
    )
    await rich_player(host, player)
    for _ in range(awards):
        await one(host, req(player, c.AwardXp(25)))
    return host, clock, player_key(T, P, player)


async def test_idle_entities_passivate_to_a_snapshot_and_reactivate(
    tmp_path: Path, demo_economy_document: dict[str, Any]
) -> None:
    host, clock, key = await awarded_player(tmp_path, demo_economy_document, "jo", awards=12)
    snapshot = await host.store.load_snapshot(key)
    assert snapshot is not None and snapshot.seq == 10, "a snapshot every 5 records"
    clock.advance(30)
    assert await host.passivate_idle() == 0
    clock.advance(31)
    assert await host.passivate_idle() == 1
    assert host.active_entities() == 0
    snapshot = await host.store.load_snapshot(key)
    assert snapshot is not None and snapshot.seq == 13, "passivation snapshots the latest state"
    progression = (await host.view(T, P, "jo", "progression")).body
    assert progression == {"xp": 300, "level": 3, "currentLevelXp": 250, "nextLevelXp": 450}
    await host.stop()


async def test_a_short_journal_tail_passivates_without_a_snapshot_and_replays_on_activation(
    tmp_path: Path, demo_economy_document: dict[str, Any]
) -> None:
    host, clock, key = await awarded_player(tmp_path, demo_economy_document, "lu", awards=6)
    snapshot = await host.store.load_snapshot(key)
    assert snapshot is not None and snapshot.seq == 5
    clock.advance(61)
    assert await host.passivate_idle() == 1
    snapshot = await host.store.load_snapshot(key)
    assert snapshot is not None and snapshot.seq == 5, "a tail of 2 records is shorter than 3: no snapshot"
    progression = (await host.view(T, P, "lu", "progression")).body
    assert progression["xp"] == 150
    await host.stop()


async def test_activation_replays_the_journal_after_the_snapshot(
    tmp_path: Path, demo_economy_document: dict[str, Any]
) -> None:
    host = await make_host(tmp_path, demo_economy_document, snapshot_every=4)
    await rich_player(host, "kim")
    for amount in range(1, 11):
        await one(host, req("kim", c.Credit("coins", amount)))
    live = (await host.view(T, P, "kim", "profile")).body
    fresh = await make_host(tmp_path, demo_economy_document)
    assert (await fresh.view(T, P, "kim", "profile")).body == live
    assert live["wallet"] == {"coins": 55}
    await fresh.stop()
    await host.stop()


async def test_a_project_without_an_economy_is_refused(host: ShardHost) -> None:
    outcome = (await host.execute([CommandRequest(T, "nope", "x", c.CreatePlayer("x"))]))[0]
    assert outcome.refusal.slug == "economy-not-defined"


async def test_a_bad_economy_is_refused_with_the_path_of_the_bad_field(
    host: ShardHost, demo_economy_document: dict[str, Any]
) -> None:
    document = {**demo_economy_document, "skus": [*demo_economy_document["skus"]]}
    document["skus"].append(
        {"sku": "broken", "price": {"coins": 1}, "grants": {"items": [{"itemId": "swrod", "quantity": 1}]}}
    )
    outcome = await host.define_economy(T, P, document)
    assert outcome.refusal.slug == "invalid-definition"
    assert "skus[2].grants.items[0].itemId: unknown item 'swrod'" in outcome.refusal.detail


async def test_a_new_economy_version_is_picked_up_without_a_restart(
    host: ShardHost, demo_economy_document: dict[str, Any]
) -> None:
    await rich_player(host, "lee")
    assert (await one(host, req("lee", c.Credit("stars", 1)))).refusal.slug == "unknown-currency"
    document = {
        **demo_economy_document,
        "currencies": [*demo_economy_document["currencies"], {"id": "stars", "kind": "soft"}],
    }
    assert (await host.define_economy(T, P, document)).body == {"version": 2}
    assert (await one(host, req("lee", c.Credit("stars", 1)))).ok


async def test_an_invalidation_during_an_economy_read_is_not_lost(
    host: ShardHost, demo_economy_document: dict[str, Any]
) -> None:
    host.invalidate_economy(T, P)
    real_read = host.economies.read

    async def read_then_change(key: str) -> Any:
        host.economies.read = real_read
        state = await real_read(key)  # sees the current version...
        document = {
            **demo_economy_document,
            "currencies": [*demo_economy_document["currencies"], {"id": "stars", "kind": "soft"}],
        }
        assert (await host.define_economy(T, P, document)).ok  # ...which is replaced meanwhile
        return state

    host.economies.read = read_then_change
    await rich_player(host, "race")
    assert (await one(host, req("race", c.Credit("stars", 1)))).ok, "the host must not keep the old version"


async def test_a_started_host_collects_old_objects_rarely(host: ShardHost) -> None:
    assert gc.get_threshold() == HOST_THRESHOLDS  # entity objects live long: see config/gc_tuning.py


async def test_the_sweeper_purges_remembered_answers_past_the_retention(
    tmp_path: Path, demo_economy_document: dict[str, Any]
) -> None:
    """Without the purge the outcome table grows with every keyed call for ever."""
    clock = FakeClock()
    host = await make_host(tmp_path, demo_economy_document, clock=clock, idempotency_retention_s=3600)
    await rich_player(host, "ivy")
    await one(host, req("ivy", c.Credit("coins", 7), key="old"))
    await one(host, req("ivy", c.Debit("coins", 10**6), key="refused"))  # an Outcome, no record
    clock.advance(7200)
    await one(host, req("ivy", c.Credit("coins", 7), key="new"))
    await host.sweep_once()
    entity = player_key(T, P, "ivy")
    since_ever = 0
    assert await host.store.find_outcome(entity, "old", since_ever) is None
    assert await host.store.find_outcome(entity, "refused", since_ever) is None
    assert await host.store.find_outcome(entity, "new", since_ever) is not None
    assert (await host.view(T, P, "ivy", "wallet")).body["balances"]["coins"] == 14  # the ledger stays
    await host.stop()


class RepairFails(SqliteStore):
    async def repair(self) -> int:
        raise RuntimeError("repair exploded")


async def test_a_failing_housekeeping_step_is_logged_and_the_others_still_run(
    tmp_path: Path, demo_economy_document: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    host = ShardHost(RepairFails(tmp_path / "ludex.sqlite3"), clock=clock, idle_timeout_s=60)
    await host.start(sweep=False)
    assert (await host.define_economy(T, P, demo_economy_document)).ok
    await rich_player(host, "max")
    clock.advance(120)
    with caplog.at_level("ERROR", logger="ludex.host"):
        await host.sweep_once()
    assert host.active_entities() == 0  # passivation ran
    failures = [r for r in caplog.records if "projection repair failed" in r.getMessage()]
    assert failures and failures[0].exc_info is not None and "repair exploded" in str(failures[0].exc_info[1])
    await host.stop()
