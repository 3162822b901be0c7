"""The economy-health aggregates of each project, kept up to date from the event store by a
cursor, so a report reads a few small documents instead of every event.

`catch_up` reads the project's wallet events after the project's cursor, a page at a time, and
folds each page (`engine.economy_health`) into control-plane documents:

- `economy_holdings/<tenant>/<project>/<currency>`: the balance histogram of the currency;
- `economy_days/<tenant>/<project>/<currency>/<YYYY-MM-DD>`: that day's flows and supply figures;
- `economy_health/<tenant>/<project>`: the cursor (the last feed position folded) and the
  currencies seen.

Every aggregate is written by compare-and-set and skips events at or below its own `through`
position, and the cursor moves only after the aggregates: a crash or two replicas catching up at
once fold nothing twice and lose nothing (the next run redoes what the cursor does not cover).
The report route catches up before it reads, so it always includes what was committed before
the request; shard host 0 also catches up every project at most once a `SWEEP_INTERVAL_S`, so a
request rarely folds more than that interval's events, and events are folded long before an
event retention (`LUDEX_EVENT_RETENTION_DAYS`) could purge them.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any, Protocol

from actors.control_plane_records import PROJECTS
from actors.documents import Change, update_document
from actors.stores.base import DocumentStore, EventFeed, EventQuery
from engine.economy_health import (
    WALLET_EVENTS,
    DayFlows,
    Holdings,
    Movement,
    SupplyFigures,
    fold_day,
    fold_holdings,
    movement_of,
)


class HealthStore(DocumentStore, EventFeed, Protocol):
    """Project documents to find what to check, and the event feed to check them against."""


log = logging.getLogger("ludex.economy_health")
CURSORS = "economy_health"
HOLDINGS = "economy_holdings"
DAYS = "economy_days"
PAGE_SIZE = 1_000
MAX_DAYS_READ = 400  # a window is at most 366 days
SWEEP_INTERVAL_S = 60.0


def _project_id(tenant: str, project: str) -> str:
    return f"{tenant}/{project}"


def _holdings_id(tenant: str, project: str, currency: str) -> str:
    return f"{tenant}/{project}/{currency}"


def _day_id(tenant: str, project: str, currency: str, day: str) -> str:
    return f"{tenant}/{project}/{currency}/{day}"


class EconomyHealth:
    """Catches projects up and reads their day rows; one per process, shared by its requests."""

    def __init__(self, store: HealthStore, *, page_size: int = PAGE_SIZE) -> None:
        self.store = store
        self.page_size = page_size
        self._locks: dict[tuple[str, str], asyncio.Lock] = defaultdict(asyncio.Lock)
        self.failures = 0

    async def catch_up(self, tenant: str, project: str) -> int:
        """Folds every wallet event of the project past its cursor; answers how many events."""
        async with self._locks[tenant, project]:
            cursor = await self._cursor(tenant, project)
            folded = 0
            while True:
                query = EventQuery(tenant=tenant, project=project, types=WALLET_EVENTS)
                page = await self.store.read_events(query, after=cursor, limit=self.page_size)
                if not page:
                    return folded
                movements = [
                    m for r in page if (m := movement_of(r.position, r.type, r.data, r.occurred_at)) is not None
                ]
                await self._fold(tenant, project, movements)
                cursor = page[-1].position
                await self._advance(tenant, project, cursor, {m.currency for m in movements})
                folded += len(page)
                if len(page) < self.page_size:
                    return folded

    async def catch_up_all(self) -> int:
        """Catches up every live project (shard 0's sweep), so events are folded long before any
        event retention could purge them; answers the events folded."""
        folded, after = 0, None
        while True:
            projects = await self.store.list_documents(PROJECTS, after=after, limit=200)
            for document in projects:  # stored as `<tenant>/<project>`, holding `tenantId` and `id`
                if not document.get("deleted"):
                    folded += await self._catch_up_alone(document["tenantId"], document["id"])
            if len(projects) < 200:
                return folded
            after = f"{projects[-1]['tenantId']}/{projects[-1]['id']}"

    async def _catch_up_alone(self, tenant: str, project: str) -> int:
        """One project of the sweep: its failure is logged and counted, and the sweep goes on to
        the projects after it (their cursors are theirs; this one's resumes next time)."""
        try:
            return await self.catch_up(tenant, project)
        except Exception:  # noqa: BLE001 - any project's failure is that project's alone
            self.failures += 1
            log.exception("economy health: catching up %s/%s failed; the sweep goes on", tenant, project)
            return 0

    async def currencies(self, tenant: str, project: str) -> list[str]:
        document = await self.store.get_document(CURSORS, _project_id(tenant, project))
        return [] if document is None else sorted(document.get("currencies", []))

    async def days(self, tenant: str, project: str, currency: str, start: str, end: str) -> list[DayFlows]:
        """The currency's day rows with `start <= day < end` (ISO days), oldest first; a day
        without movement has no row."""
        prefix = _day_id(tenant, project, currency, "")
        rows: list[DayFlows] = []
        after = prefix + _day_before(start)
        while len(rows) < MAX_DAYS_READ:
            page = await self.store.list_documents(DAYS, tenant=tenant, after=after, limit=100)
            for document in page:
                if not document["id"].startswith(prefix) or document["day"] >= end:
                    return rows
                rows.append(DayFlows.from_document(document))
            if len(page) < 100:
                return rows
            after = page[-1]["id"]
        return rows

    async def forget_reasons(self, tenant: str, project: str, reasons: set[str]) -> int:
        """Fold the amounts keyed by `reasons` (an erased player's free text) into `(erased)` in
        every day document of the project, after catching up (so no event read before the
        erasure is folded later under its old reason). Answers how many documents changed."""
        if not reasons:
            return 0
        await self.catch_up(tenant, project)
        prefix, changed = _project_id(tenant, project) + "/", 0
        after: str | None = prefix
        while page := await self.store.list_documents(DAYS, tenant=tenant, after=after, limit=100):
            for document in page:
                if not document["id"].startswith(prefix):
                    return changed
                flows = DayFlows.from_document(document)
                if flows.forget_keys(reasons):
                    changed += 1
                    await update_document(self.store, DAYS, document["id"], _forgetting(reasons))
            after = page[-1]["id"]
        return changed

    async def _cursor(self, tenant: str, project: str) -> int:
        document = await self.store.get_document(CURSORS, _project_id(tenant, project))
        return 0 if document is None else int(document["cursor"])

    async def _advance(self, tenant: str, project: str, cursor: int, currencies: set[str]) -> None:
        def change(document: dict[str, Any] | None) -> dict[str, Any]:
            current = document or {
                "id": _project_id(tenant, project),
                "tenantId": tenant,
                "projectId": project,
                "cursor": 0,
                "currencies": [],
            }
            current["cursor"] = max(int(current["cursor"]), cursor)
            current["currencies"] = sorted(set(current["currencies"]) | currencies)
            return current

        await update_document(self.store, CURSORS, _project_id(tenant, project), change)

    async def _fold(self, tenant: str, project: str, movements: Sequence[Movement]) -> None:
        by_currency: dict[str, list[Movement]] = defaultdict(list)
        for movement in movements:
            by_currency[movement.currency].append(movement)
        for currency, moved in by_currency.items():
            figures = await self._fold_holdings(tenant, project, currency, moved)
            by_day: dict[str, list[Movement]] = defaultdict(list)
            for movement in moved:
                by_day[movement.day].append(movement)
            for day, of_day in by_day.items():
                await self._fold_day(tenant, project, currency, day, of_day, figures.get(day))

    async def _fold_holdings(
        self, tenant: str, project: str, currency: str, movements: list[Movement]
    ) -> dict[str, SupplyFigures]:
        figures: dict[str, SupplyFigures] = {}

        def change(document: dict[str, Any] | None) -> dict[str, Any]:
            nonlocal figures
            holdings = Holdings.from_document(document)
            figures = fold_holdings(holdings, movements)  # the attempt that is written wins
            return {
                "id": _holdings_id(tenant, project, currency),
                "tenantId": tenant,
                "projectId": project,
                "currency": currency,
                **holdings.to_document(),
            }

        await update_document(self.store, HOLDINGS, _holdings_id(tenant, project, currency), change)
        return figures

    async def _fold_day(
        self,
        tenant: str,
        project: str,
        currency: str,
        day: str,
        movements: list[Movement],
        figures: SupplyFigures | None,
    ) -> None:
        doc_id = _day_id(tenant, project, currency, day)

        def change(document: dict[str, Any] | None) -> dict[str, Any]:
            flows = fold_day(
                None if document is None else DayFlows.from_document(document), day, currency, movements, figures
            )
            return {"id": doc_id, "tenantId": tenant, "projectId": project, **flows.to_document()}

        await update_document(self.store, DAYS, doc_id, change)


def _forgetting(reasons: set[str]) -> Change:
    """A compare-and-set change that forgets `reasons` in a day document as it is when written."""

    def change(document: dict[str, Any] | None) -> dict[str, Any] | None:
        if document is None:
            return None
        flows = DayFlows.from_document(document)
        flows.forget_keys(reasons)
        return {**document, **flows.to_document()}

    return change


def _day_before(day: str) -> str:
    """The ISO day before `day` (ids sort like days), or "" before the first day of the calendar."""
    try:
        return (date.fromisoformat(day) - timedelta(days=1)).isoformat()
    except OverflowError:
        return ""


class EconomyHealthSweep:
    """`catch_up_all` at most once an interval on the host's clock; the first call runs."""

    def __init__(self, store: HealthStore, clock: Any, interval_s: float = SWEEP_INTERVAL_S) -> None:
        self.health = EconomyHealth(store)
        self.clock = clock
        self.interval_s = interval_s
        self._last_run: float | None = None

    async def run_if_due(self) -> int | None:
        now = self.clock.monotonic()
        if self._last_run is not None and now - self._last_run < self.interval_s:
            return None
        self._last_run = now
        return await self.health.catch_up_all()
