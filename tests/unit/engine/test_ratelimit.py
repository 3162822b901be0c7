from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from engine.ratelimit import Bucket, Limit, take, take_together


def test_a_full_bucket_allows_a_burst_of_its_capacity_then_refuses() -> None:
    bucket = None
    allowed = []
    for _ in range(12):
        bucket, decision = take(bucket, rate=5, capacity=10, now=100.0)
        allowed.append(decision.allowed)
    assert allowed == [True] * 10 + [False] * 2
    assert decision.retry_after_s == 1 and decision.remaining == 0


def test_tokens_refill_at_the_rate() -> None:
    bucket, _ = take(None, rate=2, capacity=2, now=0.0)
    bucket, _ = take(bucket, rate=2, capacity=2, now=0.0)
    bucket, refused = take(bucket, rate=2, capacity=2, now=0.1)
    assert not refused.allowed
    bucket, allowed = take(bucket, rate=2, capacity=2, now=0.6)
    assert allowed.allowed


@given(st.lists(st.floats(min_value=0, max_value=5), min_size=1, max_size=60), st.integers(1, 20))
def test_never_more_than_capacity_plus_rate_times_elapsed_are_allowed(gaps: list[float], capacity: int) -> None:
    rate, now, bucket, allowed = 3.0, 0.0, None, 0
    for gap in gaps:
        now += gap
        bucket, decision = take(bucket, rate, capacity, now)
        allowed += decision.allowed
        assert 0 <= decision.remaining <= capacity
    assert allowed <= capacity + rate * now + 1e-9


def test_a_call_costing_several_tokens_takes_them_all_or_none() -> None:
    bucket, decision = take(None, rate=1, capacity=5, now=0.0, cost=3)
    assert decision.allowed and decision.remaining == 2
    bucket, refused = take(bucket, rate=1, capacity=5, now=0.0, cost=3)
    assert not refused.allowed and refused.remaining == 2 and refused.retry_after_s == 1
    _, never = take(None, rate=1, capacity=5, now=0.0, cost=6)
    assert not never.allowed and never.retry_after_s == 5  # more than a burst: a full refill named


def test_buckets_taken_together_pay_only_when_all_hold_the_cost() -> None:
    key, tenant = Limit(rate=100, capacity=200), Limit(rate=1, capacity=2)
    buckets: list[Bucket | None] = [None, None]
    allowed = []
    for _ in range(3):
        after, decision = take_together(buckets, [key, tenant], now=0.0)
        buckets = list(after)
        allowed.append(decision.allowed)
    assert allowed == [True, True, False]
    assert buckets[0] is not None and buckets[0].tokens == 198  # the refused call took nothing
    assert decision.limit == 2 and decision.retry_after_s == 1  # the tenant's bucket is the tight one
