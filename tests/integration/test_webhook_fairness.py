"""The webhook worker under one tenant's load, against a real SQLite store and real HTTP
receivers on local ports: a tenant's backlog to a hanging receiver does not hold back another
tenant, a redrive reads only what it redrove, old deliveries are purged, and a failing step is
logged with its traceback while the others go on."""

from __future__ import annotations

import asyncio
import logging
import random
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from actors.clock import FakeClock, epoch_ms
from actors.control_plane_records import TENANTS
from actors.ingress.webhook_subscriptions import WebhookSubscriptions
from actors.stores.base import EventQuery, EventRecord, JournalRecord
from actors.stores.sqlite import SqliteStore
from actors.webhook_delivery import WebhookWorker
from actors.webhook_records import DELIVERIES, REDRIVES
from engine.events import event_id
from engine.rules import rfc3339
from tests.integration import test_webhook_worker as worker_tests
from tests.integration.test_webhook_worker import Receiver, wait_for_request

PROJECT = "main"
clock, path, store = worker_tests.clock, worker_tests.path, worker_tests.store  # the same fixtures
DAY_S = 24 * 3600.0


class Hanging(Receiver):
    """Takes the request and never answers: every attempt lasts the worker's whole timeout."""

    def __init__(self) -> None:
        super().__init__()
        self.open_requests = 0
        self.most_open = 0

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readline()
        self.requests.append(({}, b""))
        self.open_requests += 1
        self.most_open = max(self.most_open, self.open_requests)
        try:
            await reader.read()  # until the worker hangs up
        finally:
            self.open_requests -= 1
            writer.close()


class CountingStore(SqliteStore):
    """A real SQLite store that notes which documents the worker lists and reads."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.listed: Counter[str] = Counter()
        self.read: list[tuple[str, str]] = []

    async def list_documents(
        self, kind: str, *, tenant: str | None = None, after: str | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        self.listed[kind] += 1
        return await super().list_documents(kind, tenant=tenant, after=after, limit=limit)

    async def get_documents(self, refs: Sequence[tuple[str, str]]) -> list[dict[str, Any] | None]:
        self.read += refs
        return await super().get_documents(refs)


class FailingOnce(SqliteStore):
    """Its first event read fails (a store that is briefly away)."""

    failed = False

    async def read_events(self, query: EventQuery, *, after: int = 0, limit: int = 100) -> list[EventRecord]:
        if not self.failed:
            self.failed = True
            raise ConnectionError("the store went away for a moment")
        return await super().read_events(query, after=after, limit=limit)


@pytest.fixture
def worker_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """The worker's records, even where `configure_logging` stopped `ludex` propagating."""
    logger = logging.getLogger("ludex.webhooks")
    logger.addHandler(caplog.handler)
    logger.propagate = False  # or the root's capture would see each record twice
    caplog.set_level(logging.INFO, logger="ludex.webhooks")
    yield caplog
    logger.removeHandler(caplog.handler)
    logger.propagate = True


def logged_failure(caplog: pytest.LogCaptureFixture) -> tuple[str, type[BaseException] | None]:
    """The one error logged, and the type of the exception logged with it (its traceback)."""
    [failure] = [r for r in caplog.records if r.levelno == logging.ERROR]
    return failure.getMessage(), None if failure.exc_info is None else failure.exc_info[0]


async def subscribe(store: SqliteStore, clock: FakeClock, tenant: str, url: str) -> dict[str, Any]:
    return await WebhookSubscriptions(store, clock, allow_private=True).create(tenant, PROJECT, url, ["*"])


async def emit(store: SqliteStore, clock: FakeClock, tenant: str, player: str, events: int) -> list[str]:
    """One journal record of `events` events; answers their ids."""
    entity = f"player:{tenant}/{PROJECT}/{player}"
    record = [{"type": "wallet.credited", "data": {"n": n}} for n in range(events)]
    now = clock.now()
    await store.commit([JournalRecord(entity, 1, record, rfc3339(now), epoch_ms(now))], [])
    return [event_id(entity, 1, i) for i in range(events)]


def new_worker(store: SqliteStore, clock: FakeClock, **options: Any) -> WebhookWorker:
    options.setdefault("schedule", (1.0, 2.0))
    return WebhookWorker(store, clock, uniform=random.Random(7).uniform, allow_private=True, **options)


async def by_status(store: SqliteStore) -> Counter[str]:
    found: Counter[str] = Counter()
    after = None
    while page := await store.list_documents(DELIVERIES, after=after, limit=500):
        found.update(d["status"] for d in page)
        after = page[-1]["id"]
    return found


