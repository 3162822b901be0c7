"""A tenant's deletion: scheduled with a waiting period (cancellable until it ends), then done by
the replica's background loop, which removes every row of the tenant (`Store.purge_tenant`: the
journal, snapshots, keyed answers, player index, events, every control-plane document with its
`tenantId`: projects, keys, webhooks, their deliveries, members' sessions, audit entries, the
tenant itself) and every board (`BoardStore.clear`, SQLite or Redis). What was removed is kept as
the deletion's report (`tenant_deletions/<id>`, which holds no tenant data and no `tenantId`, so a
later purge never finds it), with the scheduled backups taken before the deletion: those still
hold the tenant until `LUDEX_BACKUP_KEEP` rotates them out (docs/TENANTS.md)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from actors.boards.store import BoardStore
from actors.clock import Clock
from actors.control_plane_records import PROJECTS, TENANTS
from actors.documents import update_document
from actors.stores.base import DocumentStore, TenantPurge
from engine.backup_schedule import taken_at
from engine.domain_error import NamedError
from engine.rules import rfc3339

DELETIONS = "tenant_deletions"


class DeletionStore(DocumentStore, TenantPurge, Protocol):
    """The store's roles a deletion uses."""


class DeletionError(NamedError):
    """A deletion request that cannot be done; `slug` names the problem."""


class TenantDeletions:
    def __init__(self, store: DeletionStore, clock: Clock, *, backups: Path | None = None) -> None:
        self.store = store
        self.clock = clock
        self.backups = backups  # the scheduled backups' folder, for the report

    async def status(self, tenant_id: str) -> dict[str, Any] | None:
        return await self.store.get_document(DELETIONS, tenant_id)

    async def schedule(self, tenant_id: str, waiting_days: float) -> dict[str, Any]:
        """Marks the tenant for deletion at now + `waiting_days` (again: a new date)."""
        due = rfc3339(self.clock.now() + timedelta(days=waiting_days))
        await self._mark(tenant_id, due)
        report = {"id": tenant_id, "tenant": tenant_id, "status": "scheduled", "deletionDueAt": due, "removed": {}}
        await self.store.put_document(DELETIONS, tenant_id, {**report, "scheduledAt": rfc3339(self.clock.now())})
        return report

    async def cancel(self, tenant_id: str) -> dict[str, Any]:
        current = await self.status(tenant_id)
        if current is None or current["status"] != "scheduled":
            raise DeletionError("deletion-not-scheduled", f"tenant '{tenant_id}' has no deletion to cancel")
        await self._mark(tenant_id, None)
        cancelled = {**current, "status": "cancelled", "deletionDueAt": None, "cancelledAt": rfc3339(self.clock.now())}
        await self.store.put_document(DELETIONS, tenant_id, cancelled)
        return cancelled

    async def _mark(self, tenant_id: str, due: str | None) -> None:
        def mark(document: dict[str, Any] | None) -> dict[str, Any]:
            if document is None or document.get("deleted"):
                raise DeletionError("tenant-not-found", f"no tenant '{tenant_id}'")
            return {**document, "deletionDueAt": due}

        await update_document(self.store, TENANTS, tenant_id, mark)

    async def run_due(self, boards: BoardStore) -> list[dict[str, Any]]:
        """Does every scheduled deletion whose waiting period ended; answers their reports."""
        now = rfc3339(self.clock.now())
        done = []
        after: str | None = None
        while page := await self.store.list_documents(DELETIONS, after=after, limit=200):
            for deletion in page:
                if deletion["status"] == "scheduled" and deletion["deletionDueAt"] <= now:
                    done.append(await self.delete_now(deletion, boards))
            if len(page) < 200:
                break
            after = page[-1]["id"]
        return done

    async def delete_now(self, deletion: dict[str, Any], boards: BoardStore) -> dict[str, Any]:
        tenant = deletion["tenant"]
        projects = [p["id"] for p in await self.store.list_documents(PROJECTS, tenant=tenant, limit=100_000)]
        for project in projects:
            await boards.clear(tenant, project)
        removed = await self.store.purge_tenant(tenant)
        removed["boardProjects"] = len(projects)
        report = {
            **deletion,
            "status": "done",
            "doneAt": rfc3339(self.clock.now()),
            "removed": removed,
            "backupsStillHolding": self._backups_before(self.clock.now()),
        }
        await self.store.put_document(DELETIONS, tenant, report)
        return report

    def _backups_before(self, moment: datetime) -> list[str]:
        if self.backups is None or not self.backups.is_dir():
            return []
        return sorted(e.name for e in self.backups.iterdir() if (t := taken_at(e.name)) is not None and t <= moment)
