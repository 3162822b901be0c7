"""Natural batching for calls that cost more per call than per item (a Ray actor call, a store
round trip): items submitted while `max_inflight` batches are in flight wait and go together in
the next batch, so an idle system answers one item at once and a busy one pays the per-call
cost once per batch. Items keep their submission order inside and across batches."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Coalescer(Generic[T, R]):
    def __init__(
        self,
        send: Callable[[list[T]], Awaitable[Sequence[R]]],
        *,
        max_batch_size: int = 256,
        max_inflight: int = 1,
    ) -> None:
        self._send = send
        self.max_batch_size = max_batch_size
        self.max_inflight = max_inflight
        self._queue: list[tuple[T, asyncio.Future[R]]] = []
        self._inflight = 0
        self._scheduled = False
        self._tasks: set[asyncio.Task[None]] = set()
        self.batches = 0
        self.items = 0

    async def call(self, item: T) -> R:
        """The answer `send` gave for `item`; `send`'s exception if its batch failed."""
        return await self.submit(item)

    def submit(self, item: T) -> asyncio.Future[R]:
        """`call` without awaiting yet: a caller can start other work (another coalesced read)
        and await both, without the task a `gather` would create per item."""
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        self._schedule()
        return future

    def _schedule(self) -> None:
        # Flush on the next loop turn, so every item submitted in this turn joins the batch.
        if not self._scheduled and self._inflight < self.max_inflight:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._scheduled = False
        while self._queue and self._inflight < self.max_inflight:
            batch = self._queue[: self.max_batch_size]
            del self._queue[: self.max_batch_size]
            self._inflight += 1
            task = asyncio.create_task(self._run(batch))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _run(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        self.batches += 1
        self.items += len(batch)
        try:
            answers = await self._send([item for item, _ in batch])
        except BaseException as error:  # noqa: BLE001 - every waiter of the batch gets the failure
            for _, future in batch:
                if not future.done():
                    future.set_exception(error)
            if not isinstance(error, Exception):
                raise
        else:
            for (_, future), answer in zip(batch, answers, strict=True):
                if not future.done():  # a waiter that gave up (e.g. its client left) is skipped
                    future.set_result(answer)
        finally:
            self._inflight -= 1
            if self._queue:
                self._schedule()
