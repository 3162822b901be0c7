"""The MongoDB event feed is gap-free: a reader that tails it by position with no look-back gets
every event exactly once, although one writer is held between inserting its events and their
sequencing, and the sequencer is held once between writing positions and moving the head, while
a thousand other commits land."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from actors.stores.base import EventQuery, JournalRecord
from actors.stores.mongo import MongoStore
from actors.stores.mongo_feed import EventSequencer
from engine.events import WalletCredited, event_id, event_to_dict

WRITERS = 1000
FEED = EventQuery(tenant="acme", project="feed")


def record(player: str) -> JournalRecord:
    event = event_to_dict(WalletCredited("coins", 1, 1, "", {}))
    return JournalRecord(f"player:acme/feed/{player}", 1, [event, event], "2026-01-01T00:00:00.000Z", 1)


class DelayingSequencer(EventSequencer):
    slow_ids = {event_id("player:acme/feed/slow", 1, index) for index in (0, 1)}
    slow_entered = asyncio.Event()
    head_held = False

    async def sequence_own(self, event_ids: Sequence[str]) -> None:
        if self.slow_ids & set(event_ids):
            DelayingSequencer.slow_entered.set()
            await asyncio.sleep(1.0)  # its events wait unpositioned while the others commit
        await super().sequence_own(event_ids)

    async def advance_head(self, position: int) -> None:
        if not DelayingSequencer.head_held:
            DelayingSequencer.head_held = True
            await asyncio.sleep(0.5)  # positions written, not yet final
        await super().advance_head(position)


class DelayingStore(MongoStore):
    def _feed(self) -> EventSequencer:
        return DelayingSequencer(self._database())


async def tail(store: MongoStore, stop: asyncio.Event, seen: list[str]) -> None:
    """A reader with no look-back: it only ever asks for what lies above its cursor."""
    cursor = 0
    while True:
        finished = stop.is_set()
        page = await store.read_events(FEED, after=cursor, limit=500)
        for event in page:
            assert event.position > cursor
            seen.append(event.id)
            cursor = event.position
        if finished and not page:
            return
        await asyncio.sleep(0.001)


async def test_a_tailing_reader_misses_nothing_while_a_writer_is_held_up(mongo_url: str, mongo_database: str) -> None:
    store = DelayingStore(mongo_url, mongo_database)
    await store.open()
    seen: list[str] = []
    stop = asyncio.Event()
    reader = asyncio.create_task(tail(store, stop, seen))
    slow = asyncio.create_task(store.commit([record("slow")], []))
    await DelayingSequencer.slow_entered.wait()
    gate = asyncio.Semaphore(16)  # sixteen writers at a time, as many shard hosts' committers would be

    async def commit(index: int) -> None:
        async with gate:
            await store.commit([record(f"p{index}")], [])

    await asyncio.gather(*(commit(i) for i in range(WRITERS)))
    await slow
    await store.repair()
    stop.set()
    await reader
    stored = {e.id for e in await store.read_events(FEED, limit=10 * WRITERS)}
    assert len(stored) == 2 * (WRITERS + 1) and DelayingSequencer.head_held
    assert len(seen) == len(set(seen)), "an event delivered twice"
    assert set(seen) == stored, f"{len(stored - set(seen))} events skipped by the tailing reader"
    await store.close()
