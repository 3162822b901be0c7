"""The economy-health tests' project and reading, shared by the route seam's tests
(tests/routes/test_economy_health.py) and the one through Ray Serve (tests/e2e/)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import httpx

from tests.e2e.helpers import new_player


class Game(Protocol):
    """A project's game API client: the e2e `Api` or the route seam's `RouteApi`."""

    project: str

    def post(self, path: str, json: Any = None, **kwargs: Any) -> httpx.Response: ...


class Reader(Protocol):
    """A signed-in dashboard client: an `httpx.Client` or the route seam's `Dashboard`."""

    def get(self, url: str, **kwargs: Any) -> httpx.Response: ...


SCOPES = ["players:read", "players:write", "economy:write", "store:purchase"]


def played(game: Game) -> dict[str, Any]:
    """The project of `game` (a key of `SCOPES`) once `play` ran: its client, players and reports' path."""
    return {
        "project": game.project,
        "game": game,
        "players": play(game),
        "path": f"/v1/client/projects/{game.project}/reports",
    }


def play(game: Game) -> tuple[str, str]:
    """Ada earns, buys and pays a repair; bob buys a bundle with gems and completes a quest."""
    ada, bob = new_player(game), new_player(game)  # type: ignore[arg-type]
    calls = [
        game.post(f"/players/{ada}/wallet/credit", {"currency": "coins", "amount": 500, "reason": "daily-login"}),
        game.post(f"/players/{ada}/purchases", {"sku": "potion-pack", "quantity": 2}),
        game.post(f"/players/{ada}/wallet/debit", {"currency": "coins", "amount": 20, "reason": "repair"}),
        game.post(f"/players/{bob}/wallet/credit", {"currency": "gems", "amount": 10}),
        game.post(f"/players/{bob}/purchases", {"sku": "starter-bundle"}),
        *(
            game.post(f"/players/{bob}/quests/daily-battles/progress", {"objectiveId": "battles", "by": 1})
            for _ in range(3)
        ),
    ]
    assert all(c.status_code in (200, 201) for c in calls), [c.text for c in calls]
    assert game.post(f"/players/{bob}/purchases", {"sku": "starter-bundle"}).status_code == 409, "refused: no effect"
    return ada, bob


def around_today() -> dict[str, str]:
    now = datetime.now(UTC).date()
    return {"from": (now - timedelta(days=1)).isoformat(), "to": (now + timedelta(days=2)).isoformat()}


def report(client: Reader, economy: dict[str, Any], **params: str) -> dict[str, Any]:
    response = client.get(f"{economy['path']}/economy-health", params={**around_today(), **params})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["report"] == "economy-health" and body["from"] == around_today()["from"]
    return body
