"""The console's files and the offline docs page as the app serves them (over ASGI, no server):
deep links answer the SPA, nothing escapes the static folder, the docs page names only local
assets, and the console's copies of the RBAC table and of the client-policy ops are the engine's."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator

import httpx
import pytest

from engine.client_policy import CLIENT_OPS, DEFAULT_CLIENT_ALLOW
from engine.rbac import POLICY
from serve.app import create_app
from serve.webui import DASHBOARD

OUTSIDE = re.compile(r"""(src|href)=["']https?://|url\(\s*["']?https?://""")


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://ludex.test") as client:
        yield client


async def test_the_console_and_its_deep_links_answer_the_single_page_app(client: httpx.AsyncClient) -> None:
    index = (DASHBOARD / "index.html").read_text()
    for path in ("/dashboard/", "/dashboard/signin", "/dashboard/client/economy", "/dashboard/admin/tenants"):
        response = await client.get(path)
        assert response.status_code == 200, path
        assert response.text == index and response.headers["content-type"].startswith("text/html")
    redirect = await client.get("/dashboard")
    assert redirect.status_code == 308 and redirect.headers["location"] == "/dashboard/"


async def test_console_files_are_served_and_nothing_outside_the_folder(client: httpx.AsyncClient) -> None:
    script = await client.get("/dashboard/js/app.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert (await client.get("/dashboard/app.css")).headers["content-type"].startswith("text/css")
    assert (await client.get("/dashboard/js/missing.js")).status_code == 404
    for escape in ("/dashboard/..%2F..%2Fapp.py", "/dashboard/%2e%2e/webui.py", "/dashboard/js/..%2F..%2F..%2Fapp.py"):
        assert (await client.get(escape)).status_code == 404, escape


async def test_every_console_asset_is_local(client: httpx.AsyncClient) -> None:
    """No script, style, font or image is fetched from another origin."""
    for path in DASHBOARD.rglob("*"):
        if path.suffix in {".html", ".js", ".css"}:
            text = path.read_text()
            assert not OUTSIDE.search(text), path
            assert not re.search(r"""import[^;]*from\s+["']https?://""", text), path


async def test_the_api_docs_page_loads_swagger_ui_from_the_server(client: httpx.AsyncClient) -> None:
    page = await client.get("/v1/docs")
    assert page.status_code == 200
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
    assert urls and all(url.startswith("/v1/docs/assets/") for url in urls), urls
    assert "'/v1/openapi.json'" in page.text or '"/v1/openapi.json"' in page.text
    for url in urls:
        asset = await client.get(url)
        assert asset.status_code == 200 and len(asset.content) > 500, url
    assert (await client.get("/v1/docs/assets/LICENSE")).status_code == 404
    schema = (await client.get("/v1/openapi.json")).json()
    assert not any(path.startswith(("/dashboard", "/v1/docs")) for path in schema["paths"])


def test_the_consoles_policy_is_engine_rbac() -> None:
    copied = json.loads((DASHBOARD / "policy.json").read_text())
    assert {action: set(roles) for action, roles in copied.items()} == {
        action: set(roles) for action, roles in POLICY.items()
    }, "regenerate serve/static/dashboard/policy.json from engine.rbac.POLICY (docs/DASHBOARD.md)"


def test_the_consoles_client_ops_are_the_engines() -> None:
    """The client-policy editor offers every op `clientPolicy.allow` may name, and no other."""
    source = (DASHBOARD / "js" / "economy.js").read_text()
    table = source.split("export const CLIENT_OPS = [", 1)[1].split("];", 1)[0]
    offered = re.findall(r'^\s*\["([a-z]+)"', table, flags=re.MULTILINE)
    assert len(offered) == len(set(offered)) and set(offered) == CLIENT_OPS
    defaults = re.search(r"DEFAULT_CLIENT_ALLOW = \[([^\]]*)\]", source)
    assert defaults is not None and tuple(re.findall(r'"([a-z]+)"', defaults.group(1))) == DEFAULT_CLIENT_ALLOW
