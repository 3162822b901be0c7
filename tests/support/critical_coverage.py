"""Coverage of the critical modules measured inside the suite's own run, as a pytest plugin:
`pytest -p tests.support.critical_coverage` (what `make test` runs). Each process that runs tests
(each xdist worker, or the only process without `-n`) traces only the groups of
`scripts/coverage_gate.py`, line and branch, into a data file of its own, from before any
conftest imports what it measures; the process that ran the session combines the files at the
end and gates them: a group below its floor fails the run. Measuring in the workers that run
anyway costs a fraction of their time instead of a second pass over the tests.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from coverage import Coverage
from coverage.exceptions import CoverageWarning

ROOT = Path(__file__).resolve().parents[2]
DATA_FILE = ROOT / ".coverage"


def gate_module() -> ModuleType:
    """scripts/coverage_gate.py, the one place that names the groups and their floors."""
    spec = importlib.util.spec_from_file_location("coverage_gate", ROOT / "scripts" / "coverage_gate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def include_patterns(gate: ModuleType) -> list[str]:
    patterns = []
    for group in gate.GROUPS:
        for path in group.paths:
            target = ROOT / path
            patterns.append(f"{target}/*" if target.is_dir() else str(target))
    return patterns


def runs_tests(config: pytest.Config) -> bool:
    """An xdist worker, or a run without workers; not the controller that hands tests out."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return True
    distributed = getattr(config.known_args_namespace, "numprocesses", None)
    return not distributed or not config.pluginmanager.has_plugin("xdist.plugin")


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    """Before the first conftest is imported: a conftest may import a module measured here."""
    early_config.pluginmanager.register(CriticalCoverage(early_config), "critical-coverage")


class CriticalCoverage:
    def __init__(self, config: pytest.Config) -> None:
        self.gate = gate_module()
        self.table = ""
        self.coverage: Coverage | None = None
        self.controller = not os.environ.get("PYTEST_XDIST_WORKER")
        if self.controller:  # data files a previous run left would count twice
            for stale in [DATA_FILE, *ROOT.glob(".coverage.*")]:
                stale.unlink(missing_ok=True)
        if runs_tests(config):
            self.coverage = Coverage(
                data_file=str(DATA_FILE),
                data_suffix=True,
                branch=True,
                include=include_patterns(self.gate),
                config_file=False,
            )
            self.coverage.start()

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.coverage is not None:
            self.coverage.stop()
            with warnings.catch_warnings():
                # A worker that ran only Ray tests executed no measured line here (the hosts run
                # in Ray's processes): "no data collected" is expected, and the suite's
                # warnings-as-errors filter would turn it into an internal error.
                warnings.simplefilter("ignore", CoverageWarning)
                self.coverage.save()
        if not self.controller:
            return  # a worker: the controller's own sessionfinish runs after every worker's
        combined = Coverage(data_file=str(DATA_FILE), config_file=False)
        combined.combine(data_paths=[str(ROOT)], keep=False)
        combined.save()
        lines: list[str] = []
        failed = self.gate.gate(DATA_FILE, lines.append)
        self.table = "\n".join(lines)
        if failed and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.table:
            terminalreporter.section("coverage of the critical modules (scripts/coverage_gate.py)")
            terminalreporter.write_line(self.table)
