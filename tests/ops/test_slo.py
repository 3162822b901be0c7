"""The SLO alerts (docs/SLO.md): the one rules file passes `promtool check rules` and its unit
tests on synthetic series (tests/ops/slo-rules-test.yaml), ships unchanged in the Helm chart and
the kustomize component, and every metric the rules and the Grafana dashboard read is one the
code exports."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.ops.test_manifests import CHART, ROOT, render
from tests.support.services import missing

RULES = CHART / "files" / "prometheus-rules.yaml"
RULE_TESTS = Path(__file__).with_name("slo-rules-test.yaml")
DASHBOARD = ROOT / "docs" / "grafana" / "ludex-dashboard.json"
# A metric defined in code: prometheus_client's Counter/Gauge/Histogram or a *MetricFamily.
DEFINITION = re.compile(r"\b(Counter|Gauge|Histogram)(?:MetricFamily)?\(\s*\"(ludex_\w+)\"")
SUFFIXES = {"Counter": ("_total",), "Histogram": ("_bucket", "_count", "_sum"), "Gauge": ("",)}


def rules_spec() -> dict[str, Any]:
    spec: dict[str, Any] = yaml.safe_load(RULES.read_text())["spec"]
    return spec


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        missing("promtool is not installed (Debian package `prometheus`; scripts/system-packages.sh installs it)")
    return str(found)


def run_promtool(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "slo-rules.yaml").write_text(yaml.safe_dump(rules_spec()))
    shutil.copy(RULE_TESTS, tmp_path / RULE_TESTS.name)
    return subprocess.run([promtool(), *args], cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)


def test_the_rules_pass_promtool_check(tmp_path: Path) -> None:
    result = run_promtool(tmp_path, "check", "rules", "slo-rules.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_the_alerts_fire_as_their_unit_tests_say(tmp_path: Path) -> None:
    result = run_promtool(tmp_path, "test", "rules", RULE_TESTS.name)
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_fails_a_rule_test_that_expects_the_wrong_alert(tmp_path: Path) -> None:
    """The unit tests above can fail: an alert expected where none fires is reported."""
    wrong = yaml.safe_load(RULE_TESTS.read_text())
    expected = [{"exp_labels": {"severity": "page"}}]
    wrong["tests"][0]["alert_rule_test"] = [
        {"eval_time": "4h", "alertname": "LudexErrorBudgetBurnFast", "exp_alerts": expected}
    ]
    run_promtool(tmp_path, "check", "rules", "slo-rules.yaml")  # writes the rules beside the test
    (tmp_path / "wrong.yaml").write_text(yaml.safe_dump(wrong))
    result = subprocess.run(
        [promtool(), "test", "rules", "wrong.yaml"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0 and "LudexErrorBudgetBurnFast" in result.stdout + result.stderr


def test_every_alert_is_multi_window_or_names_its_slo() -> None:
    groups = {group["name"]: group["rules"] for group in rules_spec()["groups"]}
    alerts = groups["ludex-slo-alerts"]
    assert {alert["labels"]["severity"] for alert in alerts} == {"page", "ticket"}
    burns = [alert for alert in alerts if "BudgetBurn" in alert["alert"]]
    assert len(burns) == 6, "error rate, p95 and p99: a fast (page) and a slow (ticket) burn each"
    for alert in burns:
        windows = set(re.findall(r"ratio_rate(\w+)", alert["expr"]))
        fast = alert["alert"].endswith("Fast")
        assert windows == ({"1h", "5m", "6h", "30m"} if fast else {"1d", "2h", "3d", "6h"}), alert["alert"]
        assert alert["labels"]["severity"] == ("page" if fast else "ticket")
    recorded = {rule["record"] for rule in groups["ludex-slo-records"]}
    used = {name for alert in alerts for name in re.findall(r"ludex:\w+:\w+", alert["expr"])}
    assert used <= recorded


def exported_metrics() -> set[str]:
    """Every series name the code can expose, from the metric definitions in actors/ and serve/."""
    names: set[str] = set()
    for path in [*(ROOT / "serve").rglob("*.py"), *(ROOT / "actors").rglob("*.py")]:
        for kind, name in DEFINITION.findall(path.read_text()):
            stem = name.removesuffix("_total") if kind == "Counter" else name  # the client adds it back
            names |= {stem + suffix for suffix in SUFFIXES[kind]}
    return names


def metrics_read(expressions: list[str]) -> set[str]:
    return {name for expr in expressions for name in re.findall(r"\bludex_\w+", expr)}


def test_every_metric_the_rules_and_the_dashboard_read_is_exported() -> None:
    exported = exported_metrics()
    assert {"ludex_http_requests_total", "ludex_backup_failures_total"} <= exported, "the definitions were found"
    rules = [rule["expr"] for group in rules_spec()["groups"] for rule in group["rules"]]
    panels = json.loads(DASHBOARD.read_text())["panels"]
    dashboard = [target["expr"] for panel in panels for target in panel.get("targets", [])]
    assert metrics_read(rules) - exported == set()
    assert metrics_read(dashboard) - exported == set()
    slo_metrics = {
        "ludex_http_requests_total",
        "ludex_http_request_duration_seconds_bucket",
        "ludex_webhook_delivery_delay_seconds_bucket",
        "ludex_backup_last_success_timestamp_seconds",
    }
    assert slo_metrics <= metrics_read(dashboard), "the dashboard shows each SLO's metric"
    assert metrics_read(["ludex_not_a_metric_total"]) - exported, "an unknown name would be caught"


def test_the_chart_and_the_kustomize_component_ship_the_same_rules(tmp_path: Path) -> None:
    production = [doc for doc in render("helm-production") if doc["kind"] == "PrometheusRule"]
    assert [rule["spec"] for rule in production] == [rules_spec()]
    if shutil.which("kubectl") is None:
        missing("kubectl is not installed: it renders the kustomize component in k8s/components")
    overlay = Path(os.path.relpath(ROOT / "k8s", tmp_path))
    (tmp_path / "kustomization.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "kustomize.config.k8s.io/v1beta1",
                "kind": "Kustomization",
                "namespace": "ludex",
                "resources": [str(overlay / "overlays" / "prod")],
                "components": [str(overlay / "components" / "prometheus-rules")],
            }
        )
    )
    result = subprocess.run(["kubectl", "kustomize", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    docs = [doc for doc in yaml.safe_load_all(result.stdout) if doc and doc["kind"] == "PrometheusRule"]
    assert [(doc["metadata"]["namespace"], doc["spec"]) for doc in docs] == [("ludex", rules_spec())]


@pytest.mark.parametrize("name", ["ludex_backup_duration_seconds", "ludex_backup_size_bytes"])
def test_the_backup_indicators_are_exported(name: str) -> None:
    assert name in exported_metrics()
