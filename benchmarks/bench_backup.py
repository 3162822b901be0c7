"""Time and size of `ludex backup` (and `ludex restore`) of a data directory with many players,
idle and while a shard host commits keyed credits.

Each player is created (straight into the store, as bench_scale does), then gets a keyed credit
and an XP award through a shard host, so the journal, idempotency keys, snapshots, event store
and player index are all populated as a live server leaves them.

    python -m benchmarks.bench_backup [--players 100000] [--out PATH]

Writes benchmarks/results/backup.json (or --out). Figures are wall-clock on a shared machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from actors.host import CommandRequest, ShardHost
from actors.stores.backup import backup, restore
from actors.stores.sqlite import SqliteStore
from benchmarks.bench_scale import RESULTS, Creations, define_demo_economy, log, player_id, prepopulate, tree_state
from benchmarks.bench_scale import P as PROJECT
from benchmarks.bench_scale import T as TENANT
from engine.commands import AwardXp, Credit

BATCH = 512


async def populate(path: Path, players: int) -> float:
    started = time.perf_counter()
    economy = await define_demo_economy(path)
    await prepopulate(path, Creations(economy), 0, players)
    host = ShardHost(SqliteStore(path), idle_timeout_s=5.0)
    await host.start(sweep=False)
    for low in range(0, players, BATCH):
        ids = [player_id(i) for i in range(low, min(low + BATCH, players))]
        requests = [CommandRequest(TENANT, PROJECT, p, Credit("coins", 100, reason="seed"), f"seed-{p}") for p in ids]
        requests += [CommandRequest(TENANT, PROJECT, p, AwardXp(150), f"xp-{p}") for p in ids]
        assert all(outcome.ok for outcome in await host.execute(requests))
        await host.passivate_idle(force=True)
        if low % (BATCH * 40) == 0:
            log(f"    {low:,} players credited")
    await host.stop()
    return time.perf_counter() - started


async def credit_under_load(path: Path, players: int, seconds: float, during: asyncio.Event) -> dict[str, float]:
    """Keyed credits as fast as one host commits them; counts those made while `during` is set."""
    host = ShardHost(SqliteStore(path))
    await host.start(sweep=False)
    rng = random.Random(7)
    counts = {"before": 0.0, "during": 0.0, "beforeSeconds": 0.0, "duringSeconds": 0.0}
    deadline = time.perf_counter() + seconds
    sequence = 0
    while time.perf_counter() < deadline:
        started, phase = time.perf_counter(), "during" if during.is_set() else "before"
        requests = []
        for _ in range(64):
            sequence += 1
            pid = player_id(rng.randrange(players))
            requests.append(CommandRequest(TENANT, PROJECT, pid, Credit("coins", 1), f"load-{sequence}"))
        assert all(outcome.ok for outcome in await host.execute(requests))
        counts[phase] += len(requests)
        counts[f"{phase}Seconds"] += time.perf_counter() - started
    await host.stop()
    return counts


async def measure(players: int, folder: Path) -> dict[str, Any]:
    data_dir = folder / "data"
    path = data_dir / "ludex.sqlite3"
    log(f"  populating {players:,} players ...")
    populate_s = await populate(path, players)
    database_bytes = path.stat().st_size
    log(f"    populated in {populate_s:.0f} s: {database_bytes / 1e6:.1f} MB")
    runs: dict[str, Any] = {}
    for name in ("ludex.tar", "ludex.tar.gz"):
        summary = backup(data_dir, folder / name)
        runs[name] = {
            "seconds": round(summary.seconds, 2),
            "copySeconds": round(summary.copy_seconds, 2),
            "bytes": summary.file_bytes,
        }
        log(
            f"  idle backup to {name}: {summary.seconds:.2f} s (copy {summary.copy_seconds:.2f} s),"
            f" {summary.file_bytes / 1e6:.1f} MB"
        )
    started = time.perf_counter()
    restore(folder / "ludex.tar.gz", folder / "restored")
    restore_s = time.perf_counter() - started
    log(f"  restore of ludex.tar.gz: {restore_s:.2f} s")
    shutil.rmtree(folder / "restored")

    during = asyncio.Event()
    load = asyncio.create_task(credit_under_load(path, players, 12.0, during))
    await asyncio.sleep(4.0)
    during.set()
    loaded = await asyncio.to_thread(backup, data_dir, folder / "loaded.tar")
    during.clear()
    counts = await load
    rate_before = counts["before"] / counts["beforeSeconds"]
    rate_during = counts["during"] / max(counts["duringSeconds"], 1e-9)
    log(
        f"  backup under load: {loaded.seconds:.2f} s (copy {loaded.copy_seconds:.2f} s),"
        f" {loaded.file_bytes / 1e6:.1f} MB; keyed credits/s"
        f" before {rate_before:,.0f}, during {rate_during:,.0f} ({rate_during / rate_before:.2f}x)"
    )
    return {
        "players": players,
        "populateSeconds": round(populate_s, 1),
        "databaseBytes": database_bytes,
        "idle": runs,
        "restoreSecondsGz": round(restore_s, 2),
        "underLoad": {
            "seconds": round(loaded.seconds, 2),
            "copySeconds": round(loaded.copy_seconds, 2),
            "bytes": loaded.file_bytes,
            "creditsPerSecondBefore": round(rate_before),
            "creditsPerSecondDuring": round(rate_during),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--players", type=int, default=100_000)
    parser.add_argument("--out", type=Path, default=RESULTS / "backup.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ludex-bench-backup-") as scratch:
        result = asyncio.run(measure(args.players, Path(scratch)))
    result["tree"] = tree_state()
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    log(f"wrote {args.out}")


if __name__ == "__main__":
    main()
