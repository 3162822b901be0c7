"""Realtime fan-out: one `Hub` per ingress process delivers a project's events to the realtime
connections (`Subscriber`s) of that project.

Design (simple and exact): the hub ALWAYS reads events from the store's event feed by position
(`EventFeed.read_events(EventQuery(tenant, project), after=cursor)`), so ids, order and positions are
the store's own. One `_Feed` per (tenant, project) with subscribers polls every `poll_interval_s`.
With Redis configured, shard hosts PUBLISH each durable record's events on
`ludex:events:<tenant>:<project>` (`actors.event_publisher`) and every hub PSUBSCRIBEs
`ludex:events:*`: a message is only a wake-up that makes the project's feed read at once instead
of at its next tick (Redis pub/sub may drop messages; the poll still finds everything).

A `since` replay reads the store from the event's position while the feed buffers live events
for the subscriber; the buffer is then flushed keeping only positions above the replay's last,
so there is no gap and no duplicate across the boundary.

A slow consumer never slows the others: the feed hands events to each subscriber without
waiting (`put_nowait` into a bounded queue); a subscriber whose queue overflows is marked
`slow_consumer` and its connection is closed (code 4008) by whoever serves it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from actors.cancellation import cancel_requested
from actors.event_publisher import CHANNEL_PREFIX
from actors.redis_client import connect_redis
from actors.stores.base import EventFeed, EventQuery, EventRecord
from engine.webhooks import matches

log = logging.getLogger("ludex.fanout")

SLOW_CONSUMER = "slow_consumer"
SLOW_CONSUMER_CODE = 4008


# ---------------------------------------------------------------------------------- subscribers


@dataclass(eq=False)
class Subscriber:
    """One realtime connection of a (tenant, project): what it wants and what it has yet to send.

    Everything it must send (control messages and events) goes through `queue`, in order; the
    connection's writer drains it. `overflowed` is set when the queue (or the live buffer during a
    replay) exceeds `queue_size`: the connection must then be closed as a slow consumer."""

    tenant: str
    project: str
    connection_id: str
    queue_size: int = 1000
    on_overflow: Callable[[Subscriber], None] | None = None
    types: frozenset[str] | None = None  # None: every type
    player_id: str | None = None  # a player session's socket: that player's events only
    active: bool = False
    floor: int = 0  # live events at or below this position were replayed already
    queue: asyncio.Queue[dict[str, Any]] = field(init=False)
    overflowed: asyncio.Event = field(init=False, default_factory=asyncio.Event)
    _buffer: list[EventRecord] | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.queue = asyncio.Queue(maxsize=self.queue_size)

    @property
    def closed(self) -> bool:
        return self.overflowed.is_set()

    def wants(self, event: EventRecord) -> bool:
        """`*`, exact types and prefixes like `wallet.*`, as webhooks match them; a player
        session's socket, only its own player's events."""
        if self.player_id is not None and event.player_id != self.player_id:
            return False
        return self.types is None or matches(tuple(self.types), event.type)

    def send(self, message: dict[str, Any]) -> None:
        """Queue a message for the client; a full queue means the client does not read."""
        if self.closed:
            return
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self._overflow()

    def offer(self, event: EventRecord) -> None:
        """A live event from the feed: never waits."""
        if self.closed or not self.active or not self.wants(event):
            return
        if self._buffer is not None:
            if len(self._buffer) >= self.queue_size:
                self._overflow()
            else:
                self._buffer.append(event)
            return
        if event.position > self.floor:
            self.send(event_message(event))

    def _overflow(self) -> None:
        if self.closed:
            return
        self.overflowed.set()
        if self.on_overflow is not None:
            self.on_overflow(self)


def event_message(event: EventRecord) -> dict[str, Any]:
    return {"type": "event", "event": event.public()}


# ---------------------------------------------------------------------------------- the hub


async def head_position(store: EventFeed, query: EventQuery) -> int:
    """The position of the last event matching `query` (0: none), in O(log n) index seeks with
    the store protocol's one feed query."""

    async def first_after(position: int) -> int | None:
        page = await store.read_events(query, after=position, limit=1)
        return page[0].position if page else None

    low = await first_after(0)
    if low is None:
        return 0
    step = 1
    while True:  # gallop: `low` exists, find `high` with nothing after it
        found = await first_after(low + step)
        if found is None:
            high = low + step
            break
        low, step = found, step * 2
    while low < high:  # invariant: `low` exists, the head is in [low, high]
        middle = (low + high) // 2
        found = await first_after(middle)
        if found is None:
            high = middle
        else:
            low = found
    return low


async def resolve_since(store: EventFeed, tenant: str, project: str, event_id: str) -> int | None:
    """The position of `event_id` if it is an event of that tenant's project, else None: an
    event of another tenant or project answers exactly like an unknown id, so `since` is no
    oracle for whether someone else's event exists."""
    position = await store.event_position(event_id)
    if position is None:
        return None
    page = await store.read_events(EventQuery(tenant=tenant, project=project), after=position - 1, limit=1)
    if not page or page[0].id != event_id:
        return None
    return position


