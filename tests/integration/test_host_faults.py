"""The shard host's command pipeline over a real SQLite store that fails at a chosen call: a
commit lost mid-flight, a commit whose answer was lost after it landed, an activation read that
fails, a key reused while its first request is still committing. The promise under test: a
failed command is answered retryable (503) with nothing decided, its keyed retry applies once,
and the entity is reloaded from what is durable, never from what was only decided in memory."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from actors.host import CommandRequest, ShardHost
from actors.host.unavailable import UNAVAILABLE
from actors.stores.base import History
from actors.stores.sqlite import SqliteStore
from engine import commands as c
from engine.events import purchase_id
from engine.identity import player_key
from engine.outcomes import Outcome, Refusal
from tests.integration.test_committer_faults import FaultyStore
from tests.integration.test_host import P, T, req


class FaultyReads(FaultyStore):
    """FaultyStore whose activation reads (`load_histories`) also fail at chosen calls."""

    def __init__(self, store: SqliteStore, *, fail_loads: Sequence[int] = (), **faults: Any) -> None:
        super().__init__(store, **faults)
        self.fail_loads = set(fail_loads)
        self.loads = 0

    async def load_histories(self, keys: Sequence[str]) -> list[History]:
        self.loads += 1
        if self.loads in self.fail_loads:
            raise TimeoutError("the store did not answer in time")
        result: list[History] = await self.store.load_histories(keys)
        return result


@pytest.fixture
async def faulty(tmp_path: Path, demo_economy_document: dict[str, Any]) -> AsyncIterator[FaultyReads]:
    faulty = FaultyReads(SqliteStore(tmp_path / "ludex.sqlite3"))
    host = ShardHost(faulty)  # type: ignore[arg-type]  # the real store, wrapped
    await host.start(sweep=False)
    assert (await host.define_economy(T, P, document=demo_economy_document)).ok
    faulty.host = host  # type: ignore[attr-defined]
    yield faulty
    await host.stop()


def host_of(faulty: FaultyReads) -> ShardHost:
    host: ShardHost = faulty.host  # type: ignore[attr-defined]
    return host


async def one(host: ShardHost, request: CommandRequest) -> Outcome:
    return (await host.execute([request]))[0]


async def coins(faulty: FaultyReads, player: str) -> list[int]:
    """The balances after each durable record of the player's journal."""
    journal = await faulty.store.read_journal(player_key(T, P, player))
    return [e["data"]["balanceAfter"] for r in journal for e in r.current_events() if e["type"] == "wallet.credited"]


async def test_a_commit_lost_mid_flight_is_answered_unavailable_and_decides_nothing(faulty: FaultyReads) -> None:
    host = host_of(faulty)
    assert (await one(host, req("ann", c.CreatePlayer(username="ann")))).ok
    faulty.fail_before = {len(faulty.calls) + 1}  # the next commit
    lost = await one(host, req("ann", c.Credit("coins", 5)))
    assert not lost.ok and lost.refusal is not None and lost.refusal.slug == UNAVAILABLE
    # The entity was reloaded from the store: the lost credit is not in its balance.
    after = await one(host, req("ann", c.Credit("coins", 1)))
    assert after.ok and after.body["balance"] == 1
    assert await coins(faulty, "ann") == [1]


async def test_a_keyed_command_whose_answer_was_lost_after_it_landed_applies_once_on_retry(
    faulty: FaultyReads,
) -> None:
    host = host_of(faulty)
    assert (await one(host, req("bob", c.CreatePlayer(username="bob")))).ok
    faulty.fail_after = {len(faulty.calls) + 1}
    first = await one(host, req("bob", c.Credit("coins", 7), key="credit-1"))
    assert not first.ok and first.refusal is not None and first.refusal.slug == UNAVAILABLE
    retry = await one(host, req("bob", c.Credit("coins", 7), key="credit-1"))
    assert retry.ok and retry.replayed and retry.body["balance"] == 7
    assert await coins(faulty, "bob") == [7]  # landed once, replayed, never applied twice


async def test_an_activation_read_that_fails_is_retryable_and_decides_nothing(faulty: FaultyReads) -> None:
    host = host_of(faulty)
    assert (await one(host, req("cat", c.CreatePlayer(username="cat")))).ok
    assert await host.passivate_idle(force=True) >= 1  # the next command activates from the store
    faulty.fail_loads = {faulty.loads + 1}
    failed = await one(host, req("cat", c.Credit("coins", 3), key="k"))
    assert not failed.ok and failed.refusal is not None and failed.refusal.slug == UNAVAILABLE
    assert "store read failed" in failed.refusal.detail
    retried = await one(host, req("cat", c.Credit("coins", 3), key="k"))
    assert retried.ok and not retried.replayed and retried.body["balance"] == 3
    assert await coins(faulty, "cat") == [3]


