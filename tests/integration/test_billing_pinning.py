"""Billing deliveries go where tenant webhooks go, and only there: the target is resolved once at
send time, refused when it is private, and the request is sent to the address that was checked;
proxy variables of the environment are not followed (a proxy would resolve the name again)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from actors.clock import FakeClock
from actors.ingress.billing import BILLING, WEBHOOK_ID, BillingOutbox
from actors.stores.base import Store
from tests.integration.test_webhook_worker import Receiver


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    receiver = await Receiver().start()
    yield receiver
    await receiver.stop()


@pytest.fixture
async def proxy() -> AsyncIterator[Receiver]:
    proxy = await Receiver().start()  # answers 200 to anything: what a forwarding proxy would
    yield proxy
    await proxy.stop()


async def configured(store: Store, url: str, *, allow_private: bool) -> BillingOutbox:
    """The outbox as the ingress builds it (the real webhook provider), with a webhook at `url`."""
    await BillingOutbox(store, box=None, schedule=(5,), allow_private=True).configure(
        url, active=True, rotate_secret=False
    )  # accepted when configured
    return BillingOutbox(store, box=None, schedule=(5,), clock=FakeClock(), allow_private=allow_private)


async def test_a_billing_delivery_ignores_the_proxy_environment(
    store: Store, receiver: Receiver, proxy: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{proxy.port}")
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    billing = await configured(store, receiver.url, allow_private=True)
    assert await billing.plan_changed("acme", "free", "indie") is not None
    assert await billing.deliver_due() == 1
    assert proxy.requests == [], "the proxy of the environment saw the delivery"
    [(headers, _)] = receiver.requests
    assert headers["ludex-event-type"] == "tenant.plan.changed"


async def test_a_billing_target_that_resolves_to_a_private_address_at_send_time_is_refused(
    store: Store, receiver: Receiver
) -> None:
    """The check before a sweep may have seen a public address (DNS rebinding): the provider that
    sends resolves, checks and connects to that one address itself."""
    billing = await configured(store, receiver.url, allow_private=False)
    config: dict[str, Any] | None = await store.get_document(BILLING, WEBHOOK_ID)
    assert config is not None
    provider = billing.provider_for(config, "whsec_" + "A" * 32)
    event = {"id": "evt_rebound", "type": "tenant.plan.changed", "data": {"tenantId": "acme"}}
    with pytest.raises(Exception, match="private") as refused:
        await provider.deliver(event)
    assert "refused" in str(refused.value)
    assert receiver.requests == [], "the request went to a loopback address"
