"""No backoffice action can be recorded without an allow-list (`serve.audit_fields`): every
`acting.record("<action>", ...)` in `serve/` is read from the source and must be listed, and every
listed action must be recorded somewhere. `tests/e2e/security/test_audit_secrets.py` then does
each action over HTTP and proves no entry holds a secret."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from serve.audit_fields import AUDITED_FIELDS, UnauditedActionError, audited

SERVE = Path(__file__).resolve().parents[3] / "serve"


def _action(node: ast.Call) -> str | None:
    """The action of a `<context>.record(action, ...)` call, or of the bare `record(request,
    connected, principal, action, ...)` of a route not yet on `Acting`; None for anything else."""
    func = node.func
    if isinstance(func, ast.Attribute) and func.attr == "record" and node.args:
        first = node.args[0]
        return str(first.value) if isinstance(first, ast.Constant) else None
    if isinstance(func, ast.Name) and func.id == "record" and len(node.args) >= 4:
        fourth = node.args[3]
        return str(fourth.value) if isinstance(fourth, ast.Constant) else None
    return None


def recorded_actions() -> set[str]:
    """The action of every `record(...)` call in `serve/`, read from the source."""
    found: set[str] = set()
    for path in SERVE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and (action := _action(node)) is not None:
                found.add(action)
    return found


def test_every_recorded_action_has_an_allow_list() -> None:
    actions = recorded_actions()
    assert len(actions) >= 20, actions  # the walk finds the calls at all
    assert actions <= set(AUDITED_FIELDS), actions - set(AUDITED_FIELDS)
    assert set(AUDITED_FIELDS) <= actions, f"listed but never recorded: {set(AUDITED_FIELDS) - actions}"


def test_an_entry_keeps_only_the_listed_fields_and_an_unlisted_action_is_refused() -> None:
    tenant = {"id": "acme", "name": "Acme", "secretHash": "$argon2id$...", "planId": "free"}
    assert audited("tenant.create", tenant) == {"id": "acme", "name": "Acme", "planId": "free"}
    assert audited("tenant.create", None) is None
    assert audited("webhook.redrive", {"secret": "whsec_x"}) == {}
    with pytest.raises(UnauditedActionError):
        audited("tenant.rename-secretly", tenant)
