"""Prometheus exposition: the ingress's own metrics plus a snapshot pulled from every shard
host at scrape time (hosts live in other processes)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector


class HostSnapshotCollector(Collector):
    def __init__(self, snapshots: list[dict[str, Any]], webhooks: dict[str, Any] | None = None) -> None:
        self.snapshots = snapshots
        self.webhooks = webhooks

    def collect(self) -> Iterator[Metric]:
        commands = CounterMetricFamily(
            "ludex_commands", "Commands run by shard hosts", labels=["shard", "command", "outcome"]
        )
        replays = CounterMetricFamily("ludex_idempotent_replays", "Answers replayed for a known key", labels=["shard"])
        entities = GaugeMetricFamily("ludex_active_entities", "Entities held in memory", labels=["shard"])
        commit = HistogramMetricFamily(
            "ludex_journal_commit_seconds", "Latency of one durable journal commit", labels=["shard"]
        )
        batch = HistogramMetricFamily("ludex_journal_batch_size", "Records written per commit", labels=["shard"])
        for snapshot in self.snapshots:
            shard = str(snapshot["shardId"])
            for line in snapshot["commands"]:
                commands.add_metric([shard, line["command"], line["outcome"]], line["count"])
            replays.add_metric([shard], snapshot["replays"])
            entities.add_metric([shard], snapshot["activeEntities"])
            for family, key in ((commit, "commitSeconds"), (batch, "batchSize")):
                histogram = snapshot[key]
                buckets = [(_bound(bound), count) for bound, count in histogram["buckets"]]
                family.add_metric([shard], buckets, histogram["sum"])
        yield from (commands, replays, entities, commit, batch)
        deliveries = CounterMetricFamily(
            "ludex_webhook_deliveries", "Webhook delivery attempts by outcome", labels=["outcome"]
        )
        if self.webhooks is not None:
            delivered, dead, sent = self.webhooks["delivered"], self.webhooks["dead"], self.webhooks["sent"]
            deliveries.add_metric(["delivered"], delivered)
            deliveries.add_metric(["dead"], dead)
            deliveries.add_metric(["retried"], max(sent - delivered - dead, 0))
        yield deliveries


def _bound(value: float) -> str:
    return "+Inf" if value == float("inf") else repr(float(value))


def render(host_snapshots: list[dict[str, Any]], webhooks: dict[str, Any] | None = None) -> bytes:
    pulled = CollectorRegistry(auto_describe=False)
    pulled.register(HostSnapshotCollector(host_snapshots, webhooks))
    return generate_latest(REGISTRY) + generate_latest(pulled)
