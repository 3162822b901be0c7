"""Token buckets: `rate` tokens a second, bursts up to `capacity`. Pure arithmetic over a time
passed in, so the same rule serves the in-process limiter and a Redis script's mirror.

A call may draw on several buckets at once (its API key's and its tenant's, so many keys of one
tenant share the tenant's rate) and cost several tokens (a batch costs one per command): it is
allowed only if every bucket holds the cost, and then every bucket pays it."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Bucket:
    tokens: float
    updated_at: float


@dataclass(frozen=True)
class Limit:
    rate: float
    capacity: int


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_s: int
    retry_after_s: int


def take(bucket: Bucket | None, rate: float, capacity: int, now: float, cost: int = 1) -> tuple[Bucket, Decision]:
    """Refill `bucket` to `now`, then take `cost` tokens if there are that many."""
    (after,), decision = take_together([bucket], [Limit(rate, capacity)], now, cost)
    return after, decision


def take_together(
    buckets: Sequence[Bucket | None], limits: Sequence[Limit], now: float, cost: int = 1
) -> tuple[list[Bucket], Decision]:
    """Refill every bucket to `now`; take `cost` from all of them only if all hold it. The
    decision (and so the RateLimit headers) is the tightest bucket's: when refused, the one that
    makes the caller wait longest; when allowed, the one with the fewest tokens left."""
    refilled = [_refill(bucket, limit, now) for bucket, limit in zip(buckets, limits, strict=True)]
    allowed = all(tokens >= cost for tokens in refilled)
    after = [tokens - cost if allowed else tokens for tokens in refilled]
    decisions = [_decision(allowed, tokens, limit, cost) for tokens, limit in zip(after, limits, strict=True)]
    tightest = max(decisions, key=lambda d: (d.retry_after_s, -d.remaining))
    return [Bucket(tokens, now) for tokens in after], tightest


def _refill(bucket: Bucket | None, limit: Limit, now: float) -> float:
    if bucket is None:
        return float(limit.capacity)
    return min(float(limit.capacity), bucket.tokens + max(0.0, now - bucket.updated_at) * limit.rate)


def _decision(allowed: bool, tokens: float, limit: Limit, cost: int) -> Decision:
    rate, capacity = limit.rate, limit.capacity
    reset_s = math.ceil((capacity - tokens) / rate) if rate > 0 else 0
    # A cost above the capacity is never met; the wait named is then a whole refill from empty.
    missing = capacity if cost > capacity else cost - tokens
    waits = not allowed and tokens < cost
    retry_after_s = max(1, math.ceil(missing / rate)) if waits and rate > 0 else int(waits)
    return Decision(allowed, capacity, int(tokens), reset_s, retry_after_s)
