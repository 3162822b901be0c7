"""The Content-Security-Policy of every HTML page the server answers.

The dashboard (`/dashboard/`) loads only its own module scripts and speaks only to this server,
so its policy allows no inline script and connections only to the page's own origin (`'self'`,
and the same host over `ws:`/`wss:` for the live feed, spelled out for browsers whose `'self'`
does not cover WebSocket schemes). Only the API docs page (`/v1/docs`) gets inline script:
Swagger UI starts itself from an inline `<script>`. docs/SECURITY.md, "Second pass (2026-12)"."""

from __future__ import annotations

import re

from serve.webui import DOCS_URL

_COMMON = (
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
DOCS_POLICY = f"{_COMMON}; script-src 'self' 'unsafe-inline'; connect-src 'self'"
_SANE_HOST = re.compile(r"[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]{2,45}\](:[0-9]{1,5})?")


def dashboard_policy(host: str | None) -> str:
    """The strict policy, with the same-host WebSocket origins when `host` (the Host header) is sane."""
    sockets = f" ws://{host} wss://{host}" if host and _SANE_HOST.fullmatch(host) else ""
    return f"{_COMMON}; script-src 'self'; connect-src 'self'{sockets}"


def policy_for(path: str, host: str | None) -> str:
    """The policy of the HTML page at `path`: the looser one for the API docs page only."""
    return DOCS_POLICY if path == DOCS_URL else dashboard_policy(host)
