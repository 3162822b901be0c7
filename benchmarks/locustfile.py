"""Load for `ludex serve`: bursts of XP awards, purchases, a mixed workload, batches and the
command stream.

    ludex serve --data-dir .ludex &
    locust -f benchmarks/locustfile.py --headless -u 32 -r 32 -t 30s --host http://127.0.0.1:8000 XpBurst
    locust -f benchmarks/locustfile.py --headless -u 8 -r 8 -t 30s --host http://127.0.0.1:8000 BatchAwards
    locust -f benchmarks/locustfile.py --headless -u 8 -r 8 -t 30s --host http://127.0.0.1:8000 StreamAwards

`BatchAwards` posts batches of `$LUDEX_LOAD_BATCH` (default 100) keyed XP awards over as many
players of its own; `StreamAwards` keeps one `/v1/realtime` socket per user and
`$LUDEX_LOAD_WINDOW` (default 16) commands in flight on it, each result reported as one request
(a key holds at most `LUDEX_REALTIME_MAX_CONNECTIONS_PER_KEY` sockets, 16 by default: at most that
many users).

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
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import websocket
from locust import FastHttpUser, User, between, task

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


BATCH = int(os.environ.get("LUDEX_LOAD_BATCH", "100"))
WINDOW = int(os.environ.get("LUDEX_LOAD_WINDOW", "16"))


class BatchAwards(FastHttpUser):
    """Batches of keyed XP awards, one per player of the user's own, in one call."""

    wait_time = between(0, 0)

    def on_start(self) -> None:
        prefix = f"batch-{uuid.uuid4().hex[:10]}"
        self.players = [f"{prefix}-{i}" for i in range(BATCH)]
        for player in self.players:
            body = {"playerId": player, "username": player}
            self.client.post(f"{PROJECT}/players", json=body, headers=HEADERS, name="POST /players")

    @task
    def awards(self) -> None:
        tag = uuid.uuid4().hex
        commands = [
            {"op": "xp", "playerId": player, "idempotencyKey": f"{tag}-{i}", "amount": 10}
            for i, player in enumerate(self.players)
        ]
        with self.client.post(
            f"{PROJECT}/commands",
            json={"commands": commands},
            headers=HEADERS,
            name=f"POST /commands ({BATCH})",
            catch_response=True,
        ) as response:
            if response.status_code != 200 or not all(r["ok"] for r in response.json()["results"]):
                response.failure(f"{response.status_code}: {response.text[:200]}")


class StreamAwards(User):
    """The command stream: one socket, `WINDOW` keyed XP awards in flight, over its own players."""

    wait_time = between(0, 0)

    def on_start(self) -> None:
        url = self.host.replace("http://", "ws://", 1).replace("https://", "wss://", 1) + "/v1/realtime"
        headers = [f"x-api-key: {CREDENTIALS['apiKey']}", f"x-tenant-id: {CREDENTIALS['tenantId']}"]
        headers.append(f"x-project-id: {CREDENTIALS['projectId']}")
        self.socket = websocket.create_connection(url, header=headers, timeout=30)
        hello = json.loads(self.socket.recv())
        assert hello["type"] == "hello", hello
        prefix = f"stream-{uuid.uuid4().hex[:10]}"
        self.players = [f"{prefix}-{i}" for i in range(WINDOW)]
        self.sent: dict[int, float] = {}
        self.counter = 0
        with httpx.Client(base_url=self.host, headers=HEADERS, timeout=30) as client:
            for player in self.players:
                client.post(f"{PROJECT}/players", json={"playerId": player, "username": player})

    def on_stop(self) -> None:
        self.socket.close()

    def fire(self, name: str, started: float, length: int, exception: Exception | None) -> None:
        self.environment.events.request.fire(
            request_type="WS",
            name=name,
            response_time=(time.perf_counter() - started) * 1000,
            response_length=length,
            exception=exception,
            context={},
        )

    @task
    def window(self) -> None:
        for player in self.players:
            self.counter += 1
            message: dict[str, Any] = {
                "action": "command",
                "id": self.counter,
                "op": "xp",
                "playerId": player,
                "idempotencyKey": uuid.uuid4().hex,
                "amount": 10,
            }
            self.sent[self.counter] = time.perf_counter()
            self.socket.send(json.dumps(message))
        while self.sent:
            raw = self.socket.recv()
            answer = json.loads(raw)
            if answer.get("type") != "result":
                continue
            started = self.sent.pop(answer["id"])
            failure = None if answer["ok"] else RuntimeError(f"{answer['status']}: {answer.get('problem')}")
            self.fire("command xp", started, len(raw), failure)
