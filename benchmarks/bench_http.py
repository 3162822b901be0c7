"""XP awards over HTTP: (a) the ceiling — the engine's rule behind plain uvicorn, no Ray, no
durability — and (b) Ludex end to end through `ludex serve` (durable, exactly-once), measured in
one run with the same load generator (wrk) and settings. Prints req/s, p50/p95/p99 and b/a,
and writes JSON and a PNG chart under benchmarks/results/. Against the same `ludex serve` it also
measures (c) latency at half of (b)'s throughput (each connection paced) and (d) one hot player
receiving every award, as a ratio to (b).

    apt-get install wrk            # the load generator (C, so it is not the bottleneck)
    pip install -e '.[bench]'      # matplotlib for the chart
    python -m benchmarks.bench_http [--duration 15] [--connections 32] [--players 1000]
        [--serve-arg=--proxy=python] [--serve-env KEY=VALUE]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(check: Any, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"bench_http: {what} did not come up within {timeout_s:.0f} s")


def run_wrk(url: str, args: argparse.Namespace, env: dict[str, str]) -> dict[str, Any]:
    command = ["wrk", "-t", str(args.threads), "-c", str(args.connections), "-d", f"{args.duration}s"]
    command += ["--timeout", "10s", "-s", str(HERE / "xp.lua"), url]
    print(f"  $ {' '.join(command)}", flush=True)
    output = subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True, check=True).stdout
    match = re.search(r"^RESULT (\{.*\})$", output, re.MULTILINE)
    if match is None:
        raise SystemExit(f"bench_http: unexpected wrk output:\n{output}")
    result: dict[str, Any] = json.loads(match.group(1))
    result["rps"] = round(result["requests"] / result["seconds"], 1)
    return result


def measure_ceiling(args: argparse.Namespace) -> dict[str, Any]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "benchmarks.ceiling_app", str(port)], cwd=HERE.parent)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until(
            lambda: httpx.post(f"{url}/v1/projects/demo/players/p0/xp", json={"amount": 1}).is_success,
            30,
            "the ceiling app",
        )
        env = {"LUDEX_BENCH_PLAYERS": str(args.players)}
        return run_wrk(url, args, env)
    finally:
        process.terminate()
        process.wait(timeout=10)


def create_players(url: str, data_dir: Path, players: int) -> tuple[dict[str, str], dict[str, str]]:
    """Players p0..p(N-1) of the demo project; answers the demo credentials and xp.lua's env."""
    creds = json.loads((data_dir / "demo-credentials.json").read_text())
    headers = {"x-tenant-id": creds["tenantId"], "x-api-key": creds["apiKey"]}
    players_url = f"{url}/v1/projects/{creds['projectId']}/players"
    print(f"  creating {players} players ...", flush=True)
    with httpx.Client(headers=headers, timeout=60) as client, ThreadPoolExecutor(16) as pool:
        made = list(
            pool.map(
                lambda i: client.post(players_url, json={"playerId": f"p{i}", "username": f"p{i}"}).status_code,
                range(players),
            )
        )
    assert all(status in (200, 201) for status in made), "player creation failed"
    env = {"LUDEX_BENCH_PLAYERS": str(players), "LUDEX_BENCH_KEY": creds["apiKey"]}
    env["LUDEX_BENCH_PREFIX"] = f"/v1/projects/{creds['projectId']}/players/"
    return creds, env


def measure_ludex(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    port, data_dir = free_port(), Path(tempfile.mkdtemp(prefix="ludex-bench-"))
    # The demo key's rate limit (1,000/s, burst 2,000 per replica) would answer 429 once Ludex is
    # faster than that: this measures throughput, not the limiter (still consulted per request).
    extra_env = {"LUDEX_DEFAULT_RATE_LIMIT_PER_S": "1000000"}
    extra_env.update(item.split("=", 1) for item in args.serve_env)
    command = [str(Path(sys.executable).with_name("ludex")), "serve", "--data-dir", str(data_dir), "--port", str(port)]
    if args.shards is not None:
        command += ["--shards", str(args.shards)]
    command += args.serve_arg
    process = subprocess.Popen(command, env={**os.environ, **extra_env}, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: httpx.get(f"{url}/v1/health/ready").status_code == 200, 180, "ludex serve")
        creds, env = create_players(url, data_dir, args.players)
        runs = {"ludex": run_wrk(url, args, env)}
        # Each connection waits so that all of them together offer half the saturated rate. A
        # connection's cycle is its pause plus the latency at that load, lower than at saturation:
        # a short calibration run measures it (without it, "half" came out at ~70 %).
        half_rate = runs["ludex"]["rps"] / 2
        cycle_ms = args.connections / half_rate * 1000
        pause_ms = max(1, int(cycle_ms - runs["ludex"]["p50_ms"]))
        calibration = run_wrk(
            url, argparse.Namespace(**{**vars(args), "duration": 5}), {**env, "LUDEX_BENCH_DELAY_MS": str(pause_ms)}
        )
        pause_ms = max(1, int(cycle_ms - calibration["p50_ms"]))
        print(f"  (c) paced at ~{half_rate:,.0f} req/s ({pause_ms} ms between a connection's requests)", flush=True)
        runs["halfLoad"] = run_wrk(url, args, {**env, "LUDEX_BENCH_DELAY_MS": str(pause_ms)})
        runs["halfLoad"]["targetRps"] = round(half_rate, 1)
        print("  (d) one hot player receives every award", flush=True)
        runs["hotPlayer"] = run_wrk(url, args, {**env, "LUDEX_BENCH_PLAYERS": "1"})
        return runs
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=90)
        shutil.rmtree(data_dir, ignore_errors=True)


