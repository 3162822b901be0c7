"""What the `ludex` subcommands that talk to a running server share: where its credentials are
and how to print its refusals. Apart from `serve.cli.ludex` so that a subcommand module does not import
the command that dispatches to it."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from config.settings import Settings

if TYPE_CHECKING:
    import httpx


def problem(response: httpx.Response) -> dict[str, Any]:
    """The problem+json body of an error answer, or {} when it has none."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def problem_text(response: httpx.Response) -> str:
    """The problem detail of an error answer (and its field errors), or its status and text."""
    body = problem(response)
    if not body:
        return f"HTTP {response.status_code}: {response.text[:500]}"
    text = f"HTTP {response.status_code} {body.get('title', '')}: {body.get('detail', response.text[:500])}"
    for error in body.get("errors") or []:
        text += f"\n  {error.get('field')}: {error.get('message')}"
    return text


def saved_credentials() -> dict[str, str]:
    """`<LUDEX_DATA_DIR or .ludex>/demo-credentials.json`, written by `ludex serve`, if present:
    the defaults for a subcommand's --base-url, --email and password."""
    path = Settings().data_dir / "demo-credentials.json"
    try:
        loaded = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return {k: str(v) for k, v in loaded.items()} if isinstance(loaded, dict) else {}
