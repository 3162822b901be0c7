"""Finding 9 of the second pass: the project key the console makes for its live feed ends with
the session. Signing out revokes it on the server and leaves nothing of it in the tab's storage."""

from __future__ import annotations

import json

import httpx
from playwright.sync_api import Page, expect

from tests.browser.conftest import Server
from tests.browser.helpers import nav, sign_in


def stored_keys(page: Page) -> dict[str, str]:
    raw = page.evaluate("() => sessionStorage.getItem('ludex.consoleKeys')")
    return {} if raw is None else dict(json.loads(raw))


def answers(server: Server, api_key: str) -> int:
    with server.game(api_key) as game:
        return game.get("/players/nobody-here").status_code


def test_signing_out_revokes_the_console_key_and_clears_session_storage(page: Page, server: Server) -> None:
    sign_in(page, server)
    nav(page, "Events")
    page.get_by_role("button", name="Create a console key").click()
    expect(page.get_by_text("live", exact=True)).to_be_visible()
    keys = stored_keys(page)
    assert list(keys) == [f"{server.tenant}/{server.project}"], keys
    key = keys[f"{server.tenant}/{server.project}"]
    assert answers(server, key) == 404, "the key works while the session lasts"

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert stored_keys(page) == {}
    assert page.evaluate("() => sessionStorage.length") == 0, "nothing of the session is left in the tab"
    assert answers(server, key) == 401, "the server revoked the key at sign-out"
    with server.admin() as admin:
        listed = admin.get(f"/v1/client/projects/{server.project}/api-keys").json()["items"]
    revoked = [k for k in listed if key.startswith(f"ldx_{k['prefix']}_")]
    assert len(revoked) == 1 and revoked[0]["revokedAt"], revoked


def test_a_key_the_console_made_survives_another_session_signing_out(page: Page, server: Server) -> None:
    """Revocation is per session: signing out elsewhere (a script's login) leaves this tab's key."""
    sign_in(page, server)
    nav(page, "Events")
    page.get_by_role("button", name="Create a console key").click()
    expect(page.get_by_text("live", exact=True)).to_be_visible()
    key = stored_keys(page)[f"{server.tenant}/{server.project}"]
    login = httpx.post(
        f"{server.base_url}/v1/auth/login",
        json={"email": server.credentials["adminEmail"], "password": server.credentials["adminPassword"]},
    )
    other_session = {"refreshToken": login.json()["refreshToken"]}
    assert httpx.post(f"{server.base_url}/v1/auth/logout", json=other_session).status_code == 204
    assert answers(server, key) == 404
