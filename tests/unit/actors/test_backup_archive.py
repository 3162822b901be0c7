"""`restore` trusts nothing in an archive, checked in process against real tar files and a real
SQLite backup (the CLI tests in tests/integration/test_backup_safety.py run it as a subprocess,
which coverage does not see): every kind of crafted member and malformed manifest is refused
with its reason, and the data directory is left untouched."""

from __future__ import annotations

import io
import json
import sqlite3
import tarfile
from pathlib import Path
from typing import Any

import pytest

from actors.stores.backup import BackupError, BackupRefusedError, backup, restore


@pytest.fixture
def good(tmp_path: Path) -> Path:
    """A real backup of a small SQLite database (a .tar, so members can be appended)."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    conn = sqlite3.connect(data_dir / "ludex.sqlite3")
    conn.execute("CREATE TABLE t (x)")
    conn.execute("INSERT INTO t VALUES (1)")
    conn.commit()
    conn.close()
    (data_dir / "secret.key").write_text("key")
    target = tmp_path / "backups" / "ludex.tar"
    summary = backup(data_dir, target)
    assert summary.file == target and target.is_file()
    return target


def rewritten(good: Path, tmp_path: Path, change: Any) -> Path:
    """A copy of `good` whose members `change(members: dict[name, (TarInfo, bytes)])` edits."""
    members: dict[str, tuple[tarfile.TarInfo, bytes]] = {}
    with tarfile.open(good) as archive:
        for member in archive.getmembers():
            stream = archive.extractfile(member)
            members[member.name] = (member, b"" if stream is None else stream.read())
    change(members)
    crafted = tmp_path / "crafted.tar"
    with tarfile.open(crafted, "w") as archive:
        for info, body in members.values():
            info.size = len(body) if info.isfile() else 0
            archive.addfile(info, io.BytesIO(body) if info.isfile() else None)
    return crafted


def refused(archive: Path, data_dir: Path, reason: str) -> None:
    with pytest.raises(BackupRefusedError, match=reason):
        restore(archive, data_dir)
    assert not data_dir.exists(), "a refused archive leaves the data directory as it was"


def test_a_good_backup_restores_its_database_and_secrets(good: Path, tmp_path: Path) -> None:
    summary = restore(good, tmp_path / "restored")
    assert summary.schema_version >= 0 and summary.created_at
    conn = sqlite3.connect(tmp_path / "restored" / "ludex.sqlite3")
    assert conn.execute("SELECT x FROM t").fetchall() == [(1,)]
    conn.close()
    assert (tmp_path / "restored" / "secret.key").read_text() == "key"


def test_missing_sources_and_busy_directories_are_refused(good: Path, tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="does not exist"):
        restore(tmp_path / "nothing.tar", tmp_path / "a")
    with pytest.raises(BackupError, match="nothing to back up"):
        backup(tmp_path / "empty", tmp_path / "b.tar")
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "keep").write_text("mine")
    with pytest.raises(BackupError, match="is not empty"):
        restore(good, busy)
    assert (busy / "keep").read_text() == "mine"
    not_tar = tmp_path / "not.tar"
    not_tar.write_bytes(b"plain text, not an archive" * 40)
    refused(not_tar, tmp_path / "c", "not a tar file")


def member(name: str, kind: bytes = tarfile.REGTYPE, linkname: str = "") -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, linkname
    return info, b"x"


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        (member("/etc/passwd"), "an absolute path"),
        (member("../escape"), "climbs out"),
        (member("secret.key", tarfile.SYMTYPE, "/etc/shadow"), "a link"),
        (member("secret.key", tarfile.DIRTYPE), "not a regular file"),
        (member("notes.txt"), "not a file of a Ludex backup"),
    ],
)
def test_a_crafted_member_is_refused_by_name(
    good: Path, tmp_path: Path, extra: tuple[tarfile.TarInfo, bytes], reason: str
) -> None:
    crafted = rewritten(good, tmp_path, lambda members: members.update({"extra": extra}))
    refused(crafted, tmp_path / "restored", reason)


def test_a_member_named_twice_or_a_missing_database_is_refused(good: Path, tmp_path: Path) -> None:
    def twice(members: dict[str, tuple[tarfile.TarInfo, bytes]]) -> None:
        info, body = members["ludex.sqlite3"]
        copy = tarfile.TarInfo(info.name)
        members["again"] = (copy, body)

    refused(rewritten(good, tmp_path, twice), tmp_path / "r1", "a second time")
    refused(rewritten(good, tmp_path, lambda m: m.pop("ludex.sqlite3")), tmp_path / "r2", "no backup.json or")
    with pytest.raises(BackupRefusedError, match="over the limit"):
        restore(good, tmp_path / "r3", max_bytes=10)


@pytest.mark.parametrize(
    ("manifest", "reason"),
    [
        (b"{not json", "is not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"format": 99}', "backup format 99"),
        (b'{"format": 1, "sha256": "x", "schemaVersion": true, "createdAt": "now"}', "'schemaVersion'"),
    ],
)
def test_a_malformed_manifest_is_refused(good: Path, tmp_path: Path, manifest: bytes, reason: str) -> None:
    def replace(members: dict[str, tuple[tarfile.TarInfo, bytes]]) -> None:
        members["backup.json"] = (members["backup.json"][0], manifest)

    refused(rewritten(good, tmp_path, replace), tmp_path / "restored", reason)


def test_a_database_that_does_not_match_its_checksum_is_refused(good: Path, tmp_path: Path) -> None:
    def damage(members: dict[str, tuple[tarfile.TarInfo, bytes]]) -> None:
        info, body = members["ludex.sqlite3"]
        members["ludex.sqlite3"] = (info, body[:-1] + bytes([body[-1] ^ 0xFF]))

    refused(rewritten(good, tmp_path, damage), tmp_path / "restored", "does not match the checksum")


def test_the_manifest_names_the_database_it_checks(good: Path) -> None:
    with tarfile.open(good) as archive:
        stream = archive.extractfile("backup.json")
        assert stream is not None
        manifest = json.loads(stream.read())
    assert manifest["format"] == 1 and len(manifest["sha256"]) == 64 and manifest["database"] == "ludex.sqlite3"
