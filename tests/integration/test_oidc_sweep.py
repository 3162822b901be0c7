"""Abandoned OIDC sign-ins leave a state (10 min) or a ticket (60 s) in the store; the sweep
removes them once expired, and only them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from actors.clock import FakeClock
from actors.ingress.accounts import AccountService
from actors.ingress.oidc_providers import OidcProviders
from actors.ingress.oidc_signin import STATES, TICKETS, OidcSignIn
from actors.secret_box import SecretBox
from actors.stores.sqlite import SqliteStore
from config.settings import Settings
from engine.rules import rfc3339


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    store = SqliteStore(tmp_path / "ludex.sqlite3")
    await store.open()
    yield store
    await store.close()


async def test_the_sweep_removes_expired_states_and_tickets_only(store: SqliteStore, tmp_path: Path) -> None:
    clock = FakeClock()
    box = SecretBox.from_settings(Settings(data_dir=tmp_path))
    service = OidcSignIn(
        store, OidcProviders(store, box, allow_private=True), AccountService(store, clock, box=box), clock
    )
    now = clock.now()
    for kind, name, seconds in [(STATES, "old", -1), (STATES, "new", 300), (TICKETS, "old", -5), (TICKETS, "new", 30)]:
        await store.put_document(kind, name, {"id": name, "expiresAt": rfc3339(now + timedelta(seconds=seconds))})
    assert await service.sweep() == 2
    assert [d["id"] for d in await store.list_documents(STATES)] == ["new"]
    assert [d["id"] for d in await store.list_documents(TICKETS)] == ["new"]
    clock.advance(301)
    assert await service.sweep() == 2
    assert await store.list_documents(STATES) == [] and await store.list_documents(TICKETS) == []
