"""The control plane the game API needs: tenants, projects and API keys, kept as documents in
the same store as the journal (never in an actor's memory), so every ingress replica sees a
revocation on its next lookup."""

from __future__ import annotations

import asyncio
import secrets
from datetime import datetime, timedelta
from typing import Any

from actors.audit_log import AuditLog
from actors.clock import Clock, SystemClock
from actors.coalescer import Coalescer
from actors.control_plane_records import ADMISSION_VERSION, API_KEYS, CONTROL, PLANS, PROJECTS, TENANTS
from actors.documents import update_document
from actors.stores.base import DocumentStore
from engine.access import SCOPES, ApiKey, compose_api_key, hash_secret, is_usable, secret_matches, split_api_key
from engine.domain_error import NamedError
from engine.plans import DEFAULT_PLANS, QUOTA_FIELDS
from engine.rules import rfc3339
from engine.tenant_lifecycle import Transition, TransitionError, operator_move, settle

SESSION_KEYS = "session_keys"  # per dashboard session: the keys its sign-out revokes


class ControlPlane:
    def __init__(self, store: DocumentStore, clock: Clock | None = None) -> None:
        self.store = store
        self.clock: Clock = clock or SystemClock()
        # Admissions that arrive together read their documents in one round trip, each document
        # once (they mostly name the same project, tenant and key); every read still starts after
        # its request arrived, so nothing is cached.
        self._admission_reads: Coalescer[tuple[str, str], dict[str, Any] | None] = Coalescer(
            self._read_documents, max_batch_size=512
        )

    async def _read_documents(self, refs: list[tuple[str, str]]) -> list[dict[str, Any] | None]:
        unique = list(dict.fromkeys(refs))
        found = dict(zip(unique, await self.store.get_documents(unique), strict=True))
        return [None if (document := found[ref]) is None else dict(document) for ref in refs]

    def _now(self) -> str:
        return rfc3339(self.clock.now())

    async def get_tenant(self, tenant_id: str) -> dict[str, Any] | None:
        return await self.store.get_document(TENANTS, tenant_id)

    async def is_tenant_deleted(self, tenant_id: str) -> bool:
        tenant = await self.get_tenant(tenant_id)
        return bool(tenant and tenant.get("deleted"))

    async def check_not_suspended(self, tenant_id: str) -> None:
        """A suspended tenant may gain no new way to act (an API key, an active webhook) until it
        is reinstated: 403 `tenant-suspended`, as its keys answer."""
        if ((await self.get_tenant(tenant_id)) or {}).get("suspended"):
            raise ControlError("tenant-suspended", f"tenant '{tenant_id}' is suspended; its operator can lift that")

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
        """The stored key and its plaintext, which is never stored and cannot be shown again.
        A suspended tenant gets none (403 `tenant-suspended`)."""
        unknown = set(scopes) - set(SCOPES)
        if unknown:
            raise ValueError(f"unknown scopes: {sorted(unknown)}")
        await self.check_not_suspended(tenant_id)
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
        revoked_at = self._now()

        def revoke(document: dict[str, Any] | None) -> dict[str, Any] | None:
            if document is None or document.get("revokedAt"):
                return None
            return {**document, "revokedAt": revoked_at}

        document = await update_document(self.store, API_KEYS, key_id.removeprefix("key_"), revoke)
        await self.admission_changed()
        return None if document is None else ApiKey.from_document(document)

    async def end_with_session(self, session_id: str, key_id: str) -> None:
        """Revoke `key_id` when the dashboard session `session_id` signs out (the console's key)."""

        def bind(document: dict[str, Any] | None) -> dict[str, Any]:
            current = document or {"id": session_id, "keys": []}
            return {**current, "keys": sorted({*current["keys"], key_id})}

        await update_document(self.store, SESSION_KEYS, session_id, bind)

    async def revoke_session_keys(self, session_id: str) -> int:
        """Revoke every key bound to the session (`end_with_session`); answers how many were live."""
        document = await self.store.get_document(SESSION_KEYS, session_id)
        revoked = [await self.revoke_api_key(key_id) for key_id in (document or {}).get("keys", [])]
        await self.store.delete_documents(SESSION_KEYS, [session_id])
        return sum(key is not None for key in revoked)

    async def admission_version(self) -> int:
        """A number that moves whenever a key may have stopped being admitted: replicas watch it
        so open realtime sockets learn of a revocation within a second (`serve.realtime.revocations`)
        without re-reading every socket's key."""
        document = await self.store.get_document(CONTROL, ADMISSION_VERSION)
        return 0 if document is None else int(document["version"])

    async def admission_changed(self) -> None:
        """Moves the admission version (after the change is written, so a watcher that sees it
        re-admits against the new state)."""

        def bump(document: dict[str, Any] | None) -> dict[str, Any]:
            return {"version": int((document or {}).get("version", 0)) + 1}

        await update_document(self.store, CONTROL, ADMISSION_VERSION, bump)

    async def authenticate(self, token: str) -> ApiKey | None:
        """The key `token` names if it exists, matches, and is neither revoked nor expired."""
        parts = split_api_key(token)
        document = None if parts is None else await self.store.get_document(API_KEYS, parts[0])
        return self._usable_key(parts, document)

    async def admission(
        self, token: str, tenant_id: str, project_id: str
    ) -> tuple[ApiKey | None, dict[str, Any] | None, dict[str, Any] | None]:
        """What admitting a game API call needs — the key `token` names (as `authenticate`
        answers it), the project and the tenant — read in one store round trip (shared with the
        admissions that arrive together), never cached, so a revocation on any replica applies
        from the next call on."""
        parts = split_api_key(token)
        refs = [(PROJECTS, f"{tenant_id}/{project_id}"), (TENANTS, tenant_id)]
        if parts is not None:
            refs.append((API_KEYS, parts[0]))
        documents = await asyncio.gather(*(self._admission_reads.submit(ref) for ref in refs))
        key_document = documents[2] if parts is not None else None
        return self._usable_key(parts, key_document), documents[0], documents[1]

    def _usable_key(self, parts: tuple[str, str] | None, document: dict[str, Any] | None) -> ApiKey | None:
        """The stored key if the token's secret (`parts` = prefix, secret) matches and it is usable."""
        if parts is None or document is None:
            return None
        key = ApiKey.from_document(document)
        if not secret_matches(parts[1], key.secret_hash) or not is_usable(key, self.clock.now()):
            return None
        return key


