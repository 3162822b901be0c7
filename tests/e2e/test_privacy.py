"""Player privacy and audit replay over HTTP: the export, the journal and the state at any seq,
and the erasure — after which no byte of the server's SQLite files (checkpointed) holds the
player's usernames, metadata or free-text reasons, the game API answers 404, balances stay and
the erasure is audited and idempotent. Roles and other tenants get nothing."""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import bson
import httpx
import pytest
from pymongo import MongoClient

from engine.rbac import Membership
from serve.launcher import Launched
from tests.e2e.conftest import Api
from tests.e2e.helpers import assert_problem, login, unique
from tests.e2e.test_cli import start, stop, wait_ready
from tests.support.services import free_port

PASSWORD = "correct-horse-battery-staple"


PLAYERS = "/v1/client/projects/demo/players"


@pytest.fixture(scope="module")
def clients(ludex: Launched, accounts: Any, control_plane: Any) -> dict[str, httpx.Client]:
    """Signed-in dashboard users of tenant `demo` by role, and an owner of another tenant."""
    other = f"other-{uuid.uuid4().hex[:6]}"
    control_plane.ensure_tenant(other, "Other")
    roles = {
        "owner": (Membership("demo", "owner"),),
        "developer": (Membership("demo", "developer"),),
        "support": (),
        "analyst": (Membership("demo", "analyst"),),
        "outsider": (Membership(other, "owner"),),
    }
    made: dict[str, httpx.Client] = {}
    for role, memberships in roles.items():
        email = f"privacy-{role}-{uuid.uuid4().hex[:6]}@example.com"
        accounts.create_user(email, PASSWORD, "support" if role == "support" else None, memberships)
        made[role] = login(ludex.base_url, email, PASSWORD, "demo")
    return made


class Person:
    def __init__(self) -> None:
        tag = uuid.uuid4().hex[:10]
        self.player_id = unique("pl")
        self.first_name = f"Firstname{tag}"
        self.username = f"Username{tag}"
        self.email = f"mail{tag}@example.com"
        self.note = f"note{tag}"
        self.reason = f"birthday gift {tag}"

    def secrets(self) -> list[str]:
        return [self.first_name, self.username, self.email, self.note, self.reason]


def play(api: Api, person: Person, observe: Callable[[], None] | None = None) -> list[httpx.Response]:
    """A history with the personal data everywhere; answers each command's response, calling
    `observe` after each."""
    pid = person.player_id
    credit = {"currency": "coins", "amount": 500, "reason": person.reason, "metadata": {"note": person.note}}
    body = {"playerId": pid, "username": person.first_name, "metadata": {"email": person.email}}
    calls: list[Callable[[], httpx.Response]] = [
        lambda: api.post("/players", body, headers={"Idempotency-Key": f"create-{pid}"}),
        lambda: api.patch(f"/players/{pid}", {"username": person.username}),
        lambda: api.post(f"/players/{pid}/wallet/credit", credit, headers={"Idempotency-Key": f"credit-{pid}"}),
        lambda: api.post(f"/players/{pid}/xp", {"amount": 300, "reason": person.reason}),
        lambda: api.post(f"/players/{pid}/purchases", {"sku": "potion-pack"}),
    ]
    responses = []
    for call in calls:
        response = call()
        assert response.status_code in (200, 201), response.text
        responses.append(response)
        if observe is not None:
            observe()
    return responses


