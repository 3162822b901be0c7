"""The store: the catalog of SKUs and purchases that debit and grant in one commit."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response

from engine import commands as c
from engine.errors import economy_missing_detail
from serve.api_key_auth import ID_PATTERN, Caller, PlayerId, require, require_to_run
from serve.commanding import IDEMPOTENT, run_command, run_view
from serve.problems import ProblemError, problem_responses
from serve.schemas import Catalog, PurchaseRequest, Receipt, Sku

router = APIRouter(prefix="/v1/projects/{projectId}", tags=["store"])
Reader = Annotated[Caller, Depends(require("players:read", sessions=True))]  # the catalog and boards: sessions too
Buyer = Annotated[Caller, Depends(require_to_run(c.Purchase))]
ERRORS = problem_responses(400, 401, 403, 404, 409, 422, 429)


async def _skus(caller: Caller) -> list[dict[str, Any]]:
    document = await caller.backend.directory.economy_document(caller.tenant, caller.project)
    if document is None:
        raise ProblemError("economy-not-defined", economy_missing_detail(caller.project))
    return [
        {
            "sku": s["sku"],
            "title": s["title"],
            "price": s["price"],
            "grants": s.get("grants", {}),
            "bundle": s["bundle"],
        }
        for s in document.get("skus", [])
    ]


@router.get(
    "/store/catalog",
    response_model=Catalog,
    response_model_exclude_none=True,
    responses=ERRORS,
    summary="List the catalog",
)
async def catalog(caller: Reader) -> Catalog:
    """Every SKU of the project: price, grants, and whether it is a bundle."""
    return Catalog(items=[Sku(**sku) for sku in await _skus(caller)])


@router.get(
    "/store/skus/{sku}", response_model=Sku, response_model_exclude_none=True, responses=ERRORS, summary="Get a SKU"
)
async def get_sku(sku: Annotated[str, Path(pattern=ID_PATTERN, examples=["potion-pack"])], caller: Reader) -> Sku:
    """One SKU; unknown SKU: 404 `unknown-sku`."""
    for item in await _skus(caller):
        if item["sku"] == sku:
            return Sku(**item)
    raise ProblemError("unknown-sku", f"SKU '{sku}' is not in this project's catalog")


@router.post(
    "/players/{playerId}/purchases",
    dependencies=IDEMPOTENT,
    status_code=201,
    response_model=Receipt,
    responses=ERRORS,
    summary="Buy a SKU",
)
async def purchase(request: Request, playerId: PlayerId, body: PurchaseRequest, caller: Buyer) -> Response:
    """Debits the price and applies every grant in one commit, or changes nothing
    (409 `insufficient-funds` or `stack-limit`)."""
    return await run_command(request, caller, playerId, c.Purchase(body.sku, body.quantity), body.idempotencyKey)


@router.get(
    "/players/{playerId}/purchases/{purchaseId}",
    response_model=Receipt,
    response_model_exclude_none=True,
    responses=ERRORS,
    summary="Get a receipt",
)
async def get_receipt(
    request: Request,
    playerId: PlayerId,
    purchaseId: Annotated[str, Path(max_length=128)],
    caller: Reader,
) -> Any:
    """The receipt of one purchase of this player, rebuilt from the journal."""
    await run_view(request, caller, playerId, "player")
    receipt = await caller.backend.directory.receipt(caller.tenant, caller.project, playerId, purchaseId)
    if receipt is None:
        raise ProblemError("purchase-not-found", f"player '{playerId}' has no purchase '{purchaseId}'")
    return receipt
