"""Control-plane writes that race, over a real SQLite store: by compare-and-set, a revocation
is never undone by a rotation that read the key before it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from actors.ingress.control_plane import Backoffice, ControlError
from actors.stores.sqlite import SqliteStore


@pytest.fixture
async def control(tmp_path: Path) -> AsyncIterator[Backoffice]:
    store = SqliteStore(tmp_path / "ludex.sqlite3")
    await store.open()
    control = Backoffice(store)
    await control.ensure_tenant("acme", "Acme")
    await control.ensure_project("acme", "game", "Game")
    yield control
    await store.close()


async def test_a_revocation_racing_a_rotation_is_never_undone(control: Backoffice) -> None:
    for _ in range(20):
        key, token = await control.create_api_key("acme", "game", "raced")
        outcomes = await asyncio.gather(
            control.rotate_api_key("acme", "game", key.id, 3600.0),
            control.revoke_api_key(key.id),
            return_exceptions=True,
        )
        assert not isinstance(outcomes[1], BaseException), outcomes
        assert (
            outcomes[0] is None or not isinstance(outcomes[0], BaseException) or isinstance(outcomes[0], ControlError)
        )
        assert (await control.api_key_of("acme", "game", key.id)).revoked_at is not None
        assert await control.authenticate(token) is None, "the revoked key must stay revoked"
