"""Backoffice reports through Ray Serve: a report grows with the game calls the shard hosts
journal. Each report's figures, CSV, windows, unknown reports and roles are tested at the route
seam (tests/routes/test_reports.py), without Ray."""

from __future__ import annotations

import httpx

from serve.launcher import Launched
from tests.e2e.conftest import Api
from tests.e2e.helpers import new_player


def test_the_demo_project_reports_grow_with_new_calls(admin: httpx.Client, api: Api, ludex: Launched) -> None:
    path = f"/v1/client/projects/{ludex.credentials['projectId']}/reports/currency-flow"

    def gems_earned() -> int:
        response = admin.get(path)  # the last 30 days, today included
        assert response.status_code == 200, response.text
        return int(response.json()["totals"]["currencies"].get("gems", {}).get("earned", 0))

    before = gems_earned()
    player = new_player(api)
    assert api.post(f"/players/{player}/wallet/credit", {"currency": "gems", "amount": 7}).status_code == 200
    assert gems_earned() - before >= 7
