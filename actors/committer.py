"""Group commit: writes that arrive while a commit is in flight wait and go together in the
next one, so a burst costs one transaction (one fsync) rather than one per command. Callers
are answered only after their write is durable. A batch the store refuses as a whole is tried
again one write at a time, so one write no store can keep fails alone, not every tenant's
command that happened to share its transaction."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from actors.metrics import HostMetrics
from actors.stores.base import CommitResult, JournalRecord, JournalStore, RememberedAnswer

log = logging.getLogger("ludex.committer")


class EntityUnavailableError(Exception):
    """A write could not be made durable; the caller may retry (with its idempotency key)."""


class WrongOwnerError(EntityUnavailableError):
    """The store refused the write: its slot has moved to another host (a later epoch). Nothing
    was written, so the new owner may decide the command afresh."""


@dataclass(eq=False)  # compared by identity: `in` over a batch must not compare records field by field
class PendingWrite:
    record: JournalRecord | None
    outcome: RememberedAnswer | None
    future: asyncio.Future[None]
    owner: Any = None
    on_durable: Callable[[], None] | None = field(default=None, repr=False)


class GroupCommitter:
    def __init__(
        self,
        store: JournalStore,
        *,
        max_batch_size: int = 512,
        group_commit: bool = True,
        metrics: HostMetrics | None = None,
    ) -> None:
        self.store = store
        self.metrics = metrics or HostMetrics()
        self.max_batch_size = max_batch_size if group_commit else 1
        self._queue: list[PendingWrite] = []
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._in_flight = 0  # writes taken off the queue whose batch is not settled yet
        self.commits = 0
        self.records = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="ludex-group-commit")

    async def stop(self) -> None:
        # A batch in flight is off the queue: cancelling it then would leave its callers
        # unanswered although their writes may be durable.
        while self._queue or self._in_flight:
            await asyncio.sleep(0.001)
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def submit(self, write: PendingWrite) -> None:
        self._queue.append(write)
        self._wakeup.set()

    async def _run(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._queue:
                batch = self._queue[: self.max_batch_size]
                del self._queue[: self.max_batch_size]
                self._in_flight = len(batch)
                try:
                    await self._commit(batch)
                except Exception:  # the loop outlives any one batch: later writers must still commit
                    log.exception("group commit failed unexpectedly; its writes are answered unavailable")
                    for write in batch:
                        _break(write.owner)
                        _fail(write, "the commit failed")
                finally:
                    self._in_flight = 0

    async def _commit(self, batch: list[PendingWrite]) -> None:
        live = self._live(batch)
        if not live:
            return
        started = time.perf_counter()
        try:
            result = await self._write(live)
        except Exception as error:  # noqa: BLE001 - any store failure makes the batch unknown
            if len(live) == 1:
                _break(live[0].owner)
                _fail(live[0], f"store write failed: {error}")
                return
            log.warning("a batch of %d writes failed (%s); committing them one at a time", len(live), error)
            await self._commit_one_by_one(live)
            return
        self.metrics.commit_seconds.observe(time.perf_counter() - started)
        self.metrics.batch_size.observe(len(live))
        self.commits += 1
        self.records += len(live)
        self._settle(live, result)

    def _live(self, batch: list[PendingWrite]) -> list[PendingWrite]:
        """The writes still worth making: none after a failed write of the same entity."""
        live = [w for w in batch if not getattr(w.owner, "broken", False)]
        for write in batch:
            if write not in live:
                _fail(write, "an earlier write of this entity failed")
        return live

    async def _write(self, writes: list[PendingWrite]) -> CommitResult:
        return await self.store.commit(
            [w.record for w in writes if w.record is not None],
            [w.outcome for w in writes if w.outcome is not None],
        )

    async def _commit_one_by_one(self, writes: list[PendingWrite]) -> None:
        """After a failed batch: each write alone, in order, so only the offending one (and the
        later writes of its entity, decided on top of it) fail. On MongoDB part of the failed
        batch may have landed; such a write now meets its own `(entity, seq)` and is answered
        unavailable, and the caller's retry replays it from the journal."""
        for write in writes:
            if not self._live([write]):
                continue
            try:
                result = await self._write([write])
            except Exception as error:  # noqa: BLE001 - this write is the one no store keeps
                log.warning("write %s failed alone: %s", _describe(write), error)
                _break(write.owner)
                _fail(write, f"store write failed: {error}")
                continue
            self.commits += 1
            self.records += 1
            self._settle([write], result)

    def _settle(self, live: list[PendingWrite], result: CommitResult) -> None:
        for write in live:
            record = write.record
            if record is not None and (record.entity, record.seq) in result.conflicts:
                _break(write.owner)
                _fail(write, "another host wrote this entity")
                continue
            if record is not None and (record.entity, record.seq) in result.stale:
                _break(write.owner)
                if not write.future.done():
                    write.future.set_exception(WrongOwnerError(f"slot {record.slot} moved past epoch {record.epoch}"))
                continue
            if getattr(write.owner, "broken", False):
                _fail(write, "an earlier write of this entity failed")
                continue
            if write.on_durable is not None:
                try:
                    write.on_durable()
                except Exception:  # the write is durable: its caller is answered regardless
                    log.exception("a durability callback of %s failed", _describe(write))
            if not write.future.done():
                write.future.set_result(None)


def _describe(write: PendingWrite) -> str:
    if write.record is not None:
        return f"{write.record.entity}#{write.record.seq}"
    return f"outcome of {write.outcome.entity}" if write.outcome is not None else "an empty write"


def _break(owner: Any) -> None:
    if owner is not None:
        owner.broken = True


def _fail(write: PendingWrite, reason: str) -> None:
    if not write.future.done():
        write.future.set_exception(EntityUnavailableError(reason))
