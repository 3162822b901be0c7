"""Deterministic simulation (docs/SIMULATION.md): two real shard hosts, the real coordinator's
slot handoffs, the real group committer and a real SQLite file, on one thread and a virtual
clock, with every store latency, message and fault drawn from one seed, so any failing run
replays exactly. Nothing outside tests imports it."""
