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
                _add_histogram(family, [shard], snapshot[key])
        yield from (commands, replays, entities, commit, batch)
        deliveries = CounterMetricFamily(
            "ludex_webhook_deliveries", "Webhook delivery attempts by outcome", labels=["outcome"]
        )
        if self.webhooks is not None:
            delivered, dead, sent = self.webhooks["delivered"], self.webhooks["dead"], self.webhooks["sent"]
            deliveries.add_metric(["delivered"], delivered)
            deliveries.add_metric(["dead"], dead)
            deliveries.add_metric(["retried"], max(sent - delivered - dead, 0))
        delay = HistogramMetricFamily(
            "ludex_webhook_delivery_delay_seconds", "From an event's intake to its webhook's 2xx, retries included"
        )
        if self.webhooks is not None and "deliveryDelaySeconds" in self.webhooks:
            _add_histogram(delay, [], self.webhooks["deliveryDelaySeconds"])
        yield deliveries
        yield delay
        yield from _backup_metrics(self.snapshots)


def _add_histogram(family: HistogramMetricFamily, labels: list[str], histogram: dict[str, Any]) -> None:
    buckets = [(_bound(bound), count) for bound, count in histogram["buckets"]]
    family.add_metric(labels, buckets, histogram["sum"])


def _backup_metrics(snapshots: list[dict[str, Any]]) -> Iterator[Metric]:
    """Scheduled backups' indicators, from the host that runs them (shard 0); absent (not 0)
    until the first backup succeeded, so `time() - last_success` never reads a false age."""
    last = GaugeMetricFamily(
        "ludex_backup_last_success_timestamp_seconds", "When the last verified scheduled backup was taken (Unix time)"
    )
    duration = GaugeMetricFamily("ludex_backup_duration_seconds", "How long the last good backup took, verify included")
    size = GaugeMetricFamily("ludex_backup_size_bytes", "Size of the last good backup file")
    failures = CounterMetricFamily("ludex_backup_failures", "Scheduled backups that failed or did not verify")
    for snapshot in snapshots:
        if (backups := snapshot.get("backups")) is None:
            continue
        failures.add_metric([], backups["failures"])
        if backups["lastSuccessTimestampSeconds"] is not None:
            last.add_metric([], backups["lastSuccessTimestampSeconds"])
            duration.add_metric([], backups["durationSeconds"])
            size.add_metric([], backups["sizeBytes"])
    yield from (last, duration, size, failures)


def _bound(value: float) -> str:
    return "+Inf" if value == float("inf") else repr(float(value))


def render(host_snapshots: list[dict[str, Any]], webhooks: dict[str, Any] | None = None) -> bytes:
    pulled = CollectorRegistry(auto_describe=False)
    pulled.register(HostSnapshotCollector(host_snapshots, webhooks))
    return generate_latest(REGISTRY) + generate_latest(pulled)
