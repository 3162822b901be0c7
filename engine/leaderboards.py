"""Leaderboards: which journal events feed which board, how a score combines with the one a
player already has, and which period a moment falls in. Pure: the shard host, the rebuild tool
and the tests all derive board entries from journal records through `record_changes`, so a
board rebuilt from the event store ranks exactly like the live one.

Definitions: `{id, title, metric, operator, order, reset}`.
- `metric`: `xp`, `level`, `counter:<counterId>`, `currency-earned:<currency>` or `submitted`.
- `operator`: `incr` adds what the record gained (XP awarded, levels gained, counter increments,
  currency credited, the submitted score); `best` keeps the best value seen (for derived metrics
  the player's total after the record: XP, level, counter value, lifetime earned); `set` keeps the
  last one. Defaults: `best` for `level` and `submitted`, `incr` for the others.
- `order`: `desc` (higher is better, the default) or `asc` (lower is better, e.g. lap times).
- `reset`: `never`, `daily`, `weekly` (ISO weeks, Monday 00:00 UTC) or `monthly` (the 1st,
  00:00 UTC). A period's id: `all`, `2026-11-30`, `2026-W49`, `2026-11`.

Ranks are 1-based; equal scores rank by who reached the score first (the record's time in
milliseconds), then by player id, so every store orders ties the same way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from engine.limits import MAX_SAFE_INTEGER

Operator = Literal["best", "set", "incr"]
Order = Literal["desc", "asc"]
Reset = Literal["never", "daily", "weekly", "monthly"]

OPERATORS: tuple[Operator, ...] = ("best", "set", "incr")
ORDERS: tuple[Order, ...] = ("desc", "asc")
RESETS: tuple[Reset, ...] = ("never", "daily", "weekly", "monthly")
MAX_LEADERBOARDS = 32
"""Each record fans out to every board its events feed: the bound keeps a command's cost flat."""
MAX_SCORE = MAX_SAFE_INTEGER
"""Scores are integers in ±(2**53 - 1): every one is exactly a double (Redis sorted-set scores)
and a JavaScript number."""
ALL_TIME = "all"
MAX_AROUND = 50
RESET_WINNERS = 3
"""How many of an ended period's top players its `leaderboard.reset` event names."""

XP_ADDED = "player.xp.added"
LEVEL_UPDATED = "player.level.updated"
COUNTER_INCREMENTED = "counter.incremented"
COUNTER_RESET = "counter.reset"
WALLET_CREDITED = "wallet.credited"
WALLET_CLAWED_BACK = "wallet.clawedback"
SCORE_SUBMITTED = "leaderboard.score.submitted"
PLAYER_UPDATED = "player.updated"
PLAYER_CREATED = "player.created"
PLAYER_DELETED = "player.deleted"


@dataclass(frozen=True)
class Leaderboard:
    id: str
    title: str
    metric: str
    operator: Operator
    order: Order = "desc"
    reset: Reset = "never"

    @property
    def submitted(self) -> bool:
        return self.metric == "submitted"

    def better(self, a: int, b: int) -> bool:
        """Is score `a` strictly better than `b` on this board."""
        return a > b if self.order == "desc" else a < b

    def sort_key(self, score: int) -> int:
        """Ascending sort key: best first in every store (desc boards store the negated score)."""
        return -score if self.order == "desc" else score

    def to_document(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "metric": self.metric,
            "operator": self.operator,
            "order": self.order,
            "reset": self.reset,
        }


def default_operator(metric: str) -> Operator:
    return "best" if metric in ("level", "submitted") else "incr"


# ------------------------------------------------------------------------------------ parsing


def parse_leaderboards(
    value: object, counter_ids: set[str], currency_ids: set[str], report: Any
) -> dict[str, Leaderboard]:
    """Well-formed boards by id; `report(path, message)` hears every problem (definitions.py
    collects them so one run reports the whole file)."""
    boards: dict[str, Leaderboard] = {}
    if not isinstance(value, list | tuple):
        report("leaderboards", "must be a list")
        return boards
    if len(value) > MAX_LEADERBOARDS:
        report("leaderboards", f"must have at most {MAX_LEADERBOARDS} entries")
        return boards
    allowed = ("id", "title", "metric", "operator", "order", "reset")
    for index, entry in enumerate(value):
        path = f"leaderboards[{index}]"
        if not isinstance(entry, Mapping):
            report(path, "must be a mapping")
            continue
        problems_before = _Counter(report)
        for key in entry:
            if key not in allowed:
                problems_before(f"{path}.{key}", "unknown field")
        for key in ("id", "metric"):
            if key not in entry:
                problems_before(f"{path}.{key}", "required")
        board_id = entry.get("id")
        if "id" in entry and (not isinstance(board_id, str) or not _ID.fullmatch(board_id)):
            problems_before(f"{path}.id", "must be 1 to 64 letters, digits, '-', '_' or '.'")
        elif isinstance(board_id, str) and board_id in boards:
            problems_before(f"{path}.id", f"duplicate id {board_id!r}")
        metric = entry.get("metric")
        if "metric" in entry and not _metric_ok(metric, counter_ids, currency_ids):
            problems_before(f"{path}.metric", f"unknown metric {metric!r}")
        title = entry.get("title", board_id)
        if not isinstance(title, str):
            problems_before(f"{path}.title", "must be a string")
        operator = entry.get("operator", default_operator(metric) if isinstance(metric, str) else "best")
        if operator not in OPERATORS:
            problems_before(f"{path}.operator", "must be 'best', 'set' or 'incr'")
        order = entry.get("order", "desc")
        if order not in ORDERS:
            problems_before(f"{path}.order", "must be 'desc' or 'asc'")
        reset = entry.get("reset", "never")
        if reset not in RESETS:
            problems_before(f"{path}.reset", "must be 'never', 'daily', 'weekly' or 'monthly'")
        if problems_before.count == 0:
            boards[str(board_id)] = Leaderboard(str(board_id), str(title), str(metric), operator, order, reset)
    return boards


