"""What a command came to, from the shard host to the HTTP answer: one frozen value instead of a
dict whose keys every layer had to agree on. It crosses Ray as a pickle and is remembered for
idempotent replays in its stored form (`to_stored`), which is the form Ludex 0.1.0 wrote, so
answers remembered by any version replay unchanged."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from engine.domain_error import DomainError, NamedError


@dataclass(frozen=True, slots=True)
class Refusal:
    """A `DomainError` as plain data: comparable, picklable and storable."""

    slug: str
    detail: str
    data: Mapping[str, Any] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, error: DomainError) -> Refusal:
        return cls(error.slug, error.detail, dict(error.data), dict(error.headers))

    def as_error(self) -> NamedError:
        """To raise it where a handler has no answer of its own to give."""
        return NamedError(self.slug, self.detail, self.data, self.headers)

    def to_stored(self) -> dict[str, Any]:
        return {"slug": self.slug, "detail": self.detail, "data": dict(self.data)}


@dataclass(frozen=True, slots=True)
class Outcome:
    """An answer (`body`, `created` for 201; no body is 204) or a `refusal`. `replayed` marks an
    answer given again for a remembered idempotency key; `event_ids` are the events a fresh
    accepted command journaled (none for replays, refusals and reads)."""

    body: Any = None
    created: bool = False
    refusal: Refusal | None = None
    replayed: bool = False
    event_ids: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.refusal is None

    @property
    def slug(self) -> str:
        """`ok` or the refusal's slug: how metrics and logs name the result."""
        return "ok" if self.refusal is None else self.refusal.slug

    @classmethod
    def accepted(cls, body: Any, *, created: bool = False) -> Outcome:
        return cls(body=body, created=created)

    @classmethod
    def refused(cls, error: DomainError | Refusal) -> Outcome:
        return cls(refusal=error if isinstance(error, Refusal) else Refusal.of(error))

    def as_replay(self) -> Outcome:
        return replace(self, replayed=True, event_ids=())

    def with_events(self, event_ids: list[str]) -> Outcome:
        return replace(self, event_ids=tuple(event_ids))

    def to_stored(self) -> dict[str, Any]:
        """The remembered form; `replayed` and `event_ids` belong to one delivery, not the answer."""
        if self.refusal is not None:
            return {"ok": False, "error": self.refusal.to_stored()}
        return {"ok": True, "created": self.created, "body": self.body}

    @classmethod
    def from_stored(cls, stored: Mapping[str, Any]) -> Outcome:
        if stored["ok"]:
            return cls(body=stored.get("body"), created=bool(stored.get("created")))
        error = stored["error"]
        return cls(refusal=Refusal(error["slug"], error["detail"], dict(error.get("data") or {})))