class ControlError(NamedError):
    """A backoffice request that cannot be done; `slug` names the problem."""


class Backoffice(ControlPlane):
    """Tenant, plan, project and key management on top of the game API's control plane."""

    # ---------------------------------------------------------------------------- tenants

    async def list_tenants(self, *, after: str | None, limit: int, query: str | None = None) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        while len(found) < limit:
            page = await self.store.list_documents(TENANTS, after=after, limit=200)
            if not page:
                break
            for tenant in page:
                if tenant.get("deleted") or (query and query.lower() not in f"{tenant['id']} {tenant['name']}".lower()):
                    continue
                found.append(tenant)
            after = page[-1]["id"]
        return found[:limit]

    async def live_tenant(self, tenant_id: str) -> dict[str, Any]:
        tenant = await self.get_tenant(tenant_id)
        if tenant is None or tenant.get("deleted"):
            raise ControlError("tenant-not-found", f"no tenant '{tenant_id}'")
        return tenant

    async def create_tenant(
        self, tenant_id: str, name: str, plan_id: str, *, trial_ends_at: datetime | None = None
    ) -> dict[str, Any]:
        if await self.get_tenant(tenant_id) is not None:
            raise ControlError("tenant-exists", f"tenant '{tenant_id}' already exists")
        await self.live_plan(plan_id)
        if trial_ends_at is not None and trial_ends_at <= self.clock.now():
            raise ControlError("invalid-transition", "a trial needs `trialEndsAt` in the future")
        tenant = {"id": tenant_id, "tenantId": tenant_id, "name": name, "planId": plan_id, "createdAt": self._now()}
        tenant |= (
            {"state": "active"} if trial_ends_at is None else {"state": "trial", "trialEndsAt": rfc3339(trial_ends_at)}
        )
        await self.store.put_document(TENANTS, tenant_id, tenant)
        return tenant

    async def update_tenant(self, tenant_id: str, changes: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        before = await self.live_tenant(tenant_id)
        if "planId" in changes:
            await self.live_plan(changes["planId"])
        after = {**before, **changes, "updatedAt": self._now()}
        await self.store.put_document(TENANTS, tenant_id, after)
        await self.admission_changed()
        return before, after

    async def delete_tenant(self, tenant_id: str) -> dict[str, Any]:
        before, _ = await self.update_tenant(tenant_id, {"deleted": True})
        return before

    # -------------------------------------------------------------------------- lifecycle

    async def move_tenant(
        self,
        tenant_id: str,
        state: str,
        *,
        trial_ends_at: datetime | None = None,
        grace_days: float | None = None,
        reason: str | None = None,
    ) -> tuple[dict[str, Any], dict[str, Any], list[Transition]]:
        """An operator's move (`engine.tenant_lifecycle.operator_move`), written by compare-and-set
        so a move and the background settling never overwrite each other; answers before, after and
        the moves made (time's moves due first, then the operator's), for the billing hooks."""
        before = await self.live_tenant(tenant_id)
        plan = await self._plan_of(before)
        made: list[Transition] = []

        def move(document: dict[str, Any] | None) -> dict[str, Any] | None:
            if document is None or document.get("deleted"):
                raise ControlError("tenant-not-found", f"no tenant '{tenant_id}'")
            try:
                after, moves = operator_move(
                    document,
                    plan,
                    state,
                    self.clock.now(),
                    trial_ends_at=trial_ends_at,
                    grace_days_override=grace_days,
                    reason=reason,
                )
            except TransitionError as error:
                raise ControlError(error.slug, str(error)) from error
            made[:] = moves
            return {**after, "updatedAt": self._now()}

        after = await update_document(self.store, TENANTS, tenant_id, move)
        assert after is not None
        await self.admission_changed()
        return before, after, made

    async def settle_tenant(self, tenant_id: str) -> list[Transition]:
        """Writes the moves time made (a trial's end, a grace's end) and answers them; none when
        the document is as time left it."""
        tenant = await self.get_tenant(tenant_id)
        if tenant is None or tenant.get("deleted"):
            return []
        plan = await self._plan_of(tenant)
        made: list[Transition] = []

        def settle_now(document: dict[str, Any] | None) -> dict[str, Any] | None:
            if document is None or document.get("deleted"):
                return None
            after, moves = settle(document, plan, self.clock.now())
            made[:] = moves
            return {**after, "updatedAt": self._now()} if moves else None

        await update_document(self.store, TENANTS, tenant_id, settle_now)
        if made:
            await self.admission_changed()
        return made

    async def _plan_of(self, tenant: dict[str, Any]) -> dict[str, Any] | None:
        return await self.store.get_document(PLANS, tenant["planId"]) if tenant.get("planId") else None

    # ------------------------------------------------------------------------------ plans

    async def seed_plans(self) -> None:
        for plan in DEFAULT_PLANS:
            if await self.store.get_document(PLANS, plan["id"]) is None:
                await self.store.put_document(PLANS, plan["id"], {**plan, "createdAt": self._now()})

    async def list_plans(self) -> list[dict[str, Any]]:
        return [p for p in await self.store.list_documents(PLANS, limit=1000) if not p.get("deleted")]

    async def live_plan(self, plan_id: str) -> dict[str, Any]:
        plan = await self.store.get_document(PLANS, plan_id)
        if plan is None or plan.get("deleted"):
            raise ControlError("plan-not-found", f"no plan '{plan_id}'")
        return plan

    async def put_plan(self, plan: dict[str, Any], *, create: bool) -> tuple[dict[str, Any] | None, dict[str, Any]]:
        existing = await self.store.get_document(PLANS, plan["id"])
        if create and existing is not None and not existing.get("deleted"):
            raise ControlError("plan-exists", f"plan '{plan['id']}' already exists")
        if not create and (existing is None or existing.get("deleted")):
            raise ControlError("plan-not-found", f"no plan '{plan['id']}'")
        unlimited = {field: None for field in QUOTA_FIELDS}
        after = {**unlimited, **(existing or {}), **plan, "deleted": False, "updatedAt": self._now()}
        after.setdefault("createdAt", self._now())
        await self.store.put_document(PLANS, plan["id"], after)
        return existing, after

    async def delete_plan(self, plan_id: str) -> dict[str, Any]:
        before = await self.live_plan(plan_id)
        in_use = [t["id"] for t in await self.list_tenants(after=None, limit=1000) if t.get("planId") == plan_id]
        if in_use:
            raise ControlError("plan-in-use", f"plan '{plan_id}' is used by {len(in_use)} tenant(s)")
        await self.store.put_document(PLANS, plan_id, {**before, "deleted": True})
        return before

    # --------------------------------------------------------------------------- projects

    async def list_projects(
        self, tenant_id: str, *, after: str | None, limit: int, query: str | None = None
    ) -> list[dict[str, Any]]:
        if await self.is_tenant_deleted(tenant_id):
            raise ControlError("tenant-not-found", f"no tenant '{tenant_id}'")
        found: list[dict[str, Any]] = []
        cursor = f"{tenant_id}/{after}" if after else None
        while len(found) < limit:
            page = await self.store.list_documents(PROJECTS, tenant=tenant_id, after=cursor, limit=200)
            if not page:
                break
            for project in page:
                if project.get("deleted") or (
                    query and query.lower() not in f"{project['id']} {project['name']}".lower()
                ):
                    continue
                found.append(project)
            cursor = f"{tenant_id}/{page[-1]['id']}"
        return found[:limit]

    async def live_project(self, tenant_id: str, project_id: str) -> dict[str, Any]:
        project = await self.get_project(tenant_id, project_id)
        if project is None or project.get("deleted") or await self.is_tenant_deleted(tenant_id):
            raise ControlError("project-not-found", f"tenant '{tenant_id}' has no project '{project_id}'")
        return project

    async def create_project(self, tenant_id: str, project_id: str, name: str) -> dict[str, Any]:
        """A new project, within the tenant's plan's `projects` quota (403 `plan-limit`)."""
        tenant = await self.live_tenant(tenant_id)
        if await self.get_project(tenant_id, project_id) is not None:
            raise ControlError("project-exists", f"project '{project_id}' already exists")
        plan = await self.store.get_document(PLANS, tenant["planId"]) if tenant.get("planId") else None
        limit = (plan or {}).get("projects")
        if limit is not None and len(await self.list_projects(tenant_id, after=None, limit=limit)) >= limit:
            raise ControlError("plan-limit", f"the plan allows {limit} project(s); delete one or change plan")
        return await self.ensure_project(tenant_id, project_id, name)

    async def update_project(
        self, tenant_id: str, project_id: str, changes: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        before = await self.live_project(tenant_id, project_id)
        after = {**before, **changes, "updatedAt": self._now()}
        await self.store.put_document(PROJECTS, f"{tenant_id}/{project_id}", after)
        await self.admission_changed()
        return before, after

    # --------------------------------------------------------------------------- API keys

    async def list_api_keys(self, tenant_id: str, project_id: str) -> list[ApiKey]:
        documents = await self.store.list_documents(API_KEYS, tenant=tenant_id, limit=10_000)
        return [ApiKey.from_document(d) for d in documents if d["projectId"] == project_id]

    async def api_key_of(self, tenant_id: str, project_id: str, key_id: str) -> ApiKey:
        document = await self.store.get_document(API_KEYS, key_id.removeprefix("key_"))
        if document is None or (document["tenantId"], document["projectId"]) != (tenant_id, project_id):
            raise ControlError("api-key-not-found", f"project '{project_id}' has no API key '{key_id}'")
        return ApiKey.from_document(document)

    async def rotate_api_key(self, tenant_id: str, project_id: str, key_id: str, grace_s: float) -> tuple[ApiKey, str]:
        """A new key with the same name, scopes and limit; the old one keeps working for `grace_s`."""
        old = await self.api_key_of(tenant_id, project_id, key_id)
        if old.revoked_at is not None:
            raise ControlError("api-key-revoked", f"API key '{key_id}' is revoked")
        new, token = await self.create_api_key(
            tenant_id,
            project_id,
            old.name,
            old.scopes,
            expires_at=old.expires_at,
            rate_limit_per_second=old.rate_limit_per_second,
        )
        grace_end = rfc3339(self.clock.now() + timedelta(seconds=grace_s))

        def shorten(document: dict[str, Any] | None) -> dict[str, Any] | None:
            # By compare-and-set on the key as it is now: a revocation that landed meanwhile stays.
            if document is None or document.get("revokedAt"):
                return None
            expires_at = document.get("expiresAt")
            if expires_at is not None and expires_at <= grace_end:
                return None
            return {**document, "expiresAt": grace_end, "rotatedTo": new.id}

        await update_document(self.store, API_KEYS, old.prefix, shorten)
        return new, token

    # ------------------------------------------------------------------------------ audit

    async def audit(
        self,
        *,
        actor: str,
        action: str,
        target: str,
        tenant_id: str | None,
        before: Any,
        after: Any,
        request_id: str | None,
    ) -> None:
        """Append-only, chained per tenant (`actors.audit_log`): an entry is never changed but by
        an erasure, which keeps its hash."""
        await self.audit_log.append(
            {
                "tenantId": tenant_id,
                "actor": actor,
                "action": action,
                "target": target,
                "before": before,
                "after": after,
                "requestId": request_id,
            }
        )

    async def list_audit(
        self,
        *,
        tenant_id: str | None,
        filters: dict[str, str],
        after: str | None,
        limit: int,
        newest_first: bool = False,
    ) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        async for entry in self.audit_log.listed(tenant_id, after, newest_first=newest_first):
            if all(entry.get(k) == v for k, v in filters.items()):
                found.append(entry)
                if len(found) >= limit:
                    break
        return found

    @property
    def audit_log(self) -> AuditLog:
        return AuditLog(self.store, self.clock)
