"""CSV for spreadsheets: every CSV the API writes goes through here, so that no cell a caller
typed (a reason, a username, a player id, a key of economy health) is run as a formula when an
analyst opens the file. A text cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return
gets a leading `'` (OWASP's advice for CSV injection); numbers are written as they are."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """`value` as a cell: text that a spreadsheet would evaluate is made plain text."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_rows(rows: Iterable[Iterable[Any]]) -> str:
    """CSV lines (RFC 4180 quoting, CRLF) of escaped cells."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows([csv_cell(value) for value in row] for row in rows)
    return buffer.getvalue()


def csv_row(values: Iterable[Any]) -> str:
    """One CSV line, for streaming a report row by row."""
    return csv_rows([values])
