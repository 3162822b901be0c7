"""Usage meters: the counts for billing and for the monthly plan quotas.

Every authenticated game API call adds one `requests` to its tenant's month (`YYYY-MM`, UTC);
every accepted command adds the number of events it produced to `events` (replays add
nothing). Two meters keep the counts:

- `LocalUsageMeter` (the embedded default) counts in memory and flushes the deltas to store
  documents of kind `usage`, id `<tenant>/<YYYY-MM>`, at most every `flush_interval_s`. Each
  ingress replica folds in what the others flushed when it flushes, so with several replicas
  a count may lag by one flush interval (and a crash loses at most that much).
- `RedisUsageMeter` (when `LUDEX_REDIS_URL` is set) increments one hash per tenant and month,
  `ludex:usage:<tenant>:<YYYY-MM>`, with HINCRBY, shared exactly by every replica.

The quota rule is `engine.quotas`; `actors.ingress.plan_cache` keeps each tenant's plan for a few seconds
so the hot path does not read two control-plane documents per call, and `actors.ingress.metering` puts
the pieces together for the game API.
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from actors.clock import Clock, SystemClock
from actors.documents import update_document
from actors.redis_client import connect_redis
from actors.stores.base import DocumentStore
from engine.quotas import Usage
from engine.rules import rfc3339

USAGE = "usage"
REDIS_PREFIX = "ludex:usage:"
REDIS_TTL_S = 400 * 24 * 3600  # a month's counters outlive the month by more than a year of billing


class UsageMeter(Protocol):
    async def add(self, tenant: str, month: str, *, requests: int = 0, events: int = 0) -> Usage:
        """Count, and answer the month's totals including this addition."""
        ...

    async def get(self, tenant: str, month: str) -> Usage: ...

    async def list(
        self, *, tenant: str | None = None, month: str | None = None, after: str | None = None, limit: int = 1000
    ) -> list[Usage]:
        """Usage ordered by `<tenant>/<month>`, after that id, filtered by tenant and month."""
        ...

    async def flush(self) -> None: ...

    async def close(self) -> None: ...


def _matches(usage: Usage, tenant: str | None, month: str | None, after: str | None) -> bool:
    return (
        (tenant is None or usage.tenant == tenant)
        and (month is None or usage.month == month)
        and (after is None or usage.id > after)
    )


class LocalUsageMeter:
    """In-process counts, flushed to `usage` documents (see the module docstring)."""

    def __init__(
        self, store: DocumentStore | None = None, *, flush_interval_s: float = 1.0, clock: Clock | None = None
    ) -> None:
        self.store = store
        self.flush_interval_s = flush_interval_s
        self.clock: Clock = clock or SystemClock()
        self._stored: dict[tuple[str, str], tuple[int, int]] = {}  # last known document totals
        self._pending: dict[tuple[str, str], list[int]] = {}  # counted here, not yet flushed
        self._inflight: dict[tuple[str, str], tuple[int, int]] = {}  # being flushed right now
        self._lock = asyncio.Lock()
        self._last_flush = self.clock.monotonic()
        self._flushing: asyncio.Task[None] | None = None

    async def add(self, tenant: str, month: str, *, requests: int = 0, events: int = 0) -> Usage:
        key = (tenant, month)
        if key not in self._stored:
            await self._load(key)
        pending = self._pending.setdefault(key, [0, 0])
        pending[0] += requests
        pending[1] += events
        self._maybe_flush()
        return self._total(key)

    async def get(self, tenant: str, month: str) -> Usage:
        key = (tenant, month)
        if key not in self._stored:
            await self._load(key)
        return self._total(key)

    async def list(
        self, *, tenant: str | None = None, month: str | None = None, after: str | None = None, limit: int = 1000
    ) -> list[Usage]:
        await self.flush()
        if self.store is None:
            found = [self._total(key) for key in sorted(self._stored, key=lambda k: f"{k[0]}/{k[1]}")]
            return [u for u in found if _matches(u, tenant, month, after)][:limit]
        result: list[Usage] = []
        cursor = after
        while len(result) < limit:
            page = await self.store.list_documents(USAGE, tenant=tenant, after=cursor, limit=500)
            if not page:
                break
            result += [u for u in map(_from_document, page) if _matches(u, tenant, month, after)]
            cursor = page[-1]["id"]
        return result[:limit]

    async def flush(self) -> None:
        """Write the pending deltas into the store, folding in what other replicas wrote."""
        async with self._lock:
            self._last_flush = self.clock.monotonic()
            if self.store is None:
                return
            pending, self._pending = self._pending, {}
            self._inflight = {key: (r, e) for key, (r, e) in pending.items() if r or e}
            try:
                for key, (requests, events) in list(self._inflight.items()):
                    await self._write(key, requests, events)
            finally:
                for key, (requests, events) in self._inflight.items():  # not written: count them again
                    again = self._pending.setdefault(key, [0, 0])
                    again[0] += requests
                    again[1] += events
                self._inflight = {}

    async def close(self) -> None:
        if self._flushing is not None:
            await asyncio.gather(self._flushing, return_exceptions=True)
        await self.flush()

    def _total(self, key: tuple[str, str]) -> Usage:
        requests, events = self._stored.get(key, (0, 0))
        inflight = self._inflight.get(key, (0, 0))
        pending = self._pending.get(key, (0, 0))
        return Usage(key[0], key[1], requests + inflight[0] + pending[0], events + inflight[1] + pending[1])

    async def _load(self, key: tuple[str, str]) -> None:
        document = None if self.store is None else await self.store.get_document(USAGE, f"{key[0]}/{key[1]}")
        usage = Usage(key[0], key[1]) if document is None else _from_document(document)
        self._stored.setdefault(key, (usage.requests, usage.events))

    async def _write(self, key: tuple[str, str], requests: int, events: int) -> None:
        """Adds this replica's deltas to the stored totals by compare-and-set, so replicas
        flushing at once never overwrite each other's counts."""
        assert self.store is not None
        updated_at = rfc3339(self.clock.now())

        def add(document: dict[str, Any] | None) -> dict[str, Any]:
            before = Usage(key[0], key[1]) if document is None else _from_document(document)
            return _to_document(Usage(key[0], key[1], before.requests + requests, before.events + events), updated_at)

        written = await update_document(self.store, USAGE, f"{key[0]}/{key[1]}", add)
        assert written is not None
        after = _from_document(written)
        self._stored[key] = (after.requests, after.events)  # with no await in between, so that
        del self._inflight[key]  # totals never count a delta twice or not at all

    def _maybe_flush(self) -> None:
        if self.store is None or self._flushing is not None:
            return
        if self.clock.monotonic() - self._last_flush < self.flush_interval_s:
            return
        self._flushing = asyncio.get_running_loop().create_task(self.flush())
        self._flushing.add_done_callback(self._flushed)

    def _flushed(self, task: asyncio.Task[None]) -> None:
        self._flushing = None
        if not task.cancelled():
            task.exception()  # retrieved: a failed flush keeps its deltas and is retried later


