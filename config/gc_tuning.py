"""Garbage-collector thresholds for processes that keep many long-lived objects.

A shard host keeps every active entity (state, lock, mappings) alive: tens of thousands of
container objects. With CPython's default thresholds (700, 10, 10) the collector's older
generations rescan them every few thousand commands; with many distinct players that was a
quarter of the host's CPU per command (benchmarks/bench_scale.py). Young garbage is still
collected as often as before; only the rescans of survivors become rarer.
"""

from __future__ import annotations

import gc

HOST_THRESHOLDS = (700, 50, 100)


def tune_for_long_lived_objects() -> None:
    """Process-wide: call it in processes that host entities (a Ray actor is a process of its own)."""
    gc.set_threshold(*HOST_THRESHOLDS)
