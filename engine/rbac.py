"""Who may do what in the backoffice. Platform roles (superadmin, admin, support) act across
tenants; tenant roles (owner, developer, analyst) act inside one tenant, optionally limited to
some of its projects. Every backoffice route names one action; this table is the whole policy."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PLATFORM_ROLES = ("superadmin", "admin", "support")
TENANT_ROLES = ("owner", "developer", "analyst")
ALL_PROJECTS = "*"

# action -> roles allowed. Platform roles are checked first; tenant roles need a membership
# of the target tenant (and of the project, for project-scoped actions).
POLICY: dict[str, frozenset[str]] = {
    # platform administration
    "tenants:read": frozenset({"superadmin", "admin", "support"}),
    "tenants:write": frozenset({"superadmin", "admin"}),
    "plans:read": frozenset({"superadmin", "admin", "support"}),
    "plans:write": frozenset({"superadmin"}),
    "platform:metrics": frozenset({"superadmin", "admin", "support"}),
    "shards:read": frozenset({"superadmin", "admin", "support"}),
    "shards:write": frozenset({"superadmin"}),
    "usage:read": frozenset({"superadmin", "admin", "support"}),
    "users:read": frozenset({"superadmin", "admin", "support"}),
    "users:write": frozenset({"superadmin"}),
    "billing:read": frozenset({"superadmin", "admin", "support"}),
    "billing:write": frozenset({"superadmin"}),
    # tenant work
    "projects:read": frozenset({"superadmin", "admin", "support", "owner", "developer", "analyst"}),
    "projects:write": frozenset({"superadmin", "admin", "owner"}),
    "api-keys:read": frozenset({"superadmin", "admin", "support", "owner", "developer"}),
    "api-keys:write": frozenset({"superadmin", "admin", "owner", "developer"}),
    "economy:read": frozenset({"superadmin", "admin", "support", "owner", "developer", "analyst"}),
    "economy:write": frozenset({"superadmin", "admin", "owner", "developer"}),
    "reports:read": frozenset({"superadmin", "admin", "support", "owner", "developer", "analyst"}),
    # a player's profile and ledger (personal data): the people who answer players, not analysts
    "players:read": frozenset({"superadmin", "admin", "support", "owner", "developer"}),
    # banning a player and ending their sessions: a change, so not support (which only reads)
    "players:moderate": frozenset({"superadmin", "admin", "owner", "developer"}),
    # erasing a player's personal data (GDPR/LGPD) cannot be undone: the studio's owner decides
    "players:erase": frozenset({"superadmin", "admin", "owner"}),
    # clawing back currency and items from many players at once: who may change the economy
    "economy:remediate": frozenset({"superadmin", "admin", "owner", "developer"}),
    "webhooks:read": frozenset({"superadmin", "admin", "support", "owner", "developer"}),
    "webhooks:write": frozenset({"superadmin", "admin", "owner", "developer"}),
    "audit:read": frozenset({"superadmin", "admin", "support", "owner"}),
    "members:read": frozenset({"superadmin", "admin", "support", "owner"}),
    "members:write": frozenset({"superadmin", "admin", "owner"}),
}


# Actions on the tenant as a whole (its members, its audit log, creating projects): a tenant
# role needs a membership of every project (`*`) for them, so a member limited to some projects
# can never widen its own reach by adding itself to more, or by creating a project.
TENANT_WIDE: frozenset[str] = frozenset({"members:read", "members:write", "audit:read", "projects:write"})


@dataclass(frozen=True)
class Membership:
    tenant_id: str
    role: str
    projects: tuple[str, ...] = (ALL_PROJECTS,)

    def covers(self, project_id: str | None) -> bool:
        return project_id is None or ALL_PROJECTS in self.projects or project_id in self.projects

    @property
    def tenant_wide(self) -> bool:
        return ALL_PROJECTS in self.projects


@dataclass(frozen=True)
class Principal:
    """A signed-in dashboard user, as the access token describes them."""

    user_id: str
    email: str
    platform_role: str | None = None
    memberships: tuple[Membership, ...] = field(default_factory=tuple)
    session_id: str | None = field(default=None, compare=False)  # the access token's session (`sid`)

    def to_claims(self) -> dict[str, Any]:
        return {
            "sub": self.user_id,
            "email": self.email,
            "prole": self.platform_role,
            "mem": [[m.tenant_id, m.role, list(m.projects)] for m in self.memberships],
        }

    @classmethod
    def from_claims(cls, claims: dict[str, Any]) -> Principal:
        return cls(
            user_id=claims["sub"],
            email=claims["email"],
            platform_role=claims.get("prole"),
            memberships=tuple(Membership(t, r, tuple(p)) for t, r, p in claims.get("mem", [])),
        )


def can(principal: Principal, action: str, tenant_id: str | None = None, project_id: str | None = None) -> bool:
    """Whether `principal` may perform `action` on the tenant/project named (None: platform-wide)."""
    allowed = POLICY[action]
    if principal.platform_role in allowed:
        return True
    if tenant_id is None:
        return False
    whole_tenant = project_id is None and action in TENANT_WIDE
    return any(
        m.tenant_id == tenant_id and m.role in allowed and m.covers(project_id) and (m.tenant_wide or not whole_tenant)
        for m in principal.memberships
    )


def visible_tenants(principal: Principal) -> set[str] | None:
    """Tenants a principal may list: None means all (platform roles)."""
    if principal.platform_role is not None:
        return None
    return {m.tenant_id for m in principal.memberships}
