"""Usage counters for billing and the monthly plan quotas they enforce.

Every authenticated game API call adds one `requests` to its tenant's month (`YYYY-MM`, UTC);
every accepted command adds the number of events it produced to `events` (replays add
nothing). Two meters keep the counts:

- `LocalUsageMeter` (the embedded default) counts in memory and flushes the deltas to store
  documents of kind `usage`, id `<tenant>/<YYYY-MM>`, at most every `flush_interval_s`. Each
  ingress replica folds in what the others flushed when it flushes, so with several replicas
  a count may lag by one flush interval (and a crash loses at most that much).
- `RedisUsageMeter` (when `LUDEX_REDIS_URL` is set) increments one hash per tenant and month,
  `ludex:usage:<tenant>:<YYYY-MM>`, with HINCRBY, shared exactly by every replica.

`PlanCache` keeps each tenant's plan for a few seconds so the hot path does not read two
control-plane documents per call, and `Metering` puts the pieces together for the game API.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from actors.clock import SystemClock
from actors.control import PLANS, TENANTS
from actors.documents import update_document
from actors.stores.base import Store
from engine.outcomes import Outcome
from engine.rules import rfc3339

USAGE = "usage"
REDIS_PREFIX = "ludex:usage:"
REDIS_TTL_S = 400 * 24 * 3600  # a month's counters outlive the month by more than a year of billing


@dataclass(frozen=True)
class Usage:
    tenant: str
    month: str
    requests: int = 0
    events: int = 0

    @property
    def id(self) -> str:
        return f"{self.tenant}/{self.month}"


def month_of(moment: datetime) -> str:
    """The UTC month of `moment` as `YYYY-MM`."""
    return moment.astimezone(UTC).strftime("%Y-%m")


def seconds_to_next_month(moment: datetime) -> int:
    """Whole seconds (at least 1) from `moment` to the first instant of the next UTC month."""
    moment = moment.astimezone(UTC)
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    start = datetime(year, month, 1, tzinfo=UTC)
    return max(1, int((start - moment).total_seconds() + 0.999999))


def events_of(outcomes: Iterable[Outcome]) -> int:
    """Events produced by fresh accepted commands; replays and rejections produce none."""
    return sum(len(o.event_ids) for o in outcomes if o.ok and not o.replayed)


@dataclass(frozen=True)
class QuotaRefusal:
    quota: str  # "eventsPerMonth" or "requestsPerMonth"
    used: int
    limit: int
    retry_after_s: int

    @property
    def detail(self) -> str:
        what = "events" if self.quota == "eventsPerMonth" else "requests"
        return f"the plan's {self.limit} {what} per month are used up ({self.used}); the quota resets next month"


def quota_refusal(plan: dict[str, Any] | None, usage: Usage, now: datetime) -> QuotaRefusal | None:
    """Why an economy-changing call must be refused this month, if it must. `usage` counts the
    call being decided as one of its requests: a call past `requestsPerMonth` is refused, and
    so is any call once the month's events have reached `eventsPerMonth`. A batch admitted just
    under the events quota may overshoot it by its own events (the quota is checked, not reserved)."""
    if plan is None:
        return None
    events_quota, requests_quota = plan.get("eventsPerMonth"), plan.get("requestsPerMonth")
    if events_quota is not None and usage.events >= events_quota:
        return QuotaRefusal("eventsPerMonth", usage.events, events_quota, seconds_to_next_month(now))
    if requests_quota is not None and usage.requests > requests_quota:
        return QuotaRefusal("requestsPerMonth", usage.requests, requests_quota, seconds_to_next_month(now))
    return None


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

    def __init__(self, store: Store | None = None, *, flush_interval_s: float = 1.0, clock: Any = None) -> None:
        self.store = store
        self.flush_interval_s = flush_interval_s
        self.clock = clock or SystemClock()
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


def connect_redis(url: str, max_connections: int = 64) -> Any:
    """An asyncio Redis client whose pool makes callers wait for a free connection (up to 5 s)
    rather than fail when a burst wants more than `max_connections` at once."""
    from redis.asyncio import BlockingConnectionPool, Redis

    pool = BlockingConnectionPool.from_url(url, max_connections=max_connections, timeout=5, decode_responses=True)
    return Redis.from_pool(pool)


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


class PlanCache:
    """Each tenant's plan (None: no plan, so no quotas), re-read after `ttl_s` seconds."""

    def __init__(self, store: Store, *, ttl_s: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.ttl_s = ttl_s
        self.clock = clock
        self._plans: dict[str, tuple[float, dict[str, Any] | None]] = {}

    async def plan_of(self, tenant: str) -> dict[str, Any] | None:
        now = self.clock()
        cached = self._plans.get(tenant)
        if cached is not None and now - cached[0] < self.ttl_s:
            return cached[1]
        plan = await self._read(tenant)
        self._plans[tenant] = (now, plan)
        return plan

    async def _read(self, tenant: str) -> dict[str, Any] | None:
        document = await self.store.get_document(TENANTS, tenant)
        plan_id = None if document is None else document.get("planId")
        if plan_id is None:
            return None
        plan = await self.store.get_document(PLANS, plan_id)
        return None if plan is None or plan.get("deleted") else plan


class PlayerCounts:
    """Each tenant's live players (up to its quota), re-counted after `ttl_s` seconds: a quota
    check per creation without a count per creation. Several creations within one interval may
    pass the quota by that many; the next count stops them."""

    def __init__(self, store: Store, *, ttl_s: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.ttl_s = ttl_s
        self.clock = clock
        self._counts: dict[str, tuple[float, int]] = {}

    async def live_players(self, tenant: str, limit: int) -> int:
        now = self.clock()
        cached = self._counts.get(tenant)
        if cached is not None and now - cached[0] < self.ttl_s:
            return cached[1]
        count = await self.store.count_players(tenant, limit=limit)
        self._counts[tenant] = (now, count)
        return count

    def created(self, tenant: str) -> None:
        """A creation this replica saw lands in its cached count at once."""
        cached = self._counts.get(tenant)
        if cached is not None:
            self._counts[tenant] = (cached[0], cached[1] + 1)


class Metering:
    """What the game API needs per call: the tenant's plan, the call counted, the quota decided,
    and the events of accepted commands counted."""

    def __init__(
        self, meter: UsageMeter, plans: PlanCache, clock: Any = None, players: PlayerCounts | None = None
    ) -> None:
        self.meter = meter
        self.plans = plans
        self.players = players
        self.clock = clock or SystemClock()

    @classmethod
    def for_deployment(cls, store: Store, redis_url: str | None) -> Metering:
        meter: UsageMeter = RedisUsageMeter(redis_url) if redis_url else LocalUsageMeter(store)
        return cls(meter, PlanCache(store), players=PlayerCounts(store))

    def month(self) -> str:
        return month_of(self.clock.now())

    async def count_request(self, tenant: str) -> Usage:
        return await self.meter.add(tenant, self.month(), requests=1)

    def refusal(self, plan: dict[str, Any] | None, usage: Usage) -> QuotaRefusal | None:
        return quota_refusal(plan, usage, self.clock.now())

    async def count_events(self, tenant: str, outcomes: Sequence[Outcome]) -> int:
        produced = events_of(outcomes)
        if produced:
            await self.meter.add(tenant, self.month(), events=produced)
        return produced
