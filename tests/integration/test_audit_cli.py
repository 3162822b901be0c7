"""`ludex audit verify` and `ludex audit forget` as an operator runs them, on a real SQLite
store: an intact log exits 0, an edited entry exits 2 naming it, an erasure keeps it verifiable."""

from __future__ import annotations

import asyncio
from pathlib import Path

from actors.audit_log import AUDIT, AuditLog
from actors.clock import FakeClock
from actors.stores.sqlite import SqliteStore
from tests.integration.test_audit_chain_store import change
from tests.integration.test_migrations import run_ludex

OFFLINE = {"LUDEX_MONGO_URL": ""}


def write_log(data_dir: Path, count: int) -> list[dict[str, object]]:
    async def write() -> list[dict[str, object]]:
        store = SqliteStore(data_dir / "ludex.sqlite3")
        await store.open()
        try:
            log = AuditLog(store, FakeClock())
            entries = [await log.append(change(n, actor="leaver@example.com")) for n in range(count)]
            await log.append(change(99, tenant=None))
            return entries
        finally:
            await store.close()

    return asyncio.run(write())


def tamper(data_dir: Path, entry: dict[str, object]) -> None:
    async def edit() -> None:
        store = SqliteStore(data_dir / "ludex.sqlite3")
        await store.open()
        await store.put_document(AUDIT, str(entry["id"]), {**entry, "action": "nothing.to.see"})
        await store.close()

    asyncio.run(edit())


def test_verify_passes_an_intact_log_and_names_the_first_edited_entry(tmp_path: Path) -> None:
    entries = write_log(tmp_path, 4)
    intact = run_ludex("audit", "verify", "--data-dir", str(tmp_path), env=OFFLINE)
    assert intact.returncode == 0, intact.stderr
    assert "tenant 'acme': intact, 4 entries" in intact.stdout and "the platform: intact, 1 entries" in intact.stdout
    noted = str(entries[-1]["hash"])
    assert (
        run_ludex(
            "audit", "verify", "--data-dir", str(tmp_path), "--tenant", "acme", "--expect", noted, env=OFFLINE
        ).returncode
        == 0
    )
    stranger = run_ludex(
        "audit", "verify", "--data-dir", str(tmp_path), "--tenant", "acme", "--expect", "ab" * 32, env=OFFLINE
    )
    assert stranger.returncode == 2 and "rewritten" in stranger.stderr

    tamper(tmp_path, entries[1])
    broken = run_ludex("audit", "verify", "--data-dir", str(tmp_path), env=OFFLINE)
    assert broken.returncode == 2
    assert f"BROKEN at entry 2 (edited): entry 2 ({entries[1]['id']})" in broken.stderr


def test_forget_erases_the_email_and_the_log_still_verifies(tmp_path: Path) -> None:
    write_log(tmp_path, 3)
    forgot = run_ludex(
        "audit", "forget", "--data-dir", str(tmp_path), "--tenant", "acme", "--email", "leaver@example.com", env=OFFLINE
    )
    assert forgot.returncode == 0 and "erased from 3 audit entries" in forgot.stdout, forgot.stderr
    assert run_ludex("audit", "verify", "--data-dir", str(tmp_path), env=OFFLINE).returncode == 0
    assert b"leaver@example.com" not in b"".join(p.read_bytes() for p in tmp_path.glob("ludex.sqlite3*"))
