"""`/v1/admin/shards`: the shard hosts of a running deployment, scaled while it serves."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from serve.backoffice import Acting, allowed
from serve.problems import ProblemError, problem_responses
from serve.shard_schemas import ShardScaleIn, ShardStatus

router = APIRouter(prefix="/v1/admin/shards", tags=["admin"])
ERRORS = problem_responses(400, 401, 403, 422, 429, 503)


@router.get("", response_model=ShardStatus, responses=ERRORS, summary="Get the shard hosts")
async def get_shards(acting: Annotated[Acting, allowed("shards:read")]) -> ShardStatus:
    """The shard hosts, how many slots each owns, and what the last rebalance did."""
    return ShardStatus(**await acting.backend.directory.describe())  # a coordinator restarting: 503


@router.put("", response_model=ShardStatus, responses=ERRORS, summary="Scale the shard hosts")
async def scale_shards(body: ShardScaleIn, acting: Annotated[Acting, allowed("shards:write")]) -> ShardStatus:
    """Runs `hosts` shard hosts while serving: new hosts start and take a fair share of the
    slots, removed ones hand theirs over and stop. Answers once every slot has moved
    (docs/SCALING.md); the same count again moves nothing. More hosts than this deployment holds
    (`LUDEX_MAX_SHARD_HOSTS`) or than it has slots answers 422 at once, before any host starts:
    hosts Ray cannot start would otherwise hold the call until the client gives up."""
    directory = acting.backend.directory
    before = await directory.describe()
    most = min(before["slots"], acting.backend.settings.max_shard_hosts)
    if body.hosts > most:
        why = "one slot each" if most == before["slots"] else "LUDEX_MAX_SHARD_HOSTS"
        raise ProblemError(
            "validation-error",
            f"at most {most} hosts on this deployment ({why})",
            errors=[{"field": "hosts", "message": f"must be at most {most}"}],
        )
    after = await directory.scale(body.hosts)
    await acting.record("shards.scale", "shards", before={"hosts": before["hosts"]}, after={"hosts": after["hosts"]})
    return ShardStatus(**after)
