"""Schema versions, and the ordered steps that bring an older store forward.

Each store records the schema version it holds (SQLite: `PRAGMA user_version`; MongoDB: the
`ludex_meta` document `schema`). Version 1 is the layout Ludex 0.1.0 created; a store from that
release has no version at all, and is stamped 1 once it is checked to look like one. Opening a
store compares its version with `LATEST_SCHEMA`: an older one is migrated forward (or, when the
deployment migrates as a separate step, refused before anything is touched); a newer one is
always refused, so a rollback never writes to data it does not understand.

Promises of a step: it is made of operations that are each idempotent, and the store's version
moves to the step's only after its last operation. A migration killed half-way leaves the old
version and some operations done; the next run repeats them all (the done ones change nothing)
and finishes. MongoDB operations over large collections work in batches and report progress.

A new schema change adds a step at the end of `SQLITE_STEPS` / `MONGO_STEPS` (and a fixture of
the release before it under `tests/fixtures/`); a step is never edited once released.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.write_concern import WriteConcern

from actors.boards import counts as board_counts  # the counts' layout lives with the boards that read them
from actors.stores.progress import PROGRESS_EVENTS, fold_progress

LATEST_SCHEMA = 8
Report = Callable[[str], None]
TEST_PAUSE_ENV = "LUDEX_TEST_MIGRATION_PAUSE_S"  # tests only: sleep after each operation / batch


class SchemaError(RuntimeError):
    """The store cannot be opened with this code as it is; the message says what to do."""


class SchemaTooNewError(SchemaError):
    def __init__(self, where: str, found: int) -> None:
        super().__init__(
            f"{where} holds schema version {found}, newer than this Ludex knows ({LATEST_SCHEMA}): it was written"
            " by a newer release. Run that release, or restore the backup taken before upgrading"
            " (docs/UPGRADING.md); nothing was changed."
        )


class SchemaOutdatedError(SchemaError):
    def __init__(self, where: str, found: int | None) -> None:
        held = "no schema version (Ludex 0.1.0)" if found is None else f"schema version {found}"
        super().__init__(
            f"{where} holds {held}; this Ludex needs version {LATEST_SCHEMA}. Back it up (`ludex backup`), then"
            " run `ludex migrate` (or let `ludex serve` do it: LUDEX_AUTO_MIGRATE=true); nothing was changed."
        )


class NotALudexStoreError(SchemaError):
    def __init__(self, where: str, why: str) -> None:
        super().__init__(f"{where} does not look like a Ludex store ({why}); nothing was changed.")


def _quiet(_line: str) -> None:
    """A new store's creation is not news."""


def _pause_s() -> float:
    return float(os.environ.get(TEST_PAUSE_ENV) or 0)


@dataclass(frozen=True)
class Plan:
    """What a migration finds and would do: `found` is None for an unversioned store."""

    where: str
    found: int | None
    fresh: bool
    steps: Sequence[Any]

    def describe(self) -> list[str]:
        if self.fresh:
            return [f"{self.where}: new store, created at schema version {LATEST_SCHEMA}"]
        lines = [f"{self.where}: schema version {self.found or 'none (Ludex 0.1.0)'}, this Ludex needs {LATEST_SCHEMA}"]
        if self.found is None:
            lines.append("  stamp version 1: the layout of Ludex 0.1.0, checked")
        for step in self.steps:
            lines.append(f"  step {step.version}: {step.summary}")
            lines.extend(f"    - {operation.summary}" for operation in step.operations)
        if not self.steps and self.found is not None:
            lines.append("  up to date, nothing to do")
        return lines


# ------------------------------------------------------------------------------------------ SQLite

