"""Shard hosts in the test's own process, behind the shape of a Ray actor handle
(`handle.method.remote(...)`, awaited), so `ShardDirectory` and everything above it run unchanged
over real hosts and a real store, without Ray."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from actors.host import ShardHost


class InProcessHandle:
    """What `ShardDirectory` calls on a Ray handle, answered by a `ShardHost` in this process."""

    def __init__(self, host: ShardHost) -> None:
        self.host = host

    def __getattr__(self, name: str) -> _RemoteMethod:
        return _RemoteMethod(getattr(self.host, name))


class _RemoteMethod:
    def __init__(self, method: Callable[..., Any]) -> None:
        self.method = method

    def remote(self, *args: Any, **kwargs: Any) -> Awaitable[Any]:
        """A coroutine instead of an ObjectRef: both are awaited by the caller (a plain method's
        answer too, as Ray's is)."""
        result = self.method(*args, **kwargs)
        return result if inspect.isawaitable(result) else _answered(result)


async def _answered(value: Any) -> Any:
    return value
