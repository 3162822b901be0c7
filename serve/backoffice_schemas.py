"""Request and response bodies of the backoffice (`/v1/admin`, `/v1/client`)."""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from engine.access import SCOPES
from engine.commands import COMMAND_TYPES
from engine.tenant_lifecycle import STATES
from serve.schemas import Id, Whole

Name = Annotated[str, Field(min_length=1, max_length=120)]
Quota = Annotated[int | None, Field(strict=True, ge=0, le=10**15, description="None: unlimited."), Whole]
Scope = Literal["players:read", "players:write", "economy:write", "store:purchase", "events:read", "realtime"]
assert set(get_args(Scope)) == set(SCOPES), "the API's scopes are engine.access.SCOPES"
Operation = Literal[
    "create", "update", "delete", "xp", "credit", "debit", "grant", "consume", "increment", "reset", "progress",
    "purchase", "score",
]  # fmt: skip
assert set(get_args(Operation)) == set(COMMAND_TYPES), "the limitable ops are engine.commands.COMMAND_TYPES"
OperationRates = Annotated[
    dict[Operation, Annotated[int, Field(strict=True, ge=1, le=10**9)]] | None,
    Field(
        description="Per-operation limits for the whole tenant: commands a second of each op (a burst of "
        "twice that), beside the key's and the tenant's request rates. None: no such limit."
    ),
]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TenantIn(Body):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"id": "acme", "name": "Acme Games"}]})
    id: Id
    name: Name
    planId: Id = "free"
    trialEndsAt: AwareDatetime | None = Field(default=None, description="Starts the tenant in a trial ending then.")


class TenantPatch(Body):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"planId": "studio"}]})
    name: Name | None = None
    planId: Id | None = None
    suspended: bool | None = Field(
        strict=True,
        default=None,
        description="A suspended tenant's API keys answer 403 `tenant-suspended`; its data stays. "
        "The same as `POST .../state` with `suspended` or `active`.",
    )
    paymentOnFile: bool | None = Field(
        strict=True, default=None, description="Set by the billing system: an ended trial becomes active."
    )


TenantState = Literal["trial", "active", "past-due", "read-only", "suspended"]
assert set(get_args(TenantState)) == set(STATES), "the lifecycle's states are engine.tenant_lifecycle.STATES"


class Tenant(BaseModel):
    id: str
    name: str
    planId: str | None = None
    suspended: bool = False
    state: TenantState = Field(default="active", description="Where the tenant is in its lifecycle, now.")
    trialEndsAt: str | None = Field(default=None, description="A trial's end.")
    graceEndsAt: str | None = Field(default=None, description="A past-due tenant's grace end: read-only from then.")
    stateChangedAt: str | None = None
    paymentOnFile: bool = False
    deletionDueAt: str | None = Field(default=None, description="When a scheduled deletion removes its data.")
    createdAt: str
    updatedAt: str | None = None


class TenantStateIn(Body):
    """An operator's lifecycle move (docs/TENANTS.md has the allowed ones)."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"state": "suspended", "reason": "chargeback"}]}
    )
    state: TenantState
    trialEndsAt: AwareDatetime | None = Field(default=None, description="Required to start or extend a trial.")
    graceDays: float | None = Field(default=None, ge=0, le=365, description="A past-due grace; default the plan's.")
    reason: str | None = Field(default=None, max_length=500, description="Sent with the billing hook.")


class TenantDeletionIn(Body):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"waitingDays": 30}]})
    waitingDays: float = Field(default=30, ge=0, le=365, description="How long it can still be cancelled.")


class TenantDeletion(BaseModel):
    tenantId: str
    status: Literal["scheduled", "cancelled", "done"]
    deletionDueAt: str | None = None
    removed: dict[str, int] = Field(default_factory=dict, description="What a done deletion removed, by kind.")
    backupsStillHolding: list[str] = Field(
        default_factory=list, description="Scheduled backups taken before it: they age out by LUDEX_BACKUP_KEEP."
    )
    scheduledAt: str | None = None
    cancelledAt: str | None = None
    doneAt: str | None = None


RetentionDaysField = Annotated[float | None, Field(gt=0, le=36_500, description="Days; null: inherit.")]


class RetentionSetting(Body):
    """A tenant's or plan's retention; a field left out (or null) inherits (tenant → plan →
    platform). The journal, the ledger, is never purged."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"eventsDays": 30, "deliveriesDays": 7}]})
    eventsDays: RetentionDaysField = None
    deliveriesDays: RetentionDaysField = None
    idempotencyDays: RetentionDaysField = None


