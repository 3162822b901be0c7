"""Backup and restore of an embedded (SQLite) data directory.

A data directory holds one SQLite database, `ludex.sqlite3` (with its `-wal` and `-shm` files,
which are part of it): the journal, snapshots, projections and control-plane documents all live
in it, so one read transaction sees all of them at one instant. The backup copies it through
SQLite's online backup API in a single step: the copy is that transaction's snapshot, taken
while the server keeps writing (WAL readers do not block writers), so every commit acknowledged
before the backup started is in it, and no half of a later one. `demo-credentials.json` and
`secret.key` (which seals the TOTP secrets and signing key in the database: without it a restored
store cannot open them) are copied beside it; the backup file is as secret as the data dir.
MongoDB deployments back up with `mongodump --oplog` (docs/UPGRADING.md).

The backup file is a tar (gzip-compressed when its name ends in `.gz` or `.tgz`) holding the
database, the private files if present, and `backup.json`: schema version, time, size, checksum.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import sqlite3
import tarfile
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from actors.stores.migrations import sqlite_version

DATABASE = "ludex.sqlite3"
CREDENTIALS = "demo-credentials.json"
SECRET_KEY = "secret.key"  # actors.secret_box.KEY_FILE
PRIVATE_FILES = (CREDENTIALS, SECRET_KEY)
MANIFEST = "backup.json"
DATABASE_FILES = (DATABASE, f"{DATABASE}-wal", f"{DATABASE}-shm")
BACKUP_FORMAT = 1
# gzip level 1: on a 32 MB database it took 0.9 s against 5.3 s at tarfile's default 9, for an
# archive 11% larger (benchmarks/bench_backup.py); a backup runs beside a serving store.
GZIP_LEVEL = 1


class BackupError(RuntimeError):
    """The backup or restore cannot proceed; the message says why and what to do."""


@dataclass(frozen=True)
class BackupSummary:
    file: Path
    database_bytes: int
    file_bytes: int
    schema_version: int
    seconds: float
    copy_seconds: float  # how long the read transaction (the online backup) lasted
    left_out: list[str]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _open_archive(path: Path, target: Path) -> tarfile.TarFile:
    if target.name.endswith((".gz", ".tgz")):
        return tarfile.open(path, "w:gz", compresslevel=GZIP_LEVEL)
    return tarfile.open(path, "w")


def backup(data_dir: Path, target: Path) -> BackupSummary:
    """Copy `data_dir`'s database (consistent, while it serves) and credentials into `target`."""
    started = time.perf_counter()
    source_path = data_dir / DATABASE
    if not source_path.is_file():
        raise BackupError(f"{source_path} does not exist: nothing to back up (is --data-dir right?)")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".ludex-backup-", dir=target.parent) as scratch:
        copy_path = Path(scratch) / DATABASE
        source = sqlite3.connect(source_path, timeout=30.0)
        copy = sqlite3.connect(copy_path, isolation_level=None)
        try:
            source.execute("PRAGMA busy_timeout = 30000")
            copy_started = time.perf_counter()
            source.backup(copy, pages=-1)  # one step: one read transaction, one instant
            copy_seconds = time.perf_counter() - copy_started
            copy.execute("PRAGMA journal_mode = DELETE")  # a self-contained file, no -wal beside it
            version = sqlite_version(copy)
            if (problem := copy.execute("PRAGMA quick_check").fetchone()[0]) != "ok":
                raise BackupError(f"the copy of {source_path} fails SQLite's quick_check: {problem}")
        finally:
            copy.close()
            source.close()
        database_bytes = copy_path.stat().st_size
        manifest = {
            "format": BACKUP_FORMAT,
            "createdAt": datetime.now(UTC).isoformat(timespec="seconds"),
            "schemaVersion": version,
            "database": DATABASE,
            "databaseBytes": database_bytes,
            "sha256": _sha256(copy_path),
        }
        partial = target.with_name(target.name + ".partial")
        with _open_archive(partial, target) as archive:
            body = json.dumps(manifest, indent=2).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime = len(body), int(time.time())
            archive.addfile(info, io.BytesIO(body))
            archive.add(copy_path, DATABASE)
            for name in PRIVATE_FILES:
                if (data_dir / name).is_file():
                    archive.add(data_dir / name, name)
        partial.replace(target)  # a crash never leaves a half-written backup under the real name
    left_out = sorted(p.name for p in data_dir.iterdir() if p.name not in (*DATABASE_FILES, *PRIVATE_FILES))
    return BackupSummary(
        target, database_bytes, target.stat().st_size, version, time.perf_counter() - started, copy_seconds, left_out
    )


@dataclass(frozen=True)
class RestoreSummary:
    data_dir: Path
    schema_version: int
    created_at: str


def restore(source: Path, data_dir: Path, *, force: bool = False) -> RestoreSummary:
    """Unpack a backup into `data_dir`, which must be empty (or `force`: its database and
    private files are replaced). Stop every server on `data_dir` first."""
    if not source.is_file():
        raise BackupError(f"{source} does not exist")
    if data_dir.exists() and any(data_dir.iterdir()) and not force:
        raise BackupError(f"{data_dir} is not empty: restore into a new directory, or pass --force to replace it")
    if not tarfile.is_tarfile(source):
        raise BackupError(f"{source} is not a Ludex backup (not a tar file)")
    with tarfile.open(source) as archive, tempfile.TemporaryDirectory(prefix=".ludex-restore-") as scratch:
        members = {member.name: member for member in archive.getmembers() if member.isfile()}
        if MANIFEST not in members or DATABASE not in members:
            raise BackupError(f"{source} is not a Ludex backup (no {MANIFEST} or {DATABASE} in it)")
        for name in (MANIFEST, DATABASE, *PRIVATE_FILES):
            if name in members:
                archive.extract(members[name], scratch, filter="data")
        manifest = json.loads((Path(scratch) / MANIFEST).read_text())
        if manifest.get("format") != BACKUP_FORMAT:
            raise BackupError(f"{source} has backup format {manifest.get('format')}, this Ludex reads {BACKUP_FORMAT}")
        if _sha256(Path(scratch) / DATABASE) != manifest["sha256"]:
            raise BackupError(f"{source} is damaged: its database does not match the checksum in {MANIFEST}")
        data_dir.mkdir(parents=True, exist_ok=True)
        for name in (*DATABASE_FILES, *PRIVATE_FILES):  # a stale -wal beside the new file would corrupt it
            (data_dir / name).unlink(missing_ok=True)
        shutil.move(Path(scratch) / DATABASE, data_dir / DATABASE)
        for name in PRIVATE_FILES:
            if (Path(scratch) / name).is_file():
                shutil.move(Path(scratch) / name, data_dir / name)
                (data_dir / name).chmod(0o600)
    return RestoreSummary(data_dir, int(manifest["schemaVersion"]), str(manifest["createdAt"]))
