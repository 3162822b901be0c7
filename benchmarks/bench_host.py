"""Durable commands/s of one shard host over SQLite, with group commit and without it, measured
in the same run (the machine is shared and noisy: read the ratio, not the absolute figures).

    python -m benchmarks.bench_host [--commands 4000] [--players 200] [--concurrency 256]
    python -m benchmarks.bench_host --boards --batch 100 [--commands 20000]

`--boards` adds the demo economy's leaderboards, embedded in the store's SQLite file (as
`ludex serve` without Redis has them); `--batch N` sends the awards N to a call (as the batch
route does). Both print the host's CPU per award (process time: the store's threads included),
the figure issue 28's first goal bounds (<= 100 µs).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from actors.boards.sqlite import SqliteBoardStore
from actors.host import CommandRequest, ShardHost
from actors.stores.sqlite import SqliteStore
from config.settings import DEMO_ECONOMY_PATH
from engine import commands as c

T, P = "bench", "bench"


GOAL_US = 100.0


async def measure(
    group_commit: bool, commands: int, players: int, concurrency: int, *, boards: bool = False, batch: int = 1
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.sqlite3"
        board_store = SqliteBoardStore(path) if boards else None
        host = ShardHost(SqliteStore(path), group_commit=group_commit, boards=board_store)
        await host.start(sweep=False)
        await host.define_economy(T, P, yaml.safe_load(DEMO_ECONOMY_PATH.read_text()))
        await host.execute([CommandRequest(T, P, f"p{i}", c.CreatePlayer(f"p{i}")) for i in range(players)])
        gate = asyncio.Semaphore(concurrency)
        commits_before = host.committer.commits

        async def send(first: int) -> bool:
            async with gate:
                requests = [
                    CommandRequest(T, P, f"p{i % players}", c.AwardXp(10), idempotency_key=f"xp-{i}")
                    for i in range(first, min(first + batch, commands))
                ]
                return all(outcome.ok for outcome in await host.execute(requests))

        started, cpu_started = time.perf_counter(), time.process_time()
        results = await asyncio.gather(*(send(i) for i in range(0, commands, batch)))
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
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
        "cpuMicrosPerCommand": round(cpu / commands * 1e6, 1),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=4000)
    parser.add_argument("--players", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=256)
    parser.add_argument("--boards", action="store_true", help="the demo economy's leaderboards, embedded")
    parser.add_argument("--batch", type=int, default=1, help="awards per call")
    args = parser.parse_args()
    if args.boards or args.batch > 1:
        await per_award_cpu(args)
        return
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


async def per_award_cpu(args: argparse.Namespace) -> None:
    """The host's CPU per award: a bare run (no boards, single calls) first as the same-run
    baseline, then the configuration asked for."""
    concurrency = max(1, args.concurrency // max(args.batch, 1)) if args.batch > 1 else args.concurrency
    bare = await measure(True, args.commands, args.players, args.concurrency)
    asked = await measure(True, args.commands, args.players, concurrency, boards=args.boards, batch=args.batch)
    label = f"boards={'on' if args.boards else 'off'}, {args.batch} per call"
    print(f"load average {os.getloadavg()[0]:.2f}; {args.commands} awards to {args.players} players")
    for name, run in (("bare (no boards, 1 per call)", bare), (label, asked)):
        print(f"  {name}: {run['cpuMicrosPerCommand']:>7.1f} µs CPU/award, {run['commandsPerSecond']:>8.1f}/s")
    ratio = asked["cpuMicrosPerCommand"] / bare["cpuMicrosPerCommand"]
    met = "MET" if asked["cpuMicrosPerCommand"] <= GOAL_US else "NOT MET"
    print(f"  ratio CPU asked/bare: {ratio:.2f}; goal <= {GOAL_US:.0f} µs/award: {met}")
    print(json.dumps({"bare": bare, "asked": asked, "ratio": round(ratio, 2)}))


if __name__ == "__main__":
    asyncio.run(main())
