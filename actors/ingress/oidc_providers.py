"""Each tenant's OpenID Connect provider for dashboard sign-in, one document per tenant
(`oidc_providers/<tenant>`) in the control plane's store: issuer, client id, the client secret
sealed with the deployment's SecretBox (never returned), the email domains it may sign in, and
the role new members get."""

from __future__ import annotations

from typing import Any

from actors.clock import Clock, SystemClock
from actors.ingress.webhook_subscriptions import url_refusal
from actors.secret_box import SecretBox
from actors.stores.base import DocumentStore
from engine.domain_error import NamedError
from engine.oidc import config_problems
from engine.rules import rfc3339

PROVIDERS = "oidc_providers"


class OidcConfigError(NamedError):
    """A configuration that cannot be used; `errors` names the fields (422 `validation-error`)."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        errors = [{"field": name, "message": message} for name, message in problems]
        detail = "; ".join(f"{name}: {message}" for name, message in problems)
        super().__init__("validation-error", detail, {"errors": errors})


class OidcProviders:
    def __init__(
        self, store: DocumentStore, box: SecretBox, *, allow_private: bool, clock: Clock | None = None
    ) -> None:
        self.store = store
        self.box = box
        self.allow_private = allow_private  # as for webhooks: the server fetches the issuer's URLs
        self.clock: Clock = clock or SystemClock()

    async def get(self, tenant_id: str) -> dict[str, Any] | None:
        """The stored configuration, client secret still sealed."""
        return await self.store.get_document(PROVIDERS, tenant_id)

    async def put(self, tenant_id: str, settings: dict[str, Any], client_secret: str | None) -> dict[str, Any]:
        """Creates or replaces the configuration. `client_secret` None keeps the stored one (the
        form never shows it); a first configuration needs one."""
        current = await self.get(tenant_id)
        issuer = str(settings["issuer"]).rstrip("/")
        domains = sorted({d.strip().lower() for d in settings["allowedDomains"]})
        problems = config_problems(issuer, domains, settings["role"], settings["projects"])
        if not problems:
            reason = await url_refusal(issuer, allow_private=self.allow_private)
            if reason is not None:
                problems.append(("issuer", f"the server may not call it: {reason}"))
        if client_secret is None and current is None:
            problems.append(("clientSecret", "required when the provider is first configured"))
        if problems:
            raise OidcConfigError(problems)
        now = rfc3339(self.clock.now())
        document = {
            "id": tenant_id,
            "displayName": settings["displayName"],
            "issuer": issuer,
            "clientId": settings["clientId"],
            "clientSecret": self.box.seal(client_secret) if client_secret is not None else current["clientSecret"],  # type: ignore[index]
            "allowedDomains": domains,
            "role": settings["role"],
            "projects": list(settings["projects"]),
            "enabled": bool(settings["enabled"]),
            "createdAt": current["createdAt"] if current else now,
            "updatedAt": now,
        }
        await self.store.put_document(PROVIDERS, tenant_id, document)
        return document

    async def delete(self, tenant_id: str) -> bool:
        return await self.store.delete_documents(PROVIDERS, [tenant_id]) > 0

    def client_secret(self, document: dict[str, Any]) -> str:
        return self.box.open(str(document["clientSecret"]))
