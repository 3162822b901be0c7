"""The store protocol every backend implements, and the records it keeps.

A journal record is one accepted command: its events, and (when the caller gave an
idempotency key) the key, the request fingerprint and the answer, written atomically with the
events so a crash can never separate an effect from the memory that it happened. Answers that
changed nothing (rejections, no-op updates) are kept as `RememberedAnswer`s: losing one only means the
request is decided again. A record states the format it was written in (`engine/formats.py`) and,
from format 2 on, keeps the command and request id that made it; stores hold a schema version
(`actors/stores/migrations.py`).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from actors.stores.migrations import Plan
from actors.stores.progress import PROGRESS_EVENTS, fold_progress
from engine.events import event_id
from engine.formats import RECORD_FORMAT, upcast_events


@dataclass(frozen=True)
class JournalRecord:
    entity: str
    seq: int
    events: list[dict[str, Any]]
    occurred_at: str
    recorded_at_ms: int
    idempotency_key: str | None = None
    fingerprint: str | None = None
    outcome: dict[str, Any] | None = None
    command: dict[str, Any] | None = None  # format 2 on: what was asked (`command_to_dict`)
    request_id: str | None = None
    format_version: int = RECORD_FORMAT  # records read from a store keep the format they were written in
    # The slot's ownership when the host decided (`actors/slots.py`): the store refuses a record
    # whose slot has moved to a later epoch since. None: written outside the slot map (tools, tests).
    slot: int | None = None
    epoch: int | None = None
    host: str | None = None  # the shard host that wrote it: one writer per (slot, epoch)

    def current_events(self) -> list[dict[str, Any]]:
        """The events in this code's format, whatever format the record was written in."""
        return upcast_events(self.format_version, self.events)


@dataclass(frozen=True)
class RememberedAnswer:
    """The remembered answer of a keyed request that wrote no journal record (a refusal, a no-op):
    not the engine's `Outcome`, which it carries as a plain dict in `outcome`."""

    entity: str
    idempotency_key: str
    fingerprint: str
    outcome: dict[str, Any]
    recorded_at_ms: int


@dataclass(frozen=True)
class Snapshot:
    entity: str
    seq: int
    state: dict[str, Any]
    taken_at_ms: int


@dataclass(frozen=True)
class History:
    """What an entity's activation reads: its latest snapshot and the journal after it."""

    snapshot: Snapshot | None
    records: list[JournalRecord]


@dataclass(frozen=True)
class CommitResult:
    """Records refused because their `(entity, seq)` was already taken: a sign that another
    host wrote for the entity (a stale host after failover), never to be retried blindly. And
    records refused because their slot's epoch has moved on (`stale`): the writer no longer owns
    the slot, nothing of theirs was written, and the new owner may decide them afresh."""

    conflicts: set[tuple[str, int]] = field(default_factory=set)
    stale: set[tuple[str, int]] = field(default_factory=set)


@dataclass(frozen=True)
class SlotOwner:
    """A row of the durable slot table: who owns the slot, since which epoch."""

    slot: int
    host: str
    epoch: int


@dataclass(frozen=True)
class SlotClaim:
    """Pass `slot` to `host` if its epoch is still `epoch` (compare-and-set); the slot then
    holds epoch + 1, and every record stamped with an older epoch is refused."""

    slot: int
    epoch: int
    host: str


def stale_records(records: Sequence[JournalRecord], epochs: dict[int, int]) -> set[tuple[str, int]]:
    """Records stamped with an epoch their slot no longer holds (`epochs`: slot -> current)."""
    return {
        (r.entity, r.seq) for r in records if r.epoch is not None and (r.slot is None or epochs.get(r.slot) != r.epoch)
    }


def fenced_slots(records: Sequence[JournalRecord]) -> list[int]:
    return sorted({r.slot for r in records if r.epoch is not None and r.slot is not None})


