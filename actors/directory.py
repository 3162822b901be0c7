"""Routes commands to the shard host owning each player's slot (docs/SCALING.md), by a cached
copy of the coordinator's slot map; starting and stopping the Ray actors is `actors/cluster.py`.
Commands for a host that arrive while earlier calls to it are in flight go together in its next
call (`Coalescer`), so a burst costs one Ray call per host per batch, not one per request."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import ray

from actors.cluster import NAMESPACE, coordinator_name, patiently
from actors.coalescer import Coalescer
from actors.committer import EntityUnavailableError
from actors.host import CommandRequest, unavailable_outcome
from actors.slots import WRONG_OWNER, wrong_owner_outcome
from config.settings import Settings
from engine.outcomes import Outcome
from engine.slots import slot_of

MAX_CALLS_IN_FLIGHT_PER_SHARD = 2  # one call decides while the previous one waits for its commit
MAX_COMMANDS_PER_CALL = 512
MAP_TIMEOUT_S = 5.0
REROUTE_DEADLINE_S = 10.0  # a command re-sent after wrong-owner answers gives up (503) after this
REROUTE_BASE_PAUSE_S = 0.005
REROUTE_MAX_PAUSE_S = 0.2


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
        slot_map: Any = patiently(coordinator.slot_map.remote)
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
        """A host removed by a scale-down and stopped, so it never ran the call (it had handed
        its slots over first): the fresh map no longer names it, or a later scale-up started a
        new actor under its name (Ray restarts a crashed host as the same actor, and a call to it
        meanwhile fails otherwise than `ActorDiedError`)."""
        if not isinstance(error, HostGoneError):
            _unavailable(error)
            if not isinstance(error, ray.exceptions.ActorDiedError):
                return False
        dead = self._handles.get(host)
        self._forget_handle(host)
        await self.refresh(seen)
        if host not in self.map.hosts:
            return True
        if dead is None:
            return False
        try:
            return bool(_actor_id(self._handle(host)) != _actor_id(dead))
        except HostGoneError:
            return False

    async def _ask(self, tenant: str, project: str, player_id: str, method: str, *args: Any, **kwargs: Any) -> Any:
        """`method` of the shard host owning the player's slot. A host a scale-down stopped
        since our map was fetched never ran it: it is asked again of the fresh map's owner."""
        handle = await self._owner(tenant, project, player_id)
        seen, host = self.map.version, self.map.owner(tenant, project, player_id)
        try:
            return await getattr(handle, method).remote(*args, **kwargs)
        except ray.exceptions.RayError as error:
            if not await self._gone_for_good(host, error, seen):
                raise EntityUnavailableError("the shard host is restarting") from error
        return await self._call(getattr(await self._owner(tenant, project, player_id), method), *args, **kwargs)

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
        outcome: Outcome = await self._ask(tenant, project, "", "define_economy", tenant, project, document)
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
        entries: list[dict[str, Any]] = await self._ask(
            tenant, project, player_id, "ledger", tenant, project, player_id, **query
        )
        return entries

    async def erase(self, tenant: str, project: str, player_id: str, request_id: str | None) -> Outcome:
        """The player's host deletes it and rewrites its personal data (`ShardHost.erase`)."""
        outcome: Outcome = await self._ask(tenant, project, player_id, "erase", tenant, project, player_id, request_id)
        return outcome

    async def receipt(self, tenant: str, project: str, player_id: str, purchase: str) -> dict[str, Any] | None:
        receipt: dict[str, Any] | None = await self._ask(
            tenant, project, player_id, "receipt", tenant, project, player_id, purchase
        )
        return receipt

    async def economy_document(self, tenant: str, project: str) -> dict[str, Any] | None:
        document: dict[str, Any] | None = await self._ask(tenant, project, "", "economy_document", tenant, project)
        return document

    async def economy_version(self, tenant: str, project: str) -> int:
        version: int = await self._ask(tenant, project, "", "economy_version", tenant, project)
        return version

    async def ready(self, timeout_s: float = 5.0) -> bool:
        """Every host of the current map answers (the map is fetched again first)."""
        await self.refresh(self.map.version)
        try:
            await asyncio.wait_for(asyncio.gather(*(self._ping(host) for host in self.map.hosts)), timeout_s)
        except Exception:  # noqa: BLE001 - any failure means not ready
            return False
        return True

    async def _ping(self, host: str) -> None:
        """The host answers `ready`. A handle of an actor a scale-down stopped is looked up
        again once: a later scale-up may run a new actor under the name."""
        for attempt in range(2):
            try:
                await self._handle(host).ready.remote()
                return
            except HostGoneError:  # stopped by a scale-down our map predates
                return
            except ray.exceptions.ActorDiedError:
                if attempt:
                    raise
                self._forget_handle(host)


def _actor_id(handle: Any) -> Any:
    """Which Ray actor a handle reaches (None outside Ray): a name can be reused by a new one."""
    return getattr(handle, "_actor_id", None)


def _unavailable(error: BaseException) -> None:
    """Only Ray's failures mean "restarting"; anything else is a bug and must surface."""
    if not isinstance(error, ray.exceptions.RayError):
        raise error
