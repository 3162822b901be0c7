"""Usage counters per tenant and month, in process (flushed to store documents) and in a real
`redis-server` started here, and the monthly quotas they enforce."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from actors.clock import FakeClock
from actors.ingress.control_plane import Backoffice
from actors.ingress.metering import Metering, events_of
from actors.ingress.plan_cache import PlanCache
from actors.ingress.usage_meters import USAGE, LocalUsageMeter, RedisUsageMeter, UsageMeter
from actors.stores.sqlite import SqliteStore
from engine.outcomes import Outcome, Refusal
from engine.plans import QUOTA_FIELDS
from engine.quotas import Usage


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    opened = SqliteStore(tmp_path / "ludex.sqlite3")
    await opened.open()
    yield opened
    await opened.close()


@pytest.fixture(params=["in-process", "redis"])
async def meter(request: pytest.FixtureRequest, store: SqliteStore) -> AsyncIterator[UsageMeter]:
    made: UsageMeter
    if request.param == "in-process":
        made = LocalUsageMeter(store)
    else:
        made = RedisUsageMeter(request.getfixturevalue("redis_url"))
    yield made
    await made.close()


def tenant() -> str:
    return f"t-{uuid.uuid4().hex[:10]}"


async def test_counts_add_up_per_tenant_and_month(meter: UsageMeter) -> None:
    acme, other = tenant(), tenant()
    assert await meter.add(acme, "2026-03", requests=1) == Usage(acme, "2026-03", 1, 0)
    assert await meter.add(acme, "2026-03", events=4) == Usage(acme, "2026-03", 1, 4)
    await meter.add(acme, "2026-03", requests=2, events=1)
    await meter.add(acme, "2026-04", requests=7)
    await meter.add(other, "2026-03", events=9)
    assert await meter.get(acme, "2026-03") == Usage(acme, "2026-03", 3, 5)
    assert await meter.get(acme, "2026-05") == Usage(acme, "2026-05", 0, 0)
    assert await meter.list(tenant=acme) == [Usage(acme, "2026-03", 3, 5), Usage(acme, "2026-04", 7, 0)]
    march = await meter.list(month="2026-03")
    assert {Usage(acme, "2026-03", 3, 5), Usage(other, "2026-03", 0, 9)} <= set(march)
    assert all(u.month == "2026-03" for u in march)
    assert await meter.list(tenant=acme, after=f"{acme}/2026-03") == [Usage(acme, "2026-04", 7, 0)]


async def test_concurrent_counts_are_never_lost(meter: UsageMeter) -> None:
    acme = tenant()
    await asyncio.gather(*(meter.add(acme, "2026-03", requests=1, events=2) for _ in range(300)))
    assert await meter.get(acme, "2026-03") == Usage(acme, "2026-03", 300, 600)


async def test_in_process_counts_are_flushed_to_usage_documents(store: SqliteStore) -> None:
    clock = FakeClock()
    first, second = LocalUsageMeter(store, clock=clock), LocalUsageMeter(store, clock=clock)  # two replicas
    await first.add("acme", "2026-03", requests=3, events=10)
    await second.add("acme", "2026-03", requests=2)
    assert await store.get_document(USAGE, "acme/2026-03") is None  # not yet due
    clock.advance(2)
    await first.add("acme", "2026-03", requests=1)  # due: flushes in the background
    await first.close()
    await second.flush()
    document = await store.get_document(USAGE, "acme/2026-03")
    assert document is not None
    assert (document["tenantId"], document["month"], document["requests"], document["events"]) == (
        "acme",
        "2026-03",
        6,
        10,
    )
    assert await second.get("acme", "2026-03") == Usage("acme", "2026-03", 6, 10)  # folded in on flush
    restarted = LocalUsageMeter(store)
    assert await restarted.add("acme", "2026-03", requests=1) == Usage("acme", "2026-03", 7, 10)


async def test_redis_counts_live_in_one_hash_per_tenant_and_month(redis_url: str) -> None:
    meter = RedisUsageMeter(redis_url)
    try:
        acme = tenant()
        await meter.add(acme, "2026-03", requests=2, events=5)
        assert await meter.client.hgetall(f"ludex:usage:{acme}:2026-03") == {"requests": "2", "events": "5"}
        assert await meter.client.ttl(f"ludex:usage:{acme}:2026-03") > 365 * 24 * 3600
    finally:
        await meter.close()


def test_events_come_from_fresh_accepted_outcomes_only() -> None:
    outcomes = [
        Outcome({}, event_ids=("a", "b", "c")),
        Outcome({}, replayed=True, event_ids=("a", "b", "c")),  # a replay: no new effect
        Outcome({}),  # a no-op: nothing written
        Outcome.refused(Refusal("insufficient-funds", "balance of coins is 0, 5 needed")),
    ]
    assert events_of(outcomes) == 3


@pytest.fixture
async def tiny_tenant(store: SqliteStore) -> str:
    """A tenant on a plan of 5 events and 8 requests a month."""
    office = Backoffice(store)
    name = tenant()
    plan = {
        **dict.fromkeys(QUOTA_FIELDS),
        "id": f"tiny-{name}",
        "name": "Tiny",
        "eventsPerMonth": 5,
        "requestsPerMonth": 8,
    }
    await office.put_plan(plan, create=True)
    await office.create_tenant(name, "Tiny", f"tiny-{name}")
    return name


async def test_reaching_the_events_quota_refuses_until_next_month(
    meter: UsageMeter, store: SqliteStore, tiny_tenant: str
) -> None:
    clock = FakeClock(datetime(2026, 3, 31, 23, 0, tzinfo=UTC))
    metering = Metering(meter, PlanCache(store), clock)
    plan = await metering.plans.plan_of(tiny_tenant)
    for _ in range(2):
        usage = await metering.count_request(tiny_tenant)
        assert metering.refusal(plan, usage) is None
        await metering.count_events(tiny_tenant, [Outcome({}, event_ids=("e1", "e2"))])
    usage = await metering.count_request(tiny_tenant)
    assert usage.events == 4 and metering.refusal(plan, usage) is None  # under: admitted
    await metering.count_events(tiny_tenant, [Outcome({}, event_ids=("e1",))])
    usage = await metering.count_request(tiny_tenant)
    refusal = metering.refusal(plan, usage)
    assert refusal is not None
    assert (refusal.quota, refusal.used, refusal.limit, refusal.retry_after_s) == ("eventsPerMonth", 5, 5, 3600)
    clock.advance(3600)  # April: a fresh month
    usage = await metering.count_request(tiny_tenant)
    assert usage == Usage(tiny_tenant, "2026-04", 1, 0) and metering.refusal(plan, usage) is None


async def test_calls_past_the_requests_quota_are_refused(
    meter: UsageMeter, store: SqliteStore, tiny_tenant: str
) -> None:
    metering = Metering(meter, PlanCache(store), FakeClock(datetime(2026, 3, 1, tzinfo=UTC)))
    plan = await metering.plans.plan_of(tiny_tenant)
    decided = [metering.refusal(plan, await metering.count_request(tiny_tenant)) for _ in range(9)]
    assert decided[:8] == [None] * 8
    refusal = decided[8]
    assert refusal is not None and (refusal.quota, refusal.used, refusal.limit) == ("requestsPerMonth", 9, 8)


async def test_tenants_without_a_plan_have_no_quota(meter: UsageMeter, store: SqliteStore) -> None:
    metering = Metering(meter, PlanCache(store))
    plan = await metering.plans.plan_of("no-such-tenant")
    assert plan is None
    usage = await meter.add(tenant(), metering.month(), events=10**9)
    assert metering.refusal(plan, usage) is None


async def test_plans_are_cached_for_a_few_seconds(store: SqliteStore, tiny_tenant: str) -> None:
    now = [0.0]
    cache = PlanCache(store, ttl_s=5, clock=lambda: now[0])
    office = Backoffice(store)
    assert (await cache.plan_of(tiny_tenant) or {})["eventsPerMonth"] == 5
    await office.seed_plans()
    await office.update_tenant(tiny_tenant, {"planId": "enterprise"})
    assert (await cache.plan_of(tiny_tenant) or {})["eventsPerMonth"] == 5  # still cached
    now[0] = 5.0
    assert (await cache.plan_of(tiny_tenant) or {})["id"] == "enterprise"


async def test_the_deployment_meters_in_redis_when_a_redis_url_is_set(store: SqliteStore) -> None:
    assert isinstance(Metering.for_deployment(store, "redis://127.0.0.1:6379/0").meter, RedisUsageMeter)
    assert isinstance(Metering.for_deployment(store, None).meter, LocalUsageMeter)


async def test_replicas_flushing_at_the_same_moment_lose_no_count(store: SqliteStore) -> None:
    """Each flush adds its deltas by compare-and-set: before, two flushes that read the same
    document wrote over each other's counts."""
    replicas = [LocalUsageMeter(store) for _ in range(8)]
    for index, meter in enumerate(replicas):
        await meter.add("acme", "2026-04", requests=index + 1, events=1)
    await asyncio.gather(*(meter.flush() for meter in replicas))
    document = await store.get_document(USAGE, "acme/2026-04")
    assert document is not None and (document["requests"], document["events"]) == (36, 8)
