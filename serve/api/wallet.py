"""Wallet: balances, credits, debits and the ledger that explains them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from engine import commands as c
from serve.api_key_auth import Caller, PlayerId, require, require_to_run
from serve.commanding import IDEMPOTENT, run_command, run_view
from serve.pagination import Cursor, Limit
from serve.player_reads import ledger_page
from serve.problems import problem_responses
from serve.schemas import LedgerPage, Wallet, WalletChange, WalletResult

router = APIRouter(prefix="/v1/projects/{projectId}/players/{playerId}/wallet", tags=["wallet"])
Reader = Annotated[Caller, Depends(require("players:read"))]
Writer = Annotated[Caller, Depends(require_to_run(c.Credit, c.Debit))]
ERRORS = problem_responses(400, 401, 403, 404, 409, 422, 429)


@router.get("", response_model=Wallet, responses=ERRORS, summary="Get balances")
async def get_wallet(request: Request, playerId: PlayerId, caller: Reader) -> object:
    """Balances by currency; currencies never touched are absent (zero)."""
    return await run_view(request, caller, playerId, "wallet")


@router.post(
    "/credit", dependencies=IDEMPOTENT, response_model=WalletResult, responses=ERRORS, summary="Credit a currency"
)
async def credit(request: Request, playerId: PlayerId, body: WalletChange, caller: Writer) -> Response:
    """Adds to a balance. Unknown currency: 422 `unknown-currency`."""
    command = c.Credit(body.currency, body.amount, body.reason, body.metadata)
    return await run_command(request, caller, playerId, command, body.idempotencyKey)


@router.post(
    "/debit", dependencies=IDEMPOTENT, response_model=WalletResult, responses=ERRORS, summary="Debit a currency"
)
async def debit(request: Request, playerId: PlayerId, body: WalletChange, caller: Writer) -> Response:
    """Takes from a balance; never below zero (409 `insufficient-funds`, nothing changed)."""
    command = c.Debit(body.currency, body.amount, body.reason, body.metadata)
    return await run_command(request, caller, playerId, command, body.idempotencyKey)


@router.get("/history", response_model=LedgerPage, responses=ERRORS, summary="List ledger entries")
async def history(
    request: Request,
    playerId: PlayerId,
    caller: Reader,
    currency: Annotated[str | None, Query(max_length=64, description="Only this currency.")] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> LedgerPage:
    """Every credit and debit, oldest first; the deltas of all pages sum to the balance."""
    return await ledger_page(
        caller.backend, caller.tenant, caller.project, playerId, currency=currency, cursor=cursor, limit=limit
    )