class RetentionDays(BaseModel):
    eventsDays: float | None = Field(description="null: every event is kept.")
    deliveriesDays: float
    idempotencyDays: float


class RetentionBoundsOut(BaseModel):
    floorDays: float | None
    ceilingDays: float | None


class TenantRetention(BaseModel):
    """What a tenant keeps, and why: its own setting, its plan's, the platform's, the bounds."""

    tenantId: str
    own: RetentionSetting | None
    plan: RetentionSetting | None
    platform: RetentionDays
    bounds: RetentionBoundsOut
    effective: RetentionDays


class TenantPage(BaseModel):
    items: list[Tenant]
    nextCursor: str | None


class PlanIn(Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id": "pro",
                    "name": "Pro",
                    "requestsPerMonth": 10_000_000,
                    "eventsPerMonth": 5_000_000,
                    "players": 100_000,
                    "projects": 5,
                    "apiRequestsPerSecond": 500,
                    "operationRatesPerSecond": {"purchase": 20, "credit": 100},
                }
            ]
        },
    )
    id: Id
    name: Name
    requestsPerMonth: Quota = None
    eventsPerMonth: Quota = None
    players: Quota = None
    projects: Quota = None
    apiRequestsPerSecond: Quota = None
    operationRatesPerSecond: OperationRates = None
    retention: RetentionSetting | None = None


class PlanReplacement(PlanIn):
    """`PUT /v1/admin/plans/{planId}`: the path names the plan, so a body read from `GET` can be
    sent back as it is; its `id` is optional and not used (a different one renames nothing)."""

    id: Id | None = Field(None, description="Not used: the path names the plan.")  # type: ignore[assignment]


class Plan(BaseModel):
    id: str
    name: str
    requestsPerMonth: int | None = None
    eventsPerMonth: int | None = None
    players: int | None = None
    projects: int | None = None
    apiRequestsPerSecond: int | None = None
    operationRatesPerSecond: dict[str, int] | None = None
    retention: RetentionSetting | None = None


class PlanList(BaseModel):
    items: list[Plan]


class ProjectIn(Body):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"id": "space-race", "name": "Space Race"}]}
    )
    id: Id
    name: Name


class ProjectPatch(Body):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"name": "Space Race 2"}]})
    name: Name


class Project(BaseModel):
    id: str
    tenantId: str
    name: str
    createdAt: str
    updatedAt: str | None = None


class ProjectPage(BaseModel):
    items: list[Project]
    nextCursor: str | None


class ApiKeyIn(Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"name": "game-server", "scopes": ["players:read", "players:write"]}]},
    )
    name: Name
    scopes: Annotated[list[Scope], Field(min_length=1)]
    expiresAt: Annotated[AwareDatetime | None, Field(description="RFC 3339 with a zone; None: never.")] = None
    rateLimitPerSecond: Annotated[int | None, Field(strict=True, ge=1, le=100_000), Whole] = None
    endsWithSession: bool = Field(
        False,
        strict=True,
        description="Revoke the key when the dashboard session creating it signs out (`POST /v1/auth/logout`): "
        "the console's own key for its live feed.",
    )


