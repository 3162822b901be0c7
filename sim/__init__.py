"""Deterministic simulation of a shard host (docs/SIMULATION.md): the real host parts, the real
group committer and a real SQLite file, on one thread, on a virtual clock, with every store
latency, message and fault drawn from one seed, so any failing run replays exactly."""
