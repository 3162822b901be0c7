"""Erasure against the real stores, without Ray: a shard host, a webhook worker with a failing
receiver (so deliveries stay queued and are retried after the erasure) and the privacy service
on SQLite and on MongoDB (nx-27017), with leaderboards embedded (in the SQLite file, or in a file
of their own beside MongoDB) or in Redis. Afterwards no byte of the SQLite files (after a
checkpoint), no MongoDB document and no Redis key holds the player's usernames, metadata or
free-text reasons; balances, the journal's replay and the other player's data are unchanged;
repeating it changes nothing."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import bson
import orjson
import pytest
from pymongo import MongoClient

from actors.boards.redis import RedisBoardStore
from actors.boards.sqlite import SqliteBoardStore
from actors.boards.store import BoardStore
from actors.clock import FakeClock
from actors.host import CommandRequest, ShardHost
from actors.ingress.webhook_subscriptions import WebhookSubscriptions
from actors.privacy import Erased, PlayerPrivacy, personal_data_holders
from actors.stores.base import Store
from actors.stores.mongo import MongoStore
from actors.stores.sqlite import SqliteStore
from engine import commands as c
from engine.identity import player_key
from engine.outcomes import Refusal
from engine.replay import fold
from engine.state import PlayerState
from tests.integration.test_webhook_worker import Receiver, new_worker

T, P = "acme", "space"


class Secrets:
    """Personal values unique to one run, so finding one anywhere is this test's leak."""

    def __init__(self) -> None:
        tag = uuid.uuid4().hex[:10]
        self.first_name = f"Firstname{tag}"
        self.username = f"Username{tag}"
        self.email = f"mail{tag}@example.com"
        self.note = f"note{tag}"
        self.reason = f"gift from aunt {tag}"
        self.xp_reason = f"xp for {tag}"

    def all(self) -> list[str]:
        return [self.first_name, self.username, self.email, self.note, self.reason, self.xp_reason]


def boards_beside(store: Store, tmp_path: Path) -> SqliteBoardStore:
    """The embedded leaderboards as `board_store_for` places them: in the SQLite store's file, or
    in a file of their own beside MongoDB."""
    if isinstance(store, SqliteStore):
        return SqliteBoardStore(store.path)
    return SqliteBoardStore(tmp_path / "leaderboards.sqlite3", own_file=True)


def board_file_bytes(boards: SqliteBoardStore) -> bytes:
    return b"".join(p.read_bytes() for p in (boards.path, Path(f"{boards.path}-wal")) if p.exists())


async def exported(privacy: PlayerPrivacy, player: str) -> dict[str, Any]:
    chunks = await privacy.export(T, P, player)
    assert chunks is not None
    document: dict[str, Any] = orjson.loads(b"".join([chunk async for chunk in chunks]))
    return document


