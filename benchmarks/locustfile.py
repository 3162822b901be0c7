"""Load for `ludex serve`: bursts of XP awards, purchases, and a mixed workload.

    ludex serve --data-dir .ludex &
    locust -f benchmarks/locustfile.py --headless -u 32 -r 32 -t 30s --host http://127.0.0.1:8000 XpBurst

Credentials come from `$LUDEX_CREDENTIALS` (default `.ludex/demo-credentials.json`). Every
write carries an Idempotency-Key, as a real client's retries would. `ZipfMixed` spreads the mixed
workload over `$LUDEX_LOAD_PLAYERS` players (default 10,000) with Zipf-distributed popularity
(exponent `$LUDEX_LOAD_ZIPF_S`, default 1.1): a few hot players take most of the calls, as in a
live game with streamers and bots.
"""

from __future__ import annotations

import bisect
import itertools
import json
import os
import random
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

    def target(self) -> str:
        """The player the next call acts on."""
        return self.player

    def write(self, path: str, body: dict[str, object], name: str) -> None:
        headers = {**HEADERS, "Idempotency-Key": uuid.uuid4().hex}
        self.client.post(f"{PROJECT}/players/{self.target()}{path}", json=body, headers=headers, name=name)


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


class Progress(LudexPlayer):
    """XP awards (6), profile reads (2) and counter increments (1)."""

    abstract = True

    @task(6)
    def award_xp(self) -> None:
        self.write("/xp", {"amount": 10}, "POST /players/{id}/xp")

    @task(2)
    def read_profile(self) -> None:
        self.client.get(f"{PROJECT}/players/{self.target()}", headers=HEADERS, name="GET /players/{id}")

    @task(1)
    def win(self) -> None:
        self.write("/counters/wins/increment", {"by": 1}, "POST /players/{id}/counters/wins/increment")


class Mixed(Purchases, Progress):
    """Purchases and progress, each user on a player of its own."""


def zipf_weights(players: int, exponent: float) -> list[float]:
    """Cumulative Zipf weights of ranks 1..players, for `bisect` sampling."""
    return list(itertools.accumulate(1 / rank**exponent for rank in range(1, players + 1)))


ZIPF_CUMULATIVE = zipf_weights(
    int(os.environ.get("LUDEX_LOAD_PLAYERS", "10000")), float(os.environ.get("LUDEX_LOAD_ZIPF_S", "1.1"))
)


class ZipfMixed(Progress):
    """Progress calls to players of Zipf-distributed popularity."""

    def on_start(self) -> None:
        self.created: set[str] = set()

    def target(self) -> str:
        rank = bisect.bisect_left(ZIPF_CUMULATIVE, random.random() * ZIPF_CUMULATIVE[-1])
        player = f"zipf-{rank}"
        if player not in self.created:  # creating an existing player with the same body answers 200
            body = {"playerId": player, "username": player}
            self.client.post(f"{PROJECT}/players", json=body, headers=HEADERS, name="POST /players")
            self.created.add(player)
        return player
