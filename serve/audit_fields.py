"""What an audit entry may keep, per action: an allow-list of the fields of its `before` and
`after` documents. Everything else is dropped, so a field added to a document later (a secret, a
hash, a token) stays out of the log until someone lists it here on purpose. An action missing
from the table cannot be recorded at all (`serve.backoffice.Acting.record` raises),
`tests/unit/serve/test_audit_fields.py` proves every recorded action is listed, and
`tests/e2e/security/test_audit_secrets.py` that no entry holds a secret.
docs/SECURITY.md, "Second pass (2026-12)"."""

from __future__ import annotations

from typing import Any

from engine.definitions import ECONOMY_SECTIONS

_TENANT = frozenset(
    {"id", "name", "planId", "suspended", "createdAt", "updatedAt"}
    | {"state", "trialEndsAt", "graceEndsAt", "stateChangedAt", "paymentOnFile", "deletionDueAt"}
)
_PLAN = frozenset(
    {"id", "name", "requestsPerMonth", "eventsPerMonth", "players", "projects", "apiRequestsPerSecond"}
    | {"operationRatesPerSecond", "retention"}
)
_PROJECT = frozenset({"id", "tenantId", "name", "createdAt", "updatedAt", "deletedAt"})
_API_KEY = frozenset(
    {"id", "tenantId", "projectId", "prefix", "name", "scopes", "expiresAt", "createdAt", "revokedAt"}
    | {"rateLimitPerSecond", "rotatedTo"}
)
_USER = frozenset({"id", "email", "platformRole", "memberships", "totpEnabled", "disabled", "createdAt"})
_WEBHOOK = frozenset(
    {"id", "tenantId", "projectId", "url", "eventTypes", "active", "disabledReason", "createdAt", "updatedAt"}
)
_BILLING_WEBHOOK = frozenset({"id", "url", "active", "createdAt", "updatedAt"})
_NOTHING: frozenset[str] = frozenset()

AUDITED_FIELDS: dict[str, frozenset[str]] = {
    "remediation.apply": frozenset({"id", "action", "select", "players", "totals"}),
    "remediation.finish": frozenset({"id", "status", "progress", "totals"}),
    "tenant.create": _TENANT,
    "tenant.update": _TENANT,
    "tenant.delete": _TENANT,
    "tenant.state": _TENANT,
    "tenant.export": frozenset({"id"}),
    "tenant.deletion.schedule": frozenset({"id", "status", "deletionDueAt"}),
    "tenant.deletion.cancel": frozenset({"id", "status", "deletionDueAt"}),
    "tenant.retention": frozenset({"id", "retention"}),
    "plan.create": _PLAN,
    "plan.update": _PLAN,
    "plan.delete": _PLAN,
    "project.create": _PROJECT,
    "project.update": _PROJECT,
    "project.delete": _PROJECT,
    "api-key.create": _API_KEY,
    "api-key.rotate": _API_KEY,
    "api-key.revoke": _API_KEY,
    "economy.define": frozenset(ECONOMY_SECTIONS),
    "economy.force": frozenset({"forced", "version", "findings", "errors"}),
    "flags.override": frozenset({"overrides", "updatedAt", "updatedBy"}),
    "user.create": _USER,
    "user.update": _USER,
    "member.put": _USER,
    "member.remove": _USER,
    "webhook.create": _WEBHOOK,
    "webhook.update": _WEBHOOK,
    "webhook.delete": _WEBHOOK,
    "webhook.redrive": _NOTHING,
    "webhook.redrive-dead": frozenset({"redriven"}),
    "billing.webhook.put": _BILLING_WEBHOOK,
    "billing.webhook.delete": _BILLING_WEBHOOK,
    "billing.delivery.redrive": _NOTHING,
    "player.erase": frozenset({"playerId", "erasedAt", "seq", "repeated"}),
    "shards.scale": frozenset({"hosts"}),
    "player.ban": frozenset({"playerId", "reason", "until"}),
    "player.unban": frozenset({"playerId", "reason", "until"}),
    "player.sessions.revoke": frozenset({"playerId", "ended"}),
    "player-auth.update": frozenset({"deviceSignIn", "allowedOrigins", "hasSecret", "publicKeys"}),
}


class UnauditedActionError(KeyError):
    """An action without an allow-list: a programming error, caught by the tests."""


def audited(action: str, document: Any) -> Any:
    """`document` as the audit entry for `action` keeps it: only the listed top-level fields of a
    mapping; None stays None. Anything that is not a mapping is dropped (nothing vouches for it)."""
    fields = AUDITED_FIELDS.get(action)
    if fields is None:
        raise UnauditedActionError(action)
    if not isinstance(document, dict):
        return None
    return {key: value for key, value in document.items() if key in fields}
