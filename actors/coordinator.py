"""The slot coordinator: keeps the durable slot table (slot -> host, epoch), deals slots to the
shard hosts, and moves them when hosts come, go or die.

It is the table's only writer (hosts only re-claim their own slots when they restart), and it
keeps nothing the store does not: a coordinator that restarts reads the table back and carries
on. A move is a handoff:

1. the source holds the slots' new commands, lets the ones inside finish (their commits
   included), snapshots and drops their entities (`ShardHost.release_slots`);
2. the table moves each slot to the target one epoch on (compare-and-set), so anything the
   source might still write is refused by the store;
3. the target owns them (`adopt_slots`; entities activate on demand) and the map's version
   moves on;
4. the source answers the held commands `wrong-owner`; ingress replicas refresh their map and
   send them again, to the target.

A host that Ray reports dead or restarting for `down_after_s` is presumed dead: its slots move without step 1
(the epoch bump fences it), and it gets a share back through ordinary handoffs if it returns.
The plain class runs anywhere; `actors.cluster` makes it a Ray actor with a Ray `HostPool`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from actors.stores.base import DocumentStore, SlotClaim, SlotOwner, SlotStore, StoreLifecycle
from engine.slots import DEFAULT_SLOTS, Move, handoff_batches, initial_owners, rebalance


class CoordinatorStore(StoreLifecycle, DocumentStore, SlotStore, Protocol):
    """The coordinator owns its store (opens and closes it), deals out the slot table and keeps
    its documents."""


log = logging.getLogger("ludex.coordinator")
CLUSTER_KIND, SHARDS_ID = "cluster", "shards"  # the control document: wanted host count, slot count


class HostPool(Protocol):
    """What the coordinator needs of shard hosts, by name (Ray actors in production)."""

    async def start(self, names: list[str], slots: int) -> None: ...

    async def stop(self, names: list[str]) -> None: ...

    async def release(self, name: str, slots: list[int], timeout_s: float) -> int: ...

    async def adopt(self, name: str, owned: dict[int, int], exact: bool) -> None: ...

    async def forget(self, name: str, slots: list[int]) -> None: ...

    async def alive(self, name: str, timeout_s: float) -> bool: ...


@dataclass
class MoveReport:
    """What a rebalance did: the figures docs/SCALING.md reports."""

    moved: int = 0
    handoffs: int = 0
    seconds: float = 0.0
    longest_handoff_s: float = 0.0
    passivated: int = 0
    failures: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "moved": self.moved,
            "handoffs": self.handoffs,
            "seconds": round(self.seconds, 4),
            "movesPerSecond": round(self.moved / self.seconds, 1) if self.seconds > 0 else None,
            "longestHandoffS": round(self.longest_handoff_s, 4),
            "passivated": self.passivated,
            "failures": self.failures,
        }


class Coordinator:
    def __init__(
        self,
        store: CoordinatorStore,
        pool: HostPool,
        *,
        host_name: Callable[[int], str],
        slots: int = DEFAULT_SLOTS,
        batch_size: int = 64,
        handoff_timeout_s: float = 10.0,
        down_after_s: float = 10.0,
        check_interval_s: float = 1.0,
        ping_timeout_s: float = 2.0,
    ) -> None:
        self.store = store
        self.pool = pool
        self.host_name = host_name
        self.configured_slots = slots  # used only when the store has no table yet
        self.slots = slots
        self.batch_size = batch_size
        self.handoff_timeout_s = handoff_timeout_s
        self.down_after_s = down_after_s
        self.check_interval_s = check_interval_s
        self.ping_timeout_s = ping_timeout_s
        self.table: list[SlotOwner] = []
        self.hosts: list[str] = []
        self.version = 0
        self.last_report = MoveReport()
        self.down: set[str] = set()
        self._failing_since: dict[str, float] = {}
        self._lock = asyncio.Lock()
        self._started = False
        self._starting = asyncio.Lock()
        self._watcher: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------------------ lifecycle

    async def start(self, hosts: int | None = None, *, watch: bool = True) -> None:
        """Open the store and read the table back (dealing a fresh one over `hosts` hosts when
        there is none). The slot count and the wanted host count are durable, so a restarted
        coordinator keeps the last count scaled to; `hosts` only matters for a new store."""
        async with self._starting:
            if self._started:
                return
            await self.store.open()
            # The slot count is written before the table, so a table a crash left half written
            # is recognised (and completed) however its rows landed.
            cluster = await self.store.get_document(CLUSTER_KIND, SHARDS_ID)
            if cluster is None:
                cluster = {"hosts": hosts or 1, "slots": self.configured_slots}
                await self.store.put_document(CLUSTER_KIND, SHARDS_ID, cluster)
            self.slots = int(cluster["slots"])
            self.hosts = [self.host_name(i) for i in range(int(cluster["hosts"]))]
            if len(await self.store.load_slots()) != self.slots:
                owners = initial_owners(self.slots, self.hosts)
                await self.store.init_slots([SlotOwner(s, h, 1) for s, h in enumerate(owners) if h is not None])
            await self._load()
            self._started = True
            if watch:
                self._watcher = asyncio.create_task(self._watch_forever(), name="ludex-coordinator-watch")

    async def stop(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            await asyncio.gather(self._watcher, return_exceptions=True)
        if self._started:
            self._started = False
            await self.store.close()

    def pid(self) -> int:
        return os.getpid()

    async def _load(self) -> None:
        rows = await self.store.load_slots()
        if [row.slot for row in rows] != list(range(len(rows))):
            raise RuntimeError(f"the slot table is not slots 0..{len(rows) - 1}: a half-written table?")
        self.table = rows
        self.version = max(self.version, sum(row.epoch for row in self.table))

    # ------------------------------------------------------------------------------ the map

    async def slot_map(self) -> dict[str, Any]:
        """What ingress replicas cache: each slot's host, and a version that only grows."""
        await self.start()
        return {
            "version": self.version,
            "slots": len(self.table),
            "owners": [row.host for row in self.table],
            "hosts": list(self.hosts),
            "down": sorted(self.down),
        }

    async def describe(self) -> dict[str, Any]:
        """The operators' view: hosts, their slot counts, and what the last rebalance did."""
        await self.start()
        counts = {host: 0 for host in self.hosts}
        for row in self.table:
            counts[row.host] = counts.get(row.host, 0) + 1
        return {
            "hosts": len(self.hosts),
            "slots": len(self.table),
            "version": self.version,
            "owners": [{"host": h, "slots": n, "down": h in self.down} for h, n in sorted(counts.items())],
            "lastRebalance": self.last_report.as_dict(),
        }

    # ------------------------------------------------------------------------------ scaling

    async def scale(self, hosts: int) -> dict[str, Any]:
        """Run `hosts` shard hosts: start the new ones, give every host its fair share of slots
        (handoffs while serving), then stop the ones no longer wanted."""
        if hosts < 1:
            raise ValueError("at least one shard host is needed")
        await self.start()
        async with self._lock:
            await self.store.put_document(CLUSTER_KIND, SHARDS_ID, {"hosts": hosts, "slots": self.slots})
            names = [self.host_name(i) for i in range(hosts)]
            removed = [name for name in self.hosts if name not in names]
            await self.pool.start(names, len(self.table))  # idempotent: running hosts are found
            self.hosts = names
            report = await self._rebalance()
            if removed:
                await self.pool.stop(removed)
                self.down -= set(removed)
        return {**await self.describe(), "lastRebalance": report.as_dict()}

    async def rebalance(self) -> dict[str, Any]:
        await self.start()
        async with self._lock:
            return (await self._rebalance()).as_dict()

    async def _rebalance(self) -> MoveReport:
        await self._load()
        live = [h for h in self.hosts if h not in self.down] or list(self.hosts)
        moves = rebalance([row.host for row in self.table], live)
        report = MoveReport()
        started = time.perf_counter()
        for batch in handoff_batches(moves, self.batch_size):
            await self._hand_off(batch, report)
        report.seconds = time.perf_counter() - started
        if moves:
            self.last_report = report
            log.info("rebalanced over %d hosts: %s", len(live), report.as_dict())
        return report

    async def _hand_off(self, batch: list[Move], report: MoveReport) -> None:
        source, target = batch[0].source, batch[0].target
        slots = [move.slot for move in batch]
        began = time.perf_counter()
        if source is not None:
            # Even a host presumed dead is asked (briefly): one Ray restarted meanwhile may be
            # serving these slots again, and a drained handoff leaves nothing in flight.
            timeout = self.ping_timeout_s if source in self.down else self.handoff_timeout_s
            try:
                report.passivated += await self.pool.release(source, slots, timeout)
            except Exception as error:  # noqa: BLE001 - the epoch bump fences it out anyway
                report.failures.append(f"release {source}: {type(error).__name__}")
        moved = await self._claim(slots, source, target)
        try:
            await self.pool.adopt(target, {row.slot: row.epoch for row in moved}, False)
        except Exception as error:  # noqa: BLE001 - the watchdog moves them on if it is dead
            report.failures.append(f"adopt {target}: {error}")
        self.version += len(moved)
        if source is not None:
            try:
                await self.pool.forget(source, slots)
            except Exception as error:  # noqa: BLE001 - a dead source holds nobody
                report.failures.append(f"forget {source}: {type(error).__name__}")
        report.moved += len(moved)
        report.handoffs += 1
        report.longest_handoff_s = max(report.longest_handoff_s, time.perf_counter() - began)

    async def _claim(self, slots: list[int], source: str | None, target: str) -> list[SlotOwner]:
        """Move the slots still held by `source` to `target`, one epoch on. A claim that lost
        (the source restarted and re-claimed its slots meanwhile) is read again and retried."""
        moved: list[SlotOwner] = []
        pending = slots
        for _ in range(5):
            rows = {row.slot: row for row in self.table}
            claims = [SlotClaim(s, rows[s].epoch, target) for s in pending if rows[s].host in (source, target)]
            claims = [c for c in claims if rows[c.slot].host != target]
            done = await self.store.move_slots(claims)
            for row in done:
                self.table[row.slot] = row
            moved += done
            pending = [c.slot for c in claims if c.slot not in {row.slot for row in done}]
            if not pending:
                break
            await self._load()
        return moved

    # ------------------------------------------------------------------------------ failures

    async def check_hosts(self) -> list[str]:
        """One round of the watchdog: ping every host; move the slots of one silent for
        `down_after_s` to the others; give a returning one its share back. Answers the hosts
        now presumed down."""
        await self.start()
        now = time.monotonic()
        answers = await asyncio.gather(*(self.pool.alive(h, self.ping_timeout_s) for h in self.hosts))
        changed = False
        for host, alive in zip(self.hosts, answers, strict=True):
            if alive:
                self._failing_since.pop(host, None)
                if host in self.down:
                    self.down.discard(host)
                    changed = True
                    log.warning("shard host %s answers again: it gets its share back", host)
                continue
            since = self._failing_since.setdefault(host, now)
            if host not in self.down and now - since >= self.down_after_s:
                self.down.add(host)
                changed = True
                log.warning("shard host %s silent for %.1f s: moving its slots away", host, now - since)
        if changed and len(self.down) < len(self.hosts):
            async with self._lock:
                await self._rebalance()
        return sorted(self.down)

    async def _watch_forever(self) -> None:
        while True:
            await asyncio.sleep(self.check_interval_s)
            try:
                await self.check_hosts()
            except Exception:
                log.exception("the shard host check failed; trying again")
