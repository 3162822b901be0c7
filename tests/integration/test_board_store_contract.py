"""One contract for both leaderboard stores: the embedded one on a real SQLite store file and
the Redis one on a real `redis-server` (fixture `redis_url`), split over several keys so a rank
crosses shards. Ranks are checked against a model built from the pure rules."""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from actors.boards.redis import RedisBoardStore
from actors.boards.sqlite import SqliteBoardStore
from actors.boards.store import BoardKey, BoardStore, position_of
from actors.stores.sqlite import SqliteStore
from engine.leaderboards import (
    MAX_SCORE,
    BoardChange,
    Entry,
    Leaderboard,
    Observation,
    Operator,
    Order,
    apply_observation,
    rank_key,
)

DESC_BEST = Leaderboard("high", "High", "submitted", "best", "desc")
ASC_BEST = Leaderboard("laps", "Laps", "submitted", "best", "asc")
INCR = Leaderboard("xp", "XP", "xp", "incr", "desc")
SET = Leaderboard("last", "Last", "submitted", "set", "desc")


def change(
    tenant: str, player: str, seq: int, at_ms: int, *observed: tuple[Leaderboard, int], name: str | None = None
) -> BoardChange:
    return BoardChange(
        tenant, "game", player, seq, at_ms, name, tuple(Observation(board, "all", value) for board, value in observed)
    )


