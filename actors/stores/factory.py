"""Choose the store a deployment asked for: MongoDB when `LUDEX_MONGO_URL` is set, else SQLite."""

from __future__ import annotations

from actors.stores.base import Store
from actors.stores.mongo import MongoStore
from actors.stores.sqlite import SqliteStore
from config.settings import Settings


def store_for(settings: Settings) -> Store:
    if settings.mongo_url:
        return MongoStore(settings.mongo_url, settings.mongo_database)
    return SqliteStore(settings.sqlite_path)
