"""Idempotency rules: a key is remembered with the fingerprint of the request that first used
it and the outcome it got. The same key with the same request gets that outcome again; with
another request it is refused, because silently answering for a different request would hide a
client bug."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from engine.commands import Command, command_to_dict
from engine.errors import IdempotencyKeyReusedError

DEFAULT_RETENTION = timedelta(days=7)


def fingerprint(command: Command) -> str:
    canonical = json.dumps(command_to_dict(command), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class IdempotencyRecord:
    key: str
    fingerprint: str
    outcome: dict[str, Any]
    recorded_at: datetime

    def is_expired(self, now: datetime, retention: timedelta = DEFAULT_RETENTION) -> bool:
        return now - self.recorded_at > retention


def check_idempotency(
    record: IdempotencyRecord | None,
    request_fingerprint: str,
    now: datetime,
    retention: timedelta = DEFAULT_RETENTION,
) -> dict[str, Any] | None:
    """The outcome to replay, or None when the request is new. Raises on a reused key."""
    if record is None or record.is_expired(now, retention):
        return None
    if record.fingerprint != request_fingerprint:
        raise IdempotencyKeyReusedError(record.key)
    return record.outcome
