"""`leaderboard.reset`: when a board's period ends, its winners are announced once, as an event
of the board's own journal entity `leaderboard:<tenant>/<project>/<boardId>` (one record per
ended period). The journal's `(entity, seq)` fencing makes the announcement exactly-once even if
two hosts try; the event store projects it like a player's events, so it reaches
`GET .../events`, realtime subscribers and webhooks.

Boards need no data moved at a reset: entries are kept per period, so the ended period simply
stops receiving writes and stays readable (`?period=previous` or its id). An announcement waits
`grace_s` past the boundary, for records decided just before it that are still being applied.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from actors.boards.rebuild import economy_in
from actors.boards.store import BoardKey, BoardStore
from actors.clock import epoch_ms
from actors.economy_reads import projects_in
from actors.stores.base import BOARD_RESET, JournalRecord, JournalStore, board_entity
from engine.leaderboards import RESET_WINNERS, Leaderboard, Period, previous_period
from engine.rules import rfc3339

RESET = BOARD_RESET
log = logging.getLogger("ludex.leaderboards")


def reset_event(board: Leaderboard, period: Period, winners: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "type": RESET,
        "data": {"boardId": board.id, "periodId": period.id, **_bounds(period), "winners": winners},
    }


def _bounds(period: Period) -> dict[str, Any]:
    document = period.to_document()
    return {"startsAt": document["startsAt"], "endsAt": document["endsAt"]}


class BoardResets:
    def __init__(
        self, store: JournalStore, boards: BoardStore, clock: Any, *, interval_s: float = 30.0, grace_s: float = 60.0
    ) -> None:
        self.store = store
        self.boards = boards
        self.clock = clock
        self.interval_s = interval_s
        self.grace = timedelta(seconds=grace_s)
        self._last_run: float | None = None

    async def run_if_due(self) -> int:
        now = self.clock.monotonic()
        if self._last_run is not None and now - self._last_run < self.interval_s:
            return 0
        self._last_run = now
        return await self.run()

    async def run(self) -> int:
        """Announce every ended period not announced yet; answers how many were."""
        announced = 0
        for tenant, project in await projects_in(self.store):
            economy = await economy_in(self.store, tenant, project)
            if economy is None:
                continue
            for board in economy.leaderboards.values():
                if board.reset != "never" and await self._announce(tenant, project, board):
                    announced += 1
        return announced

    async def _announce(self, tenant: str, project: str, board: Leaderboard) -> bool:
        now = self.clock.now()
        ended = previous_period(board.reset, now - self.grace)
        if ended is None:
            return False
        entity = board_entity(tenant, project, board.id)
        journal = await self.store.read_journal(entity)
        if any(record.events[0]["data"]["periodId"] == ended.id for record in journal):
            return False
        top = await self.boards.page(BoardKey(tenant, project, board, ended.id), offset=0, limit=RESET_WINNERS)
        if not top:  # nobody played that period (or the board did not exist yet): nothing to announce
            return False
        winners = [{"rank": w.rank, "playerId": w.player_id, "username": w.username, "score": w.score} for w in top]
        seq = journal[-1].seq + 1 if journal else 1
        record = JournalRecord(entity, seq, [reset_event(board, ended, winners)], rfc3339(now), epoch_ms(now))
        result = await self.store.commit([record], [])
        if result.conflicts:  # another host announced it first
            return False
        log.info("leaderboard %s/%s/%s: period %s ended", tenant, project, board.id, ended.id)
        return True
