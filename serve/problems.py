"""RFC 9457 problem+json, in one place: every `DomainError` (engine rejections, control-plane,
account, webhook and transport errors) and every refused `Outcome` becomes a problem here. One
table maps each slug to an HTTP status, so handlers never choose statuses themselves."""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pymongo.errors import PyMongoError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import HTTPConnection

from actors.committer import EntityUnavailableError
from actors.documents import ContentionError
from engine.domain_error import DomainError, NamedError
from engine.limits import MetadataError
from engine.outcomes import Refusal

log = logging.getLogger("ludex.http")
PROBLEM_BASE = "https://ludex.dev/problems/"
PROBLEM_JSON = "application/problem+json"

STATUS_BY_SLUG: dict[str, int] = {
    "bad-request": 400,
    "missing-tenant": 400,
    "malformed-json": 400,
    "missing-api-key": 401,
    "invalid-api-key": 401,
    "missing-token": 401,
    "invalid-token": 401,
    "invalid-credentials": 401,
    "totp-required": 401,
    "invalid-totp": 401,
    "token-reused": 401,
    "refresh-token-reused": 401,
    "forbidden": 403,
    "wrong-project": 403,
    "insufficient-scope": 403,
    "plan-limit": 403,
    "tenant-suspended": 403,
    "tenant-read-only": 403,
    "not-your-player": 403,
    "not-client-callable": 403,
    "player-banned": 403,
    "device-sign-in-disabled": 403,
    "origin-not-allowed": 403,
    "not-found": 404,
    "tenant-not-found": 404,
    "plan-not-found": 404,
    "api-key-not-found": 404,
    "webhook-not-found": 404,
    "delivery-not-found": 404,
    "project-not-found": 404,
    "player-not-found": 404,
    "purchase-not-found": 404,
    "unknown-sku": 404,
    "unknown-counter": 404,
    "unknown-quest": 404,
    "leaderboard-not-found": 404,
    "period-not-found": 404,
    "not-ranked": 404,
    "method-not-allowed": 405,
    "payload-too-large": 413,
    "player-exists": 409,
    "economy-not-defined": 409,
    "email-taken": 409,
    "tenant-exists": 409,
    "plan-exists": 409,
    "plan-in-use": 409,
    "invalid-transition": 409,
    "deletion-not-scheduled": 409,
    "project-exists": 409,
    "api-key-revoked": 409,
    "webhook-inactive": 409,
    "insufficient-funds": 409,
    "insufficient-items": 409,
    "stack-limit": 409,
    "balance-limit": 409,
    "xp-limit": 409,
    "counter-limit": 409,
    "boost-limit": 409,
    "quest-completed": 409,
    "not-submittable": 409,
    "device-linked": 409,
    "validation-error": 422,
    "invalid-amount": 422,
    "invalid-field": 422,
    "invalid-cursor": 422,
    "unknown-currency": 422,
    "unknown-item": 422,
    "unknown-objective": 422,
    "idempotency-key-reused": 422,
    "invalid-definition": 422,
    "economy-unsafe": 422,
    "webhook-url-refused": 422,
    "weak-password": 422,
    "rate-limited": 429,
    "quota-exceeded": 429,
    "login-throttled": 429,
    "guardrail-tripped": 429,
    "internal-error": 500,
    "entity-unavailable": 503,
    "store-unavailable": 503,
    "not-ready": 503,
    "starting": 503,  # answered by the placeholder while `ludex serve` starts (`serve/starting.py`)
}


PROBLEM_SCHEMA = {"$ref": "#/components/schemas/Problem"}
_MEANINGS = {
    400: "Bad request: a missing `x-tenant-id` (`missing-tenant`) or a body that is not JSON (`malformed-json`).",
    401: "Missing, unknown, revoked or expired credentials.",
    403: "The credentials may not do this here (scope, project, role or plan; a player session: "
    "`not-your-player`, `not-client-callable`, `player-banned`).",
    404: "The resource does not exist for this tenant (other tenants' resources are never revealed).",
    409: "Refused by the state of the resource (e.g. `insufficient-funds`, `player-exists`).",
    413: "The request body is over the limit (`payload-too-large`).",
    422: "The request is not valid (`validation-error` with `errors[]`, or a domain rule such as "
    "`unknown-currency` or `idempotency-key-reused`).",
    429: "Too many requests: `rate-limited` (key, tenant, or the plan's limit of one op, named in `operation`), "
    "`quota-exceeded` (the plan's month) or "
    "`login-throttled`, or `guardrail-tripped` (an economy guardrail, named in `guardrail`); "
    "`Retry-After` says when to try again.",
    503: "A store or shard host is briefly unavailable (`store-unavailable`, `entity-unavailable`, "
    "`not-ready`), or the server is starting (`starting`); nothing changed, retry after `Retry-After`.",
}
_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before retrying.", "schema": {"type": "string"}}}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a route: every problem status it can answer, documented as RFC 9457
    `application/problem+json` (503 always: any store may be briefly away)."""
    return {
        status: {
            "description": _MEANINGS[status],
            "content": {PROBLEM_JSON: {"schema": PROBLEM_SCHEMA}},
            **({"headers": _RETRY_AFTER} if status in (429, 503) else {}),
        }
        for status in sorted({*statuses, 503})
    }


def title_of(slug: str) -> str:
    return slug.replace("-", " ").capitalize()


class ProblemError(NamedError):
    """Raised anywhere in a handler to answer with a problem; `errors` names the fields at fault."""

    def __init__(
        self,
        slug: str,
        detail: str,
        *,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        if slug not in STATUS_BY_SLUG:
            raise KeyError(f"no status for problem '{slug}': add it to STATUS_BY_SLUG")
        super().__init__(slug, detail, {"errors": errors} if errors else {}, headers)

    @property
    def status(self) -> int:
        return STATUS_BY_SLUG[self.slug]

    @property
    def errors(self) -> list[dict[str, str]] | None:
        errors: list[dict[str, str]] | None = self.data.get("errors")
        return errors


Problematic = DomainError | Refusal
"""Anything with a slug, detail, data and headers: a raised error or a host's refusal."""


