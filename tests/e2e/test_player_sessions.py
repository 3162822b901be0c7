"""Player sessions through Ray Serve over HTTP and WebSocket: each sign-in flow (device, custom
with HS256 / EdDSA, refresh, logout) and each refusal (another player's id, a server-only op, a
reused refresh token ending every session, a banned player, expired and forged tokens, a
disallowed origin); a session's socket sees only its own player's events."""

from __future__ import annotations

import json
import time
import uuid

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from websockets.sync.client import connect

from serve.launcher import Launched
from tests.e2e.conftest import Api
from tests.e2e.helpers import assert_problem, new_player
from tests.e2e.test_realtime import ws_url
from tests.support.player_sessions import bearer, device_sign_in

SECRET = "e2e-player-auth-secret-" + "x" * 48


@pytest.fixture(scope="module")
def anonymous(ludex: Launched) -> Api:
    creds = ludex.credentials
    return Api(ludex.base_url, creds["tenantId"], creds["projectId"], None)


def test_a_device_session_reads_its_own_player_and_buys(anonymous: Api, api: Api) -> None:
    device = uuid.uuid4().hex
    tokens = device_sign_in(anonymous, device)
    assert tokens["created"] is True and device_sign_in(anonymous, device)["playerId"] == tokens["playerId"]
    assert anonymous.get("/players/me", headers=bearer(tokens)).json()["playerId"] == tokens["playerId"]
    api.post(f"/players/{tokens['playerId']}/wallet/credit", {"currency": "coins", "amount": 100})
    bought = anonymous.post("/players/me/purchases", {"sku": "potion-pack"}, headers=bearer(tokens))
    assert bought.status_code == 201, bought.text
    history = anonymous.get("/players/me/wallet/history", headers=bearer(tokens)).json()["items"]
    assert [entry["delta"] for entry in history] == [100, -100]


def test_another_players_id_and_server_only_ops_are_refused(anonymous: Api, api: Api) -> None:
    tokens, other = device_sign_in(anonymous), new_player(api)
    assert_problem(anonymous.get(f"/players/{other}", headers=bearer(tokens)), 403, "not-your-player")
    assert_problem(
        anonymous.post("/players/me/xp", {"amount": 460}, headers=bearer(tokens)), 403, "not-client-callable"
    )
    batch = anonymous.post(
        "/commands",
        {"commands": [{"op": "credit", "playerId": "me", "currency": "coins", "amount": 1_000_000}]},
        headers=bearer(tokens),
    )
    assert batch.json()["results"][0]["status"] == 403
    assert api.get(f"/players/{tokens['playerId']}").json()["wallet"].get("coins", 0) == 0


def test_a_reused_refresh_token_ends_every_session(anonymous: Api) -> None:
    device = uuid.uuid4().hex
    first, second = device_sign_in(anonymous, device), device_sign_in(anonymous, device)
    renewed = anonymous.post("/auth/refresh", {"refreshToken": first["refreshToken"]})
    assert renewed.status_code == 200
    assert_problem(
        anonymous.post("/auth/refresh", {"refreshToken": first["refreshToken"]}), 401, "refresh-token-reused"
    )
    for tokens in (renewed.json(), second):
        assert_problem(anonymous.get("/players/me", headers=bearer(tokens)), 401, "invalid-token")


def test_logout_ends_the_session(anonymous: Api) -> None:
    tokens = device_sign_in(anonymous)
    assert anonymous.post("/auth/logout", {"refreshToken": tokens["refreshToken"]}).status_code == 204
    assert_problem(anonymous.get("/players/me", headers=bearer(tokens)), 401, "invalid-token")


def test_a_banned_player_is_refused_until_unbanned(anonymous: Api, admin: httpx.Client) -> None:
    device = uuid.uuid4().hex
    tokens = device_sign_in(anonymous, device)
    base = f"/v1/client/projects/{anonymous.project}/players/{tokens['playerId']}"
    assert admin.post(f"{base}/ban", json={"reason": "botting"}).status_code == 200
    assert_problem(anonymous.get("/players/me", headers=bearer(tokens)), 403, "player-banned")
    assert_problem(anonymous.post("/auth/device", {"deviceId": device}), 403, "player-banned")
    assert admin.post(f"{base}/unban").status_code == 200
    assert device_sign_in(anonymous, device)["playerId"] == tokens["playerId"]


