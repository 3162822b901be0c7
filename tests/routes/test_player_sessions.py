"""Player sessions through the route seam (no Ray): sign-in by device and by the studio's own
token, what a session may read and send, and each refusal: another player, a server-only op, a
route for servers, a reused refresh token, a ban, forged and expired tokens, device sign-in off."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from config.settings import Settings
from tests.e2e.helpers import tenant_with_quotas
from tests.routes.conftest import Dashboard, RouteApi, Seam, seam_for, service_proxy, sign_in
from tests.support.player_sessions import bearer, device_sign_in

SECRET = "s" * 64


@pytest.fixture(scope="module")
def sessions_seam(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seam]:
    data_dir: Path = tmp_path_factory.mktemp("ludex-sessions")
    settings = Settings(
        deployment="sessions",
        data_dir=data_dir,
        shards=2,
        player_signin_rate_per_ip_per_s=1000.0,
        login_rate_per_ip_per_s=1000.0,
        backoffice_rate_per_user_per_s=1000.0,
    )
    with seam_for(settings) as started:
        yield started


@pytest.fixture(scope="module")
def admin(sessions_seam: Seam) -> Dashboard:
    creds = sessions_seam.credentials
    return sign_in(sessions_seam, creds["adminEmail"], creds["adminPassword"], creds["tenantId"])


@pytest.fixture(scope="module")
def server(sessions_seam: Seam) -> RouteApi:
    creds = sessions_seam.credentials
    return RouteApi(sessions_seam.client, creds["tenantId"], creds["projectId"], creds["apiKey"])


@pytest.fixture(scope="module")
def anonymous(sessions_seam: Seam) -> RouteApi:
    creds = sessions_seam.credentials
    return RouteApi(sessions_seam.client, creds["tenantId"], creds["projectId"], None)


def test_device_sign_in_creates_the_player_once_and_the_session_reads_it_as_me(anonymous: RouteApi) -> None:
    device = uuid.uuid4().hex
    first = device_sign_in(anonymous, device)
    again = device_sign_in(anonymous, device)
    assert first["created"] is True and again["created"] is False
    assert first["playerId"] == again["playerId"]
    profile = anonymous.get("/players/me", headers=bearer(first))
    assert profile.status_code == 200, profile.text
    assert profile.json()["playerId"] == first["playerId"]
    for path in ("/wallet", "/wallet/history", "/inventory", "/quests", "/achievements", "/flags"):
        assert anonymous.get(f"/players/me{path}", headers=bearer(first)).status_code == 200, path
    own = anonymous.get(f"/players/{first['playerId']}/wallet", headers=bearer(first))
    assert own.status_code == 200


def test_a_device_signs_in_again_with_another_username_or_none(anonymous: RouteApi) -> None:
    """A game that asks for a name only on first launch signs the same player in afterwards."""
    device = uuid.uuid4().hex
    first = anonymous.post("/auth/device", {"deviceId": device, "username": "first-name"})
    assert first.status_code == 200, first.text
    renamed = anonymous.post("/auth/device", {"deviceId": device, "username": "other-name"})
    nameless = device_sign_in(anonymous, device)
    assert renamed.status_code == 200, renamed.text
    assert first.json()["created"] is True and renamed.json()["created"] is False and nameless["created"] is False
    assert {renamed.json()["playerId"], nameless["playerId"]} == {first.json()["playerId"]}
    profile = anonymous.get("/players/me", headers=bearer(nameless))
    assert profile.json()["username"] == "first-name"


def test_a_session_may_not_touch_another_player(anonymous: RouteApi, server: RouteApi) -> None:
    mine, theirs = device_sign_in(anonymous), device_sign_in(anonymous)
    response = anonymous.get(f"/players/{theirs['playerId']}/wallet", headers=bearer(mine))
    assert response.status_code == 403
    assert response.json()["type"].endswith("/not-your-player")
    server.post(f"/players/{theirs['playerId']}/items/grant", {"itemId": "potion", "quantity": 2})
    batch = anonymous.post(
        "/commands",
        {"commands": [{"op": "consume", "playerId": theirs["playerId"], "itemId": "potion", "quantity": 1}]},
        headers=bearer(mine),
    )
    assert batch.status_code == 200
    assert batch.json()["results"][0]["problem"]["type"].endswith("/not-your-player")
    assert server.get(f"/players/{theirs['playerId']}/inventory").json()["items"] == [
        {"itemId": "potion", "quantity": 2}
    ]


def test_server_only_ops_are_refused_and_client_ops_run(anonymous: RouteApi, server: RouteApi) -> None:
    tokens = device_sign_in(anonymous)
    xp = anonymous.post("/players/me/xp", {"amount": 460}, headers=bearer(tokens))
    assert xp.status_code == 403
    assert xp.json()["type"].endswith("/not-client-callable")
    credit = anonymous.post(
        "/commands",
        {"commands": [{"op": "credit", "playerId": "me", "currency": "coins", "amount": 5}]},
        headers=bearer(tokens),
    )
    assert credit.json()["results"][0]["problem"]["type"].endswith("/not-client-callable")
    assert server.get(f"/players/{tokens['playerId']}").json()["xp"] == 0
    server.post(f"/players/{tokens['playerId']}/wallet/credit", {"currency": "coins", "amount": 100})
    bought = anonymous.post("/players/me/purchases", {"sku": "potion-pack"}, headers=bearer(tokens))
    assert bought.status_code == 201, bought.text
    used = anonymous.post("/players/me/items/consume", {"itemId": "potion", "quantity": 1}, headers=bearer(tokens))
    assert used.status_code == 200, used.text
    assert used.json()["quantity"] == 4


def test_routes_for_servers_refuse_sessions(anonymous: RouteApi) -> None:
    tokens = device_sign_in(anonymous)
    listing = anonymous.get("/players", headers=bearer(tokens))
    assert listing.status_code == 403
    assert listing.json()["type"].endswith("/not-client-callable")
    assert anonymous.get("/store/catalog", headers=bearer(tokens)).status_code == 200
    assert anonymous.get("/leaderboards", headers=bearer(tokens)).status_code == 200


def test_refresh_rotates_and_a_reused_refresh_token_ends_every_session(anonymous: RouteApi) -> None:
    device = uuid.uuid4().hex
    first = device_sign_in(anonymous, device)
    other = device_sign_in(anonymous, device)
    renewed = anonymous.post("/auth/refresh", {"refreshToken": first["refreshToken"]})
    assert renewed.status_code == 200, renewed.text
    assert renewed.json()["refreshToken"] != first["refreshToken"]
    assert anonymous.get("/players/me", headers=bearer(renewed.json())).status_code == 200
    reused = anonymous.post("/auth/refresh", {"refreshToken": first["refreshToken"]})
    assert reused.status_code == 401
    assert reused.json()["type"].endswith("/refresh-token-reused")
    for tokens in (renewed.json(), other):
        ended = anonymous.get("/players/me", headers=bearer(tokens))
        assert ended.status_code == 401
        assert ended.json()["type"].endswith("/invalid-token")
    assert anonymous.post("/auth/refresh", {"refreshToken": renewed.json()["refreshToken"]}).status_code == 401


def test_an_unknown_refresh_token_ends_nothing(anonymous: RouteApi) -> None:
    tokens = device_sign_in(anonymous)
    sid = tokens["refreshToken"].split("_")[1]
    guessed = anonymous.post("/auth/refresh", {"refreshToken": f"ldxr_{sid}_guessed"})
    assert guessed.status_code == 401
    assert guessed.json()["type"].endswith("/invalid-token")
    assert anonymous.get("/players/me", headers=bearer(tokens)).status_code == 200


def test_logout_ends_the_session_at_once(anonymous: RouteApi) -> None:
    tokens = device_sign_in(anonymous)
    assert anonymous.post("/auth/logout", {"refreshToken": tokens["refreshToken"]}).status_code == 204
    assert anonymous.get("/players/me", headers=bearer(tokens)).status_code == 401
    assert anonymous.post("/auth/refresh", {"refreshToken": tokens["refreshToken"]}).status_code == 401


def test_a_ban_ends_sessions_refuses_sign_in_and_is_audited(
    anonymous: RouteApi, admin: Dashboard, server: RouteApi
) -> None:
    device = uuid.uuid4().hex
    tokens = device_sign_in(anonymous, device)
    base = f"/v1/client/projects/{server.project}/players/{tokens['playerId']}"
    banned = admin.post(f"{base}/ban", json={"reason": "chargeback fraud"})
    assert banned.status_code == 200, banned.text
    assert banned.json()["ban"]["reason"] == "chargeback fraud" and banned.json()["items"] == []
    call = anonymous.get("/players/me", headers=bearer(tokens))
    assert call.status_code == 403
    assert call.json()["type"].endswith("/player-banned")
    refused = anonymous.post("/auth/device", {"deviceId": device})
    assert refused.status_code == 403
    assert refused.json()["type"].endswith("/player-banned")
    assert admin.post(f"{base}/unban").status_code == 200
    assert anonymous.post("/auth/device", {"deviceId": device}).status_code == 200
    for action in ("player.ban", "player.unban"):
        audit = admin.get(
            "/v1/admin/audit", params={"action": action, "target": f"{server.project}/{tokens['playerId']}"}
        )
        assert audit.json()["items"][0]["after"]["playerId"] == tokens["playerId"], audit.text


def test_revoking_sessions_ends_them_and_lists_none(anonymous: RouteApi, admin: Dashboard, server: RouteApi) -> None:
    device = uuid.uuid4().hex
    first, second = device_sign_in(anonymous, device), device_sign_in(anonymous, device)
    base = f"/v1/client/projects/{server.project}/players/{first['playerId']}"
    listed = admin.get(f"{base}/sessions").json()
    assert len(listed["items"]) == 2 and "refreshHash" not in str(listed)
    revoked = admin.post(f"{base}/sessions/revoke")
    assert revoked.json() == {"playerId": first["playerId"], "ended": 2}
    for tokens in (first, second):
        assert anonymous.get("/players/me", headers=bearer(tokens)).status_code == 401
    assert admin.get(f"{base}/sessions").json()["items"] == []


def _pem(key: Any) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def _claims(player: str, *, exp_in: int = 300, **extra: Any) -> dict[str, Any]:
    return {"sub": player, "exp": int(time.time()) + exp_in, **extra}


def test_custom_sign_in_accepts_the_projects_secret_and_registered_keys(
    anonymous: RouteApi, admin: Dashboard, server: RouteApi
) -> None:
    ed, rs = ed25519.Ed25519PrivateKey.generate(), rsa.generate_private_key(public_exponent=65537, key_size=2048)
    settings = admin.patch(
        f"/v1/client/projects/{server.project}/player-auth",
        json={
            "secret": SECRET,
            "publicKeys": [
                {"kid": "ed", "alg": "EdDSA", "publicKey": _pem(ed)},
                {"kid": "rs", "alg": "RS256", "publicKey": _pem(rs)},
            ],
        },
    )
    assert settings.status_code == 200, settings.text
    assert settings.json()["hasSecret"] is True and "secret" not in settings.json()
    player = f"studio-{uuid.uuid4().hex[:8]}"
    tokens = [
        jwt.encode(_claims(player, aud=server.project), SECRET, algorithm="HS256"),
        jwt.encode(_claims(player), ed, algorithm="EdDSA", headers={"kid": "ed"}),
        jwt.encode(_claims(player), rs, algorithm="RS256"),
    ]
    answers = [anonymous.post("/auth/custom", {"token": token}) for token in tokens]
    assert [a.status_code for a in answers] == [200, 200, 200], [a.text for a in answers]
    assert [a.json()["created"] for a in answers] == [True, False, False]
    assert anonymous.get("/players/me", headers=bearer(answers[0].json())).json()["playerId"] == player


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda p, project: jwt.encode(_claims(p), "w" * 48, algorithm="HS256"), id="wrong-key"),
        pytest.param(lambda p, project: jwt.encode(_claims(p), None, algorithm="none"), id="alg-none"),
        pytest.param(lambda p, project: jwt.encode(_claims(p, exp_in=-5), SECRET, algorithm="HS256"), id="expired"),
        pytest.param(lambda p, project: jwt.encode({"sub": p}, SECRET, algorithm="HS256"), id="no-exp"),
        pytest.param(
            lambda p, project: jwt.encode(_claims(p, aud="other"), SECRET, algorithm="HS256"), id="other-project"
        ),
        pytest.param(lambda p, project: jwt.encode(_claims(p), SECRET, algorithm="HS512"), id="other-alg"),
        pytest.param(lambda p, project: "not.a.jwt", id="garbage"),
    ],
)
def test_custom_sign_in_refuses_forged_tokens(
    anonymous: RouteApi, admin: Dashboard, server: RouteApi, forge: Any
) -> None:
    admin.patch(f"/v1/client/projects/{server.project}/player-auth", json={"secret": SECRET})
    response = anonymous.post("/auth/custom", {"token": forge(f"p-{uuid.uuid4().hex[:6]}", server.project)})
    assert response.status_code == 401, response.text
    assert response.json()["type"].endswith("/invalid-token")


def test_forged_and_foreign_access_tokens_are_refused(
    anonymous: RouteApi, sessions_seam: Seam, admin: Dashboard
) -> None:
    tokens = device_sign_in(anonymous)
    claims = jwt.decode(tokens["accessToken"], options={"verify_signature": False})
    forged = jwt.encode({**claims, "sub": "someone-else"}, "x" * 48, algorithm="HS256")
    unsigned = jwt.encode(claims, None, algorithm="none")
    expired = jwt.encode({**claims, "exp": int(time.time()) - 1}, "x" * 48, algorithm="HS256")
    for token in (forged, unsigned, expired, tokens["refreshToken"]):
        response = anonymous.get("/players/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, token
        assert response.json()["type"].endswith("/invalid-token")
    project = f"other-{uuid.uuid4().hex[:6]}"
    assert admin.post("/v1/client/projects", json={"id": project, "name": project}).status_code == 201
    elsewhere = RouteApi(sessions_seam.client, anonymous.headers["x-tenant-id"], project, None)
    response = elsewhere.get("/players/me", headers=bearer(tokens))
    assert response.status_code == 401
    assert response.json()["type"].endswith("/invalid-token")


def test_device_sign_in_can_be_turned_off(anonymous: RouteApi, admin: Dashboard, server: RouteApi) -> None:
    url = f"/v1/client/projects/{server.project}/player-auth"
    assert admin.patch(url, json={"deviceSignIn": False}).json()["deviceSignIn"] is False
    try:
        response = anonymous.post("/auth/device", {"deviceId": uuid.uuid4().hex})
        assert response.status_code == 403
        assert response.json()["type"].endswith("/device-sign-in-disabled")
    finally:
        admin.patch(url, json={"deviceSignIn": True})


def test_sign_in_needs_a_tenant_a_live_project_and_a_valid_body(sessions_seam: Seam) -> None:
    client = sessions_seam.client
    device = {"deviceId": uuid.uuid4().hex}
    assert client.post("/v1/projects/demo/auth/device", json=device).status_code == 400
    missing = client.post("/v1/projects/nope/auth/device", json=device, headers={"x-tenant-id": "demo"})
    assert missing.status_code == 404
    short = client.post("/v1/projects/demo/auth/device", json={"deviceId": "short"}, headers={"x-tenant-id": "demo"})
    assert short.status_code == 422


def test_a_public_key_that_is_not_one_is_refused(admin: Dashboard, server: RouteApi) -> None:
    response = admin.patch(
        f"/v1/client/projects/{server.project}/player-auth",
        json={"publicKeys": [{"kid": "bad", "alg": "EdDSA", "publicKey": "-----BEGIN PUBLIC KEY-----\nnope\n"}]},
    )
    assert response.status_code == 422


def _preflight(seam: Seam, project: str, origin: str) -> Any:
    headers = {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "x-tenant-id",
    }
    return seam.client.options(f"/v1/projects/{project}/auth/device", headers=headers)


def test_cors_allows_only_the_projects_listed_origins(
    sessions_seam: Seam, anonymous: RouteApi, admin: Dashboard, server: RouteApi
) -> None:
    game, stranger = "https://play.example.com", "https://evil.example.net"
    refused = _preflight(sessions_seam, server.project, game)
    assert refused.status_code == 403, "nothing is allowed by default"
    assert refused.json()["type"].endswith("/origin-not-allowed")
    url = f"/v1/client/projects/{server.project}/player-auth"
    assert admin.patch(url, json={"allowedOrigins": [game]}).json()["allowedOrigins"] == [game]
    try:
        allowed = _preflight(sessions_seam, server.project, game)
        assert allowed.status_code == 204
        assert allowed.headers["access-control-allow-origin"] == game
        assert "x-tenant-id" in allowed.headers["access-control-allow-headers"]
        assert _preflight(sessions_seam, server.project, stranger).status_code == 403
        call = anonymous.post("/auth/device", {"deviceId": uuid.uuid4().hex}, headers={"Origin": game})
        assert call.headers["access-control-allow-origin"] == game
        other = anonymous.post("/auth/device", {"deviceId": uuid.uuid4().hex}, headers={"Origin": stranger})
        assert "access-control-allow-origin" not in other.headers
    finally:
        admin.patch(url, json={"allowedOrigins": []})


def test_device_sign_in_creates_players_within_the_plans_quota(
    sessions_seam: Seam, demo_economy_document: dict[str, Any]
) -> None:
    backoffice = service_proxy(sessions_seam, lambda backend: backend.control)
    tenant, token = tenant_with_quotas(backoffice, "signin", players=1)

    async def define() -> Any:
        return await (await sessions_seam.holder.get()).directory.define_economy(tenant, "game", demo_economy_document)

    assert sessions_seam.client.portal.call(define).ok
    anonymous = RouteApi(sessions_seam.client, tenant, "game", None)
    first_device = uuid.uuid4().hex
    first = device_sign_in(anonymous, first_device)
    refused = anonymous.post("/auth/device", {"deviceId": uuid.uuid4().hex})
    assert refused.status_code == 403 and refused.json()["type"].endswith("/plan-limit")
    server = RouteApi(sessions_seam.client, tenant, "game", token)
    assert [p["playerId"] for p in server.get("/players").json()["items"]] == [first["playerId"]]
    again = anonymous.post("/auth/device", {"deviceId": first_device})
    assert again.status_code == 200 and again.json()["playerId"] == first["playerId"]


def test_a_device_links_to_an_existing_player_and_unlinks(
    anonymous: RouteApi, server: RouteApi, admin: Dashboard
) -> None:
    account = device_sign_in(anonymous)
    new_install, taken = uuid.uuid4().hex, uuid.uuid4().hex
    other = device_sign_in(anonymous, taken)
    assert anonymous.post("/auth/devices/link", {"deviceId": new_install}, headers=bearer(account)).status_code == 204
    assert device_sign_in(anonymous, new_install)["playerId"] == account["playerId"]
    refused = anonymous.post("/auth/devices/link", {"deviceId": taken}, headers=bearer(account))
    assert refused.status_code == 409 and refused.json()["type"].endswith("/device-linked")
    listed = admin.get(f"/v1/client/projects/{server.project}/players/{account['playerId']}/sessions").json()
    assert len(listed["devices"]) == 2 and new_install not in str(listed)
    assert anonymous.post("/auth/devices/unlink", {"deviceId": taken}, headers=bearer(account)).status_code == 204
    assert device_sign_in(anonymous, taken)["playerId"] == other["playerId"], "another player's device stays linked"
    assert server.post("/auth/devices/link", {"deviceId": uuid.uuid4().hex}).status_code == 403
    assert anonymous.post("/auth/devices/unlink", {"deviceId": new_install}, headers=bearer(account)).status_code == 204
    fresh = device_sign_in(anonymous, new_install)
    assert fresh["playerId"] != account["playerId"] and fresh["created"] is True
