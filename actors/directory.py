"""The one module that calls the Ray API: it makes the slot coordinator and the shard hosts Ray
actors, finds them by name, and routes commands to the host owning each player's slot
(docs/SCALING.md). Commands for a host that arrive while earlier calls to it are in flight go
together in its next call (`Coalescer`), so a burst costs one Ray call per host per batch, not
one per request."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import ray

from actors.board_factory import board_store_for
from actors.clock import SystemClock
from actors.coalescer import Coalescer
from actors.committer import EntityUnavailableError
from actors.coordinator import Coordinator
from actors.event_publisher import RedisEventPublisher
from actors.host import CommandRequest, ShardHost, unavailable_outcome
from actors.scheduled_backups import scheduled_backups_for
from actors.secret_box import SecretBox
from actors.sharding import shard_name
from actors.slots import WRONG_OWNER, SlotGate, wrong_owner_outcome
from actors.stores.factory import store_for
from actors.webhook_delivery import WebhookWorker
from config.logging import configure_logging
from config.settings import Settings
from engine.outcomes import Outcome
from engine.slots import slot_of
from engine.webhooks import parse_retry_schedule

NAMESPACE = "ludex"
MAX_CALLS_IN_FLIGHT_PER_SHARD = 2  # one call decides while the previous one waits for its commit
MAX_COMMANDS_PER_CALL = 512
CONTROL_TIMEOUT_S = 10.0  # the coordinator's calls that only change a host's slot table
MAP_TIMEOUT_S = 5.0
REROUTE_DEADLINE_S = 10.0  # a command re-sent after wrong-owner answers gives up (503) after this
REROUTE_BASE_PAUSE_S = 0.005
REROUTE_MAX_PAUSE_S = 0.2
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


def _patiently(call: Callable[[], Any], attempts: int = 120) -> Any:
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
    _patiently(lambda: coordinator.start.remote(settings.shards))
    count = len(_patiently(coordinator.slot_map.remote)["hosts"]) if keep_scaled else settings.shards
    _patiently(lambda: coordinator.scale.remote(count))
    slot_map: Any = _patiently(coordinator.slot_map.remote)
    names: list[str] = slot_map["hosts"]
    return [ray.get_actor(name, namespace=NAMESPACE) for name in names]


def scale_shard_hosts(deployment: str, hosts: int) -> dict[str, Any]:
    """`ludex shards scale N` from a process connected to the deployment's Ray."""
    coordinator = ray.get_actor(coordinator_name(deployment), namespace=NAMESPACE)
    report: Any = _patiently(lambda: coordinator.scale.remote(hosts))
    return dict(report)


def stop_cluster(deployment: str) -> None:
    """Stop the coordinator first (so nothing moves while hosts go), then every host it runs."""
    try:
        coordinator = ray.get_actor(coordinator_name(deployment), namespace=NAMESPACE)
    except ValueError:
        return
    slot_map: Any = _patiently(coordinator.slot_map.remote)
    names: list[str] = slot_map["hosts"]
    _patiently(coordinator.stop.remote)
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


@dataclass(frozen=True)
class SlotMap:
    """An ingress replica's copy of the coordinator's map (`Coordinator.slot_map`)."""

    version: int
    owners: list[str]
    hosts: list[str]

    @classmethod
    def of(cls, answer: dict[str, Any]) -> SlotMap:
        return cls(int(answer["version"]), list(answer["owners"]), list(answer["hosts"]))

    def owner(self, tenant: str, project: str, player_id: str) -> str:
        return self.owners[slot_of(tenant, project, player_id, len(self.owners))]


class HostGoneError(RuntimeError):
    """The map names a host that no longer runs (stopped by a scale-down the map predates)."""


def _wrong_owner(outcome: Outcome) -> bool:
    return outcome.slug == WRONG_OWNER


def ray_host(name: str) -> Any:
    """The Ray actor handle of the shard host `name`; `HostGoneError` when no actor has it."""
    try:
        return ray.get_actor(name, namespace=NAMESPACE)
    except ValueError as error:  # no actor by that name (any more)
        raise HostGoneError(name) from error


