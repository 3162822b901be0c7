"""Finding 9 of the second pass: the dashboard's pages run no inline script and connect only to
their own origin; only the API docs page (Swagger UI starts itself inline) gets the looser policy."""

from __future__ import annotations

import httpx
import pytest

from serve.launcher import Launched


def directives(policy: str) -> dict[str, list[str]]:
    parsed: dict[str, list[str]] = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            parsed[words[0]] = words[1:]
    return parsed


@pytest.mark.parametrize("path", ["/dashboard/", "/dashboard/client/events", "/dashboard/admin/tenants"])
def test_dashboard_pages_allow_no_inline_script_and_connect_only_to_their_origin(ludex: Launched, path: str) -> None:
    page = httpx.get(f"{ludex.base_url}{path}", timeout=30)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    policy = directives(page.headers["content-security-policy"])
    assert policy["script-src"] == ["'self'"], policy["script-src"]
    host = httpx.URL(ludex.base_url).netloc.decode()
    assert set(policy["connect-src"]) <= {"'self'", f"ws://{host}", f"wss://{host}"}, policy["connect-src"]
    assert "'self'" in policy["connect-src"]
    assert policy["default-src"] == ["'self'"] and policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'none'"]


def test_only_the_api_docs_page_may_run_inline_script(ludex: Launched) -> None:
    docs = httpx.get(f"{ludex.base_url}/v1/docs", timeout=30)
    assert docs.status_code == 200 and "<script>" in docs.text  # Swagger UI boots inline
    policy = directives(docs.headers["content-security-policy"])
    assert "'unsafe-inline'" in policy["script-src"]
    assert policy["connect-src"] == ["'self'"], "the docs page calls only this server"
