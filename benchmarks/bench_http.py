"""Keyed XP awards through `ludex serve` against bare ceilings, every goal a ratio measured in one
run with the same load generators (wrk for HTTP, `benchmarks.stream_client` for WebSockets):

- the ceiling (`benchmarks.ceiling_app`: the engine's rule in memory behind plain uvicorn, no Ray,
  no store): single awards over HTTP, and the command stream's messages over a WebSocket;
- the floor: a no-op `GET /v1/health` through `ludex serve` (HAProxy, Serve replica, our app);
- `ludex serve` (durable, keyed, authenticated, rate-limited, metered): single awards, the same
  at half load and on one hot player; batches of `--batch` awards over distinct players per call,
  saturated and at half load; the command stream on `--sockets` WebSockets, saturated and at half
  load; device sign-ins per second, and single awards sent with player sessions (one per player,
  `Authorization: Bearer`, to `me`) beside the key's.

Prints each figure, each goal as MET / NOT MET with its ratio, and writes JSON and a PNG chart
under benchmarks/results/.

    apt-get install wrk            # the HTTP load generator (C, so it is not the bottleneck)
    pip install -e '.[bench]'      # matplotlib for the chart
    python -m benchmarks.bench_http [--duration 15] [--connections 32] [--players 1000]
        [--batch 100] [--batch-connections 8] [--sockets 8] [--window 32]
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
import jwt

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


def ready_or_exited(process: subprocess.Popen[bytes], url: str, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            if httpx.get(f"{url}/v1/health/ready").status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"bench_http: ludex serve did not come up within {timeout_s:.0f} s")


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


def run_stream(
    url: str, args: argparse.Namespace, headers: dict[str, str], rate: float | None = None
) -> dict[str, Any]:
    """The same WebSocket client against either server, in its own process."""
    command = [sys.executable, "-m", "benchmarks.stream_client", url, "--duration", str(args.duration)]
    command += ["--sockets", str(args.sockets), "--window", str(args.window), "--players", str(args.players)]
    command += [f"--header={name}={value}" for name, value in headers.items()]
    if rate is not None:
        command += ["--rate", f"{rate:.1f}"]
    print(f"  $ python -m benchmarks.stream_client {url} --sockets {args.sockets} --window {args.window}", flush=True)
    output = subprocess.run(command, cwd=HERE.parent, capture_output=True, text=True, check=True).stdout
    match = re.search(r"^RESULT (\{.*\})$", output, re.MULTILINE)
    if match is None:
        raise SystemExit(f"bench_http: unexpected stream client output:\n{output}")
    result: dict[str, Any] = json.loads(match.group(1))
    return result


def measure_ceiling(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "benchmarks.ceiling_app", str(port)], cwd=HERE.parent)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until(
            lambda: httpx.post(f"{url}/v1/projects/demo/players/p0/xp", json={"amount": 1}).is_success,
            60,
            "the ceiling app",
        )
        env = {"LUDEX_BENCH_PLAYERS": str(args.players)}
        runs = {"ceiling": run_wrk(url, args, env)}
        runs["ceilingStream"] = run_stream(url.replace("http://", "ws://") + "/v1/realtime", args, {})
        return runs
    finally:
        process.terminate()
        process.wait(timeout=10)


def half_load(url: str, args: argparse.Namespace, env: dict[str, str], saturated: dict[str, Any]) -> dict[str, Any]:
    """wrk with each connection paced so that together they offer half the saturated rate. A
    connection's cycle is its pause plus the latency at that load, lower than at saturation: a
    short calibration run measures it (without it, "half" came out at ~70 %)."""
    connections = int(env.get("LUDEX_BENCH_CONNECTIONS", args.connections))
    paced_args = argparse.Namespace(**{**vars(args), "connections": connections})
    half_rate = saturated["rps"] / 2
    cycle_ms = connections / half_rate * 1000
    pause_ms = max(1, int(cycle_ms - saturated["p50_ms"]))
    calibration = run_wrk(
        url, argparse.Namespace(**{**vars(paced_args), "duration": 5}), {**env, "LUDEX_BENCH_DELAY_MS": str(pause_ms)}
    )
    pause_ms = max(1, int(cycle_ms - calibration["p50_ms"]))
    print(f"  paced at ~{half_rate:,.0f} req/s ({pause_ms} ms between a connection's requests)", flush=True)
    result = run_wrk(url, paced_args, {**env, "LUDEX_BENCH_DELAY_MS": str(pause_ms)})
    result["targetRps"] = round(half_rate, 1)
    return result


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


def session_tokens(url: str, data_dir: Path, creds: dict[str, str], players: int) -> Path:
    """A file of access tokens, one per player p0..p(N-1) (custom sign-in with a player-auth
    secret set for the bench), after letting sessions award XP (`clientPolicy`): the session
    awards then do what the key's did, on the same players."""
    admin = httpx.post(
        f"{url}/v1/auth/login", json={"email": creds["adminEmail"], "password": creds["adminPassword"]}, timeout=60
    )
    headers = {"Authorization": f"Bearer {admin.json()['accessToken']}", "x-tenant-id": creds["tenantId"]}
    project = f"{url}/v1/client/projects/{creds['projectId']}"
    secret = "bench-player-auth-secret-" + "s" * 40
    with httpx.Client(headers=headers, timeout=60) as office:
        economy = office.get(f"{project}/economy").json()["document"]
        office.put(f"{project}/economy", json={**economy, "clientPolicy": {"allow": ["xp"]}}).raise_for_status()
        office.patch(f"{project}/player-auth", json={"secret": secret}).raise_for_status()
    sign_in = f"{url}/v1/projects/{creds['projectId']}/auth/custom"
    expires = int(time.time()) + 3600

    def token(index: int) -> str:
        custom = jwt.encode({"sub": f"p{index}", "exp": expires}, secret, algorithm="HS256")
        answer = httpx.post(sign_in, json={"token": custom}, headers={"x-tenant-id": creds["tenantId"]}, timeout=60)
        answer.raise_for_status()
        return str(answer.json()["accessToken"])

    print(f"  signing {players} players in ...", flush=True)
    with ThreadPoolExecutor(16) as pool:
        lines = list(pool.map(token, range(players)))
    path = data_dir / "session-tokens.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


