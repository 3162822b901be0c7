"""Group commit over a real SQLite store when something goes wrong: a record no store can keep
fails alone (its batch is retried one write at a time), and a failing durability callback or an
unexpected error leaves the commit loop serving later writes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from actors.committer import EntityUnavailableError, GroupCommitter, PendingWrite
from actors.stores.base import JournalRecord
from actors.stores.sqlite import SqliteStore
from engine.events import WalletCredited, event_to_dict


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    store = SqliteStore(tmp_path / "ludex.sqlite3")
    await store.open()
    yield store
    await store.close()


def record(entity: str, seq: int, data: dict[str, Any] | None = None) -> JournalRecord:
    event = event_to_dict(WalletCredited("coins", 1, seq, "", data or {}))
    return JournalRecord(entity, seq, [event], "2026-01-01T00:00:00.000Z", 1)


def write(entity: str, seq: int, data: dict[str, Any] | None = None, **extra: Any) -> PendingWrite:
    owner = SimpleNamespace(broken=False)
    return PendingWrite(record(entity, seq, data), None, asyncio.get_running_loop().create_future(), owner, **extra)


async def settle(writes: list[PendingWrite]) -> list[BaseException | None]:
    gathered = asyncio.gather(*(w.future for w in writes), return_exceptions=True)
    results = await asyncio.wait_for(gathered, timeout=30)  # a dead commit loop answers nobody
    return [r if isinstance(r, BaseException) else None for r in results]


async def test_a_record_the_store_cannot_encode_fails_alone_and_the_rest_of_its_batch_commits(
    store: SqliteStore,
) -> None:
    committer = GroupCommitter(store)
    writes = [write(f"player:t{i}/p/a", 1) for i in range(5)]
    poison = write("player:t9/p/bad", 1, {"x": 2**64})  # no JSON encoder keeps it
    batch = writes[:2] + [poison] + writes[2:]
    for pending in batch:
        committer.submit(pending)
    committer.start()
    outcomes = await settle(batch)
    await committer.stop()
    assert [type(o) for o in outcomes] == [type(None)] * 2 + [EntityUnavailableError] + [type(None)] * 3
    for pending in writes:
        assert pending.record is not None
        assert [r.seq for r in await store.read_journal(pending.record.entity)] == [1]
    assert await store.read_journal("player:t9/p/bad") == []


async def test_a_failing_durability_callback_does_not_stop_the_commit_loop(store: SqliteStore) -> None:
    committer = GroupCommitter(store)
    committer.start()

    def explode() -> None:
        raise RuntimeError("a subscriber broke")

    first = write("player:t/p/a", 1, on_durable=explode)
    committer.submit(first)
    assert await settle([first]) == [None]  # durable: answered although its callback failed
    second = write("player:t/p/b", 1)
    committer.submit(second)
    assert await settle([second]) == [None]
    await committer.stop()
    assert len(await store.read_journal("player:t/p/b")) == 1


class AnswersGarbageOnce(SqliteStore):
    """A real store whose first commit answers something the committer cannot read."""

    answered = False

    async def commit(self, records: Any, outcomes: Any) -> Any:
        result = await super().commit(records, outcomes)
        if not self.answered:
            self.answered = True
            return None
        return result


async def test_the_commit_loop_survives_an_unexpected_error(tmp_path: Path) -> None:
    store = AnswersGarbageOnce(tmp_path / "ludex.sqlite3")
    await store.open()
    committer = GroupCommitter(store)
    committer.start()
    first = write("player:t/p/a", 1)
    committer.submit(first)
    assert [type(o) for o in await settle([first])] == [EntityUnavailableError]
    later = write("player:t/p/c", 1)
    committer.submit(later)
    assert await settle([later]) == [None]
    await committer.stop()
    await store.close()
