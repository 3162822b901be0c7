"""Leaderboards: what they cost the hot path, and how fast a big board reads.

(a) XP awards/s through one `ludex serve` (wrk, keyed awards to random players, as bench_http)
    with the demo economy's three boards defined, and with the same economy without boards,
    alternating none / boards / none / boards on the same server so drift from a shared machine
    falls on both; the ratio is boards / none (goal >= 0.9). `--redis` runs it with
    LUDEX_REDIS_URL (a throwaway redis-server), so boards live in Redis.
(b) With N entries (default 1,000,000) loaded in bulk into one board period, straight into each
    store implementation (embedded SQLite, Redis with its default 4 shard keys): the p50/p99 of
    a player's rank (random players), of the top-100 page, of a page of 100 deep in the board
    (keyset cursor after a random player) and of around-me (5 above, 5 below), one at a time,
    in-process.

    apt-get install wrk redis-server
    python -m benchmarks.bench_leaderboards [--duration 10] [--entries 1000000] [--skip-http] [--skip-reads]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import yaml

from actors.boards.redis import RedisBoardStore
from actors.boards.sqlite import SqliteBoardStore
from actors.boards.store import BoardKey, BoardStore, position_of
from actors.stores.sqlite import SqliteStore
from benchmarks.bench_http import RESULTS, create_players, free_port, run_wrk, wait_until
from config.settings import DEMO_ECONOMY_PATH
from engine.leaderboards import Entry, Leaderboard
from tests.support.services import redis_server

BOARD = Leaderboard("big", "Big", "submitted", "best", "desc")


# ------------------------------------------------------------------------------------ (a) HTTP


def apply_economy(data_dir: Path, url: str, document: dict[str, Any]) -> None:
    path = data_dir / "economy.yaml"
    path.write_text(yaml.safe_dump(document))
    ludex = str(Path(sys.executable).with_name("ludex"))
    env = {**os.environ, "LUDEX_DATA_DIR": str(data_dir)}
    subprocess.run([ludex, "project", "apply", str(path), "--base-url", url], env=env, check=True, capture_output=True)


def measure_http(args: argparse.Namespace, redis_url: str | None) -> dict[str, Any]:
    port, data_dir = free_port(), Path(tempfile.mkdtemp(prefix="ludex-bench-boards-"))
    # A Ray of its own: on a machine where another Ray runs, `ray.init()` would join that one.
    env = {**os.environ, "LUDEX_DEFAULT_RATE_LIMIT_PER_S": "1000000", "RAY_ADDRESS": "local"}
    if redis_url:
        env["LUDEX_REDIS_URL"] = redis_url
    command = [str(Path(sys.executable).with_name("ludex")), "serve", "--data-dir", str(data_dir), "--port", str(port)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    with_boards = yaml.safe_load(DEMO_ECONOMY_PATH.read_text())
    without = {key: value for key, value in with_boards.items() if key != "leaderboards"}
    try:
        wait_until(lambda: httpx.get(f"{url}/v1/health/ready").status_code == 200, 180, "ludex serve")
        creds, wrk_env = create_players(url, data_dir, args.players)
        headers = {"x-tenant-id": creds["tenantId"], "x-api-key": creds["apiKey"]}
        run_wrk(url, argparse.Namespace(**{**vars(args), "duration": 3}), wrk_env)  # warm-up
        runs: dict[str, list[dict[str, Any]]] = {"boards": [], "none": []}
        for round_ in range(args.rounds):
            for name, document in (("none", without), ("boards", with_boards)):
                apply_economy(data_dir, url, document)
                result = run_wrk(url, args, wrk_env)
                print(f"    round {round_ + 1} {name:<6} {result['rps']:>8,.0f} req/s  p99 {result['p99_ms']:.1f} ms")
                runs[name].append(result)
        ranked = httpx.get(
            f"{url}/v1/projects/{creds['projectId']}/leaderboards/xp-all-time", headers=headers, params={"limit": 1}
        ).json()
        total = {name: sum(r["requests"] for r in rs) / sum(r["seconds"] for r in rs) for name, rs in runs.items()}
        errors = sum(r["errors"] + r["non2xx"] for rs in runs.values() for r in rs)
        return {
            "store": "redis" if redis_url else "embedded",
            "runs": runs,
            "boardsRps": round(total["boards"], 1),
            "noneRps": round(total["none"], 1),
            "ratio": round(total["boards"] / total["none"], 4),
            "errors": errors,
            "topOfXpBoard": ranked["items"][:1],
        }
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=120)
        shutil.rmtree(data_dir, ignore_errors=True)


# ------------------------------------------------------------------------------------ (b) reads


async def timed(samples: int, call: Callable[[], Awaitable[Any]]) -> dict[str, float]:
    latencies: list[float] = []
    for _ in range(samples):
        started = time.perf_counter()
        await call()
        latencies.append((time.perf_counter() - started) * 1000)
    latencies.sort()
    return {
        "samples": samples,
        "p50_ms": round(statistics.median(latencies), 3),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1], 3),
        "max_ms": round(latencies[-1], 3),
    }


async def measure_reads(name: str, boards: BoardStore, entries: int, samples: int) -> dict[str, Any]:
    key = BoardKey("bench", "game", BOARD, "all")
    rng = random.Random(7)
    await boards.open()
    try:
        await boards.clear("bench", "game")
        started = time.perf_counter()
        chunk = 100_000
        for start in range(0, entries, chunk):
            rows = [
                (f"p{i}", Entry(rng.randrange(10_000_000), 1_700_000_000_000 + i, 1))
                for i in range(start, min(start + chunk, entries))
            ]
            await boards.load(key, rows, {player: player for player, _ in rows})
        load_s = time.perf_counter() - started
        count = await boards.count(key)
        print(f"  {name}: {count:,} entries loaded in {load_s:.0f} s", flush=True)
        rank = await timed(samples, lambda: boards.standing(key, f"p{rng.randrange(entries)}"))
        top = await timed(samples, lambda: boards.page(key, limit=100))
        deep_entries = [await boards.standing(key, f"p{rng.randrange(entries)}") for _ in range(50)]
        deep_cursors = [(position_of(BOARD, entry), entry.rank) for entry in deep_entries if entry is not None]

        async def deep_page() -> Any:
            position, rank = rng.choice(deep_cursors)
            return await boards.page(key, limit=100, after=position, after_rank=rank)

        deep = await timed(samples, deep_page)

        async def around_me() -> Any:
            entry = rng.choice([e for e in deep_entries if e is not None])
            return await boards.around(key, entry, above=5, below=5)

        near = await timed(samples, around_me)
        for what, figures in (("rank", rank), ("top-100", top), ("deep 100", deep), ("around 5", near)):
            print(f"    {what:<9} p50 {figures['p50_ms']:.2f} ms  p99 {figures['p99_ms']:.2f} ms", flush=True)
        return {
            "entries": count,
            "loadS": round(load_s, 1),
            "rank": rank,
            "top100": top,
            "deep100": deep,
            "around5": near,
        }
    finally:
        await boards.close()


async def reads(args: argparse.Namespace, redis_url: str, data_dir: Path) -> dict[str, Any]:
    results: dict[str, Any] = {}
    if "embedded" in args.stores.split(","):
        store = SqliteStore(data_dir / "ludex.sqlite3")
        await store.open()  # its schema steps create the board tables
        await store.close()
        embedded = SqliteBoardStore(data_dir / "ludex.sqlite3")
        results["embedded"] = await measure_reads("embedded", embedded, args.entries, args.samples)
    if "redis" in args.stores.split(","):
        results["redis"] = await measure_reads("redis", RedisBoardStore(redis_url), args.entries, args.samples)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--players", type=int, default=1000)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--redis", action="store_true", help="(a) with boards in Redis (LUDEX_REDIS_URL)")
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--skip-reads", action="store_true")
    parser.add_argument("--stores", default="embedded,redis", help="(b) on these stores (comma list)")
    parser.add_argument("--label", default="default")
    args = parser.parse_args()
    report: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} cores",
    }
    with ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ludex-bench-reads-")))
        redis_url = stack.enter_context(redis_server(scratch))
        if not args.skip_http:
            if shutil.which("wrk") is None:
                raise SystemExit("bench_leaderboards: wrk is required (apt-get install wrk)")
            print("(a) XP awards/s through ludex serve: three boards vs none", flush=True)
            http = measure_http(args, redis_url if args.redis else None)
            print(
                f"    boards {http['boardsRps']:,.0f} req/s, none {http['noneRps']:,.0f} req/s:"
                f" ratio {http['ratio']:.3f}"
            )
            print(f"goal boards/none >= 0.9: {'MET' if http['ratio'] >= 0.9 else 'NOT MET'}")
            report["http"] = http
        if not args.skip_reads:
            print(f"(b) reads with {args.entries:,} entries", flush=True)
            report["reads"] = asyncio.run(reads(args, redis_url, scratch))
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"leaderboards-{args.label}.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
