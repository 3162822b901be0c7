"""The web dashboards at `/dashboard/` and the API docs at `/v1/docs`, both served from files
inside the package so that nothing is fetched from outside the server (a machine without
internet still gets a working console and working docs).

The dashboards are a single-page app: every path under `/dashboard/` that is not one of its
files answers `index.html`, so deep links and reloads work; the app then calls only the public
API. See docs/DASHBOARD.md."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

STATIC = Path(__file__).resolve().parent / "static"
DASHBOARD = STATIC / "dashboard"
SWAGGER = STATIC / "swagger-ui"
SWAGGER_FILES = ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png")
DOCS_URL = "/v1/docs"
# The SPA's files change with every release and are small: browsers revalidate them each time.
NO_CACHE = {"cache-control": "no-cache"}

router = APIRouter(include_in_schema=False)


@router.get("/dashboard")
async def dashboard_root() -> RedirectResponse:
    return RedirectResponse("/dashboard/", status_code=308)


@router.get("/dashboard/{path:path}")
async def dashboard_file(path: str) -> Response:
    """A file of the app, else `index.html` for the app's own routes (paths without a suffix)."""
    target = (DASHBOARD / path).resolve()
    if path and target.is_file() and target.is_relative_to(DASHBOARD):
        return FileResponse(target, headers=NO_CACHE)
    if Path(path).suffix:
        return Response(status_code=404)
    return FileResponse(DASHBOARD / "index.html", headers=NO_CACHE)


@router.get(DOCS_URL + "/assets/{name}")
async def swagger_asset(name: str) -> Response:
    if name not in SWAGGER_FILES:
        return Response(status_code=404)
    return FileResponse(SWAGGER / name, headers={"cache-control": "public, max-age=86400"})


def install(app: FastAPI) -> None:
    """Adds the dashboards and the offline docs page (the app must be made with `docs_url=None`)."""
    openapi_url = app.openapi_url or "/v1/openapi.json"

    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} API",
            swagger_js_url=f"{DOCS_URL}/assets/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_URL}/assets/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_URL}/assets/favicon-32x32.png",
            swagger_ui_parameters={"validatorUrl": None},
        )

    app.add_api_route(DOCS_URL, docs, methods=["GET"], include_in_schema=False)
    app.include_router(router)