def test_the_journal_names_each_command_and_the_state_at_every_seq_is_the_profile_then(
    api: Api, admin: httpx.Client
) -> None:
    person = Person()
    pid = person.player_id
    profiles: list[dict[str, Any]] = []

    def observe() -> None:
        profile = api.get(f"/players/{pid}")
        assert profile.status_code == 200, profile.text
        profiles.append(profile.json())

    responses = play(api, person, observe)
    records: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = admin.get(f"{PLAYERS}/{pid}/journal", params={"limit": 2, **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200, page.text
        records += page.json()["items"]
        cursor = page.json()["nextCursor"]
        if cursor is None:
            break
    assert [r["seq"] for r in records] == list(range(1, len(responses) + 1))
    assert [r["command"]["op"] for r in records] == ["create", "update", "credit", "xp", "purchase"]
    assert records[0]["idempotencyKey"] == f"create-{pid}" and records[1]["idempotencyKey"] is None
    for record, response in zip(records, responses, strict=True):
        assert record["requestId"] == response.headers["x-request-id"]
    assert records[2]["command"] == {
        "op": "credit",
        "currency": "coins",
        "amount": 500,
        "reason": person.reason,
        "metadata": {"note": person.note},
    }
    assert records[2]["events"][0]["id"] == responses[2].json()["entryId"]
    for seq, profile in enumerate(profiles, start=1):
        state = admin.get(f"{PLAYERS}/{pid}/state", params={"seq": seq})
        assert state.status_code == 200, state.text
        view = state.json()
        assert view.pop("seq") == seq and view.pop("economyVersion") >= 1 and view.pop("deleted") is False
        assert view.pop("occurredAt") == records[seq - 1]["occurredAt"]
        assert view == profile, f"seq {seq}"
    assert_problem(admin.get(f"{PLAYERS}/{pid}/state", params={"seq": 99}), 404, "not-found")
    assert_problem(admin.get(f"{PLAYERS}/{pid}/journal", params={"cursor": "bm90LWEtY3Vyc29y"}), 422, "invalid-cursor")
    assert_problem(admin.get(f"{PLAYERS}/nobody-{pid}/journal"), 404, "player-not-found")


def test_the_export_is_one_json_document_of_everything_kept(api: Api, clients: dict[str, httpx.Client]) -> None:
    person = Person()
    pid = person.player_id
    play(api, person)
    response = clients["support"].get(f"{PLAYERS}/{pid}/export")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    exported = response.json()
    profile = api.get(f"/players/{pid}").json()
    assert exported["playerId"] == pid and exported["profile"]["username"] == person.username
    assert exported["profile"]["metadata"] == {"email": person.email}
    assert exported["wallet"] == profile["wallet"] and exported["inventory"] == profile["inventory"]
    assert exported["quests"] == profile["quests"] and exported["counters"] == profile["counters"]
    assert exported["achievements"] == profile["achievements"]
    # Its XP puts it on the all-time XP board (other tests share the project: any rank).
    xp_board = [e for e in exported["leaderboards"] if e["boardId"] == "xp-all-time"]
    assert [(e["periodId"], e["score"]) for e in xp_board] == [("all", exported["profile"]["xp"])]
    assert xp_board[0]["rank"] >= 1
    coins = sum(e["delta"] for e in exported["ledger"] if e["currency"] == "coins")
    assert coins == profile["wallet"]["coins"]
    assert [p["sku"] for p in exported["purchases"]] == ["potion-pack"]
    assert {e["type"] for e in exported["events"]} >= {"player.created", "wallet.credited", "store.purchase.succeeded"}
    assert all(e["playerId"] == pid for e in exported["events"])
    assert exported["seq"] == 5 and exported["erasedAt"] is None
    assert_problem(clients["support"].get(f"{PLAYERS}/nobody-{pid}/export"), 404, "player-not-found")


def checkpointed_bytes(path: Path) -> bytes:
    """Every byte of the SQLite files once the WAL is copied back and truncated."""
    conn = sqlite3.connect(path, timeout=30)
    try:
        for _ in range(200):
            if conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] == 0:
                break
            time.sleep(0.05)
    finally:
        conn.close()
    files = [path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")]
    return b"".join(p.read_bytes() for p in files if p.exists())


def test_an_erased_player_leaves_no_byte_in_sqlite_and_the_game_api_answers_404(
    ludex: Launched, api: Api, admin: httpx.Client, clients: dict[str, httpx.Client]
) -> None:
    person, bystander = Person(), Person()
    pid = person.player_id
    play(api, person)
    play(api, bystander)
    wallet = api.get(f"/players/{pid}/wallet").json()
    path = ludex.settings.sqlite_path
    before = checkpointed_bytes(path)
    assert all(s.encode() in before for s in person.secrets()), "the test must see the data first"

    for role in ("developer", "support", "analyst", "outsider"):
        assert_problem(clients[role].post(f"{PLAYERS}/{pid}/erase"), 403, "forbidden")
    erased = clients["owner"].post(f"{PLAYERS}/{pid}/erase")
    assert erased.status_code == 200, erased.text
    assert erased.json()["repeated"] is False and erased.json()["playerId"] == pid

    after = checkpointed_bytes(path)
    for secret in person.secrets():
        assert secret.encode() not in after, f"{secret!r} is still in the SQLite files"
    for secret in bystander.secrets()[1:]:
        assert secret.encode() in after, "another player's data must stay"

    assert_problem(api.get(f"/players/{pid}"), 404, "player-not-found")
    assert_problem(api.post(f"/players/{pid}/xp", {"amount": 1}), 404, "player-not-found")
    retried = api.post(
        f"/players/{pid}/wallet/credit",
        {"currency": "coins", "amount": 500, "reason": person.reason, "metadata": {"note": person.note}},
        headers={"Idempotency-Key": f"credit-{pid}"},
    )
    assert_problem(retried, 404, "player-not-found")  # no remembered answer replays the old body
    assert api.get("/players", params={"username": person.username}).json()["items"] == []
    events = api.get("/events", params={"playerId": pid})
    if events.status_code == 200:  # the demo key may lack events:read
        assert all(s not in events.text for s in person.secrets())

    exported = admin.get(f"{PLAYERS}/{pid}/export")
    assert exported.status_code == 200, exported.text
    assert exported.json()["wallet"] == wallet["balances"], "balances survive the erasure"
    assert exported.json()["deleted"] is True and exported.json()["erasedAt"] == erased.json()["erasedAt"]
    assert all(s not in exported.text for s in person.secrets())
    journal = admin.get(f"{PLAYERS}/{pid}/journal", params={"limit": 200})
    assert all(s not in journal.text for s in person.secrets())
    last = journal.json()["items"][-1]
    assert last["events"][0]["type"] == "player.deleted" and last["seq"] == erased.json()["seq"]
    state = admin.get(f"{PLAYERS}/{pid}/state", params={"seq": last["seq"] - 1})
    assert state.status_code == 200 and state.json()["wallet"] == wallet["balances"]

    again = clients["owner"].post(f"{PLAYERS}/{pid}/erase")
    assert again.status_code == 200, again.text
    assert again.json()["repeated"] is True and again.json()["erasedAt"] == erased.json()["erasedAt"]
    audit = admin.get("/v1/admin/audit", params={"tenantId": "demo", "action": "player.erase", "limit": 200})
    assert audit.status_code == 200, audit.text
    mine = [e for e in audit.json()["items"] if e["target"] == f"demo/{pid}"]
    assert len(mine) == 2 and all(s not in audit.text for s in person.secrets())
    assert_problem(clients["owner"].post(f"{PLAYERS}/nobody-{pid}/erase"), 404, "player-not-found")


def test_another_tenants_user_and_a_reader_without_the_role_get_nothing(
    api: Api, clients: dict[str, httpx.Client]
) -> None:
    person = Person()
    play(api, person)
    pid = person.player_id
    for path in ("export", "journal", "state?seq=1"):
        for role in ("analyst", "outsider"):
            response = clients[role].get(f"{PLAYERS}/{pid}/{path}")
            assert_problem(response, 403, "forbidden")
            assert person.username not in response.text
        assert clients["developer"].get(f"{PLAYERS}/{pid}/{path}").status_code == 200


def mongo_bytes(url: str, database: str) -> bytes:
    """Every document of every collection, as BSON."""
    client: MongoClient[dict[str, Any]] = MongoClient(url)
    try:
        db = client[database]
        return b"".join(bson.encode(d) for name in db.list_collection_names() for d in db[name].find({}))
    finally:
        client.close()


def test_on_mongodb_an_erased_player_leaves_no_document_holding_its_data(
    tmp_path: Path, mongo_url: str, mongo_database: str
) -> None:
    data_dir, port = tmp_path / "data", free_port()
    base_url = f"http://127.0.0.1:{port}"
    process = start(data_dir, port, LUDEX_MONGO_URL=mongo_url, LUDEX_MONGO_DATABASE=mongo_database)
    try:
        wait_ready(base_url, process)
        creds = json.loads((data_dir / "demo-credentials.json").read_text())
        api = Api(base_url, "demo", "demo", creds["apiKey"])
        person, bystander = Person(), Person()
        play(api, person)
        play(api, bystander)
        before = mongo_bytes(mongo_url, mongo_database)
        assert all(s.encode() in before for s in person.secrets()), "the test must see the data first"
        with login(base_url, creds["adminEmail"], creds["adminPassword"], "demo") as admin:
            erased = admin.post(f"{PLAYERS}/{person.player_id}/erase")
            assert erased.status_code == 200, erased.text
        after = mongo_bytes(mongo_url, mongo_database)
        for secret in person.secrets():
            assert secret.encode() not in after, f"{secret!r} is still in a MongoDB document"
        assert all(s.encode() in after for s in bystander.secrets()[1:]), "another player's data must stay"
        assert_problem(api.get(f"/players/{person.player_id}"), 404, "player-not-found")
    finally:
        _, alive = stop(process)
    assert alive == []
