"""`/v1/client`: the studios' backoffice — projects, API keys and economy definitions of the
tenant named by `x-tenant-id`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Path, Query, Response
from starlette.concurrency import run_in_threadpool

from engine.access import SCOPE_DESCRIPTIONS, is_usable
from engine.access import ApiKey as StoredKey
from engine.definitions import DefinitionError
from engine.domain_error import NamedError
from engine.economy_diff import diff_economies
from engine.economy_verify import Finding as Found
from engine.economy_verify import verify_document
from engine.errors import InvalidDefinitionError, Rejection
from engine.project import ProjectState, define_economy
from engine.rbac import Principal, can
from engine.rules import rfc3339
from serve.api_key_auth import ID_PATTERN
from serve.backoffice import InProject, InTenant, in_project, in_tenant
from serve.backoffice_schemas import (
    ApiKey,
    ApiKeyCreated,
    ApiKeyIn,
    ApiKeyList,
    Economy,
    EconomyChange,
    EconomyDiff,
    EconomyDiffIn,
    EconomyFindings,
    Finding,
    Project,
    ProjectIn,
    ProjectPage,
    ProjectPatch,
    ScopeInfo,
    ScopeList,
)
from serve.pagination import SORT_SCAN_LIMIT, Cursor, Limit, Sort, sorted_page
from serve.problems import ProblemError, problem_responses
from serve.sorting import KeySort

router = APIRouter(prefix="/v1/client", tags=["client"])
KeyId = Annotated[str, Path(pattern=ID_PATTERN, examples=["key_1a2b3c4d5e6f"])]
ERRORS = problem_responses(400, 401, 403, 404, 409, 422, 429)
ROTATION_GRACE_S = 24 * 3600.0


def _key(key: StoredKey) -> ApiKey:
    return ApiKey(
        id=key.id,
        prefix=key.prefix,
        name=key.name,
        scopes=list(key.scopes),
        expiresAt=key.expires_at,
        createdAt=key.created_at,
        revokedAt=key.revoked_at,
        rateLimitPerSecond=key.rate_limit_per_second,
    )


@router.get("/projects", response_model=ProjectPage, responses=ERRORS, summary="List projects")
async def list_projects(
    acting: Annotated[InTenant, in_tenant("projects:read")],
    q: Annotated[str | None, Query(max_length=120, description="Substring of id or name.")] = None,
    sort: Sort = "id",
    cursor: Cursor = None,
    limit: Limit = 50,
) -> ProjectPage:
    """The tenant's projects in the order asked for; members limited to some projects see only those."""
    tenant = acting.tenant
    found = await acting.control.list_projects(tenant, after=None, limit=SORT_SCAN_LIMIT, query=q)
    visible = [p for p in found if _sees(acting.principal, tenant, p["id"])]
    page, next_cursor = sorted_page(visible, sort, cursor, limit)
    return ProjectPage(items=[Project(**p) for p in page], nextCursor=next_cursor)


def _sees(principal: Principal, tenant: str, project: str) -> bool:
    return can(principal, "projects:read", tenant, project)


@router.get("/scopes", response_model=ScopeList, responses=ERRORS, summary="List API key scopes")
async def list_scopes(acting: Annotated[InTenant, in_tenant("api-keys:read")]) -> ScopeList:
    """The scopes an API key may be given, with what each allows: the dashboard builds its key
    form from this answer rather than from a copy of the list."""
    return ScopeList(
        items=[
            ScopeInfo.model_validate({"id": scope, "description": text}) for scope, text in SCOPE_DESCRIPTIONS.items()
        ]
    )


@router.post("/projects", status_code=201, response_model=Project, responses=ERRORS, summary="Create a project")
async def create_project(body: ProjectIn, acting: Annotated[InTenant, in_tenant("projects:write")]) -> Project:
    """A new project; give it an economy with `PUT .../economy` before game calls."""
    project = await acting.control.create_project(acting.tenant, body.id, body.name)
    await acting.record("project.create", body.id, before=None, after=project)
    return Project(**project)


@router.get("/projects/{projectId}", response_model=Project, responses=ERRORS, summary="Get a project")
async def get_project(acting: Annotated[InProject, in_project("projects:read", live=False)]) -> Project:
    """One project of the tenant."""
    return Project(**await acting.control.live_project(acting.tenant, acting.project))


@router.patch("/projects/{projectId}", response_model=Project, responses=ERRORS, summary="Rename a project")
async def update_project(
    body: ProjectPatch, acting: Annotated[InProject, in_project("projects:write", live=False)]
) -> Project:
    """Changes the project's display name."""
    before, after = await acting.control.update_project(acting.tenant, acting.project, {"name": body.name})
    await acting.record("project.update", acting.project, before=before, after=after)
    return Project(**after)


