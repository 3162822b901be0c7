"""Request and response bodies of the game API, with the examples the OpenAPI shows. Request
bodies forbid unknown fields: a typo is a 422, not a silently ignored field."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from engine import commands as c
from engine.limits import MAX_AMOUNT, MAX_METADATA_BYTES, MAX_METADATA_DEPTH, MAX_SAFE_INTEGER, check_metadata
from engine.rules import MAX_PURCHASE_QUANTITY, MAX_USERNAME_LENGTH

ID = r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}$"
Id = Annotated[str, Field(pattern=ID, description="An id: letters, digits and `_.:@-`, at most 64 characters.")]


def whole_number(value: Any) -> Any:
    """JSON has one number type, and JSON Schema counts `2.0` as the integer 2: accept it as 2,
    while strings and booleans stay refused (the fields are strict)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


Whole = BeforeValidator(whole_number)
Amount = Annotated[int, Whole, Field(strict=True, ge=1, le=MAX_AMOUNT, description="A positive integer.")]
Quantity = Annotated[int, Whole, Field(strict=True, ge=1, le=MAX_PURCHASE_QUANTITY)]
Reason = Annotated[str, Field(max_length=200, description="Why, for the ledger and the event.")]
IdempotencyKey = Annotated[
    str | None,
    Field(
        min_length=1,
        max_length=255,
        description="Alternative to the Idempotency-Key header (the header wins).",
    ),
]


def _plain_json(value: dict[str, Any]) -> dict[str, Any]:
    """Refused here, with the path inside the metadata, rather than by the engine after a trip
    to the shard host (which refuses it too, for callers that skip this layer)."""
    check_metadata(value)
    return value


Metadata = Annotated[
    dict[str, Any],
    AfterValidator(_plain_json),
    Field(
        description=(
            f"Free-form JSON object kept with the record: at most {MAX_METADATA_BYTES} bytes, "
            f"{MAX_METADATA_DEPTH} levels deep, integers within ±{MAX_SAFE_INTEGER}, finite numbers, "
            "keys not starting with `$` nor containing `.`."
        )
    ),
]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CreatePlayer(Request):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"playerId": "player-1", "username": "ada"}]}
    )
    playerId: Id | None = None
    username: Annotated[str, Field(min_length=1, max_length=MAX_USERNAME_LENGTH)]
    metadata: Metadata = {}
    idempotencyKey: IdempotencyKey = None


class UpdatePlayer(Request):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"username": "ada-lovelace"}]})
    username: Annotated[str | None, Field(min_length=1, max_length=MAX_USERNAME_LENGTH)] = None
    metadata: Metadata | None = None


class AwardXp(Request):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"amount": 150, "reason": "match-won"}]})
    amount: Amount
    reason: Reason = ""
    idempotencyKey: IdempotencyKey = None


class WalletChange(Request):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"currency": "coins", "amount": 100, "reason": "daily-bonus"}]}
    )
    currency: Id
    amount: Amount
    reason: Reason = ""
    metadata: Metadata = {}
    idempotencyKey: IdempotencyKey = None


class ItemChange(Request):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"itemId": "potion", "quantity": 2}]})
    itemId: Id
    quantity: Amount
    idempotencyKey: IdempotencyKey = None


class CounterIncrement(Request):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"by": 1}]})
    by: Amount = 1
    idempotencyKey: IdempotencyKey = None


class QuestProgress(Request):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"objectiveId": "battles", "by": 1}]})
    objectiveId: Id
    by: Amount = 1
    idempotencyKey: IdempotencyKey = None


class PurchaseRequest(Request):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"sku": "potion-pack", "quantity": 1}]})
    sku: Id
    quantity: Quantity = 1
    idempotencyKey: IdempotencyKey = None


# ------------------------------------------------------------------------------------------ batch


class BatchOp(Request):
    """One command of a batch or of the command stream: the player, an optional key, and the op's
    fields, which `command()` turns into the engine command (whose `scope` the key needs)."""

    playerId: Id
    idempotencyKey: IdempotencyKey = None

    def command(self) -> c.Command:
        raise NotImplementedError


class XpOp(BatchOp):
    op: Literal["xp"]
    amount: Amount
    reason: Reason = ""

    def command(self) -> c.Command:
        return c.AwardXp(self.amount, self.reason)


class CreditOp(BatchOp):
    op: Literal["credit"]
    currency: Id
    amount: Amount
    reason: Reason = ""
    metadata: Metadata = {}

    def command(self) -> c.Command:
        return c.Credit(self.currency, self.amount, self.reason, self.metadata)


class DebitOp(BatchOp):
    op: Literal["debit"]
    currency: Id
    amount: Amount
    reason: Reason = ""
    metadata: Metadata = {}

    def command(self) -> c.Command:
        return c.Debit(self.currency, self.amount, self.reason, self.metadata)


class GrantOp(BatchOp):
    op: Literal["grant"]
    itemId: Id
    quantity: Amount

    def command(self) -> c.Command:
        return c.GrantItem(self.itemId, self.quantity)


class ConsumeOp(BatchOp):
    op: Literal["consume"]
    itemId: Id
    quantity: Amount

    def command(self) -> c.Command:
        return c.ConsumeItem(self.itemId, self.quantity)


