"""Hostile and careless input through the real server: refused with a path-precise problem
before it reaches a shard host's journal, and never at the cost of anyone else's write.

Run alone with `pytest tests/e2e/security`."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.e2e.conftest import Api
from tests.e2e.helpers import assert_problem_shape, new_player

UNSAFE = 18446744073709551616  # 2**64: no store's integer keeps it


def balance(api: Api, player: str) -> int:
    return int(api.get(f"/players/{player}/wallet").json()["balances"].get("coins", 0))


@pytest.mark.parametrize(
    ("metadata", "field"),
    [
        ({"x": UNSAFE}, "metadata.x"),
        ({"a": {"b": [1, -(2**53)]}}, "metadata.a.b[1]"),
        ({"$where": "sleep(1000)"}, "metadata.$where"),
        ({"a.b": 1}, "metadata.a.b"),
    ],
)
def test_unsafe_metadata_on_a_credit_is_a_422_at_its_path_and_changes_nothing(
    api: Api, metadata: dict[str, Any], field: str
) -> None:
    player = new_player(api)
    answer = api.post(f"/players/{player}/wallet/credit", {"currency": "coins", "amount": 5, "metadata": metadata})
    assert answer.status_code == 422, answer.text
    assert_problem_shape(answer.json(), 422, "validation-error")
    assert answer.json()["errors"][0]["field"] == field
    assert balance(api, player) == 0


def test_unsafe_metadata_on_players_and_batches_is_refused(api: Api) -> None:
    created = api.post("/players", {"username": "x", "metadata": {"n": UNSAFE}})
    assert created.status_code == 422 and created.json()["errors"][0]["field"] == "metadata.n"
    player = new_player(api)
    patched = api.patch(f"/players/{player}", {"metadata": {"deep": {"$set": 1}}})
    assert patched.status_code == 422 and patched.json()["errors"][0]["field"] == "metadata.deep.$set"
    batch = api.post(
        "/commands",
        {
            "commands": [
                {"op": "credit", "playerId": player, "currency": "coins", "amount": 1, "metadata": {"x": UNSAFE}}
            ]
        },
    )
    assert batch.status_code == 422
    assert batch.json()["errors"][0]["field"].endswith("metadata.x")
    assert api.get(f"/players/{player}").json()["metadata"] == {}


def test_a_burst_with_poison_credits_fails_only_the_poison(api: Api) -> None:
    """Before: the poison reached the journal, its group commit failed as a whole (503), and
    every credit committed with it — any tenant's on that shard — failed too."""
    players = [new_player(api) for _ in range(12)]

    def credit(index: int) -> int:
        player = players[index % len(players)]
        metadata = {"x": UNSAFE} if index % 4 == 0 else {"n": index}
        body = {"currency": "coins", "amount": 1, "metadata": metadata}
        return api.post(
            f"/players/{player}/wallet/credit", body, headers={"Idempotency-Key": f"burst-{index}"}
        ).status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(credit, range(48)))
    assert [s for i, s in enumerate(statuses) if i % 4 == 0] == [422] * 12
    assert [s for i, s in enumerate(statuses) if i % 4] == [200] * 36
    assert sum(balance(api, p) for p in players) == 36
