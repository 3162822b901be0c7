"""One contract for every store: each backend subclasses `StoreContract` and overrides only
`create_store`. SQLite runs on a real file; MongoDB over a real connection (nx-27017, or
`LUDEX_TEST_MONGO_URL`)."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from actors.documents import update_document
from actors.stores.base import (
    PLAYER_SORTS,
    CommitResult,
    EventQuery,
    JournalRecord,
    PlayerSearch,
    RememberedAnswer,
    SlotClaim,
    SlotOwner,
    Snapshot,
    Store,
)
from actors.stores.migrations import LATEST_SCHEMA
from actors.stores.mongo import MongoStore
from actors.stores.sqlite import SqliteStore
from engine.events import PlayerCreated, PlayerDeleted, event_id, event_to_dict


def record(entity: str, seq: int, *, key: str | None = None, at_ms: int = 1_000) -> JournalRecord:
    return JournalRecord(
        entity=entity,
        seq=seq,
        events=[{"type": "wallet.credited", "data": {"currency": "coins", "amount": seq, "balanceAfter": seq}}],
        occurred_at="2026-01-01T00:00:00.000Z",
        recorded_at_ms=at_ms,
        idempotency_key=key,
        fingerprint=None if key is None else f"fp-{key}",
        outcome=None if key is None else {"ok": True, "body": {"seq": seq}},
    )


async def _skip(records: Any) -> None:
    """Stands in for a process that died right after its journal insert."""


class StoreContract:
    @pytest.fixture
    async def store(self, tmp_path: Path) -> AsyncIterator[Store]:
        store = self.create_store(tmp_path)
        await store.open()
        yield store
        await store.close()

    def create_store(self, tmp_path: Path) -> Store:
        raise NotImplementedError

    async def test_committed_records_read_back_in_seq_order(self, store: Store) -> None:
        await store.commit([record("p:a", 2), record("p:a", 1), record("p:b", 1)], [])
        journal = await store.read_journal("p:a")
        assert [r.seq for r in journal] == [1, 2]
        assert journal[0].events == record("p:a", 1).events

    async def test_read_journal_starts_after_a_seq_and_honours_limit(self, store: Store) -> None:
        await store.commit([record("p:a", seq) for seq in range(1, 6)], [])
        assert [r.seq for r in await store.read_journal("p:a", after_seq=2)] == [3, 4, 5]
        assert [r.seq for r in await store.read_journal("p:a", after_seq=1, limit=2)] == [2, 3]

    async def test_a_taken_entity_seq_is_reported_as_conflict_and_not_overwritten(self, store: Store) -> None:
        await store.commit([record("p:a", 1)], [])
        stale = JournalRecord("p:a", 1, [{"type": "x", "data": {}}], "2026-01-01T00:00:00.000Z", 5)
        result = await store.commit([stale, record("p:b", 1)], [])
        assert result.conflicts == {("p:a", 1)}
        assert (await store.read_journal("p:a"))[0].events == record("p:a", 1).events
        assert [r.seq for r in await store.read_journal("p:b")] == [1]

    async def test_records_after_a_fenced_one_of_the_same_entity_are_refused_too(self, store: Store) -> None:
        other = JournalRecord("player:t/p/e", 1, [{"type": "wallet.credited", "data": {"balanceAfter": 5}}], "x", 1)
        await store.commit([other], [])

        def stale(seq: int, balance: int) -> JournalRecord:
            event = {"type": "wallet.credited", "data": {"balanceAfter": balance}}
            return JournalRecord("player:t/p/e", seq, [event], "2026-01-01T00:00:00.000Z", 2)

        result = await store.commit([stale(1, 100), record("p:fine", 1), stale(2, 110)], [])
        assert result.conflicts == {("player:t/p/e", 1), ("player:t/p/e", 2)}
        journal = await store.read_journal("player:t/p/e")
        assert [(r.seq, r.events[0]["data"]["balanceAfter"]) for r in journal] == [(1, 5)]
        assert [r.seq for r in await store.read_journal("p:fine")] == [1], "other entities still commit"
        events = await store.read_events(EventQuery(tenant="t", project="p", player_id="e"))
        assert [e.data["balanceAfter"] for e in events] == [5]

    async def test_the_slot_table_is_dealt_once_and_moves_by_compare_and_set(self, store: Store) -> None:
        assert await store.load_slots() == []
        await store.init_slots([SlotOwner(0, "h0", 1), SlotOwner(1, "h1", 1), SlotOwner(2, "h0", 1)])
        await store.init_slots([SlotOwner(0, "other", 9), SlotOwner(3, "h1", 1)])  # completes, never changes
        assert await store.load_slots() == [
            SlotOwner(0, "h0", 1),
            SlotOwner(1, "h1", 1),
            SlotOwner(2, "h0", 1),
            SlotOwner(3, "h1", 1),
        ]
        moved = await store.move_slots([SlotClaim(0, 1, "h2"), SlotClaim(1, 7, "h2"), SlotClaim(2, 1, "h1")])
        assert moved == [SlotOwner(0, "h2", 2), SlotOwner(2, "h1", 2)], "a claim on an old epoch changes nothing"
        assert await store.move_slots([SlotClaim(0, 1, "h0")]) == [], "the same claim twice moves once"
        assert [(o.host, o.epoch) for o in await store.load_slots()] == [("h2", 2), ("h1", 1), ("h1", 2), ("h1", 1)]

    async def test_a_record_stamped_with_a_stale_epoch_is_refused_and_others_commit(self, store: Store) -> None:
        await store.init_slots([SlotOwner(0, "old", 1), SlotOwner(1, "old", 1)])

        def stamped(entity: str, seq: int, slot: int, epoch: int, host: str, key: str) -> JournalRecord:
            base = record(entity, seq, key=key)
            return JournalRecord(**{**base.__dict__, "slot": slot, "epoch": epoch, "host": host})

        first = await store.commit([stamped("player:t/p/a", 1, 0, 1, "old", "k1")], [])
        assert first.stale == set() and first.conflicts == set()
        assert await store.move_slots([SlotClaim(0, 1, "new")])
        # The old owner does not know yet: its next write (and everything after it) is refused...
        late = await store.commit(
            [
                stamped("player:t/p/a", 2, 0, 1, "old", "k2"),
                stamped("player:t/p/b", 1, 1, 1, "old", "k3"),  # ...but slot 1 is still its own
                stamped("player:t/p/a", 3, 0, 1, "old", "k4"),
            ],
            [],
        )
        assert late.stale == {("player:t/p/a", 2), ("player:t/p/a", 3)} and late.conflicts == set()
        assert [r.seq for r in await store.read_journal("player:t/p/a")] == [1]
        assert await store.find_outcome("player:t/p/a", "k2", since_ms=0) is None, "nothing of it was written"
        assert [e.player_id for e in await store.read_events(EventQuery(tenant="t"))] == ["a", "b"]
        # ...while the new owner writes at the slot's new epoch, and the journal says who wrote.
        fresh = await store.commit([stamped("player:t/p/a", 2, 0, 2, "new", "k2")], [])
        assert fresh.stale == set()
        journal = await store.read_journal("player:t/p/a")
        assert [(r.seq, r.slot, r.epoch, r.host) for r in journal] == [(1, 0, 1, "old"), (2, 0, 2, "new")]
        unstamped = await store.commit([record("player:t/p/a", 3)], [])  # tools write outside the map
        assert unstamped.stale == set() and len(await store.read_journal("player:t/p/a")) == 3

    async def test_repair_projects_journal_records_a_crash_left_behind(self, store: Store) -> None:
        created = {"type": "player.created", "data": {"username": "ann", "metadata": {}}}
        rec = JournalRecord("player:t/p/ann", 1, [created], "2026-01-01T00:00:00.000Z", 1)
        if isinstance(store, MongoStore):  # a crash between the journal insert and its projections
            store._project = _skip  # type: ignore[method-assign]
            await store.commit([rec], [])
            del store._project
            assert await store.read_events(EventQuery(player_id="ann")) == []
            assert await store.repair() == 1
        else:
            await store.commit([rec], [])
            assert await store.repair() == 0
        assert [e.type for e in await store.read_events(EventQuery(player_id="ann"))] == ["player.created"]
        assert [r.player_id for r in await store.list_players("t", "p")] == ["ann"]
        assert await store.repair() == 0

    async def test_keyed_answers_are_found_in_journal_and_outcomes(self, store: Store) -> None:
        rejected = RememberedAnswer("p:a", "k2", "fp-k2", {"ok": False, "error": {"slug": "insufficient-funds"}}, 1_000)
        await store.commit([record("p:a", 1, key="k1")], [rejected])
        found = await store.find_outcome("p:a", "k1", since_ms=0)
        assert found is not None and found.fingerprint == "fp-k1" and found.outcome == {"ok": True, "body": {"seq": 1}}
        found = await store.find_outcome("p:a", "k2", since_ms=0)
        assert found is not None and found.outcome["error"]["slug"] == "insufficient-funds"
        assert await store.find_outcome("p:a", "nope", since_ms=0) is None
        assert await store.find_outcome("p:b", "k1", since_ms=0) is None

    async def test_an_amended_answer_is_what_the_key_answers_again(self, store: Store) -> None:
        rejected = RememberedAnswer("p:a", "k2", "fp-k2", {"ok": False, "error": {"slug": "x"}}, 1_000)
        await store.commit([record("p:a", 1, key="k1")], [rejected])
        assert await store.amend_outcome("p:a", "k1", {"ok": True, "body": {"seq": 1, "rank": 3}})
        assert await store.amend_outcome("p:a", "k2", {"ok": False, "error": {"slug": "y"}})
        assert not await store.amend_outcome("p:a", "nope", {"ok": True})
        found = await store.find_outcome("p:a", "k1", since_ms=0)
        assert found is not None and found.fingerprint == "fp-k1" and found.outcome["body"] == {"seq": 1, "rank": 3}
        found = await store.find_outcome("p:a", "k2", since_ms=0)
        assert found is not None and found.outcome["error"]["slug"] == "y"

    async def test_the_last_record_is_read_alone(self, store: Store) -> None:
        assert await store.read_last("p:a") is None
        await store.commit([record("p:a", 1), record("p:a", 2), record("p:b", 1)], [])
        last = await store.read_last("p:a")
        assert last is not None and (last.entity, last.seq) == ("p:a", 2)

    async def test_many_answers_are_found_in_one_call_in_the_order_asked(self, store: Store) -> None:
        rejected = RememberedAnswer("p:b", "k2", "fp-k2", {"ok": False}, 5_000)
        await store.commit([record("p:a", 1, key="k1", at_ms=9_000), record("p:a", 2, key="old")], [rejected])
        found = await store.find_outcomes(
            [("p:b", "k2"), ("p:a", "nope"), ("p:a", "k1"), ("p:b", "k1"), ("p:a", "old")], since_ms=2_000
        )
        assert [f.fingerprint if f else None for f in found] == ["fp-k2", None, "fp-k1", None, None]

    async def test_answers_older_than_retention_are_not_found_and_can_be_purged(self, store: Store) -> None:
        await store.commit(
            [record("p:a", 1, key="old", at_ms=1_000), record("p:a", 2, key="new", at_ms=9_000)],
            [RememberedAnswer("p:a", "old-rejection", "fp", {"ok": False}, 1_000)],
        )
        assert await store.find_outcome("p:a", "old", since_ms=5_000) is None
        assert await store.find_outcome("p:a", "new", since_ms=5_000) is not None
        assert await store.purge_outcomes(before_ms=5_000) == 2
        assert await store.find_outcome("p:a", "old", since_ms=0) is None
        assert await store.find_outcome("p:a", "old-rejection", since_ms=0) is None
        assert [r.seq for r in await store.read_journal("p:a")] == [1, 2], "the ledger outlives its keys"

    async def test_purges_take_one_tenants_rows_or_spare_some_tenants(self, store: Store) -> None:
        """Per-tenant retention: `only` purges one tenant's keyed answers and events, `sparing`
        all but those tenants'; a tenant whose id extends another's (`t` and `t2`) is not its."""
        tenants = ("t", "t2", "u")
        await store.commit(
            [record(f"player:{t}/p/a", 1, key=f"k-{t}", at_ms=1_000) for t in tenants],
            [RememberedAnswer(f"player:{t}/p/b", f"r-{t}", "fp", {"ok": False}, 1_000) for t in tenants],
        )

        def kept(tenant: str) -> list[str]:
            return [t for t in tenants if t == tenant]

        async def answers() -> list[str]:
            found = [await store.find_outcome(f"player:{t}/p/a", f"k-{t}", since_ms=0) for t in tenants]
            rejections = [await store.find_outcome(f"player:{t}/p/b", f"r-{t}", since_ms=0) for t in tenants]
            return [t for t, a, r in zip(tenants, found, rejections, strict=True) if a is not None and r is not None]

        assert await store.purge_outcomes(5_000, only="t") == 2
        assert await answers() == ["t2", "u"]
        assert await store.purge_outcomes(5_000, sparing=["u"]) == 2
        assert await answers() == kept("u")
        assert await store.purge_events("2026-01-02T00:00:00.000Z", only="t2") == 1
        assert await store.purge_events("2026-01-02T00:00:00.000Z", sparing=["t", "u"]) == 0
        left = await store.read_events(EventQuery())
        assert sorted(e.tenant for e in left) == ["t", "u"]
        assert await store.purge_events("2026-01-02T00:00:00.000Z", sparing=["u"]) == 1
        assert [e.tenant for e in await store.read_events(EventQuery())] == ["u"]
        assert [r.seq for r in await store.read_journal("player:t/p/a")] == [1], "the ledger outlives its keys"

    async def test_many_snapshots_are_saved_together_and_none_moves_backwards(self, store: Store) -> None:
        await store.save_snapshot(Snapshot("p:b", 9, {"xp": 9}, 1))
        await store.save_snapshots([Snapshot("p:a", 3, {"xp": 3}, 2), Snapshot("p:b", 4, {"xp": 4}, 2)])
        await store.save_snapshots([])
        saved = [await store.load_snapshot(entity) for entity in ("p:a", "p:b")]
        assert [(s.seq, s.state) if s else None for s in saved] == [(3, {"xp": 3}), (9, {"xp": 9})]

    async def test_histories_are_each_entitys_snapshot_and_the_journal_after_it(self, store: Store) -> None:
        await store.commit([record("p:a", seq) for seq in (1, 2, 3, 4)] + [record("p:b", 1)], [])
        await store.save_snapshot(Snapshot("p:a", 2, {"xp": 2}, 1))
        histories = await store.load_histories(["p:b", "p:none", "p:a"])
        assert [h.snapshot.seq if h.snapshot else None for h in histories] == [None, None, 2]
        assert [[r.seq for r in h.records] for h in histories] == [[1], [], [3, 4]]
        assert [r.entity for r in histories[2].records] == ["p:a", "p:a"]
        assert await store.load_histories([]) == []

    async def test_snapshots_replace_older_ones_but_never_move_backwards(self, store: Store) -> None:
        assert await store.load_snapshot("p:a") is None
        await store.save_snapshot(Snapshot("p:a", 5, {"xp": 5}, 1))
        await store.save_snapshot(Snapshot("p:a", 9, {"xp": 9}, 2))
        await store.save_snapshot(Snapshot("p:a", 7, {"xp": 7}, 3))
        snapshot = await store.load_snapshot("p:a")
        assert snapshot is not None and (snapshot.seq, snapshot.state) == (9, {"xp": 9})

    async def test_committed_data_survives_reopening(self, store: Store, tmp_path: Path) -> None:
        await store.commit([record("p:a", 1, key="k")], [])
        await store.close()
        await store.open()
        assert [r.seq for r in await store.read_journal("p:a")] == [1]
        assert await store.find_outcome("p:a", "k", since_ms=0) is not None

    async def test_a_large_group_commits_together(self, store: Store) -> None:
        await store.commit([record(f"p:{i}", 1, key=f"k{i}") for i in range(300)], [])
        assert all([await store.read_journal(f"p:{i}") for i in (0, 150, 299)])

    async def test_player_index_follows_created_updated_and_deleted_events(self, store: Store) -> None:
        def player_event(entity: str, seq: int, kind: str, username: str = "") -> JournalRecord:
            data = {"username": username, "metadata": {}} if username else {}
            return JournalRecord(entity, seq, [{"type": kind, "data": data}], f"2026-01-0{seq}T00:00:00.000Z", 1)

        await store.commit(
            [
                player_event("player:t/p/b", 1, "player.created", "bea"),
                player_event("player:t/p/a", 1, "player.created", "al"),
                player_event("player:t/p/c", 1, "player.created", "cy"),
                player_event("player:t/other/z", 1, "player.created", "zed"),
            ],
            [],
        )
        await store.commit(
            [
                player_event("player:t/p/a", 2, "player.updated", "alan"),
                player_event("player:t/p/c", 2, "player.deleted"),
            ],
            [],
        )
        rows = await store.list_players("t", "p")
        assert [(r.player_id, r.username, r.created_at, r.updated_at) for r in rows] == [
            ("a", "alan", "2026-01-01T00:00:00.000Z", "2026-01-02T00:00:00.000Z"),
            ("b", "bea", "2026-01-01T00:00:00.000Z", "2026-01-01T00:00:00.000Z"),
        ]
        assert [r.player_id for r in await store.list_players("t", "p", after="a", limit=1)] == ["b"]
        assert [r.player_id for r in await store.list_players("t", "p", username="bea")] == ["b"]

    async def _searchable_players(self, store: Store) -> None:
        """Six players: created on days 1..6, XP and levels out of that order, one updated later."""

        def events(n: int, player: str, name: str, xp: int, level: int) -> JournalRecord:
            created = {"type": "player.created", "data": {"username": name, "metadata": {}}}
            gained = [{"type": "player.xp.added", "data": {"amount": xp, "xp": xp, "reason": ""}}]
            gained += [{"type": "player.levelup", "data": {"level": lv}} for lv in range(2, level + 1)]
            return JournalRecord(f"player:t/p/{player}", 1, [created, *gained], f"2026-01-0{n}T00:00:00.000Z", 1)

        players = [("ad1", "adam", 50, 2), ("ad2", "adele", 900, 5), ("b1", "bob", 50, 2)]
        players += [("ad3", "ada", 10, 1), ("c1", "cy", 300, 3), ("ad4", "zed", 900, 5)]
        await store.commit([events(n, *player) for n, player in enumerate(players, start=1)], [])
        later = {"type": "player.updated", "data": {"username": "adam", "metadata": {"vip": True}}}
        xp = {"type": "player.xp.added", "data": {"amount": 1000, "xp": 1050, "reason": ""}}
        await store.commit([JournalRecord("player:t/p/ad1", 2, [later, xp], "2026-01-09T00:00:00.000Z", 1)], [])

    async def _walk(self, store: Store, search: PlayerSearch, page: int = 2) -> list[str]:
        """Every page of a search, each starting after the last row of the one before."""
        found: list[str] = []
        after: str | None = None
        while True:
            rows = await store.list_players("t", "p", after=after, limit=page, search=search)
            found += [r.player_id for r in rows]
            if len(rows) < page:
                return found
            after = rows[-1].player_id
            if search.sort is not None:
                search = replace(search, after_value=getattr(rows[-1], PLAYER_SORTS[search.sort]))

    async def test_players_are_found_by_username_and_id_prefix(self, store: Store) -> None:
        await self._searchable_players(store)
        assert await self._walk(store, PlayerSearch(username_prefix="ad")) == ["ad1", "ad2", "ad3"]
        assert await self._walk(store, PlayerSearch(id_prefix="ad")) == ["ad1", "ad2", "ad3", "ad4"]
        assert await self._walk(store, PlayerSearch(username_prefix="ad", id_prefix="ad2")) == ["ad2"]
        assert await self._walk(store, PlayerSearch(id_prefix="ad", descending=True)) == ["ad4", "ad3", "ad2", "ad1"]
        assert await self._walk(store, PlayerSearch(username_prefix="nobody")) == []
        assert await self._walk(store, PlayerSearch(username_prefix="ad", sort="username"), page=1) == [
            *["ad3", "ad1", "ad2"]
        ]

    async def test_players_sort_by_created_updated_level_and_xp_across_pages(self, store: Store) -> None:
        await self._searchable_players(store)
        assert await self._walk(store, PlayerSearch(sort="createdAt")) == ["ad1", "ad2", "b1", "ad3", "c1", "ad4"]
        assert await self._walk(store, PlayerSearch(sort="createdAt", descending=True)) == [
            *["ad4", "c1", "ad3", "b1", "ad2", "ad1"]
        ]
        assert (await self._walk(store, PlayerSearch(sort="updatedAt")))[-1] == "ad1"
        assert await self._walk(store, PlayerSearch(sort="xp")) == ["ad3", "b1", "c1", "ad2", "ad4", "ad1"]
        assert await self._walk(store, PlayerSearch(sort="level", descending=True)) == [
            *["ad4", "ad2", "c1", "b1", "ad1", "ad3"]
        ]
        assert await self._walk(store, PlayerSearch(username_prefix="ad", sort="xp", descending=True), page=1) == [
            *["ad1", "ad2", "ad3"]
        ]
        [adam] = await store.list_players("t", "p", username="adam")
        assert (adam.level, adam.xp, adam.metadata) == (2, 1050, {"vip": True})

    async def test_documents_are_replaced_whole_and_listed_by_tenant(self, store: Store) -> None:
        await store.put_document("projects", "t1/a", {"tenantId": "t1", "id": "a", "name": "A"})
        await store.put_document("projects", "t1/b", {"tenantId": "t1", "id": "b", "name": "B"})
        await store.put_document("projects", "t2/c", {"tenantId": "t2", "id": "c", "name": "C"})
        await store.put_document("projects", "t1/a", {"tenantId": "t1", "id": "a", "name": "A2"})
        assert await store.get_document("projects", "t1/a") == {"tenantId": "t1", "id": "a", "name": "A2"}
        assert await store.get_document("projects", "t9/x") is None
        listed = await store.list_documents("projects", tenant="t1")
        assert [d["name"] for d in listed] == ["A2", "B"]
        assert [d["id"] for d in await store.list_documents("projects", after="t1/b")] == ["c"]
        newest = await store.list_documents("projects", descending=True)
        assert [d["id"] for d in newest] == ["c", "b", "a"]
        assert [d["id"] for d in await store.list_documents("projects", tenant="t1", descending=True)] == ["b", "a"]
        below = await store.list_documents("projects", after="t2/c", limit=1, descending=True)
        assert [d["id"] for d in below] == ["b"], "after means below when descending"

    async def test_live_players_are_counted_per_tenant_up_to_a_limit(self, store: Store) -> None:
        def created(tenant: str, project: str, player: str, seq: int = 1) -> JournalRecord:
            event = event_to_dict(PlayerCreated(player, {}))
            return JournalRecord(f"player:{tenant}/{project}/{player}", seq, [event], "2026-01-01T00:00:00.000Z", 1)

        records = [created("t1", "a", f"p{i}") for i in range(3)] + [created("t1", "b", "q"), created("t2", "a", "r")]
        await store.commit(records, [])
        deleted = event_to_dict(PlayerDeleted())
        await store.commit([JournalRecord("player:t1/a/p0", 2, [deleted], "2026-01-01T00:00:01.000Z", 2)], [])
        assert await store.count_players("t1", limit=100) == 3  # p1, p2 and q: p0 is deleted
        assert await store.count_players("t1", limit=2) == 2
        assert await store.count_players("t9", limit=10) == 0

    async def test_a_tenant_is_purged_whole_and_alone(self, store: Store) -> None:
        def created(tenant: str, player: str) -> JournalRecord:
            event = event_to_dict(PlayerCreated(player, {}))
            return JournalRecord(f"player:{tenant}/a/{player}", 1, [event], "2026-01-01T00:00:00.000Z", 1, "k", "f", {})

        tenants = ("t1", "t10", "t")  # prefixes of each other: a purge must stop at the '/'
        await store.commit([created(t, p) for t in tenants for p in ("p", "q")], [])
        for tenant in tenants:
            await store.put_document("tenants", tenant, {"id": tenant, "tenantId": tenant})
            await store.put_document("webhook_deliveries", f"d-{tenant}", {"id": f"d-{tenant}", "tenantId": tenant})
            await store.save_snapshot(Snapshot(f"player:{tenant}/a/p", 1, {"xp": 1}, 1))
        before = {t: await store.read_events(EventQuery(tenant=t)) for t in tenants}
        assert all(len(events) == 2 for events in before.values())
        removed = await store.purge_tenant("t1")
        assert removed["journal"] == 2 and removed["players"] == 2 and removed["events"] == 2, removed
        assert removed["snapshots"] == 1 and removed["documents"] == 2, removed
        assert await store.read_events(EventQuery(tenant="t1")) == []
        assert await store.list_players("t1", "a") == [] and await store.get_document("tenants", "t1") is None
        for other in ("t10", "t"):
            assert await store.read_events(EventQuery(tenant=other)) == before[other]
            assert len(await store.list_players(other, "a")) == 2
            assert await store.load_snapshot(f"player:{other}/a/p") is not None
            assert len(await store.list_documents("webhook_deliveries", tenant=other)) == 1
        assert set((await store.purge_tenant("t1")).values()) == {0}, "a second purge finds nothing"

    async def test_documents_are_deleted_by_id(self, store: Store) -> None:
        for index in range(3):
            await store.put_document("deliveries", f"d{index}", {"id": f"d{index}"})
        assert await store.delete_documents("deliveries", ["d0", "d2", "missing"]) == 2
        assert [d["id"] for d in await store.list_documents("deliveries")] == ["d1"]
        assert await store.delete_documents("deliveries", []) == 0

    async def test_documents_are_written_by_compare_and_set(self, store: Store) -> None:
        assert await store.get_versioned("keys", "k1") == (None, 0)
        assert await store.put_if_version("keys", "k1", {"id": "k1", "n": 1}, 0)
        assert not await store.put_if_version("keys", "k1", {"id": "k1", "n": 9}, 0), "it exists already"
        document, version = await store.get_versioned("keys", "k1")
        assert document == {"id": "k1", "n": 1} and version > 0
        assert await store.put_if_version("keys", "k1", {"id": "k1", "n": 2}, version)
        assert not await store.put_if_version("keys", "k1", {"id": "k1", "n": 3}, version), "a stale version"
        _, current = await store.get_versioned("keys", "k1")
        await store.put_document("keys", "k1", {"id": "k1", "n": 4})  # plain writes move the version on too
        assert not await store.put_if_version("keys", "k1", {"id": "k1", "n": 5}, current)
        assert await store.get_document("keys", "k1") == {"id": "k1", "n": 4}
        assert await store.list_documents("keys") == [{"id": "k1", "n": 4}], "no version field leaks out"

    async def test_concurrent_read_modify_writes_lose_no_update(self, store: Store) -> None:
        def bump(document: dict[str, Any] | None) -> dict[str, Any]:
            return {"id": "c", "n": (document or {"n": 0})["n"] + 1}

        await asyncio.gather(*(update_document(store, "counters", "c", bump) for _ in range(40)))
        assert await store.get_document("counters", "c") == {"id": "c", "n": 40}

    async def test_many_documents_of_several_kinds_are_read_in_one_call(self, store: Store) -> None:
        await store.put_document("tenants", "t1", {"id": "t1"})
        await store.put_document("projects", "t1/a", {"tenantId": "t1", "id": "a"})
        found = await store.get_documents([("projects", "t1/a"), ("tenants", "t9"), ("tenants", "t1")])
        assert found == [{"tenantId": "t1", "id": "a"}, None, {"id": "t1"}]

    async def test_scan_journal_reads_a_prefix_in_entity_seq_order_within_the_time_window(self, store: Store) -> None:
        def at(entity: str, seq: int, day: int) -> JournalRecord:
            return JournalRecord(entity, seq, [{"type": "x", "data": {}}], f"2026-01-{day:02d}T12:00:00.000Z", 1)

        await store.commit(
            [
                at("player:t/p/b", 1, 1),
                at("player:t/p/a", 2, 2),
                at("player:t/p/a", 1, 1),
                at("player:t/p/b", 2, 3),
                at("player:t/p/a", 3, 4),
                at("player:t/p2/a", 1, 2),
                at("player:t/pa", 1, 2),
                at("player:u/p/a", 1, 2),
                at("project:t/p", 1, 2),
            ],
            [],
        )
        everything = await store.scan_journal("player:t/p/", since=None, until=None, after=None, limit=100)
        assert [(r.entity, r.seq) for r in everything] == [
            ("player:t/p/a", 1),
            ("player:t/p/a", 2),
            ("player:t/p/a", 3),
            ("player:t/p/b", 1),
            ("player:t/p/b", 2),
        ]
        assert everything[0].events == [{"type": "x", "data": {}}]
        window = await store.scan_journal(
            "player:t/p/", since="2026-01-02T00:00:00.000Z", until="2026-01-04T00:00:00.000Z", after=None, limit=100
        )
        assert [(r.entity, r.seq) for r in window] == [("player:t/p/a", 2), ("player:t/p/b", 2)]
        exact = await store.scan_journal(
            "player:t/p/", since="2026-01-04T12:00:00.000Z", until="2026-01-04T12:00:01.000Z", after=None, limit=9
        )
        assert [(r.entity, r.seq) for r in exact] == [("player:t/p/a", 3)], "since is inclusive, until exclusive"

    async def test_scan_journal_pages_by_keyset_without_gaps_or_repeats(self, store: Store) -> None:
        records = [record(f"player:t/p/{name}", seq) for name in ("c", "a", "b") for seq in range(1, 5)]
        await store.commit(records, [])
        seen: list[tuple[str, int]] = []
        after: tuple[str, int] | None = None
        while True:
            page = await store.scan_journal("player:t/p/", since=None, until=None, after=after, limit=5)
            assert len(page) <= 5
            seen.extend((r.entity, r.seq) for r in page)
            if len(page) < 5:
                break
            after = (page[-1].entity, page[-1].seq)
        assert seen == sorted((r.entity, r.seq) for r in records)
        tail = await store.scan_journal("player:t/p/", since=None, until=None, after=("player:t/p/b", 3), limit=3)
        assert [(r.entity, r.seq) for r in tail] == [("player:t/p/b", 4), ("player:t/p/c", 1), ("player:t/p/c", 2)]
        assert await store.scan_journal("player:t/q/", since=None, until=None, after=None, limit=5) == []

    async def test_scan_journal_with_an_empty_prefix_reads_every_entity(self, store: Store) -> None:
        records = [record("board:x", 1), record("player:t/p/a", 1), record("project:t/p", 1)]
        await store.commit(records, [])
        page = await store.scan_journal("", since=None, until=None, after=None, limit=10)
        assert [(r.entity, r.seq) for r in page] == [("board:x", 1), ("player:t/p/a", 1), ("project:t/p", 1)]

    async def test_empty_commits_and_claims_change_nothing(self, store: Store) -> None:
        assert await store.commit([], []) == CommitResult()
        await store.init_slots([])
        assert await store.move_slots([]) == []
        assert await store.load_slots() == []
        assert await store.scan_journal("", since=None, until=None, after=None, limit=10) == []

    async def test_a_current_store_plans_no_migration_and_its_data_is_left_alone(self, store: Store) -> None:
        await store.commit([record("p:a", 1)], [])
        plan = await store.migrate(dry_run=True)
        assert not plan.fresh and plan.found == LATEST_SCHEMA and list(plan.steps) == []
        again = await store.migrate()  # migrating a current store is a no-op, not a rewrite
        assert again.found == LATEST_SCHEMA and list(again.steps) == []
        assert [r.seq for r in await store.read_journal("p:a")] == [1]

    async def test_events_are_stored_in_order_with_stable_ids_and_filters(self, store: Store) -> None:
        def player_record(player: str, seq: int, types: list[str], at: str, project: str = "p") -> JournalRecord:
            events = [{"type": t, "data": {"n": seq}} for t in types]
            return JournalRecord(f"player:t/{project}/{player}", seq, events, at, 1)

        await store.commit(
            [
                player_record("a", 1, ["player.created"], "2026-01-01T00:00:00.000Z"),
                player_record("b", 1, ["player.created", "wallet.credited"], "2026-01-02T00:00:00.000Z"),
                player_record("c", 1, ["player.created"], "2026-01-02T00:00:00.000Z", project="q"),
                JournalRecord("project:t/p", 1, [{"type": "project.economy.defined", "data": {}}], "2026-01-01", 1),
            ],
            [],
        )
        await store.commit([player_record("a", 2, ["wallet.credited"], "2026-01-03T00:00:00.000Z")], [])
        everything = await store.read_events(EventQuery(tenant="t", project="p"))
        assert [(e.player_id, e.seq, e.type) for e in everything] == [
            ("a", 1, "player.created"),
            ("b", 1, "player.created"),
            ("b", 1, "wallet.credited"),
            ("a", 2, "wallet.credited"),
        ]
        positions = [e.position for e in everything]
        assert positions == sorted(positions) and len(set(positions)) == 4
        assert everything[2].id == event_id("player:t/p/b", 1, 1)
        assert everything[2].public()["tenantId"] == "t" and everything[2].data == {"n": 1}
        credited = await store.read_events(EventQuery(tenant="t", project="p", types=("wallet.credited",)))
        assert [(e.player_id, e.seq) for e in credited] == [("b", 1), ("a", 2)]
        assert [e.seq for e in await store.read_events(EventQuery(project="p", player_id="a"))] == [1, 2]
        window = EventQuery(project="p", since="2026-01-02T00:00:00.000Z", until="2026-01-03T00:00:00.000Z")
        assert [e.player_id for e in await store.read_events(window)] == ["b", "b"]
        page = await store.read_events(EventQuery(project="p"), after=positions[1], limit=1)
        assert [e.id for e in page] == [everything[2].id]
        skipped = await store.read_events(EventQuery(tenant="t", project="p"), after=positions[0], limit=1, skip=2)
        assert [e.id for e in skipped] == [everything[3].id], "skip passes over that many matches"
        assert await store.read_events(EventQuery(tenant="t", project="p"), limit=1, skip=4) == []
        assert await store.event_position(everything[3].id) == positions[3]
        assert await store.event_position("evt_missing") is None
        assert len(await store.read_events(EventQuery())) == 5, "the feed spans projects"
        assert await store.purge_events("2026-01-02T00:00:00.000Z") == 1
        assert [e.player_id for e in await store.read_events(EventQuery(project="p"))] == ["b", "b", "a"]

    async def test_events_read_newest_first_page_by_page_with_the_same_filters(self, store: Store) -> None:
        records = [
            JournalRecord(
                f"player:t/p/{player}", seq, [{"type": kind, "data": {"n": seq}}], f"2026-01-0{seq}T00:00:00.000Z", 1
            )
            for player, seq, kind in [
                ("a", 1, "player.created"),
                ("b", 1, "player.created"),
                ("a", 2, "wallet.credited"),
                ("b", 2, "wallet.credited"),
                ("a", 3, "wallet.credited"),
            ]
        ]
        for one in records:
            await store.commit([one], [])
        oldest_first = await store.read_events(EventQuery(tenant="t", project="p"))
        newest = EventQuery(tenant="t", project="p", newest_first=True)
        assert await store.read_events(newest) == oldest_first[::-1]
        pages: list[Any] = []
        after = 0
        while page := await store.read_events(newest, after=after, limit=2):
            pages.append([e.id for e in page])
            after = page[-1].position
        assert pages == [[e.id for e in oldest_first[::-1][i : i + 2]] for i in (0, 2, 4)]
        credited = EventQuery(tenant="t", project="p", types=("wallet.credited",), player_id="a", newest_first=True)
        assert [e.seq for e in await store.read_events(credited)] == [3, 2]
        assert [e.seq for e in await store.read_events(credited, after=oldest_first[-1].position)] == [2]


class TestSqliteStore(StoreContract):
    def create_store(self, tmp_path: Path) -> Store:
        return SqliteStore(tmp_path / "ludex.sqlite3")

    async def test_every_player_sort_and_prefix_walks_an_index_without_sorting(self, store: Store) -> None:
        """The plan of each query `list_players` makes: an index search, never a scan of the
        table nor a sort of what it read (a temporary B-tree), whatever the project holds."""
        assert isinstance(store, SqliteStore)
        statements: list[str] = []
        for reader in store._readers:
            await reader.run(lambda conn: conn.set_trace_callback(statements.append))
        searches = [PlayerSearch(username_prefix="ad", sort="username"), PlayerSearch(id_prefix="ad", descending=True)]
        searches += [PlayerSearch(sort=sort, descending=d, after_value=1) for sort in PLAYER_SORTS for d in (0, 1)]
        for search in searches:
            await store.list_players("t", "p", after="x", limit=5, search=search)
        for reader in store._readers:
            await reader.run(lambda conn: conn.set_trace_callback(None))
        assert len(statements) == len(searches)
        for statement in statements:
            plan = await store._run(lambda conn, sql=statement: conn.execute(f"EXPLAIN QUERY PLAN {sql}").fetchall())
            details = " | ".join(row[-1] for row in plan)
            assert "USING INDEX" in details or "USING COVERING INDEX" in details, (statement, details)
            assert "TEMP B-TREE" not in details and "SCAN players" not in details, (statement, details)

    async def test_uses_wal_and_full_sync(self, store: Store) -> None:
        assert isinstance(store, SqliteStore)
        modes = await store._run(
            lambda conn: (
                conn.execute("PRAGMA journal_mode").fetchone()[0],
                conn.execute("PRAGMA synchronous").fetchone()[0],
            )
        )
        assert modes == ("wal", 2)

    async def test_committed_records_reach_the_database_file_without_the_writer_checkpointing(
        self, store: Store, tmp_path: Path
    ) -> None:
        assert isinstance(store, SqliteStore)
        await store.commit([record("p:a", 1)], [])  # a few WAL pages: far below the writer's threshold
        main_file_only = f"file:{tmp_path / 'ludex.sqlite3'}?immutable=1"  # reads the file, ignores the WAL

        def in_main_file() -> bool:
            with contextlib.closing(sqlite3.connect(main_file_only, uri=True)) as conn:
                try:
                    return conn.execute("SELECT count(*) FROM journal WHERE entity = 'p:a'").fetchone()[0] == 1
                except sqlite3.OperationalError:  # not even the schema has left the WAL yet
                    return False

        deadline = asyncio.get_running_loop().time() + 10
        while not in_main_file():
            assert asyncio.get_running_loop().time() < deadline, "the background checkpoint never ran"
            await asyncio.sleep(0.05)

    async def test_a_snapshot_landing_during_a_history_read_hides_no_record(self, store: Store) -> None:
        """A passivation's snapshot committed between the history read's two statements (an idle
        entity passivated while a command activates it again): the read still answers the snapshot
        it saw and every record after it. Each statement used to see the newest commit, so the
        journal read skipped records the snapshot read had not seen, and the player 'did not exist'."""
        assert isinstance(store, SqliteStore)
        await store.commit([record("p:a", seq) for seq in (1, 2, 3)], [])
        loop = asyncio.get_running_loop()
        landed: list[str] = []

        def between_the_reads(statement: str) -> None:  # SQLite's trace hook, on the reading thread
            if " FROM journal WHERE entity IN " in statement and not landed:
                landed.append(statement)
                write = store.save_snapshots([Snapshot("p:a", 3, {"seq": 3}, 1)])
                asyncio.run_coroutine_threadsafe(write, loop).result(timeout=10)

        for reader in store._readers:
            await reader.run(lambda conn: conn.set_trace_callback(between_the_reads))
        [history] = await store.load_histories(["p:a"])
        assert landed, "the hook never ran between the two reads"
        assert history.snapshot is None and [r.seq for r in history.records] == [1, 2, 3]
        [after] = await store.load_histories(["p:a"])  # the next activation starts from the snapshot
        assert after.snapshot is not None and after.snapshot.seq == 3 and after.records == []


@pytest.mark.mongo
class TestMongoStore(StoreContract):
    @pytest.fixture(autouse=True)
    def _mongo(self, mongo_url: str, mongo_database: str) -> None:
        self.url = mongo_url
        self.database = mongo_database

    def create_store(self, tmp_path: Path) -> Store:
        return MongoStore(self.url, self.database)