async def more_events_than(store: EventFeed, query: EventQuery, after: int, bound: int) -> bool:
    """Whether more than `bound` events match `query` after `after`, from one event read (the
    store skips the first `bound`): a replay is refused before it starts instead of stopping half
    way, and a refused one costs the store one event, not `bound`."""
    return bool(await store.read_events(query, after=after, limit=1, skip=bound))


class _Feed:
    """Tails one project's event feed for the subscribers of this process."""

    def __init__(self, hub: Hub, tenant: str, project: str) -> None:
        self.hub = hub
        self.tenant, self.project = tenant, project
        self.query = EventQuery(tenant=tenant, project=project)
        self.subscribers: set[Subscriber] = set()
        self.wake = asyncio.Event()
        self.ready = asyncio.Event()
        self.cursor = 0  # the highest position delivered
        self.start = 0  # the head when the feed started: nothing at or below is ever live
        self.recent: set[int] = set()  # positions delivered within the look-back window
        self.task: asyncio.Task[None] | None = None
        self.error: BaseException | None = None

    async def run(self) -> None:
        try:
            self.cursor = self.start = await head_position(self.hub.store, self.query)
        except BaseException as error:
            self.error = error
            self.ready.set()
            raise
        self.ready.set()
        while True:
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for returns instead of raising
            # when the task is cancelled just as the wake event is set (CPython gh-86296), and
            # this loop would then outlive `Hub.close`, which waits for it.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.hub.poll_interval_s):
                    await self.wake.wait()
            self.wake.clear()
            try:
                await self.poll()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - a failing store is retried at the next tick
                if cancel_requested():
                    # a driver that turned our cancellation into an error of its own: stop, or
                    # `Hub.close` (which waits for this task) would wait forever
                    raise asyncio.CancelledError from error
                log.warning("realtime feed %s/%s cannot read events: %s", self.tenant, self.project, error)

    async def poll(self) -> None:
        lookback = self.hub.lookback
        after = max(self.start, self.cursor - lookback)
        while True:
            page = await self.hub.store.read_events(self.query, after=after, limit=self.hub.page_size)
            for event in page:
                if event.position in self.recent:
                    continue
                self.recent.add(event.position)
                self.cursor = max(self.cursor, event.position)
                for subscriber in list(self.subscribers):
                    subscriber.offer(event)
            if len(page) < self.hub.page_size:
                break
            after = page[-1].position
        if lookback <= 0:
            self.recent.clear()
        elif len(self.recent) > lookback:
            floor = self.cursor - lookback
            self.recent = {p for p in self.recent if p > floor}