def test_custom_sign_in_and_forged_tokens(anonymous: Api, admin: httpx.Client) -> None:
    ed = ed25519.Ed25519PrivateKey.generate()
    pem = ed.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    settings = admin.patch(
        f"/v1/client/projects/{anonymous.project}/player-auth",
        json={"secret": SECRET, "publicKeys": [{"kid": "k1", "alg": "EdDSA", "publicKey": pem.decode()}]},
    )
    assert settings.status_code == 200, settings.text
    player, exp = f"studio-{uuid.uuid4().hex[:8]}", int(time.time()) + 300
    for token in (
        jwt.encode({"sub": player, "exp": exp}, SECRET, algorithm="HS256"),
        jwt.encode({"sub": player, "exp": exp, "aud": anonymous.project}, ed, algorithm="EdDSA"),
    ):
        signed = anonymous.post("/auth/custom", {"token": token})
        assert signed.status_code == 200, signed.text
        assert signed.json()["playerId"] == player
    for forged in (
        jwt.encode({"sub": player, "exp": exp}, "not-the-secret-" + "y" * 48, algorithm="HS256"),
        jwt.encode({"sub": player, "exp": exp}, None, algorithm="none"),
        jwt.encode({"sub": player, "exp": exp - 600}, SECRET, algorithm="HS256"),
        jwt.encode({"sub": player, "exp": exp, "aud": "another-project"}, SECRET, algorithm="HS256"),
    ):
        assert_problem(anonymous.post("/auth/custom", {"token": forged}), 401, "invalid-token")
    session = device_sign_in(anonymous)
    claims = jwt.decode(session["accessToken"], options={"verify_signature": False})
    for token in (
        jwt.encode({**claims, "sub": player}, "guess-" + "z" * 48, algorithm="HS256"),
        jwt.encode(claims, None, algorithm="none"),
    ):
        assert_problem(anonymous.get("/players/me", headers={"Authorization": f"Bearer {token}"}), 401, "invalid-token")


def test_only_listed_origins_may_call_from_a_browser(ludex: Launched, anonymous: Api, admin: httpx.Client) -> None:
    game, stranger = "https://play.example.com", "https://evil.example.net"
    url = f"/v1/client/projects/{anonymous.project}/player-auth"
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "x-tenant-id"}
    path = f"{ludex.base_url}/v1/projects/{anonymous.project}/auth/device"
    assert admin.patch(url, json={"allowedOrigins": [game]}).status_code == 200
    try:
        time.sleep(1.1)  # another replica's cached list lives a second
        allowed = httpx.options(path, headers={"Origin": game, **preflight})
        assert allowed.status_code == 204 and allowed.headers["access-control-allow-origin"] == game
        assert_problem(httpx.options(path, headers={"Origin": stranger, **preflight}), 403, "origin-not-allowed")
        call = anonymous.post("/auth/device", {"deviceId": uuid.uuid4().hex}, headers={"Origin": stranger})
        assert "access-control-allow-origin" not in call.headers
    finally:
        admin.patch(url, json={"allowedOrigins": []})


def test_a_session_socket_sees_only_its_own_players_events(ludex: Launched, anonymous: Api, api: Api) -> None:
    mine, other = device_sign_in(anonymous), new_player(api)
    auth = {"action": "auth", "accessToken": mine["accessToken"], "tenantId": "demo", "projectId": anonymous.project}
    with connect(ws_url(ludex.base_url), open_timeout=30) as socket:
        socket.send(json.dumps(auth))
        assert json.loads(socket.recv(timeout=30))["type"] == "hello"
        socket.send(json.dumps({"action": "subscribe", "eventTypes": ["wallet.*"]}))
        assert json.loads(socket.recv(timeout=30))["type"] == "subscribed"
        api.post(f"/players/{other}/wallet/credit", {"currency": "coins", "amount": 7})
        api.post(f"/players/{mine['playerId']}/wallet/credit", {"currency": "coins", "amount": 9})
        event = json.loads(socket.recv(timeout=30))
        assert event["type"] == "event" and event["event"]["playerId"] == mine["playerId"]
        socket.send(json.dumps({"action": "command", "id": 1, "op": "xp", "playerId": "me", "amount": 5}))
        result = json.loads(socket.recv(timeout=30))
        assert result["type"] == "result" and result["status"] == 403
        assert result["problem"]["type"].endswith("/not-client-callable")
