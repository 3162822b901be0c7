"""Ranks in O(log n) on the embedded boards: a prefix-count tree beside the entries.

SQLite's b-trees keep no subtree sizes, so `COUNT(*)` over an index range costs time in
proportion to the rows counted: a rank counted on the entries' index was O(rank), and with
200k players tied on one score, O(ties). Here every entry of a board period is also counted
under each prefix of its rank key, the 25 hex digits of `(sort_key + 2**53) << 44 | reached_ms`
(the first two parts of the tie order, as one number). The entries sorting before a key are
then, for each depth `d`, the counts of the prefixes of length `d + 1` that share its first `d`
digits and have a smaller next digit: 25 index range reads of at most 15 rows each, whatever
the board's size. What is left is the tie order's last part, the player id among entries with
the very same score and millisecond, counted on the entries' index.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

DIGITS = 25  # 54 bits of sort key (±(2**53 - 1), shifted positive) and 44 of milliseconds (< 10**13)
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS leaderboard_counts (tenant TEXT NOT NULL, project TEXT NOT NULL,"
    " board TEXT NOT NULL, period TEXT NOT NULL, depth INTEGER NOT NULL, prefix TEXT NOT NULL,"
    " n INTEGER NOT NULL, PRIMARY KEY (tenant, project, board, period, depth, prefix)) WITHOUT ROWID"
)
Scope = tuple[str, str, str, str]  # tenant, project, board, period

_UPSERT = (
    "INSERT INTO leaderboard_counts VALUES (?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (tenant, project, board, period, depth, prefix) DO UPDATE SET n = n + excluded.n"
)
_EMPTIED = (
    "DELETE FROM leaderboard_counts WHERE tenant = ? AND project = ? AND board = ? AND period = ?"
    " AND depth = ? AND prefix = ? AND n <= 0"
)
_RANGE = (
    "SELECT n FROM leaderboard_counts WHERE tenant = ? AND project = ? AND board = ? AND period = ?"
    " AND depth = ? AND prefix >= ? AND prefix < ?"
)
BEFORE_SQL = "SELECT COALESCE(SUM(n), 0) FROM (" + " UNION ALL ".join([_RANGE] * DIGITS) + ")"


def rank_key(sort_key: int, reached_ms: int) -> str:
    return format(((sort_key + 2**53) << 44) | reached_ms, f"0{DIGITS}x")


def before_params(scope: Scope, key: str) -> list[object]:
    """The parameters of `BEFORE_SQL`: per depth, the prefixes sharing `key`'s first `d` digits
    whose next digit is smaller."""
    params: list[object] = []
    for depth in range(DIGITS):
        params += [*scope, depth + 1, key[:depth], key[: depth + 1]]
    return params


Deltas = dict[tuple[str, str, str, str, int, str], int]  # (*scope, depth, prefix) -> net change


def count(conn: sqlite3.Connection, scope: Scope, entries: Iterable[tuple[int, int]], delta: int) -> None:
    """Add `delta` (+1, -1) under every prefix of each `(sort_key, reached_ms)`."""
    deltas: Deltas = {}
    add(deltas, scope, entries, delta)
    write(conn, deltas)


def add(deltas: Deltas, scope: Scope, entries: Iterable[tuple[int, int]], delta: int) -> None:
    """Fold `delta` under every prefix of each entry into `deltas`, written later by `write`:
    an entry that moves by a few points leaves and joins the same top prefixes, and a batch's
    changes share them, so most of a batch's prefix updates cancel before they reach SQLite."""
    for sort_key, reached in entries:
        key = rank_key(sort_key, reached)
        for depth in range(1, DIGITS + 1):
            at = (*scope, depth, key[:depth])
            deltas[at] = deltas.get(at, 0) + delta


def move(deltas: Deltas, scope: Scope, old: tuple[int, int] | None, new: tuple[int, int]) -> None:
    """Fold an entry's move from `old` (None: a new entry) to `new` into `deltas`: the prefixes
    both keys share keep their counts, so only the depths below them change."""
    key = rank_key(*new)
    if old is None:
        shared, before = 0, ""
    else:
        before = rank_key(*old)
        shared = next((i for i in range(DIGITS) if before[i] != key[i]), DIGITS)
    for depth in range(shared + 1, DIGITS + 1):
        at = (*scope, depth, key[:depth])
        deltas[at] = deltas.get(at, 0) + 1
        if before:
            gone = (*scope, depth, before[:depth])
            deltas[gone] = deltas.get(gone, 0) - 1


def write(conn: sqlite3.Connection, deltas: Deltas) -> None:
    """Apply the net `deltas` (inside the caller's transaction); prefixes left empty are deleted."""
    rows = [(*at, n) for at, n in deltas.items() if n]
    conn.executemany(_UPSERT, rows)
    conn.executemany(_EMPTIED, [row[:-1] for row in rows if row[-1] < 0])
    deltas.clear()


def entries_before(conn: sqlite3.Connection, scope: Scope, sort_key: int, reached_ms: int) -> int:
    """Entries whose (sort_key, reached_ms) is smaller: bounded index reads, O(log n)."""
    (found,) = conn.execute(BEFORE_SQL, before_params(scope, rank_key(sort_key, reached_ms))).fetchone()
    return int(found)


def refill(conn: sqlite3.Connection) -> None:
    """Count every entry again (the schema step that adds the counts; a file of its own opened
    by a release before them). Idempotent: the counts are emptied first."""
    conn.execute("DELETE FROM leaderboard_counts")
    rows = conn.execute("SELECT tenant, project, board, period, sort_key, reached_ms FROM leaderboard_entries")
    batch: dict[Scope, list[tuple[int, int]]] = {}
    for n, (tenant, project, board, period, sort_key, reached) in enumerate(rows, start=1):
        batch.setdefault((tenant, project, board, period), []).append((sort_key, reached))
        if n % 5_000 == 0:
            _flush(conn, batch)
    _flush(conn, batch)


def _flush(conn: sqlite3.Connection, batch: dict[Scope, list[tuple[int, int]]]) -> None:
    for scope, entries in batch.items():
        count(conn, scope, entries, 1)
    batch.clear()
