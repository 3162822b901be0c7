"""The billing outbox on real stores (SQLite, and MongoDB over nx-27017): a daily report is
written once however many replicas make it, each delivery reaches the provider once however
many replicas send, failures are retried on the schedule and end `dead`, and ended days are
reported once each."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from actors.billing import DELIVERIES, BillingDeliveryError, BillingOutbox, BillingProvider
from actors.clock import FakeClock
from actors.stores.base import Store
from engine.billing import UsageReport


class Ledger:
    """A provider that keeps what it took (a stand-in for a billing vendor, not for our code);
    it refuses the first `refusals` events it is given."""

    name = "ledger"

    def __init__(self, refusals: int = 0) -> None:
        self.taken: list[dict[str, Any]] = []
        self.refusals = refusals

    async def deliver(self, event: dict[str, Any]) -> None:
        await asyncio.sleep(0)  # let another replica interleave
        if self.refusals:
            self.refusals -= 1
            raise BillingDeliveryError("HTTP 503")
        self.taken.append(event)


async def usage_of(month: str) -> Sequence[UsageReport]:
    return [UsageReport("acme", "", "indie", 10, 4, 100, 50), UsageReport("beta", "", None, 0, 0)]


def outbox(
    store: Store, clock: FakeClock, provider: BillingProvider, schedule: Sequence[float] = (5, 30)
) -> BillingOutbox:
    return BillingOutbox(
        store,
        box=None,
        schedule=schedule,
        clock=clock,
        provider_for=lambda config, secret: provider,
        allow_private=True,
    )


async def configured(store: Store, clock: FakeClock, provider: BillingProvider) -> BillingOutbox:
    billing = outbox(store, clock, provider)
    made = await billing.configure("http://127.0.0.1:9/billing", active=True, rotate_secret=False)
    assert made["secret"].startswith("whsec_")
    return billing


async def test_replicas_write_a_daily_report_once_and_deliver_it_once(store: Store) -> None:
    clock, ledger = FakeClock(datetime(2026, 3, 10, 0, 5, tzinfo=UTC)), Ledger()
    replicas = [await configured(store, clock, ledger)] + [outbox(store, clock, ledger) for _ in range(3)]
    await asyncio.gather(*(replica.report_ended_days(usage_of) for replica in replicas))
    await asyncio.gather(*(replica.deliver_due() for replica in replicas))
    assert sorted((e["data"]["tenantId"], e["data"]["day"]) for e in ledger.taken) == [
        ("acme", "2026-03-09"),
        ("beta", "2026-03-09"),
    ]
    assert (await replicas[0].config() or {})["lastReportedDay"] == "2026-03-09"
    await replicas[1].report_ended_days(usage_of)  # the same day again: nothing new
    await replicas[1].deliver_due()
    assert len(ledger.taken) == 2
    clock.advance(3 * 24 * 3600)  # three more days ended
    await replicas[2].report_ended_days(usage_of)
    await replicas[2].deliver_due()
    days = sorted({e["data"]["day"] for e in ledger.taken})
    assert days == ["2026-03-09", "2026-03-10", "2026-03-11", "2026-03-12"]


async def test_a_refused_delivery_is_retried_on_the_schedule_then_dead(store: Store) -> None:
    clock, ledger = FakeClock(), Ledger(refusals=10)
    billing = await configured(store, clock, ledger)
    assert await billing.plan_changed("acme", "free", "indie") is not None
    assert await billing.plan_changed("acme", "indie", "indie") is None, "no change, no event"
    assert await billing.deliver_due() == 0
    [delivery] = await billing.deliveries(status="pending", after=None, limit=10)
    assert delivery["failures"] == 1 and delivery["attempts"][0]["error"] == "BillingDeliveryError: HTTP 503"
    assert await billing.deliver_due() == 0 and len(delivery["attempts"]) == 1, "not due before its retry time"
    clock.advance(6)
    await billing.deliver_due()
    clock.advance(60)
    await billing.deliver_due()
    [dead] = await billing.deliveries(status="dead", after=None, limit=10)
    assert len(dead["attempts"]) == 3 and ledger.taken == []
    ledger.refusals = 0
    await billing.redrive(dead["id"])
    assert await billing.deliver_due() == 1
    assert [e["type"] for e in ledger.taken] == ["tenant.plan.changed"]
    assert (await store.get_document(DELIVERIES, dead["id"]) or {})["status"] == "delivered"


async def test_nothing_is_reported_or_sent_without_an_active_webhook(store: Store) -> None:
    clock, ledger = FakeClock(), Ledger()
    billing = outbox(store, clock, ledger)
    assert await billing.report_ended_days(usage_of) == 0
    assert await billing.plan_changed("acme", "free", "indie") is None
    await billing.configure("http://127.0.0.1:9/billing", active=False, rotate_secret=False)
    assert await billing.report_ended_days(usage_of) == 0
    assert await billing.deliver_due() == 0 and ledger.taken == []
    with pytest.raises(ValueError):
        await billing.configure("ftp://example.com/", active=True, rotate_secret=False)


async def test_final_deliveries_are_purged_after_the_retention(store: Store) -> None:
    clock, ledger = FakeClock(), Ledger()
    billing = await configured(store, clock, ledger)
    await billing.plan_changed("acme", "free", "indie")
    await billing.deliver_due()
    assert await billing.purge(retention_days=30) == 0
    await billing.plan_changed("acme", "indie", "studio")  # pending: never purged
    clock.advance(31 * 24 * 3600)
    assert await billing.purge(retention_days=30) == 1
    assert [d["status"] for d in await billing.deliveries(status=None, after=None, limit=10)] == ["pending"]


async def test_a_url_that_now_resolves_to_a_private_address_is_not_sent_to(store: Store) -> None:
    clock, ledger = FakeClock(), Ledger()
    await configured(store, clock, ledger)  # configured while private addresses were allowed
    strict = BillingOutbox(store, box=None, schedule=(5,), clock=clock, provider_for=lambda c, s: ledger)
    await strict.plan_changed("acme", "free", "indie")
    assert await strict.deliver_due() == 0 and ledger.taken == []
    [delivery] = await strict.deliveries(status="pending", after=None, limit=10)
    assert delivery["attempts"][0]["error"].startswith("BillingDeliveryError: refused: the URL")
