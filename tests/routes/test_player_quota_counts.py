"""Issue 25, finding 13: the players quota counts players that exist, never refused creations; a
project without an economy says so (409 `economy-not-defined`), not "project not found"."""

from __future__ import annotations

from typing import Any

from tests.e2e.helpers import assert_problem, tenant_with_quotas
from tests.routes.conftest import PortalProxy, RouteApi, Seam


def test_refused_creations_do_not_use_the_players_quota(
    seam: Seam, control_plane: PortalProxy, demo_economy_document: dict[str, Any]
) -> None:
    backoffice = control_plane
    tenant, token = tenant_with_quotas(backoffice, "quota3", players=3)
    api = RouteApi(seam.client, tenant, "game", token)
    for name in ("one", "two", "three"):  # the new project has no economy yet
        body = assert_problem(api.post("/players", {"playerId": name, "username": name}), 409, "economy-not-defined")
        assert "define" in body["detail"] and "not found" not in body["detail"], body

    async def define() -> Any:
        return await (await seam.holder.get()).directory.define_economy(tenant, "game", demo_economy_document)

    outcome = seam.client.portal.call(define)
    assert outcome.ok, outcome
    for name in ("one", "two", "three"):
        created = api.post("/players", {"playerId": name, "username": name})
        assert created.status_code == 201, created.text
    refused = api.post("/players", {"playerId": "four", "username": "four"})
    assert_problem(refused, 403, "plan-limit")
    assert api.get("/players/four").status_code == 404
