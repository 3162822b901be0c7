"""A keyed load of XP awards and purchases from several clients through the shard directory, and
the checks that must hold after shard hosts came, went or died under it.

Clients behave like the SDKs: every command carries an idempotency key, and an answer that is
`entity-unavailable` (503) is retried with the same key until it gets a real answer.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from actors.directory import ShardDirectory
from actors.host import UNAVAILABLE, CommandRequest
from actors.stores.base import JournalRecord, Store
from engine import commands as c
from engine.identity import player_key
from engine.outcomes import Outcome

T, P = "acme", "space"
START_COINS = 1_000_000


@dataclass
class LoadStats:
    acked: dict[str, Outcome] = field(default_factory=dict)  # key -> final answer
    player_of: dict[str, str] = field(default_factory=dict)  # key -> player
    retried: set[str] = field(default_factory=set)  # keys sent more than once
    unavailable: int = 0  # 503 answers (each one retried)
    ack_times: list[float] = field(default_factory=list)  # monotonic time of each acknowledgement
    longest_wait_s: float = 0.0  # the longest a command waited for its answer (retries included)

    def rate(self, start: float, end: float) -> float:
        """Acknowledged commands per second within [start, end)."""
        count = sum(1 for at in self.ack_times if start <= at < end)
        return count / (end - start) if end > start else 0.0


def players(count: int) -> list[str]:
    return [f"p{i:03d}" for i in range(count)]


async def prepare(directory: ShardDirectory, economy: dict[str, Any], names: list[str]) -> None:
    assert (await directory.define_economy(T, P, economy)).ok
    created = await directory.execute(
        [CommandRequest(T, P, p, c.CreatePlayer(username=p), f"create-{p}") for p in names]
    )
    assert all(o.ok for o in created), created
    credited = await directory.execute(
        [CommandRequest(T, P, p, c.Credit("coins", START_COINS), f"coins-{p}") for p in names]
    )
    assert all(o.ok for o in credited), credited


def command_for(client: int, n: int) -> c.Command:
    return c.Purchase("potion-pack") if (client + n) % 4 == 0 else c.AwardXp(1 + (client * 7 + n) % 50)


async def client_loop(
    directory: ShardDirectory, client: int, names: list[str], stats: LoadStats, stop: asyncio.Event, batch: int = 4
) -> None:
    """Sends `batch` keyed commands per call (a `/commands` batch) until `stop` is set, retrying
    503s with the same keys; every key it started ends acknowledged."""
    n = 0
    while not stop.is_set():
        keys, requests = [], []
        for _ in range(batch):
            key = f"c{client}-{n}"
            player = names[(client * 31 + n * 7) % len(names)]
            stats.player_of[key] = player
            keys.append(key)
            requests.append(CommandRequest(T, P, player, command_for(client, n), key))
            n += 1
        began = time.monotonic()
        pending = list(range(len(requests)))
        while pending:
            outcomes = await directory.execute([requests[i] for i in pending])
            again = []
            for index, outcome in zip(pending, outcomes, strict=True):
                if not outcome.ok and outcome.slug == UNAVAILABLE:
                    stats.unavailable += 1
                    stats.retried.add(keys[index])
                    again.append(index)
                else:
                    stats.acked[keys[index]] = outcome
                    stats.ack_times.append(time.monotonic())
            pending = again
            if pending:
                await asyncio.sleep(0.05)
        stats.longest_wait_s = max(stats.longest_wait_s, time.monotonic() - began)


async def read_player_journals(store: Store, names: list[str]) -> dict[str, list[JournalRecord]]:
    journals = {}
    for name in names:
        journals[name] = await store.read_journal(player_key(T, P, name))
    return journals


async def check_invariants(
    directory: ShardDirectory, store: Store, names: list[str], stats: LoadStats
) -> dict[str, list[JournalRecord]]:
    """Every acknowledged command is in the journal exactly once (retried keys included), no two
    hosts wrote one slot in one epoch, epochs never go back within an entity's journal, and each
    balance equals the sum of its ledger. Answers the journals, for further checks."""
    journals = await read_player_journals(store, names)
    keyed = Counter(r.idempotency_key for records in journals.values() for r in records if r.idempotency_key)
    duplicates = {key: count for key, count in keyed.items() if count > 1}
    assert duplicates == {}, f"commands applied twice: {list(duplicates)[:5]}"
    accepted = {key for key, outcome in stats.acked.items() if outcome.ok}
    missing = sorted(key for key in accepted if keyed[key] != 1)
    assert missing == [], f"acknowledged but not journaled: {missing[:5]}"
    writers: dict[tuple[int, int], set[str]] = defaultdict(set)
    for name, records in journals.items():
        epochs = [r.epoch for r in records if r.epoch is not None]
        assert epochs == sorted(epochs), f"{name}: a stale epoch was written after a newer one: {epochs}"
        for record in records:
            if record.epoch is not None:
                assert record.slot is not None and record.host is not None
                writers[(record.slot, record.epoch)].add(record.host)
    shared = {slot_epoch: hosts for slot_epoch, hosts in writers.items() if len(hosts) > 1}
    assert shared == {}, f"two hosts wrote one slot in one epoch: {shared}"
    for name in names:
        wallet = await directory.view(T, P, name, "wallet")
        assert wallet.ok, wallet
        entries = await directory.ledger(T, P, name, currency=None, after=(0, 0), limit=100_000)
        totals: Counter[str] = Counter()
        for entry in entries:
            totals[entry["currency"]] += entry["delta"]
        balances = {k: v for k, v in wallet.body["balances"].items() if v}
        history = [(r.seq, r.slot, r.epoch, r.host, r.idempotency_key) for r in journals[name]]
        assert balances == {k: v for k, v in totals.items() if v}, f"{name}: {balances} != {totals}; {history}"
    return journals


async def replay_some(directory: ShardDirectory, stats: LoadStats, count: int = 40) -> None:
    """Keys acknowledged before the moves, sent again after them: the original answer, replayed."""
    keys = [key for key, outcome in stats.acked.items() if outcome.ok][:count]
    requests = []
    for key in keys:
        client, n = (int(part) for part in key[1:].split("-"))
        requests.append(CommandRequest(T, P, stats.player_of[key], command_for(client, n), key))
    outcomes = await directory.execute(requests)
    for key, outcome in zip(keys, outcomes, strict=True):
        assert outcome.ok and outcome.replayed, (key, outcome)
        assert outcome.body == stats.acked[key].body, key


async def wait_for_acks(stats: LoadStats, more: int, timeout_s: float = 120.0) -> None:
    target = len(stats.acked) + more
    deadline = time.monotonic() + timeout_s
    while len(stats.acked) < target:
        assert time.monotonic() < deadline, f"the load stalled at {len(stats.acked)} acknowledgements"
        await asyncio.sleep(0.05)
