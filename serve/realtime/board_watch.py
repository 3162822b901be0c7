"""`leaderboard.rank.changed` for realtime subscribers of a board, throttled.

A connection sends `{"action": "watch-leaderboard", "boardId": "high-score", "top": 10}`; the
replica keeps one watcher per (tenant, project, board, top) whatever the number of connections,
reads the board's current top `top` at most once per `LUDEX_LEADERBOARD_PUSH_INTERVAL_S` and, when
it differs from what it last pushed, sends every watching connection
`{"type": "event", "event": {"type": "leaderboard.rank.changed", "tenantId", "projectId",
"data": {"boardId", "periodId", "top": [{rank, playerId, username, score, updatedAt}]}}}`.
A burst of a thousand awards is at most one message a second per board; the first read answers
at once, so a watcher starts from the current standings.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from actors.boards.store import BoardKey, BoardStore
from actors.ingress.realtime_hub import Subscriber
from engine.leaderboards import Leaderboard, period_at
from serve.api.leaderboards import entry_body

RANK_CHANGED = "leaderboard.rank.changed"
MAX_TOP = 50
log = logging.getLogger("ludex.leaderboards")


@dataclass(eq=False)
class _Watcher:
    tenant: str
    project: str
    board: Leaderboard
    top: int
    subscribers: set[Subscriber] = field(default_factory=set)
    last: Any = None
    task: asyncio.Task[None] | None = None


class BoardWatch:
    def __init__(self, boards: BoardStore, interval_s: float) -> None:
        self.boards = boards
        self.interval_s = interval_s
        self._watchers: dict[tuple[str, str, str, int], _Watcher] = {}

    def watch(self, subscriber: Subscriber, board: Leaderboard, top: int) -> None:
        key = (subscriber.tenant, subscriber.project, board.id, top)
        watcher = self._watchers.get(key)
        if watcher is None or watcher.board != board:
            watcher = _Watcher(subscriber.tenant, subscriber.project, board, top)
            self._watchers[key] = watcher
            watcher.task = asyncio.create_task(self._run(key, watcher), name=f"ludex-board-watch-{board.id}")
        elif watcher.last is not None:
            subscriber.send(watcher.last)  # a late joiner starts from the current standings
        watcher.subscribers.add(subscriber)

    def forget(self, subscriber: Subscriber) -> None:
        for watcher in self._watchers.values():
            watcher.subscribers.discard(subscriber)

    async def _run(self, key: tuple[str, str, str, int], watcher: _Watcher) -> None:
        try:
            while watcher.subscribers or watcher.last is None:
                try:
                    await self._poll(watcher)
                except Exception:  # noqa: BLE001 - a store hiccup: try again at the next tick
                    log.exception("leaderboard watch %s failed; retrying", key)
                await asyncio.sleep(self.interval_s)
        finally:
            if self._watchers.get(key) is watcher:
                del self._watchers[key]

    async def _poll(self, watcher: _Watcher) -> None:
        period = period_at(watcher.board.reset, datetime.now(UTC))
        page = await self.boards.page(
            BoardKey(watcher.tenant, watcher.project, watcher.board, period.id), limit=watcher.top
        )
        message = {
            "type": "event",
            "event": {
                "type": RANK_CHANGED,
                "tenantId": watcher.tenant,
                "projectId": watcher.project,
                "data": {"boardId": watcher.board.id, "periodId": period.id, "top": [entry_body(e) for e in page]},
            },
        }
        if message != watcher.last:
            watcher.last = message
            for subscriber in list(watcher.subscribers):
                subscriber.send(message)

    async def close(self) -> None:
        tasks = [w.task for w in self._watchers.values() if w.task is not None]
        for task in tasks:
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.gather(*tasks, return_exceptions=True)
