"""The command pipeline of a shard host: a command for a player, in that player's lock, goes
idempotency lookup → decide → journal record → group commit, and is answered once durable.

Promises:
- one entity's commands run one at a time, in arrival order (the entity's FIFO lock);
- a command is decided against the entity's latest state (maybe not durable yet) and answered
  only after its journal record is durable; commands that arrive together share one
  transaction (`GroupCommitter`);
- a keyed command has one effect however often and however concurrently it is sent: copies
  wait for the first and get its answer, marked as a replay; keys looked up together share one
  store round trip.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from actors.boards.feed import BoardFeed, record_change
from actors.clock import Clock, epoch_ms
from actors.coalescer import Coalescer
from actors.committer import EntityUnavailableError, GroupCommitter, PendingWrite, WrongOwnerError
from actors.event_publisher import EventPublisher
from actors.host.economies import ProjectEconomies
from actors.host.entities import Entities, Entity, Inflight
from actors.host.guardrails import HostGuardrails
from actors.host.unavailable import UNAVAILABLE, unavailable_outcome
from actors.metrics import HostMetrics
from actors.slots import SlotGate, wrong_owner_outcome
from actors.stores.base import JournalRecord, OutcomeStore, Remembered, RememberedAnswer, event_records
from engine.commands import Command, command_to_dict
from engine.definitions import Economy
from engine.errors import IdempotencyKeyReusedError, Rejection
from engine.events import event_id, event_to_dict
from engine.guardrail_checks import GuardrailRefusal
from engine.idempotency import IdempotencyRecord, check_idempotency, fingerprint
from engine.identity import player_key
from engine.outcomes import Outcome, Refusal
from engine.rules import Accepted, Context, decide, rfc3339, state_after
from engine.state import PlayerState

log = logging.getLogger("ludex.host")


@dataclass(frozen=True)
class CommandRequest:
    tenant: str
    project: str
    player_id: str
    command: Command
    idempotency_key: str | None = None
    request_id: str | None = None
    refuse_fresh: Refusal | None = None
    """When set (e.g. the monthly quota is spent), a new request gets this refusal, while a
    repeat of a remembered key still gets its original answer."""


def _retrieve(future: asyncio.Future[Any]) -> None:
    """Marks a failed read nobody waits for any more as seen (no 'never retrieved' noise)."""
    if not future.cancelled():
        future.exception()


class CommandPipeline:
    def __init__(
        self,
        store: OutcomeStore,
        clock: Clock,
        slots: SlotGate,
        entities: Entities,
        economies: ProjectEconomies,
        committer: GroupCommitter,
        metrics: HostMetrics,
        *,
        shard_id: int,
        retention: timedelta,
        max_batch_size: int,
        board_feed: BoardFeed | None,
        publisher: EventPublisher | None,
        guardrails: HostGuardrails | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.slots = slots
        self.entities = entities
        self.economies = economies
        self.committer = committer
        self.metrics = metrics
        self.shard_id = shard_id
        self.retention = retention
        self.board_feed = board_feed
        self.publisher = publisher  # announces durable events to realtime fan-out (Redis), if set
        self.guardrails = guardrails  # the economy's guardrails, checked after decide when it has any
        # Keyed commands that arrive together look their keys up in one store round trip.
        self._lookups: Coalescer[tuple[str, str], Remembered | None] = Coalescer(
            self._find_outcomes, max_batch_size=max_batch_size, max_inflight=2
        )

    async def execute_owned(self, request: CommandRequest) -> Outcome:
        """Run the command if this host owns its player's slot, else answer `wrong-owner`."""
        slot = self.slots.slot(request.tenant, request.project, request.player_id)
        if not await self.slots.enter(slot):
            return wrong_owner_outcome(slot)
        try:
            return await self.execute_one(request)
        finally:
            self.slots.leave(slot)

    def account(self, requests: Sequence[CommandRequest], outcomes: Sequence[Outcome]) -> None:
        """Count and log each answered command."""
        for request, outcome in zip(requests, outcomes, strict=True):
            self.metrics.command(request.command.op, outcome)
            self._log(request, outcome)

    def _log(self, request: CommandRequest, outcome: Outcome) -> None:
        unavailable = outcome.slug == UNAVAILABLE
        level = logging.WARNING if unavailable else logging.DEBUG
        if not log.isEnabledFor(level):
            return
        log.log(
            level,
            "command %s",
            "failed" if unavailable else "done",
            extra={
                "requestId": request.request_id,
                "tenantId": request.tenant,
                "projectId": request.project,
                "playerId": request.player_id,
                "command": request.command.op,
                "outcome": outcome.slug,
                "eventIds": list(outcome.event_ids),
                "shard": self.shard_id,
            },
        )

    async def execute_one(self, request: CommandRequest) -> Outcome:
        """Run one command in its entity's lock and answer once it is durable (no slot check)."""
        key = player_key(request.tenant, request.project, request.player_id)
        idem = request.idempotency_key
        request_fingerprint = fingerprint(request.command)
        while True:
            entity = self.entities.get(key)
            async with entity.lock:
                if not entity.usable:
                    continue
                history = None
                try:
                    economy = await self.economies.get(request.tenant, request.project)
                    # Activation and the key lookup are independent store reads: overlap their trips.
                    history = None if entity.loaded else self.entities.histories.submit(entity.key)
                    waiting = await self._remembered(entity, idem, request_fingerprint)
                    if history is not None:
                        self.entities.activate(entity, request.player_id, await history)
                except Rejection as rejection:
                    return Outcome.refused(rejection)
                except Exception as error:  # a store read failed or timed out: retryable, nothing decided
                    if history is not None:
                        history.add_done_callback(_retrieve)
                    log.warning("shard %d: store read for %s failed: %s", self.shard_id, key, error)
                    return unavailable_outcome(f"store read failed: {error}")
                if isinstance(waiting, Outcome):
                    return await self._with_boards_settled(entity, waiting)
                if waiting is None and request.refuse_fresh is not None:
                    return Outcome.refused(request.refuse_fresh)
                if waiting is None:
                    decision = await self._guarded(entity, request, economy)
                    if isinstance(decision, Outcome):
                        return decision
                    waiting = self._decide(entity, request, economy, request_fingerprint, decision)
                    if isinstance(waiting, Outcome):
                        return waiting
                    replayed = False
                else:
                    replayed = True
            return await self._await_durable(entity, idem, waiting, replayed)

    async def _with_boards_settled(self, entity: Entity, outcome: Outcome) -> Outcome:
        """A replay from the journal answers once the board has what the activation repaired
        (`BoardFeed.repair`): an award retried after its first answer failed is ranked when the
        retry's answer arrives, as a first answer's is."""
        settled = entity.boards_settled
        if settled is not None and not settled.done():
            await asyncio.wait([settled])  # its failure is the command that owed it, not this replay's
        return outcome

    async def _remembered(
        self, entity: Entity, idem: str | None, request_fingerprint: str
    ) -> Inflight | Outcome | None:
        """An in-flight copy to wait for, a stored answer to replay, or None for a new request."""
        if idem is None:
            return None
        inflight = entity.inflight.get(idem)
        if inflight is not None:
            if inflight.fingerprint != request_fingerprint:
                return Outcome.refused(IdempotencyKeyReusedError(idem))
            return inflight
        now = self.clock.now()
        remembered = await self._lookups.call((entity.key, idem))
        if remembered is None:
            return None
        record = IdempotencyRecord(
            idem,
            remembered.fingerprint,
            remembered.outcome,
            datetime.fromtimestamp(remembered.recorded_at_ms / 1000, UTC),
        )
        try:
            replay = check_idempotency(record, request_fingerprint, now, self.retention)
        except IdempotencyKeyReusedError as reused:
            return Outcome.refused(reused)
        return None if replay is None else Outcome.from_stored(replay).as_replay()

    async def _find_outcomes(self, keys: list[tuple[str, str]]) -> list[Remembered | None]:
        return await self.store.find_outcomes(keys, epoch_ms(self.clock.now() - self.retention))

    async def _guarded(
        self, entity: Entity, request: CommandRequest, economy: Economy
    ) -> tuple[datetime, Accepted | Rejection | GuardrailRefusal] | Outcome:
        """Decide against the entity's latest state (durable or pending), then check the
        economy's guardrails (`actors/host/guardrails.py`) if it has any."""
        now = self.clock.now()
        state = entity.state
        assert state is not None  # activated above, in the same hold of the lock
        decision = decide(state, request.command, Context(now=now, economy=economy, entity=entity.key))
        if not economy.guardrails or self.guardrails is None or not isinstance(decision, Accepted):
            return now, decision
        try:
            command = request.command
            return now, await self.guardrails.check(
                request.tenant, request.project, state, command.op, decision, economy, now
            )
        except Exception as error:  # a budget lease could not be taken: retryable, nothing decided
            log.warning("shard %d: guardrail lease for %s failed: %s", self.shard_id, entity.key, error)
            return unavailable_outcome(f"guardrail budget unavailable: {error}")

    def _decide(
        self,
        entity: Entity,
        request: CommandRequest,
        economy: Economy,
        request_fingerprint: str,
        decided: tuple[datetime, Accepted | Rejection | GuardrailRefusal],
    ) -> Inflight | Outcome:
        """Queue the write of a decision. Returns the outcome directly when nothing needs to be
        written. A guardrail refusal is journaled (its event announced, its refusal replayed)."""
        now, decision = decided
        state = entity.state
        assert state is not None
        idem = request.idempotency_key
        if isinstance(decision, Rejection):
            outcome = Outcome.refused(decision)
        elif isinstance(decision, GuardrailRefusal):
            outcome = Outcome.refused(decision.error)
            decision = Accepted(decision.events, None, state=decision.state)
        else:
            outcome = Outcome.accepted(decision.body, created=decision.created)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        recorded_at_ms = epoch_ms(now)
        if isinstance(decision, Accepted) and decision.events:
            seq = state.seq + 1
            occurred_at = rfc3339(now)
            new_state = state_after(state, decision, seq, occurred_at)
            record = self._record(
                entity, request, decision, outcome, seq, occurred_at, recorded_at_ms, request_fingerprint
            )
            entity.state = new_state
            write = PendingWrite(record, None, future, owner=entity)
            write.on_durable = lambda: self._on_durable(entity, new_state, record)
            event_ids = [event_id(entity.key, seq, i) for i in range(len(record.events))]
            inflight = Inflight(request_fingerprint, outcome, future, event_ids)
            if self.board_feed is not None and economy.leaderboards:
                change = record_change(economy, request.tenant, request.project, request.player_id, record, new_state)
                if change is not None:  # answered once the record is durable and on the boards
                    inflight.future = entity.boards_settled = self.board_feed.follow(future, change)
        elif idem is not None:
            write = PendingWrite(
                None,
                RememberedAnswer(entity.key, idem, request_fingerprint, outcome.to_stored(), recorded_at_ms),
                future,
                owner=entity,
            )
            slot = self.slots.slot(request.tenant, request.project, request.player_id)
            inflight = Inflight(request_fingerprint, outcome, future, unfenced=(slot, self.slots.epoch(slot)))
        else:
            return outcome
        if idem is not None:
            entity.inflight[idem] = inflight
        self.committer.submit(write)
        return inflight

    def _record(
        self,
        entity: Entity,
        request: CommandRequest,
        decision: Accepted,
        outcome: Outcome,
        seq: int,
        occurred_at: str,
        recorded_at_ms: int,
        request_fingerprint: str,
    ) -> JournalRecord:
        """The journal record of an accepted decision: its events, the command and its answer
        (for a keyed command, replayed from here), stamped with the slot's epoch the store checks."""
        idem = request.idempotency_key
        slot = self.slots.slot(request.tenant, request.project, request.player_id)
        return JournalRecord(
            entity=entity.key,
            seq=seq,
            events=[event_to_dict(event) for event in decision.events],
            occurred_at=occurred_at,
            recorded_at_ms=recorded_at_ms,
            idempotency_key=idem,
            fingerprint=request_fingerprint if idem else None,
            outcome=outcome.to_stored() if idem else None,
            command=command_to_dict(request.command),
            request_id=request.request_id,
            slot=slot,
            epoch=self.slots.epoch(slot),
            host=self.slots.host,
        )

    async def _await_durable(self, entity: Entity, idem: str | None, inflight: Inflight, replayed: bool) -> Outcome:
        try:
            await asyncio.shield(inflight.future)
        except WrongOwnerError:
            lost = self.slots.slot_of_key(entity.key)
            self.slots.forget([] if lost is None else [lost])  # the store knows better than we did
            return wrong_owner_outcome(lost)
        except EntityUnavailableError as error:
            return unavailable_outcome(str(error))
        finally:
            if not replayed and idem is not None and entity.inflight.get(idem) is inflight:
                del entity.inflight[idem]
        if inflight.unfenced is not None and not self.slots.owns(*inflight.unfenced):
            # A remembered answer (a refusal) landed while its slot was being handed off or after
            # it moved: the new owner may have decided the key afresh meanwhile (the simulator's
            # seed 233), so this answer is not given. A retry reaches the owner, which replays
            # the journal's answer for the key if there is one, else this remembered one.
            return wrong_owner_outcome(inflight.unfenced[0])
        if replayed:
            return inflight.outcome.as_replay()
        return inflight.outcome.with_events(inflight.event_ids)

    def _on_durable(self, entity: Entity, state: PlayerState, record: JournalRecord) -> None:
        self.entities.made_durable(entity, state)
        if self.publisher is not None:
            self.publisher.publish(event_records([record]))
