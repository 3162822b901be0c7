"""Finding 7 (its `x-request-id` part): a client-chosen request id is kept only when it is at most
128 characters of a safe set; anything else is replaced by a server-made id, the same one the
answer, its problem body and the journal carry (docs/SECURITY.md, "Second pass (2026-12)")."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from serve.launcher import Launched
from tests.e2e.conftest import Api
from tests.e2e.helpers import assert_problem, new_player

SERVER_MADE = re.compile(r"[0-9a-f]{32}")


def journal_request_ids(admin: httpx.Client, player: str) -> list[Any]:
    response = admin.get(f"/v1/client/projects/demo/players/{player}/journal", params={"limit": 200})
    assert response.status_code == 200, response.text
    return [entry["requestId"] for entry in response.json()["items"]]


@pytest.mark.parametrize(
    "sent",
    [
        "x" * 8_000,  # HAProxy itself answers 400 to a request whose headers pass its 16 KiB buffer
        "a" * 129,  # one past the bound
        "has space",
        'quote"<script>',
        "ünïcode-id",
    ],
    ids=["8KB", "129", "space", "markup", "non-ascii"],
)
def test_a_long_or_odd_request_id_is_replaced_by_a_server_made_one(api: Api, admin: httpx.Client, sent: str) -> None:
    player = new_player(api)
    header = {"x-request-id": sent.encode()}  # bytes: sent as they are
    answer = api.post(f"/players/{player}/xp", {"amount": 5}, headers=header)
    assert answer.status_code == 200, answer.text
    echoed = answer.headers["x-request-id"]
    assert echoed != sent and SERVER_MADE.fullmatch(echoed), echoed
    assert journal_request_ids(admin, player)[-1] == echoed
    refused = api.post(f"/players/{player}/xp", {"amount": -1}, headers=header)
    body = assert_problem(refused, 422, "validation-error")
    assert SERVER_MADE.fullmatch(body["requestId"]), body["requestId"]


def test_a_request_id_of_128_safe_characters_is_kept_everywhere(api: Api, admin: httpx.Client) -> None:
    sent = "req_" + "A1b2-._:" * 15 + "zzzz"
    assert len(sent) == 128
    player = new_player(api)
    answer = api.post(f"/players/{player}/xp", {"amount": 5}, headers={"x-request-id": sent})
    assert answer.status_code == 200, answer.text
    assert answer.headers["x-request-id"] == sent
    assert journal_request_ids(admin, player)[-1] == sent


def test_a_batch_with_a_huge_request_id_journals_only_the_bounded_one(
    ludex: Launched, api: Api, admin: httpx.Client
) -> None:
    player = new_player(api)
    commands = [{"op": "xp", "playerId": player, "amount": 1} for _ in range(50)]
    answer = api.post("/commands", {"commands": commands}, headers={"x-request-id": "y" * 8_000})
    assert answer.status_code == 200, answer.text
    ids = journal_request_ids(admin, player)
    assert len(ids) >= 50 and all(isinstance(i, str) and len(i) <= 128 for i in ids), {len(str(i)) for i in ids}
