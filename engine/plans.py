"""Plans and their quotas. The four seeded plans are defaults an operator may edit; a quota of
None means unlimited."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

QUOTA_FIELDS = (
    "requestsPerMonth",
    "eventsPerMonth",
    "players",
    "projects",
    "apiRequestsPerSecond",
    "operationRatesPerSecond",
)
OPERATION_RATES = "operationRatesPerSecond"  # {op: commands a second}, per tenant; None: no such limit

DEFAULT_PLANS: tuple[dict[str, Any], ...] = (
    {"id": "free", "name": "Free", "requestsPerMonth": 100_000, "eventsPerMonth": 50_000, "players": 1_000,
     "projects": 1, "apiRequestsPerSecond": 20},
    {"id": "indie", "name": "Indie", "requestsPerMonth": 5_000_000, "eventsPerMonth": 2_000_000, "players": 50_000,
     "projects": 3, "apiRequestsPerSecond": 200},
    {"id": "studio", "name": "Studio", "requestsPerMonth": 100_000_000, "eventsPerMonth": 50_000_000,
     "players": 1_000_000, "projects": 20, "apiRequestsPerSecond": 2_000},
    {"id": "enterprise", "name": "Enterprise", "requestsPerMonth": None, "eventsPerMonth": None, "players": None,
     "projects": None, "apiRequestsPerSecond": None},
)  # fmt: skip


def operation_rates(plan: Mapping[str, Any] | None) -> Mapping[str, int]:
    """The plan's per-operation limits (`Command.op` -> commands a second for the whole tenant)."""
    rates = (plan or {}).get(OPERATION_RATES)
    return rates if isinstance(rates, Mapping) else {}
