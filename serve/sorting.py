"""`sort` on the list endpoints: `field` ascending or `-field` descending, one of the fields the
endpoint names. An unknown field is a 422 `validation-error` naming `sort` (the OpenAPI lists
each endpoint's choices as an enum), never a silent default.

Lists of a project's or tenant's own small collections (keys, webhooks, members) are sorted in
memory (`serve.pagination.sorted_page`), up to `SORT_SCAN_LIMIT` entries as tenants and
projects are; the event list and the audit log sort on their stores' keys
(`EventQuery.newest_first`, `list_documents(descending=True)`)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Query

_DESCRIPTION = "Order by a field; a leading `-` sorts descending. Ties are broken by id."

KeySort = Annotated[
    Literal["id", "-id", "name", "-name", "createdAt", "-createdAt", "expiresAt", "-expiresAt"] | None,
    Query(description=_DESCRIPTION),
]
WebhookSort = Annotated[
    Literal["id", "-id", "url", "-url", "createdAt", "-createdAt", "updatedAt", "-updatedAt"] | None,
    Query(description=_DESCRIPTION + " Without it, by id."),
]
DeliverySort = Annotated[
    Literal["id", "-id", "createdAt", "-createdAt", "nextAttemptAt", "-nextAttemptAt"] | None,
    Query(description=_DESCRIPTION + " Without it, by id."),
]
UserSort = Annotated[
    Literal["id", "-id", "email", "-email", "createdAt", "-createdAt"] | None,
    Query(description=_DESCRIPTION + " Without it, by id."),
]
EventSort = Annotated[
    Literal["position", "-position"],
    Query(description="`position`: the order events were recorded (oldest first); `-position`: newest first."),
]
AuditSort = Annotated[
    Literal["occurredAt", "-occurredAt"],
    Query(description="`occurredAt`: oldest first (the default); `-occurredAt`: newest first, on the same key."),
]