async def settle(worker: WebhookWorker) -> None:
    """Ticks until nothing is due now (each tick starts at most the per-receiver bound)."""
    for _ in range(50):
        await worker.run_once()
        if worker.stats()["due"] == 0:
            return
    raise AssertionError(f"deliveries still due: {worker.stats()}")


async def test_a_tenants_backlog_to_hanging_receivers_does_not_hold_back_another_tenant(
    store: SqliteStore, path: Path, clock: FakeClock
) -> None:
    """600 due deliveries of tenant A to three subscriptions whose receivers hang until the 3 s
    timeout, all due before B's one: in one global due order with the default 64 slots, B would
    wait for A's attempts to time out."""
    hanging = Hanging()  # one server, three subscriptions: each is a receiver of its own
    await hanging.start()
    fast = await Receiver().start()
    for _ in range(3):
        await subscribe(store, clock, "tenant-a", hanging.url)
    await subscribe(store, clock, "tenant-b", fast.url)
    await emit(store, clock, "tenant-a", "p1", 200)
    worker = new_worker(SqliteStore(path), clock, http_timeout_s=3.0, poll_interval_s=0.02)
    loop = asyncio.get_running_loop()
    try:
        await worker.start()
        while len(hanging.requests) < worker.per_tenant_in_flight:
            await asyncio.sleep(0.01)
        [b_event] = await emit(store, clock, "tenant-b", "p1", 1)
        emitted = loop.time()
        while not fast.requests and loop.time() - emitted < 10:
            await asyncio.sleep(0.01)
        waited = loop.time() - emitted
        pending = (await by_status(store))["pending"]
        most_open = hanging.most_open
    finally:
        await worker.stop()
        await hanging.stop()
        await fast.stop()
    assert [h["webhook-id"] for h, _ in fast.requests] == [b_event]
    assert waited < 1.5, f"tenant B's delivery waited {waited:.2f}s behind tenant A's backlog"
    assert pending >= 600 - worker.per_tenant_in_flight, "A's deliveries were still waiting"
    assert most_open == worker.per_tenant_in_flight, "A's receivers hold its bound of slots, no more"


async def test_a_fast_receiver_is_not_held_to_its_bound_per_tick(
    store: SqliteStore, path: Path, clock: FakeClock, worker_log: pytest.LogCaptureFixture
) -> None:
    """The per-receiver bound limits attempts at once, not per tick: as attempts end, their
    slots start the next ones. 300 deliveries at 8 per 0.5 s tick would take 19 s."""
    receiver = await Receiver().start()
    await subscribe(store, clock, "acme", receiver.url)
    await emit(store, clock, "acme", "p1", 300)
    worker = new_worker(SqliteStore(path), clock, poll_interval_s=0.5)
    loop = asyncio.get_running_loop()
    try:
        await worker.start()
        while worker.stats()["due"] < 300 and worker.stats()["sent"] == 0:
            await asyncio.sleep(0.01)
        started = loop.time()
        while worker.stats()["delivered"] < 300 and loop.time() - started < 30:
            await asyncio.sleep(0.05)
        took = loop.time() - started
    finally:
        await worker.stop()
        await receiver.stop()
    assert len(receiver.requests) == 300
    assert took < 10, f"300 deliveries to one fast receiver took {took:.1f}s"
    assert [r.getMessage() for r in worker_log.records if r.levelno >= logging.ERROR] == []


async def test_redrives_read_only_the_deliveries_they_redrove(path: Path, clock: FakeClock) -> None:
    store = CountingStore(path)
    await store.open()
    flaky = await Receiver(default=500).start()
    fine = await Receiver().start()
    worker = new_worker(CountingStore(path), clock, schedule=())  # the first failure is final
    try:
        broken = await subscribe(store, clock, "acme", flaky.url)
        await subscribe(store, clock, "acme", fine.url)
        await subscribe(store, clock, "other", fine.url)
        await emit(store, clock, "acme", "p1", 20)
        await emit(store, clock, "other", "p1", 30)
        await worker.open()
        await settle(worker)
        assert await by_status(store) == Counter(delivered=50, dead=20)
        sent_fine = len(fine.requests)

        flaky.default = 200
        subscriptions = WebhookSubscriptions(store, clock)
        dead = await subscriptions.deliveries("acme", PROJECT, broken["id"], status="dead", after=None, limit=100)
        one = dead[0]["id"]
        assert (await subscriptions.redrive("acme", PROJECT, broken["id"], one))["status"] == "pending"
        worker_store = worker.store
        assert isinstance(worker_store, CountingStore)
        worker_store.listed.clear()
        worker_store.read.clear()
        await settle(worker)
        assert worker_store.listed[DELIVERIES] == 0, "no scan of the deliveries"
        assert {i for kind, i in worker_store.read if kind == DELIVERIES} == {one}
        assert len(flaky.requests) == 21

        assert await subscriptions.redrive_dead("acme", PROJECT, broken["id"]) == 19
        worker_store.read.clear()
        await settle(worker)
        assert worker_store.listed[DELIVERIES] == 0, "no scan of the deliveries"
        assert {i for kind, i in worker_store.read if kind == DELIVERIES} == {d["id"] for d in dead} - {one}
    finally:
        await worker.close()
        await store.close()
        await flaky.stop()
        await fine.stop()
    assert len(flaky.requests) == 40
    assert len(fine.requests) == sent_fine, "nothing else was sent again"
    after = SqliteStore(path)
    await after.open()
    try:
        assert await by_status(after) == Counter(delivered=70)
    finally:
        await after.close()


