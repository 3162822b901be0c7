"""Request ids: made by the server, or the caller's `x-request-id` when it is a sane one.

A caller's id is copied into the answer, the problem body, the JSON logs and every journal
record the request writes (500 of them for a batch), so it is bounded: at most
`MAX_REQUEST_ID_CHARS` characters of `[A-Za-z0-9._:/+=-]`. Anything else is not refused (a
tracing header should never fail a call) but replaced by a server-made id, as Heroku's router
does; the answer's `x-request-id` tells the caller which id to quote. docs/SECURITY.md.

Behind Ray Serve the proxy reads and echoes the header before the app runs, so the same rule is
installed in front of Serve's own request-id middleware (`proxy_middlewares`, named by
`RAY_SERVE_HTTP_PROXY_CALLBACK_IMPORT_PATH` in `serve.proxy`): the proxy, the app and the
answer then agree on one id."""

from __future__ import annotations

import itertools
import os
import re

from starlette.middleware import Middleware
from starlette.types import ASGIApp, Receive, Scope, Send

MAX_REQUEST_ID_CHARS = 128
_SAFE = re.compile(rf"[A-Za-z0-9._:/+=-]{{1,{MAX_REQUEST_ID_CHARS}}}")
_HEADER = b"x-request-id"

# A random prefix per process and a counter, 32 hex digits like a UUID's, unique across
# replicas; `uuid4` cost a system call (os.urandom) on every request.
_PREFIX = os.urandom(6).hex()
_numbers = itertools.count()


def new_request_id() -> str:
    return f"{_PREFIX}{next(_numbers):020x}"


def accepted_request_id(sent: str | None) -> str:
    """`sent` when it is a sane id, else a new server-made one."""
    return sent if sent is not None and _SAFE.fullmatch(sent) else new_request_id()


class BoundedRequestId:
    """Replaces an unacceptable `x-request-id` in the request's headers before anything reads it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            headers = scope["headers"]
            sent = [value for name, value in headers if name == _HEADER]
            value = sent[0].decode("latin-1") if len(sent) == 1 else None
            if value is None or accepted_request_id(value) != value:
                kept = [(name, v) for name, v in headers if name != _HEADER]
                scope = {**scope, "headers": [*kept, (_HEADER, new_request_id().encode())]}
        await self.app(scope, receive, send)


def proxy_middlewares() -> list[Middleware]:
    """The callback Ray Serve's proxies call for extra middleware (outermost of theirs)."""
    from serve.starting import StartingBeforeTheApp  # imports Ray Serve: only in the proxy

    return [Middleware(BoundedRequestId), Middleware(StartingBeforeTheApp)]