@router.delete("/projects/{projectId}", status_code=204, responses=ERRORS, summary="Delete a project")
async def delete_project(acting: Annotated[InProject, in_project("projects:write", live=False)]) -> Response:
    """Soft delete: the project answers 404 from then on, including to its API keys."""
    before, _ = await acting.control.update_project(acting.tenant, acting.project, {"deleted": True})
    await acting.record("project.delete", acting.project, before=before, after=None)
    return Response(status_code=204)


@router.post(
    "/projects/{projectId}/api-keys",
    status_code=201,
    response_model=ApiKeyCreated,
    responses=ERRORS,
    summary="Create an API key",
)
async def create_api_key(body: ApiKeyIn, acting: Annotated[InProject, in_project("api-keys:write")]) -> ApiKeyCreated:
    """The answer holds `apiKey`, the secret: it is never shown again (only a hash is kept). A
    suspended tenant gets no new key (403 `tenant-suspended`). With `endsWithSession`, signing out
    of the dashboard session that made it revokes it."""
    key, token = await acting.control.create_api_key(
        acting.tenant,
        acting.project,
        body.name,
        tuple(body.scopes),
        expires_at=None if body.expiresAt is None else rfc3339(body.expiresAt),
        rate_limit_per_second=body.rateLimitPerSecond,
    )
    session = acting.principal.session_id
    if body.endsWithSession and session is not None:
        await acting.control.end_with_session(session, key.id)
    await acting.record("api-key.create", key.id, before=None, after=key.to_document())
    return ApiKeyCreated(**_key(key).model_dump(), apiKey=token)


KeyStatus = Annotated[
    Literal["active", "revoked", "expired"] | None,
    Query(description="Only keys in this state (`active`: neither revoked nor expired)."),
]


@router.get("/projects/{projectId}/api-keys", response_model=ApiKeyList, responses=ERRORS, summary="List API keys")
async def list_api_keys(
    acting: Annotated[InProject, in_project("api-keys:read")],
    status: KeyStatus = None,
    q: Annotated[str | None, Query(max_length=120, description="Case-insensitive substring of the name.")] = None,
    sort: KeySort = None,
) -> ApiKeyList:
    """The project's keys without their secrets, revoked and expired ones included unless
    `status` says otherwise, in creation order or `sort`'s."""
    now = datetime.now(UTC)
    stored = await acting.control.list_api_keys(acting.tenant, acting.project)
    kept = [_key(k) for k in stored if (status is None or _key_status(k, now) == status) and _named(k, q)]
    if sort is not None:
        by_id = {k.id: k for k in kept}
        ordered, _ = sorted_page([k.model_dump() for k in kept], sort, None, len(kept) or 1)
        kept = [by_id[k["id"]] for k in ordered]
    return ApiKeyList(items=kept)


def _key_status(key: StoredKey, now: datetime) -> str:
    if key.revoked_at is not None:
        return "revoked"
    return "active" if is_usable(key, now) else "expired"


def _named(key: StoredKey, query: str | None) -> bool:
    return query is None or query.lower() in key.name.lower()


@router.post(
    "/projects/{projectId}/api-keys/{keyId}/rotate",
    status_code=201,
    response_model=ApiKeyCreated,
    responses=ERRORS,
    summary="Rotate an API key",
)
async def rotate_api_key(
    keyId: KeyId, acting: Annotated[InProject, in_project("api-keys:write", live=False)]
) -> ApiKeyCreated:
    """A new key with the same name, scopes and limits; the old key keeps working for 24 hours.
    A suspended tenant gets no new key (403 `tenant-suspended`)."""
    key, token = await acting.control.rotate_api_key(acting.tenant, acting.project, keyId, ROTATION_GRACE_S)
    await acting.record("api-key.rotate", keyId, before=None, after=key.to_document())
    return ApiKeyCreated(**_key(key).model_dump(), apiKey=token)


@router.post(
    "/projects/{projectId}/api-keys/{keyId}/revoke",
    response_model=ApiKey,
    responses=ERRORS,
    summary="Revoke an API key",
)
async def revoke_api_key(
    keyId: KeyId, acting: Annotated[InProject, in_project("api-keys:write", live=False)]
) -> ApiKey:
    """The key answers 401 from the next call on, on every replica (keys are never cached)."""
    await acting.control.api_key_of(acting.tenant, acting.project, keyId)
    revoked = await acting.control.revoke_api_key(keyId)
    assert revoked is not None
    await acting.record("api-key.revoke", keyId, before=None, after=revoked.to_document())
    return _key(revoked)


@router.get("/projects/{projectId}/economy", response_model=Economy, responses=ERRORS, summary="Get the economy")
async def get_economy(acting: Annotated[InProject, in_project("economy:read")]) -> Economy:
    """The current definitions (currencies, items, SKUs, XP curve, quests, ...) and their version."""
    directory = acting.backend.directory
    document = await directory.economy_document(acting.tenant, acting.project)
    if document is None:
        raise ProblemError("not-found", "this project has no economy defined yet")
    version = await directory.economy_version(acting.tenant, acting.project)
    return Economy(version=version, document=document)


