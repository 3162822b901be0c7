"""`/v1/admin/shards` and `ludex shards` over HTTP on the shared server. Scaling itself (hosts
added and removed under load) is tested where it cannot disturb the other e2e tests:
tests/integration/test_elastic_shards.py and tests/cluster."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from serve.launcher import Launched

PASSWORD = "correct-horse-battery-staple"


def signed_in(ludex: Launched, email: str, password: str) -> httpx.Client:
    login = httpx.post(f"{ludex.base_url}/v1/auth/login", json={"email": email, "password": password}, timeout=30)
    assert login.status_code == 200, login.text
    headers = {"Authorization": f"Bearer {login.json()['accessToken']}"}
    return httpx.Client(base_url=ludex.base_url, headers=headers, timeout=120)


@pytest.fixture(scope="module")
def superadmin(ludex: Launched) -> httpx.Client:
    return signed_in(ludex, ludex.credentials["adminEmail"], ludex.credentials["adminPassword"])


def test_a_superadmin_sees_the_hosts_and_their_slots(superadmin: httpx.Client) -> None:
    status = superadmin.get("/v1/admin/shards")
    assert status.status_code == 200, status.text
    body = status.json()
    assert body["hosts"] == 2 and body["slots"] == 1024
    assert [(o["host"], o["slots"], o["down"]) for o in body["owners"]] == [
        ("e2e-shard-0", 512, False),
        ("e2e-shard-1", 512, False),
    ]


def test_scaling_to_the_running_count_moves_nothing(superadmin: httpx.Client) -> None:
    before = superadmin.get("/v1/admin/shards").json()
    scaled = superadmin.put("/v1/admin/shards", json={"hosts": 2})
    assert scaled.status_code == 200, scaled.text
    assert scaled.json()["owners"] == before["owners"] and scaled.json()["lastRebalance"]["moved"] == 0
    assert scaled.json()["version"] >= before["version"], "the version never goes back (a restarted host moves it on)"


@pytest.mark.parametrize("body", [{"hosts": 0}, {"hosts": 257}, {"hosts": "three"}, {}, {"hosts": 2, "slots": 64}, [2]])
def test_bad_scale_requests_are_problems_and_change_nothing(superadmin: httpx.Client, body: Any) -> None:
    before = superadmin.get("/v1/admin/shards").json()
    refused = superadmin.put("/v1/admin/shards", json=body)
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert superadmin.get("/v1/admin/shards").json() == before


def test_only_a_superadmin_scales_and_game_keys_see_nothing(ludex: Launched, accounts: Any) -> None:
    email = f"support-{uuid.uuid4().hex[:8]}@example.com"
    accounts.create_user(email, PASSWORD, "support", ())
    support = signed_in(ludex, email, PASSWORD)
    assert support.get("/v1/admin/shards").status_code == 200
    refused = support.put("/v1/admin/shards", json={"hosts": 3})
    assert refused.status_code == 403 and refused.json()["type"].endswith("/forbidden")
    key = {"x-api-key": ludex.credentials["apiKey"], "x-tenant-id": ludex.credentials["tenantId"]}
    for call in (httpx.get, httpx.put):
        kwargs: dict[str, Any] = {"json": {"hosts": 3}} if call is httpx.put else {}
        answer = call(f"{ludex.base_url}/v1/admin/shards", headers=key, timeout=30, **kwargs)
        assert answer.status_code == 401, answer.text
    assert len(support.get("/v1/admin/shards").json()["owners"]) == 2


def test_the_cli_prints_the_hosts(ludex: Launched) -> None:
    ludex_bin = Path(sys.executable).with_name("ludex")
    env = {**os.environ, "LUDEX_ADMIN_PASSWORD": ludex.credentials["adminPassword"]}
    base = ["--base-url", ludex.base_url, "--email", ludex.credentials["adminEmail"]]
    shown = subprocess.run([str(ludex_bin), "shards", "status", *base], capture_output=True, text=True, env=env)
    assert shown.returncode == 0, shown.stderr
    assert "2 shard hosts, 1024 slots" in shown.stdout and "e2e-shard-1: 512 slots" in shown.stdout
    refused = subprocess.run([str(ludex_bin), "shards", "scale", "0", *base], capture_output=True, text=True, env=env)
    assert refused.returncode == 1 and "422" in refused.stderr
