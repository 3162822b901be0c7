"""Which journal events move a player's level and XP, for the player index's sort by them: the
projection at commit (`actors.stores.base.player_progress`) and the migration that fills the
index of an older store from its journal read the same table."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

PROGRESS_EVENTS = {"player.xp.added": "xp", "player.levelup": "level", "player.level.updated": "level"}


def fold_progress(events: Iterable[dict[str, Any]], into: dict[str, int]) -> dict[str, int]:
    """`into` with the level and XP these events (in journal order) leave; the last one wins.
    An event without the figure (a foreign or older shape) moves nothing: a commit never fails
    over the sort index."""
    for event in events:
        name = PROGRESS_EVENTS.get(event.get("type", ""))
        value = (event.get("data") or {}).get(name) if name is not None else None
        if name is not None and isinstance(value, int) and not isinstance(value, bool):
            into[name] = value
    return into
