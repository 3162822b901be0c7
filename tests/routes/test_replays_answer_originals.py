"""Issue 25, finding 14, through the route seam (the real app over real hosts and SQLite): a
replayed command answers its original status and body, whatever later commands did to the
state. Every journaled command kind is sent with a key, later commands change what its answer
showed, and the same request again must answer what it did first."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx

from tests.e2e.helpers import new_player
from tests.routes.conftest import RouteApi as Api


def _keyed(send: Callable[[dict[str, str]], httpx.Response]) -> tuple[Callable[[], httpx.Response], httpx.Response]:
    headers = {"Idempotency-Key": uuid.uuid4().hex}

    def again() -> httpx.Response:
        return send(headers)

    return again, again()


def _answer(response: httpx.Response) -> Any:
    """The answer's body; a problem's `requestId` names the request that got it, not the answer."""
    body = response.json()
    return {k: v for k, v in body.items() if k != "requestId"} if "type" in body else body


def test_every_journaled_command_replays_its_original_answer(api: Api) -> None:
    player = new_player(api)
    rival = new_player(api)
    p = f"/players/{player}"
    sends: dict[str, Callable[[dict[str, str]], httpx.Response]] = {
        "create": lambda h: api.post("/players", {"playerId": "re-" + player, "username": "first"}, headers=h),
        "credit": lambda h: api.post(f"{p}/wallet/credit", {"currency": "coins", "amount": 300}, headers=h),
        "debit": lambda h: api.post(f"{p}/wallet/debit", {"currency": "coins", "amount": 50}, headers=h),
        "xp": lambda h: api.post(f"{p}/xp", {"amount": 120}, headers=h),
        "purchase": lambda h: api.post("/players/" + player + "/purchases", {"sku": "potion-pack"}, headers=h),
        "grant": lambda h: api.post(f"{p}/items/grant", {"itemId": "potion", "quantity": 2}, headers=h),
        "consume": lambda h: api.post(f"{p}/items/consume", {"itemId": "potion", "quantity": 1}, headers=h),
        "counter": lambda h: api.post(f"{p}/counters/wins/increment", {"by": 1}, headers=h),
        "quest": lambda h: api.post(f"{p}/quests/daily-battles/progress", {"objectiveId": "battles"}, headers=h),
        "counter-reset": lambda h: api.post(f"{p}/counters/wins/reset", headers=h),
        "score": lambda h: api.post("/leaderboards/high-score/scores", {"playerId": player, "score": 100}, headers=h),
        "score-lower": lambda h: api.post(
            "/leaderboards/high-score/scores", {"playerId": player, "score": 50}, headers=h
        ),
        "refused-debit": lambda h: api.post(f"{p}/wallet/debit", {"currency": "gems", "amount": 10**6}, headers=h),
    }
    originals: dict[str, tuple[Callable[[], httpx.Response], httpx.Response]] = {}
    for name, send in sends.items():
        originals[name] = _keyed(send)
        expected = 409 if name == "refused-debit" else 300
        assert originals[name][1].status_code <= expected, (name, originals[name][1].text)
    # Later commands change every value those answers showed.
    later: list[tuple[str, dict[str, Any]]] = [
        (f"{p}/wallet/credit", {"currency": "coins", "amount": 1000}),
        (f"{p}/wallet/credit", {"currency": "gems", "amount": 50}),
        (f"{p}/xp", {"amount": 900}),
        (f"{p}/items/grant", {"itemId": "potion", "quantity": 7}),
        (f"{p}/counters/wins/increment", {"by": 4}),
        (f"{p}/quests/daily-battles/progress", {"objectiveId": "battles"}),
        ("/leaderboards/high-score/scores", {"playerId": player, "score": 150}),
        ("/leaderboards/high-score/scores", {"playerId": rival, "score": 10**6}),
    ]
    for path, body in later:
        assert api.post(path, body).status_code < 300, path
    assert api.patch(f"/players/re-{player}", {"username": "second"}).status_code == 200
    for name, (again, first) in originals.items():
        replay = again()
        assert (replay.status_code, _answer(replay)) == (first.status_code, _answer(first)), name
        if first.status_code < 300:
            assert replay.headers.get("Idempotent-Replayed") == "true", name
