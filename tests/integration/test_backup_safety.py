"""A backup is as secret as the data directory, and `ludex restore` trusts nothing in an archive:
a fresh backup is readable by its owner only whatever the umask, and a crafted archive (one that
expands past the limit, a malformed manifest, a member outside the known files) is refused in
one line, exit status 2, with nothing restored."""

from __future__ import annotations

import hashlib
import io
import json
import os
import stat
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from actors.stores.backup import backup
from actors.stores.sqlite import SqliteStore
from tests.integration.test_backup_restore import ludex_command

DATABASE_BYTES = 4 * 1024 * 1024  # zeros: a few KiB once gzipped, four MiB once unpacked


@pytest.fixture
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


async def data_dir_with_secrets(tmp_path: Path) -> Path:
    data_dir = tmp_path / "data"
    store = SqliteStore(data_dir / "ludex.sqlite3")
    await store.open()
    await store.put_document("notes", "n1", {"name": "kept"})
    await store.close()
    (data_dir / "secret.key").write_text("not really a key, but as secret as one")
    (data_dir / "demo-credentials.json").write_text('{"adminPassword": "hunter2hunter2"}')
    return data_dir


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("umask_022")
@pytest.mark.parametrize("name", ["ludex.tar", "ludex.tar.gz"])
async def test_a_fresh_backup_and_the_folder_it_makes_are_private_even_with_umask_022(
    tmp_path: Path, name: str
) -> None:
    data_dir = await data_dir_with_secrets(tmp_path)
    target = tmp_path / "backups" / "nightly" / name
    backup(data_dir, target)
    assert mode(target) == 0o600, f"{oct(mode(target))}: the backup holds secret.key and the database"
    assert mode(target.parent) == 0o700 and mode(target.parent.parent) == 0o700
    with tarfile.open(target) as archive:
        assert {"backup.json", "ludex.sqlite3", "secret.key", "demo-credentials.json"} <= set(archive.getnames())


def add(archive: tarfile.TarFile, name: str, body: bytes, kind: bytes = tarfile.REGTYPE, link: str = "") -> None:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    info.size = len(body) if kind == tarfile.REGTYPE else 0
    archive.addfile(info, io.BytesIO(body) if kind == tarfile.REGTYPE else None)


def manifest_for(database: bytes) -> bytes:
    return json.dumps(
        {
            "format": 1,
            "createdAt": "2026-12-07T10:00:00+00:00",
            "schemaVersion": 1,
            "database": "ludex.sqlite3",
            "databaseBytes": len(database),
            "sha256": hashlib.sha256(database).hexdigest(),
        }
    ).encode()


def crafted(path: Path, manifest: bytes | None, database: bytes, *extra: tuple[str, bytes, bytes, str]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        add(archive, "backup.json", manifest if manifest is not None else manifest_for(database))
        add(archive, "ludex.sqlite3", database)
        for name, body, kind, link in extra:
            add(archive, name, body, kind, link)
    return path


def restore(source: Path, data_dir: Path, *flags: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    done = subprocess.run(
        ludex_command("restore", "--from", str(source), "--data-dir", str(data_dir), *flags),
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )
    return done.returncode, done.stderr


def assert_refused_in_one_line(outcome: tuple[int, str], *words: str) -> None:
    status, stderr = outcome
    assert status == 2, (status, stderr)
    assert "Traceback" not in stderr and len(stderr.strip().splitlines()) == 1, stderr
    for word in words:
        assert word in stderr, stderr


def assert_nothing_restored(data_dir: Path) -> None:
    assert not data_dir.exists() or not any(data_dir.iterdir()), sorted(p.name for p in data_dir.iterdir())


def test_an_archive_that_expands_past_the_limit_is_refused(tmp_path: Path) -> None:
    bomb = crafted(tmp_path / "bomb.tar.gz", None, bytes(DATABASE_BYTES))
    assert bomb.stat().st_size < 64 * 1024
    data_dir = tmp_path / "restored"
    refused = restore(bomb, data_dir, env={"LUDEX_RESTORE_MAX_BYTES": str(1024 * 1024)})
    assert_refused_in_one_line(refused, "LUDEX_RESTORE_MAX_BYTES", "--max-bytes")
    assert_nothing_restored(data_dir)
    assert_refused_in_one_line(restore(bomb, data_dir, "--max-bytes", "1000000"), "1,000,000")
    assert_nothing_restored(data_dir)
    status, stderr = restore(bomb, data_dir, "--max-bytes", str(DATABASE_BYTES + 4096))
    assert status == 0, stderr  # under a limit that leaves room, the same archive restores


@pytest.mark.parametrize(
    "manifest",
    [b"{not json", b"[1, 2]", b'{"format": 1}', b'{"format": 1, "sha256": 7, "schemaVersion": "x", "createdAt": 1}'],
    ids=["not-json", "not-an-object", "missing-fields", "wrong-types"],
)
def test_a_malformed_manifest_is_reported_in_one_line(tmp_path: Path, manifest: bytes) -> None:
    archive = crafted(tmp_path / "bad.tar.gz", manifest, b"SQLite format 3\x00")
    data_dir = tmp_path / "restored"
    assert_refused_in_one_line(restore(archive, data_dir), "backup.json")
    assert_nothing_restored(data_dir)


@pytest.mark.parametrize(
    ("member", "kind", "link"),
    [
        ("../escaped", tarfile.REGTYPE, ""),
        ("/etc/cron.d/ludex", tarfile.REGTYPE, ""),
        ("secret.key", tarfile.SYMTYPE, "/etc/shadow"),
        ("demo-credentials.json", tarfile.LNKTYPE, "ludex.sqlite3"),
        ("notes.txt", tarfile.REGTYPE, ""),
    ],
    ids=["dot-dot", "absolute", "symlink", "hard-link", "unknown"],
)
def test_a_member_outside_the_known_files_is_refused_by_name(
    tmp_path: Path, member: str, kind: bytes, link: str
) -> None:
    database = b"SQLite format 3\x00"
    archive = crafted(tmp_path / "odd.tar.gz", None, database, (member, b"payload", kind, link))
    data_dir = tmp_path / "restored"
    assert_refused_in_one_line(restore(archive, data_dir), member)
    assert_nothing_restored(data_dir)
    assert not (tmp_path / "escaped").exists()
