"""Leaderboards embedded in the SQLite store's file (tables created by a schema step in
`actors/stores/migrations.py`), for deployments without Redis.

In a shard host whose store is this file, changes are applied on the store's writer thread
(`SqliteStore.run_derived`: between journal commits, without an fsync of their own); elsewhere
(the rebuild tool, a file of its own beside MongoDB) on a writer connection of its own with
`synchronous=OFF`: entries are a projection the journal can always rebuild. Reads use a reader
connection. Pages are index ranges on `(board, period, sort_key, reached_ms, player_id)`; a rank
is read from the prefix counts of `actors/boards/counts.py` in O(log n), kept in the same
transaction as the entries they count.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from actors.boards import counts as board_counts
from actors.boards.store import BoardKey, PlayerEntry, Position, Ranked, position_of
from actors.stores.migrations import SQLITE_LEADERBOARD_SCHEMA, write_transaction
from actors.stores.sqlite import SqliteStore, _Connection
from engine.leaderboards import BoardChange, Entry, apply_observation

T = TypeVar("T")
_WHERE = "tenant = ? AND project = ? AND board = ? AND period = ?"


def _scope(key: BoardKey) -> tuple[str, str, str, str]:
    return (key.tenant, key.project, key.board.id, key.period_id)


class SqliteBoardStore:
    def __init__(self, path: str | Path, *, own_file: bool = False) -> None:
        """`own_file`: a file of its own (next to a MongoDB deployment), whose tables this creates;
        otherwise the SQLite store's file, whose schema steps created them."""
        self.path = Path(path)
        self.own_file = own_file
        self.store: SqliteStore | None = None  # the store whose writer thread applies changes, if shared
        self._writer: _Connection | None = None
        self._reader: _Connection | None = None

    async def open(self) -> None:
        pragmas = ["PRAGMA busy_timeout=10000"]
        if self.own_file:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            pragmas = [*pragmas, "PRAGMA journal_mode=WAL", *SQLITE_LEADERBOARD_SCHEMA]
            await asyncio.to_thread(_count_own_file, self.path)  # once: fills the counts of an older file
        # secure_delete: an erased player's rows leave no bytes behind in the file (docs/PRIVACY.md).
        writer = _Connection(self.path, "ludex-boards", [*pragmas, "PRAGMA synchronous=OFF", "PRAGMA secure_delete=ON"])
        reader = _Connection(self.path, "ludex-boards-read", pragmas)
        await writer.open()
        await reader.open()
        self._writer, self._reader = writer, reader

    async def close(self) -> None:
        for connection in (self._writer, self._reader):
            if connection is not None:
                await connection.close()
        self._writer = self._reader = None

    def _connections(self) -> tuple[_Connection, _Connection]:
        assert self._writer is not None and self._reader is not None, "board store is not open"
        return self._writer, self._reader

    def share_writer(self, store: object) -> None:
        """In a shard host whose SQLite store is this file: apply changes on the store's writer
        thread (`SqliteStore.run_derived`), between journal commits instead of against them."""
        if isinstance(store, SqliteStore) and store.path.resolve() == self.path.resolve():
            self.store = store

    async def apply(self, changes: Sequence[BoardChange]) -> None:
        if changes:
            await self._write(lambda conn: _apply(conn, changes))

    async def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self.store is not None:
            return await self.store.run_derived(fn)
        return await self._connections()[0].run(fn)

    async def entries_of(self, tenant: str, project: str, player_id: str) -> list[PlayerEntry]:
        def read(conn: sqlite3.Connection) -> list[PlayerEntry]:
            rows = conn.execute(
                "SELECT board, period, score, sort_key, reached_ms FROM leaderboard_entries"
                " WHERE tenant = ? AND project = ? AND player_id = ? ORDER BY board, period",
                (tenant, project, player_id),
            ).fetchall()
            entries = []
            for board, period, score, sort_key, reached_ms in rows:
                at = Position(sort_key, reached_ms, player_id)
                better = _better_in(conn, (tenant, project, board, period), at)
                entries.append(PlayerEntry(board, period, better + 1, score, reached_ms))
            return entries

        return await self._connections()[1].run(read)

    async def forget_player(self, tenant: str, project: str, player_id: str) -> int:
        def write(conn: sqlite3.Connection) -> int:
            with write_transaction(conn):
                removed = _remove_player(conn, tenant, project, player_id)
            if self.own_file:  # the store's erasure truncates the WAL of its own file, not of this one
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            return int(removed)

        return await self._write(write)

    async def page(
        self,
        key: BoardKey,
        *,
        limit: int,
        offset: int = 0,
        after: Position | None = None,
        after_rank: int | None = None,
    ) -> list[Ranked]:
        def read(conn: sqlite3.Connection) -> list[Ranked]:
            first = offset
            bound: str = ""
            params: tuple[object, ...] = ()
            if after is not None:
                first = _numbered_after(conn, key, after, after_rank)
                bound, params = " AND (e.sort_key, e.reached_ms, e.player_id) > (?, ?, ?)", _position(after)
            rows = conn.execute(
                f"{_SELECT} WHERE e.tenant = ? AND e.project = ? AND e.board = ? AND e.period = ?{bound}"
                " ORDER BY e.sort_key, e.reached_ms, e.player_id LIMIT ? OFFSET ?",
                (*_scope(key), *params, limit, 0 if after is not None else offset),
            ).fetchall()
            return [Ranked(first + i + 1, *row) for i, row in enumerate(rows)]

        return await self._connections()[1].run(read)

    async def around(self, key: BoardKey, entry: Ranked, *, above: int, below: int) -> list[Ranked]:
        at = position_of(key.board, entry)

        def read(conn: sqlite3.Connection) -> list[Ranked]:
            where = "e.tenant = ? AND e.project = ? AND e.board = ? AND e.period = ?"
            before = conn.execute(
                f"{_SELECT} WHERE {where} AND (e.sort_key, e.reached_ms, e.player_id) < (?, ?, ?)"
                " ORDER BY e.sort_key DESC, e.reached_ms DESC, e.player_id DESC LIMIT ?",
                (*_scope(key), *_position(at), above),
            ).fetchall()
            later = conn.execute(
                f"{_SELECT} WHERE {where} AND (e.sort_key, e.reached_ms, e.player_id) > (?, ?, ?)"
                " ORDER BY e.sort_key, e.reached_ms, e.player_id LIMIT ?",
                (*_scope(key), *_position(at), below),
            ).fetchall()
            rows = [*reversed(before), (entry.player_id, entry.username, entry.score, entry.updated_at_ms), *later]
            top = entry.rank - len(before)
            return [Ranked(top + i, *row) for i, row in enumerate(rows)]

        return await self._connections()[1].run(read)

    async def standing(self, key: BoardKey, player_id: str) -> Ranked | None:
        def read(conn: sqlite3.Connection) -> Ranked | None:
            row = conn.execute(
                f"SELECT score, sort_key, reached_ms FROM leaderboard_entries WHERE {_WHERE} AND player_id = ?",
                (*_scope(key), player_id),
            ).fetchone()
            if row is None:
                return None
            score, sort_key, reached_ms = row
            better = _better_than(conn, key, Position(sort_key, reached_ms, player_id))
            name = conn.execute(
                "SELECT username FROM leaderboard_players WHERE tenant = ? AND project = ? AND player_id = ?",
                (key.tenant, key.project, player_id),
            ).fetchone()
            return Ranked(better + 1, player_id, "" if name is None else name[0], score, reached_ms)

        return await self._connections()[1].run(read)

    async def count(self, key: BoardKey) -> int:
        def read(conn: sqlite3.Connection) -> int:
            return int(
                conn.execute(f"SELECT COUNT(*) FROM leaderboard_entries WHERE {_WHERE}", _scope(key)).fetchone()[0]
            )

        return await self._connections()[1].run(read)

    async def clear(self, tenant: str, project: str) -> None:
        def write(conn: sqlite3.Connection) -> None:
            with write_transaction(conn):
                for table in ("leaderboard_entries", "leaderboard_players", "leaderboard_counts"):
                    conn.execute(f"DELETE FROM {table} WHERE tenant = ? AND project = ?", (tenant, project))

        await self._connections()[0].run(write)

    async def load(self, key: BoardKey, entries: Sequence[tuple[str, Entry]], usernames: dict[str, str]) -> None:
        def write(conn: sqlite3.Connection) -> None:
            with write_transaction(conn):
                for player, e in entries:
                    _put(conn, (*_scope(key), player), e.score, key.board.sort_key(e.score), e.reached_ms, e.seq)
                conn.executemany(
                    "INSERT OR REPLACE INTO leaderboard_players VALUES (?, ?, ?, ?)",
                    [(key.tenant, key.project, player, name) for player, name in usernames.items()],
                )

        await self._connections()[0].run(write)


