"""Finding 6 of the second pass: an erasure leaves no byte of the player's personal data in any
store. The player has a distinctive username, a free-text reason and a client-chosen request id,
wins a weekly board whose reset is announced (the winners' usernames live under the board, not
the player), and its reason is folded into the economy-health documents; after the erasure the
store's bytes (SQLite file and WAL after the checkpoint, every MongoDB document), the events,
the economy-health report and its documents hold none of them, while every total stays.

Runs without Ray: a shard host on an injected clock over the real stores (nx-27017 for MongoDB)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from actors.boards.sqlite import SqliteBoardStore
from actors.clock import FakeClock
from actors.economy_health import EconomyHealth
from actors.host import CommandRequest, ShardHost
from actors.privacy import Erased, PlayerPrivacy, personal_data_holders
from actors.stores.base import EventQuery, Store
from engine import commands as c
from tests.integration.test_erasure import board_file_bytes, boards_beside, store, stored_bytes

__all__ = ["store"]  # the SQLite and MongoDB stores of test_erasure.py, as a fixture here

T, P = "acme", "space"
SUNDAY_LATE = datetime(2026, 11, 29, 23, 59, 59, 999_000, tzinfo=UTC)


async def run(host: ShardHost, player: str, command: c.Command, request_id: str) -> None:
    outcome = (await host.execute([CommandRequest(T, P, player, command, None, request_id)]))[0]
    assert outcome.ok, outcome


async def health_rows(health: EconomyHealth) -> list[dict[str, Any]]:
    await health.catch_up(T, P)
    return [day.row() for day in await health.days(T, P, "coins", "2026-11-01", "2026-12-31")]


def totals(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(r["day"], r["sources"]["total"], r["sinks"]["total"], r["supply"], r["holders"]) for r in rows]


async def test_an_erased_winner_leaves_no_username_reason_or_request_id_anywhere(
    store: Store, tmp_path: Path, demo_economy_document: dict[str, Any]
) -> None:
    tag = uuid.uuid4().hex[:10]
    username, reason, request_id = f"Winner{tag}", f"birthday gift for {tag}", f"req-{tag}-victim"
    secrets = [username, reason, request_id]
    clock = FakeClock(SUNDAY_LATE)
    boards: SqliteBoardStore = boards_beside(store, tmp_path)
    host = ShardHost(store, boards=boards, clock=clock)
    await host.start(sweep=False)
    try:
        assert (await host.define_economy(T, P, demo_economy_document)).ok
        await run(host, "victim", c.CreatePlayer(username), request_id)
        await run(host, "victim", c.Credit("coins", 500, reason), request_id)
        await run(host, "victim", c.Debit("coins", 20, reason), request_id)
        await run(host, "victim", c.IncrementCounter("wins", 4), request_id)
        await run(host, "other", c.CreatePlayer("Other"), "req-other")
        await run(host, "other", c.Credit("coins", 70, "daily bonus"), "req-other")
        await run(host, "other", c.IncrementCounter("wins", 1), "req-other")
        clock.advance(300)  # Monday 00:05 UTC: last week ended and its grace passed
        await host.sweep_once()
        resets = await store.read_events(EventQuery(tenant=T, project=P, types=("leaderboard.reset",)))
        assert [w["username"] for w in resets[0].data["winners"]] == [username, "Other"]
        health = EconomyHealth(store)
        before = await health_rows(health)
        assert reason in orjson.dumps(before).decode()
        found = await stored_bytes(store) + board_file_bytes(boards)
        assert all(secret.encode() in found for secret in secrets), "the test must see the data first"

        privacy = PlayerPrivacy(store, holders=personal_data_holders(boards))
        assert isinstance(await privacy.erase(host, T, P, "victim", "req-erase"), Erased)

        after = await health_rows(health)
        assert totals(after) == totals(before), "economy health keeps every amount"
        events = await store.read_events(EventQuery(tenant=T, project=P), limit=1000)
        reset = [e for e in events if e.type == "leaderboard.reset"][0]
        assert reset.data["winners"][0] == {"rank": 1, "playerId": "victim", "username": "", "score": 4}
        assert reset.data["winners"][1]["username"] == "Other", "another player's name stays"
        shown = orjson.dumps([e.public() for e in events]) + orjson.dumps(after)
        found = await stored_bytes(store) + board_file_bytes(boards)
        for secret in secrets:
            assert secret.encode() not in found, f"{secret!r} is still stored"
            assert secret.encode() not in shown, f"{secret!r} is still shown"
        assert b"daily bonus" in found and b"req-other" in found, "the other player's data stays"
    finally:
        await host.stop()
