"""SQLite store: the embedded default. WAL mode with `synchronous=FULL`, so a commit that
returned survives a crash of the process and of the machine. Writes go through one thread that
owns the writing connection; a group of records is one transaction, one fsync. Reads go through
a second thread and connection: WAL lets them run while a commit waits for its fsync, and a read
started after a commit returned sees that commit."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import sqlite3
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import orjson

from actors.stores.base import (
    BOARD_RESET,
    PLAYER_SORTS,
    CommitResult,
    EventQuery,
    EventRecord,
    History,
    JournalRecord,
    PlayerRow,
    PlayerSearch,
    Remembered,
    RememberedAnswer,
    SlotClaim,
    SlotOwner,
    Snapshot,
    board_entities,
    event_records,
    fenced_slots,
    player_path,
    player_progress,
    player_rows,
    prefix_upper_bound,
    split_fenced,
    stale_records,
    tenant_entities,
)
from actors.stores.migrations import (
    SQLITE_STEPS,
    Plan,
    Report,
    migrate_sqlite,
    plan_sqlite,
    prepare_sqlite,
    write_transaction,
)
from engine.identity import tenant_player_keys
from engine.privacy import scrub_command, scrub_events, scrub_fields, scrub_state, scrub_winners

T = TypeVar("T")
log = logging.getLogger("ludex.stores")
JOURNAL_COLUMNS = (  # `_journal_record`'s order
    "entity, seq, occurred_at, recorded_at_ms, events, idem_key, fingerprint, outcome, v, command, request_id,"
    " slot, epoch, host"
)
OPEN_RETRY_S = 30.0  # how long opening a connection waits out other processes' locks
HISTORY_CHUNK = 500  # entities per statement, well under SQLite's limit on bound parameters
ERASE_CHUNK = 500  # rows rewritten per transaction by an erasure: other writers wait at most that long
TRUNCATE_ATTEMPTS = 20  # of checkpoint(TRUNCATE) after an erasure, while readers hold the WAL


class _Connection:
    """One SQLite connection and the one thread that may use it."""

    def __init__(
        self, path: Path, name: str, pragmas: Sequence[str], setup: Callable[[sqlite3.Connection], None] | None = None
    ) -> None:
        self.path, self.pragmas, self.setup = path, pragmas, setup
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self.conn: sqlite3.Connection | None = None
        self.busy = 0  # calls queued or running

    async def open(self) -> None:
        def connect() -> None:
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=10.0)
            # Several processes open one file at once (shard hosts, ingress replicas, their
            # checkpointers); switching to WAL or checking the schema can meet a lock that SQLite
            # reports at once instead of waiting on it: retry for a while.
            steps: list[Callable[[], object]] = [functools.partial(conn.execute, pragma) for pragma in self.pragmas]
            if self.setup is not None:
                steps.append(functools.partial(self.setup, conn))
            deadline = time.monotonic() + OPEN_RETRY_S
            for step in steps:
                while True:
                    try:
                        step()
                        break
                    except sqlite3.OperationalError as error:
                        if "locked" not in str(error) or time.monotonic() > deadline:
                            conn.close()
                            raise
                        time.sleep(0.05)
            self.conn = conn

        await asyncio.get_running_loop().run_in_executor(self.executor, connect)

    async def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        conn = self.conn
        assert conn is not None, "store is not open"
        self.busy += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self.executor, fn, conn)
        finally:
            self.busy -= 1

    async def close(self) -> None:
        conn = self.conn
        if conn is not None:
            await asyncio.get_running_loop().run_in_executor(self.executor, conn.close)
        self.conn = None
        self.executor.shutdown(wait=True)


@contextlib.contextmanager
def _read_transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """Several statements that must see one state of the file. Outside a transaction each
    statement sees the newest commit, so a snapshot written between two of them (a passivation
    racing an activation) made the journal read skip records the snapshot read had not seen."""
    conn.execute("BEGIN")
    try:
        yield
    finally:
        conn.execute("COMMIT")


def _read_histories(conn: sqlite3.Connection, entities: Sequence[str]) -> list[History]:
    """Two statements per chunk of entities, not two per entity: the statements' Python-side
    cost (holding the GIL) was most of an activation's (bench_scale, 100k players). Call it
    inside one read transaction."""
    snapshots: dict[str, Snapshot] = {}
    records: dict[str, list[JournalRecord]] = {entity: [] for entity in entities}
    unique = list(records)
    for start in range(0, len(unique), HISTORY_CHUNK):
        chunk = unique[start : start + HISTORY_CHUNK]
        marks = ",".join("?" * len(chunk))
        for entity, seq, state, taken_at_ms in conn.execute(
            f"SELECT entity, seq, state, taken_at_ms FROM snapshots WHERE entity IN ({marks})", chunk
        ):
            snapshots[entity] = Snapshot(entity, seq, orjson.loads(state), taken_at_ms)
        rows = conn.execute(
            f"SELECT {JOURNAL_COLUMNS} FROM journal WHERE entity IN ({marks}) AND seq >"
            " coalesce((SELECT seq FROM snapshots WHERE snapshots.entity = journal.entity), 0)"
            " ORDER BY entity, seq",
            chunk,
        )
        for row in rows:
            records[row[0]].append(_journal_record(row))
    return [History(snapshots.get(entity), records[entity]) for entity in entities]


def _load_snapshot(conn: sqlite3.Connection, entity: str) -> Snapshot | None:
    row = conn.execute("SELECT seq, state, taken_at_ms FROM snapshots WHERE entity = ?", (entity,)).fetchone()
    return None if row is None else Snapshot(entity, row[0], orjson.loads(row[1]), row[2])


def _read_journal(
    conn: sqlite3.Connection, entity: str, after_seq: int, limit: int | None = None
) -> list[JournalRecord]:
    rows = conn.execute(
        f"SELECT {JOURNAL_COLUMNS} FROM journal WHERE entity = ? AND seq > ? ORDER BY seq LIMIT ?",
        (entity, after_seq, -1 if limit is None else limit),
    ).fetchall()
    return [_journal_record(row) for row in rows]


def _dumps(value: Any) -> bytes:
    return orjson.dumps(value)


# Checkpoints (copying the WAL back into the database) run on a connection of their own every
# CHECKPOINT_INTERVAL_S, beside the writer; the writer checkpoints itself only past
# WRITER_CHECKPOINT_PAGES as a backstop. With SQLite's default (the committing connection, every
# 1,000 pages), commits that touched pages all over large indexes (many distinct players) paid for
# frequent checkpoints inline (bench_scale, 100k players: 0.67x -> 0.76-0.80x of 1k throughput
# with the backstop alone).
CHECKPOINT_INTERVAL_S = 0.5
WRITER_CHECKPOINT_PAGES = 10_000


class SqliteStore:
    def __init__(
        self, path: str | Path, *, readers: int = 2, auto_migrate: bool = True, report: Report | None = None
    ) -> None:
        self.path = Path(path)
        self.readers = readers
        self.auto_migrate = auto_migrate  # False: an older schema is refused at open (`ludex migrate` first)
        self.report: Report = report or (lambda line: log.info("%s: %s", self.path, line))
        self._writer: _Connection | None = None
        self._readers: list[_Connection] = []
        self._checkpointer: _Connection | None = None
        self._checkpoints: asyncio.Task[None] | None = None

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """On the writing connection: writes, and reads that must see them in the same thread."""
        assert self._writer is not None, "store is not open"
        return await self._writer.run(fn)

    async def run_derived(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Writes of a projection the journal can always rebuild (the embedded leaderboards): on the
        writer's own thread, so they never meet the journal's lock (SQLite's busy handler sleeps
        milliseconds), and without an fsync of their own (the next commit syncs the WAL)."""

        def run(conn: sqlite3.Connection) -> T:
            conn.execute("PRAGMA synchronous=OFF")
            try:
                return fn(conn)
            finally:
                conn.execute("PRAGMA synchronous=FULL")

        return await self._run(run)

    async def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """On the least busy reading connection: a read never queues behind a commit's fsync, and
        two reads (an activation batch, a key-lookup batch) run side by side, since SQLite lets go
        of the GIL while it searches."""
        assert self._readers, "store is not open"
        return await min(self._readers, key=lambda reader: reader.busy).run(fn)

    async def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        writer = _Connection(
            self.path,
            "ludex-sqlite",
            ["PRAGMA busy_timeout=10000"],
            self._prepare_writer,
        )
        await writer.open()  # first: it creates or migrates the schema the others see
        readers = [
            _Connection(self.path, f"ludex-sqlite-read-{i}", ["PRAGMA busy_timeout=10000"]) for i in range(self.readers)
        ]
        checkpointer = _Connection(self.path, "ludex-sqlite-checkpoint", ["PRAGMA busy_timeout=10000"])
        await asyncio.gather(*(connection.open() for connection in (*readers, checkpointer)))
        self._writer, self._readers, self._checkpointer = writer, readers, checkpointer
        self._checkpoints = asyncio.create_task(self._checkpoint_forever(checkpointer), name="ludex-sqlite-checkpoint")

    def _prepare_writer(self, conn: sqlite3.Connection) -> None:
        # The schema check comes first: a file this code must refuse is left exactly as it was.
        prepare_sqlite(conn, str(self.path), migrate=self.auto_migrate, report=self.report)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        # Freed space (a replaced row, a deleted one, a freed page) is zeroed as it is freed, so an
        # erased player's personal data leaves no bytes behind in the file (docs/PRIVACY.md).
        conn.execute("PRAGMA secure_delete=ON")
        conn.execute(f"PRAGMA wal_autocheckpoint={WRITER_CHECKPOINT_PAGES}")

    async def migrate(self, *, dry_run: bool = False) -> Plan:
        """Bring the schema to this code's version (`dry_run`: only say what that takes), through
        a connection of its own: a store need not be open."""

        def run() -> Plan:
            if dry_run and not self.path.exists():
                return Plan(str(self.path), None, True, SQLITE_STEPS)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=OPEN_RETRY_S)
            try:
                plan = plan_sqlite(conn, str(self.path))
                if not dry_run:
                    conn.execute("PRAGMA journal_mode=WAL")
                    migrate_sqlite(conn, plan, self.report)
                return plan
            finally:
                conn.close()

        return await asyncio.to_thread(run)

    async def _checkpoint_forever(self, checkpointer: _Connection) -> None:
        def checkpoint(conn: sqlite3.Connection) -> None:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

        while True:
            await asyncio.sleep(CHECKPOINT_INTERVAL_S)
            with contextlib.suppress(sqlite3.Error):  # busy or locked: the next tick (or the writer's backstop)
                await checkpointer.run(checkpoint)

    async def close(self) -> None:
        writer, readers, checkpointer, checkpoints = self._writer, self._readers, self._checkpointer, self._checkpoints
        if writer is None:
            return
        self._writer, self._readers, self._checkpointer, self._checkpoints = None, [], None, None
        if checkpoints is not None:
            checkpoints.cancel()
            await asyncio.gather(checkpoints, return_exceptions=True)
        await asyncio.gather(*(connection.close() for connection in (*readers, checkpointer) if connection is not None))
        await writer.close()

    async def commit(self, records: Sequence[JournalRecord], outcomes: Sequence[RememberedAnswer]) -> CommitResult:
        outcome_rows = [
            (o.entity, o.idempotency_key, o.fingerprint, _dumps(o.outcome), o.recorded_at_ms) for o in outcomes
        ]

        def write(conn: sqlite3.Connection) -> CommitResult:
            # The epoch check and the insert share one write transaction: a slot that moves does
            # so before or after this commit as a whole, never in between.
            try:
                with write_transaction(conn):
                    stale = _stale(conn, records)
                    _write(conn, *_rows([r for r in records if (r.entity, r.seq) not in stale]), outcome_rows)
                return CommitResult(stale=stale)
            except sqlite3.IntegrityError:
                with write_transaction(conn):
                    stale = _stale(conn, records)
                    fresh = [r for r in records if (r.entity, r.seq) not in stale]
                    kept, refused = split_fenced(fresh, _taken(conn, [(r.entity, r.seq) for r in fresh]))
                    _write(conn, *_rows(kept), outcome_rows)
                return CommitResult(conflicts=refused, stale=stale)

        return await self._run(write)

    async def read_journal(self, entity: str, after_seq: int = 0, limit: int | None = None) -> list[JournalRecord]:
        return await self._read(lambda conn: _read_journal(conn, entity, after_seq, limit))

    async def read_last(self, entity: str) -> JournalRecord | None:
        def read(conn: sqlite3.Connection) -> JournalRecord | None:
            row = conn.execute(
                f"SELECT {JOURNAL_COLUMNS} FROM journal WHERE entity = ? ORDER BY seq DESC LIMIT 1", (entity,)
            ).fetchone()
            return None if row is None else _journal_record(row)

        return await self._read(read)

    async def scan_journal(
        self,
        prefix: str,
        *,
        since: str | None,
        until: str | None,
        after: tuple[str, int] | None,
        limit: int,
    ) -> list[JournalRecord]:
        # A range on `entity` walks the UNIQUE (entity, seq) index in order, so a page costs
        # its own rows (plus those the time window skips), never a sort of the whole journal.
        sql = f"SELECT {JOURNAL_COLUMNS} FROM journal WHERE entity >= ?"
        params: list[Any] = [prefix]
        upper = prefix_upper_bound(prefix)
        if upper is not None:
            sql += " AND entity < ?"
            params.append(upper)
        if since is not None:
            sql += " AND occurred_at >= ?"
            params.append(since)
        if until is not None:
            sql += " AND occurred_at < ?"
            params.append(until)
        if after is not None:
            sql += " AND (entity, seq) > (?, ?)"
            params.extend(after)
        sql += " ORDER BY entity, seq LIMIT ?"
        params.append(limit)

        def read(conn: sqlite3.Connection) -> list[JournalRecord]:
            return [_journal_record(row) for row in conn.execute(sql, params).fetchall()]

        return await self._read(read)

    async def load_snapshot(self, entity: str) -> Snapshot | None:
        return await self._read(lambda conn: _load_snapshot(conn, entity))

    async def save_snapshot(self, snapshot: Snapshot) -> None:
        await self.save_snapshots([snapshot])

    async def load_histories(self, entities: Sequence[str]) -> list[History]:
        def read(conn: sqlite3.Connection) -> list[History]:
            with _read_transaction(conn):
                return _read_histories(conn, entities)

        return await self._read(read)

    async def save_snapshots(self, snapshots: Sequence[Snapshot]) -> None:
        rows = [(s.entity, s.seq, _dumps(s.state), s.taken_at_ms) for s in snapshots]

        def write(conn: sqlite3.Connection) -> None:
            with write_transaction(conn):
                # Never move a snapshot backwards: a late writer must not hide newer state.
                conn.executemany(
                    "INSERT INTO snapshots (entity, seq, state, taken_at_ms) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT (entity) DO UPDATE SET seq = excluded.seq, state = excluded.state,"
                    " taken_at_ms = excluded.taken_at_ms WHERE excluded.seq > snapshots.seq",
                    rows,
                )

        if rows:
            await self._run(write)

    async def find_outcome(self, entity: str, key: str, since_ms: int) -> Remembered | None:
        return (await self.find_outcomes([(entity, key)], since_ms))[0]

    async def find_outcomes(self, keys: Sequence[tuple[str, str]], since_ms: int) -> list[Remembered | None]:
        def read(conn: sqlite3.Connection) -> list[Remembered | None]:
            found: list[Remembered | None] = []
            for entity, key in keys:
                row = conn.execute(
                    "SELECT fingerprint, outcome, recorded_at_ms FROM journal"
                    " WHERE entity = ? AND idem_key = ? AND recorded_at_ms >= ?"
                    " UNION ALL SELECT fingerprint, outcome, recorded_at_ms FROM outcomes"
                    " WHERE entity = ? AND idem_key = ? AND recorded_at_ms >= ? LIMIT 1",
                    (entity, key, since_ms, entity, key, since_ms),
                ).fetchone()
                found.append(None if row is None else Remembered(row[0], orjson.loads(row[1]), row[2]))
            return found

        return await self._read(read)

    async def amend_outcome(self, entity: str, key: str, outcome: dict[str, Any]) -> bool:
        def amend(conn: sqlite3.Connection) -> bool:
            stored, where = _dumps(outcome), (entity, key)
            with write_transaction(conn):
                changed = conn.execute(
                    "UPDATE journal SET outcome = ? WHERE entity = ? AND idem_key = ?", (stored, *where)
                ).rowcount
                changed += conn.execute(
                    "UPDATE outcomes SET outcome = ? WHERE entity = ? AND idem_key = ?", (stored, *where)
                ).rowcount
            return changed > 0

        return await self._run(amend)

    async def purge_outcomes(self, before_ms: int, *, only: str | None = None, sparing: Collection[str] = ()) -> int:
        which, arguments = _tenants_of_entities(only, sparing)

        def purge(conn: sqlite3.Connection) -> int:
            with write_transaction(conn):
                forgotten = conn.execute(
                    f"DELETE FROM outcomes WHERE recorded_at_ms < ?{which}", (before_ms, *arguments)
                ).rowcount
                forgotten += conn.execute(
                    "UPDATE journal SET idem_key = NULL, fingerprint = NULL, outcome = NULL"
                    f" WHERE idem_key IS NOT NULL AND recorded_at_ms < ?{which}",
                    (before_ms, *arguments),
                ).rowcount
            return forgotten

        return await self._run(purge)

    async def list_players(
        self,
        tenant: str,
        project: str,
        *,
        username: str | None = None,
        after: str | None = None,
        limit: int = 50,
        search: PlayerSearch | None = None,
    ) -> list[PlayerRow]:
        search = search or PlayerSearch()

        def read(conn: sqlite3.Connection) -> list[PlayerRow]:
            sql = (
                "SELECT player_id, username, created_at, updated_at, metadata, level, xp FROM players"
                " WHERE tenant = ? AND project = ? AND deleted = 0"
            )
            params: list[Any] = [tenant, project]
            if username is not None:
                sql += " AND username = ?"
                params.append(username)
            for column, prefix in (("username", search.username_prefix), ("player_id", search.id_prefix)):
                if prefix:  # a prefix is the index range prefix <= column < its upper bound
                    sql += f" AND {column} >= ?"
                    params.append(prefix)
                    if (bound := prefix_upper_bound(prefix)) is not None:
                        sql += f" AND {column} < ?"
                        params.append(bound)
            order, direction = "player_id", "DESC" if search.descending else "ASC"
            if search.sort is not None:
                column = PLAYER_SORTS[search.sort]  # a fixed name, never the caller's text
                order = f"{column} {direction}, player_id"
                if after is not None:
                    sql += f" AND ({column}, player_id) {'<' if search.descending else '>'} (?, ?)"
                    params += [search.after_value, after]
            elif after is not None:
                sql += f" AND player_id {'<' if search.descending else '>'} ?"
                params.append(after)
            rows = conn.execute(f"{sql} ORDER BY {order} {direction} LIMIT ?", (*params, limit)).fetchall()
            return [
                PlayerRow(tenant, project, r[0], r[1], r[2], r[3], orjson.loads(r[4]), level=r[5], xp=r[6])
                for r in rows
            ]

        return await self._read(read)

    async def count_players(self, tenant: str, *, limit: int) -> int:
        def read(conn: sqlite3.Connection) -> int:
            sql = "SELECT COUNT(*) FROM (SELECT 1 FROM players WHERE tenant = ? AND deleted = 0 LIMIT ?)"
            return int(conn.execute(sql, (tenant, limit)).fetchone()[0])

        return await self._read(read)

    async def repair(self) -> int:
        """Nothing to repair: the journal and its projections commit in one transaction."""
        return 0

    async def erase_player(self, entity: str) -> int:
        tenant, project, player_id = player_path(entity)

        def rewrite(conn: sqlite3.Connection) -> int:
            changed = _rewrite_pages(
                conn,
                "SELECT seq, events, command, idem_key IS NOT NULL OR request_id IS NOT NULL FROM journal"
                " WHERE entity = ? AND seq > ? ORDER BY seq LIMIT ?",
                (entity,),
                _scrubbed_record,
                "UPDATE journal SET events = ?, command = ?, idem_key = NULL, fingerprint = NULL, outcome = NULL,"
                " request_id = NULL WHERE entity = ? AND seq = ?",
                entity,
            )
            changed += _rewrite_pages(
                conn,
                "SELECT position, data FROM events WHERE tenant = ? AND project = ? AND type = ?"
                " AND position > ? ORDER BY position LIMIT ?",
                (tenant, project, BOARD_RESET),
                lambda row: _winner_scrubbed(row[1], player_id),
                "UPDATE events SET data = ? WHERE position = ?",
                None,
            )
            changed += _rewrite_pages(
                conn,
                "SELECT position, data FROM events WHERE tenant = ? AND project = ? AND player_id = ?"
                " AND position > ? ORDER BY position LIMIT ?",
                (tenant, project, player_id),
                _scrubbed_event_row,
                "UPDATE events SET data = ? WHERE position = ?",
                None,
            )
            with write_transaction(conn):
                # A board's own records (`leaderboard.reset`) name their winners: few, read at once.
                boards = board_entities(tenant, project)
                for board, seq, events in conn.execute(
                    "SELECT entity, seq, events FROM journal WHERE entity >= ? AND entity < ?", boards
                ).fetchall():
                    scrubbed = _winners_scrubbed_events(events, player_id)
                    if scrubbed is not None:
                        conn.execute(
                            "UPDATE journal SET events = ? WHERE entity = ? AND seq = ?", (scrubbed, board, seq)
                        )
                        changed += 1
                changed += conn.execute("DELETE FROM outcomes WHERE entity = ?", (entity,)).rowcount
                snapshot = _load_snapshot(conn, entity)
                if snapshot is not None and scrub_state(snapshot.state) != snapshot.state:
                    conn.execute(
                        "UPDATE snapshots SET state = ? WHERE entity = ?", (_dumps(scrub_state(snapshot.state)), entity)
                    )
                    changed += 1
                changed += conn.execute(
                    "UPDATE players SET username = '', metadata = ? WHERE tenant = ? AND project = ?"
                    " AND player_id = ? AND (username != '' OR metadata != ?)",
                    (_dumps({}), tenant, project, player_id, _dumps({})),
                ).rowcount
            return changed

        return await self._run(rewrite)

    async def forget_erased(self) -> bool:
        def truncate(conn: sqlite3.Connection) -> bool:
            for _ in range(TRUNCATE_ATTEMPTS):
                busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
                if not busy:
                    return True
                time.sleep(0.05)
            return False

        # On the checkpointer's connection and thread: waiting out readers never holds up commits.
        assert self._checkpointer is not None, "store is not open"
        return await self._checkpointer.run(truncate)

    async def read_events(
        self, query: EventQuery, *, after: int = 0, limit: int = 100, skip: int = 0
    ) -> list[EventRecord]:
        def read(conn: sqlite3.Connection) -> list[EventRecord]:
            clauses: list[str] = ["position < ?" if query.newest_first else "position > ?"]
            params: list[object] = [after]
            if query.newest_first and not after:  # from the newest
                clauses, params = ["1 = 1"], []
            for column, value in (("tenant", query.tenant), ("project", query.project), ("player_id", query.player_id)):
                if value is not None:
                    clauses.append(f"{column} = ?")
                    params.append(value)
            if query.types is not None:
                clauses.append(f"type IN ({', '.join('?' * len(query.types))})")
                params.extend(query.types)
            if query.since is not None:
                clauses.append("occurred_at >= ?")
                params.append(query.since)
            if query.until is not None:
                clauses.append("occurred_at < ?")
                params.append(query.until)
            rows = conn.execute(
                "SELECT position, event_id, type, tenant, project, player_id, seq, data, occurred_at FROM events"
                f" WHERE {' AND '.join(clauses)} ORDER BY position {'DESC' if query.newest_first else ''}"
                " LIMIT ? OFFSET ?",
                (*params, limit, skip),
            ).fetchall()
            return [EventRecord(r[1], r[2], r[3], r[4], r[5], r[6], orjson.loads(r[7]), r[8], r[0]) for r in rows]

        return await self._read(read)

    async def event_position(self, event_id: str) -> int | None:
        def read(conn: sqlite3.Connection) -> int | None:
            row = conn.execute("SELECT position FROM events WHERE event_id = ?", (event_id,)).fetchone()
            return None if row is None else int(row[0])

        return await self._read(read)

    async def purge_events(self, before: str, *, only: str | None = None, sparing: Collection[str] = ()) -> int:
        if only is not None:
            which, arguments = " AND tenant = ?", [only]
        else:
            which, arguments = f" AND tenant NOT IN ({', '.join('?' * len(sparing))})" if sparing else "", list(sparing)

        def purge(conn: sqlite3.Connection) -> int:
            return int(conn.execute(f"DELETE FROM events WHERE occurred_at < ?{which}", (before, *arguments)).rowcount)

        return await self._run(purge)

    async def load_slots(self) -> list[SlotOwner]:
        def read(conn: sqlite3.Connection) -> list[SlotOwner]:
            rows = conn.execute("SELECT slot, host, epoch FROM slots ORDER BY slot").fetchall()
            return [SlotOwner(row[0], row[1], row[2]) for row in rows]

        return await self._read(read)

    async def init_slots(self, owners: Sequence[SlotOwner]) -> None:
        def write(conn: sqlite3.Connection) -> None:
            with write_transaction(conn):
                conn.executemany(
                    "INSERT OR IGNORE INTO slots (slot, host, epoch) VALUES (?, ?, ?)",
                    [(o.slot, o.host, o.epoch) for o in owners],
                )

        await self._run(write)

    async def move_slots(self, claims: Sequence[SlotClaim]) -> list[SlotOwner]:
        def write(conn: sqlite3.Connection) -> list[SlotOwner]:
            moved = []
            with write_transaction(conn):
                for claim in claims:
                    sql = "UPDATE slots SET host = ?, epoch = epoch + 1 WHERE slot = ? AND epoch = ?"
                    if conn.execute(sql, (claim.host, claim.slot, claim.epoch)).rowcount == 1:
                        moved.append(SlotOwner(claim.slot, claim.host, claim.epoch + 1))
            return moved

        return await self._run(write)

    async def put_document(self, kind: str, doc_id: str, document: dict[str, Any]) -> None:
        def write(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO documents (kind, id, tenant, body, version) VALUES (?, ?, ?, ?, 1)"
                " ON CONFLICT (kind, id) DO UPDATE SET tenant = excluded.tenant, body = excluded.body,"
                " version = version + 1",
                (kind, doc_id, document.get("tenantId"), _dumps(document)),
            )

        await self._run(write)

    async def purge_tenant(self, tenant: str) -> dict[str, int]:
        def purge(conn: sqlite3.Connection) -> dict[str, int]:
            removed = dict.fromkeys(("journal", "snapshots", "outcomes", "players", "events", "documents"), 0)
            with write_transaction(conn):
                for low, high in tenant_entities(tenant):
                    for table in ("journal", "snapshots", "outcomes"):
                        sql = f"DELETE FROM {table} WHERE entity >= ? AND entity < ?"  # noqa: S608 - fixed names
                        removed[table] += conn.execute(sql, (low, high)).rowcount
                for table in ("players", "events", "documents"):
                    removed[table] += conn.execute(f"DELETE FROM {table} WHERE tenant = ?", (tenant,)).rowcount  # noqa: S608
            return removed

        return await self._run(purge)

    async def delete_documents(self, kind: str, ids: Sequence[str]) -> int:
        def delete(conn: sqlite3.Connection) -> int:
            deleted = 0
            for start in range(0, len(ids), 500):  # below SQLite's bound on parameters
                chunk = ids[start : start + 500]
                marks = ",".join("?" * len(chunk))
                sql = f"DELETE FROM documents WHERE kind = ? AND id IN ({marks})"
                deleted += conn.execute(sql, (kind, *chunk)).rowcount
            return deleted

        return await self._run(delete)

    async def get_versioned(self, kind: str, doc_id: str) -> tuple[dict[str, Any] | None, int]:
        def read(conn: sqlite3.Connection) -> tuple[dict[str, Any] | None, int]:
            row = conn.execute(
                "SELECT body, version FROM documents WHERE kind = ? AND id = ?", (kind, doc_id)
            ).fetchone()
            return (None, 0) if row is None else (dict(orjson.loads(row[0])), int(row[1]))

        return await self._read(read)

    async def put_if_version(self, kind: str, doc_id: str, document: dict[str, Any], version: int) -> bool:
        def write(conn: sqlite3.Connection) -> bool:
            body, tenant = _dumps(document), document.get("tenantId")
            if version == 0:
                sql = "INSERT OR IGNORE INTO documents (kind, id, tenant, body, version) VALUES (?, ?, ?, ?, 1)"
                return conn.execute(sql, (kind, doc_id, tenant, body)).rowcount == 1
            sql = (
                "UPDATE documents SET tenant = ?, body = ?, version = version + 1"
                " WHERE kind = ? AND id = ? AND version = ?"
            )
            return conn.execute(sql, (tenant, body, kind, doc_id, version)).rowcount == 1

        return await self._run(write)

    async def get_document(self, kind: str, doc_id: str) -> dict[str, Any] | None:
        return (await self.get_documents([(kind, doc_id)]))[0]

    async def get_documents(self, refs: Sequence[tuple[str, str]]) -> list[dict[str, Any] | None]:
        def read(conn: sqlite3.Connection) -> list[dict[str, Any] | None]:
            sql = "SELECT body FROM documents WHERE kind = ? AND id = ?"
            rows = (conn.execute(sql, ref).fetchone() for ref in refs)
            return [None if row is None else dict(orjson.loads(row[0])) for row in rows]

        return await self._read(read)

    async def list_documents(
        self,
        kind: str,
        *,
        tenant: str | None = None,
        after: str | None = None,
        limit: int = 100,
        descending: bool = False,
    ) -> list[dict[str, Any]]:
        def read(conn: sqlite3.Connection) -> list[dict[str, Any]]:
            sql, params = "SELECT body FROM documents WHERE kind = ?", [kind]
            if tenant is not None:
                sql += " AND tenant = ?"
                params.append(tenant)
            if after is not None:
                sql += " AND id < ?" if descending else " AND id > ?"
                params.append(after)
            order = " ORDER BY id DESC" if descending else " ORDER BY id"
            rows = conn.execute(sql + order + " LIMIT ?", (*params, limit)).fetchall()
            return [dict(orjson.loads(row[0])) for row in rows]

        return await self._read(read)


