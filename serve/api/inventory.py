"""Inventory: items held, grants and consumption within stack limits."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from engine import commands as c
from serve.api_key_auth import Caller, PlayerId, require, require_to_run
from serve.commanding import IDEMPOTENT, run_command, run_view
from serve.problems import problem_responses
from serve.schemas import Inventory, InventoryLine, ItemChange

router = APIRouter(prefix="/v1/projects/{projectId}/players/{playerId}", tags=["inventory"])
Reader = Annotated[Caller, Depends(require("players:read"))]
Writer = Annotated[Caller, Depends(require_to_run(c.GrantItem, c.ConsumeItem))]
ERRORS = problem_responses(400, 401, 403, 404, 409, 422, 429)


@router.get("/inventory", response_model=Inventory, responses=ERRORS, summary="Get inventory")
async def get_inventory(request: Request, playerId: PlayerId, caller: Reader) -> object:
    """Items the player holds, by item id; items at zero are not listed."""
    return await run_view(request, caller, playerId, "inventory")


@router.post(
    "/items/grant", dependencies=IDEMPOTENT, response_model=InventoryLine, responses=ERRORS, summary="Grant items"
)
async def grant(request: Request, playerId: PlayerId, body: ItemChange, caller: Writer) -> Response:
    """Answers the new total; past the item's stack limit: 409 `stack-limit`, nothing changed."""
    return await run_command(request, caller, playerId, c.GrantItem(body.itemId, body.quantity), body.idempotencyKey)


@router.post(
    "/items/consume", dependencies=IDEMPOTENT, response_model=InventoryLine, responses=ERRORS, summary="Consume items"
)
async def consume(request: Request, playerId: PlayerId, body: ItemChange, caller: Writer) -> Response:
    """Answers the new total; more than held: 409 `insufficient-items`, nothing changed."""
    command = c.ConsumeItem(body.itemId, body.quantity)
    return await run_command(request, caller, playerId, command, body.idempotencyKey)
