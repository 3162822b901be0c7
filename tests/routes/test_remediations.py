"""Remediation at the route seam: a dry run previews the compensating entries and changes
nothing; an apply takes back a mispriced bundle's grants (the rest as debt that later credits
pay first), shows in the ledger, answers progress by id and in the list; a rerun and a resume
after an interrupted run apply nothing twice; another tenant's members can neither see nor
remediate."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from actors import remediation as rem
from engine.rbac import Membership
from tests.e2e.helpers import assert_problem, new_player
from tests.routes.conftest import Dashboard, RouteApi, Seam, project_api, sign_in

PASSWORD = "correct-horse-battery-staple"
SCOPES = ["players:read", "players:write", "economy:write", "store:purchase"]


@pytest.fixture(scope="module")
def admin(office_admin: Dashboard) -> Dashboard:
    return office_admin


@pytest.fixture(scope="module")
def exploit(office: Seam, admin: Dashboard, demo_economy_document: Any) -> dict[str, Any]:
    """Three players buy the starter bundle (10 gems for 500 coins, a sword, 200 XP) with keys
    `exploit-*`; the first then spends 300 coins, so a clawback leaves it 300 in debt. A fourth
    player only earns coins (not selected)."""
    game = project_api(office, admin, demo_economy_document, SCOPES, prefix="rem")
    players = [new_player(game) for _ in range(4)]  # type: ignore[arg-type]
    for index, player in enumerate(players[:3]):
        assert game.post(f"/players/{player}/wallet/credit", {"currency": "gems", "amount": 10}).status_code == 200
        bought = game.post(
            f"/players/{player}/purchases", {"sku": "starter-bundle"}, headers={"Idempotency-Key": f"exploit-{index}"}
        )
        assert bought.status_code == 201, bought.text
    assert game.post(f"/players/{players[0]}/wallet/debit", {"currency": "coins", "amount": 300}).status_code == 200
    assert game.post(f"/players/{players[3]}/wallet/credit", {"currency": "coins", "amount": 50}).status_code == 200
    return {"game": game, "players": players, "path": f"/v1/client/projects/{game.project}/remediations"}


def _select(**extra: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {"from": (now - timedelta(hours=1)).isoformat(), "to": (now + timedelta(hours=1)).isoformat(), **extra}


def _wallet(game: RouteApi, player: str) -> dict[str, Any]:
    response = game.get(f"/players/{player}/wallet")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _finished(admin: Dashboard, path: str, remediation_id: str) -> dict[str, Any]:
    for _ in range(200):
        response = admin.get(f"{path}/{remediation_id}")
        assert response.status_code == 200, response.text
        if response.json()["status"] != "running":
            body: dict[str, Any] = response.json()
            return body
        time.sleep(0.05)
    raise AssertionError(f"{remediation_id} still running")


def test_remediation_end_to_end(admin: Dashboard, exploit: dict[str, Any], office: Seam) -> None:
    game, players, path = exploit["game"], exploit["players"], exploit["path"]
    body = {"select": _select(op="purchase", sku="starter-bundle"), "action": "clawback", "dryRun": True}
    before = [_wallet(game, p) for p in players]

    preview = admin.post(path, json=body)
    assert preview.status_code == 200, preview.text
    found = preview.json()
    assert found["players"] == 3
    first = [entry for entry in found["entries"] if entry["playerId"] == players[0]]
    assert first == [
        {"playerId": players[0], "currency": "coins", "amount": 500, "balanceAfter": 0, "debt": 300},
        {"playerId": players[0], "currency": "gems", "amount": -10, "balanceAfter": 10, "debt": 0},
        {"playerId": players[0], "itemId": "sword", "amount": 1, "balanceAfter": 0, "debt": 0},
    ]
    assert found["totals"]["currencies"]["coins"] == {"amount": 1500, "debt": 300, "players": 3}
    assert [_wallet(game, p) for p in players] == before, "a dry run changes nothing"

    started = admin.post(path, json={**body, "dryRun": False})
    assert started.status_code == 202, started.text
    remediation_id = started.json()["remediationId"]
    done = _finished(admin, path, remediation_id)
    assert done["status"] == "succeeded" and done["progress"] == {"done": 3, "total": 3, "failed": 0}
    assert done["totals"] == found["totals"]

    assert _wallet(game, players[0]) == {"balances": {"coins": 0, "gems": 10}, "debts": {"coins": 300}}
    assert _wallet(game, players[1]) == {"balances": {"coins": 0, "gems": 10}}
    assert _wallet(game, players[3]) == before[3], "a player outside the selection is untouched"
    inventory = game.get(f"/players/{players[1]}/inventory").json()["items"]
    assert all(line["itemId"] != "sword" for line in inventory)

    # a later credit pays the debt first; the ledger shows the clawback and the repayment
    paid = game.post(f"/players/{players[0]}/wallet/credit", {"currency": "coins", "amount": 120})
    assert paid.status_code == 200 and paid.json()["balance"] == 0
    assert _wallet(game, players[0])["debts"] == {"coins": 180}
    ledger = game.get(f"/players/{players[0]}/wallet/history", params={"currency": "coins"}).json()["items"]
    assert [(e["delta"], e.get("debtAfter")) for e in ledger[-3:]] == [(-200, 300), (120, None), (-120, 180)]
    assert sum(e["delta"] for e in ledger) == 0, "the ledger still sums to the balance"

    # a rerun over the same window finds nothing left to take back
    again = admin.post(path, json=body)
    assert again.status_code == 200 and again.json()["players"] == 0

    # resume after an interrupted run: progress lost, lease lapsed; reading it resumes, and the
    # players' idempotency keys make the resent commands replays
    async def interrupt() -> None:
        backend = await office.holder.get()
        key = rem.doc_id("demo", game.project, remediation_id)
        document = await backend.store.get_document(rem.KIND, key)
        assert document is not None
        document.update(status="running", progress={**document["progress"], "done": 0}, leaseUntil=0)
        await backend.store.put_document(rem.KIND, key, document)

    after_first = [_wallet(game, p) for p in players]
    office.client.portal.call(interrupt)
    resumed = _finished(admin, path, remediation_id)
    assert resumed["status"] == "succeeded" and resumed["progress"]["done"] == 3
    assert [_wallet(game, p) for p in players] == after_first, "a resumed run applies nothing twice"

    listed = admin.get(path, params={"limit": 1})
    assert listed.status_code == 200 and [r["remediationId"] for r in listed.json()["items"]] == [remediation_id]


def test_the_apply_and_its_end_are_audited(admin: Dashboard, exploit: dict[str, Any]) -> None:
    started = admin.post(
        exploit["path"],
        json={"select": _select(playerIds=[exploit["players"][3]]), "action": "clawback", "dryRun": False},
    )
    assert started.status_code == 202, started.text
    remediation_id = started.json()["remediationId"]
    assert _finished(admin, exploit["path"], remediation_id)["progress"]["done"] == 1
    target = f"{exploit['game'].project}/{remediation_id}"
    actions: set[str] = set()
    for _ in range(100):
        found = admin.get("/v1/admin/audit", params={"tenantId": "demo", "target": target})
        assert found.status_code == 200, found.text
        actions = {entry["action"] for entry in found.json()["items"]}
        if len(actions) == 2:
            break
        time.sleep(0.05)
    assert actions == {"remediation.apply", "remediation.finish"}


def test_revoke_takes_back_achievements_the_records_unlocked(admin: Dashboard, exploit: dict[str, Any]) -> None:
    game = exploit["game"]
    player = new_player(game)  # type: ignore[arg-type]
    won = game.post(f"/players/{player}/counters/wins/increment", {"by": 1}, headers={"Idempotency-Key": "win-1"})
    assert won.status_code == 200 and "first-win" in won.json()["unlocked"], won.text
    body = {"select": _select(idempotencyKeyPrefix="win-", playerIds=[player]), "action": "revoke", "dryRun": False}
    started = admin.post(exploit["path"], json=body)
    assert started.status_code == 202, started.text
    assert _finished(admin, exploit["path"], started.json()["remediationId"])["status"] == "succeeded"
    achievements = game.get(f"/players/{player}/achievements").json()["items"]
    assert all(a["achievementId"] != "first-win" for a in achievements)


def test_bad_selections_are_422(admin: Dashboard, exploit: dict[str, Any]) -> None:
    now = datetime.now(UTC).isoformat()
    backwards = admin.post(exploit["path"], json={"select": {"from": now, "to": now}, "action": "clawback"})
    assert_problem(backwards, 422, "validation-error")
    unknown = admin.post(exploit["path"], json={"select": _select(), "action": "refund"})
    assert_problem(unknown, 422, "validation-error")
    assert_problem(admin.get(f"{exploit['path']}/rem_0000000000000000"), 404, "not-found")


def test_another_tenant_can_neither_see_nor_remediate(
    office: Seam, office_accounts: Any, office_control: Any, exploit: dict[str, Any]
) -> None:
    suffix = uuid.uuid4().hex[:6]
    office_control.ensure_tenant("other", "Other Corp")
    office_control.ensure_project("other", "other-proj", "Other Corp project")
    owner = f"other-owner-{suffix}@example.com"
    office_accounts.create_user(owner, PASSWORD, None, (Membership("other", "owner", ("*",)),))
    stranger = sign_in(office, owner, PASSWORD, "other")
    body = {"select": _select(), "action": "clawback", "dryRun": True}
    # their own tenant header: the project is not theirs
    assert_problem(stranger.post(exploit["path"], json=body), 404, "project-not-found")
    assert_problem(stranger.get(exploit["path"]), 404, "project-not-found")
    # the victim's tenant header: no membership there
    as_demo = {"x-tenant-id": "demo"}
    assert_problem(stranger.post(exploit["path"], json=body, headers=as_demo), 403, "forbidden")
    assert_problem(stranger.get(exploit["path"], headers=as_demo), 403, "forbidden")
    # and a remediation of their own project selects nothing of the victim's
    own = stranger.post("/v1/client/projects/other-proj/remediations", json=body)
    assert own.status_code == 200 and own.json()["players"] == 0


def test_an_analyst_may_not_remediate(office: Seam, office_accounts: Any, exploit: dict[str, Any]) -> None:
    analyst = f"analyst-rem-{uuid.uuid4().hex[:6]}@example.com"
    office_accounts.create_user(analyst, PASSWORD, None, (Membership("demo", "analyst", ("*",)),))
    client = sign_in(office, analyst, PASSWORD, "demo")
    body = {"select": _select(), "action": "clawback", "dryRun": True}
    assert_problem(client.post(exploit["path"], json=body), 403, "forbidden")