def _journal_record(row: tuple[Any, ...]) -> JournalRecord:
    return JournalRecord(
        entity=row[0],
        seq=row[1],
        occurred_at=row[2],
        recorded_at_ms=row[3],
        events=orjson.loads(row[4]),
        idempotency_key=row[5],
        fingerprint=row[6],
        outcome=None if row[7] is None else orjson.loads(row[7]),
        format_version=row[8],
        command=None if row[9] is None else orjson.loads(row[9]),
        request_id=row[10],
        slot=row[11],
        epoch=row[12],
        host=row[13],
    )


Rows = list[tuple[Any, ...]]


def _rows(records: Sequence[JournalRecord]) -> tuple[Rows, Rows, Rows, Rows]:
    """Journal, player-index, event-store and level/XP rows of `records`, in insertion order."""
    journal = [
        (
            r.entity,
            r.seq,
            r.occurred_at,
            r.recorded_at_ms,
            _dumps(r.events),
            r.idempotency_key,
            r.fingerprint,
            None if r.outcome is None else _dumps(r.outcome),
            r.format_version,
            None if r.command is None else _dumps(r.command),
            r.request_id,
            r.slot,
            r.epoch,
            r.host,
        )
        for r in records
    ]
    index = [
        (p.tenant, p.project, p.player_id, p.username, p.created_at, p.updated_at, _dumps(p.metadata), int(p.deleted))
        for p in player_rows(records)
    ]
    events = [
        (e.id, e.type, e.tenant, e.project, e.player_id, e.seq, _dumps(e.data), e.occurred_at)
        for e in event_records(records)
    ]
    progress = [
        (values.get("level"), values.get("xp"), *player)  # None leaves that column as it is
        for player, values in player_progress(records).items()
    ]
    return journal, index, events, progress


