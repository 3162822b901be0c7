"""API keys and scopes. A key is shown once as `ldx_<prefix>_<secret>`; only the prefix (to find
it) and a hash of the secret are stored, and secrets are compared in constant time. The secret
is 32 random bytes, so a fast hash is safe: there is nothing to brute-force."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any

SCOPES = ("players:read", "players:write", "economy:write", "store:purchase", "events:read", "realtime")
# What each scope lets a key do, in the words the dashboard shows beside its checkbox (served by
# `GET /v1/client/scopes`, so no client keeps its own copy of the list).
SCOPE_DESCRIPTIONS = {
    "players:read": "Read players, profiles, wallets, inventories and leaderboards.",
    "players:write": "Create, update and delete players; award XP, count progress; submit scores.",
    "economy:write": "Credit and debit currencies; grant and consume items.",
    "store:purchase": "Buy SKUs and bundles from the store.",
    "events:read": "Read and export the project's event log.",
    "realtime": "Open the realtime WebSocket: live events and the command stream.",
}
assert tuple(SCOPE_DESCRIPTIONS) == SCOPES, "one description per scope, in the order of SCOPES"
KEY_MARK = "ldx"


@dataclass(frozen=True)
class ApiKey:
    id: str
    tenant_id: str
    project_id: str
    name: str
    prefix: str
    secret_hash: str
    scopes: tuple[str, ...]
    created_at: str
    expires_at: str | None = None
    revoked_at: str | None = None
    rate_limit_per_second: int | None = None

    def to_document(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "tenantId": self.tenant_id,
            "projectId": self.project_id,
            "name": self.name,
            "prefix": self.prefix,
            "secretHash": self.secret_hash,
            "scopes": list(self.scopes),
            "createdAt": self.created_at,
            "expiresAt": self.expires_at,
            "revokedAt": self.revoked_at,
            "rateLimitPerSecond": self.rate_limit_per_second,
        }

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> ApiKey:
        return cls(
            id=document["id"],
            tenant_id=document["tenantId"],
            project_id=document["projectId"],
            name=document["name"],
            prefix=document["prefix"],
            secret_hash=document["secretHash"],
            scopes=tuple(document["scopes"]),
            created_at=document["createdAt"],
            expires_at=document.get("expiresAt"),
            revoked_at=document.get("revokedAt"),
            rate_limit_per_second=document.get("rateLimitPerSecond"),
        )


def compose_api_key(prefix: str, secret: str) -> str:
    return f"{KEY_MARK}_{prefix}_{secret}"


def split_api_key(token: str) -> tuple[str, str] | None:
    mark, _, rest = token.partition("_")
    prefix, _, secret = rest.partition("_")
    if mark != KEY_MARK or not prefix or not secret:
        return None
    return prefix, secret


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(secret: str, secret_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), secret_hash)


def is_usable(key: ApiKey, now: datetime) -> bool:
    """Not revoked and not expired at `now`."""
    if key.revoked_at is not None:
        return False
    return key.expires_at is None or datetime.fromisoformat(key.expires_at.replace("Z", "+00:00")) > now
