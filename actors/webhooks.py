"""Signed webhooks: subscriptions (control-plane documents) and the delivery worker.

Promises:
- at least once: the worker tails the durable event store and writes a delivery document for
  every matching subscription *before* it moves its cursor, so a crash anywhere between a commit
  and a receiver's 2xx means a late delivery, never a lost one;
- one delivery per (subscription, event): its id is `<subscriptionId>:<eventId>`, so reading
  events twice (a restart, the look-back window that covers out-of-order positions) is harmless;
- every attempt carries the same `webhook-id` (the event id) and a fresh Standard Webhooks
  signature, so receivers verify with the `standardwebhooks` libraries and dedupe on the id;
- the destination is resolved and checked again at send time, and the request goes to the
  address that was checked (DNS rebinding cannot swap in a private address).

The worker is a plain class: tests construct it directly; `actors.directory` makes it a Ray actor.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import random
import secrets
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import orjson
from standardwebhooks import Webhook

from actors.clock import SystemClock
from actors.stores.base import EventQuery, EventRecord, Store
from engine.rules import rfc3339
from engine.webhooks import check_webhook_url, is_private_address, matches, next_attempt_delay

WEBHOOKS, DELIVERIES, CURSORS = "webhooks", "webhook_deliveries", "cursors"
CURSOR_ID = "webhooks"
REDRIVE_SIGNAL_ID = "webhooks-redrive"  # changed on every redrive: the worker rescans its queue
STATUSES = ("pending", "delivered", "failed", "dead")
DUE = ("pending", "failed")  # not tried yet / tried and failed, with a retry scheduled
MAX_RESPONSE_BYTES = 1024  # of a receiver's response body: only its status counts
log = logging.getLogger("ludex.webhooks")


class WebhookError(Exception):
    """A subscription request that cannot be done; `slug` names the problem."""

    def __init__(self, slug: str, detail: str) -> None:
        super().__init__(detail)
        self.slug = slug
        self.detail = detail


def new_secret() -> str:
    """`whsec_` + base64 of 24 random bytes: the Standard Webhooks secret format."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def delivery_id(subscription_id: str, event_id: str) -> str:
    return f"{subscription_id}:{event_id}"


async def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (getaddrinfo runs in a thread)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=0)
    return sorted({str(info[4][0]) for info in infos})


async def url_refusal(url: str, *, allow_private: bool) -> str | None:
    """Why `url` may not receive webhooks, or None: the static rules, then (unless private
    destinations are allowed) every address its host resolves to must be public."""
    try:
        reason = check_webhook_url(url)
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return "must be a valid URL"
    if reason is not None or allow_private:
        return reason
    assert parts.hostname is not None
    try:
        addresses = await resolve(parts.hostname, port)
    except (OSError, ValueError):
        return f"its host '{parts.hostname}' does not resolve"
    private = [a for a in addresses if is_private_address(a)]
    if private:
        return f"its host resolves to a loopback, private or link-local address ({private[0]})"
    return None


def public_subscription(document: dict[str, Any]) -> dict[str, Any]:
    """A subscription without its secret."""
    return {k: v for k, v in document.items() if k != "secret"}


