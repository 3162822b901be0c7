"""Read models of a player, in the public API's camelCase shapes. Queries and command answers
share them so a profile and a command's answer never disagree."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engine.definitions import Economy, Quest
from engine.flags import evaluate_all, traits_of
from engine.item_effects import boosts_view
from engine.state import PlayerState, QuestState


def player_view(state: PlayerState) -> dict[str, Any]:
    return {
        "playerId": state.player_id,
        "username": state.username,
        "metadata": dict(state.metadata),
        "createdAt": state.created_at,
        "updatedAt": state.updated_at,
    }


def progression_view(state: PlayerState, economy: Economy) -> dict[str, Any]:
    return {
        "xp": state.xp,
        "level": state.level,
        "currentLevelXp": economy.xp_curve.threshold(state.level),
        "nextLevelXp": economy.xp_curve.next_level_xp(state.level),
    }


def inventory_view(state: PlayerState) -> list[dict[str, Any]]:
    return [{"itemId": item, "quantity": qty} for item, qty in sorted(state.inventory.items())]


def achievements_view(state: PlayerState) -> list[dict[str, Any]]:
    return [{"achievementId": a, "unlockedAt": at} for a, at in state.achievements.items()]


def quest_view(state: PlayerState, quest: Quest) -> dict[str, Any]:
    current = state.quests.get(quest.id, QuestState())
    return {
        "questId": quest.id,
        "title": quest.title,
        "objectives": [
            {"objectiveId": o.id, "progress": current.progress.get(o.id, 0), "target": o.target}
            for o in quest.objectives
        ],
        "completed": current.completed_at is not None,
        "completedAt": current.completed_at,
    }


def quests_view(state: PlayerState, economy: Economy) -> dict[str, list[dict[str, Any]]]:
    views = [quest_view(state, quest) for quest in economy.quests.values()]
    return {
        "active": [v for v in views if not v["completed"]],
        "completed": [v for v in views if v["completed"]],
    }


def debts_view(state: PlayerState) -> dict[str, Any]:
    """`{"debts": ...}` when the player owes something (a clawback's rest), else nothing."""
    return {"debts": dict(state.debts)} if state.debts else {}


def profile_view(state: PlayerState, economy: Economy, now: datetime) -> dict[str, Any]:
    """`now` picks the boosts still running."""
    return {
        **player_view(state),
        "level": state.level,
        "xp": state.xp,
        "nextLevelXp": economy.xp_curve.next_level_xp(state.level),
        "wallet": dict(state.balances),
        **debts_view(state),
        "inventory": inventory_view(state),
        "achievements": achievements_view(state),
        "quests": quests_view(state, economy),
        "counters": dict(state.counters),
        "boosts": boosts_view(state.boosts, now),
    }


def flags_view(state: PlayerState, economy: Economy) -> dict[str, Any]:
    """The economy's flags for this player before the project's overrides (`engine/flags.py`),
    then the flags set on the player itself (a `guardrail:<id>` a guardrail raised)."""
    traits = traits_of(state.player_id, state.level, list(state.achievements), state.metadata)
    values = evaluate_all(economy.flags, traits)
    # A flag an item set for this player wins over the rollout (the project's overrides still
    # win over both); a flag the economy no longer defines is ignored, but a guardrail's
    # `guardrail:<id>` flag, which no economy defines, always shows.
    own = {flag: v for flag, v in state.flags.items() if flag in values or flag.startswith("guardrail:")}
    return {"flags": {**values, **own}}
