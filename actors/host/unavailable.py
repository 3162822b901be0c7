"""The answer for "nothing was decided, try again": a store read failed, a write failed, or
another host changed what we were about to change. Every part of the host answers it alike."""

from __future__ import annotations

from engine.outcomes import Outcome, Refusal

UNAVAILABLE = "entity-unavailable"


def unavailable_outcome(reason: str) -> Outcome:
    """Nothing was decided: the caller may retry (503)."""
    return Outcome.refused(Refusal(UNAVAILABLE, reason))
