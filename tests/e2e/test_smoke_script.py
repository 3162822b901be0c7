"""scripts/smoke_test.py, the release pipeline's gate between staging and production, against a
served Ludex: it passes on a healthy deployment (read-only and with `--write`) and fails, naming
the check, when the key is wrong or nothing listens."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from serve.launcher import Launched
from tests.support.services import free_port

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "smoke_test.py"


def smoke(base_url: str, tenant: str, project: str, api_key: str, *extra: str) -> subprocess.CompletedProcess[str]:
    args = ["--base-url", base_url, "--tenant", tenant, "--project", project, "--api-key", api_key, *extra]
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=120)


def test_the_smoke_test_passes_on_a_served_ludex_and_writes_only_when_asked(ludex: Launched) -> None:
    creds = ludex.credentials
    read_only = smoke(ludex.base_url, creds["tenantId"], creds["projectId"], creds["apiKey"])
    assert read_only.returncode == 0, read_only.stdout + read_only.stderr
    assert "write path" not in read_only.stdout and "smoke test passed" in read_only.stdout
    written = smoke(ludex.base_url, creds["tenantId"], creds["projectId"], creds["apiKey"], "--write")
    assert written.returncode == 0, written.stdout + written.stderr
    assert "ok  write path (player smoke-" in written.stdout


def test_the_smoke_test_fails_naming_the_check(ludex: Launched) -> None:
    creds = ludex.credentials
    wrong_key = smoke(ludex.base_url, creds["tenantId"], creds["projectId"], "not-a-key")
    assert wrong_key.returncode == 1
    assert wrong_key.stderr.startswith("FAIL authenticated read of an unknown player: expected 404, got 401")
    nobody = smoke(f"http://127.0.0.1:{free_port()}", "t", "p", "k", "--ready-timeout-s", "3")
    assert nobody.returncode == 1 and nobody.stderr.startswith("FAIL readiness:")
