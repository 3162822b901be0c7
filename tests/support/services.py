"""Real services for tests. Outside CI a missing service skips the test with a clear message;
under `CI=true` it fails, so CI can never pass by skipping."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def missing(message: str) -> None:
    if in_ci():
        pytest.fail(f"required test service unavailable under CI=true: {message}", pytrace=False)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout_s: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.05)
    return False


def _venv_tool(name: str) -> str | None:
    beside_python = Path(sys.executable).with_name(name)
    return str(beside_python) if beside_python.exists() else shutil.which(name)


@contextmanager
def _server(name: str, argv: list[str], port: int, url: str) -> Iterator[str]:
    """Run `argv` until the context ends; yield `url` once `port` listens."""
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if not wait_for_port(port):
            missing(f"{name} did not listen on port {port} within 15 s")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@contextmanager
def nx27017_server(data_dir: Path) -> Iterator[str]:
    """A MongoDB wire-protocol server (nx-27017, from PyPI) on a free port."""
    binary = _venv_tool("nx-27017")
    if binary is None:
        missing("nx-27017 is not installed (pip install nx-27017)")
        raise AssertionError("unreachable")
    port = free_port()
    (data_dir / "databases").mkdir(parents=True, exist_ok=True)
    argv = [binary, "--data-dir", str(data_dir / "databases"), "--host", "127.0.0.1", "-p", str(port)]
    argv += ["--log-file", str(data_dir / "nx.log"), "--pid-file", str(data_dir / "nx.pid")]
    with _server("nx-27017", argv, port, f"mongodb://127.0.0.1:{port}") as url:
        yield url


@contextmanager
def redis_server(data_dir: Path) -> Iterator[str]:
    """A throwaway `redis-server` on a free port, without persistence."""
    binary = shutil.which("redis-server")
    if binary is None:
        missing("redis-server is not installed (apt-get install redis-server)")
        raise AssertionError("unreachable")
    port = free_port()
    argv = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    with _server("redis-server", [*argv, "--dir", str(data_dir)], port, f"redis://127.0.0.1:{port}/0") as url:
        yield url
