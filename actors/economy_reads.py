"""A project's economy read from its journal without reading every version.

Each project record (`project.economy.defined`) carries its whole document, and version `n` is
record `n` of the project entity. So the current economy is the last record alone (one index
seek), and the version in force at a time is found by a binary search on seq: O(log versions)
one-record reads, never the quadratic re-read of up to 512 KiB per version."""

from __future__ import annotations

from actors.stores.base import JournalRecord, JournalStore
from engine.identity import project_key
from engine.project import ProjectState, replay_project
from engine.replay import EconomyVersion

LAST_SEQ = 2**63 - 1  # after (entity, LAST_SEQ): the next entity's first record


def _state_of(record: JournalRecord | None) -> ProjectState:
    if record is None:
        return ProjectState()
    return replay_project(ProjectState(), record.seq, record.events, record.format_version)


def _version_of(record: JournalRecord) -> EconomyVersion:
    state = _state_of(record)
    return EconomyVersion(state.version, record.occurred_at, state.document)


async def current_project(store: JournalStore, key: str) -> ProjectState:
    """The project entity's state: its last record's."""
    return _state_of(await store.read_last(key))


async def latest_version(store: JournalStore, tenant: str, project: str) -> EconomyVersion | None:
    last = await store.read_last(project_key(tenant, project))
    return None if last is None else _version_of(last)


async def version_at(store: JournalStore, tenant: str, project: str, occurred_at: str) -> EconomyVersion | None:
    """The version installed last at or before `occurred_at` (else the first one: a command
    decided in the millisecond its economy was installed may carry an earlier time), or None for
    a project without an economy."""
    key = project_key(tenant, project)
    last = await store.read_last(key)
    if last is None:
        return None
    low, high, found = 1, last.seq, None
    while low <= high:  # the last record with occurred_at <= the time, one record read per step
        middle = (low + high) // 2
        record = last if middle == last.seq else (await store.read_journal(key, after_seq=middle - 1, limit=1))[0]
        if record.occurred_at <= occurred_at:
            found, low = record, middle + 1
        else:
            high = middle - 1
    if found is None:
        found = (await store.read_journal(key, limit=1))[0]
    return _version_of(found)


async def projects_in(store: JournalStore) -> list[tuple[str, str]]:
    """Every project that has an economy journal: one record read per project, whatever the
    number of versions each holds."""
    found: list[tuple[str, str]] = []
    after: tuple[str, int] | None = None
    while records := await store.scan_journal("project:", since=None, until=None, after=after, limit=1):
        tenant, _, project = records[0].entity.removeprefix("project:").partition("/")
        found.append((tenant, project))
        after = (records[0].entity, LAST_SEQ)
    return found
