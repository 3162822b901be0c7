"""The tenant lifecycle: which state a tenant is in at a moment, which moves an operator may make,
and the moves time makes by itself. Pure: the control plane stores the tenant document and the
billing outbox tells the billing system (`tenant.state.changed`); nothing here does I/O.

States, and what each lets the tenant do (docs/TENANTS.md says the same for people):

- `trial` (until `trialEndsAt`) and `active`: everything.
- `past-due` (until `graceEndsAt`): everything still; the dashboards show the grace's end.
- `read-only`: game reads answer; game writes (commands over HTTP, batches and the command
  stream, and every other non-GET game route) answer 403 `tenant-read-only`.
- `suspended`: every game call and realtime socket answers 403 `tenant-suspended`; no new key
  or active webhook; deliveries wait.

Time moves a tenant on its own: a trial that ended becomes `active` when the tenant has a payment
on file (`paymentOnFile`, set by the billing system through the admin API) or its plan says
`afterTrial: "active"` (a free plan), else `past-due` with a grace of `graceDays` (the tenant's,
else the plan's, else `DEFAULT_GRACE_DAYS`) from the trial's end; a past-due tenant whose grace
ended becomes `read-only`. Only an operator suspends, and only an operator lifts a suspension or
a read-only state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from engine.billing import STATE_CHANGED, message_id

TRIAL = "trial"
ACTIVE = "active"
PAST_DUE = "past-due"
READ_ONLY = "read-only"
SUSPENDED = "suspended"
STATES = (TRIAL, ACTIVE, PAST_DUE, READ_ONLY, SUSPENDED)
DEFAULT_GRACE_DAYS = 7.0

# The moves an operator may make, from each state (to the same state: none, but a trial's new end).
OPERATOR_MOVES: dict[str, frozenset[str]] = {
    TRIAL: frozenset({TRIAL, ACTIVE, PAST_DUE, READ_ONLY, SUSPENDED}),  # trial -> trial: a new end
    ACTIVE: frozenset({TRIAL, PAST_DUE, READ_ONLY, SUSPENDED}),
    PAST_DUE: frozenset({ACTIVE, READ_ONLY, SUSPENDED}),
    READ_ONLY: frozenset({ACTIVE, PAST_DUE, SUSPENDED}),
    SUSPENDED: frozenset({ACTIVE, READ_ONLY}),
}


class TransitionError(ValueError):
    """An operator's move the lifecycle does not allow; `slug` names the problem."""

    slug = "invalid-transition"


@dataclass(frozen=True)
class Transition:
    """One move: from, to, when, and why (`operator` or `schedule`)."""

    tenant_id: str
    previous: str
    state: str
    at: datetime
    by: str
    reason: str | None = None


def _parse(value: str | None) -> datetime | None:
    return None if not value else datetime.fromisoformat(value.replace("Z", "+00:00"))


