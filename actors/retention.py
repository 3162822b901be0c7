"""Retention: the event store (the per-event rows behind `GET .../events`, realtime replays and
webhooks) forgets events older than `LUDEX_EVENT_RETENTION_DAYS`, and remembered idempotency
answers go after `LUDEX_IDEMPOTENCY_RETENTION_S` (at least 7 days); the journal, the ledger,
stays whole. Shard host 0 runs both purges from its sweeper loop at most once an hour, so one
process in the deployment does it whatever the number of shards or replicas."""

from __future__ import annotations

from datetime import datetime, timedelta

from actors.clock import Clock, epoch_ms
from actors.stores.base import RetentionStore
from engine.rules import rfc3339

PURGE_INTERVAL_S = 3600.0


async def purge_expired_events(store: RetentionStore, now: datetime, retention_days: float | None) -> int:
    """Drops the events that occurred more than `retention_days` before `now` and answers how
    many went; None (keep everything) or a non-positive retention purges nothing."""
    if retention_days is None or retention_days <= 0:
        return 0
    try:
        cutoff = now - timedelta(days=retention_days)
    except OverflowError:  # a retention longer than the calendar: nothing is old enough
        return 0
    return await store.purge_events(rfc3339(cutoff))


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
    """Purges the event store past `retention_days`, at most once an interval."""

    def __init__(
        self, store: RetentionStore, clock: Clock, retention_days: float | None, *, interval_s: float = PURGE_INTERVAL_S
    ) -> None:
        super().__init__(store, clock, interval_s)
        self.retention_days = retention_days

    async def run_if_due(self) -> int | None:
        """Purges when retention is on and no purge ran in the last interval (the first call
        always runs); answers the number purged, or None when nothing was due."""
        if self.retention_days is None or not self._due():
            return None
        return await purge_expired_events(self.store, self.clock.now(), self.retention_days)


class OutcomeRetention(_Periodic):
    """Forgets keyed answers older than the idempotency retention, at most once an interval;
    without it the outcomes table grows with every keyed call for ever."""

    def __init__(
        self, store: RetentionStore, clock: Clock, retention: timedelta, *, interval_s: float = PURGE_INTERVAL_S
    ) -> None:
        super().__init__(store, clock, interval_s)
        self.retention = retention

    async def run_if_due(self) -> int | None:
        if not self._due():
            return None
        return await self.store.purge_outcomes(epoch_ms(self.clock.now() - self.retention))
