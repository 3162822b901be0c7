"""What three guardrails cost a currency award that all three count (a per-player cap, a
per-source cap and a leased project budget), against the same award without guardrails, in the
same run: the engine's decision alone (`decide`, then `guard`), and the CPU time per durable
award of one shard host over SQLite (process time, not wall time, and the best of interleaved
rounds: the machine is shared and its load swings more than the difference measured).

    python -m benchmarks.bench_guardrails [--commands 4000] [--players 200] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from actors.host import CommandRequest, ShardHost
from actors.stores.sqlite import SqliteStore
from config.settings import DEMO_ECONOMY_PATH
from engine import commands as c
from engine.definitions import parse_economy
from engine.guardrail_checks import guard
from engine.rules import Accepted, Context, decide
from engine.state import PlayerState

T, P = "bench", "bench"
BIG = 10**12
GUARDRAILS = [
    {"id": "coin-cap", "currency": "coins", "perPlayer": {"amount": BIG, "per": "hour"}, "action": "refuse"},
    {
        "id": "credit-cap",
        "currency": "coins",
        "source": "credit",
        "perPlayer": {"amount": BIG, "per": "day"},
        "action": "flag",
    },
    {"id": "coin-budget", "currency": "coins", "project": {"amount": BIG, "per": "day"}, "action": "refuse"},
]


def economy_document(guarded: bool) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(DEMO_ECONOMY_PATH.read_text())
    if guarded:
        document["guardrails"] = GUARDRAILS
    return document


def engine_us(guarded: bool, iterations: int) -> float:
    """Microseconds per award: decide, plus guard when guarded (the host's pure work)."""
    economy = parse_economy(economy_document(guarded))
    state = PlayerState("p", exists=True)
    command = c.Credit("coins", 10)
    now = datetime(2026, 3, 1, tzinfo=UTC)
    room = {"coin-budget": BIG}
    started = time.process_time()
    for _ in range(iterations):
        decision = decide(state, command, Context(now=now, economy=economy, entity="p"))
        if guarded and isinstance(decision, Accepted):
            guard(state, "credit", decision, economy.guardrails, now, room)
    return (time.process_time() - started) / iterations * 1e6


async def host_us(guarded: bool, commands: int, players: int) -> float:
    """CPU microseconds per durable award of one host over SQLite, 256 in flight (the host,
    its committer and SQLite share this process, so process time is all of it)."""
    with tempfile.TemporaryDirectory() as folder:
        host = ShardHost(SqliteStore(Path(folder) / "bench.sqlite3"))
        await host.start(sweep=False)
        await host.define_economy(T, P, economy_document(guarded))
        await host.execute([CommandRequest(T, P, f"p{i}", c.CreatePlayer(f"p{i}")) for i in range(players)])
        gate = asyncio.Semaphore(256)

        async def send(i: int) -> bool:
            async with gate:
                request = CommandRequest(T, P, f"p{i % players}", c.Credit("coins", 10), idempotency_key=f"c-{i}")
                return bool((await host.execute([request]))[0].ok)

        started = time.process_time()
        results = await asyncio.gather(*(send(i) for i in range(commands)))
        elapsed = time.process_time() - started
        await host.stop()
    assert all(results), "every award must be accepted"
    return elapsed / commands * 1e6


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=4000)
    parser.add_argument("--players", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    plain_us, guarded_us, plain_host, guarded_host = [], [], [], []
    for _ in range(args.rounds):  # interleaved, so drift in the machine's load hits both alike
        plain_us.append(engine_us(False, 20_000))
        guarded_us.append(engine_us(True, 20_000))
        plain_host.append(await host_us(False, args.commands, args.players))
        guarded_host.append(await host_us(True, args.commands, args.players))
    engine = (min(plain_us), min(guarded_us))
    host = (min(plain_host), min(guarded_host))
    print(
        json.dumps(
            {
                "engineAwardUs": round(engine[0], 2),
                "engineAwardWithThreeGuardrailsUs": round(engine[1], 2),
                "guardUs": round(engine[1] - engine[0], 2),
                "hostAwardCpuUs": round(host[0], 1),
                "hostAwardWithThreeGuardrailsCpuUs": round(host[1], 1),
                "hostCostPercent": round((host[1] / host[0] - 1) * 100, 1),
                "guardShareOfHostAwardPercent": round((engine[1] - engine[0]) / host[0] * 100, 2),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
