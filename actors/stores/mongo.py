"""MongoDB store through PyMongo's async API. The journal is written with journaled majority
writes and a unique `(entity, seq)` index that fences out a stale host: a record whose slot is
taken is reported as a conflict, not overwritten. A record is one document, so it is atomic
without multi-document transactions (which need a replica set)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Sequence
from typing import Any

from pymongo import AsyncMongoClient, ReplaceOne, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError
from pymongo.write_concern import WriteConcern

from actors.cancellation import honours_cancellation
from actors.stores.base import (
    BOARD_RESET,
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
    stale_records,
    tenant_entities,
)
from actors.stores.migrations import Plan, Report, migrate_mongo, plan_mongo, prepare_mongo
from actors.stores.mongo_feed import EventSequencer
from engine.formats import record_format
from engine.identity import tenant_player_keys
from engine.privacy import scrub_command, scrub_events, scrub_fields, scrub_state, scrub_winners

DUPLICATE_KEY = 11000
VERSION_FIELD = "_version"  # a control document's compare-and-set version, never shown to callers
DURABLE = WriteConcern(w="majority", j=True)
ERASE_BATCH = 500  # documents rewritten per round trip by an erasure
log = logging.getLogger("ludex.stores")


@honours_cancellation
class MongoStore:
    def __init__(
        self,
        url: str,
        database: str = "ludex",
        *,
        timeout_ms: int = 10_000,
        auto_migrate: bool = True,
        batch_size: int = 1000,
        report: Report | None = None,
    ) -> None:
        self.url = url
        self.database = database
        self.timeout_ms = timeout_ms
        self.auto_migrate = auto_migrate  # False: an older schema is refused at open (`ludex migrate` first)
        self.batch_size = batch_size  # documents per round trip of a migration over a large collection
        self.report: Report = report or (lambda line: log.info("%s: %s", self._where, line))
        self._client: AsyncMongoClient[dict[str, Any]] | None = None

    @property
    def _where(self) -> str:
        return f"MongoDB database {self.database}"

    def _database(self) -> AsyncDatabase[dict[str, Any]]:
        assert self._client is not None, "store is not open"
        return self._client[self.database]

    def _connect(self) -> AsyncMongoClient[dict[str, Any]]:
        # timeoutMS bounds every operation on the client side: a stalled replica set fails a
        # write within it (the host answers 503 with Retry-After) instead of hanging the caller.
        return AsyncMongoClient(
            self.url,
            serverSelectionTimeoutMS=self.timeout_ms,
            timeoutMS=self.timeout_ms,
            tz_aware=True,
            uuidRepresentation="standard",
        )

    async def migrate(self, *, dry_run: bool = False) -> Plan:
        """Bring the schema to this code's version (`dry_run`: only say what that takes), through
        a client of its own: a store need not be open."""
        client = self._connect()
        try:
            database = client[self.database]
            plan = await plan_mongo(database, self._where)
            if not dry_run:
                await migrate_mongo(database, plan, self.report, self.batch_size)
            return plan
        finally:
            await client.close()

    def _collection(self, name: str) -> AsyncCollection[dict[str, Any]]:
        assert self._client is not None, "store is not open"
        return self._database().get_collection(name, write_concern=DURABLE)

    async def open(self) -> None:
        self._client = self._connect()
        await self._client.admin.command("ping")
        await prepare_mongo(
            self._database(), self._where, migrate=self.auto_migrate, report=self.report, batch_size=self.batch_size
        )
        await self.repair()

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def commit(self, records: Sequence[JournalRecord], outcomes: Sequence[RememberedAnswer]) -> CommitResult:
        stale = await self._stale(records)
        if stale:
            records = [r for r in records if (r.entity, r.seq) not in stale]
        written, conflicts = await self._insert_fenced(records)
        await self._project(written)
        if outcomes:
            await self._collection("outcomes").bulk_write(
                [
                    ReplaceOne({"_id": _outcome_id(o.entity, o.idempotency_key)}, _outcome_document(o), upsert=True)
                    for o in outcomes
                ],
                ordered=False,
            )
        return CommitResult(conflicts=conflicts, stale=stale)

    async def _stale(self, records: Sequence[JournalRecord]) -> set[tuple[str, int]]:
        """Records whose slot holds another epoch by now. Without multi-document transactions
        this read and the insert after it are two steps: a handoff never falls between them (the
        old owner drains its commits before the epoch moves), and a host presumed dead that
        still writes in that instant meets the new owner's records on the `(entity, seq)` index."""
        slots = fenced_slots(records)
        if not slots:
            return set()
        cursor = self._collection("slots").find({"_id": {"$in": slots}}, {"epoch": 1})
        epochs = {int(d["_id"]): int(d["epoch"]) async for d in cursor}
        return stale_records(records, epochs)

    async def load_slots(self) -> list[SlotOwner]:
        rows = [SlotOwner(int(d["_id"]), d["host"], int(d["epoch"])) async for d in self._collection("slots").find({})]
        return sorted(rows, key=lambda row: row.slot)  # in Python: a server may order `_id`s as strings

    async def init_slots(self, owners: Sequence[SlotOwner]) -> None:
        if owners:
            await self._collection("slots").bulk_write(
                [
                    UpdateOne({"_id": o.slot}, {"$setOnInsert": {"host": o.host, "epoch": o.epoch}}, upsert=True)
                    for o in owners
                ],
                ordered=False,
            )

    async def move_slots(self, claims: Sequence[SlotClaim]) -> list[SlotOwner]:
        """Each claim is one conditional update (`epoch` must match): atomic per document."""
        if not claims:
            return []
        await self._collection("slots").bulk_write(
            [
                UpdateOne({"_id": c.slot, "epoch": c.epoch}, {"$set": {"host": c.host}, "$inc": {"epoch": 1}})
                for c in claims
            ],
            ordered=False,
        )
        # Which ones landed: the coordinator is the table's only writer, so a row holding the
        # claimed host one epoch on was moved by this call.
        wanted = {c.slot: c for c in claims}
        cursor = self._collection("slots").find({"_id": {"$in": list(wanted)}})
        rows = [SlotOwner(int(d["_id"]), d["host"], int(d["epoch"])) async for d in cursor]
        return sorted(
            (r for r in rows if r.host == wanted[r.slot].host and r.epoch == wanted[r.slot].epoch + 1),
            key=lambda r: r.slot,
        )

    async def read_journal(self, entity: str, after_seq: int = 0, limit: int | None = None) -> list[JournalRecord]:
        cursor = self._collection("journal").find({"entity": entity, "seq": {"$gt": after_seq}}).sort("seq", 1)
        if limit is not None:
            cursor = cursor.limit(limit)
        return [_record_from(document) async for document in cursor]

    async def read_last(self, entity: str) -> JournalRecord | None:
        document = await self._collection("journal").find_one({"entity": entity}, sort=[("seq", -1)])
        return None if document is None else _record_from(document)

    async def scan_journal(
        self,
        prefix: str,
        *,
        since: str | None,
        until: str | None,
        after: tuple[str, int] | None,
        limit: int,
    ) -> list[JournalRecord]:
        # A range on `entity` (not a regex) so the unique (entity, seq) index serves both the
        # filter and the sort; the keyset `after` is expressed on the same index.
        entity: dict[str, Any] = {"$gte": prefix}
        upper = prefix_upper_bound(prefix)
        if upper is not None:
            entity["$lt"] = upper
        query: dict[str, Any] = {"entity": entity}
        occurred: dict[str, Any] = {}
        if since is not None:
            occurred["$gte"] = since
        if until is not None:
            occurred["$lt"] = until
        if occurred:
            query["occurredAt"] = occurred
        if after is not None:
            after_entity, after_seq = after
            query["$or"] = [{"entity": {"$gt": after_entity}}, {"entity": after_entity, "seq": {"$gt": after_seq}}]
        cursor = self._collection("journal").find(query).sort([("entity", 1), ("seq", 1)]).limit(limit)
        return [_record_from(document) async for document in cursor]

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
        query: dict[str, Any] = {"tenant": tenant, "project": project, "deleted": False}
        if username is not None:
            query["username"] = username
        for name, prefix in (("username", search.username_prefix), ("playerId", search.id_prefix)):
            if prefix:  # a prefix is the index range prefix <= field < its upper bound
                bound = prefix_upper_bound(prefix)
                query[name] = {**query.get(name, {}), "$gte": prefix, **({} if bound is None else {"$lt": bound})}
        direction, beyond = (-1, "$lt") if search.descending else (1, "$gt")
        if search.sort is None:
            order = [("playerId", direction)]
            if after is not None:
                query["playerId"] = {**query.get("playerId", {}), beyond: after}
        else:
            field = search.sort  # the API's name is the field's name here (`PLAYER_SORTS`' keys)
            order = [(field, direction), ("playerId", direction)]
            if after is not None:
                value = search.after_value
                query["$or"] = [{field: {beyond: value}}, {field: value, "playerId": {beyond: after}}]
        cursor = self._collection("players").find(query).sort(order).limit(limit)
        return [
            PlayerRow(
                tenant,
                project,
                d["playerId"],
                d["username"],
                d["createdAt"],
                d["updatedAt"],
                d["metadata"],
                level=d.get("level", 1),
                xp=d.get("xp", 0),
            )
            async for d in cursor
        ]

    async def count_players(self, tenant: str, *, limit: int) -> int:
        return int(await self._collection("players").count_documents({"tenant": tenant, "deleted": False}, limit=limit))

    async def _project(self, records: Sequence[JournalRecord]) -> None:
        """Write the event store and player index for journaled records, then mark them projected.
        The journal insert is the commit; if this fails or the process dies first, `repair` (run
        when a store opens, and by hosts now and then) finishes it — event ids make it idempotent."""
        if not records:
            return
        events = event_records(records)
        if events:
            await self._insert_events(events)
        changes = [_player_update(row) for row in player_rows(records)]
        changes += [
            UpdateOne({"tenant": tenant, "project": project, "playerId": player_id}, {"$set": values})
            for (tenant, project, player_id), values in player_progress(records).items()
        ]
        if changes:
            await self._collection("players").bulk_write(changes, ordered=True)
        await self._collection("journal").update_many(
            {"$or": [{"entity": r.entity, "seq": r.seq} for r in records]}, {"$set": {"projected": True}}
        )

    async def repair(self) -> int:
        """Project journal records a crash left unprojected, and sequence events a crashed writer
        left pending; answers how many records."""
        await self._feed().sequence()
        repaired = 0
        while True:
            cursor = self._collection("journal").find({"projected": False}).sort([("entity", 1), ("seq", 1)])
            batch = [_record_from(d) async for d in cursor.limit(500)]
            if not batch:
                return repaired
            await self._project(batch)
            repaired += len(batch)

    async def _insert_fenced(
        self, records: Sequence[JournalRecord]
    ) -> tuple[list[JournalRecord], set[tuple[str, int]]]:
        """Insert in rounds holding at most one record per entity, so a refused `(entity, seq)`
        voids that entity's later records before they are written (see `split_fenced`)."""
        pending = list(records)
        written: list[JournalRecord] = []
        refused: set[tuple[str, int]] = set()
        while pending:
            round_: list[JournalRecord] = []
            rest: list[JournalRecord] = []
            seen: set[str] = set()
            for record in pending:
                (rest if record.entity in seen else round_).append(record)
                seen.add(record.entity)
            taken: set[tuple[str, int]] = set()
            try:
                await self._collection("journal").insert_many([_record_document(r) for r in round_], ordered=False)
            except BulkWriteError as error:
                for failure in error.details.get("writeErrors", []):
                    if failure.get("code") != DUPLICATE_KEY:
                        raise
                    record = round_[failure["index"]]
                    taken.add((record.entity, record.seq))
            written += [r for r in round_ if (r.entity, r.seq) not in taken]
            dead = {entity for entity, _ in taken}
            refused |= taken | {(r.entity, r.seq) for r in rest if r.entity in dead}
            pending = [r for r in rest if r.entity not in dead]
        return written, refused

    async def _insert_events(self, events: list[EventRecord]) -> None:
        """The events go in without a position (re-inserting one that is there already is a
        no-op); the sequencer then gives them theirs, in `order`, and moves the feed's head past
        them (actors/stores/mongo_feed.py), so no reader ever skips one."""
        documents = [
            {
                "_id": e.id,
                "position": None,
                "order": f"{e.occurred_at}|{e.tenant}/{e.project}/{e.player_id}|{e.seq:015d}|{i:06d}",
                "type": e.type,
                "tenant": e.tenant,
                "project": e.project,
                "playerId": e.player_id,
                "seq": e.seq,
                "data": e.data,
                "occurredAt": e.occurred_at,
            }
            for i, e in enumerate(events)
        ]
        try:
            await self._collection("events").insert_many(documents, ordered=False)
        except BulkWriteError as error:
            if any(f.get("code") != DUPLICATE_KEY for f in error.details.get("writeErrors", [])):
                raise
        await self._feed().sequence_own([e.id for e in events])

    def _feed(self) -> EventSequencer:
        return EventSequencer(self._database())

    async def read_events(
        self, query: EventQuery, *, after: int = 0, limit: int = 100, skip: int = 0
    ) -> list[EventRecord]:
        head = await self._feed().head()  # never above it: what lies below is final
        below = {"$lt": min(after, head + 1)} if after else {"$lte": head}
        found: dict[str, Any] = {"position": below if query.newest_first else {"$gt": after, "$lte": head}}
        for field, value in (("tenant", query.tenant), ("project", query.project), ("playerId", query.player_id)):
            if value is not None:
                found[field] = value
        if query.types is not None:
            found["type"] = {"$in": list(query.types)}
        if query.since is not None or query.until is not None:
            window: dict[str, str] = {}
            if query.since is not None:
                window["$gte"] = query.since
            if query.until is not None:
                window["$lt"] = query.until
            found["occurredAt"] = window
        order = -1 if query.newest_first else 1
        cursor = self._collection("events").find(found).sort("position", order).skip(skip).limit(limit)
        return [
            EventRecord(
                d["_id"],
                d["type"],
                d["tenant"],
                d["project"],
                d["playerId"],
                d["seq"],
                d["data"],
                d["occurredAt"],
                d["position"],
            )
            async for d in cursor
        ]

    async def event_position(self, event_id: str) -> int | None:
        document = await self._collection("events").find_one({"_id": event_id}, {"position": 1})
        if document is None or document.get("position") is None:
            return None
        position = int(document["position"])
        return position if position <= await self._feed().head() else None

    async def erase_player(self, entity: str) -> int:
        tenant, project, player_id = player_path(entity)
        changed = 0
        journal = self._collection("journal")
        writes: list[UpdateOne] = []
        async for document in journal.find(
            {"entity": entity}, {"events": 1, "command": 1, "idemKey": 1, "requestId": 1}
        ):
            update: dict[str, Any] = {}
            events = scrub_events(document["events"])
            if events != document["events"]:
                update["$set"] = {"events": events}
            if document.get("command") is not None:
                command = scrub_command(document["command"])
                if command != document["command"]:
                    update.setdefault("$set", {})["command"] = command
            if "idemKey" in document:
                update["$unset"] = {"idemKey": "", "fingerprint": "", "outcome": ""}
            if "requestId" in document:
                update.setdefault("$unset", {})["requestId"] = ""
            if update:
                writes.append(UpdateOne({"_id": document["_id"]}, update))
        # A board's own records (`leaderboard.reset`) name their winners.
        low, high = board_entities(tenant, project)
        async for document in journal.find({"entity": {"$gte": low, "$lt": high}}, {"events": 1}):
            events = [{**e, "data": scrub_winners(e.get("data") or {}, player_id)} for e in document["events"]]
            if events != document["events"]:
                writes.append(UpdateOne({"_id": document["_id"]}, {"$set": {"events": events}}))
        changed += await self._bulk(journal, writes)
        events_writes: list[UpdateOne] = []
        found = {"tenant": tenant, "project": project, "playerId": player_id}
        async for document in self._collection("events").find(found, {"data": 1}):
            data = scrub_fields(document["data"])
            if data != document["data"]:
                events_writes.append(UpdateOne({"_id": document["_id"]}, {"$set": {"data": data}}))
        resets = {"tenant": tenant, "project": project, "type": BOARD_RESET}
        async for document in self._collection("events").find(resets, {"data": 1}):
            data = scrub_winners(document["data"], player_id)
            if data != document["data"]:
                events_writes.append(UpdateOne({"_id": document["_id"]}, {"$set": {"data": data}}))
        changed += await self._bulk(self._collection("events"), events_writes)
        # Keyed answers: `_id` is `<entity>\x1f<key>`, so one range holds exactly this entity's.
        keyed = {"_id": {"$gte": f"{entity}\x1f", "$lt": f"{entity}\x20"}}
        changed += (await self._collection("outcomes").delete_many(keyed)).deleted_count
        snapshot = await self._collection("snapshots").find_one({"_id": entity})
        if snapshot is not None and scrub_state(snapshot["state"]) != snapshot["state"]:
            await self._collection("snapshots").update_one(
                {"_id": entity}, {"$set": {"state": scrub_state(snapshot["state"])}}
            )
            changed += 1
        row = await self._collection("players").update_one(found, {"$set": {"username": "", "metadata": {}}})
        return changed + row.modified_count

    @staticmethod
    async def _bulk(collection: AsyncCollection[dict[str, Any]], writes: list[UpdateOne]) -> int:
        changed = 0
        for start in range(0, len(writes), ERASE_BATCH):
            result = await collection.bulk_write(writes[start : start + ERASE_BATCH], ordered=False)
            changed += result.modified_count
        return changed

    async def forget_erased(self) -> bool:
        """MongoDB's storage engine reclaims replaced documents itself: nothing to do here."""
        return True

    async def purge_events(self, before: str, *, only: str | None = None, sparing: Collection[str] = ()) -> int:
        found: dict[str, Any] = {"occurredAt": {"$lt": before}}
        if only is not None:
            found["tenant"] = only
        elif sparing:
            found["tenant"] = {"$nin": list(sparing)}
        return int((await self._collection("events").delete_many(found)).deleted_count)

    async def put_document(self, kind: str, doc_id: str, document: dict[str, Any]) -> None:
        """An unconditional write still moves the version on (read, then compare-and-set until
        it lands), so a compare-and-set that read before it fails."""
        while True:
            _, version = await self.get_versioned(kind, doc_id)
            if await self.put_if_version(kind, doc_id, document, version):
                return

    async def purge_tenant(self, tenant: str) -> dict[str, int]:
        removed: dict[str, int] = {}
        for name in ("journal", "snapshots", "outcomes"):
            field = "entity" if name == "journal" else "_id"  # snapshots and keyed answers: by id
            ranges = [{field: {"$gte": low, "$lt": high}} for low, high in tenant_entities(tenant)]
            result = await self._collection(name).delete_many({"$or": ranges})
            removed[name] = int(result.deleted_count)
        for name in ("players", "events"):
            removed[name] = int((await self._collection(name).delete_many({"tenant": tenant})).deleted_count)
        removed["documents"] = 0
        for name in await self._database().list_collection_names():
            if name.startswith("control_"):
                result = await self._collection(name).delete_many({"tenantId": tenant})
                removed["documents"] += int(result.deleted_count)
        return removed

    async def delete_documents(self, kind: str, ids: Sequence[str]) -> int:
        result = await self._collection(f"control_{kind}").delete_many({"_id": {"$in": list(ids)}})
        return int(result.deleted_count)

    async def get_versioned(self, kind: str, doc_id: str) -> tuple[dict[str, Any] | None, int]:
        document = await self._collection(f"control_{kind}").find_one({"_id": doc_id})
        if document is None:
            return None, 0
        return _plain(document), int(document.get(VERSION_FIELD, 1))  # schema step 3 stamps 1 on older ones

    async def put_if_version(self, kind: str, doc_id: str, document: dict[str, Any], version: int) -> bool:
        stored = {"_id": doc_id, **document, VERSION_FIELD: version + 1}
        collection = self._collection(f"control_{kind}")
        if version == 0:
            try:
                await collection.insert_one(stored)
            except DuplicateKeyError:
                return False
            return True
        result = await collection.replace_one({"_id": doc_id, VERSION_FIELD: version}, stored)
        return result.matched_count == 1

    async def get_document(self, kind: str, doc_id: str) -> dict[str, Any] | None:
        document = await self._collection(f"control_{kind}").find_one({"_id": doc_id})
        return None if document is None else _plain(document)

    async def get_documents(self, refs: Sequence[tuple[str, str]]) -> list[dict[str, Any] | None]:
        return list(await asyncio.gather(*(self.get_document(kind, doc_id) for kind, doc_id in refs)))

    async def list_documents(
        self,
        kind: str,
        *,
        tenant: str | None = None,
        after: str | None = None,
        limit: int = 100,
        descending: bool = False,
    ) -> list[dict[str, Any]]:
        query: dict[str, Any] = {}
        if tenant is not None:
            query["tenantId"] = tenant
        if after is not None:
            query["_id"] = {"$lt" if descending else "$gt": after}
        order = -1 if descending else 1
        cursor = self._collection(f"control_{kind}").find(query).sort("_id", order).limit(limit)
        return [_plain(d) async for d in cursor]

    async def load_snapshot(self, entity: str) -> Snapshot | None:
        document = await self._collection("snapshots").find_one({"_id": entity})
        return None if document is None else _snapshot_from(document)

    async def save_snapshot(self, snapshot: Snapshot) -> None:
        await self.save_snapshots([snapshot])

    async def load_histories(self, entities: Sequence[str]) -> list[History]:
        if not entities:
            return []
        snapshots = {
            d["_id"]: _snapshot_from(d)
            async for d in self._collection("snapshots").find({"_id": {"$in": list(entities)}})
        }
        after = {entity: snapshots[entity].seq if entity in snapshots else 0 for entity in entities}
        tails = [{"entity": entity, "seq": {"$gt": seq}} for entity, seq in after.items()]
        records: dict[str, list[JournalRecord]] = {entity: [] for entity in entities}
        async for document in self._collection("journal").find({"$or": tails}).sort([("entity", 1), ("seq", 1)]):
            records[document["entity"]].append(_record_from(document))
        return [History(snapshots.get(entity), records[entity]) for entity in entities]

    async def save_snapshots(self, snapshots: Sequence[Snapshot]) -> None:
        # Never move a snapshot backwards: a late writer must not hide newer state. The upsert of
        # an entity whose stored snapshot is newer collides on `_id` and is dropped.
        writes = [
            UpdateOne(
                {"_id": s.entity, "seq": {"$lt": s.seq}},
                {"$set": {"seq": s.seq, "state": s.state, "takenAtMs": s.taken_at_ms}},
                upsert=True,
            )
            for s in snapshots
        ]
        if not writes:
            return
        try:
            await self._collection("snapshots").bulk_write(writes, ordered=False)
        except BulkWriteError as error:
            if any(e.get("code") != 11000 for e in error.details.get("writeErrors", [])):
                raise

    async def find_outcome(self, entity: str, key: str, since_ms: int) -> Remembered | None:
        document = await self._collection("journal").find_one(
            {"entity": entity, "idemKey": key, "recordedAtMs": {"$gte": since_ms}}
        )
        if document is None:
            document = await self._collection("outcomes").find_one(
                {"_id": _outcome_id(entity, key), "recordedAtMs": {"$gte": since_ms}}
            )
        if document is None:
            return None
        return Remembered(document["fingerprint"], document["outcome"], document["recordedAtMs"])

    async def find_outcomes(self, keys: Sequence[tuple[str, str]], since_ms: int) -> list[Remembered | None]:
        return list(await asyncio.gather(*(self.find_outcome(entity, key, since_ms) for entity, key in keys)))

    async def amend_outcome(self, entity: str, key: str, outcome: dict[str, Any]) -> bool:
        amended = await self._collection("journal").update_one(
            {"entity": entity, "idemKey": key}, {"$set": {"outcome": outcome}}
        )
        if amended.matched_count:
            return True
        kept = await self._collection("outcomes").update_one(
            {"_id": _outcome_id(entity, key)}, {"$set": {"outcome": outcome}}
        )
        return kept.matched_count > 0

    async def purge_outcomes(self, before_ms: int, *, only: str | None = None, sparing: Collection[str] = ()) -> int:
        """Outcome documents are found by age and their `_id`'s entity, journal records by `entity`."""
        by_id, by_entity = _tenants_of_entities("_id", only, sparing), _tenants_of_entities("entity", only, sparing)
        deleted = await self._collection("outcomes").delete_many({"recordedAtMs": {"$lt": before_ms}, **by_id})
        cleared = await self._collection("journal").update_many(
            {"idemKey": {"$exists": True}, "recordedAtMs": {"$lt": before_ms}, **by_entity},
            {"$unset": {"idemKey": "", "fingerprint": "", "outcome": ""}},
        )
        return deleted.deleted_count + cleared.modified_count


