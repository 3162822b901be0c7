"""What-if jobs: run `engine.economy_whatif` over a project's journal in the background, and keep
each job's status, progress and result as a document every ingress replica can read.

Promises:
1. a job reads the journal and writes only its own `whatif_jobs/<tenant>/<project>/<jobId>`
   document: no player, economy or event is touched (the fold is pure);
2. a tenant runs at most `MAX_RUNNING` jobs at once (`TenantBusyError` otherwise, 429 above);
3. progress is written after every page, and so is `updatedAt`: a running job whose document
   has not moved for `STALE_S` lost its replica and reads as `failed`;
4. a cancel is a document of its own (and a flag, when this process runs the job); the runner
   sees it at its next page and stops as `cancelled`;
5. memory follows one page of records, the fold's aggregates and, with a sample, the sampled
   ids (never the journal's size); the replay itself runs page by page in a worker thread.
"""

from __future__ import annotations

import asyncio
import hashlib
import heapq
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from actors.clock import Clock
from actors.stores.base import DocumentStore, JournalRecord, JournalStore, PlayerIndex
from engine.definitions import Economy
from engine.economy_whatif import WhatIf
from engine.identity import player_key
from engine.rules import rfc3339

log = logging.getLogger("ludex.economy_whatif")
JOBS = "whatif_jobs"
CANCELS = "whatif_cancels"  # apart from the job: the runner's progress writes cannot overwrite a cancel
PAGE_SIZE = 1_000
MAX_RUNNING = 1
STALE_S = 120.0
KEEP_FINISHED = 20  # a tenant's finished jobs kept; older ones go when a new one starts


class WhatIfStore(DocumentStore, JournalStore, PlayerIndex, Protocol):
    """Job documents, the journal to replay and the player index to sample from."""


class TenantBusyError(Exception):
    """The tenant already runs `MAX_RUNNING` what-if jobs."""


@dataclass(frozen=True)
class JobSpec:
    tenant: str
    project: str
    economy: Economy
    start: date
    end: date  # exclusive
    sample_players: int | None
    by: str


def _doc_id(tenant: str, project: str, job_id: str) -> str:
    return f"{tenant}/{project}/{job_id}"


def sample_rank(job_id: str, player_id: str) -> int:
    """A player's place in a job's sample order: stable for the job, unrelated to ids."""
    return int.from_bytes(hashlib.sha256(f"{job_id}:{player_id}".encode()).digest()[:8], "big")


