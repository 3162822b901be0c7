"""A player's data on request: the export (streamed), the erasure, and the audit replay reads
(journal pages, state at a seq). The journal is the source of all three; the store is read
page by page, so a player with 100k events never sits in memory whole. docs/PRIVACY.md."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import orjson

from actors.boards.store import BoardStore
from actors.clock import SystemClock, epoch_ms
from actors.economy_health import EconomyHealth
from actors.economy_reads import latest_version, version_at
from actors.host.reads import LEDGER_TYPES, ledger_entry
from actors.stores.base import (
    BOARD_RESET,
    DocumentStore,
    ErasureStore,
    EventFeed,
    EventQuery,
    JournalRecord,
    JournalStore,
    event_records,
    player_path,
)
from actors.webhook_records import CURSOR_ID, CURSORS, DELIVERIES, DUE, REDRIVES, WEBHOOKS, delivery_id, redrive_id
from engine.events import PurchaseSucceeded, event_from_dict, event_id
from engine.identity import player_key
from engine.item_effects import boost_documents
from engine.outcomes import Outcome, Refusal
from engine.privacy import PERSONAL_FIELDS, free_text_reasons, holds_personal_data, scrub_public_event, scrub_winners
from engine.replay import EconomyVersion, fold, journal_entry, state_view
from engine.rules import receipt_view, rfc3339
from engine.state import PlayerState
from engine.views import achievements_view, inventory_view, player_view, quests_view


class PrivacyStore(JournalStore, EventFeed, DocumentStore, ErasureStore, Protocol):
    """What an export or erasure reads and rewrites: the journal, the event feed, delivery documents
    and the erased rows in the store's files."""


ERASURES = "erasures"  # one document per erased player: when, by which request (no personal data)
PAGE = 500  # journal records per store read
DELIVERY_LOOKUPS = 500  # delivery documents per store round trip
WEBHOOK_CATCH_UP_S = 10.0  # how long an erasure waits for the webhook worker to take in its events
log = logging.getLogger("ludex.privacy")


class PersonalDataHolder(Protocol):
    """A store of a player's personal data outside its journal, which the export must include
    and the erasure must rewrite. Leaderboards are one (their entries show the username): the
    leaderboard store implements this and is listed by `personal_data_holders`."""

    name: str  # the export's key for what it holds, e.g. "leaderboards"

    async def export_player(self, tenant: str, project: str, player_id: str) -> list[dict[str, Any]]: ...

    async def erase_player(self, tenant: str, project: str, player_id: str) -> int: ...


class PlayerHost(Protocol):
    """Where a player lives (`ShardHost`, or `ShardDirectory` routing to one)."""

    async def erase(self, tenant: str, project: str, player_id: str, request_id: str | None) -> Outcome: ...


class BoardEntries:
    """The leaderboards as a holder: their entries show the player's username (docs/LEADERBOARDS.md).
    A deletion already takes the player off every board; the erasure removes whatever is left
    (an entry applied after a lost deletion change, a store written by an older version)."""

    name = "leaderboards"

    def __init__(self, boards: BoardStore) -> None:
        self.boards = boards

    async def export_player(self, tenant: str, project: str, player_id: str) -> list[dict[str, Any]]:
        return [
            {
                "boardId": entry.board_id,
                "periodId": entry.period_id,
                "rank": entry.rank,
                "score": entry.score,
                "updatedAt": rfc3339(datetime.fromtimestamp(entry.updated_at_ms / 1000, UTC)),
            }
            for entry in await self.boards.entries_of(tenant, project, player_id)
        ]

    async def erase_player(self, tenant: str, project: str, player_id: str) -> int:
        return await self.boards.forget_player(tenant, project, player_id)


def personal_data_holders(boards: BoardStore | None) -> list[PersonalDataHolder]:
    """Every holder besides the journal: the deployment's leaderboards, when it has them."""
    return [] if boards is None else [BoardEntries(boards)]