@router.put(
    "/projects/{projectId}/economy", response_model=EconomyChange, responses=ERRORS, summary="Replace the economy"
)
async def put_economy(
    acting: Annotated[InProject, in_project("economy:write")],
    document: Annotated[
        dict[str, Any],
        Body(
            examples=[
                {
                    "currencies": [{"id": "coins", "kind": "soft"}],
                    "items": [{"id": "potion", "stackLimit": 99}],
                    "xpCurve": {"levels": [0, 100, 250]},
                }
            ]
        ),
    ],
    dryRun: Annotated[bool, Query(description="Validate and answer the changes; store and audit nothing.")] = False,
    force: Annotated[
        bool, Query(description="Publish despite `error` findings of the verifier; audited as `economy.force`.")
    ] = False,
) -> EconomyChange:
    """Validates and installs a new version; shard hosts use it from their next command, without
    a restart. A bad definition is 422 `invalid-definition` naming the path of every bad field.
    `changes` lists what differs from the published version (`engine/economy_diff.py`);
    `findings` what the verifier found (`engine/economy_verify.py`). A document with an `error`
    finding is 422 `economy-unsafe` (the findings in the problem) unless `force=true`, and a
    forced publish is audited (`economy.force`: the number of findings and errors). With
    `dryRun=true` the same checks run and the same answer comes back, but nothing is stored and
    nothing is audited (the audit log records changes, and a dry run makes none)."""
    directory = acting.backend.directory
    before = await directory.economy_document(acting.tenant, acting.project)
    found = await run_in_threadpool(_verified, document)  # up to a second of CPU: off the event loop
    errors = [finding for finding in found if finding.severity == "error"]
    if errors and not force:
        raise NamedError(
            "economy-unsafe",
            f"the verifier found {len(errors)} error(s); fix them or publish with ?force=true: "
            + "; ".join(f"{finding.path}: {finding.message}" for finding in errors),
            {
                "findings": [finding.to_document() for finding in found],
                "errors": [{"field": finding.path, "message": finding.message} for finding in errors],
            },
        )
    findings = [Finding.model_validate(finding.to_document()) for finding in found]
    if dryRun:
        current = await directory.economy_version(acting.tenant, acting.project)
        checked = define_economy(ProjectState(version=current), document)
        if isinstance(checked, Rejection):
            raise checked
        changes = diff_economies(before, document)
        return EconomyChange(
            version=checked["data"]["version"], document=document, changes=changes, dryRun=True, findings=findings
        )
    outcome = await directory.define_economy(acting.tenant, acting.project, document)
    if outcome.refusal is not None:
        raise outcome.refusal.as_error()
    version = outcome.body["version"]
    await acting.record("economy.define", acting.project, before=before, after=document)
    if errors:
        forced = {"forced": True, "version": version, "findings": len(found), "errors": len(errors)}
        await acting.record("economy.force", acting.project, before=None, after=forced)
    changes = diff_economies(before, document)
    return EconomyChange(version=version, document=document, changes=changes, dryRun=False, findings=findings)


def _verified(document: dict[str, Any]) -> list[Found]:
    """The verifier's findings; an invalid document is `invalid-definition`, as the PUT says."""
    try:
        return verify_document(document)
    except DefinitionError as error:
        raise InvalidDefinitionError(error.problems) from None


@router.post(
    "/projects/{projectId}/economy/verify",
    response_model=EconomyFindings,
    responses=ERRORS,
    summary="Verify an economy",
)
async def verify_economy(
    acting: Annotated[InProject, in_project("economy:read")],
    document: Annotated[
        dict[str, Any],
        Body(
            examples=[
                {
                    "currencies": [{"id": "coins", "kind": "soft"}],
                    "xpCurve": {"levels": [0, 100]},
                    "skus": [{"sku": "hat", "price": {"coins": 10}}],
                }
            ]
        ),
    ],
) -> EconomyFindings:
    """What the verifier finds in `document` (docs/ECONOMY.md, "Verification"): arbitrage loops,
    reward loops, unreachable content, currencies without a sink, what a player can earn. The
    dashboard's editor calls it as the designer types. Stores nothing; an invalid document is 422
    `invalid-definition`."""
    found = await run_in_threadpool(_verified, document)
    return EconomyFindings(findings=[Finding.model_validate(finding.to_document()) for finding in found])


@router.post(
    "/projects/{projectId}/economy/diff", response_model=EconomyDiff, responses=ERRORS, summary="Compare two economies"
)
async def diff_economy(body: EconomyDiffIn, acting: Annotated[InProject, in_project("economy:read")]) -> EconomyDiff:
    """What changes from `before` to `after`, as `PUT .../economy` would report it
    (`engine/economy_diff.py`): the dashboard shows each published version's changes with it
    instead of diffing on its own. Stores nothing; documents need not be valid."""
    return EconomyDiff(changes=diff_economies(body.before, body.after))
