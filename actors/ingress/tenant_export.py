"""Everything one tenant owns, as a stream of plain records (one JSON object a line when written
out): the admin route `GET /v1/admin/tenants/{id}/export` and `ludex tenant export` both read it.
Page by page through the store's own listings, so a big tenant is never held in memory; only
through protocol methods both stores have, so it reads SQLite and MongoDB alike.

Each record is `{"kind": ..., ...}`: `tenant`, then per project `project`, its `economy` (the
current definition), its `player`s, then the tenant's `journal` records, `event`s, `apiKey`s
(metadata only: never the secret's hash), `webhook`s (never their signing secret), `audit`
entries, and last `summary` (how many of each kind), so a reader knows the file is whole."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from typing import Any, Protocol

from actors.audit_log import AuditLog
from actors.clock import SystemClock
from actors.control_plane_records import API_KEYS, PROJECTS, TENANTS
from actors.stores.base import (
    DocumentStore,
    EventFeed,
    EventQuery,
    JournalRecord,
    JournalStore,
    PlayerIndex,
    PlayerRow,
    tenant_entities,
)
from actors.webhook_records import WEBHOOKS

PAGE = 500
SECRET_FIELDS = frozenset({"secretHash", "secret", "secrets", "signingSecret"})


class TenantData(DocumentStore, JournalStore, PlayerIndex, EventFeed, Protocol):
    """The store's roles an export reads."""


def _public(document: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in document.items() if key not in SECRET_FIELDS}


async def _documents(store: TenantData, kind: str, tenant: str) -> AsyncIterator[dict[str, Any]]:
    after: str | None = None
    while page := await store.list_documents(kind, tenant=tenant, after=after, limit=PAGE):
        for document in page:
            yield document
        if len(page) < PAGE:
            return
        after = page[-1]["id"] if kind != PROJECTS else f"{tenant}/{page[-1]['id']}"


async def tenant_records(store: TenantData, tenant: str) -> AsyncIterator[dict[str, Any]]:
    """The tenant's records in the order the module docstring gives, ending with `summary`."""
    counts: Counter[str] = Counter()

    def record(kind: str, body: dict[str, Any]) -> dict[str, Any]:
        counts[kind] += 1
        return {"kind": kind, **body}

    document = await store.get_document(TENANTS, tenant)
    if document is None:
        return
    yield record("tenant", _public(document))
    projects = [project async for project in _documents(store, PROJECTS, tenant)]
    for project in projects:
        yield record("project", _public(project))
        economy = await store.read_last(f"project:{tenant}/{project['id']}")
        if economy is not None:
            yield record("economy", {"projectId": project["id"], "seq": economy.seq, "events": economy.events})
        after: str | None = None
        while rows := await store.list_players(tenant, project["id"], after=after, limit=PAGE):
            for row in rows:
                yield record("player", {"projectId": project["id"], **_row(row)})
            if len(rows) < PAGE:
                break
            after = rows[-1].player_id
    for prefix, _ in tenant_entities(tenant):
        cursor: tuple[str, int] | None = None
        while journal := await store.scan_journal(prefix, since=None, until=None, after=cursor, limit=PAGE):
            for entry in journal:
                yield record("journal", _journal(entry))
            cursor = (journal[-1].entity, journal[-1].seq)
            if len(journal) < PAGE:
                break
    position = 0
    while events := await store.read_events(EventQuery(tenant=tenant), after=position, limit=PAGE):
        for event in events:
            yield record("event", event.public())
        position = events[-1].position
        if len(events) < PAGE:
            break
    for kind, name in ((API_KEYS, "apiKey"), (WEBHOOKS, "webhook")):
        async for document in _documents(store, kind, tenant):
            yield record(name, _public(document))
    async for audited in AuditLog(store, SystemClock()).listed(tenant):
        yield record("audit", audited)
    yield {"kind": "summary", "tenantId": tenant, "counts": dict(counts)}


def _row(row: PlayerRow) -> dict[str, Any]:
    return {
        "playerId": row.player_id,
        "username": row.username,
        "createdAt": row.created_at,
        "updatedAt": row.updated_at,
        "metadata": row.metadata,
    }


def _journal(entry: JournalRecord) -> dict[str, Any]:
    return {
        "entity": entry.entity,
        "seq": entry.seq,
        "occurredAt": entry.occurred_at,
        "events": entry.events,
        "command": entry.command,
        "requestId": entry.request_id,
    }
