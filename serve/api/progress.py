"""Counters, quests and achievements: progress that unlocks and rewards in the same command."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response

from engine import commands as c
from serve.api_key_auth import ID_PATTERN, Caller, PlayerId, require, require_to_run
from serve.commanding import IDEMPOTENT, idempotency_key, run_command, run_view
from serve.problems import problem_responses
from serve.schemas import Achievements, CounterIncrement, CounterResult, Counters, QuestProgress, Quests
from serve.schemas import QuestState as QuestStateBody

router = APIRouter(prefix="/v1/projects/{projectId}/players/{playerId}", tags=["progress"])
Reader = Annotated[Caller, Depends(require("players:read"))]
Writer = Annotated[Caller, Depends(require_to_run(c.IncrementCounter, c.ResetCounter, c.ProgressQuest))]
CounterId = Annotated[str, Path(pattern=ID_PATTERN, examples=["wins"])]
QuestId = Annotated[str, Path(pattern=ID_PATTERN, examples=["daily-battles"])]
ERRORS = problem_responses(400, 401, 403, 404, 409, 422, 429)


@router.get("/counters", response_model=Counters, responses=ERRORS, summary="Get counters")
async def get_counters(request: Request, playerId: PlayerId, caller: Reader) -> object:
    """Every counter the player has touched, with its value."""
    return await run_view(request, caller, playerId, "counters")


@router.post(
    "/counters/{counterId}/increment",
    dependencies=IDEMPOTENT,
    response_model=CounterResult,
    responses=ERRORS,
    summary="Increment a counter",
)
async def increment(
    request: Request,
    playerId: PlayerId,
    counterId: CounterId,
    body: CounterIncrement,
    caller: Writer,
) -> Response:
    """Answers the new value and the achievements it unlocked (`unlocked`)."""
    command = c.IncrementCounter(counterId, body.by)
    return await run_command(request, caller, playerId, command, body.idempotencyKey)


@router.post(
    "/counters/{counterId}/reset",
    dependencies=IDEMPOTENT,
    response_model=CounterResult,
    responses=ERRORS,
    summary="Reset a counter",
)
async def reset(request: Request, playerId: PlayerId, counterId: CounterId, caller: Writer) -> Response:
    """Sets the counter back to zero; achievements already unlocked stay."""
    return await run_command(request, caller, playerId, c.ResetCounter(counterId), idempotency_key(request, None))


@router.get("/quests", response_model=Quests, responses=ERRORS, summary="Get quests")
async def get_quests(request: Request, playerId: PlayerId, caller: Reader) -> object:
    """The project's quests split into active and completed, with objective progress."""
    return await run_view(request, caller, playerId, "quests")


@router.post(
    "/quests/{questId}/progress",
    dependencies=IDEMPOTENT,
    response_model=QuestStateBody,
    responses=ERRORS,
    summary="Progress a quest",
)
async def progress_quest(
    request: Request,
    playerId: PlayerId,
    questId: QuestId,
    body: QuestProgress,
    caller: Writer,
) -> Response:
    """Advances one objective; completing the quest pays its rewards in the same command."""
    command = c.ProgressQuest(questId, body.objectiveId, body.by)
    return await run_command(request, caller, playerId, command, body.idempotencyKey)


@router.get("/achievements", response_model=Achievements, responses=ERRORS, summary="Get achievements")
async def get_achievements(request: Request, playerId: PlayerId, caller: Reader) -> object:
    """The player's unlocked achievements with their unlock times."""
    return await run_view(request, caller, playerId, "achievements")