def _rfc3339(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def stored_state(tenant: dict[str, Any]) -> str:
    """The state written on the document; documents older than the lifecycle are `active`, or
    `suspended` when their `suspended` flag says so."""
    state = tenant.get("state")
    if state in STATES:
        return str(state)
    return SUSPENDED if tenant.get("suspended") else ACTIVE


def grace_days(tenant: dict[str, Any], plan: dict[str, Any] | None) -> float:
    for source in (tenant, plan or {}):
        days = source.get("graceDays")
        if isinstance(days, int | float) and not isinstance(days, bool) and days >= 0:
            return float(days)
    return DEFAULT_GRACE_DAYS


def after_trial(tenant: dict[str, Any], plan: dict[str, Any] | None) -> str:
    """Where an ended trial goes: `active` with a payment on file or on a plan that asks no
    payment (`afterTrial: "active"`), else `past-due`."""
    if tenant.get("paymentOnFile") is True or (plan or {}).get("afterTrial") == ACTIVE:
        return ACTIVE
    return PAST_DUE


def settle(
    tenant: dict[str, Any], plan: dict[str, Any] | None, now: datetime
) -> tuple[dict[str, Any], list[Transition]]:
    """The document as time has moved it at `now`, and the moves made (oldest first, each at the
    moment it became due, not when it was noticed): enforcement and the background loop read the
    same answer, so a tenant is read-only from the grace's end whether or not the loop ran yet."""
    current = dict(tenant)
    moves: list[Transition] = []
    state = stored_state(current)
    trial_end = _parse(current.get("trialEndsAt"))
    if state == TRIAL and trial_end is not None and trial_end <= now:
        state = after_trial(current, plan)
        moves.append(Transition(current["id"], TRIAL, state, trial_end, "schedule", "trial ended"))
        current.update(state=state, stateChangedAt=_rfc3339(trial_end))
        if state == PAST_DUE:
            current["graceEndsAt"] = _rfc3339(trial_end + timedelta(days=grace_days(current, plan)))
    grace_end = _parse(current.get("graceEndsAt"))
    if state == PAST_DUE and grace_end is not None and grace_end <= now:
        moves.append(Transition(current["id"], PAST_DUE, READ_ONLY, grace_end, "schedule", "grace period ended"))
        current.update(state=READ_ONLY, stateChangedAt=_rfc3339(grace_end))
    return current, moves


def effective_state(tenant: dict[str, Any] | None, plan: dict[str, Any] | None, now: datetime) -> str:
    """The state the tenant is in at `now` (an unknown tenant: `active`; admission decides that)."""
    if tenant is None:
        return ACTIVE
    return stored_state(settle(tenant, plan, now)[0])


def operator_move(
    tenant: dict[str, Any],
    plan: dict[str, Any] | None,
    state: str,
    now: datetime,
    *,
    trial_ends_at: datetime | None = None,
    grace_days_override: float | None = None,
    reason: str | None = None,
) -> tuple[dict[str, Any], list[Transition]]:
    """The document after an operator moves it to `state` (time's moves due first are made and
    returned too). A trial needs an end in the future; past-due gets a grace from now."""
    current, moves = settle(tenant, plan, now)
    previous = stored_state(current)
    if state not in STATES:
        raise TransitionError(f"unknown state '{state}'; one of {', '.join(STATES)}")
    if state not in OPERATOR_MOVES[previous]:
        raise TransitionError(f"a tenant cannot go from '{previous}' to '{state}'")
    changes: dict[str, Any] = {"state": state, "suspended": state == SUSPENDED, "stateChangedAt": _rfc3339(now)}
    if state == TRIAL:
        if trial_ends_at is None or trial_ends_at <= now:
            raise TransitionError("a trial needs `trialEndsAt` in the future")
        changes["trialEndsAt"] = _rfc3339(trial_ends_at)
    if state == PAST_DUE:
        days = grace_days(current, plan) if grace_days_override is None else grace_days_override
        changes["graceEndsAt"] = _rfc3339(now + timedelta(days=days))
    if state != TRIAL:
        changes["trialEndsAt"] = None if state != PAST_DUE else current.get("trialEndsAt")
    if state != PAST_DUE:
        changes["graceEndsAt"] = None
    if state == SUSPENDED:
        changes["suspendedFrom"] = previous
    moves.append(Transition(current["id"], previous, state, now, "operator", reason))
    return {**current, **changes}, moves


def state_changed_event(move: Transition) -> dict[str, Any]:
    """The billing event of a move. Its id depends on the tenant, the move and its moment only, so
    replicas that settle the same due move enqueue it once."""
    at = _rfc3339(move.at)
    return {
        "id": message_id(STATE_CHANGED, move.tenant_id, move.previous, move.state, at),
        "type": STATE_CHANGED,
        "occurredAt": at,
        "data": {
            "tenantId": move.tenant_id,
            "previousState": move.previous,
            "state": move.state,
            "changedAt": at,
            "by": move.by,
            "reason": move.reason,
        },
    }
