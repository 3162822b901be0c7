"""`GET /v1/realtime`: the realtime WebSocket. Credentials `x-api-key`, `x-tenant-id` and
`x-project-id` come from headers, from the first message (`{"action": "auth", "apiKey",
"tenantId", "projectId"}`) or, discouraged because URLs end up in logs, from query parameters;
the key must belong to that project and carry the `realtime` scope. Events come from the
process's fan-out `Hub` (`actors.ingress.realtime_hub`).

Server messages: `hello`, `subscribed`, `event`, `result` (of a command: `serve.realtime.commands`),
`pong`, `error`. Close codes (docs/EVENTS.md):
4401 missing credentials, no `auth` message in time, or a key revoked/expired while open; 4403
invalid credentials; 4429 too many connections or messages; 1009 a message too large; 4008
`slow_consumer` (the client did not read fast enough and its bounded queue overflowed).

Limits are per connection, except the connection caps (`serve.realtime.sockets`): per ingress
replica, or shared by all replicas through Redis when it is configured."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, FastAPI, WebSocket
from prometheus_client import Counter, Gauge
from starlette.websockets import WebSocketDisconnect, WebSocketState

from actors.ingress.player_sessions import PlayerSession
from actors.ingress.realtime_hub import (
    SLOW_CONSUMER,
    SLOW_CONSUMER_CODE,
    Hub,
    Subscriber,
    more_events_than,
    replay_query,
    resolve_since,
)
from config.settings import Settings
from engine.access import ApiKey
from engine.definitions import leaderboards_of
from engine.ratelimit import Bucket, take
from serve.api_key_auth import admit_key, charge, metering
from serve.backend import Backend, BackendHolder
from serve.player_sessions import admit_session, player_sessions, session_key
from serve.problems import ProblemError
from serve.proxy import peers_are_clients
from serve.realtime.board_watch import MAX_TOP, BoardWatch
from serve.realtime.commands import Command, CommandStream
from serve.realtime.revocations import AdmissionWatch, SocketAdmission, ending_of
from serve.realtime.sockets import OpenSockets

router = APIRouter(tags=["realtime"])
log = logging.getLogger("ludex.realtime")

SCOPE = "realtime"
BOARD_SCOPE = "players:read"  # what reading a board over HTTP needs
MISSING_CODE = 4401
INVALID_CODE = 4403
TOO_MANY_CODE = 4429
TOO_LARGE_CODE = 1009
CREDENTIALS = ("x-api-key", "x-tenant-id", "x-project-id")
AUTH_FIELDS = {"apiKey": "x-api-key", "tenantId": "x-tenant-id", "projectId": "x-project-id"}
SESSION = "session"  # marks credentials whose `x-api-key` is a player session's access token

CONNECTIONS = Gauge("ludex_realtime_connections", "Open realtime WebSocket connections")
MESSAGES = Counter("ludex_realtime_events_sent_total", "Events sent over realtime WebSockets")
SLOW_CLOSES = Counter("ludex_realtime_slow_consumer_closes_total", "Realtime connections closed as slow consumers")
REFUSALS = Counter("ludex_realtime_refusals_total", "Realtime connections refused or closed by a limit", ["error"])

_replica: str | None = None


def replica_identity() -> str:
    """The Serve replica's id (its own process otherwise): prefix of every connection id."""
    global _replica
    if _replica is None:
        try:
            from ray import serve

            _replica = str(serve.get_replica_context().replica_id.unique_id)
        except Exception:  # noqa: BLE001 - not inside a Serve replica (tests, plain uvicorn)
            _replica = f"{socket.gethostname()}.{os.getpid()}"
        _replica = _replica.replace("-", "")
    return _replica


def hub_of(app: FastAPI, backend: Backend) -> Hub:
    """The process's hub, made on first use (the app is pickled to replicas without one)."""
    hub: Hub | None = getattr(app.state, "realtime_hub", None)
    if hub is None:
        settings = backend.settings
        lookback = 256 if settings.mongo_url else 0  # MongoDB positions may become visible out of order
        hub = Hub(backend.store, redis_url=settings.redis_url, lookback=lookback)
        app.state.realtime_hub = hub
    return hub


