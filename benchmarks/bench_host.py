"""Durable commands/s of one shard host over SQLite, with group commit and without it, measured
in the same run (the machine is shared and noisy: read the ratio, not the absolute figures).

    python -m benchmarks.bench_host [--commands 4000] [--players 200] [--concurrency 256]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from actors.host import CommandRequest, ShardHost
from actors.stores.sqlite import SqliteStore
from config.settings import DEMO_ECONOMY_PATH
from engine import commands as c

T, P = "bench", "bench"


async def measure(group_commit: bool, commands: int, players: int, concurrency: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        host = ShardHost(SqliteStore(Path(folder) / "bench.sqlite3"), group_commit=group_commit)
        await host.start(sweep=False)
        await host.define_economy(T, P, yaml.safe_load(DEMO_ECONOMY_PATH.read_text()))
        await host.execute([CommandRequest(T, P, f"p{i}", c.CreatePlayer(f"p{i}")) for i in range(players)])
        gate = asyncio.Semaphore(concurrency)
        commits_before = host.committer.commits

        async def send(i: int) -> bool:
            async with gate:
                request = CommandRequest(T, P, f"p{i % players}", c.AwardXp(10), idempotency_key=f"xp-{i}")
                return bool((await host.execute([request]))[0].ok)

        started = time.perf_counter()
        results = await asyncio.gather(*(send(i) for i in range(commands)))
        elapsed = time.perf_counter() - started
        commits = host.committer.commits - commits_before
        await host.stop()
    assert all(results), "every command must be accepted"
    return {
        "groupCommit": group_commit,
        "commands": commands,
        "seconds": round(elapsed, 3),
        "commandsPerSecond": round(commands / elapsed, 1),
        "transactions": commits,
        "meanBatch": round(commands / max(commits, 1), 1),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=4000)
    parser.add_argument("--players", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=256)
    args = parser.parse_args()
    print(f"durable XP awards through one ShardHost over SQLite (WAL, synchronous=FULL), {args.commands} commands")
    baseline = await measure(False, max(args.commands // 4, 200), args.players, args.concurrency)
    print(f"  without group commit: {baseline['commandsPerSecond']:>9.1f} cmd/s  ({baseline['transactions']} txns)")
    grouped = await measure(True, args.commands, args.players, args.concurrency)
    print(
        f"  with group commit:    {grouped['commandsPerSecond']:>9.1f} cmd/s  ({grouped['transactions']} txns,"
        f" mean batch {grouped['meanBatch']})"
    )
    ratio = grouped["commandsPerSecond"] / baseline["commandsPerSecond"]
    print(f"  ratio group/no-group: {ratio:.1f}x")
    print(json.dumps({"baseline": baseline, "groupCommit": grouped, "ratio": round(ratio, 2)}))


if __name__ == "__main__":
    asyncio.run(main())