_SELECT = (
    "SELECT e.player_id, COALESCE(n.username, ''), e.score, e.reached_ms FROM leaderboard_entries e"
    " LEFT JOIN leaderboard_players n ON n.tenant = e.tenant AND n.project = e.project AND n.player_id = e.player_id"
)


def _position(at: Position) -> tuple[int, int, str]:
    return (at.sort_key, at.reached_ms, at.player_id)


def _better_than(conn: sqlite3.Connection, key: BoardKey, at: Position) -> int:
    return _better_in(conn, _scope(key), at)


def _better_in(conn: sqlite3.Connection, scope: tuple[str, str, str, str], at: Position) -> int:
    """Entries that sort before `at`: those of a smaller (sort_key, reached_ms) from the prefix
    counts (O(log n)), and those of the same score and millisecond with a smaller player id
    (an index count over that millisecond's ties alone)."""
    (same_ms,) = conn.execute(
        f"SELECT COUNT(*) FROM leaderboard_entries WHERE {_WHERE}"
        " AND sort_key = ? AND reached_ms = ? AND player_id < ?",
        (*scope, *_position(at)),
    ).fetchone()
    return board_counts.entries_before(conn, scope, at.sort_key, at.reached_ms) + int(same_ms)


def _put(
    conn: sqlite3.Connection, row: tuple[str, str, str, str, str], score: int, sort: int, at: int, seq: int
) -> None:
    """Write an entry (tenant, project, board, period, player) and move its count."""
    scope = row[:4]
    old = conn.execute(
        f"SELECT sort_key, reached_ms FROM leaderboard_entries WHERE {_WHERE} AND player_id = ?", row
    ).fetchone()
    if old is not None and tuple(old) != (sort, at):
        board_counts.count(conn, scope, [tuple(old)], -1)
    conn.execute(
        "INSERT OR REPLACE INTO leaderboard_entries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", (*row, score, sort, at, seq)
    )
    if old is None or tuple(old) != (sort, at):
        board_counts.count(conn, scope, [(sort, at)], 1)