class ShardDirectory:
    """Routes requests to the shard host owning each player's slot, by a cached copy of the
    slot map. A `wrong-owner` answer (the slot moved) refreshes the map and sends the command
    again, to the new owner: nothing was decided, so the client never sees a planned move.

    `find_host` turns a host's name into what the directory calls (`handle.method.remote(...)`,
    awaited): Ray's actor by name in a deployment; the route seam (tests/routes) passes hosts of
    its own process, so everything above runs unchanged without Ray."""

    def __init__(self, coordinator: Any, slot_map: dict[str, Any], find_host: Callable[[str], Any] = ray_host) -> None:
        self.coordinator = coordinator
        self.map = SlotMap.of(slot_map)
        self._find_host = find_host
        self._handles: dict[str, Any] = {}
        self._shards: dict[str, Coalescer[list[CommandRequest], list[Outcome]]] = {}
        self._refresh: asyncio.Task[None] | None = None
        self.reroutes = 0

    @classmethod
    def connect(cls, settings: Settings) -> ShardDirectory:
        coordinator = ray.get_actor(coordinator_name(settings.deployment), namespace=NAMESPACE)
        slot_map: Any = _patiently(coordinator.slot_map.remote)
        return cls(coordinator, slot_map)

    @property
    def handles(self) -> list[Any]:
        """Every running shard host of the map (for broadcasts: stats, readiness, invalidation)."""
        found = []
        for host in self.map.hosts:
            try:
                found.append(self._handle(host))
            except HostGoneError:  # stopped by a scale-down our map predates
                continue
        return found

    def _handle(self, host: str) -> Any:
        handle = self._handles.get(host)
        if handle is None:
            handle = self._handles[host] = self._find_host(host)
        return handle

    def _forget_handle(self, host: str) -> None:
        """A host that died for good may come back under its name as a new actor."""
        self._handles.pop(host, None)
        self._shards.pop(host, None)

    def _shard(self, host: str) -> Coalescer[list[CommandRequest], list[Outcome]]:
        shard = self._shards.get(host)
        if shard is None:
            shard = self._shards[host] = Coalescer(
                self._sender(host),
                max_batch_size=MAX_COMMANDS_PER_CALL,
                max_inflight=MAX_CALLS_IN_FLIGHT_PER_SHARD,
            )
        return shard

    def _sender(self, host: str) -> Callable[[list[list[CommandRequest]]], Awaitable[list[list[Outcome]]]]:
        async def send(groups: list[list[CommandRequest]]) -> list[list[Outcome]]:
            """One Ray call for every caller's commands; each caller's stay together, in order."""
            call = self._handle(host).execute.remote([r for group in groups for r in group])
            outcomes: list[Outcome] = await call
            answers, start = [], 0
            for group in groups:
                answers.append(outcomes[start : start + len(group)])
                start += len(group)
            return answers

        return send

    def host_for(self, tenant: str, project: str, player_id: str) -> Any:
        return self._handle(self.map.owner(tenant, project, player_id))

    async def _owner(self, tenant: str, project: str, player_id: str) -> Any:
        """`host_for`, after a map refresh if our map names a host that is gone."""
        seen = self.map.version
        try:
            return self.host_for(tenant, project, player_id)
        except HostGoneError:
            await self.refresh(seen)
        try:
            return self.host_for(tenant, project, player_id)
        except HostGoneError as error:
            raise EntityUnavailableError("the player's shard host is moving; try again") from error

    async def refresh(self, seen: int) -> None:
        """Fetch the map if ours is still version `seen`; callers that arrive together share
        one fetch. A coordinator that does not answer leaves the map as it was."""
        if self.map.version > seen:
            return
        if self._refresh is None or self._refresh.done():
            self._refresh = asyncio.create_task(self._fetch())
        await asyncio.shield(self._refresh)

    async def _fetch(self) -> None:
        try:
            fresh = SlotMap.of(await asyncio.wait_for(self.coordinator.slot_map.remote(), MAP_TIMEOUT_S))
        except Exception as error:  # noqa: BLE001 - restarting: the next wrong-owner asks again
            logging.getLogger("ludex.directory").warning("the slot map could not be refreshed: %s", error)
            return
        if fresh.version > self.map.version:
            self.map = fresh

    async def _reroute_pause(self, seen: int, attempt: int) -> None:
        await self.refresh(seen)
        if self.map.version == seen:  # a handoff not yet published: give it a moment
            await asyncio.sleep(min(REROUTE_BASE_PAUSE_S * 2**attempt, REROUTE_MAX_PAUSE_S))

    async def execute(self, requests: list[CommandRequest]) -> list[Outcome]:
        """Answers in request order; commands for one player apply in request order."""
        answers: list[Outcome | None] = [None for _ in requests]
        pending = list(range(len(requests)))
        deadline = time.monotonic() + REROUTE_DEADLINE_S
        attempt = 0
        while pending:
            current = self.map
            by_host: dict[str, list[int]] = defaultdict(list)
            for index in pending:
                request = requests[index]
                by_host[current.owner(request.tenant, request.project, request.player_id)].append(index)
            calls = {host: self._shard(host).call([requests[i] for i in indexes]) for host, indexes in by_host.items()}
            results = await asyncio.gather(*calls.values(), return_exceptions=True)
            again: list[int] = []
            for host, outcomes in zip(calls, results, strict=True):
                if isinstance(outcomes, BaseException):
                    if await self._gone_for_good(host, outcomes, current.version):
                        again += by_host[host]  # it never ran them: it was stopped after its handoffs
                        continue
                    # The host died or restarts: whether these commands committed is unknown, and
                    # a retry with the same idempotency key is always safe.
                    outcomes = [unavailable_outcome(f"shard host {host} is restarting")] * len(by_host[host])
                for index, outcome in zip(by_host[host], outcomes, strict=True):
                    if _wrong_owner(outcome):
                        again.append(index)
                    else:
                        answers[index] = outcome
            if not again:
                break
            self.reroutes += len(again)
            if time.monotonic() > deadline:
                for index in again:
                    answers[index] = unavailable_outcome("the player's slot is moving; try again")
                break
            await self._reroute_pause(current.version, attempt)
            attempt += 1
            pending = sorted(again)
        return [answer if answer is not None else unavailable_outcome("no answer") for answer in answers]

    async def _gone_for_good(self, host: str, error: BaseException, seen: int) -> bool:
        """A host removed by a scale-down and stopped: the map no longer names it."""
        if not isinstance(error, HostGoneError):
            _unavailable(error)
            if not isinstance(error, ray.exceptions.ActorDiedError):
                return False
        self._forget_handle(host)
        await self.refresh(seen)
        return host not in self.map.hosts

    async def describe(self) -> dict[str, Any]:
        """The coordinator's summary: hosts, slots per host, the last rebalance."""
        described: dict[str, Any] = await self._call(self.coordinator.describe)
        return described

    async def scale(self, hosts: int) -> dict[str, Any]:
        """Run `hosts` shard hosts (answers when every handoff is done), then route by the new map."""
        report: dict[str, Any] = await self._call(self.coordinator.scale, hosts)
        await self.refresh(self.map.version)
        return report

    async def _call(self, method: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return await method.remote(*args, **kwargs)
        except ray.exceptions.RayError as error:
            _unavailable(error)
            raise EntityUnavailableError("the shard host is restarting") from error

    async def stats(self) -> list[dict[str, Any]]:
        """Each reachable host's metrics snapshot (a host that does not answer is left out)."""
        results = await asyncio.gather(*(h.stats.remote() for h in self.handles), return_exceptions=True)
        return [r for r in results if isinstance(r, dict)]

    async def define_economy(self, tenant: str, project: str, document: dict[str, Any]) -> Outcome:
        host = await self._owner(tenant, project, "")
        outcome: Outcome = await self._call(host.define_economy, tenant, project, document)
        # Every host that could have cached the old definitions served with a map published
        # before this write: a map fetched after it names them all.
        await self.refresh(self.map.version)
        await asyncio.gather(*(h.invalidate_economy.remote(tenant, project) for h in self.handles))
        return outcome

    async def view(self, tenant: str, project: str, player_id: str, name: str) -> Outcome:
        deadline = time.monotonic() + REROUTE_DEADLINE_S
        attempt = 0
        while True:
            seen = self.map.version
            try:
                result: Outcome = await self._call(
                    self.host_for(tenant, project, player_id).view, tenant, project, player_id, name
                )
            except HostGoneError:
                result = wrong_owner_outcome(None)
            if not _wrong_owner(result):
                return result
            if time.monotonic() > deadline:
                raise EntityUnavailableError("the player's slot is moving; try again")
            await self._reroute_pause(seen, attempt)
            attempt += 1

    async def ledger(self, tenant: str, project: str, player_id: str, **query: Any) -> list[dict[str, Any]]:
        host = await self._owner(tenant, project, player_id)
        entries: list[dict[str, Any]] = await self._call(host.ledger, tenant, project, player_id, **query)
        return entries

    async def erase(self, tenant: str, project: str, player_id: str, request_id: str | None) -> Outcome:
        """The player's host deletes it and rewrites its personal data (`ShardHost.erase`)."""
        host = await self._owner(tenant, project, player_id)
        outcome: Outcome = await self._call(host.erase, tenant, project, player_id, request_id)
        return outcome

    async def receipt(self, tenant: str, project: str, player_id: str, purchase: str) -> dict[str, Any] | None:
        host = await self._owner(tenant, project, player_id)
        receipt: dict[str, Any] | None = await self._call(host.receipt, tenant, project, player_id, purchase)
        return receipt

    async def economy_document(self, tenant: str, project: str) -> dict[str, Any] | None:
        host = await self._owner(tenant, project, "")
        document: dict[str, Any] | None = await self._call(host.economy_document, tenant, project)
        return document

    async def economy_version(self, tenant: str, project: str) -> int:
        version: int = await self._call((await self._owner(tenant, project, "")).economy_version, tenant, project)
        return version

    async def ready(self, timeout_s: float = 5.0) -> bool:
        """Every host of the current map answers (the map is fetched again first)."""
        await self.refresh(self.map.version)
        try:
            await asyncio.wait_for(asyncio.gather(*(h.ready.remote() for h in self.handles)), timeout_s)
        except Exception:  # noqa: BLE001 - any failure means not ready
            return False
        return True


def _unavailable(error: BaseException) -> None:
    """Only Ray's failures mean "restarting"; anything else is a bug and must surface."""
    if not isinstance(error, ray.exceptions.RayError):
        raise error