SQLITE_V1_SCHEMA = """
CREATE TABLE IF NOT EXISTS journal (
    entity TEXT NOT NULL,
    seq INTEGER NOT NULL,
    occurred_at TEXT NOT NULL,
    recorded_at_ms INTEGER NOT NULL,
    events BLOB NOT NULL,
    idem_key TEXT,
    fingerprint TEXT,
    outcome BLOB,
    UNIQUE (entity, seq)
);
CREATE INDEX IF NOT EXISTS journal_idem ON journal (entity, idem_key) WHERE idem_key IS NOT NULL;
CREATE TABLE IF NOT EXISTS outcomes (
    entity TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    outcome BLOB NOT NULL,
    recorded_at_ms INTEGER NOT NULL,
    PRIMARY KEY (entity, idem_key)
);
CREATE TABLE IF NOT EXISTS players (
    tenant TEXT NOT NULL,
    project TEXT NOT NULL,
    player_id TEXT NOT NULL,
    username TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    metadata BLOB NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant, project, player_id)
);
CREATE INDEX IF NOT EXISTS players_username ON players (tenant, project, username);
CREATE TABLE IF NOT EXISTS events (
    position INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    tenant TEXT NOT NULL,
    project TEXT NOT NULL,
    player_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    data BLOB NOT NULL,
    occurred_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_project ON events (tenant, project, position);
CREATE INDEX IF NOT EXISTS events_type ON events (tenant, project, type, position);
CREATE INDEX IF NOT EXISTS events_player ON events (tenant, project, player_id, position);
CREATE INDEX IF NOT EXISTS events_time ON events (occurred_at);
CREATE TABLE IF NOT EXISTS documents (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    tenant TEXT,
    body BLOB NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE TABLE IF NOT EXISTS snapshots (
    entity TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    state BLOB NOT NULL,
    taken_at_ms INTEGER NOT NULL
);
"""  # the layout of Ludex 0.1.0 (schema version 1): never edit, add a step
SQLITE_V1_COLUMNS = {
    "journal": {"entity", "seq", "occurred_at", "recorded_at_ms", "events", "idem_key", "fingerprint", "outcome"},
    "outcomes": {"entity", "idem_key", "fingerprint", "outcome", "recorded_at_ms"},
    "players": {"tenant", "project", "player_id", "username", "created_at", "updated_at", "metadata", "deleted"},
    "events": {"position", "event_id", "type", "tenant", "project", "player_id", "seq", "data", "occurred_at"},
    "documents": {"kind", "id", "tenant", "body"},
    "snapshots": {"entity", "seq", "state", "taken_at_ms"},
}


@contextlib.contextmanager
def write_transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """One write transaction: committed when the block ends, rolled back if it raises."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


@dataclass(frozen=True)
class SqliteOperation:
    summary: str
    run: Callable[[sqlite3.Connection], None]  # inside a write transaction; idempotent


@dataclass(frozen=True)
class SqliteStep:
    version: int  # the schema version the store holds once every operation ran
    summary: str
    operations: tuple[SqliteOperation, ...]


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}


def _add_column(table: str, column: str, declaration: str) -> SqliteOperation:
    def run(conn: sqlite3.Connection) -> None:
        if column not in _columns(conn, table):
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")

    return SqliteOperation(f"add {table}.{column} ({declaration})", run)


SQLITE_LEADERBOARD_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS leaderboard_entries (tenant TEXT NOT NULL, project TEXT NOT NULL,"
    " board TEXT NOT NULL, period TEXT NOT NULL, player_id TEXT NOT NULL, score INTEGER NOT NULL,"
    " sort_key INTEGER NOT NULL, reached_ms INTEGER NOT NULL, seq INTEGER NOT NULL,"
    " PRIMARY KEY (tenant, project, board, period, player_id)) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS leaderboard_rank"
    " ON leaderboard_entries (tenant, project, board, period, sort_key, reached_ms, player_id)",
    "CREATE INDEX IF NOT EXISTS leaderboard_player ON leaderboard_entries (tenant, project, player_id)",
    "CREATE TABLE IF NOT EXISTS leaderboard_players (tenant TEXT NOT NULL, project TEXT NOT NULL,"
    " player_id TEXT NOT NULL, username TEXT NOT NULL, PRIMARY KEY (tenant, project, player_id)) WITHOUT ROWID",
)
"""The embedded leaderboards (`actors/boards/sqlite.py`): entries ranked by an index, and the
names players show with."""


def _create_leaderboard_tables(conn: sqlite3.Connection) -> None:
    for statement in SQLITE_LEADERBOARD_SCHEMA:
        conn.execute(statement)


def _count_leaderboard_entries(conn: sqlite3.Connection) -> None:
    conn.execute(board_counts.SCHEMA)
    board_counts.refill(conn)


PLAYER_SORT_INDEXES = ("created_at", "updated_at", "level", "xp")  # `?sort=` of player lists, no scan


def _index_player_sorts(conn: sqlite3.Connection) -> None:
    for column in PLAYER_SORT_INDEXES:
        conn.execute(f"CREATE INDEX IF NOT EXISTS players_{column} ON players (tenant, project, {column}, player_id)")
    conn.execute("CREATE INDEX IF NOT EXISTS players_username_id ON players (tenant, project, username, player_id)")


def _fill_player_progress(conn: sqlite3.Connection) -> None:
    """Every player's level and XP, folded from its journal (never purged, unlike events)."""
    types = tuple(PROGRESS_EVENTS)
    latest: dict[str, dict[str, int]] = {}
    rows = conn.execute(
        "SELECT entity, events FROM journal WHERE entity >= 'player:' AND entity < 'player;' ORDER BY entity, seq"
    )
    for entity, events in rows:
        decoded = orjson.loads(events)
        if any(e["type"] in types for e in decoded):
            fold_progress(decoded, latest.setdefault(entity, {}))
    updates = []
    for entity, values in latest.items():
        tenant, project, player_id = entity.removeprefix("player:").split("/", 2)
        updates.append((values.get("level", 1), values.get("xp", 0), tenant, project, player_id))
    conn.executemany("UPDATE players SET level = ?, xp = ? WHERE tenant = ? AND project = ? AND player_id = ?", updates)


