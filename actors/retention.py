"""Retention: the event store (the per-event rows behind `GET .../events`, realtime replays and
webhooks) forgets events older than `LUDEX_EVENT_RETENTION_DAYS`, and remembered idempotency
answers go after `LUDEX_IDEMPOTENCY_RETENTION_S` (at least 7 days); the journal, the ledger,
stays whole. Shard host 0 runs both purges from its sweeper loop at most once an hour, so one
process in the deployment does it whatever the number of shards or replicas.

A tenant whose own setting or plan says otherwise (`engine.retention`) is purged on its own by
its own cutoff, and spared by the platform-wide purge; each run reads the tenants and plans anew."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from actors.clock import Clock, epoch_ms
from actors.control_plane_records import PLANS, TENANTS
from actors.stores.base import DocumentStore, RetentionStore
from config.settings import Settings
from engine.retention import Retention, RetentionBounds, effective_retention
from engine.rules import rfc3339

PURGE_INTERVAL_S = 3600.0


async def purge_expired_events(
    store: RetentionStore,
    now: datetime,
    retention_days: float | None,
    *,
    only: str | None = None,
    sparing: Sequence[str] = (),
) -> int:
    """Drops the events that occurred more than `retention_days` before `now` and answers how
    many went; None (keep everything) or a non-positive retention purges nothing."""
    if retention_days is None or retention_days <= 0:
        return 0
    try:
        cutoff = now - timedelta(days=retention_days)
    except OverflowError:  # a retention longer than the calendar: nothing is old enough
        return 0
    return await store.purge_events(rfc3339(cutoff), only=only, sparing=sparing)


class TenantRetentions:
    """The tenants whose retention differs from the platform's, read from the control documents."""

    def __init__(self, store: DocumentStore, platform: Retention, bounds: RetentionBounds) -> None:
        self.store, self.platform, self.bounds = store, platform, bounds

    def default(self, attribute: str) -> float | None:
        """The days of `attribute` (a `Retention` field) of a tenant that sets nothing."""
        days: float | None = getattr(effective_retention(self.platform, self.bounds), attribute)
        return days

    async def differing(self, attribute: str) -> dict[str, float | None]:
        """Tenant -> its days of `attribute`, where not the default's."""
        plans = {p["id"]: p.get("retention") for p in await _every(self.store, PLANS)}
        default = self.default(attribute)
        differing = {}
        for tenant in await _every(self.store, TENANTS):
            plan = plans.get(tenant.get("planId") or "")
            own = effective_retention(self.platform, self.bounds, plan, tenant.get("retention"))
            if getattr(own, attribute) != default:
                differing[tenant["id"]] = getattr(own, attribute)
        return differing


async def _every(store: DocumentStore, kind: str) -> list[dict[str, Any]]:
    documents: list[dict[str, Any]] = []
    after: str | None = None
    while page := await store.list_documents(kind, after=after, limit=500):
        documents += page
        if len(page) < 500:
            break
        after = page[-1]["id"]
    return documents


async def purge_by_tenant(
    tenants: TenantRetentions | None,
    attribute: str,
    default: float | None,
    purge: Callable[[float, str | None, Sequence[str]], Awaitable[int]],
) -> int:
    """The platform-wide purge by `default` days (the bounded default, with `tenants`) sparing the
    tenants that differ, then each of those by its own days (None or non-positive: nothing goes)."""
    differing = {} if tenants is None else await tenants.differing(attribute)
    default = default if tenants is None else tenants.default(attribute)
    purged = 0
    if default is not None and default > 0:
        purged += await purge(default, None, sorted(differing))
    for tenant, days in sorted(differing.items()):
        if days is not None and days > 0:
            purged += await purge(days, tenant, [])
    return purged


class _Periodic:
    """At most one run an interval on the host's clock (`monotonic` for the interval, `now` for
    cutoffs), so tests drive it with `FakeClock`; the first call always runs."""

    def __init__(self, store: RetentionStore, clock: Clock, interval_s: float) -> None:
        self.store = store
        self.clock = clock
        self.interval_s = interval_s
        self._last_run: float | None = None

    def _due(self) -> bool:
        started = self.clock.monotonic()
        if self._last_run is not None and started - self._last_run < self.interval_s:
            return False
        self._last_run = started
        return True


class EventRetention(_Periodic):
    """Purges the event store past `retention_days` (and each tenant that differs past its own),
    at most once an interval."""

    def __init__(
        self,
        store: RetentionStore,
        clock: Clock,
        retention_days: float | None,
        *,
        tenants: TenantRetentions | None = None,
        interval_s: float = PURGE_INTERVAL_S,
    ) -> None:
        super().__init__(store, clock, interval_s)
        self.retention_days = retention_days
        self.tenants = tenants

    async def run_if_due(self) -> int | None:
        """Purges when retention is on and no purge ran in the last interval (the first call
        always runs); answers the number purged, or None when nothing was due."""
        if (self.retention_days is None and self.tenants is None) or not self._due():
            return None
        now = self.clock.now()

        async def purge(days: float, only: str | None, sparing: Sequence[str]) -> int:
            return await purge_expired_events(self.store, now, days, only=only, sparing=sparing)

        return await purge_by_tenant(self.tenants, "events_days", self.retention_days, purge)


class OutcomeRetention(_Periodic):
    """Forgets keyed answers older than the idempotency retention (a tenant's own when shorter),
    at most once an interval; without it the outcomes table grows with every keyed call for ever."""

    def __init__(
        self,
        store: RetentionStore,
        clock: Clock,
        retention: timedelta,
        *,
        tenants: TenantRetentions | None = None,
        interval_s: float = PURGE_INTERVAL_S,
    ) -> None:
        super().__init__(store, clock, interval_s)
        self.retention = retention
        self.tenants = tenants

    async def run_if_due(self) -> int | None:
        if not self._due():
            return None
        now = self.clock.now()

        async def purge(days: float, only: str | None, sparing: Sequence[str]) -> int:
            return await self.store.purge_outcomes(epoch_ms(now - timedelta(days=days)), only=only, sparing=sparing)

        return await purge_by_tenant(self.tenants, "idempotency_days", self.retention / timedelta(days=1), purge)


def retention_of(settings: Settings) -> tuple[Retention, RetentionBounds]:
    """The platform's retention and the bounds on any tenant's, from the settings."""
    platform = Retention(
        settings.event_retention_days,
        settings.webhook_delivery_retention_days,
        settings.idempotency_retention_s / 86_400,
    )
    return platform, RetentionBounds(settings.retention_floor_days, settings.retention_ceiling_days)