class BoardStoreContract:
    @pytest.fixture
    async def boards(self, tmp_path: Path) -> AsyncIterator[BoardStore]:
        boards = await self.create(tmp_path)
        await boards.open()
        yield boards
        await boards.close()

    @pytest.fixture
    def tenant(self) -> str:
        return f"t-{uuid.uuid4().hex[:8]}"

    async def create(self, tmp_path: Path) -> BoardStore:
        raise NotImplementedError

    async def test_desc_board_ranks_best_first_and_ties_by_who_reached_first(
        self, boards: BoardStore, tenant: str
    ) -> None:
        await boards.apply(
            [
                change(tenant, "late", 1, 3_000, (DESC_BEST, 50), name="Late"),
                change(tenant, "early", 1, 1_000, (DESC_BEST, 50), name="Early"),
                change(tenant, "top", 1, 2_000, (DESC_BEST, 90), name="Top"),
                change(tenant, "low", 1, 500, (DESC_BEST, -7)),
            ]
        )
        key = BoardKey(tenant, "game", DESC_BEST, "all")
        page = await boards.page(key, offset=0, limit=10)
        assert [(e.rank, e.player_id, e.score) for e in page] == [
            (1, "top", 90),
            (2, "early", 50),
            (3, "late", 50),
            (4, "low", -7),
        ]
        assert [e.username for e in page] == ["Top", "Early", "Late", ""]
        assert [(await boards.standing(key, p)).rank for p in ("top", "early", "late", "low")] == [1, 2, 3, 4]  # type: ignore[union-attr]
        assert await boards.standing(key, "nobody") is None
        assert await boards.count(key) == 4
        assert [e.player_id for e in await boards.page(key, offset=1, limit=2)] == ["early", "late"]

    async def test_asc_board_ranks_the_lowest_first(self, boards: BoardStore, tenant: str) -> None:
        await boards.apply(
            [
                change(tenant, p, 1, 1_000 + i, (ASC_BEST, s))
                for i, (p, s) in enumerate([("a", 30), ("b", 10), ("c", 20)])
            ]
        )
        await boards.apply(
            [change(tenant, "a", 2, 5_000, (ASC_BEST, 5)), change(tenant, "b", 2, 5_000, (ASC_BEST, 40))]
        )
        key = BoardKey(tenant, "game", ASC_BEST, "all")
        assert [(e.player_id, e.score) for e in await boards.page(key, offset=0, limit=10)] == [
            ("a", 5),
            ("b", 10),
            ("c", 20),
        ]

    async def test_operators_and_a_record_applied_twice_counts_once(self, boards: BoardStore, tenant: str) -> None:
        first = change(tenant, "p", 1, 1_000, (INCR, 10), (SET, 7), (DESC_BEST, 7))
        second = change(tenant, "p", 2, 2_000, (INCR, 5), (SET, 3), (DESC_BEST, 3))
        await boards.apply([first, second])
        await boards.apply([second, first])  # redelivered: no effect
        scores = [(await boards.standing(BoardKey(tenant, "game", b, "all"), "p")) for b in (INCR, SET, DESC_BEST)]
        assert [s.score for s in scores if s] == [15, 3, 7]
        best = scores[2]
        assert best is not None and best.updated_at_ms == 1_000  # a worse score does not move "reached at"

    async def test_scores_at_the_ends_of_the_exact_range(self, boards: BoardStore, tenant: str) -> None:
        await boards.apply(
            [
                change(tenant, "max", 1, 1_000, (DESC_BEST, MAX_SCORE)),
                change(tenant, "max-1", 1, 1_000, (DESC_BEST, MAX_SCORE - 1)),
                change(tenant, "min", 1, 1_000, (DESC_BEST, -MAX_SCORE)),
            ]
        )
        page = await boards.page(BoardKey(tenant, "game", DESC_BEST, "all"), offset=0, limit=5)
        assert [(e.player_id, e.score) for e in page] == [
            ("max", MAX_SCORE),
            ("max-1", MAX_SCORE - 1),
            ("min", -MAX_SCORE),
        ]

    async def test_a_deleted_player_leaves_every_board_and_period(self, boards: BoardStore, tenant: str) -> None:
        weekly = Observation(INCR, "2026-W49", 3)
        await boards.apply(
            [
                change(tenant, "gone", 1, 1_000, (INCR, 10), name="Gone"),
                BoardChange(tenant, "game", "gone", 2, 2_000, None, (weekly,)),
                change(tenant, "stays", 1, 1_000, (INCR, 1)),
                BoardChange(tenant, "game", "gone", 3, 3_000, None, removed=True),
            ]
        )
        assert await boards.standing(BoardKey(tenant, "game", INCR, "all"), "gone") is None
        assert await boards.standing(BoardKey(tenant, "game", INCR, "2026-W49"), "gone") is None
        stays = await boards.standing(BoardKey(tenant, "game", INCR, "all"), "stays")
        assert stays is not None and stays.rank == 1

    async def test_projects_and_tenants_are_apart_and_clear_empties_one_project(
        self, boards: BoardStore, tenant: str
    ) -> None:
        other = tenant + "-other"
        await boards.apply([change(tenant, "p", 1, 1_000, (INCR, 10)), change(other, "p", 1, 1_000, (INCR, 99))])
        assert (await boards.standing(BoardKey(tenant, "game", INCR, "all"), "p")).score == 10  # type: ignore[union-attr]
        await boards.clear(other, "game")
        assert await boards.page(BoardKey(other, "game", INCR, "all"), offset=0, limit=10) == []
        assert (await boards.standing(BoardKey(tenant, "game", INCR, "all"), "p")).score == 10  # type: ignore[union-attr]

    async def test_bulk_load_ranks_like_applied_entries(self, boards: BoardStore, tenant: str) -> None:
        key = BoardKey(tenant, "game", DESC_BEST, "all")
        entries = [(f"p{i}", Entry(i % 7, 1_000 + i, 1)) for i in range(50)]
        await boards.load(key, entries, {"p3": "Three"})
        model = sorted(entries, key=lambda pe: rank_key(DESC_BEST, pe[1], pe[0]))
        page = await boards.page(key, offset=0, limit=100)
        assert [e.player_id for e in page] == [p for p, _ in model]
        three = await boards.standing(key, "p3")
        assert three is not None and three.username == "Three" and three.rank == 1 + [p for p, _ in model].index("p3")

    async def test_keyset_pages_and_around_me_at_the_edges(self, boards: BoardStore, tenant: str) -> None:
        key = BoardKey(tenant, "game", DESC_BEST, "all")
        scores = [9, 7, 7, 5, 3, 3, 3, 1]  # ties: who reached first (the lower index) ranks first
        await boards.apply([change(tenant, f"p{i}", 1, 1_000 + i, (DESC_BEST, s)) for i, s in enumerate(scores)])
        everyone = await boards.page(key, limit=100)
        assert [e.player_id for e in everyone] == [f"p{i}" for i in range(8)]
        pages, after = [], None
        while True:
            page = await boards.page(key, limit=3, after=after)
            pages.append([(e.rank, e.player_id) for e in page])
            if len(page) < 3:
                break
            after = position_of(DESC_BEST, page[-1])
        assert pages == [[(1, "p0"), (2, "p1"), (3, "p2")], [(4, "p3"), (5, "p4"), (6, "p5")], [(7, "p6"), (8, "p7")]]
        numbered = await boards.page(key, limit=3, after=position_of(DESC_BEST, everyone[2]), after_rank=3)
        assert [(e.rank, e.player_id) for e in numbered] == pages[1]
        top, bottom, middle = everyone[0], everyone[-1], everyone[4]
        assert [(e.rank, e.player_id) for e in await boards.around(key, top, above=2, below=2)] == [
            (1, "p0"),
            (2, "p1"),
            (3, "p2"),
        ]
        assert [(e.rank, e.player_id) for e in await boards.around(key, bottom, above=2, below=2)] == [
            (6, "p5"),
            (7, "p6"),
            (8, "p7"),
        ]
        around = await boards.around(key, middle, above=1, below=2)
        assert [(e.rank, e.player_id, e.score) for e in around] == [
            (4, "p3", 5),
            (5, "p4", 3),
            (6, "p5", 3),
            (7, "p6", 3),
        ]

    @pytest.mark.parametrize("seed", range(4))
    async def test_random_histories_rank_like_the_model(self, boards: BoardStore, tenant: str, seed: int) -> None:
        rng = random.Random(seed)
        operator: Operator = rng.choice(["best", "set", "incr"])
        order: Order = rng.choice(["desc", "asc"])
        board = Leaderboard("b", "B", "submitted" if operator != "incr" else "xp", operator, order)
        players = [f"pl{i}" for i in range(25)]
        seqs = dict.fromkeys(players, 0)
        model: dict[str, Entry] = {}
        changes: list[BoardChange] = []
        for step in range(300):
            player = rng.choice(players)
            seqs[player] += 1
            value = rng.randint(-5, 5)
            at_ms = 1_000 + step // 3  # several records share a millisecond: ties fall to the player id
            changes.append(change(tenant, player, seqs[player], at_ms, (board, value)))
            updated = apply_observation(board, model.get(player), value, at_ms, seqs[player])
            assert updated is not None
            model[player] = updated
        for start in range(0, len(changes), 37):
            await boards.apply(changes[start : start + 37])
        expected = sorted(model, key=lambda p: rank_key(board, model[p], p))
        key = BoardKey(tenant, "game", board, "all")
        page = await boards.page(key, offset=0, limit=100)
        assert [(e.player_id, e.score) for e in page] == [(p, model[p].score) for p in expected]
        middle = page[len(page) // 2]
        after = await boards.page(key, limit=5, after=position_of(board, middle))
        assert [(e.rank, e.player_id) for e in after] == [
            (e.rank, e.player_id) for e in page[middle.rank : middle.rank + 5]
        ]
        around = await boards.around(key, middle, above=3, below=3)
        assert around == page[max(middle.rank - 4, 0) : middle.rank + 3]
        for rank, player in enumerate(expected, start=1):
            standing = await boards.standing(key, player)
            assert standing is not None and (standing.rank, standing.score) == (rank, model[player].score)

    async def test_a_players_entries_export_and_are_forgotten_with_its_name(
        self, boards: BoardStore, tenant: str
    ) -> None:
        weekly = Observation(INCR, "2026-W49", 3)
        await boards.apply(
            [
                change(tenant, "ahead", 1, 1_000, (DESC_BEST, 900), (INCR, 50), name="Ahead"),
                change(tenant, "me", 1, 2_000, (DESC_BEST, 700), (INCR, 50), name="Secret Name"),
                BoardChange(tenant, "game", "me", 2, 3_000, None, (weekly,)),
            ]
        )
        mine = {(e.board_id, e.period_id): (e.rank, e.score) for e in await boards.entries_of(tenant, "game", "me")}
        assert mine == {("high", "all"): (2, 700), ("xp", "all"): (2, 50), ("xp", "2026-W49"): (1, 3)}
        assert await boards.forget_player(tenant, "game", "me") == 3
        assert await boards.entries_of(tenant, "game", "me") == []
        page = await boards.page(BoardKey(tenant, "game", DESC_BEST, "all"), limit=10)
        assert [(r.player_id, r.username, r.rank) for r in page] == [("ahead", "Ahead", 1)]
        assert await boards.forget_player(tenant, "game", "me") == 0


class TestEmbeddedBoards(BoardStoreContract):
    async def create(self, tmp_path: Path) -> BoardStore:
        store = SqliteStore(tmp_path / "ludex.sqlite3")
        await store.open()  # its schema steps create the board tables
        await store.close()
        return SqliteBoardStore(tmp_path / "ludex.sqlite3")


class TestEmbeddedBoardsOwnFile(BoardStoreContract):
    async def create(self, tmp_path: Path) -> BoardStore:
        return SqliteBoardStore(tmp_path / "boards" / "leaderboards.sqlite3", own_file=True)


class TestRedisBoards(BoardStoreContract):
    @pytest.fixture(autouse=True)
    def _url(self, redis_url: str) -> None:
        self.url = redis_url

    async def create(self, tmp_path: Path) -> BoardStore:
        return RedisBoardStore(self.url, shards=3)
