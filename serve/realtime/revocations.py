"""Revocations reach open realtime sockets within a second, as they reach HTTP at once.

HTTP admits the key on every call; a socket is admitted once, when it opens. Re-reading every
socket's key every second would cost a replica thousands of reads a second, so the control plane
keeps one admission version instead (`ControlPlane.admission_version`), moved by every revocation,
tenant change (suspension, deletion) and project change. Each replica reads that one document
every `realtime_revocation_poll_s` (`AdmissionWatch`); when it moves, every socket of the replica
admits its key again and a refused one is closed (4401, the reason named: `key_revoked`,
`tenant_suspended`, `project_deleted`). A command admits its socket's key again first when the
version moved since it last was, so no command runs on a revoked key once the replica knows: at
most `realtime_revocation_poll_s` after the change, where HTTP takes none. Expiry needs no
change to be noticed: the re-check every `realtime_recheck_s` finds it, and renews the socket's
lease in the shared counts (`serve.realtime.sockets`). A player session's socket is admitted
again the same way: a ban or a revocation moves the version, and closes it (`player_banned`,
`session_ended`); so does its access token's expiry at the next re-check."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field

from actors.ingress.control_plane import ControlPlane
from actors.ingress.player_sessions import PlayerSessions
from engine.player_auth import PlayerAuthError
from serve.api_key_auth import admit_key
from serve.backend import Backend
from serve.problems import ProblemError

log = logging.getLogger("ludex.realtime")

# Why an admitted socket stopped being admitted, by the problem HTTP answers for the same key.
ENDINGS = {
    "tenant-suspended": "tenant_suspended",
    "project-not-found": "project_deleted",
    "player-banned": "player_banned",
    "invalid-token": "session_ended",  # a player session logged out, revoked, ended or expired
}
REVOKED = "key_revoked"


def ending_of(refusal: ProblemError) -> str:
    """The error a socket is closed with: the key's, its tenant's or its project's fault."""
    return ENDINGS.get(refusal.slug, REVOKED)


class AdmissionWatch:
    """The replica's copy of the admission version, read every `interval_s` (one document read
    per replica, however many sockets); `moved` wakes whoever waits when it changes."""

    def __init__(self, control: ControlPlane, interval_s: float) -> None:
        self.control = control
        self.interval_s = interval_s
        self.version: int | None = None
        self._moved = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="ludex-admission-watch")

    @property
    def moved(self) -> asyncio.Event:
        """Set at the next move of the version (a fresh event after each move)."""
        return self._moved

    async def _run(self) -> None:
        while True:
            try:
                version = await self.control.admission_version()
            except Exception as error:  # noqa: BLE001 - a store hiccup: read again at the next tick
                log.warning("cannot read the admission version: %r", error)
            else:
                if version != self.version:
                    self.version = version
                    moved, self._moved = self._moved, asyncio.Event()
                    moved.set()
            await asyncio.sleep(self.interval_s)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


@dataclass
class SocketAdmission:
    """One socket's key, admitted again whenever the replica's admission version moved since it
    last was (or when asked to, for expiry); once refused it stays refused."""

    backend: Backend
    watch: AdmissionWatch
    tenant: str
    project: str
    token: str
    scope: str
    sessions: PlayerSessions | None = None  # set: `token` is a player session's access token
    seen: int | None = None
    refusal: ProblemError | None = None
    refused: asyncio.Event = field(default_factory=asyncio.Event)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def __post_init__(self) -> None:
        self.seen = self.watch.version

    async def check(self, *, again: bool = False) -> ProblemError | None:
        """The refusal if the key is no longer admitted; reads the control plane only when the
        version moved since the last admission (or `again`)."""
        async with self._lock:
            version = self.watch.version
            if self.refusal is None and (again or version != self.seen):
                try:
                    await self._admit()
                except ProblemError as refusal:
                    self.refusal = refusal
                    self.refused.set()
                else:
                    self.seen = version
        return self.refusal

    async def _admit(self) -> None:
        if self.sessions is None:
            await admit_key(self.backend, self.token, self.tenant, self.project, self.scope)
            return
        try:
            await self.sessions.authenticate(self.tenant, self.project, self.token)
        except PlayerAuthError as error:
            raise ProblemError(error.slug, error.detail) from error

    async def until_due(self, deadline: float) -> bool:
        """Waits until the version moves, a command found the key refused, or `deadline`
        (monotonic) passes; answers whether the deadline passed."""
        if self.watch.version != self.seen or self.refused.is_set():
            return False  # a move came while the last check ran: check again at once
        moved = asyncio.ensure_future(self.watch.moved.wait())
        refused = asyncio.ensure_future(self.refused.wait())
        try:
            await asyncio.wait({moved, refused}, timeout=max(0.0, deadline - time.monotonic()))
        finally:
            moved.cancel()
            refused.cancel()
        return time.monotonic() >= deadline and not self.refused.is_set()
