"""Which shard hosts an entity. The hash is stable across processes and releases (unlike
Python's `hash`), so a restarted deployment finds every entity where its journal expects it."""

from __future__ import annotations

import hashlib


def shard_for(tenant: str, project: str, player_id: str, shards: int) -> int:
    digest = hashlib.blake2b(f"{tenant}/{project}/{player_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % shards


def shard_name(deployment: str, shard_id: int) -> str:
    """Named per deployment, so two deployments (or test sessions) never share a host."""
    return f"{deployment}-shard-{shard_id}"