def split_fenced(
    records: Sequence[JournalRecord], taken: set[tuple[str, int]]
) -> tuple[list[JournalRecord], set[tuple[str, int]]]:
    """Records still safe to write, and the refused ones: a taken `(entity, seq)` and every later
    record of that entity, which was decided on top of the refused one and is void with it."""
    first_taken: dict[str, int] = {}
    for entity, seq in taken:
        first_taken[entity] = min(seq, first_taken.get(entity, seq))
    kept = [r for r in records if r.seq < first_taken.get(r.entity, r.seq + 1)]
    refused = {(r.entity, r.seq) for r in records} - {(r.entity, r.seq) for r in kept}
    return kept, refused


@dataclass(frozen=True)
class Remembered:
    fingerprint: str
    outcome: dict[str, Any]
    recorded_at_ms: int


class StoreLifecycle(Protocol):
    """Opening, migrating and closing a store, and repairing what a crash left: only what owns
    a store (a shard host, the coordinator, the webhook deliverer, the backend) uses these."""

    async def open(self) -> None:
        """Connect and check the schema version (`actors/stores/migrations.py`): a new store is
        created, an older one migrated forward (or refused when auto-migration is off), a newer
        one refused. Raises `SchemaError` with what to do."""
        ...

    async def migrate(self, *, dry_run: bool = False) -> Plan:
        """Bring the schema to this code's version, reporting each step (`dry_run`: only plan);
        works on a store that is not open."""
        ...

    async def close(self) -> None: ...

    async def repair(self) -> int:
        """Finish projections (event store, player index) of journal records a crash interrupted."""
        ...


class JournalStore(Protocol):
    """The ledger: commit records (with their remembered answers), read an entity's history or
    page through every entity under a prefix."""

    async def commit(self, records: Sequence[JournalRecord], outcomes: Sequence[RememberedAnswer]) -> CommitResult:
        """Make records and outcomes durable, in one transaction where the backend has them.
        A record stamped with an epoch (`JournalRecord.epoch`) is written only if its slot still
        holds that epoch; otherwise it is refused as `stale`."""
        ...

    async def read_journal(self, entity: str, after_seq: int = 0, limit: int | None = None) -> list[JournalRecord]: ...

    async def read_last(self, entity: str) -> JournalRecord | None:
        """The entity's newest record (one index seek): a project's current economy is its last
        record, so nothing reads every version to find it."""
        ...

    async def scan_journal(
        self,
        prefix: str,
        *,
        since: str | None,
        until: str | None,
        after: tuple[str, int] | None,
        limit: int,
    ) -> list[JournalRecord]:
        """Records of every entity whose id starts with `prefix` (e.g. `player:acme/space/`) with
        `since <= occurred_at < until` (None: unbounded), ordered by `(entity, seq)` and starting
        after the `(entity, seq)` key `after`: one page of a keyset scan, for reports."""
        ...


class SnapshotStore(Protocol):
    """Snapshots of entity state, and histories (snapshot plus journal tail) to activate entities from."""

    async def load_snapshot(self, entity: str) -> Snapshot | None: ...

    async def save_snapshot(self, snapshot: Snapshot) -> None: ...

    async def load_histories(self, entities: Sequence[str]) -> list[History]:
        """Snapshot plus journal tail of many entities in one round trip, answers in order: with
        many distinct players nearly every command activates its entity (bench_scale)."""
        ...

    async def save_snapshots(self, snapshots: Sequence[Snapshot]) -> None:
        """Many snapshots in one transaction (round trip); none moves an entity's snapshot back."""
        ...


class OutcomeStore(Protocol):
    """Remembered answers of keyed commands: the idempotency lookup and its amendment."""

    async def find_outcome(self, entity: str, key: str, since_ms: int) -> Remembered | None:
        """The answer remembered for `key` on `entity`, if recorded at or after `since_ms`."""
        ...

    async def find_outcomes(self, keys: Sequence[tuple[str, str]], since_ms: int) -> list[Remembered | None]:
        """`find_outcome` for many `(entity, key)` pairs in one round trip, answers in order."""
        ...

    async def amend_outcome(self, entity: str, key: str, outcome: dict[str, Any]) -> bool:
        """Replace a remembered answer with the one the caller finally got (a score submission's
        answer carries the rank read once the board took it): a replay then answers exactly that.
        False when the key is not remembered (expired or never stored)."""
        ...


