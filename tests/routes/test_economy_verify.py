"""The economy verifier at the route seam (no Ray): `POST .../economy/verify` answers the
findings, `PUT .../economy` refuses `error` findings with 422 `economy-unsafe` unless forced, a
forced publish is audited, and the dry run answers the findings too."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.e2e.helpers import assert_problem
from tests.routes.conftest import Dashboard

ARBITRAGE: dict[str, Any] = {
    "currencies": [{"id": "coins", "kind": "soft"}, {"id": "gems", "kind": "hard"}],
    "xpCurve": {"levels": [0, 100]},
    "skus": [
        {"sku": "gem-pack", "price": {"coins": 100}, "grants": {"currencies": {"gems": 3}}},
        {"sku": "gem-sale", "price": {"gems": 10}, "grants": {"currencies": {"coins": 500}}},
    ],
}


@pytest.fixture(scope="module")
def admin(office_admin: Dashboard) -> Dashboard:
    return office_admin


@pytest.fixture
def project(admin: Dashboard) -> str:
    project = f"vf-{uuid.uuid4().hex[:8]}"
    assert admin.post("/v1/client/projects", json={"id": project, "name": project}).status_code == 201
    return f"/v1/client/projects/{project}"


def test_verify_answers_the_findings(admin: Dashboard, project: str, demo_economy_document: Any) -> None:
    response = admin.post(f"{project}/economy/verify", json=ARBITRAGE)
    assert response.status_code == 200, response.text
    [arbitrage] = [f for f in response.json()["findings"] if f["kind"] == "arbitrage"]
    assert arbitrage["severity"] == "error" and arbitrage["path"] == "skus[0]"
    assert arbitrage["cycle"][-1] == "net per round: +500 coins"
    clean = admin.post(f"{project}/economy/verify", json=demo_economy_document).json()["findings"]
    assert [f["severity"] for f in clean] == ["info", "info"]
    assert clean[0]["cycle"] is None


def test_verify_refuses_an_invalid_document_naming_its_fields(admin: Dashboard, project: str) -> None:
    response = admin.post(f"{project}/economy/verify", json={"currencies": [{"id": "coins"}]})
    problem = assert_problem(response, 422, "invalid-definition")
    assert {"field": "xpCurve", "message": "required"} in problem["errors"]


def test_an_unsafe_economy_is_refused_and_nothing_is_stored(admin: Dashboard, project: str) -> None:
    for params in ({}, {"dryRun": "true"}):
        problem = assert_problem(admin.put(f"{project}/economy", params=params, json=ARBITRAGE), 422, "economy-unsafe")
        assert [f["kind"] for f in problem["findings"] if f["severity"] == "error"] == ["arbitrage"]
        assert problem["errors"][0]["field"] == "skus[0]"
    assert_problem(admin.get(f"{project}/economy"), 404, "not-found")


def test_forcing_publishes_and_is_audited(admin: Dashboard, project: str) -> None:
    dry = admin.put(f"{project}/economy", params={"dryRun": "true", "force": "true"}, json=ARBITRAGE)
    assert dry.status_code == 200 and dry.json()["dryRun"] and dry.json()["findings"][0]["kind"] == "arbitrage"
    forced = admin.put(f"{project}/economy", params={"force": "true"}, json=ARBITRAGE)
    assert forced.status_code == 200, forced.text
    assert forced.json()["findings"][0]["kind"] == "arbitrage"
    target = project.rsplit("/", 1)[1]
    entries = admin.get("/v1/admin/audit", params={"action": "economy.force", "target": target}).json()["items"]
    assert [entry["after"] for entry in entries] == [
        {"forced": True, "version": forced.json()["version"], "findings": len(forced.json()["findings"]), "errors": 1}
    ]


def test_a_clean_publish_answers_its_findings_and_is_not_forced(
    admin: Dashboard, project: str, demo_economy_document: Any
) -> None:
    dry = admin.put(f"{project}/economy", params={"dryRun": "true"}, json=demo_economy_document)
    assert dry.status_code == 200 and {f["kind"] for f in dry.json()["findings"]} == {"earn-bound"}
    published = admin.put(f"{project}/economy", params={"force": "true"}, json=demo_economy_document)
    assert published.status_code == 200
    target = project.rsplit("/", 1)[1]
    assert admin.get("/v1/admin/audit", params={"action": "economy.force", "target": target}).json()["items"] == []
