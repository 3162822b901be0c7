"""An asyncio event loop on virtual time, where store calls run on the loop's own thread.

Real asyncio races come from when I/O completes; here every executor call (each SQLite
statement batch the store hands its threads) executes at a moment drawn from the seed and
answers later, one at a time per executor, as a one-thread pool would. The wait costs no real
time: when nothing is ready the loop jumps to the next timer. A process "dies" by having its
incarnation marked dead: no callback of its tasks, timers or store calls runs again, as if the
process had vanished between two instructions (no `finally`, no cleanup)."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import random
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any, TypeVar, TypeVarTuple, Unpack

T = TypeVar("T")
Ts = TypeVarTuple("Ts")

INCARNATION: contextvars.ContextVar[int] = contextvars.ContextVar("sim_incarnation", default=0)
"""Which simulated process a callback belongs to (0: the simulator itself, never killed)."""


class StalledError(RuntimeError):
    """Nothing can run and no timer is pending: every task waits on something that never comes."""


class _VirtualSelector:
    """Stands in for the OS poll: no file descriptors, and a wait advances virtual time."""

    def __init__(self, loop: SimLoop) -> None:
        self.loop = loop

    def select(self, timeout: float | None) -> list[Any]:
        if timeout is None:
            raise StalledError("the simulation stalled: nothing is ready and no timer is set")
        self.loop.advance(timeout)
        return []

    def close(self) -> None:
        pass


class SimLoop(asyncio.BaseEventLoop):
    def __init__(self, rng: random.Random, *, io_latency_s: tuple[float, float] = (0.0001, 0.004)) -> None:
        super().__init__()
        self.rng = rng
        self.io_latency_s = io_latency_s
        self._selector = _VirtualSelector(self)
        self._virtual_now = 0.0
        self._clock_resolution = 1e-9
        self.dead: set[int] = set()
        self._executor_free_at: dict[int, float] = {}
        self.slow_io: Callable[[], float] = lambda: 0.0  # extra latency (a stalled disk), per call
        self.executed = 0

    # ---------------------------------------------------------------- time

    def time(self) -> float:
        return self._virtual_now

    def advance(self, seconds: float) -> None:
        self._virtual_now += max(0.0, seconds)

    # ---------------------------------------------------------------- processes

    def kill(self, incarnation: int) -> None:
        """The process `incarnation` stops here: none of its callbacks run again."""
        assert incarnation != 0, "the simulator itself cannot die"
        self.dead.add(incarnation)

    def _guard(self, callback: Callable[[Unpack[Ts]], object]) -> Callable[[Unpack[Ts]], object]:
        def guarded(*args: *Ts) -> object:
            if INCARNATION.get() in self.dead:
                return None
            return callback(*args)

        return guarded

    def call_soon(
        self, callback: Callable[[Unpack[Ts]], object], *args: *Ts, context: contextvars.Context | None = None
    ) -> asyncio.Handle:
        return super().call_soon(self._guard(callback), *args, context=context)

    def call_at(
        self,
        when: float,
        callback: Callable[[Unpack[Ts]], object],
        *args: *Ts,
        context: contextvars.Context | None = None,
    ) -> asyncio.TimerHandle:
        return super().call_at(when, self._guard(callback), *args, context=context)

    # ---------------------------------------------------------------- "threads"

    def run_in_executor(
        self, executor: Executor | None, func: Callable[[Unpack[Ts]], T], *args: *Ts
    ) -> asyncio.Future[T]:
        """Run `func` on this thread at a seeded moment (after the executor's previous call, as
        one worker thread would), and answer a seeded moment later."""
        future: asyncio.Future[T] = self.create_future()
        low, high = self.io_latency_s
        key = id(executor)
        start = max(self.time() + self.rng.uniform(low, high) + self.slow_io(), self._executor_free_at.get(key, 0.0))
        self._executor_free_at[key] = start + 1e-7
        answer_at = start + self.rng.uniform(low, high)

        def execute() -> None:
            self.executed += 1
            try:
                result = func(*args)
            except BaseException as error:  # noqa: BLE001 - handed to the awaiting task, as a thread would
                self.call_at(answer_at, _fail, future, error)
            else:
                self.call_at(answer_at, _succeed, future, result)

        self.call_at(start, execute)
        return future

    def set_default_executor(self, executor: Any) -> None:
        raise RuntimeError("the simulated loop runs no threads")

    # ---------------------------------------------------------------- what BaseEventLoop expects

    def _process_events(self, event_list: list[Any]) -> None:
        pass

    def _write_to_self(self) -> None:
        pass

    def bury(self) -> None:
        """End of a run: close the tasks left pending (a dead process's stay so for ever; that is
        the point, not a leak to report) while the loop can still take their last callbacks, then
        close the loop."""
        for task in asyncio.all_tasks(self):
            task._log_destroy_pending = False  # type: ignore[attr-defined]
            with contextlib.suppress(BaseException):
                task.get_coro().close()
        self.close()

    def close(self) -> None:
        super().close()
        self._selector.close()


def _succeed(future: asyncio.Future[T], result: T) -> None:
    if not future.done():
        future.set_result(result)


def _fail(future: asyncio.Future[Any], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)


__all__ = ["INCARNATION", "SimLoop", "StalledError"]
