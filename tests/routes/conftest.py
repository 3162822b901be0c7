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

from actors.coordinator import Coordinator
from config.settings import Settings
from serve.app import create_app
from serve.backend import Backend, BackendHolder
from serve.launcher import bootstrap_demo
from tests.support.in_process import InProcessHostPool, in_process_cluster

with warnings.catch_warnings():  # Starlette prefers httpx2 for its TestClient; httpx still works
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

SHARDS = 2


class InProcessCluster:
    """What the seam injects into the app's `BackendHolder`: `connect` builds the backend as
    `Backend.connect` does, with a `ShardDirectory` over shard hosts in this process instead of
    Ray actors. It runs on first use inside the app's event loop, where the hosts then run their
    commit loops; `close` stops them."""

    def __init__(self) -> None:
        self.coordinator: Coordinator | None = None
        self.pool: InProcessHostPool | None = None
        self.backend: Backend | None = None

    async def connect(self, settings: Settings) -> Backend:
        self.coordinator, self.pool, directory = await in_process_cluster(settings)
        self.backend = await Backend.connect(settings, directory)
        return self.backend

    async def close(self) -> None:
        if self.coordinator is not None and self.pool is not None:
            await self.coordinator.stop()
            await self.pool.stop(list(self.pool.hosts))
        if self.backend is not None:
            await self.backend.close()


class Seam:
    """The app under test, its TestClient, the in-process cluster under it and the demo credentials."""

    def __init__(
        self, client: TestClient, holder: BackendHolder, cluster: InProcessCluster, credentials: dict[str, str]
    ) -> None:
        self.client = client
        self.holder = holder
        self.cluster = cluster
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
    cluster = InProcessCluster()
    holder = app.state.backend_holder = BackendHolder(settings, connect=cluster.connect)
    with TestClient(app, base_url="http://testserver", raise_server_exceptions=False) as client:

        async def bootstrap() -> dict[str, str]:
            backend = await holder.get()
            return await bootstrap_demo(settings, backend.directory, str(client.base_url))

        credentials = client.portal.call(bootstrap)
        yield Seam(client, holder, cluster, credentials)
        client.portal.call(cluster.close)


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
