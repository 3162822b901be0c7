import asyncio

import pytest

from actors.coalescer import Coalescer


class Recorder:
    """A batch function that records each batch and can be held open to let a queue build."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.gate = asyncio.Event()
        self.gate.set()

    async def send(self, items: list[int]) -> list[int]:
        self.batches.append(list(items))
        await self.gate.wait()
        return [item * 10 for item in items]


async def test_a_lone_call_is_sent_at_once_in_a_batch_of_one() -> None:
    recorder = Recorder()
    coalescer = Coalescer(recorder.send)
    assert await coalescer.call(4) == 40
    assert recorder.batches == [[4]]


async def test_calls_made_while_a_batch_is_in_flight_go_together_in_the_next_batch_in_order() -> None:
    recorder = Recorder()
    recorder.gate.clear()
    coalescer = Coalescer(recorder.send, max_inflight=1)
    first = asyncio.ensure_future(coalescer.call(1))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    rest = [asyncio.ensure_future(coalescer.call(i)) for i in range(2, 7)]
    await asyncio.sleep(0.01)
    assert recorder.batches == [[1]], "the others wait for the batch in flight"
    recorder.gate.set()
    assert await asyncio.gather(first, *rest) == [10, 20, 30, 40, 50, 60]
    assert recorder.batches == [[1], [2, 3, 4, 5, 6]]
    assert (coalescer.batches, coalescer.items) == (2, 6)


async def test_batches_are_capped_and_in_flight_batches_are_bounded() -> None:
    recorder = Recorder()
    recorder.gate.clear()
    coalescer = Coalescer(recorder.send, max_batch_size=2, max_inflight=2)
    calls = [asyncio.ensure_future(coalescer.call(i)) for i in range(7)]
    await asyncio.sleep(0.01)
    assert recorder.batches == [[0, 1], [2, 3]]
    recorder.gate.set()
    assert await asyncio.gather(*calls) == [i * 10 for i in range(7)]
    assert recorder.batches == [[0, 1], [2, 3], [4, 5], [6]]


async def test_a_failed_batch_fails_each_of_its_callers_and_the_next_batch_still_runs() -> None:
    sent: list[list[int]] = []

    async def send(items: list[int]) -> list[int]:
        sent.append(items)
        if 0 in items:
            raise RuntimeError("host died")
        return items

    coalescer = Coalescer(send)
    calls = [asyncio.ensure_future(coalescer.call(i)) for i in (0, 1)]
    results = await asyncio.gather(*calls, return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results)
    assert await coalescer.call(5) == 5


async def test_a_caller_that_gives_up_does_not_disturb_the_others() -> None:
    recorder = Recorder()
    recorder.gate.clear()
    coalescer = Coalescer(recorder.send)
    leaving = asyncio.ensure_future(coalescer.call(1))
    staying = asyncio.ensure_future(coalescer.call(2))
    await asyncio.sleep(0.01)
    leaving.cancel()
    recorder.gate.set()
    assert await staying == 20
    with pytest.raises(asyncio.CancelledError):
        await leaving
