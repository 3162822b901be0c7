"""A cancelled MongoDB store call ends cancelled. PyMongo's async client answers some cancelled
reads normally (the cancellation breaks the connection, its retryable read succeeds on another),
so a loop that `close` cancelled ran on forever: the realtime feed, then `Hub.close` waiting for it,
hung CI for five minutes."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator

import pytest

from actors.stores.base import EventQuery, JournalRecord
from actors.stores.mongo import MongoStore

pytestmark = pytest.mark.mongo
T, P = "acme", "cancel"


@pytest.fixture
async def store(mongo_url: str, mongo_database: str) -> AsyncIterator[MongoStore]:
    store = MongoStore(mongo_url, mongo_database)
    await store.open()
    yield store
    await store.close()


async def test_a_read_cancelled_at_any_point_raises_cancelled_error(store: MongoStore) -> None:
    records = [
        JournalRecord(
            entity=f"player:{T}/{P}/ann",
            seq=seq,
            events=[{"type": "player.xp.added", "data": {"amount": seq}}],
            occurred_at="2026-01-01T00:00:00.000Z",
            recorded_at_ms=1,
        )
        for seq in range(1, 31)
    ]
    await store.commit(records, [])
    rng = random.Random(7)
    cancelled = answered = 0
    for _ in range(300):
        read = asyncio.create_task(store.read_events(EventQuery(tenant=T, project=P), limit=7))
        await asyncio.sleep(rng.uniform(0, 0.004))
        if not read.cancel():
            answered += 1  # done before the cancel: nothing to check
            continue
        with pytest.raises(asyncio.CancelledError):
            await read
        cancelled += 1
    assert cancelled > 50, (cancelled, answered)  # the race was really run
    assert len(await store.read_events(EventQuery(tenant=T, project=P), limit=100)) == 30