def _write(
    conn: sqlite3.Connection,
    rows: list[tuple[Any, ...]],
    index_rows: list[tuple[Any, ...]],
    event_rows: list[tuple[Any, ...]],
    progress_rows: list[tuple[Any, ...]],
    outcome_rows: list[tuple[Any, ...]],
) -> None:
    """Inside the caller's write transaction."""
    conn.executemany(
        f"INSERT INTO journal ({JOURNAL_COLUMNS}) VALUES ({', '.join('?' * len(JOURNAL_COLUMNS.split(',')))})",
        rows,
    )
    conn.executemany(
        "INSERT OR REPLACE INTO outcomes (entity, idem_key, fingerprint, outcome, recorded_at_ms)"
        " VALUES (?, ?, ?, ?, ?)",
        outcome_rows,
    )
    conn.executemany(
        "INSERT INTO players (tenant, project, player_id, username, created_at, updated_at, metadata, deleted)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant, project, player_id) DO UPDATE SET"
        " username = CASE WHEN excluded.deleted THEN players.username ELSE excluded.username END,"
        " metadata = CASE WHEN excluded.deleted THEN players.metadata ELSE excluded.metadata END,"
        " updated_at = excluded.updated_at, deleted = excluded.deleted",
        index_rows,
    )
    conn.executemany(
        "UPDATE players SET level = COALESCE(?, level), xp = COALESCE(?, xp)"
        " WHERE tenant = ? AND project = ? AND player_id = ?",
        progress_rows,
    )
    conn.executemany(
        "INSERT INTO events (event_id, type, tenant, project, player_id, seq, data, occurred_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        event_rows,
    )


