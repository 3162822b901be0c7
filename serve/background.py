"""The replica's background work, apart from the routers: the billing loop (each ended day's
`usage.reported`, due hooks, purging old deliveries) for as long as the app serves, and the
`tenant.plan.changed` hook an admin change sends without holding its answer back. The outbox
itself is `actors/ingress/billing.py`; its rules are in `engine/billing.py`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

from fastapi import FastAPI

from actors.ingress.billing import BillingOutbox
from actors.ingress.metering import Metering
from actors.ingress.tenant_deletion import TenantDeletions
from actors.secret_box import SecretBox
from engine.billing import UsageReport
from engine.tenant_lifecycle import PAST_DUE, TRIAL, Transition, stored_state
from engine.webhooks import parse_retry_schedule
from serve.backend import Backend

USAGE_PAGE = 500
TIMED = (TRIAL, PAST_DUE)  # the states time moves a tenant out of
log = logging.getLogger("ludex.billing")
_tasks: set[asyncio.Task[int]] = set()


def outbox(connected: Backend) -> BillingOutbox:
    """The billing outbox over the backend's store, configured by its settings."""
    settings = connected.settings
    return BillingOutbox(
        connected.store,
        box=SecretBox.from_settings(settings),
        schedule=parse_retry_schedule(settings.webhook_retry_schedule),
        allow_private=settings.webhook_allow_private,
    )


def usage_source(meters: Metering, connected: Backend, only: str | None = None) -> Any:
    """Each live tenant's usage of a month, read like `GET /v1/admin/usage` reads it (the meter's
    `list` after a flush), with the tenant's plan and quotas; tenants without usage get zeros."""

    async def usage_of(month: str) -> list[UsageReport]:
        counted: dict[str, tuple[int, int]] = {}
        after: str | None = None
        while True:
            page = await meters.meter.list(tenant=only, month=month, after=after, limit=USAGE_PAGE)
            counted.update({u.tenant: (u.requests, u.events) for u in page})
            if len(page) < USAGE_PAGE:
                break
            after = page[-1].id
        plans = {plan["id"]: plan for plan in await connected.control.list_plans()}
        tenants = await connected.control.list_tenants(after=None, limit=1_000_000)
        reports = []
        for tenant in tenants:
            if only is not None and tenant["id"] != only:
                continue
            plan = plans.get(tenant.get("planId") or "") or {}
            requests, events = counted.get(tenant["id"], (0, 0))
            reports.append(
                UsageReport(
                    tenant["id"],
                    "",
                    tenant.get("planId"),
                    requests,
                    events,
                    plan.get("requestsPerMonth"),
                    plan.get("eventsPerMonth"),
                )
            )
        return reports

    return usage_of


async def plan_changed(connected: Backend, tenant: str, previous: str | None, plan: str | None) -> None:
    """Enqueues `tenant.plan.changed` and sends it without holding the admin's answer back;
    the replica's loop retries it if this attempt fails."""
    billing = outbox(connected)
    if await billing.plan_changed(tenant, previous, plan) is not None:
        _send_soon(billing)


async def state_changed(connected: Backend, moves: Sequence[Transition]) -> None:
    """Enqueues `tenant.state.changed` for each lifecycle move and sends them as `plan_changed` does."""
    billing = outbox(connected)
    if await billing.state_changed(moves):
        _send_soon(billing)


def _send_soon(billing: BillingOutbox) -> None:
    task = asyncio.get_running_loop().create_task(billing.deliver_due())
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


async def settle_lifecycles(connected: Backend) -> int:
    """Writes the lifecycle moves time made since the last pass (trials and graces that ended)
    and enqueues their hooks; answers how many moves. Admission does not wait for it: it reads the
    state time has reached (`engine.tenant_lifecycle.settle`), this makes it stored and announced."""
    billing = outbox(connected)
    moved = 0
    for tenant in await connected.control.list_tenants(after=None, limit=1_000_000):
        if stored_state(tenant) not in TIMED:
            continue  # only a trial or a grace ends by itself: the others need no second read
        moves = await connected.control.settle_tenant(tenant["id"])
        await billing.state_changed(moves)
        moved += len(moves)
    return moved


async def run_due_deletions(connected: Backend) -> list[dict[str, Any]]:
    """Does the tenant deletions whose waiting period ended (`actors.ingress.tenant_deletion`)."""
    deletions = TenantDeletions(connected.store, connected.control.clock, backups=connected.settings.backups_path)
    done = await deletions.run_due(connected.boards)
    for report in done:
        log.warning("tenant %s deleted: %s", report["tenant"], report["removed"])
    return done


async def run_billing_forever(app: FastAPI, interval_s: float) -> None:
    """The replica's billing loop: once an interval, tenants' trials and graces that ended move on
    and due deletions are done, the days that ended get their usage reports and due hooks are
    sent. It never connects the backend itself: until a request did, it waits."""
    while True:
        await asyncio.sleep(interval_s)
        connected: Backend | None = app.state.backend_holder.connected
        if connected is None:
            continue
        try:  # the tenants' pass first: its moves' hooks go out with this interval's deliveries
            await settle_lifecycles(connected)
            await run_due_deletions(connected)
        except Exception:  # noqa: BLE001 - as below; billing goes on without it
            log.exception("tenant lifecycle pass failed; retried in %.0f s", interval_s)
        try:
            meters: Metering | None = getattr(app.state, "metering", None)
            if meters is None:
                meters = app.state.metering = Metering.for_deployment(connected.store, connected.settings.redis_url)
            billing = outbox(connected)
            await billing.report_ended_days(usage_source(meters, connected))
            await billing.deliver_due()
            await billing.purge(connected.settings.webhook_delivery_retention_days)
        except Exception:  # noqa: BLE001 - the store may be briefly away: next interval
            log.exception("billing loop failed; retried in %.0f s", interval_s)


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The replica's background loops, for as long as it serves: the billing hooks' loop."""
    interval_s = app.state.backend_holder.settings.billing_interval_s
    loop = asyncio.create_task(run_billing_forever(app, interval_s)) if interval_s > 0 else None
    try:
        yield
    finally:
        if loop is not None:
            loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await loop
