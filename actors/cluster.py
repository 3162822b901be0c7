"""Ray's lifecycle for Ludex: makes the slot coordinator, the shard hosts and the webhook worker
Ray actors (`ActorSpec`: the class, its arguments, its options, what `ludex serve` starts),
starts, scales and stops them. Routing commands to them is `actors/directory.py`; these two
are the only modules that call the Ray API."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import ray

from actors.boards.factory import board_store_for
from actors.clock import SystemClock
from actors.coordinator import Coordinator
from actors.event_publisher import RedisEventPublisher
from actors.host import ShardHost
from actors.retention import retention_of
from actors.scheduled_backups import scheduled_backups_for
from actors.secret_box import SecretBox
from actors.sharding import shard_name
from actors.slots import SlotGate
from actors.stores.factory import store_for
from actors.webhook_delivery import WebhookWorker
from config.logging import configure_logging
from config.settings import Settings
from engine.webhooks import parse_retry_schedule

NAMESPACE = "ludex"
CONTROL_TIMEOUT_S = 10.0  # the coordinator's calls that only change a host's slot table
log = logging.getLogger("ludex.webhooks")


@dataclass(frozen=True)
class ActorSpec:
    """What Ray is handed to make one of our actors: the class and plain-data arguments only.

    Stores, key boxes and publishers hold connections or key material; each actor builds its own
    from `Settings` inside its process, so nothing live crosses a Ray boundary (a library that
    stops pickling one of them cannot break a start: tests/unit/actors/test_ray_arguments.py)."""

    cls: type
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    options: dict[str, Any]

    def start(self) -> Any:
        remote: Any = ray.remote(self.cls)
        return remote.options(**self.options).remote(*self.args, **self.kwargs)


class RayShardHost(ShardHost):
    """A shard host in its own Ray worker process, built there from plain settings: it sets up
    that process's JSON logging, opens its own stores, and publishes durable events to Redis for
    realtime fan-out when `settings.redis_url` is set."""

    def __init__(self, settings: Settings, name: str, slots: int) -> None:
        configure_logging()
        shard_id, clock = int(name.rsplit("-", 1)[1]), SystemClock()
        super().__init__(
            store_for(settings),
            clock=clock,
            shard_id=shard_id,
            snapshot_every=settings.snapshot_every,
            idle_timeout_s=settings.idle_timeout_s,
            max_batch_size=settings.max_batch_size,
            idempotency_retention_s=settings.idempotency_retention_s,
            event_retention_days=settings.event_retention_days,
            retention_bounds=retention_of(settings)[1],
            slot_gate=SlotGate(slots, name),
            boards=board_store_for(settings),
            publisher=RedisEventPublisher(settings.redis_url) if settings.redis_url else None,
            backups=scheduled_backups_for(settings, clock) if shard_id == 0 else None,
        )

    def node_id(self) -> str:
        """The Ray node this host runs on (operators and the multi-node tests ask)."""
        return str(ray.get_runtime_context().get_node_id())


def _named_actor(name: str, max_restarts: int, max_concurrency: int) -> dict[str, Any]:
    """Options of a deployment's named, detached actor: created once, found by name after, and
    restarted by Ray when it dies (never retrying a call that may have run)."""
    return {
        "name": name,
        "namespace": NAMESPACE,
        "get_if_exists": True,
        "lifetime": "detached",
        "max_restarts": max_restarts,
        "max_task_retries": 0,
        "max_concurrency": max_concurrency,
        "num_cpus": 0,
    }


def _host_options(settings: Settings, name: str, max_restarts: int) -> dict[str, Any]:
    options = _named_actor(name, max_restarts, 10_000)
    if settings.shard_host_resource:  # only nodes offering the resource (e.g. workers) take hosts
        options["resources"] = {settings.shard_host_resource: 1}
    return options


class RayHostPool:
    """The coordinator's hands: shard hosts as named, detached Ray actors (`HostPool`)."""

    def __init__(self, settings: Settings, max_restarts: int = -1) -> None:
        self.settings = settings
        self.max_restarts = max_restarts

    def _find(self, name: str) -> Any:
        return ray.get_actor(name, namespace=NAMESPACE)

    async def start(self, names: list[str], slots: int) -> None:
        """Create (or find, if they run) these hosts and start them; a new one owns nothing
        until a handoff gives it slots, a restarted one re-claims its own from the table."""
        handles = [host_spec(self.settings, name, slots, self.max_restarts).start() for name in names]
        await asyncio.gather(*(handle.start.remote() for handle in handles))

    async def stop(self, names: list[str]) -> None:
        handles = []
        for name in names:
            try:
                handles.append(self._find(name))
            except ValueError:  # never started, or gone already
                continue
        await asyncio.to_thread(stop_shard_hosts, handles)

    async def release(self, name: str, slots: list[int], timeout_s: float) -> int:
        call = self._find(name).release_slots.remote(slots, timeout_s)
        passivated: int = await asyncio.wait_for(call, timeout_s + 1.0)
        return passivated

    async def adopt(self, name: str, owned: dict[int, int], exact: bool) -> None:
        await asyncio.wait_for(self._find(name).adopt_slots.remote(owned, exact), CONTROL_TIMEOUT_S)

    async def forget(self, name: str, slots: list[int]) -> None:
        await asyncio.wait_for(self._find(name).forget_slots.remote(slots), CONTROL_TIMEOUT_S)

    async def alive(self, name: str, timeout_s: float) -> bool:
        """False only when Ray says the host is dead or restarting (its node gone, its process
        killed, no node to restart it on). A host merely slow to answer (a starved CPU) counts
        as alive: moving its slots would cost more than waiting, and Ray's own failure detector
        turns a hung node into a dead one."""
        try:
            await asyncio.wait_for(self._find(name).ready.remote(), timeout_s)
        except TimeoutError:
            return True
        except Exception:  # noqa: BLE001 - dead, restarting, unplaceable, or never started
            return False
        return True


