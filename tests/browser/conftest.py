"""Browser tests: one `ludex serve` (started as a user starts it, on a temp data dir and a free
port) and one headless Chromium for this package, stopped before the rest of the suite runs.
Each test gets a fresh browser context (its own storage, so its own sign-in) and fails on any
uncaught JavaScript error.

Chromium is the Debian package (`apt-get install chromium`): Playwright's own browser download
does not work here. Without it the tests skip, and fail under `CI=true`."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.test_cli import start, stop, wait_ready
from tests.support.services import free_port, missing

CHROMIUM = os.environ.get("LUDEX_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
# Short-lived access tokens, so that the session outlives several of them and the console's
# silent refresh is exercised by every test, not only by the one that waits for it.
ACCESS_TTL_S = 15
DESKTOP = {"width": 1280, "height": 800}


@dataclass(frozen=True)
class Server:
    base_url: str
    credentials: dict[str, str]

    @property
    def tenant(self) -> str:
        return self.credentials["tenantId"]

    @property
    def project(self) -> str:
        return self.credentials["projectId"]

    def admin(self) -> httpx.Client:
        """The demo superadmin over HTTP, freshly signed in (tokens here live 15 s)."""
        return signed_in(self.base_url, self.credentials["adminEmail"], self.credentials["adminPassword"])

    def game(self, api_key: str | None = None) -> httpx.Client:
        """The demo project's game API with a key (the demo key by default)."""
        return httpx.Client(
            base_url=f"{self.base_url}/v1/projects/{self.project}",
            headers={"x-tenant-id": self.tenant, "x-api-key": api_key or self.credentials["apiKey"]},
            timeout=30,
        )


def signed_in(base_url: str, email: str, password: str) -> httpx.Client:
    login = httpx.post(f"{base_url}/v1/auth/login", json={"email": email, "password": password}, timeout=30)
    assert login.status_code == 200, login.text
    token = login.json()["accessToken"]
    return httpx.Client(
        base_url=base_url, headers={"authorization": f"Bearer {token}", "x-tenant-id": "demo"}, timeout=30
    )


@pytest.fixture(scope="session")
def chromium_path() -> str:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing("the playwright package is not installed (pip install -e '.[dev]')")
    if not Path(CHROMIUM).exists():
        missing(f"no Chromium at {CHROMIUM}: on Debian/Ubuntu run `sudo apt-get install -y chromium`")
    return CHROMIUM


@pytest.fixture(scope="package")
def server(chromium_path: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`ludex serve` for the session; `LUDEX_BROWSER_SERVER=<base url>,<data dir>` reuses a running
    one instead (while working on the console: saves the minute a start takes)."""
    reuse = os.environ.get("LUDEX_BROWSER_SERVER")
    if reuse:
        base_url, data = reuse.split(",", 1)
        yield Server(base_url, json.loads((Path(data) / "demo-credentials.json").read_text()))
        return
    data_dir = tmp_path_factory.mktemp("ludex-browser")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    process = start(data_dir, port, LUDEX_AUTH_ACCESS_TTL_S=str(ACCESS_TTL_S))
    try:
        wait_ready(base_url, process)
        credentials = json.loads((data_dir / "demo-credentials.json").read_text())
        yield Server(base_url, credentials)
    finally:
        stop(process)


@pytest.fixture(scope="package")
def browser(chromium_path: str) -> Iterator[Any]:
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=15_000)  # a loaded 2-core machine; a passing check returns at once
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    created = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    created.set_default_timeout(20_000)
    yield created
    created.close()


@pytest.fixture
def page(context: Any, server: Server) -> Iterator[Any]:
    """A tab of a fresh context; uncaught errors in the console's JavaScript fail the test."""
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    assert not errors, f"uncaught JavaScript errors: {errors}"


def screenshot(page: Any, name: str, *, full_page: bool = True) -> Path:
    """Writes tests/browser/screenshots/<name>.png (ignored by git; two are copied to docs/images)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
