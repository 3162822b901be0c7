"""A board change that never reached the board (its host died after the record was durable, or
the commit's answer failed and the retry was answered from the journal) is repaired by the next
activation of the player, and no snapshot covers a record whose change is not on the board yet,
so every such record is in some activation's tail. Found by the simulator (docs/SIMULATION.md,
"a leaderboard equals its rebuild"); real SQLite store and embedded boards."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import Any

from actors.boards.rebuild import rebuild_project
from actors.boards.sqlite import SqliteBoardStore
from actors.boards.store import BoardKey
from actors.host import CommandRequest, ShardHost
from actors.stores.sqlite import SqliteStore
from engine import commands as c
from engine.definitions import parse_economy
from engine.identity import player_key

T, P = "acme", "space"


def req(player: str, command: c.Command, key: str | None = None) -> CommandRequest:
    return CommandRequest(T, P, player, command, key)


async def started(path: Path, *, boards: bool, snapshot_every: int = 100) -> ShardHost:
    file = path / "ludex.sqlite3"
    host = ShardHost(
        SqliteStore(file), boards=SqliteBoardStore(file) if boards else None, snapshot_every=snapshot_every
    )
    await host.start(sweep=False)
    return host


async def test_the_next_activation_puts_a_lost_change_on_the_board(
    tmp_path: Path, demo_economy_document: dict[str, Any]
) -> None:
    # A host whose board changes never landed: as one that died after each commit.
    lost = await started(tmp_path, boards=False)
    assert (await lost.define_economy(T, P, demo_economy_document)).ok
    assert (await lost.execute([req("ann", c.CreatePlayer("Ann"))]))[0].ok
    assert (await lost.execute([req("ann", c.AwardXp(40), key="k1")]))[0].ok
    await lost.stop()

    host = await started(tmp_path, boards=True)
    assert host.board_feed is not None
    xp = BoardKey(T, P, dict(parse_economy(demo_economy_document).leaderboards)["xp-all-time"], "all")
    assert await host.board_feed.boards.standing(xp, "ann") is None
    assert (await host.view(T, P, "ann", "wallet")).ok  # activates ann
    replay = (await host.execute([req("ann", c.AwardXp(40), key="k1")]))[0]
    assert replay.ok and replay.replayed
    ranked = await host.board_feed.boards.standing(xp, "ann")
    assert ranked is not None and (ranked.score, ranked.username) == (40, "Ann")
    await host.stop()

    rebuilt = SqliteBoardStore(tmp_path / "rebuilt.sqlite3", own_file=True)
    store = SqliteStore(tmp_path / "ludex.sqlite3")
    await store.open()
    await rebuilt.open()
    try:
        await rebuild_project(store, rebuilt, T, P)
        again = await rebuilt.standing(xp, "ann")
        assert again is not None and (again.score, again.updated_at_ms) == (ranked.score, ranked.updated_at_ms)
    finally:
        await rebuilt.close()
        await store.close()


async def test_no_snapshot_or_passivation_before_the_board_has_the_change(
    tmp_path: Path, demo_economy_document: dict[str, Any]
) -> None:
    host = await started(tmp_path, boards=True, snapshot_every=1)
    assert (await host.define_economy(T, P, demo_economy_document)).ok
    assert (await host.execute([req("ann", c.CreatePlayer("Ann"))]))[0].ok
    await host.entities.settle()
    key = player_key(T, P, "ann")
    entity = host.entities.peek(key)
    assert entity is not None and entity.durable_state is not None
    on_board: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    entity.boards_settled = on_board  # a change of ann's still queued for the board
    later = dataclasses.replace(entity.durable_state, seq=entity.durable_state.seq + 1)

    entity.state = later  # decided, and now durable
    host.entities.made_durable(entity, later)
    assert await host.passivate_idle(force=True) == 0, "ann is not quiet while a change is owed"
    for _ in range(20):
        await asyncio.sleep(0)
    snapshot = (await host.store.load_histories([key]))[0].snapshot
    assert snapshot is None or snapshot.seq < later.seq, "a snapshot covered a change not on the board"

    on_board.set_result(None)
    await host.entities.settle()
    snapshot = (await host.store.load_histories([key]))[0].snapshot
    assert snapshot is not None and snapshot.seq == later.seq
    assert await host.passivate_idle(force=True) == 1
    await host.stop()
