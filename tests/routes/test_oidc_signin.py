"""Dashboard sign-in with a tenant's OIDC provider, through the real app against a real OpenID
Provider (`oidc-provider` from npm, tests/support/oidc): the owner configures it, a person signs
in with the provider's login and consent pages, and the console's ticket becomes the same tokens
a password login gives. Replayed, foreign and unknown states, other domains and unverified
emails are refused; a session signed in this way reaches only its tenant."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest

from actors.secret_box import is_sealed
from tests.e2e.helpers import assert_problem
from tests.routes.conftest import Dashboard, Seam, service_proxy, sign_in
from tests.support.oidc_provider import OidcProvider, oidc_provider

CALLBACK = "http://testserver/v1/auth/oidc/callback"
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def provider() -> Iterator[OidcProvider]:
    with oidc_provider([CALLBACK]) as started:
        yield started


@pytest.fixture(scope="module")
def tenant(office_control: Any, office_accounts: Any) -> str:
    tenant = f"sso-{uuid.uuid4().hex[:8]}"
    office_control.ensure_tenant(tenant, "SSO Studio")
    return tenant


def member(accounts: Any, tenant: str, role: str) -> str:
    email = f"{role}-{uuid.uuid4().hex[:8]}@studio.example"
    accounts.create_user(email, PASSWORD, memberships=[{"tenantId": tenant, "role": role}])
    return email


@pytest.fixture(scope="module")
def owner(office: Seam, office_accounts: Any, tenant: str) -> Dashboard:
    return sign_in(office, member(office_accounts, tenant, "owner"), PASSWORD, tenant)


def configuration(provider: OidcProvider, **changes: Any) -> dict[str, Any]:
    return {
        "displayName": "Studio SSO",
        "issuer": provider.issuer,
        "clientId": provider.client_id,
        "clientSecret": provider.client_secret,
        "allowedDomains": ["studio.example"],
        "role": "developer",
        "projects": ["*"],
        **changes,
    }


@pytest.fixture(scope="module")
def configured(owner: Dashboard, provider: OidcProvider) -> dict[str, Any]:
    response = owner.put("/v1/client/oidc", json=configuration(provider))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def through_provider(authorization_url: str, login: str) -> str:
    """A browser at the provider: its development login page (the login is the email) and its
    consent page, until it redirects back to Ludex; answers that callback URL."""
    with httpx.Client(follow_redirects=False, timeout=10) as browser:
        response = browser.get(authorization_url)
        for _ in range(12):
            if response.is_redirect:
                location = urljoin(str(response.url), response.headers["location"])
                if location.startswith(CALLBACK):
                    return location
                response = browser.get(location)
                continue
            assert response.status_code == 200, response.text
            action = re.search(r'<form[^>]*action="([^"]+)"', response.text)
            prompt = re.search(r'name="prompt" value="(\w+)"', response.text)
            assert action and prompt, response.text
            form = {"prompt": prompt.group(1)}
            if prompt.group(1) == "login":
                form |= {"login": login, "password": "any"}
            response = browser.post(urljoin(str(response.url), action.group(1)), data=form)
    raise AssertionError("the provider never redirected back")


def start(seam: Seam, tenant: str) -> str:
    response = seam.client.get(f"/v1/auth/oidc/tenants/{tenant}/start", follow_redirects=False)
    assert response.status_code == 302, response.text
    return str(response.headers["location"])


def callback_path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def signed_in(seam: Seam, tenant: str, email: str) -> dict[str, Any]:
    """The whole flow in one browser (the seam's client keeps the binding cookie): tokens."""
    back = through_provider(start(seam, tenant), email)
    landed = seam.client.get(callback_path(back), follow_redirects=False)
    assert landed.status_code == 303, landed.text
    location = landed.headers["location"]
    assert location.startswith("/dashboard/#oidc-ticket=oit_")
    tokens = seam.client.post("/v1/auth/oidc/token", json={"ticket": location.split("=", 1)[1]})
    assert tokens.status_code == 200, tokens.text
    body: dict[str, Any] = tokens.json()
    return body


def me(seam: Seam, access_token: str) -> dict[str, Any]:
    response = seam.client.get("/v1/auth/me", headers={"Authorization": f"Bearer {access_token}"})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_the_owner_configures_the_provider_and_its_secret_is_sealed_and_never_shown(
    office: Seam, owner: Dashboard, configured: dict[str, Any], provider: OidcProvider, tenant: str
) -> None:
    assert configured["hasClientSecret"] is True and "clientSecret" not in configured
    assert configured["redirectUri"] == CALLBACK
    shown = owner.get("/v1/client/oidc").json()
    assert provider.client_secret not in str(shown) and shown["allowedDomains"] == ["studio.example"]
    stored = service_proxy(office, lambda backend: backend.store).get_document("oidc_providers", tenant)
    assert is_sealed(stored["clientSecret"]) and provider.client_secret not in stored["clientSecret"]
    public = office.client.get(f"/v1/auth/oidc/tenants/{tenant}")
    assert public.status_code == 200 and public.json()["displayName"] == "Studio SSO"
    assert public.json()["startUrl"].endswith(f"/v1/auth/oidc/tenants/{tenant}/start")


def test_changing_the_provider_without_a_secret_keeps_the_stored_one(
    owner: Dashboard, configured: dict[str, Any], provider: OidcProvider
) -> None:
    changed = owner.put("/v1/client/oidc", json=configuration(provider, clientSecret=None, displayName="Studio Login"))
    assert changed.status_code == 200, changed.text
    assert changed.json()["hasClientSecret"] is True and changed.json()["displayName"] == "Studio Login"
    assert owner.put("/v1/client/oidc", json=configuration(provider)).status_code == 200


def test_a_first_sign_in_creates_a_member_with_the_configured_role_and_password_style_tokens(
    office: Seam, configured: dict[str, Any], tenant: str
) -> None:
    email = f"ada-{uuid.uuid4().hex[:6]}@studio.example"
    tokens = signed_in(office, tenant, email)
    assert tokens["tokenType"] == "Bearer" and tokens["refreshToken"].startswith("rt_")
    who = me(office, tokens["accessToken"])
    assert who["email"] == email and who["platformRole"] is None
    assert who["memberships"] == [{"tenantId": tenant, "role": "developer", "projects": ["*"]}]
    as_member = Dashboard(office.client, {"Authorization": f"Bearer {tokens['accessToken']}", "x-tenant-id": tenant})
    assert as_member.get("/v1/client/projects").status_code == 200
    assert_problem(as_member.put("/v1/client/oidc", json={}), 403, "forbidden")
    renewed = office.client.post("/v1/auth/refresh", json={"refreshToken": tokens["refreshToken"]})
    assert renewed.status_code == 200
    assert me(office, renewed.json()["accessToken"])["memberships"] == who["memberships"]
    again = me(office, signed_in(office, tenant, email)["accessToken"])
    assert again["userId"] == who["userId"]


def test_a_replayed_state_and_a_replayed_ticket_are_refused(
    office: Seam, configured: dict[str, Any], tenant: str
) -> None:
    back = through_provider(start(office, tenant), f"eve-{uuid.uuid4().hex[:6]}@studio.example")
    first = office.client.get(callback_path(back), follow_redirects=False)
    assert first.status_code == 303
    assert_problem(office.client.get(callback_path(back), follow_redirects=False), 401, "invalid-oidc-state")
    ticket = first.headers["location"].split("=", 1)[1]
    assert office.client.post("/v1/auth/oidc/token", json={"ticket": ticket}).status_code == 200
    assert_problem(office.client.post("/v1/auth/oidc/token", json={"ticket": ticket}), 401, "invalid-oidc-state")


def test_a_state_from_another_browser_or_made_up_is_refused(
    office: Seam, configured: dict[str, Any], tenant: str
) -> None:
    back = through_provider(start(office, tenant), f"mallory-{uuid.uuid4().hex[:6]}@studio.example")
    office.client.cookies.clear()  # the victim's browser never started this sign-in
    assert_problem(office.client.get(callback_path(back), follow_redirects=False), 401, "invalid-oidc-state")
    made_up = "/v1/auth/oidc/callback?state=not-ours&code=whatever"
    assert_problem(office.client.get(made_up, follow_redirects=False), 401, "invalid-oidc-state")
    assert_problem(office.client.get("/v1/auth/oidc/callback?code=x", follow_redirects=False), 422, "validation-error")


def test_the_provider_refusing_answers_oidc_denied_and_spends_the_state(
    office: Seam, configured: dict[str, Any], tenant: str
) -> None:
    state = parse_qs(urlsplit(start(office, tenant)).query)["state"][0]
    denied = office.client.get(f"/v1/auth/oidc/callback?state={state}&error=access_denied", follow_redirects=False)
    assert "access_denied" in assert_problem(denied, 401, "oidc-denied")["detail"]
    replay = office.client.get(f"/v1/auth/oidc/callback?state={state}&code=x", follow_redirects=False)
    assert_problem(replay, 401, "invalid-oidc-state")


@pytest.mark.parametrize("login", ["bob@elsewhere.example", "unverified-carol@studio.example"])
def test_another_domain_or_an_unverified_email_is_refused(
    office: Seam, configured: dict[str, Any], tenant: str, office_accounts: Any, login: str
) -> None:
    back = through_provider(start(office, tenant), login)
    assert_problem(office.client.get(callback_path(back), follow_redirects=False), 403, "oidc-email-refused")
    assert office_accounts.find_user_by_email(login) is None


def test_an_existing_user_of_other_tenants_gets_a_session_of_this_tenant_only(
    office: Seam, configured: dict[str, Any], tenant: str, office_control: Any, office_accounts: Any
) -> None:
    elsewhere = f"else-{uuid.uuid4().hex[:8]}"
    office_control.ensure_tenant(elsewhere, "Elsewhere")
    email = member(office_accounts, elsewhere, "owner")
    who = me(office, signed_in(office, tenant, email)["accessToken"])
    assert who["memberships"] == [{"tenantId": tenant, "role": "developer", "projects": ["*"]}]
    stored = office_accounts.find_user_by_email(email)
    assert {m["tenantId"] for m in stored["memberships"]} == {tenant, elsewhere}
    with_password = me(
        office, office.client.post("/v1/auth/login", json={"email": email, "password": PASSWORD}).json()["accessToken"]
    )
    assert {m["tenantId"] for m in with_password["memberships"]} == {tenant, elsewhere}


def test_platform_staff_cannot_sign_in_through_a_tenant_provider(
    office: Seam, configured: dict[str, Any], tenant: str, office_accounts: Any
) -> None:
    email = f"staff-{uuid.uuid4().hex[:6]}@studio.example"
    office_accounts.create_user(email, PASSWORD, platform_role="superadmin")
    back = through_provider(start(office, tenant), email)
    assert_problem(office.client.get(callback_path(back), follow_redirects=False), 403, "oidc-email-refused")


def test_configuration_is_for_owners_validated_and_per_tenant(
    office: Seam,
    owner: Dashboard,
    provider: OidcProvider,
    configured: dict[str, Any],
    office_accounts: Any,
    tenant: str,
) -> None:
    developer = sign_in(office, member(office_accounts, tenant, "developer"), PASSWORD, tenant)
    assert_problem(developer.put("/v1/client/oidc", json=configuration(provider)), 403, "forbidden")
    assert_problem(developer.get("/v1/client/oidc"), 403, "forbidden")
    invalid = owner.put(
        "/v1/client/oidc", json=configuration(provider, issuer="ftp://idp.example", allowedDomains=["not a domain"])
    )
    fields = {e["field"] for e in assert_problem(invalid, 422, "validation-error")["errors"]}
    assert fields == {"issuer", "allowedDomains"}
    assert owner.get("/v1/client/oidc").json()["issuer"] == provider.issuer
    assert_problem(owner.get("/v1/client/oidc", headers={"x-tenant-id": "demo"}), 403, "forbidden")
    assert_problem(
        office.client.get("/v1/auth/oidc/tenants/demo/start", follow_redirects=False), 404, "oidc-not-configured"
    )
    assert_problem(office.client.get("/v1/auth/oidc/tenants/demo"), 404, "oidc-not-configured")


def test_removing_the_provider_turns_the_button_off(
    office: Seam, office_control: Any, office_accounts: Any, provider: OidcProvider
) -> None:
    tenant = f"gone-{uuid.uuid4().hex[:8]}"
    office_control.ensure_tenant(tenant, "Gone")
    owner = sign_in(office, member(office_accounts, tenant, "owner"), PASSWORD, tenant)
    assert_problem(
        owner.put("/v1/client/oidc", json=configuration(provider, clientSecret=None)), 422, "validation-error"
    )
    assert owner.put("/v1/client/oidc", json=configuration(provider)).status_code == 200
    assert owner.delete("/v1/client/oidc").status_code == 204
    assert_problem(owner.delete("/v1/client/oidc"), 404, "oidc-not-configured")
    assert_problem(
        office.client.get(f"/v1/auth/oidc/tenants/{tenant}/start", follow_redirects=False), 404, "oidc-not-configured"
    )
    audit = owner.get("/v1/admin/audit", params={"tenantId": tenant})
    assert audit.status_code == 200, audit.text
    entries = [e for e in audit.json()["items"] if e["action"].startswith("oidc.")]
    assert [e["action"] for e in entries] == ["oidc.put", "oidc.delete"]
    assert provider.client_secret not in str(entries) and entries[0]["after"]["issuer"] == provider.issuer


def test_a_wrong_client_secret_or_an_unreachable_provider_answers_502(
    office: Seam, office_control: Any, office_accounts: Any, provider: OidcProvider
) -> None:
    tenant = f"bad-{uuid.uuid4().hex[:8]}"
    office_control.ensure_tenant(tenant, "Misconfigured")
    owner = sign_in(office, member(office_accounts, tenant, "owner"), PASSWORD, tenant)
    assert owner.put("/v1/client/oidc", json=configuration(provider, clientSecret="not-the-secret")).status_code == 200
    back = through_provider(start(office, tenant), f"ada-{uuid.uuid4().hex[:6]}@studio.example")
    refused = assert_problem(office.client.get(callback_path(back), follow_redirects=False), 502, "oidc-provider-error")
    assert "401" in refused["detail"] or "invalid_client" in refused["detail"]
    gone = configuration(provider, issuer="http://127.0.0.1:9")  # nothing listens on the discard port
    assert owner.put("/v1/client/oidc", json=gone).status_code == 200
    assert_problem(
        office.client.get(f"/v1/auth/oidc/tenants/{tenant}/start", follow_redirects=False), 502, "oidc-provider-error"
    )


def test_an_id_token_signed_with_the_client_secret_is_refused(
    office: Seam, office_control: Any, office_accounts: Any, provider: OidcProvider
) -> None:
    """HS256 ID tokens are signed with the client secret, which the tenant's admin knows: they
    prove nothing about the provider. The real provider issues one to its `-hs256` client."""
    tenant = f"hs-{uuid.uuid4().hex[:8]}"
    office_control.ensure_tenant(tenant, "Symmetric")
    owner = sign_in(office, member(office_accounts, tenant, "owner"), PASSWORD, tenant)
    symmetric = configuration(provider, clientId=f"{provider.client_id}-hs256")
    assert owner.put("/v1/client/oidc", json=symmetric).status_code == 200
    email = f"ada-{uuid.uuid4().hex[:6]}@studio.example"
    back = through_provider(start(office, tenant), email)
    refused = assert_problem(office.client.get(callback_path(back), follow_redirects=False), 401, "invalid-id-token")
    assert "HS256" in refused["detail"]
    assert office_accounts.find_user_by_email(email) is None
