"""Schema versions and migrations on real stores: a migration SIGKILLed half-way is finished by
the next open; a newer schema, a foreign database, and (when auto-migration is off) an older
schema are refused with nothing changed; `ludex migrate` says what each step does."""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient

from actors.stores.migrations import (
    LATEST_SCHEMA,
    META,
    SCHEMA_ID,
    NotALudexStoreError,
    SchemaOutdatedError,
    SchemaTooNewError,
)
from actors.stores.mongo import MongoStore
from actors.stores.sqlite import SqliteStore
from tests.integration.test_fixtures_v0_1_0 import FIXTURES, copy_sqlite_fixture
from tests.support.mongo_dump import restore_dump

ROOT = Path(__file__).resolve().parents[2]


def ludex(*args: str, env: dict[str, str] | None = None, **popen: Any) -> subprocess.Popen[str]:
    environment = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    return subprocess.Popen([sys.executable, "-m", "serve.cli", *args], cwd=ROOT, env=environment, text=True, **popen)


def run_ludex(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    process = ludex(*args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = process.communicate(timeout=120)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def kill_after(process: subprocess.Popen[str], marker: str) -> list[str]:
    """Read the process's output until a line contains `marker`, then SIGKILL it."""
    assert process.stdout is not None
    lines = []
    while marker not in (line := process.stdout.readline()):
        assert line, f"the migration ended before {marker!r}: {lines}"
        lines.append(line)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    return [*lines, line]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def sqlite_facts(path: Path) -> tuple[int, set[str], int]:
    conn = sqlite3.connect(path)
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        columns = {row[1] for row in conn.execute("PRAGMA table_info(journal)")}
        records = conn.execute("SELECT count(*) FROM journal").fetchone()[0]
        return version, columns, records
    finally:
        conn.close()


# ------------------------------------------------------------------------------------------ SQLite


async def test_a_sqlite_migration_killed_half_way_is_finished_by_the_next_open(tmp_path: Path) -> None:
    path = copy_sqlite_fixture(tmp_path / "data")
    _, _, records = sqlite_facts(path)
    migrating = ludex(
        "migrate", "--data-dir", str(path.parent), env={"LUDEX_TEST_MIGRATION_PAUSE_S": "60"}, stdout=subprocess.PIPE
    )
    output = kill_after(migrating, "done: add journal.v ")
    assert any("stamped schema version 1" in line for line in output)
    version, columns, _ = sqlite_facts(path)
    assert version == 1 and "v" in columns and "command" not in columns, "killed between two operations"

    store = SqliteStore(path)
    await store.open()
    await store.close()
    version, columns, after = sqlite_facts(path)
    assert version == LATEST_SCHEMA and {"v", "command", "request_id"} <= columns
    assert after == records


async def test_migrate_dry_run_says_what_each_step_does_and_changes_nothing(tmp_path: Path) -> None:
    path = copy_sqlite_fixture(tmp_path / "data")
    before = digest(path)
    dry = run_ludex("migrate", "--data-dir", str(path.parent), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert f"schema version none (Ludex 0.1.0), this Ludex needs {LATEST_SCHEMA}" in dry.stdout
    assert "stamp version 1" in dry.stdout and "step 2:" in dry.stdout and "add journal.command" in dry.stdout
    assert "step 3:" in dry.stdout and "add documents.version" in dry.stdout
    assert "dry run: nothing changed" in dry.stdout
    assert digest(path) == before and not Path(f"{path}-wal").exists()

    done = run_ludex("migrate", "--data-dir", str(path.parent))
    assert done.returncode == 0, done.stderr
    assert "done: add journal.request_id" in done.stdout and f"schema version {LATEST_SCHEMA}" in done.stdout
    assert sqlite_facts(path)[0] == LATEST_SCHEMA
    again = run_ludex("migrate", "--data-dir", str(path.parent))
    assert "up to date, nothing to do" in again.stdout


async def test_a_sqlite_store_newer_than_the_code_is_refused_untouched(tmp_path: Path) -> None:
    path = copy_sqlite_fixture(tmp_path / "data")
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {LATEST_SCHEMA + 1}")
    conn.close()
    before = digest(path)
    with pytest.raises(SchemaTooNewError, match=f"schema version {LATEST_SCHEMA + 1}, newer than this Ludex"):
        await SqliteStore(path).open()
    assert digest(path) == before
    refused = run_ludex("migrate", "--data-dir", str(path.parent))
    assert refused.returncode == 1 and "newer than this Ludex knows" in refused.stderr


async def test_with_auto_migration_off_an_old_store_is_refused_and_serve_says_to_run_migrate(tmp_path: Path) -> None:
    path = copy_sqlite_fixture(tmp_path / "data")
    before = digest(path)
    with pytest.raises(SchemaOutdatedError, match="run `ludex migrate`"):
        await SqliteStore(path, auto_migrate=False).open()
    served = run_ludex("serve", "--data-dir", str(path.parent), env={"LUDEX_AUTO_MIGRATE": "false"})
    assert served.returncode == 1
    assert "no schema version (Ludex 0.1.0)" in served.stderr and "run `ludex migrate`" in served.stderr
    assert digest(path) == before


async def test_a_sqlite_file_that_is_not_ludexs_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ludex.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE journal (id INTEGER)")
    conn.close()
    with pytest.raises(NotALudexStoreError, match="does not look like a Ludex store"):
        await SqliteStore(path).open()


async def test_a_migrated_store_has_the_layout_of_a_new_one(tmp_path: Path) -> None:
    migrated = copy_sqlite_fixture(tmp_path / "old")
    fresh = tmp_path / "new" / "ludex.sqlite3"
    # Two stores opening the old file at once (as shard hosts do) migrate it once between them.
    first, second, new = SqliteStore(migrated), SqliteStore(migrated), SqliteStore(fresh)
    await asyncio.gather(first.open(), second.open(), new.open())
    await asyncio.gather(first.close(), second.close(), new.close())

    def layout(path: Path) -> list[tuple[str, str]]:
        conn = sqlite3.connect(path)
        try:
            return sorted(conn.execute("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL"))
        finally:
            conn.close()

    assert layout(migrated) == layout(fresh)
    assert sqlite_facts(migrated)[0] == sqlite_facts(fresh)[0] == LATEST_SCHEMA


# ----------------------------------------------------------------------------------------- MongoDB


@pytest.mark.mongo
async def test_a_mongo_migration_killed_half_way_is_finished_by_the_next_open(
    mongo_url: str, mongo_database: str
) -> None:
    counts = restore_dump(FIXTURES / "mongo", mongo_url, mongo_database)
    env = {
        "LUDEX_MONGO_URL": mongo_url,
        "LUDEX_MONGO_DATABASE": mongo_database,
        "LUDEX_MIGRATION_BATCH_SIZE": "5",
        "LUDEX_TEST_MIGRATION_PAUSE_S": "60",
    }
    migrating = ludex("migrate", env=env, stdout=subprocess.PIPE)
    output = kill_after(migrating, f"journal: 5/{counts['journal']} records stamped")
    assert "step 2: journal records state their format" in "".join(output)
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_url)
    try:
        db = client[mongo_database]
        assert db[META].find_one({"_id": SCHEMA_ID}) == {"_id": SCHEMA_ID, "version": 1}
        assert db["journal"].count_documents({"v": 1}) == 5, "killed after the first batch of 5"
        assert db["journal"].count_documents({"v": {"$exists": False}}) == counts["journal"] - 5

        store = MongoStore(mongo_url, mongo_database)
        await store.open()
        await store.close()
        assert db[META].find_one({"_id": SCHEMA_ID}) == {"_id": SCHEMA_ID, "version": LATEST_SCHEMA}
        assert db["journal"].count_documents({"v": 1}) == counts["journal"]
    finally:
        client.close()


@pytest.mark.mongo
async def test_a_mongo_database_newer_than_the_code_or_not_ludexs_is_refused(
    mongo_url: str, mongo_database: str
) -> None:
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_url)
    try:
        db = client[mongo_database]
        db[META].insert_one({"_id": SCHEMA_ID, "version": LATEST_SCHEMA + 1})
        with pytest.raises(SchemaTooNewError, match="newer than this Ludex knows"):
            await MongoStore(mongo_url, mongo_database).open()
        assert db[META].find_one({"_id": SCHEMA_ID})["version"] == LATEST_SCHEMA + 1  # type: ignore[index]
        assert "journal" not in db.list_collection_names()
        foreign = f"{mongo_database}_foreign"
        client[foreign]["orders"].insert_one({"sku": "x"})
        with pytest.raises(NotALudexStoreError, match="are not Ludex's"):
            await MongoStore(mongo_url, foreign).open()
    finally:
        client.close()


@pytest.mark.mongo
async def test_with_auto_migration_off_an_old_mongo_database_is_refused(mongo_url: str, mongo_database: str) -> None:
    restore_dump(FIXTURES / "mongo", mongo_url, mongo_database)
    with pytest.raises(SchemaOutdatedError, match="run `ludex migrate`"):
        await MongoStore(mongo_url, mongo_database, auto_migrate=False).open()
    dry = run_ludex("migrate", "--dry-run", env={"LUDEX_MONGO_URL": mongo_url, "LUDEX_MONGO_DATABASE": mongo_database})
    assert dry.returncode == 0 and "stamp format 1 (`v: 1`) on existing journal records, in batches" in dry.stdout
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_url)
    try:
        assert META not in client[mongo_database].list_collection_names()
        assert client[mongo_database]["journal"].count_documents({"v": {"$exists": True}}) == 0
    finally:
        client.close()
