"""`GET /v1/realtime`: the realtime WebSocket. Credentials `x-api-key`, `x-tenant-id` and
`x-project-id` come from query parameters or headers; the key must belong to that project and
carry the `realtime` scope. Events come from the process's fan-out `Hub` (`actors.fanout`).

Server messages: `hello`, `subscribed`, `event`, `pong`, `error`. Close codes: 4401 missing
credentials, 4403 invalid credentials, 4008 `slow_consumer` (the client did not read fast enough
and its bounded queue overflowed)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, FastAPI, WebSocket
from prometheus_client import Counter, Gauge
from starlette.websockets import WebSocketDisconnect, WebSocketState

from actors.fanout import SLOW_CONSUMER, SLOW_CONSUMER_CODE, Hub, Subscriber
from serve.auth import admit_key
from serve.backend import Backend, BackendHolder
from serve.problems import ProblemError

router = APIRouter(tags=["realtime"])
log = logging.getLogger("ludex.realtime")

SCOPE = "realtime"
MISSING_CODE = 4401
INVALID_CODE = 4403
CREDENTIALS = ("x-api-key", "x-tenant-id", "x-project-id")

CONNECTIONS = Gauge("ludex_realtime_connections", "Open realtime WebSocket connections")
MESSAGES = Counter("ludex_realtime_events_sent_total", "Events sent over realtime WebSockets")
SLOW_CLOSES = Counter("ludex_realtime_slow_consumer_closes_total", "Realtime connections closed as slow consumers")

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


@dataclass
class Connection:
    websocket: WebSocket
    subscriber: Subscriber
    hub: Hub
    backend: Backend

    def error(self, error: str) -> None:
        self.subscriber.send({"type": "error", "error": error})


async def subscribe(connection: Connection, message: dict[str, Any]) -> None:
    settings = connection.backend.settings
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
    since_position = None
    if since is not None:
        since_position = await connection.backend.store.event_position(since)
        if since_position is None:
            connection.error("unknown_event")
            return
    wanted = None if "*" in types else list(dict.fromkeys(types))
    await connection.hub.subscribe(
        connection.subscriber,
        wanted,
        since_position=since_position,
        acknowledgement={"type": "subscribed", "eventTypes": types},
    )


async def ping(connection: Connection, message: dict[str, Any]) -> None:
    connection.subscriber.send({"type": "pong"})


ACTIONS: dict[str, Callable[[Connection, dict[str, Any]], Awaitable[None]]] = {
    "subscribe": subscribe,
    "ping": ping,
}


def credentials(websocket: WebSocket) -> dict[str, str]:
    found = {}
    for name in CREDENTIALS:
        value = websocket.query_params.get(name) or websocket.headers.get(name)
        if value:
            found[name] = value
    return found


async def admitted(backend: Backend, tenant: str, project: str, token: str) -> bool:
    """The HTTP rules (`serve.auth.admit_key`): a valid key of that tenant's live project with the scope."""
    try:
        await admit_key(backend, token, tenant, project, SCOPE)
    except ProblemError:
        return False
    return True


async def refuse(websocket: WebSocket, error: str, code: int) -> None:
    await websocket.send_json({"type": "error", "error": error})
    await websocket.close(code)


@router.websocket("/v1/realtime")
async def realtime(websocket: WebSocket) -> None:
    await websocket.accept()
    given = credentials(websocket)
    if len(given) < len(CREDENTIALS):
        await refuse(websocket, "missing_headers", MISSING_CODE)
        return
    holder: BackendHolder = websocket.app.state.backend_holder
    backend = await holder.get()
    tenant, project = given["x-tenant-id"], given["x-project-id"]
    if not await admitted(backend, tenant, project, given["x-api-key"]):
        await refuse(websocket, "invalid_credentials", INVALID_CODE)
        return
    hub = hub_of(websocket.app, backend)
    subscriber = Subscriber(
        tenant, project, f"{replica_identity()}-{uuid.uuid4().hex}", queue_size=backend.settings.realtime_queue_size
    )
    connection = Connection(websocket, subscriber, hub, backend)
    subscriber.send(
        {"type": "hello", "tenantId": tenant, "projectId": project, "connectionId": subscriber.connection_id}
    )
    CONNECTIONS.inc()
    tasks = [
        asyncio.create_task(_write(connection)),
        asyncio.create_task(_read(connection)),
        asyncio.create_task(subscriber.overflowed.wait()),
    ]
    failed = False
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if not task.cancelled() and task.exception() is not None:
                failed = True
                log.warning("realtime connection %s failed: %r", subscriber.connection_id, task.exception())
    finally:
        CONNECTIONS.dec()
        hub.unsubscribe(subscriber)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    if subscriber.closed:
        SLOW_CLOSES.inc()
        await _close(websocket, SLOW_CONSUMER_CODE, SLOW_CONSUMER)
    else:
        await _close(websocket, 1011 if failed else 1000)


async def _write(connection: Connection) -> None:
    queue = connection.subscriber.queue
    while True:
        message = await queue.get()
        await connection.websocket.send_json(message)
        if message["type"] == "event":
            MESSAGES.inc()


async def _read(connection: Connection) -> None:
    while True:
        received = await connection.websocket.receive()
        if received["type"] == "websocket.disconnect":
            return
        raw = received.get("text")
        if raw is None and received.get("bytes") is not None:
            raw = received["bytes"].decode("utf-8", "replace")
        try:
            message = json.loads(raw or "")
        except ValueError:
            message = None
        if not isinstance(message, dict):
            connection.error("invalid_message")
            continue
        action = message.get("action")
        handler = ACTIONS.get(action) if isinstance(action, str) else None
        if handler is None:
            connection.error("unknown_action")
            continue
        await handler(connection, message)


async def _close(websocket: WebSocket, code: int, reason: str | None = None) -> None:
    """Close unless the client is gone; never wait long on a client that does not read."""
    if websocket.client_state != WebSocketState.CONNECTED or websocket.application_state != WebSocketState.CONNECTED:
        return
    with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError, TimeoutError):
        await asyncio.wait_for(websocket.close(code, reason), 5.0)
