"""Concurrent HTTP calls through Ray Serve: every credit counted, no overdraft, and one effect
for many concurrent copies of a keyed call. (The rest of the wallet and idempotency behaviour is
tested at the route seam, `tests/routes/`.)"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from tests.e2e.conftest import Api
from tests.e2e.helpers import balances, credit, unique

REPLAYED = "idempotent-replayed"


def concurrently(
    api: Api, path: str, bodies: list[dict[str, Any]], headers: dict[str, str] | None = None
) -> list[httpx.Response]:
    base_url, common = str(api.client.base_url), dict(api.client.headers)
    barrier = threading.Barrier(len(bodies))

    def send(body: dict[str, Any]) -> httpx.Response:
        with httpx.Client(base_url=base_url, headers=common, timeout=60) as client:
            barrier.wait(timeout=30)
            return client.post(path, json=body, headers=headers)

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(send, bodies))


def history(api: Api, player: str) -> list[dict[str, Any]]:
    response = api.get(f"/players/{player}/wallet/history", params={"limit": 100})
    assert response.status_code == 200, response.text
    assert response.json()["nextCursor"] is None
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_concurrent_credits_are_all_counted(api: Api, player: str) -> None:
    responses = concurrently(api, f"/players/{player}/wallet/credit", [{"currency": "coins", "amount": 1}] * 32)
    assert [r.status_code for r in responses] == [200] * 32
    assert balances(api, player) == {"coins": 32}
    assert sorted(e["balanceAfter"] for e in history(api, player)) == list(range(1, 33))


def test_concurrent_debits_never_overdraw(api: Api, player: str) -> None:
    credit(api, player, "coins", 100)
    responses = concurrently(api, f"/players/{player}/wallet/debit", [{"currency": "coins", "amount": 10}] * 16)
    assert sorted(r.status_code for r in responses) == [200] * 10 + [409] * 6
    assert balances(api, player) == {"coins": 0}


def test_sixty_four_concurrent_copies_of_one_keyed_credit_have_one_effect(api: Api, player: str) -> None:
    copies = 64
    body = {"currency": "coins", "amount": 7}
    key = unique("k")
    responses = concurrently(api, f"/players/{player}/wallet/credit", [body] * copies, {"Idempotency-Key": key})
    assert [r.status_code for r in responses] == [200] * copies, {r.status_code: r.text for r in responses}
    assert len({r.text for r in responses}) == 1
    originals = [r for r in responses if r.headers.get(REPLAYED) != "true"]
    assert len(originals) == 1
    assert all(r.headers[REPLAYED] == "true" for r in responses if r is not originals[0])
    assert balances(api, player) == {"coins": 7}
    assert len(history(api, player)) == 1