async def test_a_redrive_written_a_little_late_is_still_read(path: Path, store: SqliteStore, clock: FakeClock) -> None:
    """A redrive document stamped behind the worker's position (a writer whose clock lags) is
    found by the look-back window."""
    receiver = await Receiver().start()
    worker = new_worker(SqliteStore(path), clock, schedule=(), lookback_interval_s=0.0)
    try:
        subscription = await subscribe(store, clock, "acme", receiver.url)
        [event] = await emit(store, clock, "acme", "p1", 1)
        await worker.open()
        await worker.run_once()
        clock.advance(10)
        await worker.read_redrives()
        lagging = FakeClock(clock.now())
        lagging.advance(-20)
        delivery = f"{subscription['id']}:{event}"
        await WebhookSubscriptions(store, lagging).redrive("acme", PROJECT, subscription["id"], delivery)
        await worker.run_once()
        await worker.run_once()
    finally:
        await worker.close()
        await receiver.stop()
    assert [h["webhook-id"] for h, _ in receiver.requests] == [event, event], "sent again, once"


async def retention_logs(caplog: pytest.LogCaptureFixture, more_than: int) -> list[str]:
    """The retention passes' log lines, once there are more than `more_than` of them."""
    for _ in range(250):
        found = [r.getMessage() for r in caplog.records if r.getMessage().startswith("webhook retention:")]
        if len(found) > more_than:
            return found
        await asyncio.sleep(0.02)
    raise AssertionError("no retention pass was logged")


async def test_deliveries_in_a_final_state_are_purged_after_the_retention(
    path: Path, clock: FakeClock, worker_log: pytest.LogCaptureFixture
) -> None:
    store = SqliteStore(path)
    await store.open()
    fine = await Receiver().start()
    down = Receiver()  # never started: connections are refused
    worker = new_worker(SqliteStore(path), clock, schedule=(), retention_days=30, retention_interval_s=3600)
    retrying = new_worker(SqliteStore(path), clock, schedule=(100 * DAY_S,))
    try:
        kept = await subscribe(store, clock, "acme", fine.url)
        dead = await subscribe(store, clock, "acme", down.url)
        [old] = await emit(store, clock, "acme", "old", 1)
        await worker.open()
        await settle(worker)  # t0: one delivered, one dead
        subscriptions = WebhookSubscriptions(store, clock)
        await subscriptions.redrive("acme", PROJECT, kept["id"], f"{kept['id']}:{old}")
        await settle(worker)  # t0: delivered again; its redrive document stays behind
        assert await by_status(store) == Counter(delivered=1, dead=1)
        assert len(await store.list_documents(REDRIVES)) == 1

        clock.advance(20 * DAY_S)
        await subscriptions.update("acme", PROJECT, dead["id"], {"active": False})
        await emit(store, clock, "acme", "recent", 1)
        await settle(worker)  # t20: one more delivered (none for the inactive subscription)
        waiting = await subscribe(store, clock, "other", down.url)
        await emit(store, clock, "other", "waiting", 1)
        await retrying.open()
        await retrying.run_once()  # t20: failed, retried in 100 days: still due at t31
        await retrying.close()
        assert await by_status(store) == Counter(delivered=2, dead=1, failed=1)

        clock.advance(11 * DAY_S)  # t31
        purged = await worker.purge()
        passes = len(await retention_logs(worker_log, 0))
        clock.advance(3600)
        await worker.run_once()  # the hourly pass starts from the loop, and finds nothing left
        logged = await retention_logs(worker_log, passes)
    finally:
        await worker.close()
        await fine.stop()
        await store.close()
    assert purged == 2
    assert logged[passes - 1].startswith("webhook retention: purged 2 deliveries finished before ")
    assert sum(line.endswith(" and 1 redrive documents") for line in logged) == 1, "the day-old redrive went once"
    assert logged[passes].startswith("webhook retention: purged 0 deliveries")
    assert logged[passes].endswith(" and 0 redrive documents")
    after = SqliteStore(path)
    await after.open()
    try:
        left = await after.list_documents(DELIVERIES, limit=100)
        assert await after.list_documents(REDRIVES) == []
    finally:
        await after.close()
    assert sorted((d["subscriptionId"], d["status"]) for d in left) == sorted(
        [(kept["id"], "delivered"), (waiting["id"], "failed")]
    )


