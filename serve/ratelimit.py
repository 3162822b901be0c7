"""Per-key rate limits: token buckets of `rate` tokens a second and bursts of twice that.

`LocalRateLimiter` keeps the buckets in this process (each ingress replica limits its own share);
`RedisRateLimiter` keeps them in Redis, shared by every replica, updated atomically by one Lua
script. Both apply the rule of `engine.ratelimit` and answer the same `Decision`."""

from __future__ import annotations

import hashlib
import time
from typing import Any, Protocol

from actors.usage import connect_redis
from engine.ratelimit import Bucket, Decision, take


def capacity_for(rate: float) -> int:
    return max(1, int(rate * 2))


class RateLimiter(Protocol):
    async def hit(self, key_id: str, per_second: float | None) -> Decision:
        """Take one token from the key's bucket (`per_second` None: the default rate)."""
        ...


class LocalRateLimiter:
    def __init__(self, default_per_second: float) -> None:
        self.default_per_second = default_per_second
        self._buckets: dict[str, Bucket] = {}

    async def hit(self, key_id: str, per_second: float | None) -> Decision:
        rate = per_second or self.default_per_second
        bucket, decision = take(self._buckets.get(key_id), rate, capacity_for(rate), time.monotonic())
        self._buckets[key_id] = bucket
        return decision


# KEYS[1] the bucket; ARGV rate, capacity, ttl in ms. The script refills and takes a token in
# one step on the server's clock (so replicas never disagree about time) and answers whether it
# took one and the refilled level before taking; `engine.ratelimit.take` over that level makes
# the same decision and derives the headers, so the rule lives in one place. Numbers travel as
# `%.17g` strings, which round-trip doubles exactly.
TOKEN_BUCKET_LUA = """
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) + tonumber(time[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = capacity
  ts = now
end
local elapsed = now - ts
if elapsed < 0 then elapsed = 0 end
tokens = math.min(capacity, tokens + elapsed * rate)
local refilled = tokens
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'ts', string.format('%.17g', now))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {allowed, string.format('%.17g', refilled)}
"""
TOKEN_BUCKET_SHA = hashlib.sha1(TOKEN_BUCKET_LUA.encode(), usedforsecurity=False).hexdigest()
KEY_PREFIX = "ludex:rl:"


class RedisRateLimiter:
    """Buckets in Redis hashes `ludex:rl:<keyId>`, expiring once they would be full again anyway.
    The client is created on first use, inside the replica's event loop (Serve pickles the app)."""

    def __init__(self, url: str, default_per_second: float = 1000.0) -> None:
        self.url = url
        self.default_per_second = default_per_second
        self._client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = connect_redis(self.url)
        return self._client

    async def hit(self, key_id: str, per_second: float | None) -> Decision:
        rate = per_second or self.default_per_second
        capacity = capacity_for(rate)
        ttl_ms = int((capacity / rate + 1) * 1000)
        allowed, refilled = await self._run(KEY_PREFIX + key_id, rate, capacity, ttl_ms)
        _, decision = take(Bucket(float(refilled), 0.0), rate, capacity, 0.0)
        if decision.allowed != bool(allowed):  # pragma: no cover - the script and the rule agree
            raise AssertionError(f"rate limit script and rule disagree at {refilled} tokens")
        return decision

    async def _run(self, key: str, *args: Any) -> list[Any]:
        """EVALSHA; EVAL (which also caches the script) when Redis does not know it yet."""
        from redis.exceptions import NoScriptError

        try:
            result: list[Any] = await self.client.evalsha(TOKEN_BUCKET_SHA, 1, key, *args)
        except NoScriptError:
            result = await self.client.eval(TOKEN_BUCKET_LUA, 1, key, *args)
        return result

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def rate_limit_headers(decision: Decision) -> dict[str, str]:
    return {
        "RateLimit-Limit": str(decision.limit),
        "RateLimit-Remaining": str(decision.remaining),
        "RateLimit-Reset": str(decision.reset_s),
    }
