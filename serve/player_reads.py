"""Reading players, shared by the game API (an API key) and the backoffice's player lookup (a
dashboard user with `players:read`): one implementation, two doors, the same answers."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any, Literal

from fastapi import Query

from actors.stores.base import PLAYER_SORTS, PlayerSearch
from serve.backend import Backend
from serve.pagination import decode_cursor, encode_cursor
from serve.problems import ProblemError
from serve.schemas import LedgerEntry, LedgerPage, PlayerPage, PlayerSummary


async def player_view(backend: Backend, tenant: str, project: str, player_id: str, name: str) -> Any:
    """A view of one player as the shard host has it (`profile`, `player`, `wallet`, ...), or its problem."""
    outcome = await backend.directory.view(tenant, project, player_id, name)
    if outcome.refusal is not None:
        raise outcome.refusal.as_error()
    return outcome.body


PlayerSort = Annotated[
    Literal[
        "id", "-id", "username", "-username", "createdAt", "-createdAt", "updatedAt", "-updatedAt", "level", "-level"
    ]
    | Literal["xp", "-xp"]
    | None,
    Query(
        description="Order by a field (ties by id); a leading `-` sorts descending; each order walks an index."
        " Default: by id, or by username with `usernamePrefix`."
    ),
]
UsernamePrefix = Annotated[
    str | None, Query(min_length=1, max_length=64, description="Only usernames starting with this (case-sensitive).")
]
IdPrefix = Annotated[str | None, Query(min_length=1, max_length=64, description="Only player ids starting with this.")]


async def player_page(
    backend: Backend,
    tenant: str,
    project: str,
    *,
    username: str | None,
    cursor: str | None,
    limit: int,
    username_prefix: str | None = None,
    id_prefix: str | None = None,
    sort: str | None = None,
) -> PlayerPage:
    """Live players in `sort` order (by id, or by username when searching by its prefix, so
    the search walks the username index), filtered by exact username or prefixes;
    keyset-paginated on (field, id), so pages stay consistent while players come and go."""
    sort = sort or ("username" if username_prefix else "id")
    field = sort.removeprefix("-")
    search = PlayerSearch(username_prefix, id_prefix, None if field == "id" else field, sort.startswith("-"))
    after = decode_cursor(cursor, None)
    if search.sort is None and after is not None and not isinstance(after, str):
        raise ProblemError("invalid-cursor", "the cursor is not one this API returned")
    if search.sort is not None and after is not None:
        if not (isinstance(after, list) and len(after) == 2 and isinstance(after[1], str)):
            raise ProblemError("invalid-cursor", "the cursor is not one this API returned (or another sort's)")
        search = replace(search, after_value=after[0])
        after = after[1]
    rows = await backend.store.list_players(
        tenant, project, username=username, after=after, limit=limit + 1, search=search
    )
    items = [
        PlayerSummary(
            playerId=r.player_id,
            username=r.username,
            metadata=r.metadata,
            createdAt=r.created_at,
            updatedAt=r.updated_at,
            level=r.level,
            xp=r.xp,
        )
        for r in rows[:limit]
    ]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        position = last.player_id if search.sort is None else [getattr(last, PLAYER_SORTS[search.sort]), last.player_id]
        next_cursor = encode_cursor(position)
    return PlayerPage(items=items, nextCursor=next_cursor)


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
