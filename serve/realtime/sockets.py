"""Counting open realtime sockets against their caps (per API key, per tenant, per replica), and
sockets still waiting for their `auth` message against caps of their own (per client address
and per replica), so sockets that never authenticate cannot fill the replica.

Without Redis every replica counts its own sockets (a socket stays on the replica that accepted
it), so with N replicas a key may hold N times its cap. With `LUDEX_REDIS_URL` the per-key and
per-tenant counts are shared: each socket holds a lease (a sorted-set member scored with its
expiry) renewed at every key re-check, so the slots of a replica that dies without closing its
sockets come back once their leases lapse. The per-replica cap is always local: it protects the
replica's own capacity. When Redis cannot answer, admission falls back to the local counts (an
outage of the counter must not close the realtime API)."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from actors.redis_client import connect_redis
from config.settings import Settings
from engine.access import ApiKey

log = logging.getLogger("ludex.realtime")

PREFIX = "ludex:realtime:sockets:"

# KEYS: the key's set, the tenant's set. ARGV: connection id, key cap, tenant cap, lease ms.
ADMIT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) or redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[3]) then
  return 0
end
for _, name in ipairs(KEYS) do
  redis.call('ZADD', name, now + lease, ARGV[1])
  redis.call('PEXPIRE', name, lease)
end
return 1
"""

# KEYS: the key's set, the tenant's set. ARGV: connection id, lease ms.
RENEW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[2])
for _, name in ipairs(KEYS) do
  redis.call('ZADD', name, 'XX', now + lease, ARGV[1])
  redis.call('PEXPIRE', name, lease)
end
return 1
"""


@dataclass
class OpenSockets:
    """The replica's open sockets per API key, per tenant and in all (Redis shares the first two
    across replicas when configured): one tenant, or one leaked key, cannot hold every socket."""

    settings: Settings
    by_key: Counter[str] = field(default_factory=Counter)
    by_tenant: Counter[str] = field(default_factory=Counter)
    total: int = 0
    pending: int = 0  # sockets still waiting for their `auth` message: they hold Serve slots too
    pending_by_address: Counter[str] = field(default_factory=Counter)
    _redis: Any = None

    def await_auth(self, address: str | None) -> bool:
        """Room for one more socket from `address` that has yet to authenticate (released by
        `authenticated`): under the pending caps per address and in all, and the replica's cap.
        `address` is None when the peer is not the client (behind HAProxy every socket comes from
        the proxy): a per-address cap there would be a second cap in all that one client fills."""
        settings = self.settings
        if (
            self.pending >= settings.realtime_max_pending
            or (address is not None and self.pending_by_address[address] >= settings.realtime_max_pending_per_address)
            or self.total + self.pending >= settings.realtime_max_connections
        ):
            return False
        self.pending += 1
        if address is not None:
            self.pending_by_address[address] += 1
        return True

    def authenticated(self, address: str | None) -> None:
        self.pending -= 1
        if address is None:
            return
        self.pending_by_address[address] -= 1
        if self.pending_by_address[address] <= 0:
            del self.pending_by_address[address]

    @property
    def lease_ms(self) -> int:
        """Three missed renewals (one per key re-check) before a dead replica's slot lapses."""
        return int((3 * self.settings.realtime_recheck_s + 5) * 1000)

    def _client(self) -> Any:
        if self._redis is None and self.settings.redis_url:
            self._redis = connect_redis(self.settings.redis_url, max_connections=8)
        return self._redis

    @staticmethod
    def _names(key: ApiKey) -> list[str]:
        return [f"{PREFIX}key:{key.id}", f"{PREFIX}tenant:{key.tenant_id}"]

    async def admit(self, key: ApiKey, connection_id: str) -> bool:
        settings = self.settings
        if self.total + self.pending >= settings.realtime_max_connections:
            return False
        shared = await self._admit_shared(key, connection_id)
        if shared is False:
            return False
        if shared is None and (
            self.by_key[key.id] >= settings.realtime_max_connections_per_key
            or self.by_tenant[key.tenant_id] >= settings.realtime_max_connections_per_tenant
        ):
            return False
        self.by_key[key.id] += 1
        self.by_tenant[key.tenant_id] += 1
        self.total += 1
        return True

    async def _admit_shared(self, key: ApiKey, connection_id: str) -> bool | None:
        """The shared decision; None without Redis or when it cannot answer."""
        client = self._client()
        if client is None:
            return None
        settings = self.settings
        try:
            admitted = await client.eval(
                ADMIT,
                2,
                *self._names(key),
                connection_id,
                settings.realtime_max_connections_per_key,
                settings.realtime_max_connections_per_tenant,
                self.lease_ms,
            )
        except Exception as error:  # noqa: BLE001 - fall back to this replica's counts
            log.warning("realtime socket counts: redis cannot answer, counting locally: %r", error)
            return None
        return bool(admitted)

    async def renew(self, key: ApiKey, connection_id: str) -> None:
        client = self._client()
        if client is None:
            return
        try:
            await client.eval(RENEW, 2, *self._names(key), connection_id, self.lease_ms)
        except Exception as error:  # noqa: BLE001 - the lease lasts three re-checks
            log.warning("realtime socket counts: cannot renew a lease: %r", error)

    async def release(self, key: ApiKey, connection_id: str) -> None:
        self.by_key[key.id] -= 1
        self.by_tenant[key.tenant_id] -= 1
        self.total -= 1
        for tally, name in ((self.by_key, key.id), (self.by_tenant, key.tenant_id)):
            if tally[name] <= 0:
                del tally[name]
        client = self._client()
        if client is None:
            return
        try:
            async with client.pipeline(transaction=False) as pipe:
                for name in self._names(key):
                    pipe.zrem(name, connection_id)
                await pipe.execute()
        except Exception as error:  # noqa: BLE001 - the lease lapses by itself
            log.warning("realtime socket counts: cannot release a slot: %r", error)

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None
