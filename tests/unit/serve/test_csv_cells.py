"""Finding 6 of the second pass: no CSV the API writes carries a cell a spreadsheet would run."""

from __future__ import annotations

import csv
import io

import pytest

from engine.economy_health import SINK_KINDS, SOURCE_KINDS
from serve.api.economy_health import csv_lines
from serve.csv_cells import csv_cell, csv_row

HOSTILE = ['=HYPERLINK("https://evil.example")', "+1+1", "-2+3", "@SUM(A1)", "\tlead", "\rlead"]


@pytest.mark.parametrize("text", HOSTILE)
def test_a_cell_a_spreadsheet_would_evaluate_gets_a_leading_quote(text: str) -> None:
    assert csv_cell(text) == "'" + text
    (parsed,) = csv.reader(io.StringIO(csv_row(["ok", text])))
    assert parsed == ["ok", "'" + text]


def test_plain_text_and_numbers_are_written_as_they_are() -> None:
    assert [csv_cell(v) for v in ("coins", "a=b", "", -5, 0, 1.5)] == ["coins", "a=b", "", -5, 0, 1.5]
    assert csv_row([-5, "x"]) == "-5,x\r\n"


def test_economy_health_csv_escapes_a_reason_typed_as_a_formula() -> None:
    """Reasons are keys of economy health: they reach the CSV as headers and the JSON as keys."""
    row = {
        "day": "2026-12-01",
        "currency": "=cmd|' /C calc'!A0",
        "sources": {**{k: {} for k in SOURCE_KINDS}, "credits": {"@evil": 5}, "total": 5},
        "sinks": {**{k: {} for k in SINK_KINDS}, "total": 0},
        "net": 5,
        "supply": 5,
        "holders": 1,
        "top1PercentShare": 1.0,
    }
    lines = list(csv.reader(io.StringIO("".join(csv_lines([row])))))
    cells = [cell for line in lines for cell in line]
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in cells), cells
    assert "'=cmd|' /C calc'!A0" in cells
