"""The event as the API shows it (`Event`, `EventPage`): read by the events route and by the
privacy export, which lists a player's events. Apart from the route so that a schema module
never imports a router."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

EVENT_EXAMPLE: dict[str, Any] = {
    "id": "evt_5c1f0a8e2b7d44e19a3c6f10",
    "type": "wallet.credited",
    "tenantId": "demo",
    "projectId": "demo",
    "playerId": "player-1",
    "seq": 3,
    "data": {"currency": "coins", "amount": 100, "balanceAfter": 350, "reason": "match-won", "metadata": {}},
    "occurredAt": "2026-03-01T12:00:00.000Z",
}


class Event(BaseModel):
    """Something that happened to a player, as recorded in the journal. `id` is stable (the
    same event always has the same id: deduplicate on it); `seq` is the player's journal
    sequence number; events of one command share their `seq` and `occurredAt`."""

    model_config = ConfigDict(json_schema_extra={"examples": [EVENT_EXAMPLE]})
    id: str = Field(description="The event's stable id.")
    type: str = Field(description="What happened, e.g. `wallet.credited`.")
    tenantId: str
    projectId: str
    playerId: str | None = Field(description="The player the event is about.")
    seq: int = Field(description="The player's journal sequence number of the command that caused it.")
    data: dict[str, Any] = Field(description="The event's fields (camelCase), depending on `type`.")
    occurredAt: str = Field(description="When, RFC 3339 UTC with milliseconds.")


class EventPage(BaseModel):
    """One page of events in their global order; `nextCursor` is null on the last page."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [EVENT_EXAMPLE], "nextCursor": "MTIz"}]})
    items: list[Event]
    nextCursor: str | None
