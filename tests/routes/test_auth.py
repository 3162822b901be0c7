"""Tenant header and API keys over HTTP: 400, 401, 403 and 404 without leaking other tenants."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.helpers import assert_problem, balances, unique
from tests.routes.conftest import RouteApi as Api
from tests.routes.conftest import Seam, api_with_key


def make_key(control_plane: Any, *scopes: str, project: str = "demo", **options: Any) -> str:
    kwargs: dict[str, Any] = dict(options)
    if scopes:
        kwargs["scopes"] = scopes
    _, api_key = control_plane.create_api_key("demo", project, unique("key"), **kwargs)
    return str(api_key)


@pytest.fixture(scope="module")
def other_tenant(control_plane: Any) -> dict[str, str]:
    """Tenant `other` with project `other-proj` and its own all-scope key."""
    control_plane.ensure_tenant("other", "Other Corp")
    control_plane.ensure_project("other", "other-proj", "Other Corp secret project")
    _, api_key = control_plane.create_api_key("other", "other-proj", "other-key")
    return {"tenant": "other", "project": "other-proj", "apiKey": str(api_key)}


def test_a_request_without_tenant_header_answers_400_missing_tenant(seam: Seam, player: str) -> None:
    url = f"/v1/projects/demo/players/{player}"
    response = seam.client.get(url, headers={"x-api-key": seam.credentials["apiKey"]})
    assert_problem(response, 400, "missing-tenant")
    no_key_either = seam.client.post(f"{url}/wallet/credit", json={"currency": "coins", "amount": 1})
    assert_problem(no_key_either, 400, "missing-tenant")


def test_a_request_without_api_key_answers_401(seam: Seam, player: str) -> None:
    with api_with_key(seam, None) as anonymous:
        assert_problem(anonymous.get(f"/players/{player}"), 401, "missing-api-key")
        assert_problem(
            anonymous.post(f"/players/{player}/wallet/credit", {"currency": "coins", "amount": 1}),
            401,
            "missing-api-key",
        )


@pytest.mark.parametrize("api_key", ["ldx_000000000000_nope", "garbage", "ldx__", "ldx_x_"])
def test_an_unknown_api_key_answers_401(seam: Seam, player: str, api_key: str) -> None:
    with api_with_key(seam, api_key) as stranger:
        assert_problem(stranger.get(f"/players/{player}"), 401, "invalid-api-key")


def test_a_wrong_secret_for_a_real_key_prefix_answers_401(seam: Seam, player: str) -> None:
    real = seam.credentials["apiKey"]
    mark, prefix, _ = real.split("_", 2)
    with api_with_key(seam, f"{mark}_{prefix}_wrong-secret") as forger:
        assert_problem(forger.get(f"/players/{player}"), 401, "invalid-api-key")


def test_a_revoked_key_answers_401_from_the_next_call(seam: Seam, control_plane: Any, player: str) -> None:
    key, api_key = control_plane.create_api_key("demo", "demo", unique("revoke-me"))
    with api_with_key(seam, api_key) as client:
        assert client.get(f"/players/{player}").status_code == 200
        control_plane.revoke_api_key(key.id)
        assert_problem(client.get(f"/players/{player}"), 401, "invalid-api-key")
        assert_problem(
            client.post(f"/players/{player}/wallet/credit", {"currency": "coins", "amount": 1}), 401, "invalid-api-key"
        )


def test_an_expired_key_answers_401(seam: Seam, control_plane: Any, player: str) -> None:
    api_key = make_key(control_plane, expires_at="2020-01-01T00:00:00Z")
    with api_with_key(seam, api_key) as client:
        assert_problem(client.get(f"/players/{player}"), 401, "invalid-api-key")


def test_a_key_expiring_in_the_future_works(seam: Seam, control_plane: Any, player: str) -> None:
    api_key = make_key(control_plane, expires_at="2999-01-01T00:00:00Z")
    with api_with_key(seam, api_key) as client:
        assert client.get(f"/players/{player}").status_code == 200


def test_a_key_of_another_project_of_the_same_tenant_answers_403(seam: Seam, control_plane: Any, player: str) -> None:
    control_plane.ensure_project("demo", "second", "Second project")
    api_key = make_key(control_plane, project="second")
    with api_with_key(seam, api_key) as client:
        assert_problem(client.get(f"/players/{player}"), 403, "wrong-project")
        assert_problem(
            client.post(f"/players/{player}/wallet/credit", {"currency": "coins", "amount": 1}), 403, "wrong-project"
        )
    with api_with_key(seam, api_key, project="second") as own_project:
        assert own_project.get("/players").status_code == 200


def test_a_key_lacking_the_scope_answers_403_insufficient_scope(
    api: Api, seam: Seam, control_plane: Any, player: str
) -> None:
    api_key = make_key(control_plane, "players:read")
    with api_with_key(seam, api_key) as reader:
        assert reader.get(f"/players/{player}").status_code == 200
        assert reader.get(f"/players/{player}/wallet").status_code == 200
        body = assert_problem(
            reader.post(f"/players/{player}/wallet/credit", {"currency": "coins", "amount": 1}),
            403,
            "insufficient-scope",
        )
        assert "economy:write" in body["detail"]
        assert_problem(reader.post(f"/players/{player}/xp", {"amount": 1}), 403, "insufficient-scope")
        assert_problem(reader.post("/players", {"username": "nope"}), 403, "insufficient-scope")
    assert balances(api, player) == {}


def test_each_route_needs_its_own_scope(api: Api, seam: Seam, control_plane: Any, player: str) -> None:
    api.post(f"/players/{player}/wallet/credit", {"currency": "coins", "amount": 100})
    economy_only = make_key(control_plane, "economy:write")
    with api_with_key(seam, economy_only) as client:
        assert client.post(f"/players/{player}/wallet/credit", {"currency": "coins", "amount": 1}).status_code == 200
        assert_problem(client.post(f"/players/{player}/purchases", {"sku": "potion-pack"}), 403, "insufficient-scope")
        assert_problem(client.get(f"/players/{player}"), 403, "insufficient-scope")
    buyer = make_key(control_plane, "store:purchase")
    with api_with_key(seam, buyer) as client:
        assert client.post(f"/players/{player}/purchases", {"sku": "potion-pack"}).status_code == 201
    assert balances(api, player) == {"coins": 1}


def test_a_batch_checks_the_scope_of_each_command(api: Api, seam: Seam, control_plane: Any, player: str) -> None:
    api_key = make_key(control_plane, "players:write")
    commands = [
        {"op": "xp", "playerId": player, "amount": 10},
        {"op": "credit", "playerId": player, "currency": "coins", "amount": 10},
    ]
    with api_with_key(seam, api_key) as client:
        response = client.post("/commands", {"commands": commands})
    assert response.status_code == 200, response.text
    first, second = response.json()["results"]
    assert (first["ok"], first["status"]) == (True, 200)
    assert (second["ok"], second["status"]) == (False, 403)
    assert second["problem"]["type"].endswith("/insufficient-scope")
    assert balances(api, player) == {}
    assert api.get(f"/players/{player}/progression").json()["xp"] == 10


def test_a_project_of_another_tenant_answers_404_without_leaking_it(seam: Seam, other_tenant: dict[str, str]) -> None:
    demo_key = seam.credentials["apiKey"]
    with (
        api_with_key(seam, demo_key, project="other-proj") as intruder,
        api_with_key(seam, demo_key, project="no-such-project") as control,
    ):
        for path in ("/players", "/players/secret-player", "/store/catalog", "/players/secret-player/wallet"):
            response = intruder.get(path)
            body = assert_problem(response, 404, "project-not-found")
            assert "Other Corp" not in response.text
            assert "secret-player" not in body["detail"]
            baseline = control.get(path).json()
            # Same answer as for a project that exists nowhere, apart from the names the caller gave.
            assert body["title"] == baseline["title"]
            assert body["detail"] == baseline["detail"].replace("no-such-project", "other-proj")
        posted = intruder.post("/players", {"playerId": "secret-player", "username": "x"})
        assert_problem(posted, 404, "project-not-found")


def test_the_other_tenant_cannot_reach_the_demo_project(seam: Seam, other_tenant: dict[str, str], player: str) -> None:
    with api_with_key(seam, other_tenant["apiKey"], tenant="other") as outsider:
        assert_problem(outsider.get(f"/players/{player}"), 404, "project-not-found")
    with api_with_key(seam, other_tenant["apiKey"], tenant="demo") as disguised:
        response = disguised.get(f"/players/{player}")
        assert response.status_code in (403, 404), response.text
        assert player not in response.json()["detail"]


def test_a_key_cannot_probe_which_projects_another_tenant_has(seam: Seam, other_tenant: dict[str, str]) -> None:
    demo_key = seam.credentials["apiKey"]
    with (
        api_with_key(seam, demo_key, tenant="other", project="other-proj") as real,
        api_with_key(seam, demo_key, tenant="other", project="no-such-project") as absent,
    ):
        existing, missing = real.get("/players"), absent.get("/players")
    assert existing.status_code == missing.status_code
    assert existing.json()["type"] == missing.json()["type"]
