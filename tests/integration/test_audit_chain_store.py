"""The audit log's hash chain over each real store (one contract, SQLite and MongoDB): writers
racing on one tenant never fork the chain, `verify_chain` names the first tampered entry, an
erasure leaves nothing personal and the chain verifiable, and a log written before the chain
gets a start entry counting it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from actors.audit_log import AUDIT, AuditLog
from actors.clock import FakeClock
from actors.ingress.control_plane import Backoffice
from actors.stores.base import Store
from actors.stores.mongo import MongoStore
from actors.stores.sqlite import SqliteStore
from engine.audit_chain import START_ACTION


def change(n: int, tenant: str | None = "acme", actor: str = "owner@example.com") -> dict[str, Any]:
    return {
        "tenantId": tenant,
        "actor": actor,
        "action": "member.put",
        "target": f"usr_{n}",
        "before": None,
        "after": {"id": f"usr_{n}", "email": f"member{n}@example.com"},
        "requestId": f"req-{n}",
    }


class AuditChainContract:
    @pytest.fixture
    async def stores(self, tmp_path: Path) -> AsyncIterator[tuple[Store, Store]]:
        """Two store clients on one database: two replicas of the ingress."""
        first, second = self.create_store(tmp_path), self.create_store(tmp_path)
        await first.open()
        await second.open()
        yield first, second
        await second.close()
        await first.close()

    def create_store(self, tmp_path: Path) -> Store:
        raise NotImplementedError

    async def test_two_replicas_writing_at_once_never_fork_the_chain(self, stores: tuple[Store, Store]) -> None:
        logs = [AuditLog(store, FakeClock()) for store in stores]
        written = await asyncio.gather(*(logs[n % 2].append(change(n)) for n in range(24)))
        assert sorted(e["seq"] for e in written) == list(range(1, 25))
        report = await logs[0].verify_chain("acme")
        assert report.broken is None and report.entries == 24 and report.head is not None
        assert report.head.seq == 24

    async def test_the_first_edited_entry_is_named(self, stores: tuple[Store, Store]) -> None:
        store = stores[0]
        log = AuditLog(store, FakeClock())
        entries = [await log.append(change(n)) for n in range(5)]
        await log.append(change(9, tenant="other"))
        await store.put_document(AUDIT, entries[2]["id"], {**entries[2], "target": "usr_x"})
        report = await log.verify_chain("acme")
        assert report.broken is not None and report.broken.seq == 3 and report.broken.entry_id == entries[2]["id"]
        assert (await log.verify_chain("other")).broken is None, "one tenant's chain is its own"

    async def test_a_removed_entry_is_named(self, stores: tuple[Store, Store]) -> None:
        store = stores[0]
        log = AuditLog(store, FakeClock())
        entries = [await log.append(change(n)) for n in range(4)]
        await store.delete_documents(AUDIT, [entries[1]["id"]])
        report = await log.verify_chain("acme")
        assert report.broken is not None and (report.broken.seq, report.broken.reason) == (2, "missing")

    async def test_an_entry_lost_between_the_head_and_its_own_write_is_written_by_the_next_append(
        self, stores: tuple[Store, Store]
    ) -> None:
        store = stores[0]
        log = AuditLog(store, FakeClock())
        await log.append(change(1))
        lost = await log.append(change(2))
        await store.delete_documents(AUDIT, [lost["id"]])  # as if the writer died after the head moved
        assert (await log.verify_chain("acme")).broken is not None
        await log.append(change(3))
        report = await log.verify_chain("acme")
        assert report.broken is None and report.entries == 3

    async def test_an_erasure_leaves_no_email_and_the_chain_verifiable(self, stores: tuple[Store, Store]) -> None:
        store = stores[0]
        log = AuditLog(store, FakeClock())
        for n in range(3):
            await log.append(change(n, actor="leaver@example.com"))
            await log.append(change(10 + n))
        assert await log.forget_subject("acme", "leaver@example.com") == 3
        assert await log.forget_subject("acme", "member11@example.com") == 1
        documents = [e async for e in log.entries("acme")]
        documents += await store.list_documents("audit_heads", limit=10)
        assert "leaver@example.com" not in str(documents) and "member11@example.com" not in str(documents)
        assert (await log.verify_chain("acme")).broken is None

    async def test_a_log_older_than_the_chain_gets_a_start_entry_counting_it(self, stores: tuple[Store, Store]) -> None:
        store = stores[0]
        for n in range(3):  # as the release before the chain wrote them
            entry_id = f"{1_700_000_000_000 + n:013d}-abcd{n:04d}"
            await store.put_document(
                AUDIT, entry_id, {"id": entry_id, **change(n), "occurredAt": "2023-11-14T22:13:20Z"}
            )
        log = AuditLog(store, FakeClock())
        await log.append(change(7))
        report = await log.verify_chain("acme")
        assert report.broken is None and (report.unchained, report.entries) == (3, 2)
        start = [e async for e in log.entries("acme") if e.get("seq") == 1][0]
        assert start["action"] == START_ACTION and start["after"]["unchainedEntries"] == 3

    async def test_the_backoffice_lists_chained_entries_platform_wide_and_per_tenant(
        self, stores: tuple[Store, Store]
    ) -> None:
        clock = FakeClock()
        control = Backoffice(stores[0], clock)
        common = {"before": None, "after": None, "request_id": None}
        await control.audit(actor="op@example.com", action="plan.create", target="pro", tenant_id=None, **common)
        clock.advance(0.001)  # ids order by time across chains (within a chain, by place)
        await control.audit(actor="op@example.com", action="tenant.create", target="acme", tenant_id="acme", **common)
        everything = await control.list_audit(tenant_id=None, filters={}, after=None, limit=10)
        assert [e["action"] for e in everything] == ["plan.create", "tenant.create"]
        assert all(e["seq"] == 1 for e in everything), "the platform's chain and the tenant's start apart"
        assert (await control.audit_log.verify_chain(None)).broken is None


class TestSqliteAuditChain(AuditChainContract):
    def create_store(self, tmp_path: Path) -> Store:
        return SqliteStore(tmp_path / "ludex.sqlite3")


@pytest.mark.mongo
class TestMongoAuditChain(AuditChainContract):
    @pytest.fixture(autouse=True)
    def _mongo(self, mongo_url: str, mongo_database: str) -> None:
        self.url = mongo_url
        self.database = mongo_database

    def create_store(self, tmp_path: Path) -> Store:
        return MongoStore(self.url, self.database)
