"""Batch: many commands in one request, answered in order; one Ray call per shard involved.
`run_ops` is shared with the realtime command stream (`serve.realtime_commands`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.requests import HTTPConnection

from actors.host import CommandRequest
from engine import commands as c
from serve.api_key_auth import Caller, charge, require
from serve.commanding import outcome_result
from serve.problems import problem_body, problem_responses
from serve.schemas import Batch, BatchCommand, BatchResults

router = APIRouter(prefix="/v1/projects/{projectId}", tags=["batch"])
Anyone = Annotated[Caller, Depends(require(None))]
ERRORS = problem_responses(400, 401, 403, 404, 422, 429)

SCOPE_BY_OP = {
    "xp": "players:write",
    "increment": "players:write",
    "credit": "economy:write",
    "debit": "economy:write",
    "grant": "economy:write",
    "consume": "economy:write",
    "purchase": "store:purchase",
}


def to_command(op: BatchCommand) -> c.Command:
    match op.op:
        case "xp":
            return c.AwardXp(op.amount, op.reason)
        case "credit":
            return c.Credit(op.currency, op.amount, op.reason, op.metadata)
        case "debit":
            return c.Debit(op.currency, op.amount, op.reason, op.metadata)
        case "grant":
            return c.GrantItem(op.itemId, op.quantity)
        case "consume":
            return c.ConsumeItem(op.itemId, op.quantity)
        case "increment":
            return c.IncrementCounter(op.counterId, op.by)
        case _:
            return c.Purchase(op.sku, op.quantity)


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
    results = await run_ops(request, caller, body.commands, request.state.request_id)
    return JSONResponse({"results": results})


async def run_ops(
    connection: HTTPConnection, caller: Caller, ops: Sequence[BatchCommand], request_id: str | None
) -> list[dict[str, Any]]:
    """Each op's result in order (`serve.commanding.outcome_result`): a problem for an op the key
    lacks the scope of, else the host's answer; the events of fresh commands are metered. The
    caller has already been charged for every op."""
    results: list[dict[str, Any] | None] = [None] * len(ops)
    requests: list[CommandRequest] = []
    positions: list[int] = []
    refusal = caller.quota_refusal()
    scopes = caller.key.scopes
    for index, op in enumerate(ops):
        scope = SCOPE_BY_OP[op.op]
        if scope not in scopes:
            problem = problem_body("insufficient-scope", f"the API key lacks the '{scope}' scope", connection)
            results[index] = {"ok": False, "status": 403, "problem": problem, "replayed": False}
            continue
        command = to_command(op)
        requests.append(
            CommandRequest(caller.tenant, caller.project, op.playerId, command, op.idempotencyKey, request_id, refusal)
        )
        positions.append(index)
    outcomes = await caller.backend.directory.execute(requests) if requests else []
    await caller.count_events(outcomes)
    for index, outcome in zip(positions, outcomes, strict=True):
        results[index] = outcome_result(connection, outcome)
    return [result for result in results if result is not None]