def status_of(error: Problematic) -> int:
    return STATUS_BY_SLUG.get(error.slug, 500)


def field_errors(error: Problematic) -> list[dict[str, str]] | None:
    """The `errors[]` of a problem: given explicitly, the fields of an invalid definition, or the
    one field a 422 rejection names."""
    data = error.data
    if data.get("errors"):
        return list(data["errors"])
    if data.get("problems"):
        return [{"field": path, "message": message} for path, message in data["problems"]]
    if data.get("field") and status_of(error) == 422:
        return [{"field": str(data["field"]), "message": error.detail}]
    return None


def problem_of(request: HTTPConnection, error: Problematic) -> dict[str, Any]:
    """The problem+json body of a domain error or refusal."""
    data = error.data
    return problem_body(
        error.slug,
        error.detail,
        request,
        errors=field_errors(error),
        findings=data.get("findings"),
        operation=data.get("operation"),
        guardrail=data.get("guardrail"),
    )


def problem_headers(error: Problematic) -> dict[str, str]:
    headers = dict(error.headers)
    if "retryAfterS" in error.data:  # a refusal replayed from its stored form keeps its Retry-After
        headers.setdefault("Retry-After", str(error.data["retryAfterS"]))
    if status_of(error) == 503:
        headers.setdefault("Retry-After", "1")
    return headers


def problem_body(slug: str, detail: str, request: HTTPConnection, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + slug,
        "title": title_of(slug),
        "status": STATUS_BY_SLUG.get(slug, 500),
        "detail": detail,
        "instance": request.url.path,
        "requestId": getattr(request.state, "request_id", None),
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


def problem_response(request: Request, error: Problematic, headers: Mapping[str, str] | None = None) -> JSONResponse:
    """The one way a problem is answered (plus any `headers` of the answer itself)."""
    all_headers = {**problem_headers(error), **(headers or {})}
    return JSONResponse(
        problem_of(request, error), status_code=status_of(error), media_type=PROBLEM_JSON, headers=all_headers
    )


def _field(location: tuple[Any, ...]) -> str:
    parts = [str(p) for p in location if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def _validation_error(issue: Mapping[str, Any]) -> dict[str, str]:
    """One `errors[]` entry; metadata problems name the path inside the metadata."""
    field, message = _field(tuple(issue.get("loc", ()))), str(issue.get("msg"))
    error = (issue.get("ctx") or {}).get("error")
    if isinstance(error, MetadataError):
        message = error.message
        if error.path:
            field = f"{field}{'' if error.path.startswith('[') else '.'}{error.path}"
    return {"field": field, "message": message}


def validation_problem(issues: Sequence[Mapping[str, Any]]) -> ProblemError:
    """422 `validation-error` naming each field, from pydantic's issues (HTTP bodies and the
    realtime command stream's messages alike)."""
    errors = [_validation_error(issue) for issue in issues]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return ProblemError("validation-error", detail, errors=errors)


def allowed_methods(request: Request) -> list[str]:
    """Every method the OpenAPI gives this path (Starlette's 405 names only the first matching
    route's, and one path often has several routes: GET and POST of a collection)."""
    index: list[tuple[re.Pattern[str], list[str]]] | None = getattr(request.app.state, "allowed_methods", None)
    if index is None:
        index = [
            (re.compile(re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path))), [m.upper() for m in operations])
            for path, operations in request.app.openapi()["paths"].items()
        ]
        request.app.state.allowed_methods = index
    path = request.url.path
    return sorted({method for pattern, methods in index if pattern.fullmatch(path) for method in methods})


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def on_problem(request: Request, error: DomainError) -> JSONResponse:
        return problem_response(request, error)

    @app.exception_handler(RequestValidationError)
    async def on_invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        issues = error.errors()
        if any(issue.get("type") == "json_invalid" for issue in issues):
            return problem_response(request, ProblemError("malformed-json", "the request body is not valid JSON"))
        return problem_response(request, validation_problem(issues))

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        slug = {404: "not-found", 405: "method-not-allowed", 413: "payload-too-large"}.get(
            error.status_code, "bad-request"
        )
        if error.status_code == 400 and "parsing the body" in str(error.detail):
            slug = "malformed-json"
        headers = dict(error.headers or {})
        if error.status_code == 405 and (methods := allowed_methods(request)):
            headers["Allow"] = ", ".join(methods)
        return problem_response(request, ProblemError(slug, str(error.detail), headers=headers))

    @app.exception_handler(PyMongoError)
    @app.exception_handler(sqlite3.OperationalError)
    @app.exception_handler(ContentionError)
    async def on_store_unavailable(request: Request, error: Exception) -> JSONResponse:
        """A store that timed out, is locked or contended: retryable, and said so."""
        log.warning("store unavailable for %s: %s", request.url.path, error)
        return problem_response(request, ProblemError("store-unavailable", "the store did not answer in time; retry"))

    @app.exception_handler(EntityUnavailableError)
    async def on_unavailable(request: Request, error: EntityUnavailableError) -> JSONResponse:
        return problem_response(request, ProblemError("entity-unavailable", f"{error}; retry shortly"))

    @app.exception_handler(Exception)
    async def on_crash(request: Request, error: Exception) -> JSONResponse:
        return problem_response(request, ProblemError("internal-error", "an unexpected error occurred"))