class WhatIfJobs:
    """Starts, reads and cancels jobs; one per process (its tasks are this process's)."""

    def __init__(self, store: WhatIfStore, clock: Clock, *, page_size: int = PAGE_SIZE) -> None:
        self.store = store
        self.clock = clock
        self.page_size = page_size
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.cancelled: set[str] = set()

    def _now(self) -> str:
        return rfc3339(self.clock.now())

    def _is_stale(self, job: dict[str, Any]) -> bool:
        updated = datetime.fromisoformat(str(job["updatedAt"]).replace("Z", "+00:00"))
        return (self.clock.now() - updated).total_seconds() > STALE_S

    async def start(self, spec: JobSpec) -> str:
        jobs = await self.store.list_documents(JOBS, tenant=spec.tenant, limit=1_000)
        running = [j for j in jobs if j["status"] == "running" and not self._is_stale(j)]
        if len(running) >= MAX_RUNNING:
            raise TenantBusyError(spec.tenant)
        finished = sorted((j for j in jobs if j not in running), key=lambda j: str(j["createdAt"]))
        stale = finished[: max(0, len(finished) - KEEP_FINISHED + 1)]
        if stale:
            await self.store.delete_documents(JOBS, [_doc_id(j["tenantId"], j["projectId"], j["id"]) for j in stale])
            await self.store.delete_documents(CANCELS, [_doc_id(j["tenantId"], j["projectId"], j["id"]) for j in stale])
        job_id = f"wif_{uuid.uuid4().hex[:16]}"
        now = self._now()
        job = {
            "id": job_id,
            "tenantId": spec.tenant,
            "projectId": spec.project,
            "status": "running",
            "window": {"from": spec.start.isoformat(), "to": spec.end.isoformat()},
            "samplePlayers": spec.sample_players,
            "progress": {"players": 0, "playersTotal": None, "commands": 0, "fraction": 0.0},
            "createdAt": now,
            "updatedAt": now,
            "by": spec.by,
            "cancelRequested": False,
        }
        await self.store.put_document(JOBS, _doc_id(spec.tenant, spec.project, job_id), job)
        task = asyncio.create_task(self._run(job, spec), name=f"whatif {job_id}")
        doc_id = _doc_id(spec.tenant, spec.project, job_id)
        self.tasks[doc_id] = task
        task.add_done_callback(lambda _: self._forget(doc_id))
        return job_id

    def _forget(self, doc_id: str) -> None:
        self.tasks.pop(doc_id, None)
        self.cancelled.discard(doc_id)

    async def read(self, tenant: str, project: str, job_id: str) -> dict[str, Any] | None:
        job = await self.store.get_document(JOBS, _doc_id(tenant, project, job_id))
        if job is None or job.get("tenantId") != tenant or job.get("projectId") != project:
            return None
        if job["status"] == "running" and _doc_id(tenant, project, job_id) not in self.tasks and self._is_stale(job):
            job = {**job, "status": "failed", "error": "the server running this job stopped; start it again"}
        return job

    async def cancel(self, tenant: str, project: str, job_id: str) -> dict[str, Any] | None:
        doc_id = _doc_id(tenant, project, job_id)
        if doc_id in self.tasks:  # before any await: the runner sees it at its very next page
            self.cancelled.add(doc_id)
        job = await self.read(tenant, project, job_id)
        if job is None or job["status"] != "running":
            self.cancelled.discard(doc_id)
            return job
        await self.store.put_document(CANCELS, doc_id, {"tenantId": tenant, "requestedAt": self._now()})
        return {**job, "cancelRequested": True}

    async def _is_cancelled(self, doc_id: str) -> bool:
        return doc_id in self.cancelled or await self.store.get_document(CANCELS, doc_id) is not None

    async def _run(self, job: dict[str, Any], spec: JobSpec) -> None:
        doc_id = _doc_id(spec.tenant, spec.project, job["id"])
        since, until = f"{spec.start.isoformat()}T00:00:00.000Z", f"{spec.end.isoformat()}T00:00:00.000Z"
        fold = WhatIf(spec.economy, since, until)
        try:
            sample, total = await self._players(spec, job["id"])
            job["progress"]["playersTotal"] = total
            async for page in self._pages(spec, sample, until):
                await asyncio.to_thread(_feed, fold, page, f"player:{spec.tenant}/{spec.project}/")
                if await self._is_cancelled(doc_id):
                    job.update(status="cancelled", cancelRequested=True)
                    break
                done = fold.players
                fraction = min(0.99, done / total) if total else 0.0
                job["progress"] = {"players": done, "playersTotal": total, "commands": fold.commands,
                                   "fraction": round(fraction, 4)}  # fmt: skip
                job["updatedAt"] = self._now()
                await self.store.put_document(JOBS, doc_id, job)
            if job["status"] == "running":
                result = await asyncio.to_thread(fold.result)
                result["sample"] = {"sampled": sample is not None, "samplePlayers": spec.sample_players,
                                    "playersInProject": total}  # fmt: skip
                job.update(status="done", result=result)
                job["progress"] = {**job["progress"], "players": fold.players, "commands": fold.commands,
                                   "fraction": 1.0}  # fmt: skip
        except Exception as error:  # noqa: BLE001 - any failure ends the job as failed, said in it
            log.exception("what-if %s failed", job["id"])
            job.update(status="failed", error=f"{type(error).__name__}: {error}")
        job["updatedAt"] = self._now()
        await self.store.put_document(JOBS, doc_id, job)
        await self.store.delete_documents(CANCELS, [doc_id])

    async def _players(self, spec: JobSpec, job_id: str) -> tuple[list[str] | None, int]:
        """The sampled ids, in id order (None: every player), and the project's player count."""
        total, after = 0, None
        ranked: list[tuple[int, str]] = []
        while rows := await self.store.list_players(spec.tenant, spec.project, after=after, limit=self.page_size):
            total += len(rows)
            if spec.sample_players is not None:
                for row in rows:
                    item = (-sample_rank(job_id, row.player_id), row.player_id)
                    if len(ranked) < spec.sample_players:
                        heapq.heappush(ranked, item)
                    else:
                        heapq.heappushpop(ranked, item)
            after = rows[-1].player_id
            if len(rows) < self.page_size:
                break
        if spec.sample_players is None or spec.sample_players >= total:
            return None, total
        return sorted(player for _, player in ranked), total

    async def _pages(self, spec: JobSpec, sample: list[str] | None, until: str) -> AsyncIterator[list[JournalRecord]]:
        """The journal up to the window's end (history before it sets where players start)."""
        if sample is None:
            prefix, after = f"player:{spec.tenant}/{spec.project}/", None
            while page := await self.store.scan_journal(
                prefix, since=None, until=until, after=after, limit=self.page_size
            ):
                yield page
                if len(page) < self.page_size:
                    return
                after = (page[-1].entity, page[-1].seq)
            return
        batch: list[JournalRecord] = []
        for player_id in sample:
            entity, seq = player_key(spec.tenant, spec.project, player_id), 0
            while records := await self.store.read_journal(entity, after_seq=seq, limit=self.page_size):
                batch += [record for record in records if record.occurred_at < until]
                seq = records[-1].seq
                if len(records) < self.page_size or records[-1].occurred_at >= until:
                    break
            if len(batch) >= self.page_size:
                yield batch
                batch = []
        if batch:
            yield batch


def _feed(fold: WhatIf, page: list[JournalRecord], prefix: str) -> None:
    for record in page:
        fold.add(record, record.entity[len(prefix) :])
