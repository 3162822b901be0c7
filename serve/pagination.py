"""Opaque cursors: clients pass back `nextCursor` unchanged; its content is ours to change."""

from __future__ import annotations

import base64
import json
from typing import Annotated, Any, Literal

from fastapi import Query

from serve.problems import ProblemError

Limit = Annotated[int, Query(ge=1, le=200, description="Page size (1 to 200).")]
Cursor = Annotated[str | None, Query(max_length=512, description="`nextCursor` of the previous page.")]


def encode_cursor(position: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode().rstrip("=")


def decode_id_cursor(cursor: str | None) -> str | None:
    """A cursor that holds the last id of the previous page."""
    after = decode_cursor(cursor, None)
    if after is not None and not isinstance(after, str):
        raise ProblemError("invalid-cursor", "the cursor is not one this API returned")
    return after


MAX_CURSOR_INT = 2**53 - 1  # every position, seq and score we write fits (and a JSON number holds it)


def decode_cursor(cursor: str | None, default: Any) -> Any:
    """The value a cursor holds; 422 `invalid-cursor` for what we never wrote, including a number
    beyond ±(2**53 - 1), which no store column holds (2**80 used to reach SQLite and answer 500)."""
    if cursor is None:
        return default
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError) as error:
        raise ProblemError("invalid-cursor", "the cursor is not one this API returned") from error
    if not _in_range(value):
        raise ProblemError("invalid-cursor", "the cursor is not one this API returned")
    return value


def _in_range(value: Any) -> bool:
    if isinstance(value, int) and not isinstance(value, bool):
        return abs(value) <= MAX_CURSOR_INT
    if isinstance(value, float):
        return False
    if isinstance(value, list):
        return all(_in_range(item) for item in value)
    if isinstance(value, dict):
        return all(_in_range(item) for item in value.values())
    return True


Sort = Annotated[
    Literal["id", "-id", "name", "-name", "createdAt", "-createdAt"],
    Query(description="Order by a field; a leading `-` sorts descending."),
]
SORT_SCAN_LIMIT = 10_000


def sorted_page(
    items: list[dict[str, Any]], sort: str, cursor: str | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of `items` in `sort` order, keyset-paginated on (field, id) so pages stay
    consistent while items are added. Meant for small collections (tenants, projects)."""
    descending = sort.startswith("-")
    field = sort.removeprefix("-")

    def key(item: dict[str, Any]) -> tuple[str, str]:
        return (str(item.get(field) or ""), str(item["id"]))

    ordered = sorted(items, key=key, reverse=descending)
    after = decode_cursor(cursor, None)
    if after is not None:
        if not (isinstance(after, list) and len(after) == 2 and all(isinstance(x, str) for x in after)):
            raise ProblemError("invalid-cursor", "the cursor is not one this API returned")
        mark = (after[0], after[1])
        ordered = [i for i in ordered if (key(i) < mark if descending else key(i) > mark)]
    page = ordered[:limit]
    return page, encode_cursor(list(key(page[-1]))) if len(ordered) > limit else None
