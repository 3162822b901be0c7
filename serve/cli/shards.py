"""`ludex shards status` and `ludex shards scale N`: the admin API's `/v1/admin/shards`, signed
in as a superadmin, so they work wherever the API is reachable (a laptop's `ludex serve`, a
cluster behind its Ingress). Defaults come from `<LUDEX_DATA_DIR or .ludex>/demo-credentials.json`,
the password from `LUDEX_ADMIN_PASSWORD` or that file."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from serve.cli.client import problem_text, saved_credentials


def add_parser(commands: Any) -> None:
    shards = commands.add_parser("shards", help="see and scale the shard hosts of a running deployment")
    actions = shards.add_subparsers(dest="shards_command", required=True)
    status = actions.add_parser("status", help="hosts, slots per host and the last rebalance")
    scale = actions.add_parser(
        "scale",
        help="run N shard hosts, moving slots while serving",
        description="Exit status: 0 scaled, 1 refused (e.g. not a superadmin, N out of range), 2 cannot reach or "
        "sign in.",
    )
    scale.add_argument("hosts", type=int, help="shard hosts to run (1 or more)")
    for parser in (status, scale):
        parser.add_argument("--base-url", help="the Ludex API (default: the demo credentials' baseUrl)")
        parser.add_argument("--email", help="a superadmin (default: the demo credentials' adminEmail)")


def run(args: argparse.Namespace) -> int:
    import httpx

    defaults = saved_credentials()
    base_url = (args.base_url or defaults.get("baseUrl") or "http://127.0.0.1:8000").rstrip("/")
    email = args.email or defaults.get("adminEmail")
    password = os.environ.get("LUDEX_ADMIN_PASSWORD") or defaults.get("adminPassword")
    if not email or not password:
        print("ludex: missing --email or LUDEX_ADMIN_PASSWORD (and no demo-credentials.json)", file=sys.stderr)
        return 2
    try:
        with httpx.Client(base_url=base_url, timeout=600) as client:
            login = client.post("/v1/auth/login", json={"email": email, "password": password})
            if login.status_code != 200:
                print(f"ludex: cannot log in as {email}: {problem_text(login)}", file=sys.stderr)
                return 2
            client.headers["Authorization"] = f"Bearer {login.json()['accessToken']}"
            if args.shards_command == "scale":
                answer = client.put("/v1/admin/shards", json={"hosts": args.hosts})
            else:
                answer = client.get("/v1/admin/shards")
    except httpx.HTTPError as error:
        print(f"ludex: cannot reach {base_url}: {error}", file=sys.stderr)
        return 2
    if answer.status_code != 200:
        print(f"ludex: {problem_text(answer)}", file=sys.stderr)
        return 1 if answer.status_code < 500 else 2
    print(describe(answer.json()), flush=True)
    return 0


def describe(status: dict[str, Any]) -> str:
    lines = [f"ludex: {status['hosts']} shard hosts, {status['slots']} slots (map version {status['version']})"]
    for owner in status["owners"]:
        lines.append(f"  {owner['host']}: {owner['slots']} slots{' (down)' if owner['down'] else ''}")
    last = status["lastRebalance"]
    if last["moved"]:
        lines.append(
            f"  last rebalance: {last['moved']} slots in {last['handoffs']} handoffs, {last['seconds']} s"
            f" ({last['movesPerSecond']} moves/s), longest handoff {last['longestHandoffS']} s"
        )
    if last["failures"]:
        lines.append(f"  did not answer: {json.dumps(last['failures'])}")
    return "\n".join(lines)
