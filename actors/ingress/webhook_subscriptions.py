"""Webhook subscriptions as the backoffice API manages them (in the ingress): create, change,
list, delete, and redrive deliveries. The worker that sends deliveries is
`actors.webhook_delivery.WebhookWorker`; the documents both share are in `actors.webhook_records`."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from actors.clock import Clock, SystemClock
from actors.secret_box import SecretBox
from actors.stores.base import DocumentStore
from actors.webhook_records import DELIVERIES, REDRIVES, WEBHOOKS, redrive_id, resolve
from engine.domain_error import NamedError
from engine.rules import rfc3339
from engine.webhooks import check_webhook_url, is_private_address


class WebhookError(NamedError):
    """A subscription request that cannot be done; `slug` names the problem."""


def new_secret() -> str:
    """`whsec_` + base64 of 24 random bytes: the Standard Webhooks secret format."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


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

    def __init__(
        self,
        store: DocumentStore,
        clock: Clock | None = None,
        *,
        allow_private: bool = False,
        box: SecretBox | None = None,
    ) -> None:
        self.store = store
        self.box = box  # seals signing secrets at rest (the server always gives one)
        self.clock: Clock = clock or SystemClock()
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
        secret = new_secret()
        document: dict[str, Any] = {
            "id": f"wh_{secrets.token_hex(12)}",
            "tenantId": tenant,
            "projectId": project,
            "url": url,
            "eventTypes": list(event_types),
            "active": active,
            "secret": self.box.seal(secret) if self.box is not None else secret,
            "createdAt": now,
            "updatedAt": now,
        }
        await self.store.put_document(WEBHOOKS, document["id"], document)
        return {**document, "secret": secret}

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

    async def _tell_worker(self, tenant: str, deliveries: list[str]) -> None:
        """The worker enqueues exactly these deliveries (it reads this document, not the table)."""
        identity = redrive_id(int(self.clock.now().timestamp() * 1000))
        document = {"id": identity, "tenantId": tenant, "deliveries": deliveries, "at": self._now()}
        await self.store.put_document(REDRIVES, identity, document)

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
        await self._tell_worker(tenant, [document["id"]])
        return document

    async def redrive_dead(self, tenant: str, project: str, subscription_id: str) -> int:
        """Every dead delivery of the subscription back to pending; answers how many."""
        await self._active(tenant, project, subscription_id)
        count, after = 0, None
        while page := await self.deliveries(tenant, project, subscription_id, status=None, after=after, limit=200):
            redriven = [(await self._due_again(d))["id"] for d in page if d["status"] == "dead"]
            if redriven:
                await self._tell_worker(tenant, redriven)
            count += len(redriven)
            after = page[-1]["id"]
        return count
