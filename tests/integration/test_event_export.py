"""The events export streams in constant memory: 100,000 events in a real SQLite store go out
through `serve.api.events.export_events` (the generator the route streams) one page at a time,
and the traced Python memory peak while consuming it stays far below the size of the export."""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import AsyncIterator

import orjson
import pytest

from actors.stores.base import EventQuery, JournalRecord
from actors.stores.sqlite import SqliteStore
from serve.api.events import CSV_COLUMNS, export_events

EVENTS = 100_000
PER_RECORD = 10
RECORDS_PER_COMMIT = 10_000
PLAYERS = 1_000
PEAK_BOUND = 16 * 1024 * 1024  # the whole export is several times this
PADDING = "x" * 400  # makes each NDJSON line ~0.6 KB, the export ~60 MB


@pytest.fixture(scope="module")
async def store(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[SqliteStore]:
    store = SqliteStore(tmp_path_factory.mktemp("export") / "ludex.sqlite3")
    await store.open()
    records = []
    for n in range(EVENTS // PER_RECORD):
        player, seq = n % PLAYERS, n // PLAYERS + 1
        events = [
            {"type": "wallet.credited", "data": {"currency": "coins", "amount": i, "n": n, "note": PADDING}}
            for i in range(PER_RECORD)
        ]
        occurred_at = f"2026-03-01T00:{seq // 60:02d}:{seq % 60:02d}.000Z"
        records.append(JournalRecord(f"player:t/p/pl-{player:04d}", seq, events, occurred_at, 0))
        if len(records) == RECORDS_PER_COMMIT:
            await store.commit(records, [])
            records = []
    # Another project's events must not leak into the export.
    await store.commit([JournalRecord("player:t/other/pl-0", 1, [events[0]], "2026-03-01T00:00:00.000Z", 0)], [])
    yield store
    await store.close()


async def test_the_ndjson_export_of_100k_events_streams_in_constant_memory(store: SqliteStore) -> None:
    query = EventQuery(tenant="t", project="p")
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        started = time.perf_counter()
        total_bytes = lines = 0
        async for chunk in export_events(store, query, "ndjson"):
            total_bytes += len(chunk)
            for line in chunk.splitlines():
                event = orjson.loads(line)
                assert event["projectId"] == "p" and event["type"] == "wallet.credited"
                # In commit order, each once: record n's events carry amounts 0..9.
                assert (event["data"]["n"], event["data"]["amount"]) == divmod(lines, PER_RECORD), lines
                lines += 1
            del chunk
        peak = tracemalloc.get_traced_memory()[1] - baseline
        elapsed = time.perf_counter() - started
    finally:
        tracemalloc.stop()
    print(
        f"\nexported {lines} events, {total_bytes / 2**20:.1f} MiB in {elapsed:.1f}s;"
        f" traced peak {peak / 2**20:.2f} MiB (bound {PEAK_BOUND / 2**20:.0f} MiB)"
    )
    assert lines == EVENTS
    assert total_bytes > 3 * PEAK_BOUND, "the export must be big enough that buffering it would break the bound"
    assert peak < PEAK_BOUND


async def test_the_csv_export_has_a_header_and_one_row_per_event(store: SqliteStore) -> None:
    query = EventQuery(tenant="t", project="p", player_id="pl-0007")
    chunks = [chunk async for chunk in export_events(store, query, "csv", page_size=7)]
    text = b"".join(chunks).decode()
    rows = text.splitlines()
    assert rows[0] == ",".join(CSV_COLUMNS)
    assert len(rows) == 1 + EVENTS // PLAYERS and all(row.split(",", 5)[4] == "pl-0007" for row in rows[1:])
    assert len(chunks) > 2, "page by page"
