"""Batch: many commands in one request, answered in order; one Ray call per shard involved."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from actors.host import CommandRequest
from engine import commands as c
from engine.outcomes import Outcome, Refusal
from serve.api_key_auth import Caller, charge, require
from serve.commanding import outcome_status
from serve.problems import ProblemError, problem_of, problem_responses
from serve.schemas import Batch, BatchCommand, BatchResult, BatchResults, Problem

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
async def run_batch(request: Request, body: Batch, caller: Anyone) -> BatchResults:
    """Results come in the order of `commands`, each an answer or a problem; commands for one
    player apply in array order. Each command needs its own scope (e.g. `store:purchase`). A
    batch costs one rate-limit token per command (the request paid the first)."""
    if len(body.commands) > 1:
        await charge(request, caller.tenant, caller.key, caller.plan, len(body.commands) - 1)
    results: list[BatchResult | None] = [None] * len(body.commands)
    requests: list[CommandRequest] = []
    positions: list[int] = []
    refusal = caller.quota_refusal()
    for index, op in enumerate(body.commands):
        scope = SCOPE_BY_OP[op.op]
        if scope not in caller.key.scopes:
            refusal = Refusal("insufficient-scope", f"the API key lacks the '{scope}' scope")
            results[index] = _result(request, Outcome.refused(refusal))
            continue
        requests.append(
            CommandRequest(
                caller.tenant,
                caller.project,
                op.playerId,
                to_command(op),
                op.idempotencyKey,
                request.state.request_id,
                refusal,
            )
        )
        positions.append(index)
    if not requests and not results:
        raise ProblemError("validation-error", "no commands")
    outcomes = await caller.backend.directory.execute(requests) if requests else []
    await caller.count_events(outcomes)
    for index, outcome in zip(positions, outcomes, strict=True):
        results[index] = _result(request, outcome)
    return BatchResults(results=[r for r in results if r is not None])


def _result(request: Request, outcome: Outcome) -> BatchResult:
    status = outcome_status(outcome)
    if outcome.refusal is not None:
        problem = Problem(**problem_of(request, outcome.refusal))
        return BatchResult(ok=False, status=status, problem=problem, replayed=outcome.replayed)
    return BatchResult(ok=True, status=status, body=outcome.body, replayed=outcome.replayed)
