"""Batch: many commands in one request, answered in order; one Ray call per shard involved. The
commands run through the one command path (`serve.commanding.run_ops`), as the stream's do."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from serve.api_key_auth import Caller, charge, require
from serve.commanding import run_ops
from serve.problems import problem_responses
from serve.schemas import Batch, BatchResults

router = APIRouter(prefix="/v1/projects/{projectId}", tags=["batch"])
Anyone = Annotated[Caller, Depends(require(None, sessions=True))]  # sessions: per command, own player
ERRORS = problem_responses(400, 401, 403, 404, 422, 429)


@router.post(
    "/commands",
    response_model=BatchResults,
    response_model_exclude_none=True,
    responses=ERRORS,
    summary="Run a batch of commands",
)
async def run_batch(request: Request, body: Batch, caller: Anyone) -> JSONResponse:
    """Results come in the order of `commands`, each an answer or a problem; commands for one
    player apply in array order. Each command needs its own scope (e.g. `store:purchase`). A
    batch costs one rate-limit token per command (the request paid the first)."""
    if len(body.commands) > 1:
        await charge(request, caller.tenant, caller.key, caller.plan, len(body.commands) - 1)
    # The results are plain JSON already shaped as `BatchResults`: validating them through the
    # model again cost a measurable share of a 100-command batch (docs/BENCHMARKS.md).
    results = await run_ops(request, caller, body.commands)
    return JSONResponse({"results": results})