def measure_ludex(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    port, data_dir = free_port(), Path(tempfile.mkdtemp(prefix="ludex-bench-"))
    # The demo key's rate limit (1,000/s, burst 2,000 per replica) would answer 429 once Ludex is
    # faster than that: this measures throughput, not the limiter (still consulted per request).
    extra_env = {"LUDEX_DEFAULT_RATE_LIMIT_PER_S": "1000000"}
    # Likewise the per-address sign-in and per-session rates (all load comes from one address).
    extra_env |= {"LUDEX_PLAYER_SIGNIN_RATE_PER_IP_PER_S": "1000000", "LUDEX_PLAYER_SESSION_RATE_PER_S": "1000000"}
    extra_env.update(item.split("=", 1) for item in args.serve_env)
    command = [str(Path(sys.executable).with_name("ludex")), "serve", "--data-dir", str(data_dir), "--port", str(port)]
    if args.shards is not None:
        command += ["--shards", str(args.shards)]
    command += args.serve_arg
    url = f"http://127.0.0.1:{port}"
    for attempt in range(3):  # on a loaded machine Ray's node start (30 s, fixed) may time out
        process = subprocess.Popen(command, env={**os.environ, **extra_env}, stdout=subprocess.DEVNULL)
        if ready_or_exited(process, url, 240):
            break
        print(f"  ludex serve exited while starting (attempt {attempt + 1}); starting it again", flush=True)
        shutil.rmtree(data_dir, ignore_errors=True)
        data_dir.mkdir()
    else:
        raise SystemExit("bench_http: ludex serve did not start")
    try:
        creds, env = create_players(url, data_dir, args.players)
        print("  floor: a no-op GET /v1/health through the same stack", flush=True)
        runs = {"floor": run_wrk(url, args, {**env, "LUDEX_BENCH_GET": "/v1/health"})}
        print("  (b) single keyed awards", flush=True)
        runs["ludex"] = run_wrk(url, args, env)
        print("  (c) single awards at half load", flush=True)
        runs["halfLoad"] = half_load(url, args, env, runs["ludex"])
        print("  (d) one hot player receives every award", flush=True)
        runs["hotPlayer"] = run_wrk(url, args, {**env, "LUDEX_BENCH_PLAYERS": "1"})
        print(f"  (e) batches of {args.batch} keyed awards over distinct players", flush=True)
        batch_env = {
            **env,
            "LUDEX_BENCH_BATCH": str(args.batch),
            "LUDEX_BENCH_BATCH_PATH": f"/v1/projects/{creds['projectId']}/commands",
            "LUDEX_BENCH_CONNECTIONS": str(args.batch_connections),
        }
        batch_args = argparse.Namespace(**{**vars(args), "connections": args.batch_connections})
        runs["batch"] = run_wrk(url, batch_args, batch_env)
        runs["batchHalfLoad"] = half_load(url, args, batch_env, runs["batch"])
        print(f"  (f) the command stream on {args.sockets} WebSockets", flush=True)
        ws_url = url.replace("http://", "ws://") + "/v1/realtime"
        ws_headers = {"x-api-key": creds["apiKey"], "x-tenant-id": creds["tenantId"]}
        ws_headers["x-project-id"] = creds["projectId"]
        runs["stream"] = run_stream(ws_url, args, ws_headers)
        runs["streamHalfLoad"] = run_stream(ws_url, args, ws_headers, rate=runs["stream"]["rps"] / 2)
        runs["streamHalfLoad"]["targetRps"] = round(runs["stream"]["rps"] / 2, 1)
        print("  (g) device sign-ins (each a new player)", flush=True)
        signin_env = {**env, "LUDEX_BENCH_SIGNIN": f"/v1/projects/{creds['projectId']}/auth/device"}
        runs["deviceSignIn"] = run_wrk(url, args, signin_env)
        print("  (h) single awards sent with player sessions", flush=True)
        tokens = session_tokens(url, data_dir, creds, args.players)
        runs["sessionAward"] = run_wrk(url, args, {**env, "LUDEX_BENCH_TOKENS": str(tokens)})
        return runs
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=90)
        shutil.rmtree(data_dir, ignore_errors=True)


