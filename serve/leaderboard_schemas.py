"""Bodies of the leaderboard endpoints (`serve/api/leaderboards.py`)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from engine.leaderboards import MAX_SCORE
from serve.schemas import Id, IdempotencyKey, Metadata, Request

Score = Annotated[
    int,
    Field(
        strict=True,
        ge=-MAX_SCORE,
        le=MAX_SCORE,
        description="An integer within ±(2^53 - 1), exact as a double (times: post milliseconds).",
    ),
]


class ScoreSubmission(Request):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"playerId": "player-1", "score": 4200}]})
    playerId: Id
    score: Score
    metadata: Metadata = {}
    idempotencyKey: IdempotencyKey = None


class ScoreResult(BaseModel):
    boardId: str
    playerId: str
    score: int = Field(description="The player's score on the board after this submission.")
    rank: int = Field(
        description="1-based; ties go to whoever reached the score first. Always set: a score the board"
        " store did not take in answers 503 `store-unavailable` instead (retry with the same Idempotency-Key)."
    )
    periodId: str


class PeriodBody(BaseModel):
    id: str = Field(examples=["2026-W49"])
    startsAt: str | None = Field(description="Inclusive, UTC; null on a board that never resets.")
    endsAt: str | None = Field(description="Exclusive, UTC; null on a board that never resets.")


class BoardEntry(BaseModel):
    rank: int
    playerId: str
    username: str
    score: int
    updatedAt: str = Field(description="When the player reached this score (RFC 3339).")


class BoardPage(BaseModel):
    boardId: str
    period: PeriodBody
    items: list[BoardEntry]
    nextCursor: str | None


class PlayerStanding(BaseModel):
    boardId: str
    period: PeriodBody
    rank: int
    score: int
    around: list[BoardEntry] = Field(description="Up to `around` entries above and below, the player included.")


class BoardDefinition(BaseModel):
    id: str
    title: str
    metric: str
    operator: str
    order: str
    reset: str
    period: PeriodBody = Field(description="The current period.")


class BoardList(BaseModel):
    items: list[BoardDefinition]
