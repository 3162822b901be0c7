from __future__ import annotations

import pytest

from engine.rbac import POLICY, Membership, Principal, can, visible_tenants

SUPER = Principal("u0", "root@x", "superadmin")
SUPPORT = Principal("u1", "help@x", "support")
OWNER = Principal("u2", "own@x", None, (Membership("acme", "owner"),))
ANALYST_P1 = Principal("u3", "ana@x", None, (Membership("acme", "analyst", ("p1",)),))
DEV = Principal("u4", "dev@x", None, (Membership("acme", "developer"),))


def test_superadmin_may_do_everything_everywhere() -> None:
    assert all(can(SUPER, action, "any", "thing") for action in POLICY)


def test_support_reads_but_never_writes() -> None:
    for action in POLICY:
        assert can(SUPPORT, action, "acme") == action.endswith((":read", ":metrics")), action


def test_tenant_roles_act_only_in_their_own_tenant() -> None:
    assert can(OWNER, "projects:write", "acme", "p1")
    assert not can(OWNER, "projects:write", "globex", "p1")
    assert not can(OWNER, "tenants:write")


def test_project_scoped_memberships_cover_only_their_projects() -> None:
    assert can(ANALYST_P1, "reports:read", "acme", "p1")
    assert not can(ANALYST_P1, "reports:read", "acme", "p2")
    assert not can(ANALYST_P1, "economy:write", "acme", "p1")


@pytest.mark.parametrize(
    ("principal", "action", "allowed"),
    [
        (DEV, "api-keys:write", True),
        (DEV, "projects:write", False),
        (DEV, "audit:read", False),
        (OWNER, "audit:read", True),
        (ANALYST_P1, "api-keys:read", False),
    ],
)
def test_developer_owner_and_analyst_differ_as_the_policy_says(
    principal: Principal, action: str, allowed: bool
) -> None:
    assert can(principal, action, "acme", "p1") is allowed


def test_claims_round_trip_and_visible_tenants() -> None:
    assert Principal.from_claims(ANALYST_P1.to_claims()) == ANALYST_P1
    assert visible_tenants(SUPER) is None
    assert visible_tenants(OWNER) == {"acme"}


OWNER_P1 = Principal("u5", "own1@x", None, (Membership("acme", "owner", ("p1",)),))


@pytest.mark.parametrize("action", ["members:read", "members:write", "audit:read", "projects:write"])
def test_an_owner_limited_to_some_projects_cannot_act_on_the_whole_tenant(action: str) -> None:
    """Else it could add itself to every project, or create one: more than it was given."""
    assert not can(OWNER_P1, action, "acme")
    assert can(OWNER, action, "acme")


def test_an_owner_limited_to_some_projects_still_runs_them() -> None:
    assert can(OWNER_P1, "projects:write", "acme", "p1")
    assert can(OWNER_P1, "economy:write", "acme", "p1")
    assert not can(OWNER_P1, "projects:write", "acme", "p2")
