"""Player sessions in the console, checked against the API a game client uses: a player's
sessions in the lookup, "End all sessions", a ban with a reason and an end (sign-ins refused),
the unban; the project's player sign-in settings (device sign-in off, an allowed origin, the
custom-token secret) and its client policy, read there and changed in the economy editor."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Server, signed_in
from tests.browser.helpers import confirm, nav, sign_in, unique

SESSIONS_SHOT = "/tmp/sessdash-player.png"
SETTINGS_SHOT = "/tmp/sessdash-settings.png"
POLICY_SHOT = "/tmp/sessdash-policy.png"


def anonymous(server: Server) -> httpx.Client:
    """The sign-in routes as a game client calls them: the tenant, no key."""
    return httpx.Client(
        base_url=f"{server.base_url}/v1/projects/{server.project}",
        headers={"x-tenant-id": server.tenant},
        timeout=30,
    )


def device_sign_in(server: Server, device: str) -> httpx.Response:
    with anonymous(server) as client:
        return client.post("/auth/device", json={"deviceId": device})


@pytest.fixture
def restored(server: Server) -> Iterator[None]:
    """Puts the project's player-auth settings and economy back as they were (one server for the
    whole package)."""
    with server.admin() as admin:
        settings = admin.get(f"/v1/client/projects/{server.project}/player-auth").json()
        economy = admin.get(f"/v1/client/projects/{server.project}/economy").json()["document"]
    yield
    with server.admin() as admin:
        back = {"deviceSignIn": settings["deviceSignIn"], "allowedOrigins": settings["allowedOrigins"]}
        back |= {"clearSecret": True} if not settings["hasSecret"] else {}
        assert admin.patch(f"/v1/client/projects/{server.project}/player-auth", json=back).status_code == 200
        put = admin.put(f"/v1/client/projects/{server.project}/economy", json=economy)
        assert put.status_code == 200, put.text


def test_a_players_sessions_end_and_a_ban_refuses_sign_ins_until_lifted(page: Page, server: Server) -> None:
    device = uuid.uuid4().hex
    first = device_sign_in(server, device).json()
    second = device_sign_in(server, device)
    assert second.status_code == 200 and second.json()["playerId"] == first["playerId"]
    player = first["playerId"]

    sign_in(page, server)
    nav(page, "Players")
    page.get_by_label("Player ID").fill(player)
    page.get_by_role("button", name="Look up").click()
    sessions = page.locator(".card").filter(has=page.get_by_role("heading", name="Sessions"))
    expect(sessions.get_by_text("2 live sessions")).to_be_visible()
    expect(sessions.get_by_role("cell", name="device", exact=True)).to_have_count(2)
    expect(sessions.get_by_test_id("ban-status")).to_have_text("not banned")
    expect(sessions.get_by_text("1 linked device")).to_be_visible()

    sessions.get_by_role("button", name="End all sessions").click()
    confirm(page, "End all sessions")
    expect(sessions.get_by_role("status")).to_have_text("2 sessions ended.")
    expect(sessions.get_by_text("No live sessions.")).to_be_visible()
    with anonymous(server) as client:
        spent = client.post("/auth/refresh", json={"refreshToken": first["refreshToken"]})
    assert spent.status_code == 401, spent.text

    assert device_sign_in(server, device).status_code == 200  # ending sessions is not a ban
    sessions.get_by_role("button", name="Ban player").click()
    dialog = page.get_by_role("dialog", name=f"Ban player {player}")
    dialog.get_by_role("button", name="Ban player").click()  # the reason is required
    expect(dialog).to_be_visible()
    dialog.get_by_label("Reason").fill("chargeback fraud")
    until = datetime.now() + timedelta(days=7)
    dialog.get_by_label("Ends").fill(until.strftime("%Y-%m-%dT%H:%M"))
    dialog.get_by_role("button", name="Ban player").click()
    expect(dialog).to_be_hidden()
    expect(sessions.get_by_test_id("ban-status")).to_contain_text("banned until")
    expect(sessions.get_by_role("note")).to_contain_text("chargeback fraud")
    expect(sessions.get_by_text("No live sessions.")).to_be_visible()  # the ban ended the new one
    refused = device_sign_in(server, device)
    assert refused.status_code == 403 and refused.json()["type"].endswith("/player-banned"), refused.text
    with server.admin() as admin:
        view = admin.get(f"/v1/client/projects/{server.project}/players/{player}/sessions").json()
    assert view["ban"]["reason"] == "chargeback fraud"
    assert abs(datetime.fromisoformat(view["ban"]["until"]).timestamp() - until.timestamp()) < 60
    page.screenshot(path=SESSIONS_SHOT, full_page=True)

    sessions.get_by_role("button", name="Unban").click()
    confirm(page, "Unban")
    expect(sessions.get_by_test_id("ban-status")).to_have_text("not banned")
    expect(sessions.get_by_role("button", name="Ban player")).to_be_visible()
    assert device_sign_in(server, device).status_code == 200
    expect(page.get_by_role("alert")).to_have_count(0)


def test_the_sign_in_settings_and_the_client_policy_change_what_game_clients_may_do(
    page: Page, server: Server, restored: Any
) -> None:
    sign_in(page, server)
    nav(page, "Player sign-in")
    device = page.get_by_label("Device sign-in")
    expect(device).to_be_checked()
    origins = page.get_by_label("Allowed origins")
    origins.fill("ftp://play.example.com")
    page.get_by_role("button", name="Save sign-in settings").click()
    expect(page.locator(".field-error").filter(has_text="allowedOrigins")).to_be_visible()

    device.uncheck()
    origins.fill("https://play.example.com\nhttp://localhost:8080/")
    page.get_by_role("button", name="Save sign-in settings").click()
    expect(page.get_by_role("status")).to_contain_text("Sign-in settings saved")
    expect(page.get_by_label("Allowed origins")).to_have_value("https://play.example.com\nhttp://localhost:8080")
    refused = device_sign_in(server, uuid.uuid4().hex)
    assert refused.status_code == 403 and refused.json()["type"].endswith("/device-sign-in-disabled"), refused.text
    with anonymous(server) as client:
        preflight = client.options(
            "/auth/custom",
            headers={"Origin": "https://play.example.com", "Access-Control-Request-Method": "POST"},
        )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "https://play.example.com"

    page.get_by_role("button", name="Set secret").click()
    dialog = page.get_by_role("dialog", name="Custom sign-in secret")
    dialog.get_by_role("button", name="Generate").click()
    dialog.get_by_role("button", name="Save secret").click()
    shown = page.get_by_role("dialog", name="Secret saved")
    assert len(shown.get_by_label("HS256 secret").input_value()) >= 32
    shown.get_by_role("button", name="Done").click()
    custom = page.locator(".card").filter(has=page.get_by_role("heading", name="Custom sign-in (your backend)"))
    expect(custom.get_by_text("set", exact=True)).to_be_visible()

    policy = page.locator(".card").filter(has=page.get_by_role("heading", name="Client policy"))
    expect(policy.get_by_role("row").filter(has_text="purchase")).to_contain_text("allowed")
    expect(policy.get_by_role("row").filter(has_text="increment")).to_contain_text("server only")
    page.screenshot(path=SETTINGS_SHOT, full_page=True)

    policy.get_by_role("link", name="Change it in the economy editor").click()
    expect(page.get_by_role("tab", name="Client policy")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_label("purchase")).to_be_checked()
    page.get_by_label("increment").check()
    page.screenshot(path=POLICY_SHOT, full_page=True)
    page.get_by_role("button", name="Review and publish").click()
    review = page.get_by_role("dialog", name=re.compile("Review changes"))
    expect(review.get_by_role("list", name="Changes")).to_contain_text("clientPolicy")
    review.get_by_role("button", name=re.compile("Publish version")).click()
    expect(page.get_by_role("status")).to_contain_text("Published version")
    with server.admin() as admin:
        document = admin.get(f"/v1/client/projects/{server.project}/economy").json()["document"]
    assert sorted(document["clientPolicy"]["allow"]) == ["consume", "increment", "purchase"]

    nav(page, "Player sign-in")
    policy = page.locator(".card").filter(has=page.get_by_role("heading", name="Client policy"))
    expect(policy.get_by_role("row").filter(has_text="increment")).to_contain_text("allowed")


def test_support_staff_read_sessions_and_settings_but_change_nothing(page: Page, server: Server) -> None:
    """Support answers players: it reads their sessions, bans are for owners and developers."""
    password = "support-passphrase-1"
    email = f"{unique('ops')}@ludex.example"
    with server.admin() as admin:
        body = {"email": email, "password": password, "platformRole": "support"}
        assert admin.post("/v1/admin/users", json=body).status_code == 201
    player = device_sign_in(server, uuid.uuid4().hex).json()["playerId"]

    sign_in(page, server, email, password)
    nav(page, "Players")
    page.get_by_label("Player ID").fill(player)
    page.get_by_role("button", name="Look up").click()
    sessions = page.locator(".card").filter(has=page.get_by_role("heading", name="Sessions"))
    expect(sessions.get_by_text("1 live session")).to_be_visible()
    expect(sessions.get_by_role("button")).to_have_count(0)  # no ban, unban, end all sessions

    nav(page, "Player sign-in")
    expect(page.get_by_label("Device sign-in")).to_be_disabled()
    expect(page.get_by_label("Allowed origins")).not_to_be_editable()
    expect(page.get_by_role("button", name="Save sign-in settings")).to_have_count(0)
    expect(page.get_by_role("button", name="Set secret")).to_have_count(0)
    expect(page.get_by_role("link", name="See it in the economy editor")).to_be_visible()
    with signed_in(server.base_url, email, password) as support:  # the API refuses what the console hides
        refused = support.post(f"/v1/client/projects/{server.project}/players/{player}/ban", json={"reason": "x"})
    assert refused.status_code == 403, refused.text
