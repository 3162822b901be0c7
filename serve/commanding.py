"""From a host's `Outcome` to an HTTP answer: status from the outcome (201 when created, 204 when
there is no body), refusals through `serve.problems`, and `Idempotent-Replayed: true` on replays."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header, Request, Response
from fastapi.responses import JSONResponse
from starlette.requests import HTTPConnection

from actors.host import CommandRequest
from engine.commands import Command
from engine.outcomes import Outcome
from serve.api_key_auth import Caller
from serve.player_reads import player_view
from serve.problems import ProblemError, problem_headers, problem_of, problem_response, status_of

REPLAYED = "Idempotent-Replayed"


async def _idempotency_header(
    idempotency_key: Annotated[
        str,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=255,
            description="Makes the call safe to retry: same key and body → same answer, one effect.",
        ),
    ] = None,  # type: ignore[assignment]  # optional, yet a string when sent: no `null` in the OpenAPI
) -> None:
    """Declares the header in the OpenAPI; handlers read it through `idempotency_key`."""


IDEMPOTENT = [Depends(_idempotency_header)]


def idempotency_key(request: Request, body_key: str | None) -> str | None:
    """The Idempotency-Key header, else the body's `idempotencyKey`: the header wins."""
    header = request.headers.get("idempotency-key")
    if header is not None and not 1 <= len(header) <= 255:
        message = "must be 1 to 255 characters"
        raise ProblemError(
            "validation-error",
            f"Idempotency-Key: {message}",
            errors=[{"field": "Idempotency-Key", "message": message}],
        )
    return header or body_key


def outcome_status(outcome: Outcome) -> int:
    if outcome.refusal is not None:
        return status_of(outcome.refusal)
    if outcome.body is None:
        return 204
    return 201 if outcome.created else 200


def outcome_response(request: Request, outcome: Outcome) -> Response:
    headers = {REPLAYED: "true"} if outcome.replayed else {}
    if outcome.refusal is not None:
        return problem_response(request, outcome.refusal, headers)
    status = outcome_status(outcome)
    if status == 204:
        return Response(status_code=204, headers=headers)
    return JSONResponse(outcome.body, status_code=status, headers=headers)


def retry_after(outcome: Outcome) -> int | None:
    """Seconds after which a refused command may be sent again (a quota's, or 1 for a 503)."""
    if outcome.refusal is None:
        return None
    seconds = problem_headers(outcome.refusal).get("Retry-After")
    return None if seconds is None else int(seconds)


def outcome_result(connection: HTTPConnection, outcome: Outcome) -> dict[str, Any]:
    """One command's answer inside a batch or on the command stream: what its own HTTP call
    would answer (status, body or problem, the replay header as `replayed`, `Retry-After` as
    `retryAfterS`), as plain JSON (no pydantic model built per result)."""
    result: dict[str, Any] = {"ok": outcome.ok, "status": outcome_status(outcome)}
    if outcome.refusal is None:
        if outcome.body is not None:
            result["body"] = outcome.body
    else:
        result["problem"] = problem_of(connection, outcome.refusal)
        seconds = retry_after(outcome)
        if seconds is not None:
            result["retryAfterS"] = seconds
    result["replayed"] = outcome.replayed
    return result


async def run_command(
    request: Request, caller: Caller, player_id: str, command: Command, body_key: str | None = None
) -> Response:
    return outcome_response(request, await execute_command(request, caller, player_id, command, body_key))


async def execute_command(
    request: Request, caller: Caller, player_id: str, command: Command, body_key: str | None = None
) -> Outcome:
    """The host's outcome of one command: keyed, quota-checked and counted like every command."""
    key = idempotency_key(request, body_key)
    refusal = caller.quota_refusal()
    if refusal is not None and key is None:
        return Outcome.refused(refusal)
    outcomes = await caller.backend.directory.execute(
        [CommandRequest(caller.tenant, caller.project, player_id, command, key, request.state.request_id, refusal)]
    )
    await caller.count_events(outcomes)
    return outcomes[0]


async def run_view(request: Request, caller: Caller, player_id: str, name: str) -> Any:
    return await player_view(caller.backend, caller.tenant, caller.project, player_id, name)
