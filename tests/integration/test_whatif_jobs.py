"""What-if jobs over a real SQLite store (`actors/economy_whatif.py`): a tenant runs one job at
a time, a cancel stops a job at its next page, a job whose replica went away reads `failed`, and
a finished job's result matches the pure fold over the same journal."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from actors.clock import FakeClock
from actors.economy_whatif import CANCELS, JOBS, STALE_S, JobSpec, TenantBusyError, WhatIfJobs
from actors.stores.sqlite import SqliteStore
from engine.definitions import parse_economy
from engine.economy_whatif import replay
from tests.support.histories import START, history

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def store(tmp_path: Path, demo_economy_document: dict[str, Any]) -> AsyncIterator[SqliteStore]:
    opened = SqliteStore(tmp_path / "ludex.db")
    await opened.open()
    records = [record for _, record in history(parse_economy(demo_economy_document), players=6, commands=300)]
    await opened.commit(records, [])
    yield opened
    await opened.close()


def _spec(economy: dict[str, Any], tenant: str = "t") -> JobSpec:
    first = START.date()
    return JobSpec(tenant, "p", parse_economy(economy), first, first + timedelta(days=7), None, "tests@example.com")


async def _finished(jobs: WhatIfJobs, job_id: str, tenant: str = "t") -> dict[str, Any]:
    for _ in range(500):
        job = await jobs.read(tenant, "p", job_id)
        assert job is not None
        if job["status"] != "running":
            return job
        await asyncio.sleep(0.01)
    raise AssertionError("still running")


async def test_a_tenant_runs_one_job_at_a_time(store: SqliteStore, demo_economy_document: dict[str, Any]) -> None:
    jobs = WhatIfJobs(store, FakeClock(START), page_size=10)
    elsewhere = {"id": "wif_1111111111111111", "tenantId": "t", "projectId": "p", "status": "running",
                 "createdAt": "2026-03-01T00:00:00.000Z", "updatedAt": "2026-03-01T00:00:00.000Z"}  # fmt: skip
    await store.put_document(JOBS, "t/p/wif_1111111111111111", elsewhere)  # running on another replica
    with pytest.raises(TenantBusyError):
        await jobs.start(_spec(demo_economy_document))
    other = await jobs.start(_spec(demo_economy_document, tenant="u"))  # another tenant is not held up
    assert (await _finished(jobs, other, tenant="u"))["status"] == "done"
    await store.put_document(JOBS, "t/p/wif_1111111111111111", {**elsewhere, "status": "done"})
    again = await jobs.start(_spec(demo_economy_document))  # the tenant's slot is free again
    assert (await _finished(jobs, again))["status"] == "done"


async def test_a_cancel_stops_a_job_at_its_next_page(store: SqliteStore, demo_economy_document: dict[str, Any]) -> None:
    jobs = WhatIfJobs(store, FakeClock(START), page_size=10)
    job_id = await jobs.start(_spec(demo_economy_document))
    assert (await jobs.cancel("t", "p", job_id))["cancelRequested"] is True  # type: ignore[index]
    cancelled = await _finished(jobs, job_id)
    assert cancelled["status"] == "cancelled" and "result" not in cancelled
    assert cancelled["progress"]["commands"] <= 10
    assert await store.get_document(CANCELS, f"t/p/{job_id}") is None, "the request goes with the job's end"
    assert (await jobs.cancel("t", "p", job_id))["status"] == "cancelled"  # type: ignore[index]


async def test_a_job_matches_the_pure_fold_and_touches_no_journal(
    store: SqliteStore, demo_economy_document: dict[str, Any]
) -> None:
    jobs = WhatIfJobs(store, FakeClock(START), page_size=7)
    before = await store.scan_journal("player:t/p/", since=None, until=None, after=None, limit=10_000)
    job = await _finished(jobs, await jobs.start(_spec(demo_economy_document)))
    assert job["status"] == "done" and job["progress"]["fraction"] == 1.0
    pairs = [(record.entity.rsplit("/", 1)[1], record) for record in before]
    expected = replay(
        parse_economy(demo_economy_document), "2026-03-01T00:00:00.000Z", "2026-03-08T00:00:00.000Z", pairs
    )
    result = {k: v for k, v in job["result"].items() if k != "sample"}
    assert result == expected
    after = await store.scan_journal("player:t/p/", since=None, until=None, after=None, limit=10_000)
    assert after == before


async def test_a_job_whose_replica_went_away_reads_failed(
    store: SqliteStore, demo_economy_document: dict[str, Any]
) -> None:
    clock = FakeClock(START)
    jobs = WhatIfJobs(store, clock)
    orphan = {"id": "wif_0000000000000000", "tenantId": "t", "projectId": "p", "status": "running",
              "updatedAt": "2026-03-01T00:00:00.000Z"}  # fmt: skip
    await store.put_document(JOBS, "t/p/wif_0000000000000000", orphan)
    assert (await jobs.read("t", "p", orphan["id"]))["status"] == "running"  # type: ignore[index]
    clock.advance(STALE_S + 1)
    assert (await jobs.read("t", "p", orphan["id"]))["status"] == "failed"  # type: ignore[index]
    assert await jobs.read("u", "p", orphan["id"]) is None
