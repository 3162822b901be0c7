"""`GET /v1/client/projects/{projectId}/leaderboards/{boardId}`: a board's standings for the
dashboard (bearer token, `players:read`: entries carry usernames), the same page the game API's
`GET /v1/projects/{projectId}/leaderboards/{boardId}` answers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from serve.api.leaderboards import BoardId, PeriodQuery, board_page
from serve.backoffice import InProject, in_project
from serve.leaderboard_schemas import BoardPage
from serve.problems import problem_responses

router = APIRouter(prefix="/v1/client", tags=["leaderboards"])
ERRORS = problem_responses(400, 401, 403, 404, 409, 422, 429)


@router.get(
    "/projects/{projectId}/leaderboards/{boardId}",
    response_model=BoardPage,
    responses=ERRORS,
    summary="Read a leaderboard (backoffice)",
)
async def read_board_backoffice(
    boardId: BoardId,
    acting: Annotated[InProject, in_project("players:read")],
    period: PeriodQuery = "current",
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> object:
    """One page of a period's standings, best first (`period=current`, `previous` or a period id),
    as the game API reads it; for support staff without a project key. 404 `leaderboard-not-found`
    for a board the economy does not define, `period-not-found` for an unknown period."""
    return await board_page(acting.backend, acting.tenant, acting.project, boardId, period, cursor, limit)
