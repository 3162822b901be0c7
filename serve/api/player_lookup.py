"""The backoffice's player lookup: support staff and studio members read a player's profile and
ledger with their dashboard sign-in (`players:read`), no API key needed. Read-only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from serve.api_key_auth import PlayerId
from serve.backoffice import InProject, in_project
from serve.pagination import Cursor, Limit
from serve.player_reads import IdPrefix, PlayerSort, UsernamePrefix, ledger_page, player_page, player_view
from serve.problems import problem_responses
from serve.schemas import LedgerPage, PlayerPage, Profile

router = APIRouter(prefix="/v1/client/projects/{projectId}/players", tags=["client"])
Reader = Annotated[InProject, in_project("players:read")]
ERRORS = problem_responses(400, 401, 403, 404, 409, 422, 429)


@router.get("", response_model=PlayerPage, responses=ERRORS, summary="Look up players")
async def list_players(
    acting: Reader,
    username: Annotated[str | None, Query(max_length=64, description="Exact username.")] = None,
    usernamePrefix: UsernamePrefix = None,
    idPrefix: IdPrefix = None,
    sort: PlayerSort = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> PlayerPage:
    """The project's live players ordered by id or `sort`, filtered by exact username or prefixes, as the
    game API lists them."""
    return await player_page(
        acting.backend,
        acting.tenant,
        acting.project,
        username=username,
        username_prefix=usernamePrefix,
        id_prefix=idPrefix,
        sort=sort,
        cursor=cursor,
        limit=limit,
    )


@router.get("/{playerId}", response_model=Profile, responses=ERRORS, summary="Look up a player")
async def get_player(playerId: PlayerId, acting: Reader) -> object:
    """The player's profile: level, XP, wallet, inventory, achievements, quests, counters."""
    return await player_view(acting.backend, acting.tenant, acting.project, playerId, "profile")


@router.get("/{playerId}/wallet/history", response_model=LedgerPage, responses=ERRORS, summary="Look up a ledger")
async def get_ledger(
    playerId: PlayerId,
    acting: Reader,
    currency: Annotated[str | None, Query(max_length=64, description="Only this currency.")] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> LedgerPage:
    """The player's credits and debits, oldest first."""
    return await ledger_page(
        acting.backend, acting.tenant, acting.project, playerId, currency=currency, cursor=cursor, limit=limit
    )
