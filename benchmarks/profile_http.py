"""Where a request's CPU goes in `ludex serve`: drives keyed XP awards (single calls with wrk, or
batches, or the command stream) against a fresh `ludex serve`, measures each process's CPU time
per award over the run (`/proc/<pid>/stat`: the ingress replica, the shard hosts, HAProxy, the
load generator) and, with `--py-spy`, samples the ingress replica and the shard host with py-spy
and prints the largest shares of their samples by function (inclusive) as µs per award.

    python -m benchmarks.profile_http [--mode single|batch|stream] [--duration 10] [--py-spy]
        [--serve-env KEY=VALUE]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from benchmarks.bench_http import HERE, free_port, wait_until

TICKS = os.sysconf("SC_CLK_TCK")
# Leaf frames of threads blocked in C (py-spy's --nonblocking cannot tell them from busy ones).
IDLE = ("select", "epoll", "poll (", "wait (threading", "_worker (concurrent", "main_loop (", "Thread.run (")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = collections.defaultdict(list)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children[parent].append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def name_of(pid: int) -> str:
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "?"
    for pattern, name in (
        (r"ServeReplica:[^ ]*", None),
        (r"ray::RayShardHost", "shard host"),
        (r"ray::RayWebhookWorker", "webhook worker"),
        (r"ProxyActor", "serve proxy actor"),
        (r"ServeController", "serve controller"),
        (r"haproxy", "haproxy"),
        (r"raylet", "raylet"),
        (r"gcs_server", "gcs"),
        (r"ludex serve", "ludex serve (driver)"),
    ):
        match = re.search(pattern, command)
        if match:
            return name or "ingress replica"
    return command[:60]


def sample(pids: list[int]) -> dict[int, float]:
    found = {}
    for pid in pids:
        try:
            found[pid] = cpu_seconds(pid)
        except OSError:
            continue
    return found


def load(mode: str, url: str, creds: dict[str, str], args: argparse.Namespace) -> tuple[subprocess.Popen[str], int]:
    """The load generator's process and the awards each of its requests carries."""
    project = creds["projectId"]
    if mode == "stream":
        command = [sys.executable, "-m", "benchmarks.stream_client", url.replace("http://", "ws://") + "/v1/realtime"]
        command += ["--duration", str(args.duration), "--players", str(args.players)]
        command += [f"--header=x-api-key={creds['apiKey']}", f"--header=x-tenant-id={creds['tenantId']}"]
        command += [f"--header=x-project-id={project}"]
        return subprocess.Popen(command, cwd=HERE.parent, stdout=subprocess.PIPE, text=True), 1
    env = {
        **os.environ,
        "LUDEX_BENCH_PLAYERS": str(args.players),
        "LUDEX_BENCH_KEY": creds["apiKey"],
        "LUDEX_BENCH_PREFIX": f"/v1/projects/{project}/players/",
    }
    connections, per_request = args.connections, 1
    if mode == "batch":
        env.update(LUDEX_BENCH_BATCH=str(args.batch), LUDEX_BENCH_BATCH_PATH=f"/v1/projects/{project}/commands")
        connections, per_request = args.batch_connections, args.batch
    if mode == "health":
        env["LUDEX_BENCH_GET"] = "/v1/health"
    command = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{args.duration}s", "--timeout", "10s"]
    command += ["-s", str(HERE / "xp.lua"), url]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True), per_request


def requests_of(output: str) -> int:
    match = re.search(r"^RESULT (\{.*\})$", output, re.MULTILINE)
    if match is None:
        raise SystemExit(f"profile_http: unexpected load generator output:\n{output}")
    return int(json.loads(match.group(1))["requests"])


def host_commits(metrics: str) -> str:
    """Mean commit latency and records per commit of the shard hosts, from `/metrics`."""
    totals: collections.Counter[str] = collections.Counter()
    for line in metrics.splitlines():
        for name in (
            "ludex_journal_commit_seconds_sum",
            "ludex_journal_commit_seconds_count",
            "ludex_journal_batch_size_sum",
            "ludex_journal_batch_size_count",
        ):
            if line.startswith(name + "{"):
                totals[name] += float(line.rsplit(" ", 1)[1])
    commits = totals["ludex_journal_commit_seconds_count"] or 1
    return (
        f"host commits: {commits:,.0f}, mean {totals['ludex_journal_commit_seconds_sum'] / commits * 1000:.1f} ms,"
        f" {totals['ludex_journal_batch_size_sum'] / (totals['ludex_journal_batch_size_count'] or 1):.1f} records each"
    )


