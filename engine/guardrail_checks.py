"""Checking guardrails. Pure: `guard` runs after `rules.decide` accepted a command: it measures
what the command emits per guardrail (events from the guardrail's source), checks each limit and
answers either the decision (maybe with a `guardrail:<id>` flag) or a `GuardrailRefusal`. Both
journal their events, so the per-player windows live in the player's state and a replay of the
journal, or of an idempotency key, gives the same answer. Project budgets are checked against
the room the host leased (`actors/guardrail_leases.py`); this module only compares numbers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from engine import events as e
from engine.domain_error import DomainError
from engine.guardrails import Guardrail, Limit
from engine.limits import MAX_SAFE_INTEGER
from engine.rules import Accepted, evolve, rfc3339
from engine.state import PlayerState, with_changes


@dataclass
class GuardrailTrippedError(DomainError):
    """A command would take its player (or the project) past a `refuse` guardrail's limit."""

    guardrail: str
    scope: str  # "player" | "project"
    limit: int
    per: str
    used: int
    amount: int
    retry_after_s: int
    slug_name: ClassVar[str] = "guardrail-tripped"

    @property
    def slug(self) -> str:
        return self.slug_name

    @property
    def detail(self) -> str:
        who = "this player" if self.scope == "player" else "the project"
        return (
            f"guardrail '{self.guardrail}': {who} may receive {self.limit} per {self.per}; "
            f"{self.used} so far, this command adds {self.amount}"
        )

    @property
    def data(self) -> Mapping[str, Any]:
        return {
            "guardrail": self.guardrail,
            "scope": self.scope,
            "limit": self.limit,
            "per": self.per,
            "used": self.used,
            "amount": self.amount,
            "retryAfterS": self.retry_after_s,
        }

    @property
    def headers(self) -> Mapping[str, str]:
        return {"Retry-After": str(self.retry_after_s)}


@dataclass(frozen=True)
class GuardrailRefusal:
    """A refused command that is still journaled: its `GuardrailTripped` event is announced
    (webhooks, realtime) and its refusal is what a replay of the key answers."""

    error: GuardrailTrippedError
    events: tuple[e.Event, ...]
    state: PlayerState


def emitted(guardrail: Guardrail, op: str, events: Sequence[e.Event]) -> int:
    """How much of the guardrail's currency or item `events` give, counting only its source:
    the command's op, the SKU it bought, or an event's reason (all when no source is set)."""
    source = guardrail.source
    whole = (
        source is None
        or source == op
        or any(isinstance(event, e.PurchaseSucceeded) and event.sku == source for event in events)
    )
    total = 0
    for event in events:
        if isinstance(event, e.WalletCredited):
            target, amount = (event.currency == guardrail.currency), event.amount
        elif isinstance(event, e.ItemGranted):
            target, amount = (event.item_id == guardrail.item_id), event.quantity
        else:
            continue
        if target and (whole or event.reason == source):
            total += amount
    return total


def demands(guardrails: Mapping[str, Guardrail], op: str, events: Sequence[e.Event]) -> dict[str, int]:
    """Guardrail id -> what this command adds to it (only the guardrails it touches)."""
    found: dict[str, int] = {}
    for guardrail in guardrails.values():
        amount = emitted(guardrail, op, events)
        if amount:
            found[guardrail.id] = amount
    return found


def player_used(state: PlayerState, guardrail: Guardrail, window: int) -> int:
    """What the player received toward `guardrail` in `window` (0 when its window has passed)."""
    counted = state.guardrail_windows.get(guardrail.id)
    return counted[1] if counted is not None and counted[0] == window else 0


def guard(
    state: PlayerState,
    op: str,
    decision: Accepted,
    guardrails: Mapping[str, Guardrail],
    now: datetime,
    project_room: Mapping[str, int],
) -> Accepted | GuardrailRefusal:
    """Check an accepted decision against every guardrail it touches. `project_room` is, per
    guardrail with a project budget, how much the host may still hand out in the current window.

    A `refuse` guardrail over its limit turns the decision into a refusal that journals only the
    `GuardrailTripped` event; a `flag` one keeps the decision and adds the flag. The per-player
    windows the decision fills are journaled in one `GuardrailCounted` event."""
    wanted = demands(guardrails, op, decision.events)
    if not wanted:
        return decision
    epoch_s = int(now.timestamp())
    counted: dict[str, tuple[int, int]] = {}
    trips: list[GuardrailTrippedError] = []
    for guardrail_id, amount in wanted.items():
        guardrail = guardrails[guardrail_id]
        trip = None
        if guardrail.per_player is not None:
            limit = guardrail.per_player
            window = limit.window(epoch_s)
            used = player_used(state, guardrail, window)
            counted[guardrail_id] = (window, min(used + amount, MAX_SAFE_INTEGER))
            if used + amount > limit.amount:
                trip = _trip(guardrail, "player", limit, used, amount, window + limit.seconds - epoch_s)
        if trip is None and guardrail.project is not None and project_room.get(guardrail_id, 0) < amount:
            limit = guardrail.project
            window = limit.window(epoch_s)
            trip = _trip(guardrail, "project", limit, limit.amount, amount, window + limit.seconds - epoch_s)
        if trip is not None:
            trips.append(trip)
    refusing = [trip for trip in trips if guardrails[trip.guardrail].action == "refuse"]
    if refusing:
        at = rfc3339(now)
        tripped = tuple(_event(guardrails[trip.guardrail], trip) for trip in refusing)
        refused_state = state
        for event in tripped:
            refused_state = evolve(refused_state, event, at)
        return GuardrailRefusal(refusing[0], tripped, refused_state)
    extra: list[e.Event] = []
    if counted:
        windows = {key: start for key, (start, _) in counted.items()}
        extra.append(e.GuardrailCounted(windows, {key: received for key, (_, received) in counted.items()}))
    extra.extend(_event(guardrails[trip.guardrail], trip) for trip in trips)
    after = decision.state
    if after is not None and counted:  # what evolving GuardrailCounted does, without a second copy
        after = with_changes(after, guardrail_windows={**after.guardrail_windows, **counted})
    if after is not None and trips:
        at = rfc3339(now)
        for added in extra[1 if counted else 0 :]:
            after = evolve(after, added, at)
    return Accepted(decision.events + tuple(extra), decision.body, decision.created, after)


def _trip(guardrail: Guardrail, scope: str, limit: Limit, used: int, amount: int, wait_s: int) -> GuardrailTrippedError:
    return GuardrailTrippedError(guardrail.id, scope, limit.amount, limit.per, used, amount, max(1, wait_s))


def _event(guardrail: Guardrail, trip: GuardrailTrippedError) -> e.GuardrailTripped:
    return e.GuardrailTripped(
        guardrail_id=guardrail.id,
        action=guardrail.action,
        scope=trip.scope,
        currency=guardrail.currency or "",
        item_id=guardrail.item_id or "",
        amount=trip.amount,
        used=trip.used,
        limit=trip.limit,
        per=trip.per,
    )
