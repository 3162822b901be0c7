"""The webhook worker against a real SQLite store and a real HTTP receiver on a local port:
retries with backoff until a 2xx, the same signed `webhook-id` on every attempt, dead letters
and redrive, 410, type filters, and crashes at every step between commit and delivery."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from standardwebhooks import Webhook

from actors.clock import FakeClock, epoch_ms
from actors.ingress.webhook_subscriptions import WebhookError, WebhookSubscriptions
from actors.pinned_target import pinned_url
from actors.stores.base import JournalRecord
from actors.stores.sqlite import SqliteStore
from actors.webhook_delivery import WebhookWorker
from actors.webhook_records import CURSOR_ID, CURSORS, DELIVERIES
from engine.events import event_id
from engine.rules import rfc3339
from tests.support.services import free_port

SCHEDULE = (1.0, 2.0, 4.0, 8.0)
TENANT, PROJECT = "acme", "main"


class Receiver:
    """A minimal HTTP/1.1 server: answers each request with the next scripted status (then
    `default`) and keeps what it received."""

    def __init__(self, statuses: list[int] | None = None, default: int = 200) -> None:
        self.statuses = list(statuses or [])
        self.default = default
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.port = free_port()
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    async def start(self) -> Receiver:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readline()
        headers: dict[str, str] = {}
        while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = line.decode().partition(":")
            headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        self.requests.append((headers, body))
        status = self.statuses.pop(0) if self.statuses else self.default
        writer.write(f"HTTP/1.1 {status} Status\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".encode())
        await writer.drain()
        writer.close()


class Trickler(Receiver):
    """Answers 200 with headers at once, then a body that never ends: one byte now and then."""

    def __init__(self) -> None:
        super().__init__()
        self.closed = asyncio.Event()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readline()
        headers: dict[str, str] = {}
        while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = line.decode().partition(":")
            headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        self.requests.append((headers, body))
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 1000000000\r\n\r\n")
        try:
            for _ in range(600):  # 30 s at most, far beyond the worker's timeout
                writer.write(b"x")
                await writer.drain()
                await asyncio.sleep(0.05)
        except ConnectionError:
            pass
        finally:
            self.closed.set()
            writer.close()


class Redriving(Receiver):
    """Redrives the delivery while the worker waits for the first answer."""

    def __init__(self, redrive: Any) -> None:
        super().__init__()
        self.redrive = redrive

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.requests:
            await self.redrive()
        await super()._handle(reader, writer)


@pytest.fixture
def clock() -> FakeClock:
    # Real "now": receivers verify that the signed timestamp is within 5 minutes of their clock.
    return FakeClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "ludex.sqlite3"


@pytest.fixture
async def store(path: Path) -> AsyncIterator[SqliteStore]:
    store = SqliteStore(path)
    await store.open()
    yield store
    await store.close()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    receiver = await Receiver().start()
    yield receiver
    await receiver.stop()


def new_worker(store: Any, clock: FakeClock, **options: Any) -> WebhookWorker:
    options.setdefault("allow_private", True)
    return WebhookWorker(store, clock, schedule=SCHEDULE, uniform=random.Random(7).uniform, **options)


async def wait_for_request(receiver: Receiver, within_s: float) -> None:
    """Until the receiver got a request, or `within_s` passed (the caller checks what came)."""
    for _ in range(int(within_s / 0.02)):
        if receiver.requests:
            return
        await asyncio.sleep(0.02)


async def subscribe(store: SqliteStore, clock: FakeClock, url: str, types: list[str] | None = None) -> dict[str, Any]:
    subscriptions = WebhookSubscriptions(store, clock, allow_private=True)
    return await subscriptions.create(TENANT, PROJECT, url, types or ["*"])


async def emit(
    store: SqliteStore, clock: FakeClock, player: str, seq: int, *types: str, project: str = PROJECT
) -> list[str]:
    """Commit one journal record of `types` events for `player`; answers their event ids."""
    entity = f"player:{TENANT}/{project}/{player}"
    events = [{"type": t, "data": {"n": seq}} for t in types or ("player.created",)]
    now = clock.now()
    await store.commit([JournalRecord(entity, seq, events, rfc3339(now), epoch_ms(now))], [])
    return [event_id(entity, seq, i) for i in range(len(events))]


async def deliveries(store: SqliteStore) -> list[dict[str, Any]]:
    return await store.list_documents(DELIVERIES, limit=1000)


async def run_until(worker: WebhookWorker, clock: FakeClock, store: SqliteStore, status: str, step_s: float) -> None:
    for _ in range(20):
        await worker.run_once()
        found = await deliveries(store)
        if found and all(d["status"] == status for d in found):
            return
        clock.advance(step_s)
    raise AssertionError(f"deliveries never became {status}: {await deliveries(store)}")


async def test_a_failing_receiver_gets_the_event_with_backoff_and_the_same_signed_id(
    store: SqliteStore, path: Path, clock: FakeClock, receiver: Receiver
) -> None:
    receiver.statuses = [500, 503, 500]
    subscription = await subscribe(store, clock, receiver.url)
    [event] = await emit(store, clock, "p1", 1, "wallet.credited")
    worker = new_worker(SqliteStore(path), clock)
    await worker.open()
    try:
        await worker.run_once()
        assert len(receiver.requests) == 1
        [delivery] = await deliveries(store)
        assert delivery["status"] == "failed" and delivery["failures"] == 1
        jitter = random.Random(7)
        first_delay = SCHEDULE[0] * jitter.uniform(0.8, 1.2)
        assert delivery["nextAttemptAt"] == rfc3339(clock.now() + timedelta(seconds=first_delay))
        clock.advance(first_delay - 0.1)
        await worker.run_once()
        assert len(receiver.requests) == 1, "not due yet"
        clock.advance(0.2)
        await worker.run_once()
        assert len(receiver.requests) == 2
        await run_until(worker, clock, store, "delivered", 10.0)
    finally:
        await worker.close()
    [delivery] = await deliveries(store)
    assert delivery["id"] == f"{subscription['id']}:{event}"
    assert [a["statusCode"] for a in delivery["attempts"]] == [500, 503, 500, 200]
    assert all(a["latencyMs"] >= 0 and a["at"] for a in delivery["attempts"])
    assert delivery["deliveredAt"] and delivery["eventType"] == "wallet.credited"
    assert len(receiver.requests) == 4
    delay = worker.stats()["deliveryDelaySeconds"]  # ludex_webhook_delivery_delay_seconds: retries count
    took = (
        datetime.fromisoformat(delivery["deliveredAt"]) - datetime.fromisoformat(delivery["createdAt"])
    ).total_seconds()
    assert delay["count"] == 1 and delay["sum"] == pytest.approx(took, abs=0.001) and took > first_delay
    assert {headers["webhook-id"] for headers, _ in receiver.requests} == {event}
    for headers, _ in receiver.requests:
        assert headers["ludex-event-type"] == "wallet.credited"
        assert headers["content-type"] == "application/json"
        assert headers["webhook-signature"].startswith("v1,")
    headers, body = receiver.requests[-1]
    payload = Webhook(subscription["secret"]).verify(body, headers)
    assert payload == orjson.loads(body)
    assert payload["id"] == event and payload["type"] == "wallet.credited"
    assert payload["tenantId"] == TENANT and payload["projectId"] == PROJECT and payload["playerId"] == "p1"
    assert b" " not in body, "compact JSON"
    other = Webhook("whsec_" + "QUJD" * 8)
    with pytest.raises(Exception, match="signature"):
        other.verify(body, headers)


async def test_a_receiver_down_for_good_ends_dead_and_redrive_delivers_once_it_is_up(
    store: SqliteStore, path: Path, clock: FakeClock
) -> None:
    down = Receiver()  # never started: connections are refused
    subscription = await subscribe(store, clock, down.url)
    [event] = await emit(store, clock, "p1", 1, "player.created")
    worker = new_worker(SqliteStore(path), clock)
    await worker.open()
    try:
        await run_until(worker, clock, store, "dead", 20.0)
        [delivery] = await deliveries(store)
        assert len(delivery["attempts"]) == len(SCHEDULE) + 1
        assert all(a["statusCode"] is None and a["error"] for a in delivery["attempts"])
        assert delivery["nextAttemptAt"] is None
        clock.advance(60)
        await worker.run_once()
        assert len((await deliveries(store))[0]["attempts"]) == len(SCHEDULE) + 1, "dead stays dead"

        await down.start()
        subscriptions = WebhookSubscriptions(store, clock)
        dead = await subscriptions.deliveries(TENANT, PROJECT, subscription["id"], status="dead", after=None, limit=10)
        assert [d["eventId"] for d in dead] == [event]
        assert await subscriptions.redrive_dead(TENANT, PROJECT, subscription["id"]) == 1
        await worker.run_once()
    finally:
        await worker.close()
        await down.stop()
    [delivery] = await deliveries(store)
    assert delivery["status"] == "delivered"
    assert len(down.requests) == 1 and down.requests[0][0]["webhook-id"] == event
    Webhook(subscription["secret"]).verify(down.requests[0][1], down.requests[0][0])


async def test_redriving_one_delivery_sends_it_again(
    store: SqliteStore, path: Path, clock: FakeClock, receiver: Receiver
) -> None:
    subscription = await subscribe(store, clock, receiver.url)
    [event] = await emit(store, clock, "p1", 1, "player.created")
    worker = new_worker(SqliteStore(path), clock)
    await worker.open()
    try:
        await worker.run_once()
        subscriptions = WebhookSubscriptions(store, clock)
        redriven = await subscriptions.redrive(TENANT, PROJECT, subscription["id"], f"{subscription['id']}:{event}")
        assert redriven["status"] == "pending"
        await worker.run_once()
        with pytest.raises(WebhookError) as missing:
            await subscriptions.redrive(TENANT, PROJECT, subscription["id"], f"{subscription['id']}:evt_nope")
        assert missing.value.slug == "delivery-not-found"
    finally:
        await worker.close()
    assert [h["webhook-id"] for h, _ in receiver.requests] == [event, event]
    [delivery] = await deliveries(store)
    assert delivery["status"] == "delivered" and len(delivery["attempts"]) == 2


async def test_a_redrive_during_an_attempt_wins_and_the_delivery_is_sent_again(
    store: SqliteStore, path: Path, clock: FakeClock
) -> None:
    subscriptions = WebhookSubscriptions(store, clock, allow_private=True)
    identity: list[str] = []

    async def redrive() -> None:
        [found] = await deliveries(store)
        identity.append(found["id"])
        await subscriptions.redrive(TENANT, PROJECT, found["subscriptionId"], found["id"])

    receiver = await Redriving(redrive).start()
    await subscribe(store, clock, receiver.url)
    [event] = await emit(store, clock, "p1", 1, "player.created")
    worker = new_worker(SqliteStore(path), clock)
    await worker.open()
    try:
        await worker.run_once()
        [delivery] = await deliveries(store)
        assert delivery["status"] == "pending", "the worker's result did not overwrite the redrive"
        assert delivery["redrives"] == 1 and delivery["redrivenAt"]
        assert [a["statusCode"] for a in delivery["attempts"]] == [200], "the attempt is still logged"
        await worker.run_once()
    finally:
        await worker.close()
        await receiver.stop()
    assert [h["webhook-id"] for h, _ in receiver.requests] == [event, event]
    [delivery] = await deliveries(store)
    assert delivery["id"] == identity[0]
    assert delivery["status"] == "delivered" and [a["statusCode"] for a in delivery["attempts"]] == [200, 200]


async def test_a_receiver_trickling_its_answer_fails_within_the_timeout_and_blocks_no_one(
    store: SqliteStore, path: Path, clock: FakeClock, receiver: Receiver
) -> None:
    trickler = await Trickler().start()
    slow = await subscribe(store, clock, trickler.url)
    fast = await subscribe(store, clock, receiver.url)
    [event] = await emit(store, clock, "p1", 1, "player.created")
    worker = new_worker(SqliteStore(path), clock, http_timeout_s=0.5)
    await worker.open()
    try:
        started = asyncio.get_running_loop().time()
        await worker.run_once()
        elapsed = asyncio.get_running_loop().time() - started
        await asyncio.wait_for(trickler.closed.wait(), 5)  # the worker hung up
    finally:
        await worker.close()
        await trickler.stop()
    assert elapsed < 3, f"the attempt took {elapsed:.1f}s"
    by_subscription = {d["subscriptionId"]: d for d in await deliveries(store)}
    assert by_subscription[fast["id"]]["status"] == "delivered"
    failed = by_subscription[slow["id"]]
    assert failed["status"] == "failed" and failed["failures"] == 1
    assert failed["attempts"][0]["error"] == "timeout" and failed["attempts"][0]["statusCode"] is None
    assert [h["webhook-id"] for h, _ in receiver.requests] == [event]
    assert len(trickler.requests) == 1


async def test_410_gone_disables_the_subscription(
    store: SqliteStore, path: Path, clock: FakeClock, receiver: Receiver
) -> None:
    receiver.statuses = [410]
    subscription = await subscribe(store, clock, receiver.url)
    await emit(store, clock, "p1", 1, "player.created")
    worker = new_worker(SqliteStore(path), clock)
    await worker.open()
    try:
        await worker.run_once()
        [delivery] = await deliveries(store)
        assert delivery["status"] == "dead" and delivery["attempts"][0]["statusCode"] == 410
        subscriptions = WebhookSubscriptions(store, clock)
        disabled = await subscriptions.get(TENANT, PROJECT, subscription["id"])
        assert disabled["active"] is False and disabled["disabledReason"] == "gone"
        clock.advance(1)
        await emit(store, clock, "p1", 2, "wallet.credited")
        await worker.run_once()
        assert len(await deliveries(store)) == 1, "an inactive subscription gets nothing"
        with pytest.raises(WebhookError) as inactive:
            await subscriptions.redrive_dead(TENANT, PROJECT, subscription["id"])
        assert inactive.value.slug == "webhook-inactive"
        _, enabled = await subscriptions.update(TENANT, PROJECT, subscription["id"], {"active": True})
        assert "disabledReason" not in enabled
    finally:
        await worker.close()
    assert len(receiver.requests) == 1


async def test_subscriptions_get_only_their_project_types_and_events_after_they_exist(
    store: SqliteStore, path: Path, clock: FakeClock, receiver: Receiver
) -> None:
    await emit(store, clock, "early", 1, "wallet.credited")  # before any subscription
    clock.advance(1)
    wallet = await subscribe(store, clock, receiver.url, ["wallet.*"])
    created = await subscribe(store, clock, receiver.url, ["player.created"])
    everything = await subscribe(store, clock, receiver.url, ["*"])
    clock.advance(1)
    ids = await emit(store, clock, "p1", 1, "player.created", "wallet.credited", "player.xp.added")
    await emit(store, clock, "p2", 1, "wallet.credited", project="other")
    worker = new_worker(SqliteStore(path), clock)
    await worker.open()
    try:
        await worker.run_once()
    finally:
        await worker.close()
    by_subscription: dict[str, list[str]] = {}
    for delivery in await deliveries(store):
        by_subscription.setdefault(delivery["subscriptionId"], []).append(delivery["eventId"])
        assert delivery["status"] == "delivered"
    assert sorted(by_subscription[wallet["id"]]) == [ids[1]]
    assert sorted(by_subscription[created["id"]]) == [ids[0]]
    assert sorted(by_subscription[everything["id"]]) == sorted(ids)
    assert len(receiver.requests) == 5


async def test_a_worker_that_crashed_after_writing_deliveries_leaves_them_to_the_next(
    store: SqliteStore, path: Path, clock: FakeClock, receiver: Receiver
) -> None:
    subscription = await subscribe(store, clock, receiver.url)
    ids = await emit(store, clock, "p1", 1, "player.created", "wallet.credited")
    crashed = new_worker(SqliteStore(path), clock)
    await crashed.open()
    assert await crashed.intake() == 2
    await crashed.close()  # gone before sending anything
    assert receiver.requests == []
    assert {d["status"] for d in await deliveries(store)} == {"pending"}

    worker = new_worker(SqliteStore(path), clock)
    await worker.open()
    try:
        await worker.run_once()
        await worker.run_once()
    finally:
        await worker.close()
    assert sorted(h["webhook-id"] for h, _ in receiver.requests) == sorted(ids)
    # A third worker re-reads the window behind the cursor: nothing is delivered twice.
    again = new_worker(SqliteStore(path), clock)
    await again.open()
    try:
        assert await again.intake() == 0
        await again.run_once()
    finally:
        await again.close()
    assert len(receiver.requests) == 2
    assert {d["id"] for d in await deliveries(store)} == {f"{subscription['id']}:{i}" for i in ids}


class CrashingStore(SqliteStore):
    """Dies when it is about to write a delivery: events were read, nothing was recorded."""

    async def put_document(self, kind: str, doc_id: str, document: dict[str, Any]) -> None:
        if kind == DELIVERIES:
            raise ConnectionError("the worker's process died")
        await super().put_document(kind, doc_id, document)


async def test_a_worker_that_crashed_before_writing_deliveries_leaves_the_cursor_behind(
    store: SqliteStore, path: Path, clock: FakeClock, receiver: Receiver
) -> None:
    await subscribe(store, clock, receiver.url)
    [event] = await emit(store, clock, "p1", 1, "player.created")
    crashed = new_worker(CrashingStore(path), clock)
    await crashed.open()
    with pytest.raises(ConnectionError):
        await crashed.intake()
    await crashed.close()
    assert await store.get_document(CURSORS, CURSOR_ID) is None, "the cursor did not move"

    worker = new_worker(SqliteStore(path), clock)
    await worker.open()
    try:
        await worker.run_once()
    finally:
        await worker.close()
    assert [h["webhook-id"] for h, _ in receiver.requests] == [event]
    cursor = await store.get_document(CURSORS, CURSOR_ID)
    assert cursor is not None and cursor["position"] >= 1


async def test_the_worker_refuses_private_destinations_at_send_time_unless_allowed(
    store: SqliteStore, path: Path, clock: FakeClock, receiver: Receiver
) -> None:
    await subscribe(store, clock, receiver.url)  # accepted when created (allowed then)
    await emit(store, clock, "p1", 1, "player.created")
    worker = new_worker(SqliteStore(path), clock, allow_private=False)
    await worker.open()
    try:
        await worker.run_once()
    finally:
        await worker.close()
    [delivery] = await deliveries(store)
    assert delivery["status"] == "failed"
    assert "private" in delivery["attempts"][0]["error"] and delivery["attempts"][0]["statusCode"] is None
    assert receiver.requests == []


async def test_the_background_loop_delivers_without_being_driven(
    store: SqliteStore, path: Path, receiver: Receiver
) -> None:
    clock = FakeClock(datetime.now(UTC))
    subscription = await subscribe(store, clock, receiver.url)
    worker = WebhookWorker(SqliteStore(path), schedule=SCHEDULE, poll_interval_s=0.02, allow_private=True)
    await worker.start()
    try:
        clock.advance(1)
        [event] = await emit(store, clock, "p1", 1, "player.created")
        await wait_for_request(receiver, 5.0)
    finally:
        await worker.stop()
    assert [h["webhook-id"] for h, _ in receiver.requests] == [event]
    Webhook(subscription["secret"]).verify(receiver.requests[0][1], receiver.requests[0][0])


async def test_stop_ends_the_loop_even_when_a_slot_frees_as_it_is_cancelled(path: Path) -> None:
    """`stop` cancels the loop just as an attempt ends: on Python 3.11 a `wait_for` there returned
    instead of raising (CPython gh-86296), the loop ran on and `stop` waited for it forever."""
    worker = WebhookWorker(SqliteStore(path), schedule=SCHEDULE, poll_interval_s=30.0, allow_private=True)
    await worker.start()
    try:
        await asyncio.sleep(0.2)  # the first tick is done: the loop waits for a freed slot
        loop_task = worker._loop
        assert loop_task is not None and not loop_task.done()
        worker._slot_freed.set()
        loop_task.cancel()  # the same step: the wait ends and the cancellation arrives together
        async with asyncio.timeout(5):
            await asyncio.gather(loop_task, return_exceptions=True)
        assert loop_task.cancelled()
    finally:
        worker._loop = None
        await worker.stop()


async def test_subscription_urls_are_checked_and_resolved() -> None:
    subscriptions = WebhookSubscriptions(_NoStore(), FakeClock(), allow_private=False)
    for url in ("ftp://example.com/x", "http://user:pw@example.com/", "http://127.0.0.1:9/x", "http://[::1]/"):
        with pytest.raises(WebhookError) as refused:
            await subscriptions.create(TENANT, PROJECT, url, ["*"])
        assert refused.value.slug == "webhook-url-refused"
    localhost = WebhookSubscriptions(_NoStore(), FakeClock(), allow_private=False)
    with pytest.raises(WebhookError):
        await localhost.create(TENANT, PROJECT, "http://localhost:8080/hook", ["*"])


def test_pinned_urls_keep_path_port_and_query() -> None:
    assert pinned_url("https://hooks.example.com:8443/a/b?x=1", "93.184.216.34") == "https://93.184.216.34:8443/a/b?x=1"
    assert pinned_url("http://hooks.example.com", "2606:2800:220:1::1") == "http://[2606:2800:220:1::1]/"


class _NoStore:
    async def put_document(self, kind: str, doc_id: str, document: dict[str, Any]) -> None:
        raise AssertionError("a refused subscription is never stored")


def test_private_destinations_are_allowed_by_default_only_on_the_embedded_store(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from config.settings import Settings

    for name in ("LUDEX_MONGO_URL", "LUDEX_WEBHOOK_ALLOW_PRIVATE"):
        monkeypatch.delenv(name, raising=False)
    assert Settings().webhook_allow_private is True
    assert Settings(mongo_url="mongodb://db:27017").webhook_allow_private is False
    assert Settings(mongo_url="mongodb://db:27017", webhook_allow_private=True).webhook_allow_private is True
    monkeypatch.setenv("LUDEX_MONGO_URL", "mongodb://db:27017")
    assert Settings().webhook_allow_private is False
    monkeypatch.setenv("LUDEX_WEBHOOK_ALLOW_PRIVATE", "true")
    assert Settings().webhook_allow_private is True
    monkeypatch.delenv("LUDEX_MONGO_URL")
    monkeypatch.setenv("LUDEX_WEBHOOK_ALLOW_PRIVATE", "false")
    assert Settings().webhook_allow_private is False
    assert Settings().webhook_retry_schedule is None


async def test_a_suspended_tenant_s_deliveries_pause_and_resume_once_it_is_reinstated(
    store: SqliteStore, path: Path, clock: FakeClock, receiver: Receiver
) -> None:
    from actors.control_plane_records import TENANTS

    tenant = {"id": TENANT, "tenantId": TENANT, "name": TENANT, "planId": "free"}
    await subscribe(store, clock, receiver.url)
    await store.put_document(TENANTS, TENANT, {**tenant, "suspended": True})
    [event] = await emit(store, clock, "p1", 1, "player.created")
    worker = new_worker(SqliteStore(path), clock)
    await worker.open()
    try:
        for _ in range(4):
            await worker.run_once()
            clock.advance(SCHEDULE[-1] * 10)  # past every retry: a paused delivery must not die
        assert receiver.requests == [], "a suspended tenant's webhook was called"
        [paused] = await deliveries(store)
        assert paused["status"] == "pending" and paused["failures"] == 0, paused
        await store.put_document(TENANTS, TENANT, {**tenant, "suspended": False})
        await run_until(worker, clock, store, "delivered", 30.0)
    finally:
        await worker.close()
    assert [h["webhook-id"] for h, _ in receiver.requests] == [event]
