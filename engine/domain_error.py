"""The one base of every refusal the API can answer: engine rejections, control-plane, account
and webhook errors all carry a stable `slug` (the problem type), a human `detail`, the `data` a
caller can act on and the `headers` the answer must carry (e.g. `Retry-After`). The transport maps
them to problem+json in one place (`serve/problems.py`), so no handler picks a status itself."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class DomainError(Exception):
    """Subclasses override what differs; the defaults suit a refusal with nothing to add."""

    @property
    def slug(self) -> str:
        return "rejected"

    @property
    def detail(self) -> str:
        return self.slug.replace("-", " ")

    @property
    def data(self) -> Mapping[str, Any]:
        return {}

    @property
    def headers(self) -> Mapping[str, str]:
        return {}

    def __str__(self) -> str:
        return self.detail


class NamedError(DomainError):
    """A refusal named where it is raised (`NamedError("plan-in-use", "...")`), for services
    whose refusals need no class of their own. Its arguments are its state, so it pickles."""

    def __init__(
        self,
        slug: str,
        detail: str,
        data: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(slug, detail, dict(data or {}), dict(headers or {}))

    @property
    def slug(self) -> str:
        return str(self.args[0])

    @property
    def detail(self) -> str:
        return str(self.args[1])

    @property
    def data(self) -> Mapping[str, Any]:
        data: Mapping[str, Any] = self.args[2]
        return data

    @property
    def headers(self) -> Mapping[str, str]:
        headers: Mapping[str, str] = self.args[3]
        return headers
