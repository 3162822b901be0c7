"""Issue 25, finding 5: a rank costs O(log n) on both board stores, however many players tie.

The fast rank is pinned to the plain definition (1 + the entries that sort before the player by
`(sort key, reached first, player id)`, docs/LEADERBOARDS.md) by a property test on a real
`redis-server` and a real SQLite file; the bound is shown by the work each store does for one
rank at the bottom of a board of tied players: the Redis commands a standing read runs (each
O(log N) by Redis's documentation, a fixed number of them; a walk over the ties used to run
`ZRANGEBYSCORE`), and the SQLite virtual-machine instructions it executes (counted by a progress
handler: an index count over the ties grows with them)."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from actors.boards.redis import RedisBoardStore
from actors.boards.sqlite import SqliteBoardStore
from actors.boards.store import BoardKey, BoardStore
from actors.stores.sqlite import SqliteStore
from engine.leaderboards import Entry, Leaderboard

HIGH = Leaderboard("high", "High", "submitted", "best", "desc")
LAPS = Leaderboard("laps", "Laps", "submitted", "best", "asc")
TIED = 20_000
SHARDS = 4


def _sqlite_boards(tmp_path: Path) -> SqliteBoardStore:
    return SqliteBoardStore(tmp_path / "boards" / "leaderboards.sqlite3", own_file=True)


async def _embedded_boards(tmp_path: Path) -> SqliteBoardStore:
    """The boards inside a SQLite store's own file (its schema steps made the tables)."""
    path = tmp_path / "ludex.sqlite3"
    store = SqliteStore(path)
    await store.open()
    await store.close()
    return SqliteBoardStore(path)


entries = st.lists(
    st.tuples(st.sampled_from([-(2**53) + 1, -7, 0, 7, 2**53 - 1]), st.integers(0, 3), st.integers(0, 40)),
    min_size=1,
    max_size=40,
)


async def _check_ranks(boards: BoardStore, rows: list[tuple[int, int, int]], board: Leaderboard) -> None:
    key = BoardKey(f"t-{uuid.uuid4().hex[:8]}", "game", board, "all")
    table = {f"p{player}": Entry(score, 1_700_000_000_000 + reached, 1) for score, reached, player in rows}
    await boards.load(key, list(table.items()), {})

    def position(player: str) -> tuple[int, int, str]:
        return (board.sort_key(table[player].score), table[player].reached_ms, player)

    for player in table:
        standing = await boards.standing(key, player)
        plain = 1 + sum(1 for other in table if position(other) < position(player))
        assert standing is not None and standing.rank == plain, (player, table)
    page = await boards.page(key, limit=len(table))
    assert [e.player_id for e in page] == sorted(table, key=position)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=entries, asc=st.booleans())
def test_the_fast_rank_is_the_plain_rank_on_sqlite(tmp_path: Path, rows: list[tuple[int, int, int]], asc: bool) -> None:
    async def run() -> None:
        boards = await _embedded_boards(tmp_path / uuid.uuid4().hex)
        await boards.open()
        try:
            await _check_ranks(boards, rows, LAPS if asc else HIGH)
        finally:
            await boards.close()

    asyncio.run(run())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=entries, asc=st.booleans())
def test_the_fast_rank_is_the_plain_rank_on_redis(redis_url: str, rows: list[tuple[int, int, int]], asc: bool) -> None:
    async def run() -> None:
        boards = RedisBoardStore(redis_url, shards=3)
        await boards.open()
        try:
            await _check_ranks(boards, rows, LAPS if asc else HIGH)
        finally:
            await boards.close()

    asyncio.run(run())


def _tied() -> list[tuple[str, Entry]]:
    """TIED players on one score, all but the last reaching it in the same millisecond."""
    return [(f"p{n:06d}", Entry(500, 1_700_000_000_000 + (n == TIED - 1), 1)) for n in range(TIED)]


