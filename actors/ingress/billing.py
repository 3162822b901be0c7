"""Billing hooks: the platform's billing events (`engine/billing.py`) go through a durable outbox
to one `BillingProvider`.

- The **outbox** is a control-plane document per event (`billing_deliveries/<event id>`), written
  before any attempt and only if absent (compare-and-set), so replicas producing the same daily
  report write it once, and a crash means a late delivery, never a lost one. Due deliveries are
  claimed by compare-and-set before each attempt (one replica sends at a time), retried on the
  webhook retry schedule (`LUDEX_WEBHOOK_RETRY_SCHEDULE`), and `dead` after the last attempt.
- The **provider** today is `WebhookBillingProvider`: a platform-level webhook the superadmin
  configures (`billing/webhook`: URL, active, a `whsec_` secret sealed at rest), signed the
  Standard Webhooks way like tenant webhooks, so `standardwebhooks` verifies it.
- A **Stripe or Paddle provider** goes beside it: a class with the same `deliver(event)` that
  maps `usage.reported` to the vendor's metered usage (Stripe: a meter event per tenant and day
  with the tenant's customer id; Paddle: a subscription charge) and `tenant.plan.changed` to a
  subscription update, raising `BillingDeliveryError` to be retried. `provider_for` picks it; the
  outbox, retries and the admin routes stay as they are.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, date, timedelta
from typing import Any, Protocol

import orjson
from standardwebhooks import Webhook

from actors.clock import SystemClock
from actors.documents import update_document
from actors.ingress.webhook_subscriptions import new_secret, url_refusal
from actors.pinned_target import outgoing_client, pin
from actors.secret_box import SecretBox, is_sealed
from actors.stores.base import DocumentStore
from engine.billing import PlanChange, UsageReport, days_to_report, plan_changed_event, usage_event
from engine.rules import rfc3339
from engine.tenant_lifecycle import Transition, state_changed_event
from engine.webhooks import next_attempt_delay

BILLING = "billing"
WEBHOOK_ID = "webhook"
DELIVERIES = "billing_deliveries"
STATUSES = ("pending", "delivered", "dead")
CLAIM_S = 60.0  # an attempt's lease: a replica that dies mid-attempt leaves it due after this
MAX_RESPONSE_BYTES = 1024
log = logging.getLogger("ludex.billing")

UsageSource = Callable[[str], Awaitable[Sequence[UsageReport]]]  # month "YYYY-MM" -> day-less reports


class BillingDeliveryError(Exception):
    """The provider did not take the event; the outbox tries again later."""


class BillingProvider(Protocol):
    """Where billing events go. `deliver` returns when the provider took the event, and raises
    `BillingDeliveryError` (or any error) to have it retried."""

    name: str

    async def deliver(self, event: dict[str, Any]) -> None: ...


class WebhookBillingProvider:
    """POSTs the event JSON, signed like tenant webhooks: `webhook-id` (the event id, stable
    across retries), `webhook-timestamp`, `webhook-signature: v1,<HMAC-SHA256>`. Each attempt
    goes where tenant webhooks go (`actors.pinned_target`): the host resolved once and checked,
    that address connected to, no proxy from the environment."""

    name = "webhook"

    def __init__(
        self, url: str, secret: str, *, allow_private: bool, timeout_s: float = 10.0, clock: Any = None
    ) -> None:
        self.url = url
        self.secret = secret
        self.allow_private = allow_private
        self.timeout_s = timeout_s
        self.clock = clock or SystemClock()

    async def deliver(self, event: dict[str, Any]) -> None:
        target = await pin(self.url, allow_private=self.allow_private)
        body = orjson.dumps(event).decode()
        timestamp = self.clock.now()
        headers = {
            **target.headers,
            "content-type": "application/json",
            "user-agent": "Ludex-Billing/1",
            "webhook-id": event["id"],
            "webhook-timestamp": str(int(timestamp.timestamp())),
            "webhook-signature": Webhook(self.secret).sign(event["id"], timestamp, body),
            "ludex-event-type": event["type"],
        }
        async with (
            outgoing_client(self.timeout_s) as client,
            client.stream(
                "POST", target.url, content=body.encode(), headers=headers, extensions=target.extensions
            ) as response,
        ):
            read = 0
            async for chunk in response.aiter_raw():  # only the status counts
                read += len(chunk)
                if read >= MAX_RESPONSE_BYTES:
                    break
            if not 200 <= response.status_code < 300:
                raise BillingDeliveryError(f"HTTP {response.status_code}")


class BillingOutbox:
    """The billing webhook's configuration, the outbox and its delivery (see the module docstring)."""

    def __init__(
        self,
        store: DocumentStore,
        *,
        box: SecretBox | None,
        schedule: Sequence[float],
        clock: Any = None,
        uniform: Callable[[float, float], float] | None = None,
        provider_for: Callable[[dict[str, Any], str], BillingProvider] | None = None,
        allow_private: bool = False,
    ) -> None:
        self.store = store
        self.allow_private = allow_private
        self.box = box
        self.schedule = tuple(schedule)
        self.clock = clock or SystemClock()
        self.uniform = uniform or (lambda low, high: (low + high) / 2)
        self.provider_for = provider_for or (
            lambda config, secret: WebhookBillingProvider(config["url"], secret, allow_private=allow_private)
        )

    def _now(self) -> str:
        return rfc3339(self.clock.now())

    # ------------------------------------------------------------------------ configuration

    async def config(self) -> dict[str, Any] | None:
        """The webhook's configuration without its secret, or None when there is none."""
        document = await self.store.get_document(BILLING, WEBHOOK_ID)
        return None if document is None else _public(document)

    async def configure(self, url: str, *, active: bool, rotate_secret: bool) -> dict[str, Any]:
        """Creates or replaces the webhook; the answer carries `secret` when one was made (the
        first time, or on `rotate_secret`), the only time it is shown."""
        reason = await url_refusal(url, allow_private=self.allow_private)
        if reason is not None:
            raise ValueError(f"the URL {reason}")
        now = self._now()
        made: list[str] = []

        def change(document: dict[str, Any] | None) -> dict[str, Any]:
            made.clear()
            current = document or {"id": WEBHOOK_ID, "createdAt": now}
            if document is None or rotate_secret:
                secret = new_secret()
                made.append(secret)
                current["secret"] = self.box.seal(secret) if self.box is not None else secret
            return {**current, "url": url, "active": active, "updatedAt": now}

        written = await update_document(self.store, BILLING, WEBHOOK_ID, change)
        assert written is not None
        return {**_public(written), **({"secret": made[0]} if made else {})}

    async def remove(self) -> bool:
        return await self.store.delete_documents(BILLING, [WEBHOOK_ID]) > 0

    # ------------------------------------------------------------------------------- events

    async def enqueue(self, event: dict[str, Any]) -> bool:
        """Writes the event's delivery unless it exists; False when it did (already enqueued)."""
        document = {
            "id": event["id"],
            "type": event["type"],
            "tenantId": event["data"].get("tenantId"),
            "event": event,
            "status": "pending",
            "failures": 0,
            "attempts": [],
            "nextAttemptAt": event["occurredAt"],
            "createdAt": self._now(),
        }
        return await self.store.put_if_version(DELIVERIES, event["id"], document, 0)

    async def plan_changed(self, tenant: str, previous: str | None, plan: str | None) -> dict[str, Any] | None:
        """Enqueues `tenant.plan.changed` when the plan did change and a webhook is configured."""
        if previous == plan or await self.config() is None:
            return None
        event = plan_changed_event(PlanChange(tenant, previous, plan, self._now()), secrets.token_hex(8))
        await self.enqueue(event)
        return event

    async def state_changed(self, moves: Sequence[Transition]) -> list[dict[str, Any]]:
        """Enqueues `tenant.state.changed` for each lifecycle move when a webhook is configured
        (each once: a move's event id is its own, however many replicas saw it)."""
        if not moves or await self.config() is None:
            return []
        events = [state_changed_event(move) for move in moves]
        for event in events:
            await self.enqueue(event)
        return events

    async def report_usage(self, day: str, usage_of: UsageSource, *, once_per_day: bool = True) -> list[dict[str, Any]]:
        """Enqueues `usage.reported` of `day` for every tenant `usage_of` lists; answers the events."""
        events = []
        reported_at = self._now()
        for report in await usage_of(day[:7]):
            dated = UsageReport(
                report.tenant_id,
                day,
                report.plan_id,
                report.requests,
                report.events,
                report.requests_per_month,
                report.events_per_month,
            )
            event = usage_event(dated, reported_at, once_per_day=once_per_day, nonce=secrets.token_hex(8))
            await self.enqueue(event)
            events.append(event)
        return events

    async def report_ended_days(self, usage_of: UsageSource) -> int:
        """Enqueues the daily reports of every day that ended since the last one (when a webhook
        is configured); answers how many events were enqueued."""
        config = await self.store.get_document(BILLING, WEBHOOK_ID)
        if config is None or not config.get("active"):
            return 0
        today: date = self.clock.now().astimezone(UTC).date()
        enqueued = 0
        for day in days_to_report(config.get("lastReportedDay"), today):
            enqueued += len(await self.report_usage(day, usage_of))

            def mark(document: dict[str, Any] | None, day: str = day) -> dict[str, Any] | None:
                if document is None or (document.get("lastReportedDay") or "") >= day:
                    return None
                return {**document, "lastReportedDay": day}

            await update_document(self.store, BILLING, WEBHOOK_ID, mark)
        return enqueued

    # ----------------------------------------------------------------------------- delivery

    async def deliveries(self, *, status: str | None, after: str | None, limit: int) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        cursor = after
        while len(found) < limit:
            page = await self.store.list_documents(DELIVERIES, after=cursor, limit=500)
            found += [d for d in page if status is None or d["status"] == status]
            if len(page) < 500:
                break
            cursor = page[-1]["id"]
        return found[:limit]

    async def deliver_due(self) -> int:
        """Attempts every due delivery once (each claimed first); answers how many were delivered."""
        config = await self.store.get_document(BILLING, WEBHOOK_ID)
        if config is None or not config.get("active"):
            return 0
        refusal = await url_refusal(config["url"], allow_private=self.allow_private)  # DNS may have moved
        provider: BillingProvider = (
            self.provider_for(config, _open(self.box, config["secret"])) if refusal is None else _Refused(refusal)
        )
        now = self._now()
        delivered = 0
        for delivery in await self.deliveries(status="pending", after=None, limit=10_000):
            if delivery["nextAttemptAt"] > now or delivery.get("claimedUntil", "") > now:
                continue
            claimed = await self._claim(delivery["id"])
            if claimed is not None:
                delivered += await self._attempt(provider, claimed)
        return delivered

    async def _claim(self, delivery_id: str) -> dict[str, Any] | None:
        current, version = await self.store.get_versioned(DELIVERIES, delivery_id)
        now = self._now()
        if current is None or current["status"] != "pending" or current.get("claimedUntil", "") > now:
            return None
        claimed = {**current, "claimedUntil": rfc3339(self.clock.now() + timedelta(seconds=CLAIM_S))}
        if not await self.store.put_if_version(DELIVERIES, delivery_id, claimed, version):
            return None  # another replica took it
        return claimed

    async def _attempt(self, provider: BillingProvider, delivery: dict[str, Any]) -> int:
        at = self._now()
        error: str | None = None
        try:
            await provider.deliver(delivery["event"])
        except Exception as failure:  # noqa: BLE001 - any failure is an attempt to retry
            error = f"{type(failure).__name__}: {failure}" if str(failure) else type(failure).__name__
        attempt = {"at": at, "provider": provider.name, "error": error}
        delivery = {**delivery, "attempts": [*delivery["attempts"], attempt]}
        delivery.pop("claimedUntil", None)
        if error is None:
            delivery.update(status="delivered", deliveredAt=self._now())
        else:
            delivery["failures"] = failures = int(delivery["failures"]) + 1
            delay = next_attempt_delay(self.schedule, failures, self.uniform)
            if delay is None:
                delivery["status"] = "dead"
            else:
                delivery["nextAttemptAt"] = rfc3339(self.clock.now() + timedelta(seconds=delay))
            log.warning("billing delivery %s failed (%s)", delivery["id"], error)
        await self.store.put_document(DELIVERIES, delivery["id"], delivery)
        return 1 if error is None else 0

    async def purge(self, retention_days: float) -> int:
        """Deletes delivered and dead deliveries created more than `retention_days` ago, so the
        outbox (read whole by each due scan) stays as small as the retention keeps it."""
        cutoff = rfc3339(self.clock.now() - timedelta(days=retention_days))
        old = [
            d["id"]
            for d in await self.deliveries(status=None, after=None, limit=1_000_000)
            if d["status"] in ("delivered", "dead") and d["createdAt"] < cutoff
        ]
        return await self.store.delete_documents(DELIVERIES, old) if old else 0

    async def redrive(self, delivery_id: str) -> dict[str, Any] | None:
        """Makes a dead (or failing) delivery due now; None when there is no such delivery."""
        now = self._now()

        def change(document: dict[str, Any] | None) -> dict[str, Any] | None:
            if document is None:
                return None
            return {**document, "status": "pending", "failures": 0, "nextAttemptAt": now}

        return await update_document(self.store, DELIVERIES, delivery_id, change)


class _Refused:
    """Stands in for the provider while the webhook's URL is refused: every attempt fails."""

    name = "webhook"

    def __init__(self, reason: str) -> None:
        self.reason = reason

    async def deliver(self, event: dict[str, Any]) -> None:
        raise BillingDeliveryError(f"refused: the URL {self.reason}")


def _public(document: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in document.items() if key != "secret"}


def _open(box: SecretBox | None, stored: str) -> str:
    if not is_sealed(stored):
        return stored
    if box is None:
        raise RuntimeError("the billing webhook's secret is sealed and this process has no secret key")
    return box.open(stored)
