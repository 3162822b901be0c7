"""The request-id bound (`serve.request_ids`), as the app and Serve's proxies apply it."""

from __future__ import annotations

import asyncio
from typing import Any

from serve.request_ids import MAX_REQUEST_ID_CHARS, BoundedRequestId, accepted_request_id


def test_a_sane_id_is_kept_and_anything_else_replaced() -> None:
    kept = "A" * MAX_REQUEST_ID_CHARS
    assert accepted_request_id(kept) == kept
    assert accepted_request_id("trace-1.2:3/4+5=6_7") == "trace-1.2:3/4+5=6_7"
    for odd in (None, "", "A" * (MAX_REQUEST_ID_CHARS + 1), "x" * 15_000, "a b", "a\nb", "é", '"<x>"'):
        replaced = accepted_request_id(odd)
        assert replaced != odd and len(replaced) == 32 and int(replaced, 16) >= 0


def seen_by_app(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    seen: dict[str, Any] = {}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen["headers"] = scope["headers"]

    asyncio.run(BoundedRequestId(app)({"type": "http", "headers": headers}, None, None))
    return list(seen["headers"])


def test_the_proxy_middleware_replaces_an_odd_header_before_anything_reads_it() -> None:
    other = (b"x-tenant-id", b"demo")
    assert seen_by_app([other, (b"x-request-id", b"good-id")]) == [other, (b"x-request-id", b"good-id")]
    (kept, (name, value)) = seen_by_app([other, (b"x-request-id", b"y" * 15_000)])
    assert kept == other and name == b"x-request-id" and len(value) == 32
    twice = seen_by_app([(b"x-request-id", b"a"), (b"x-request-id", b"b")])
    assert len(twice) == 1 and twice[0][1] not in (b"a", b"b"), "two ids: neither is trusted"