class RayCoordinator(Coordinator):
    """The coordinator in its own Ray worker process. Ray restarts it if it dies; it reads the
    slot table and the wanted host count back from the store (`start`) before answering."""

    def __init__(self, settings: Settings, max_restarts: int = -1) -> None:
        configure_logging()
        super().__init__(
            store_for(settings),
            RayHostPool(settings, max_restarts),
            host_name=lambda index: shard_name(settings.deployment, index),
            slots=settings.slots,
            batch_size=settings.handoff_batch_slots,
            down_after_s=settings.host_down_after_s,
        )


def coordinator_name(deployment: str) -> str:
    return f"{deployment}-coordinator"


def host_spec(settings: Settings, name: str, slots: int, max_restarts: int = -1) -> ActorSpec:
    return ActorSpec(RayShardHost, (settings, name, slots), {}, _host_options(settings, name, max_restarts))


def coordinator_spec(settings: Settings, max_restarts: int = -1) -> ActorSpec:
    options = _named_actor(coordinator_name(settings.deployment), max_restarts, 1000)
    return ActorSpec(RayCoordinator, (settings, max_restarts), {}, options)


def webhook_worker_spec(settings: Settings, max_restarts: int = -1) -> ActorSpec:
    options = _named_actor(webhook_worker_name(settings.deployment), max_restarts, 100)
    return ActorSpec(RayWebhookWorker, (), {"settings": settings}, options)


def start_coordinator(settings: Settings, *, max_restarts: int = -1) -> Any:
    return coordinator_spec(settings, max_restarts).start()


def patiently(call: Callable[[], Any], attempts: int = 120) -> Any:
    """`ray.get(call())`, asked again while the actor restarts (it answers once it is back)."""
    for attempt in range(attempts):
        try:
            return ray.get(call())
        except ray.exceptions.ActorUnavailableError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.5)


def start_shard_hosts(settings: Settings, *, max_restarts: int = -1, keep_scaled: bool = False) -> list[Any]:
    """Start (or find) the deployment's coordinator and `settings.shards` shard hosts (with
    `keep_scaled`: as many as the store says it was last scaled to, `settings.shards` only for a
    new store), slots dealt out among them. Ray restarts a host that dies (`max_restarts`); the
    new one recovers its entities from the journal and re-claims its slots. Answers the hosts'
    handles."""
    coordinator = start_coordinator(settings, max_restarts=max_restarts)
    patiently(lambda: coordinator.start.remote(settings.shards))
    count = len(patiently(coordinator.slot_map.remote)["hosts"]) if keep_scaled else settings.shards
    patiently(lambda: coordinator.scale.remote(count))
    slot_map: Any = patiently(coordinator.slot_map.remote)
    names: list[str] = slot_map["hosts"]
    return [ray.get_actor(name, namespace=NAMESPACE) for name in names]


