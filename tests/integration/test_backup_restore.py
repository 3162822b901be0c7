"""`ludex backup` while a shard host commits keyed credits, `ludex restore` into a new directory:
every credit acknowledged before the backup started is there exactly once, every balance equals
its ledger, and `ludex serve` on the restored directory serves it (keys replay over HTTP)."""

from __future__ import annotations

import asyncio
import json
import random
import sqlite3
import sys
import time
from pathlib import Path

import httpx
import pytest

from actors.clock import SystemClock
from actors.host import CommandRequest, ShardHost
from actors.ingress.control_plane import ControlPlane
from actors.stores.migrations import LATEST_SCHEMA
from actors.stores.sqlite import SqliteStore
from config.settings import DEMO_ECONOMY_PATH
from engine.commands import CreatePlayer, Credit
from tests.e2e.test_cli import start, stop, wait_ready
from tests.support.services import free_port

TENANT = PROJECT = "demo"  # what `ludex serve` bootstraps on the restored directory
PLAYERS = [f"p{i:03d}" for i in range(100)]
WRITERS = 16


def ludex_command(*args: str) -> list[str]:
    return [str(Path(sys.executable).with_name("ludex")), *args]


async def credit_until(host: ShardHost, stop_at: asyncio.Event, acked: dict[str, tuple[str, int, float]]) -> None:
    """Keyed credits to random players until told to stop; `acked` gets key -> (player, amount, when)."""
    rng = random.Random()
    while not stop_at.is_set():
        player, amount = rng.choice(PLAYERS), rng.randint(1, 100)
        key = f"credit-{len(acked)}-{rng.getrandbits(32):08x}"
        [outcome] = await host.execute([CommandRequest(TENANT, PROJECT, player, Credit("coins", amount), key)])
        assert outcome.ok, outcome
        acked[key] = (player, amount, time.monotonic())


