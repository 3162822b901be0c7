"""Health, readiness and Prometheus metrics over HTTP (no tenant header or key needed)."""

from __future__ import annotations

import httpx

from serve.launcher import Launched
from tests.e2e.conftest import Api


def test_liveness_answers_200_ok_without_credentials(ludex: Launched) -> None:
    response = httpx.get(f"{ludex.base_url}/v1/health")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["status"] == "ok"


def test_readiness_answers_200_with_every_shard_up(ludex: Launched) -> None:
    response = httpx.get(f"{ludex.base_url}/v1/health/ready")
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ready", "shards": 2}


def test_metrics_are_prometheus_text_without_credentials(ludex: Launched) -> None:
    response = httpx.get(f"{ludex.base_url}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "# TYPE " in response.text


def test_metrics_count_http_requests_after_traffic(ludex: Launched, api: Api, player: str) -> None:
    for _ in range(3):
        assert api.get(f"/players/{player}").status_code == 200
    text = httpx.get(f"{ludex.base_url}/metrics").text
    assert "ludex_http_requests_total" in text
    assert any(
        line.startswith("ludex_http_requests_total{")
        and 'method="GET"' in line
        and 'route="/v1/projects/{projectId}/players/{playerId}"' in line
        and 'status="200"' in line
        for line in text.splitlines()
    ), text
