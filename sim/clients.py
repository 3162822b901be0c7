"""Game clients as the SDKs behave: each command carries an idempotency key, and a retryable
answer (`entity-unavailable`, `wrong-owner`) or no answer within the timeout sends the same key
again after a jittered exponential backoff, up to a few attempts; then its fate is unknown.
Every answer for a key is kept, late ones included, for the invariants to judge."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from actors.host import UNAVAILABLE, CommandRequest
from actors.slots import WRONG_OWNER
from engine import commands as c
from engine.outcomes import Outcome

TENANT, PROJECT = "sim", "game"
RETRYABLE = {UNAVAILABLE, WRONG_OWNER}
ATTEMPTS = 8
TIMEOUT_S = 3.0
BACKOFF_S = 0.05
BACKOFF_CAP_S = 2.0


@dataclass
class Sent:
    """One keyed command and every answer it got (from any attempt, in arrival order)."""

    key: str
    player: str
    command: c.Command
    first_sent_at: float
    player_known: bool  # the player's creation was acknowledged before this was first sent
    attempts: int = 0
    answers: list[Outcome] = field(default_factory=list)
    final: Outcome | None = None  # the first answer that is not retryable: what the client acted on
    waiter: asyncio.Future[Outcome] | None = None

    def describe(self) -> str:
        return f"{self.key} {self.player} {self.command.op} {_args(self.command)}"


def _args(command: c.Command) -> str:
    return " ".join(f"{k}={v}" for k, v in vars(command).items() if v not in ("", {}, None))


Transport = Callable[[CommandRequest, Callable[[Outcome], None]], None]
"""Sends a request toward the host; the callback gets each answer that comes back."""


class Client:
    def __init__(
        self,
        number: int,
        players: list[str],
        rng: random.Random,
        transport: Transport,
        history: dict[str, Sent],
        created: set[str],
        on_answer: Callable[[Sent, Outcome], None],
        *,
        commands: int,
    ) -> None:
        self.number = number
        self.own = players[number]
        self.players = players
        self.rng = rng
        self.transport = transport
        self.history = history
        self.created = created  # players whose creation some client saw acknowledged
        self.on_answer = on_answer
        self.commands = commands

    def _next_command(self, n: int) -> tuple[str, c.Command]:
        if n == 0:
            return self.own, c.CreatePlayer(username=self.own)
        player = self.own if self.rng.random() < 0.7 else self.rng.choice(self.players)
        roll = self.rng.random()
        command: c.Command
        if roll < 0.3:
            command = c.Credit("coins", self.rng.choice([5, 50, 100, 250]))
        elif roll < 0.5:
            command = c.Debit("coins", self.rng.choice([10, 60, 150]))
        elif roll < 0.65:
            command = c.Purchase("potion-pack")
        elif roll < 0.75:
            command = c.Credit("gems", self.rng.choice([5, 10]))
        elif roll < 0.85:
            command = c.Purchase("starter-bundle")
        else:
            command = c.AwardXp(self.rng.choice([10, 120, 300]))
        return player, command

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for n in range(self.commands):
            player, command = self._next_command(n)
            sent = Sent(f"c{self.number}-{n}", player, command, loop.time(), player in self.created)
            self.history[sent.key] = sent
            await self._send_until_answered(sent)
            if sent.final is not None and isinstance(command, c.CreatePlayer) and sent.final.ok:
                self.created.add(player)
            await asyncio.sleep(self.rng.uniform(0.0, 0.3))

    async def _send_until_answered(self, sent: Sent) -> None:
        loop = asyncio.get_running_loop()
        request = CommandRequest(TENANT, PROJECT, sent.player, sent.command, sent.key, request_id=sent.key)
        for attempt in range(ATTEMPTS):
            sent.attempts = attempt + 1
            sent.waiter = loop.create_future()
            self.transport(request, lambda outcome: self._answered(sent, outcome))
            try:
                outcome = await asyncio.wait_for(asyncio.shield(sent.waiter), TIMEOUT_S)
            except TimeoutError:
                outcome = None
            if outcome is not None and outcome.slug not in RETRYABLE:
                return
            backoff = min(BACKOFF_CAP_S, BACKOFF_S * 2**attempt)
            await asyncio.sleep(self.rng.uniform(backoff / 2, backoff))

    def _answered(self, sent: Sent, outcome: Outcome) -> None:
        sent.answers.append(outcome)
        if sent.final is None and outcome.slug not in RETRYABLE:
            sent.final = outcome
        self.on_answer(sent, outcome)
        if sent.waiter is not None and not sent.waiter.done():
            sent.waiter.set_result(outcome)
