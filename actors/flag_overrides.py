"""Per-project flag overrides: a tenant's own setting, kept beside its other control-plane
documents (kind `flag_overrides`, id `<tenant>/<project>`), so the economy YAML can be shared
between projects while each tenant forces a flag on, off or to a variant for its own players.
Evaluation (`engine.flags`) applies them on top of rollouts and rules."""

from __future__ import annotations

from typing import Any

from actors.stores.base import DocumentStore
from engine.flags import FlagValue

FLAG_OVERRIDES = "flag_overrides"


def overrides_id(tenant: str, project: str) -> str:
    return f"{tenant}/{project}"


async def read_overrides(store: DocumentStore, tenant: str, project: str) -> dict[str, Any]:
    """`{overrides: {flagId: value}, updatedAt, updatedBy}` (empty overrides when never set)."""
    document = await store.get_document(FLAG_OVERRIDES, overrides_id(tenant, project))
    if document is None:
        return {"overrides": {}, "updatedAt": None, "updatedBy": None}
    return {key: document[key] for key in ("overrides", "updatedAt", "updatedBy")}


async def write_overrides(
    store: DocumentStore,
    tenant: str,
    project: str,
    overrides: dict[str, FlagValue],
    *,
    updated_at: str,
    updated_by: str,
) -> dict[str, Any]:
    """Replaces the project's overrides whole (an empty mapping clears them)."""
    doc_id = overrides_id(tenant, project)
    document: dict[str, Any] = {
        "id": doc_id,
        "tenantId": tenant,
        "projectId": project,
        "overrides": dict(overrides),
        "updatedAt": updated_at,
        "updatedBy": updated_by,
    }
    await store.put_document(FLAG_OVERRIDES, doc_id, document)
    return {key: document[key] for key in ("overrides", "updatedAt", "updatedBy")}