def chart(report: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bars = [
        ("ceiling\nsingle", report["ceiling"]["rps"], "#999999"),
        ("ceiling\nstream", report["ceilingStream"]["rps"], "#bbbbbb"),
        ("floor\nGET health", report["floor"]["rps"], "#666666"),
        ("ludex\nsingle", report["ludex"]["rps"], "#3366cc"),
        ("ludex\nhot player", report["hotPlayer"]["rps"], "#cc6633"),
        (f"ludex batch\n(awards/s, {report['batchSize']}/call)", report["batchAwardsPerS"], "#33aa55"),
        ("ludex\nstream", report["stream"]["rps"], "#9933cc"),
    ]
    latency = [
        ("single\nhalf load", report["halfLoad"]),
        ("batch call\nhalf load", report["batchHalfLoad"]),
        ("stream\nhalf load", report["streamHalfLoad"]),
    ]
    figure, (left, right) = plt.subplots(1, 2, figsize=(14, 5), gridspec_kw={"width_ratios": [2, 1]})
    left.bar([b[0] for b in bars], [b[1] for b in bars], color=[b[2] for b in bars])
    left.set_ylabel("awards (requests, commands) / s")
    left.set_title("throughput, one run")
    for offset, key in enumerate(("p50_ms", "p95_ms", "p99_ms")):
        right.bar([i + offset * 0.25 for i in range(len(latency))], [r[key] for _, r in latency], width=0.25, label=key)
    right.set_xticks([i + 0.25 for i in range(len(latency))], [name for name, _ in latency])
    right.set_ylabel("latency (ms)")
    right.legend()
    right.set_title("latency at half load")
    for axis in (left, right):
        axis.tick_params(axis="x", labelsize=8)
    figure.suptitle(f"{report['date']} · {report['machine']} · load average {report['loadAverage']}")
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def scale_goal() -> tuple[str, bool | None]:
    """1M distinct players against 1k comes from `bench_scale` (minutes of its own): the newest
    recorded run that measured throughput (`benchmarks/results/scale*.json`), named as such."""
    runs = [json.loads(path.read_text()) for path in sorted(RESULTS.glob("scale*.json"))]
    measured = [run for run in runs if run.get("throughput", {}).get("goalRatio") is not None]
    if not measured:
        return "1M vs 1k players >= 0.8x: not measured (run python -m benchmarks.bench_scale)", None
    scale = max(measured, key=lambda run: str(run["date"]))
    ratio, cpu = scale["throughput"]["goalRatio"], scale["throughput"]["goalCpuRatio"]
    return (
        f"1M vs 1k players >= 0.8x: {ratio:.2f}x cmd/s, {cpu:.2f}x CPU (bench_scale, {scale['date']}, not this run)",
        ratio >= 0.8,
    )


def goals_of(report: dict[str, Any]) -> dict[str, bool | None]:
    ceiling, floor, single = report["ceiling"]["rps"], report["floor"]["rps"], report["ludex"]["rps"]
    half, hot = report["halfLoad"], report["hotPlayer"]
    batch, batch_half = report["batchAwardsPerS"], report["batchHalfLoad"]
    stream, stream_ceiling = report["stream"]["rps"], report["ceilingStream"]["rps"]
    stream_half = report["streamHalfLoad"]
    scale_text, scale_met = scale_goal()
    return {
        f"1. single award / floor >= 0.75: {single / floor:.2f}x ({single:,.0f} / {floor:,.0f} req/s;"
        f" b/a {single / ceiling:.3f}, floor/a {floor / ceiling:.3f})": single / floor >= 0.75,
        f"2. batch awards/s / ceiling req/s >= 3.0: {batch / ceiling:.2f}x ({batch:,.0f} / {ceiling:,.0f})": batch
        >= 3.0 * ceiling,
        f"2. batch p99 per call < 100 ms at half load: {batch_half['p99_ms']:.1f} ms"
        f" ({batch_half['rps'] * report['batchSize']:,.0f} awards/s)": batch_half["p99_ms"] < 100,
        f"3. stream / ceiling stream >= 0.5: {stream / stream_ceiling:.2f}x ({stream:,.0f} / {stream_ceiling:,.0f}"
        " cmd/s)": stream >= 0.5 * stream_ceiling,
        f"3. stream / ceiling HTTP req/s >= 2.0: {stream / ceiling:.2f}x ({stream:,.0f} / {ceiling:,.0f})": stream
        >= 2.0 * ceiling,
        f"3. stream p99 < 50 ms at half load: {stream_half['p99_ms']:.1f} ms ({stream_half['rps']:,.0f} cmd/s)": (
            stream_half["p99_ms"] < 50
        ),
        f"4. single p99 < 50 ms at half load: {half['p99_ms']:.1f} ms ({half['rps']:,.0f} of {single:,.0f} req/s)": (
            half["p99_ms"] < 50
        ),
        f"4. hot player / uniform >= 0.3: {hot['rps'] / single:.2f}x": hot["rps"] >= 0.3 * single,
        f"4. {scale_text}": scale_met,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--players", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=100, help="awards per batch call")
    parser.add_argument("--batch-connections", type=int, default=8)
    parser.add_argument("--sockets", type=int, default=8, help="command stream WebSockets")
    parser.add_argument("--window", type=int, default=32, help="commands in flight per socket")
    parser.add_argument("--shards", type=int, help="shard hosts (default: ludex serve's)")
    parser.add_argument("--serve-env", action="append", default=[], help="KEY=VALUE for ludex serve (repeatable)")
    parser.add_argument("--serve-arg", action="append", default=[], help="an option for ludex serve (repeatable)")
    parser.add_argument("--label", default="default")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("bench_http: wrk is required (apt-get install wrk)")
    load_before = os.getloadavg()
    print("(a) ceiling: the engine's XP rule in memory behind plain uvicorn (HTTP, then WebSocket)", flush=True)
    ceiling_runs = measure_ceiling(args)
    print("ludex serve: durable, keyed, through Ray Serve", flush=True)
    runs = measure_ludex(args)
    load_after = os.getloadavg()
    report: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} cores",
        "loadAverage": f"{load_before[0]:.1f} -> {load_after[0]:.1f}",
        "label": args.label,
        "threads": args.threads,
        "connections": args.connections,
        "durationS": args.duration,
        "players": args.players,
        "batchSize": args.batch,
        "batchConnections": args.batch_connections,
        "sockets": args.sockets,
        "window": args.window,
        "shards": args.shards,
        "serveEnv": args.serve_env,
        "serveArgs": args.serve_arg,
        **ceiling_runs,
        **runs,
    }
    report["batchAwardsPerS"] = round(runs["batch"]["rps"] * args.batch, 1)
    report["ratio"] = round(runs["ludex"]["rps"] / ceiling_runs["ceiling"]["rps"], 4)
    report["singleToFloor"] = round(runs["ludex"]["rps"] / runs["floor"]["rps"], 4)
    report["hotToUniform"] = round(runs["hotPlayer"]["rps"] / runs["ludex"]["rps"], 4)
    report["sessionToKey"] = round(runs["sessionAward"]["rps"] / runs["ludex"]["rps"], 4)
    print(f"\nload average {report['loadAverage']} on {os.cpu_count()} cores (shared: compare ratios)")
    names = {
        "ceiling": "ceiling HTTP",
        "ceilingStream": "ceiling stream",
        "floor": "floor GET health",
        "ludex": "single award",
        "halfLoad": "single, half",
        "hotPlayer": "hot player",
        "batch": f"batch ({args.batch}/call)",
        "batchHalfLoad": "batch, half",
        "stream": "stream",
        "streamHalfLoad": "stream, half",
        "deviceSignIn": "device sign-in",
        "sessionAward": "single, session",
    }
    for key, name in names.items():
        run = report[key]
        unit = "calls/s" if key.startswith("batch") else "req/s"
        print(f"  {name:<20} {run['rps']:>9,.0f} {unit:<8} p50 {run['p50_ms']:6.1f}  p99 {run['p99_ms']:6.1f} ms")
    print(f"  batch awards/s       {report['batchAwardsPerS']:>9,.0f}")
    print(f"  session / key award  {report['sessionToKey']:>9.2f}x")
    goals = goals_of(report)
    report["goals"] = goals
    for goal, met in goals.items():
        print(f"goal {goal}: {'n/a' if met is None else 'MET' if met else 'NOT MET'}")
    errors = {key: report[key]["errors"] + report[key]["non2xx"] for key in names}
    if any(errors.values()):
        print(f"WARNING: some requests failed or were not 2xx (counted above): {errors}")
    RESULTS.mkdir(exist_ok=True)
    stem = RESULTS / f"http-{args.label}"
    stem.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    chart(report, stem.with_suffix(".png"))
    print(f"wrote {stem.with_suffix('.json')} and {stem.with_suffix('.png')}")


if __name__ == "__main__":
    main()
