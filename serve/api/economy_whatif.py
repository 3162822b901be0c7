"""`/v1/client/projects/{projectId}/economy/what-if`: replay a window of the project's recorded
commands under a proposed economy and compare with what they recorded (docs/ECONOMY.md,
"What-if"). A job: started with 202, then read until `done`; `actors/economy_whatif.py` runs it."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, ConfigDict, Field

from actors.clock import SystemClock
from actors.economy_whatif import JobSpec, TenantBusyError, WhatIfJobs
from engine.definitions import DefinitionError, parse_economy
from engine.errors import InvalidDefinitionError
from serve.api.reports import DAY_PATTERN, parse_day, window
from serve.backend import Backend
from serve.backoffice import InProject, in_project
from serve.problems import ProblemError, problem_responses

router = APIRouter(prefix="/v1/client", tags=["economy"])
ERRORS = problem_responses(400, 401, 403, 404, 422, 429)
JobId = Annotated[str, Path(pattern=r"^wif_[0-9a-f]{16}$", examples=["wif_0123456789abcdef"])]
MAX_SAMPLE = 100_000
RETRY_AFTER_S = 10


class WhatIfIn(BaseModel):
    model_config = ConfigDict(
        populate_by_name=True,
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "economy": {
                        "currencies": [{"id": "coins", "kind": "soft"}],
                        "xpCurve": {"levels": [0, 100]},
                        "skus": [{"sku": "potion-pack", "price": {"coins": 150}}],
                    },
                    "from": "2026-03-01",
                    "to": "2026-03-08",
                    "samplePlayers": 1000,
                }
            ]
        },
    )
    economy: dict[str, Any] = Field(description="The proposed economy document (as `PUT .../economy` takes).")
    from_: str = Field(alias="from", pattern=DAY_PATTERN, description="First UTC day replayed (inclusive).")
    to: str = Field(pattern=DAY_PATTERN, description="UTC day after the window (exclusive); at most 366 days.")
    samplePlayers: int | None = Field(
        default=None, ge=1, le=MAX_SAMPLE, description="Replay this many players, drawn at random; all by default."
    )


class WhatIfStarted(BaseModel):
    jobId: str = Field(examples=["wif_0123456789abcdef"])


class WhatIfProgress(BaseModel):
    players: int = Field(description="Players replayed so far.")
    playersTotal: int | None = Field(description="Live players of the project (known once counted).")
    commands: int = Field(description="Commands decided again so far.")
    fraction: float = Field(description="0 to 1; 1 once done.")


class WhatIfJob(BaseModel):
    jobId: str
    status: Literal["running", "done", "failed", "cancelled"]
    progress: WhatIfProgress
    window: dict[str, str] = Field(description="`{from, to}`, UTC days, `to` exclusive.")
    samplePlayers: int | None
    createdAt: str
    updatedAt: str
    error: str | None = Field(default=None, description="Why a `failed` job failed.")
    result: dict[str, Any] | None = Field(
        default=None,
        description="Once `done`: `currencies: [{day, currency, before: {sources, sinks, net, supply}, after}]`, "
        "`balances: [{currency, before: {supply, holders, top1PercentShare, buckets}, after}]`, `levels: {before, "
        "after}`, `purchases: [{sku, before: {receipts, units}, after}]`, `items: [{itemId, before: {granted, "
        "consumed}, after}]`, `refused: [{op, reason, target, count, detail, examples}]`, `players`, `commands`, "
        "`skipped`, `refusedCommands` and `sample: {sampled, samplePlayers, playersInProject}`.",
    )


def jobs(request: Request, connected: Backend) -> WhatIfJobs:
    """The process's job runner (its tasks live in this process)."""
    current: WhatIfJobs | None = getattr(request.app.state, "whatif_jobs", None)
    if current is None or current.store is not connected.store:
        current = WhatIfJobs(connected.store, SystemClock())
        request.app.state.whatif_jobs = current
    return current


def _answer(job: dict[str, Any] | None, job_id: str) -> WhatIfJob:
    if job is None:
        raise ProblemError("not-found", f"no what-if job '{job_id}' in this project")
    fields: dict[str, Any] = {name: job.get(name) for name in WhatIfJob.model_fields if name != "jobId"}
    return WhatIfJob.model_validate({**fields, "jobId": job["id"]})


@router.post(
    "/projects/{projectId}/economy/what-if",
    status_code=202,
    response_model=WhatIfStarted,
    responses=ERRORS,
    summary="Start a what-if",
)
async def start_what_if(body: WhatIfIn, acting: Annotated[InProject, in_project("economy:read")]) -> WhatIfStarted:
    """Replays the project's commands recorded in `[from, to)` through the rules under `economy`
    (all players, or `samplePlayers` of them) beside what they recorded. Writes nothing to any
    player. A bad economy is 422 `invalid-definition`; a tenant runs one job at a time, another is
    429 `rate-limited`."""
    first, last = parse_day(body.from_, "from"), parse_day(body.to, "to")
    assert first is not None and last is not None  # both required by the body's schema
    start, end = window(first, last, today=last)
    try:
        economy = parse_economy(body.economy)
    except DefinitionError as error:
        raise InvalidDefinitionError([(f"economy.{path}", message) for path, message in error.problems]) from None
    spec = JobSpec(acting.tenant, acting.project, economy, start, end, body.samplePlayers, acting.principal.email)
    try:
        job_id = await jobs(acting.request, acting.backend).start(spec)
    except TenantBusyError:
        raise ProblemError(
            "rate-limited",
            "this tenant already runs a what-if; wait for it to finish or cancel it",
            headers={"Retry-After": str(RETRY_AFTER_S)},
        ) from None
    return WhatIfStarted(jobId=job_id)


@router.get(
    "/projects/{projectId}/economy/what-if/{jobId}",
    response_model=WhatIfJob,
    responses=ERRORS,
    summary="Read a what-if",
)
async def read_what_if(jobId: JobId, acting: Annotated[InProject, in_project("economy:read")]) -> WhatIfJob:
    """The job's status and progress, and its result once `done`."""
    return _answer(await jobs(acting.request, acting.backend).read(acting.tenant, acting.project, jobId), jobId)


@router.post(
    "/projects/{projectId}/economy/what-if/{jobId}/cancel",
    response_model=WhatIfJob,
    responses=ERRORS,
    summary="Cancel a what-if",
)
async def cancel_what_if(jobId: JobId, acting: Annotated[InProject, in_project("economy:read")]) -> WhatIfJob:
    """Asks a running job to stop: it reads `cancelled` once it sees the request (at its next
    page). A finished job is answered as it is."""
    return _answer(await jobs(acting.request, acting.backend).cancel(acting.tenant, acting.project, jobId), jobId)
