"""The documents webhooks share between the ingress (subscriptions, redrives) and the delivery
worker: their collections, ids and statuses, and how a destination's host is resolved."""

from __future__ import annotations

import asyncio
import uuid

WEBHOOKS, DELIVERIES, CURSORS = "webhooks", "webhook_deliveries", "cursors"
REDRIVES = "webhook_redrives"  # one document per redrive: which deliveries it made due again
CURSOR_ID = "webhooks"
DUE = ("pending", "failed")  # not tried yet / tried and failed, with a retry scheduled
FINAL = ("delivered", "dead")


def delivery_id(subscription_id: str, event_id: str) -> str:
    return f"{subscription_id}:{event_id}"


def redrive_id(at_ms: int) -> str:
    """Redrive documents sort by the time they were written (then a random tail), so the worker
    reads only the ones after its position."""
    return f"{at_ms:015d}-{uuid.uuid4().hex[:12]}"


def redrive_ms(identity: str) -> int:
    return int(identity.partition("-")[0])


async def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (getaddrinfo runs in a thread)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=0)
    return sorted({str(info[4][0]) for info in infos})
