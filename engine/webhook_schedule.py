"""Which due webhook deliveries the worker starts next: tenants take turns, and each receiver
(subscription) has a bounded number of attempts in flight.

Why: deliveries used to start in one global due order, so a tenant with thousands of due
deliveries (a redrive, a receiver that was down) or a receiver that hangs until its timeout held
every slot, and another tenant's fresh delivery waited behind all of them. With turns, a tenant
that has startable work waits for at most one pick of each other tenant (`TurnOrder`); with the
per-receiver bound, a hanging receiver holds at most `per_receiver` slots. Pure: no I/O, no clock.
"""

from __future__ import annotations

import heapq
from collections import OrderedDict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class DueDelivery:
    """A delivery that may be started: `receiver` is its subscription, `due_at` orders it
    within its tenant (RFC 3339 strings compare in time order)."""

    id: str
    tenant: str
    receiver: str
    due_at: str


class TurnOrder:
    """Round robin over tenants that keeps its place between calls: the tenant served last goes
    to the back, a tenant seen for the first time joins at the back. So while tenant T has work
    it can start, every pick serves T or a tenant ahead of T, and each of those then moves behind
    T: T waits for at most (tenants ahead of it) <= (tenants - 1) picks."""

    def __init__(self) -> None:
        self._order: OrderedDict[str, None] = OrderedDict()

    def choose(self, eligible: Collection[str]) -> str | None:
        """The next tenant among `eligible` (None if there is none); it moves to the back."""
        for tenant in sorted(t for t in eligible if t not in self._order):
            self._order[tenant] = None
        for tenant in self._order:
            if tenant in eligible:
                self._order.move_to_end(tenant)
                return tenant
        return None

    def forget(self, keep: Iterable[str]) -> None:
        """Drop tenants with no work at all, so the order stays as small as the live tenants
        (a forgotten tenant rejoins at the back, which the wait bound already allows for)."""
        kept = set(keep)
        for tenant in [t for t in self._order if t not in kept]:
            del self._order[tenant]


def plan(
    ready: Sequence[DueDelivery],
    busy: Mapping[str, int],
    *,
    slots: int,
    per_receiver: int,
    turns: TurnOrder,
    tenant_busy: Mapping[str, int] | None = None,
    per_tenant: int | None = None,
) -> list[DueDelivery]:
    """Up to `slots` deliveries of `ready` to start now, tenants taking turns, no receiver
    exceeding `per_receiver` attempts counting the `busy` ones it already has (by receiver), and
    no tenant exceeding `per_tenant` counting its `tenant_busy` ones (None: no tenant bound), so
    a tenant with many hanging receivers cannot take every slot either. Within a tenant the
    earliest due delivery whose receiver has room goes first. Stops only when the slots are used
    or nothing in `ready` can start."""
    grouped: dict[str, dict[str, list[DueDelivery]]] = {}
    for delivery in ready:
        grouped.setdefault(delivery.tenant, {}).setdefault(delivery.receiver, []).append(delivery)
    # tenant -> receiver -> the few it could start now, latest due first (the next pops off the
    # end): a receiver starts at most its room, so 10,000 due for one costs no full sort
    queues: dict[str, dict[str, list[DueDelivery]]] = {
        tenant: {
            receiver: heapq.nsmallest(min(slots, per_receiver - busy.get(receiver, 0)), found, key=_due_order)[::-1]
            for receiver, found in receivers.items()
            if busy.get(receiver, 0) < per_receiver
        }
        for tenant, receivers in grouped.items()
    }
    in_flight = dict(busy)
    tenants_in_flight = dict(tenant_busy or {})
    tenant_bound = slots + sum(tenants_in_flight.values()) if per_tenant is None else per_tenant
    picked: list[DueDelivery] = []
    while len(picked) < slots:
        heads = {
            tenant: min(
                (
                    queue[-1]
                    for receiver, queue in receivers.items()
                    if queue and in_flight.get(receiver, 0) < per_receiver
                ),
                key=_due_order,
                default=None,
            )
            for tenant, receivers in queues.items()
            if tenants_in_flight.get(tenant, 0) < tenant_bound
        }
        startable = {tenant: head for tenant, head in heads.items() if head is not None}
        tenant = turns.choose(startable.keys())
        if tenant is None:
            break
        delivery = queues[tenant][startable[tenant].receiver].pop()
        in_flight[delivery.receiver] = in_flight.get(delivery.receiver, 0) + 1
        tenants_in_flight[tenant] = tenants_in_flight.get(tenant, 0) + 1
        picked.append(delivery)
    return picked


def _due_order(delivery: DueDelivery) -> tuple[str, str]:
    return delivery.due_at, delivery.id
