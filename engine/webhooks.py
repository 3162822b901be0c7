"""Webhook rules: which events a subscription receives, when a failed delivery is tried again,
and which destination addresses are refused. Signing uses the maintained `standardwebhooks`
library in the delivery worker; nothing here does I/O."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

DEFAULT_RETRY_SCHEDULE_S = (5, 30, 120, 600, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 24 * 3600)


def parse_retry_schedule(text: str | None) -> tuple[float, ...]:
    """`LUDEX_WEBHOOK_RETRY_SCHEDULE`: comma-separated delays in seconds before each retry."""
    if not text:
        return tuple(float(s) for s in DEFAULT_RETRY_SCHEDULE_S)
    delays = tuple(float(part) for part in text.split(",") if part.strip())
    if any(d < 0 for d in delays):
        raise ValueError("retry delays must be >= 0 seconds")
    return delays


def next_attempt_delay(
    schedule: Sequence[float], failed_attempts: int, uniform: Callable[[float, float], float]
) -> float | None:
    """Seconds until the next try after `failed_attempts` failures, with ±20 % jitter so a burst
    of failures does not retry in lockstep; None when the schedule is spent (the delivery is dead).
    `uniform(a, b)` is the caller's random source (e.g. `random.Random(seed).uniform`)."""
    if failed_attempts < 1 or failed_attempts > len(schedule):
        return None
    base = schedule[failed_attempts - 1]
    return base * uniform(0.8, 1.2)


def matches(event_types: Sequence[str], event_type: str) -> bool:
    """`*` matches everything; `player.*` matches `player.created` and `player.xp.added`."""
    for pattern in event_types:
        if pattern == "*" or pattern == event_type:
            return True
        if pattern.endswith(".*") and event_type.startswith(pattern[:-1]):
            return True
    return False


def is_private_address(address: str) -> bool:
    """Anything but a globally routable address: loopback, private, shared (100.64/10, where
    some clouds keep metadata services), link-local, multicast, reserved, unspecified — and IPv6
    forms that embed an IPv4 address (mapped, IPv4-compatible, NAT64, 6to4, Teredo), which a
    gateway may route to it. These are never a public webhook receiver, and they are the classic
    targets of server-side request forgery."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _NAT64 or ip in _IPV4_COMPATIBLE:
            return True  # translated to an IPv4 address we cannot vet from here: never a receiver
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None and is_private_address(str(embedded)):
            return True
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052 well-known prefix (64:ff9b:1::/48 is not global)
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")  # deprecated ::a.b.c.d, still routed by some stacks


def check_webhook_url(url: str) -> str | None:
    """Why `url` cannot be a subscription URL (before resolving its host), or None."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return "must be an http or https URL"
    if not parts.hostname:
        return "must name a host"
    if parts.username or parts.password:
        return "must not carry credentials"
    return None
