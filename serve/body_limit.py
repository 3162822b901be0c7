"""Request bodies have a cap (`LUDEX_MAX_BODY_BYTES`, 1 MiB by default): a larger declared
`Content-Length` is refused before a byte of the body is read, and a chunked body is cut off as
soon as it passes the cap, so no client makes the ingress buffer more than that."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAYLOAD_TOO_LARGE = 413


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        received = 0
        refusal = f"the request body must be at most {self.max_bytes} bytes"

        async def limited() -> Message:
            nonlocal received
            if declared is not None and declared > self.max_bytes:
                raise HTTPException(PAYLOAD_TOO_LARGE, refusal)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise HTTPException(PAYLOAD_TOO_LARGE, refusal)
            return message

        await self.app(scope, limited, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