def chart(report: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = ["(a) ceiling\nin-memory", "(b) ludex serve\ndurable", "(c) ludex at\nhalf load", "(d) ludex,\nhot player"]
    runs = [report["ceiling"], report["ludex"], report["halfLoad"], report["hotPlayer"]]
    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    left.bar(names, [r["rps"] for r in runs], color=["#999999", "#3366cc", "#7799dd", "#cc6633"])
    left.set_ylabel("requests/s")
    left.set_title(f"POST .../xp throughput (b/a = {report['ratio']:.3f})")
    for offset, key in enumerate(("p50_ms", "p95_ms", "p99_ms")):
        right.bar([i + offset * 0.25 for i in range(len(runs))], [r[key] for r in runs], width=0.25, label=key)
    right.set_xticks([i + 0.25 for i in range(len(runs))], names)
    right.set_ylabel("latency (ms)")
    right.legend()
    right.set_title("latency")
    for axis in (left, right):
        axis.tick_params(axis="x", labelsize=8)
    figure.suptitle(f"{report['date']} · {report['machine']} · wrk -t{report['threads']} -c{report['connections']}")
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--players", type=int, default=1000)
    parser.add_argument("--shards", type=int, help="shard hosts (default: ludex serve's)")
    parser.add_argument("--serve-env", action="append", default=[], help="KEY=VALUE for ludex serve (repeatable)")
    parser.add_argument("--serve-arg", action="append", default=[], help="an option for ludex serve (repeatable)")
    parser.add_argument("--label", default="default")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("bench_http: wrk is required (apt-get install wrk)")
    print("(a) ceiling: engine XP rule behind plain uvicorn", flush=True)
    ceiling = measure_ceiling(args)
    print(
        f"    {ceiling['rps']:,.0f} req/s  p50 {ceiling['p50_ms']:.1f} ms  p99 {ceiling['p99_ms']:.1f} ms", flush=True
    )
    print("(b) ludex serve: durable, keyed, through Ray Serve", flush=True)
    runs = measure_ludex(args)
    ludex, half, hot = runs["ludex"], runs["halfLoad"], runs["hotPlayer"]
    for name, run in (("(b) ludex", ludex), ("(c) half load", half), ("(d) hot player", hot)):
        print(f"    {name:<15} {run['rps']:>8,.0f} req/s  p50 {run['p50_ms']:.1f} ms  p99 {run['p99_ms']:.1f} ms")
    ratio = ludex["rps"] / ceiling["rps"]
    errors = {name: run["errors"] + run["non2xx"] for name, run in {"ceiling": ceiling, **runs}.items()}
    print(f"b/a = {ratio:.3f}   hot/uniform = {hot['rps'] / ludex['rps']:.2f}   errors: {errors}")
    goals = {
        "b/a >= 0.5": ratio >= 0.5,
        f"p99 < 50 ms at half load ({half['rps']:,.0f} of {ludex['rps']:,.0f} req/s)": half["p99_ms"] < 50,
        "hot player >= 30 % of uniform": hot["rps"] >= 0.3 * ludex["rps"],
    }
    for goal, met in goals.items():
        print(f"goal {goal}: {'MET' if met else 'NOT MET'}")
    if any(errors.values()):
        print("WARNING: some requests failed or were not 2xx: the figures above count them")
    report = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} cores",
        "label": args.label,
        "threads": args.threads,
        "connections": args.connections,
        "durationS": args.duration,
        "players": args.players,
        "shards": args.shards,
        "serveEnv": args.serve_env,
        "serveArgs": args.serve_arg,
        "ceiling": ceiling,
        **runs,
        "ratio": round(ratio, 4),
        "hotToUniform": round(hot["rps"] / ludex["rps"], 4),
        "goals": goals,
    }
    RESULTS.mkdir(exist_ok=True)
    stem = RESULTS / f"http-{args.label}"
    stem.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    chart(report, stem.with_suffix(".png"))
    print(f"wrote {stem.with_suffix('.json')} and {stem.with_suffix('.png')}")


if __name__ == "__main__":
    main()
