"""The control plane the game API needs: tenants, projects and API keys, kept as documents in
the same store as the journal (never in an actor's memory), so every ingress replica sees a
revocation on its next lookup."""

from __future__ import annotations

import secrets
from typing import Any

from actors.clock import SystemClock
from actors.stores.base import Store
from engine.access import SCOPES, ApiKey, compose_api_key, hash_secret, is_usable, secret_matches, split_api_key
from engine.rules import rfc3339

TENANTS, PROJECTS, API_KEYS = "tenants", "projects", "api_keys"


class ControlPlane:
    def __init__(self, store: Store, clock: Any = None) -> None:
        self.store = store
        self.clock = clock or SystemClock()

    def _now(self) -> str:
        return rfc3339(self.clock.now())

    async def get_tenant(self, tenant_id: str) -> dict[str, Any] | None:
        return await self.store.get_document(TENANTS, tenant_id)

    async def ensure_tenant(self, tenant_id: str, name: str) -> dict[str, Any]:
        tenant = await self.get_tenant(tenant_id)
        if tenant is None:
            tenant = {"id": tenant_id, "tenantId": tenant_id, "name": name, "createdAt": self._now()}
            await self.store.put_document(TENANTS, tenant_id, tenant)
        return tenant

    async def get_project(self, tenant_id: str, project_id: str) -> dict[str, Any] | None:
        return await self.store.get_document(PROJECTS, f"{tenant_id}/{project_id}")

    async def ensure_project(self, tenant_id: str, project_id: str, name: str) -> dict[str, Any]:
        project = await self.get_project(tenant_id, project_id)
        if project is None:
            project = {"id": project_id, "tenantId": tenant_id, "name": name, "createdAt": self._now()}
            await self.store.put_document(PROJECTS, f"{tenant_id}/{project_id}", project)
        return project

    async def create_api_key(
        self,
        tenant_id: str,
        project_id: str,
        name: str,
        scopes: tuple[str, ...] = SCOPES,
        *,
        expires_at: str | None = None,
        rate_limit_per_second: int | None = None,
    ) -> tuple[ApiKey, str]:
        """The stored key and its plaintext, which is never stored and cannot be shown again."""
        unknown = set(scopes) - set(SCOPES)
        if unknown:
            raise ValueError(f"unknown scopes: {sorted(unknown)}")
        prefix, secret = secrets.token_hex(6), secrets.token_urlsafe(32).replace("_", "-")
        key = ApiKey(
            id=f"key_{prefix}",
            tenant_id=tenant_id,
            project_id=project_id,
            name=name,
            prefix=prefix,
            secret_hash=hash_secret(secret),
            scopes=tuple(scopes),
            created_at=self._now(),
            expires_at=expires_at,
            rate_limit_per_second=rate_limit_per_second,
        )
        await self.store.put_document(API_KEYS, prefix, key.to_document())
        return key, compose_api_key(prefix, secret)

    async def revoke_api_key(self, key_id: str) -> ApiKey | None:
        document = await self.store.get_document(API_KEYS, key_id.removeprefix("key_"))
        if document is None:
            return None
        document["revokedAt"] = document.get("revokedAt") or self._now()
        await self.store.put_document(API_KEYS, document["prefix"], document)
        return ApiKey.from_document(document)

    async def authenticate(self, token: str) -> ApiKey | None:
        """The key `token` names if it exists, matches, and is neither revoked nor expired."""
        parts = split_api_key(token)
        if parts is None:
            return None
        prefix, secret = parts
        document = await self.store.get_document(API_KEYS, prefix)
        if document is None:
            return None
        key = ApiKey.from_document(document)
        if not secret_matches(secret, key.secret_hash) or not is_usable(key, self.clock.now()):
            return None
        return key
