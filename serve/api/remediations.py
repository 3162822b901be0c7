"""`/v1/client/projects/{projectId}/remediations`: take an exploit back from the journal. A dry
run previews the compensating entries per player with totals; an apply answers 202 at once and
runs in this replica's background (`actors.remediation.run`), its progress readable by id. A
remediation whose runner died (its lease lapsed) resumes when it is next read. Every apply and
its end are audited. Permission `economy:remediate` (owners, developers, platform admins)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Response
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from actors import remediation as rem
from engine.remediation import Selection
from engine.rules import rfc3339
from serve.api_key_auth import ID_PATTERN
from serve.backoffice import InProject, in_project
from serve.pagination import Cursor, Limit, decode_cursor, encode_cursor
from serve.problems import ProblemError, problem_responses

router = APIRouter(prefix="/v1/client/projects/{projectId}/remediations", tags=["client"])
Remediator = Annotated[InProject, in_project("economy:remediate")]
RemediationId = Annotated[str, Path(pattern=r"^rem_[0-9a-f]{16}$", examples=["rem_0123456789abcdef"])]
ERRORS = problem_responses(400, 401, 403, 404, 422, 429)
_TASKS: set[asyncio.Task[None]] = set()  # running remediations, kept from the garbage collector


class Select(BaseModel):
    model_config = ConfigDict(extra="forbid")
    from_: AwareDatetime = Field(alias="from", description="Records at or after this moment.")
    to: AwareDatetime = Field(description="Records before this moment.")
    op: Annotated[str | None, Field(max_length=32, description="Only commands of this op (`purchase`).")] = None
    sku: Annotated[str | None, Field(max_length=64)] = None
    reason: Annotated[str | None, Field(max_length=200)] = None
    idempotencyKeyPrefix: Annotated[str | None, Field(min_length=1, max_length=255)] = None
    requestId: Annotated[str | None, Field(max_length=128)] = None
    playerIds: Annotated[list[Annotated[str, Field(pattern=ID_PATTERN)]] | None, Field(max_length=1000)] = None


class RemediationIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "select": {"from": "2026-03-01T10:00:00Z", "to": "2026-03-01T11:00:00Z", "sku": "starter-bundle"},
                    "action": "clawback",
                    "dryRun": True,
                }
            ]
        },
    )
    select: Select
    action: Literal["clawback", "revoke"]
    dryRun: bool = True


class RemediationPreview(BaseModel):
    players: int
    entries: list[dict[str, Any]] = Field(
        description="`{playerId, currency | itemId | achievementId, amount, balanceAfter, debt}`;"
        " a positive amount is taken back, a negative one returned."
    )
    totals: dict[str, Any]


class RemediationStarted(BaseModel):
    remediationId: str


class Remediation(BaseModel):
    remediationId: str
    action: str
    select: dict[str, Any]
    status: Literal["running", "succeeded", "failed"]
    progress: dict[str, int] = Field(description="`{done, total, failed}` players.")
    totals: dict[str, Any]
    failures: list[dict[str, Any]]
    createdAt: str


class RemediationPage(BaseModel):
    items: list[Remediation]
    nextCursor: str | None


def _selection(select: Select) -> Selection:
    if select.to <= select.from_:
        raise ProblemError("validation-error", "select.to must be after select.from", errors=[{"field": "select.to"}])
    return Selection(
        rfc3339(select.from_),
        rfc3339(select.to),
        select.op,
        select.sku,
        select.reason,
        select.idempotencyKeyPrefix,
        select.requestId,
        None if select.playerIds is None else frozenset(select.playerIds),
    )


def _start(acting: InProject, document: dict[str, Any]) -> None:
    """Runs the remediation in this replica's background, auditing its end."""

    async def run() -> None:
        await rem.run(acting.backend.store, acting.backend.directory.execute, document, acting.request.state.request_id)
        finished = await acting.backend.store.get_document(
            rem.KIND, rem.doc_id(acting.tenant, acting.project, document["id"])
        )
        if finished is not None:
            await acting.record("remediation.finish", f"{acting.project}/{document['id']}", before=None, after=finished)

    task = asyncio.get_running_loop().create_task(run())
    _TASKS.add(task)
    task.add_done_callback(_TASKS.discard)


@router.post(
    "",
    response_model=RemediationPreview | RemediationStarted,
    responses={**ERRORS, 202: {"model": RemediationStarted}},
    summary="Preview or apply a remediation",
)
async def remediate(body: RemediationIn, acting: Remediator) -> Response:
    """`dryRun: true` (the default): the compensating entries and totals, nothing changed.
    `dryRun: false`: 202 with the id to follow; the entries are applied as journaled,
    idempotent commands. A clawback never makes a balance negative: the rest is debt."""
    selection = _selection(body.select)
    try:
        found = await rem.dry_run(acting.backend.store, acting.tenant, acting.project, selection, body.action)
    except rem.TooManyPlayersError:
        raise ProblemError(
            "validation-error",
            f"the selection reaches more than {rem.MAX_PLAYERS} players; narrow it",
            errors=[{"field": "select"}],
        ) from None
    if body.dryRun:
        preview = RemediationPreview(players=len(found.plans), entries=found.entries, totals=found.totals)
        return JSONResponse(preview.model_dump())
    remediation_id = rem.new_id()
    select = body.select.model_dump(mode="json", by_alias=True, exclude_none=True)
    document = rem.new_document(
        acting.tenant, acting.project, remediation_id, select, body.action, found, rfc3339(datetime.now(UTC))
    )
    await acting.backend.store.put_document(
        rem.KIND, rem.doc_id(acting.tenant, acting.project, remediation_id), document
    )
    audit = {"id": remediation_id, "action": body.action, "select": select, "players": len(found.plans)}
    await acting.record(
        "remediation.apply", f"{acting.project}/{remediation_id}", before=None, after={**audit, "totals": found.totals}
    )
    _start(acting, document)
    return JSONResponse({"remediationId": remediation_id}, status_code=202)


@router.get("/{remediationId}", response_model=Remediation, responses=ERRORS, summary="Get a remediation")
async def get_remediation(remediationId: RemediationId, acting: Remediator) -> Remediation:
    """Status, progress and totals. A running one whose runner is gone resumes here."""
    key = rem.doc_id(acting.tenant, acting.project, remediationId)
    document = await acting.backend.store.get_document(rem.KIND, key)
    if document is None:
        raise ProblemError("not-found", f"no remediation {remediationId} in this project")
    claimed = await rem.claim(acting.backend.store, key, stale_only=True)
    if claimed is not None:
        _start(acting, claimed)
        document = claimed
    return Remediation(**rem.public(document))


@router.get("", response_model=RemediationPage, responses=ERRORS, summary="List remediations")
async def list_remediations(acting: Remediator, cursor: Cursor = None, limit: Limit = 50) -> RemediationPage:
    """The project's remediations by id."""
    after = decode_cursor(cursor, None)
    if after is not None and not isinstance(after, str):
        raise ProblemError("invalid-cursor", "the cursor is not one this API returned")
    prefix = rem.doc_id(acting.tenant, acting.project, "")
    found = await acting.backend.store.list_documents(
        rem.KIND, tenant=acting.tenant, after=after or prefix, limit=limit + 1
    )
    mine = [d for d in found if d.get("projectId") == acting.project]
    page = mine[:limit]
    more = len(mine) > limit
    next_cursor = encode_cursor(rem.doc_id(acting.tenant, acting.project, page[-1]["id"])) if more else None
    return RemediationPage(items=[Remediation(**rem.public(d)) for d in page], nextCursor=next_cursor)
