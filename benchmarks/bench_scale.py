"""How one shard host scales with the number of entities, over SQLite (WAL, synchronous=FULL),
without Ray: (1) memory per active and per passivated entity, (2) activation time against journal
length with and without a snapshot, (3) durable keyed XP awards/s over 1k, 100k and 1M distinct
players. Every figure is printed next to its ratio to a baseline measured in the same run, because
the machine is shared and noisy: read the ratios, not the absolute figures.

    python -m benchmarks.bench_scale [--quick] [--entities 10000] [--journal-lengths 10,100,1000]
        [--replicas 5] [--commands 20000] [--populations 1000,100000,1000000] [--concurrency 256]
        [--idle-timeout 2] [--profile] [--only memory,activation,throughput] [--out PATH]

Writes benchmarks/results/scale.json (or --out).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import gc
import io
import json
import os
import pstats
import random
import sqlite3
import statistics
import subprocess
import tempfile
import time
import tracemalloc
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import psutil
import yaml

from actors.clock import epoch_ms
from actors.host import CommandRequest, ShardHost
from actors.stores.base import History, JournalRecord, Snapshot
from actors.stores.sqlite import SqliteStore
from config.settings import DEMO_ECONOMY_PATH
from engine import commands as c
from engine.definitions import Economy, parse_economy
from engine.events import PlayerCreated, event_to_dict
from engine.identity import player_key
from engine.outcomes import Outcome
from engine.rules import Accepted, Context, decide, rfc3339
from engine.state import PlayerState

T, P = "bench", "bench"
RESULTS = Path(__file__).resolve().parent / "results"
XP = 10
R = TypeVar("R")


def log(message: str) -> None:
    print(message, flush=True)


def player_id(index: int) -> str:
    """Zero-padded so bulk inserts land in index order: prepopulating 1M players stays cheap."""
    return f"p{index:07d}"


class MeteredStore(SqliteStore):
    """A SqliteStore that counts its operations and the time its SQLite threads spend on them, so a
    run can say where that time goes (cProfile sees only the event loop's thread). It wraps what
    `_run` (the writing thread) and `_read` (the reading thread) hand to their thread: benchmark-only
    coupling to `actors/stores/sqlite.py`; if that changes, the counts come out empty (and say so)."""

    def __init__(self, path: str | Path) -> None:
        super().__init__(path)
        self.calls: dict[str, int] = defaultdict(int)
        self.busy_s: dict[str, float] = defaultdict(float)

    def _metered(self, thread: str, fn: Callable[[sqlite3.Connection], R]) -> Callable[[sqlite3.Connection], R]:
        name = fn.__qualname__.split(".")[1]  # SqliteStore.<method>.<locals>.<fn>

        def metered(conn: sqlite3.Connection) -> R:
            started = time.perf_counter()
            try:
                return fn(conn)
            finally:
                self.calls[name] += 1
                self.busy_s[thread] += time.perf_counter() - started

        return metered

    async def _run(self, fn: Callable[[sqlite3.Connection], R]) -> R:
        return await super()._run(self._metered("writer", fn))

    async def _read(self, fn: Callable[[sqlite3.Connection], R]) -> R:
        return await super()._read(self._metered("reader", fn))

    async def save_snapshots(self, snapshots: Sequence[Snapshot]) -> None:
        self.calls["snapshots saved"] += len(snapshots)  # a passivation sweep writes many in one call
        await super().save_snapshots(snapshots)

    async def load_histories(self, entities: Sequence[str]) -> list[History]:
        self.calls["activations"] += len(entities)  # entities activated together share one call
        return await super().load_histories(entities)

    def reset(self) -> None:
        self.calls.clear()
        self.busy_s.clear()


async def new_host(path: Path, *, sweep: bool = False, **options: Any) -> ShardHost:
    host = ShardHost(MeteredStore(path), **options)
    await host.start(sweep=sweep)
    return host


async def close_without_passivating(host: ShardHost) -> None:
    """Drain the host's writes and close its store, leaving active entities unsnapshotted, as a
    crash would. `stop()` would passivate each active entity in a transaction of its own: ~15 s
    for the ~20k entities a 1M-player run leaves active (see the memory figures)."""
    sweeper = getattr(host, "_sweeper", None)  # the host's passivation loop, if it runs one
    if sweeper is not None:
        sweeper.cancel()
        await asyncio.gather(sweeper, return_exceptions=True)
    await host.committer.stop()
    await host.store.close()


async def define_demo_economy(path: Path) -> Economy:
    """Install the demo economy on the bench project; answers the economy as the host parsed it."""
    host = await new_host(path)
    outcome = await host.define_economy(T, P, yaml.safe_load(DEMO_ECONOMY_PATH.read_text()))
    assert outcome.ok, outcome
    document = await host.economy_document(T, P)
    await host.stop()
    assert document is not None
    return parse_economy(document)


class Creations:
    """`player.created` journal records exactly as `ShardHost._decide` writes them for an unkeyed
    `CreatePlayer`. `engine.rules.decide` and `event_to_dict` cost ~75 µs a player (1M: over a
    minute), so the engine's record for player 0 is reused with each player's id in place of player
    0's, and checked against a full `decide` every `check_every` players."""

    def __init__(self, economy: Economy, check_every: int = 10_000) -> None:
        self.economy = economy
        self.check_every = check_every
        self.template_id = player_id(0)
        decision = self._decide(self.template_id, datetime.now(UTC))
        assert len(decision.events) == 1 and isinstance(decision.events[0], PlayerCreated), decision.events
        self.template = event_to_dict(decision.events[0])

    def _decide(self, pid: str, now: datetime) -> Accepted:
        key = player_key(T, P, pid)
        decision = decide(PlayerState(player_id=pid), c.CreatePlayer(pid), Context(now, self.economy, key))
        assert isinstance(decision, Accepted), decision
        return decision

    def records(self, start: int, stop: int) -> list[JournalRecord]:
        """Players `start..stop-1`, created at one instant (the host stamps each record with `now`)."""
        now = datetime.now(UTC)
        occurred_at, recorded_at_ms = rfc3339(now), epoch_ms(now)
        records = []
        for index in range(start, stop):
            pid = player_id(index)
            data = {k: pid if v == self.template_id else v for k, v in self.template["data"].items()}
            events = [{**self.template, "data": data}]
            if index % self.check_every == 0:
                assert events == [event_to_dict(e) for e in self._decide(pid, now).events], events
            records.append(JournalRecord(player_key(T, P, pid), 1, events, occurred_at, recorded_at_ms))
        return records


async def prepopulate(path: Path, creations: Creations, start: int, stop: int, batch: int = 50_000) -> float:
    """Write players `start..stop-1` straight to the store in large transactions (one host command
    each would take an hour for 1M); the next batch is built while the previous one commits."""
    store = SqliteStore(path)
    await store.open()
    started = time.perf_counter()
    pending: asyncio.Task[Any] | None = None
    for low in range(start, stop, batch):
        records = creations.records(low, min(low + batch, stop))
        if pending is not None:
            assert not (await pending).conflicts
        pending = asyncio.create_task(store.commit(records, []))
        if (low - start) % (batch * 4) == 0 and low > start:
            log(f"    prepopulated {low:,} players ({(low - start) / (time.perf_counter() - started):,.0f}/s)")
    if pending is not None:
        assert not (await pending).conflicts
    await store.close()
    return time.perf_counter() - started


async def bounded(concurrency: int, jobs: Iterable[Awaitable[R]]) -> list[R]:
    """Run awaitables with at most `concurrency` in flight, like callers sharing a connection pool.
    Workers pull from one lazy iterator: no task per job, so the event loop's own bookkeeping
    (its weak set of tasks, which never shrinks) does not show up in the memory figures."""
    pending = iter(jobs)
    results: list[R] = []

    async def worker() -> None:
        for job in pending:
            results.append(await job)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return results


async def award(host: ShardHost, pid: str, key: str) -> Outcome:
    request = CommandRequest(T, P, pid, c.AwardXp(XP), idempotency_key=key)
    outcome = (await host.execute([request]))[0]
    assert outcome.ok, outcome
    return outcome


def sqlite_value(path: Path, sql: str) -> float:
    """One number read from a closed store's file (read-only: the store's own API has no such query)."""
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        row = conn.execute(sql).fetchone()
    return float(row[0] or 0.0)


# ---------------------------------------------------------------------------------------- memory


def traced_bytes() -> int:
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


async def measure_memory(folder: Path, entities: int, concurrency: int) -> dict[str, Any]:
    """tracemalloc deltas (Python objects only: exact, unlike RSS, which pymalloc never returns)
    around activating `entities` players with one keyed XP award each, then around passivating them."""
    path = folder / "memory.sqlite3"
    creations = Creations(await define_demo_economy(path))
    warm = 200  # activated before the baseline: the economy cache, metrics labels, executor
    await prepopulate(path, creations, 0, entities + warm)
    # Every passivated entity snapshotted (by default a tail this short would not be): the
    # snapshot's size is one of the figures.
    host = await new_host(path, idle_timeout_s=3600.0, snapshot_on_passivation_after=1)
    await bounded(concurrency, (award(host, player_id(i), f"warm-{i}") for i in range(warm)))
    process = psutil.Process()
    tracemalloc.start()
    base, rss_base = traced_bytes(), process.memory_info().rss
    started = time.perf_counter()
    ids = range(warm, warm + entities)
    await bounded(concurrency, (award(host, player_id(i), f"mem-{i}") for i in ids))
    activate_s = time.perf_counter() - started
    active, rss_active = traced_bytes(), process.memory_info().rss
    assert host.active_entities() == warm + entities
    started = time.perf_counter()
    passivated = await host.passivate_idle(force=True)
    passivate_s = time.perf_counter() - started
    after = traced_bytes()
    tracemalloc.stop()
    assert passivated == warm + entities and host.active_entities() == 0
    await host.stop()
    snapshot_bytes = sqlite_value(path, "SELECT avg(length(state)) FROM snapshots WHERE entity LIKE 'player:%'")
    journal_bytes = sqlite_value(
        path, "SELECT avg(length(events) + coalesce(length(outcome), 0)) FROM journal WHERE entity LIKE 'player:%'"
    )
    return {
        "entities": entities,
        "bytesPerActive": round((active - base) / entities, 1),
        "bytesPerPassivated": round((after - base) / entities, 1),
        "rssBytesPerActive": round((rss_active - rss_base) / entities, 1),
        "snapshotBytes": round(snapshot_bytes, 1),
        "journalRecordBytes": round(journal_bytes, 1),
        "activateSecondsTraced": round(activate_s, 3),
        "passivateMsPerEntity": round(passivate_s * 1000 / passivated, 3),
    }


# ---------------------------------------------------------------------------------------- activation


async def write_journals(path: Path, lengths: list[int], replicas: int, snapshot_every: int) -> ShardHost:
    """`replicas` players per length, each with a journal of exactly that many records (one create,
    then keyed XP awards); plus player `warm`, for loading the economy before timing."""
    host = await new_host(path, snapshot_every=snapshot_every, snapshot_on_passivation_after=1)
    players = ["warm"] + [f"a{length}-{r}" for length in lengths for r in range(replicas)]
    outcomes = await host.execute([CommandRequest(T, P, pid, c.CreatePlayer(pid)) for pid in players])
    assert all(o.ok for o in outcomes), outcomes

    async def grow(pid: str, length: int) -> None:
        await bounded(64, (award(host, pid, f"{pid}-{n}") for n in range(1, length)))

    await asyncio.gather(*(grow(f"a{length}-{r}", length) for length in lengths for r in range(replicas)))
    return host


async def time_activations(path: Path, lengths: list[int], replicas: int) -> dict[int, float]:
    """Median ms of the first `view` of each player on a fresh host (snapshot + journal replay)."""
    host = await new_host(path)
    assert (await host.view(T, P, "warm", "progression")).ok
    medians: dict[int, float] = {}
    for length in lengths:
        samples = []
        for r in range(replicas):
            started = time.perf_counter()
            outcome = await host.view(T, P, f"a{length}-{r}", "progression")
            samples.append((time.perf_counter() - started) * 1000)
            assert outcome.ok and outcome.body["xp"] == XP * (length - 1), outcome
        medians[length] = statistics.median(samples)
    await host.stop()
    return medians


async def measure_activation(folder: Path, lengths: list[int], replicas: int) -> dict[str, Any]:
    """Activation from the journal alone (a host that never snapshotted, e.g. crashed) against
    activation from a snapshot taken at the head (`snapshot_every=100`, then passivation)."""
    results: dict[str, Any] = {}
    for variant, snapshot_every in (("journalOnly", 10**9), ("snapshot", 100)):
        path = folder / f"activation-{variant}.sqlite3"
        await define_demo_economy(path)
        writer = await write_journals(path, lengths, replicas, snapshot_every)
        if variant == "journalOnly":
            await close_without_passivating(writer)
        else:
            await writer.stop()
        snapshots = sqlite_value(path, "SELECT count(*) FROM snapshots WHERE entity LIKE 'player:%/a%'")
        assert snapshots == (0 if variant == "journalOnly" else len(lengths) * replicas), snapshots
        results[variant] = await time_activations(path, lengths, replicas)
    base = lengths[0]
    rows = []
    for length in lengths:
        journal, snap = results["journalOnly"][length], results["snapshot"][length]
        rows.append(
            {
                "journalLength": length,
                "journalOnlyMs": round(journal, 3),
                "journalOnlyRatio": round(journal / results["journalOnly"][base], 2),
                "snapshotMs": round(snap, 3),
                "snapshotRatio": round(snap / results["snapshot"][base], 2),
                "journalOverSnapshot": round(journal / snap, 2),
            }
        )
    return {"replicas": replicas, "rows": rows}


# ---------------------------------------------------------------------------------------- throughput


async def run_xp(
    path: Path, population: int, args: argparse.Namespace, label: str, profile: bool = False
) -> dict[str, Any]:
    """Keyed XP awards to uniformly random players out of `population`, on a fresh host with the
    passivation sweeper running; a warm-up of commands/10 (untimed) first fills the active set."""
    host = await new_host(path, sweep=True, idle_timeout_s=args.idle_timeout)
    store = host.store
    assert isinstance(store, MeteredStore)
    rng = random.Random(population)
    warmup = args.commands // 10
    log(f"    {label}: {warmup:,} warm-up awards, then {args.commands:,} timed")
    await bounded(
        args.concurrency, (award(host, player_id(rng.randrange(population)), f"{label}-w{i}") for i in range(warmup))
    )
    store.reset()
    commits_before = host.committer.commits
    peak = host.active_entities()
    running = True

    async def watch() -> None:
        nonlocal peak
        while running:
            peak = max(peak, host.active_entities())
            await asyncio.sleep(0.05)

    watcher = asyncio.create_task(watch())
    profiler = cProfile.Profile() if profile else None
    targets = [player_id(rng.randrange(population)) for _ in range(args.commands)]
    started, loop_cpu, process_cpu = time.perf_counter(), time.thread_time(), time.process_time()
    if profiler is not None:
        profiler.enable()
    await bounded(args.concurrency, (award(host, pid, f"{label}-{i}") for i, pid in enumerate(targets)))
    if profiler is not None:
        profiler.disable()
    elapsed = time.perf_counter() - started
    loop_cpu, process_cpu = time.thread_time() - loop_cpu, time.process_time() - process_cpu
    running = False
    await watcher
    commits = host.committer.commits - commits_before
    active = host.active_entities()
    calls, busy = dict(store.calls), dict(store.busy_s)
    if not calls:
        log("    (no SQLite calls metered: MeteredStore no longer matches actors/stores/sqlite.py)")
    rss = psutil.Process().memory_info().rss
    await close_without_passivating(host)
    result = {
        "label": label,
        "population": population,
        "commands": args.commands,
        "seconds": round(elapsed, 3),
        "commandsPerSecond": round(args.commands / elapsed, 1),
        "loopCpuUsPerCommand": round(loop_cpu * 1e6 / args.commands, 1),
        "processCpuUsPerCommand": round(process_cpu * 1e6 / args.commands, 1),
        "loopBusy": round(loop_cpu / elapsed, 3),
        "activationsPerSecond": round(calls.get("activations", 0) / elapsed, 1),
        "snapshotsPerSecond": round(calls.get("snapshots saved", 0) / elapsed, 1),
        "transactions": commits,
        "meanBatch": round(args.commands / max(commits, 1), 1),
        "activeAtEnd": active,
        "peakActive": peak,
        "rssMiB": round(rss / 2**20, 1),
        "sqliteCallsPerCommand": {k: round(v / args.commands, 3) for k, v in sorted(calls.items())},
        "sqliteBusyShare": {k: round(v / elapsed, 3) for k, v in sorted(busy.items())},
    }
    if profiler is not None:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
        result["profile"] = out.getvalue()
    return result


def describe(run: dict[str, Any]) -> str:
    """Two lines: throughput and CPU per command (the noise-robust figure: the host is CPU-bound,
    and CPU time leaves out the time other processes hold the cores), then where the SQLite
    threads spend their time and whether passivation keeps pace with activation."""
    busy = ", ".join(f"{thread} {share:.0%}" for thread, share in run["sqliteBusyShare"].items())
    calls = ", ".join(f"{k} {v:g}" for k, v in run["sqliteCallsPerCommand"].items())
    return (
        f"  {run['label']:<20} {run['commandsPerSecond']:>7.1f} cmd/s,"
        f" event loop {run['loopCpuUsPerCommand']:>4.0f} µs CPU/cmd (busy {run['loopBusy']:.0%};"
        f" process {run['processCpuUsPerCommand']:.0f} µs/cmd),"
        f" batch {run['meanBatch']:.0f}, active {run['activeAtEnd']:,} (peak {run['peakActive']:,}),"
        f" RSS {run['rssMiB']:,.0f} MiB\n"
        f"  {'':<20} activations {run['activationsPerSecond']:,.0f}/s, passivation snapshots"
        f" {run['snapshotsPerSecond']:,.0f}/s; sqlite busy: {busy}; calls/cmd: {calls}"
    )


async def measure_throughput(folder: Path, args: argparse.Namespace) -> dict[str, Any]:
    """The baseline (the smallest population) lives in its own store and is run again after every
    larger population, which is compared with the mean of the baselines around it: the machine's
    load drifts over minutes. The larger populations share one store grown step by step (100k,
    then to 1M); a last run of the smallest population inside that store separates the cost of
    store size from that of the active set."""
    smallest, *larger = sorted(args.populations)
    small, big = folder / "throughput-base.sqlite3", folder / "throughput.sqlite3"
    creations = Creations(await define_demo_economy(small))
    seconds = await prepopulate(small, creations, 0, smallest)
    log(f"    prepopulated {smallest:,} players in {seconds:.1f} s")
    base_label = f"base {smallest:,}"
    baselines = [await run_xp(small, smallest, args, f"{base_label} #1")]
    log(describe(baselines[0]))
    runs: list[dict[str, Any]] = []
    if larger:
        await define_demo_economy(big)
    populated = 0
    for population in larger:
        seconds = await prepopulate(big, creations, populated, population)
        log(f"    prepopulated {population - populated:,} players in {seconds:.1f} s")
        populated = population
        run = await run_xp(big, population, args, f"{population:,} players")
        log(describe(run))
        baselines.append(await run_xp(small, smallest, args, f"{base_label} #{len(baselines) + 1}"))
        log(describe(baselines[-1]))
        compare(run, baselines[-2:])
        runs.append(run)
        log(f"  -> {run['label']}: {run['ratio']:.2f}x base in cmd/s, {run['cpuRatio']:.2f}x in event-loop CPU/cmd")
    if larger:
        run = await run_xp(big, smallest, args, f"{smallest:,} of {populated:,}")
        compare(run, baselines[-1:])
        runs.append(run)
        log(describe(run))
        log(f"  -> {run['label']}: {run['ratio']:.2f}x base in cmd/s, {run['cpuRatio']:.2f}x in event-loop CPU/cmd")
    rates, cpus = [b["commandsPerSecond"] for b in baselines], [b["loopCpuUsPerCommand"] for b in baselines]
    spread, cpu_spread = max(rates) / min(rates) - 1, max(cpus) / min(cpus) - 1
    log(
        f"  baseline spread over the run: {spread:.0%} in cmd/s, {cpu_spread:.0%} in CPU/cmd"
        " (noise: ratios closer to 1 than that are not a difference)"
    )
    profile = None
    if args.profile and larger:
        log(f"  profiling an extra {populated:,}-player run (cProfile of the event loop thread; not a figure)")
        profile = (await run_xp(big, populated, args, "profiled", profile=True))["profile"]
        log(profile)
    largest = next((r for r in runs if r["population"] == populated), None)
    return {
        "concurrency": args.concurrency,
        "idleTimeoutS": args.idle_timeout,
        "storeMiB": round(big.stat().st_size / 2**20, 1) if larger else None,
        "baselines": baselines,
        "baselineSpread": round(spread, 3),
        "baselineCpuSpread": round(cpu_spread, 3),
        "runs": runs,
        "goal": f"throughput with {populated:,} distinct players within 20% of {smallest:,}",
        "goalRatio": None if largest is None else largest["ratio"],
        "goalCpuRatio": None if largest is None else largest["cpuRatio"],
        "goalVerdict": None if largest is None else verdict(largest["ratio"], largest["cpuRatio"]),
        "profile": profile,
    }


def verdict(ratio: float, cpu_ratio: float) -> str:
    """`met` or `not met` when throughput and CPU per command agree, `inconclusive` when the
    machine's noise puts them on either side of the 0.8 line."""
    met = (ratio >= 0.8, cpu_ratio >= 0.8)
    return "met" if all(met) else "not met" if not any(met) else "inconclusive"


def compare(run: dict[str, Any], baselines: list[dict[str, Any]]) -> None:
    """`ratio`: throughput over the mean of the baselines around the run; `cpuRatio`: the same
    for the inverse of the event loop's CPU per command, which is what the ratio of throughputs
    comes to for a CPU-bound host, without the noise of the machine's other load."""
    rate = statistics.mean(b["commandsPerSecond"] for b in baselines)
    cpu = statistics.mean(b["loopCpuUsPerCommand"] for b in baselines)
    run["ratio"] = round(run["commandsPerSecond"] / rate, 3)
    run["cpuRatio"] = round(cpu / run["loopCpuUsPerCommand"], 3)


# ---------------------------------------------------------------------------------------- main


def tree_state() -> dict[str, Any]:
    """The commit measured, and the files it differed by: the host and stores change often."""

    def git(*command: str) -> str:
        done = subprocess.run(["git", *command], cwd=RESULTS.parent.parent, capture_output=True, text=True)
        return done.stdout.strip()

    return {"commit": git("rev-parse", "--short", "HEAD"), "modified": git("status", "--porcelain").splitlines()}


def int_list(text: str) -> list[int]:
    return [int(part.replace("_", "")) for part in text.split(",") if part]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="smaller run: 2k entities, 5k commands, up to 100k players"
    )
    parser.add_argument("--entities", type=int, help="players activated for the memory figures (10,000)")
    parser.add_argument("--journal-lengths", type=int_list, default=[10, 100, 1000])
    parser.add_argument("--replicas", type=int, help="players activated per journal length (5)")
    parser.add_argument("--commands", type=int, help="timed XP awards per population (20,000)")
    parser.add_argument("--populations", type=int_list, help="distinct players (1000,100000,1000000)")
    parser.add_argument("--concurrency", type=int, default=256)
    parser.add_argument("--idle-timeout", type=float, default=2.0, help="seconds before an idle entity passivates")
    parser.add_argument("--profile", action="store_true", help="an extra cProfiled run of the largest population")
    parser.add_argument("--only", default="memory,activation,throughput", help="comma-separated parts to run")
    parser.add_argument("--out", type=Path, default=RESULTS / "scale.json")
    args = parser.parse_args()
    quick = args.quick
    args.entities = args.entities or (2_000 if quick else 10_000)
    args.replicas = args.replicas or (3 if quick else 5)
    args.commands = args.commands or (5_000 if quick else 20_000)
    args.populations = args.populations or ([1_000, 10_000, 100_000] if quick else [1_000, 100_000, 1_000_000])
    args.only = set(args.only.split(","))
    return args