def _commands(client: redis.Redis) -> dict[str, int]:
    stats: dict[str, Any] = client.info("commandstats")
    return {name.removeprefix("cmdstat_"): int(value["calls"]) for name, value in stats.items()}


async def test_a_redis_rank_runs_a_fixed_number_of_log_n_commands_whatever_the_ties(redis_url: str) -> None:
    boards = RedisBoardStore(redis_url, shards=SHARDS)
    await boards.open()
    sync = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        key = BoardKey(f"t-{uuid.uuid4().hex[:8]}", "game", HIGH, "all")
        await boards.load(key, _tied(), {})
        await boards.standing(key, "p000000")  # loads the scripts, whatever ran on this server before
        sync.config_resetstat()
        standing = await boards.standing(key, f"p{TIED - 1:06d}")
        assert standing is not None and standing.rank == TIED
        ran = {name: calls for name, calls in _commands(sync).items() if name not in ("config|resetstat", "info")}
        # Each of these is O(log N) (or O(1)); a rank used to walk the ties with ZRANGEBYSCORE.
        assert set(ran) <= {"hget", "evalsha", "eval", "script|exists", "zlexcount", "zscore"}, ran
        assert sum(ran.values()) <= 3 + 3 * SHARDS, ran
    finally:
        sync.close()
        await boards.close()


async def _instructions(boards: SqliteBoardStore, key: BoardKey, player: str) -> int:
    """SQLite VM instructions the standing read runs (in steps of 100, on the reader's thread)."""
    _, reader = boards._connections()
    ticks = [0]

    def tick() -> int:
        ticks[0] += 1
        return 0

    await reader.run(lambda conn: conn.set_progress_handler(tick, 100))
    try:
        standing = await boards.standing(key, player)
    finally:
        await reader.run(lambda conn: conn.set_progress_handler(None, 100))
    assert standing is not None and standing.rank == TIED
    return ticks[0] * 100


async def test_a_sqlite_rank_does_bounded_work_whatever_the_ties(tmp_path: Path) -> None:
    boards = await _embedded_boards(tmp_path)
    await boards.open()
    try:
        key = BoardKey("t", "game", HIGH, "all")
        await boards.load(key, _tied(), {})
        work = await _instructions(boards, key, f"p{TIED - 1:06d}")
        # An index count over 20,000 tied rows alone runs well over 100,000 instructions.
        assert work < 20_000, f"{work} SQLite instructions for one rank"
        plan = await boards._connections()[1].run(
            lambda conn: conn.execute(
                "EXPLAIN QUERY PLAN SELECT n FROM leaderboard_counts WHERE tenant = ? AND project = ?"
                " AND board = ? AND period = ? AND depth = ? AND prefix >= ? AND prefix < ?",
                ("t", "game", "high", "all", 3, "ab", "abc"),
            ).fetchall()
        )
        assert all("SEARCH leaderboard_counts USING PRIMARY KEY" in row[-1] for row in plan), plan
    finally:
        await boards.close()


async def test_boards_of_layout_1_are_upgraded_in_place_when_the_store_opens(redis_url: str) -> None:
    """Layout 1 scored members by sort key (`<reachedMs>:<playerId>`); opening upgrades them."""
    url = redis_url.rstrip("/") + "/3"  # a database of its own: the layout marker is per database
    sync = redis.Redis.from_url(url, decode_responses=True)
    sync.flushdb()
    zset = "ludex:lb:{t/game:high:all:0}"
    old = {"ann": (900, 2_000), "bob": (900, 1_000), "cyd": (-5, 500)}
    for player, (score, reached) in old.items():
        sync.zadd(zset, {f"{reached:013d}:{player}": -score})
        sync.hset(zset + ":m", player, f"{score}:{reached}:1")
    sync.sadd("ludex:lb:keys:{t/game}", zset)
    boards = RedisBoardStore(url, shards=1)
    await boards.open()
    try:
        assert sync.get("ludex:lb:layout") == "2"
        key = BoardKey("t", "game", HIGH, "all")
        assert [(e.player_id, e.rank, e.score) for e in await boards.page(key, limit=5)] == [
            ("bob", 1, 900),
            ("ann", 2, 900),
            ("cyd", 3, -5),
        ]
        standing = await boards.standing(key, "ann")
        assert standing is not None and standing.rank == 2
        await boards.close()
        await boards.open()  # a second open finds layout 2 and changes nothing
        assert sync.zcard(zset) == 3
    finally:
        await boards.close()
        sync.flushdb()
        sync.close()


