"""The example Grafana dashboard only charts metrics that Ludex exports."""

from __future__ import annotations

import json
import re
from pathlib import Path

from prometheus_client import REGISTRY, generate_latest

import serve.app  # noqa: F401 - registers the HTTP metrics
from actors.metrics import HostMetrics
from serve.metrics import render

DASHBOARD = Path(__file__).resolve().parents[3] / "docs" / "grafana" / "ludex-dashboard.json"


def exported_names() -> set[str]:
    host = {"shardId": 0, "activeEntities": 1, **HostMetrics().snapshot()}
    text = (generate_latest(REGISTRY) + render([host])).decode()
    return {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ludex_")}


def test_every_dashboard_query_uses_exported_metrics() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    families = exported_names()
    used = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"\b(ludex_[a-z_]+)", target["expr"])
    }
    assert used, "the dashboard charts nothing"
    suffixes = ("_bucket", "_sum", "_count", "_total")
    unknown = {
        name for name in used if name not in families and not any(name.removesuffix(s) in families for s in suffixes)
    }
    assert unknown == set()
