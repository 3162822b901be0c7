"""Remediation, the stored part: select a project's journal records, preview the compensating
entries on the players' current holdings, and apply them as `Remediate` commands through the
hosts' normal pipeline (journaled, idempotent, events published), keeping progress in a
`remediation` document so a crashed run resumes where it stopped.

Why it is safe to run twice: each player's command carries an idempotency key derived from the
remediation, the player and the records it undoes (`engine.remediation.idempotency_key`), and
names those records, so a later selection skips them (`compensated`) even after the key's
retention has passed."""

from __future__ import annotations

import secrets
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from actors.host import CommandRequest
from actors.stores.base import DocumentStore, JournalRecord, JournalStore, SnapshotStore
from engine.commands import Remediate
from engine.outcomes import Outcome
from engine.remediation import (
    Action,
    Plan,
    Selection,
    Source,
    compensated,
    idempotency_key,
    plan_for,
    preview,
    selects,
    totals,
)
from engine.rules import replay_record
from engine.state import PlayerState, state_from_dict

KIND = "remediation"
PAGE = 500
BATCH = 50  # players per directory call, and per progress write
LEASE_S = 60.0  # a running remediation whose lease is this old has lost its runner: resume it
MAX_PLAYERS = 5_000  # a selection wider than this is refused: narrow the window or the filters


class RemediationStore(JournalStore, SnapshotStore, DocumentStore, Protocol):
    """The store roles remediation reads and writes."""


Execute = Callable[[list[CommandRequest]], Awaitable[list[Outcome]]]


class TooManyPlayersError(Exception):
    """The selection reaches more players than one remediation may."""


@dataclass(frozen=True)
class Preview:
    plans: list[Plan]
    entries: list[dict[str, Any]]

    @property
    def totals(self) -> dict[str, Any]:
        return totals(self.entries)


def _source(record: JournalRecord) -> Source:
    player_id = record.entity.split("/", 2)[2]
    return Source(
        player_id,
        record.seq,
        record.occurred_at,
        record.idempotency_key,
        record.request_id,
        record.command,
        record.current_events(),
    )


async def select(
    store: RemediationStore, tenant: str, project: str, selection: Selection, action: Action
) -> list[Plan]:
    """One plan per player with selected records not yet compensated, in player order. The
    scan runs past `until`: a later remediation's records say what is already undone."""
    prefix = f"player:{tenant}/{project}/"
    picked: dict[str, list[Source]] = defaultdict(list)
    done: dict[str, set[int]] = defaultdict(set)
    after: tuple[str, int] | None = None
    while records := await store.scan_journal(prefix, since=selection.since, until=None, after=after, limit=PAGE):
        after = (records[-1].entity, records[-1].seq)
        for record in records:
            source = _source(record)
            done[source.player_id] |= compensated([source])
            if selects(selection, source):
                picked[source.player_id].append(source)
                if len(picked) > MAX_PLAYERS:
                    raise TooManyPlayersError
    plans = []
    for player_id in sorted(picked):
        fresh = [s for s in picked[player_id] if s.seq not in done[player_id]]
        plan = plan_for(player_id, fresh, action)
        if not plan.empty:
            plans.append(plan)
    return plans


async def holdings(store: RemediationStore, tenant: str, project: str, player_ids: Sequence[str]) -> list[PlayerState]:
    """The players' states as the journal has them now (snapshot plus tail)."""
    entities = [f"player:{tenant}/{project}/{player_id}" for player_id in player_ids]
    states = []
    for player_id, history in zip(player_ids, await store.load_histories(entities), strict=True):
        state = PlayerState(player_id) if history.snapshot is None else state_from_dict(history.snapshot.state)
        for record in history.records:
            state = replay_record(state, record.seq, record.events, record.occurred_at, record.format_version)
        states.append(state)
    return states


async def dry_run(store: RemediationStore, tenant: str, project: str, selection: Selection, action: Action) -> Preview:
    plans = await select(store, tenant, project, selection, action)
    entries: list[dict[str, Any]] = []
    for start in range(0, len(plans), BATCH):
        chunk = plans[start : start + BATCH]
        for plan, state in zip(
            chunk, await holdings(store, tenant, project, [p.player_id for p in chunk]), strict=True
        ):
            entries.extend(preview(plan, state.balances, state.debts, state.inventory))
    return Preview(plans, entries)


def doc_id(tenant: str, project: str, remediation_id: str) -> str:
    return f"{tenant}/{project}/{remediation_id}"


def new_id() -> str:
    return f"rem_{secrets.token_hex(8)}"


def new_document(
    tenant: str, project: str, remediation_id: str, select: dict[str, Any], action: Action, found: Preview, now: str
) -> dict[str, Any]:
    return {
        "id": remediation_id,
        "tenantId": tenant,
        "projectId": project,
        "action": action,
        "select": select,
        "status": "running",
        "plans": [plan.to_dict() for plan in found.plans],
        "progress": {"done": 0, "total": len(found.plans), "failed": 0},
        "totals": found.totals,
        "failures": [],
        "createdAt": now,
        "leaseUntil": time.time() + LEASE_S,
    }


async def claim(store: RemediationStore, key: str, *, stale_only: bool) -> dict[str, Any] | None:
    """Take the run's lease (compare-and-set): None when it is finished, or leased by a live runner."""
    document, version = await store.get_versioned(KIND, key)
    if document is None or document["status"] != "running":
        return None
    if stale_only and document["leaseUntil"] > time.time():
        return None
    document = {**document, "leaseUntil": time.time() + LEASE_S}
    return document if await store.put_if_version(KIND, key, document, version) else None


async def run(store: RemediationStore, execute: Execute, document: dict[str, Any], request_id: str | None) -> None:
    """Apply the plans from `progress.done` on, a batch at a time, writing progress after each:
    a crash loses at most one batch's progress, and resending it replays those players' answers."""
    tenant, project, remediation_id = document["tenantId"], document["projectId"], document["id"]
    key = doc_id(tenant, project, remediation_id)
    plans = [Plan.from_dict(p) for p in document["plans"]]
    progress, failures = dict(document["progress"]), list(document["failures"])
    while progress["done"] < len(plans):
        chunk = plans[progress["done"] : progress["done"] + BATCH]
        requests = [
            CommandRequest(
                tenant,
                project,
                plan.player_id,
                Remediate(remediation_id, plan.currencies, plan.items, plan.achievements, plan.sources),
                idempotency_key(remediation_id, plan.player_id, plan.sources),
                request_id,
            )
            for plan in chunk
        ]
        for plan, outcome in zip(chunk, await execute(requests), strict=True):
            if not outcome.ok:
                failures.append({"playerId": plan.player_id, "problem": outcome.slug})
        progress = {**progress, "done": progress["done"] + len(chunk), "failed": len(failures)}
        document = {**document, "progress": progress, "failures": failures[:100], "leaseUntil": time.time() + LEASE_S}
        if progress["done"] >= len(plans):
            document["status"] = "failed" if failures else "succeeded"
        await store.put_document(KIND, key, document)


def public(document: dict[str, Any]) -> dict[str, Any]:
    """The API's Remediation."""
    return {
        "remediationId": document["id"],
        "action": document["action"],
        "select": document["select"],
        "status": document["status"],
        "progress": document["progress"],
        "totals": document["totals"],
        "failures": document["failures"],
        "createdAt": document["createdAt"],
    }
