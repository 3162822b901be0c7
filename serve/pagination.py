"""Opaque cursors: clients pass back `nextCursor` unchanged; its content is ours to change."""

from __future__ import annotations

import base64
import json
from typing import Annotated, Any

from fastapi import Query

from serve.problems import ProblemError

Limit = Annotated[int, Query(ge=1, le=200, description="Page size (1 to 200).")]
Cursor = Annotated[str | None, Query(max_length=512, description="`nextCursor` of the previous page.")]


def encode_cursor(position: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, default: Any) -> Any:
    if cursor is None:
        return default
    try:
        return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError) as error:
        raise ProblemError("invalid-cursor", "the cursor is not one this API returned") from error
