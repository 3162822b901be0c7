"""An operator managing the project's API keys while the game plays: the real control plane
(`Backoffice`, as an ingress replica runs it) over a `SqliteStore` of its own on the run's file.
For each key it creates, a rotation and a revocation start at seeded moments and race (the
second timing bug of issue 31: a rotation that read the key before a revocation wrote it back
without `revokedAt`; fixed in cef131b by compare-and-set). A revoked key must never authenticate
again: checked after each race and at the end, on a store opened afresh. The console's process
does not crash; its store calls take the seeded I/O order and latency tail as the hosts' do."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from actors.clock import Clock
from actors.ingress.control_plane import Backoffice
from actors.stores.sqlite import SqliteStore
from sim.clients import PROJECT, TENANT

T = TypeVar("T")
Check = Callable[[str, bool, str], None]
GRACE_S = 3600.0


class Console:
    def __init__(
        self, path: Path, clock: Clock, rng: random.Random, check: Check, trace: Callable[[str], None], *, keys: int
    ) -> None:
        self.path = path
        self.clock = clock
        self.rng = rng
        self.check = check
        self.trace = trace
        self.keys = keys
        self.revoked: list[tuple[str, str]] = []  # (the key's number, its token): revocations acknowledged

    async def run(self) -> None:
        store = SqliteStore(self.path)
        await store.open()
        try:
            control = Backoffice(store, self.clock)
            await control.ensure_tenant(TENANT, "Sim")
            await control.ensure_project(TENANT, PROJECT, "Game")
            for n in range(self.keys):
                await asyncio.sleep(self.rng.uniform(0.0, 0.5))
                key, token = await control.create_api_key(TENANT, PROJECT, f"key{n}")
                rotated, revoked = await asyncio.gather(
                    self._after(control.rotate_api_key(TENANT, PROJECT, key.id, GRACE_S)),
                    self._after(control.revoke_api_key(key.id)),
                    return_exceptions=True,
                )
                self.check(
                    "a revocation is acknowledged", not isinstance(revoked, BaseException), f"key{n}: {revoked!r}"
                )
                if isinstance(rotated, BaseException):
                    self.trace(f"console: key{n} rotation refused ({type(rotated).__name__}), revoked")
                else:
                    self.trace(f"console: key{n} rotated and revoked")
                if not isinstance(revoked, BaseException):
                    self.revoked.append((f"key{n}", token))
                await self.verify(control)
        finally:
            await store.close()

    async def _after(self, call: Awaitable[T]) -> T:
        """`call` started a seeded moment from now (within a store call's time or two)."""
        await asyncio.sleep(self.rng.uniform(0.0, 0.01))
        return await call

    async def verify(self, control: Backoffice | None = None) -> None:
        """Every key whose revocation was acknowledged answers no caller (on a store of its own when
        `control` is None: after the run)."""
        store = None
        if control is None:
            store = SqliteStore(self.path)
            await store.open()
            control = Backoffice(store, self.clock)
        try:
            for name, token in self.revoked:
                key = await control.authenticate(token)
                self.check(
                    "a revoked key never works again",
                    key is None,
                    f"{name} authenticates after its revocation was acknowledged (revokedAt"
                    f" {None if key is None else key.revoked_at}, expires {None if key is None else key.expires_at})",
                )
        finally:
            if store is not None:
                await store.close()