async def test_a_backup_under_load_restores_every_acknowledged_credit_once_and_serves(tmp_path: Path) -> None:
    import yaml

    data_dir, restored_dir, backup_file = tmp_path / "data", tmp_path / "restored", tmp_path / "ludex.tar.gz"
    store = SqliteStore(data_dir / "ludex.sqlite3")
    await store.open()
    control = ControlPlane(store)
    await control.ensure_tenant(TENANT, "Demo")
    await control.ensure_project(TENANT, PROJECT, "Demo project")
    host = ShardHost(SqliteStore(data_dir / "ludex.sqlite3"), clock=SystemClock())
    await host.start(sweep=False)
    assert (await host.define_economy(TENANT, PROJECT, yaml.safe_load(DEMO_ECONOMY_PATH.read_text()))).ok
    created = [CommandRequest(TENANT, PROJECT, p, CreatePlayer(username=p)) for p in PLAYERS]
    assert all(outcome.ok for outcome in await host.execute(created))

    acked: dict[str, tuple[str, int, float]] = {}
    stop_at = asyncio.Event()
    writers = [asyncio.create_task(credit_until(host, stop_at, acked)) for _ in range(WRITERS)]
    try:
        while len(acked) < 2000:
            await asyncio.sleep(0.05)
        started = time.monotonic()
        backup = await asyncio.create_subprocess_exec(
            *ludex_command("backup", "--data-dir", str(data_dir), "--to", str(backup_file)),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(backup.communicate(), 120)
        finished = time.monotonic()
        await asyncio.sleep(0.2)
    finally:
        stop_at.set()
        await asyncio.gather(*writers)
        await host.stop()
        await store.close()
    assert backup.returncode == 0, err.decode()
    assert "backed up" in out.decode() and f"schema version {LATEST_SCHEMA}" in out.decode()
    before = {key: value for key, value in acked.items() if value[2] < started}
    during = [key for key, value in acked.items() if started <= value[2] < finished]
    assert len(before) >= 2000 and during, "credits were acknowledged while the backup ran"

    restored = await asyncio.create_subprocess_exec(
        *ludex_command("restore", "--from", str(backup_file), "--data-dir", str(restored_dir)),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await restored.communicate()
    assert restored.returncode == 0, err.decode()
    again = await asyncio.create_subprocess_exec(
        *ludex_command("restore", "--from", str(backup_file), "--data-dir", str(restored_dir)),
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await again.communicate()
    assert again.returncode == 1 and "is not empty" in err.decode(), "a restore never overwrites unasked"

    conn = sqlite3.connect(restored_dir / "ludex.sqlite3")
    try:
        keyed = dict(conn.execute("SELECT idem_key, count(*) FROM journal WHERE idem_key IS NOT NULL GROUP BY 1"))
    finally:
        conn.close()
    assert all(keyed.get(key) == 1 for key in before), "every credit acknowledged before the backup, once"
    assert set(keyed) <= set(acked), "nothing that was not asked for"

    check = ShardHost(SqliteStore(restored_dir / "ludex.sqlite3"))
    await check.start(sweep=False)
    balances: dict[str, int] = {}
    try:
        for player in PLAYERS:
            ledger = await check.ledger(TENANT, PROJECT, player, currency="coins", after=(0, 0), limit=100_000)
            wallet = (await check.view(TENANT, PROJECT, player, "wallet")).body["balances"].get("coins", 0)
            assert wallet == sum(entry["delta"] for entry in ledger), player
            assert {e["idempotencyKey"] for e in ledger} == {k for k in keyed if acked[k][0] == player}
            balances[player] = wallet
    finally:
        await check.stop()
    assert sum(balances.values()) == sum(acked[key][1] for key in keyed)

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    server = start(restored_dir, port)
    try:
        wait_ready(base_url, server)
        creds = json.loads((restored_dir / "demo-credentials.json").read_text())
        headers = {"x-tenant-id": TENANT, "x-api-key": creds["apiKey"]}
        players = f"{base_url}/v1/projects/{PROJECT}/players"
        for player in PLAYERS[:5]:
            wallet = httpx.get(f"{players}/{player}/wallet", headers=headers, timeout=30)
            assert wallet.status_code == 200 and wallet.json()["balances"].get("coins", 0) == balances[player]
        key, (player, amount, _) = next(iter(before.items()))
        replay = httpx.post(
            f"{players}/{player}/wallet/credit",
            json={"currency": "coins", "amount": amount},
            headers={**headers, "Idempotency-Key": key},
            timeout=30,
        )
        assert replay.status_code == 200 and replay.headers["Idempotent-Replayed"] == "true"
        fresh = httpx.post(
            f"{players}/{player}/wallet/credit", json={"currency": "coins", "amount": 1}, headers=headers
        )
        assert fresh.status_code == 200 and fresh.json()["balance"] == balances[player] + 1
        # the sealed signing key opens: the backup carried secret.key beside the database
        login = httpx.post(
            f"{base_url}/v1/auth/login",
            json={"email": creds["adminEmail"], "password": creds["adminPassword"]},
            timeout=60,
        )
        assert login.status_code == 200, login.text
    finally:
        _, alive = stop(server)
    assert alive == []


def test_restore_refuses_a_file_that_is_not_a_backup(tmp_path: Path) -> None:
    from actors.stores.backup import BackupError, restore

    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"not a tar file at all")
    with pytest.raises(BackupError, match="not a Ludex backup"):
        restore(junk, tmp_path / "out")
    assert not (tmp_path / "out").exists()


async def test_restore_with_force_replaces_a_database_and_its_stale_wal(tmp_path: Path) -> None:
    from actors.stores.backup import backup, restore

    source, target = tmp_path / "source", tmp_path / "target"
    for folder, name in ((source, "kept"), (target, "replaced")):
        store = SqliteStore(folder / "ludex.sqlite3")
        await store.open()
        await store.put_document("notes", "n1", {"name": name})
        await store.close()
    (target / "ludex.sqlite3-wal").write_bytes(b"stale write-ahead log of the old database")
    summary = backup(source, tmp_path / "b.tar")
    assert summary.schema_version == LATEST_SCHEMA and summary.copy_seconds <= summary.seconds
    restore(tmp_path / "b.tar", target, force=True)
    assert not (target / "ludex.sqlite3-wal").exists()
    store = SqliteStore(target / "ludex.sqlite3")
    await store.open()
    try:
        assert await store.get_document("notes", "n1") == {"name": "kept"}
    finally:
        await store.close()


def test_backup_points_a_mongodb_deployment_at_mongodump(tmp_path: Path) -> None:
    import os
    import subprocess

    env = {**os.environ, "LUDEX_MONGO_URL": "mongodb://127.0.0.1:1"}
    done = subprocess.run(
        ludex_command("backup", "--to", str(tmp_path / "b.tar")), env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1 and "mongodump --oplog" in done.stderr
    assert not (tmp_path / "b.tar").exists()
