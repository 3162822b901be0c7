"""Session-wide fixtures: one MongoDB wire-protocol server and one Ray instance per run."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, settings

from config.settings import DEMO_ECONOMY_PATH
from serve.proxy import apply_proxy_environment, default_proxy
from tests.support.services import missing, nx27017_server, redis_server

# Timing belongs in benchmarks: a busy CI machine must not fail a property for being slow.
settings.register_profile("ludex", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ludex")

# The end-to-end tests go through the proxy `ludex serve` uses by default (LUDEX_PROXY picks
# another). Exported before any test module imports Ray Serve, which reads it at import.
PROXY_ENV = apply_proxy_environment(default_proxy())


@pytest.fixture(scope="session")
def demo_economy_document() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(DEMO_ECONOMY_PATH.read_text())
    return document


@pytest.fixture(scope="session")
def mongo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`LUDEX_TEST_MONGO_URL` when set (a real MongoDB), else an nx-27017 server we start."""
    external = os.environ.get("LUDEX_TEST_MONGO_URL")
    if external:
        yield external
        return
    with nx27017_server(tmp_path_factory.mktemp("nx27017")) as url:
        yield url


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `redis-server` started for this session on a free port."""
    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture
def mongo_database(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh database per test, dropped after it: nx-27017 keeps each database as an open
    SQLite file in its one event loop, and hundreds of them left behind slow every later test."""
    name = f"ludex_test_{uuid.uuid4().hex[:12]}"
    yield name
    if "mongo_url" not in request.fixturenames:
        return
    import pymongo

    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
        request.getfixturevalue("mongo_url"), serverSelectionTimeoutMS=5_000, timeoutMS=30_000
    )
    try:
        client.drop_database(name)
    finally:
        client.close()


@pytest.fixture(scope="session")
def ray_instance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One local Ray cluster shared by the whole session (a Ray start costs seconds)."""
    try:
        import ray
    except ImportError:  # pragma: no cover - ray is a hard dependency
        missing("ray is not installed")
        raise
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        namespace="ludex-tests",
        runtime_env={"env_vars": {"PYTHONPATH": str(Path(__file__).resolve().parents[1])}},
    )
    yield ray
    ray.shutdown()
    if "RAY_SERVE_HAPROXY_SERVER_STATE_BASE" in PROXY_ENV:
        shutil.rmtree(PROXY_ENV["RAY_SERVE_HAPROXY_SERVER_STATE_BASE"], ignore_errors=True)


# Everything under these folders goes through Ray Serve (or starts a `ludex serve` of its own),
# and so does every test of these modules (the ones that need no Ray there are quick).
RAY_FOLDERS = ("e2e", "browser", "cluster")
RAY_MODULES = {
    "integration/test_ray_hosts.py",  # the shared Ray instance
    "integration/test_elastic_shards.py",
}
# Single tests that run `ludex serve` in modules whose other tests need no Ray: those others run
# on the worker that is not the long pole.
RAY_TESTS = {
    "integration/test_backup_restore.py::test_a_backup_under_load_restores_every_acknowledged_credit_once_and_serves",
    "integration/test_fixtures_v0_1_0.py::test_ludex_serve_migrates_0_1_0_data_at_start_and_serves_it_over_http",
    "integration/test_migrations.py::test_with_auto_migration_off_an_old_store_is_refused_and_serve_says_to_run_migrate",
}


def runs_ray(nodeid: str) -> bool:
    """Whether the test starts or uses Ray, by its place alone: xdist's scheduler sees nothing else."""
    test = nodeid.removeprefix("tests/").split("[", 1)[0]
    path = test.split("::", 1)[0]
    return path.split("/", 1)[0] in RAY_FOLDERS or path in RAY_MODULES or test in RAY_TESTS


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by the marks added here
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Marks the Ray tests `ray` (`-m ray`, `-m "not ray"`), and refuses a test that uses Ray from
    a place `runs_ray` does not know: under `make test` it would start a second Ray beside the
    first on the other worker, and two Ray clusters at once on a 2-core machine time each other out."""
    for item in items:
        uses_ray = item.get_closest_marker("ray") is not None or "ray_instance" in item.fixturenames
        if runs_ray(item.nodeid):
            item.add_marker(pytest.mark.ray)
        elif uses_ray:
            raise pytest.UsageError(f"{item.nodeid} uses Ray: add its module to RAY_MODULES in tests/conftest.py")


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`make test` runs `pytest -n auto`: every Ray test on one worker, in collection order, one
    Ray at a time; the other workers take the rest test by test. (xdist's own `loadgroup` does
    not group under pytest 9, whose node ids it can no longer suffix.)"""
    from xdist.scheduler import LoadScopeScheduling

    class RayOnOneWorker(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return "ray" if runs_ray(nodeid) else nodeid

        def _assign_work_unit(self, node: Any) -> None:
            """As xdist's, but every item of a node id: schemathesis gives all its generated tests
            one node id, and xdist's own lookup (`collection.index`) would run only the first."""
            scope, work_unit = self.workqueue.popitem(last=False)
            self.assigned_work.setdefault(node, {})[scope] = work_unit
            wanted = {nodeid for nodeid, done in work_unit.items() if not done}
            collection = self.registered_collections[node]
            node.send_runtest_some([i for i, nodeid in enumerate(collection) if nodeid in wanted])

    return RayOnOneWorker(config, log)
