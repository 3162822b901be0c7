"""Entity keys. A player and its wallet are one entity, so one key names both."""

from __future__ import annotations


def player_key(tenant: str, project: str, player_id: str) -> str:
    return f"player:{tenant}/{project}/{player_id}"


def project_key(tenant: str, project: str) -> str:
    return f"project:{tenant}/{project}"


def tenant_player_keys(tenant: str) -> tuple[str, str]:
    """The half-open range `[low, high)` of every player key of `tenant` (an index range scan)."""
    return f"player:{tenant}/", f"player:{tenant}0"  # '0' sorts right after '/'
