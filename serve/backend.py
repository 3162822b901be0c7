"""What handlers talk to: the shard directory (commands and views) and the control plane
(tenants, projects, keys). Built lazily inside the ingress replica, where Ray is reachable."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import Request

from actors.boards.factory import board_store_for
from actors.boards.store import BoardStore
from actors.directory import ShardDirectory
from actors.ingress.control_plane import Backoffice
from actors.stores.base import Store
from actors.stores.factory import store_for
from config.settings import Settings


@dataclass
class Backend:
    settings: Settings
    store: Store
    control: Backoffice
    directory: ShardDirectory
    boards: BoardStore

    @classmethod
    async def connect(cls, settings: Settings, directory: ShardDirectory | None = None) -> Backend:
        """The deployment's stores and control plane, and `directory` (by default the Ray
        deployment's, found by name; the route seam passes one over hosts in its own process)."""
        store = store_for(settings)
        await store.open()
        if directory is None:
            directory = await asyncio.to_thread(ShardDirectory.connect, settings)
        control = Backoffice(store)
        await control.seed_plans()
        boards = board_store_for(settings)  # after the store: its schema steps made the embedded tables
        await boards.open()
        return cls(settings, store, control, directory, boards)

    async def close(self) -> None:
        await self.boards.close()
        await self.store.close()


class BackendHolder:
    """One backend per process, created on first use by `connect` (`Backend.connect` unless a
    test injects another)."""

    def __init__(self, settings: Settings, connect: Callable[[Settings], Awaitable[Backend]] = Backend.connect) -> None:
        self.settings = settings
        self._connect = connect
        self._backend: Backend | None = None
        self._lock = asyncio.Lock()

    @property
    def connected(self) -> Backend | None:
        """The backend if a request already made it (background loops never connect it)."""
        return self._backend

    async def get(self) -> Backend:
        if self._backend is None:
            async with self._lock:
                if self._backend is None:
                    self._backend = await self._connect(self.settings)
        return self._backend


async def backend(request: Request) -> Backend:
    holder: BackendHolder = request.app.state.backend_holder
    return await holder.get()
