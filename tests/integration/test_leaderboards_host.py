"""Leaderboards fed by the shard host over a real SQLite store (and real Redis): an acknowledged
award is on the board when the answer returns, a refused or replayed one is not; a rebuild from
the journal ranks exactly like the live board (also through `ludex leaderboards rebuild`);
periods turn at UTC boundaries under an injected clock and each ended one is announced once."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from actors.boards.rebuild import rebuild_project
from actors.boards.redis import RedisBoardStore
from actors.boards.sqlite import SqliteBoardStore
from actors.boards.store import BoardKey, BoardStore, Ranked
from actors.clock import FakeClock
from actors.host import CommandRequest, ShardHost
from actors.stores.base import EventQuery
from actors.stores.sqlite import SqliteStore
from engine import commands as c
from engine.definitions import parse_economy
from engine.leaderboards import Leaderboard

T, P = "acme", "space"
SUNDAY_LATE = datetime(2026, 11, 29, 23, 59, 59, 999_000, tzinfo=UTC)


def req(player: str, command: c.Command, key: str | None = None) -> CommandRequest:
    return CommandRequest(T, P, player, command, key)


async def one(host: ShardHost, request: CommandRequest) -> dict[str, Any]:
    return (await host.execute([request]))[0]


async def make_host(path: Path, document: dict[str, Any], boards: BoardStore, clock: Any = None) -> ShardHost:
    host = ShardHost(SqliteStore(path / "ludex.sqlite3"), boards=boards, clock=clock)
    await host.start(sweep=False)
    if not await host.store.read_journal(f"project:{T}/{P}"):
        assert (await host.define_economy(T, P, document)).ok
    return host


@pytest.fixture
def boards_by_id(demo_economy_document: dict[str, Any]) -> dict[str, Leaderboard]:
    return dict(parse_economy(demo_economy_document).leaderboards)


@pytest.fixture
async def host(tmp_path: Path, demo_economy_document: dict[str, Any]) -> AsyncIterator[ShardHost]:
    host = await make_host(tmp_path, demo_economy_document, SqliteBoardStore(tmp_path / "ludex.sqlite3"))
    yield host
    await host.stop()


def board_store(host: ShardHost) -> BoardStore:
    assert host.board_feed is not None
    return host.board_feed.boards


async def standing(host: ShardHost, board: Leaderboard, player: str, period: str = "all") -> Ranked | None:
    return await board_store(host).standing(BoardKey(T, P, board, period), player)


async def test_an_acknowledged_award_is_ranked_when_the_answer_returns(
    host: ShardHost, boards_by_id: dict[str, Leaderboard]
) -> None:
    xp = boards_by_id["xp-all-time"]
    assert getattr(board_store(host), "store", None) is host.store  # applied between journal commits
    for player in ("ann", "bob"):
        assert (await one(host, req(player, c.CreatePlayer(player.title())))).ok
    assert (await one(host, req("ann", c.AwardXp(40), key="k1"))).ok
    assert (await standing(host, xp, "ann")) == Ranked(
        1, "ann", "Ann", 40, (await standing(host, xp, "ann")).updated_at_ms
    )  # type: ignore[union-attr]
    replay = await one(host, req("ann", c.AwardXp(40), key="k1"))
    refused = await one(host, req("ann", c.AwardXp(0)))
    assert replay.replayed and not refused.ok
    assert (await standing(host, xp, "ann")).score == 40  # type: ignore[union-attr]
    outcomes = await host.execute([req("bob", c.AwardXp(50)), req("ann", c.AwardXp(5))])
    assert all(o.ok for o in outcomes)
    assert [(await standing(host, xp, p)).rank for p in ("bob", "ann")] == [1, 2]  # type: ignore[union-attr]


async def test_submitted_scores_are_idempotent_and_keep_the_best(
    host: ShardHost, boards_by_id: dict[str, Leaderboard]
) -> None:
    high = boards_by_id["high-score"]
    await one(host, req("cy", c.CreatePlayer("Cy")))
    first = await one(host, req("cy", c.SubmitScore("high-score", 900), key="s1"))
    again = await one(host, req("cy", c.SubmitScore("high-score", 900), key="s1"))
    other_body = await one(host, req("cy", c.SubmitScore("high-score", 901), key="s1"))
    worse = await one(host, req("cy", c.SubmitScore("high-score", 10), key="s2"))
    assert first.ok and again.replayed and worse.ok
    assert other_body.slug == "idempotency-key-reused"
    entry = await standing(host, high, "cy")
    assert entry is not None and entry.score == 900
    events = await host.store.read_events(EventQuery(tenant=T, project=P, types=("leaderboard.score.submitted",)))
    assert [e.data["score"] for e in events] == [900, 10]


async def test_a_deleted_player_drops_out_and_a_rename_shows(
    host: ShardHost, boards_by_id: dict[str, Leaderboard]
) -> None:
    xp = boards_by_id["xp-all-time"]
    for player in ("dee", "eve"):
        await one(host, req(player, c.CreatePlayer(player)))
        await one(host, req(player, c.AwardXp(10)))
    await one(host, req("eve", c.UpdatePlayer(username="Evelyn")))
    await one(host, req("dee", c.DeletePlayer()))
    page = await board_store(host).page(BoardKey(T, P, xp, "all"), offset=0, limit=10)
    assert [(e.player_id, e.username) for e in page] == [("eve", "Evelyn")]


async def play(host: ShardHost) -> None:
    """A history touching every kind of board change."""
    for i, player in enumerate(["p1", "p2", "p3", "p4", "p5"]):
        await one(host, req(player, c.CreatePlayer(f"Player {i}")))
    await host.execute([req("p1", c.AwardXp(300)), req("p2", c.AwardXp(300)), req("p3", c.AwardXp(120))])
    await host.execute([req(p, c.IncrementCounter("wins", n)) for p, n in (("p1", 2), ("p2", 3), ("p4", 3))])
    await host.execute([req(p, c.SubmitScore("high-score", s)) for p, s in (("p3", 50), ("p5", 70), ("p1", 70))])
    await one(host, req("p3", c.SubmitScore("high-score", 20)))
    await one(host, req("p4", c.Purchase("potion-pack")))  # refused: no coins
    await one(host, req("p2", c.UpdatePlayer(username="Renamed")))
    await one(host, req("p5", c.DeletePlayer()))


async def all_pages(boards: BoardStore, board_defs: dict[str, Leaderboard], periods: dict[str, str]) -> dict[str, Any]:
    result = {}
    for board_id, board in board_defs.items():
        key = BoardKey(T, P, board, periods.get(board_id, "all"))
        page = await boards.page(key, offset=0, limit=100)
        result[board_id] = [(e.rank, e.player_id, e.username, e.score, e.updated_at_ms) for e in page]
        for entry in page:
            assert await boards.standing(key, entry.player_id) == entry
    return result


async def test_a_board_rebuilt_from_the_journal_ranks_like_the_live_one(
    tmp_path: Path, demo_economy_document: dict[str, Any], boards_by_id: dict[str, Leaderboard]
) -> None:
    clock = FakeClock(datetime(2026, 11, 30, 12, tzinfo=UTC))
    host = await make_host(tmp_path, demo_economy_document, SqliteBoardStore(tmp_path / "ludex.sqlite3"), clock)
    await play(host)
    periods = {"weekly-wins": "2026-W49"}
    live = await all_pages(board_store(host), boards_by_id, periods)
    assert [row[1] for row in live["high-score"]] == ["p1", "p3"]  # p1 reached 70 first, p5 was deleted
    assert [row[1] for row in live["weekly-wins"]] == ["p2", "p4", "p1"]
    await rebuild_project(host.store, board_store(host), T, P)
    assert await all_pages(board_store(host), boards_by_id, periods) == live
    await host.stop()

    env = {**os.environ, "LUDEX_DATA_DIR": str(tmp_path)}
    env.pop("LUDEX_REDIS_URL", None)
    sqlite = tmp_path / "ludex.sqlite3"
    wiped = SqliteBoardStore(sqlite)
    await wiped.open()
    await wiped.clear(T, P)
    assert await wiped.page(BoardKey(T, P, boards_by_id["xp-all-time"], "all"), offset=0, limit=10) == []
    done = subprocess.run(
        [str(Path(sys.executable).with_name("ludex")), "leaderboards", "rebuild", "--tenant", T],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert f"{T}/{P}:" in done.stdout
    assert await all_pages(wiped, boards_by_id, periods) == live
    await wiped.close()


async def test_redis_boards_are_fed_the_same_way(
    tmp_path: Path, demo_economy_document: dict[str, Any], boards_by_id: dict[str, Leaderboard], redis_url: str
) -> None:
    clock = FakeClock(datetime(2026, 11, 30, 12, tzinfo=UTC))
    host = await make_host(tmp_path, demo_economy_document, RedisBoardStore(redis_url, shards=3), clock)
    try:
        await board_store(host).clear(T, P)
        await play(host)
        live = await all_pages(board_store(host), boards_by_id, {"weekly-wins": "2026-W49"})
        assert [row[1] for row in live["high-score"]] == ["p1", "p3"]
        embedded = SqliteBoardStore(tmp_path / "ludex.sqlite3")
        await embedded.open()
        await rebuild_project(host.store, embedded, T, P)
        assert await all_pages(embedded, boards_by_id, {"weekly-wins": "2026-W49"}) == live
        await embedded.close()
    finally:
        await host.stop()


async def test_weeks_turn_at_monday_midnight_utc_and_each_ended_week_is_announced_once(
    tmp_path: Path, demo_economy_document: dict[str, Any], boards_by_id: dict[str, Leaderboard]
) -> None:
    clock = FakeClock(SUNDAY_LATE)
    host = await make_host(tmp_path, demo_economy_document, SqliteBoardStore(tmp_path / "ludex.sqlite3"), clock)
    weekly = boards_by_id["weekly-wins"]
    try:
        for player in ("ann", "bob", "cy", "dan"):
            await one(host, req(player, c.CreatePlayer(player.title())))
        await host.execute(
            [req(p, c.IncrementCounter("wins", n)) for p, n in (("ann", 1), ("bob", 4), ("cy", 2), ("dan", 1))]
        )
        clock.advance(0.001)  # Monday 00:00:00.000 UTC: the next week
        await one(host, req("ann", c.IncrementCounter("wins", 5)))
        assert (await standing(host, weekly, "ann", "2026-W48")).score == 1  # type: ignore[union-attr]
        assert (await standing(host, weekly, "ann", "2026-W49")).score == 5  # type: ignore[union-attr]
        assert await standing(host, weekly, "bob", "2026-W49") is None

        await host.sweep_once()  # within the grace period: not yet
        assert await host.store.read_events(EventQuery(tenant=T, project=P, types=("leaderboard.reset",))) == []
        clock.advance(120)
        await host.sweep_once()
        clock.advance(120)
        await host.sweep_once()
        resets = await host.store.read_events(EventQuery(tenant=T, project=P, types=("leaderboard.reset",)))
        assert len(resets) == 1
        assert resets[0].player_id == "" and resets[0].data == {
            "boardId": "weekly-wins",
            "periodId": "2026-W48",
            "startsAt": "2026-11-23T00:00:00Z",
            "endsAt": "2026-11-30T00:00:00Z",
            "winners": [
                {"rank": 1, "playerId": "bob", "username": "Bob", "score": 4},
                {"rank": 2, "playerId": "cy", "username": "Cy", "score": 2},
                {"rank": 3, "playerId": "ann", "username": "Ann", "score": 1},  # reached 1 before dan (player id)
            ],
        }
    finally:
        await host.stop()
