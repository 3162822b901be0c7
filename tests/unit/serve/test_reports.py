from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import pytest

from actors.stores.base import JournalRecord
from engine.reports import fold, new_report
from serve.api import reports
from serve.problems import ProblemError

TODAY = date(2026, 3, 15)


def test_the_default_window_is_the_last_30_days_including_today() -> None:
    assert reports.window(None, None, TODAY) == (date(2026, 2, 14), date(2026, 3, 16))
    assert reports.window(date(2026, 1, 1), None, TODAY) == (date(2026, 1, 1), date(2026, 1, 31))
    assert reports.window(None, date(2026, 3, 1), TODAY) == (date(2026, 1, 30), date(2026, 3, 1))


@pytest.mark.parametrize(("start", "end"), [(date(2026, 3, 1), date(2026, 3, 1)), (date(2025, 1, 1), date(2026, 1, 3))])
def test_empty_backwards_or_too_long_windows_are_validation_errors(start: date, end: date) -> None:
    with pytest.raises(ProblemError) as raised:
        reports.window(start, end, TODAY)
    assert raised.value.slug == "validation-error"
    assert raised.value.errors is not None and [e["field"] for e in raised.value.errors] == ["to"]


def test_windows_past_the_calendar_are_validation_errors() -> None:
    for start, end in ((date(9999, 12, 20), None), (None, date(1, 1, 2))):
        with pytest.raises(ProblemError) as raised:
            reports.window(start, end, TODAY)
        assert raised.value.slug == "validation-error"


def test_purchases_csv_has_one_revenue_column_per_currency() -> None:
    report = fold(
        "purchases",
        [
            (
                "a",
                "2026-03-01T00:00:00.000Z",
                [{"type": "store.purchase.succeeded", "data": {"sku": "p,1", "quantity": 2, "price": {"coins": 200}}}],
            ),  # fmt: skip
            (
                "b",
                "2026-03-02T00:00:00.000Z",
                [{"type": "store.purchase.succeeded", "data": {"sku": "b", "quantity": 1, "price": {"gems": 10}}}],
            ),  # fmt: skip
        ],
    )
    rows = list(csv.reader(io.StringIO("".join(reports._csv_lines(report)))))
    assert rows == [
        ["day", "sku", "count", "quantity", "revenue.coins", "revenue.gems"],
        ["2026-03-01", "p,1", "1", "2", "200", "0"],
        ["2026-03-02", "b", "1", "1", "0", "10"],
    ]


class PagedStore:
    """Answers `scan_journal` like a store, recording the pages asked for."""

    def __init__(self, records: list[JournalRecord]) -> None:
        self.records = sorted(records, key=lambda r: (r.entity, r.seq))
        self.calls: list[tuple[str, str | None, str | None, tuple[str, int] | None]] = []

    async def scan_journal(
        self, prefix: str, *, since: str | None, until: str | None, after: tuple[str, int] | None, limit: int
    ) -> list[JournalRecord]:
        self.calls.append((prefix, since, until, after))
        found = [
            r for r in self.records if r.entity.startswith(prefix) and (after is None or (r.entity, r.seq) > after)
        ]
        return found[:limit]


async def test_reports_read_the_journal_page_by_page(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reports, "PAGE_SIZE", 2)
    records = [
        JournalRecord(f"player:t/p/{name}", seq, [{"type": "x", "data": {}}], "2026-03-01T10:00:00.000Z", 1)
        for name in ("a", "b", "c")
        for seq in (1, 2)
    ]
    store = PagedStore([*records, JournalRecord("player:t/q/z", 1, [{"type": "x", "data": {}}], "2026-03-01", 1)])

    class Connected:
        pass

    connected: Any = Connected()
    connected.store = store
    report = new_report("active-players")
    await reports._fold(connected, "t", "p", report, date(2026, 3, 1), date(2026, 3, 2))
    assert report.totals() == {"players": 3}
    assert [call[3] for call in store.calls] == [None, ("player:t/p/a", 2), ("player:t/p/b", 2), ("player:t/p/c", 2)]
    assert store.calls[0][:3] == ("player:t/p/", "2026-03-01T00:00:00.000Z", "2026-03-02T00:00:00.000Z")
