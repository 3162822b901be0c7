"""`ludex project what-if` against the route seam's app (its HTTP client stands in for the
network): the progress bar, then the summary of a price rise; a bad file starts nothing."""

from __future__ import annotations

import argparse
import copy
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from serve.cli.ludex import _main
from serve.cli.whatif import progress_line, run
from tests.routes.conftest import Seam
from tests.routes.test_economy_whatif import admin, played, window

__all__ = ["admin", "played"]  # the module fixtures: two players who bought potions


@pytest.fixture(autouse=True)
def _own_headers(office: Seam) -> Iterator[None]:
    """The command signs its client in (`Authorization`, `x-tenant-id` as default headers): on the
    seam's shared client those would follow every later test's calls, so they are put back."""
    before = dict(office.client.headers)
    yield
    office.client.headers.clear()
    office.client.headers.update(before)


def _args(seam: Seam, project: str, file: Path, **extra: Any) -> argparse.Namespace:
    creds = seam.credentials
    return argparse.Namespace(
        file=str(file), from_=window()["from"], to=window()["to"], sample=None, json=False,
        tenant=creds["tenantId"], project=project, base_url="http://testserver", email=creds["adminEmail"], **extra,
    )  # fmt: skip


def test_the_command_draws_progress_and_prints_the_change(
    office: Seam, played: dict[str, Any], demo_economy_document: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LUDEX_ADMIN_PASSWORD", office.credentials["adminPassword"])
    dearer = copy.deepcopy(demo_economy_document)
    dearer["skus"][0]["price"] = {"coins": 200}
    file = tmp_path / "dearer.json"
    file.write_text(json.dumps(dearer))
    out, err = io.StringIO(), io.StringIO()
    assert run(_args(office, played["project"], file), out, err, client=office.client) == 0, err.getvalue()
    bars = [line for line in err.getvalue().splitlines() if line.startswith("[")]
    assert bars[-1].startswith("[" + "#" * 30 + "] 100 %") and "2/2 players" in bars[-1]
    text = out.getvalue()
    assert "would be refused" in text and "purchases of potion-pack: 2 -> 0" in text
    assert "refused 2x purchase potion-pack: insufficient-funds" in text
    assert "coins" in text and "100 -> 500" in text  # the coins' supply at the end, before -> after


def test_an_invalid_file_exits_1_and_starts_nothing(office: Seam, played: dict[str, Any], tmp_path: Path) -> None:
    file = tmp_path / "bad.yaml"
    file.write_text("currencies: [{id: coins}]\n")
    err = io.StringIO()
    assert run(_args(office, played["project"], file), io.StringIO(), err, client=office.client) == 1
    assert "is not a valid economy" in err.getvalue()


def test_the_parser_knows_the_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        _main(["project", "what-if", "--help"])
    assert "--sample" in capsys.readouterr().out


def test_the_bar_shows_the_fraction() -> None:
    job = {"progress": {"fraction": 0.5, "players": 12, "playersTotal": 24, "commands": 1234}}
    assert progress_line(job) == "[" + "#" * 15 + "." * 15 + "]  50 %  12/24 players  1,234 commands"
