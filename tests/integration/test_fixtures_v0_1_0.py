"""Data written by Ludex 0.1.0 (tests/fixtures/v0.1.0, made by make_v0_1_0.py) opened with today's
code, on both stores: migrated at open, and every player, balance, ledger entry, inventory, quest,
achievement, purchase, key, user, webhook, delivery and idempotency key is where 0.1.0 left it,
and usable (a replayed key gives its original answer; new commands, logins and deliveries work)."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from standardwebhooks import Webhook

from actors.clock import FakeClock
from actors.host import CommandRequest, ShardHost
from actors.ingress.accounts import AccountService
from actors.ingress.control_plane import ControlPlane
from actors.ingress.webhook_subscriptions import WebhookSubscriptions
from actors.secret_box import SecretBox
from actors.stores.base import PlayerSearch, Store
from actors.stores.migrations import LATEST_SCHEMA, mongo_version, sqlite_version
from actors.stores.mongo import MongoStore
from actors.stores.sqlite import SqliteStore
from actors.webhook_delivery import WebhookWorker
from actors.webhook_records import DELIVERIES
from engine.commands import Credit, command_from_dict
from engine.errors import IdempotencyKeyReusedError
from engine.outcomes import Outcome
from tests.integration.test_webhook_worker import Receiver
from tests.support.mongo_dump import restore_dump

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "v0.1.0"
StoreFactory = Callable[[], Store]


def manifest(kind: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((FIXTURES / kind / "manifest.json").read_text())
    return document


def copy_sqlite_fixture(target: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(FIXTURES / "sqlite" / "ludex.sqlite3", target / "ludex.sqlite3")
    return target / "ludex.sqlite3"


@pytest.fixture(params=["sqlite", pytest.param("mongo", marks=pytest.mark.mongo)])
def old_data(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, StoreFactory]:
    """A fresh copy of the v0.1.0 data of one store, and how to open a store on it."""
    if request.param == "sqlite":
        path = copy_sqlite_fixture(tmp_path)
        return "sqlite", lambda: SqliteStore(path)
    url, database = request.getfixturevalue("mongo_url"), request.getfixturevalue("mongo_database")
    restore_dump(FIXTURES / "mongo", url, database)
    return "mongo", lambda: MongoStore(url, database)


@pytest.fixture
def clock() -> FakeClock:
    """A day after the fixtures were written: within the idempotency retention (7 days)."""
    return FakeClock(datetime.fromisoformat(manifest("sqlite")["clock"]) + timedelta(days=1))


@dataclass(frozen=True)
class Upgraded:
    """The old data opened with today's code, and what 0.1.0 recorded about it."""

    store: Store
    host: ShardHost
    expected: dict[str, Any]

    @property
    def tenant(self) -> str:
        return str(self.expected["tenant"])

    @property
    def project(self) -> str:
        return str(self.expected["project"])


@pytest.fixture
async def upgraded(old_data: tuple[str, StoreFactory], clock: FakeClock) -> AsyncIterator[Upgraded]:
    kind, open_store = old_data
    store = open_store()
    await store.open()  # migrates
    host = ShardHost(open_store(), clock=clock)
    await host.start(sweep=False)
    yield Upgraded(store, host, manifest(kind))
    await host.stop()
    await store.close()


async def schema_version(store: Store) -> int | None:
    if isinstance(store, SqliteStore):
        return await store._run(sqlite_version)
    assert isinstance(store, MongoStore)
    return await mongo_version(store._database())


async def test_the_store_is_migrated_to_the_latest_schema_and_keeps_every_record(upgraded: Upgraded) -> None:
    store, expected = upgraded.store, upgraded.expected
    assert await schema_version(store) == LATEST_SCHEMA
    records = await store.scan_journal("", since=None, until=None, after=None, limit=100_000)
    assert len(records) == expected["journalRecords"]
    assert {r.format_version for r in records} == {1}, "0.1.0's records read as format 1"
    assert all(r.command is None and r.request_id is None for r in records)


