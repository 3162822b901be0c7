"""Where an outgoing webhook request may go, decided once per attempt: the destination's host is
resolved, every address it resolves to must be public (unless the deployment allows private
ones), and the request is sent to the address that was checked, with the name kept for `Host` and
TLS (SNI, certificate) — so DNS rebinding cannot swap in a private address between the check and
the connection. The client never reads proxy settings from the environment: a proxy would
resolve the name again, where the check cannot follow, and would see every signed payload.

Tenant webhooks (`actors.webhook_delivery`) and the billing webhook (`actors.ingress.billing`)
both send through this module; there is no other way out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from actors.webhook_records import resolve
from engine.webhooks import check_webhook_url, is_private_address


class TargetRefusedError(Exception):
    """The destination may not be called (SSRF rules); the attempt fails without a request."""


@dataclass(frozen=True)
class PinnedTarget:
    """What to send to: `url` names the checked address; `headers` and `extensions` carry the
    host name for `Host` and TLS."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)
    extensions: dict[str, Any] = field(default_factory=dict)


def pinned_url(url: str, address: str) -> str:
    """`url` with its host replaced by the address that was checked."""
    parts = urlsplit(url)
    host = f"[{address}]" if ":" in address else address
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))


async def pin(url: str, *, allow_private: bool) -> PinnedTarget:
    """The target for one attempt at `url`, or `TargetRefusedError` saying why not."""
    parts = urlsplit(url)
    reason = check_webhook_url(url)
    if reason is not None or parts.hostname is None:
        raise TargetRefusedError(f"refused: the URL {reason}")
    if allow_private:
        return PinnedTarget(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = await resolve(parts.hostname, port)
    except OSError as failure:
        raise TargetRefusedError(f"refused: the host does not resolve: {failure}") from failure
    if not addresses or any(is_private_address(a) for a in addresses):
        raise TargetRefusedError("refused: the host resolves to a private address")
    extensions = {"sni_hostname": parts.hostname} if parts.scheme == "https" else {}
    return PinnedTarget(pinned_url(url, addresses[0]), {"host": parts.netloc.rpartition("@")[2]}, extensions)


def outgoing_client(timeout_s: float) -> httpx.AsyncClient:
    """The HTTP client for webhook attempts: no redirects (each hop would need the check again)
    and no proxy from the environment."""
    return httpx.AsyncClient(timeout=timeout_s, follow_redirects=False, trust_env=False)