def _remove_player(conn: sqlite3.Connection, tenant: str, project: str, player_id: str) -> int:
    """Delete the player's entries (and their counts) and name from every board of the project."""
    rows = conn.execute(
        "SELECT board, period, sort_key, reached_ms FROM leaderboard_entries"
        " WHERE tenant = ? AND project = ? AND player_id = ?",
        (tenant, project, player_id),
    ).fetchall()
    for board, period, sort_key, reached_ms in rows:
        board_counts.count(conn, (tenant, project, board, period), [(sort_key, reached_ms)], -1)
    for table in ("leaderboard_entries", "leaderboard_players"):
        conn.execute(
            f"DELETE FROM {table} WHERE tenant = ? AND project = ? AND player_id = ?", (tenant, project, player_id)
        )
    return len(rows)


def _count_own_file(path: Path) -> None:
    """A file of its own written before the counts existed: create and fill them once."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=10.0)
    try:
        for statement in SQLITE_LEADERBOARD_SCHEMA:
            conn.execute(statement)
        with write_transaction(conn):
            if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'leaderboard_counts'").fetchone() is None:
                conn.execute(board_counts.SCHEMA)
                board_counts.refill(conn)
    finally:
        conn.close()


def _numbered_after(conn: sqlite3.Connection, key: BoardKey, after: Position, after_rank: int | None) -> int:
    """The rank `after` holds: the cursor's when it has one, else counted."""
    if after_rank is not None:
        return after_rank
    return _better_than(conn, key, after) + _exists(conn, key, after)


