"""Per-key rate limits: RateLimit-* headers on answers, 429 `rate-limited` with Retry-After."""

from __future__ import annotations

from typing import Any

from serve.launcher import Launched
from tests.e2e.conftest import Api


def test_a_key_past_its_rate_limit_gets_429_with_retry_after(ludex: Launched, control_plane: Any) -> None:
    _, token = control_plane.create_api_key("demo", "demo", "slow", rate_limit_per_second=1)
    slow = Api(ludex.base_url, "demo", "demo", token)
    answers = [slow.get("/store/catalog") for _ in range(4)]
    assert [a.status_code for a in answers[:2]] == [200, 200]
    assert answers[0].headers["RateLimit-Limit"] == "2"
    assert int(answers[0].headers["RateLimit-Remaining"]) == 1
    refused = answers[-1]
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"].endswith("/rate-limited")
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.headers["RateLimit-Remaining"] == "0"


def test_answers_carry_rate_limit_headers(api: Api, player: str) -> None:
    answer = api.get(f"/players/{player}/wallet")
    assert answer.status_code == 200
    assert {"ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"}.issubset(answer.headers.keys())


def test_a_batch_costs_one_token_per_command(ludex: Launched, control_plane: Any, api: Api) -> None:
    _, token = control_plane.create_api_key("demo", "demo", "batcher", rate_limit_per_second=2)  # burst 4
    batcher = Api(ludex.base_url, "demo", "demo", token)
    player = f"rl-{token[-8:]}"
    assert batcher.post("/players", {"playerId": player, "username": player}).status_code == 201
    commands = [{"op": "xp", "playerId": player, "amount": 1} for _ in range(5)]
    refused = batcher.post("/commands", {"commands": commands})  # 1 for the call, 4 more needed: 3 left
    assert refused.status_code == 429, refused.text
    assert refused.json()["type"].endswith("/rate-limited") and int(refused.headers["Retry-After"]) >= 1
    assert api.get(f"/players/{player}/progression").json()["xp"] == 0  # a refused batch applies nothing
