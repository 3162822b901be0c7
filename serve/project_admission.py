"""Whether a game API call may act on a project at all, whoever makes it (a key or a player
session): the project exists and is not deleted (404, never revealing another tenant's data),
its tenant is neither deleted nor suspended (403 `tenant-suspended`)."""

from __future__ import annotations

from typing import Any

from serve.problems import ProblemError


def check_project(
    found: dict[str, Any] | None, tenant_document: dict[str, Any] | None, tenant: str, project: str
) -> None:
    if found is None or found.get("deleted") or (tenant_document or {}).get("deleted"):
        raise ProblemError("project-not-found", f"tenant '{tenant}' has no project '{project}'")
    if (tenant_document or {}).get("suspended"):
        raise ProblemError("tenant-suspended", f"tenant '{tenant}' is suspended; its operator can lift that")