async def test_a_failing_step_is_logged_with_its_traceback_and_the_others_still_run(
    path: Path, store: SqliteStore, clock: FakeClock, worker_log: pytest.LogCaptureFixture
) -> None:
    receiver = await Receiver().start()
    await subscribe(store, clock, "acme", receiver.url)
    [event] = await emit(store, clock, "acme", "p1", 1)
    writer = new_worker(SqliteStore(path), clock)
    await writer.open()
    assert await writer.intake() == 1  # a delivery is due; the writer stops before sending it
    await writer.close()
    worker = new_worker(FailingOnce(path), clock)
    await worker.open()
    try:
        await worker.run_once()  # intake fails; the due delivery is still sent
        await worker.run_once()  # and intake works again
    finally:
        await worker.close()
        await receiver.stop()
    assert [h["webhook-id"] for h, _ in receiver.requests] == [event]
    assert logged_failure(worker_log) == ("webhook worker: intake failed", ConnectionError)


class OpensOnTheSecondTry(SqliteStore):
    opened = 0

    async def open(self) -> None:
        self.opened += 1
        if self.opened == 1:
            raise ConnectionError("the store is not up yet")
        await super().open()


@pytest.fixture
def ludex_logger() -> Iterator[None]:
    """`configure_logging` (run by the Ray worker class) changes the `ludex` logger: put it back."""
    logger = logging.getLogger("ludex")
    handlers, level, propagate = list(logger.handlers), logger.level, logger.propagate
    yield
    logger.handlers[:] = handlers
    logger.setLevel(level)
    logger.propagate = propagate


async def test_a_worker_that_cannot_start_says_why_and_starts_once_it_can(
    path: Path, store: SqliteStore, clock: FakeClock, ludex_logger: None, worker_log: pytest.LogCaptureFixture
) -> None:
    from actors.cluster import RayWebhookWorker  # the class Ray runs, constructed in this loop

    receiver = await Receiver().start()
    await subscribe(store, clock, "acme", receiver.url)
    worker = RayWebhookWorker(
        OpensOnTheSecondTry(path), clock, schedule=(1.0,), allow_private=True, poll_interval_s=0.02
    )
    try:
        [event] = await emit(store, clock, "acme", "p1", 1)
        await wait_for_request(receiver, 5.0)
    finally:
        await worker.stop()
        await receiver.stop()
    assert [h["webhook-id"] for h, _ in receiver.requests] == [event]
    assert logged_failure(worker_log) == ("the webhook worker could not start; trying again in 1 s", ConnectionError)


async def test_a_tenants_own_delivery_retention_purges_its_deliveries_sooner(path: Path, clock: FakeClock) -> None:
    """`acme` keeps finished deliveries 5 days (its own setting), `other` the platform's 30."""
    store = SqliteStore(path)
    await store.open()
    fine = await Receiver().start()
    worker = new_worker(SqliteStore(path), clock, schedule=(), retention_days=30, retention_interval_s=3600)
    try:
        await store.put_document(TENANTS, "acme", {"id": "acme", "retention": {"deliveriesDays": 5}})
        await store.put_document(TENANTS, "other", {"id": "other"})
        for tenant in ("acme", "other"):
            await subscribe(store, clock, tenant, fine.url)
            await emit(store, clock, tenant, "p", 1)
        await worker.open()
        await settle(worker)
        assert await by_status(store) == Counter(delivered=2)
        clock.advance(6 * DAY_S)
        assert await worker.purge() == 1
        left = await store.list_documents(DELIVERIES, limit=10)
        assert [d["tenantId"] for d in left] == ["other"]
    finally:
        await worker.close()
        await fine.stop()
        await store.close()


def test_the_delivery_retention_is_a_setting_of_30_days_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    from config.settings import Settings

    monkeypatch.delenv("LUDEX_WEBHOOK_DELIVERY_RETENTION_DAYS", raising=False)
    assert Settings().webhook_delivery_retention_days == 30
    monkeypatch.setenv("LUDEX_WEBHOOK_DELIVERY_RETENTION_DAYS", "7.5")
    assert Settings().webhook_delivery_retention_days == 7.5
    monkeypatch.setenv("LUDEX_WEBHOOK_DELIVERY_RETENTION_DAYS", "0")
    with pytest.raises(ValidationError):
        Settings()
