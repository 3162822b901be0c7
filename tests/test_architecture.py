"""Dependencies point inward: serve → actors → engine. The engine imports nothing of ours
outside itself and no I/O, concurrency or Ray library, so its rules stay replayable."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN_IN_ENGINE = {
    "asyncio", "ray", "sqlite3", "pymongo", "redis", "socket", "subprocess", "threading",
    "os", "io", "pathlib", "shutil", "time", "random", "yaml", "fastapi", "starlette",
    "actors", "serve", "config",
}  # fmt: skip
ALLOWED_OURS = {
    "engine": {"engine"},
    "actors": {"engine", "actors", "config"},
    "config": {"config"},
    "sim": {"engine", "actors", "sim"},  # the simulator runs the real host parts; nothing runs it
}


def imported_modules(path: Path, *, with_names: bool = False) -> set[str]:
    """The modules a file imports, anywhere in it; `with_names` adds `x.y` for `from x import y`
    (a module when `y` is a submodule, a name otherwise)."""
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
            if with_names:
                modules.update(f"{node.module}.{alias.name}" for alias in node.names)
    return modules


def imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_engine_imports_no_io_no_ray_and_nothing_of_ours_outside_itself() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_roots(path) & FORBIDDEN_IN_ENGINE)
        for path in (ROOT / "engine").rglob("*.py")
    }
    assert {path: bad for path, bad in offenders.items() if bad} == {}


def test_packages_only_import_inward() -> None:
    ours = {"engine", "actors", "serve", "config", "sim"}
    violations = []
    for package, allowed in ALLOWED_OURS.items():
        for path in (ROOT / package).rglob("*.py"):
            bad = (imported_roots(path) & ours) - allowed
            if bad:
                violations.append(f"{path.relative_to(ROOT)} imports {sorted(bad)}")
    assert violations == []


def test_nothing_but_tests_imports_the_simulator() -> None:
    """`sim/` (docs/SIMULATION.md) drives the real host from outside: a package that imported it
    would let simulated time or faults into production code."""
    offenders = sorted(
        str(path.relative_to(ROOT))
        for package in ("engine", "actors", "serve", "config", "benchmarks", "scripts")
        for path in (ROOT / package).rglob("*.py")
        if "sim" in imported_roots(path)
    )
    assert offenders == []


def test_the_simulator_needs_no_ray_redis_or_network() -> None:
    forbidden = {"ray", "redis", "pymongo", "socket", "httpx", "requests"}
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_roots(path) & forbidden) for path in (ROOT / "sim").rglob("*.py")
    }
    assert {path: bad for path, bad in offenders.items() if bad} == {}


def test_only_the_cluster_and_the_directory_call_ray() -> None:
    callers = sorted(
        str(path.relative_to(ROOT)) for path in (ROOT / "actors").rglob("*.py") if "ray" in imported_roots(path)
    )
    assert callers == ["actors/cluster.py", "actors/directory.py"]


def test_leaderboard_storage_lives_in_its_package() -> None:
    """Leaderboards' storage is `actors/boards/`; a new `board_*` module at the root of `actors/`
    would start the flat folder again."""
    assert sorted(path.name for path in (ROOT / "actors").glob("board_*.py")) == []


def test_rays_lifecycle_does_not_import_the_routing() -> None:
    """`actors/cluster.py` starts and stops the actors, `actors/directory.py` routes to them: the
    router may ask the lifecycle for names (the coordinator's, the namespace), never the reverse."""
    assert "actors.directory" not in imported_modules(ROOT / "actors" / "cluster.py")


def test_nothing_a_shard_host_or_the_webhook_worker_runs_imports_the_ingress_services() -> None:
    """`actors/ingress/` is what each ingress replica runs (accounts, control plane, usage, the
    realtime hub, webhook subscriptions); the rest of `actors/` runs in shard hosts and the
    webhook worker and must not pull it in."""
    offenders = sorted(
        str(path.relative_to(ROOT))
        for path in (ROOT / "actors").rglob("*.py")
        if "ingress" not in path.relative_to(ROOT / "actors").parts
        and any(m == "actors.ingress" or m.startswith("actors.ingress.") for m in imported_modules(path))
    )
    assert offenders == []


def test_the_shard_hosts_parts_do_not_import_the_shell() -> None:
    """`ShardHost` (actors/host/shard_host.py) builds its parts and hands each what it needs; a
    part that imported the shell, or the package that re-exports it, would close a circle and
    start pulling a second job into the part."""
    shell = {"actors.host", "actors.host.shard_host"}
    offenders = sorted(
        f"{path.relative_to(ROOT)} imports {module}"
        for path in (ROOT / "actors" / "host").glob("*.py")
        if path.name not in {"__init__.py", "shard_host.py"}
        for module in imported_modules(path)
        if module in shell
    )
    assert offenders == []


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _serve_imports() -> dict[str, set[str]]:
    """Each module of serve/ and the serve modules it names (`from serve.x import y` names
    `serve.x.y` too when that is a module), wherever in the file the import stands."""
    modules = {_module_name(path): path for path in (ROOT / "serve").rglob("*.py")}
    return {
        name: {module for module in imported_modules(path, with_names=True) if module in modules and module != name}
        for name, path in modules.items()
    }


def test_no_import_circle_among_serve_modules() -> None:
    """A circle (one module importing another that imports it back) means neither can be read,
    tested or moved alone; what both need belongs in a third module below them."""
    graph = _serve_imports()
    circles: list[list[str]] = []
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        path.append(module)
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                circles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target)
        path.pop()
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)
    assert circles == []


def test_no_schema_module_imports_the_routes() -> None:
    """Schemas (serve/schemas.py, serve/*_schemas.py) sit below the routers that answer with
    them: a schema that imported a router would pull the router, its dependencies and its
    stores into every reader of the schema."""
    offenders = sorted(
        f"{path.relative_to(ROOT)} imports {module}"
        for path in (ROOT / "serve").rglob("*schemas.py")
        for module in imported_modules(path)
        if module == "serve.api" or module.startswith("serve.api.")
    )
    assert offenders == []


STORE_OWNERS = {"actors/host/shard_host.py", "serve/backend.py"}  # the composition roots that hand out roles


def _names_the_whole_store(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module == "actors.stores.base":
            if any(alias.name == "Store" for alias in node.names):
                return True
        elif isinstance(node, ast.Attribute) and node.attr == "Store":
            return True
    return False


def test_only_the_composition_roots_ask_for_the_whole_store() -> None:
    """`Store` is the union of its roles (`actors/stores/base.py`: `JournalStore`, `EventFeed`,
    `DocumentStore`, ...). A part typed with the union could call any of ~30 methods; typed with
    the roles it uses, its signature says what it touches and a test double stays small. Only
    the backends (actors/stores/) and the roots that build the parts hold the whole store."""
    offenders = sorted(
        str(path.relative_to(ROOT))
        for package in ("actors", "serve")
        for path in (ROOT / package).rglob("*.py")
        if path.relative_to(ROOT).parts[:2] != ("actors", "stores")
        and str(path.relative_to(ROOT)) not in STORE_OWNERS
        and _names_the_whole_store(path)
    )
    assert offenders == []
