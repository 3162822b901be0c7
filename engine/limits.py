"""The documented maxima of everything a tenant can store or define.

Many studios share a shard host, its journal batches and its event loop, so no one tenant's
values may overflow a store's integer (a failed group commit fails everyone in it) or make a
shared host's decisions slow. Integers stop at JavaScript's safe range, so every SDK reads them
exactly; reaching a maximum is a rejection (409/422), never an overflow.
"""

from __future__ import annotations

import json
from typing import Any

MAX_SAFE_INTEGER = 2**53 - 1
"""Largest balance, XP total, counter value, stack limit or economy integer (JavaScript's
`Number.MAX_SAFE_INTEGER`)."""

MAX_AMOUNT = 10**12
"""Largest single amount (credit, debit, XP award, item quantity, increment)."""

# Metadata: a free JSON object kept with players, ledger entries and events.
MAX_METADATA_BYTES = 16_384
MAX_METADATA_DEPTH = 8
MAX_METADATA_KEY_LENGTH = 128

# Economy definitions: what one project may define, and the bound on reward chains.
MAX_ECONOMY_BYTES = 512 * 1024
MAX_ENTRIES_PER_KIND = 1_000
MAX_ACHIEVEMENTS = 250
MAX_CONDITIONS = 16
MAX_XP_LEVELS = 1_000
MAX_UNLOCK_PASSES = 16
"""Achievement rewards can satisfy further achievements; a command unlocks at most this many
rounds of them (the rest unlock on the player's next command), so one economy's reward chain
cannot make a decision quadratic in its achievements."""


class MetadataError(ValueError):
    """Metadata refused at `path` (dotted, `[i]` for list positions; empty for the whole object)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.message = message


def check_metadata(value: Any) -> None:
    """Refuse metadata a store or a client could not keep exactly: non-JSON types, integers
    outside ±(2^53 - 1), non-finite numbers, keys MongoDB treats as operators or paths (`$…`,
    containing `.`), nesting deeper than MAX_METADATA_DEPTH, more than MAX_METADATA_BYTES."""
    if not isinstance(value, dict):
        raise MetadataError("", "must be a JSON object")
    _check_node(value, "", 1)
    size = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())
    if size > MAX_METADATA_BYTES:
        raise MetadataError("", f"must be at most {MAX_METADATA_BYTES} bytes of JSON (got {size})")


def _check_node(node: Any, path: str, depth: int) -> None:
    if isinstance(node, dict):
        if depth > MAX_METADATA_DEPTH:
            raise MetadataError(path, f"nests deeper than {MAX_METADATA_DEPTH} levels")
        for key, item in node.items():
            if not isinstance(key, str):
                raise MetadataError(path, "keys must be strings")
            child = f"{path}.{key}" if path else key
            if not key or key.startswith("$") or "." in key or "\x00" in key:
                raise MetadataError(child, "keys must be non-empty, not start with '$' and not contain '.' or NUL")
            if len(key) > MAX_METADATA_KEY_LENGTH:
                raise MetadataError(child, f"keys must be at most {MAX_METADATA_KEY_LENGTH} characters")
            _check_node(item, child, depth + 1)
    elif isinstance(node, list):
        if depth > MAX_METADATA_DEPTH:
            raise MetadataError(path, f"nests deeper than {MAX_METADATA_DEPTH} levels")
        for index, item in enumerate(node):
            _check_node(item, f"{path}[{index}]", depth + 1)
    elif isinstance(node, bool) or node is None or isinstance(node, str):
        return
    elif isinstance(node, int):
        if not -MAX_SAFE_INTEGER <= node <= MAX_SAFE_INTEGER:
            raise MetadataError(path, f"integers must be within ±{MAX_SAFE_INTEGER}")
    elif isinstance(node, float):
        if node != node or node in (float("inf"), float("-inf")):
            raise MetadataError(path, "numbers must be finite (no NaN, Infinity or overflowing values)")
    else:
        raise MetadataError(path, f"{type(node).__name__} is not a JSON value")
