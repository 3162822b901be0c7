"""Reading players, shared by the game API (an API key) and the backoffice's player lookup (a
dashboard user with `players:read`): one implementation, two doors, the same answers."""

from __future__ import annotations

from typing import Any

from serve.backend import Backend
from serve.pagination import decode_cursor, encode_cursor
from serve.problems import ProblemError
from serve.schemas import LedgerEntry, LedgerPage, Player, PlayerPage


async def player_view(backend: Backend, tenant: str, project: str, player_id: str, name: str) -> Any:
    """A view of one player as the shard host has it (`profile`, `player`, `wallet`, ...), or its problem."""
    outcome = await backend.directory.view(tenant, project, player_id, name)
    if outcome.refusal is not None:
        raise outcome.refusal.as_error()
    return outcome.body


async def player_page(
    backend: Backend, tenant: str, project: str, *, username: str | None, cursor: str | None, limit: int
) -> PlayerPage:
    """Live players ordered by id, filtered by exact username."""
    after = decode_cursor(cursor, None)
    if after is not None and not isinstance(after, str):
        raise ProblemError("invalid-cursor", "the cursor is not one this API returned")
    rows = await backend.store.list_players(tenant, project, username=username, after=after, limit=limit + 1)
    items = [
        Player(
            playerId=r.player_id,
            username=r.username,
            metadata=r.metadata,
            createdAt=r.created_at,
            updatedAt=r.updated_at,
        )
        for r in rows[:limit]
    ]
    return PlayerPage(items=items, nextCursor=encode_cursor(rows[limit - 1].player_id) if len(rows) > limit else None)


async def ledger_page(
    backend: Backend,
    tenant: str,
    project: str,
    player_id: str,
    *,
    currency: str | None,
    cursor: str | None,
    limit: int,
) -> LedgerPage:
    """Every credit and debit, oldest first; the deltas of all pages sum to the balance."""
    await player_view(backend, tenant, project, player_id, "player")
    after = decode_cursor(cursor, [0, -1])
    if not (isinstance(after, list) and len(after) == 2 and all(isinstance(x, int) for x in after)):
        raise ProblemError("invalid-cursor", "the cursor is not one this API returned")
    entries = await backend.directory.ledger(
        tenant, project, player_id, currency=currency, after=tuple(after), limit=limit + 1
    )
    page = entries[:limit]
    next_cursor = encode_cursor(page[-1]["position"]) if len(entries) > limit else None
    return LedgerPage(items=[LedgerEntry(**entry) for entry in page], nextCursor=next_cursor)
