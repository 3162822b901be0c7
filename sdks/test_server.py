"""A real `ludex serve` for the SDK test suites, on a temporary data dir and a free port.

Every SDK (Node, C#, C++) tests against the server users run, so they share this one harness
instead of three copies. It runs with the repository's virtualenv Python (`.venv/bin/python`),
whose `ludex` command it starts.

A `run` inside another `run` (its environment names a live server) starts nothing and runs CMD
against the outer server: `make test` wraps the SDK suites in one `run`, one Ray start for all.

    python sdks/test_server.py run -- CMD ARGS...   start, run CMD with the server's environment, stop
    python sdks/test_server.py restart STATE_FILE   stop and start again on the same data dir and port

`run` exports `LUDEX_BASE_URL`, `LUDEX_TENANT_ID`, `LUDEX_PROJECT_ID`, `LUDEX_API_KEY`,
`LUDEX_ADMIN_EMAIL`, `LUDEX_ADMIN_PASSWORD` and `LUDEX_TEST_SERVER_STATE` (a JSON file naming the
data dir, port and pid) to CMD; a test that needs a server restart (realtime resume) runs
`restart "$LUDEX_TEST_SERVER_STATE"` and waits for it to return: the server is ready again then.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

READY_TIMEOUT_S = 180.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start(data_dir: Path, port: int, log_path: Path) -> int:
    """Start `ludex serve` in its own process group and wait until it answers ready."""
    ludex = Path(sys.executable).with_name("ludex")
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    env.pop("RAY_ADDRESS", None)
    log = log_path.open("a")
    process = subprocess.Popen(
        [str(ludex), "serve", "--data-dir", str(data_dir), "--port", str(port), "--shards", "1"],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
    )
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"ludex serve exited early (code {process.returncode}); see {log_path}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/health/ready", timeout=2) as answer:
                if answer.status == 200:
                    return process.pid
        except OSError:
            pass
        time.sleep(0.5)
    stop(process.pid)
    raise SystemExit(f"ludex serve was not ready after {READY_TIMEOUT_S:.0f} s; see {log_path}")


def stop(pid: int) -> None:
    """SIGTERM, as Ctrl-C would: `ludex serve` stops Ray and everything it started."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            finished, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:  # not our child (a restart started it): poll for it to vanish
            finished = 0 if _alive(pid) else pid
        if finished:
            return
        time.sleep(0.2)
    os.killpg(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # After a restart the old server is the `run` process's child, which reaps it only at the end:
    # until then it is a zombie that signal 0 still reaches, though it has exited.
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1][:1] != "Z"
    except (OSError, IndexError):
        return True


def environment(state: dict[str, str]) -> dict[str, str]:
    credentials = json.loads((Path(state["dataDir"]) / "demo-credentials.json").read_text())
    return {
        "LUDEX_BASE_URL": f"http://127.0.0.1:{state['port']}",
        "LUDEX_TENANT_ID": credentials["tenantId"],
        "LUDEX_PROJECT_ID": credentials["projectId"],
        "LUDEX_API_KEY": credentials["apiKey"],
        "LUDEX_ADMIN_EMAIL": credentials["adminEmail"],
        "LUDEX_ADMIN_PASSWORD": credentials["adminPassword"],
    }


def outer_server() -> Path | None:
    """The state file of the `run` this one is nested in, if its server is still up."""
    named = os.environ.get("LUDEX_TEST_SERVER_STATE")
    if not named or not Path(named).is_file():
        return None
    return Path(named) if _alive(int(json.loads(Path(named).read_text())["pid"])) else None


def run(command: list[str]) -> int:
    if outer_server() is not None:
        print("test_server: using the server of the enclosing run", flush=True)
        return subprocess.call(command)
    root = Path(tempfile.mkdtemp(prefix="ludex-sdk-"))
    state_path = root / "server.json"
    state = {"dataDir": str(root / "data"), "port": str(free_port()), "log": str(root / "serve.log")}
    print(f"test_server: starting ludex serve on port {state['port']} (log {state['log']})", flush=True)
    state["pid"] = str(start(Path(state["dataDir"]), int(state["port"]), Path(state["log"])))
    state_path.write_text(json.dumps(state))
    try:
        env = {**os.environ, **environment(state), "LUDEX_TEST_SERVER_STATE": str(state_path)}
        return subprocess.call(command, env=env)
    finally:
        stop(int(json.loads(state_path.read_text())["pid"]))
        shutil.rmtree(root, ignore_errors=True)


def restart(state_path: Path) -> None:
    state = json.loads(state_path.read_text())
    stop(int(state["pid"]))
    state["pid"] = str(start(Path(state["dataDir"]), int(state["port"]), Path(state["log"])))
    state_path.write_text(json.dumps(state))


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == "run" and argv[1] == "--":
        return run(argv[2:])
    if len(argv) == 2 and argv[0] == "restart":
        restart(Path(argv[1]))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
