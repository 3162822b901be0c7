"""The export and the audit replay against a real shard host and SQLite store, without Ray: the
export streams in bounded chunks however long the history, and the state recomputed at every
seq is the profile the host showed right after that command, across an economy change."""

from __future__ import annotations

import copy
import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from actors.host import CommandRequest, ShardHost
from actors.privacy import PlayerPrivacy
from actors.stores.sqlite import SqliteStore
from engine import commands as c

T, P = "acme", "space"


@pytest.fixture
async def host(tmp_path: Path, demo_economy_document: dict[str, Any]) -> AsyncIterator[ShardHost]:
    host = ShardHost(SqliteStore(tmp_path / "ludex.sqlite3"), snapshot_every=7)
    await host.start(sweep=False)
    assert (await host.define_economy(T, P, demo_economy_document)).ok
    yield host
    await host.stop()


async def test_a_long_history_exports_in_bounded_chunks_of_valid_json(host: ShardHost) -> None:
    assert (await host.execute([CommandRequest(T, P, "whale", c.CreatePlayer("whale"))]))[0].ok
    credits = [CommandRequest(T, P, "whale", c.Credit("coins", 1, "drip")) for _ in range(3000)]
    for start in range(0, len(credits), 500):
        assert all(o.ok for o in await host.execute(credits[start : start + 500]))
    privacy = PlayerPrivacy(host.store, page=100)
    chunks = await privacy.export(T, P, "whale")
    assert chunks is not None
    received = [chunk async for chunk in chunks]
    # Two sections of ~3000 items each, 100 records a page: many chunks, none holding more than a page.
    assert len(received) > 60
    largest = max(len(chunk) for chunk in received)
    assert largest < 100 * 600, f"a chunk of {largest} bytes holds more than one page"
    exported = orjson.loads(b"".join(received))
    assert exported["wallet"] == {"coins": 3000}
    assert len(exported["ledger"]) == 3000 and sum(e["delta"] for e in exported["ledger"]) == 3000
    assert len(exported["events"]) == 3001 and exported["seq"] == 3001
    assert exported["purchases"] == [] and exported["leaderboards"] == []


async def test_the_state_at_every_seq_is_the_profile_the_host_showed_then(
    host: ShardHost, demo_economy_document: dict[str, Any]
) -> None:
    rng = random.Random(15)
    steeper = copy.deepcopy(demo_economy_document)
    steeper["xpCurve"]["levels"] = [level * 3 for level in demo_economy_document["xpCurve"]["levels"]]
    commands: list[c.Command | str] = [c.CreatePlayer("ann", {"team": "red"}), c.Credit("coins", 400)]
    choices: list[c.Command] = [
        c.AwardXp(150, "quest"),
        c.Credit("gems", 5),
        c.Debit("coins", 15),
        c.Purchase("potion-pack"),
        c.IncrementCounter("wins"),
        c.ProgressQuest("daily-battles", "battles"),
        c.UpdatePlayer(metadata={"team": "blue"}),
    ]
    commands += [rng.choice(choices) for _ in range(30)]
    commands.insert(12, "redefine")
    shown: dict[int, dict[str, Any]] = {}
    for command in commands:
        if command == "redefine":
            assert (await host.define_economy(T, P, steeper)).ok
            continue
        assert isinstance(command, c.Command)
        outcome = (await host.execute([CommandRequest(T, P, "ann", command)]))[0]
        if outcome.ok and outcome.event_ids:
            profile = await host.view(T, P, "ann", "profile")
            journal = await host.store.read_journal("player:acme/space/ann")
            shown[journal[-1].seq] = profile.body
    privacy = PlayerPrivacy(host.store)
    versions = set()
    for seq, profile in shown.items():
        view = await privacy.state_at(T, P, "ann", seq)
        assert view is not None and view["seq"] == seq and not view["deleted"]
        versions.add(view["economyVersion"])
        assert {k: v for k, v in view.items() if k not in ("seq", "occurredAt", "economyVersion", "deleted")} == profile
    assert versions == {1, 2}, "the replay used each version where it was in force"
    assert await privacy.state_at(T, P, "ann", max(shown) + 1) is None
    page = await privacy.journal_page(T, P, "ann", after=0, limit=5)
    assert page is not None and [r["seq"] for r in page[0]] == [1, 2, 3, 4, 5] and page[1] == 5
