"""A real OpenID Provider for the dashboard OIDC tests: panva's `oidc-provider` from npm, run by
node from `tests/support/oidc` (`npm ci` installs it there, from its lock, when missing). Outside
CI a missing node or npm skips the test; under `CI=true` it fails (`services.missing`)."""

from __future__ import annotations

import fcntl
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.services import free_port, missing, wait_for_port

FOLDER = Path(__file__).with_name("oidc")


@dataclass(frozen=True)
class OidcProvider:
    issuer: str
    client_id: str
    client_secret: str


def install() -> None:
    """`npm ci` in tests/support/oidc unless its node_modules is already there."""
    if shutil.which("node") is None:
        missing("node is not installed: it runs the test OpenID Provider (tests/support/oidc)")
    marker = FOLDER / "node_modules" / ".ludex-installed"
    if marker.is_file():
        return
    if shutil.which("npm") is None:
        missing("npm is not installed: it installs the test OpenID Provider (tests/support/oidc)")
    with (FOLDER / ".install.lock").open("w") as lock:  # pytest workers may get here together
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.is_file():
            return
        installed = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"], cwd=FOLDER, capture_output=True, text=True, timeout=300
        )
        assert installed.returncode == 0, installed.stderr
        marker.touch()


@contextmanager
def oidc_provider(redirect_uris: list[str], *, client_id: str = "ludex-dashboard") -> Iterator[OidcProvider]:
    """The provider on a free port of 127.0.0.1 with one confidential client, until the context ends."""
    install()
    port = free_port()
    client_secret = "test-client-secret-" + str(port)
    argv = ["node", str(FOLDER / "provider.mjs"), str(port), client_id, client_secret, *redirect_uris]
    process = subprocess.Popen(argv, cwd=FOLDER, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        if not wait_for_port(port, timeout_s=30.0):
            process.terminate()
            missing(f"the test OpenID Provider did not start: {process.communicate(timeout=10)[1][-2000:]}")
        yield OidcProvider(f"http://127.0.0.1:{port}", client_id, client_secret)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
