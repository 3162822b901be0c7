"""Leaderboards: boards the economy defines, read from the board store (Redis or embedded) and,
for `submitted` boards, fed by scores that are journaled commands of the player (so they are
idempotent and rebuilt from the journal like every other board). Reads need `players:read`,
submissions `players:write`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from actors.boards.store import BoardKey, Position, Ranked, position_of
from engine import commands as c
from engine.definitions import leaderboards_of
from engine.errors import economy_missing_detail
from engine.identity import player_key
from engine.leaderboards import MAX_AROUND, MAX_SCORE, Leaderboard, Period, period_at, resolve_period
from engine.rules import rfc3339
from serve.api_key_auth import ID_PATTERN, Caller, PlayerId, require, require_to_run
from serve.backend import Backend
from serve.commanding import IDEMPOTENT, execute_command, idempotency_key, outcome_response
from serve.leaderboard_schemas import BoardList, BoardPage, PlayerStanding, ScoreResult, ScoreSubmission
from serve.pagination import decode_cursor, encode_cursor
from serve.problems import ProblemError, problem_responses

router = APIRouter(prefix="/v1/projects/{projectId}/leaderboards", tags=["leaderboards"])
Reader = Annotated[Caller, Depends(require("players:read", sessions=True))]  # the catalog and boards: sessions too
Writer = Annotated[Caller, Depends(require_to_run(c.SubmitScore))]
BoardId = Annotated[str, Path(pattern=ID_PATTERN, examples=["high-score"])]
PeriodQuery = Annotated[
    str,
    Query(
        max_length=32,
        description="`current`, `previous` (the last ended period, archived) or a period id "
        "(`all`, `2026-11-30`, `2026-W49`, `2026-11`).",
    ),
]
ERRORS = problem_responses(400, 401, 403, 404, 409, 422, 429, 503)


def _now() -> datetime:
    return datetime.now(UTC)


async def boards_in(backend: Backend, tenant: str, project: str) -> dict[str, Leaderboard]:
    document = await backend.directory.economy_document(tenant, project)
    if document is None:
        raise ProblemError("economy-not-defined", economy_missing_detail(project))
    return leaderboards_of(document)


async def boards_of(caller: Caller) -> dict[str, Leaderboard]:
    return await boards_in(caller.backend, caller.tenant, caller.project)


async def board_in(backend: Backend, tenant: str, project: str, board_id: str) -> Leaderboard:
    board = (await boards_in(backend, tenant, project)).get(board_id)
    if board is None:
        raise ProblemError("leaderboard-not-found", f"leaderboard '{board_id}' is not defined in this project")
    return board


async def board_of(caller: Caller, board_id: str) -> Leaderboard:
    return await board_in(caller.backend, caller.tenant, caller.project, board_id)


def period_of(board: Leaderboard, requested: str) -> Period:
    period = resolve_period(board, requested, _now())
    if period is None:
        raise ProblemError(
            "period-not-found", f"leaderboard '{board.id}' has no period '{requested}' (it resets {board.reset})"
        )
    return period


def entry_body(entry: Ranked) -> dict[str, Any]:
    return {
        "rank": entry.rank,
        "playerId": entry.player_id,
        "username": entry.username,
        "score": entry.score,
        "updatedAt": rfc3339(datetime.fromtimestamp(entry.updated_at_ms / 1000, UTC)),
    }


def _boards(caller: Caller) -> Any:
    return caller.backend.boards


@router.get("", response_model=BoardList, responses=ERRORS, summary="List leaderboards")
async def list_boards(caller: Reader) -> object:
    """The project's boards as its economy defines them, each with its current period."""
    now = _now()
    return {
        "items": [
            {**board.to_document(), "period": period_at(board.reset, now).to_document()}
            for board in (await boards_of(caller)).values()
        ]
    }


