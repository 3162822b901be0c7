"""`GET /v1/projects/{projectId}/events`: a project's events from the event store, in their global
order, as JSON pages (`{items, nextCursor}`) or as a streamed NDJSON / CSV export.

Readers: a game API key with the `events:read` scope (`x-api-key`, the usual checks of
`serve.api_key_auth`, rate limit included) or a dashboard token (`Authorization: Bearer`, `serve.bearer_tokens`)
whose principal may `reports:read` on the tenant and project. An export reads the store a page at
a time while the response streams, so memory stays flat however many events match."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials

from actors.stores.base import EventFeed, EventQuery, EventRecord
from engine.rules import rfc3339
from serve.api_key_auth import ID_PATTERN, ProjectId, api_key_header, require, tenant_id
from serve.backoffice import Connected, on_project
from serve.bearer_tokens import accounts, bearer, current_principal
from serve.csv_cells import csv_rows
from serve.event_schemas import EVENT_EXAMPLE, EventPage
from serve.pagination import Cursor, Limit, decode_cursor, encode_cursor
from serve.problems import ProblemError, problem_responses
from serve.sorting import EventSort

router = APIRouter(prefix="/v1/projects/{projectId}", tags=["events"])
ERRORS = problem_responses(400, 401, 403, 404, 422, 429)
EXPORT_PAGE_SIZE = 1_000
MAX_TYPES = 50
NDJSON = "application/x-ndjson"
CSV = "text/csv; charset=utf-8"
CSV_COLUMNS = ("id", "type", "tenantId", "projectId", "playerId", "seq", "occurredAt", "data")
RFC3339 = re.compile(r"^(\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$", re.ASCII)
TYPE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$", re.ASCII)

NDJSON_EXAMPLE = orjson.dumps(EVENT_EXAMPLE).decode() + "\n"
CSV_EXAMPLE = (
    ",".join(CSV_COLUMNS)
    + "\r\n"
    + 'evt_5c1f0a8e2b7d44e19a3c6f10,wallet.credited,demo,demo,player-1,3,2026-03-01T12:00:00.000Z,"{""currency"":'
    + '""coins"",""amount"":100,""balanceAfter"":350,""reason"":""match-won"",""metadata"":{}}"\r\n'
)


@dataclass(frozen=True)
class EventReader:
    """Who may read which project's events, and from which store."""

    tenant: str
    project: str
    store: EventFeed


_key_reader = require("events:read")