class PlayerIndex(Protocol):
    """The player index, a projection of the journal for listing and counting players."""

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
        """Live (not deleted) players ordered by id, after the `after` id; `username` matches
        exactly. `search` adds prefixes and another order (by its field, then id), each walked
        on an index of its own: with a sort, `after` is the last row's id and
        `search.after_value` its value of the field."""
        ...

    async def count_players(self, tenant: str, *, limit: int) -> int:
        """Live players of all the tenant's projects, counted up to `limit` (a quota check needs
        no more, and stops early on a big tenant)."""
        ...


class EventFeed(Protocol):
    """The event store in its global order: queries, realtime fan-out, webhook deliveries."""

    async def read_events(
        self, query: EventQuery, *, after: int = 0, limit: int = 100, skip: int = 0
    ) -> list[EventRecord]:
        """Events matching `query` with a position above `after`, in position order, passing over
        the first `skip` of them (the store walks its index, never hands them back: deciding
        whether more than N events follow costs one event read)."""
        ...

    async def event_position(self, event_id: str) -> int | None:
        """Where an event sits in the global order (for `since` replays), if it is stored."""
        ...


class DocumentStore(Protocol):
    """Control-plane and account documents (tenants, projects, keys, subscriptions, deliveries
    ...), written whole or compare-and-set."""

    async def put_document(self, kind: str, doc_id: str, document: dict[str, Any]) -> None:
        """Control-plane documents (tenants, projects, API keys, ...), replaced whole."""
        ...

    async def delete_documents(self, kind: str, ids: Sequence[str]) -> int:
        """Delete these documents of a kind (retention); answers how many there were."""
        ...

    async def get_versioned(self, kind: str, doc_id: str) -> tuple[dict[str, Any] | None, int]:
        """A document and its version (0 when absent); every write moves the version on."""
        ...

    async def put_if_version(self, kind: str, doc_id: str, document: dict[str, Any], version: int) -> bool:
        """Compare-and-set: write `document` only if the stored version is still `version` (0: the
        document must not exist), atomically; False, writing nothing, when another write came first."""
        ...

    async def get_document(self, kind: str, doc_id: str) -> dict[str, Any] | None: ...

    async def get_documents(self, refs: Sequence[tuple[str, str]]) -> list[dict[str, Any] | None]:
        """`get_document` for many `(kind, id)` pairs in one round trip, answers in order."""
        ...

    async def list_documents(
        self,
        kind: str,
        *,
        tenant: str | None = None,
        after: str | None = None,
        limit: int = 100,
        descending: bool = False,
    ) -> list[dict[str, Any]]:
        """Documents of a kind ordered by id; `tenant` filters on the document's `tenantId`.
        `descending`: highest id first, `after` then meaning below it (the same key, walked down)."""
        ...


class SlotStore(Protocol):
    """The slot table the coordinator deals out and hosts claim (epochs fence stale commits)."""

    async def load_slots(self) -> list[SlotOwner]:
        """The slot table in slot order; empty until the coordinator first deals it out."""
        ...

    async def init_slots(self, owners: Sequence[SlotOwner]) -> None:
        """Write the rows of slots that have none (a fresh table, or one a crash left half
        written); an existing row is never changed. Its size is fixed from then on."""
        ...

    async def move_slots(self, claims: Sequence[SlotClaim]) -> list[SlotOwner]:
        """Apply each claim whose slot still holds the claimed epoch, atomically per slot;
        answers the rows that moved. From then on `commit` refuses records stamped with an
        older epoch of those slots (`CommitResult.stale`)."""
        ...


class RetentionStore(Protocol):
    """Forgetting what outlived its retention: old keyed answers and old events (the journal stays)."""

    async def purge_outcomes(self, before_ms: int, *, only: str | None = None, sparing: Collection[str] = ()) -> int:
        """Forget keyed answers older than the retention; journal records stay (they are the ledger).
        `only` one tenant's; `sparing` these tenants' (their retention differs: purged on their own)."""
        ...

    async def purge_events(self, before: str, *, only: str | None = None, sparing: Collection[str] = ()) -> int:
        """Drop events that occurred before `before` from the event store (the journal stays);
        `only` and `sparing` as for `purge_outcomes`."""
        ...


