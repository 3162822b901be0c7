"""Issue 25, finding 7, through the route seam: a cursor holding a number no store column holds
answers 422 `invalid-cursor` on every route that takes one (2**80 used to answer 500), and the
backoffice has a rate per signed-in user (`LUDEX_BACKOFFICE_RATE_PER_USER_PER_S`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.settings import Settings
from serve.pagination import encode_cursor
from tests.e2e.helpers import assert_problem
from tests.routes.conftest import RouteApi, Seam, seam_for

HUGE = 2**80


def _bearer(seam: Seam) -> dict[str, str]:
    creds = seam.credentials
    login = seam.client.post("/v1/auth/login", json={"email": creds["adminEmail"], "password": creds["adminPassword"]})
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['accessToken']}", "x-tenant-id": creds["tenantId"]}


@pytest.mark.parametrize(
    "position",
    [HUGE, -HUGE, [HUGE, 0], [0, HUGE], [HUGE, 0, "p", 1], [0, 0, "p", HUGE], {"a": HUGE}, 1.5e300],
    ids=repr,
)
def test_a_cursor_out_of_range_is_invalid_everywhere(seam: Seam, api: RouteApi, player: str, position: object) -> None:
    cursor = encode_cursor(position)
    game = [
        f"/players/{player}/wallet/history",
        "/events",
        "/players",
        "/leaderboards/high-score",
    ]
    for path in game:
        assert_problem(api.get(path, params={"cursor": cursor}), 422, "invalid-cursor")
    project = f"/v1/client/projects/{api.project}"
    backoffice = [
        f"{project}/players/{player}/journal",
        f"{project}/players/{player}/wallet/history",
        f"{project}/players",
        f"{project}/leaderboards/high-score",
        "/v1/client/projects",
        "/v1/admin/tenants",
        "/v1/admin/usage",
    ]
    headers = _bearer(seam)
    for path in backoffice:
        response = seam.client.get(path, params={"cursor": cursor}, headers=headers)
        assert_problem(response, 422, "invalid-cursor")


def test_backoffice_calls_are_limited_per_user(tmp_path: Path) -> None:
    # One call in 100 s (a bucket of one): nothing refills while the test runs, however slow.
    settings = Settings(deployment="routes", data_dir=tmp_path, shards=1, backoffice_rate_per_user_per_s=0.01)
    with seam_for(settings) as limited:
        headers = _bearer(limited)
        answers = [limited.client.get("/v1/auth/me", headers=headers) for _ in range(2)]
        assert answers[0].status_code == 200, answers[0].text
        body = assert_problem(answers[1], 429, "rate-limited")
        assert "backoffice" in body["detail"]
        assert int(answers[1].headers["Retry-After"]) >= 1
        assert limited.client.get("/v1/client/projects", headers=headers).status_code == 429
        game = RouteApi(limited.client, limited.credentials["tenantId"], "demo", limited.credentials["apiKey"])
        assert game.get("/players").status_code == 200, "the game API has its own buckets"
