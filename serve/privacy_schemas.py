"""Shapes of the player privacy and audit replay routes (`serve/api/privacy.py`)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from serve.event_schemas import Event
from serve.schemas import ActiveBoost, InventoryLine, LedgerEntry, Profile, Quests, Receipt, Unlocked


class JournalEvent(BaseModel):
    id: str = Field(description="The event's stable id, as the event feed and webhooks show it.")
    type: str
    data: dict[str, Any]


class JournalRecord(BaseModel):
    """One accepted command: what was asked, by which request, and the events it caused."""

    seq: int = Field(description="The player's journal sequence number (1, 2, ...).")
    recordedAt: str = Field(description="When the record was made durable.")
    occurredAt: str = Field(description="The time its events carry.")
    format: int = Field(description="The journal format the record was written in.")
    command: dict[str, Any] | None = Field(
        description="The command (`op` and its fields, camelCase); null for records written before 0.2."
    )
    idempotencyKey: str | None = Field(description="Null when none was sent, after retention or after an erasure.")
    requestId: str | None
    events: list[JournalEvent]


class JournalPage(BaseModel):
    items: list[JournalRecord]
    nextCursor: str | None


class PlayerStateAt(Profile):
    """The Profile exactly as it was after record `seq`, recomputed from the journal."""

    seq: int = Field(description="The journal record the state is taken after.")
    occurredAt: str = Field(description="That record's time.")
    economyVersion: int = Field(description="The economy version in force at that time.")
    deleted: bool


class Erasure(BaseModel):
    playerId: str
    erasedAt: str = Field(description="When the player was first erased; repeating an erasure keeps it.")
    seq: int = Field(description="The player's last journal record (its `player.deleted`).")
    repeated: bool = Field(description="True when the player had been erased before.")


class ExportProfile(BaseModel):
    playerId: str
    username: str
    metadata: dict[str, Any]
    createdAt: str | None
    updatedAt: str | None
    level: int
    xp: int


class PlayerExport(BaseModel):
    """Everything Ludex keeps about one player, as one JSON document (streamed)."""

    exportedAt: str
    tenantId: str
    projectId: str
    playerId: str
    seq: int
    deleted: bool
    erasedAt: str | None
    profile: ExportProfile
    wallet: dict[str, int]
    inventory: list[InventoryLine]
    quests: Quests
    achievements: list[Unlocked]
    counters: dict[str, int]
    boosts: list[ActiveBoost] = Field(
        default_factory=list, description="Every boost the player's state keeps (item effects), ended ones too."
    )
    flags: dict[str, bool | int | str] = Field(
        default_factory=dict, description="Flag values set for this player by item effects."
    )
    leaderboards: list[dict[str, Any]] = Field(
        description="The player's entries on every board and period it is on: `{boardId, periodId, rank, score,"
        " updatedAt}`; none once it is deleted."
    )
    ledger: list[LedgerEntry]
    purchases: list[Receipt]
    events: list[Event]
