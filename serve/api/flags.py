"""Feature flags: a player's evaluated flags for the game (`players:read`), and the project's
overrides for the backoffice (`economy:read` / `economy:write`). Rules live in `engine.flags`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from actors.flag_overrides import read_overrides, write_overrides
from engine.flags import FlagValue, override_problems, with_overrides
from engine.limits import MAX_SAFE_INTEGER
from engine.rules import rfc3339
from serve.api_key_auth import Caller, PlayerId, require
from serve.backoffice import InProject, in_project
from serve.commanding import run_view
from serve.problems import ProblemError, problem_responses

router = APIRouter(tags=["flags"])
Reader = Annotated[Caller, Depends(require("players:read"))]
ERRORS = problem_responses(400, 401, 403, 404, 422, 429)


class PlayerFlags(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"flags": {"doubleXp": False, "shopVariant": "b"}}]})
    flags: dict[str, FlagValue] = Field(description="Every flag of the project's economy, evaluated for the player.")


class FlagOverrides(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"overrides": {"newShop": True}, "updatedAt": "2026-03-01T12:00:00.000Z", "updatedBy": "ops@acme.dev"}
            ]
        }
    )
    overrides: dict[str, FlagValue] = Field(description="Values that replace the evaluated ones for every player.")
    updatedAt: str | None = None
    updatedBy: str | None = Field(None, description="Who saved them last.")


FlagName = Annotated[str, Field(min_length=1)]
OverrideValue = bool | Annotated[int, Field(ge=-MAX_SAFE_INTEGER, le=MAX_SAFE_INTEGER)] | str


class FlagOverridesUpdate(BaseModel):
    """What the schema can say of an override is said here, so that a body it allows is refused
    only by a rule it cannot state: the flag must be one of the economy's, of the flag's type."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"overrides": {"newShop": True}}]})
    overrides: dict[FlagName, OverrideValue] = Field(
        description="The whole set: flags left out lose their override. Each names a flag of the economy"
        " (422 `validation-error` otherwise) and has the flag's type; integers within ±(2^53 - 1)."
    )


@router.get(
    "/v1/projects/{projectId}/players/{playerId}/flags",
    response_model=PlayerFlags,
    responses=problem_responses(400, 401, 403, 404, 422, 429),
    summary="Get a player's feature flags",
)
async def get_player_flags(request: Request, playerId: PlayerId, caller: Reader) -> PlayerFlags:
    """Every flag of the economy for this player: rollouts bucket players stably by id, targeting
    rules look at the level, achievements and metadata, and the project's overrides win."""
    evaluated = await run_view(request, caller, playerId, "flags")
    overrides = await read_overrides(caller.backend.store, caller.tenant, caller.project)
    return PlayerFlags(flags=with_overrides(evaluated["flags"], overrides["overrides"]))


@router.get(
    "/v1/client/projects/{projectId}/flags/overrides",
    response_model=FlagOverrides,
    responses=ERRORS,
    summary="Get the project's flag overrides",
)
async def get_flag_overrides(acting: Annotated[InProject, in_project("economy:read")]) -> FlagOverrides:
    """The values that replace evaluated flags for every player of the project."""
    return FlagOverrides(**await read_overrides(acting.backend.store, acting.tenant, acting.project))


@router.put(
    "/v1/client/projects/{projectId}/flags/overrides",
    response_model=FlagOverrides,
    responses=ERRORS,
    summary="Replace the project's flag overrides",
)
async def put_flag_overrides(
    body: FlagOverridesUpdate, acting: Annotated[InProject, in_project("economy:write")]
) -> FlagOverrides:
    """Replaces the set whole (`{}` clears it). Each override must name a flag of the current
    economy and have that flag's type (a boolean flag takes booleans; integers within ±(2^53 - 1)),
    else 422 `validation-error` naming `overrides.<flagId>`; it applies from the next flags read."""
    store, tenant, project = acting.backend.store, acting.tenant, acting.project
    economy = await acting.backend.directory.economy_document(tenant, project)
    problems = override_problems(body.overrides, (economy or {}).get("featureFlags", {}))
    if problems:
        errors = [{"field": where, "message": message} for where, message in problems]
        raise ProblemError("validation-error", f"{problems[0][0]}: {problems[0][1]}", errors=errors)
    before = await read_overrides(store, tenant, project)
    now = rfc3339(datetime.now(UTC))
    saved = await write_overrides(
        store, tenant, project, body.overrides, updated_at=now, updated_by=acting.principal.email
    )
    await acting.record("flags.override", project, before=before, after=saved)
    return FlagOverrides(**saved)
