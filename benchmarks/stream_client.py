"""The load generator for command streams: `sockets` WebSockets to `/v1/realtime`, each keeping
`window` keyed XP awards in flight (a new one as each result arrives) to random players
p0..p(N-1), or paced to a total `rate`. The same client drives `ludex serve` and the bare ceiling
(`benchmarks.ceiling_app`), so their ratio compares the servers, not the client.

    python -m benchmarks.stream_client URL [--sockets 8] [--window 32] [--duration 15] [--rate R]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from typing import Any

from websockets.asyncio.client import connect


def percentile(ordered: list[float], share: float) -> float:
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def _socket(
    url: str,
    headers: dict[str, str],
    number: int,
    window: int,
    players: int,
    until: float,
    interval_s: float | None,
    latencies: list[float],
    problems: list[int],
) -> None:
    async with connect(url, additional_headers=headers, max_queue=None, open_timeout=60) as ws:
        hello = json.loads(await ws.recv())
        assert hello["type"] == "hello", hello
        room = asyncio.Semaphore(window)
        sent: dict[int, float] = {}
        done = asyncio.Event()

        async def read() -> None:
            async for raw in ws:
                message = json.loads(raw)
                if message.get("type") != "result":
                    continue
                started = sent.pop(message["id"])
                if time.perf_counter() < until:
                    latencies.append(time.perf_counter() - started)
                    if not message["ok"]:
                        problems.append(message["status"])
                room.release()
                if done.is_set() and not sent:
                    return

        reader = asyncio.create_task(read())
        counter, next_at = 0, time.perf_counter()
        while time.perf_counter() < until:
            if interval_s is not None:
                next_at += interval_s
                pause = next_at - time.perf_counter()
                if pause > 0:
                    await asyncio.sleep(pause)
            await room.acquire()
            counter += 1
            ident = counter
            message = {
                "action": "command",
                "id": ident,
                "op": "xp",
                "playerId": f"p{random.randrange(players)}",
                "idempotencyKey": f"s{number}-{ident}-{random.getrandbits(40)}",
                "amount": 10,
            }
            sent[ident] = time.perf_counter()
            await ws.send(json.dumps(message))
        done.set()
        if sent:
            await asyncio.wait_for(reader, 30)
        else:
            reader.cancel()


async def drive(
    url: str,
    headers: dict[str, str],
    *,
    sockets: int = 8,
    window: int = 32,
    players: int = 1000,
    duration_s: float = 15.0,
    rate: float | None = None,
) -> dict[str, Any]:
    """Commands answered within `duration_s` per second, and their latency (send to result)."""
    latencies: list[float] = []
    problems: list[int] = []
    interval_s = sockets / rate if rate else None
    started = time.perf_counter()
    until = started + duration_s
    await asyncio.gather(
        *(
            _socket(url, headers, number, window, players, until, interval_s, latencies, problems)
            for number in range(sockets)
        )
    )
    ordered = sorted(latencies)
    return {
        "requests": len(latencies),
        "errors": 0,
        "non2xx": len(problems),
        "seconds": round(duration_s, 3),
        "rps": round(len(latencies) / duration_s, 1),
        "p50_ms": round(percentile(ordered, 0.50) * 1000, 3),
        "p95_ms": round(percentile(ordered, 0.95) * 1000, 3),
        "p99_ms": round(percentile(ordered, 0.99) * 1000, 3),
        "sockets": sockets,
        "window": window,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--sockets", type=int, default=8)
    parser.add_argument("--window", type=int, default=32)
    parser.add_argument("--players", type=int, default=1000)
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--rate", type=float)
    parser.add_argument("--header", action="append", default=[], help="NAME=VALUE (repeatable)")
    args = parser.parse_args()
    headers = dict(item.split("=", 1) for item in args.header)
    try:  # the client's own cost, the same against both servers, kept low
        import uvloop

        factory: Any = uvloop.new_event_loop
    except ImportError:
        factory = None
    with asyncio.Runner(loop_factory=factory) as runner:
        result = runner.run(
            drive(
                args.url,
                headers,
                sockets=args.sockets,
                window=args.window,
                players=args.players,
                duration_s=args.duration,
                rate=args.rate,
            )
        )
    print(f"RESULT {json.dumps(result)}", flush=True)


if __name__ == "__main__":
    main()
