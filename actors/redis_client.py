"""The one way our processes open Redis (usage meters, rate limits, realtime wake-ups)."""

from __future__ import annotations

from typing import Any


def connect_redis(url: str, max_connections: int = 64) -> Any:
    """An asyncio Redis client whose pool makes callers wait for a free connection (up to 5 s)
    rather than fail when a burst wants more than `max_connections` at once."""
    from redis.asyncio import BlockingConnectionPool, Redis

    pool = BlockingConnectionPool.from_url(url, max_connections=max_connections, timeout=5, decode_responses=True)
    return Redis.from_pool(pool)
