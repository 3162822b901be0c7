"""What a migration plans, read in process on real SQLite files, and two migrators that planned at
once. `ludex migrate` prints `Plan.describe()` (test_migrations.py runs it as a process); here the
plan of a new file, of a Ludex 0.1.0 file and of a current one is checked line by line, and a dry
run is shown to change nothing. Two processes opening one old file (shard hosts, ingress replicas)
may both plan every step: the one that comes second must find each step done and change nothing.
A MongoDB database whose collections bear Ludex's names but whose journal is not Ludex's is refused.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient

from actors.stores.migrations import (
    LATEST_SCHEMA,
    SQLITE_STEPS,
    NotALudexStoreError,
    migrate_sqlite,
    plan_sqlite,
    sqlite_version,
)
from actors.stores.mongo import MongoStore
from actors.stores.sqlite import SqliteStore
from tests.integration.test_fixtures_v0_1_0 import copy_sqlite_fixture


def version_of(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return sqlite_version(conn)
    finally:
        conn.close()


async def test_a_dry_run_describes_a_new_an_old_and_a_current_file_and_changes_nothing(tmp_path: Path) -> None:
    new = tmp_path / "new" / "ludex.sqlite3"
    fresh = await SqliteStore(new).migrate(dry_run=True)
    assert fresh.describe() == [f"{new}: new store, created at schema version {LATEST_SCHEMA}"]
    assert not new.exists(), "a dry run creates no file"

    old = copy_sqlite_fixture(tmp_path / "old")
    before = old.read_bytes()
    described = (await SqliteStore(old).migrate(dry_run=True)).describe()
    assert described[0] == f"{old}: schema version none (Ludex 0.1.0), this Ludex needs {LATEST_SCHEMA}"
    assert described[1] == "  stamp version 1: the layout of Ludex 0.1.0, checked"
    steps = [line for line in described if line.startswith("  step ")]
    assert steps == [f"  step {step.version}: {step.summary}" for step in SQLITE_STEPS]
    operations = sum(len(step.operations) for step in SQLITE_STEPS)
    assert len([line for line in described if line.startswith("    - ")]) == operations
    assert old.read_bytes() == before, "a dry run changes nothing"

    await SqliteStore(old).migrate()
    assert version_of(old) == LATEST_SCHEMA
    current = (await SqliteStore(old).migrate(dry_run=True)).describe()
    assert current == [
        f"{old}: schema version {LATEST_SCHEMA}, this Ludex needs {LATEST_SCHEMA}",
        "  up to date, nothing to do",
    ]


def test_a_second_migrator_holding_the_same_plan_finds_every_step_done_and_changes_nothing(tmp_path: Path) -> None:
    path = copy_sqlite_fixture(tmp_path)
    first = sqlite3.connect(path, isolation_level=None)
    second = sqlite3.connect(path, isolation_level=None)
    try:
        first_plan, second_plan = plan_sqlite(first, str(path)), plan_sqlite(second, str(path))
        assert first_plan == second_plan and first_plan.found is None and first_plan.steps
        first_report: list[str] = []
        migrate_sqlite(first, first_plan, first_report.append)
        migrated = list(first.iterdump())
        assert sqlite_version(first) == LATEST_SCHEMA

        second_report: list[str] = []
        migrate_sqlite(second, second_plan, second_report.append)
        assert list(second.iterdump()) == migrated, "the late migrator changed nothing"
        assert sqlite_version(second) == LATEST_SCHEMA
        assert second_report == first_report, "it went through the same steps, each found done"
    finally:
        first.close()
        second.close()


@pytest.mark.mongo
async def test_a_journal_collection_that_is_not_ludex_s_is_refused_with_nothing_changed(
    mongo_url: str, mongo_database: str
) -> None:
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_url)
    try:
        client[mongo_database]["journal"].insert_one({"_id": "order-1", "sku": "x"})
        with pytest.raises(NotALudexStoreError, match="a journal document without"):
            await MongoStore(mongo_url, mongo_database).open()
        assert set(client[mongo_database].list_collection_names()) == {"journal"}, "nothing was created"
        assert list(client[mongo_database]["journal"].find()) == [{"_id": "order-1", "sku": "x"}]
    finally:
        client.close()
