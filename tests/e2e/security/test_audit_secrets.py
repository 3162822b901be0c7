"""Finding 1 of the second pass: the audit log holds no secret. Every audited action is done over
HTTP with secrets in play (webhook and billing signing secrets, API keys, passwords, a TOTP
secret, refresh tokens), then every entry it left is searched for them and for anything
secret-shaped. That no action can be recorded without an allow-list is proven from the source, by
tests/unit/serve/test_audit_fields.py."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest

from serve.audit_fields import AUDITED_FIELDS
from serve.launcher import Launched
from tests.e2e.test_webhooks import Receiver
from tests.routes.test_economy_verify import ARBITRAGE

SECRET_SHAPED = re.compile(r"whsec_|ldx_|rt_[A-Za-z0-9_-]{8}|\$argon2|\$scrypt|\$2[aby]\$|pbkdf2")
PASSWORD = "audit-me-not-" + uuid.uuid4().hex


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.close()


def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code < 300, response.text
    return {} if response.status_code == 204 else dict(response.json())


def do_every_audited_action(
    admin: httpx.Client, ludex: Launched, receiver: Receiver, demo_economy_document: Any
) -> tuple[str, list[str]]:
    """Does every audited action once (each that writes a secret, with one); answers the tenant
    and the secrets seen on the way."""
    tag = uuid.uuid4().hex[:8]
    tenant, plan, project = f"aud-{tag}", f"aud-plan-{tag}", f"aud-prj-{tag}"
    here = {"x-tenant-id": tenant}
    secrets: list[str] = [PASSWORD]
    ok(admin.post("/v1/admin/plans", json={"id": plan, "name": "Audited"}))
    ok(admin.put(f"/v1/admin/plans/{plan}", json={"id": plan, "name": "Audited plan"}))
    ok(admin.post("/v1/admin/tenants", json={"id": tenant, "name": "Audited", "planId": plan}))
    ok(admin.patch(f"/v1/admin/tenants/{tenant}", json={"name": "Audited Co"}))
    ok(admin.post("/v1/client/projects", json={"id": project, "name": "p"}, headers=here))
    ok(admin.patch(f"/v1/client/projects/{project}", json={"name": "p2"}, headers=here))
    ok(admin.put(f"/v1/client/projects/{project}/economy", json=demo_economy_document, headers=here))
    ok(admin.put(f"/v1/client/projects/{project}/economy", json=ARBITRAGE, params={"force": "true"}, headers=here))
    ok(admin.put(f"/v1/client/projects/{project}/economy", json=demo_economy_document, headers=here))
    ok(admin.put(f"/v1/client/projects/{project}/flags/overrides", json={"overrides": {}}, headers=here))
    player_auth_secret = "player-auth-" + uuid.uuid4().hex + uuid.uuid4().hex
    secrets.append(player_auth_secret)
    ok(
        admin.patch(
            f"/v1/client/projects/{project}/player-auth",
            json={"secret": player_auth_secret, "deviceSignIn": True, "allowedOrigins": ["https://game.example"]},
            headers=here,
        )
    )
    keys = f"/v1/client/projects/{project}/api-keys"
    key = ok(admin.post(keys, json={"name": "k", "scopes": ["players:read", "players:write"]}, headers=here))
    rotated = ok(admin.post(f"{keys}/{key['id']}/rotate", headers=here))
    secrets += [key["apiKey"], rotated["apiKey"]]
    ok(admin.post(f"{keys}/{rotated['id']}/revoke", headers=here))
    # a user with a password, a TOTP secret and refresh tokens, changed and made a member
    email = f"audited-{tag}@example.com"
    user = ok(admin.post("/v1/admin/users", json={"email": email, "password": PASSWORD}))
    signed = ok(httpx.post(f"{ludex.base_url}/v1/auth/login", json={"email": email, "password": PASSWORD}))
    bearer = {"Authorization": f"Bearer {signed['accessToken']}"}
    totp = ok(httpx.post(f"{ludex.base_url}/v1/auth/2fa/setup", json={"password": PASSWORD}, headers=bearer))
    secrets += [signed["refreshToken"], signed["accessToken"], totp["secret"]]
    ok(admin.patch(f"/v1/admin/users/{user['id']}", json={"password": PASSWORD + "-2"}))
    secrets.append(PASSWORD + "-2")
    invited = f"invited-{tag}@example.com"
    member = ok(admin.post("/v1/client/members", json={"email": invited, "role": "analyst"}, headers=here))
    ok(admin.post("/v1/client/members", json={"email": email, "role": "developer"}, headers=here))
    ok(admin.delete(f"/v1/client/members/{member['id']}", headers=here))
    # webhooks and the billing webhook: their signing secrets
    hooks = f"/v1/client/projects/{project}/webhooks"
    hook = ok(admin.post(hooks, json={"url": receiver.url}, headers=here))
    secrets.append(hook["secret"])
    ok(admin.patch(f"{hooks}/{hook['id']}", json={"active": True}, headers=here))
    ok(admin.post(f"{hooks}/{hook['id']}/redrive", headers=here))
    billing = ok(admin.put("/v1/admin/billing/webhook", json={"url": receiver.url}))
    rotated_billing = ok(admin.put("/v1/admin/billing/webhook", json={"url": receiver.url, "rotateSecret": True}))
    secrets += [billing["secret"], rotated_billing["secret"]]
    ok(admin.delete("/v1/admin/billing/webhook"))
    # a player erased, the shards scaled to what they are
    game = httpx.Client(
        base_url=f"{ludex.base_url}/v1/projects/{project}", headers={**here, "x-api-key": key["apiKey"]}
    )
    player = f"pl-{tag}"
    ok(game.post("/players", json={"playerId": player, "username": player}))
    moderated = f"/v1/client/projects/{project}/players/{player}"
    ok(admin.post(f"{moderated}/ban", json={"reason": "audited ban"}, headers=here))
    ok(admin.post(f"{moderated}/unban", headers=here))
    ok(admin.post(f"{moderated}/sessions/revoke", headers=here))
    ok(admin.post(f"/v1/client/projects/{project}/players/{player}/erase", headers=here))
    hosts = ok(admin.get("/v1/admin/shards"))["hosts"]
    ok(admin.put("/v1/admin/shards", json={"hosts": hosts if isinstance(hosts, int) else len(hosts)}))
    ok(admin.delete(f"{hooks}/{hook['id']}", headers=here))
    ok(admin.delete(f"/v1/client/projects/{project}", headers=here))
    ok(admin.delete(f"/v1/admin/tenants/{tenant}"))
    ok(admin.delete(f"/v1/admin/plans/{plan}"))
    return tenant, secrets


def test_no_audit_entry_holds_a_secret(
    admin: httpx.Client, ludex: Launched, receiver: Receiver, demo_economy_document: Any
) -> None:
    _, secrets = do_every_audited_action(admin, ludex, receiver, demo_economy_document)
    entries: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 100, **({"cursor": cursor} if cursor else {})}
        page = ok(admin.get("/v1/admin/audit", params=params))
        entries += page["items"]
        if not page.get("nextCursor"):
            break
        cursor = page["nextCursor"]
    seen = {entry["action"] for entry in entries}
    # every listed action was walked, except those whose allow-list is empty (nothing to keep)
    # Not walked yet (their routes have no secret field; their own tests check their audit entries):
    # the tenant lifecycle, retention and remediation.
    unwalked = {"webhook.redrive", "tenant.retention", "tenant.state", "tenant.export"}
    unwalked |= {"tenant.deletion.schedule", "tenant.deletion.cancel", "remediation.apply", "remediation.finish"}
    assert {action for action, fields in AUDITED_FIELDS.items() if fields} <= seen | unwalked, seen
    for entry in entries:
        text = orjson.dumps(entry).decode()
        assert not SECRET_SHAPED.search(text), (entry["action"], SECRET_SHAPED.search(text))
        for secret in secrets:
            assert secret not in text, (entry["action"], "holds a secret")