class WebhookSubscriptions:
    """Subscriptions and deliveries as the backoffice API manages them. Deliveries are only ever
    moved back to due here (redrive); the worker does everything else."""

    def __init__(self, store: Store, clock: Any = None, *, allow_private: bool = False) -> None:
        self.store = store
        self.clock = clock or SystemClock()
        self.allow_private = allow_private

    def _now(self) -> str:
        return rfc3339(self.clock.now())

    async def _check_url(self, url: str) -> None:
        reason = await url_refusal(url, allow_private=self.allow_private)
        if reason is not None:
            raise WebhookError("webhook-url-refused", f"the webhook URL is refused: {reason}")

    async def create(
        self, tenant: str, project: str, url: str, event_types: Sequence[str], active: bool = True
    ) -> dict[str, Any]:
        """The stored subscription, secret included (the caller shows it once)."""
        await self._check_url(url)
        now = self._now()
        document: dict[str, Any] = {
            "id": f"wh_{secrets.token_hex(12)}",
            "tenantId": tenant,
            "projectId": project,
            "url": url,
            "eventTypes": list(event_types),
            "active": active,
            "secret": new_secret(),
            "createdAt": now,
            "updatedAt": now,
        }
        await self.store.put_document(WEBHOOKS, document["id"], document)
        return document

    async def get(self, tenant: str, project: str, subscription_id: str) -> dict[str, Any]:
        document = await self.store.get_document(WEBHOOKS, subscription_id)
        if (
            document is None
            or document.get("deleted")
            or document["tenantId"] != tenant
            or document["projectId"] != project
        ):
            raise WebhookError("webhook-not-found", f"project '{project}' has no webhook '{subscription_id}'")
        return document

    async def list_page(self, tenant: str, project: str, *, after: str | None, limit: int) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        while len(found) < limit:
            page = await self.store.list_documents(WEBHOOKS, tenant=tenant, after=after, limit=200)
            found += [d for d in page if d["projectId"] == project and not d.get("deleted")]
            if len(page) < 200:
                break
            after = page[-1]["id"]
        return found[:limit]

    async def update(
        self, tenant: str, project: str, subscription_id: str, changes: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """(before, after). Re-activating a subscription clears why it was disabled."""
        before = await self.get(tenant, project, subscription_id)
        if "url" in changes:
            await self._check_url(changes["url"])
        after = {**before, **changes, "updatedAt": self._now()}
        if after["active"]:
            after.pop("disabledReason", None)
        await self.store.put_document(WEBHOOKS, subscription_id, after)
        return before, after

    async def delete(self, tenant: str, project: str, subscription_id: str) -> dict[str, Any]:
        """Soft delete: the subscription gets no more deliveries and answers 404."""
        before = await self.get(tenant, project, subscription_id)
        after = {**before, "active": False, "deleted": True, "updatedAt": self._now()}
        await self.store.put_document(WEBHOOKS, subscription_id, after)
        return before

    async def deliveries(
        self, tenant: str, project: str, subscription_id: str, *, status: str | None, after: str | None, limit: int
    ) -> list[dict[str, Any]]:
        """The subscription's deliveries ordered by id (their ids share its prefix)."""
        await self.get(tenant, project, subscription_id)
        prefix = f"{subscription_id}:"
        cursor = after if after is not None and after.startswith(prefix) else prefix
        found: list[dict[str, Any]] = []
        while len(found) < limit:
            page = await self.store.list_documents(DELIVERIES, tenant=tenant, after=cursor, limit=200)
            mine = [d for d in page if d["id"].startswith(prefix)]
            found += [d for d in mine if status is None or d["status"] == status]
            if len(page) < 200 or len(mine) < len(page):
                break
            cursor = page[-1]["id"]
        return found[:limit]

    async def _due_again(self, delivery: dict[str, Any]) -> dict[str, Any]:
        now = self._now()
        # `redrives` tells a worker that is mid-attempt that its result no longer applies.
        redrives = int(delivery.get("redrives", 0)) + 1
        delivery.update(status="pending", failures=0, nextAttemptAt=now, redrivenAt=now, redrives=redrives)
        await self.store.put_document(DELIVERIES, delivery["id"], delivery)
        return delivery

    async def _signal_worker(self) -> None:
        await self.store.put_document(CURSORS, REDRIVE_SIGNAL_ID, {"id": REDRIVE_SIGNAL_ID, "token": uuid.uuid4().hex})

    async def _active(self, tenant: str, project: str, subscription_id: str) -> dict[str, Any]:
        subscription = await self.get(tenant, project, subscription_id)
        if not subscription["active"]:
            raise WebhookError("webhook-inactive", "the webhook is inactive: activate it before redriving")
        return subscription

    async def redrive(self, tenant: str, project: str, subscription_id: str, delivery: str) -> dict[str, Any]:
        """Send one delivery again now, whatever became of it, with a fresh retry schedule."""
        await self._active(tenant, project, subscription_id)
        document = await self.store.get_document(DELIVERIES, delivery)
        if document is None or document["subscriptionId"] != subscription_id or document["tenantId"] != tenant:
            raise WebhookError("delivery-not-found", f"webhook '{subscription_id}' has no delivery '{delivery}'")
        document = await self._due_again(document)
        await self._signal_worker()
        return document

    async def redrive_dead(self, tenant: str, project: str, subscription_id: str) -> int:
        """Every dead delivery of the subscription back to pending; answers how many."""
        await self._active(tenant, project, subscription_id)
        count, after = 0, None
        while page := await self.deliveries(tenant, project, subscription_id, status=None, after=after, limit=200):
            for document in page:
                if document["status"] == "dead":
                    await self._due_again(document)
                    count += 1
            after = page[-1]["id"]
        if count:
            await self._signal_worker()
        return count


def _parse(moment: str) -> datetime:
    return datetime.fromisoformat(moment.replace("Z", "+00:00"))


def _pinned(url: str, address: str) -> str:
    """`url` with its host replaced by the address that was checked."""
    parts = urlsplit(url)
    host = f"[{address}]" if ":" in address else address
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))