async def event_reader(
    request: Request,
    projectId: ProjectId,
    tenant: Annotated[str, Depends(tenant_id)],
    token: Annotated[str | None, Depends(api_key_header)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    connected: Connected,
) -> EventReader:
    """An API key with `events:read` (checked first when present) or a dashboard token allowed
    `reports:read` on the project; neither → 401 `missing-api-key`."""
    if token:
        caller = await _key_reader(
            request=request, projectId=projectId, tenant=tenant, token=token, bearer=None, backend=connected
        )
        return EventReader(caller.tenant, caller.project, caller.backend.store)
    if credentials is not None and credentials.credentials:
        principal = await current_principal(request, credentials, await accounts(request))
        acting = await on_project(request, principal, connected, "reports:read", tenant, projectId)
        return EventReader(acting.tenant, acting.project, connected.store)
    raise ProblemError(
        "missing-api-key",
        "an x-api-key header with the 'events:read' scope or an Authorization: Bearer dashboard token is required",
    )


Reader = Annotated[EventReader, Depends(event_reader)]


def _invalid(field: str, message: str) -> ProblemError:
    return ProblemError("validation-error", f"{field}: {message}", errors=[{"field": field, "message": message}])


def instant(value: str | None, field: str) -> str | None:
    """An RFC 3339 time as the store's UTC millisecond string, rounded up to the next
    millisecond: stored times have millisecond precision, so `occurredAt >= instant(from)` and
    `occurredAt < instant(to)` select exactly the events in `[from, to)`."""
    if value is None:
        return None
    match = RFC3339.match(value)
    if match is None:
        raise _invalid(field, "must be an RFC 3339 date-time, e.g. 2026-03-01T00:00:00Z")
    base, fraction, offset = match.groups()
    try:
        moment = datetime.fromisoformat(base.upper() + ("+00:00" if offset in "Zz" else offset))
        nanoseconds = int((fraction or "").ljust(9, "0"))
        moment += timedelta(milliseconds=-(-nanoseconds // 1_000_000))
        return rfc3339(moment)
    except (ValueError, OverflowError) as error:
        raise _invalid(field, "must be an existing RFC 3339 date-time within years 1-9999") from error


def event_types(values: list[str] | None) -> tuple[str, ...] | None:
    """`type=a&type=b,c` → `("a", "b", "c")`, duplicates dropped; None when no type is given."""
    if not values:
        return None
    found: dict[str, None] = {}
    for value in values:
        for part in value.split(","):
            name = part.strip()
            if not name:
                continue
            if not TYPE_PATTERN.match(name):
                raise _invalid("type", f"'{name[:64]}' is not an event type (lowercase letters, digits and '_.-')")
            found[name] = None
    if not found:
        return None
    if len(found) > MAX_TYPES:
        raise _invalid("type", f"at most {MAX_TYPES} event types")
    return tuple(found)


def _position(cursor: str | None) -> int:
    after = decode_cursor(cursor, 0)
    if isinstance(after, bool) or not isinstance(after, int) or after < 0:
        raise ProblemError("invalid-cursor", "the cursor is not one this API returned")
    return after


def _ndjson(page: list[EventRecord]) -> bytes:
    return b"".join(orjson.dumps(record.public()) + b"\n" for record in page)


def _csv(page: list[EventRecord]) -> bytes:
    return csv_rows(
        [r.id, r.type, r.tenant, r.project, r.player_id, r.seq, r.occurred_at, orjson.dumps(r.data).decode()]
        for r in page
    ).encode()


async def export_events(
    store: EventFeed,
    query: EventQuery,
    format: Literal["ndjson", "csv"],
    *,
    after: int = 0,
    page_size: int = EXPORT_PAGE_SIZE,
) -> AsyncIterator[bytes]:
    """Every event matching `query` after position `after`, one chunk per store page: NDJSON
    (one Event per line) or CSV (a header row, then `data` as JSON in the last column). Only one
    page is held at a time."""
    encode = _ndjson if format == "ndjson" else _csv
    if format == "csv":
        yield (",".join(CSV_COLUMNS) + "\r\n").encode()
    while True:
        page = await store.read_events(query, after=after, limit=page_size)
        if page:
            yield encode(page)
            after = page[-1].position
        if len(page) < page_size:
            return


@router.get(
    "/events",
    response_model=EventPage,
    responses={
        200: {
            "description": "A page of events as JSON; with `format=ndjson` or `format=csv`, the whole export streamed.",
            "content": {
                NDJSON: {"schema": {"type": "string"}, "example": NDJSON_EXAMPLE},
                "text/csv": {"schema": {"type": "string"}, "example": CSV_EXAMPLE},
            },
        },
        **ERRORS,
    },
    summary="List or export events",
)
async def list_events(
    reader: Reader,
    types: Annotated[
        list[str] | None,
        Query(
            alias="type",
            description="Event types to keep; repeat the parameter or separate types with commas (any when absent).",
            examples=[["wallet.credited", "wallet.debited"]],
        ),
    ] = None,
    playerId: Annotated[
        str | None, Query(pattern=ID_PATTERN, description="Only this player's events.", examples=["player-1"])
    ] = None,
    from_: Annotated[
        str | None,
        Query(
            alias="from",
            max_length=64,
            description="RFC 3339 date-time: events that occurred at or after it.",
            examples=["2026-03-01T00:00:00Z"],
        ),
    ] = None,
    to: Annotated[
        str | None,
        Query(
            max_length=64,
            description="RFC 3339 date-time: events that occurred before it (exclusive).",
            examples=["2026-03-02T00:00:00Z"],
        ),
    ] = None,
    sort: EventSort = "position",
    cursor: Cursor = None,
    limit: Limit = 100,
    format: Annotated[
        Literal["json", "ndjson", "csv"],
        Query(description="`json` pages; `ndjson` and `csv` stream every matching event (no `limit`)."),
    ] = "json",
) -> Any:
    """The project's events in the order they were recorded (stable across pages and calls),
    filtered by type, player and a `[from, to)` time window. Pages follow `nextCursor`. With
    `format=ndjson` (`application/x-ndjson`, one Event per line) or `format=csv` (columns
    `id,type,tenantId,projectId,playerId,seq,occurredAt,data`, `data` as JSON) the answer is a
    streamed export of every matching event, starting after `cursor` if given and ignoring
    `limit`. Readers: an API key with the `events:read` scope, or a dashboard token of someone
    who may read the project's reports. Malformed times, a `from` not before `to` or an unknown
    cursor are 422. Events older than the deployment's retention are no longer listed.
    `sort=-position` lists (and exports) the newest first, through the same indexes."""
    since, until = instant(from_, "from"), instant(to, "to")
    if since is not None and until is not None and since >= until:
        raise _invalid("to", "must be after 'from'")
    query = EventQuery(
        tenant=reader.tenant,
        project=reader.project,
        types=event_types(types),
        player_id=playerId,
        since=since,
        until=until,
        newest_first=sort == "-position",
    )
    after = _position(cursor)
    if format != "json":
        extension = "ndjson" if format == "ndjson" else "csv"
        return StreamingResponse(
            export_events(reader.store, query, format, after=after),
            media_type=NDJSON if format == "ndjson" else CSV,
            headers={"Content-Disposition": f'attachment; filename="{reader.project}-events.{extension}"'},
        )
    rows = await reader.store.read_events(query, after=after, limit=limit + 1)
    page = rows[:limit]
    return {
        "items": [record.public() for record in page],
        "nextCursor": encode_cursor(page[-1].position) if len(rows) > limit else None,
    }
