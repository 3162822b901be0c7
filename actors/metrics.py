"""Host-side metrics as plain counters and histograms. Hosts run in other processes than the
ingress, so they keep numbers here and the ingress pulls a snapshot (`ShardHost.stats`) when
Prometheus scrapes: no metrics agent needed, and tests can read the same numbers."""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from engine.outcomes import Outcome

LATENCY_BUCKETS_S = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)


@dataclass
class Histogram:
    buckets: tuple[float, ...]
    counts: list[int] = field(default_factory=list)
    total: float = 0.0
    count: int = 0

    def __post_init__(self) -> None:
        self.counts = [0] * (len(self.buckets) + 1)

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.buckets, value)] += 1
        self.total += value
        self.count += 1

    def snapshot(self) -> dict[str, Any]:
        cumulative, running = [], 0
        for bound, count in zip((*self.buckets, float("inf")), self.counts, strict=True):
            running += count
            cumulative.append((bound, running))
        return {"buckets": cumulative, "sum": self.total, "count": self.count}


@dataclass
class HostMetrics:
    commands: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    replays: int = 0
    commit_seconds: Histogram = field(default_factory=lambda: Histogram(LATENCY_BUCKETS_S))
    batch_size: Histogram = field(default_factory=lambda: Histogram(BATCH_BUCKETS))

    def command(self, op: str, outcome: Outcome) -> None:
        self.commands[(op, outcome.slug)] += 1
        if outcome.replayed:
            self.replays += 1

    def snapshot(self) -> dict[str, Any]:
        return {
            "commands": [{"command": op, "outcome": result, "count": n} for (op, result), n in self.commands.items()],
            "replays": self.replays,
            "commitSeconds": self.commit_seconds.snapshot(),
            "batchSize": self.batch_size.snapshot(),
        }
