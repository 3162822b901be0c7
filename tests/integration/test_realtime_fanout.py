"""Realtime fan-out without a network: the per-process `Hub` tailing a real store, `since`
replays racing live writes (no gap, no duplicate), the slow-consumer rule through the real
WebSocket handler with fake sockets, and Redis announcements waking the hub."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from actors.event_publisher import RedisEventPublisher
from actors.ingress.control_plane import ControlPlane
from actors.ingress.realtime_hub import SLOW_CONSUMER, SLOW_CONSUMER_CODE, Hub, Subscriber, head_position
from actors.stores.base import EventQuery, EventRecord, JournalRecord, Store, event_records
from actors.stores.mongo import MongoStore
from actors.stores.sqlite import SqliteStore
from config.settings import Settings
from serve.ratelimit import LocalRateLimiter
from serve.realtime import route as realtime

T, P = "acme", "space"


def record(player: str, seq: int, *, project: str = P, events: int = 1) -> JournalRecord:
    return JournalRecord(
        entity=f"player:{T}/{project}/{player}",
        seq=seq,
        events=[{"type": "player.xp.added", "data": {"amount": seq, "n": i}} for i in range(events)],
        occurred_at="2026-01-01T00:00:00.000Z",
        recorded_at_ms=1,
    )


class Writer:
    """Commits one event per record for a player, numbering seqs."""

    def __init__(self, store: Store, project: str = P) -> None:
        self.store, self.project = store, project
        self.player = f"pl-{uuid.uuid4().hex[:8]}"
        self.seq = 0

    async def write(self, count: int = 1) -> list[EventRecord]:
        records = []
        for _ in range(count):
            self.seq += 1
            records.append(record(self.player, self.seq, project=self.project))
        await self.store.commit(records, [])
        return event_records(records)


@pytest.fixture(params=["sqlite", pytest.param("mongo", marks=pytest.mark.mongo)])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    if request.param == "sqlite":
        store: Store = SqliteStore(tmp_path / "ludex.sqlite3")
    else:
        store = MongoStore(request.getfixturevalue("mongo_url"), request.getfixturevalue("mongo_database"))
    await store.open()
    yield store
    await store.close()


async def drain(subscriber: Subscriber, count: int, timeout_s: float = 10.0) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    async with asyncio.timeout(timeout_s):
        while len(messages) < count:
            messages.append(await subscriber.queue.get())
    return messages


async def quiet(subscriber: Subscriber, wait_s: float = 0.3) -> list[dict[str, Any]]:
    """Whatever else arrives within `wait_s`."""
    await asyncio.sleep(wait_s)
    extra = []
    while not subscriber.queue.empty():
        extra.append(subscriber.queue.get_nowait())
    return extra


def ids(messages: list[dict[str, Any]]) -> list[str]:
    return [m["event"]["id"] for m in messages]


async def test_head_position_finds_the_last_event_of_a_project(store: Store) -> None:
    query = EventQuery(tenant=T, project=P)
    assert await head_position(store, query) == 0
    mine, other = Writer(store), Writer(store, project="other")
    for _ in range(7):
        await other.write(3)
        await mine.write(2)
    await other.write(5)
    last = (await mine.write())[0].id
    assert await head_position(store, query) == await store.event_position(last)


class SlowFeedStore:
    """The store, with event-feed reads held until `opened` is set: a feed that is slow to learn
    its head (a large event store, a busy machine)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.opened = asyncio.Event()

    async def read_events(self, query: EventQuery, *, after: int = 0, limit: int = 100) -> list[EventRecord]:
        await self.opened.wait()
        return await self.store.read_events(query, after=after, limit=limit)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


async def test_an_event_caused_after_the_acknowledgement_is_delivered_however_slow_the_feed_starts(
    store: Store,
) -> None:
    await Writer(store).write(3)  # history before the subscription
    slow = SlowFeedStore(store)
    hub = Hub(slow, poll_interval_s=0.02)  # type: ignore[arg-type]
    subscriber = Subscriber(T, P, "c1")
    writer = Writer(store)

    async def client() -> list[dict[str, Any]]:
        acknowledgement = await subscriber.queue.get()
        caused = await writer.write()  # the client acts as soon as it is told it is subscribed
        return [acknowledgement, *await drain(subscriber, 1), {"caused": caused[0].id}]

    watching = asyncio.create_task(client())
    subscribing = asyncio.create_task(hub.subscribe(subscriber, None, acknowledgement={"type": "subscribed"}))
    await asyncio.sleep(0.1)  # a client told too early has acted by now
    slow.opened.set()
    try:
        acknowledgement, event, caused = await asyncio.wait_for(watching, 10)
        await subscribing
        assert acknowledgement == {"type": "subscribed"}
        assert event["event"]["id"] == caused["caused"]
    finally:
        await hub.close()


