"""The shard host: one process-sized container for many virtual actors (entities).

Promises:
- one entity's commands run one at a time, in arrival order (a FIFO lock per entity; Ray runs
  an async actor's calls concurrently and does not order calls from different callers);
- a command is answered only after its journal record is durable, and commands that arrive
  together share one transaction (`GroupCommitter`);
- a keyed command has one effect however often and however concurrently it is sent: copies
  wait for the first and get its answer, marked as a replay;
- entities activate from snapshot + journal and passivate when idle.

The host is a plain class: tests construct it directly; `actors.directory` makes it a Ray actor.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from actors.board_feed import BoardFeed, record_change
from actors.board_resets import BoardResets
from actors.board_store import BoardStore
from actors.clock import Clock, SystemClock, epoch_ms
from actors.coalescer import Coalescer
from actors.committer import EntityUnavailableError, GroupCommitter, PendingWrite, WrongOwnerError
from actors.economy_health import EconomyHealthSweep
from actors.economy_reads import current_project
from actors.event_publisher import EventPublisher
from actors.metrics import HostMetrics
from actors.retention import EventRetention, OutcomeRetention
from actors.scheduled_backups import ScheduledBackups
from actors.slots import SlotGate, claim_own_slots, wrong_owner_outcome
from actors.stores.base import History, JournalRecord, Remembered, Snapshot, Store, event_records
from actors.stores.base import Outcome as StoredOutcome
from config.gc_tuning import tune_for_long_lived_objects
from engine import views
from engine.commands import Command, DeletePlayer, command_to_dict
from engine.definitions import Economy, economy_to_document
from engine.errors import EconomyNotDefinedError, IdempotencyKeyReusedError, PlayerNotFoundError, Rejection
from engine.events import PurchaseSucceeded, event_from_dict, event_id, event_to_dict, purchase_seq
from engine.idempotency import IdempotencyRecord, check_idempotency, fingerprint
from engine.identity import player_key, project_key
from engine.outcomes import Outcome, Refusal
from engine.privacy import scrub_state
from engine.project import ProjectState, define_economy, economy_of
from engine.rules import Accepted, Context, decide, receipt_view, replay_record, rfc3339, state_after
from engine.state import PlayerState, state_from_dict, state_to_dict

UNAVAILABLE = "entity-unavailable"
SNAPSHOTS_PER_WRITE = 500
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


@dataclass
class _Inflight:
    fingerprint: str
    outcome: Outcome
    future: asyncio.Future[None]
    event_ids: list[str] = field(default_factory=list)


@dataclass(eq=False)
class _Entity:
    key: str
    state: Any = None
    durable_state: Any = None
    loaded: bool = False
    broken: bool = False
    retired: bool = False
    last_used: float = 0.0
    snapshot_seq: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    inflight: dict[str, _Inflight] = field(default_factory=dict)

    @property
    def usable(self) -> bool:
        return not (self.broken or self.retired)


def _retrieve(future: asyncio.Future[Any]) -> None:
    """Marks a failed read nobody waits for any more as seen (no 'never retrieved' noise)."""
    if not future.cancelled():
        future.exception()


def unavailable_outcome(reason: str) -> Outcome:
    """Nothing was decided: the caller may retry (503)."""
    return Outcome.refused(Refusal(UNAVAILABLE, reason))


class ShardHost:
    def __init__(
        self,
        store: Store,
        *,
        clock: Clock | None = None,
        shard_id: int = 0,
        snapshot_every: int = 100,
        snapshot_on_passivation_after: int = 8,
        idle_timeout_s: float = 300.0,
        max_batch_size: int = 512,
        group_commit: bool = True,
        idempotency_retention_s: float = 7 * 24 * 3600.0,
        event_retention_days: float | None = None,
        publisher: EventPublisher | None = None,
        boards: BoardStore | None = None,
        slot_gate: SlotGate | None = None,
        backups: ScheduledBackups | None = None,
    ) -> None:
        self.store = store
        self.slots = slot_gate or SlotGate()  # the slots this host owns (all, unfenced, by default)
        self.clock: Clock = clock or SystemClock()
        self.shard_id = shard_id
        self.snapshot_every = snapshot_every
        # A passivated entity with a shorter journal tail than this is not snapshotted: replaying
        # a few records on its next activation is cheaper than a snapshot written for each of
        # many players seen once or twice (benchmarks/bench_scale.py, 100k-1M players).
        self.snapshot_on_passivation_after = snapshot_on_passivation_after
        self.idle_timeout_s = idle_timeout_s
        self.retention = timedelta(seconds=idempotency_retention_s)
        self.event_retention = EventRetention(store, self.clock, event_retention_days)
        self.outcome_retention = OutcomeRetention(store, self.clock, self.retention)
        self.economy_health = EconomyHealthSweep(store, self.clock)
        self.publisher = publisher  # announces durable events to realtime fan-out (Redis), if set
        self.board_feed = None if boards is None else BoardFeed(boards, store, max_batch_size=max_batch_size)
        self.board_resets = None if boards is None else BoardResets(store, boards, self.clock)
        self.metrics = HostMetrics()
        self.backups = backups  # scheduled backups of the embedded store; host 0's sweep runs them
        self.committer = GroupCommitter(
            store, max_batch_size=max_batch_size, group_commit=group_commit, metrics=self.metrics
        )
        # Keyed commands that arrive together look their keys up in one store round trip.
        self._lookups: Coalescer[tuple[str, str], Remembered | None] = Coalescer(
            self._find_outcomes, max_batch_size=max_batch_size, max_inflight=2
        )
        # Entities activated together read their snapshots and journal tails in one round trip.
        self._histories: Coalescer[str, History] = Coalescer(
            self.store.load_histories, max_batch_size=max_batch_size, max_inflight=2
        )
        self._entities: dict[str, _Entity] = {}
        self._economies: dict[tuple[str, str], Economy] = {}
        self._economy_generations: dict[tuple[str, str], int] = {}
        self._project_locks: dict[str, asyncio.Lock] = {}
        self._background: set[asyncio.Task[Any]] = set()
        self._sweeper: asyncio.Task[None] | None = None
        self._started = False
        self._starting = asyncio.Lock()

    # ------------------------------------------------------------------------------ lifecycle

    async def start(self, *, sweep: bool = True) -> None:
        """Open the store and start committing. Idempotent, and also run by the first call, so a
        host that Ray restarted after a crash recovers without being told to."""
        async with self._starting:
            if self._started:
                return
            tune_for_long_lived_objects()
            await self.store.open()
            if self.slots.fenced:
                await claim_own_slots(self.store, self.slots)
            if self.board_feed is not None:
                await self.board_feed.start()
            self.committer.start()
            if sweep:
                self._sweeper = asyncio.create_task(self._sweep_forever(), name="ludex-passivation")
            self._started = True

    async def stop(self) -> None:
        """Drain pending writes, snapshot what is active, close the store."""
        if not self._started:
            return
        self._started = False
        if self._sweeper is not None:
            self._sweeper.cancel()
            await asyncio.gather(self._sweeper, return_exceptions=True)
        await self.committer.stop()
        if self.board_feed is not None:
            await self.board_feed.stop()
        await self.passivate_idle(force=True)
        await asyncio.gather(*self._background, return_exceptions=True)
        if self.publisher is not None:
            await self.publisher.close()
        await self.store.close()

    def ready(self) -> bool:
        return True

    def pid(self) -> int:
        return os.getpid()

    def stats(self) -> dict[str, Any]:
        return {
            "shardId": self.shard_id,
            "activeEntities": len(self._entities),
            "commits": self.committer.commits,
            "records": self.committer.records,
            **self.metrics.snapshot(),
            **({} if self.backups is None else {"backups": self.backups.indicators.snapshot()}),
        }

    # ------------------------------------------------------------------------------ commands

    async def execute(self, requests: list[CommandRequest]) -> list[Outcome]:
        """Run many commands in one call; each answer is an `Outcome` in request order.
        Commands for one player apply in array order."""
        if not self._started:
            await self.start()
        outcomes = await asyncio.gather(*(self._execute_owned(r) for r in requests))
        for request, outcome in zip(requests, outcomes, strict=True):
            self.metrics.command(request.command.op, outcome)
            self._log(request, outcome)
        return list(outcomes)

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

    async def _execute_owned(self, request: CommandRequest) -> Outcome:
        slot = self.slots.slot(request.tenant, request.project, request.player_id)
        if not await self.slots.enter(slot):
            return wrong_owner_outcome(slot)
        try:
            return await self._execute_one(request)
        finally:
            self.slots.leave(slot)

    async def _execute_one(self, request: CommandRequest) -> Outcome:
        key = player_key(request.tenant, request.project, request.player_id)
        idem = request.idempotency_key
        request_fingerprint = fingerprint(request.command)
        while True:
            entity = self._entity(key)
            async with entity.lock:
                if not entity.usable:
                    continue
                history = None
                try:
                    economy = await self._economy(request.tenant, request.project)
                    # Activation and the key lookup are independent store reads: overlap their trips.
                    history = None if entity.loaded else self._histories.submit(entity.key)
                    waiting = await self._remembered(entity, idem, request_fingerprint)
                    if history is not None:
                        self._activate(entity, request.player_id, await history)
                except Rejection as rejection:
                    return Outcome.refused(rejection)
                except Exception as error:  # a store read failed or timed out: retryable, nothing decided
                    if history is not None:
                        history.add_done_callback(_retrieve)
                    log.warning("shard %d: store read for %s failed: %s", self.shard_id, key, error)
                    return unavailable_outcome(f"store read failed: {error}")
                if isinstance(waiting, Outcome):
                    return waiting
                if waiting is None and request.refuse_fresh is not None:
                    return Outcome.refused(request.refuse_fresh)
                if waiting is None:
                    waiting = self._decide(entity, request, economy, request_fingerprint)
                    if isinstance(waiting, Outcome):
                        return waiting
                    replayed = False
                else:
                    replayed = True
            return await self._await_durable(entity, idem, waiting, replayed)

    async def _remembered(
        self, entity: _Entity, idem: str | None, request_fingerprint: str
    ) -> _Inflight | Outcome | None:
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

    def _decide(
        self, entity: _Entity, request: CommandRequest, economy: Economy, request_fingerprint: str
    ) -> _Inflight | Outcome:
        """Decide against the entity's latest state (durable or pending) and queue the write.
        Returns the outcome directly when nothing needs to be written."""
        now = self.clock.now()
        state: PlayerState = entity.state
        decision = decide(state, request.command, Context(now=now, economy=economy, entity=entity.key))
        idem = request.idempotency_key
        if isinstance(decision, Rejection):
            outcome = Outcome.refused(decision)
        else:
            outcome = Outcome.accepted(decision.body, created=decision.created)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        recorded_at_ms = epoch_ms(now)
        if isinstance(decision, Accepted) and decision.events:
            seq = state.seq + 1
            occurred_at = rfc3339(now)
            slot = self.slots.slot(request.tenant, request.project, request.player_id)
            new_state = state_after(state, decision, seq, occurred_at)
            record = JournalRecord(
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
            entity.state = new_state
            write = PendingWrite(record, None, future, owner=entity)
            write.on_durable = lambda: self._on_durable(entity, new_state, record)
        elif idem is not None:
            write = PendingWrite(
                None,
                StoredOutcome(entity.key, idem, request_fingerprint, outcome.to_stored(), recorded_at_ms),
                future,
                owner=entity,
            )
        else:
            return outcome
        inflight = _Inflight(request_fingerprint, outcome, future)
        if write.record is not None and self.board_feed is not None and economy.leaderboards:
            change = record_change(
                economy, request.tenant, request.project, request.player_id, write.record, entity.state
            )
            if change is not None:  # answered once the record is durable and on the boards
                inflight.future = self.board_feed.follow(future, change)
        if write.record is not None:
            inflight.event_ids = [event_id(entity.key, write.record.seq, i) for i in range(len(write.record.events))]
        if idem is not None:
            entity.inflight[idem] = inflight
        self.committer.submit(write)
        return inflight

    async def _await_durable(self, entity: _Entity, idem: str | None, inflight: _Inflight, replayed: bool) -> Outcome:
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
        if replayed:
            return inflight.outcome.as_replay()
        return inflight.outcome.with_events(inflight.event_ids)

    def _on_durable(self, entity: _Entity, state: PlayerState, record: JournalRecord | None = None) -> None:
        entity.durable_state = state
        if self.publisher is not None and record is not None:
            self.publisher.publish(event_records([record]))
        if state.seq - entity.snapshot_seq >= self.snapshot_every:
            entity.snapshot_seq = state.seq
            self._spawn(self.store.save_snapshot(self._snapshot(entity.key, state)))

    def _snapshot(self, key: str, state: PlayerState) -> Snapshot:
        return Snapshot(key, state.seq, state_to_dict(state), epoch_ms(self.clock.now()))

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # ------------------------------------------------------------------------------ activation

    def _entity(self, key: str) -> _Entity:
        entity = self._entities.get(key)
        if entity is None or not entity.usable:
            entity = _Entity(key)
            self._entities[key] = entity
        entity.last_used = self.clock.monotonic()
        return entity

    async def _load_player(self, entity: _Entity, player_id: str) -> None:
        if not entity.loaded:
            self._activate(entity, player_id, await self._histories.call(entity.key))

    def _activate(self, entity: _Entity, player_id: str, history: History) -> None:
        snapshot = history.snapshot
        state = PlayerState(player_id=player_id) if snapshot is None else state_from_dict(snapshot.state)
        entity.snapshot_seq = state.seq
        for record in history.records:
            state = replay_record(state, record.seq, record.events, record.occurred_at, record.format_version)
        entity.state = entity.durable_state = state
        entity.loaded = True

    async def passivate_idle(self, *, force: bool = False, slots: set[int] | None = None) -> int:
        """Snapshot and drop entities idle for `idle_timeout_s` (all quiet ones when forced;
        `slots`: only entities of these slots)."""
        cutoff = self.clock.monotonic() - self.idle_timeout_s
        snapshots: list[Snapshot] = []
        passivated = 0
        for key, entity in list(self._entities.items()):
            if slots is not None and self.slots.slot_of_key(key) not in slots:
                continue
            quiet = not entity.lock.locked() and not entity.inflight and entity.state is entity.durable_state
            if not quiet or not (force or entity.last_used <= cutoff):
                continue
            entity.retired = True
            del self._entities[key]
            passivated += 1
            state = entity.durable_state
            if isinstance(state, PlayerState) and state.seq - entity.snapshot_seq >= self.snapshot_on_passivation_after:
                snapshots.append(self._snapshot(key, state))
        # One transaction per sweep, not one per entity: one at a time, passivation fell behind
        # activation with many distinct players (benchmarks/bench_scale.py).
        for start in range(0, len(snapshots), SNAPSHOTS_PER_WRITE):
            await self.store.save_snapshots(snapshots[start : start + SNAPSHOTS_PER_WRITE])
        return passivated

    async def _sweep_forever(self) -> None:
        interval = max(0.05, min(self.idle_timeout_s / 2, 30.0))
        while True:
            await asyncio.sleep(interval)
            await self.sweep_once()

    async def sweep_once(self) -> None:
        """One round of housekeeping; a failing step is logged and the others still run."""
        steps: list[tuple[str, Callable[[], Awaitable[Any]]]] = [("passivation", self.passivate_idle)]
        if self.shard_id == 0:  # one purger and repairer per deployment
            steps += [
                ("event retention", self.event_retention.run_if_due),
                ("idempotency retention", self.outcome_retention.run_if_due),
                ("economy health", self.economy_health.run_if_due),
                ("projection repair", self.store.repair),  # projections a failed write left unfinished
            ]
            if self.board_resets is not None:
                steps.append(("leaderboard resets", self.board_resets.run_if_due))
            if self.backups is not None:
                steps.append(("scheduled backup", self.backups.run_if_due))
        for name, step in steps:
            try:
                await step()
            except Exception:
                log.exception("shard %d: %s failed; retried on the next sweep", self.shard_id, name)

    def active_entities(self) -> int:
        return len(self._entities)

    # ------------------------------------------------------------------------------ slots

    async def release_slots(self, slots: list[int], timeout_s: float = 10.0) -> int:
        """First half of a handoff: hold the slots' new commands, let those inside finish
        (commits included), snapshot and drop their entities. Answers how many were passivated."""
        if not self._started:
            await self.start()
        released = await self.slots.release(slots, timeout_s)
        return await self.passivate_idle(force=True, slots=set(released))

    def adopt_slots(self, owned: dict[int, int], exact: bool = False) -> None:
        """Own these slots at these epochs (their entities activate on demand)."""
        self._drop_entities(self.slots.adopt(owned, exact=exact))

    def forget_slots(self, slots: list[int]) -> None:
        """Last half of a handoff (or a move away from a host presumed dead): held commands are
        answered `wrong-owner`, and entities left of those slots are dropped unsaved."""
        self._drop_entities(self.slots.forget(slots))

    def _drop_entities(self, slots: list[int]) -> None:
        if not slots:
            return
        gone = set(slots)
        for key in [k for k in self._entities if self.slots.slot_of_key(k) in gone]:
            self._entities.pop(key).retired = True

    def slot_state(self) -> dict[str, Any]:
        return self.slots.snapshot()

    # ------------------------------------------------------------------------------ projects

    async def _economy(self, tenant: str, project: str) -> Economy:
        economy = self._economies.get((tenant, project))
        if economy is None:
            generation = self._economy_generations.get((tenant, project), 0)
            state = await self._project_state(project_key(tenant, project))
            economy = economy_of(state)
            if economy is None:
                raise EconomyNotDefinedError(project)
            # An invalidation that arrived while we read may mean what we read is already old.
            if self._economy_generations.get((tenant, project), 0) == generation:
                self._economies[(tenant, project)] = economy
        return economy

    async def _project_state(self, key: str) -> ProjectState:
        return await current_project(self.store, key)

    async def define_economy(self, tenant: str, project: str, document: dict[str, Any]) -> Outcome:
        """Install a new version of a project's definitions (journaled on the project entity)."""
        if not self._started:
            await self.start()
        key = project_key(tenant, project)
        async with self._project_locks.setdefault(key, asyncio.Lock()):
            state = await self._project_state(key)
            event = define_economy(state, document)
            if isinstance(event, Rejection):
                return Outcome.refused(event)
            now = self.clock.now()
            record = JournalRecord(key, state.seq + 1, [event], rfc3339(now), epoch_ms(now))
            result = await self.store.commit([record], [])
            if result.conflicts:
                return unavailable_outcome("another host changed this project's definitions")
            self.invalidate_economy(tenant, project)
        return Outcome.accepted({"version": event["data"]["version"]}, created=True)

    async def economy_version(self, tenant: str, project: str) -> int:
        return (await self._project_state(project_key(tenant, project))).version

    def invalidate_economy(self, tenant: str, project: str) -> None:
        self._economies.pop((tenant, project), None)
        self._economy_generations[(tenant, project)] = self._economy_generations.get((tenant, project), 0) + 1

    # ------------------------------------------------------------------------------ privacy

    async def erase(self, tenant: str, project: str, player_id: str, request_id: str | None = None) -> Outcome:
        """Delete the player (a journaled `player.deleted`, if it is not deleted yet), then have the
        store rewrite its personal data (`Store.erase_player`) while its lock is held, and drop it
        from memory so the next use reloads what was rewritten. Idempotent; docs/PRIVACY.md."""
        if not self._started:
            await self.start()
        deleted = await self._execute_one(CommandRequest(tenant, project, player_id, DeletePlayer(), None, request_id))
        if deleted.refusal is not None and deleted.refusal.slug != PlayerNotFoundError.slug:
            return deleted  # unavailable, or the project is gone: nothing was rewritten
        key = player_key(tenant, project, player_id)
        while True:
            entity = self._entity(key)
            async with entity.lock:
                if not entity.usable:
                    continue
                try:
                    await self._load_player(entity, player_id)
                except Exception as error:  # a store read failed: retryable, nothing rewritten
                    return unavailable_outcome(f"store read failed: {error}")
                state: PlayerState = entity.durable_state
                if not state.exists:
                    return Outcome.refused(PlayerNotFoundError(player_id))
                # Snapshots being written in the background hold the state from before: let them land first.
                await asyncio.gather(*self._background, return_exceptions=True)
                # A snapshot at the last seq first: a passivation that snapshotted the old state just
                # before cannot land after the rewrite (snapshots never move back), only before it.
                erased = state_from_dict(scrub_state(state_to_dict(state)))
                await self.store.save_snapshots([self._snapshot(key, erased)])
                changed = await self.store.erase_player(key)
                entity.retired = True
                if self._entities.get(key) is entity:
                    del self._entities[key]
                return Outcome.accepted({"playerId": player_id, "seq": state.seq, "rewritten": changed})

    # ------------------------------------------------------------------------------ queries

    async def view(self, tenant: str, project: str, player_id: str, name: str) -> Outcome:
        """A read model of the player's durable state: `profile`, `progression`, `wallet`,
        `inventory`, `counters`, `quests` or `achievements`."""
        if not self._started:
            await self.start()
        slot = self.slots.slot(tenant, project, player_id)
        if not await self.slots.enter(slot):
            return wrong_owner_outcome(slot)
        try:
            return await self._view(tenant, project, player_id, name)
        finally:
            self.slots.leave(slot)

    async def _view(self, tenant: str, project: str, player_id: str, name: str) -> Outcome:
        key = player_key(tenant, project, player_id)
        while True:
            entity = self._entity(key)
            async with entity.lock:
                if not entity.usable:
                    continue
                try:
                    await self._load_player(entity, player_id)
                    economy = await self._economy(tenant, project)
                except Rejection as rejection:
                    return Outcome.refused(rejection)
                state: PlayerState = entity.durable_state
                break
        if not state.is_active:
            return Outcome.refused(PlayerNotFoundError(player_id))
        return Outcome.accepted(_VIEWS[name](state, economy))

    async def economy_document(self, tenant: str, project: str) -> dict[str, Any] | None:
        """The project's current definitions in document form (for catalogs), or None."""
        try:
            economy = await self._economy(tenant, project)
        except Rejection:
            return None
        return economy_to_document(economy)

    async def ledger(
        self, tenant: str, project: str, player_id: str, *, currency: str | None, after: tuple[int, int], limit: int
    ) -> list[dict[str, Any]]:
        """Wallet entries oldest first, strictly after position `after` = (seq, index).
        Read from the journal, so it always agrees with the balance."""
        key = player_key(tenant, project, player_id)
        entries: list[dict[str, Any]] = []
        next_seq = max(after[0] - 1, 0)  # re-read `after`'s own record: later events in it count
        while records := await self.store.read_journal(key, after_seq=next_seq, limit=200):
            for record in records:
                for index, event in enumerate(record.current_events()):
                    if (record.seq, index) <= after or event["type"] not in LEDGER_TYPES:
                        continue
                    if currency is not None and event["data"]["currency"] != currency:
                        continue
                    entries.append(ledger_entry(key, record, index, event))
                    if len(entries) == limit:
                        return entries
            next_seq = records[-1].seq
        return entries

    async def receipt(self, tenant: str, project: str, player_id: str, purchase: str) -> dict[str, Any] | None:
        key = player_key(tenant, project, player_id)
        seq = purchase_seq(key, purchase)
        if seq is None:
            return None
        records = await self.store.read_journal(key, after_seq=seq - 1, limit=1)
        for record in records:
            for event in record.current_events():
                if event["type"] == PurchaseSucceeded.type:
                    succeeded = event_from_dict(event)
                    assert isinstance(succeeded, PurchaseSucceeded)
                    return receipt_view(succeeded, record.occurred_at)
        return None


LEDGER_TYPES = ("wallet.credited", "wallet.debited")


def ledger_entry(key: str, record: JournalRecord, index: int, event: dict[str, Any]) -> dict[str, Any]:
    """One wallet event as a ledger line: the ledger route and the player export show the same one."""
    data = event["data"]
    sign = 1 if event["type"] == "wallet.credited" else -1
    return {
        "entryId": event_id(key, record.seq, index),
        "currency": data["currency"],
        "delta": sign * data["amount"],
        "balanceAfter": data["balanceAfter"],
        "reason": data.get("reason", ""),
        "metadata": data.get("metadata", {}),
        "idempotencyKey": record.idempotency_key,
        "occurredAt": record.occurred_at,
        "position": [record.seq, index],
    }


_VIEWS: dict[str, Any] = {
    "profile": views.profile_view,
    "player": lambda state, economy: views.player_view(state),
    "progression": views.progression_view,
    "wallet": lambda state, economy: {"balances": dict(state.balances)},
    "inventory": lambda state, economy: {"items": views.inventory_view(state)},
    "counters": lambda state, economy: {"counters": dict(state.counters)},
    "quests": views.quests_view,
    "achievements": lambda state, economy: {"items": views.achievements_view(state)},
    "flags": views.flags_view,
}
