"""The promises a run is judged by, checked on every answer a client receives and once more at
the end against a store reopened after the last crash:

- an acknowledged command is journaled exactly once (a refused one not at all), and is durable
  when its answer arrives;
- a retried key answers its original answer;
- every balance equals its ledger (the wallet events) and never goes negative;
- a host's in-memory durable state equals the replay of its journal;
- a player whose creation was acknowledged is never answered `player-not-found`;
- every journaled event reaches the event feed once, in journal order;
- a leaderboard equals its rebuild from the journal (`actors.boards.rebuild`);
- a revoked API key never works again (`sim.keys`)."""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from actors.boards.rebuild import rebuild_project
from actors.boards.sqlite import SqliteBoardStore
from actors.host import ShardHost
from actors.stores.base import EventQuery, Store
from engine.errors import PlayerNotFoundError
from engine.events import event_id
from engine.identity import player_key
from engine.outcomes import Outcome
from engine.rules import replay_record
from engine.state import PlayerState, state_to_dict
from sim.clients import PROJECT, RETRYABLE, TENANT, Sent

Row = tuple[int, str, list[dict[str, Any]], int, str | None, dict[str, Any] | None]  # seq .. outcome


def canonical(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


class Checker:
    def __init__(self, path: Path, on_violation: Callable[[str], None] = lambda line: None) -> None:
        self.path = path
        self.on_violation = on_violation
        self.checks: Counter[str] = Counter()
        self.violations: list[str] = []
        self._conn: sqlite3.Connection | None = None
        self.board_entries = 0  # entries the rebuilt boards held (a check of empty boards proves little)

    def fail(self, invariant: str, detail: str) -> None:
        self.violations.append(f"{invariant}: {detail}")
        self.on_violation(f"VIOLATION {invariant}: {detail}")

    def check(self, invariant: str, holds: bool, detail: str) -> None:
        self.checks[invariant] += 1
        if not holds:
            self.fail(invariant, detail)

    # ------------------------------------------------------------------ reading the file directly

    def journal(self, player: str) -> list[Row]:
        """The player's journal as committed now (a connection of the checker's own, outside the
        simulated I/O: looking must not move the schedule)."""
        if self._conn is None:
            self._conn = sqlite3.connect(self.path, isolation_level=None)
        rows = self._conn.execute(
            "SELECT seq, occurred_at, events, v, idem_key, outcome FROM journal WHERE entity = ? ORDER BY seq",
            (player_key(TENANT, PROJECT, player),),
        ).fetchall()
        return [(s, at, orjson.loads(ev), v, k, None if o is None else orjson.loads(o)) for s, at, ev, v, k, o in rows]

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # ------------------------------------------------------------------ on every answer

    def on_answer(self, sent: Sent, outcome: Outcome, hosts: list[ShardHost]) -> None:
        if outcome.slug in RETRYABLE:
            return
        assert sent.final is not None  # set before the answer is judged
        self.check(
            "a retried key answers the original answer",
            canonical(outcome.to_stored()) == canonical(sent.final.to_stored()),
            f"{sent.describe()}: first {sent.final.to_stored()}, now {outcome.to_stored()}",
        )
        self.check(
            "an acknowledged player is never not found",
            not (sent.player_known and outcome.slug == PlayerNotFoundError.slug),
            f"{sent.describe()} answered player-not-found after the player's creation was acknowledged",
        )
        rows = self.journal(sent.player)
        self.check_journaled(sent, outcome, rows)
        self.check_ledger(sent.player, rows)
        for host in hosts:
            self.check_memory(sent.player, host, rows)
        self.check_one_writer()

    def check_journaled(self, sent: Sent, outcome: Outcome, rows: list[Row]) -> None:
        mine = [row for row in rows if row[4] == sent.key]
        expected = 1 if outcome.ok else 0
        self.check(
            "an acknowledged command is journaled exactly once",
            len(mine) == expected,
            f"{sent.describe()} answered {outcome.slug}, journaled {len(mine)} times (expected {expected})",
        )
        if mine and outcome.ok:
            self.check(
                "the journal remembers the answer given",
                canonical(mine[0][5]) == canonical(outcome.to_stored()),
                f"{sent.describe()}: journal {mine[0][5]}, answered {outcome.to_stored()}",
            )

    def check_ledger(self, player: str, rows: list[Row]) -> None:
        running: Counter[str] = Counter()
        state = PlayerState(player_id=player)
        ok, detail = True, ""
        for seq, occurred_at, events, version, _, _ in rows:
            state = replay_record(state, seq, events, occurred_at, version)
            for event in events:
                if event["type"] in ("wallet.credited", "wallet.debited"):
                    data = event["data"]
                    sign = 1 if event["type"] == "wallet.credited" else -1
                    running[data["currency"]] += sign * data["amount"]
                    if running[data["currency"]] != data["balanceAfter"] or running[data["currency"]] < 0:
                        ok, detail = False, f"{player}#{seq}: ledger {dict(running)}, event says {data}"
        balances = {k: v for k, v in state.balances.items() if v}
        if ok and balances != {k: v for k, v in running.items() if v}:
            ok, detail = False, f"{player}: balances {balances}, ledger {dict(running)}"
        self.check("a balance equals its ledger and is never negative", ok, detail)

    def check_memory(self, player: str, host: ShardHost, rows: list[Row]) -> None:
        entity = host.entities.peek(player_key(TENANT, PROJECT, player))
        if entity is None or not entity.loaded or not entity.usable or entity.durable_state is None:
            return
        durable = entity.durable_state
        replayed = PlayerState(player_id=player)
        for seq, occurred_at, events, version, _, _ in rows:
            if seq <= durable.seq:
                replayed = replay_record(replayed, seq, events, occurred_at, version)
        self.check(
            "a host's durable state equals its journal",
            state_to_dict(replayed) == state_to_dict(durable),
            f"{player} in memory at seq {durable.seq}: {_summary(durable)}; journal: {_summary(replayed)}",
        )

    def check_one_writer(self) -> None:
        """Two hosts writing one slot at one epoch would mean the fence failed."""
        assert self._conn is not None  # opened by the journal read before
        shared = self._conn.execute(
            "SELECT slot, epoch, group_concat(DISTINCT host) FROM journal WHERE slot IS NOT NULL"
            " GROUP BY slot, epoch HAVING count(DISTINCT host) > 1"
        ).fetchall()
        self.check("one writer per slot and epoch", not shared, f"(slot, epoch, hosts): {shared}")
        # In commit order, a slot's records carry epochs that never go back: a deposed writer's
        # record landing after its successor's is what the epoch fence exists to refuse.
        went_back = self._conn.execute(
            "SELECT slot, epoch, host, entity, seq FROM (SELECT slot, epoch, host, entity, seq,"
            " max(epoch) OVER (PARTITION BY slot ORDER BY rowid ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)"
            " AS before FROM journal WHERE slot IS NOT NULL) WHERE epoch < before LIMIT 3"
        ).fetchall()
        self.check("a slot's epochs never go back", not went_back, f"(slot, epoch, host, entity, seq): {went_back}")

    # ------------------------------------------------------------------ at the end

    async def at_end(self, history: dict[str, Sent], players: list[str], store: Store, host: ShardHost) -> None:
        """After the last crash, on a store and a host opened afresh."""
        journals = {player: self.journal(player) for player in players}
        counts = Counter(row[4] for rows in journals.values() for row in rows if row[4] is not None)
        for sent in history.values():
            self.check(
                "a key takes effect at most once",
                counts[sent.key] <= 1,
                f"{sent.describe()} journaled {counts[sent.key]} times",
            )
            if sent.final is not None:
                self.check_journaled(sent, sent.final, journals[sent.player])
        for player, rows in journals.items():
            self.check_ledger(player, rows)
        self.check_one_writer()
        await self.check_feed(journals, store)
        for player in players:
            view = await host.view(TENANT, PROJECT, player, "wallet")
            self.check_memory(player, host, journals[player])
            if view.ok:
                replayed = PlayerState(player_id=player)
                for seq, occurred_at, events, version, _, _ in journals[player]:
                    replayed = replay_record(replayed, seq, events, occurred_at, version)
                self.check(
                    "a restarted host reads what the journal says",
                    view.body["balances"] == dict(replayed.balances),
                    f"{player}: view {view.body}, journal {dict(replayed.balances)}",
                )

    async def check_boards(self, store: Store) -> None:
        """The boards the hosts kept equal those `ludex leaderboards rebuild` makes from the journal
        (the real rebuild, into a board store of its own beside the run's file), once a host has
        activated every player again (an activation repairs what a crash left off its board)."""
        rebuilt_path = self.path.with_name("rebuilt-boards.sqlite3")
        boards = SqliteBoardStore(rebuilt_path, own_file=True)
        await boards.open()
        try:
            await rebuild_project(store, boards, TENANT, PROJECT)
        finally:
            await boards.close()
        live, rebuilt = board_rows(self.path), board_rows(rebuilt_path)
        differ = sorted(key for key in live.keys() | rebuilt.keys() if live.get(key) != rebuilt.get(key))
        self.check(
            "a leaderboard equals its rebuild",
            not differ,
            f"{len(differ)} entries differ; first: live {live.get(differ[0]) if differ else None},"
            f" rebuilt {rebuilt.get(differ[0]) if differ else None}",
        )
        self.board_entries += len(rebuilt)

    async def check_feed(self, journals: dict[str, list[Row]], store: Store) -> None:
        feed: list[tuple[str, str, int]] = []
        after = 0
        while page := await store.read_events(EventQuery(tenant=TENANT, project=PROJECT), after=after, limit=500):
            feed.extend((record.id, record.player_id, record.seq) for record in page)
            after = page[-1].position
        ids = Counter(event for event, _, _ in feed)
        expected = [
            event_id(player_key(TENANT, PROJECT, player), row[0], index)
            for player, rows in journals.items()
            for row in rows
            for index in range(len(row[2]))
        ]
        missing_or_twice = [event for event in expected if ids[event] != 1]
        self.check(
            "every journaled event reaches the feed once",
            not missing_or_twice and len(feed) == len(expected),
            f"{len(missing_or_twice)} events missing or repeated; feed {len(feed)}, journal {len(expected)}",
        )
        last: dict[str, int] = {}
        in_order = True
        for _, player, seq in feed:
            in_order = in_order and seq >= last.get(player, 0)
            last[player] = seq
        self.check("the feed keeps each player's journal order", in_order, "a player's events out of seq order")


BoardRow = tuple[str, str, str, int, int, int, int]  # board, period, player, score, sort key, reached, seq


def board_rows(path: Path) -> dict[tuple[str, str, str], BoardRow]:
    """Every entry of the simulated project's boards in the file at `path`."""
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(
            "SELECT board, period, player_id, score, sort_key, reached_ms, seq FROM leaderboard_entries"
            " WHERE tenant = ? AND project = ?",
            (TENANT, PROJECT),
        ).fetchall()
    finally:
        conn.close()
    return {(row[0], row[1], row[2]): tuple(row) for row in rows}


def _summary(state: PlayerState) -> str:
    return f"seq {state.seq}, exists {state.exists}, balances {dict(state.balances)}, xp {state.xp}"
