"""The economy-health aggregator on real stores (SQLite, and MongoDB over nx-27017): it agrees
with the players' balances, folds only what is new, and neither a rewound cursor nor two
replicas catching up at once count anything twice."""

from __future__ import annotations

import asyncio
import math
import random
import time
from pathlib import Path
from typing import Any

from actors.economy_health import CURSORS, EconomyHealth
from actors.stores.base import JournalRecord, Store
from actors.stores.sqlite import SqliteStore
from engine.economy_health import SUB_BUCKETS


class Players:
    """Writes wallet records the way shard hosts do, and remembers the balances they leave."""

    def __init__(self, store: Store, tenant: str = "t", project: str = "p") -> None:
        self.store, self.tenant, self.project = store, tenant, project
        self.balances: dict[str, int] = {}
        self.seqs: dict[str, int] = {}

    async def move(self, player: str, delta: int, day: str, reason: str = "") -> None:
        balance = self.balances.get(player, 0) + delta
        assert balance >= 0
        self.balances[player] = balance
        seq = self.seqs[player] = self.seqs.get(player, 0) + 1
        kind = "wallet.credited" if delta > 0 else "wallet.debited"
        data = {"currency": "coins", "amount": abs(delta), "balanceAfter": balance, "reason": reason, "metadata": {}}
        record = JournalRecord(
            f"player:{self.tenant}/{self.project}/{player}",
            seq,
            [{"type": kind, "data": data}],
            f"{day}T12:00:00.000Z",
            0,
        )
        assert not (await self.store.commit([record], [])).conflicts

    def figures(self) -> tuple[int, int, int]:
        positive = sorted((b for b in self.balances.values() if b > 0), reverse=True)
        return sum(positive), len(positive), sum(positive[: math.ceil(len(positive) / 100)])


async def rows(health: EconomyHealth, start: str = "2026-03-01", end: str = "2026-04-01") -> list[dict[str, Any]]:
    return [flows.row() for flows in await health.days("t", "p", "coins", start, end)]


async def test_the_last_day_s_figures_are_the_players_balances(store: Store) -> None:
    players, health = Players(store), EconomyHealth(store, page_size=7)
    rng = random.Random(4)
    for n in range(150):
        player = f"pl-{rng.randrange(120)}"
        held = players.balances.get(player, 0)
        delta = rng.randint(1, 500) if held == 0 or rng.random() < 0.6 else -rng.randint(1, held)
        await players.move(player, delta, f"2026-03-0{1 + n // 50}", "purchase:potion-pack" if delta < 0 else "bonus")
    assert await health.catch_up("t", "p") == 150
    report = await rows(health)
    assert [row["day"] for row in report] == ["2026-03-01", "2026-03-02", "2026-03-03"]
    supply, holders, top = players.figures()
    last = report[-1]
    assert (last["supply"], last["holders"]) == (supply, holders)
    # The top share reads buckets, a partly taken one at its mean balance (engine.economy_health).
    assert abs(last["top1PercentShare"] - top / supply) <= top / supply / SUB_BUCKETS + 1e-6
    assert sum(row["net"] for row in report) == supply
    assert await health.currencies("t", "p") == ["coins"]


async def test_a_catch_up_folds_only_what_came_after_the_cursor(store: Store) -> None:
    players, health = Players(store), EconomyHealth(store)
    await players.move("ada", 100, "2026-03-01", "bonus")
    assert await health.catch_up("t", "p") == 1
    assert await health.catch_up("t", "p") == 0
    await players.move("ada", -30, "2026-03-01", "repair")
    await players.move("bob", 10, "2026-03-02", "bonus")
    assert await health.catch_up("t", "p") == 2
    first, second = await rows(health)
    assert first["sources"]["credits"] == {"bonus": 100} and first["sinks"]["debits"] == {"repair": 30}
    assert (first["net"], first["supply"], second["supply"], second["holders"]) == (70, 70, 80, 2)
    assert await rows(health, "2026-03-02", "2026-03-03") == [second]


async def test_a_rewound_cursor_and_concurrent_replicas_count_nothing_twice(store: Store) -> None:
    players = Players(store)
    for n in range(40):
        await players.move(f"pl-{n % 9}", 5 + n, "2026-03-01", "bonus")
    once = EconomyHealth(store, page_size=6)
    await once.catch_up("t", "p")
    expected = await rows(once)
    cursor = await store.get_document(CURSORS, "t/p")
    assert cursor is not None
    await store.put_document(CURSORS, "t/p", {**cursor, "cursor": 0})  # as if the cursor's write was lost
    replicas = [EconomyHealth(store, page_size=size) for size in (5, 11, 1000)]
    await asyncio.gather(*(replica.catch_up("t", "p") for replica in replicas))
    assert await rows(once) == expected
    assert expected[0]["sources"]["credits"]["bonus"] == sum(5 + n for n in range(40))