def xp_entries(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [entry for entry in document["leaderboards"] if entry["boardId"] == "xp-all-time"]


@pytest.fixture(params=["sqlite", "mongo"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    opened: Store
    if request.param == "sqlite":
        opened = SqliteStore(tmp_path / "ludex.sqlite3")
    else:
        database = f"ludex_erase_{uuid.uuid4().hex[:10]}"
        opened = MongoStore(request.getfixturevalue("mongo_url"), database)
    await opened.open()
    yield opened
    await opened.close()


async def one(host: ShardHost, player: str, command: c.Command, key: str | None = None) -> dict[str, Any]:
    return (await host.execute([CommandRequest(T, P, player, command, key, "req-" + uuid.uuid4().hex[:6])]))[0]


async def play(host: ShardHost, player: str, secrets: Secrets) -> None:
    """A history that puts the secrets everywhere: keyed answers, both usernames, entry metadata."""
    created = await one(host, player, c.CreatePlayer(secrets.first_name, {"email": secrets.email}), key="k-create")
    assert created.ok, created
    assert (await one(host, player, c.UpdatePlayer(username=secrets.username), key="k-rename")).ok
    credit = c.Credit("coins", 500, secrets.reason, {"note": secrets.note})
    assert (await one(host, player, credit, key="k-credit")).ok
    assert (await one(host, player, c.Debit("coins", 20, secrets.reason, {"note": secrets.note}))).ok
    assert (await one(host, player, c.AwardXp(300, secrets.xp_reason))).ok
    assert (await one(host, player, c.Purchase("potion-pack"), key="k-buy")).ok
    assert not (await one(host, player, c.Debit("coins", 10**9, secrets.reason), key="k-refused")).ok


def sqlite_bytes(store: SqliteStore) -> bytes:
    files = [store.path, Path(f"{store.path}-wal"), Path(f"{store.path}-shm")]
    return b"".join(path.read_bytes() for path in files if path.exists())


def mongo_bytes(store: MongoStore) -> bytes:
    client: MongoClient[dict[str, Any]] = MongoClient(store.url)
    try:
        db = client[store.database]
        return b"".join(bson.encode(document) for name in db.list_collection_names() for document in db[name].find({}))
    finally:
        client.close()


async def stored_bytes(store: Store) -> bytes:
    assert await store.forget_erased()
    if isinstance(store, SqliteStore):
        return sqlite_bytes(store)
    assert isinstance(store, MongoStore)
    return mongo_bytes(store)


async def test_an_erased_player_leaves_no_personal_data_in_any_store(
    store: Store, tmp_path: Path, demo_economy_document: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    boards = boards_beside(store, tmp_path)
    host = ShardHost(store, snapshot_every=2, boards=boards)
    await host.start(sweep=False)
    assert (await host.define_economy(T, P, demo_economy_document)).ok
    clock = FakeClock()
    receiver = await Receiver(default=500).start()  # deliveries fail and wait for their retry
    worker = new_worker(store, clock)
    try:
        await WebhookSubscriptions(store, clock, allow_private=True).create(T, P, receiver.url, ["*"])
        await worker.open()
        victim, bystander = Secrets(), Secrets()
        await play(host, "victim", victim)
        await play(host, "bystander", bystander)
        await worker.run_once()
        assert receiver.requests, "the deliveries were attempted"
        found = await stored_bytes(store) + board_file_bytes(boards)
        assert all(secret.encode() in found for secret in victim.all()), "the test must see the data first"
        wallet = await host.view(T, P, "victim", "wallet")
        bystander_journal = await store.read_journal(player_key(T, P, "bystander"))

        privacy = PlayerPrivacy(store, holders=personal_data_holders(boards))
        before = await exported(privacy, "victim")
        # Both reached the same XP; the victim reached it first and ranks first.
        assert [(e["score"], e["rank"]) for e in xp_entries(before)] == [(before["profile"]["xp"], 1)]
        erasing = asyncio.create_task(privacy.erase(host, T, P, "victim", "req-erase"))
        while not erasing.done():  # the erasure waits for the worker to take in the player's last event
            await worker.tick()
            await asyncio.sleep(0.05)
        erased = erasing.result()
        assert isinstance(erased, Erased) and not erased.repeated
        assert "webhook worker is behind" not in caplog.text, "the erasure saw the worker catch up"
        await worker.drain()

        clock.advance(3600)  # the queued deliveries are retried with the rewritten body
        receiver.requests.clear()
        await worker.run_once()
        assert receiver.requests, "the retry happened"
        sent = b"".join(body for _, body in receiver.requests)
        found = await stored_bytes(store) + board_file_bytes(boards)
        for secret in victim.all():
            assert secret.encode() not in found, f"{secret!r} is still stored"
            assert secret.encode() not in sent, f"{secret!r} was sent after the erasure"
        for secret in bystander.all()[1:]:  # the bystander's first name was replaced by its rename
            assert secret.encode() in found, "another player's data must stay"
        assert await store.read_journal(player_key(T, P, "bystander")) == bystander_journal

        # Balances, counts and the journal's replay are unchanged; the player is gone for the game API.
        records = await store.read_journal(player_key(T, P, "victim"))
        replayed = fold(PlayerState(player_id="victim"), records)
        assert dict(replayed.balances) == wallet.body["balances"]
        assert replayed.deleted and replayed.username == "" and not replayed.metadata
        assert all(r.idempotency_key is None for r in records), "keyed answers held the username"
        retries = [  # the very requests that were answered before: now nothing is remembered to replay
            (c.Credit("coins", 500, victim.reason, {"note": victim.note}), "k-credit"),
            (c.UpdatePlayer(username=victim.username), "k-rename"),
        ]
        for command, key in retries:
            outcome = await one(host, "victim", command, key=key)
            assert outcome.refusal.slug == "player-not-found", outcome
        assert (await host.view(T, P, "victim", "profile")).refusal.slug == "player-not-found"

        again = await privacy.erase(host, T, P, "victim", "req-again")
        assert isinstance(again, Erased) and again.repeated and again.erased_at == erased.erased_at
        assert await store.read_journal(player_key(T, P, "victim")) == records, "repeating changes nothing"

        after = await exported(privacy, "victim")
        assert after["leaderboards"] == [], "an erased player is on no board"
        assert all(secret.encode() not in orjson.dumps(after) for secret in victim.all())
        assert [e["rank"] for e in xp_entries(await exported(privacy, "bystander"))] == [1]
        nobody = await privacy.erase(host, T, P, "nobody", None)
        assert isinstance(nobody, Refusal) and nobody.slug == "player-not-found"
    finally:
        await worker.close()
        await receiver.stop()
        await host.stop()


async def test_redis_keeps_no_personal_data_of_an_erased_player(
    tmp_path: Path, redis_url: str, demo_economy_document: dict[str, Any]
) -> None:
    """Redis holds rate-limit, socket-count and usage keys, the leaderboards (the usernames they
    show) and carries pub/sub wake-ups: after an erasure no key name or value there holds the
    player's personal data."""
    import redis

    from actors.event_publisher import RedisEventPublisher

    store = SqliteStore(tmp_path / "ludex.sqlite3")
    boards: BoardStore = RedisBoardStore(redis_url, shards=3)
    host = ShardHost(store, publisher=RedisEventPublisher(redis_url), boards=boards)
    await host.start(sweep=False)
    try:
        assert (await host.define_economy(T, P, demo_economy_document)).ok
        victim = Secrets()
        await play(host, "victim", victim)
        privacy = PlayerPrivacy(store, holders=personal_data_holders(boards))
        assert xp_entries(await exported(privacy, "victim"))[0]["rank"] == 1
        client = redis.Redis.from_url(redis_url)
        try:
            assert victim.username.encode() in b"".join(client.hvals(f"ludex:lb:names:{{{T}/{P}}}"))
        finally:
            client.close()
        assert isinstance(await privacy.erase(host, T, P, "victim", None), Erased)
        assert (await exported(privacy, "victim"))["leaderboards"] == []
    finally:
        await host.stop()
    client = redis.Redis.from_url(redis_url)
    try:
        held = b"".join(key + (client.dump(key) or b"") for key in client.scan_iter(count=1000))
    finally:
        client.close()
    assert all(secret.encode() not in held for secret in victim.all())
