"""Sign-in, silent refresh, sign-out, what each role sees, a narrow window and the offline API docs."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pyotp
from playwright.sync_api import Page, expect

from tests.browser.conftest import ACCESS_TTL_S, Server, screenshot, signed_in
from tests.browser.helpers import nav, new_player, sign_in, unique

ADMIN_LINKS = ("Tenants", "Plans", "Metrics", "Usage", "Audit", "Users")
CLIENT_LINKS = (
    "Projects",
    "API keys",
    "Webhooks",
    "Player sign-in",
    "Events",
    "Economy",
    "Reports",
    "Economy health",
    "Remediation",  # economy:remediate: not analysts, not support
    "Leaderboards",
    "Players",
)


def links(page: Page) -> list[str]:
    return [text.strip() for text in page.get_by_role("navigation", name="Main").get_by_role("link").all_inner_texts()]


def test_a_wrong_password_shows_the_problem_detail_then_the_right_one_signs_in_and_out(
    page: Page, server: Server
) -> None:
    email = server.credentials["adminEmail"]
    refused = httpx.post(f"{server.base_url}/v1/auth/login", json={"email": email, "password": "not-the-password"})
    assert refused.status_code == 401
    page.goto(f"{server.base_url}/dashboard/")
    screenshot(page, "signin")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("not-the-password-either")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text(refused.json()["detail"])
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)

    page.get_by_label("Password").fill(server.credentials["adminPassword"])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1, name="Projects")).to_be_visible()
    assert links(page) == [*ADMIN_LINKS, *CLIENT_LINKS]
    expect(page.get_by_role("cell", name="Demo project demo")).to_be_visible()
    screenshot(page, "projects")

    page.reload()  # the refresh token in session storage keeps the tab signed in
    expect(page.get_by_role("heading", level=1, name="Projects")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    page.goto(f"{server.base_url}/dashboard/client/keys")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()


def test_an_account_with_totp_is_asked_for_the_code_before_it_is_signed_in(page: Page, server: Server) -> None:
    email, password = f"{unique('totp')}@studio.example", "totp-passphrase-12"
    with server.admin() as admin:
        body = {"email": email, "password": password, "memberships": [{"tenantId": "demo", "role": "developer"}]}
        assert admin.post("/v1/admin/users", json=body).status_code == 201
    with signed_in(server.base_url, email, password) as user:
        secret = user.post("/v1/auth/2fa/setup", json={"password": password}).json()["secret"]
        totp = pyotp.TOTP(secret)
        previous_step = totp.at(datetime.now(UTC) - timedelta(seconds=totp.interval))
        assert user.post("/v1/auth/2fa/verify", json={"code": previous_step}).json() == {"totpEnabled": True}

    page.goto(f"{server.base_url}/dashboard/")
    expect(page.get_by_label("TOTP code")).to_be_hidden()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_label("TOTP code")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    page.get_by_label("TOTP code").fill("000000" if totp.now() != "000000" else "111111")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("TOTP code is wrong")
    page.get_by_label("TOTP code").fill(totp.now())
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert links(page) == list(CLIENT_LINKS)


def test_the_session_outlives_its_access_token_by_refreshing_silently(page: Page, server: Server) -> None:
    refreshes: list[int] = []

    def note_refresh(response: Any) -> None:
        if response.url.endswith("/v1/auth/refresh"):
            refreshes.append(response.status)

    page.on("response", note_refresh)
    sign_in(page, server)
    time.sleep(ACCESS_TTL_S + 2)  # the first access token has expired by now
    nav(page, "API keys")
    expect(page.get_by_role("cell", name="demo", exact=True)).to_be_visible()
    assert refreshes and all(status == 200 for status in refreshes), refreshes
    expect(page.get_by_role("button", name="Sign in")).to_have_count(0)


def test_a_studio_support_user_sees_no_admin_page_and_a_platform_support_user_cannot_change_anything(
    page: Page, context: Any, server: Server
) -> None:
    password = "support-passphrase-1"
    studio_support, platform_support = f"{unique('help')}@studio.example", f"{unique('ops')}@ludex.example"
    with server.admin() as admin:
        for body in (
            {"email": studio_support, "password": password, "memberships": [{"tenantId": "demo", "role": "analyst"}]},
            {"email": platform_support, "password": password, "platformRole": "support"},
        ):
            assert admin.post("/v1/admin/users", json=body).status_code == 201

    sign_in(page, server, studio_support, password)
    analyst_links = ["Projects", "Player sign-in", "Events", "Economy", "Reports", "Economy health"]
    assert links(page) == analyst_links  # analysts read no personal data
    page.goto(f"{server.base_url}/dashboard/admin/tenants")
    expect(page.get_by_role("heading", level=1, name="Not allowed")).to_be_visible()
    expect(page.get_by_role("table")).to_have_count(0)
    nav(page, "Economy")
    expect(page.get_by_role("button", name="Review and publish")).to_have_count(0)
    expect(page.get_by_label("Currency 1 ID")).not_to_be_editable()

    other = context.browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        support_page = other.new_page()
        sign_in(support_page, server, platform_support, password)
        assert links(support_page) == [*ADMIN_LINKS, *(link for link in CLIENT_LINKS if link != "Remediation")]
        nav(support_page, "Tenants")
        expect(support_page.get_by_role("cell", name="Demo demo")).to_be_visible()
        expect(support_page.get_by_role("button", name="New tenant")).to_have_count(0)
        expect(support_page.get_by_role("button", name="Delete tenant demo")).to_have_count(0)
        nav(support_page, "Plans")
        expect(support_page.get_by_role("button", name="Edit plan indie")).to_have_count(0)
        with signed_in(server.base_url, platform_support, password) as support:
            refused = support.post("/v1/admin/tenants", json={"id": unique("t"), "name": "Nope"})
        assert refused.status_code == 403  # the API still refuses what the console hides
        # support staff look players up with their sign-in alone: no API key to create or paste
        player = new_player(server)
        with server.game() as game:
            assert game.post(f"/players/{player}/xp", json={"amount": 75}).status_code == 200
        nav(support_page, "Players")
        support_page.get_by_label("Player ID").fill(player)
        support_page.get_by_role("button", name="Look up").click()
        expect(support_page.locator(".stat").filter(has_text="XP")).to_contain_text("75")
        expect(support_page.get_by_role("button", name="Create a console key")).to_have_count(0)
    finally:
        other.close()


def test_the_console_works_in_a_narrow_window(page: Page, server: Server) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, server)
    nav(page, "Economy")
    expect(page.get_by_role("tab", name="Currencies")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways at 390 px: {width}"
    screenshot(page, "narrow-economy")


def test_the_api_docs_render_with_every_outside_request_blocked(page: Page, server: Server) -> None:
    blocked: list[str] = []

    def only_the_server(route: Any) -> None:
        if route.request.url.startswith(server.base_url):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    page.route("**/*", only_the_server)
    page.goto(f"{server.base_url}/v1/docs")
    expect(page.get_by_text("Create a tenant")).to_be_visible()
    expect(page.locator(".opblock").first).to_be_visible()
    assert page.locator(".opblock").count() > 50
    assert not blocked, f"the docs page asked for outside resources: {blocked}"
    screenshot(page, "api-docs", full_page=False)
