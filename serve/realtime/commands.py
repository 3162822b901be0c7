"""The command stream: commands sent as messages on an open `/v1/realtime` socket,
`{"action": "command", "id", "op", "playerId", "idempotencyKey"?, ...the batch op's fields}`,
answered `{"type": "result", "id", "ok", "status", "body" | "problem", "replayed"}`. A game
server keeps one socket open and pays Serve's per-request cost once, not once per command.

Everything else is a batch's: the op's fields (`serve.schemas.BatchCommand`), the key's and
tenant's rate limits (a token per command), a request of the monthly quota per command, and the
one command path (`serve.commanding.run_ops`: the command's scope, the quota, the host,
idempotency, its events counted). A key revoked, its tenant
suspended or its project deleted refuses the commands from the moment the replica learns of it
(`serve.realtime.revocations`), as HTTP would. Commands that arrive while
earlier ones are in flight go together in the next call, as a batch would. An invalid command
(no `id`, or fields a batch would refuse) is answered at once and costs a token of the socket's
message bucket instead, like any other message.

Order: a player's commands wait while one of theirs from this socket is in flight, then go in
send order in one call (where the host applies a call's commands for one player in array order),
so one player's results come in send order however Ray schedules concurrent calls; other
players' commands do not wait. At most `realtime_max_pending_commands` commands may be
unanswered: past that the socket is not read (TCP pushes back on the client)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import WebSocket
from pydantic import TypeAdapter, ValidationError

from actors.ingress.player_sessions import PlayerSession
from engine.access import ApiKey
from serve.api_key_auth import Caller, charge, metering
from serve.backend import Backend
from serve.commanding import run_ops
from serve.player_sessions import policy_of
from serve.problems import ProblemError, problem_body, validation_problem
from serve.project_admission import check_writable
from serve.realtime.revocations import SocketAdmission
from serve.schemas import BatchCommand

log = logging.getLogger("ludex.realtime")
COMMAND: TypeAdapter[BatchCommand] = TypeAdapter(BatchCommand)
MAX_ID_LENGTH = 128
ENVELOPE = ("action", "id")


def command_id(message: Mapping[str, Any]) -> str | int | None:
    """The client's id for a command, echoed in its result: a string of 1 to 128 characters or an
    integer; None when missing or of another kind."""
    ident = message.get("id")
    if isinstance(ident, str) and 1 <= len(ident) <= MAX_ID_LENGTH:
        return ident
    if isinstance(ident, int) and not isinstance(ident, bool):
        return ident
    return None


def _issues_without_tag(issues: list[Any], op: Any) -> list[dict[str, Any]]:
    """Field paths relative to the message (pydantic prefixes them with the op's tag)."""
    cleaned = []
    for issue in issues:
        location = tuple(issue.get("loc", ()))
        if location and location[0] == op:
            location = location[1:]
        cleaned.append({**issue, "loc": location or ("op",)})
    return cleaned


@dataclass
class Command:
    """A valid command message: the client's id and the batch op it carries."""

    ident: str | int
    op: BatchCommand


@dataclass
class CommandStream:
    """One socket's commands: queued as they arrive, sent in groups, answered through `send`."""

    websocket: WebSocket
    backend: Backend
    tenant: str
    project: str
    key: ApiKey
    admission: SocketAdmission
    connection_id: str
    send: Callable[[dict[str, Any]], None]
    max_pending: int
    strikes: int
    flooded: asyncio.Event
    session: PlayerSession | None = None  # a player session's socket: own player, client policy
    client_allow: frozenset[str] = frozenset()
    refused_in_a_row: int = 0
    _queue: list[Command] = field(default_factory=list)
    _busy: set[str] = field(default_factory=set)
    _scheduled: bool = False
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _room: asyncio.Semaphore = field(init=False)

    def __post_init__(self) -> None:
        self._room = asyncio.Semaphore(self.max_pending)
        # Problems name the connection as their request (`requestId`); the journal records it too.
        self.websocket.state.request_id = self.connection_id

    def parse(self, message: Mapping[str, Any]) -> Command | dict[str, Any]:
        """The command a message carries, or the answer to send for an invalid one (which costs
        the socket's message bucket, like any message that is not a command)."""
        ident = command_id(message)
        if ident is None:
            return {"type": "error", "error": "invalid_message", "detail": "a command needs an `id`"}
        fields = {name: value for name, value in message.items() if name not in ENVELOPE}
        try:
            return Command(ident, COMMAND.validate_python(fields))
        except ValidationError as error:
            invalid = validation_problem(_issues_without_tag(list(error.errors()), fields.get("op")))
            return {"type": "result", "id": ident, **self._problem(invalid)}

    async def accept(self, command: Command) -> None:
        """Queues a valid command; waits while `max_pending` are unanswered (the socket is not
        read meanwhile)."""
        await self._room.acquire()
        self._queue.append(command)
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _flush(self) -> None:
        """Sends every queued command whose player has none in flight, in one group."""
        self._scheduled = False
        group = [pending for pending in self._queue if pending.op.playerId not in self._busy]
        if not group:
            return
        self._queue = [pending for pending in self._queue if pending.op.playerId in self._busy]
        players = {pending.op.playerId for pending in group}
        self._busy |= players
        task = asyncio.create_task(self._run(group, players))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, group: list[Command], players: set[str]) -> None:
        try:
            results = await self._results(group)
        except Exception:  # noqa: BLE001 - answered like HTTP's 500, the socket stays usable
            log.exception("realtime connection %s: a command group failed", self.connection_id)
            results = [self._problem(ProblemError("internal-error", "an unexpected error occurred"))] * len(group)
        finally:
            self._busy -= players
            for _ in group:
                self._room.release()
            if self._queue and not self._scheduled:
                self._scheduled = True
                asyncio.get_running_loop().call_soon(self._flush)
        for pending, result in zip(group, results, strict=True):
            self._answer(pending.ident, result)

    async def _results(self, group: list[Command]) -> list[dict[str, Any]]:
        refusal = await self.admission.check()  # a revocation the replica learned of stops the group
        if refusal is not None:
            return [self._problem(refusal)] * len(group)
        try:
            await check_writable(self.backend.control, self.tenant)  # a read-only tenant's commands wait
        except ProblemError as read_only:
            return [self._problem(read_only)] * len(group)
        meter = metering(self.websocket, self.backend)
        plan = await meter.plans.plan_of(self.tenant)
        admitted, refusal = await self._charge(plan, len(group))
        refused = [] if refusal is None else [self._problem(refusal)] * (len(group) - admitted)
        self.refused_in_a_row = len(refused) if admitted else self.refused_in_a_row + len(refused)
        if self.refused_in_a_row >= self.strikes:  # the client ignores the refusals: close (4429)
            self.flooded.set()
        if admitted == 0:
            return refused
        usage = await meter.count_request(self.tenant, admitted)
        if self.session is not None:
            self.client_allow = await policy_of(self.websocket, self.backend, self.tenant, self.project)
        caller = Caller(
            self.tenant, self.project, self.key, self.backend, meter, plan, usage, self.session, self.client_allow
        )
        ops = [pending.op for pending in group[:admitted]]
        return await run_ops(self.websocket, caller, ops) + refused

    async def _charge(self, plan: dict[str, Any] | None, count: int) -> tuple[int, ProblemError | None]:
        """How many of `count` commands, in order, the key's and tenant's buckets admit (a token
        each), and the refusal of the others: all in one draw, else one by one until refused."""
        try:
            await charge(self.websocket, self.tenant, self.key, plan, count)
            return count, None
        except ProblemError as refusal:
            if count == 1:
                return 0, refusal
        for admitted in range(count):
            try:
                await charge(self.websocket, self.tenant, self.key, plan, 1)
            except ProblemError as refusal:
                return admitted, refusal
        return count, None  # the bucket refilled between the draws

    def _problem(self, error: ProblemError) -> dict[str, Any]:
        problem = problem_body(error.slug, error.detail, self.websocket, errors=error.errors)
        result: dict[str, Any] = {"ok": False, "status": error.status, "problem": problem}
        retry_after = error.headers.get("Retry-After")
        if retry_after is not None:
            result["retryAfterS"] = int(retry_after)
        result["replayed"] = False
        return result

    def _answer(self, ident: str | int, result: dict[str, Any]) -> None:
        self.send({"type": "result", "id": ident, **result})
