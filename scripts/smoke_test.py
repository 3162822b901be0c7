"""The release pipeline's smoke test: is a freshly deployed Ludex serving? Exits 0 when every
check passes, 1 (naming the failed check) otherwise, so the pipeline promotes or rolls back.

Read-only by default (readiness, an authenticated game-API read, `/metrics`); `--write` also
creates a throwaway player, credits it with an idempotency key and checks the replay, for
staging, where writing test data is fine.

    python scripts/smoke_test.py --base-url https://api.staging.example.com --tenant demo \\
        --project demo --api-key "$LUDEX_SMOKE_API_KEY" [--metrics-token T] [--write --currency coins]
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from collections.abc import Callable

import httpx


class SmokeError(AssertionError):
    """A check failed; the message says which and what came back."""


def _expect(response: httpx.Response, status: int, what: str) -> httpx.Response:
    if response.status_code != status:
        raise SmokeError(f"{what}: expected {status}, got {response.status_code}: {response.text[:300]}")
    return response


def wait_ready(client: httpx.Client, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            response = client.get("/v1/health/ready")
            if response.status_code == 200:
                return
            last = f"{response.status_code} {response.text[:200]}"
        except httpx.HTTPError as error:
            last = str(error)
        time.sleep(2)
    raise SmokeError(f"readiness: /v1/health/ready not 200 within {timeout_s:.0f} s ({last})")


def run(args: argparse.Namespace, say: Callable[[str], None]) -> None:
    headers = {"x-tenant-id": args.tenant, "x-api-key": args.api_key}
    with httpx.Client(base_url=args.base_url.rstrip("/"), timeout=15) as client:
        wait_ready(client, args.ready_timeout_s)
        say("ok  readiness")
        players = f"/v1/projects/{args.project}/players"
        unknown = client.get(f"{players}/smoke-absent-{uuid.uuid4().hex[:8]}", headers=headers)
        _expect(unknown, 404, "authenticated read of an unknown player")
        if not unknown.headers.get("content-type", "").startswith("application/problem+json"):
            raise SmokeError("authenticated read: a 404 without application/problem+json")
        say("ok  authenticated game-API read")
        metrics_headers = {"authorization": f"Bearer {args.metrics_token}"} if args.metrics_token else {}
        metrics = _expect(client.get("/metrics", headers=metrics_headers), 200, "/metrics")
        if "ludex_http_requests_total" not in metrics.text:
            raise SmokeError("/metrics: no ludex_http_requests_total")
        say("ok  /metrics")
        if args.write:
            player = f"smoke-{uuid.uuid4().hex[:12]}"
            _expect(client.post(players, json={"playerId": player, "username": player}, headers=headers), 201, "create")
            credit = f"{players}/{player}/wallet/credit"
            body, keyed = {"currency": args.currency, "amount": 1}, {**headers, "Idempotency-Key": f"smoke-{player}"}
            _expect(client.post(credit, json=body, headers=keyed), 200, "keyed credit")
            replay = _expect(client.post(credit, json=body, headers=keyed), 200, "replayed credit")
            if replay.headers.get("idempotent-replayed") != "true":
                raise SmokeError("replayed credit: no Idempotent-Replayed: true")
            wallet = _expect(client.get(f"{players}/{player}/wallet", headers=headers), 200, "wallet")
            if wallet.json()["balances"].get(args.currency) != 1:
                raise SmokeError(f"wallet: expected 1 {args.currency} after a credit and its replay: {wallet.text}")
            say(f"ok  write path (player {player})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--tenant", required=True)
    parser.add_argument("--project", required=True)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--metrics-token")
    parser.add_argument("--write", action="store_true", help="also create a throwaway player and credit it")
    parser.add_argument("--currency", default="coins", help="a currency of the project's economy (with --write)")
    parser.add_argument("--ready-timeout-s", type=float, default=300.0)
    args = parser.parse_args(argv)
    try:
        run(args, print)
    except (SmokeError, httpx.HTTPError) as error:
        print(f"FAIL {error}", file=sys.stderr)
        return 1
    print("smoke test passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
