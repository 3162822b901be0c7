"""`/v1/admin/billing`: the platform's billing webhook (superadmin), its deliveries, and usage
reports on demand. The replica's loop that enqueues each ended day's `usage.reported` and sends
due hooks is `serve.background`; `actors/ingress/billing.py` keeps the outbox; its rules are in
`engine/billing.py`."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from actors.ingress.billing import DELIVERIES
from engine.billing import EVENT_TYPES
from serve.api_key_auth import ID_PATTERN, metering
from serve.background import outbox, usage_source
from serve.backoffice import Acting, allowed
from serve.pagination import Limit
from serve.problems import ProblemError, problem_responses

router = APIRouter(prefix="/v1/admin/billing", tags=["billing"])
ERRORS = problem_responses(400, 401, 403, 404, 422, 429)
Reader = Annotated[Acting, allowed("billing:read")]
Writer = Annotated[Acting, allowed("billing:write")]


class BillingWebhookIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"url": "https://billing.example.com/ludex", "active": True}]}
    )
    url: str = Field(max_length=2048, description="Where `usage.reported` and `tenant.plan.changed` are POSTed.")
    active: bool = Field(True, strict=True)
    rotateSecret: bool = Field(
        False, strict=True, description="Make a new signing secret (shown once, in this answer)."
    )


class BillingWebhook(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "url": "https://billing.example.com/ludex",
                    "active": True,
                    "eventTypes": list(EVENT_TYPES),
                    "lastReportedDay": "2026-03-01",
                    "createdAt": "2026-03-01T00:00:00.000Z",
                    "updatedAt": "2026-03-01T00:00:00.000Z",
                    "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                }
            ]
        }
    )
    url: str
    active: bool
    eventTypes: list[str] = Field(default=list(EVENT_TYPES), description="What the webhook receives.")
    lastReportedDay: str | None = Field(None, description="The last UTC day whose usage reports were enqueued.")
    createdAt: str
    updatedAt: str
    secret: str | None = Field(None, description="Only when it was just made: the first PUT, or `rotateSecret`.")


class BillingDelivery(BaseModel):
    id: str = Field(description="The event id, also its `webhook-id`.")
    type: str = Field(examples=["usage.reported"])
    tenantId: str | None
    status: Literal["pending", "delivered", "dead"]
    failures: int
    attempts: list[dict[str, Any]] = Field(description="`{at, provider, error}` per attempt, oldest first.")
    nextAttemptAt: str
    createdAt: str
    deliveredAt: str | None = None
    event: dict[str, Any] = Field(description="The event as delivered: `{id, type, occurredAt, data}`.")


class BillingDeliveryPage(BaseModel):
    items: list[BillingDelivery]
    nextCursor: str | None


class UsageReportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"day": "2026-03-01"}]})
    day: str | None = Field(
        None,
        pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
        description="The UTC day the reports are about (default: today); the totals are its month's.",
    )
    tenantId: str | None = Field(None, pattern=ID_PATTERN, description="Only this tenant (default: every tenant).")


class UsageReportsSent(BaseModel):
    enqueued: int = Field(description="Reports written to the outbox.")
    delivered: int = Field(description="Due hooks the provider took during this call (these and older ones).")
    events: list[dict[str, Any]]


@router.get("/webhook", response_model=BillingWebhook, responses=ERRORS, summary="Get the billing webhook")
async def get_billing_webhook(acting: Reader) -> BillingWebhook:
    """The platform's billing webhook (never its secret); 404 `not-found` when none is configured."""
    config = await outbox(acting.backend).config()
    if config is None:
        raise ProblemError("not-found", "no billing webhook is configured")
    return BillingWebhook(**config)