def _create_slot_table(conn: sqlite3.Connection) -> None:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS slots (slot INTEGER PRIMARY KEY, host TEXT NOT NULL, epoch INTEGER NOT NULL)"
    )


SQLITE_STEPS: tuple[SqliteStep, ...] = (
    SqliteStep(
        2,
        "journal records state their format (engine/formats.py) and keep their command and request id",
        (
            # A column added with a default costs no rewrite: every existing record reads as format 1.
            _add_column("journal", "v", "INTEGER NOT NULL DEFAULT 1"),
            _add_column("journal", "command", "BLOB"),
            _add_column("journal", "request_id", "TEXT"),
        ),
    ),
    SqliteStep(
        3,
        "documents carry a version, for compare-and-set writes (actors/documents.py)",
        # Existing documents start at version 1 (0 means "absent" to compare-and-set).
        (_add_column("documents", "version", "INTEGER NOT NULL DEFAULT 1"),),
    ),
    SqliteStep(
        4,
        "the event feed's head (MongoDB only: SQLite positions are assigned at commit already)",
        (SqliteOperation("nothing to change", lambda conn: None),),
    ),
    SqliteStep(
        5,
        "leaderboards embedded in the store (actors/boards/sqlite.py); `ludex leaderboards rebuild` fills them",
        (SqliteOperation("create leaderboard_entries and leaderboard_players", _create_leaderboard_tables),),
    ),
    SqliteStep(
        6,
        "elastic shards: a slot table (slot -> host, epoch) and each journal record's slot, epoch and writer",
        (
            SqliteOperation("create table slots (slot -> host, epoch)", _create_slot_table),
            # NULL for every older record: it was written before slots, by the only host of its shard.
            _add_column("journal", "slot", "INTEGER"),
            _add_column("journal", "epoch", "INTEGER"),
            _add_column("journal", "host", "TEXT"),
        ),
    ),
    SqliteStep(
        7,
        "leaderboard ranks in O(log n): entries counted under each prefix of their rank key (actors/boards/counts.py)",
        (SqliteOperation("create leaderboard_counts and count every entry", _count_leaderboard_entries),),
    ),
    SqliteStep(
        8,
        "players searched by username and id prefix and sorted by created, updated, level or XP on indexes",
        (
            _add_column("players", "level", "INTEGER NOT NULL DEFAULT 1"),
            _add_column("players", "xp", "INTEGER NOT NULL DEFAULT 0"),
            SqliteOperation("fill each player's level and XP from its journal", _fill_player_progress),
            SqliteOperation("index players by (created_at | updated_at | level | xp, player_id)", _index_player_sorts),
        ),
    ),
)


