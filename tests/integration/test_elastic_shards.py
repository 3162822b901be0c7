"""Shard hosts added and removed while a keyed load runs, on the session's Ray (one node). The
multi-node scenarios, a node's death included, live in tests/cluster."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import ray

from actors.cluster import NAMESPACE, coordinator_name, scale_shard_hosts, start_shard_hosts, stop_cluster
from actors.directory import ShardDirectory
from actors.host import CommandRequest
from actors.stores.sqlite import SqliteStore
from config.settings import Settings
from engine import commands as c
from tests.support.shard_load import (
    LoadStats,
    P,
    T,
    check_invariants,
    client_loop,
    players,
    prepare,
    replay_some,
    wait_for_acks,
)

pytestmark = pytest.mark.ray


async def test_hosts_added_and_removed_under_load_lose_and_repeat_nothing(
    ray_instance: Any, tmp_path: Path, demo_economy_document: dict[str, Any]
) -> None:
    settings = Settings(deployment="elastic-test", data_dir=tmp_path, shards=2, handoff_batch_slots=128)
    start_shard_hosts(settings)
    try:
        directory = ShardDirectory.connect(settings)
        names = players(40)
        await prepare(directory, demo_economy_document, names)
        stats, stop = LoadStats(), asyncio.Event()
        clients = [asyncio.create_task(client_loop(directory, i, names, stats, stop)) for i in range(4)]
        await wait_for_acks(stats, 200)

        grown = await asyncio.to_thread(scale_shard_hosts, settings.deployment, 3)
        assert grown["hosts"] == 3
        assert sorted(o["slots"] for o in grown["owners"]) == [341, 341, 342]
        assert grown["lastRebalance"]["moved"] == 341, "the new host takes its share, nothing else moves"
        await wait_for_acks(stats, 200)

        shrunk = await directory.scale(2)  # what PUT /v1/admin/shards does
        assert [o["slots"] for o in shrunk["owners"]] == [512, 512]
        assert shrunk["lastRebalance"]["moved"] == 341, "only the removed host's slots move"
        await wait_for_acks(stats, 200)
        stop.set()
        await asyncio.gather(*clients)

        assert stats.unavailable == 0, "a planned move never answers 503"
        assert directory.reroutes > 0, "commands met the moves and were re-sent to the new owners"
        assert not any(o.ok is False and o.slug == "wrong-owner" for o in stats.acked.values())
        with pytest.raises(ValueError):
            ray.get_actor(f"{settings.deployment}-shard-2", namespace=NAMESPACE)  # stopped after its handoffs

        store = SqliteStore(settings.sqlite_path)
        await store.open()
        try:
            journals = await check_invariants(directory, store, names, stats)
            table = await store.load_slots()
        finally:
            await store.close()
        writers = Counter(r.host for records in journals.values() for r in records if r.epoch is not None)
        assert set(writers) == {f"{settings.deployment}-shard-{i}" for i in range(3)}, "every host wrote"
        assert Counter(row.host for row in table) == {
            f"{settings.deployment}-shard-0": 512,
            f"{settings.deployment}-shard-1": 512,
        }
        await replay_some(directory, stats)
    finally:
        stop_cluster(settings.deployment)


async def test_a_restarted_coordinator_reads_the_table_and_host_count_back(
    ray_instance: Any, tmp_path: Path, demo_economy_document: dict[str, Any]
) -> None:
    settings = Settings(deployment="coordinator-restart", data_dir=tmp_path, shards=1)
    start_shard_hosts(settings)
    try:
        await asyncio.to_thread(scale_shard_hosts, settings.deployment, 2)
        coordinator = ray.get_actor(coordinator_name(settings.deployment), namespace=NAMESPACE)
        before = await coordinator.slot_map.remote()
        pid = await coordinator.pid.remote()
        os.kill(pid, signal.SIGKILL)  # Ray restarts it: a new process, nothing in memory
        deadline = time.monotonic() + 60
        while True:
            try:
                if await coordinator.pid.remote() != pid:
                    after = await coordinator.slot_map.remote()
                    break
            except (ray.exceptions.RayActorError, ray.exceptions.ActorUnavailableError):
                pass
            assert time.monotonic() < deadline, "the coordinator never came back"
            await asyncio.sleep(0.2)
        assert after["hosts"] == before["hosts"] == [f"{settings.deployment}-shard-{i}" for i in range(2)]
        assert after["owners"] == before["owners"] and after["version"] >= before["version"]
        directory = ShardDirectory.connect(settings)
        await prepare(directory, demo_economy_document, players(6))
        # A redeploy (the KubeRay entrypoint) keeps the count scaled to, not LUDEX_SHARDS (1).
        kept = await asyncio.to_thread(start_shard_hosts, settings, keep_scaled=True)
        assert len(kept) == 2
    finally:
        stop_cluster(settings.deployment)


async def test_a_replica_whose_host_was_stopped_and_started_again_answers_without_a_503(
    ray_instance: Any, tmp_path: Path, demo_economy_document: dict[str, Any]
) -> None:
    """Found by schemathesis over the whole API: after a scale down and up again, an ingress
    replica that had not routed meanwhile still held the stopped host's handle. Its next read
    (`economy_document`, under the store catalog and leaderboards) and its next command met a dead
    actor whose name the fresh map names again (a new actor) and answered 503 "restarting"; its
    readiness answered 503 "a shard host is not up"."""
    settings = Settings(deployment="renamed-host", data_dir=tmp_path, shards=2)
    start_shard_hosts(settings)
    try:
        scaler, replica = ShardDirectory.connect(settings), ShardDirectory.connect(settings)
        second = f"{settings.deployment}-shard-1"
        project = next(p for p in (f"game-{i}" for i in range(200)) if replica.map.owner(T, p, "") == second)
        player = next(p for p in players(200) if replica.map.owner(T, P, p) == second)
        await prepare(replica, demo_economy_document, [player])
        assert (
            await replica.define_economy(T, project, demo_economy_document)
        ).ok  # the replica holds shard-1's handle

        await scaler.scale(1)
        await scaler.scale(2)  # a new actor under the same name

        assert await replica.ready(), "readiness asks the new actor, not the stopped one"
        assert await replica.economy_document(T, project) is not None
        [credited] = await replica.execute([CommandRequest(T, P, player, c.Credit("coins", 1), "after-rescale")])
        assert credited.ok, credited
        assert replica.map.owner(T, P, player) == second
    finally:
        stop_cluster(settings.deployment)
