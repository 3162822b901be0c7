"""Scheduled backups run from shard host 0's sweep on a fake clock, against a real SQLite store:
due at once, then at the schedule's time; each one private (0700 folder, 0600 file), verified by
a restore, pruned to `keep`; a failure is counted and retried ten minutes later; `/metrics`
carries the indicators."""

from __future__ import annotations

import re
import sqlite3
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from actors.clock import FakeClock
from actors.host import CommandRequest, ShardHost
from actors.scheduled_backups import ScheduledBackups, scheduled_backups_for, verify
from actors.stores.backup import BackupError, restore
from actors.stores.sqlite import SqliteStore
from config.settings import DEMO_ECONOMY_PATH, Settings
from engine.backup_schedule import Daily, parse_schedule, taken_at
from engine.commands import CreatePlayer
from serve.metrics import render

START = datetime(2026, 3, 1, 1, 0, tzinfo=UTC)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def started_host(data_dir: Path, backups: ScheduledBackups, clock: FakeClock) -> ShardHost:
    host = ShardHost(SqliteStore(data_dir / "ludex.sqlite3"), clock=clock, backups=backups)
    await host.start(sweep=False)
    assert (await host.define_economy("t", "p", yaml.safe_load(DEMO_ECONOMY_PATH.read_text()))).ok
    [created] = await host.execute([CommandRequest("t", "p", "alice", CreatePlayer(username="alice"))])
    assert created.ok
    return host


async def test_host_zero_takes_verified_private_backups_on_schedule_and_prunes_to_keep(tmp_path: Path) -> None:
    clock, folder = FakeClock(START), tmp_path / "backups"
    backups = ScheduledBackups(tmp_path / "data", folder, parse_schedule("daily@03:00"), 2, clock)
    host = await started_host(tmp_path / "data", backups, clock)
    try:
        await host.sweep_once()  # never backed up: due at once
        [first] = list(folder.iterdir())
        assert mode(folder) == 0o700 and mode(first) == 0o600
        assert taken_at(first.name) == START
        await host.sweep_once()
        assert len(list(folder.iterdir())) == 1, "not due again before 03:00"
        for day in range(3):
            clock.advance(24 * 3600 if day else 2 * 3600)
            await host.sweep_once()
        names = sorted(entry.name for entry in folder.iterdir())
        assert [taken_at(name).day for name in names] == [2, 3]  # type: ignore[union-attr]
        restored = tmp_path / "restored"
        restore(folder / names[-1], restored)
        rows = sqlite3.connect(restored / "ludex.sqlite3").execute("SELECT count(*) FROM journal").fetchone()
        assert rows[0] >= 1, "the player created before the backups is in them"
        metrics = render([host.stats()]).decode()
        assert re.search(r"^ludex_backup_last_success_timestamp_seconds 1\.77\d+e\+09$", metrics, re.MULTILINE)
        assert "ludex_backup_size_bytes" in metrics and "ludex_backup_failures_total 0.0" in metrics
        assert backups.indicators.last_success_epoch_s == datetime(2026, 3, 3, 3, 0, tzinfo=UTC).timestamp()
    finally:
        await host.stop()


async def test_a_failed_backup_is_counted_and_retried_ten_minutes_later(tmp_path: Path) -> None:
    clock, folder = FakeClock(START), tmp_path / "backups"
    backups = ScheduledBackups(tmp_path / "data", folder, parse_schedule("6h"), 3, clock)
    host = await started_host(tmp_path / "data", backups, clock)
    try:
        (tmp_path / "data" / "ludex.sqlite3").rename(tmp_path / "away.sqlite3")  # the next copy fails
        await host.sweep_once()
        assert backups.indicators.failures == 1 and list(folder.iterdir()) == []
        assert not re.search("^ludex_backup_last_success", render([host.stats()]).decode(), re.MULTILINE)
        (tmp_path / "away.sqlite3").rename(tmp_path / "data" / "ludex.sqlite3")
        clock.advance(9 * 60)
        await host.sweep_once()
        assert list(folder.iterdir()) == [], "not retried before ten minutes"
        clock.advance(60)
        await host.sweep_once()
        assert len(list(folder.iterdir())) == 1 and backups.indicators.failures == 1
    finally:
        await host.stop()


async def test_a_restarted_host_goes_on_from_the_newest_backup_in_the_folder(tmp_path: Path) -> None:
    clock, folder = FakeClock(START), tmp_path / "backups"
    first = ScheduledBackups(tmp_path / "data", folder, Daily(START.time()), 7, clock)
    host = await started_host(tmp_path / "data", first, clock)
    try:
        assert await first.run_if_due() is not None
        again = ScheduledBackups(tmp_path / "data", folder, Daily(START.time()), 7, clock)
        assert again.due_at() == datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
        assert await again.run_if_due() is None
    finally:
        await host.stop()


def test_verify_refuses_a_backup_whose_database_is_not_ludex(tmp_path: Path) -> None:
    from actors.stores.backup import backup

    (tmp_path / "data").mkdir()
    sqlite3.connect(tmp_path / "data" / "ludex.sqlite3").execute("CREATE TABLE other (x)").connection.commit()
    backup(tmp_path / "data", tmp_path / "foreign.tar.gz")
    with pytest.raises(BackupError, match="schema version|tables"):
        verify(tmp_path / "foreign.tar.gz")


def test_scheduled_backups_are_off_without_a_schedule_or_with_mongodb(tmp_path: Path) -> None:
    assert scheduled_backups_for(Settings(data_dir=tmp_path), FakeClock()) is None
    assert scheduled_backups_for(Settings(backup_schedule="1h", mongo_url="mongodb://x"), FakeClock()) is None
    on = scheduled_backups_for(Settings(data_dir=tmp_path / "d", backup_schedule="daily@02:30"), FakeClock())
    assert on is not None and on.folder == tmp_path / "ludex-backups" and on.keep == 7