class IncrementOp(BatchOp):
    op: Literal["increment"]
    counterId: Id
    by: Amount = 1

    def command(self) -> c.Command:
        return c.IncrementCounter(self.counterId, self.by)


class PurchaseOp(BatchOp):
    op: Literal["purchase"]
    sku: Id
    quantity: Quantity = 1

    def command(self) -> c.Command:
        return c.Purchase(self.sku, self.quantity)


BatchCommand = Annotated[
    XpOp | CreditOp | DebitOp | GrantOp | ConsumeOp | IncrementOp | PurchaseOp, Field(discriminator="op")
]


class Batch(Request):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "commands": [
                        {"op": "xp", "playerId": "player-1", "idempotencyKey": "m-1-xp", "amount": 50},
                        {
                            "op": "credit",
                            "playerId": "player-1",
                            "idempotencyKey": "m-1-c",
                            "currency": "coins",
                            "amount": 10,
                        },
                    ]
                }
            ]
        },
    )
    commands: Annotated[list[BatchCommand], Field(min_length=1, max_length=500)]


# ------------------------------------------------------------------------------------- responses


class Player(BaseModel):
    playerId: str
    username: str
    metadata: dict[str, Any]
    createdAt: str | None
    updatedAt: str | None


class PlayerSummary(Player):
    """A player as the player index lists it: enough to find and sort, not the whole profile."""

    level: int
    xp: int


class PlayerPage(BaseModel):
    items: list[PlayerSummary]
    nextCursor: str | None


class InventoryLine(BaseModel):
    itemId: str
    quantity: int


class Unlocked(BaseModel):
    achievementId: str
    unlockedAt: str


class ObjectiveState(BaseModel):
    objectiveId: str
    progress: int
    target: int


class QuestState(BaseModel):
    questId: str
    title: str
    objectives: list[ObjectiveState]
    completed: bool
    completedAt: str | None


class Quests(BaseModel):
    active: list[QuestState]
    completed: list[QuestState]


class ActiveBoost(BaseModel):
    """A running boost from a consumed item (docs/ECONOMY.md "Item effects")."""

    metric: str = Field(description="`xp` or `currency:<id>`.", examples=["xp"])
    multiplier: float = Field(description="Later XP or credits of the metric are multiplied by it, rounded down.")
    endsAt: str


class Profile(Player):
    level: int
    xp: int
    nextLevelXp: int | None
    wallet: dict[str, int]
    debts: dict[str, int] | None = Field(
        default=None,
        exclude_if=lambda v: not v,
        description="What remediations could not take back, per currency; later credits pay it first. Absent: none.",
    )
    inventory: list[InventoryLine]
    achievements: list[Unlocked]
    quests: Quests
    counters: dict[str, int]
    boosts: list[ActiveBoost] = Field(default_factory=list, description="The boosts still running, soonest end first.")


class XpResult(BaseModel):
    xp: int
    level: int
    leveledUp: bool
    levelsGained: int
    nextLevelXp: int | None


class Progression(BaseModel):
    xp: int
    level: int
    currentLevelXp: int | None
    nextLevelXp: int | None


class Wallet(BaseModel):
    balances: dict[str, int]
    debts: dict[str, int] | None = Field(
        default=None,
        exclude_if=lambda v: not v,
        description="What remediations could not take back, per currency; later credits pay it first. Absent: none.",
    )


class WalletResult(BaseModel):
    currency: str
    balance: int
    entryId: str


class LedgerEntry(BaseModel):
    entryId: str
    currency: str
    delta: int
    balanceAfter: int
    debtAfter: int | None = Field(
        default=None, exclude_if=lambda v: v is None, description="Clawbacks and debt repayments: the debt after."
    )
    reason: str
    metadata: dict[str, Any]
    idempotencyKey: str | None
    occurredAt: str


class LedgerPage(BaseModel):
    items: list[LedgerEntry]
    nextCursor: str | None


class Inventory(BaseModel):
    items: list[InventoryLine]


class Counters(BaseModel):
    counters: dict[str, int]


class CounterResult(BaseModel):
    counterId: str
    value: int
    unlocked: list[str] = []


class Achievements(BaseModel):
    items: list[Unlocked]


class ItemGrant(BaseModel):
    itemId: str
    quantity: int


class SkuGrants(BaseModel):
    xp: int | None = None
    items: list[ItemGrant] | None = None
    currencies: dict[str, int] | None = None


class Sku(BaseModel):
    sku: str
    title: str
    price: dict[str, int]
    grants: SkuGrants
    bundle: bool


class Catalog(BaseModel):
    items: list[Sku]


class Receipt(BaseModel):
    purchaseId: str
    sku: str
    quantity: int
    price: dict[str, int]
    grants: SkuGrants
    balances: dict[str, int]
    occurredAt: str


class Problem(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    instance: str
    requestId: str | None
    errors: list[dict[str, str]] | None = None
    operation: str | None = Field(None, description="`rate-limited` by the plan's limit of this op.")
    guardrail: str | None = Field(None, description="`guardrail-tripped`: the id of the economy's guardrail.")


class BatchResult(BaseModel):
    ok: bool
    status: int
    body: dict[str, Any] | None = None
    problem: Problem | None = None
    retryAfterS: int | None = None
    replayed: bool = False


class BatchResults(BaseModel):
    results: list[BatchResult]


class Health(BaseModel):
    status: str
    shards: int | None = None