def _stale(conn: sqlite3.Connection, records: Sequence[JournalRecord]) -> set[tuple[str, int]]:
    slots = fenced_slots(records)
    if not slots:
        return set()
    epochs: dict[int, int] = {}
    for start in range(0, len(slots), 500):  # below SQLite's bound on parameters
        chunk = slots[start : start + 500]
        sql = f"SELECT slot, epoch FROM slots WHERE slot IN ({','.join('?' * len(chunk))})"
        epochs.update(conn.execute(sql, chunk).fetchall())
    return stale_records(records, epochs)


def _scrubbed_record(row: tuple[Any, ...]) -> tuple[Any, ...] | None:
    """A journal row's new (events, command), or None when it holds nothing to erase."""
    _, events, command, keyed = row
    old_events, old_command = orjson.loads(events), None if command is None else orjson.loads(command)
    new_events, new_command = scrub_events(old_events), scrub_command(old_command)
    if new_events == old_events and new_command == old_command and not keyed:
        return None
    return (_dumps(new_events), None if new_command is None else _dumps(new_command))


def _winner_scrubbed(data: bytes, player_id: str) -> tuple[Any, ...] | None:
    old = orjson.loads(data)
    new = scrub_winners(old, player_id)
    return None if new == old else (_dumps(new),)


