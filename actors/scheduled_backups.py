"""Scheduled backups of the embedded store: shard host 0's sweep asks `run_if_due` each round;
when `LUDEX_BACKUP_SCHEDULE` says a backup is due it is taken with `ludex backup`'s function,
verified, and the oldest beyond `LUDEX_BACKUP_KEEP` are deleted.

Promises: the folder is 0700 and each file 0600 from its first byte (it holds every player's
data and `secret.key`); a backup counts as taken only once it has been restored into a scratch
directory and passed SQLite's `integrity_check` and the schema check (a failed one is deleted,
counted in `ludex_backup_failures_total` and retried `RETRY_AFTER` later); only files named as
scheduled backups are ever pruned. The copy runs in a worker thread: SQLite's online backup
does not block the host's commits (WAL), and the event loop keeps serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from actors.clock import Clock
from actors.stores.backup import DATABASE, BackupError, backup, restore
from actors.stores.migrations import LATEST_SCHEMA, sqlite_version
from config.settings import Settings
from engine.backup_schedule import Schedule, backup_name, next_due, parse_schedule, taken_at, to_prune

log = logging.getLogger("ludex.backups")


@dataclass
class BackupIndicators:
    """What `/metrics` shows (`ludex_backup_*`): the last good backup's time, duration and size."""

    last_success_epoch_s: float | None = None
    duration_s: float | None = None
    size_bytes: int | None = None
    failures: int = 0

    def snapshot(self) -> dict[str, Any]:
        return {
            "lastSuccessTimestampSeconds": self.last_success_epoch_s,
            "durationSeconds": self.duration_s,
            "sizeBytes": self.size_bytes,
            "failures": self.failures,
        }


def verify(file: Path) -> None:
    """Restore `file` into a scratch directory and check what came out; raises BackupError."""
    with tempfile.TemporaryDirectory(prefix=".ludex-verify-") as scratch:
        restored = Path(scratch) / "data"
        restore(file, restored)
        conn = sqlite3.connect(restored / DATABASE)
        try:
            if (problem := conn.execute("PRAGMA integrity_check").fetchone()[0]) != "ok":
                raise BackupError(f"{file} restores to a database failing integrity_check: {problem}")
            if (version := sqlite_version(conn)) != LATEST_SCHEMA:
                raise BackupError(f"{file} holds schema version {version}, this Ludex writes {LATEST_SCHEMA}")
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not {"journal", "snapshots"} <= tables:
                raise BackupError(f"{file} restores to a database without Ludex's tables: {sorted(tables)}")
        finally:
            conn.close()


def _private_file(path: Path) -> None:
    """Create `path` empty and 0600, so whatever writes it later never leaves it readable."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
    path.chmod(0o600)  # O_CREAT's mode passes through the umask; chmod does not


class ScheduledBackups:
    def __init__(
        self,
        data_dir: Path,
        folder: Path,
        schedule: Schedule,
        keep: int,
        clock: Clock,
    ) -> None:
        self.data_dir = data_dir
        self.folder = folder
        self.schedule = schedule
        self.keep = keep
        self.clock = clock
        self.indicators = BackupIndicators()
        self._last_failure: datetime | None = None
        self._last_success: datetime | None = self._newest_in_folder()

    def _newest_in_folder(self) -> datetime | None:
        """A restarted host goes on from the newest backup on disk instead of taking one at once."""
        if not self.folder.is_dir():
            return None
        moments = [moment for entry in self.folder.iterdir() if (moment := taken_at(entry.name)) is not None]
        return max(moments, default=None)

    def due_at(self) -> datetime:
        return next_due(self.schedule, self._last_success, self._last_failure)

    async def run_if_due(self) -> Path | None:
        """Take, verify and prune when due; answers the new backup, or None when nothing was due.
        A failure is logged and counted, never raised: the next sweep goes on."""
        now = self.clock.now()
        if now < self.due_at():
            return None
        try:
            return await asyncio.to_thread(self._take_verified, now)
        except Exception:
            self.indicators.failures += 1
            self._last_failure = now
            log.exception("scheduled backup failed; retried in 10 minutes")
            return None

    def _take_verified(self, now: datetime) -> Path:
        started = time.perf_counter()
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.folder.chmod(0o700)
        target = self.folder / backup_name(now)
        partial = target.with_name(target.name + ".partial")  # the name backup() writes through
        try:
            _private_file(partial)
            summary = backup(self.data_dir, target)
            target.chmod(0o600)
            verify(target)
        except BaseException:
            target.unlink(missing_ok=True)
            raise
        finally:
            partial.unlink(missing_ok=True)
        for name in to_prune([entry.name for entry in self.folder.iterdir()], self.keep):
            with contextlib.suppress(FileNotFoundError):
                (self.folder / name).unlink()
        self._last_success = now
        self.indicators.last_success_epoch_s = now.timestamp()
        self.indicators.duration_s = time.perf_counter() - started
        self.indicators.size_bytes = summary.file_bytes
        log.info("scheduled backup %s: %d bytes, verified", target.name, summary.file_bytes)
        return target


def scheduled_backups_for(settings: Settings, clock: Clock) -> ScheduledBackups | None:
    """The deployment's scheduled backups, or None: no schedule, or a MongoDB store (backed up by
    the chart's `mongodump --oplog` CronJob, docs/OPERATIONS.md)."""
    if settings.backup_schedule is None or settings.mongo_url is not None:
        return None
    return ScheduledBackups(
        settings.data_dir, settings.backups_path, parse_schedule(settings.backup_schedule), settings.backup_keep, clock
    )
