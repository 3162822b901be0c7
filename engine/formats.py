"""Journal formats: the shape a journal record, and the events in it, was written in.

The journal is kept forever and replayed on every activation, so every format this code ever
wrote must still fold. A record states its format (`v`; a record without one is format 1, what
Ludex 0.1.0 wrote) and its events share it. Reading a record upcasts its events, one format at a
time, to the current shape before the rules see them; a record of a format newer than this code
is refused rather than guessed at (a rollback must not misread what a newer release wrote).

Formats:
1. Ludex 0.1.0: events `{type, data}` with camelCase data; the record keeps the idempotency key,
   request fingerprint and answer.
2. The record also keeps the command that made it (`command`, as `command_to_dict` gives it) and
   the request id, for audit replays. Events are unchanged, so the upcast from 1 is the identity.

A change to an event's data adds a format here, with the function that lifts the previous one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

RECORD_FORMAT = 2  # what this code writes
FIRST_FORMAT = 1  # records without a format field

Events = list[dict[str, Any]]


def _events_unchanged(events: Events) -> Events:
    return events


# Format n's events -> format n+1's: one function per format this code has ever written.
UPCASTS: dict[int, Callable[[Events], Events]] = {
    1: _events_unchanged,  # format 2 added record fields (command, request id), not event fields
}


class FormatTooNewError(ValueError):
    """A record written by a newer Ludex: replaying it with this code could misstate state."""

    def __init__(self, found: int) -> None:
        super().__init__(
            f"journal record format {found} is newer than this Ludex knows (up to {RECORD_FORMAT}):"
            " run the release that wrote it"
        )
        self.found = found


def record_format(value: Any) -> int:
    """A stored format field as a number: absent (None) is format 1."""
    return FIRST_FORMAT if value is None else int(value)


def check_format(version: int) -> None:
    if version > RECORD_FORMAT:
        raise FormatTooNewError(version)
    if version < FIRST_FORMAT:
        raise ValueError(f"journal record format {version} does not exist")


def upcast_events(version: int, events: Events) -> Events:
    """`events` of a record of format `version`, in the current format."""
    check_format(version)
    for step in range(version, RECORD_FORMAT):
        events = UPCASTS[step](events)
    return events
