"""schemathesis `--checks all` over the whole API, platform-wide writes included, against a
scratch `ludex serve` that nothing else uses (the suite's tests/e2e/test_schemathesis.py leaves
out the billing webhook and shard scaling because it shares its server with other tests).

    RAY_ADDRESS= flock /tmp/ray.lock .venv/bin/python sdks/test_server.py run -- \\
        .venv/bin/python scripts/fuzz_whole_api.py [schemathesis run options, e.g. -n 10]

Inside the server's environment (`sdks/test_server.py` exports its URL, key and superadmin) it
signs in, makes a scratch tenant `fuzz-tenant` with project `fuzz` (the demo economy) and a plan
`fuzz-plan`, writes a schemathesis config beside the repository's `schemathesis.toml` with the
credentials and the scratch ids, and runs `schemathesis run --checks all` on every operation.
Game operations act on the demo project and a player of it; backoffice path ids naming tenants
or plans are pinned to the scratch ones, so a generated DELETE cannot take down the demo tenant.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
import yaml

ROOT = Path(__file__).resolve().parents[1]
TENANT, PROJECT, PLAN, PLAYER = "fuzz-tenant", "fuzz", "fuzz-plan", "fuzz-player"


def prepare(base_url: str, api_key: str, email: str, password: str) -> str:
    """The scratch tenant, project, plan and player; answers a superadmin access token."""
    login = httpx.post(f"{base_url}/v1/auth/login", json={"email": email, "password": password}, timeout=30)
    login.raise_for_status()
    token = str(login.json()["accessToken"])
    admin = httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=60)
    economy = yaml.safe_load((ROOT / "config" / "demo-economy.yaml").read_text())
    steps = [
        ("POST", "/v1/admin/plans", {"id": PLAN, "name": "Fuzz"}, None),
        ("POST", "/v1/admin/tenants", {"id": TENANT, "name": "Fuzz"}, None),
        ("POST", "/v1/client/projects", {"id": PROJECT, "name": "Fuzz"}, TENANT),
        ("PUT", f"/v1/client/projects/{PROJECT}/economy", economy, TENANT),
    ]
    for method, path, body, tenant in steps:
        answer = admin.request(method, path, json=body, headers={"x-tenant-id": tenant} if tenant else {})
        assert answer.status_code < 300, (path, answer.status_code, answer.text)
    player = httpx.post(
        f"{base_url}/v1/projects/demo/players",
        json={"playerId": PLAYER, "username": "fuzz"},
        headers={"x-tenant-id": "demo", "x-api-key": api_key},
        timeout=30,
    )
    assert player.status_code in (200, 201), player.text
    return token


def config(token: str, api_key: str) -> str:
    """The repository's schemathesis.toml, plus the credentials and the scratch ids."""
    extra = f"""
[auth.openapi.APIKeyHeader]
api_key = {json.dumps(api_key)}

[auth.openapi.HTTPBearer]
bearer = {json.dumps(token)}

# A scale answers once its new hosts run (a Ray worker process each, seconds apiece on 2 loaded
# cores) and every slot has moved: docs/SCALING.md. The 10 s of `max_response_time` is for the rest.
[[operations]]
include-path = "/v1/admin/shards"
include-method = "PUT"
checks = {{ max_response_time = 60 }}

[[operations]]
include-path-regex = "^/v1/(projects|events)"
headers = {{ x-tenant-id = "demo" }}
parameters = {{ "path.projectId" = "demo", "path.playerId" = "{PLAYER}" }}

[[operations]]
include-path-regex = "^/v1/(admin|client|auth)"
headers = {{ x-tenant-id = "{TENANT}" }}
parameters = {{ "path.tenantId" = "{TENANT}", "path.planId" = "{PLAN}", "path.projectId" = "{PROJECT}" }}
"""
    return (ROOT / "schemathesis.toml").read_text() + extra


def main(argv: list[str]) -> int:
    base_url, api_key = os.environ["LUDEX_BASE_URL"], os.environ["LUDEX_API_KEY"]
    token = prepare(base_url, api_key, os.environ["LUDEX_ADMIN_EMAIL"], os.environ["LUDEX_ADMIN_PASSWORD"])
    with tempfile.NamedTemporaryFile("w", suffix=".toml", prefix="schemathesis-") as file:
        file.write(config(token, api_key))
        file.flush()
        schemathesis = Path(sys.executable).with_name("schemathesis")
        command = [str(schemathesis), "--config-file", file.name, "run", f"{base_url}/v1/openapi.json"]
        command += ["--checks", "all", "--request-timeout", "30", *argv]
        print("fuzz_whole_api:", " ".join(command), flush=True)
        code = subprocess.call(command, cwd=ROOT)
    keep = os.environ.get("FUZZ_KEEP_SERVER_LOG")  # test_server.py deletes its log when it stops
    if keep:
        shutil.copy(json.loads(Path(os.environ["LUDEX_TEST_SERVER_STATE"]).read_text())["log"], keep)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
