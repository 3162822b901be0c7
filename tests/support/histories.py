"""Generated journals for the what-if tests and benchmark: players sending a seeded mix of
commands to the demo economy, decided by the real rules and recorded as the pipeline records
them (`JournalRecord` with events and command), so a replay has true history to compare with."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from actors.stores.base import JournalRecord
from engine.commands import (
    AwardXp,
    Command,
    ConsumeItem,
    CreatePlayer,
    Credit,
    IncrementCounter,
    ProgressQuest,
    Purchase,
    command_to_dict,
)
from engine.definitions import Economy
from engine.events import event_to_dict
from engine.identity import player_key
from engine.rules import Accepted, Context, decide, rfc3339, state_after
from engine.state import PlayerState

START = datetime(2026, 3, 1, tzinfo=UTC)


def _command(rng: random.Random) -> Command:
    roll = rng.random()
    if roll < 0.25:
        return AwardXp(rng.randint(10, 120), "match")
    if roll < 0.45:
        return Credit("coins", rng.randint(20, 150), "match-reward")
    if roll < 0.60:
        return Purchase("potion-pack", rng.randint(1, 2))
    if roll < 0.70:
        return ConsumeItem("potion", 1)
    if roll < 0.80:
        return IncrementCounter("wins", 1)
    if roll < 0.90:
        return ProgressQuest("daily-battles", "battles", 1)
    if roll < 0.95:
        return Credit("gems", 10, "iap")
    return Purchase("starter-bundle")


def history(
    economy: Economy,
    *,
    players: int,
    commands: int,
    days: int = 7,
    seed: int = 1,
    tenant: str = "t",
    project: str = "p",
) -> Iterator[tuple[str, JournalRecord]]:
    """`(playerId, record)` pairs, player after player, each player's records in seq order;
    about `commands` commands in all over `days` days from `START` (refused ones leave no record,
    as in the pipeline)."""
    rng = random.Random(seed)
    per_player = max(1, commands // players)
    span_ms = days * 86_400_000
    for index in range(players):
        player_id = f"p{index:06d}"
        entity = player_key(tenant, project, player_id)
        state = PlayerState(player_id=player_id)
        moments = sorted(rng.randrange(span_ms) for _ in range(per_player))
        for position, offset in enumerate(moments):
            now = START + timedelta(milliseconds=offset)
            command = CreatePlayer(player_id) if position == 0 else _command(rng)
            decision = decide(state, command, Context(now=now, economy=economy, entity=entity))
            if not isinstance(decision, Accepted) or not decision.events:
                continue
            occurred_at = rfc3339(now)
            seq = state.seq + 1
            state = state_after(state, decision, seq, occurred_at)
            events = [event_to_dict(event) for event in decision.events]
            yield player_id, JournalRecord(entity, seq, events, occurred_at, offset, command=command_to_dict(command))