def admission_watch(app: FastAPI, backend: Backend) -> AdmissionWatch:
    """The process's watch of the admission version, started on first use."""
    found: AdmissionWatch | None = getattr(app.state, "admission_watch", None)
    if found is None:
        found = AdmissionWatch(backend.control, backend.settings.realtime_revocation_poll_s)
        app.state.admission_watch = found
    found.start()
    return found


def open_sockets(app: FastAPI, settings: Settings) -> OpenSockets:
    found: OpenSockets | None = getattr(app.state, "realtime_sockets", None)
    if found is None:
        found = app.state.realtime_sockets = OpenSockets(settings)
    return found


@dataclass(frozen=True)
class Ending:
    """Why the server closes a connection: the error sent first, then the close code."""

    error: str
    code: int


@dataclass
class Connection:
    websocket: WebSocket
    subscriber: Subscriber
    hub: Hub
    backend: Backend
    admission: SocketAdmission
    key: ApiKey
    sockets: OpenSockets
    session: PlayerSession | None = None  # a player session's socket
    stream: CommandStream | None = None
    flooded: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def settings(self) -> Settings:
        return self.backend.settings

    @property
    def commands(self) -> CommandStream:
        """The socket's command stream, made by its first command (most sockets only listen)."""
        if self.stream is None:
            subscriber, settings = self.subscriber, self.settings
            self.stream = CommandStream(
                self.websocket,
                self.backend,
                subscriber.tenant,
                subscriber.project,
                self.key,
                self.admission,
                subscriber.connection_id,
                subscriber.send,
                max_pending=settings.realtime_max_pending_commands,
                strikes=settings.realtime_rate_limit_strikes,
                flooded=self.flooded,
                session=self.session,
            )
        return self.stream

    def error(self, error: str, **details: Any) -> None:
        self.subscriber.send({"type": "error", "error": error, **details})


async def subscribe(connection: Connection, message: dict[str, Any]) -> None:
    settings = connection.settings
    types = message.get("eventTypes", ["*"])
    since = message.get("since")
    if (
        not isinstance(types, list)
        or not types
        or not all(isinstance(t, str) and t for t in types)
        or (since is not None and not isinstance(since, str))
    ):
        connection.error("invalid_message")
        return
    if len(types) > settings.realtime_max_eventtypes:
        connection.error("too_many_event_types")
        return
    await metering(connection.websocket, connection.backend).count_request(connection.subscriber.tenant)
    wanted = None if "*" in types else list(dict.fromkeys(types))
    since_position = None
    if since is not None:
        store, subscriber = connection.backend.store, connection.subscriber
        since_position = await resolve_since(store, subscriber.tenant, subscriber.project, since)
        if since_position is None:
            connection.error("unknown_event")
            return
        bound = settings.realtime_max_replay
        if await more_events_than(store, replay_query(subscriber, wanted), since_position, bound):
            connection.error(
                "since_too_old",
                maxReplay=bound,
                detail=f"more than {bound} events follow `since`: page through "
                f"GET /v1/projects/{subscriber.project}/events, then subscribe with the last id read",
            )
            return
    await connection.hub.subscribe(
        connection.subscriber,
        wanted,
        since_position=since_position,
        acknowledgement={"type": "subscribed", "eventTypes": types},
        pay=lambda events: _pay_replay(connection, events),
    )


