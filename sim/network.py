"""Messages between clients (through the directory) and the host: each may be delayed (so later
ones overtake it), lost, or, for requests, delivered twice. Deliveries belong to no process, so
a reply already sent still arrives after its host died."""

from __future__ import annotations

import contextvars
import random
from collections.abc import Callable

from sim.faults import FaultPlan
from sim.loop import SimLoop


class Network:
    def __init__(self, loop: SimLoop, rng: random.Random, plan: FaultPlan) -> None:
        self.loop = loop
        self.rng = rng
        self.plan = plan
        self._nowhere = contextvars.Context()  # incarnation 0: never killed

    def send(self, deliver: Callable[[], None], *, request: bool) -> None:
        if self.plan.hit(self.rng, "request lost" if request else "reply lost", self.plan.message_lost):
            return
        copies = 1
        if request and self.plan.hit(self.rng, "request duplicated", self.plan.message_duplicated):
            copies = 2
        for _ in range(copies):
            delay = self.rng.uniform(0.0, self.plan.message_delay_s)
            self.loop.call_later(delay, deliver, context=self._nowhere)
