"""Fixtures of the integration tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from actors.stores.base import Store
from actors.stores.mongo import MongoStore
from actors.stores.sqlite import SqliteStore


@pytest.fixture(params=["sqlite", pytest.param("mongo", marks=pytest.mark.mongo)])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """An open store of each backend in turn: SQLite, and MongoDB over nx-27017 (`mongo` mark)."""
    created: Store
    if request.param == "sqlite":
        created = SqliteStore(tmp_path / "ludex.sqlite3")
    else:
        created = MongoStore(request.getfixturevalue("mongo_url"), request.getfixturevalue("mongo_database"))
    await created.open()
    yield created
    await created.close()