async def test_players_wallets_ledgers_inventories_quests_achievements_and_purchases_are_intact(
    upgraded: Upgraded,
) -> None:
    store, host, expected = upgraded.store, upgraded.host, upgraded.expected
    tenant, project = upgraded.tenant, upgraded.project
    for player, old in expected["players"].items():
        for name, answer in old["views"].items():
            expected_view = Outcome.from_stored(answer)
            if name == "profile" and expected_view.body is not None:  # gained since 0.1.0, empty here
                expected_view = replace(expected_view, body={**expected_view.body, "boosts": []})
            assert await host.view(tenant, project, player, name) == expected_view, (player, name)
        ledger = await host.ledger(tenant, project, player, currency=None, after=(0, 0), limit=1000)
        assert ledger == old["ledger"], player
    for purchase in expected["purchases"]:
        receipt = await host.receipt(tenant, project, purchase["playerId"], purchase["purchaseId"])
        assert receipt == purchase["receipt"]
    assert [row.player_id for row in await store.list_players(tenant, project, limit=100)] == expected["listed"]
    assert await host.economy_version(tenant, project) == 2
    assert await host.economy_document(tenant, project) == expected["economy"]


async def test_the_player_index_gets_each_players_level_and_xp_from_its_journal(upgraded: Upgraded) -> None:
    """Schema 8 sorts players by level and XP: the index of an older store is filled from the
    journal, so each row agrees with the player's profile (and the index sorts by it at once)."""
    store, host = upgraded.store, upgraded.host
    tenant, project = upgraded.tenant, upgraded.project
    rows = await store.list_players(tenant, project, limit=100)
    profiles = {r.player_id: (await host.view(tenant, project, r.player_id, "profile")).body for r in rows}
    assert any(p["xp"] for p in profiles.values()), "the fixture has players with XP"
    assert {r.player_id: (r.level, r.xp) for r in rows} == {k: (p["level"], p["xp"]) for k, p in profiles.items()}
    by_xp = await store.list_players(tenant, project, limit=100, search=PlayerSearch(sort="xp", descending=True))
    assert [r.xp for r in by_xp] == sorted((p["xp"] for p in profiles.values()), reverse=True)


async def test_old_idempotency_keys_replay_their_original_answers_and_refuse_another_request(
    upgraded: Upgraded,
) -> None:
    host, expected, tenant, project = upgraded.host, upgraded.expected, upgraded.tenant, upgraded.project
    for keyed in expected["keyed"]:
        command = command_from_dict(keyed["command"])
        [again] = await host.execute([CommandRequest(tenant, project, keyed["playerId"], command, keyed["key"])])
        assert again.replayed is True, keyed["key"]
        assert again.to_stored() == keyed["answer"], keyed["key"]
    [reused] = await host.execute([CommandRequest(tenant, project, "alice", Credit("coins", 999), "credit-1")])
    assert not reused.ok and reused.refusal.slug == IdempotencyKeyReusedError.slug
    alice = expected["players"]["alice"]["views"]["wallet"]["body"]["balances"]["coins"]
    assert (await host.view(tenant, project, "alice", "wallet")).body["balances"]["coins"] == alice, "no effect"


async def test_new_commands_append_format_2_records_after_the_old_ones(upgraded: Upgraded) -> None:
    store, host, expected = upgraded.store, upgraded.host, upgraded.expected
    tenant, project = upgraded.tenant, upgraded.project
    before = expected["players"]["carol"]["views"]["wallet"]["body"]["balances"]["coins"]
    request = CommandRequest(tenant, project, "carol", Credit("coins", 25, reason="after upgrade"), "up-1", "req-up")
    [credited] = await host.execute([request])
    assert credited.ok and credited.body["balance"] == before + 25
    records = await store.read_journal(f"player:{tenant}/{project}/carol")
    assert [r.format_version for r in records] == [1] * (len(records) - 1) + [2]
    assert records[-1].command == {"op": "credit", "currency": "coins", "amount": 25, "reason": "after upgrade",
                                   "metadata": {}}  # fmt: skip
    assert records[-1].request_id == "req-up"
    ledger = await host.ledger(tenant, project, "carol", currency="coins", after=(0, 0), limit=1000)
    assert sum(entry["delta"] for entry in ledger) == before + 25 == ledger[-1]["balanceAfter"]


