"""`ludex project apply` prints the verifier's findings, and refuses an unsafe file before it
logs in (the server would refuse it too) unless `--force`; the dry run prints them all."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from engine.economy_verify import verify_document
from serve.cli.findings import finding_lines, findings_summary
from serve.cli.ludex import main

UNSAFE = {
    "currencies": [{"id": "coins", "kind": "soft"}, {"id": "gems", "kind": "hard"}],
    "xpCurve": {"levels": [0, 100]},
    "skus": [
        {"sku": "gem-pack", "price": {"coins": 100}, "grants": {"currencies": {"gems": 3}}},
        {"sku": "gem-sale", "price": {"gems": 10}, "grants": {"currencies": {"coins": 500}}},
    ],
}


def test_each_finding_is_a_line_and_a_loop_is_spelled_out_under_it() -> None:
    findings = verify_document(UNSAFE)
    lines = finding_lines(findings)
    assert lines[0].startswith("  error   arbitrage at skus[0]: buying gem-pack and gem-sale in a loop")
    assert lines[1:4] == [
        "            buy gem-pack x10: pay 1000 coins, get 30 gems",
        "            buy gem-sale x3: pay 30 gems, get 1500 coins",
        "            net per round: +500 coins",
    ]
    assert findings_summary(findings) == "1 error(s), 0 warning(s), 2 info(s)"


def test_an_unsafe_file_is_refused_before_logging_in(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    file = tmp_path / "economy.yaml"
    file.write_text(yaml.safe_dump(UNSAFE))
    monkeypatch.setenv("LUDEX_DATA_DIR", str(tmp_path / "none"))
    monkeypatch.setenv("LUDEX_ADMIN_PASSWORD", "unused")
    # Port 9 (discard) answers nothing: reaching the server would exit 2, not 1.
    flags = ["--base-url", "http://127.0.0.1:9", "--tenant", "t", "--project", "p", "--email", "a@example.com"]
    status = main(["project", "apply", str(file), *flags])
    out, err = capsys.readouterr()
    assert status == 1
    assert "the verifier found 1 error(s)" in out and "net per round: +500 coins" in out
    assert "unsafe to publish" in err
    assert main(["project", "apply", str(file), *flags, "--force"]) == 2, "forced: it goes on to the server"
