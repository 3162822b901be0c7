"""Choose where a deployment keeps its leaderboards (docs/LEADERBOARDS.md)."""

from __future__ import annotations

from actors.boards.redis import RedisBoardStore
from actors.boards.sqlite import SqliteBoardStore
from actors.boards.store import BoardStore
from config.settings import Settings


def board_store_for(settings: Settings) -> BoardStore:
    """Redis sorted sets when `LUDEX_REDIS_URL` is set; else embedded: in the SQLite store's file,
    or, beside MongoDB, in a file of its own in `LUDEX_DATA_DIR` (one node only: a cluster on
    MongoDB sets `LUDEX_REDIS_URL`)."""
    if settings.redis_url:
        return RedisBoardStore(settings.redis_url, shards=settings.leaderboard_shards)
    if settings.mongo_url:
        return SqliteBoardStore(settings.data_dir / "leaderboards.sqlite3", own_file=True)
    return SqliteBoardStore(settings.sqlite_path)
