"""How long each tenant's data is kept: events (the event store behind `GET .../events`,
realtime replays and webhooks), finished webhook deliveries, and remembered idempotency answers.
The journal, the ledger, is never purged.

A tenant's own setting wins, else its plan's, else the platform's default; whichever it is, it is
held within the platform's floor and ceiling. Keyed answers keep their 7-day floor (a retry
within a week must replay) and are never kept longer than the platform keeps them, floor or
not: shard hosts look keys up only that far back. A setting outside the bounds is refused when it is made;
bounds changed later clamp what was set before."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from engine.domain_error import DomainError

IDEMPOTENCY_FLOOR_DAYS = 7.0
FIELDS = {"eventsDays": "events_days", "deliveriesDays": "deliveries_days", "idempotencyDays": "idempotency_days"}


@dataclass(frozen=True, slots=True)
class Retention:
    """Days each kind of data is kept; `events_days` None keeps every event."""

    events_days: float | None
    deliveries_days: float
    idempotency_days: float


@dataclass(frozen=True, slots=True)
class RetentionBounds:
    """The platform's limits on any tenant's retention (None: no such limit)."""

    floor_days: float | None = None
    ceiling_days: float | None = None


class RetentionOutOfBoundsError(DomainError):
    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__(problems)
        self.problems = problems

    @property
    def slug(self) -> str:
        return "validation-error"

    @property
    def detail(self) -> str:
        return "; ".join(f"{field}: {message}" for field, message in self.problems)

    @property
    def data(self) -> Mapping[str, Any]:
        return {"problems": self.problems}


def check_retention(
    setting: Mapping[str, Any], platform: Retention, bounds: RetentionBounds, path: str = "retention"
) -> None:
    """Refuses a tenant's or plan's setting that the bounds would not keep as it is. Keyed answers
    may be kept shorter than the platform keeps them, not longer: shard hosts look keys up as far
    back as the platform's retention, and the purge forgets a tenant's sooner."""
    problems = []
    for name, days in setting.items():
        if days is None:
            continue
        floor = _floor(name, bounds)
        ceiling = bounds.ceiling_days
        if name == "idempotencyDays":
            ceiling = platform.idempotency_days if ceiling is None else min(ceiling, platform.idempotency_days)
        if floor is not None and days < floor:
            problems.append((f"{path}.{name}", f"at least {floor:g} days on this platform"))
        if ceiling is not None and days > ceiling:
            problems.append((f"{path}.{name}", f"at most {ceiling:g} days on this platform"))
    if problems:
        raise RetentionOutOfBoundsError(problems)


def effective_retention(
    platform: Retention,
    bounds: RetentionBounds,
    plan: Mapping[str, Any] | None = None,
    tenant: Mapping[str, Any] | None = None,
) -> Retention:
    """The tenant's setting, else its plan's, else the platform's, each field within the bounds."""
    chosen = platform
    for setting in (plan, tenant):
        for name, attribute in FIELDS.items():
            days = (setting or {}).get(name)
            if isinstance(days, int | float) and not isinstance(days, bool):
                chosen = replace(chosen, **{attribute: float(days)})
    kept = {f.name: _clamp(f.name, getattr(chosen, f.name), bounds) for f in fields(Retention)}
    kept["idempotency_days"] = min(kept["idempotency_days"], platform.idempotency_days)
    return Retention(**kept)


def _floor(name: str, bounds: RetentionBounds) -> float | None:
    if name in ("idempotencyDays", "idempotency_days"):
        return max(bounds.floor_days or 0.0, IDEMPOTENCY_FLOOR_DAYS)
    return bounds.floor_days


def _clamp(attribute: str, days: float | None, bounds: RetentionBounds) -> Any:
    if days is None:  # keep every event: the ceiling, when there is one, still applies
        return bounds.ceiling_days
    floor = _floor(attribute, bounds)
    if floor is not None:
        days = max(days, floor)
    if bounds.ceiling_days is not None:
        days = min(days, bounds.ceiling_days)
    return days
