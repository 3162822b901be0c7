"""The backoffice's player lookup: support staff and studio members read a player's profile and
ledger with their dashboard sign-in (`players:read`), no API key needed. Read-only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from serve.api_key_auth import PlayerId, ProjectId, tenant_id
from serve.backoffice import Connected
from serve.bearer_tokens import CurrentPrincipal, ensure_can
from serve.pagination import Cursor, Limit
from serve.player_reads import ledger_page, player_page, player_view
from serve.problems import problem_responses
from serve.schemas import LedgerPage, PlayerPage, Profile

router = APIRouter(prefix="/v1/client/projects/{projectId}/players", tags=["client"])
Tenant = Annotated[str, Depends(tenant_id)]
ERRORS = problem_responses(400, 401, 403, 404, 422, 429)


async def _readable(principal: CurrentPrincipal, connected: Connected, tenant: str, project: str) -> None:
    ensure_can(principal, "players:read", tenant, project)
    await connected.control.live_project(tenant, project)


@router.get("", response_model=PlayerPage, responses=ERRORS, summary="Look up players")
async def list_players(
    projectId: ProjectId,
    tenant: Tenant,
    principal: CurrentPrincipal,
    connected: Connected,
    username: Annotated[str | None, Query(max_length=64, description="Exact username.")] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> PlayerPage:
    """The project's live players ordered by id, filtered by exact username, as the game API lists them."""
    await _readable(principal, connected, tenant, projectId)
    return await player_page(connected, tenant, projectId, username=username, cursor=cursor, limit=limit)


@router.get("/{playerId}", response_model=Profile, responses=ERRORS, summary="Look up a player")
async def get_player(
    projectId: ProjectId, playerId: PlayerId, tenant: Tenant, principal: CurrentPrincipal, connected: Connected
) -> object:
    """The player's profile: level, XP, wallet, inventory, achievements, quests, counters."""
    await _readable(principal, connected, tenant, projectId)
    return await player_view(connected, tenant, projectId, playerId, "profile")


@router.get("/{playerId}/wallet/history", response_model=LedgerPage, responses=ERRORS, summary="Look up a ledger")
async def get_ledger(
    projectId: ProjectId,
    playerId: PlayerId,
    tenant: Tenant,
    principal: CurrentPrincipal,
    connected: Connected,
    currency: Annotated[str | None, Query(max_length=64, description="Only this currency.")] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> LedgerPage:
    """The player's credits and debits, oldest first."""
    await _readable(principal, connected, tenant, projectId)
    return await ledger_page(connected, tenant, projectId, playerId, currency=currency, cursor=cursor, limit=limit)
