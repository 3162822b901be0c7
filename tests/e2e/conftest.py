"""One Ludex for the whole e2e session: shard hosts and the Serve app in the shared Ray,
listening on a free port, reached over real HTTP."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from actors.stores.sqlite import SqliteStore
from config.settings import Settings
from serve.launcher import Launched, launch, shutdown
from tests.support.services import free_port, wait_for_port

# The session's signed-in clients must outlive their access token on a slow machine (the default
# is 15 minutes; the e2e session can take longer).
ACCESS_TTL_S = 6 * 3600


@pytest.fixture(scope="session")
def ludex(ray_instance: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Launched]:
    data_dir: Path = tmp_path_factory.mktemp("ludex-e2e")
    port = free_port()
    settings = Settings(deployment="e2e", data_dir=data_dir, shards=2, auth_access_ttl_s=ACCESS_TTL_S)
    launched = launch(settings, "127.0.0.1", port)
    assert wait_for_port(port), "Serve did not listen"
    for _ in range(200):
        try:
            if httpx.get(f"{launched.base_url}/v1/health/ready", timeout=5).status_code == 200:
                break
        except httpx.HTTPError:
            pass
    yield launched
    shutdown(launched)


class Api:
    """An HTTP client for one project, with its tenant header and API key set."""

    def __init__(self, base_url: str, tenant: str, project: str, api_key: str | None) -> None:
        headers = {"x-tenant-id": tenant}
        if api_key is not None:
            headers["x-api-key"] = api_key
        self.project = project
        self.client = httpx.Client(base_url=f"{base_url}/v1/projects/{project}", headers=headers, timeout=30)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(path, **kwargs)

    def post(self, path: str, json: Any = None, **kwargs: Any) -> httpx.Response:
        return self.client.post(path, json=json, **kwargs)

    def patch(self, path: str, json: Any = None, **kwargs: Any) -> httpx.Response:
        return self.client.patch(path, json=json, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.delete(path, **kwargs)


@pytest.fixture(scope="session")
def api(ludex: Launched) -> Api:
    creds = ludex.credentials
    return Api(ludex.base_url, creds["tenantId"], creds["projectId"], creds["apiKey"])


@pytest.fixture
def player(api: Api) -> str:
    """A fresh player of the demo project."""
    player_id = f"pl-{uuid.uuid4().hex[:10]}"
    response = api.post("/players", {"playerId": player_id, "username": player_id})
    assert response.status_code == 201, response.text
    return player_id


class SyncProxy:
    """Calls an async service's methods synchronously on the proxy's own event loop."""

    def __init__(self, service: Any, loop: Any) -> None:
        self.service = service
        self.loop = loop

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.service, name)
        return lambda *args, **kwargs: self.loop.run_until_complete(method(*args, **kwargs))


@pytest.fixture(scope="session")
def direct_store(ludex: Launched) -> Iterator[tuple[Any, SqliteStore]]:
    """An event loop and a store over the server's own SQLite file, for services the tests drive
    directly (to set up what the backoffice API would, or what it does not offer)."""
    import asyncio

    loop = asyncio.new_event_loop()
    store = SqliteStore(ludex.settings.sqlite_path)
    loop.run_until_complete(store.open())
    yield loop, store
    loop.run_until_complete(store.close())
    loop.close()


@pytest.fixture(scope="session")
def backoffice(direct_store: tuple[Any, SqliteStore]) -> SyncProxy:
    """actors.ingress.control_plane.Backoffice: tenants, plans, projects and keys."""
    from actors.ingress.control_plane import Backoffice

    loop, store = direct_store
    return SyncProxy(Backoffice(store), loop)


@pytest.fixture(scope="session")
def control_plane(backoffice: SyncProxy) -> SyncProxy:
    """The control plane (the Backoffice is one, with more)."""
    return backoffice


@pytest.fixture(scope="session")
def accounts(ludex: Launched, direct_store: tuple[Any, SqliteStore]) -> SyncProxy:
    """The dashboard accounts (same signing key, kept in the store, sealed with the server's key)."""
    from actors.ingress.accounts import AccountService
    from actors.secret_box import SecretBox

    loop, store = direct_store
    return SyncProxy(AccountService(store, box=SecretBox.from_settings(ludex.settings)), loop)


@pytest.fixture(scope="session")
def admin(ludex: Launched) -> Iterator[httpx.Client]:
    """The demo superadmin, signed in, acting for tenant `demo`."""
    from tests.e2e.helpers import login

    creds = ludex.credentials
    with login(ludex.base_url, creds["adminEmail"], creds["adminPassword"], creds["tenantId"]) as client:
        yield client