class ApiKey(BaseModel):
    id: str
    prefix: str
    name: str
    scopes: list[str]
    expiresAt: str | None
    createdAt: str
    revokedAt: str | None = None
    rateLimitPerSecond: int | None = None


class ApiKeyCreated(ApiKey):
    apiKey: str = Field(description="The secret key: shown only in this answer.")


class ApiKeyList(BaseModel):
    items: list[ApiKey]


class Economy(BaseModel):
    version: int
    document: dict[str, Any]


class Finding(BaseModel):
    """One fault the verifier found in an economy (`engine/economy_verify.py`, docs/ECONOMY.md
    "Verification")."""

    kind: Literal["arbitrage", "reward-loop", "unreachable", "no-sink", "earn-bound"]
    severity: Literal["error", "warning", "info"] = Field(
        description="`error` refuses `PUT .../economy` unless `?force=true`."
    )
    path: str = Field(description="Where in the document, as validation errors name it.", examples=["skus[1]"])
    message: str
    cycle: list[str] | None = Field(
        default=None,
        description="`arbitrage`: the purchases of one round of the loop, then its net gain.",
        examples=[["buy gem-pack x10: pay 1000 coins, get 30 gems", "net per round: +500 coins"]],
    )


class EconomyFindings(BaseModel):
    findings: list[Finding]


class EconomyChange(Economy):
    """What `PUT .../economy` installed, or with `?dryRun=true` would install (`version` is then
    the version it would become), with the changes from the published version as a human
    reviews them (`engine/economy_diff.py`: defaults written out are no change) and what the
    verifier found in it."""

    changes: list[str] = Field(examples=[["+ currency gems (hard)", "~ item potion: stackLimit 99 -> 150"]])
    dryRun: bool = Field(description="True: nothing was stored and no audit entry was written.")
    findings: list[Finding] = Field(default_factory=list, description="The verifier's findings (`.../economy/verify`).")


