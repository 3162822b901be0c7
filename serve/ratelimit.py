"""Rate limits: token buckets of `rate` tokens a second and bursts of twice that, one per API key
and one per tenant (all its keys together), drawn on together; a batch costs a token per command.
A plan may also limit single operations (`operationRatesPerSecond`: purchases tighter than
reads), one bucket per tenant and op, drawn on by the command path.

`LocalRateLimiter` keeps the buckets in this process (each ingress replica limits its own share);
`RedisRateLimiter` keeps them in Redis, shared by every replica, updated atomically by one Lua
script. Both apply the rule of `engine.ratelimit` and answer the same `Decision`."""

from __future__ import annotations

import hashlib
import time
from typing import Any, Protocol

from actors.redis_client import connect_redis
from engine.ratelimit import Bucket, Decision, Limit, take_together


def capacity_for(rate: float) -> int:
    return max(1, int(rate * 2))


TENANT_PREFIX = "tenant:"
OPERATION_PREFIX = "op:"  # a tenant's bucket for one op (`serve.commanding`): `op:<tenant>:<op>`


class RateLimiter(Protocol):
    async def hit(
        self, key_id: str, per_second: float | None, *, cost: int = 1, tenant: tuple[str, float | None] | None = None
    ) -> Decision:
        """Take `cost` tokens from the key's bucket and, when `tenant` names `(tenant id, rate)`,
        from the tenant's too, or from neither (a rate of None: the default)."""
        ...


def _buckets(
    key_id: str, per_second: float | None, tenant: tuple[str, float | None] | None, default: float
) -> tuple[list[str], list[Limit]]:
    named = [(key_id, per_second)] + ([(TENANT_PREFIX + tenant[0], tenant[1])] if tenant else [])
    rates = [rate or default for _, rate in named]
    return [name for name, _ in named], [Limit(rate, capacity_for(rate)) for rate in rates]


class LocalRateLimiter:
    def __init__(self, default_per_second: float) -> None:
        self.default_per_second = default_per_second
        self._buckets: dict[str, Bucket] = {}

    async def hit(
        self, key_id: str, per_second: float | None, *, cost: int = 1, tenant: tuple[str, float | None] | None = None
    ) -> Decision:
        names, limits = _buckets(key_id, per_second, tenant, self.default_per_second)
        current = [self._buckets.get(name) for name in names]
        after, decision = take_together(current, limits, time.monotonic(), cost)
        self._buckets.update(zip(names, after, strict=True))
        return decision


# KEYS the buckets; ARGV cost, ttl in ms, then rate and capacity of each bucket. The script
# refills every bucket on the server's clock (so replicas never disagree about time), takes the
# cost from all of them only if all hold it, and answers whether it took and each refilled level
# before taking; `engine.ratelimit.take_together` over those levels makes the same decision and
# derives the headers, so the rule lives in one place. Numbers travel as `%.17g` strings, which
# round-trip doubles exactly.
TOKEN_BUCKET_LUA = """
local cost = tonumber(ARGV[1])
local time = redis.call('TIME')
local now = tonumber(time[1]) + tonumber(time[2]) / 1000000
local levels = {}
local allowed = 1
for i = 1, #KEYS do
  local rate = tonumber(ARGV[1 + 2 * i])
  local capacity = tonumber(ARGV[2 + 2 * i])
  local state = redis.call('HMGET', KEYS[i], 'tokens', 'ts')
  local tokens = tonumber(state[1])
  local ts = tonumber(state[2])
  if tokens == nil or ts == nil then
    tokens = capacity
    ts = now
  end
  local elapsed = now - ts
  if elapsed < 0 then elapsed = 0 end
  tokens = math.min(capacity, tokens + elapsed * rate)
  levels[i] = tokens
  if tokens < cost then allowed = 0 end
end
local answer = {allowed}
for i = 1, #KEYS do
  local tokens = levels[i]
  if allowed == 1 then tokens = tokens - cost end
  redis.call('HSET', KEYS[i], 'tokens', string.format('%.17g', tokens), 'ts', string.format('%.17g', now))
  redis.call('PEXPIRE', KEYS[i], ARGV[2])
  answer[i + 1] = string.format('%.17g', levels[i])
end
return answer
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

    async def hit(
        self, key_id: str, per_second: float | None, *, cost: int = 1, tenant: tuple[str, float | None] | None = None
    ) -> Decision:
        names, limits = _buckets(key_id, per_second, tenant, self.default_per_second)
        ttl_ms = int(max(limit.capacity / limit.rate + 1 for limit in limits) * 1000)
        arguments: list[Any] = [cost, ttl_ms]
        for limit in limits:
            arguments += [limit.rate, limit.capacity]
        allowed, *levels = await self._run([KEY_PREFIX + name for name in names], *arguments)
        _, decision = take_together([Bucket(float(level), 0.0) for level in levels], limits, 0.0, cost)
        if decision.allowed != bool(allowed):  # pragma: no cover - the script and the rule agree
            raise AssertionError(f"rate limit script and rule disagree at {levels} tokens")
        return decision

    async def _run(self, keys: list[str], *args: Any) -> list[Any]:
        """EVALSHA; EVAL (which also caches the script) when Redis does not know it yet."""
        from redis.exceptions import NoScriptError

        try:
            result: list[Any] = await self.client.evalsha(TOKEN_BUCKET_SHA, len(keys), *keys, *args)
        except NoScriptError:
            result = await self.client.eval(TOKEN_BUCKET_LUA, len(keys), *keys, *args)
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
