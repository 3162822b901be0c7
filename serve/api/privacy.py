"""Player privacy and audit replay for studios (dashboard sign-in): the export of everything
kept about a player (streamed), the erasure of its personal data, its journal page by page, and
its state after any record. docs/PRIVACY.md, docs/API.md."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.responses import StreamingResponse

from actors.privacy import Erased, PlayerPrivacy, personal_data_holders
from serve.api_key_auth import PlayerId
from serve.backoffice import InProject, in_project
from serve.pagination import Cursor, Limit, decode_cursor, encode_cursor
from serve.privacy_schemas import Erasure, JournalPage, JournalRecord, PlayerExport, PlayerStateAt
from serve.problems import ProblemError, problem_responses

router = APIRouter(prefix="/v1/client/projects/{projectId}/players/{playerId}", tags=["client"])
Reader = Annotated[InProject, in_project("players:read")]
Eraser = Annotated[InProject, in_project("players:erase")]
ERRORS = problem_responses(400, 401, 403, 404, 409, 422, 429)


def _privacy(acting: InProject) -> PlayerPrivacy:
    return PlayerPrivacy(acting.backend.store, holders=personal_data_holders(acting.backend.boards))


def _no_player(player_id: str) -> ProblemError:
    return ProblemError("player-not-found", f"no player '{player_id}' in this project")


@router.get(
    "/export",
    response_model=None,
    responses={200: {"model": PlayerExport, "description": "One JSON document, streamed."}, **ERRORS},
    summary="Export a player's data",
)
async def export_player(playerId: PlayerId, acting: Reader) -> Response:
    """Everything kept about the player (profile, wallet, inventory, quests, achievements, counters,
    leaderboard entries, ledger, purchases and every event), as one JSON document streamed from the
    journal page by page: a player with 100k events is never built in memory. Deleted and erased
    players export too (what is left of them)."""
    chunks = await _privacy(acting).export(acting.tenant, acting.project, playerId)
    if chunks is None:
        raise _no_player(playerId)
    disposition = f'attachment; filename="{playerId}.json"'
    return StreamingResponse(chunks, media_type="application/json", headers={"content-disposition": disposition})


@router.post("/erase", response_model=Erasure, responses=ERRORS, summary="Erase a player's personal data")
async def erase_player(playerId: PlayerId, acting: Eraser) -> Erasure:
    """Deletes the player and rewrites its personal data (username, metadata, free-text reasons
    and entry metadata) in every store: journal, snapshots, player index, event feed, keyed
    answers, webhook deliveries. Balances, counts and reports stay; the journal still replays.
    Idempotent (a repeat answers the first `erasedAt`) and audited; the game API answers 404 for
    the player afterwards."""
    request_id = getattr(acting.request.state, "request_id", None)
    directory, tenant, project = acting.backend.directory, acting.tenant, acting.project
    erased = await _privacy(acting).erase(directory, tenant, project, playerId, request_id)
    if not isinstance(erased, Erased):
        raise erased.as_error()
    await acting.record("player.erase", f"{project}/{playerId}", before=None, after=erased.public())
    return Erasure(**erased.public())


@router.get("/journal", response_model=JournalPage, responses=ERRORS, summary="Read a player's journal")
async def read_journal(playerId: PlayerId, acting: Reader, cursor: Cursor = None, limit: Limit = 50) -> JournalPage:
    """The player's journal, oldest first: each accepted command with its idempotency key and
    request id, and the events it produced. Answers "why does this player have 405 coins?"."""
    after = decode_cursor(cursor, 0)
    if isinstance(after, bool) or not isinstance(after, int) or not 0 <= after < 2**53:
        raise ProblemError("invalid-cursor", "the cursor is not one this API returned")
    found = await _privacy(acting).journal_page(acting.tenant, acting.project, playerId, after=after, limit=limit)
    if found is None:
        raise _no_player(playerId)
    entries, next_seq = found
    return JournalPage(
        items=[JournalRecord(**entry) for entry in entries],
        nextCursor=None if next_seq is None else encode_cursor(next_seq),
    )


@router.get("/state", response_model=PlayerStateAt, responses=ERRORS, summary="A player's state at a record")
async def state_at(
    playerId: PlayerId,
    acting: Reader,
    seq: Annotated[int, Query(ge=1, le=2**53 - 1, description="A journal record's `seq`.")],
) -> PlayerStateAt:
    """The profile exactly as it was after journal record `seq`, recomputed by the engine from the
    journal, with the economy version in force at that record's time."""
    view = await _privacy(acting).state_at(acting.tenant, acting.project, playerId, seq)
    if view is None:
        raise ProblemError("not-found", f"player '{playerId}' has no journal record {seq}")
    return PlayerStateAt(**view)
