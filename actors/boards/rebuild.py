"""Boards rebuilt from the journal (`ludex leaderboards rebuild`): every player record of a
project folded again, in journal order, through the same `record_changes` the shard hosts use,
so the rebuilt board ranks exactly as the live one did. Boards follow the project's *current*
definitions: a board added later is filled with the whole history."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from actors.boards.feed import record_change
from actors.boards.store import BoardStore
from actors.economy_reads import current_project
from actors.stores.base import JournalStore
from engine.definitions import Economy
from engine.identity import project_key
from engine.leaderboards import BoardChange
from engine.project import economy_of
from engine.rules import replay_record
from engine.state import PlayerState

PAGE = 1_000


@dataclass(frozen=True)
class Rebuilt:
    tenant: str
    project: str
    records: int
    changes: int


async def economy_in(store: JournalStore, tenant: str, project: str) -> Economy | None:
    return economy_of(await current_project(store, project_key(tenant, project)))


async def rebuild_project(
    store: JournalStore, boards: BoardStore, tenant: str, project: str, *, say: Callable[[str], None] = lambda _: None
) -> Rebuilt:
    economy = await economy_in(store, tenant, project)
    await boards.clear(tenant, project)
    if economy is None or not economy.leaderboards:
        return Rebuilt(tenant, project, 0, 0)
    prefix = f"player:{tenant}/{project}/"
    after: tuple[str, int] | None = None
    entity, state = "", PlayerState(player_id="")
    records_seen = changes_applied = 0
    while records := await store.scan_journal(prefix, since=None, until=None, after=after, limit=PAGE):
        batch: list[BoardChange] = []
        for record in records:
            if record.entity != entity:
                entity, state = record.entity, PlayerState(player_id=record.entity.removeprefix(prefix))
            state = replay_record(state, record.seq, record.events, record.occurred_at, record.format_version)
            change = record_change(economy, tenant, project, state.player_id, record, state)
            if change is not None:
                batch.append(change)
        await boards.apply(batch)
        records_seen += len(records)
        changes_applied += len(batch)
        after = (records[-1].entity, records[-1].seq)
        say(f"{tenant}/{project}: {records_seen} records read, {changes_applied} board changes")
    return Rebuilt(tenant, project, records_seen, changes_applied)