async def test_live_events_reach_every_subscriber_filtered_by_type(store: Store) -> None:
    hub = Hub(store, poll_interval_s=0.02)
    writer = Writer(store)
    await writer.write(3)  # before the subscriptions: never delivered live
    everything, levelups = Subscriber(T, P, "a"), Subscriber(T, P, "b")
    await hub.subscribe(everything, None)
    await hub.subscribe(levelups, ["player.levelup"])
    written = await writer.write(5)
    try:
        assert ids(await drain(everything, 5)) == [e.id for e in written]
        assert await quiet(everything) == [] and await quiet(levelups) == []
        assert hub.subscribers(T, P) == 2
    finally:
        hub.unsubscribe(everything)
        hub.unsubscribe(levelups)
        await hub.close()
    assert hub.subscribers(T, P) == 0


async def test_a_since_replay_racing_live_writes_has_no_gap_and_no_duplicate(store: Store) -> None:
    hub = Hub(store, poll_interval_s=0.01, page_size=7)  # small pages: many replay round trips
    writer = Writer(store)
    written = await writer.write(40)
    since = written[9]
    subscriber = Subscriber(T, P, "replayer")

    async def keep_writing() -> None:
        for _ in range(30):
            written.extend(await writer.write(2))
            await asyncio.sleep(0.002)

    try:
        watcher = asyncio.create_task(hub.subscribe(Subscriber(T, P, "live"), None))  # the feed runs meanwhile
        await watcher
        racing = asyncio.create_task(keep_writing())
        await asyncio.sleep(0.01)
        await hub.subscribe(subscriber, None, since_position=await store.event_position(since.id))
        await racing
        expected = [e.id for e in written[10:]]
        received = ids(await drain(subscriber, len(expected)))
        assert received == expected
        assert await quiet(subscriber) == []
    finally:
        await hub.close()


async def test_a_slow_consumer_is_closed_with_4008_while_another_receives_everything(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "ludex.sqlite3")
    await store.open()
    control = ControlPlane(store)
    await control.ensure_tenant(T, "Acme")
    await control.ensure_project(T, P, "Space")
    _, api_key = await control.create_api_key(T, P, "rt", scopes=("realtime",))
    settings = Settings(data_dir=tmp_path, realtime_queue_size=20)
    backend = SimpleNamespace(store=store, control=control, settings=settings)
    app = SimpleNamespace(state=SimpleNamespace(backend_holder=SimpleNamespace(get=_returning(backend))))
    app.state.realtime_hub = Hub(store, poll_interval_s=0.02)
    app.state.rate_limiter = LocalRateLimiter(settings.default_rate_limit_per_s)
    query = {"x-api-key": api_key, "x-tenant-id": T, "x-project-id": P}
    stalled, reader = FakeSocket(app, query, reads=False), FakeSocket(app, query, reads=True)
    handlers = [asyncio.create_task(realtime.realtime(s)) for s in (stalled, reader)]  # type: ignore[arg-type]
    try:
        for socket in (stalled, reader):
            socket.incoming.put_nowait(json.dumps({"action": "subscribe", "eventTypes": ["*"]}))
        async with asyncio.timeout(5):
            while len(reader.sent) < 2:
                await asyncio.sleep(0.01)
        assert [m["type"] for m in reader.sent] == ["hello", "subscribed"]
        writer, written = Writer(store), []
        async with asyncio.timeout(10):
            for _ in range(10):  # the reader keeps up: each batch is read before the next is written
                written.extend(await writer.write(10))
                while len(reader.sent) < 2 + len(written):
                    await asyncio.sleep(0.005)
            await handlers[0]
        assert stalled.closed == (SLOW_CONSUMER_CODE, SLOW_CONSUMER) == (4008, "slow_consumer")
        assert ids(reader.sent[2:]) == [e.id for e in written]
        assert reader.closed is None and not handlers[1].done()
    finally:
        reader.incoming.put_nowait(None)
        await asyncio.gather(*handlers, return_exceptions=True)
        await app.state.realtime_hub.close()
        await store.close()


async def test_redis_announcements_wake_the_hub_before_its_next_poll(tmp_path: Path, redis_url: str) -> None:
    store = SqliteStore(tmp_path / "ludex.sqlite3")
    await store.open()
    hub = Hub(store, redis_url=redis_url, poll_interval_s=60)  # only a wake-up can deliver in time
    publisher = RedisEventPublisher(redis_url)
    subscriber = Subscriber(T, P, "woken")
    try:
        await hub.subscribe(subscriber, None)
        await asyncio.sleep(0.3)  # the PSUBSCRIBE is in place
        written = await Writer(store).write(3)
        publisher.publish(written)
        assert ids(await drain(subscriber, 3, timeout_s=5)) == [e.id for e in written]
        assert publisher.published >= 1 and hub.wakeups >= 1
    finally:
        await publisher.close()
        await hub.close()
        await store.close()


