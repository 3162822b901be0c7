"""The console's "Sign in with <provider>" button, end to end: a real Chromium, `ludex serve`,
and a real OpenID Provider (`oidc-provider` from npm) with its own login and consent pages."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Server, screenshot
from tests.browser.helpers import sign_in, unique
from tests.support.oidc_provider import OidcProvider, oidc_provider


@pytest.fixture(scope="module")
def provider(server: Server) -> Iterator[OidcProvider]:
    with oidc_provider([f"{server.base_url}/v1/auth/oidc/callback"]) as started:
        yield started


@pytest.fixture(scope="module")
def tenant(server: Server, provider: OidcProvider) -> str:
    """A tenant whose owner (here the platform admin acting for it) configured the provider."""
    tenant = unique("sso")
    with server.admin() as admin:
        assert admin.post("/v1/admin/tenants", json={"id": tenant, "name": "SSO Studio"}).status_code == 201
        configured = admin.put(
            "/v1/client/oidc",
            headers={"x-tenant-id": tenant},
            json={
                "displayName": "Studio SSO",
                "issuer": provider.issuer,
                "clientId": provider.client_id,
                "clientSecret": provider.client_secret,
                "allowedDomains": ["studio.example"],
                "role": "developer",
            },
        )
        assert configured.status_code == 200, configured.text
    return tenant


def through_provider(page: Page, login: str) -> None:
    """The provider's development login (any password) and consent pages."""
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill("any")
    page.get_by_role("button", name="Sign-in").click()
    page.get_by_role("button", name="Continue").click()


def test_the_sso_button_signs_a_new_member_in_and_leaves_no_ticket_in_the_address_bar(
    page: Page, server: Server, tenant: str
) -> None:
    page.goto(f"{server.base_url}/dashboard/signin?tenant={tenant}")
    button = page.get_by_role("link", name="Sign in with Studio SSO")
    expect(button).to_be_visible()
    screenshot(page, "signin-sso")
    button.click()
    email = f"{unique('ada')}@studio.example"
    through_provider(page, email)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert "oidc-ticket" not in page.url
    expect(page.get_by_text(email)).to_be_visible()
    page.reload()  # the refresh token keeps the tab signed in, as after a password sign-in
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_an_email_of_another_domain_ends_on_the_callbacks_problem_and_signs_nobody_in(
    page: Page, server: Server, tenant: str
) -> None:
    page.goto(f"{server.base_url}/dashboard/signin")
    page.get_by_label("Organization").fill(tenant)
    page.get_by_role("button", name="Find").click()
    page.get_by_role("link", name="Sign in with Studio SSO").click()
    through_provider(page, "mallory@elsewhere.example")
    expect(page.locator("body")).to_contain_text("oidc-email-refused")
    assert "/v1/auth/oidc/callback" in page.url
    page.goto(f"{server.base_url}/dashboard/")
    expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_visible()


def test_the_owner_changes_the_provider_in_the_single_sign_on_form(page: Page, server: Server, tenant: str) -> None:
    sign_in(page, server)
    page.goto(f"{server.base_url}/dashboard/client/single-sign-on?tenant={tenant}")
    expect(page.get_by_text(f"{server.base_url}/v1/auth/oidc/callback")).to_be_visible()
    expect(page.get_by_label("Button name")).to_have_value("Studio SSO")
    expect(page.get_by_label("Client secret")).to_have_value("")  # write-only
    page.get_by_label("Issuer").fill("ftp://login.studio.example")
    page.get_by_role("button", name="Save single sign-on").click()
    expect(page.get_by_role("alert")).to_contain_text("issuer")
    page.reload()
    page.get_by_label("Button name").fill("Studio Login")
    page.get_by_role("button", name="Save single sign-on").click()
    expect(page.get_by_text("Single sign-on saved.")).to_be_visible()
    screenshot(page, "single-sign-on")
    with server.admin() as admin:
        shown = admin.get("/v1/client/oidc", headers={"x-tenant-id": tenant}).json()
    assert shown["displayName"] == "Studio Login" and shown["hasClientSecret"] is True