def sqlite_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def plan_sqlite(conn: sqlite3.Connection, where: str) -> Plan:
    """Read what the file holds (changing nothing); refuses a newer or a foreign one."""
    version = sqlite_version(conn)
    if version > LATEST_SCHEMA:
        raise SchemaTooNewError(where, version)
    if version == 0:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        tables.discard("sqlite_sequence")
        if not tables:
            return Plan(where, None, True, SQLITE_STEPS)
        for table, columns in SQLITE_V1_COLUMNS.items():
            if table not in tables or not columns <= _columns(conn, table):
                raise NotALudexStoreError(where, f"no table {table} as Ludex 0.1.0 made it; tables: {sorted(tables)}")
    return Plan(where, version or None, False, [s for s in SQLITE_STEPS if s.version > version])


def migrate_sqlite(conn: sqlite3.Connection, plan: Plan, report: Report) -> None:
    """Carry out `plan` on an autocommit connection. Safe beside other processes doing the same:
    every operation and version change re-checks the version inside its own write transaction."""
    report = _quiet if plan.fresh else report
    if plan.found is None:
        with write_transaction(conn):
            if plan.fresh:
                for statement in SQLITE_V1_SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
            if sqlite_version(conn) == 0:
                conn.execute("PRAGMA user_version = 1")
        report("stamped schema version 1 (the layout of Ludex 0.1.0)")
    for step in plan.steps:
        report(f"step {step.version}: {step.summary}")
        for operation in step.operations:
            with write_transaction(conn):
                if sqlite_version(conn) < step.version:
                    operation.run(conn)
            report(f"  done: {operation.summary}")
            time.sleep(_pause_s())
        with write_transaction(conn):
            if sqlite_version(conn) < step.version:
                conn.execute(f"PRAGMA user_version = {step.version}")
        report(f"  schema version {step.version}")


def prepare_sqlite(conn: sqlite3.Connection, where: str, *, migrate: bool, report: Report) -> None:
    """At open: create a new store, or migrate an older one forward when allowed."""
    plan = plan_sqlite(conn, where)
    if plan.steps and not plan.fresh and not migrate:
        raise SchemaOutdatedError(where, plan.found)
    if plan.fresh or plan.steps:
        migrate_sqlite(conn, plan, report)


# ----------------------------------------------------------------------------------------- MongoDB

META = "ludex_meta"
SCHEMA_ID = "schema"
DURABLE = WriteConcern(w="majority", j=True)
MONGO_V1_COLLECTIONS = {"journal", "snapshots", "outcomes", "players", "events", "counters"}
MONGO_V1_RECORD_FIELDS = {"entity", "seq", "occurredAt", "recordedAtMs", "events"}
Database = AsyncDatabase[dict[str, Any]]


async def create_mongo_v1_indexes(db: Database) -> None:
    """The indexes Ludex 0.1.0 created (schema version 1): never edit, add a step."""
    journal, events = db["journal"], db["events"]
    await journal.create_index([("entity", ASCENDING), ("seq", ASCENDING)], unique=True)
    await journal.create_index(
        [("entity", ASCENDING), ("idemKey", ASCENDING)], partialFilterExpression={"idemKey": {"$exists": True}}
    )
    await db["outcomes"].create_index([("recordedAtMs", ASCENDING)])
    players = [("tenant", ASCENDING), ("project", ASCENDING)]
    await db["players"].create_index([*players, ("playerId", ASCENDING)], unique=True)
    await db["players"].create_index([*players, ("username", ASCENDING)])
    await events.create_index([("position", ASCENDING)])
    for field in ("position", "type", "playerId"):
        keys = [("tenant", ASCENDING), ("project", ASCENDING), (field, ASCENDING)]
        await events.create_index(keys if field == "position" else [*keys, ("position", ASCENDING)])
    await journal.create_index([("projected", ASCENDING)], partialFilterExpression={"projected": False})


