"""Commands: what a caller asks of a player entity, as verbs. They carry only the request;
time, definitions and identity come from the `Context` passed to `rules.decide`. Each declares
the API-key scope it needs here, once: HTTP routes, batches and the command stream all read it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True)
class Command:
    """What every command names: its `op` (journal and batch) and the one API-key `scope`
    (`engine.access.SCOPES`) a caller needs to send it, over any transport."""

    op: ClassVar[str] = "command"
    scope: ClassVar[str]


@dataclass(frozen=True)
class CreatePlayer(Command):
    op: ClassVar[str] = "create"
    scope: ClassVar[str] = "players:write"
    username: str
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class UpdatePlayer(Command):
    op: ClassVar[str] = "update"
    scope: ClassVar[str] = "players:write"
    username: str | None = None
    metadata: dict[str, Any] | None = None


@dataclass(frozen=True)
class DeletePlayer(Command):
    op: ClassVar[str] = "delete"
    scope: ClassVar[str] = "players:write"


@dataclass(frozen=True)
class AwardXp(Command):
    op: ClassVar[str] = "xp"
    scope: ClassVar[str] = "players:write"
    amount: int
    reason: str = ""


@dataclass(frozen=True)
class Credit(Command):
    op: ClassVar[str] = "credit"
    scope: ClassVar[str] = "economy:write"
    currency: str
    amount: int
    reason: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Debit(Command):
    op: ClassVar[str] = "debit"
    scope: ClassVar[str] = "economy:write"
    currency: str
    amount: int
    reason: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class GrantItem(Command):
    op: ClassVar[str] = "grant"
    scope: ClassVar[str] = "economy:write"
    item_id: str
    quantity: int


@dataclass(frozen=True)
class ConsumeItem(Command):
    op: ClassVar[str] = "consume"
    scope: ClassVar[str] = "economy:write"
    item_id: str
    quantity: int


@dataclass(frozen=True)
class IncrementCounter(Command):
    op: ClassVar[str] = "increment"
    scope: ClassVar[str] = "players:write"
    counter_id: str
    by: int = 1


@dataclass(frozen=True)
class ResetCounter(Command):
    op: ClassVar[str] = "reset"
    scope: ClassVar[str] = "players:write"
    counter_id: str


@dataclass(frozen=True)
class ProgressQuest(Command):
    op: ClassVar[str] = "progress"
    scope: ClassVar[str] = "players:write"
    quest_id: str
    objective_id: str
    by: int = 1


@dataclass(frozen=True)
class Purchase(Command):
    op: ClassVar[str] = "purchase"
    scope: ClassVar[str] = "store:purchase"
    sku: str
    quantity: int = 1


@dataclass(frozen=True)
class SubmitScore(Command):
    """A score the game posts to a `submitted` leaderboard: journaled on the player, so the board
    can be rebuilt from the journal and a retried submission counts once."""

    op: ClassVar[str] = "score"
    scope: ClassVar[str] = "players:write"
    board_id: str
    score: int
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Remediate(Command):
    """A remediation's compensating entries for one player (`engine.remediation`): currencies
    and items to take back (positive) or return (negative), achievements to revoke, and the
    journal seqs it compensates (so a later selection skips them). Deliberately absent from
    `COMMAND_TYPES`: no batch, stream or client policy can name it; only the remediation
    runner sends it, through the host's normal pipeline."""

    op: ClassVar[str] = "remediate"
    scope: ClassVar[str] = "economy:write"
    remediation_id: str
    currencies: dict[str, int] = field(default_factory=dict)
    items: dict[str, int] = field(default_factory=dict)
    achievements: list[str] = field(default_factory=list)
    sources: list[int] = field(default_factory=list)


COMMAND_TYPES: dict[str, type[Command]] = {
    cls.op: cls
    for cls in (
        CreatePlayer,
        UpdatePlayer,
        DeletePlayer,
        AwardXp,
        Credit,
        Debit,
        GrantItem,
        ConsumeItem,
        IncrementCounter,
        ResetCounter,
        ProgressQuest,
        Purchase,
        SubmitScore,
    )
}


def command_to_dict(command: Command) -> dict[str, Any]:
    """The command's fields (its own values, not copies: this is for hashing and sending)."""
    return {"op": command.op, **command.__dict__}


def command_from_dict(document: dict[str, Any]) -> Command:
    fields = dict(document)
    return COMMAND_TYPES[fields.pop("op")](**fields)
