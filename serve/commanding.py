"""The one command path. A single HTTP call, each command of a batch and each command message
of the stream run through `execute`: the scope the command declares, the month's quota (decided
here, where the events are counted), the host, the events metered. The transports differ only
in how they admit a call (`serve.api_key_auth`, `serve.realtime.commands`: rate-limit tokens,
requests counted) and answer it: an HTTP response (status from the outcome, 201 when created,
204 when there is no body, refusals through `serve.problems`, `Idempotent-Replayed: true` on
replays), or the same as a result inside a batch or on the stream (`outcome_result`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Annotated, Any

from fastapi import Depends, Header, Request, Response
from fastapi.responses import JSONResponse
from starlette.requests import HTTPConnection

from actors.host import CommandRequest
from engine.client_policy import NotClientCallableError, check_client_callable
from engine.commands import Command
from engine.outcomes import Outcome, Refusal
from engine.plans import operation_rates
from engine.player_auth import NotYourPlayerError, is_own_player
from serve.api_key_auth import Caller, missing_scope
from serve.player_reads import player_view
from serve.problems import ProblemError, problem_headers, problem_of, problem_response, status_of
from serve.ratelimit import OPERATION_PREFIX
from serve.schemas import BatchOp

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


@dataclass(frozen=True, slots=True)
class Ask:
    """One command for one player, with the caller's idempotency key (None: a new request)."""

    player_id: str
    command: Command
    idempotency_key: str | None = None


async def execute(connection: HTTPConnection, caller: Caller, asks: Sequence[Ask]) -> list[Outcome]:
    """Each command's outcome, in order: the one path of a single call, a batch's commands and
        the stream's. A player session's command for another player or outside its project's client
    policy is refused here, and so is one whose scope (`Command.scope`) the key lacks; so is a
        new (unkeyed) one once the month's quota is spent, which no host needs to see. A keyed one
        goes to its host with the quota's refusal (`refuse_fresh`): a remembered key still replays,
        a new one is refused. The rest go in one directory call, and their fresh events are counted
        against the quota they were decided by."""
    quota = _quota_refusal(caller)
    request_id = connection.state.request_id
    if caller.session is not None:  # `me` stands for the session's player in a batch or on the stream
        asks = [replace(ask, player_id=caller.session.player_id) if ask.player_id == "me" else ask for ask in asks]
    outcomes: list[Outcome | None] = []
    requests: list[CommandRequest] = []
    for ask in asks:
        refusal = _session_refusal(caller, ask)
        if refusal is not None:
            outcomes.append(Outcome.refused(refusal))
        elif ask.command.scope not in caller.key.scopes:
            outcomes.append(Outcome.refused(missing_scope(ask.command.scope)))
        elif quota is not None and ask.idempotency_key is None:
            outcomes.append(Outcome.refused(quota))
        else:
            outcomes.append(None)
            requests.append(
                CommandRequest(
                    caller.tenant, caller.project, ask.player_id, ask.command, ask.idempotency_key, request_id, quota
                )
            )
    throttled = await _operation_refusals(connection, caller, requests)
    if throttled:
        waiting = [index for index, outcome in enumerate(outcomes) if outcome is None]
        for index, sent in zip(waiting, requests, strict=True):
            if sent.command.op in throttled:
                outcomes[index] = Outcome.refused(throttled[sent.command.op])
        requests = [r for r in requests if r.command.op not in throttled]
    answered = await caller.backend.directory.execute(requests) if requests else []
    await caller.metering.count_events(caller.tenant, answered)
    answers = iter(answered)
    return [next(answers) if outcome is None else outcome for outcome in outcomes]


async def _operation_refusals(
    connection: HTTPConnection, caller: Caller, requests: Sequence[CommandRequest]
) -> dict[str, Refusal]:
    """The plan's per-operation limits (`operationRatesPerSecond`): each limited op's bucket,
    shared by the tenant's keys and sessions (and, with Redis, by every replica), gives a token
    per command of the call. An op short of tokens has all its commands of this call refused
    with 429 `rate-limited` (the call's other ops go on): a batch's purchases are taken together,
    as a batch's commands are from the key's bucket."""
    rates = operation_rates(caller.plan)
    if not rates:
        return {}
    counts = Counter(r.command.op for r in requests if r.command.op in rates)
    refusals: dict[str, Refusal] = {}
    for op, count in counts.items():
        decision = await connection.app.state.rate_limiter.hit(
            f"{OPERATION_PREFIX}{caller.tenant}:{op}", rates[op], cost=count
        )
        if not decision.allowed:
            seconds = decision.retry_after_s
            detail = f"the plan allows {rates[op]} '{op}' commands a second (burst {decision.limit}) to this tenant"
            refusals[op] = Refusal(
                "rate-limited", detail, {"operation": op, "retryAfterS": seconds}, {"Retry-After": str(seconds)}
            )
    return refusals


def _session_refusal(caller: Caller, ask: Ask) -> Refusal | None:
    """A player session may act on its own player only (403 `not-your-player`), and send only
    the ops its project's client policy allows (403 `not-client-callable`); keys: no refusal."""
    session = caller.session
    if session is None:
        return None
    if not is_own_player(session.player_id, ask.player_id):
        return Refusal.of(NotYourPlayerError())
    try:
        check_client_callable(caller.client_allow, ask.command.op)
    except NotClientCallableError as error:
        return Refusal.of(error)
    return None


def _quota_refusal(caller: Caller) -> Refusal | None:
    """`quota-exceeded` (with the seconds until next month, UTC) once the tenant's plan quota
    for the month is used up, by the usage counted when the call was admitted."""
    refusal = caller.metering.refusal(caller.plan, caller.usage)
    if refusal is None:
        return None
    seconds = refusal.retry_after_s
    return Refusal("quota-exceeded", refusal.detail, {"retryAfterS": seconds}, {"Retry-After": str(seconds)})


async def execute_command(
    request: Request, caller: Caller, player_id: str, command: Command, body_key: str | None = None
) -> Outcome:
    """A single HTTP call's command (its key from the header, else the body), through `execute`."""
    (outcome,) = await execute(request, caller, [Ask(player_id, command, idempotency_key(request, body_key))])
    return outcome


async def run_command(
    request: Request, caller: Caller, player_id: str, command: Command, body_key: str | None = None
) -> Response:
    return outcome_response(request, await execute_command(request, caller, player_id, command, body_key))


async def run_ops(connection: HTTPConnection, caller: Caller, ops: Sequence[BatchOp]) -> list[dict[str, Any]]:
    """The answers of a batch's commands, or of a group of the stream's, in order, through
    `execute` (`outcome_result`). The caller has been admitted (and charged) for every op."""
    outcomes = await execute(connection, caller, [Ask(op.playerId, op.command(), op.idempotencyKey) for op in ops])
    return [outcome_result(connection, outcome) for outcome in outcomes]


async def run_view(request: Request, caller: Caller, player_id: str, name: str) -> Any:
    return await player_view(caller.backend, caller.tenant, caller.project, player_id, name)