async def test_api_keys_users_and_webhooks_survive_and_still_work(
    upgraded: Upgraded, old_data: tuple[str, StoreFactory], clock: FakeClock
) -> None:
    store, expected = upgraded.store, upgraded.expected
    control = ControlPlane(store, clock)
    live = await control.authenticate(expected["apiKeys"]["live"]["key"])
    assert live is not None and live.id == expected["apiKeys"]["live"]["id"]
    assert await control.authenticate(expected["apiKeys"]["revoked"]["key"]) is None
    accounts = AccountService(store, box=SecretBox(Fernet.generate_key()))  # 0.1.0 kept the key in the clear
    tokens = await accounts.login(expected["admin"]["email"], expected["admin"]["password"])
    assert (await accounts.verify_access_token(tokens["accessToken"])).user_id == expected["admin"]["id"]

    deliveries = sorted((d["id"], d["status"]) for d in await store.list_documents(DELIVERIES, limit=1000))
    assert deliveries == [tuple(pair) for pair in expected["deliveries"]]
    [(failed_id, _)] = [pair for pair in deliveries if pair[1] == "failed"]
    # The receiver of 2026 is gone: point the subscription at a new one, and the worker of today
    # delivers the delivery 0.1.0 left failing, signed with the secret 0.1.0 made.
    receiver = await Receiver().start()
    try:
        subscriptions = WebhookSubscriptions(store, clock, allow_private=True)
        webhook = expected["webhook"]
        await subscriptions.update(upgraded.tenant, upgraded.project, webhook["id"], {"url": receiver.url})
        worker = WebhookWorker(old_data[1](), clock, schedule=(60.0,), allow_private=True)
        await worker.open()
        try:
            await worker.run_once()
        finally:
            await worker.close()
    finally:
        await receiver.stop()
    [(headers, body)] = receiver.requests
    assert headers["webhook-id"] == failed_id.split(":", 1)[1]
    signature = Webhook(webhook["secret"]).sign(headers["webhook-id"], _at(headers), body.decode())
    assert headers["webhook-signature"] == signature
    [delivery] = [d for d in await store.list_documents(DELIVERIES, limit=1000) if d["id"] == failed_id]
    assert delivery["status"] == "delivered"


def _at(headers: dict[str, str]) -> datetime:
    from datetime import UTC

    return datetime.fromtimestamp(int(headers["webhook-timestamp"]), UTC)


async def test_the_fixture_stores_are_unversioned_as_0_1_0_left_them() -> None:
    """Guards the fixtures themselves: a test run must never have migrated the committed files."""
    import sqlite3

    conn = sqlite3.connect(f"file:{FIXTURES / 'sqlite' / 'ludex.sqlite3'}?mode=ro", uri=True)
    try:
        assert sqlite_version(conn) == 0
    finally:
        conn.close()
    assert not (FIXTURES / "mongo" / "ludex_meta.json").exists()
    await asyncio.sleep(0)


def test_ludex_serve_migrates_0_1_0_data_at_start_and_serves_it_over_http(tmp_path: Path) -> None:
    from tests.e2e.test_cli import start, stop, wait_ready
    from tests.support.services import free_port

    expected = manifest("sqlite")
    data_dir = copy_sqlite_fixture(tmp_path / "data").parent
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    # The fixture's keys were recorded on 2026-11-30: a long retention keeps them replayable.
    server = start(data_dir, port, LUDEX_IDEMPOTENCY_RETENTION_S=str(100 * 365 * 86400))
    try:
        wait_ready(base_url, server)
        headers = {"x-tenant-id": expected["tenant"], "x-api-key": expected["apiKeys"]["live"]["key"]}
        players = f"{base_url}/v1/projects/{expected['project']}/players"
        for player, old in expected["players"].items():
            wallet = httpx.get(f"{players}/{player}/wallet", headers=headers, timeout=30)
            if old["views"]["wallet"]["ok"]:
                assert wallet.json() == old["views"]["wallet"]["body"], player
            else:
                assert wallet.status_code == 404, player  # deleted in 0.1.0, still gone
        keyed = next(k for k in expected["keyed"] if k["key"] == "credit-1")
        body = {k: v for k, v in keyed["command"].items() if k != "op"}
        replay = httpx.post(
            f"{players}/alice/wallet/credit", json=body, headers={**headers, "Idempotency-Key": "credit-1"}, timeout=30
        )
        assert replay.status_code == 200 and replay.headers["Idempotent-Replayed"] == "true"
        assert replay.json() == keyed["answer"]["body"]
        revoked = {**headers, "x-api-key": expected["apiKeys"]["revoked"]["key"]}
        assert httpx.get(f"{players}/alice/wallet", headers=revoked, timeout=30).status_code == 401
    finally:
        output, alive = stop(server)
    assert "stamped schema version 1" in output and f"schema version {LATEST_SCHEMA}" in output, output
    assert alive == []
