"""What handlers talk to: the shard directory (commands and views) and the control plane
(tenants, projects, keys). Built lazily inside the ingress replica, where Ray is reachable."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from fastapi import Request

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

    @classmethod
    async def connect(cls, settings: Settings) -> Backend:
        store = store_for(settings)
        await store.open()
        directory = await asyncio.to_thread(ShardDirectory.connect, settings)
        control = Backoffice(store)
        await control.seed_plans()
        return cls(settings, store, control, directory)

    async def close(self) -> None:
        await self.store.close()


class BackendHolder:
    """One backend per process, created on first use."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
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
                    self._backend = await Backend.connect(self.settings)
        return self._backend


async def backend(request: Request) -> Backend:
    holder: BackendHolder = request.app.state.backend_holder
    return await holder.get()
