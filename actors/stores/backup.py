"""Backup and restore of an embedded (SQLite) data directory.

A data directory holds one SQLite database, `ludex.sqlite3` (with its `-wal` and `-shm` files,
which are part of it): the journal, snapshots, projections and control-plane documents all live
in it, so one read transaction sees all of them at one instant. The backup copies it through
SQLite's online backup API in a single step: the copy is that transaction's snapshot, taken
while the server keeps writing (WAL readers do not block writers), so every commit acknowledged
before the backup started is in it, and no half of a later one. `demo-credentials.json` and
`secret.key` (which seals the TOTP secrets and signing key in the database: without it a restored
store cannot open them) are copied beside it; the backup file is as secret as the data dir, so it
is created owner-only (0600) before its first byte, in folders made 0700, whatever the umask.
MongoDB deployments back up with `mongodump --oplog` (docs/UPGRADING.md).

The backup file is a tar (gzip-compressed when its name ends in `.gz` or `.tgz`) holding the
database, the private files if present, and `backup.json`: schema version, time, size, checksum.

A restore trusts nothing in the archive: every member must be one of those files, a regular file
(no link, no path), named once; the sizes they declare must add up to at most `max_bytes`; the
manifest must be a well-formed `backup.json`. Anything else refuses the whole archive
(`BackupRefusedError`, naming what it found) before the data directory is touched.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import tarfile
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from actors.stores.migrations import sqlite_version

DATABASE = "ludex.sqlite3"
CREDENTIALS = "demo-credentials.json"
SECRET_KEY = "secret.key"  # actors.secret_box.KEY_FILE
PRIVATE_FILES = (CREDENTIALS, SECRET_KEY)
MANIFEST = "backup.json"
ARCHIVE_MEMBERS = (MANIFEST, DATABASE, *PRIVATE_FILES)
DATABASE_FILES = (DATABASE, f"{DATABASE}-wal", f"{DATABASE}-shm")
BACKUP_FORMAT = 1
# gzip level 1: on a 32 MB database it took 0.9 s against 5.3 s at tarfile's default 9, for an
# archive 11% larger (benchmarks/bench_backup.py); a backup runs beside a serving store.
GZIP_LEVEL = 1
DEFAULT_RESTORE_MAX_BYTES = 64 * 1024**3  # config.settings.Settings.restore_max_bytes
PRIVATE_FILE, PRIVATE_DIR = 0o600, 0o700


class BackupError(RuntimeError):
    """The backup or restore cannot proceed; the message says why and what to do."""


class BackupRefusedError(BackupError):
    """The archive itself is refused (crafted, damaged or not a backup): nothing was restored."""


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


def make_private_dirs(folder: Path) -> None:
    """Creates `folder` and every missing parent owner-only (`Path.mkdir(parents=True)` would make
    the parents with the umask's mode); folders that exist are left as they are."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for path in reversed(missing):
        path.mkdir(mode=PRIVATE_DIR, exist_ok=True)
        path.chmod(PRIVATE_DIR)  # mkdir's mode is masked by the umask


def open_private(path: Path) -> IO[bytes]:
    """`path` for writing, owner-only from its first byte (created 0600, and a leftover file of
    that name is made 0600 before anything is written to it)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    os.fchmod(descriptor, PRIVATE_FILE)
    return os.fdopen(descriptor, "wb")


def _open_archive(stream: IO[bytes], target: Path) -> tarfile.TarFile:
    if target.name.endswith((".gz", ".tgz")):
        return tarfile.open(fileobj=stream, mode="w:gz", compresslevel=GZIP_LEVEL)
    return tarfile.open(fileobj=stream, mode="w")


def backup(data_dir: Path, target: Path) -> BackupSummary:
    """Copy `data_dir`'s database (consistent, while it serves) and credentials into `target`."""
    started = time.perf_counter()
    source_path = data_dir / DATABASE
    if not source_path.is_file():
        raise BackupError(f"{source_path} does not exist: nothing to back up (is --data-dir right?)")
    make_private_dirs(target.parent)
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
        with open_private(partial) as stream, _open_archive(stream, target) as archive:
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


def restore(
    source: Path, data_dir: Path, *, force: bool = False, max_bytes: int = DEFAULT_RESTORE_MAX_BYTES
) -> RestoreSummary:
    """Unpack a backup into `data_dir`, which must be empty (or `force`: its database and
    private files are replaced). Stop every server on `data_dir` first. The archive is checked
    whole (module docstring) before `data_dir` is touched; `BackupRefusedError` says what it is."""
    if not source.is_file():
        raise BackupError(f"{source} does not exist")
    if data_dir.exists() and any(data_dir.iterdir()) and not force:
        raise BackupError(f"{data_dir} is not empty: restore into a new directory, or pass --force to replace it")
    if not tarfile.is_tarfile(source):
        raise BackupRefusedError(f"{source} is not a Ludex backup (not a tar file)")
    with tarfile.open(source) as archive, tempfile.TemporaryDirectory(prefix=".ludex-restore-") as scratch:
        members = _checked_members(source, archive.getmembers(), max_bytes)
        for name, member in members.items():
            with archive.extractfile(member) as stream, open_private(Path(scratch) / name) as copy:  # type: ignore[union-attr]
                shutil.copyfileobj(stream, copy)
        manifest = _read_manifest(source, Path(scratch) / MANIFEST)
        if _sha256(Path(scratch) / DATABASE) != manifest["sha256"]:
            raise BackupRefusedError(f"{source} is damaged: its database does not match the checksum in {MANIFEST}")
        make_private_dirs(data_dir)
        for name in (*DATABASE_FILES, *PRIVATE_FILES):  # a stale -wal beside the new file would corrupt it
            (data_dir / name).unlink(missing_ok=True)
        for name in (DATABASE, *PRIVATE_FILES):
            if (Path(scratch) / name).is_file():
                shutil.move(Path(scratch) / name, data_dir / name)
                (data_dir / name).chmod(PRIVATE_FILE)
    return RestoreSummary(data_dir, manifest["schemaVersion"], manifest["createdAt"])


def _checked_members(source: Path, members: list[tarfile.TarInfo], max_bytes: int) -> dict[str, tarfile.TarInfo]:
    """The archive's members by name, once each is known to be one of `ARCHIVE_MEMBERS`, a
    regular file named once, and all of them fit in `max_bytes`."""
    found: dict[str, tarfile.TarInfo] = {}
    for member in members:
        why = _refusal(member, found)
        if why is not None:
            raise BackupRefusedError(f"{source} holds {member.name!r}, {why}: refused, nothing restored")
        found[member.name] = member
    if MANIFEST not in found or DATABASE not in found:
        raise BackupRefusedError(f"{source} is not a Ludex backup (no {MANIFEST} or {DATABASE} in it)")
    total = sum(member.size for member in found.values())
    if total > max_bytes:
        raise BackupRefusedError(
            f"{source} unpacks to {total:,} bytes, over the limit of {max_bytes:,} (raise it with --max-bytes"
            " or LUDEX_RESTORE_MAX_BYTES if the backup is yours): nothing restored"
        )
    return found


def _refusal(member: tarfile.TarInfo, seen: dict[str, tarfile.TarInfo]) -> str | None:
    """Why `member` may not be restored, or None."""
    name = member.name
    if name.startswith("/") or ":" in name[:2]:
        return "an absolute path"
    if ".." in name.replace("\\", "/").split("/"):
        return "a path that climbs out with '..'"
    if member.issym() or member.islnk():
        return f"a link (to {member.linkname!r})"
    if not member.isfile():
        return "not a regular file"
    if name not in ARCHIVE_MEMBERS:
        return f"not a file of a Ludex backup (those are {', '.join(ARCHIVE_MEMBERS)})"
    if name in seen:
        return "a second time"
    return None


def _read_manifest(source: Path, path: Path) -> dict[str, Any]:
    """`backup.json`, checked field by field; a malformed one is one line of refusal."""
    try:
        manifest = json.loads(path.read_bytes())
    except (ValueError, UnicodeDecodeError) as error:
        raise BackupRefusedError(f"{source}: its {MANIFEST} is not JSON ({error})") from None
    if not isinstance(manifest, dict):
        raise BackupRefusedError(f"{source}: its {MANIFEST} is not a JSON object")
    if manifest.get("format") != BACKUP_FORMAT:
        raise BackupRefusedError(
            f"{source}: its {MANIFEST} says backup format {manifest.get('format')!r}, this Ludex reads {BACKUP_FORMAT}"
        )
    expected = {"sha256": str, "schemaVersion": int, "createdAt": str}
    for field, kind in expected.items():
        value = manifest.get(field)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise BackupRefusedError(f"{source}: its {MANIFEST} has no valid {field!r} (a {kind.__name__})")
    return manifest