class EconomyDiffIn(Body):
    """Two economy documents to compare, e.g. an audit entry's `before` and `after`."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "before": {"currencies": [{"id": "coins", "kind": "soft"}]},
                    "after": {"currencies": [{"id": "coins", "kind": "soft"}, {"id": "gems", "kind": "hard"}]},
                }
            ]
        },
    )

    before: dict[str, Any] | None = Field(default=None, description="None: no economy yet.")
    after: dict[str, Any]


class EconomyDiff(BaseModel):
    changes: list[str] = Field(examples=[["- item shield", "~ sku potion-pack: price {coins: 100} -> {coins: 120}"]])


class ScopeInfo(BaseModel):
    id: Scope
    description: str


class ScopeList(BaseModel):
    """Every scope an API key may hold (`engine.access.SCOPES`), in that order."""

    items: list[ScopeInfo]


class AuditEntry(BaseModel):
    id: str
    tenantId: str | None
    actor: str | None = Field(description="Who acted; null once an erasure forgot them (the hash stays).")
    action: str
    target: str
    before: Any
    after: Any
    requestId: str | None
    occurredAt: str
    seq: int | None = Field(None, description="Its place in the tenant's chain; null: written before the chain.")
    prev: str | None = Field(None, description="The hash of the entry before it in the chain.")
    hash: str | None = Field(None, description="SHA-256 over the entry (personal values salted) and `prev`.")


class AuditHead(BaseModel):
    """Where a tenant's audit chain ends: note it down (or compare it with one noted before) and
    `ludex audit verify` proves nothing before it changed."""

    tenantId: str | None = Field(description="The tenant; null: the platform's own chain.")
    seq: int = Field(description="How many entries the chain holds (0: none yet).")
    hash: str | None = Field(description="The last entry's hash.")
    entryId: str | None


class AuditPage(BaseModel):
    items: list[AuditEntry]
    nextCursor: str | None


class MembershipBody(BaseModel):
    tenantId: str
    role: Literal["owner", "developer", "analyst"]
    projects: Annotated[list[str], Field(min_length=1)] = ["*"]


class User(BaseModel):
    id: str
    email: str
    platformRole: str | None
    memberships: list[MembershipBody]
    totpEnabled: bool
    disabled: bool
    createdAt: str


class UserPage(BaseModel):
    items: list[User]
    nextCursor: str | None


class UserIn(Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"email": "ops@example.com", "password": "a-long-passphrase", "platformRole": "support"}]
        },
    )
    email: Annotated[str, Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")]
    password: Annotated[str, Field(min_length=12, max_length=256)]
    platformRole: Literal["superadmin", "admin", "support"] | None = None
    memberships: list[MembershipBody] = []


class UserPatch(Body):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"disabled": True}]})
    platformRole: Literal["superadmin", "admin", "support"] | None = None
    disabled: bool | None = Field(None, strict=True)
    password: Annotated[str | None, Field(min_length=1, max_length=1024, description="A new password.")] = None


class MemberIn(Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"email": "dev@studio.example", "role": "developer", "projects": ["*"]}]},
    )
    email: Annotated[str, Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")]
    role: Literal["owner", "developer", "analyst"]
    projects: Annotated[
        list[Annotated[str, Field(pattern=r"^(\*|[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63})$")]], Field(min_length=1)
    ] = ["*"]
    password: Annotated[
        str | None,
        Field(
            min_length=12,
            max_length=256,
            description=(
                "The password of a new account (ignored for an existing one; without it, a new"
                " account has none until a platform admin sets one)."
            ),
        ),
    ] = None


EventType = Annotated[
    str,
    Field(
        pattern=r"^(\*|[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?)$",
        max_length=120,
        description="An event type, `*` for all, or a prefix such as `wallet.*`.",
    ),
]
WebhookUrl = Annotated[str, Field(min_length=8, max_length=2048, description="An http(s) URL that receives POSTs.")]


class WebhookIn(Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"url": "https://hooks.example.com/ludex", "eventTypes": ["wallet.*", "player.levelup"]}]
        },
    )
    url: WebhookUrl
    eventTypes: Annotated[list[EventType], Field(min_length=1, max_length=100)] = ["*"]
    active: bool = Field(True, strict=True)


class WebhookPatch(Body):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"active": True}]})
    url: WebhookUrl | None = None
    eventTypes: Annotated[list[EventType] | None, Field(min_length=1, max_length=100)] = None
    active: bool | None = Field(None, strict=True)


class Webhook(BaseModel):
    id: str
    url: str
    eventTypes: list[str]
    active: bool
    disabledReason: str | None = Field(default=None, description="`gone` when the receiver answered 410.")
    createdAt: str
    updatedAt: str


class WebhookCreated(BaseModel):
    id: str
    url: str
    eventTypes: list[str]
    active: bool
    secret: str = Field(description="`whsec_<base64>`: signs every delivery. Shown only in this answer.")


class WebhookPage(BaseModel):
    items: list[Webhook]
    nextCursor: str | None


class DeliveryAttempt(BaseModel):
    at: str
    statusCode: int | None = Field(description="The receiver's status; None when no answer came.")
    latencyMs: float
    error: str | None = Field(description="Why no answer came (timeout, refused connection, ...).")


class Delivery(BaseModel):
    id: str = Field(description="`<webhookId>:<eventId>`.")
    subscriptionId: str
    eventId: str = Field(description="Sent as `webhook-id` on every attempt.")
    eventType: str
    status: Literal["pending", "delivered", "failed", "dead"] = Field(
        description="`pending`: not tried yet; `failed`: a retry is scheduled; `dead`: retries spent or 410."
    )
    attempts: list[DeliveryAttempt]
    createdAt: str
    nextAttemptAt: str | None
    deliveredAt: str | None = None


class DeliveryPage(BaseModel):
    items: list[Delivery]
    nextCursor: str | None


class Redriven(BaseModel):
    redriven: int = Field(description="How many dead deliveries went back to pending.")