async def main() -> None:
    args = parse_args()
    result: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB",
        "tree": tree_state(),
        "args": {
            k: sorted(v) if isinstance(v, set) else str(v) if isinstance(v, Path) else v for k, v in vars(args).items()
        },
    }
    started = time.perf_counter()
    log("bench_scale: one ShardHost over SQLite (WAL, synchronous=FULL), no Ray")
    with tempfile.TemporaryDirectory(prefix="ludex-scale-") as tmp:
        folder = Path(tmp)
        if "memory" in args.only:
            log(f"[1/3] memory: {args.entities:,} players activated by one keyed XP award each, then passivated")
            memory = await measure_memory(folder, args.entities, args.concurrency)
            result["memory"] = memory
            active, passive = memory["bytesPerActive"], memory["bytesPerPassivated"]
            log(
                f"  active:     {active:>9,.0f} B/entity (tracemalloc; RSS {memory['rssBytesPerActive']:,.0f} B)"
                f" = {active / memory['snapshotBytes']:.1f}x its {memory['snapshotBytes']:,.0f} B snapshot"
            )
            log(f"  passivated: {passive:>9,.0f} B/entity = {passive / active:.1%} of active")
            log(
                f"  in SQLite: snapshot {memory['snapshotBytes']:,.0f} B/entity, journal record"
                f" {memory['journalRecordBytes']:,.0f} B; passivation {memory['passivateMsPerEntity']:.3f} ms/entity"
            )
        if "activation" in args.only:
            log(f"[2/3] activation: first view on a fresh host, median of {args.replicas} players per journal length")
            activation = await measure_activation(folder, args.journal_lengths, args.replicas)
            result["activation"] = activation
            log("  records   journal only        snapshot at head    journal/snapshot")
            for row in activation["rows"]:
                journal = f"{row['journalOnlyMs']:>7.2f} ms {row['journalOnlyRatio']:>6.1f}x"
                snapshot = f"{row['snapshotMs']:>7.2f} ms {row['snapshotRatio']:>6.1f}x"
                log(f"  {row['journalLength']:>7,}   {journal}   {snapshot}   {row['journalOverSnapshot']:>6.1f}x")
        if "throughput" in args.only:
            log(
                f"[3/3] throughput: {args.commands:,} keyed XP awards per population, uniform random players,"
                f" concurrency {args.concurrency}, idle timeout {args.idle_timeout:g} s"
            )
            throughput = await measure_throughput(folder, args)
            result["throughput"] = throughput
            if throughput["goalVerdict"] is not None:
                met = throughput["goalVerdict"].upper()
                log(
                    f"  goal ({throughput['goal']}): {throughput['goalRatio']:.2f}x in cmd/s"
                    f" ({throughput['goalCpuRatio']:.2f}x in event-loop CPU/cmd) -> {met}"
                )
    result["totalSeconds"] = round(time.perf_counter() - started, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    log(f"done in {result['totalSeconds']:.0f} s; wrote {args.out}")


if __name__ == "__main__":
    asyncio.run(main())
