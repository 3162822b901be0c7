"""The route seam: the real FastAPI app through `TestClient`, over real shard hosts on a
temporary SQLite store, in this process, without Ray. A router's behaviour (validation,
problems, status codes, bodies) is tested here in milliseconds; `tests/e2e` keeps what needs Ray
Serve (realtime, restarts and chaos, several replicas, the proxy)."""

from __future__ import annotations

import functools
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.exceptions import StarletteDeprecationWarning

from actors.board_factory import board_store_for
from actors.coordinator import Coordinator
from actors.ingress.control_plane import Backoffice
from actors.stores.factory import store_for
from config.settings import Settings
from serve.app import create_app
from serve.backend import Backend, BackendHolder
from serve.launcher import bootstrap_demo
from tests.support.in_process import InProcessHostPool, in_process_cluster

with warnings.catch_warnings():  # Starlette prefers httpx2 for its TestClient; httpx still works
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

SHARDS = 2


class InProcessBackendHolder(BackendHolder):
    """The app's backend, with `ShardDirectory` over in-process hosts instead of Ray actors. Built
    on first use inside the app's event loop, where the hosts then run their commit loops."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.coordinator: Coordinator | None = None
        self.pool = InProcessHostPool(settings)

    async def get(self) -> Backend:
        if self._backend is None:
            async with self._lock:
                if self._backend is None:
                    self._backend = await self._connect()
        return self._backend

    async def _connect(self) -> Backend:
        settings = self.settings
        self.coordinator, directory = await in_process_cluster(settings)
        self.pool = directory.pool
        store = store_for(settings)
        await store.open()
        control = Backoffice(store)
        await control.seed_plans()
        boards = board_store_for(settings)
        await boards.open()
        return Backend(settings, store, control, directory, boards)

    async def close(self) -> None:
        if self.coordinator is not None:
            await self.coordinator.stop()
            await self.pool.stop(list(self.pool.hosts))
        if self._backend is not None:
            await self._backend.close()


class Seam:
    """The app under test, its TestClient and the demo credentials."""

    def __init__(self, client: TestClient, holder: InProcessBackendHolder, credentials: dict[str, str]) -> None:
        self.client = client
        self.holder = holder
        self.credentials = credentials


@pytest.fixture(scope="session")
def seam(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seam]:
    data_dir: Path = tmp_path_factory.mktemp("ludex-routes")
    with seam_for(Settings(deployment="routes", data_dir=data_dir, shards=SHARDS)) as started:
        yield started


@contextmanager
def seam_for(settings: Settings) -> Iterator[Seam]:
    """The app over in-process hosts with these settings (a test of a setting builds its own)."""
    app = create_app(settings)
    holder = InProcessBackendHolder(settings)
    app.state.backend_holder = holder
    with TestClient(app, base_url="http://testserver", raise_server_exceptions=False) as client:

        async def bootstrap() -> dict[str, str]:
            backend = await holder.get()
            return await bootstrap_demo(settings, backend.directory, str(client.base_url))

        credentials = client.portal.call(bootstrap)
        yield Seam(client, holder, credentials)
        client.portal.call(holder.close)


class RouteApi:
    """The e2e tests' `Api` (one project, its tenant header and API key) over the seam's client."""

    def __init__(self, client: TestClient, tenant: str, project: str, api_key: str | None) -> None:
        self.headers = {"x-tenant-id": tenant}
        if api_key is not None:
            self.headers["x-api-key"] = api_key
        self.project = project
        self.client = client
        self.prefix = f"/v1/projects/{project}"

    def _send(self, method: str, path: str, *, headers: dict[str, str] | None = None, **kwargs: Any) -> httpx.Response:
        return self.client.request(method, self.prefix + path, headers={**self.headers, **(headers or {})}, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self._send("GET", path, **kwargs)

    def post(self, path: str, json: Any = None, **kwargs: Any) -> httpx.Response:
        return self._send("POST", path, json=json, **kwargs)

    def patch(self, path: str, json: Any = None, **kwargs: Any) -> httpx.Response:
        return self._send("PATCH", path, json=json, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self._send("DELETE", path, **kwargs)


@pytest.fixture(scope="session")
def api(seam: Seam) -> RouteApi:
    creds = seam.credentials
    return RouteApi(seam.client, creds["tenantId"], creds["projectId"], creds["apiKey"])


@pytest.fixture
def player(api: RouteApi) -> str:
    """A fresh player of the demo project."""
    player_id = f"pl-{uuid.uuid4().hex[:10]}"
    response = api.post("/players", {"playerId": player_id, "username": player_id})
    assert response.status_code == 201, response.text
    return player_id


@contextmanager
def api_with_key(seam: Seam, api_key: str | None, *, tenant: str = "demo", project: str = "demo") -> Iterator[RouteApi]:
    """A `RouteApi` for a given key (None: no key header), like the e2e helper of that name."""
    yield RouteApi(seam.client, tenant, project, api_key)


class PortalProxy:
    """Calls an async service's methods synchronously, on the app's own event loop (where the
    seam's store lives)."""

    def __init__(self, service: Any, seam: Seam) -> None:
        self.service = service
        self.seam = seam

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.service, name)
        return lambda *args, **kwargs: self.seam.client.portal.call(functools.partial(method, *args, **kwargs))


@pytest.fixture(scope="session")
def control_plane(seam: Seam) -> PortalProxy:
    """The seam's control plane (tenants, projects, keys) over the app's own store."""

    async def control() -> Any:
        return (await seam.holder.get()).control

    return PortalProxy(seam.client.portal.call(control), seam)
