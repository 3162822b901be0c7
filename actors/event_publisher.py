"""Shard hosts announce committed events to the ingress replicas' realtime hubs
(`actors.ingress.realtime_hub`) through Redis pub/sub: a wake-up, not the data path, so it may
drop messages."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Any, Protocol

import orjson

from actors.redis_client import connect_redis
from actors.stores.base import EventRecord

log = logging.getLogger("ludex.fanout")

CHANNEL_PREFIX = "ludex:events:"


def channel(tenant: str, project: str) -> str:
    return f"{CHANNEL_PREFIX}{tenant}:{project}"


class EventPublisher(Protocol):
    """Announces committed events to the ingress replicas. `publish` must not block nor raise:
    announcements are best-effort wake-ups, the store stays the source of truth."""

    def publish(self, events: Sequence[EventRecord]) -> None: ...

    async def close(self) -> None: ...


class RedisEventPublisher:
    """PUBLISHes events (`EventRecord.public()` JSON, `{"events": [...]}`) on the channel of their
    project. Events published together are coalesced into one message per channel and flushed by a
    background task, so a burst of commits costs a few round trips, not one each."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._client: Any = None
        self._pending: dict[str, list[dict[str, Any]]] = {}
        self._flusher: asyncio.Task[None] | None = None
        self.published = 0

    def publish(self, events: Sequence[EventRecord]) -> None:
        if not events:
            return
        for event in events:
            self._pending.setdefault(channel(event.tenant, event.project), []).append(event.public())
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.get_running_loop().create_task(self._flush(), name="ludex-event-publisher")

    async def _flush(self) -> None:
        while self._pending:
            pending, self._pending = self._pending, {}
            try:
                if self._client is None:
                    self._client = connect_redis(self.url, max_connections=8)
                async with self._client.pipeline(transaction=False) as pipe:
                    for name, events in pending.items():
                        pipe.publish(name, orjson.dumps({"events": events}))
                    await pipe.execute()
                self.published += len(pending)
            except Exception as error:  # noqa: BLE001 - a lost wake-up only delays delivery to the next poll
                log.warning("cannot publish events to redis: %s", error)

    async def close(self) -> None:
        if self._flusher is not None:
            with contextlib.suppress(Exception):
                await self._flusher
        if self._client is not None:
            with contextlib.suppress(Exception):
                await self._client.aclose()
            self._client = None
