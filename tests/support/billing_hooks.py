"""The platform's billing webhook pointed at a test's `Receiver` (tests/e2e/test_webhooks.py), and
the verified payloads it received: shared by the billing tests through Ray Serve
(tests/e2e/test_billing.py) and at the route seam (tests/routes/test_billing.py), which import
the fixtures `billing`, `receiver` and `hook` and provide `admin`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

import httpx
import pytest
from standardwebhooks import Webhook

from tests.e2e.test_webhooks import Receiver

HOOK = "/v1/admin/billing/webhook"


class Client(Protocol):
    """A signed-in superadmin: an `httpx.Client`, or the route seam's `Dashboard`."""

    def put(self, url: str, **kwargs: Any) -> httpx.Response: ...

    def delete(self, url: str, **kwargs: Any) -> httpx.Response: ...


@contextmanager
def billing_hook(admin: Client) -> Iterator[tuple[Receiver, dict[str, Any]]]:
    """A receiver, and the billing webhook pointed at it (as first configured, with its secret);
    both removed afterwards (the webhook is platform-wide)."""
    receiver = Receiver()
    try:
        response = admin.put(HOOK, json={"url": receiver.url})
        assert response.status_code == 200, response.text
        yield receiver, response.json()
        admin.delete(HOOK)
    finally:
        receiver.close()


@pytest.fixture(scope="module")
def billing(admin: Client) -> Iterator[tuple[Receiver, dict[str, Any]]]:
    """The module's receiver and billing webhook (`admin`: the test module's signed-in superadmin)."""
    with billing_hook(admin) as configured:
        yield configured


@pytest.fixture(scope="module")
def receiver(billing: tuple[Receiver, dict[str, Any]]) -> Receiver:
    return billing[0]


@pytest.fixture(scope="module")
def hook(billing: tuple[Receiver, dict[str, Any]]) -> dict[str, Any]:
    """The billing webhook pointed at the receiver, as first configured (with its secret)."""
    return billing[1]


def received(receiver: Receiver, secret: str, **match: Any) -> list[dict[str, Any]]:
    """Verified payloads whose fields (or `data` fields) match."""
    with receiver.lock:
        requests = list(receiver.requests)
    payloads = [Webhook(secret).verify(body, headers) for headers, body in requests if "webhook-id" in headers]
    wanted = []
    for payload in payloads:
        flat = {**payload, **payload.get("data", {})}
        if all(flat.get(key) == value for key, value in match.items()):
            wanted.append(payload)
    return wanted
