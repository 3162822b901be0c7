"""What the `ludex` subcommands that talk to a running server share: where its credentials are
and how to print its refusals. Apart from `serve.cli.ludex` so that a subcommand module does not import
the command that dispatches to it."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
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


class BackofficeLoginError(Exception):
    """A subcommand cannot reach or log in to the backoffice: the message says why."""


@dataclass(frozen=True)
class Target:
    """Where a backoffice subcommand acts: the server, the tenant and project, who logs in."""

    base_url: str
    tenant: str | None
    project: str | None
    email: str | None
    password: str | None

    @classmethod
    def from_args(cls, args: Any) -> Target:
        """`--base-url/--tenant/--project/--email` and LUDEX_ADMIN_PASSWORD, defaulting to the
        demo credentials `ludex serve` saved."""
        defaults = saved_credentials()
        return cls(
            base_url=(args.base_url or defaults.get("baseUrl") or "http://127.0.0.1:8000").rstrip("/"),
            tenant=args.tenant or defaults.get("tenantId"),
            project=args.project or defaults.get("projectId"),
            email=args.email or defaults.get("adminEmail"),
            password=os.environ.get("LUDEX_ADMIN_PASSWORD") or defaults.get("adminPassword"),
        )

    def missing(self) -> list[str]:
        names = [
            n for n, v in (("--tenant", self.tenant), ("--project", self.project), ("--email", self.email)) if not v
        ]
        return names + ([] if self.password else ["LUDEX_ADMIN_PASSWORD"])

    def log_in(self, client: httpx.Client) -> None:
        """Signs `client` in and scopes it to the tenant (raises `BackofficeLoginError`)."""
        login = client.post("/v1/auth/login", json={"email": self.email, "password": self.password})
        if login.status_code != 200:
            raise BackofficeLoginError(f"cannot log in as {self.email}: {problem_text(login)}")
        token = login.json()["accessToken"]
        client.headers.update({"Authorization": f"Bearer {token}", "x-tenant-id": str(self.tenant)})
