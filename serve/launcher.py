"""Start and stop a whole Ludex: shard hosts, the demo bootstrap, and the Serve app. Shared by
`ludex serve` and the end-to-end tests, so the tests run what users run."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from ray import serve

from actors.cluster import start_shard_hosts, start_webhook_worker, stop_cluster, stop_webhook_worker
from actors.directory import ShardDirectory
from actors.ingress.accounts import AccountService
from actors.ingress.control_plane import ControlPlane
from actors.secret_box import SecretBox
from actors.stores.factory import store_for
from config.settings import DEMO_ECONOMY_PATH, Settings
from serve.deployment import APP_NAME, build_application
from serve.starting import build_starting_application

DEMO_TENANT = DEMO_PROJECT = "demo"
CREDENTIALS_FILE = "demo-credentials.json"
DEMO_ADMIN_EMAIL = "admin@demo.ludex.dev"


@dataclass
class Launched:
    settings: Settings
    handles: list[Any]
    credentials: dict[str, str]
    base_url: str
    webhooks: Any = None  # the webhook worker actor


async def bootstrap_demo(settings: Settings, directory: ShardDirectory, base_url: str) -> dict[str, str]:
    """On first start, tenant `demo`, project `demo` with the demo economy, an all-scope key and
    a superadmin `admin@demo.ludex.dev` for the dashboard, written to
    `<data-dir>/demo-credentials.json`. Later starts reuse them."""
    path = settings.data_dir / CREDENTIALS_FILE
    store = store_for(settings)
    await store.open()
    try:
        control = ControlPlane(store)
        await control.ensure_tenant(DEMO_TENANT, "Demo")
        await control.ensure_project(DEMO_TENANT, DEMO_PROJECT, "Demo project")
        if await directory.economy_document(DEMO_TENANT, DEMO_PROJECT) is None:
            document = yaml.safe_load(DEMO_ECONOMY_PATH.read_text())
            outcome = await directory.define_economy(DEMO_TENANT, DEMO_PROJECT, document)
            assert outcome.ok, outcome
        previous = _read_credentials(path)
        credentials = previous
        if credentials is None or await control.authenticate(credentials["apiKey"]) is None:
            _, api_key = await control.create_api_key(DEMO_TENANT, DEMO_PROJECT, "demo")
            credentials = {"tenantId": DEMO_TENANT, "projectId": DEMO_PROJECT, "apiKey": api_key}
        accounts = AccountService(store, box=SecretBox.from_settings(settings))
        credentials.update(await _bootstrap_admin(accounts, previous or {}))
        credentials["baseUrl"] = base_url
        write_private(path, json.dumps(credentials, indent=2) + "\n")
        return credentials
    finally:
        await store.close()


async def _bootstrap_admin(accounts: AccountService, previous: dict[str, str]) -> dict[str, str]:
    """The demo superadmin, created once with a random password. A restart keeps the password
    written before; if the file lost it, the existing user gets a new one."""
    await accounts.signing_key()  # generated here, before any ingress replica starts
    password = previous.get("adminPassword") if previous.get("adminEmail") == DEMO_ADMIN_EMAIL else None
    user = await accounts.find_user_by_email(DEMO_ADMIN_EMAIL)
    if user is None:
        password = password or secrets.token_urlsafe(18)
        await accounts.create_user(DEMO_ADMIN_EMAIL, password, platform_role="superadmin")
    elif not password:
        password = secrets.token_urlsafe(18)
        await accounts.set_password(user["id"], password)
    assert password is not None
    return {"adminEmail": DEMO_ADMIN_EMAIL, "adminPassword": password}


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read, from its first byte (no world-readable window)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)  # an older file keeps its mode through O_CREAT: set it anyway
    with os.fdopen(descriptor, "w") as file:
        file.write(text)


def _read_credentials(path: Path) -> dict[str, str] | None:
    try:
        credentials: dict[str, str] = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return credentials if "apiKey" in credentials else None


def launch(settings: Settings, host: str, port: int, *, replicas: int = 1) -> Launched:
    """Within a connected Ray: answer `starting` (`serve/starting.py`), start the shard hosts,
    bootstrap the demo, then deploy the app in the placeholder's place."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    serve.start(http_options={"host": host, "port": port})
    serve.run(build_starting_application(settings), name=APP_NAME, route_prefix="/")
    handles = start_shard_hosts(settings)
    webhooks = start_webhook_worker(settings)
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    base_url = f"http://{shown_host}:{port}"
    credentials = asyncio.run(bootstrap_demo(settings, ShardDirectory.connect(settings), base_url))
    serve.run(build_application(settings, replicas=replicas), name=APP_NAME, route_prefix="/")
    return Launched(settings, handles, credentials, base_url, webhooks)


def shutdown(launched: Launched) -> None:
    serve.delete(APP_NAME)
    serve.shutdown()  # type: ignore[no-untyped-call]  # Ray leaves it unannotated
    if launched.webhooks is not None:
        stop_webhook_worker(launched.webhooks)
    stop_cluster(launched.settings.deployment)
