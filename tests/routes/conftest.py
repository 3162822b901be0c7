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
from actors.ingress.accounts import AccountService
from actors.secret_box import SecretBox
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
    # Generous backoffice rates: many tests sign the one demo superadmin in and list through it.
    settings = Settings(deployment="routes", data_dir=data_dir, shards=SHARDS, backoffice_rate_per_user_per_s=1000.0)
    with seam_for(settings) as started:
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
    return service_proxy(seam, lambda backend: backend.control)


class Dashboard:
    """A signed-in dashboard user over a seam's client, like the e2e tests' `httpx.Client` with
    its `Authorization` and `x-tenant-id` headers (a call's own headers win)."""

    def __init__(self, client: TestClient, headers: dict[str, str]) -> None:
        self.client = client
        self.headers = headers

    def request(self, method: str, url: str, *, headers: dict[str, str] | None = None, **kwargs: Any) -> httpx.Response:
        return self.client.request(method, url, headers={**self.headers, **(headers or {})}, **kwargs)

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("PATCH", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", url, **kwargs)


def sign_in(seam: Seam, email: str, password: str, tenant: str) -> Dashboard:
    """`email` signed in through `POST /v1/auth/login`, acting for `tenant`."""
    response = seam.client.post("/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return Dashboard(seam.client, {"Authorization": f"Bearer {response.json()['accessToken']}", "x-tenant-id": tenant})


@pytest.fixture(scope="session")
def office(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seam]:
    """A seam of its own for the backoffice's tests: they sign many users in and change
    platform-wide things (plans, the billing webhook), so its sign-in and backoffice rates are
    generous and nothing they do reaches the game routes' seam."""
    data_dir: Path = tmp_path_factory.mktemp("ludex-office")
    settings = Settings(
        deployment="office",
        data_dir=data_dir,
        shards=SHARDS,
        login_rate_per_ip_per_s=1000.0,
        login_rate_per_s=1000.0,
        backoffice_rate_per_user_per_s=1000.0,
    )
    with seam_for(settings) as started:
        yield started


@pytest.fixture(scope="session")
def office_admin(office: Seam) -> Dashboard:
    """The demo superadmin of the office seam, acting for tenant `demo`."""
    creds = office.credentials
    return sign_in(office, creds["adminEmail"], creds["adminPassword"], creds["tenantId"])


def service_proxy(seam: Seam, make: Any) -> PortalProxy:
    """A service `make(backend)` builds over the seam's backend, called on the app's loop."""

    async def build() -> Any:
        return make(await seam.holder.get())

    return PortalProxy(seam.client.portal.call(build), seam)


@pytest.fixture(scope="session")
def office_control(office: Seam) -> PortalProxy:
    """The office seam's control plane (tenants, plans, projects, keys)."""
    return service_proxy(office, lambda backend: backend.control)


@pytest.fixture(scope="session")
def office_accounts(office: Seam) -> PortalProxy:
    """The office seam's dashboard accounts (same store and sealing key as the app's)."""
    return service_proxy(
        office, lambda backend: AccountService(backend.store, box=SecretBox.from_settings(backend.settings))
    )


def project_api(seam: Seam, admin: Dashboard, economy: Any, scopes: list[str], *, prefix: str = "prj") -> RouteApi:
    """A fresh project of the demo tenant on `economy`, and a `RouteApi` with a key of those scopes."""
    project = f"{prefix}-{uuid.uuid4().hex[:8]}"
    assert admin.post("/v1/client/projects", json={"id": project, "name": project}).status_code == 201
    defined = admin.put(f"/v1/client/projects/{project}/economy", json=economy)
    assert defined.status_code == 200, defined.text
    key = admin.post(f"/v1/client/projects/{project}/api-keys", json={"name": "tests", "scopes": scopes})
    assert key.status_code == 201, key.text
    return RouteApi(seam.client, "demo", project, key.json()["apiKey"])
