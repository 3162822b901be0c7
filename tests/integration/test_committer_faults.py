"""Group commit when the store fails at a chosen call, on each real backend (SQLite, MongoDB over
nx-27017): a store error mid-batch, a write that landed although the store answered an error,
a conflicting or stale record, a caller that cancelled or timed out. What each test proves is
the committer's promise: nothing acknowledged is lost, nothing is applied twice, and a write
that failed is refused with the right error while the writes around it still commit."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import pytest

from actors.committer import EntityUnavailableError, GroupCommitter, PendingWrite, WrongOwnerError
from actors.stores.base import CommitResult, JournalRecord, RememberedAnswer, SlotClaim, SlotOwner, Store
from tests.integration.test_committer import record, settle, write


class FaultyStore:
    """A real store whose `commit` fails at chosen calls (1 = the first): before writing
    (`fail_before`, nothing written) or after (`fail_after`, the write landed but the answer was
    lost, as a MongoDB batch interrupted half way). `gate`, when given, holds every commit until
    it is set: a commit in flight for as long as the test needs."""

    def __init__(
        self,
        store: Store,
        *,
        fail_before: Sequence[int] = (),
        fail_after: Sequence[int] = (),
        gate: asyncio.Event | None = None,
    ) -> None:
        self.store = store
        self.fail_before = set(fail_before)
        self.fail_after = set(fail_after)
        self.gate = gate
        self.calls: list[list[tuple[str, int]]] = []  # the (entity, seq) of each commit asked for

    async def commit(self, records: Sequence[JournalRecord], outcomes: Sequence[RememberedAnswer]) -> CommitResult:
        self.calls.append([(r.entity, r.seq) for r in records])
        call = len(self.calls)
        if self.gate is not None:
            await self.gate.wait()
        if call in self.fail_before:
            raise ConnectionError(f"the store went away at commit {call}")
        result = await self.store.commit(records, outcomes)
        if call in self.fail_after:
            raise ConnectionError(f"the answer to commit {call} was lost")
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


def committer_over(faulty: FaultyStore) -> GroupCommitter:
    return GroupCommitter(faulty)  # type: ignore[arg-type]  # the real store, wrapped


async def seqs(store: Store, entity: str) -> list[int]:
    return [r.seq for r in await store.read_journal(entity)]


def kinds(outcomes: list[BaseException | None]) -> list[type[BaseException] | None]:
    return [None if o is None else type(o) for o in outcomes]


async def test_a_store_error_mid_batch_fails_only_the_write_that_fails_alone(store: Store) -> None:
    faulty = FaultyStore(store, fail_before=[1, 2])  # the batch, then its first write alone
    committer = committer_over(faulty)
    a1, b1 = write("player:t/p/a", 1), write("player:t/p/b", 1)
    a2 = PendingWrite(record("player:t/p/a", 2), None, asyncio.get_running_loop().create_future(), a1.owner)
    for pending in (a1, b1, a2):
        committer.submit(pending)
    committer.start()
    outcomes = await settle([a1, b1, a2])
    await committer.stop()
    # a1 failed alone; a2 was decided on top of it and is refused without reaching the store.
    assert kinds(outcomes) == [EntityUnavailableError, None, EntityUnavailableError]
    assert faulty.calls == [
        [("player:t/p/a", 1), ("player:t/p/b", 1), ("player:t/p/a", 2)],
        [("player:t/p/a", 1)],
        [("player:t/p/b", 1)],
    ]
    assert await seqs(store, "player:t/p/a") == []
    assert await seqs(store, "player:t/p/b") == [1]


async def test_a_lone_write_the_store_fails_breaks_its_entity_until_reloaded(store: Store) -> None:
    faulty = FaultyStore(store, fail_before=[1])
    committer = committer_over(faulty)
    committer.start()
    first = write("player:t/p/a", 1)
    committer.submit(first)
    assert kinds(await settle([first])) == [EntityUnavailableError]
    assert first.owner.broken
    # A later write of the same (now broken) entity state is refused before the store is asked:
    # it was decided on top of a write whose fate is unknown.
    second = PendingWrite(record("player:t/p/a", 2), None, asyncio.get_running_loop().create_future(), first.owner)
    other = write("player:t/p/b", 1)
    committer.submit(second)
    committer.submit(other)
    assert kinds(await settle([second, other])) == [EntityUnavailableError, None]
    await committer.stop()
    assert all(("player:t/p/a", 2) not in call for call in faulty.calls)
    assert await seqs(store, "player:t/p/a") == []
    assert await seqs(store, "player:t/p/b") == [1]


async def test_a_batch_that_landed_although_the_store_answered_an_error_is_not_applied_twice(
    store: Store,
) -> None:
    faulty = FaultyStore(store, fail_after=[1])  # written, but the committer hears an error
    committer = committer_over(faulty)
    writes = [write(f"player:t/p/{name}", 1) for name in "abc"]
    for pending in writes:
        committer.submit(pending)
    committer.start()
    outcomes = await settle(writes)
    await committer.stop()
    # Retried one at a time, each meets its own (entity, seq): answered unavailable (the
    # caller's keyed retry replays it from the journal), never written a second time.
    assert kinds(outcomes) == [EntityUnavailableError] * 3
    assert len(faulty.calls) == 4
    for name in "abc":
        assert await seqs(store, f"player:t/p/{name}") == [1]
    assert all(pending.owner.broken for pending in writes)


async def test_a_record_another_host_wrote_first_is_refused_with_the_writes_decided_on_it(store: Store) -> None:
    theirs = record("player:t/p/a", 1, {"by": "the other host"})
    await store.commit([theirs], [])
    faulty = FaultyStore(store)
    committer = committer_over(faulty)
    a1 = write("player:t/p/a", 1, {"by": "this host"})
    loop = asyncio.get_running_loop()
    a2 = PendingWrite(record("player:t/p/a", 2), None, loop.create_future(), a1.owner)
    remembered = RememberedAnswer("player:t/p/a", "key-1", "fp", {"status": 409}, 1)
    a_outcome = PendingWrite(None, remembered, loop.create_future(), a1.owner)
    b1 = write("player:t/p/b", 1)
    batch = [a1, a2, a_outcome, b1]
    for pending in batch:
        committer.submit(pending)
    committer.start()
    outcomes = await settle(batch)
    await committer.stop()
    assert kinds(outcomes) == [EntityUnavailableError, EntityUnavailableError, EntityUnavailableError, None]
    assert "another host" in str(outcomes[0])
    journal = await store.read_journal("player:t/p/a")
    assert [(r.seq, r.current_events()[0]["data"]["metadata"]) for r in journal] == [(1, {"by": "the other host"})]
    assert await seqs(store, "player:t/p/b") == [1]


async def test_a_record_of_a_slot_that_moved_on_is_refused_as_wrong_owner(store: Store) -> None:
    await store.init_slots([SlotOwner(0, "h1", 1), SlotOwner(1, "h1", 1)])
    assert await store.move_slots([SlotClaim(0, 1, "h2")])  # slot 0 now holds epoch 2
    committer = committer_over(FaultyStore(store))
    loop = asyncio.get_running_loop()
    stale = PendingWrite(
        replace(record("player:t/p/a", 1), slot=0, epoch=1, host="h1"), None, loop.create_future(), SimpleNamespace()
    )
    cancelled = PendingWrite(
        replace(record("player:t/p/c", 1), slot=0, epoch=1, host="h1"), None, loop.create_future(), SimpleNamespace()
    )
    cancelled.future.cancel()  # its caller gave up: refused all the same, and nobody is answered
    fresh = PendingWrite(
        replace(record("player:t/p/b", 1), slot=1, epoch=1, host="h1"), None, loop.create_future(), SimpleNamespace()
    )
    for pending in (stale, cancelled, fresh):
        committer.submit(pending)
    committer.start()
    outcomes = await settle([stale, fresh])
    await committer.stop()
    assert kinds(outcomes) == [WrongOwnerError, None]
    assert "slot 0 moved past epoch 1" in str(outcomes[0])
    assert stale.owner.broken and cancelled.owner.broken and not getattr(fresh.owner, "broken", False)
    assert await seqs(store, "player:t/p/a") == [] and await seqs(store, "player:t/p/c") == []
    assert await seqs(store, "player:t/p/b") == [1]


async def test_a_commit_whose_caller_timed_out_still_lands_once_and_the_loop_goes_on(store: Store) -> None:
    gate = asyncio.Event()
    faulty = FaultyStore(store, gate=gate)
    committer = committer_over(faulty)
    committer.start()
    first = write("player:t/p/a", 1)
    committer.submit(first)
    held = asyncio.ensure_future(first.future)
    done, _ = await asyncio.wait([held], timeout=0.05)  # the commit is held at the gate: no answer yet
    assert not done
    held.cancel()  # the caller's deadline passed: its future is cancelled while the commit is in flight
    gate.set()
    later = write("player:t/p/b", 1)
    committer.submit(later)
    assert await settle([later]) == [None]
    await committer.stop()
    assert first.future.cancelled()
    assert await seqs(store, "player:t/p/a") == [1]  # durable once: a keyed retry replays it
    assert await seqs(store, "player:t/p/b") == [1]


async def test_stop_answers_every_write_queued_or_in_flight_before_it(store: Store) -> None:
    committer = committer_over(FaultyStore(store))
    writes = [write(f"player:t/p/{name}", 1) for name in "abcd"]
    committer.start()
    for pending in writes:
        committer.submit(pending)
    await committer.stop()  # asked while the writes are queued, then in flight: none is dropped
    assert all(pending.future.done() for pending in writes)
    assert await settle(writes) == [None] * 4
    for name in "abcd":
        assert await seqs(store, f"player:t/p/{name}") == [1]


async def test_writes_without_an_owner_or_a_record_fail_alone_in_a_failed_batch(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    committer = committer_over(FaultyStore(store, fail_before=[1, 2, 4]))  # the batch, then a and b alone
    loop = asyncio.get_running_loop()
    orphan = PendingWrite(record("player:t/p/a", 1), None, loop.create_future())  # a tool's write
    remembered = PendingWrite(
        None, RememberedAnswer("player:t/p/b", "k", "fp", {"status": 402}, 1), loop.create_future()
    )
    kept = write("player:t/p/c", 1)
    for pending in (orphan, kept, remembered):
        committer.submit(pending)
    committer.start()
    outcomes = await settle([orphan, kept, remembered])
    await committer.stop()
    assert kinds(outcomes) == [EntityUnavailableError, None, EntityUnavailableError]
    assert "outcome of player:t/p/b failed alone" in caplog.text
    assert await seqs(store, "player:t/p/a") == [] and await seqs(store, "player:t/p/c") == [1]
    assert await store.find_outcome("player:t/p/b", "k", 0) is None