async def _pay_replay(connection: Connection, events: int) -> None:
    """A replay costs the key's and tenant's rate limits what paging the same events over HTTP
    would: a request per `realtime_replay_events_per_request` events read. Short of tokens, the
    replay waits for them (`Retry-After`), so a key replays no faster than its rate allows."""
    subscriber, websocket = connection.subscriber, connection.websocket
    meter = metering(websocket, connection.backend)
    plan = await meter.plans.plan_of(subscriber.tenant)
    for _ in range(-(-events // connection.settings.realtime_replay_events_per_request)):
        while True:
            try:
                await charge(websocket, subscriber.tenant, connection.key, plan, 1)
                break
            except ProblemError as refusal:
                await asyncio.sleep(float(refusal.headers.get("Retry-After", "1")))


async def ping(connection: Connection, message: dict[str, Any]) -> None:
    connection.subscriber.send({"type": "pong"})


async def watch_leaderboard(connection: Connection, message: dict[str, Any]) -> None:
    """`leaderboard.rank.changed` for one board's top (`serve/realtime/board_watch.py`). The top shows
    usernames, so the key needs `players:read`, as `GET .../leaderboards/{boardId}` does."""
    if BOARD_SCOPE not in connection.key.scopes:
        connection.error("insufficient_scope", scope=BOARD_SCOPE)
        return
    board_id, top = message.get("boardId"), message.get("top", 10)
    if not isinstance(board_id, str) or not isinstance(top, int) or isinstance(top, bool) or not 1 <= top <= MAX_TOP:
        connection.error("invalid_message")
        return
    subscriber = connection.subscriber
    document = await connection.backend.directory.economy_document(subscriber.tenant, subscriber.project)
    board = None if document is None else leaderboards_of(document).get(board_id)
    if board is None:
        connection.error("unknown_leaderboard", boardId=board_id)
        return
    await metering(connection.websocket, connection.backend).count_request(subscriber.tenant)
    subscriber.send({"type": "watching", "boardId": board_id, "top": top})
    board_watch(connection.websocket.app, connection.backend).watch(subscriber, board, top)


def board_watch(app: FastAPI, backend: Backend) -> BoardWatch:
    found: BoardWatch | None = getattr(app.state, "board_watch", None)
    if found is None:
        found = BoardWatch(backend.boards, backend.settings.leaderboard_push_interval_s)
        app.state.board_watch = found
    return found


ACTIONS: dict[str, Callable[[Connection, dict[str, Any]], Awaitable[None]]] = {
    "subscribe": subscribe,
    "ping": ping,
    "watch-leaderboard": watch_leaderboard,
}


def credentials(websocket: WebSocket) -> dict[str, str]:
    """Credentials from headers, else from query parameters (discouraged: URLs get logged)."""
    found = {}
    for name in CREDENTIALS:
        value = websocket.headers.get(name) or websocket.query_params.get(name)
        if value:
            found[name] = value
    authorization = websocket.headers.get("authorization", "")
    if "x-api-key" not in found and authorization[:7].lower() == "bearer " and authorization[7:].strip():
        found["x-api-key"], found[SESSION] = authorization[7:].strip(), "true"
    return found


def text_of(received: Mapping[str, Any], limit: int) -> str | None:
    """The message's text, None when it is larger than `limit` bytes."""
    raw = received.get("text")
    if raw is not None:
        if len(raw) > limit or len(raw.encode("utf-8", "replace")) > limit:
            return None
        text: str = raw
        return text
    data = received.get("bytes") or b""
    if len(data) > limit:
        return None
    return bytes(data).decode("utf-8", "replace")


async def credentials_from_message(websocket: WebSocket, settings: Settings) -> dict[str, str] | Ending:
    """The `auth` message's credentials, which must come first and within the auth timeout."""
    missing = Ending("missing_credentials", MISSING_CODE)
    try:
        received = await asyncio.wait_for(websocket.receive(), settings.realtime_auth_timeout_s)
    except TimeoutError:
        return Ending("auth_timeout", MISSING_CODE)
    if received["type"] == "websocket.disconnect":
        return missing
    text = text_of(received, settings.realtime_max_message_bytes)
    if text is None:
        return Ending("message_too_large", TOO_LARGE_CODE)
    try:
        message = json.loads(text)
    except ValueError:
        return missing
    if not isinstance(message, dict) or message.get("action") != "auth":
        return missing
    session = "apiKey" not in message and "accessToken" in message
    fields = {**AUTH_FIELDS, "accessToken": "x-api-key"} if session else AUTH_FIELDS
    given = {header: message.get(name) for name, header in fields.items() if not (session and name == "apiKey")}
    if not all(isinstance(value, str) and value for value in given.values()):
        return missing
    return {name: str(value) for name, value in given.items()} | ({SESSION: "true"} if session else {})


async def admitted(backend: Backend, tenant: str, project: str, token: str) -> ApiKey | None:
    """The HTTP rules (`serve.api_key_auth.admit_key`): a valid key of that tenant's live project with the scope."""
    try:
        return await admit_key(backend, token, tenant, project, SCOPE)
    except ProblemError:
        return None


async def admitted_session(
    websocket: WebSocket, backend: Backend, tenant: str, project: str, token: str
) -> PlayerSession | None:
    """The HTTP rules for a player session (`serve.player_sessions.admit_session`)."""
    try:
        return await admit_session(websocket, backend, token, tenant, project)
    except ProblemError:
        return None


async def refuse(websocket: WebSocket, error: str, code: int) -> None:
    REFUSALS.labels(error).inc()
    with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
        await websocket.send_json({"type": "error", "error": error})
    await _close(websocket, code)


@router.websocket("/v1/realtime")
async def realtime(websocket: WebSocket) -> None:
    await websocket.accept()
    holder: BackendHolder = websocket.app.state.backend_holder
    backend = await holder.get()
    settings = backend.settings
    given = credentials(websocket)
    sockets = open_sockets(websocket.app, settings)
    if not given:
        address = websocket.client.host if websocket.client and peers_are_clients() else None
        if not sockets.await_auth(address):
            await refuse(websocket, "too_many_connections", TOO_MANY_CODE)
            return
        try:
            from_message = await credentials_from_message(websocket, settings)
        finally:
            sockets.authenticated(address)
        if isinstance(from_message, Ending):
            await refuse(websocket, from_message.error, from_message.code)
            return
        given = from_message
    if not all(name in given for name in CREDENTIALS):
        await refuse(websocket, "missing_headers", MISSING_CODE)
        return
    tenant, project, token = given["x-tenant-id"], given["x-project-id"], given["x-api-key"]
    watch = admission_watch(websocket.app, backend)
    sessions = player_sessions(websocket, backend) if SESSION in given else None
    admission = SocketAdmission(backend, watch, tenant, project, token, SCOPE, sessions)  # the version before admitting
    session: PlayerSession | None = None
    if sessions is None:
        key = await admitted(backend, tenant, project, token)
    else:
        session = await admitted_session(websocket, backend, tenant, project, token)
        key = None if session is None else session_key(session, settings.player_session_rate_per_s)
    if key is None:
        await refuse(websocket, "invalid_credentials", INVALID_CODE)
        return
    meter = metering(websocket, backend)
    try:  # opening a socket costs a request of the key's and the tenant's rate limits, as a call does
        await charge(websocket, tenant, key, await meter.plans.plan_of(tenant), 1)
    except ProblemError:
        await refuse(websocket, "rate_limited", TOO_MANY_CODE)
        return
    connection_id = f"{replica_identity()}-{uuid.uuid4().hex}"
    if not await sockets.admit(key, connection_id):
        await refuse(websocket, "too_many_connections", TOO_MANY_CODE)
        return
    try:
        await meter.count_request(tenant)
        subscriber = Subscriber(
            tenant,
            project,
            connection_id,
            queue_size=settings.realtime_queue_size,
            player_id=None if session is None else session.player_id,
        )
        hub = hub_of(websocket.app, backend)
        await _serve(Connection(websocket, subscriber, hub, backend, admission, key, sockets, session))
    finally:
        await sockets.release(key, connection_id)


async def _serve(connection: Connection) -> None:
    websocket, subscriber, hub = connection.websocket, connection.subscriber, connection.hub
    tenant, project = subscriber.tenant, subscriber.project
    subscriber.send(
        {"type": "hello", "tenantId": tenant, "projectId": project, "connectionId": subscriber.connection_id}
    )
    CONNECTIONS.inc()
    tasks: list[asyncio.Task[Any]] = [
        asyncio.create_task(_write(connection)),
        asyncio.create_task(_read(connection)),
        asyncio.create_task(_recheck(connection)),
        asyncio.create_task(subscriber.overflowed.wait()),
        asyncio.create_task(_flood(connection)),
    ]
    failed = False
    ending: Ending | None = None
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task.cancelled():
                continue
            if task.exception() is not None:
                failed = True
                log.warning("realtime connection %s failed: %r", subscriber.connection_id, task.exception())
            elif isinstance(task.result(), Ending):
                ending = task.result()
    finally:
        CONNECTIONS.dec()
        hub.unsubscribe(subscriber)
        watching: BoardWatch | None = getattr(websocket.app.state, "board_watch", None)
        if watching is not None:
            watching.forget(subscriber)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if connection.stream is not None:
            await connection.stream.close()
    if subscriber.closed:
        SLOW_CLOSES.inc()
        await _close(websocket, SLOW_CONSUMER_CODE, SLOW_CONSUMER)
    elif ending is not None:
        await refuse(websocket, ending.error, ending.code)
    else:
        await _close(websocket, 1011 if failed else 1000)


async def _write(connection: Connection) -> None:
    queue = connection.subscriber.queue
    while True:
        message = await queue.get()
        await connection.websocket.send_json(message)
        if message["type"] == "event":
            MESSAGES.inc()


async def _read(connection: Connection) -> Ending | None:
    """Serves the client's messages: each costs a token of the connection's bucket; a refused
    one answers `rate_limited`, and `realtime_rate_limit_strikes` refused in a row close the
    connection (a client that ignores the answers only floods). Commands are the exception: each
    costs a token of the key's and tenant's request buckets instead, as an HTTP call does
    (`serve.realtime.commands`), and as many refused in a row close the connection too."""
    settings = connection.settings
    bucket: Bucket | None = None
    strikes = 0
    while True:
        received = await connection.websocket.receive()
        if received["type"] == "websocket.disconnect":
            return None
        raw = text_of(received, settings.realtime_max_message_bytes)
        if raw is None:
            return Ending("message_too_large", TOO_LARGE_CODE)
        try:
            message = json.loads(raw)
        except ValueError:
            message = None
        invalid_command: dict[str, Any] | None = None
        if isinstance(message, dict) and message.get("action") == "command":
            parsed = connection.commands.parse(message)
            if isinstance(parsed, Command):  # costs the key's and tenant's tokens instead
                await connection.commands.accept(parsed)
                continue
            invalid_command = parsed
        bucket, decision = take(
            bucket, settings.realtime_messages_per_s, settings.realtime_message_burst, time.monotonic()
        )
        if not decision.allowed:
            strikes += 1
            if strikes >= settings.realtime_rate_limit_strikes:
                return Ending("rate_limited", TOO_MANY_CODE)
            connection.error("rate_limited", retryAfterS=decision.retry_after_s)
            continue
        strikes = 0
        if invalid_command is not None:
            connection.subscriber.send(invalid_command)
            continue
        if not isinstance(message, dict):
            connection.error("invalid_message")
            continue
        action = message.get("action")
        handler = ACTIONS.get(action) if isinstance(action, str) else None
        if handler is None:
            connection.error("unknown_action")
            continue
        await handler(connection, message)


async def _flood(connection: Connection) -> Ending:
    """`realtime_rate_limit_strikes` commands in a row refused by the rate limits: the client
    ignores the answers, and the socket is closed as a flooding one is."""
    await connection.flooded.wait()
    return Ending("rate_limited", TOO_MANY_CODE)


async def _recheck(connection: Connection) -> Ending:
    """Re-admits the connection's key when the replica's admission version moves (a revocation,
    a suspended tenant, a deleted project: `serve.realtime.revocations`) and every
    `realtime_recheck_s` (an expired key; the socket's shared lease is renewed then). A refused
    key closes the socket (4401, the reason named). A store that cannot answer keeps the socket
    open until it can."""
    subscriber, admission = connection.subscriber, connection.admission
    every_s = connection.settings.realtime_recheck_s
    deadline = time.monotonic() + every_s
    while True:
        due = await admission.until_due(deadline)
        try:
            refusal = await admission.check(again=due)
        except Exception as error:  # noqa: BLE001 - a store outage is not a revocation
            log.warning("realtime connection %s: cannot re-check its key: %r", subscriber.connection_id, error)
            await asyncio.sleep(connection.settings.realtime_revocation_poll_s)  # and try again
            continue
        if refusal is not None:
            return Ending(ending_of(refusal), MISSING_CODE)
        if due:
            deadline = time.monotonic() + every_s
            await connection.sockets.renew(connection.key, subscriber.connection_id)


async def _close(websocket: WebSocket, code: int, reason: str | None = None) -> None:
    """Close unless the client is gone; never wait long on a client that does not read."""
    if websocket.client_state != WebSocketState.CONNECTED or websocket.application_state != WebSocketState.CONNECTED:
        return
    with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError, TimeoutError):
        await asyncio.wait_for(websocket.close(code, reason), 5.0)
