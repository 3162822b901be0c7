"""Cancellation that a library swallowed, raised again at our boundary.

PyMongo's async client can answer a cancelled call as if nothing happened: the cancellation
breaks the connection, the driver reports that as a network error, and its retryable read (or
write) then succeeds on a fresh connection and returns normally. The task still has its cancel
request pending (`Task.cancelling()`), but nothing raises it, so a loop that `close` cancelled
and then waits for (the realtime feed, the webhook worker, the committer) runs on forever.
Every public coroutine of a store so wrapped raises `CancelledError` instead when its task was
asked to stop meanwhile, whether the call returned or failed."""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")


def cancel_requested() -> bool:
    """Whether the running task has a cancel request nobody has raised yet."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def raises_cancellation(method: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
    @functools.wraps(method)
    async def honouring(*args: Any, **kwargs: Any) -> T:
        try:
            result = await method(*args, **kwargs)
        except Exception as error:
            if cancel_requested():
                raise asyncio.CancelledError from error
            raise
        if cancel_requested():
            raise asyncio.CancelledError
        return result

    return honouring


C = TypeVar("C", bound=type)


def honours_cancellation(cls: C) -> C:
    """Wrap every public coroutine method of `cls` but `close` with `raises_cancellation`
    (`close` runs in cleanup that may be handling that very cancellation)."""
    for name, member in list(vars(cls).items()):
        if not name.startswith("_") and name != "close" and inspect.iscoroutinefunction(member):
            setattr(cls, name, raises_cancellation(member))
    return cls