@router.get("/{boardId}", response_model=BoardPage, responses=ERRORS, summary="Read a leaderboard")
async def read_board(
    caller: Reader,
    boardId: BoardId,
    period: PeriodQuery = "current",
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> object:
    """One page of a period's entries, best first: `items[].rank` is 1-based, ties ranked by who
    reached the score first. Ended periods stay readable (`period=previous` or an id)."""
    return await board_page(caller.backend, caller.tenant, caller.project, boardId, period, cursor, limit)


async def board_page(
    backend: Backend, tenant: str, project: str, board_id: str, period: str, cursor: str | None, limit: int
) -> dict[str, Any]:
    """A `BoardPage` body: the game API and the backoffice's read route answer the same page."""
    board = await board_in(backend, tenant, project, board_id)
    chosen = period_of(board, period)
    after, after_rank = _decode_position(cursor)
    key = BoardKey(tenant, project, board, chosen.id)
    entries = await backend.boards.page(key, limit=limit + 1, after=after, after_rank=after_rank)
    shown = entries[:limit]
    more = len(entries) > limit
    return {
        "boardId": board.id,
        "period": chosen.to_document(),
        "items": [entry_body(entry) for entry in shown],
        "nextCursor": _encode_position(position_of(board, shown[-1]), shown[-1].rank) if more else None,
    }


def _encode_position(at: Position, rank: int) -> str:
    return encode_cursor([at.sort_key, at.reached_ms, at.player_id, rank])


def _decode_position(cursor: str | None) -> tuple[Position | None, int | None]:
    """A page's cursor is the position and rank of its last entry: the next page starts after it
    and is numbered from it, however deep (a cursor from another board or period still only
    selects positions of this one)."""
    value = decode_cursor(cursor, None)
    if value is None:
        return None, None
    valid = (
        isinstance(value, list)
        and len(value) == 4
        and all(isinstance(value[i], int) and not isinstance(value[i], bool) for i in (0, 1, 3))
        and abs(value[0]) <= MAX_SCORE
        and 0 <= value[1] < 10**13
        and isinstance(value[2], str)
        and len(value[2]) <= 64
        and 1 <= value[3] <= MAX_SCORE
    )
    if not valid:
        raise ProblemError("invalid-cursor", "the cursor is not one this API returned")
    return Position(value[0], value[1], value[2]), value[3]


@router.get("/{boardId}/players/{playerId}", response_model=PlayerStanding, responses=ERRORS, summary="A player's rank")
async def read_standing(
    caller: Reader,
    boardId: BoardId,
    playerId: PlayerId,
    period: PeriodQuery = "current",
    around: Annotated[int, Query(ge=0, le=MAX_AROUND, description="Entries to show above and below.")] = 0,
) -> object:
    """The player's rank and score, and the entries `around` it (fewer at the top and bottom
    edges). 404 `not-ranked` when the player has no entry in that period."""
    board = await board_of(caller, boardId)
    chosen = period_of(board, period)
    key = BoardKey(caller.tenant, caller.project, board, chosen.id)
    standing = await _boards(caller).standing(key, playerId)
    if standing is None:
        raise ProblemError("not-ranked", f"player '{playerId}' has no score on '{boardId}' in period '{chosen.id}'")
    neighbours: list[Ranked] = []
    if around:
        neighbours = await _boards(caller).around(key, standing, above=around, below=around)
    return {
        "boardId": board.id,
        "period": chosen.to_document(),
        "rank": standing.rank,
        "score": standing.score,
        "around": [entry_body(entry) for entry in neighbours],
    }


@router.post(
    "/{boardId}/scores",
    dependencies=IDEMPOTENT,
    response_model=ScoreResult,
    responses=ERRORS,
    summary="Submit a score",
)
async def submit_score(request: Request, caller: Writer, boardId: BoardId, body: ScoreSubmission) -> Response:
    """Posts a score to a `submitted` board (409 `not-submittable` on a board the
    economy feeds). The score is a journaled command of the player: with an Idempotency-Key a
    retry counts once. The answer is the player's score and rank after it (the board includes it);
    503 `store-unavailable` when the board store did not take the score in (it is journaled:
    `ludex leaderboards rebuild` ranks it, and a keyed retry answers once it is ranked)."""
    command = c.SubmitScore(boardId, body.score, body.metadata)
    outcome = await execute_command(request, caller, body.playerId, command, body.idempotencyKey)
    if not outcome.ok:
        return outcome_response(request, outcome)
    answer = dict(outcome.body)
    headers = {"Idempotent-Replayed": "true"} if outcome.replayed else {}
    if outcome.replayed and "rank" in answer:  # the answer the first request got, amended below
        return JSONResponse(answer, status_code=200, headers=headers)
    board = await board_of(caller, boardId)
    standing = await _boards(caller).standing(
        BoardKey(caller.tenant, caller.project, board, answer["periodId"]), body.playerId
    )
    if standing is None:  # the board write failed (logged, counted): the score is journaled, not ranked
        raise ProblemError(
            "store-unavailable",
            f"the score is recorded but not on '{boardId}' yet (its store failed): retry with the same"
            " Idempotency-Key, which does not count it twice",
        )
    answer["score"], answer["rank"] = standing.score, standing.rank
    key = idempotency_key(request, body.idempotencyKey)
    if key is not None:
        # The key remembers this answer, rank and all: a replay answers it, not today's standing.
        entity = player_key(caller.tenant, caller.project, body.playerId)
        await caller.backend.store.amend_outcome(entity, key, {"ok": True, "created": False, "body": answer})
    return JSONResponse(answer, status_code=200, headers=headers)