class ErasureStore(Protocol):
    """Erasing a player's personal data from every stored copy, and from the files."""

    async def erase_player(self, entity: str) -> int:
        """Rewrite every stored copy of a player's personal data (`engine.privacy`): its journal
        records' events and commands, its snapshot, its player-index row and its event-store rows;
        forget its keyed answers (they hold answers with the username). Balances and everything
        else the records fold to stay. Idempotent; answers how many rows or documents changed."""
        ...

    async def forget_erased(self) -> bool:
        """Make what `erase_player` replaced unreadable in the store's files too (SQLite: freed
        space is zeroed as it is freed, `secure_delete`; this copies the WAL back and truncates it).
        Answers False when that could not finish now (readers held it); calling again finishes."""
        ...


ENTITY_KINDS = ("player", "project", "leaderboard")  # every entity key is `<kind>:<tenant>/...`


def tenant_entities(tenant: str) -> list[tuple[str, str]]:
    """The `[low, high)` ranges of every entity key of `tenant`, one per entity kind."""
    return [(f"{kind}:{tenant}/", f"{kind}:{tenant}0") for kind in ENTITY_KINDS]  # '0' follows '/'


class TenantPurge(Protocol):
    """Removing a whole tenant (its deletion, docs/TENANTS.md)."""

    async def purge_tenant(self, tenant: str) -> dict[str, int]:
        """Delete every row of `tenant`: its journal, snapshots and keyed answers (every entity
        of `tenant_entities`), player index, events and control-plane documents (those whose
        `tenantId` is `tenant`, the tenant's own included). Answers how many were removed of
        each; idempotent (a second call removes nothing)."""
        ...


class Store(
    StoreLifecycle,
    JournalStore,
    SnapshotStore,
    OutcomeStore,
    PlayerIndex,
    EventFeed,
    DocumentStore,
    SlotStore,
    RetentionStore,
    ErasureStore,
    TenantPurge,
    Protocol,
):
    """Every role together: what a backend (`SqliteStore`, `MongoStore`) implements and what a
    composition root holds. Everything else asks for the narrowest role(s) it uses, so a reader
    sees what a part can touch and a test double has only those methods to write."""


@dataclass(frozen=True)
class PlayerRow:
    """The player index: a projection of the journal kept so players can be listed and searched
    without activating them."""

    tenant: str
    project: str
    player_id: str
    username: str
    created_at: str
    updated_at: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    deleted: bool = False
    level: int = 1  # a player starts at level 1 (engine.state)
    xp: int = 0


# The orders a player list may take (`?sort=`), each backed by an index: API field -> index field.
PLAYER_SORTS = {
    "username": "username",
    "createdAt": "created_at",
    "updatedAt": "updated_at",
    "level": "level",
    "xp": "xp",
}


@dataclass(frozen=True)
class PlayerSearch:
    """How to filter and order a player list beyond the exact username: prefixes of username and
    id, and a sort on one of `PLAYER_SORTS` (ties broken by id, in the same direction)."""

    username_prefix: str | None = None
    id_prefix: str | None = None
    sort: str | None = None
    descending: bool = False
    after_value: str | int | None = None


BOARD_RESET = "leaderboard.reset"  # the one event a board's own journal entity holds


def board_entity(tenant: str, project: str, board_id: str) -> str:
    """The journal entity of a board's own events (`actors.boards.resets`)."""
    return f"leaderboard:{tenant}/{project}/{board_id}"


def board_entities(tenant: str, project: str) -> tuple[str, str]:
    """The `[low, high)` range of entity keys holding every board of a project ('0' follows '/')."""
    low = board_entity(tenant, project, "")
    high = prefix_upper_bound(low)
    assert high is not None  # the prefix ends in '/'
    return low, high


