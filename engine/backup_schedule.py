"""When the next scheduled backup is due, what the backups are called, and which old ones go.

A schedule is `daily@HH:MM` (UTC) or an interval (`6h`, `30m`). The first backup is due at once
(a deployment without one has nothing to restore); after a success the next is due at the
schedule's next time; after a failure, `RETRY_AFTER` later, so a full disk or a locked file is
tried again soon without a tight loop. Backups are named by the instant they were taken, so the
names sort by age and a restarted host knows when the last one ran from the folder alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

RETRY_AFTER = timedelta(minutes=10)
NAME_PREFIX = "ludex-"
NAME_SUFFIX = ".tar.gz"
_STAMP = "%Y%m%dT%H%M%SZ"
_NAME = re.compile(rf"{NAME_PREFIX}(\d{{8}}T\d{{6}}Z){re.escape(NAME_SUFFIX)}")
_DAILY = re.compile(r"daily@(\d{2}):(\d{2})")
_INTERVAL = re.compile(r"(\d+)([mh])")


class ScheduleError(ValueError):
    """The schedule text is neither `daily@HH:MM` nor an interval."""


@dataclass(frozen=True)
class Daily:
    at: time  # UTC


@dataclass(frozen=True)
class Every:
    interval: timedelta


Schedule = Daily | Every


def parse_schedule(text: str) -> Schedule:
    if daily := _DAILY.fullmatch(text):
        hour, minute = int(daily[1]), int(daily[2])
        if hour < 24 and minute < 60:
            return Daily(time(hour, minute))
    elif (every := _INTERVAL.fullmatch(text)) and int(every[1]) > 0:
        unit = timedelta(hours=1) if every[2] == "h" else timedelta(minutes=1)
        return Every(int(every[1]) * unit)
    raise ScheduleError(f"a backup schedule is `daily@HH:MM` (UTC) or an interval like `6h` or `30m`, not {text!r}")


def next_due(schedule: Schedule, last_success: datetime | None, last_failure: datetime | None = None) -> datetime:
    """The instant the next backup is due. None for `last_success`: never backed up, due at once
    (`datetime.min`); a failure after the last success: `RETRY_AFTER` after that failure."""
    if last_failure is not None and (last_success is None or last_failure > last_success):
        return last_failure + RETRY_AFTER
    if last_success is None:
        return datetime.min.replace(tzinfo=UTC)
    if isinstance(schedule, Every):
        return last_success + schedule.interval
    slot = datetime.combine(last_success.astimezone(UTC).date(), schedule.at, tzinfo=UTC)
    return slot if slot > last_success else slot + timedelta(days=1)


def backup_name(moment: datetime) -> str:
    return f"{NAME_PREFIX}{moment.astimezone(UTC).strftime(_STAMP)}{NAME_SUFFIX}"


def taken_at(name: str) -> datetime | None:
    """When the backup called `name` was taken; None for a file that is not a scheduled backup."""
    if (match := _NAME.fullmatch(name)) is None:
        return None
    return datetime.strptime(match[1], _STAMP).replace(tzinfo=UTC)


def to_prune(names: list[str], keep: int) -> list[str]:
    """The scheduled backups beyond the newest `keep`, oldest first; other files are never named."""
    backups = sorted((moment, name) for name in names if (moment := taken_at(name)) is not None)
    return [name for _, name in backups[: max(len(backups) - max(keep, 1), 0)]]
