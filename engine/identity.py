"""Entity keys. A player and its wallet are one entity, so one key names both."""

from __future__ import annotations


def player_key(tenant: str, project: str, player_id: str) -> str:
    return f"player:{tenant}/{project}/{player_id}"


def project_key(tenant: str, project: str) -> str:
    return f"project:{tenant}/{project}"
