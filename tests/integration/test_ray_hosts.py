"""Shard hosts as real Ray actors behind the directory, and their recovery from SIGKILL."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import Any

import pytest

from actors.cluster import start_shard_hosts, stop_cluster
from actors.directory import ShardDirectory
from actors.host import CommandRequest, ShardHost
from actors.sharding import shard_for
from actors.stores.base import Store
from actors.stores.mongo import MongoStore
from actors.stores.sqlite import SqliteStore
from config.settings import Settings
from engine import commands as c
from engine.identity import player_key

pytestmark = pytest.mark.ray

T, P = "acme", "space"


async def test_directory_routes_players_to_their_shards(
    ray_instance: Any, tmp_path: Path, demo_economy_document: dict[str, Any]
) -> None:
    settings = Settings(deployment="directory-test", data_dir=tmp_path, shards=2)
    handles = start_shard_hosts(settings)
    try:
        directory = ShardDirectory.connect(settings)
        assert (await directory.define_economy(T, P, demo_economy_document)).ok
        players = [f"p{i}" for i in range(12)]
        created = await directory.execute([CommandRequest(T, P, p, c.CreatePlayer(username=p)) for p in players])
        assert all(o.ok and o.created for o in created)
        batch = [CommandRequest(T, P, p, c.AwardXp(100 + i)) for i, p in enumerate(players)]
        batch += [CommandRequest(T, P, "p0", c.Credit("coins", 5)), CommandRequest(T, P, "p0", c.Debit("coins", 5))]
        outcomes = await directory.execute(batch)
        assert [o.body["xp"] for o in outcomes[:12]] == [100 + i for i in range(12)]
        assert [o.body["balance"] for o in outcomes[12:]] == [5, 0]
        profile = await directory.view(T, P, "p3", "profile")
        assert profile.body["level"] == 2 and profile.body["xp"] == 103
        stats = await asyncio.gather(*(h.stats.remote() for h in handles))
        expected = [sum(shard_for(T, P, p, 2) == s for p in players) for s in range(2)]
        assert [s["activeEntities"] for s in stats] == expected
    finally:
        stop_cluster(settings.deployment)


async def crash_mid_stream(ray: Any, store: Store, document: dict[str, Any]) -> tuple[dict[str, int], set[str]]:
    """Stream keyed credits at a host actor, SIGKILL its process mid-stream; return the amounts
    sent and the keys that were acknowledged before the crash."""
    actor = ray.remote(ShardHost).options(max_restarts=0, max_concurrency=1000, num_cpus=0).remote(store)
    await actor.start.remote()
    assert (await actor.define_economy.remote(T, P, document)).ok
    assert (await actor.execute.remote([CommandRequest(T, P, "vic", c.CreatePlayer("vic"))]))[0].ok
    pid = await actor.pid.remote()
    amounts = {f"k{i}": i % 7 + 1 for i in range(800)}
    keys = list(amounts)
    acked: set[str] = set()
    in_flight = asyncio.Semaphore(4)

    async def send(chunk: list[str]) -> None:
        async with in_flight:
            requests = [CommandRequest(T, P, "vic", c.Credit("coins", amounts[k]), k) for k in chunk]
            try:
                outcomes = await actor.execute.remote(requests)
            except ray.exceptions.RayError:
                return
            acked.update(k for k, o in zip(chunk, outcomes, strict=True) if o.ok)

    async def kill_when_busy() -> None:
        while len(acked) < 200:
            await asyncio.sleep(0.001)
        os.kill(pid, signal.SIGKILL)

    killer = asyncio.create_task(kill_when_busy())
    await asyncio.gather(*(send(keys[i : i + 8]) for i in range(0, len(keys), 8)))
    await asyncio.wait_for(killer, timeout=60)
    return amounts, acked


async def check_recovery(store: Store, amounts: dict[str, int], acked: set[str]) -> None:
    assert 200 <= len(acked) < len(amounts), "the crash must land in the middle of the stream"
    host = ShardHost(store)
    await host.start(sweep=False)
    try:
        journal = await store.read_journal(player_key(T, P, "vic"))
        journaled = [r.idempotency_key for r in journal if r.idempotency_key]
        assert len(journaled) == len(set(journaled)), "no command applied twice"
        assert acked <= set(journaled), "every acknowledged command survived"
        wallet = await host.view(T, P, "vic", "wallet")
        assert wallet.body["balances"]["coins"] == sum(amounts[k] for k in journaled)
        retried = await host.execute([CommandRequest(T, P, "vic", c.Credit("coins", a), k) for k, a in amounts.items()])
        assert all(o.ok for o in retried)
        assert {k for k, o in zip(amounts, retried, strict=True) if o.replayed} == set(journaled)
        wallet = await host.view(T, P, "vic", "wallet")
        assert wallet.body["balances"]["coins"] == sum(amounts.values())
        keys_after = [r.idempotency_key for r in await store.read_journal(player_key(T, P, "vic")) if r.idempotency_key]
        assert sorted(keys_after) == sorted(amounts)
    finally:
        await host.stop()


async def test_sqlite_host_killed_mid_stream_loses_nothing_acknowledged(
    ray_instance: Any, tmp_path: Path, demo_economy_document: dict[str, Any]
) -> None:
    path = tmp_path / "ludex.sqlite3"
    amounts, acked = await crash_mid_stream(ray_instance, SqliteStore(path), demo_economy_document)
    await check_recovery(SqliteStore(path), amounts, acked)


@pytest.mark.mongo
async def test_mongo_host_killed_mid_stream_loses_nothing_acknowledged(
    ray_instance: Any, mongo_url: str, mongo_database: str, demo_economy_document: dict[str, Any]
) -> None:
    amounts, acked = await crash_mid_stream(ray_instance, MongoStore(mongo_url, mongo_database), demo_economy_document)
    await check_recovery(MongoStore(mongo_url, mongo_database), amounts, acked)