def _player_update(row: PlayerRow) -> UpdateOne:
    key = {"tenant": row.tenant, "project": row.project, "playerId": row.player_id}
    if row.deleted:
        return UpdateOne(key, {"$set": {"deleted": True, "updatedAt": row.updated_at}})
    return UpdateOne(
        key,
        {
            "$set": {"username": row.username, "metadata": row.metadata, "updatedAt": row.updated_at, "deleted": False},
            "$setOnInsert": {"createdAt": row.created_at, "level": 1, "xp": 0},
        },
        upsert=True,
    )


def _tenants_of_entities(field: str, only: str | None, sparing: Collection[str]) -> dict[str, Any]:
    """A filter on `field` (an entity, or an id that starts with one) keeping one tenant's
    documents, or all but some tenants', by ranges of player keys (an index range scan)."""
    if only is not None:
        low, high = tenant_player_keys(only)
        return {field: {"$gte": low, "$lt": high}}
    if not sparing:
        return {}
    ranges = [tenant_player_keys(tenant) for tenant in sparing]
    return {"$nor": [{field: {"$gte": low, "$lt": high}} for low, high in ranges]}


def _outcome_id(entity: str, key: str) -> str:
    return f"{entity}\x1f{key}"


def _record_document(record: JournalRecord) -> dict[str, Any]:
    document: dict[str, Any] = {
        "entity": record.entity,
        "seq": record.seq,
        "occurredAt": record.occurred_at,
        "recordedAtMs": record.recorded_at_ms,
        "events": record.events,
        "projected": False,
        "v": record.format_version,
    }
    if record.command is not None:
        document["command"] = record.command
    if record.request_id is not None:
        document["requestId"] = record.request_id
    if record.epoch is not None:
        document.update(slot=record.slot, epoch=record.epoch, host=record.host)
    if record.idempotency_key is not None:
        document.update(idemKey=record.idempotency_key, fingerprint=record.fingerprint, outcome=record.outcome)
    return document


def _snapshot_from(document: dict[str, Any]) -> Snapshot:
    return Snapshot(document["_id"], document["seq"], document["state"], document["takenAtMs"])


def _plain(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k not in ("_id", VERSION_FIELD)}


def _record_from(document: dict[str, Any]) -> JournalRecord:
    return JournalRecord(
        entity=document["entity"],
        seq=document["seq"],
        events=document["events"],
        occurred_at=document["occurredAt"],
        recorded_at_ms=document["recordedAtMs"],
        idempotency_key=document.get("idemKey"),
        fingerprint=document.get("fingerprint"),
        outcome=document.get("outcome"),
        format_version=record_format(document.get("v")),
        command=document.get("command"),
        request_id=document.get("requestId"),
        slot=document.get("slot"),
        epoch=document.get("epoch"),
        host=document.get("host"),
    )


def _outcome_document(outcome: RememberedAnswer) -> dict[str, Any]:
    return {
        "_id": _outcome_id(outcome.entity, outcome.idempotency_key),
        "fingerprint": outcome.fingerprint,
        "outcome": outcome.outcome,
        "recordedAtMs": outcome.recorded_at_ms,
    }
