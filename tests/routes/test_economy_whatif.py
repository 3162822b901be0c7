"""What-if jobs at the route seam (no Ray): a job replays the project's real journal under a
proposed economy and shows the change beside history; bad input is problem+json and starts
nothing; another tenant cannot read or cancel a job; a tenant runs one job at a time."""

from __future__ import annotations

import copy
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from engine.rbac import Membership
from tests.e2e.helpers import assert_problem, new_player
from tests.routes.conftest import Dashboard, RouteApi, Seam, sign_in

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(scope="module")
def admin(office_admin: Dashboard) -> Dashboard:
    return office_admin


@pytest.fixture(scope="module")
def played(office: Seam, admin: Dashboard, demo_economy_document: Any) -> dict[str, Any]:
    """A fresh project where two players earned coins and bought potions."""
    project = f"wif-{uuid.uuid4().hex[:8]}"
    assert admin.post("/v1/client/projects", json={"id": project, "name": "What-if"}).status_code == 201
    assert admin.put(f"/v1/client/projects/{project}/economy", json=demo_economy_document).status_code == 200
    scopes = ["players:read", "players:write", "economy:write", "store:purchase"]
    key = admin.post(f"/v1/client/projects/{project}/api-keys", json={"name": "whatif", "scopes": scopes})
    game = RouteApi(office.client, office.credentials["tenantId"], project, key.json()["apiKey"])
    for _ in range(2):
        player = new_player(game)
        assert game.post(f"/players/{player}/wallet/credit", {"currency": "coins", "amount": 250}).status_code == 200
        assert game.post(f"/players/{player}/purchases", {"sku": "potion-pack", "quantity": 2}).status_code == 201
    return {"project": project, "path": f"/v1/client/projects/{project}/economy/what-if", "game": game}


def window() -> dict[str, str]:
    now = datetime.now(UTC).date()
    return {"from": (now - timedelta(days=1)).isoformat(), "to": (now + timedelta(days=1)).isoformat()}


def finished(client: Dashboard, path: str, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(f"{path}/{job_id}").json()
        if job["status"] != "running":
            return job
        time.sleep(0.05)
    raise AssertionError(f"what-if {job_id} still running")


def test_a_price_rise_is_replayed_beside_history(
    admin: Dashboard, played: dict[str, Any], demo_economy_document: Any
) -> None:
    dearer = copy.deepcopy(demo_economy_document)
    dearer["skus"][0]["price"] = {"coins": 200}
    started = admin.post(played["path"], json={"economy": dearer, **window()})
    assert started.status_code == 202, started.text
    job = finished(admin, played["path"], started.json()["jobId"])
    assert job["status"] == "done" and job["progress"]["fraction"] == 1.0, job
    result = job["result"]
    assert result["players"] == 2 and result["sample"]["sampled"] is False
    [potions] = result["purchases"]
    assert potions["before"] == {"receipts": 2, "units": 4} and potions["after"] == {"receipts": 0, "units": 0}
    [refused] = result["refused"]
    assert (refused["op"], refused["reason"], refused["target"], refused["count"]) == (
        "purchase", "insufficient-funds", "potion-pack", 2,
    )  # fmt: skip
    coins = next(b for b in result["balances"] if b["currency"] == "coins")
    assert coins["before"]["supply"] == 100 and coins["after"]["supply"] == 500
    # Nothing was written to any player: the game still sees the recorded history.
    game: RouteApi = played["game"]
    players = game.get("/players").json()["items"]
    assert all(game.get(f"/players/{p['playerId']}/wallet").json()["balances"]["coins"] == 50 for p in players)


@pytest.mark.parametrize(
    ("body", "slug"),
    [
        (
            {"economy": {"currencies": [{"id": "coins"}]}, "from": "2026-03-01", "to": "2026-03-02"},
            "invalid-definition",
        ),
        ({"economy": {}, "from": "2026-03-05", "to": "2026-03-01"}, "validation-error"),
        ({"economy": {}, "from": "2024-01-01", "to": "2026-01-01"}, "validation-error"),
        ({"economy": {}, "from": "2026-02-30", "to": "2026-03-01"}, "validation-error"),
        ({"economy": {}, "from": "2026-03-01", "to": "2026-03-02", "samplePlayers": 0}, "validation-error"),
        ({"from": "2026-03-01", "to": "2026-03-02"}, "validation-error"),
    ],
)
def test_bad_input_is_a_problem(admin: Dashboard, played: dict[str, Any], body: dict[str, Any], slug: str) -> None:
    assert_problem(admin.post(played["path"], json=body), 422, slug)


def test_an_unknown_or_malformed_job_is_404(admin: Dashboard, played: dict[str, Any]) -> None:
    assert_problem(admin.get(f"{played['path']}/wif_0123456789abcdef"), 404, "not-found")
    assert_problem(admin.get(f"{played['path']}/wif_NOT-AN-ID"), 422, "validation-error")


def test_another_tenant_cannot_read_or_cancel_a_job(
    office: Seam, admin: Dashboard, office_control: Any, office_accounts: Any, played: dict[str, Any],
    demo_economy_document: Any,
) -> None:  # fmt: skip
    job_id = admin.post(played["path"], json={"economy": demo_economy_document, **window()}).json()["jobId"]
    finished(admin, played["path"], job_id)
    office_control.ensure_tenant("other", "Other Corp")
    office_control.ensure_project("other", "other-proj", "Other Corp project")
    email = f"other-owner-{uuid.uuid4().hex[:6]}@example.com"
    office_accounts.create_user(email, PASSWORD, None, (Membership("other", "owner", ("*",)),))
    other = sign_in(office, email, PASSWORD, "other")
    assert_problem(other.get(f"{played['path']}/{job_id}"), 404, "project-not-found")
    assert_problem(other.post(f"{played['path']}/{job_id}/cancel"), 404, "project-not-found")
    theirs = f"/v1/client/projects/other-proj/economy/what-if/{job_id}"
    assert_problem(other.get(theirs), 404, "not-found")
    assert_problem(other.post(f"{theirs}/cancel"), 404, "not-found")
    assert admin.get(f"{played['path']}/{job_id}").json()["status"] == "done"


def test_a_sample_replays_that_many_players_and_says_so(
    admin: Dashboard, played: dict[str, Any], demo_economy_document: Any
) -> None:
    started = admin.post(played["path"], json={"economy": demo_economy_document, "samplePlayers": 1, **window()})
    job = finished(admin, played["path"], started.json()["jobId"])
    assert job["status"] == "done" and job["samplePlayers"] == 1
    assert job["result"]["players"] == 1
    assert job["result"]["sample"] == {"sampled": True, "samplePlayers": 1, "playersInProject": 2}
    cancelled = admin.post(f"{played['path']}/{job['jobId']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "done", "a finished job stays as it is"
