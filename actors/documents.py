"""Read-modify-write of one control-plane document without lost updates, on any replica.

`update_document` reads a document with its version, applies a pure change, and writes it back
only if nobody wrote in between (the store's compare-and-set); otherwise it reads again and
re-applies the change. So two replicas refreshing the same token, a rotation racing a
revocation, or fifty failed logins at once each see the other's write: none is undone."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from typing import Any

from actors.stores.base import DocumentStore

MAX_ATTEMPTS = 64

Change = Callable[[dict[str, Any] | None], dict[str, Any] | None]


class ContentionError(RuntimeError):
    """A document changed under every one of MAX_ATTEMPTS attempts; the caller may retry."""


async def update_document(store: DocumentStore, kind: str, doc_id: str, change: Change) -> dict[str, Any] | None:
    """Apply `change` to the current document (None when absent) and store what it answers; a
    None answer writes nothing. `change` may raise to refuse: nothing is written then. It can run
    more than once (after a lost race), so it must only compute from its argument. Answers the
    document as written (or the current one when `change` answered None)."""
    for attempt in range(MAX_ATTEMPTS):
        current, version = await store.get_versioned(kind, doc_id)
        updated = change(None if current is None else dict(current))
        if updated is None:
            return current
        if await store.put_if_version(kind, doc_id, updated, version):
            return updated
        await asyncio.sleep(random.uniform(0, 0.002 * (attempt + 1)))  # let the winner finish
    raise ContentionError(f"{kind}/{doc_id} kept changing; try again")
