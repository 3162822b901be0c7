"""`/v1/client/projects/{projectId}/webhooks`: signed webhook subscriptions of a project, their
deliveries, and redrive (`actors.ingress.webhook_subscriptions`). The worker that sends deliveries is
`actors.webhook_delivery.WebhookWorker`."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response

from actors.ingress.webhook_subscriptions import WebhookSubscriptions
from actors.secret_box import SecretBox
from engine.webhooks import matches
from serve.api_key_auth import ID_PATTERN
from serve.backoffice import InProject, in_project
from serve.backoffice_schemas import (
    Delivery,
    DeliveryPage,
    Redriven,
    Webhook,
    WebhookCreated,
    WebhookIn,
    WebhookPage,
    WebhookPatch,
)
from serve.pagination import SORT_SCAN_LIMIT, Cursor, Limit, decode_id_cursor, encode_cursor, sorted_page
from serve.problems import problem_responses
from serve.sorting import DeliverySort, WebhookSort

router = APIRouter(prefix="/v1/client/projects/{projectId}/webhooks", tags=["webhooks"])
Reader = Annotated[InProject, in_project("webhooks:read")]
Writer = Annotated[InProject, in_project("webhooks:write")]
WebhookId = Annotated[str, Path(pattern=ID_PATTERN, description="The webhook's id.", examples=["wh_0a1b2c3d4e5f"])]
DeliveryId = Annotated[
    str, Path(pattern=ID_PATTERN, description="`<webhookId>:<eventId>`.", examples=["wh_0a1b2c3d4e5f:evt_1a2b"])
]
Status = Annotated[
    Literal["pending", "delivered", "failed", "dead"] | None, Query(description="Only deliveries in this state.")
]
ERRORS = problem_responses(400, 401, 403, 404, 409, 422, 429)


def _subscriptions(acting: InProject) -> WebhookSubscriptions:
    settings = acting.backend.settings
    return WebhookSubscriptions(
        acting.backend.store,
        allow_private=settings.webhook_allow_private,
        box=SecretBox.from_settings(settings),
    )


def _webhook(document: dict[str, Any]) -> Webhook:
    return Webhook(**{k: v for k, v in document.items() if k in Webhook.model_fields})


def _delivery(document: dict[str, Any]) -> Delivery:
    return Delivery(**{k: v for k, v in document.items() if k in Delivery.model_fields})


@router.post("", status_code=201, response_model=WebhookCreated, responses=ERRORS, summary="Create a webhook")
async def create_webhook(body: WebhookIn, acting: Writer) -> WebhookCreated:
    """Subscribes a URL to the project's events. The answer holds `secret` (`whsec_...`), which
    signs every delivery and is never shown again. URLs resolving to loopback, private or
    link-local addresses are refused (422 `webhook-url-refused`) unless the deployment allows them.
    A suspended tenant creates none (403 `tenant-suspended`)."""
    await acting.control.check_not_suspended(acting.tenant)
    document = await _subscriptions(acting).create(
        acting.tenant, acting.project, body.url, body.eventTypes, body.active
    )
    await acting.record("webhook.create", document["id"], before=None, after=document)
    return WebhookCreated(**{k: document[k] for k in WebhookCreated.model_fields})


@router.get("", response_model=WebhookPage, responses=ERRORS, summary="List webhooks")
async def list_webhooks(
    acting: Reader,
    active: Annotated[bool | None, Query(description="Only active (`true`) or inactive (`false`) webhooks.")] = None,
    eventType: Annotated[
        str | None, Query(max_length=128, description="Only webhooks subscribed to this event type.")
    ] = None,
    sort: WebhookSort = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> WebhookPage:
    """The project's webhooks ordered by id (or `sort`), without their secrets, filtered by
    state and by an event type they receive (`player.*` and `*` receive `player.created`)."""
    if sort is None and active is None and eventType is None:
        found = await _subscriptions(acting).list_page(
            acting.tenant, acting.project, after=decode_id_cursor(cursor), limit=limit + 1
        )
        next_cursor = encode_cursor(found[limit - 1]["id"]) if len(found) > limit else None
        return WebhookPage(items=[_webhook(d) for d in found[:limit]], nextCursor=next_cursor)
    every = await _subscriptions(acting).list_page(acting.tenant, acting.project, after=None, limit=SORT_SCAN_LIMIT)
    kept = [
        d
        for d in every
        if (active is None or d["active"] == active) and (eventType is None or matches(d["eventTypes"], eventType))
    ]
    page, next_cursor = sorted_page(kept, sort or "id", cursor, limit)
    return WebhookPage(items=[_webhook(d) for d in page], nextCursor=next_cursor)


@router.get("/{webhookId}", response_model=Webhook, responses=ERRORS, summary="Get a webhook")
async def get_webhook(webhookId: WebhookId, acting: Reader) -> Webhook:
    """One webhook, without its secret; `disabledReason` is `gone` after its receiver answered 410."""
    return _webhook(await _subscriptions(acting).get(acting.tenant, acting.project, webhookId))


@router.patch("/{webhookId}", response_model=Webhook, responses=ERRORS, summary="Update a webhook")
async def update_webhook(webhookId: WebhookId, body: WebhookPatch, acting: Writer) -> Webhook:
    """Changes the URL (checked like on creation), the event types, or `active` (re-activating a
    webhook disabled by a 410 clears `disabledReason`). A suspended tenant cannot set `active: true`
    (403 `tenant-suspended`); its deliveries wait, and resume once it is reinstated."""
    changes = body.model_dump(exclude_none=True)
    if changes.get("active"):
        await acting.control.check_not_suspended(acting.tenant)
    before, after = await _subscriptions(acting).update(acting.tenant, acting.project, webhookId, changes)
    await acting.record("webhook.update", webhookId, before=before, after=after)
    return _webhook(after)


@router.delete("/{webhookId}", status_code=204, responses=ERRORS, summary="Delete a webhook")
async def delete_webhook(webhookId: WebhookId, acting: Writer) -> Response:
    """Stops deliveries at once; deliveries still due end `dead`. The webhook answers 404 from then on."""
    before = await _subscriptions(acting).delete(acting.tenant, acting.project, webhookId)
    await acting.record("webhook.delete", webhookId, before=before, after=None)
    return Response(status_code=204)


@router.get("/{webhookId}/deliveries", response_model=DeliveryPage, responses=ERRORS, summary="List deliveries")
async def list_deliveries(
    webhookId: WebhookId,
    acting: Reader,
    status: Status = None,
    eventType: Annotated[str | None, Query(max_length=128, description="Only deliveries of this event type.")] = None,
    sort: DeliverySort = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> DeliveryPage:
    """The webhook's deliveries ordered by id (or `sort`: `-createdAt` for the newest first),
    each with every attempt (time, status code, latency, error); `status` keeps one state and
    `eventType` one type. A sorted or type-filtered list orders at most 10,000 deliveries
    (deliveries are kept for the deployment's retention)."""
    subscriptions = _subscriptions(acting)
    if sort is None and eventType is None:
        found = await subscriptions.deliveries(
            acting.tenant, acting.project, webhookId, status=status, after=decode_id_cursor(cursor), limit=limit + 1
        )
        next_cursor = encode_cursor(found[limit - 1]["id"]) if len(found) > limit else None
        return DeliveryPage(items=[_delivery(d) for d in found[:limit]], nextCursor=next_cursor)
    every = await subscriptions.deliveries(
        acting.tenant, acting.project, webhookId, status=status, after=None, limit=SORT_SCAN_LIMIT
    )
    kept = [d for d in every if eventType is None or d["eventType"] == eventType]
    page, next_cursor = sorted_page(kept, sort or "id", cursor, limit)
    return DeliveryPage(items=[_delivery(d) for d in page], nextCursor=next_cursor)


@router.post(
    "/{webhookId}/deliveries/{deliveryId}/redrive",
    response_model=Delivery,
    responses=ERRORS,
    summary="Redrive a delivery",
)
async def redrive_delivery(webhookId: WebhookId, deliveryId: DeliveryId, acting: Writer) -> Delivery:
    """Sends one delivery again (with the same `webhook-id`) and a fresh retry schedule, whatever
    its state. The webhook must be active (409 `webhook-inactive`)."""
    delivery = await _subscriptions(acting).redrive(acting.tenant, acting.project, webhookId, deliveryId)
    await acting.record("webhook.redrive", deliveryId, before=None, after=None)
    return _delivery(delivery)


@router.post("/{webhookId}/redrive", response_model=Redriven, responses=ERRORS, summary="Redrive dead deliveries")
async def redrive_dead(webhookId: WebhookId, acting: Writer) -> Redriven:
    """Every `dead` delivery of the webhook back to `pending`, to be sent again; answers how many."""
    count = await _subscriptions(acting).redrive_dead(acting.tenant, acting.project, webhookId)
    await acting.record("webhook.redrive-dead", webhookId, before=None, after={"redriven": count})
    return Redriven(redriven=count)