def _exists(conn: sqlite3.Connection, key: BoardKey, at: Position) -> int:
    row = conn.execute(
        f"SELECT 1 FROM leaderboard_entries WHERE {_WHERE} AND player_id = ? AND sort_key = ? AND reached_ms = ?",
        (*_scope(key), at.player_id, at.sort_key, at.reached_ms),
    ).fetchone()
    return 0 if row is None else 1


def _apply(conn: sqlite3.Connection, changes: Sequence[BoardChange]) -> None:
    """Apply `changes` in order, folded in memory: each entry a batch touches is read once and
    written once, and the prefix counts move by the batch's net change (`board_counts.add`)."""
    with write_transaction(conn):
        fold = _Fold(conn)
        for change in changes:
            project = (change.tenant, change.project)
            if change.removed:
                fold.flush()  # the removal reads what the batch wrote so far
                _remove_player(conn, *project, change.player_id)
                continue
            if change.username is not None:
                conn.execute(
                    "INSERT OR REPLACE INTO leaderboard_players VALUES (?, ?, ?, ?)",
                    (*project, change.player_id, change.username),
                )
            for observation in change.observations:
                board = observation.board
                scope = (*project, board.id, observation.period_id, change.player_id)
                entry = apply_observation(board, fold.entry(scope), observation.value, change.at_ms, change.seq)
                if entry is not None:
                    fold.put(scope, entry, board.sort_key(entry.score))
        fold.flush()


class _Fold:
    """A batch's entries as last written (read from the file on first use) and the count deltas
    of their moves, written by `flush`."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.stored: dict[tuple[str, str, str, str, str], tuple[Entry, int] | None] = {}
        self.current: dict[tuple[str, str, str, str, str], tuple[Entry, int] | None] = {}
        self.deltas: board_counts.Deltas = {}

    def entry(self, scope: tuple[str, str, str, str, str]) -> Entry | None:
        if scope not in self.current:
            row = self.conn.execute(
                f"SELECT score, reached_ms, seq, sort_key FROM leaderboard_entries WHERE {_WHERE} AND player_id = ?",
                scope,
            ).fetchone()
            self.stored[scope] = self.current[scope] = None if row is None else (Entry(row[0], row[1], row[2]), row[3])
        found = self.current[scope]
        return None if found is None else found[0]

    def put(self, scope: tuple[str, str, str, str, str], entry: Entry, sort: int) -> None:
        self.current[scope] = (entry, sort)

    def flush(self) -> None:
        rows = []
        for scope, now in self.current.items():
            before = self.stored[scope]
            if now is None or now is before:
                continue
            entry, sort = now
            rows.append((*scope, entry.score, sort, entry.reached_ms, entry.seq))
            old = None if before is None else (before[1], before[0].reached_ms)
            if old != (sort, entry.reached_ms):
                board_counts.move(self.deltas, scope[:4], old, (sort, entry.reached_ms))
        self.conn.executemany("INSERT OR REPLACE INTO leaderboard_entries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        board_counts.write(self.conn, self.deltas)
        self.stored.clear()
        self.current.clear()