@router.put("/webhook", response_model=BillingWebhook, responses=ERRORS, summary="Configure the billing webhook")
async def put_billing_webhook(body: BillingWebhookIn, acting: Writer) -> BillingWebhook:
    """Creates or replaces the webhook that receives `usage.reported` (per tenant, each UTC day)
    and `tenant.plan.changed`, signed like tenant webhooks. The signing secret is in the answer
    the first time and after `rotateSecret: true`, never again. A URL that is not http(s), or that
    resolves to a private address where those are not allowed, is 422 `validation-error`."""
    billing = outbox(acting.backend)
    before = await billing.config()
    try:
        after = await billing.configure(body.url, active=body.active, rotate_secret=body.rotateSecret)
    except ValueError as error:
        raise ProblemError("validation-error", str(error), errors=[{"field": "url", "message": str(error)}]) from error
    await acting.record("billing.webhook.put", "billing", before=before, after=after)
    return BillingWebhook(**after)


@router.delete("/webhook", status_code=204, responses=ERRORS, summary="Remove the billing webhook")
async def delete_billing_webhook(acting: Writer) -> Response:
    """No more hooks are sent; deliveries already in the outbox stay there (listable)."""
    billing = outbox(acting.backend)
    before = await billing.config()
    if not await billing.remove():
        raise ProblemError("not-found", "no billing webhook is configured")
    await acting.record("billing.webhook.delete", "billing", before=before, after=None)
    return Response(status_code=204)


@router.get("/deliveries", response_model=BillingDeliveryPage, responses=ERRORS, summary="List billing deliveries")
async def list_billing_deliveries(
    acting: Reader,
    status: Annotated[Literal["pending", "delivered", "dead"] | None, Query()] = None,
    cursor: Annotated[str | None, Query(max_length=64, description="The last id of the previous page.")] = None,
    limit: Limit = 50,
) -> BillingDeliveryPage:
    """The outbox: every billing event with its attempts, ordered by id."""
    found = await outbox(acting.backend).deliveries(status=status, after=cursor, limit=limit + 1)
    items = [BillingDelivery(**d) for d in found[:limit]]
    return BillingDeliveryPage(items=items, nextCursor=found[limit - 1]["id"] if len(found) > limit else None)


@router.post(
    "/deliveries/{deliveryId}/redrive", response_model=BillingDelivery, responses=ERRORS, summary="Redrive a delivery"
)
async def redrive_billing_delivery(
    deliveryId: Annotated[str, Path(pattern=r"^msg_[0-9a-f]{24}$")], acting: Writer
) -> BillingDelivery:
    """Makes a dead delivery due again (its failures reset) and tries it at once."""
    billing = outbox(acting.backend)
    delivery = await billing.redrive(deliveryId)
    if delivery is None:
        raise ProblemError("not-found", f"there is no billing delivery '{deliveryId}'")
    await billing.deliver_due()
    after = await acting.backend.store.get_document(DELIVERIES, deliveryId)
    assert after is not None
    await acting.record("billing.delivery.redrive", deliveryId, before=None, after=None)
    return BillingDelivery(**after)


@router.post("/usage-reports", response_model=UsageReportsSent, responses=ERRORS, summary="Send usage reports now")
async def send_usage_reports(body: UsageReportRequest, acting: Writer) -> UsageReportsSent:
    """Enqueues a `usage.reported` now for every tenant (or one), with its month's totals as
    `GET /v1/admin/usage` shows them at this moment, then sends what is due. The daily reports go
    out by themselves; this is for a backfill or a test of the receiver. Each call makes new
    events (new ids), unlike the daily ones."""
    billing = outbox(acting.backend)
    if await billing.config() is None:
        raise ProblemError("not-found", "no billing webhook is configured")
    day = body.day or datetime.now(UTC).date().isoformat()
    try:
        date.fromisoformat(day)
    except ValueError as error:
        message = "must be a calendar day YYYY-MM-DD"
        raise ProblemError(
            "validation-error", f"day: {message}", errors=[{"field": "day", "message": message}]
        ) from error
    source = usage_source(metering(acting.request, acting.backend), acting.backend, body.tenantId)
    events = await billing.report_usage(day, source, once_per_day=False)
    delivered = await billing.deliver_due()
    return UsageReportsSent(enqueued=len(events), delivered=delivered, events=events)