def _winners_scrubbed_events(events: bytes, player_id: str) -> bytes | None:
    old = orjson.loads(events)
    new = [{**e, "data": scrub_winners(e.get("data") or {}, player_id)} for e in old]
    return None if new == old else _dumps(new)


def _scrubbed_event_row(row: tuple[Any, ...]) -> tuple[Any, ...] | None:
    data = orjson.loads(row[1])
    scrubbed = scrub_fields(data)
    return None if scrubbed == data else (_dumps(scrubbed),)


def _rewrite_pages(
    conn: sqlite3.Connection,
    select: str,
    params: tuple[Any, ...],
    scrub: Callable[[tuple[Any, ...]], tuple[Any, ...] | None],
    update: str,
    entity: str | None,
) -> int:
    """Rewrite the rows `select` pages through (keyset on its first column), ERASE_CHUNK rows a
    transaction: a player with a long history never holds the writer for long."""
    changed, after = 0, 0
    while True:
        with write_transaction(conn):
            rows = conn.execute(select, (*params, after, ERASE_CHUNK)).fetchall()
            updates = []
            for row in rows:
                values = scrub(row)
                if values is not None:
                    updates.append((*values, *((entity,) if entity is not None else ()), row[0]))
            conn.executemany(update, updates)
        changed += len(updates)
        if len(rows) < ERASE_CHUNK:
            return changed
        after = rows[-1][0]


def _taken(conn: sqlite3.Connection, keys: list[tuple[str, int]]) -> set[tuple[str, int]]:
    taken = set()
    for entity, seq in keys:
        if conn.execute("SELECT 1 FROM journal WHERE entity = ? AND seq = ?", (entity, seq)).fetchone():
            taken.add((entity, seq))
    return taken


def _tenants_of_entities(only: str | None, sparing: Collection[str]) -> tuple[str, list[str]]:
    """The SQL condition (and its arguments) on `entity` keeping one tenant's rows, or all but
    some tenants' rows, by ranges of player keys (the primary key's order)."""
    if only is not None:
        return " AND entity >= ? AND entity < ?", list(tenant_player_keys(only))
    condition, arguments = "", []
    for tenant in sparing:
        condition += " AND NOT (entity >= ? AND entity < ?)"
        arguments += list(tenant_player_keys(tenant))
    return condition, arguments
