"""Finding 9 of the second pass, over HTTP (the browser test `tests/browser/test_console_key.py`
drives the same through the console): a key made with `endsWithSession` is revoked when its
dashboard session signs out, and only then."""

from __future__ import annotations

import httpx

from serve.launcher import Launched


def session(ludex: Launched) -> tuple[httpx.Client, str]:
    """A signed-in dashboard client of its own session, and that session's refresh token."""
    creds = ludex.credentials
    signed = httpx.post(
        f"{ludex.base_url}/v1/auth/login", json={"email": creds["adminEmail"], "password": creds["adminPassword"]}
    )
    tokens = signed.json()
    headers = {"Authorization": f"Bearer {tokens['accessToken']}", "x-tenant-id": creds["tenantId"]}
    return httpx.Client(base_url=ludex.base_url, headers=headers, timeout=30), tokens["refreshToken"]


def status_with(ludex: Launched, api_key: str) -> int:
    creds = ludex.credentials
    headers = {"x-tenant-id": creds["tenantId"], "x-api-key": api_key}
    url = f"{ludex.base_url}/v1/projects/{creds['projectId']}/players/nobody-here"
    return httpx.get(url, headers=headers, timeout=30).status_code


def test_signing_out_revokes_the_keys_the_session_made_to_end_with_it(ludex: Launched) -> None:
    console, refresh = session(ludex)
    other, other_refresh = session(ludex)
    keys = f"/v1/client/projects/{ludex.credentials['projectId']}/api-keys"
    body = {"name": "console", "scopes": ["players:read", "realtime"]}
    ending = console.post(keys, json={**body, "endsWithSession": True})
    lasting = console.post(keys, json=body)
    elsewhere = other.post(keys, json={**body, "endsWithSession": True})
    assert {r.status_code for r in (ending, lasting, elsewhere)} == {201}
    assert ending.json()["apiKey"].startswith("ldx_")
    assert {status_with(ludex, r.json()["apiKey"]) for r in (ending, lasting, elsewhere)} == {404}

    assert httpx.post(f"{ludex.base_url}/v1/auth/logout", json={"refreshToken": refresh}).status_code == 204
    assert status_with(ludex, ending.json()["apiKey"]) == 401, "the session's key is revoked"
    assert status_with(ludex, lasting.json()["apiKey"]) == 404, "a key not bound to the session stays"
    assert status_with(ludex, elsewhere.json()["apiKey"]) == 404, "another session's key stays"
    assert httpx.post(f"{ludex.base_url}/v1/auth/logout", json={"refreshToken": other_refresh}).status_code == 204
    assert status_with(ludex, elsewhere.json()["apiKey"]) == 401
