"""Event retention over a real SQLite store: old events leave the event store (the journal stays),
at most once an hour on the host's clock, and only shard host 0 purges."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from actors.clock import FakeClock
from actors.control_plane_records import PLANS, TENANTS
from actors.host import ShardHost
from actors.retention import EventRetention, TenantRetentions, purge_expired_events
from actors.stores.base import EventQuery, JournalRecord
from actors.stores.sqlite import SqliteStore
from engine.retention import Retention, RetentionBounds
from engine.rules import rfc3339

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def record(player: str, seq: int, days_ago: float, tenant: str = "t") -> JournalRecord:
    return JournalRecord(
        entity=f"player:{tenant}/p/{player}",
        seq=seq,
        events=[{"type": "wallet.credited", "data": {"currency": "coins", "amount": 1, "balanceAfter": seq}}],
        occurred_at=rfc3339(NOW - timedelta(days=days_ago)),
        recorded_at_ms=0,
    )


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    store = SqliteStore(tmp_path / "ludex.sqlite3")
    await store.open()
    await store.commit([record("a", 1, 30), record("a", 2, 8), record("a", 3, 6.9), record("b", 1, 0)], [])
    yield store
    await store.close()


async def ages(store: SqliteStore) -> list[str]:
    return [e.occurred_at for e in await store.read_events(EventQuery(tenant="t", project="p"), limit=100)]


async def test_events_older_than_the_retention_are_purged_and_the_journal_stays(store: SqliteStore) -> None:
    assert await purge_expired_events(store, NOW, None) == 0
    assert await purge_expired_events(store, NOW, 0) == 0
    assert len(await ages(store)) == 4
    assert await purge_expired_events(store, NOW, 7) == 2
    assert await ages(store) == [rfc3339(NOW - timedelta(days=6.9)), rfc3339(NOW)]
    assert [r.seq for r in await store.read_journal("player:t/p/a")] == [1, 2, 3], "the journal is the ledger"
    assert await purge_expired_events(store, NOW, 7) == 0
    assert await purge_expired_events(store, NOW, 1e9) == 0, "a retention beyond the calendar keeps everything"


async def test_the_purge_runs_at_most_hourly_on_the_clock(store: SqliteStore) -> None:
    clock = FakeClock(NOW)
    retention = EventRetention(store, clock, 7)
    assert await retention.run_if_due() == 2
    await store.commit([record("c", 1, 10)], [])
    clock.advance(3599)
    assert await retention.run_if_due() is None
    assert len(await ages(store)) == 3
    clock.advance(1)
    assert await retention.run_if_due() == 1
    assert await EventRetention(store, clock, None).run_if_due() is None


@pytest.mark.parametrize("shard_id, purged", [(0, True), (1, False)])
async def test_only_shard_host_zero_purges_from_its_sweeper(
    store: SqliteStore, tmp_path: Path, shard_id: int, purged: bool
) -> None:
    host_store = SqliteStore(tmp_path / "ludex.sqlite3")  # the host's own connection to the same file
    host = ShardHost(host_store, clock=FakeClock(NOW), shard_id=shard_id, idle_timeout_s=0.1, event_retention_days=7)
    await host.start()  # sweeps every 0.05 s of real time
    try:
        for _ in range(20):
            await asyncio.sleep(0.05)
            if len(await ages(store)) == 2:
                break
        assert (len(await ages(store)) == 2) is purged
    finally:
        await host.stop()


async def test_a_tenant_with_its_own_retention_is_purged_by_it_and_the_others_by_the_platforms(
    tmp_path: Path,
) -> None:
    """The platform keeps every event; tenant `brief` keeps 7 days (its own setting), tenant
    `planned` 20 (its plan's), tenant `plain` inherits: only what each keeps is left."""
    store = SqliteStore(tmp_path / "tenants.sqlite3")
    await store.open()
    try:
        await store.put_document(PLANS, "short", {"id": "short", "retention": {"eventsDays": 20}})
        await store.put_document(TENANTS, "brief", {"id": "brief", "planId": "short", "retention": {"eventsDays": 7}})
        await store.put_document(TENANTS, "planned", {"id": "planned", "planId": "short"})
        await store.put_document(TENANTS, "plain", {"id": "plain", "planId": "free"})
        for tenant in ("brief", "planned", "plain"):
            await store.commit([record("a", seq, days_ago, tenant) for seq, days_ago in ((1, 30), (2, 10), (3, 1))], [])
        tenants = TenantRetentions(store, Retention(None, 30.0, 7.0), RetentionBounds())
        assert await EventRetention(store, FakeClock(NOW), None, tenants=tenants).run_if_due() == 1 + 2
        left = {
            t: [e.seq for e in await store.read_events(EventQuery(tenant=t))] for t in ("brief", "planned", "plain")
        }
        assert left == {"brief": [3], "planned": [2, 3], "plain": [1, 2, 3]}
        bounded = TenantRetentions(store, Retention(None, 30.0, 7.0), RetentionBounds(floor_days=15, ceiling_days=25))
        assert await EventRetention(store, FakeClock(NOW), None, tenants=bounded).run_if_due() == 1, "plain: 25 days"
        assert [e.seq for e in await store.read_events(EventQuery(tenant="plain"))] == [2, 3]
    finally:
        await store.close()
