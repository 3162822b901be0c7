"""The backoffice's test world, the same at the route seam and through Ray Serve: two tenants
with a project each, and one dashboard user per role (the outsider owns the other tenant)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from engine.rbac import Membership

PASSWORD = "correct-horse-battery-staple"
ROLES = ("superadmin", "admin", "support", "owner", "developer", "analyst", "outsider")
TENANT, OTHER = "acme-bo", "globex-bo"
PROJECT = "/v1/client/projects/main"


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def build_world(
    control: Any, accounts: Any, sign_in: Callable[[str, str], Any], economy: dict[str, Any]
) -> dict[str, Any]:
    """Tenants, projects and one signed-in client per role (`sign_in(email, password)` makes it,
    acting for `TENANT`); the first tenant's project gets `economy`."""
    for tenant in (TENANT, OTHER):
        control.ensure_tenant(tenant, tenant.title())
        control.ensure_project(tenant, "main", f"{tenant} main")
    suffix = uuid.uuid4().hex[:6]
    users: dict[str, tuple[str | None, tuple[Membership, ...]]] = {
        "superadmin": ("superadmin", ()),
        "admin": ("admin", ()),
        "support": ("support", ()),
        "owner": (None, (Membership(TENANT, "owner"),)),
        "developer": (None, (Membership(TENANT, "developer"),)),
        "analyst": (None, (Membership(TENANT, "analyst"),)),
        "outsider": (None, (Membership(OTHER, "owner"),)),
    }
    clients: dict[str, Any] = {}
    for role, (platform_role, memberships) in users.items():
        email = f"{role}-{suffix}@example.com"
        accounts.create_user(email, PASSWORD, platform_role, memberships)
        clients[role] = sign_in(email, PASSWORD)
    answer = clients["superadmin"].put(f"{PROJECT}/economy", json=economy)
    assert answer.status_code == 200, answer.text
    return {"clients": clients, "control": control}
