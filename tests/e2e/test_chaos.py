"""Chaos: SIGKILL a shard host's process during a burst of keyed XP awards over HTTP. Clients
retry what failed; afterwards every award is present exactly once and the host answers again."""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import orjson

from actors.cluster import NAMESPACE
from actors.sharding import shard_for, shard_name
from engine.identity import player_key
from serve.launcher import Launched
from tests.e2e.conftest import Api


def test_a_shard_host_killed_mid_burst_loses_no_acknowledged_award(
    ludex: Launched, api: Api, ray_instance: Any
) -> None:
    settings = ludex.settings
    players = [f"chaos-{uuid.uuid4().hex[:8]}" for _ in range(8)]
    for player in players:
        assert api.post("/players", {"playerId": player, "username": player}).status_code == 201
    victim_shard = shard_for("demo", "demo", players[0], settings.shards)
    victim = ray_instance.get_actor(shard_name(settings.deployment, victim_shard), namespace=NAMESPACE)
    pid = ray_instance.get(victim.pid.remote())
    awards = [(players[i % len(players)], f"award-{i}", i % 5 + 1) for i in range(400)]
    acknowledged: list[tuple[float, float, str]] = []  # (sent, acknowledged, player)
    failures: list[httpx.Response | Exception] = []
    killed_at: list[float] = []
    lock = threading.Lock()

    def award(player: str, key: str, amount: int) -> None:
        with httpx.Client(base_url=api.client.base_url, headers=api.client.headers, timeout=30) as client:
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                sent = time.monotonic()
                try:
                    response = client.post(
                        f"/players/{player}/xp", json={"amount": amount}, headers={"Idempotency-Key": key}
                    )
                except httpx.HTTPError as error:
                    with lock:
                        failures.append(error)
                    time.sleep(0.05)
                    continue
                if response.status_code == 200:
                    with lock:
                        acknowledged.append((sent, time.monotonic(), player))
                    return
                assert response.status_code == 503, response.text
                assert response.headers["Retry-After"] and response.json()["type"].endswith("/entity-unavailable")
                with lock:
                    failures.append(response)
                time.sleep(0.05)
            raise AssertionError(f"award {key} was never acknowledged")

    def kill_when_busy() -> None:
        while len(acknowledged) < 80:
            time.sleep(0.001)
        killed_at.append(time.monotonic())
        os.kill(pid, signal.SIGKILL)

    killer = threading.Thread(target=kill_when_busy)
    killer.start()
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(lambda a: award(*a), awards))
    killer.join(timeout=60)
    assert killed_at, "the host was never killed"
    assert ray_instance.get(victim.pid.remote()) != pid, "Ray restarted the host in a new process"
    on_victim = {p for p in players if shard_for("demo", "demo", p, settings.shards) == victim_shard}
    recovered_after = min(a for s, a, p in acknowledged if s > killed_at[0] and p in on_victim) - killed_at[0]
    print(
        f"\nchaos: {len(failures)} failed attempts retried;"
        f" the killed shard answered a new request {recovered_after:.2f} s after the kill"
    )

    expected = {p: sum(a for q, _, a in awards if q == p) for p in players}
    assert {p: api.get(f"/players/{p}/progression").json()["xp"] for p in players} == expected
    with sqlite3.connect(settings.sqlite_path) as db:
        keys = [
            key
            for player in players
            for (key,) in db.execute(
                "SELECT idem_key FROM journal WHERE entity = ? AND idem_key IS NOT NULL",
                (player_key("demo", "demo", player),),
            )
        ]
        xp_events = sum(
            1
            for player in players
            for (events,) in db.execute(
                "SELECT events FROM journal WHERE entity = ?", (player_key("demo", "demo", player),)
            )
            for event in orjson.loads(events)
            if event["type"] == "player.xp.added"
        )
    assert sorted(keys) == sorted(k for _, k, _ in awards), "every award journaled exactly once"
    assert xp_events == len(awards)
