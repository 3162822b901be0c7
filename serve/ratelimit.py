"""Per-key rate limits in this process (each ingress replica limits its own share). The bucket
rule is `engine.ratelimit`; a Redis-backed limiter shared by replicas can replace this class."""

from __future__ import annotations

import time

from engine.ratelimit import Bucket, Decision, take


class LocalRateLimiter:
    def __init__(self, default_per_second: float) -> None:
        self.default_per_second = default_per_second
        self._buckets: dict[str, Bucket] = {}

    def hit(self, key_id: str, per_second: float | None) -> Decision:
        rate = per_second or self.default_per_second
        capacity = max(1, int(rate * 2))
        bucket, decision = take(self._buckets.get(key_id), rate, capacity, time.monotonic())
        self._buckets[key_id] = bucket
        return decision


def rate_limit_headers(decision: Decision) -> dict[str, str]:
    return {
        "RateLimit-Limit": str(decision.limit),
        "RateLimit-Remaining": str(decision.remaining),
        "RateLimit-Reset": str(decision.reset_s),
    }
