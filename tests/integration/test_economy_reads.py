"""Issue 25, finding 7: a project's economy is read without re-reading every version. A store
that counts the project records it hands out shows that a cache miss, a define, an export, a
state-at and the reset sweep read one record (state-at: a binary search), however many versions
the project holds."""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

from actors.boards.rebuild import economy_in
from actors.clock import FakeClock
from actors.economy_reads import projects_in
from actors.host import CommandRequest, ShardHost
from actors.privacy import PlayerPrivacy
from actors.stores.base import JournalRecord
from actors.stores.sqlite import SqliteStore
from engine import commands as c

T, P = "acme", "space"
VERSIONS = 40


class CountingStore(SqliteStore):
    """A real SQLite store that counts the project records it reads."""

    project_records = 0

    def _count(self, records: list[JournalRecord]) -> None:
        self.project_records += sum(1 for record in records if record.entity.startswith("project:"))

    async def read_journal(self, entity: str, after_seq: int = 0, limit: int | None = None) -> list[JournalRecord]:
        records = await super().read_journal(entity, after_seq, limit)
        self._count(records)
        return records

    async def read_last(self, entity: str) -> JournalRecord | None:
        record = await super().read_last(entity)
        self._count([] if record is None else [record])
        return record

    async def scan_journal(self, prefix: str, **options: Any) -> list[JournalRecord]:
        records = await super().scan_journal(prefix, **options)
        self._count(records)
        return records

    def reads(self) -> int:
        counted, self.project_records = self.project_records, 0
        return counted


async def test_economy_reads_do_not_grow_with_the_number_of_versions(
    tmp_path: Path, demo_economy_document: dict[str, Any]
) -> None:
    store = CountingStore(tmp_path / "ludex.sqlite3")
    clock = FakeClock()
    host = ShardHost(store, clock=clock)
    await host.start(sweep=False)
    try:
        for version in range(1, VERSIONS + 1):
            document = copy.deepcopy(demo_economy_document)
            document["currencies"].append({"id": f"v{version}", "kind": "soft"})
            store.reads()
            assert (await host.define_economy(T, P, document)).ok
            assert store.reads() <= 1, "a define reads the current version only"
            if version == VERSIONS // 2:
                assert (await host.execute([CommandRequest(T, P, "ann", c.CreatePlayer("ann"))]))[0].ok
                assert (await host.execute([CommandRequest(T, P, "ann", c.Credit("coins", 5))]))[0].ok
            clock.advance(1.0)
        host.invalidate_economy(T, P)
        store.reads()
        assert (await host.execute([CommandRequest(T, P, "ann", c.Credit("coins", 1))]))[0].ok
        assert store.reads() <= 1, "a cache miss reads the current version only"

        privacy = PlayerPrivacy(store)
        chunks = await privacy.export(T, P, "ann")
        assert chunks is not None
        assert b'"daily-battles"' in b"".join([chunk async for chunk in chunks])
        assert store.reads() <= 1, "an export reads the current version only"

        view = await privacy.state_at(T, P, "ann", 2)
        assert view is not None and view["wallet"] == {"coins": 5}
        assert store.reads() <= math.ceil(math.log2(VERSIONS)) + 2, "state-at searches, it does not scan"

        assert await projects_in(store) == [(T, P)]
        economy = await economy_in(store, T, P)
        assert economy is not None and "v40" in economy.currencies
        assert store.reads() <= 2, "the reset sweep reads one record per project"
    finally:
        await host.stop()
