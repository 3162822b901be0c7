"""Whether a game API call may act on a project at all, whoever makes it (a key or a player
session): the project exists and is not deleted (404, never revealing another tenant's data),
its tenant is neither deleted nor suspended (403 `tenant-suspended`), and a write finds the
tenant not read-only (403 `tenant-read-only`; reads still answer). The tenant's state is the one
time has moved it to (`engine.tenant_lifecycle`), so a grace that ended applies at once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from actors.ingress.control_plane import ControlPlane
from engine.tenant_lifecycle import READ_ONLY, SUSPENDED, effective_state
from serve.problems import ProblemError

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def check_project(
    found: dict[str, Any] | None,
    tenant_document: dict[str, Any] | None,
    tenant: str,
    project: str,
    *,
    write: bool = False,
) -> None:
    if found is None or found.get("deleted") or (tenant_document or {}).get("deleted"):
        raise ProblemError("project-not-found", f"tenant '{tenant}' has no project '{project}'")
    state = effective_state(tenant_document, None, datetime.now(UTC))
    if state == SUSPENDED or (tenant_document or {}).get("suspended"):
        raise ProblemError("tenant-suspended", f"tenant '{tenant}' is suspended; its operator can lift that")
    if write and state == READ_ONLY:
        raise read_only(tenant)


def read_only(tenant: str) -> ProblemError:
    return ProblemError(
        "tenant-read-only",
        f"tenant '{tenant}' is read-only (its payment is past due): reads answer, writes wait until it is active again",
    )


async def is_read_only(control: ControlPlane, tenant: str) -> bool:
    return effective_state(await control.get_tenant(tenant), None, datetime.now(UTC)) == READ_ONLY


async def check_writable(control: ControlPlane, tenant: str) -> None:
    """403 `tenant-read-only` when the tenant is read-only now: the command stream's check before
    each group of commands (HTTP writes are checked on admission)."""
    if await is_read_only(control, tenant):
        raise read_only(tenant)
