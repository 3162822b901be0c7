"""Signed webhooks: the delivery worker, a Ray actor of its own (subscriptions are
`actors.ingress.webhook_subscriptions`).

Promises:
- at least once: the worker tails the durable event store and writes a delivery document for
  every matching subscription *before* it moves its cursor, so a crash anywhere between a commit
  and a receiver's 2xx means a late delivery, never a lost one;
- one delivery per (subscription, event): its id is `<subscriptionId>:<eventId>`, so reading
  events twice (a restart, the look-back window that covers out-of-order positions) is harmless;
- every attempt carries the same `webhook-id` (the event id) and a fresh Standard Webhooks
  signature, so receivers verify with the `standardwebhooks` libraries and dedupe on the id;
- the destination is resolved and checked again at send time, and the request goes to the
  address that was checked (DNS rebinding cannot swap in a private address);
- fair: tenants take turns for the send slots and each subscription has a bounded number of
  attempts in flight (`engine.webhook_schedule`), so one tenant's backlog or a hanging receiver
  cannot hold back another tenant's delivery; a redrive names the deliveries it made due (a
  `webhook_redrives` document) and the worker reads just those, never the whole table;
- deliveries in a final state are purged after `LUDEX_WEBHOOK_DELIVERY_RETENTION_DAYS`.
- a suspended tenant's deliveries pause: nothing is sent and no failure is counted, so none ends
  `dead`; they are looked at again every `suspended_recheck_s` and go out once it is reinstated.

The worker is a plain class: tests construct it directly; `actors.cluster` makes it a Ray actor.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import time
from collections import Counter, OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

import httpx
import orjson
from standardwebhooks import Webhook

from actors.cancellation import cancel_requested
from actors.clock import Clock, SystemClock
from actors.control_plane_records import TENANTS
from actors.metrics import Histogram
from actors.pinned_target import TargetRefusedError, outgoing_client, pin
from actors.retention import TenantRetentions
from actors.secret_box import SecretBox, SecretKeyError, is_sealed
from actors.stores.base import DocumentStore, EventFeed, EventQuery, EventRecord, StoreLifecycle
from actors.webhook_records import (
    CURSOR_ID,
    CURSORS,
    DELIVERIES,
    DUE,
    FINAL,
    REDRIVES,
    WEBHOOKS,
    delivery_id,
    redrive_id,
    redrive_ms,
)
from engine.retention import IDEMPOTENCY_FLOOR_DAYS, Retention, RetentionBounds
from engine.rules import rfc3339
from engine.webhook_schedule import DueDelivery, TurnOrder, plan
from engine.webhooks import matches, next_attempt_delay


class DeliveryStore(StoreLifecycle, DocumentStore, EventFeed, Protocol):
    """The deliverer owns its store, reads the event feed and keeps subscriptions and deliveries
    as documents."""


REFILL_GAP_S = 0.02  # between ticks, at most one dispatch this often as attempts end
MAX_RESPONSE_BYTES = 1024  # of a receiver's response body: only its status counts
log = logging.getLogger("ludex.webhooks")
DELIVERY_DELAY_BUCKETS_S = (0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0, 21600.0)


class WebhookWorker:
    """Turns events into deliveries and sends the due ones. One per deployment."""

    def __init__(
        self,
        store: DeliveryStore,
        clock: Clock | None = None,
        *,
        schedule: Sequence[float],
        http_timeout_s: float = 10.0,
        poll_interval_s: float = 0.2,
        uniform: Callable[[float, float], float] = random.uniform,
        allow_private: bool = False,
        lookback_positions: int = 1000,
        lookback_interval_s: float = 5.0,
        batch_size: int = 500,
        max_in_flight: int = 64,
        per_receiver_in_flight: int = 8,
        per_tenant_in_flight: int = 16,
        retention_days: float = 30.0,
        retention_bounds: RetentionBounds | None = None,
        retention_interval_s: float = 3600.0,
        redrive_lookback_s: float = 60.0,
        suspended_recheck_s: float = 30.0,
        box: SecretBox | None = None,
    ) -> None:
        self.store = store
        self.box = box  # opens signing secrets sealed at rest
        self.clock: Clock = clock or SystemClock()
        self.schedule = tuple(schedule)
        self.http_timeout_s = http_timeout_s
        self.poll_interval_s = poll_interval_s
        self.uniform = uniform
        self.allow_private = allow_private
        self.lookback_positions = lookback_positions
        self.lookback_interval_s = lookback_interval_s
        self.batch_size = batch_size
        self.max_in_flight = max_in_flight
        self.per_receiver_in_flight = per_receiver_in_flight
        self.per_tenant_in_flight = per_tenant_in_flight
        self.retention_days = retention_days
        self.retention_bounds = retention_bounds or RetentionBounds()
        self.retention_interval_s = retention_interval_s
        self.redrive_lookback_s = redrive_lookback_s
        self.suspended_recheck_s = suspended_recheck_s  # how often a suspended tenant's deliveries look again
        self.cursor = 0
        self.sent = self.delivered = self.dead = self.purged = 0
        # From the delivery's creation (the event's intake) to the receiver's 2xx, retries included.
        self.delivery_delay_s = Histogram(DELIVERY_DELAY_BUCKETS_S)
        self._seen: OrderedDict[str, None] = OrderedDict()  # event ids with deliveries written
        self._due: dict[str, dict[str, Any]] = {}  # pending / failed deliveries by id
        self._in_flight: dict[str, asyncio.Task[None]] = {}
        self._in_flight_receivers: Counter[str] = Counter()  # attempts in flight per subscription
        self._in_flight_tenants: Counter[str] = Counter()
        self._turns = TurnOrder()
        self._redrives_ms = 0  # the newest redrive document read (its time)
        self._redrives_seen: dict[str, int] = {}  # redrive documents read inside the look-back
        self._redrives_looked_back_at: float | None = None
        self._purged_at: float | None = None
        self._purging: asyncio.Task[None] | None = None
        self._looked_back_at: float | None = None
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.Task[None] | None = None
        self._opened = False
        self._starting = asyncio.Lock()
        self._slot_freed = asyncio.Event()  # an attempt ended: its slot can start another now
        self._dispatch_s = 0.0  # how long the last dispatch took

    # ------------------------------------------------------------------------------ lifecycle

    async def open(self) -> None:
        """Open the store, load the cursor and the queue of due deliveries (the one full read of
        the deliveries: afterwards the queue is fed by intake and redrive documents)."""
        if self._opened:
            return
        await self.store.open()
        self._client = outgoing_client(self.http_timeout_s)
        cursor = await self.store.get_document(CURSORS, CURSOR_ID)
        self.cursor = int(cursor["position"]) if cursor else 0
        self._opened = True
        await self._rescan()

    async def close(self) -> None:
        if not self._opened:
            return
        self._opened = False
        if self._purging is not None:
            self._purging.cancel()
            await asyncio.gather(self._purging, return_exceptions=True)
        await self.drain()
        if self._client is not None:
            await self._client.aclose()
        await self.store.close()

    async def start(self) -> None:
        """Open and run the loop. Idempotent, so a restarted actor can run it again."""
        async with self._starting:
            if self._loop is not None:
                return
            await self.open()
            self._loop = asyncio.create_task(self.run_forever(), name="ludex-webhooks")

    async def stop(self) -> None:
        if self._loop is not None:
            self._loop.cancel()
            await asyncio.gather(self._loop, return_exceptions=True)
            self._loop = None
        await self.close()

    async def run_forever(self) -> None:
        while True:
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - the store may be briefly away; try again next tick
                if cancel_requested():  # a client turned `stop`'s cancellation into an error
                    raise asyncio.CancelledError from error
                log.exception("webhook worker tick failed")
            await self._refill_until(asyncio.get_running_loop().time() + self.poll_interval_s)

    async def _refill_until(self, deadline: float) -> None:
        """Between ticks, start more as attempts end, so a receiver that answers fast is not held
        to its bound per tick; attempts that end close together are served by one dispatch (at
        most one per `REFILL_GAP_S` or four dispatch times, so a large backlog costs bounded CPU)."""
        loop = asyncio.get_running_loop()
        while (left := deadline - loop.time()) > 0:
            self._slot_freed.clear()
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for returns instead of raising when
            # `stop` cancels just as a slot is freed (CPython gh-86296), and this loop outlived it.
            try:
                async with asyncio.timeout(left):
                    await self._slot_freed.wait()
            except TimeoutError:
                return
            # A dispatch reads the whole queue: refill at most every 4 dispatch times (<= 20 % CPU).
            gap = max(REFILL_GAP_S, 4 * self._dispatch_s)
            await asyncio.sleep(min(gap, max(0.0, deadline - loop.time())))
            await _logged("dispatch", self._dispatch_now)

    async def tick(self) -> None:
        """Each step on its own: a failing one (a bad redrive document, a store error) is logged
        with its traceback and the others still run, so deliveries keep flowing."""
        await _logged("reading redrives", self.read_redrives)
        await _logged("intake", self.intake)
        await _logged("dispatch", self._dispatch_now)
        now = self.clock.monotonic()
        if (self._purged_at is None or now - self._purged_at >= self.retention_interval_s) and self._purging is None:
            # Its own task: paging through the deliveries must not hold back sending.
            self._purged_at = now
            self._purging = asyncio.create_task(_logged("delivery retention", self.purge), name="ludex-webhooks-purge")
            self._purging.add_done_callback(self._purge_done)

    def _purge_done(self, _task: asyncio.Task[None]) -> None:
        self._purging = None

    async def _dispatch_now(self) -> None:
        self.dispatch()

    async def run_once(self) -> None:
        """One tick, then wait for the sends it started (tests drive the worker with this)."""
        await self.tick()
        await self.drain()

    async def drain(self) -> None:
        while self._in_flight:
            await asyncio.gather(*self._in_flight.values(), return_exceptions=True)

    def ready(self) -> bool:
        return True

    def pid(self) -> int:
        return os.getpid()

    def stats(self) -> dict[str, Any]:
        return {
            "cursor": self.cursor,
            "due": len(self._due),
            "inFlight": len(self._in_flight),
            "sent": self.sent,
            "delivered": self.delivered,
            "dead": self.dead,
            "purged": self.purged,
            "deliveryDelaySeconds": self.delivery_delay_s.snapshot(),
        }

    # ------------------------------------------------------------------------------ intake

    async def intake(self) -> int:
        """Write deliveries for events after the cursor (and, now and then, for a window behind
        it, where a concurrent writer may have landed late), then move the cursor. Answers how
        many deliveries were written."""
        start = self.cursor
        now = self.clock.monotonic()
        if self._looked_back_at is None or now - self._looked_back_at >= self.lookback_interval_s:
            start = max(0, self.cursor - self.lookback_positions)
            self._looked_back_at = now
        created = 0
        subscriptions: list[dict[str, Any]] | None = None
        while True:
            events = await self.store.read_events(EventQuery(), after=start, limit=self.batch_size)
            fresh = [e for e in events if e.id not in self._seen]
            if fresh and subscriptions is None:
                subscriptions = await self._subscriptions()
            for event in fresh:
                for subscription in subscriptions or []:
                    if _wants(subscription, event):
                        created += await self._create_delivery(subscription, event)
                self._remember(event.id)
            if events:
                start = events[-1].position
                if start > self.cursor:
                    self.cursor = start
                    await self.store.put_document(CURSORS, CURSOR_ID, {"id": CURSOR_ID, "position": start})
            if len(events) < self.batch_size:
                return created

    def _remember(self, event_id: str) -> None:
        self._seen[event_id] = None
        while len(self._seen) > 4 * (self.lookback_positions + self.batch_size):
            self._seen.popitem(last=False)

    async def _subscriptions(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        after: str | None = None
        while True:
            page = await self.store.list_documents(WEBHOOKS, after=after, limit=500)
            found += [d for d in page if d.get("active") and not d.get("deleted")]
            if len(page) < 500:
                return found
            after = page[-1]["id"]

    async def _create_delivery(self, subscription: dict[str, Any], event: EventRecord) -> int:
        identity = delivery_id(subscription["id"], event.id)
        if identity in self._due or await self.store.get_document(DELIVERIES, identity) is not None:
            return 0
        now = rfc3339(self.clock.now())
        document = {
            "id": identity,
            "subscriptionId": subscription["id"],
            "tenantId": event.tenant,
            "projectId": event.project,
            "eventId": event.id,
            "eventType": event.type,
            "event": event.public(),
            "status": "pending",
            "failures": 0,
            "attempts": [],
            "createdAt": now,
            "nextAttemptAt": now,
            "deliveredAt": None,
        }
        await self.store.put_document(DELIVERIES, identity, document)
        self._due[identity] = document
        return 1

    # ------------------------------------------------------------------------------ queue

    async def _rescan(self) -> None:
        """Build the queue of due deliveries from the store (on open only)."""
        due: dict[str, dict[str, Any]] = {}
        after: str | None = None
        while True:
            page = await self.store.list_documents(DELIVERIES, after=after, limit=500)
            due.update((d["id"], d) for d in page if d["status"] in DUE)
            if len(page) < 500:
                break
            after = page[-1]["id"]
        self._due = due
        # Redrives written before now are in what was just read.
        self._redrives_ms = int(self.clock.now().timestamp() * 1000)

    async def read_redrives(self) -> int:
        """Enqueue the deliveries named by redrive documents written since the last read (and,
        now and then, in a look-back window behind it, for a writer whose clock lags a little).
        Reads those documents and those deliveries only; answers how many were enqueued."""
        after_ms = self._redrives_ms
        now = self.clock.monotonic()
        if self._redrives_looked_back_at is None or now - self._redrives_looked_back_at >= self.lookback_interval_s:
            after_ms -= int(self.redrive_lookback_s * 1000)
            self._redrives_looked_back_at = now
        enqueued = 0
        after = f"{max(0, after_ms):015d}"
        while True:
            page = await self.store.list_documents(REDRIVES, after=after, limit=100)
            for redrive in page:
                if redrive["id"] not in self._redrives_seen:
                    enqueued += await self._enqueue(redrive["deliveries"])
                    self._redrives_seen[redrive["id"]] = redrive_ms(redrive["id"])
                self._redrives_ms = max(self._redrives_ms, redrive_ms(redrive["id"]))
            if len(page) < 100:
                break
            after = page[-1]["id"]
        horizon = self._redrives_ms - int(self.redrive_lookback_s * 1000)
        self._redrives_seen = {i: ms for i, ms in self._redrives_seen.items() if ms >= horizon}
        return enqueued

    async def _enqueue(self, identities: Sequence[str]) -> int:
        """Due deliveries among `identities` join the queue (one in flight is left to `_finish`,
        which sees that it was redriven)."""
        found = await self.store.get_documents([(DELIVERIES, i) for i in identities])
        enqueued = 0
        for document in found:
            if document is not None and document["status"] in DUE and document["id"] not in self._in_flight:
                self._due[document["id"]] = document
                enqueued += 1
        return enqueued

    def dispatch(self) -> int:
        """Start sending due deliveries, tenants taking turns and each subscription bounded
        (`engine.webhook_schedule`); answers how many started."""
        slots = self.max_in_flight - len(self._in_flight)
        if slots <= 0 or not self._due:
            return 0
        began = time.perf_counter()
        now = rfc3339(self.clock.now())  # fixed-width RFC 3339 strings compare in time order
        receivers, tenants = self._in_flight_receivers, self._in_flight_tenants
        ready = [  # those whose receiver and tenant are at their bound cannot start: skip them early
            DueDelivery(i, d["tenantId"], d["subscriptionId"], d["nextAttemptAt"])
            for i, d in self._due.items()
            if i not in self._in_flight  # first: an attempt being recorded may have no next time
            and d["nextAttemptAt"] <= now
            and receivers[d["subscriptionId"]] < self.per_receiver_in_flight
            and tenants[d["tenantId"]] < self.per_tenant_in_flight
        ]
        self._turns.forget({d.tenant for d in ready})
        picked = plan(
            ready,
            self._in_flight_receivers,
            slots=slots,
            per_receiver=self.per_receiver_in_flight,
            turns=self._turns,
            tenant_busy=self._in_flight_tenants,
            per_tenant=self.per_tenant_in_flight,
        )
        for chosen in picked:
            task = asyncio.create_task(self._attempt(self._due[chosen.id]))
            self._in_flight[chosen.id] = task
            self._in_flight_receivers[chosen.receiver] += 1
            self._in_flight_tenants[chosen.tenant] += 1
            task.add_done_callback(self._forget(chosen))
        self._dispatch_s = time.perf_counter() - began
        return len(picked)

    def _forget(self, chosen: DueDelivery) -> Callable[[asyncio.Task[None]], None]:
        def forget(_task: asyncio.Task[None]) -> None:
            self._in_flight.pop(chosen.id, None)
            for counts, key in ((self._in_flight_receivers, chosen.receiver), (self._in_flight_tenants, chosen.tenant)):
                counts[key] -= 1
                if counts[key] <= 0:
                    del counts[key]
            self._slot_freed.set()

        return forget

    def _secret(self, subscription: dict[str, Any]) -> str:
        return _open_secret(self.box, subscription["secret"])

    # ------------------------------------------------------------------------------ retention

    async def purge(self) -> int:
        """Delete deliveries that reached a final state (delivered, dead) more than
        `retention_days` ago, and redrive documents older than a day (the worker read them long
        ago). Pages through the deliveries: there is no index on their age. Answers how many
        deliveries went."""
        delete = self.store.delete_documents
        now = self.clock.now()
        platform = Retention(None, self.retention_days, IDEMPOTENCY_FLOOR_DAYS)
        tenants = TenantRetentions(self.store, platform, self.retention_bounds)
        default = tenants.default("deliveries_days") or self.retention_days
        differing = await tenants.differing("deliveries_days")
        cutoffs = {tenant: rfc3339(now - timedelta(days=days or 0)) for tenant, days in differing.items()}
        cutoff = rfc3339(now - timedelta(days=default))
        purged, after = 0, None
        while True:
            page = await self.store.list_documents(DELIVERIES, after=after, limit=500)
            old = [
                d["id"]
                for d in page
                if d["status"] in FINAL and _finished_at(d) < cutoffs.get(d.get("tenantId", ""), cutoff)
            ]
            if old:
                purged += await delete(DELIVERIES, old)
            if len(page) < 500:
                break
            after = page[-1]["id"]
            await asyncio.sleep(0)
        redrives_before = redrive_id(int((now - timedelta(days=1)).timestamp() * 1000)).partition("-")[0]
        redrives = 0
        while stale := [
            d["id"] for d in await self.store.list_documents(REDRIVES, limit=500) if d["id"] < redrives_before
        ]:
            deleted = await delete(REDRIVES, stale)
            redrives += deleted
            if len(stale) < 500 or not deleted:
                break
        self.purged += purged
        log.info(
            "webhook retention: purged %d deliveries finished before %s and %d redrive documents",
            purged,
            cutoff,
            redrives,
        )
        return purged

    # ------------------------------------------------------------------------------ sending

    async def _attempt(self, delivery: dict[str, Any]) -> None:
        try:
            await self._send(delivery)
        except Exception:  # noqa: BLE001 - a store failure: the delivery stays due, retried next tick
            log.exception("webhook delivery %s failed", delivery["id"])

    async def _send(self, delivery: dict[str, Any]) -> None:
        mark = _redrive_mark(delivery)
        subscription, tenant = await self.store.get_documents(
            [(WEBHOOKS, delivery["subscriptionId"]), (TENANTS, delivery["tenantId"])]
        )
        if (tenant or {}).get("suspended"):
            # Paused, not failed: no attempt, no failure counted; looked at again later.
            later = self.clock.now() + timedelta(seconds=self.suspended_recheck_s)
            self._due[delivery["id"]] = {**delivery, "nextAttemptAt": rfc3339(later)}
            return
        if subscription is None or subscription.get("deleted") or not subscription.get("active"):
            reason = "the subscription is inactive" if subscription else "the subscription is gone"
            if subscription is not None and subscription.get("deleted"):
                reason = "the subscription was deleted"
            await self._finish(delivery, "dead", _attempt(self.clock.now(), None, 0.0, reason), mark)
            return
        at = self.clock.now()
        started = time.perf_counter()
        status_code: int | None = None
        error: str | None = None
        try:
            # The whole attempt is bounded (httpx's timeout bounds each read, not a trickled body).
            status_code = await asyncio.wait_for(self._post(subscription, delivery), self.http_timeout_s)
        except TargetRefusedError as refused:
            error = str(refused)
        except (httpx.TimeoutException, TimeoutError):
            error = "timeout"
        except Exception as failure:  # noqa: BLE001 - refused connection, bad URL, TLS...: a failed attempt
            error = f"{type(failure).__name__}: {failure}" if str(failure) else type(failure).__name__
        attempt = _attempt(at, status_code, (time.perf_counter() - started) * 1000, error)
        self.sent += 1
        if status_code is not None and 200 <= status_code < 300:
            delivered_at = self.clock.now()
            delivery["deliveredAt"] = rfc3339(delivered_at)
            created_at = datetime.fromisoformat(delivery["createdAt"])
            self.delivery_delay_s.observe(max((delivered_at - created_at).total_seconds(), 0.0))
            await self._finish(delivery, "delivered", attempt, mark)
        elif status_code == 410:
            await self._disable(subscription["id"])
            await self._finish(delivery, "dead", attempt, mark)
        else:
            failures = int(delivery.get("failures", 0)) + 1
            delivery["failures"] = failures
            delay = next_attempt_delay(self.schedule, failures, self.uniform)
            if delay is None:
                await self._finish(delivery, "dead", attempt, mark)
            else:
                delivery["nextAttemptAt"] = rfc3339(self.clock.now() + timedelta(seconds=delay))
                await self._finish(delivery, "failed", attempt, mark)

    async def _post(self, subscription: dict[str, Any], delivery: dict[str, Any]) -> int:
        assert self._client is not None, "worker is not open"
        target = await pin(subscription["url"], allow_private=self.allow_private)
        headers = dict(target.headers)
        body = orjson.dumps(delivery["event"]).decode()
        timestamp = self.clock.now()
        headers.update(
            {
                "content-type": "application/json",
                "user-agent": "Ludex-Webhooks/1",
                "webhook-id": delivery["eventId"],
                "webhook-timestamp": str(int(timestamp.timestamp())),
                "webhook-signature": Webhook(self._secret(subscription)).sign(delivery["eventId"], timestamp, body),
                "ludex-event-type": delivery["eventType"],
            }
        )
        async with self._client.stream(
            "POST", target.url, content=body.encode(), headers=headers, extensions=target.extensions
        ) as response:
            # Only the status counts: read a little (a short body leaves the connection reusable),
            # never a whole body of unbounded size.
            read = 0
            async for chunk in response.aiter_raw():
                read += len(chunk)
                if read >= MAX_RESPONSE_BYTES:
                    break
            return response.status_code

    async def _finish(
        self, delivery: dict[str, Any], status: str, attempt: dict[str, Any], mark: tuple[int, str | None]
    ) -> None:
        """Record the attempt. If the delivery was redriven while it was being tried (its redrive
        mark changed since `mark`), the redrive wins: the attempt is only added to its log and the
        delivery stays due, to be sent again."""
        stored = await self.store.get_document(DELIVERIES, delivery["id"])
        if stored is not None and _redrive_mark(stored) != mark:
            stored["attempts"] = [*stored.get("attempts", []), attempt]
            await self.store.put_document(DELIVERIES, stored["id"], stored)
            if stored["status"] in DUE:
                self._due[stored["id"]] = stored
            else:
                self._due.pop(stored["id"], None)
            return
        if stored is not None:
            delivery["event"] = stored["event"]  # an erasure may have rewritten it (docs/PRIVACY.md)
        delivery["attempts"] = [*delivery.get("attempts", []), attempt]
        delivery["status"] = status
        if status not in DUE:
            delivery["nextAttemptAt"] = None
            delivery["finishedAt"] = rfc3339(self.clock.now())  # retention counts from here
        await self.store.put_document(DELIVERIES, delivery["id"], delivery)
        if status in DUE:
            self._due[delivery["id"]] = delivery
        else:
            self._due.pop(delivery["id"], None)
            if status == "delivered":
                self.delivered += 1
            else:
                self.dead += 1

    async def _disable(self, subscription_id: str) -> None:
        """410 Gone: the receiver asks for no more deliveries."""
        subscription = await self.store.get_document(WEBHOOKS, subscription_id)
        if subscription is None or not subscription.get("active"):
            return
        subscription.update(active=False, disabledReason="gone", updatedAt=rfc3339(self.clock.now()))
        await self.store.put_document(WEBHOOKS, subscription_id, subscription)


def _open_secret(box: SecretBox | None, stored: str) -> str:
    if not is_sealed(stored):
        return stored  # kept in the clear (before sealing, or by a caller without a box)
    if box is None:
        raise SecretKeyError("a webhook secret is sealed and this worker has no LUDEX_SECRET_KEY / secret.key")
    return box.open(stored)


async def _logged(step: str, run: Callable[[], Awaitable[Any]]) -> None:
    """Run one step of the worker's loop; a failure is logged with its traceback, not raised."""
    try:
        await run()
    except asyncio.CancelledError:
        raise
    except Exception:  # noqa: BLE001 - one failing step must not stop the others; logged in full
        log.exception("webhook worker: %s failed", step)


def _finished_at(delivery: dict[str, Any]) -> str:
    """When a final delivery became final (older deliveries lack `finishedAt`: their last attempt)."""
    attempts = delivery.get("attempts") or []
    return str(delivery.get("finishedAt") or (attempts[-1]["at"] if attempts else delivery["createdAt"]))


def _redrive_mark(delivery: dict[str, Any]) -> tuple[int, str | None]:
    """Changes whenever the delivery is redriven."""
    return int(delivery.get("redrives", 0)), delivery.get("redrivenAt")


def _attempt(at: datetime, status_code: int | None, latency_ms: float, error: str | None) -> dict[str, Any]:
    return {"at": rfc3339(at), "statusCode": status_code, "latencyMs": round(latency_ms, 2), "error": error}


def _wants(subscription: dict[str, Any], event: EventRecord) -> bool:
    """Events of the subscription's project and types that occurred once it existed."""
    return (
        subscription["tenantId"] == event.tenant
        and subscription["projectId"] == event.project
        and matches(subscription["eventTypes"], event.type)
        and event.occurred_at >= subscription["createdAt"]
    )
