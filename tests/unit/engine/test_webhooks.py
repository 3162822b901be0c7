from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.webhooks import (
    DEFAULT_RETRY_SCHEDULE_S,
    check_webhook_url,
    is_private_address,
    matches,
    next_attempt_delay,
    parse_retry_schedule,
)


def test_the_schedule_is_read_from_comma_separated_seconds() -> None:
    assert parse_retry_schedule("1, 2,5") == (1.0, 2.0, 5.0)
    assert parse_retry_schedule(None) == tuple(float(s) for s in DEFAULT_RETRY_SCHEDULE_S)
    with pytest.raises(ValueError):
        parse_retry_schedule("1,-2")


@given(st.lists(st.floats(0, 10_000), min_size=1, max_size=12), st.integers(0, 20), st.integers())
def test_delays_follow_the_schedule_with_bounded_jitter_and_end_when_spent(
    schedule: list[float], failures: int, seed: int
) -> None:
    delay = next_attempt_delay(schedule, failures, random.Random(seed).uniform)
    if 1 <= failures <= len(schedule):
        assert delay is not None
        assert 0.8 * schedule[failures - 1] - 1e-9 <= delay <= 1.2 * schedule[failures - 1] + 1e-9
    else:
        assert delay is None


@pytest.mark.parametrize(
    ("patterns", "event_type", "expected"),
    [
        (["*"], "wallet.credited", True),
        (["wallet.credited"], "wallet.credited", True),
        (["wallet.debited"], "wallet.credited", False),
        (["player.*"], "player.xp.added", True),
        (["player.*"], "wallet.credited", False),
        ([], "player.created", False),
    ],
)
def test_event_type_patterns(patterns: list[str], event_type: str, expected: bool) -> None:
    assert matches(patterns, event_type) is expected


@pytest.mark.parametrize(
    ("address", "private"),
    [
        ("127.0.0.1", True),
        ("10.1.2.3", True),
        ("192.168.0.5", True),
        ("172.20.0.1", True),
        ("169.254.169.254", True),
        ("::1", True),
        ("fe80::1", True),
        ("::ffff:127.0.0.1", True),
        ("0.0.0.0", True),
        ("100.100.100.200", True),
        ("100.64.0.1", True),
        ("2002:7f00:1::1", True),
        ("224.0.0.1", True),
        ("64:ff9b::a9fe:a9fe", True),  # NAT64 of 169.254.169.254
        ("64:ff9b::5db8:d822", True),  # NAT64 of a public address: translated, not vetted
        ("::169.254.169.254", True),  # IPv4-compatible
        ("::7f00:1", True),  # IPv4-compatible 127.0.0.1
        ("93.184.216.34", False),
        ("2606:4700:4700::1111", False),
    ],
)
def test_private_loopback_and_link_local_addresses_are_recognised(address: str, private: bool) -> None:
    assert is_private_address(address) is private


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://hooks.example.com/ludex", True),
        ("http://hooks.example.com:8080/x", True),
        ("ftp://hooks.example.com/", False),
        ("https:///nohost", False),
        ("https://user:pw@hooks.example.com/", False),
    ],
)
def test_urls_are_checked_before_resolution(url: str, ok: bool) -> None:
    assert (check_webhook_url(url) is None) is ok
