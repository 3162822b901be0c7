"""Load for `ludex serve`: bursts of XP awards, purchases, and a mixed workload.

    ludex serve --data-dir .ludex &
    locust -f benchmarks/locustfile.py --headless -u 32 -r 32 -t 30s --host http://127.0.0.1:8000 XpBurst

Credentials come from `$LUDEX_CREDENTIALS` (default `.ludex/demo-credentials.json`). Every
write carries an Idempotency-Key, as a real client's retries would.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

from locust import FastHttpUser, between, task

CREDENTIALS = json.loads(Path(os.environ.get("LUDEX_CREDENTIALS", ".ludex/demo-credentials.json")).read_text())
HEADERS = {"x-tenant-id": CREDENTIALS["tenantId"], "x-api-key": CREDENTIALS["apiKey"]}
PROJECT = f"/v1/projects/{CREDENTIALS['projectId']}"


class LudexPlayer(FastHttpUser):
    abstract = True
    wait_time = between(0, 0)

    def on_start(self) -> None:
        self.player = f"load-{uuid.uuid4().hex[:12]}"
        self.client.post(f"{PROJECT}/players", json={"playerId": self.player, "username": self.player}, headers=HEADERS)

    def write(self, path: str, body: dict[str, object], name: str) -> None:
        headers = {**HEADERS, "Idempotency-Key": uuid.uuid4().hex}
        self.client.post(f"{PROJECT}/players/{self.player}{path}", json=body, headers=headers, name=name)


class XpBurst(LudexPlayer):
    @task
    def award_xp(self) -> None:
        self.write("/xp", {"amount": 10, "reason": "load"}, "POST /players/{id}/xp")


class Purchases(LudexPlayer):
    def on_start(self) -> None:
        super().on_start()
        self.write("/wallet/credit", {"currency": "coins", "amount": 10**9}, "POST /players/{id}/wallet/credit")

    @task
    def buy(self) -> None:
        self.write("/purchases", {"sku": "potion-pack"}, "POST /players/{id}/purchases")
        self.write("/items/consume", {"itemId": "potion", "quantity": 5}, "POST /players/{id}/items/consume")


class Mixed(Purchases):
    @task(6)
    def award_xp(self) -> None:
        self.write("/xp", {"amount": 10}, "POST /players/{id}/xp")

    @task(2)
    def read_profile(self) -> None:
        self.client.get(f"{PROJECT}/players/{self.player}", headers=HEADERS, name="GET /players/{id}")

    @task(1)
    def win(self) -> None:
        self.write("/counters/wins/increment", {"by": 1}, "POST /players/{id}/counters/wins/increment")