def scale_shard_hosts(deployment: str, hosts: int) -> dict[str, Any]:
    """`ludex shards scale N` from a process connected to the deployment's Ray."""
    coordinator = ray.get_actor(coordinator_name(deployment), namespace=NAMESPACE)
    report: Any = patiently(lambda: coordinator.scale.remote(hosts))
    return dict(report)


def stop_cluster(deployment: str) -> None:
    """Stop the coordinator first (so nothing moves while hosts go), then every host it runs."""
    try:
        coordinator = ray.get_actor(coordinator_name(deployment), namespace=NAMESPACE)
    except ValueError:
        return
    slot_map: Any = patiently(coordinator.slot_map.remote)
    names: list[str] = slot_map["hosts"]
    patiently(coordinator.stop.remote)
    ray.kill(coordinator, no_restart=True)
    handles = []
    for name in names:
        try:
            handles.append(ray.get_actor(name, namespace=NAMESPACE))
        except ValueError:
            continue
    stop_shard_hosts(handles)


def stop_shard_hosts(handles: list[Any], *, attempts: int = 30) -> None:
    """Stop every host (flushing its commits), then kill it. A host Ray is restarting at that
    moment (after a crash) is asked again until it answers, then stopped like the others."""
    for handle in handles:
        for attempt in range(attempts):
            try:
                ray.get(handle.stop.remote())
                break
            except ray.exceptions.ActorUnavailableError:
                if attempt == attempts - 1:
                    raise
                time.sleep(1.0)
            except ray.exceptions.ActorDiedError:
                break
        ray.kill(handle, no_restart=True)


class RayWebhookWorker(WebhookWorker):
    """The webhook worker in its own Ray worker process. It starts its loop as soon as it is
    constructed, so a worker Ray restarts after a crash resumes from its durable cursor alone.
    Given `settings` (as Ray gives it), it builds its store and its key box itself, in its own
    process; tests hand it a store of their own instead."""

    def __init__(self, *args: Any, settings: Settings | None = None, **kwargs: Any) -> None:
        configure_logging()
        if settings is not None:
            args = (store_for(settings),)
            kwargs = {
                "schedule": parse_retry_schedule(settings.webhook_retry_schedule),
                "allow_private": settings.webhook_allow_private,
                "retention_days": settings.webhook_delivery_retention_days,
                "retention_bounds": retention_of(settings)[1],
                "box": SecretBox.from_settings(settings),
                **kwargs,
            }
        super().__init__(*args, **kwargs)
        self._boot: asyncio.Task[None] | None = None
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # a Ray that constructs actors outside their loop: `start` does it
            return
        self._boot = asyncio.ensure_future(self._keep_starting())

    async def _keep_starting(self) -> None:
        while True:
            try:
                await self.start()
                return
            except Exception:  # noqa: BLE001 - e.g. the store is not reachable yet: try again
                log.exception("the webhook worker could not start; trying again in 1 s")
                await asyncio.sleep(1.0)


def webhook_worker_name(deployment: str) -> str:
    return f"{deployment}-webhooks"


def start_webhook_worker(settings: Settings, *, max_restarts: int = -1) -> Any:
    """Create (or find) the deployment's one webhook worker; Ray restarts it if it dies."""
    handle = webhook_worker_spec(settings, max_restarts).start()
    ray.get(handle.start.remote())
    return handle


async def webhook_stats(deployment: str, timeout_s: float = 2.0) -> dict[str, Any] | None:
    """The webhook worker's counters, or None when it is not running (or not answering)."""
    try:
        handle = ray.get_actor(webhook_worker_name(deployment), namespace=NAMESPACE)
        stats: dict[str, Any] = await asyncio.wait_for(handle.stats.remote(), timeout_s)
    except Exception:  # noqa: BLE001 - metrics must not fail a scrape
        return None
    return stats


def stop_webhook_worker(handle: Any) -> None:
    ray.get(handle.stop.remote())
    ray.kill(handle, no_restart=True)
