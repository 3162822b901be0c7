"""The economy-health report through Ray Serve: it is kept incrementally, folding only the events
the shard hosts committed since the last read. Its figures, CSV, windows and tenant isolation are
tested at the route seam (tests/routes/test_economy_health.py), without Ray."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from actors.economy_health import CURSORS
from serve.launcher import Launched
from tests.e2e.helpers import new_project
from tests.support.economy_health import SCOPES, played, report


@pytest.fixture(scope="module")
def economy(ludex: Launched, admin: httpx.Client, demo_economy_document: Any) -> dict[str, Any]:
    """A fresh project where the economy-health calls were played (`tests/support/economy_health.py`)."""
    return played(new_project(admin, ludex.base_url, demo_economy_document, SCOPES, prefix="eh"))


def test_the_report_is_kept_incrementally(
    admin: httpx.Client, economy: dict[str, Any], direct_store: tuple[Any, Any]
) -> None:
    loop, store = direct_store
    before = report(admin, economy, currency="coins")["rows"][0]
    cursor = loop.run_until_complete(store.get_document(CURSORS, f"demo/{economy['project']}"))
    assert cursor is not None and cursor["currencies"] == ["coins", "gems"]
    ada = economy["players"][0]
    credited = economy["game"].post(f"/players/{ada}/wallet/credit", {"currency": "coins", "amount": 7})
    assert credited.status_code == 200
    after = report(admin, economy, currency="coins")["rows"][0]
    assert (after["supply"], after["net"]) == (before["supply"] + 7, before["net"] + 7)
    moved = loop.run_until_complete(store.get_document(CURSORS, f"demo/{economy['project']}"))
    assert moved["cursor"] > cursor["cursor"], "the cursor moves past the new event, and only it is folded"
    assert report(admin, economy, currency="coins")["rows"][0] == after, "reading again folds nothing new"