_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


class _Counter:
    def __init__(self, report: Any) -> None:
        self.report = report
        self.count = 0

    def __call__(self, path: str, message: str) -> None:
        self.count += 1
        self.report(path, message)


def _metric_ok(metric: object, counter_ids: set[str], currency_ids: set[str]) -> bool:
    if metric in ("xp", "level", "submitted"):
        return True
    if not isinstance(metric, str):
        return False
    kind, _, name = metric.partition(":")
    if kind == "counter":
        return name in counter_ids
    if kind == "currency-earned":
        return name in currency_ids
    return False


# ------------------------------------------------------------------------------------ periods


@dataclass(frozen=True)
class Period:
    id: str
    starts_at: datetime | None  # None: the all-time period of a board that never resets
    ends_at: datetime | None

    def to_document(self) -> dict[str, Any]:
        return {"id": self.id, "startsAt": _iso(self.starts_at), "endsAt": _iso(self.ends_at)}


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def period_at(reset: Reset, moment: datetime) -> Period:
    """The period `moment` falls in: boundaries are UTC midnights, starts inclusive, ends exclusive."""
    day = moment.astimezone(UTC).date()
    if reset == "never":
        return Period(ALL_TIME, None, None)
    if reset == "daily":
        return Period(day.isoformat(), _midnight(day), _midnight(day + timedelta(days=1)))
    if reset == "weekly":
        monday = day - timedelta(days=day.weekday())
        year, week, _ = monday.isocalendar()
        return Period(f"{year}-W{week:02d}", _midnight(monday), _midnight(monday + timedelta(days=7)))
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return Period(f"{first.year}-{first.month:02d}", _midnight(first), _midnight(following))


def previous_period(reset: Reset, moment: datetime) -> Period | None:
    """The period before the one `moment` is in (None for a board that never resets)."""
    current = period_at(reset, moment)
    if current.starts_at is None:
        return None
    return period_at(reset, current.starts_at - timedelta(microseconds=1))


_PERIOD_FORMATS: dict[Reset, re.Pattern[str]] = {
    "daily": re.compile(r"(\d{4})-(\d{2})-(\d{2})"),
    "weekly": re.compile(r"(\d{4})-W(\d{2})"),
    "monthly": re.compile(r"(\d{4})-(\d{2})"),
}


def period_by_id(reset: Reset, period_id: str) -> Period | None:
    """The period with this id on a board with this reset, or None if it names no such period."""
    if reset == "never":
        return Period(ALL_TIME, None, None) if period_id == ALL_TIME else None
    match = _PERIOD_FORMATS[reset].fullmatch(period_id)
    if match is None:
        return None
    numbers = [int(part) for part in match.groups()]
    try:
        if reset == "daily":
            start = date(numbers[0], numbers[1], numbers[2])
        elif reset == "weekly":
            start = date.fromisocalendar(numbers[0], numbers[1], 1)
        else:
            start = date(numbers[0], numbers[1], 1)
    except ValueError:
        return None
    period = period_at(reset, _midnight(start))
    return period if period.id == period_id else None


def resolve_period(board: Leaderboard, requested: str, now: datetime) -> Period | None:
    """`current`, `previous` or a period id (None: no such period on this board)."""
    if requested == "current":
        return period_at(board.reset, now)
    if requested == "previous":
        return previous_period(board.reset, now)
    return period_by_id(board.reset, requested)


# ------------------------------------------------------------------------------------ scores


def combine(board: Leaderboard, current: int | None, value: int) -> int:
    """The player's new score on `board` after observing `value` (a gain for `incr`, a total or
    a submitted score otherwise)."""
    if current is None:
        return value
    if board.operator == "incr":
        return max(-MAX_SCORE, min(MAX_SCORE, current + value))
    if board.operator == "set":
        return value
    return value if board.better(value, current) else current