async def test_schema_step_7_counts_the_entries_a_store_of_version_6_holds(tmp_path: Path) -> None:
    path = tmp_path / "ludex.sqlite3"
    boards = await _embedded_boards(tmp_path)
    await boards.open()
    key = BoardKey("t", "game", HIGH, "all")
    await boards.load(key, [(f"p{n}", Entry(n % 3, 1_000 + n % 2, 1)) for n in range(30)], {})
    await boards.close()
    with sqlite3.connect(path) as conn:  # back to version 6: entries without counts
        conn.execute("DROP TABLE leaderboard_counts")
        conn.execute("PRAGMA user_version = 6")
    conn.close()
    store = SqliteStore(path)
    await store.open()  # migrates forward
    await store.close()
    boards = SqliteBoardStore(path)
    await boards.open()
    try:
        page = await boards.page(key, limit=30)
        for entry in page:
            standing = await boards.standing(key, entry.player_id)
            assert standing is not None and standing.rank == entry.rank
    finally:
        await boards.close()


TOTAL = Leaderboard("total", "Total", "submitted", "sum", "desc")
changes = st.lists(
    st.tuples(st.integers(0, 5), st.integers(-3, 30), st.integers(0, 4), st.booleans()), min_size=1, max_size=30
)


def _board_state(path: Path) -> tuple[list[Any], list[Any]]:
    conn = sqlite3.connect(path)
    try:
        entries = conn.execute("SELECT * FROM leaderboard_entries ORDER BY 1, 2, 3, 4, 5").fetchall()
        counts = conn.execute("SELECT * FROM leaderboard_counts ORDER BY 1, 2, 3, 4, 5, 6").fetchall()
        return entries, counts
    finally:
        conn.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=changes)
def test_a_batch_folded_in_memory_writes_what_its_changes_one_at_a_time_write(
    tmp_path: Path, rows: list[tuple[int, int, int, bool]]
) -> None:
    """Issue 28: a batch reads each entry once, writes it once and moves the prefix counts by
    its net change; the entries and counts it leaves are those of its changes applied one per
    call, and the counts are those a refill computes from the entries."""
    from actors.boards import counts as board_counts
    from engine.leaderboards import BoardChange, Observation

    batch = [
        BoardChange(
            "t",
            "game",
            f"p{player}",
            seq,
            1_700_000_000_000 + ms,
            None,
            () if removed and player == 0 else (Observation(TOTAL, "all", value), Observation(HIGH, "all", value)),
            removed=removed and player == 0,
        )
        for seq, (player, value, ms, removed) in enumerate(rows, start=1)
    ]
    folder = tmp_path / uuid.uuid4().hex
    folder.mkdir()

    async def apply(name: str, calls: list[list[BoardChange]]) -> tuple[list[Any], list[Any]]:
        boards = SqliteBoardStore(folder / name, own_file=True)
        await boards.open()
        try:
            for call in calls:
                await boards.apply(call)
        finally:
            await boards.close()
        return _board_state(folder / name)

    folded = asyncio.run(apply("folded.sqlite3", [batch]))
    one_by_one = asyncio.run(apply("single.sqlite3", [[change] for change in batch]))
    assert folded == one_by_one
    conn = sqlite3.connect(folder / "folded.sqlite3")
    with conn:
        board_counts.refill(conn)
    conn.close()
    assert _board_state(folder / "folded.sqlite3")[1] == folded[1]
