"""Erasure by rewriting: what of a player's journal is personal data, and its scrubbed form.

Personal data is what a caller typed about a person: the username, the metadata (of the player
and of wallet entries), free-text reasons and the request id a client chose. It is also held
outside the player's own records: the winners of a board's `leaderboard.reset` event (kept under
the board) name the player with its username, and economy health keys amounts by reason.
Everything the economy counts stays: amounts, balances, items, counters, quests, achievements,
purchases, seqs, times and event ids, and the reasons the engine writes itself
(`purchase:<sku>`, `quest:<id>`, `achievement:<id>`), which name definitions, not people.
Scrubbing never changes what a record folds to except the username and metadata, so the
journal still replays to the same balances (docs/PRIVACY.md).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

ERASED_USERNAME = ""
PERSONAL_FIELDS = ("username", "metadata", "reason")  # in event data, commands and views
# Reasons `engine.rules` writes itself: they name a definition, never a person.
_ENGINE_REASON = re.compile(r"(purchase|quest|achievement):[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}")


def is_engine_reason(reason: Any) -> bool:
    return isinstance(reason, str) and _ENGINE_REASON.fullmatch(reason) is not None


def scrub_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    """`data` (an event's data, a command, a player view) without its personal values: the
    username emptied, metadata emptied, a free-text reason emptied; other fields as they were."""
    scrubbed = dict(data)
    if isinstance(scrubbed.get("username"), str):
        scrubbed["username"] = ERASED_USERNAME
    if isinstance(scrubbed.get("metadata"), dict):
        scrubbed["metadata"] = {}
    reason = scrubbed.get("reason")
    if isinstance(reason, str) and reason and not is_engine_reason(reason):
        scrubbed["reason"] = ""
    return scrubbed


def scrub_winners(data: Mapping[str, Any], player_id: str) -> dict[str, Any]:
    """A board event's data (`leaderboard.reset`) with `player_id`'s username among the winners
    emptied; its rank, id and score stay (they are the board's, not personal)."""
    winners = data.get("winners")
    if not isinstance(winners, list):
        return dict(data)
    return {
        **data,
        "winners": [
            {**w, "username": ERASED_USERNAME} if isinstance(w, dict) and w.get("playerId") == player_id else w
            for w in winners
        ],
    }


def free_text_reasons(events: list[dict[str, Any]]) -> set[str]:
    """The reasons in a record's events that a caller typed (not the engine's own)."""
    reasons = {(event.get("data") or {}).get("reason") for event in events}
    return {r for r in reasons if isinstance(r, str) and r and not is_engine_reason(r)}


def scrub_events(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A journal record's events (`{type, data}`), scrubbed."""
    return [{**event, "data": scrub_fields(event.get("data") or {})} for event in events]


def scrub_command(command: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A journal record's command (`command_to_dict`), scrubbed; None stays None (format 1)."""
    return None if command is None else scrub_fields(command)


def scrub_public_event(event: Mapping[str, Any]) -> dict[str, Any]:
    """An Event as the API and webhooks show it (`{id, type, ..., data}`), scrubbed."""
    return {**event, "data": scrub_fields(event.get("data") or {})}


def scrub_state(state: Mapping[str, Any]) -> dict[str, Any]:
    """A snapshot's state (`state_to_dict`), scrubbed."""
    return {**state, "username": ERASED_USERNAME, "metadata": {}}


def holds_personal_data(value: Any) -> bool:
    """Whether scrubbing `value` (a mapping) would change it."""
    return isinstance(value, Mapping) and scrub_fields(value) != dict(value)
