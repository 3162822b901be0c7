"""`POST .../leaderboards/{boardId}/scores` answers a rank or a problem, never `rank: null`: a
score the board store did not take in (a real SQLite trigger refuses this one player's entries)
answers 503 `store-unavailable` and stays journaled, off the board (until a rebuild)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from tests.e2e.helpers import assert_problem, unique
from tests.routes.conftest import RouteApi as Api
from tests.routes.conftest import Seam


@contextmanager
def board_refuses(seam: Seam, player: str) -> Iterator[None]:
    """Entries of `player` fail to be written while inside (only its own: other tests share the file)."""
    trigger = f"refuse_{player.replace('-', '_')}"
    conn = sqlite3.connect(seam.holder.settings.sqlite_path, timeout=30)
    try:
        conn.execute(
            f"CREATE TRIGGER {trigger} BEFORE INSERT ON leaderboard_entries WHEN NEW.player_id = '{player}'"
            " BEGIN SELECT RAISE(ABORT, 'board refused'); END"
        )
        conn.commit()
        yield
    finally:
        conn.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        conn.commit()
        conn.close()


def test_a_score_the_board_did_not_take_in_answers_503_and_a_keyed_retry_answers_its_rank(
    api: Api, seam: Seam, player: str
) -> None:
    key = unique("k")
    body = {"playerId": player, "score": 4242}
    with board_refuses(seam, player):
        refused = api.post("/leaderboards/high-score/scores", body, headers={"Idempotency-Key": key})
    assert_problem(refused, 503, "store-unavailable")
    assert_problem(api.get(f"/leaderboards/high-score/players/{player}"), 404, "not-ranked")
    replayed = api.post("/leaderboards/high-score/scores", body, headers={"Idempotency-Key": key})
    assert_problem(replayed, 503, "store-unavailable")  # the replay is not applied again: still unranked

    scored = api.post(
        "/leaderboards/high-score/scores", {**body, "score": 10}, headers={"Idempotency-Key": unique("k")}
    )
    assert scored.status_code == 200, scored.text
    answer = scored.json()
    assert isinstance(answer["rank"], int) and answer["rank"] >= 1
    assert answer["score"] == 10  # the refused 4242 was journaled but never reached the board
