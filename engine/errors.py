"""Rejections: why a command changed nothing.

Each is a `DomainError`: it carries the data a caller needs to act on it and a stable `slug`;
the transport layer maps slugs to statuses in one table. They are exceptions so hosts may raise
them across process boundaries, but rules return them rather than raise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

from engine.domain_error import DomainError


@dataclass
class Rejection(DomainError):
    slug: ClassVar[str] = "rejected"

    @property
    def data(self) -> Mapping[str, Any]:
        return asdict(self)


@dataclass
class PlayerNotFoundError(Rejection):
    slug: ClassVar[str] = "player-not-found"
    player_id: str

    @property
    def detail(self) -> str:
        return f"player '{self.player_id}' does not exist"


@dataclass
class PlayerExistsError(Rejection):
    slug: ClassVar[str] = "player-exists"
    player_id: str

    @property
    def detail(self) -> str:
        return f"player '{self.player_id}' already exists with other attributes"


@dataclass
class InvalidAmountError(Rejection):
    slug: ClassVar[str] = "invalid-amount"
    field: str
    value: Any
    minimum: int
    maximum: int

    @property
    def detail(self) -> str:
        return f"{self.field} must be an integer from {self.minimum} to {self.maximum}, got {self.value!r}"


@dataclass
class InvalidFieldError(Rejection):
    slug: ClassVar[str] = "invalid-field"
    field: str
    message: str

    @property
    def detail(self) -> str:
        return f"{self.field}: {self.message}"


@dataclass
class UnknownCurrencyError(Rejection):
    slug: ClassVar[str] = "unknown-currency"
    currency: str

    @property
    def detail(self) -> str:
        return f"currency '{self.currency}' is not defined in this project"


@dataclass
class UnknownItemError(Rejection):
    slug: ClassVar[str] = "unknown-item"
    item_id: str

    @property
    def detail(self) -> str:
        return f"item '{self.item_id}' is not defined in this project"


@dataclass
class UnknownSkuError(Rejection):
    slug: ClassVar[str] = "unknown-sku"
    sku: str

    @property
    def detail(self) -> str:
        return f"SKU '{self.sku}' is not in this project's catalog"


@dataclass
class UnknownCounterError(Rejection):
    slug: ClassVar[str] = "unknown-counter"
    counter_id: str

    @property
    def detail(self) -> str:
        return f"counter '{self.counter_id}' is not defined in this project"


@dataclass
class UnknownQuestError(Rejection):
    slug: ClassVar[str] = "unknown-quest"
    quest_id: str

    @property
    def detail(self) -> str:
        return f"quest '{self.quest_id}' is not defined in this project"


@dataclass
class UnknownObjectiveError(Rejection):
    slug: ClassVar[str] = "unknown-objective"
    quest_id: str
    objective_id: str

    @property
    def detail(self) -> str:
        return f"quest '{self.quest_id}' has no objective '{self.objective_id}'"


@dataclass
class QuestCompletedError(Rejection):
    slug: ClassVar[str] = "quest-completed"
    quest_id: str

    @property
    def detail(self) -> str:
        return f"quest '{self.quest_id}' is already completed"


@dataclass
class InsufficientFundsError(Rejection):
    slug: ClassVar[str] = "insufficient-funds"
    currency: str
    balance: int
    amount: int

    @property
    def detail(self) -> str:
        return f"balance of {self.currency} is {self.balance}, {self.amount} needed"


@dataclass
class InsufficientItemsError(Rejection):
    slug: ClassVar[str] = "insufficient-items"
    item_id: str
    quantity: int
    requested: int

    @property
    def detail(self) -> str:
        return f"player holds {self.quantity} of '{self.item_id}', {self.requested} requested"


@dataclass
class StackLimitError(Rejection):
    slug: ClassVar[str] = "stack-limit"
    item_id: str
    stack_limit: int
    quantity: int
    requested: int

    @property
    def detail(self) -> str:
        return (
            f"'{self.item_id}' stacks to {self.stack_limit}; player holds {self.quantity}"
            f" and {self.requested} more would exceed it"
        )


@dataclass
class BalanceLimitError(Rejection):
    slug: ClassVar[str] = "balance-limit"
    currency: str
    balance: int
    amount: int
    limit: int

    @property
    def detail(self) -> str:
        return f"crediting {self.amount} {self.currency} would pass the balance limit {self.limit}"


@dataclass
class XpLimitError(Rejection):
    slug: ClassVar[str] = "xp-limit"
    xp: int
    amount: int
    limit: int

    @property
    def detail(self) -> str:
        return f"awarding {self.amount} XP to {self.xp} would pass the XP limit {self.limit}"


@dataclass
class CounterLimitError(Rejection):
    slug: ClassVar[str] = "counter-limit"
    counter_id: str
    value: int
    by: int
    limit: int

    @property
    def detail(self) -> str:
        return f"incrementing '{self.counter_id}' ({self.value}) by {self.by} would pass the counter limit {self.limit}"


@dataclass
class BoostLimitError(Rejection):
    """Consuming more boost units would make one boost run past the limit from now."""

    slug: ClassVar[str] = "boost-limit"
    item_id: str
    metric: str
    limit_s: int

    @property
    def detail(self) -> str:
        return f"consuming '{self.item_id}' would make the {self.metric} boost run more than {self.limit_s} s from now"


@dataclass
class IdempotencyKeyReusedError(Rejection):
    slug: ClassVar[str] = "idempotency-key-reused"
    idempotency_key: str

    @property
    def detail(self) -> str:
        return f"idempotency key '{self.idempotency_key}' was already used with a different request"


@dataclass
class InvalidDefinitionError(Rejection):
    slug: ClassVar[str] = "invalid-definition"
    problems: list[tuple[str, str]]

    @property
    def detail(self) -> str:
        return "; ".join(f"{path}: {message}" for path, message in self.problems)


def economy_missing_detail(project_id: str) -> str:
    return (
        f"project '{project_id}' has no economy defined yet: define it first"
        f" (PUT /v1/client/projects/{project_id}/economy or `ludex project apply FILE.yaml`)"
    )


@dataclass
class EconomyNotDefinedError(Rejection):
    """The project exists (its key was admitted) but has no economy: nothing can be decided yet."""

    slug: ClassVar[str] = "economy-not-defined"
    project_id: str

    @property
    def detail(self) -> str:
        return economy_missing_detail(self.project_id)


@dataclass
class UnknownLeaderboardError(Rejection):
    slug: ClassVar[str] = "leaderboard-not-found"
    board_id: str

    @property
    def detail(self) -> str:
        return f"leaderboard '{self.board_id}' is not defined in this project"


@dataclass
class LeaderboardNotSubmittedError(Rejection):
    slug: ClassVar[str] = "not-submittable"
    board_id: str
    metric: str

    @property
    def detail(self) -> str:
        return f"leaderboard '{self.board_id}' is fed by '{self.metric}', not by submitted scores"
