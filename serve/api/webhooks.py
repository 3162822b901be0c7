"""`/v1/client/projects/{projectId}/webhooks`: signed webhook subscriptions of a project, their
deliveries, and redrive (`actors.ingress.webhook_subscriptions`). The worker that sends deliveries is
`actors.webhook_delivery.WebhookWorker`."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from actors.ingress.webhook_subscriptions import WebhookSubscriptions
from actors.secret_box import SecretBox
from serve.api_key_auth import ID_PATTERN, ProjectId, tenant_id
from serve.backoffice import Connected, record
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
from serve.bearer_tokens import CurrentPrincipal, ensure_can
from serve.pagination import Cursor, Limit, decode_id_cursor, encode_cursor
from serve.problems import problem_responses

router = APIRouter(prefix="/v1/client/projects/{projectId}/webhooks", tags=["webhooks"])
Tenant = Annotated[str, Depends(tenant_id)]
WebhookId = Annotated[str, Path(pattern=ID_PATTERN, description="The webhook's id.", examples=["wh_0a1b2c3d4e5f"])]
DeliveryId = Annotated[
    str, Path(pattern=ID_PATTERN, description="`<webhookId>:<eventId>`.", examples=["wh_0a1b2c3d4e5f:evt_1a2b"])
]
Status = Annotated[
    Literal["pending", "delivered", "failed", "dead"] | None, Query(description="Only deliveries in this state.")
]
ERRORS = problem_responses(400, 401, 403, 404, 409, 422, 429)


def _subscriptions(connected: Any) -> WebhookSubscriptions:
    return WebhookSubscriptions(
        connected.store,
        allow_private=connected.settings.webhook_allow_private,
        box=SecretBox.from_settings(connected.settings),
    )


def _webhook(document: dict[str, Any]) -> Webhook:
    return Webhook(**{k: v for k, v in document.items() if k in Webhook.model_fields})


def _delivery(document: dict[str, Any]) -> Delivery:
    return Delivery(**{k: v for k, v in document.items() if k in Delivery.model_fields})


@router.post("", status_code=201, response_model=WebhookCreated, responses=ERRORS, summary="Create a webhook")
async def create_webhook(
    request: Request,
    projectId: ProjectId,
    body: WebhookIn,
    tenant: Tenant,
    principal: CurrentPrincipal,
    connected: Connected,
) -> WebhookCreated:
    """Subscribes a URL to the project's events. The answer holds `secret` (`whsec_...`), which
    signs every delivery and is never shown again. URLs resolving to loopback, private or
    link-local addresses are refused (422 `webhook-url-refused`) unless the deployment allows them.
    A suspended tenant creates none (403 `tenant-suspended`)."""
    ensure_can(principal, "webhooks:write", tenant, projectId)
    await connected.control.live_project(tenant, projectId)
    await connected.control.check_not_suspended(tenant)
    document = await _subscriptions(connected).create(tenant, projectId, body.url, body.eventTypes, body.active)
    await record(
        request, connected, principal, "webhook.create", document["id"], tenant_id=tenant, before=None, after=document
    )
    return WebhookCreated(**{k: document[k] for k in WebhookCreated.model_fields})


@router.get("", response_model=WebhookPage, responses=ERRORS, summary="List webhooks")
async def list_webhooks(
    projectId: ProjectId,
    tenant: Tenant,
    principal: CurrentPrincipal,
    connected: Connected,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> WebhookPage:
    """The project's webhooks ordered by id, without their secrets."""
    ensure_can(principal, "webhooks:read", tenant, projectId)
    await connected.control.live_project(tenant, projectId)
    found = await _subscriptions(connected).list_page(
        tenant, projectId, after=decode_id_cursor(cursor), limit=limit + 1
    )
    next_cursor = encode_cursor(found[limit - 1]["id"]) if len(found) > limit else None
    return WebhookPage(items=[_webhook(d) for d in found[:limit]], nextCursor=next_cursor)


@router.get("/{webhookId}", response_model=Webhook, responses=ERRORS, summary="Get a webhook")
async def get_webhook(
    projectId: ProjectId, webhookId: WebhookId, tenant: Tenant, principal: CurrentPrincipal, connected: Connected
) -> Webhook:
    """One webhook, without its secret; `disabledReason` is `gone` after its receiver answered 410."""
    ensure_can(principal, "webhooks:read", tenant, projectId)
    await connected.control.live_project(tenant, projectId)
    return _webhook(await _subscriptions(connected).get(tenant, projectId, webhookId))