@dataclass(frozen=True)
class MongoOperation:
    summary: str
    run: Callable[[Database, Report, int], Awaitable[None]]  # idempotent; (db, report, batch size)


@dataclass(frozen=True)
class MongoStep:
    version: int
    summary: str
    operations: tuple[MongoOperation, ...]


async def _stamp_record_format(db: Database, report: Report, batch_size: int) -> None:
    """`v: 1` on every journal record written before formats existed, a batch at a time (a batch
    is one round trip and leaves the collection usable; records written meanwhile carry their own)."""
    journal = db.get_collection("journal", write_concern=DURABLE)
    unstamped = {"v": {"$exists": False}}
    total = await journal.count_documents(unstamped)
    done = 0
    while ids := [d["_id"] async for d in journal.find(unstamped, {"_id": 1}).limit(batch_size)]:
        await journal.update_many({"_id": {"$in": ids}, **unstamped}, {"$set": {"v": 1}})
        done += len(ids)
        report(f"    journal: {done}/{total} records stamped")
        await asyncio.sleep(_pause_s())


async def _head_at_last_position(db: Database, report: Report, batch_size: int) -> None:
    """Events written before have their positions: all of them are final."""
    last = await db["counters"].find_one({"_id": "events"})
    await db["counters"].update_one(
        {"_id": "events-head"}, {"$max": {"value": 0 if last is None else int(last["value"])}}, upsert=True
    )


async def _stamp_document_versions(db: Database, report: Report, batch_size: int) -> None:
    """Control documents written before versions start at version 1 (0 means "absent")."""
    for name in sorted(await db.list_collection_names()):
        if not name.startswith("control_"):
            continue
        collection, unstamped = db[name], {"_version": {"$exists": False}}
        total, done = await collection.count_documents(unstamped), 0
        while ids := [d["_id"] async for d in collection.find(unstamped, {"_id": 1}).limit(batch_size)]:
            await collection.update_many({"_id": {"$in": ids}, **unstamped}, {"$set": {"_version": 1}})
            done += len(ids)
            report(f"    {name}: {done}/{total} documents stamped")
            await asyncio.sleep(_pause_s())


async def _nothing(db: Database, report: Report, batch_size: int) -> None:
    """A step that only moves the version, so both stores number their schemas alike."""


async def _index_slot_epochs(db: Database, report: Report, batch_size: int) -> None:
    """The `slots` collection needs no index of its own (its `_id` is the slot); older journal
    records have no slot and stay out of this partial index."""
    await db["journal"].create_index(
        [("slot", ASCENDING), ("epoch", ASCENDING)], partialFilterExpression={"slot": {"$exists": True}}
    )


async def _player_progress_and_sorts(db: Database, report: Report, batch_size: int) -> None:
    """Each player's level and XP folded from its journal, then the indexes of `?sort=`."""
    players = db.get_collection("players", write_concern=DURABLE)
    latest: dict[str, dict[str, int]] = {}
    query = {"entity": {"$gte": "player:", "$lt": "player;"}}
    async for record in db["journal"].find(query, {"entity": 1, "events": 1}).sort([("entity", 1), ("seq", 1)]):
        if any(e["type"] in PROGRESS_EVENTS for e in record["events"]):
            fold_progress(record["events"], latest.setdefault(record["entity"], {}))
    for done, (entity, values) in enumerate(latest.items(), start=1):
        tenant, project, player_id = entity.removeprefix("player:").split("/", 2)
        key = {"tenant": tenant, "project": project, "playerId": player_id}
        await players.update_one(key, {"$set": {"level": values.get("level", 1), "xp": values.get("xp", 0)}})
        if done % batch_size == 0:
            report(f"    players: {done}/{len(latest)} levels and XP filled")
    await players.update_many({"level": {"$exists": False}}, {"$set": {"level": 1, "xp": 0}})
    keys = [("tenant", ASCENDING), ("project", ASCENDING)]
    for field in ("username", "createdAt", "updatedAt", "level", "xp"):
        await players.create_index([*keys, (field, ASCENDING), ("playerId", ASCENDING)])