@dataclass(frozen=True)
class Erased:
    player_id: str
    erased_at: str  # the first erasure's time: repeating one changes nothing
    seq: int
    repeated: bool

    def public(self) -> dict[str, Any]:
        return {"playerId": self.player_id, "erasedAt": self.erased_at, "seq": self.seq, "repeated": self.repeated}


class PlayerPrivacy:
    def __init__(
        self,
        store: PrivacyStore,
        *,
        holders: Sequence[PersonalDataHolder] = (),
        clock: Any = None,
        page: int = PAGE,
        webhook_catch_up_s: float = WEBHOOK_CATCH_UP_S,
    ) -> None:
        self.store = store
        self.holders = list(holders)
        self.clock = clock or SystemClock()
        self.page = page
        self.webhook_catch_up_s = webhook_catch_up_s

    # ------------------------------------------------------------------------------ reading

    async def _records(self, entity: str, *, after: int = 0, upto: int | None = None) -> AsyncIterator[JournalRecord]:
        """The entity's records after seq `after` and up to `upto`, read a page at a time."""
        while records := await self.store.read_journal(entity, after_seq=after, limit=self.page):
            for record in records:
                if upto is not None and record.seq > upto:
                    return
                yield record
            after = records[-1].seq

    async def journal_page(
        self, tenant: str, project: str, player_id: str, *, after: int, limit: int
    ) -> tuple[list[dict[str, Any]], int | None] | None:
        """Records after seq `after` as `GET .../journal` shows them, and the seq to continue
        after (None: the last page); None when the player has no journal at all."""
        entity = player_key(tenant, project, player_id)
        records = await self.store.read_journal(entity, after_seq=after, limit=limit + 1)
        if not records and (after == 0 or not await self.store.read_journal(entity, limit=1)):
            return None
        page = records[:limit]
        entries = [
            journal_entry(
                entity,
                record,
                command=record.command,
                idempotency_key=record.idempotency_key,
                request_id=record.request_id,
            )
            for record in page
        ]
        return entries, (page[-1].seq if len(records) > limit else None)

    async def state_at(self, tenant: str, project: str, player_id: str, seq: int) -> dict[str, Any] | None:
        """The player as it was after record `seq`, recomputed from the journal with the economy
        version in force then; None when the journal has no record `seq`."""
        entity = player_key(tenant, project, player_id)
        state, occurred_at = PlayerState(player_id=player_id), None
        async for record in self._records(entity, upto=seq):
            state = fold(state, [record])
            occurred_at = record.occurred_at
        if state.seq != seq or occurred_at is None:
            return None
        economy = await version_at(self.store, tenant, project, occurred_at)
        return None if economy is None else state_view(state, economy, occurred_at)

    # ------------------------------------------------------------------------------ export

    async def export(self, tenant: str, project: str, player_id: str) -> AsyncIterator[bytes] | None:
        """The player's whole data as one JSON document, in chunks; None for a player that never
        existed. The state is folded first (one pass over the journal); the ledger, purchases and
        events then stream in a pass each, up to the same seq, so the parts agree."""
        entity = player_key(tenant, project, player_id)
        state = PlayerState(player_id=player_id)
        async for record in self._records(entity):
            state = fold(state, [record])
        if not state.exists:
            return None
        economy = await latest_version(self.store, tenant, project)
        erased = await self.store.get_document(ERASURES, _erasure_id(tenant, project, player_id))
        held = {holder.name: await holder.export_player(tenant, project, player_id) for holder in self.holders}
        return self._export_chunks(entity, state, economy, erased, held)

    async def _export_chunks(
        self,
        entity: str,
        state: PlayerState,
        economy: EconomyVersion | None,
        erased: dict[str, Any] | None,
        held: dict[str, list[dict[str, Any]]],
    ) -> AsyncIterator[bytes]:
        tenant, project, player_id = player_path(entity)
        current = None if economy is None else economy.economy()
        head: dict[str, Any] = {
            "exportedAt": rfc3339(self.clock.now()),
            "tenantId": tenant,
            "projectId": project,
            "playerId": player_id,
            "seq": state.seq,
            "deleted": state.deleted,
            "erasedAt": None if erased is None else erased.get("erasedAt"),
            "profile": {**player_view(state), "level": state.level, "xp": state.xp},
            "wallet": dict(state.balances),
            "inventory": inventory_view(state),
            "quests": {"active": [], "completed": []} if current is None else quests_view(state, current),
            "achievements": achievements_view(state),
            "counters": dict(state.counters),
            "boosts": boost_documents(state.boosts),
            "flags": dict(state.flags),
            # Leaderboard entries come from their store (`BoardEntries`); empty without one.
            "leaderboards": held.pop("leaderboards", []),
            **held,
        }
        yield orjson.dumps(head)[:-1]
        sections: list[tuple[str, Callable[[JournalRecord], Iterable[dict[str, Any]]]]] = [
            ("ledger", lambda record: _ledger_entries(entity, record)),
            ("purchases", _purchases),
            ("events", lambda record: (event.public() for event in event_records([record]))),
        ]
        for name, items in sections:
            yield b',"' + name.encode() + b'":['
            first = True
            async for chunk in self._pages(entity, state.seq, items):
                yield chunk if first else b"," + chunk
                first = False
            yield b"]"
        yield b"}"

    async def _pages(
        self, entity: str, upto: int, items: Callable[[JournalRecord], Iterable[dict[str, Any]]]
    ) -> AsyncIterator[bytes]:
        """The JSON items of each page of records, comma-joined; pages without items are skipped."""
        after = 0
        while records := await self.store.read_journal(entity, after_seq=after, limit=self.page):
            found = [orjson.dumps(item) for record in records if record.seq <= upto for item in items(record)]
            if found:
                yield b",".join(found)
            if records[-1].seq >= upto:
                return
            after = records[-1].seq

    # ------------------------------------------------------------------------------ erasure

    async def erase(
        self, host: PlayerHost, tenant: str, project: str, player_id: str, request_id: str | None
    ) -> Erased | Refusal:
        """Erase the player everywhere (docs/PRIVACY.md): the host deletes it and rewrites the
        journal, snapshot, index, event store and keyed answers; then webhook deliveries and every
        other holder; then the store's files. Answers the erasure, or the host's error outcome."""
        entity = player_key(tenant, project, player_id)
        reasons: set[str] = set()  # read before the host rewrites them: economy health keys by them
        async for record in self._records(entity):
            reasons |= free_text_reasons(record.events)
        outcome = await host.erase(tenant, project, player_id, request_id)
        if outcome.refusal is not None:
            return outcome.refusal
        await self._scrub_deliveries(tenant, project, entity, int(outcome.body["seq"]))
        await self._scrub_reset_deliveries(tenant, project, player_id)
        await EconomyHealth(self.store).forget_reasons(tenant, project, reasons)
        for holder in self.holders:
            await holder.erase_player(tenant, project, player_id)
        await self.store.forget_erased()
        identity = _erasure_id(tenant, project, player_id)
        found = await self.store.get_document(ERASURES, identity)
        if found is None:
            found = {
                "id": identity,
                "tenantId": tenant,
                "projectId": project,
                "playerId": player_id,
                "erasedAt": rfc3339(self.clock.now()),
                "requestId": request_id,
            }
            if not await self.store.put_if_version(ERASURES, identity, found, 0):
                found = await self.store.get_document(ERASURES, identity) or found
            repeated = False
        else:
            repeated = True
        return Erased(player_id, found["erasedAt"], int(outcome.body["seq"]), repeated)

    async def _subscriptions(self, tenant: str, project: str) -> list[str]:
        """The ids of the project's webhooks."""
        subscriptions: list[str] = []
        after: str | None = None
        while page := await self.store.list_documents(WEBHOOKS, tenant=tenant, after=after, limit=500):
            subscriptions += [d["id"] for d in page if d.get("projectId") == project]
            after = page[-1]["id"]
        return subscriptions

    async def _scrub_deliveries(self, tenant: str, project: str, entity: str, last_seq: int) -> int:
        """Rewrite the stored bodies of the player's webhook deliveries (a redrive sends the
        stored body). Only events that can carry personal data are looked up, once the worker has
        taken in the player's last event: a delivery it wrote from an event read before the
        rewrite is then stored, and rewritten here."""
        subscriptions = await self._subscriptions(tenant, project)
        if not subscriptions:
            return 0
        if not await self._webhooks_caught_up(event_id(entity, last_seq, 0)):
            log.warning("erasure of %s: the webhook worker is behind; erase again once it caught up", entity)
        rewritten: list[dict[str, Any]] = []
        wanted: list[str] = []
        async for record in self._records(entity):
            for index, event in enumerate(record.events):
                if any(field in (event.get("data") or {}) for field in PERSONAL_FIELDS):
                    wanted += [delivery_id(s, event_id(entity, record.seq, index)) for s in subscriptions]
            if len(wanted) >= DELIVERY_LOOKUPS:
                rewritten += await self._scrub_delivery_documents(wanted)
                wanted = []
        rewritten += await self._scrub_delivery_documents(wanted)
        due = [d["id"] for d in rewritten if d.get("status") in DUE]
        if due:
            # The worker keeps due deliveries in memory: naming them the way a redrive does makes
            # it read them again from the store, so its next attempt sends the rewritten body.
            identity = redrive_id(epoch_ms(self.clock.now()))
            document = {"id": identity, "tenantId": tenant, "deliveries": due, "at": rfc3339(self.clock.now())}
            await self.store.put_document(REDRIVES, identity, document)
        return len(rewritten)

    async def _scrub_reset_deliveries(self, tenant: str, project: str, player_id: str) -> None:
        """Rewrite the stored deliveries of the `leaderboard.reset` events that name the player
        among their winners (the store already rewrote the events themselves)."""
        subscriptions = await self._subscriptions(tenant, project)
        after = 0
        while subscriptions and (
            page := await self.store.read_events(
                EventQuery(tenant=tenant, project=project, types=(BOARD_RESET,)), after=after, limit=self.page
            )
        ):
            named = [e.id for e in page if any(w.get("playerId") == player_id for w in e.data.get("winners", []))]
            wanted = [delivery_id(s, event) for s in subscriptions for event in named]
            for document in await self.store.get_documents([(DELIVERIES, i) for i in wanted]):
                if document is not None:
                    document["event"] = {
                        **document["event"],
                        "data": scrub_winners(document["event"]["data"], player_id),
                    }
                    await self.store.put_document(DELIVERIES, document["id"], document)
            after = page[-1].position

    async def _webhooks_caught_up(self, last_event: str) -> bool:
        """Whether the worker's durable cursor passed `last_event` within `webhook_catch_up_s`."""
        deadline = time.monotonic() + self.webhook_catch_up_s
        while True:
            position = await self.store.event_position(last_event)
            cursor = await self.store.get_document(CURSORS, CURSOR_ID)
            if position is not None and cursor is not None and int(cursor["position"]) >= position:
                return True
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.1)

    async def _scrub_delivery_documents(self, identities: list[str]) -> list[dict[str, Any]]:
        rewritten = []
        for document in await self.store.get_documents([(DELIVERIES, i) for i in identities]):
            if document is not None and holds_personal_data(document.get("event", {}).get("data")):
                document["event"] = scrub_public_event(document["event"])
                await self.store.put_document(DELIVERIES, document["id"], document)
                rewritten.append(document)
        return rewritten


def _erasure_id(tenant: str, project: str, player_id: str) -> str:
    return f"{tenant}/{project}/{player_id}"


def _ledger_entries(entity: str, record: JournalRecord) -> Iterable[dict[str, Any]]:
    for index, event in enumerate(record.current_events()):
        if event["type"] in LEDGER_TYPES:
            yield ledger_entry(entity, record, index, event)


def _purchases(record: JournalRecord) -> Iterable[dict[str, Any]]:
    for event in record.current_events():
        if event["type"] == PurchaseSucceeded.type:
            succeeded = event_from_dict(event)
            assert isinstance(succeeded, PurchaseSucceeded)
            yield receipt_view(succeeded, record.occurred_at)
