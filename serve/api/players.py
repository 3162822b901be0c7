"""Players and progression."""

from __future__ import annotations

import hashlib
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from engine import commands as c
from serve.api_key_auth import Caller, PlayerId, require, require_to_run
from serve.commanding import IDEMPOTENT, idempotency_key, run_command, run_view
from serve.pagination import Cursor, Limit
from serve.player_reads import IdPrefix, PlayerSort, UsernamePrefix, player_page
from serve.problems import ProblemError, problem_responses
from serve.schemas import AwardXp as AwardXpBody
from serve.schemas import CreatePlayer, Player, PlayerPage, Profile, Progression, UpdatePlayer, XpResult

router = APIRouter(prefix="/v1/projects/{projectId}/players", tags=["players"])
Reader = Annotated[Caller, Depends(require("players:read"))]
Writer = Annotated[Caller, Depends(require_to_run(c.CreatePlayer, c.UpdatePlayer, c.DeletePlayer, c.AwardXp))]
ERRORS = problem_responses(400, 401, 403, 404, 409, 422, 429)


async def check_players_quota(caller: Caller) -> None:
    """The plan's `players` quota: live players of all the tenant's projects (403 `plan-limit`)."""
    quota = (caller.plan or {}).get("players")
    counts = caller.metering.players
    if quota is None or counts is None:
        return
    if await counts.live_players(caller.tenant, limit=quota) >= quota:
        raise ProblemError("plan-limit", f"the plan allows {quota} player(s); delete some or change plan")


def count_created(caller: Caller, response: Response) -> None:
    """A player that now exists lands in this replica's cached count at once; a refusal (or the
    200 of a player that existed) is no creation and uses none of the quota."""
    counts = caller.metering.players
    if counts is not None and response.status_code == 201 and "idempotent-replayed" not in response.headers:
        counts.created(caller.tenant)


@router.post(
    "",
    dependencies=IDEMPOTENT,
    status_code=201,
    response_model=Player,
    responses={200: {"model": Player, "description": "The player exists with the same body: it, as it is."}, **ERRORS},
    summary="Create a player",
)
async def create_player(request: Request, body: CreatePlayer, caller: Writer) -> Response:
    """Creates a player. Without `playerId` an id is generated — derived from the idempotency
    key when there is one, so a retried creation finds the same player. Creating an existing
    player with the same body answers 200 with it; with another body, 409 `player-exists`."""
    await check_players_quota(caller)
    key = idempotency_key(request, body.idempotencyKey)
    player_id = body.playerId
    if player_id is None:
        seed = f"{caller.tenant}/{caller.project}/{key}" if key else uuid.uuid4().hex
        player_id = "p_" + hashlib.blake2b(seed.encode(), digest_size=10).hexdigest()
    response = await run_command(request, caller, player_id, c.CreatePlayer(body.username, body.metadata), key)
    count_created(caller, response)
    return response


@router.get("", response_model=PlayerPage, responses=ERRORS, summary="List players")
async def list_players(
    caller: Reader,
    username: Annotated[str | None, Query(max_length=64, description="Exact username.")] = None,
    usernamePrefix: UsernamePrefix = None,
    idPrefix: IdPrefix = None,
    sort: PlayerSort = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> PlayerPage:
    """Live players ordered by id or `sort`, filtered by exact username or prefixes."""
    return await player_page(
        caller.backend,
        caller.tenant,
        caller.project,
        username=username,
        username_prefix=usernamePrefix,
        id_prefix=idPrefix,
        sort=sort,
        cursor=cursor,
        limit=limit,
    )


@router.get("/{playerId}", response_model=Profile, responses=ERRORS, summary="Get a player's profile")
async def get_profile(request: Request, playerId: PlayerId, caller: Reader) -> object:
    """Everything about a player: level, XP, wallet, inventory, achievements, quests, counters."""
    return await run_view(request, caller, playerId, "profile")


@router.patch("/{playerId}", response_model=Player, responses=ERRORS, summary="Update a player")
async def update_player(request: Request, playerId: PlayerId, body: UpdatePlayer, caller: Writer) -> Response:
    """Changes the username and/or replaces the metadata."""
    return await run_command(request, caller, playerId, c.UpdatePlayer(body.username, body.metadata))


@router.delete("/{playerId}", status_code=204, responses=ERRORS, summary="Delete a player")
async def delete_player(request: Request, playerId: PlayerId, caller: Writer) -> Response:
    """Soft delete: the journal is kept, and later calls for this player answer 404."""
    return await run_command(request, caller, playerId, c.DeletePlayer())


@router.post("/{playerId}/xp", dependencies=IDEMPOTENT, response_model=XpResult, responses=ERRORS, summary="Award XP")
async def award_xp(request: Request, playerId: PlayerId, body: AwardXpBody, caller: Writer) -> Response:
    """Adds XP; one award may gain several levels (`levelsGained`)."""
    return await run_command(request, caller, playerId, c.AwardXp(body.amount, body.reason), body.idempotencyKey)


@router.get("/{playerId}/progression", response_model=Progression, responses=ERRORS, summary="Get progression")
async def get_progression(request: Request, playerId: PlayerId, caller: Reader) -> object:
    """XP, level, and the XP thresholds of the current and next level."""
    return await run_view(request, caller, playerId, "progression")