def _returning(value: Any) -> Any:
    async def get() -> Any:
        return value

    return get


class FakeSocket:
    """Enough of Starlette's WebSocket for the realtime handler. A socket that `reads=False`
    never completes a send: a client that stopped reading."""

    def __init__(self, app: Any, query: dict[str, str], *, reads: bool) -> None:
        from starlette.websockets import WebSocketState

        self.app, self.query_params = app, query
        self.headers: dict[str, str] = {}
        self.state = SimpleNamespace()
        self.reads = reads
        self.incoming: asyncio.Queue[str | None] = asyncio.Queue()
        self.sent: list[dict[str, Any]] = []
        self.closed: tuple[int, str | None] | None = None
        self.client_state = self.application_state = WebSocketState.CONNECTED

    async def accept(self) -> None:
        return None

    async def send_json(self, message: dict[str, Any]) -> None:
        if not self.reads:
            await asyncio.Event().wait()
        self.sent.append(message)

    async def receive(self) -> dict[str, Any]:
        text = await self.incoming.get()
        if text is None:
            return {"type": "websocket.disconnect", "code": 1000}
        return {"type": "websocket.receive", "text": text}

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        self.closed = (code, reason)


# ---------------------------------------------------------------------------------- since limits


async def test_since_resolves_only_to_events_of_the_same_tenant_and_project(store: Store) -> None:
    from actors.ingress.realtime_hub import resolve_since

    mine, theirs = Writer(store), Writer(store, project="other")
    own, foreign = (await mine.write())[0], (await theirs.write())[0]
    assert await resolve_since(store, T, P, own.id) == await store.event_position(own.id)
    assert await resolve_since(store, T, P, foreign.id) is None  # exists, but in another project
    assert await resolve_since(store, "someone-else", P, own.id) is None  # another tenant
    assert await resolve_since(store, T, P, "evt_missing") is None


async def test_more_events_than_reads_at_most_one_past_the_bound(store: Store) -> None:
    from actors.ingress.realtime_hub import more_events_than

    writer = Writer(store)
    first = (await writer.write())[0]
    await writer.write(7)
    await Writer(store, project="other").write(5)  # other projects' events never count
    after = await store.event_position(first.id)
    assert after is not None
    query = EventQuery(tenant=T, project=P)
    assert await more_events_than(store, query, after, 6) is True
    assert await more_events_than(store, query, after, 7) is False
    assert await more_events_than(store, query, after, 100) is False


class CountingStore:
    """The store, counting the events its feed reads hand back (what a `since` check costs)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.events_read = 0

    async def read_events(self, query: EventQuery, **page: Any) -> list[EventRecord]:
        found = await self.store.read_events(query, **page)
        self.events_read += len(found)
        return found

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


async def test_deciding_since_too_old_reads_at_most_one_event(store: Store) -> None:
    from actors.ingress.realtime_hub import more_events_than

    writer = Writer(store)
    first = (await writer.write())[0]
    await writer.write(40)
    after = await store.event_position(first.id)
    assert after is not None
    counting = CountingStore(store)
    query = EventQuery(tenant=T, project=P)
    assert await more_events_than(counting, query, after, 30) is True  # type: ignore[arg-type]
    assert await more_events_than(counting, query, after, 40) is False  # type: ignore[arg-type]
    assert counting.events_read <= 2, f"{counting.events_read} events read to decide twice"


class CancellationToError(SqliteStore):
    """A real store whose event reads, once `swallow` is set, answer a cancellation with an
    error of their own, as a database driver may."""

    swallow = False
    reading: asyncio.Event

    async def read_events(
        self, query: EventQuery, *, after: int = 0, limit: int = 100, skip: int = 0
    ) -> list[EventRecord]:
        if not self.swallow:
            return await super().read_events(query, after=after, limit=limit, skip=skip)
        self.reading.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            raise RuntimeError("operation cancelled") from None
        return []


async def test_the_hub_closes_when_a_store_read_answers_its_cancellation_with_an_error(tmp_path: Path) -> None:
    store = CancellationToError(tmp_path / "ludex.sqlite3")
    store.reading = asyncio.Event()
    await store.open()
    hub = Hub(store, poll_interval_s=0.01)
    try:
        await hub.subscribe(Subscriber(T, P, "live"), None)
        store.swallow = True
        async with asyncio.timeout(5):
            await store.reading.wait()  # the feed is inside a read
        async with asyncio.timeout(5):
            await hub.close()  # before the fix: the feed logged the error and polled on, and close waited forever
        assert hub.subscribers(T, P) == 0
    finally:
        await store.close()