def py_spy(pid: int, seconds: int, path: Path) -> subprocess.Popen[bytes]:
    command = ["py-spy", "record", "--nonblocking", "--format", "raw", "-r", "200", "-d", str(seconds)]
    command += ["-o", str(path), "-p", str(pid)]
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    return subprocess.Popen([spy, *command[1:]], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def shares(path: Path, top: int, *, own: bool = False) -> list[tuple[str, float]]:
    """Share of the samples per function (`name (file)`), the largest first: inclusive, or only
    where the function itself runs (`own`); idle samples (threads waiting in select/epoll) are
    left out."""
    per_function: collections.Counter[str] = collections.Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        frames = stack.split(";")
        if any(idle in frames[-1] for idle in IDLE):
            continue
        count = int(count_text)
        total += count
        seen = set()
        for frame in frames[-1:] if own else frames:
            name = re.sub(r":\d+\)", ")", frame)
            name = re.sub(r"\(/.*/(site-packages|python3\.\d+|perf)/", "(", name)
            if name not in seen:
                seen.add(name)
                per_function[name] += count
    return [(name, count / total) for name, count in per_function.most_common(top)] if total else []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("single", "batch", "stream", "health"), default="single")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--batch-connections", type=int, default=8)
    parser.add_argument("--players", type=int, default=1000)
    parser.add_argument("--py-spy", action="store_true")
    parser.add_argument("--top", type=int, default=45)
    parser.add_argument("--serve-env", action="append", default=[])
    args = parser.parse_args()
    port, data_dir = free_port(), Path(tempfile.mkdtemp(prefix="ludex-profile-"))
    env = {**os.environ, "LUDEX_DEFAULT_RATE_LIMIT_PER_S": "1000000"}
    env.update(item.split("=", 1) for item in args.serve_env)
    ludex = str(Path(sys.executable).with_name("ludex"))
    process = subprocess.Popen(
        [ludex, "serve", "--data-dir", str(data_dir), "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: httpx.get(f"{url}/v1/health/ready").status_code == 200, 240, "ludex serve")
        creds = json.loads((data_dir / "demo-credentials.json").read_text())
        headers = {"x-tenant-id": creds["tenantId"], "x-api-key": creds["apiKey"]}
        players_url = f"{url}/v1/projects/{creds['projectId']}/players"
        with httpx.Client(headers=headers, timeout=60) as client, ThreadPoolExecutor(16) as pool:
            list(
                pool.map(
                    lambda i: client.post(players_url, json={"playerId": f"p{i}", "username": f"p{i}"}),
                    range(args.players),
                )
            )
        pids = [pid for pid in descendants(process.pid) if pid != os.getpid()]
        names = {pid: name_of(pid) for pid in pids}
        spies: list[tuple[str, Path, subprocess.Popen[bytes]]] = []
        generator, per_request = load(args.mode, url, creds, args)
        before, started = sample([*pids, generator.pid]), time.monotonic()
        if args.py_spy:
            for pid, name in names.items():
                if name in ("ingress replica", "shard host"):
                    path = data_dir / f"spy-{pid}.txt"
                    spies.append((f"{name} ({pid})", path, py_spy(pid, max(1, args.duration - 2), path)))
        time.sleep(max(0.5, args.duration - 0.5))
        after = sample([*pids, generator.pid])
        elapsed = time.monotonic() - started
        output, _ = generator.communicate(timeout=120)
        metrics = httpx.get(f"{url}/metrics", timeout=30).text
        print(host_commits(metrics))
        awards = requests_of(output) * per_request
        names[generator.pid] = "load generator"
        print(f"mode {args.mode}: {awards:,} awards in ~{args.duration} s ({awards / args.duration:,.0f}/s)")
        print(f"load average {os.getloadavg()[0]:.1f}; CPU per award by process (µs; share of one core):")
        rows = []
        for pid, start in before.items():
            if pid in after:
                used = after[pid] - start
                if used > 0.05:
                    rows.append((used / awards * 1e6, used / elapsed, names.get(pid, "?"), pid))
        for per_award, busy, name, pid in sorted(rows, reverse=True):
            print(f"  {per_award:8.1f} µs  {busy:5.0%} core  {name} ({pid})")
        for label, path, spy in spies:
            spy.wait(timeout=120)
            if not path.exists():
                print(f"py-spy wrote nothing for {label}")
                continue
            cpu = next((per for per, _, name, pid in rows if f"({pid})" in label), 0.0)
            print(f"\n{label}: inclusive share of busy samples, and µs per award of its {cpu:.0f} µs")
            for function, share in shares(path, args.top):
                print(f"  {share:6.1%} {share * cpu:8.1f} µs  {function[:150]}")
            print(f"{label}: where the samples were (own time)")
            for function, share in shares(path, args.top // 2, own=True):
                print(f"  {share:6.1%} {share * cpu:8.1f} µs  {function[:150]}")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=90)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
