"""The backoffice's audit log, a hash chain per tenant (`engine.audit_chain`) kept as documents.

Appending is a compare-and-set on the tenant's chain head (`audit_heads`), which holds the new
entries whole: two replicas appending at once cannot both take the same place, so the chain never
forks. The entries are then written create-if-absent, and the next append writes any its
predecessor's crash left unwritten, so a head never names an entry that stays missing.

A log that already had entries when the chain came (an older database) gets a first entry,
`audit.chain-start`, counting the entries before it; those stay listed and are counted by
`verify`, but only entries from the start on are vouched for. docs/SECURITY.md, "Audit log"."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from actors.clock import Clock, epoch_ms
from actors.documents import update_document
from actors.stores.base import DocumentStore
from engine.audit_chain import START_ACTION, ChainBreak, ChainHead, chain_entry, forget, head_of, personal_paths, verify
from engine.rules import rfc3339

AUDIT, AUDIT_HEADS = "audit", "audit_heads"
PLATFORM = "_platform"  # the chain of platform-wide entries (no tenant); ids never start with '_'
PAGE = 500


def chain_id(tenant_id: str | None) -> str:
    return PLATFORM if tenant_id is None else tenant_id


@dataclass(frozen=True)
class ChainReport:
    """`verify_chain`'s answer: the chain's head, how many entries it holds and how many came
    before it started, and its first break (None: intact)."""

    tenant_id: str | None
    head: ChainHead | None
    entries: int
    unchained: int
    broken: ChainBreak | None


class AuditLog:
    """Append, read, verify and erase within the per-tenant chains."""

    def __init__(self, store: DocumentStore, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    async def listed(
        self, tenant_id: str | None, after: str | None = None, *, newest_first: bool = False
    ) -> AsyncIterator[dict[str, Any]]:
        """Entries in id order (time order: ids start with their time), page by page: one
        tenant's, or every tenant's when None; `newest_first` walks the same key down."""
        while True:
            page = await self.store.list_documents(
                AUDIT, tenant=tenant_id, after=after, limit=PAGE, descending=newest_first
            )
            for entry in page:
                yield entry
            if len(page) < PAGE:
                return
            after = page[-1]["id"]

    async def entries(self, tenant_id: str | None) -> AsyncIterator[dict[str, Any]]:
        """Every entry of one chain: a tenant's, or the platform's (no tenant) when None."""
        async for entry in self.listed(tenant_id):
            if tenant_id is not None or entry.get("tenantId") is None:
                yield entry

    async def head(self, tenant_id: str | None) -> ChainHead | None:
        document = await self.store.get_document(AUDIT_HEADS, chain_id(tenant_id))
        return None if document is None else ChainHead(document["seq"], document["hash"], document["entryId"])

    async def _unchained(self, tenant_id: str | None) -> tuple[int, str | None]:
        count, last = 0, None
        async for entry in self.entries(tenant_id):
            if "seq" not in entry:
                count, last = count + 1, entry["id"]
        return count, last

    async def append(self, fields: dict[str, Any]) -> dict[str, Any]:
        """Chain `fields` (actor, action, target, before, after, requestId, tenantId) after the
        tenant's head and store it; answers the entry as stored."""
        tenant_id = fields.get("tenantId")
        now = self.clock.now()
        salts = {path: secrets.token_hex(16) for path in personal_paths(fields)}
        start: tuple[int, str | None] | None = None
        if await self.store.get_document(AUDIT_HEADS, chain_id(tenant_id)) is None:
            start = await self._unchained(tenant_id)
        seen: list[dict[str, Any] | None] = []

        def advance(current: dict[str, Any] | None) -> dict[str, Any]:
            seen.append(current)
            head = None if current is None else ChainHead(current["seq"], current["hash"], current["entryId"])
            ms = max(epoch_ms(now), 0 if head is None else int(head.id.split("-", 1)[0]))
            pending: list[dict[str, Any]] = []
            if head is None and start is not None and start[0]:
                first: dict[str, Any] = {
                    "actor": "ludex",
                    "action": START_ACTION,
                    "target": chain_id(tenant_id),
                    "before": None,
                }
                first |= {"after": {"unchainedEntries": start[0], "lastUnchainedId": start[1]}}
                pending.append(self._chained(first, tenant_id, ms, now, head, {}))
                head = head_of(pending[-1])
            pending.append(self._chained(fields, tenant_id, ms, now, head, salts))
            last = head_of(pending[-1])
            top = {"id": chain_id(tenant_id), "tenantId": tenant_id, "seq": last.seq, "hash": last.hash}
            return top | {"entryId": last.id, "pending": pending}

        written = await update_document(self.store, AUDIT_HEADS, chain_id(tenant_id), advance)
        assert written is not None  # `advance` always answers a head
        earlier = (seen[-1] or {}).get("pending", [])
        for entry in [*earlier, *written["pending"]]:
            await self.store.put_if_version(AUDIT, entry["id"], entry, 0)
        return dict(written["pending"][-1])

    @staticmethod
    def _chained(
        fields: dict[str, Any], tenant_id: str | None, ms: int, now: Any, head: ChainHead | None, salts: dict[str, str]
    ) -> dict[str, Any]:
        seq = 1 if head is None else head.seq + 1
        entry_id = f"{ms:013d}-{seq:010d}-{secrets.token_hex(4)}"  # time-ordered within the chain, unique
        body = {**fields, "id": entry_id, "tenantId": tenant_id, "occurredAt": rfc3339(now)}
        return chain_entry(body, head, {p: salts.get(p) or secrets.token_hex(16) for p in personal_paths(body)})

    async def verify_chain(self, tenant_id: str | None, expect: str | None = None) -> ChainReport:
        """Check one chain; with `expect` (a head's hash noted earlier, e.g. from the dashboard),
        also that the chain still holds that entry, which a chain rewritten whole would not."""
        chained: list[dict[str, Any]] = []
        unchained = 0
        async for entry in self.entries(tenant_id):
            if "seq" in entry:
                chained.append(entry)
            else:
                unchained += 1
        head = await self.head(tenant_id)
        broken = verify(chained, head)
        if broken is None and expect is not None and all(e.get("hash") != expect for e in chained):
            broken = ChainBreak(0, None, "rewritten", f"no entry has the noted hash {expect}: the chain was replaced")
        return ChainReport(tenant_id, head, len(chained), unchained, broken)

    async def chains(self) -> list[str | None]:
        """Every tenant with a chain (None: the platform's), for `ludex audit verify --all`."""
        heads = await self.store.list_documents(AUDIT_HEADS, limit=1_000_000)
        return [None if h["id"] == PLATFORM else h["id"] for h in heads]

    async def forget_subject(self, tenant_id: str | None, value: str) -> int:
        """Erase a personal value (an email) from every entry of a tenant's log, keeping each
        entry's salted digest so the chain still verifies; answers how many entries changed."""
        values = frozenset({value})
        changed = 0
        async for entry in self.entries(tenant_id):
            if forget(entry, values) is not None:
                await update_document(
                    self.store, AUDIT, entry["id"], lambda e: None if e is None else forget(e, values)
                )
                changed += 1

        def forget_pending(head: dict[str, Any] | None) -> dict[str, Any] | None:
            if head is None:
                return None
            pending = [forget(e, values) or e for e in head["pending"]]
            return None if pending == head["pending"] else {**head, "pending": pending}

        await update_document(self.store, AUDIT_HEADS, chain_id(tenant_id), forget_pending)
        return changed
