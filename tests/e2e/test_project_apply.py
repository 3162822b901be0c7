"""`ludex project apply` as an operator runs it, in a subprocess against the running server:
a dry run prints the diff and changes nothing, a real run installs a new version, a second run
has nothing to change, a bad file exits 1 and a bad login 2."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from serve.launcher import Launched

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def project(admin: httpx.Client) -> str:
    """A fresh project of the demo tenant, without an economy."""
    project_id = f"apply-{uuid.uuid4().hex[:8]}"
    assert admin.post("/v1/client/projects", json={"id": project_id, "name": "Apply"}).status_code == 201
    return project_id


def apply(
    ludex: Launched, tmp_path: Path, project: str, document: Any, *flags: str, password: str | None = None
) -> subprocess.CompletedProcess[str]:
    file = tmp_path / f"economy-{uuid.uuid4().hex[:6]}.yaml"
    file.write_text(yaml.safe_dump(document) if not isinstance(document, str) else document)
    creds = ludex.credentials
    env = {
        **os.environ,
        "LUDEX_ADMIN_PASSWORD": password or creds["adminPassword"],
        "LUDEX_DATA_DIR": str(tmp_path / "no-credentials-here"),
    }
    command = [sys.executable, "-m", "serve.cli", "project", "apply", str(file)]
    command += ["--base-url", ludex.base_url, "--tenant", creds["tenantId"], "--project", project]
    command += ["--email", creds["adminEmail"], *flags]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)


def test_a_dry_run_prints_the_diff_and_a_real_run_installs_it(
    ludex: Launched, admin: httpx.Client, project: str, tmp_path: Path, demo_economy_document: dict[str, Any]
) -> None:
    economy = f"/v1/client/projects/{project}/economy"
    dry = apply(ludex, tmp_path, project, demo_economy_document, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "no economy yet" in dry.stdout
    assert "+ currency coins (soft)" in dry.stdout and "+ sku potion-pack (price {coins: 100})" in dry.stdout
    assert "dry run" in dry.stdout
    assert admin.get(economy).status_code == 404, "a dry run changes nothing"

    first = apply(ludex, tmp_path, project, demo_economy_document)
    assert first.returncode == 0, first.stderr
    installed = admin.get(economy)
    assert installed.status_code == 200
    assert f"version {installed.json()['version']}" in first.stdout.splitlines()[-1]

    changed = {
        **demo_economy_document,
        "skus": [
            {**sku, "price": {"coins": 120}} if sku["sku"] == "potion-pack" else sku
            for sku in demo_economy_document["skus"]
        ],
        "currencies": [*demo_economy_document["currencies"], {"id": "stars", "kind": "soft"}],
    }
    dry = apply(ludex, tmp_path, project, changed, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    lines = [line.strip() for line in dry.stdout.splitlines()]
    assert "+ currency stars (soft)" in lines
    assert "~ sku potion-pack: price {coins: 100} -> {coins: 120}" in lines
    assert sum(line.startswith(("+", "-", "~")) for line in lines) == 2, dry.stdout
    assert admin.get(economy).json()["version"] == installed.json()["version"]

    second = apply(ludex, tmp_path, project, changed)
    assert second.returncode == 0, second.stderr
    live = admin.get(economy).json()
    assert live["version"] == installed.json()["version"] + 1
    assert f"version {live['version']}" in second.stdout
    assert next(s for s in live["document"]["skus"] if s["sku"] == "potion-pack")["price"] == {"coins": 120}

    again = apply(ludex, tmp_path, project, changed)
    assert again.returncode == 0 and "no changes" in again.stdout, again.stdout + again.stderr
    assert admin.get(economy).json()["version"] == live["version"]


def test_an_invalid_file_exits_1_naming_every_bad_field(
    ludex: Launched, project: str, tmp_path: Path, demo_economy_document: dict[str, Any]
) -> None:
    bad = {
        **demo_economy_document,
        "items": [{"id": "sword", "stackLimit": 0}, {"id": "potion", "stackLimit": 99}],
        "currencies": [{"id": "coins", "kind": "gold"}, {"id": "gems", "kind": "hard"}],
    }
    result = apply(ludex, tmp_path, project, bad)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "items[0].stackLimit: must be an integer >= 1" in result.stderr
    assert "currencies[0].kind: must be 'soft' or 'hard'" in result.stderr
    assert apply(ludex, tmp_path, project, "currencies: [unclosed").returncode == 1


def test_a_bad_login_or_unknown_project_exits_2_with_the_problem_detail(
    ludex: Launched, project: str, tmp_path: Path, demo_economy_document: dict[str, Any]
) -> None:
    refused = apply(ludex, tmp_path, project, demo_economy_document, password="not-the-password")
    assert refused.returncode == 2 and "cannot log in" in refused.stderr and "401" in refused.stderr, refused.stderr
    missing = apply(ludex, tmp_path, f"nope-{uuid.uuid4().hex[:6]}", demo_economy_document, "--dry-run")
    assert missing.returncode == 2 and "404" in missing.stderr, missing.stderr
