"""From a host's outcome to an HTTP answer: status from the outcome (201 when created, 204 when
there is no body), problems through the slug table, and `Idempotent-Replayed: true` on replays."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header, Request, Response
from fastapi.responses import JSONResponse
from starlette.requests import HTTPConnection

from actors.host import CommandRequest
from engine.commands import Command
from serve.api_key_auth import Caller
from serve.player_reads import player_view
from serve.problems import PROBLEM_JSON, STATUS_BY_SLUG, ProblemError, problem_body

REPLAYED = "Idempotent-Replayed"


async def _idempotency_header(
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            max_length=255,
            description="Makes the call safe to retry: same key and body → same answer, one effect.",
        ),
    ] = None,
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


def outcome_status(outcome: dict[str, Any]) -> int:
    if outcome["ok"]:
        if outcome.get("body") is None:
            return 204
        return 201 if outcome.get("created") else 200
    return STATUS_BY_SLUG.get(outcome["error"]["slug"], 500)


def outcome_problem(request: HTTPConnection, outcome: dict[str, Any]) -> dict[str, Any]:
    error = outcome["error"]
    field = error.get("data", {}).get("field")
    errors = [{"field": field, "message": error["detail"]}] if field and STATUS_BY_SLUG[error["slug"]] == 422 else None
    return problem_body(error["slug"], error["detail"], request, errors=errors)


def retry_after(outcome: dict[str, Any]) -> int | None:
    """Seconds after which a refused command may be sent again (503s: 1), else None."""
    if outcome["ok"]:
        return None
    seconds = outcome["error"].get("data", {}).get("retryAfterS")
    if seconds is None and outcome_status(outcome) == 503:
        return 1
    return None if seconds is None else int(seconds)


def outcome_response(request: Request, outcome: dict[str, Any]) -> Response:
    status = outcome_status(outcome)
    headers = {REPLAYED: "true"} if outcome.get("replayed") else {}
    if outcome["ok"]:
        if status == 204:
            return Response(status_code=204, headers=headers)
        return JSONResponse(outcome["body"], status_code=status, headers=headers)
    seconds = retry_after(outcome)
    if seconds is not None:
        headers["Retry-After"] = str(seconds)
    return JSONResponse(outcome_problem(request, outcome), status_code=status, media_type=PROBLEM_JSON, headers=headers)


def outcome_result(connection: HTTPConnection, outcome: dict[str, Any]) -> dict[str, Any]:
    """One command's answer inside a batch or on the command stream: what its own HTTP call
    would answer (status, body or problem, the replay header as `replayed`, `Retry-After` as
    `retryAfterS`), as plain JSON (no pydantic model built per result)."""
    result: dict[str, Any] = {"ok": outcome["ok"], "status": outcome_status(outcome)}
    if outcome["ok"]:
        if outcome.get("body") is not None:
            result["body"] = outcome["body"]
    else:
        result["problem"] = outcome_problem(connection, outcome)
        seconds = retry_after(outcome)
        if seconds is not None:
            result["retryAfterS"] = seconds
    result["replayed"] = bool(outcome.get("replayed"))
    return result


async def run_command(
    request: Request, caller: Caller, player_id: str, command: Command, body_key: str | None = None
) -> Response:
    return outcome_response(request, await execute_command(request, caller, player_id, command, body_key))


async def execute_command(
    request: Request, caller: Caller, player_id: str, command: Command, body_key: str | None = None
) -> dict[str, Any]:
    """The host's outcome of one command: keyed, quota-checked and counted like every command."""
    key = idempotency_key(request, body_key)
    refusal = caller.quota_refusal()
    if refusal is not None and key is None:
        raise ProblemError(
            refusal["slug"], refusal["detail"], headers={"Retry-After": str(refusal["data"]["retryAfterS"])}
        )
    outcomes = await caller.backend.directory.execute(
        [CommandRequest(caller.tenant, caller.project, player_id, command, key, request.state.request_id, refusal)]
    )
    await caller.count_events(outcomes)
    return outcomes[0]


async def run_view(request: Request, caller: Caller, player_id: str, name: str) -> Any:
    return await player_view(caller.backend, caller.tenant, caller.project, player_id, name)
