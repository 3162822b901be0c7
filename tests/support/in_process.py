"""Shard hosts in the test's own process, behind the shape of a Ray actor handle
(`handle.method.remote(...)`, awaited), so `ShardDirectory` and everything above it run unchanged
over real hosts and a real store, without Ray."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from actors.boards.factory import board_store_for
from actors.coordinator import Coordinator
from actors.directory import HostGoneError, ShardDirectory
from actors.host import ShardHost
from actors.sharding import shard_name
from actors.slots import SlotGate
from actors.stores.factory import store_for
from config.settings import Settings


class InProcessHandle:
    """What `ShardDirectory` calls on a Ray handle, answered by an object in this process (a
    `ShardHost`, the `Coordinator`)."""

    def __init__(self, host: Any) -> None:
        self.host = host

    def __getattr__(self, name: str) -> _RemoteMethod:
        return _RemoteMethod(getattr(self.host, name))


class _RemoteMethod:
    def __init__(self, method: Callable[..., Any]) -> None:
        self.method = method

    def remote(self, *args: Any, **kwargs: Any) -> Awaitable[Any]:
        """A coroutine instead of an ObjectRef: both are awaited by the caller (a plain method's
        answer too, as Ray's is)."""
        result = self.method(*args, **kwargs)
        return result if inspect.isawaitable(result) else _answered(result)


async def _answered(value: Any) -> Any:
    return value


class LocalHostPool:
    """The coordinator's `HostPool` over `ShardHost`s in this process; a subclass says how a host
    is made (`new_host`) and whether hosts sweep idle players."""

    sweep = True

    def __init__(self) -> None:
        self.hosts: dict[str, ShardHost] = {}

    def new_host(self, name: str, slots: int) -> ShardHost:
        raise NotImplementedError

    async def start(self, names: list[str], slots: int) -> None:
        for name in names:
            if name not in self.hosts:
                self.hosts[name] = self.new_host(name, slots)
            await self.hosts[name].start(sweep=self.sweep)

    async def stop(self, names: list[str]) -> None:
        for name in names:
            host = self.hosts.pop(name, None)
            if host is not None:
                await host.stop()

    async def release(self, name: str, slots: list[int], timeout_s: float) -> int:
        return await self.hosts[name].release_slots(slots, timeout_s)

    async def adopt(self, name: str, owned: dict[int, int], exact: bool) -> None:
        self.hosts[name].adopt_slots(owned, exact)

    async def forget(self, name: str, slots: list[int]) -> None:
        self.hosts[name].forget_slots(slots)

    async def alive(self, name: str, timeout_s: float) -> bool:
        return name in self.hosts


class InProcessHostPool(LocalHostPool):
    """Hosts on the deployment's store and board store, configured as `ludex serve` would."""

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.settings = settings

    def new_host(self, name: str, slots: int) -> ShardHost:
        return ShardHost(
            store_for(self.settings),
            shard_id=int(name.rsplit("-", 1)[1]),
            max_batch_size=self.settings.max_batch_size,
            boards=board_store_for(self.settings),
            slot_gate=SlotGate(slots, name),
        )


class PoolHost:
    """A handle on the pool's host of that name, looked up at each call: a host stopped and
    started again under its name (a scale down and up) is the new one, as a Ray actor's name is."""

    def __init__(self, pool: LocalHostPool, name: str) -> None:
        self.pool = pool
        self.name = name

    def __getattr__(self, method: str) -> _RemoteMethod:
        host = self.pool.hosts.get(self.name)
        if host is None:
            raise HostGoneError(self.name)
        return _RemoteMethod(getattr(host, method))


def pool_hosts(pool: LocalHostPool) -> Callable[[str], PoolHost]:
    """`ShardDirectory`'s `find_host` over the pool: `HostGoneError` for a host it does not run."""

    def find_host(name: str) -> PoolHost:
        if name not in pool.hosts:
            raise HostGoneError(name)
        return PoolHost(pool, name)

    return find_host


async def in_process_cluster(settings: Settings) -> tuple[Coordinator, InProcessHostPool, ShardDirectory]:
    """A coordinator dealing slots to `settings.shards` in-process hosts, and a directory over them."""
    pool = InProcessHostPool(settings)
    coordinator = Coordinator(
        store_for(settings),
        pool,
        host_name=lambda index: shard_name(settings.deployment, index),
        slots=settings.slots,
        batch_size=settings.handoff_batch_slots,
        down_after_s=settings.host_down_after_s,
    )
    await coordinator.start(settings.shards, watch=False)
    await coordinator.scale(settings.shards)
    directory = ShardDirectory(InProcessHandle(coordinator), await coordinator.slot_map(), find_host=pool_hosts(pool))
    return coordinator, pool, directory
