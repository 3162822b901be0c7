"""Each command declares the one API-key scope it needs, and routes ask for it from there."""

from __future__ import annotations

import pytest

from engine import commands as c
from engine.access import SCOPES
from serve.api_key_auth import require_to_run


def test_every_command_declares_a_known_scope() -> None:
    for op, command in c.COMMAND_TYPES.items():
        assert command.scope in SCOPES, op
        assert command.scope != "realtime" and not command.scope.endswith(":read"), op


def test_a_route_of_commands_with_different_scopes_is_refused_at_import() -> None:
    assert c.Credit.scope != c.AwardXp.scope
    with pytest.raises(ValueError, match="one scope"):
        require_to_run(c.Credit, c.AwardXp)
    assert callable(require_to_run(c.Credit, c.Debit))
