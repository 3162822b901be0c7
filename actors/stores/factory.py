"""Choose the store a deployment asked for: MongoDB when `LUDEX_MONGO_URL` is set, else SQLite."""

from __future__ import annotations

from actors.stores.base import Store
from actors.stores.migrations import Report
from actors.stores.mongo import MongoStore
from actors.stores.sqlite import SqliteStore
from config.settings import Settings


def store_for(settings: Settings, report: Report | None = None) -> Store:
    """`report` hears each migration step (default: the `ludex.stores` log)."""
    if settings.mongo_url:
        return MongoStore(
            settings.mongo_url,
            settings.mongo_database,
            timeout_ms=settings.mongo_timeout_ms,
            auto_migrate=settings.auto_migrate,
            batch_size=settings.migration_batch_size,
            report=report,
        )
    return SqliteStore(settings.sqlite_path, auto_migrate=settings.auto_migrate, report=report)