class WebhookWorker:
    """Turns events into deliveries and sends the due ones. One per deployment."""

    def __init__(
        self,
        store: Store,
        clock: Any = None,
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
    ) -> None:
        self.store = store
        self.clock = clock or SystemClock()
        self.schedule = tuple(schedule)
        self.http_timeout_s = http_timeout_s
        self.poll_interval_s = poll_interval_s
        self.uniform = uniform
        self.allow_private = allow_private
        self.lookback_positions = lookback_positions
        self.lookback_interval_s = lookback_interval_s
        self.batch_size = batch_size
        self.max_in_flight = max_in_flight
        self.cursor = 0
        self.sent = self.delivered = self.dead = 0
        self._seen: OrderedDict[str, None] = OrderedDict()  # event ids with deliveries written
        self._due: dict[str, dict[str, Any]] = {}  # pending / failed deliveries by id
        self._in_flight: dict[str, asyncio.Task[None]] = {}
        self._redrive_token: str | None = None
        self._looked_back_at: float | None = None
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.Task[None] | None = None
        self._opened = False
        self._starting = asyncio.Lock()

    # ------------------------------------------------------------------------------ lifecycle

    async def open(self) -> None:
        """Open the store, load the cursor and the queue of due deliveries."""
        if self._opened:
            return
        await self.store.open()
        self._client = httpx.AsyncClient(timeout=self.http_timeout_s, follow_redirects=False, trust_env=False)
        cursor = await self.store.get_document(CURSORS, CURSOR_ID)
        self.cursor = int(cursor["position"]) if cursor else 0
        self._opened = True
        await self._rescan()

    async def close(self) -> None:
        if not self._opened:
            return
        self._opened = False
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
            except Exception:  # noqa: BLE001 - the store may be briefly away; try again next tick
                log.exception("webhook worker tick failed")
            await asyncio.sleep(self.poll_interval_s)

    async def tick(self) -> None:
        await self._check_redrives()
        await self.intake()
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
        """Rebuild the queue of due deliveries from the store (on open and after redrives)."""
        await self.drain()
        signal = await self.store.get_document(CURSORS, REDRIVE_SIGNAL_ID)
        self._redrive_token = None if signal is None else signal["token"]
        due: dict[str, dict[str, Any]] = {}
        after: str | None = None
        while True:
            page = await self.store.list_documents(DELIVERIES, after=after, limit=500)
            due.update((d["id"], d) for d in page if d["status"] in DUE)
            if len(page) < 500:
                break
            after = page[-1]["id"]
        self._due = due

    async def _check_redrives(self) -> None:
        signal = await self.store.get_document(CURSORS, REDRIVE_SIGNAL_ID)
        if signal is not None and signal["token"] != self._redrive_token:
            await self._rescan()

    def dispatch(self) -> int:
        """Start sending the deliveries that are due; answers how many started."""
        now = self.clock.now()
        started = 0
        ready = sorted(
            (d for i, d in self._due.items() if i not in self._in_flight and _parse(d["nextAttemptAt"]) <= now),
            key=lambda d: d["nextAttemptAt"],
        )
        for document in ready[: max(0, self.max_in_flight - len(self._in_flight))]:
            task = asyncio.create_task(self._attempt(document))
            self._in_flight[document["id"]] = task
            task.add_done_callback(self._forget(document["id"]))
            started += 1
        return started

    def _forget(self, identity: str) -> Callable[[asyncio.Task[None]], None]:
        def forget(_task: asyncio.Task[None]) -> None:
            self._in_flight.pop(identity, None)

        return forget

    # ------------------------------------------------------------------------------ sending

    async def _attempt(self, delivery: dict[str, Any]) -> None:
        try:
            await self._send(delivery)
        except Exception:  # noqa: BLE001 - a store failure: the delivery stays due, retried next tick
            log.exception("webhook delivery %s failed", delivery["id"])

    async def _send(self, delivery: dict[str, Any]) -> None:
        mark = _redrive_mark(delivery)
        subscription = await self.store.get_document(WEBHOOKS, delivery["subscriptionId"])
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
        except _Refused as refused:
            error = str(refused)
        except (httpx.TimeoutException, TimeoutError):
            error = "timeout"
        except Exception as failure:  # noqa: BLE001 - refused connection, bad URL, TLS...: a failed attempt
            error = f"{type(failure).__name__}: {failure}" if str(failure) else type(failure).__name__
        attempt = _attempt(at, status_code, (time.perf_counter() - started) * 1000, error)
        self.sent += 1
        if status_code is not None and 200 <= status_code < 300:
            delivery["deliveredAt"] = rfc3339(self.clock.now())
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
        url = subscription["url"]
        parts = urlsplit(url)
        reason = check_webhook_url(url)
        if reason is not None or parts.hostname is None:
            raise _Refused(f"refused: the URL {reason}")
        headers: dict[str, str] = {}
        extensions: dict[str, Any] = {}
        target = url
        if not self.allow_private:
            # Resolve once, check, and connect to that very address (DNS rebinding).
            port = parts.port or (443 if parts.scheme == "https" else 80)
            try:
                addresses = await resolve(parts.hostname, port)
            except OSError as failure:
                raise _Refused(f"the host does not resolve: {failure}") from failure
            if not addresses or any(is_private_address(a) for a in addresses):
                raise _Refused("refused: the host resolves to a private address")
            target = _pinned(url, addresses[0])
            headers["host"] = parts.netloc.rpartition("@")[2]
            if parts.scheme == "https":
                extensions["sni_hostname"] = parts.hostname
        body = orjson.dumps(delivery["event"]).decode()
        timestamp = self.clock.now()
        headers.update(
            {
                "content-type": "application/json",
                "user-agent": "Ludex-Webhooks/1",
                "webhook-id": delivery["eventId"],
                "webhook-timestamp": str(int(timestamp.timestamp())),
                "webhook-signature": Webhook(subscription["secret"]).sign(delivery["eventId"], timestamp, body),
                "ludex-event-type": delivery["eventType"],
            }
        )
        async with self._client.stream(
            "POST", target, content=body.encode(), headers=headers, extensions=extensions
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
        delivery["attempts"] = [*delivery.get("attempts", []), attempt]
        delivery["status"] = status
        if status not in DUE:
            delivery["nextAttemptAt"] = None
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


class _Refused(Exception):
    """The destination may not be called (SSRF rules); counts as a failed attempt."""


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