@dataclass(frozen=True)
class Entry:
    """A player's standing on one board in one period."""

    score: int
    reached_ms: int  # when the player reached this score: earlier ranks first among equals
    seq: int  # the player's last journal record applied: a record is never applied twice


def apply_observation(board: Leaderboard, entry: Entry | None, value: int, at_ms: int, seq: int) -> Entry | None:
    """The entry after one record's observation, or None when the record was applied before."""
    if entry is not None and seq <= entry.seq:
        return None
    score = combine(board, None if entry is None else entry.score, value)
    reached = at_ms if entry is None or score != entry.score else entry.reached_ms
    return Entry(score, reached, seq)


def rank_key(board: Leaderboard, entry: Entry, player_id: str) -> tuple[int, int, str]:
    """Smaller is better: the order every store sorts a board in."""
    return (board.sort_key(entry.score), entry.reached_ms, player_id)


# ------------------------------------------------------------------------------------ changes


@dataclass(frozen=True)
class Observation:
    board: Leaderboard
    period_id: str
    value: int


@dataclass(frozen=True)
class BoardChange:
    """What one durable journal record does to a project's boards."""

    tenant: str
    project: str
    player_id: str
    seq: int
    at_ms: int
    username: str | None  # a (new) name to show for the player, if the record set one
    observations: tuple[Observation, ...] = ()
    removed: bool = False  # the player was deleted: off every board of the project


def epoch_ms(occurred_at: str) -> int:
    """Milliseconds of an RFC 3339 `occurred_at`, the same on the live path and on rebuild."""
    moment = datetime.fromisoformat(occurred_at.replace("Z", "+00:00"))
    return int(moment.timestamp() * 1000)


def _gains(board: Leaderboard, events: Sequence[Mapping[str, Any]]) -> int | None:
    """What the record's events add to this board's metric, or None if none of them feeds it."""
    kind, _, name = board.metric.partition(":")
    total: int | None = None
    for event in events:
        event_type, data = event["type"], event["data"]
        gained: int | None = None
        if kind == "xp" and event_type == XP_ADDED:
            gained = data["amount"]
        elif kind == "level" and event_type == LEVEL_UPDATED:
            gained = data["level"] - data["previousLevel"]
        elif kind == "counter" and event_type == COUNTER_INCREMENTED and data["counterId"] == name:
            gained = data["by"]
        elif kind == "counter" and event_type == COUNTER_RESET and data["counterId"] == name:
            gained = 0
        elif kind == "currency-earned" and event_type == WALLET_CREDITED and data["currency"] == name:
            gained = data["amount"]
        elif kind == "currency-earned" and event_type == WALLET_CLAWED_BACK and data["currency"] == name:
            gained = -data["amount"]  # a remediation's clawback: the earning it undoes leaves the board
        if gained is not None:
            total = gained if total is None else total + gained
    return total


def _total(board: Leaderboard, totals: Mapping[str, Any]) -> int:
    """The player's total for a derived metric after the record (what `best`/`set` keep)."""
    kind, _, name = board.metric.partition(":")
    if kind == "xp":
        return int(totals.get("xp", 0))
    if kind == "level":
        return int(totals.get("level", 1))
    if kind == "counter":
        return int(totals.get("counters", {}).get(name, 0))
    return int(totals.get("earned", {}).get(name, 0))


def record_changes(
    boards: Mapping[str, Leaderboard],
    tenant: str,
    project: str,
    player_id: str,
    seq: int,
    events: Sequence[Mapping[str, Any]],
    occurred_at: str,
    totals: Mapping[str, Any],
) -> BoardChange | None:
    """The board change of one journal record (events in their stored `{type, data}` form;
    `totals`: the player's `xp`, `level`, `counters` and `earned` after it), or None."""
    if not boards:
        return None
    at = datetime.fromisoformat(occurred_at.replace("Z", "+00:00"))
    username: str | None = None
    removed = False
    observations: list[Observation] = []
    for event in events:
        if event["type"] in (PLAYER_CREATED, PLAYER_UPDATED):
            username = event["data"]["username"]
        elif event["type"] == PLAYER_DELETED:
            removed = True
    for board in boards.values():
        if board.submitted:
            for event in events:
                if event["type"] == SCORE_SUBMITTED and event["data"]["boardId"] == board.id:
                    period = period_at(board.reset, at).id
                    observations.append(Observation(board, period, int(event["data"]["score"])))
            continue
        gained = _gains(board, events)
        if gained is None:
            continue
        if board.operator == "incr" and gained == 0:
            continue
        value = gained if board.operator == "incr" else _total(board, totals)
        observations.append(Observation(board, period_at(board.reset, at).id, value))
    if not observations and username is None and not removed:
        return None
    return BoardChange(
        tenant, project, player_id, seq, epoch_ms(occurred_at), username, tuple(observations), removed=removed
    )