async def test_another_project_s_events_stay_out(store: Store) -> None:
    players, elsewhere = Players(store), Players(store, project="other")
    await players.move("ada", 10, "2026-03-01")
    await elsewhere.move("ada", 999, "2026-03-01")
    health = EconomyHealth(store)
    await health.catch_up("t", "p")
    assert [(row["supply"], row["sources"]["total"]) for row in await rows(health)] == [(10, 10)]


async def test_reading_the_report_after_catching_up_touches_only_day_rows(tmp_path: Path) -> None:
    """Measurement (printed): folding 20,000 events once, then a report read that costs the same
    whatever the number of events."""
    store = SqliteStore(tmp_path / "ludex.sqlite3")
    await store.open()
    try:
        records = []
        for n in range(20_000):
            data = {"currency": "coins", "amount": 1, "balanceAfter": n // 1000 + 1, "reason": "bonus"}
            day = f"2026-03-{1 + n // 1000:02d}"
            entity = f"player:t/p/pl-{n % 1000}"
            records.append(JournalRecord(entity, n // 1000 + 1, [{"type": "wallet.credited", "data": data}], day, 0))
        await store.commit(records, [])
        health = EconomyHealth(store)
        started = time.perf_counter()
        assert await health.catch_up("t", "p") == 20_000
        fold_s = time.perf_counter() - started
        started = time.perf_counter()
        await health.catch_up("t", "p")
        report = await rows(health)
        read_s = time.perf_counter() - started
        assert len(report) == 20 and report[-1]["supply"] == 20_000 and report[-1]["holders"] == 1000
        print(f"\neconomy health: folded 20,000 events in {fold_s:.2f} s; a 20-day report then read in {read_s:.3f} s")
    finally:
        await store.close()


async def test_shard_zero_s_sweep_catches_up_every_live_project_once_an_interval(store: Store) -> None:
    from actors.clock import FakeClock
    from actors.economy_health import EconomyHealthSweep
    from actors.ingress.control_plane import Backoffice

    control = Backoffice(store)
    await control.ensure_tenant("t", "T")
    for project in ("p", "q"):
        await control.ensure_project("t", project, project)
    await Players(store).move("ada", 10, "2026-03-01")
    await Players(store, project="q").move("bob", 20, "2026-03-01")
    clock = FakeClock()
    sweep = EconomyHealthSweep(store, clock, interval_s=60)
    assert await sweep.run_if_due() == 2
    await Players(store).move("cyd", 5, "2026-03-01")
    assert await sweep.run_if_due() is None, "not due within the interval"
    clock.advance(61)
    assert await sweep.run_if_due() == 1
    assert [row["supply"] for row in await rows(EconomyHealth(store))] == [15]


class FailsForProject(SqliteStore):
    """A real SQLite store whose event reads fail for one project (a poisoned aggregate, a
    document past a size limit): the sweep must go on to the projects after it."""

    failing = "a"

    async def read_events(self, query: Any, *, after: int = 0, limit: int = 100) -> Any:
        if query.project == self.failing:
            raise RuntimeError("this project's aggregates cannot be written")
        return await super().read_events(query, after=after, limit=limit)


async def test_a_failing_project_does_not_stop_the_sweep_of_the_projects_after_it(tmp_path: Path) -> None:
    """Issue 25, finding 7: one project's failure used to end the whole sweep."""
    from actors.ingress.control_plane import Backoffice

    store = FailsForProject(tmp_path / "ludex.sqlite3")
    await store.open()
    try:
        control = Backoffice(store)
        await control.ensure_tenant("t", "T")
        for project in ("a", "p"):  # "a" is swept first
            await control.ensure_project("t", project, project)
        await Players(store, project="a").move("ann", 10, "2026-03-01")
        await Players(store).move("ada", 10, "2026-03-01")
        health = EconomyHealth(store)
        assert await health.catch_up_all() == 1
        assert health.failures == 1
        assert [row["supply"] for row in await rows(health)] == [10]
    finally:
        await store.close()