def player_path(entity: str) -> tuple[str, str, str]:
    """`(tenant, project, playerId)` of a player entity key (`engine.identity.player_key`)."""
    kind, _, path = entity.partition(":")
    parts = path.split("/", 2)
    if kind != "player" or len(parts) != 3:
        raise ValueError(f"{entity!r} is not a player entity")
    return parts[0], parts[1], parts[2]


def prefix_upper_bound(prefix: str) -> str | None:
    """The smallest string greater than every string starting with `prefix` (None: no bound),
    so a prefix match becomes the index range `prefix <= entity < bound`."""
    while prefix:
        last = ord(prefix[-1])
        if last < 0x10FFFF:
            return prefix[:-1] + chr(last + 1)
        prefix = prefix[:-1]
    return None


def player_progress(records: Sequence[JournalRecord]) -> dict[tuple[str, str, str], dict[str, int]]:
    """Each player's last level and XP in these records (only what changed), for the index's
    sort by level and XP; records come in commit order, so the last value wins."""
    progress: dict[tuple[str, str, str], dict[str, int]] = {}
    for record in records:
        if record.entity.startswith("player:") and any(e["type"] in PROGRESS_EVENTS for e in record.events):
            fold_progress(record.events, progress.setdefault(player_path(record.entity), {}))
    return progress


def player_rows(records: Sequence[JournalRecord]) -> list[PlayerRow]:
    rows: list[PlayerRow] = []
    for record in records:
        kind, _, path = record.entity.partition(":")
        if kind != "player":
            continue
        for event in record.events:
            if event["type"] in ("player.created", "player.updated", "player.deleted"):
                tenant, project, player_id = path.split("/", 2)
                rows.append(
                    PlayerRow(
                        tenant,
                        project,
                        player_id,
                        event["data"].get("username", ""),
                        record.occurred_at,
                        record.occurred_at,
                        event["data"].get("metadata", {}),
                        deleted=event["type"] == "player.deleted",
                    )
                )
    return rows


@dataclass(frozen=True)
class EventRecord:
    """One event of the event store: the journal's events, one row each, in a global order
    (`position`) that feeds queries, realtime fan-out and webhook deliveries."""

    id: str
    type: str
    tenant: str
    project: str
    player_id: str
    seq: int
    data: dict[str, Any]
    occurred_at: str
    position: int = 0

    def public(self) -> dict[str, Any]:
        """The API's Event: `{id, type, tenantId, projectId, playerId, seq, data, occurredAt}`."""
        return {
            "id": self.id,
            "type": self.type,
            "tenantId": self.tenant,
            "projectId": self.project,
            "playerId": self.player_id,
            "seq": self.seq,
            "data": self.data,
            "occurredAt": self.occurred_at,
        }


def event_records(records: Sequence[JournalRecord]) -> list[EventRecord]:
    """The event-store rows of player and leaderboard records, in journal order (positions come
    from the store)."""
    rows: list[EventRecord] = []
    for record in records:
        kind, _, path = record.entity.partition(":")
        parts = path.split("/", 2)
        if kind not in ("player", "leaderboard") or len(parts) != 3:
            continue
        tenant, project, player_id = parts
        if kind == "leaderboard":  # a board's own events (`leaderboard.reset`) belong to no player
            player_id = ""
        for index, event in enumerate(record.events):
            rows.append(
                EventRecord(
                    id=event_id(record.entity, record.seq, index),
                    type=event["type"],
                    tenant=tenant,
                    project=project,
                    player_id=player_id,
                    seq=record.seq,
                    data=event["data"],
                    occurred_at=record.occurred_at,
                )
            )
    return rows


@dataclass(frozen=True)
class EventQuery:
    """Filters of `Store.read_events`; None means any. `until` is exclusive."""

    tenant: str | None = None
    project: str | None = None
    types: tuple[str, ...] | None = None
    player_id: str | None = None
    since: str | None = None
    until: str | None = None
    # Newest first: positions below `after` (0: from the newest), walking the same indexes down.
    newest_first: bool = False