def _to_document(usage: Usage, updated_at: str) -> dict[str, Any]:
    return {
        "id": usage.id,
        "tenantId": usage.tenant,
        "month": usage.month,
        "requests": usage.requests,
        "events": usage.events,
        "updatedAt": updated_at,
    }


def _from_document(document: dict[str, Any]) -> Usage:
    return Usage(document["tenantId"], document["month"], int(document["requests"]), int(document["events"]))


class RedisUsageMeter:
    """Counts in Redis hashes `ludex:usage:<tenant>:<YYYY-MM>` (fields `requests`, `events`)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = connect_redis(self.url)
        return self._client

    @staticmethod
    def key(tenant: str, month: str) -> str:
        return f"{REDIS_PREFIX}{tenant}:{month}"

    async def add(self, tenant: str, month: str, *, requests: int = 0, events: int = 0) -> Usage:
        key = self.key(tenant, month)
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.hincrby(key, "requests", requests)
            pipe.hincrby(key, "events", events)
            pipe.expire(key, REDIS_TTL_S)
            total_requests, total_events, _ = await pipe.execute()
        return Usage(tenant, month, int(total_requests), int(total_events))

    async def get(self, tenant: str, month: str) -> Usage:
        requests, events = await self.client.hmget(self.key(tenant, month), "requests", "events")
        return Usage(tenant, month, int(requests or 0), int(events or 0))

    async def list(
        self, *, tenant: str | None = None, month: str | None = None, after: str | None = None, limit: int = 1000
    ) -> list[Usage]:
        # An admin read: SCAN is O(keys) but keeps the hot path to one round trip.
        pattern = f"{REDIS_PREFIX}{tenant or '*'}:{month or '*'}"
        keys: set[str] = set()
        async for key in self.client.scan_iter(match=pattern, count=1000):
            keys.add(key)
        parsed = sorted(_parse_key(k) for k in keys)
        wanted = [(t, m) for t, m in parsed if _matches(Usage(t, m), tenant, month, after)][:limit]
        if not wanted:
            return []
        async with self.client.pipeline(transaction=False) as pipe:
            for t, m in wanted:
                pipe.hmget(self.key(t, m), "requests", "events")
            values = await pipe.execute()
        return [Usage(t, m, int(r or 0), int(e or 0)) for (t, m), (r, e) in zip(wanted, values, strict=True)]

    async def flush(self) -> None:
        """Nothing to flush: every count is already in Redis."""

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def _parse_key(key: str) -> tuple[str, str]:
    tenant, _, month = key.removeprefix(REDIS_PREFIX).rpartition(":")
    return tenant, month