@router.patch("/{webhookId}", response_model=Webhook, responses=ERRORS, summary="Update a webhook")
async def update_webhook(
    request: Request,
    projectId: ProjectId,
    webhookId: WebhookId,
    body: WebhookPatch,
    tenant: Tenant,
    principal: CurrentPrincipal,
    connected: Connected,
) -> Webhook:
    """Changes the URL (checked like on creation), the event types, or `active` (re-activating a
    webhook disabled by a 410 clears `disabledReason`). A suspended tenant cannot set `active: true`
    (403 `tenant-suspended`); its deliveries wait, and resume once it is reinstated."""
    ensure_can(principal, "webhooks:write", tenant, projectId)
    await connected.control.live_project(tenant, projectId)
    changes = body.model_dump(exclude_none=True)
    if changes.get("active"):
        await connected.control.check_not_suspended(tenant)
    before, after = await _subscriptions(connected).update(tenant, projectId, webhookId, changes)
    await record(
        request, connected, principal, "webhook.update", webhookId, tenant_id=tenant, before=before, after=after
    )
    return _webhook(after)


@router.delete("/{webhookId}", status_code=204, responses=ERRORS, summary="Delete a webhook")
async def delete_webhook(
    request: Request,
    projectId: ProjectId,
    webhookId: WebhookId,
    tenant: Tenant,
    principal: CurrentPrincipal,
    connected: Connected,
) -> Response:
    """Stops deliveries at once; deliveries still due end `dead`. The webhook answers 404 from then on."""
    ensure_can(principal, "webhooks:write", tenant, projectId)
    await connected.control.live_project(tenant, projectId)
    before = await _subscriptions(connected).delete(tenant, projectId, webhookId)
    await record(
        request, connected, principal, "webhook.delete", webhookId, tenant_id=tenant, before=before, after=None
    )
    return Response(status_code=204)


@router.get("/{webhookId}/deliveries", response_model=DeliveryPage, responses=ERRORS, summary="List deliveries")
async def list_deliveries(
    projectId: ProjectId,
    webhookId: WebhookId,
    tenant: Tenant,
    principal: CurrentPrincipal,
    connected: Connected,
    status: Status = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> DeliveryPage:
    """The webhook's deliveries ordered by id, each with every attempt (time, status code,
    latency, error); `status` keeps one state."""
    ensure_can(principal, "webhooks:read", tenant, projectId)
    await connected.control.live_project(tenant, projectId)
    found = await _subscriptions(connected).deliveries(
        tenant, projectId, webhookId, status=status, after=decode_id_cursor(cursor), limit=limit + 1
    )
    next_cursor = encode_cursor(found[limit - 1]["id"]) if len(found) > limit else None
    return DeliveryPage(items=[_delivery(d) for d in found[:limit]], nextCursor=next_cursor)


@router.post(
    "/{webhookId}/deliveries/{deliveryId}/redrive",
    response_model=Delivery,
    responses=ERRORS,
    summary="Redrive a delivery",
)
async def redrive_delivery(
    request: Request,
    projectId: ProjectId,
    webhookId: WebhookId,
    deliveryId: DeliveryId,
    tenant: Tenant,
    principal: CurrentPrincipal,
    connected: Connected,
) -> Delivery:
    """Sends one delivery again (with the same `webhook-id`) and a fresh retry schedule, whatever
    its state. The webhook must be active (409 `webhook-inactive`)."""
    ensure_can(principal, "webhooks:write", tenant, projectId)
    await connected.control.live_project(tenant, projectId)
    delivery = await _subscriptions(connected).redrive(tenant, projectId, webhookId, deliveryId)
    await record(
        request, connected, principal, "webhook.redrive", deliveryId, tenant_id=tenant, before=None, after=None
    )
    return _delivery(delivery)


@router.post("/{webhookId}/redrive", response_model=Redriven, responses=ERRORS, summary="Redrive dead deliveries")
async def redrive_dead(
    request: Request,
    projectId: ProjectId,
    webhookId: WebhookId,
    tenant: Tenant,
    principal: CurrentPrincipal,
    connected: Connected,
) -> Redriven:
    """Every `dead` delivery of the webhook back to `pending`, to be sent again; answers how many."""
    ensure_can(principal, "webhooks:write", tenant, projectId)
    await connected.control.live_project(tenant, projectId)
    count = await _subscriptions(connected).redrive_dead(tenant, projectId, webhookId)
    await record(
        request,
        connected,
        principal,
        "webhook.redrive-dead",
        webhookId,
        tenant_id=tenant,
        before=None,
        after={"redriven": count},
    )
    return Redriven(redriven=count)
