"""Elastic shards on a multi-node Ray cluster on one machine (`ray.cluster_utils.Cluster`: a head
and worker raylets), all sharing one MongoDB (nx-27017). A continuous keyed load of XP awards and
purchases runs from several clients while (1) a host is added on a new node, (2) a host is
removed gracefully, (3) the node of a host is killed (SIGKILL of the host process, then of the
raylet). After each: every acknowledged command is in the journal exactly once (retried keys
included), no two hosts wrote one slot in one epoch, balances equal the sum of their ledgers.

Needs its own Ray (not the session's): run it alone, `pytest -m cluster tests/cluster`. It prints
the figures docs/SCALING.md reports (run with `-s` to see them).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import ray
from ray.cluster_utils import Cluster

from actors.cluster import NAMESPACE, start_shard_hosts, stop_cluster
from actors.directory import ShardDirectory
from actors.stores.mongo import MongoStore
from config.settings import Settings
from tests.support.shard_load import LoadStats, check_invariants, client_loop, players, prepare, replay_some

pytestmark = [pytest.mark.cluster, pytest.mark.mongo]

RESOURCE = "ludex_shard_host"  # one per worker node: one shard host per node
CLIENTS = 4
STEADY_S = 6.0  # how long each phase measures throughput
FAST_FAILURE_DETECTION = {  # a killed raylet is noticed in about a second, not Ray's default 15 s
    "health_check_initial_delay_ms": 0,
    "health_check_period_ms": 300,
    "health_check_timeout_ms": 300,
    "health_check_failure_threshold": 3,
}


def retrying(start: Callable[..., Any], **node_args: Any) -> Any:
    """A node that starts, tried up to three times: Ray gives a raylet a fixed 30 s to register,
    which a machine busy with other test runs sometimes exceeds."""
    for attempt in range(3):
        try:
            return start(**node_args)
        except Exception as error:  # noqa: BLE001 - Ray raises a bare Exception for it
            if "timed out during startup" not in str(error) or attempt == 2:
                raise
            time.sleep(5)
    raise AssertionError("unreachable")


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    if ray.is_initialized():
        pytest.fail("the cluster tests need their own Ray: run them alone (pytest -m cluster tests/cluster)")
    cluster = Cluster()
    retrying(cluster.add_node, num_cpus=1, include_dashboard=False, _system_config=FAST_FAILURE_DETECTION)
    for _ in range(2):
        retrying(cluster.add_node, num_cpus=0, resources={RESOURCE: 1})
    ray.init(
        address=cluster.address,
        namespace="ludex-cluster-tests",
        log_to_driver=False,
        runtime_env={"env_vars": {"PYTHONPATH": str(Path(__file__).resolve().parents[2])}},
    )
    yield cluster
    ray.shutdown()
    cluster.shutdown()


class Phase:
    """A window of the load: acknowledgements per second and the longest a command waited."""

    def __init__(self, stats: LoadStats) -> None:
        self.stats = stats
        self.began = time.monotonic()
        self.stats.longest_wait_s = 0.0

    def figures(self) -> dict[str, float]:
        now = time.monotonic()
        return {
            "acksPerS": round(self.stats.rate(self.began, now), 1),
            "longestWaitS": round(self.stats.longest_wait_s, 3),
        }


async def run_load(
    directory: ShardDirectory, names: list[str], stats: LoadStats, first_client: int
) -> tuple[asyncio.Event, list[asyncio.Task[None]]]:
    stop = asyncio.Event()
    tasks = [asyncio.create_task(client_loop(directory, first_client + i, names, stats, stop)) for i in range(CLIENTS)]
    return stop, tasks


async def planned_move(
    directory: ShardDirectory, store: MongoStore, names: list[str], stats: LoadStats, hosts: int, first_client: int
) -> tuple[dict[str, Any], dict[str, float]]:
    """Scale to `hosts` under load, then a steady window; stop the load and check the invariants.
    Answers the figures of the move and of the steady window after it."""
    stop, clients = await run_load(directory, names, stats, first_client)
    moving = Phase(stats)
    report = await directory.scale(hosts)
    during = {**report["lastRebalance"], **moving.figures()}
    after = Phase(stats)
    await asyncio.sleep(STEADY_S)
    steady = after.figures()
    stop.set()
    await asyncio.gather(*clients)
    assert stats.unavailable == 0, f"scaling to {hosts} hosts answered 503"
    await check_invariants(directory, store, names, stats)
    return during, steady


async def host_node(name: str) -> tuple[str, int]:
    handle = ray.get_actor(name, namespace=NAMESPACE)
    return await handle.node_id.remote(), await handle.pid.remote()


async def test_hosts_come_go_and_die_under_load_on_a_multi_node_cluster(
    cluster: Cluster, mongo_url: str, mongo_database: str, demo_economy_document: dict[str, Any], tmp_path: Path
) -> None:
    settings = Settings(
        deployment="multinode",
        data_dir=tmp_path,
        mongo_url=mongo_url,
        mongo_database=mongo_database,
        shards=2,
        shard_host_resource=RESOURCE,
        host_down_after_s=3.0,
        handoff_batch_slots=64,
    )
    figures: dict[str, Any] = {}
    store = MongoStore(mongo_url, mongo_database)
    await asyncio.to_thread(start_shard_hosts, settings)
    try:
        directory = ShardDirectory.connect(settings)
        names = players(48)
        await prepare(directory, demo_economy_document, names)
        await store.open()
        stats = LoadStats()
        first_nodes = {(await host_node(f"multinode-shard-{i}"))[0] for i in range(2)}
        assert len(first_nodes) == 2, "one host per worker node"

        # Two hosts, steady.
        stop, clients = await run_load(directory, names, stats, 0)
        steady = Phase(stats)
        await asyncio.sleep(STEADY_S)
        figures["2 hosts"] = steady.figures()
        stop.set()
        await asyncio.gather(*clients)

        # (1) A node joins (as the autoscaler adds a worker pod), then a host is added on it.
        spare = retrying(cluster.add_node, num_cpus=0, resources={RESOURCE: 1})
        figures["scale 2->3"], figures["3 hosts"] = await planned_move(directory, store, names, stats, 3, 100)
        assert (await host_node("multinode-shard-2"))[0] == spare.node_id

        # (2) A host is removed gracefully.
        figures["scale 3->2"], figures["2 hosts again"] = await planned_move(directory, store, names, stats, 2, 200)

        # (3) The node of host 1 dies: SIGKILL of the host's process, then of the raylet.
        stop, clients = await run_load(directory, names, stats, 300)
        await asyncio.sleep(1.0)
        victim_node_id, victim_pid = await host_node("multinode-shard-1")
        victim = next(node for node in cluster.worker_nodes if node.node_id == victim_node_id)
        dying = Phase(stats)
        killed_at = time.monotonic()
        os.kill(victim_pid, signal.SIGKILL)
        cluster.remove_node(victim, allow_graceful=False)
        before = len(stats.acked)
        await asyncio.sleep(STEADY_S * 2)
        figures["node killed"] = {**dying.figures(), "unavailableAnswers": stats.unavailable}
        assert len(stats.acked) > before, "the load goes on after the node died"
        stop.set()
        await asyncio.gather(*clients)
        recovered = Phase(stats)
        stop, clients = await run_load(directory, names, stats, 400)
        await asyncio.sleep(STEADY_S)
        figures["after the node death"] = recovered.figures()
        stop.set()
        await asyncio.gather(*clients)
        figures["node death: first-ack gap s"] = round(_longest_gap_after(stats, killed_at), 3)
        journals = await check_invariants(directory, store, names, stats)
        await replay_some(directory, stats)
        figures["commands acknowledged"] = len(stats.acked)
        figures["commands retried after 503"] = len(stats.retried)
        figures["journal records"] = sum(len(records) for records in journals.values())
        table = await store.load_slots()
        figures["slots per host"] = {h: sum(r.host == h for r in table) for h in sorted({r.host for r in table})}
        assert sorted(figures["slots per host"].values()) == [512, 512]
    finally:
        print("\nelastic shards, multi-node figures:\n" + json.dumps(figures, indent=2))
        await store.close()
        await asyncio.to_thread(stop_cluster, settings.deployment)


def _longest_gap_after(stats: LoadStats, since: float) -> float:
    """The longest pause between two acknowledgements after `since`: the load-wide stall."""
    times = sorted(at for at in stats.ack_times if at >= since)
    return max((b - a for a, b in zip(times, times[1:], strict=False)), default=0.0)