MONGO_STEPS: tuple[MongoStep, ...] = (
    MongoStep(
        2,
        "journal records state their format (engine/formats.py) and keep their command and request id",
        (MongoOperation("stamp format 1 (`v: 1`) on existing journal records, in batches", _stamp_record_format),),
    ),
    MongoStep(
        3,
        "documents carry a version, for compare-and-set writes (actors/documents.py)",
        (MongoOperation("stamp `_version: 1` on every control-plane document, in batches", _stamp_document_versions),),
    ),
    MongoStep(
        4,
        "the event feed is gap-free: positions are given by one sequencer and readers stop at its head",
        (MongoOperation("set the feed's head to the last position handed out", _head_at_last_position),),
    ),
    MongoStep(
        5,
        "leaderboards (kept in Redis, or in an embedded file: docs/LEADERBOARDS.md); nothing in MongoDB",
        (MongoOperation("nothing to change", _nothing),),
    ),
    MongoStep(
        6,
        "elastic shards: a slot table (slot -> host, epoch) and each journal record's slot, epoch and writer",
        (MongoOperation("index the journal by (slot, epoch), for ownership audits", _index_slot_epochs),),
    ),
    MongoStep(
        7,
        "leaderboard rank counts (embedded boards only: docs/LEADERBOARDS.md); nothing in MongoDB",
        (MongoOperation("nothing to change", _nothing),),
    ),
    MongoStep(
        8,
        "players searched by username and id prefix and sorted by created, updated, level or XP on indexes",
        (MongoOperation("fill players' level and XP from the journal; index the sorts", _player_progress_and_sorts),),
    ),
)


async def mongo_version(db: Database) -> int | None:
    meta = await db[META].find_one({"_id": SCHEMA_ID})
    return None if meta is None else int(meta["version"])


async def plan_mongo(db: Database, where: str) -> Plan:
    version = await mongo_version(db)
    if version is not None and version > LATEST_SCHEMA:
        raise SchemaTooNewError(where, version)
    if version is None:
        names = set(await db.list_collection_names())
        ours = {n for n in names if n in MONGO_V1_COLLECTIONS or n.startswith("control_")}
        if not ours:
            if names - {META}:
                raise NotALudexStoreError(where, f"collections {sorted(names)} are not Ludex's")
            return Plan(where, None, True, MONGO_STEPS)
        record = await db["journal"].find_one({}) if "journal" in names else None
        if record is not None and not set(record) >= MONGO_V1_RECORD_FIELDS:
            raise NotALudexStoreError(where, f"a journal document without {sorted(MONGO_V1_RECORD_FIELDS)}")
    return Plan(where, version, False, [s for s in MONGO_STEPS if s.version > (version or 1)])


async def migrate_mongo(db: Database, plan: Plan, report: Report, batch_size: int = 1000) -> None:
    """Carry out `plan`. Concurrent runs are safe: operations are idempotent and the version
    only moves forward (`$lt` guard)."""
    report = _quiet if plan.fresh else report
    meta = db.get_collection(META, write_concern=DURABLE)
    if plan.found is None:
        await create_mongo_v1_indexes(db)
        await meta.update_one({"_id": SCHEMA_ID}, {"$setOnInsert": {"version": 1}}, upsert=True)
        report("stamped schema version 1 (the layout of Ludex 0.1.0)")
    for step in plan.steps:
        report(f"step {step.version}: {step.summary}")
        for operation in step.operations:
            await operation.run(db, report, batch_size)
            report(f"  done: {operation.summary}")
        await meta.update_one({"_id": SCHEMA_ID, "version": {"$lt": step.version}}, {"$set": {"version": step.version}})
        report(f"  schema version {step.version}")


async def prepare_mongo(db: Database, where: str, *, migrate: bool, report: Report, batch_size: int = 1000) -> None:
    plan = await plan_mongo(db, where)
    if plan.steps and not plan.fresh and not migrate:
        raise SchemaOutdatedError(where, plan.found)
    if plan.fresh or plan.steps:
        await migrate_mongo(db, plan, report, batch_size)
