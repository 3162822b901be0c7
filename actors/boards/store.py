"""Where leaderboard entries live: one protocol, two implementations (Redis sorted sets when
`LUDEX_REDIS_URL` is set, else a table of the embedded SQLite store), one contract suite
(`tests/integration/test_board_store_contract.py`).

Entries are a projection of the journal (`engine.leaderboards.record_changes`): applying a
change twice is harmless (each entry remembers the last journal seq applied to it) and a store
can always be emptied and refilled from the journal (`actors.boards.rebuild`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from engine.leaderboards import BoardChange, Entry, Leaderboard


@dataclass(frozen=True)
class Ranked:
    """A player's place on a board in one period (rank is 1-based)."""

    rank: int
    player_id: str
    username: str
    score: int
    updated_at_ms: int


@dataclass(frozen=True, order=True)
class Position:
    """Where an entry sorts on its board: smaller is better (`engine.leaderboards.rank_key`)."""

    sort_key: int
    reached_ms: int
    player_id: str


@dataclass(frozen=True)
class PlayerEntry:
    """One of a player's entries, wherever it is (the player's data export)."""

    board_id: str
    period_id: str
    rank: int
    score: int
    updated_at_ms: int


def position_of(board: Leaderboard, entry: Ranked) -> Position:
    return Position(board.sort_key(entry.score), entry.updated_at_ms, entry.player_id)


@dataclass(frozen=True)
class BoardKey:
    tenant: str
    project: str
    board: Leaderboard
    period_id: str


class BoardStore(Protocol):
    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def apply(self, changes: Sequence[BoardChange]) -> None:
        """Apply durable records' changes, in journal order; a record applied before changes nothing."""
        ...

    async def page(
        self,
        key: BoardKey,
        *,
        limit: int,
        offset: int = 0,
        after: Position | None = None,
        after_rank: int | None = None,
    ) -> list[Ranked]:
        """`limit` entries best first: those ranked from `offset + 1`, or, given `after`, those that
        sort after that position (keyset paging: a deep page costs what the first one does).
        `after_rank`: the rank `after` had when it was read (a cursor's), numbering the page without
        counting what sorts before it."""
        ...

    async def around(self, key: BoardKey, entry: Ranked, *, above: int, below: int) -> list[Ranked]:
        """Up to `above` entries ranked before `entry`, `entry` itself, and up to `below` after it."""
        ...

    async def standing(self, key: BoardKey, player_id: str) -> Ranked | None:
        """The player's rank and score, or None if the player is not on the board."""
        ...

    async def count(self, key: BoardKey) -> int: ...

    async def clear(self, tenant: str, project: str) -> None:
        """Forget every board entry of a project (before a rebuild)."""
        ...

    async def entries_of(self, tenant: str, project: str, player_id: str) -> list[PlayerEntry]:
        """The player's entries on every board and period of the project (its data export)."""
        ...

    async def forget_player(self, tenant: str, project: str, player_id: str) -> int:
        """Remove the player's entries and username from every board of the project, leaving no
        bytes of them behind (erasure, docs/PRIVACY.md); answers how many entries went."""
        ...

    async def load(self, key: BoardKey, entries: Sequence[tuple[str, Entry]], usernames: dict[str, str]) -> None:
        """Write entries as they are, in bulk (benchmarks and imports; bypasses the operators)."""
        ...
