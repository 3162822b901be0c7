"""The MongoDB event feed, gap-free by construction.

Readers tail the feed by position (realtime, webhooks, `GET .../events` cursors): a reader that
has read up to position P must never later meet an event below P. Positions reserved before an
insert broke that (a slow writer's reserved positions became visible after faster writers'
later ones). Here a writer inserts its events *without* a position, and a single sequencer at a
time (a leased lock document) gives pending events their positions in order and only then moves
the feed's `head` past them. Readers never read above `head`, so everything at or below it is
final: a delayed writer's events simply get positions above `head` when they are sequenced,
by whichever writer (or the sweeper's repair) holds the lock next.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Sequence
from typing import Any

from pymongo import ReturnDocument, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

COUNTERS = "counters"
EVENTS = "events"
POSITIONS_ID = "events"  # the last position handed out
HEAD_ID = "events-head"  # every position at or below it is final
LOCK_ID = "events-sequencer"
LEASE_MS = 30_000
BATCH = 1000
WAIT_FOR_OWN_S = 10.0


class EventSequencer:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self.db = db

    async def head(self) -> int:
        document = await self.db[COUNTERS].find_one({"_id": HEAD_ID})
        return 0 if document is None else int(document["value"])

    async def sequence_own(self, event_ids: Sequence[str]) -> None:
        """Sequence pending events until these have positions (someone else's sequencing may do
        it); after WAIT_FOR_OWN_S they are left pending for the next sequencer or repair."""
        deadline, pause_s = time.monotonic() + WAIT_FOR_OWN_S, 0.002
        while True:
            await self.sequence()
            if await self.db[EVENTS].count_documents({"_id": {"$in": list(event_ids)}, "position": None}) == 0:
                return
            if time.monotonic() > deadline:
                return
            await asyncio.sleep(pause_s)  # the lock's holder is sequencing: likely ours too
            pause_s = min(pause_s * 2, 0.05)

    async def sequence(self) -> int:
        """Give every pending event a position, if the lock is free; answers how many."""
        holder = uuid.uuid4().hex
        if not await self._acquire(holder):
            return 0
        sequenced = 0
        try:
            while True:
                cursor = self.db[EVENTS].find({"position": None}, {"_id": 1}).sort("order", 1).limit(BATCH)
                pending = [d["_id"] async for d in cursor]
                if not pending:
                    return sequenced
                first = await self._reserve(len(pending))
                await self.db[EVENTS].bulk_write(
                    [
                        UpdateOne({"_id": i, "position": None}, {"$set": {"position": first + n}})
                        for n, i in enumerate(pending)
                    ],
                    ordered=True,
                )
                await self.advance_head(first + len(pending) - 1)
                sequenced += len(pending)
                await self._renew(holder)
        finally:
            await self.db[COUNTERS].delete_one({"_id": LOCK_ID, "holder": holder})

    async def advance_head(self, position: int) -> None:
        """Only after every position up to `position` is written: readers may now see them."""
        await self.db[COUNTERS].update_one({"_id": HEAD_ID}, {"$max": {"value": position}}, upsert=True)

    async def _reserve(self, count: int) -> int:
        counter = await self.db[COUNTERS].find_one_and_update(
            {"_id": POSITIONS_ID}, {"$inc": {"value": count}}, upsert=True, return_document=ReturnDocument.AFTER
        )
        assert counter is not None, "an upsert returning the document after it always finds one"
        return int(counter["value"]) - count + 1

    async def _acquire(self, holder: str) -> bool:
        now = int(time.time() * 1000)
        try:
            taken = await self.db[COUNTERS].find_one_and_update(
                {"_id": LOCK_ID, "until": {"$lt": now}},
                {"$set": {"holder": holder, "until": now + LEASE_MS}},
                upsert=True,
                return_document=ReturnDocument.AFTER,
            )
        except DuplicateKeyError:  # held, and its lease is live
            return False
        return taken is not None and taken.get("holder") == holder

    async def _renew(self, holder: str) -> None:
        now = int(time.time() * 1000)
        await self.db[COUNTERS].update_one({"_id": LOCK_ID, "holder": holder}, {"$set": {"until": now + LEASE_MS}})
