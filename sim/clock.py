"""The hosts' clock in a simulation: monotonic time is the loop's virtual time, and wall time
follows it plus whatever jumps the seed made (NTP stepping the clock, a VM resumed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sim.loop import SimLoop

START = datetime(2026, 3, 1, tzinfo=UTC)


class SimClock:
    def __init__(self, loop: SimLoop) -> None:
        self.loop = loop
        self.offset_s = 0.0

    def now(self) -> datetime:
        return START + timedelta(seconds=self.loop.time() + self.offset_s)

    def monotonic(self) -> float:
        return 1000.0 + self.loop.time()

    def jump(self, seconds: float) -> None:
        """Wall time steps (either way); monotonic time does not, as on a real machine."""
        self.offset_s += seconds