async def test_a_key_reused_by_another_request_while_the_first_commits_is_refused(faulty: FaultyReads) -> None:
    host = host_of(faulty)
    assert (await one(host, req("dan", c.CreatePlayer(username="dan")))).ok
    faulty.gate = asyncio.Event()  # the next commit stays in flight until released
    first = asyncio.create_task(one(host, req("dan", c.Credit("coins", 2), key="same")))
    while not faulty.calls or faulty.calls[-1] != [(player_key(T, P, "dan"), 2)]:
        await asyncio.sleep(0)  # until the first request's commit is at the gate
    other = await one(host, req("dan", c.Credit("coins", 9), key="same"))
    copy = asyncio.create_task(one(host, req("dan", c.Credit("coins", 2), key="same")))
    faulty.gate.set()
    assert not other.ok and other.refusal is not None and other.refusal.slug == "idempotency-key-reused"
    done, again = await first, await copy
    assert done.ok and not done.replayed and again.ok and again.replayed
    assert done.body == again.body and done.body["balance"] == 2
    assert await coins(faulty, "dan") == [2]


async def test_a_request_refused_fresh_still_replays_a_remembered_key(faulty: FaultyReads) -> None:
    host = host_of(faulty)
    assert (await one(host, req("eve", c.CreatePlayer(username="eve")))).ok
    assert (await one(host, req("eve", c.Credit("coins", 4), key="paid"))).ok
    quota = Refusal("quota-exceeded", "the monthly quota is spent")
    replay = await one(host, CommandRequest(T, P, "eve", c.Credit("coins", 4), "paid", refuse_fresh=quota))
    fresh = await one(host, CommandRequest(T, P, "eve", c.Credit("coins", 4), "new", refuse_fresh=quota))
    assert replay.ok and replay.replayed and replay.body["balance"] == 4
    assert not fresh.ok and fresh.refusal == quota
    assert await coins(faulty, "eve") == [4]


async def test_the_ledger_pages_past_one_journal_read_and_never_repeats_an_entry(faulty: FaultyReads) -> None:
    host = host_of(faulty)
    assert (await one(host, req("fay", c.CreatePlayer(username="fay")))).ok
    outcomes = await host.execute([req("fay", c.Credit("coins" if i % 3 else "gems", 1)) for i in range(250)])
    assert all(o.ok for o in outcomes)
    pages: list[dict[str, Any]] = []
    after = (0, 0)
    while page := await host.ledger(T, P, "fay", currency="coins", after=after, limit=70):
        pages += page
        after = (page[-1]["position"][0], page[-1]["position"][1])
    assert len(pages) == 166 and all(entry["currency"] == "coins" for entry in pages)
    assert len({entry["entryId"] for entry in pages}) == 166  # no entry read twice across pages
    assert [entry["balanceAfter"] for entry in pages] == list(range(1, 167))


async def test_a_receipt_is_found_only_for_a_purchase_of_that_player(faulty: FaultyReads) -> None:
    host = host_of(faulty)
    for player in ("gus", "hal"):
        assert (await one(host, req(player, c.CreatePlayer(username=player)))).ok
        assert (await one(host, req(player, c.Credit("coins", 1_000)))).ok
    bought = await one(host, req("gus", c.Purchase("potion-pack")))
    assert bought.ok
    purchase = bought.body["purchaseId"]
    receipt = await host.receipt(T, P, "gus", purchase)
    assert receipt is not None and receipt["purchaseId"] == purchase
    assert await host.receipt(T, P, "hal", purchase) is None  # another player's id answers nothing
    assert await host.receipt(T, P, "gus", "pur_x") is None
    credited = purchase_id(player_key(T, P, "gus"), 2)  # well formed, but seq 2 is the credit
    assert await host.receipt(T, P, "gus", credited) is None
    assert await host.economy_document(T, "no-such-project") is None
    missing = await host.view(T, P, "nobody", "wallet")
    assert not missing.ok and missing.refusal is not None and missing.refusal.slug == "player-not-found"


@pytest.mark.parametrize("first_call", ["define_economy", "view", "erase", "release_slots"])
async def test_a_host_restarted_by_ray_starts_itself_on_its_first_call(
    tmp_path: Path, demo_economy_document: dict[str, Any], first_call: str
) -> None:
    # Seeded by an earlier life of the host: a player with a balance, durable in the store.
    earlier = ShardHost(SqliteStore(tmp_path / "ludex.sqlite3"))
    await earlier.stop()  # stopping a host that never started is a no-op, not an error
    assert (await earlier.define_economy(T, P, demo_economy_document)).ok  # starts it
    assert (await one(earlier, req("ivy", c.CreatePlayer(username="ivy")))).ok
    assert (await one(earlier, req("ivy", c.Credit("coins", 6)))).ok
    await earlier.stop()
    host = ShardHost(SqliteStore(tmp_path / "ludex.sqlite3"))  # as Ray restarts it: nobody calls start
    try:
        if first_call == "define_economy":
            assert (await host.define_economy(T, P, demo_economy_document)).ok
            assert await host.economy_version(T, P) == 2
        elif first_call == "view":
            wallet = await host.view(T, P, "ivy", "wallet")
            assert wallet.ok and wallet.body["balances"]["coins"] == 6
        elif first_call == "erase":
            assert (await host.erase(T, P, "ivy")).ok
            assert not (await host.view(T, P, "ivy", "wallet")).ok
        else:
            assert await host.release_slots([]) == 0
            assert (await one(host, req("ivy", c.Credit("coins", 1)))).body["balance"] == 7
    finally:
        await host.stop()
