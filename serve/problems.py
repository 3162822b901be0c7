"""RFC 9457 problem+json. One table maps every rejection slug to an HTTP status, so handlers
never choose statuses themselves."""

from __future__ import annotations

import logging
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
from actors.ingress.control_plane import ControlError
from engine.limits import MetadataError

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
    "forbidden": 403,
    "wrong-project": 403,
    "insufficient-scope": 403,
    "plan-limit": 403,
    "tenant-suspended": 403,
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
    "email-taken": 409,
    "tenant-exists": 409,
    "plan-exists": 409,
    "plan-in-use": 409,
    "project-exists": 409,
    "api-key-revoked": 409,
    "webhook-inactive": 409,
    "insufficient-funds": 409,
    "insufficient-items": 409,
    "stack-limit": 409,
    "balance-limit": 409,
    "xp-limit": 409,
    "counter-limit": 409,
    "quest-completed": 409,
    "not-submittable": 409,
    "validation-error": 422,
    "invalid-amount": 422,
    "invalid-field": 422,
    "invalid-cursor": 422,
    "unknown-currency": 422,
    "unknown-item": 422,
    "unknown-objective": 422,
    "idempotency-key-reused": 422,
    "invalid-definition": 422,
    "webhook-url-refused": 422,
    "weak-password": 422,
    "rate-limited": 429,
    "quota-exceeded": 429,
    "login-throttled": 429,
    "internal-error": 500,
    "entity-unavailable": 503,
    "store-unavailable": 503,
    "not-ready": 503,
}


def title_of(slug: str) -> str:
    return slug.replace("-", " ").capitalize()


class ProblemError(Exception):
    """Raised anywhere in a handler to answer with a problem."""

    def __init__(
        self,
        slug: str,
        detail: str,
        *,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.slug = slug
        self.status = STATUS_BY_SLUG[slug]
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}
        self.extra = extra or {}


def problem_body(slug: str, detail: str, request: HTTPConnection, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + slug,
        "title": title_of(slug),
        "status": STATUS_BY_SLUG[slug],
        "detail": detail,
        "instance": request.url.path,
        "requestId": getattr(request.state, "request_id", None),
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


def problem_response(request: Request, error: ProblemError) -> JSONResponse:
    headers = dict(error.headers)
    if error.status == 503:
        headers.setdefault("Retry-After", "1")
    body = problem_body(error.slug, error.detail, request, errors=error.errors, **error.extra)
    return JSONResponse(body, status_code=error.status, media_type=PROBLEM_JSON, headers=headers)


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


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(ProblemError)
    async def on_problem(request: Request, error: ProblemError) -> JSONResponse:
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
        return problem_response(request, ProblemError(slug, str(error.detail), headers=dict(error.headers or {})))

    @app.exception_handler(ControlError)
    async def on_control(request: Request, error: ControlError) -> JSONResponse:
        return problem_response(request, ProblemError(error.slug, error.detail))

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