class Hub:
    """Per-process fan-out of project events to realtime subscribers (see the module doc).

    `lookback` re-reads that many positions behind the cursor at each poll, for stores whose
    concurrent writers may make positions visible out of order (MongoDB); 0 for SQLite, whose
    positions become visible in order."""

    def __init__(
        self,
        store: EventFeed,
        *,
        redis_url: str | None = None,
        poll_interval_s: float | None = None,
        lookback: int = 0,
        page_size: int = 500,
    ) -> None:
        self.store = store
        self.redis_url = redis_url
        # With Redis the poll is only a safety net behind the wake-ups.
        self.poll_interval_s = poll_interval_s if poll_interval_s is not None else (1.0 if redis_url else 0.1)
        self.lookback = lookback
        self.page_size = page_size
        self._feeds: dict[tuple[str, str], _Feed] = {}
        self._listener: asyncio.Task[None] | None = None
        self.wakeups = 0

    # ------------------------------------------------------------------------------ subscribers

    async def subscribe(
        self,
        subscriber: Subscriber,
        types: Sequence[str] | None,
        *,
        since_position: int | None = None,
        acknowledgement: dict[str, Any] | None = None,
        pay: Callable[[int], Awaitable[None]] | None = None,
    ) -> None:
        """Start (or change) a subscription. Without `since_position`, live events from now on;
        with it, every matching event after that position, then live ones, in position order.
        `acknowledgement` is queued once the project's feed knows where "now" is, before any
        event: a client that acts on it (awards XP, say) gets the events that follow. Queued
        before that, a fresh feed could still be reading its head and count them as past.
        `pay(n)` is awaited after each replay page of `n` events is read and before it is sent:
        the caller charges what the replay reads (and may wait for room in its rate limits)."""
        self._ensure_listener()
        subscriber.types = None if types is None else frozenset(types)
        await self._join(subscriber)
        if acknowledgement is not None:
            subscriber.send(acknowledgement)
        if since_position is None:
            subscriber.active = True
            return
        subscriber._buffer = []
        subscriber.active = True
        query = replay_query(subscriber, types)
        cursor = since_position
        try:
            while not subscriber.closed:
                page = await self.store.read_events(query, after=cursor, limit=self.page_size)
                if pay is not None and page:
                    await pay(len(page))
                for event in page:
                    if not subscriber.wants(event):
                        cursor = event.position
                        continue
                    # Replays wait for room: the live buffer meanwhile bounds how far behind it may fall.
                    await _put(subscriber, event_message(event))
                    cursor = event.position
                if len(page) < self.page_size:
                    break
        finally:
            buffered, subscriber._buffer = subscriber._buffer or [], None
            subscriber.floor = max(subscriber.floor, cursor)
            for event in buffered:
                subscriber.offer(event)

    def unsubscribe(self, subscriber: Subscriber) -> None:
        subscriber.active = False
        key = (subscriber.tenant, subscriber.project)
        feed = self._feeds.get(key)
        if feed is None:
            return
        feed.subscribers.discard(subscriber)
        if not feed.subscribers:
            del self._feeds[key]
            if feed.task is not None:
                feed.task.cancel()

    def subscribers(self, tenant: str, project: str) -> int:
        feed = self._feeds.get((tenant, project))
        return 0 if feed is None else len(feed.subscribers)

    async def _join(self, subscriber: Subscriber) -> None:
        """Add the subscriber to its project's feed (started if needed) once the feed knows its head.
        It joins before waiting, so the feed cannot be stopped for lack of subscribers meanwhile."""
        key = (subscriber.tenant, subscriber.project)
        feed = self._feeds.get(key)
        if feed is None or (feed.task is not None and feed.task.done()):
            feed = _Feed(self, *key)
            self._feeds[key] = feed
            feed.task = asyncio.get_running_loop().create_task(feed.run(), name=f"ludex-feed-{key[0]}/{key[1]}")
        feed.subscribers.add(subscriber)
        await feed.ready.wait()
        if feed.error is not None:
            feed.subscribers.discard(subscriber)
            if self._feeds.get(key) is feed:
                del self._feeds[key]
            raise feed.error

    def wake(self, tenant: str | None = None, project: str | None = None) -> None:
        """Make the project's feed (every feed when None) read now instead of at its next tick."""
        self.wakeups += 1
        if tenant is None or project is None:
            for each in self._feeds.values():
                each.wake.set()
            return
        feed = self._feeds.get((tenant, project))
        if feed is not None:
            feed.wake.set()

    # ------------------------------------------------------------------------------ redis

    def _ensure_listener(self) -> None:
        if self.redis_url and (self._listener is None or self._listener.done()):
            self._listener = asyncio.get_running_loop().create_task(self._listen(), name="ludex-fanout-redis")

    async def _listen(self) -> None:
        delay = 0.1
        while True:
            client = connect_redis(self.redis_url or "", max_connections=2)
            pubsub = client.pubsub()
            try:
                await pubsub.psubscribe(f"{CHANNEL_PREFIX}*")
                delay = 0.1
                self.wake()  # anything published while (re)connecting is read now
                while True:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                    if message is not None and message.get("type") == "pmessage":
                        self._on_message(message.get("data"))
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - reconnect; polling keeps delivering meanwhile
                if cancel_requested():  # the client turned `close`'s cancellation into an error
                    raise asyncio.CancelledError from error
                log.warning("realtime redis subscription lost: %s", error)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
                with contextlib.suppress(Exception):
                    await client.aclose()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)

    def _on_message(self, data: Any) -> None:
        try:
            events = orjson.loads(data)["events"]
            projects = {(e["tenantId"], e["projectId"]) for e in events}
        except (ValueError, KeyError, TypeError):
            self.wake()
            return
        for tenant, project in projects:
            self.wake(tenant, project)

    async def close(self) -> None:
        tasks = [f.task for f in self._feeds.values() if f.task is not None]
        if self._listener is not None:
            tasks.append(self._listener)
        self._feeds.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _put(subscriber: Subscriber, message: dict[str, Any]) -> None:
    """Queue a replayed message, waiting for room, unless the subscriber is closed meanwhile."""
    if subscriber.closed:
        return
    put = asyncio.ensure_future(subscriber.queue.put(message))
    closed = asyncio.ensure_future(subscriber.overflowed.wait())
    try:
        await asyncio.wait({put, closed}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        put.cancel()
        closed.cancel()


def replay_query(subscriber: Subscriber, types: Sequence[str] | None) -> EventQuery:
    """The store query a `since` replay of `types` reads (patterns are matched afterwards)."""
    return EventQuery(
        tenant=subscriber.tenant, project=subscriber.project, types=_types(types), player_id=subscriber.player_id
    )


def _types(types: Sequence[str] | None) -> tuple[str, ...] | None:
    """The store filter for `types`: none when a pattern (`wallet.*`) needs `matches` instead."""
    if types is None or any(t.endswith("*") for t in types):
        return None
    return tuple(types)
