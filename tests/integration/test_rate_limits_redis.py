"""Per-key rate limits against a real `redis-server` started here, and the same behaviours in
process: a burst up to capacity then refusals, refill at the rate, and many concurrent hits
that never take more than the bucket holds (the Redis script is atomic)."""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from engine.ratelimit import Decision, take
from serve.ratelimit import KEY_PREFIX, LocalRateLimiter, RateLimiter, RedisRateLimiter


@pytest.fixture(params=["in-process", "redis"])
async def limiter(request: pytest.FixtureRequest) -> AsyncIterator[RateLimiter]:
    if request.param == "in-process":
        yield LocalRateLimiter(default_per_second=1000)
        return
    redis = RedisRateLimiter(request.getfixturevalue("redis_url"), default_per_second=1000)
    yield redis
    await redis.close()


def key() -> str:
    return f"key_{uuid.uuid4().hex[:12]}"


async def test_a_burst_up_to_capacity_passes_then_calls_are_refused(limiter: RateLimiter) -> None:
    name = key()
    decisions = [await limiter.hit(name, 5) for _ in range(12)]
    assert [d.allowed for d in decisions] == [True] * 10 + [False] * 2
    assert decisions[0] == Decision(True, 10, 9, 1, 0)
    refused = decisions[-1]
    assert refused.limit == 10 and refused.remaining == 0 and refused.retry_after_s >= 1


async def test_decisions_follow_the_engine_rule(limiter: RateLimiter) -> None:
    name, bucket, expected = key(), None, []
    for _ in range(5):
        bucket, decision = take(bucket, 2, 4, 0.0)
        expected.append(decision)
    got = [await limiter.hit(name, 2) for _ in range(5)]
    assert [(d.allowed, d.limit, d.remaining) for d in got] == [(d.allowed, d.limit, d.remaining) for d in expected]


async def test_tokens_refill_at_the_rate(limiter: RateLimiter) -> None:
    name = key()
    while (await limiter.hit(name, 10)).allowed:
        pass
    assert not (await limiter.hit(name, 10)).allowed
    await asyncio.sleep(0.35)  # 3.5 tokens at 10 a second
    refilled = [(await limiter.hit(name, 10)).allowed for _ in range(6)]
    assert refilled[:3] == [True, True, True]
    assert refilled.count(True) <= 4


async def test_keys_have_their_own_buckets_and_the_default_rate(limiter: RateLimiter) -> None:
    first, second = key(), key()
    assert (await limiter.hit(first, 1)).allowed and (await limiter.hit(first, 1)).allowed
    assert not (await limiter.hit(first, 1)).allowed
    assert (await limiter.hit(second, 1)).allowed
    assert (await limiter.hit(key(), None)).limit == 2000


async def test_concurrent_hits_never_take_more_than_the_bucket_holds(limiter: RateLimiter) -> None:
    name, rate = key(), 25.0
    started = time.monotonic()
    decisions = await asyncio.gather(*(limiter.hit(name, rate) for _ in range(400)))
    elapsed = time.monotonic() - started
    allowed = sum(d.allowed for d in decisions)
    assert 50 <= allowed <= 50 + math.ceil(elapsed * rate)
    assert all(d.remaining >= 0 for d in decisions)


async def test_replicas_sharing_redis_share_one_bucket(redis_url: str) -> None:
    replicas = [RedisRateLimiter(redis_url) for _ in range(4)]
    try:
        name, rate = key(), 10.0
        started = time.monotonic()
        decisions = await asyncio.gather(*(replicas[i % 4].hit(name, rate) for i in range(200)))
        elapsed = time.monotonic() - started
        assert 20 <= sum(d.allowed for d in decisions) <= 20 + math.ceil(elapsed * rate)
    finally:
        for replica in replicas:
            await replica.close()


async def test_buckets_live_under_their_key_with_a_ttl(redis_url: str) -> None:
    limiter = RedisRateLimiter(redis_url)
    try:
        name = key()
        await limiter.hit(name, 2)
        client = limiter.client
        assert set(await client.hgetall(KEY_PREFIX + name)) == {"tokens", "ts"}
        ttl_ms = await client.pttl(KEY_PREFIX + name)
        assert 0 < ttl_ms <= 3000  # capacity 4 refills in 2 s, plus a second
    finally:
        await limiter.close()


async def test_the_script_is_loaded_again_after_redis_forgets_it(redis_url: str) -> None:
    limiter = RedisRateLimiter(redis_url)
    try:
        name = key()
        assert (await limiter.hit(name, 1)).allowed
        await limiter.client.script_flush()
        assert (await limiter.hit(name, 1)).allowed
        assert not (await limiter.hit(name, 1)).allowed
    finally:
        await limiter.close()


def test_the_app_limits_in_redis_when_a_redis_url_is_set(tmp_path: Path) -> None:
    from config.settings import Settings
    from serve.app import create_app

    shared = create_app(Settings(data_dir=tmp_path, redis_url="redis://127.0.0.1:6379/0", default_rate_limit_per_s=7))
    assert isinstance(shared.state.rate_limiter, RedisRateLimiter)
    assert shared.state.rate_limiter.default_per_second == 7
    assert isinstance(create_app(Settings(data_dir=tmp_path)).state.rate_limiter, LocalRateLimiter)


async def test_keys_of_one_tenant_share_the_tenants_bucket(limiter: RateLimiter) -> None:
    """Many keys do not multiply a tenant's rate: every key also draws on the tenant's bucket."""
    tenant = (f"t-{uuid.uuid4().hex[:8]}", 2.0)  # burst 4 for the whole tenant
    keys = [key() for _ in range(4)]
    allowed = [(await limiter.hit(k, 100, tenant=tenant)).allowed for k in keys for _ in range(2)]
    assert allowed.count(True) == 4
    refused = await limiter.hit(key(), 100, tenant=tenant)
    assert not refused.allowed and refused.limit == 4 and refused.retry_after_s >= 1
    assert (await limiter.hit(key(), 100, tenant=(f"t-{uuid.uuid4().hex[:8]}", 2.0))).allowed


async def test_a_call_costing_more_tokens_takes_all_or_none(limiter: RateLimiter) -> None:
    name = key()
    assert (await limiter.hit(name, 5, cost=7)).remaining == 3  # burst 10
    refused = await limiter.hit(name, 5, cost=4)
    assert not refused.allowed and refused.remaining == 3
    assert (await limiter.hit(name, 5, cost=3)).allowed
