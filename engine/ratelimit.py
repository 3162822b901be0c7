"""Token buckets: `rate` tokens a second, bursts up to `capacity`. Pure arithmetic over a time
passed in, so the same rule serves the in-process limiter and a Redis script's mirror."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Bucket:
    tokens: float
    updated_at: float


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_s: int
    retry_after_s: int


def take(bucket: Bucket | None, rate: float, capacity: int, now: float) -> tuple[Bucket, Decision]:
    """Refill `bucket` to `now`, then take one token if there is one."""
    if bucket is None:
        bucket = Bucket(float(capacity), now)
    tokens = min(float(capacity), bucket.tokens + max(0.0, now - bucket.updated_at) * rate)
    allowed = tokens >= 1.0
    if allowed:
        tokens -= 1.0
    reset_s = math.ceil((capacity - tokens) / rate) if rate > 0 else 0
    retry_after_s = 0 if allowed else max(1, math.ceil((1.0 - tokens) / rate))
    decision = Decision(allowed, capacity, int(tokens), reset_s, retry_after_s)
    return Bucket(tokens, now), decision
