"""The coverage gate: line and branch coverage of the modules a bug costs most in (the pure
rules, the committer, the host's command pipeline, the stores), from the data the suite left in
`.coverage`, printed as a table; a group below its floor fails the run, and a file of a group that
no test imported is named (it counts as 0 %, which a floor on the group catches).

`pytest --coverage-gate` (what `make test` runs) measures these groups in its workers and calls
`gate` at the end of the session (tests/support/critical_coverage.py); run alone,
`python scripts/coverage_gate.py [--data-file .coverage]` prints the table of the last run again.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from coverage import Coverage

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Group:
    name: str
    paths: tuple[str, ...]  # files or folders, relative to the repository
    line_floor: float  # percent
    branch_floor: float  # percent

    def files(self) -> list[Path]:
        found: list[Path] = []
        for path in self.paths:
            target = ROOT / path
            found += sorted(target.rglob("*.py")) if target.is_dir() else [target]
        return [file for file in found if file.name != "__init__.py" or file.stat().st_size > 0]


# 90 % line and branch everywhere; a group measured well above its floor keeps a floor near its
# figure (docs/TESTS.md), a ratchet: raise one when its group's figure rises, never lower one to pass.
GROUPS = (
    Group("engine/", ("engine",), line_floor=90, branch_floor=90),
    Group("actors/committer.py", ("actors/committer.py",), line_floor=99, branch_floor=92),
    Group("actors/host/", ("actors/host",), line_floor=97, branch_floor=92),
    Group("actors/stores/", ("actors/stores",), line_floor=96, branch_floor=90),
)


@dataclass(frozen=True)
class Figures:
    statements: int
    covered_lines: int
    branches: int
    covered_branches: int
    never_imported: list[str]

    @property
    def line_percent(self) -> float:
        return 100.0 * self.covered_lines / self.statements if self.statements else 100.0

    @property
    def branch_percent(self) -> float:
        return 100.0 * self.covered_branches / self.branches if self.branches else 100.0


def measure(data_file: Path) -> dict[str, dict[str, int]]:
    """Per file (relative path): statements, covered lines, branches, covered branches."""
    coverage = Coverage(data_file=str(data_file))
    coverage.load()
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "coverage.json"
        coverage.json_report(outfile=str(report), ignore_errors=True)
        files = json.loads(report.read_text())["files"]
    imported = {str(Path(name).resolve().relative_to(ROOT)) for name in coverage.get_data().measured_files()}
    return {
        str((ROOT / name).resolve().relative_to(ROOT)): {
            "statements": entry["summary"]["num_statements"],
            "covered_lines": entry["summary"]["covered_lines"],
            "branches": entry["summary"].get("num_branches", 0),
            "covered_branches": entry["summary"].get("covered_branches", 0),
            "imported": int(str((ROOT / name).resolve().relative_to(ROOT)) in imported),
        }
        for name, entry in files.items()
    }


def figures_of(group: Group, per_file: dict[str, dict[str, int]]) -> Figures:
    statements = covered_lines = branches = covered_branches = 0
    never_imported = []
    for file in group.files():
        name = str(file.relative_to(ROOT))
        entry = per_file.get(name)
        if entry is None or not entry["imported"]:
            never_imported.append(name)
        if entry is None:  # not in the report at all: count every line as missed
            statements += sum(1 for line in file.read_text().splitlines() if line.strip())
            continue
        statements += entry["statements"]
        covered_lines += entry["covered_lines"]
        branches += entry["branches"]
        covered_branches += entry["covered_branches"]
    return Figures(statements, covered_lines, branches, covered_branches, never_imported)


def gate(data_file: Path, emit: Callable[[str], object] = print) -> bool:
    """Emits the table line by line; whether a group is below its floor or has a file never imported."""
    per_file = measure(data_file)
    failed = False
    emit(f"{'group':<22} {'lines':>8} {'floor':>6} {'branches':>9} {'floor':>6}")
    for group in GROUPS:
        figures = figures_of(group, per_file)
        below = figures.line_percent < group.line_floor or figures.branch_percent < group.branch_floor
        failed |= below or bool(figures.never_imported)
        emit(
            f"{group.name:<22} {figures.line_percent:>7.1f}% {group.line_floor:>5.0f}%"
            f" {figures.branch_percent:>8.1f}% {group.branch_floor:>5.0f}%{'  BELOW FLOOR' if below else ''}"
        )
        for name in figures.never_imported:
            emit(f"  {name}: never imported by the measured tests")
    return failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-file", type=Path, default=ROOT / ".coverage")
    args = parser.parse_args(argv)
    if not args.data_file.is_file():
        print(f"coverage gate: {args.data_file} does not exist; run `make test`", file=sys.stderr)
        return 2
    return 1 if gate(args.data_file) else 0


if __name__ == "__main__":
    sys.exit(main())
