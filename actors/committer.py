"""Group commit: writes that arrive while a commit is in flight wait and go together in the
next one, so a burst costs one transaction (one fsync) rather than one per command. Callers
are answered only after their write is durable."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from actors.metrics import HostMetrics
from actors.stores.base import CommitResult, JournalRecord, Outcome, Store


class EntityUnavailableError(Exception):
    """A write could not be made durable; the caller may retry (with its idempotency key)."""


@dataclass(eq=False)  # compared by identity: `in` over a batch must not compare records field by field
class PendingWrite:
    record: JournalRecord | None
    outcome: Outcome | None
    future: asyncio.Future[None]
    owner: Any = None
    on_durable: Callable[[], None] | None = field(default=None, repr=False)


class GroupCommitter:
    def __init__(
        self, store: Store, *, max_batch_size: int = 512, group_commit: bool = True, metrics: HostMetrics | None = None
    ) -> None:
        self.store = store
        self.metrics = metrics or HostMetrics()
        self.max_batch_size = max_batch_size if group_commit else 1
        self._queue: list[PendingWrite] = []
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.commits = 0
        self.records = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="ludex-group-commit")

    async def stop(self) -> None:
        while self._queue:
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
                await self._commit(batch)

    async def _commit(self, batch: list[PendingWrite]) -> None:
        live = [w for w in batch if not getattr(w.owner, "broken", False)]
        for write in batch:
            if write not in live:
                _fail(write, "an earlier write of this entity failed")
        if not live:
            return
        started = time.perf_counter()
        try:
            result = await self.store.commit(
                [w.record for w in live if w.record is not None],
                [w.outcome for w in live if w.outcome is not None],
            )
        except Exception as error:  # noqa: BLE001 - any store failure makes the batch unknown
            for write in live:
                _break(write.owner)
                _fail(write, f"store write failed: {error}")
            return
        self.metrics.commit_seconds.observe(time.perf_counter() - started)
        self.metrics.batch_size.observe(len(live))
        self.commits += 1
        self.records += len(live)
        self._settle(live, result)

    def _settle(self, live: list[PendingWrite], result: CommitResult) -> None:
        for write in live:
            record = write.record
            if record is not None and (record.entity, record.seq) in result.conflicts:
                _break(write.owner)
                _fail(write, "another host wrote this entity")
                continue
            if getattr(write.owner, "broken", False):
                _fail(write, "an earlier write of this entity failed")
                continue
            if write.on_durable is not None:
                write.on_durable()
            if not write.future.done():
                write.future.set_result(None)


def _break(owner: Any) -> None:
    if owner is not None:
        owner.broken = True


def _fail(write: PendingWrite, reason: str) -> None:
    if not write.future.done():
        write.future.set_exception(EntityUnavailableError(reason))
