"""The backup schedule's rules: when the next backup is due and which old ones are deleted."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from config.settings import BACKUP_SCHEDULE
from engine.backup_schedule import (
    RETRY_AFTER,
    Daily,
    Every,
    ScheduleError,
    backup_name,
    next_due,
    parse_schedule,
    taken_at,
    to_prune,
)

moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)).map(
    lambda moment: moment.replace(microsecond=0)
)
dailies = st.builds(lambda h, m: Daily(time(h, m)), st.integers(0, 23), st.integers(0, 59))
intervals = st.builds(lambda minutes: Every(timedelta(minutes=minutes)), st.integers(1, 7 * 24 * 60))


def test_schedules_parse_as_the_settings_describe_them() -> None:
    assert parse_schedule("daily@03:30") == Daily(time(3, 30))
    assert parse_schedule("6h") == Every(timedelta(hours=6))
    assert parse_schedule("45m") == Every(timedelta(minutes=45))


@pytest.mark.parametrize("text", ["daily@24:00", "daily@3:30", "0h", "6d", "", "daily", "6 h", "daily@03:60"])
def test_a_malformed_schedule_is_refused(text: str) -> None:
    with pytest.raises(ScheduleError):
        parse_schedule(text)
    assert not BACKUP_SCHEDULE.fullmatch(text)  # the setting refuses it at start too


@given(st.from_regex(BACKUP_SCHEDULE, fullmatch=True))
def test_every_schedule_the_setting_accepts_parses(text: str) -> None:
    parse_schedule(text)


@given(st.one_of(dailies, intervals))
def test_the_first_backup_is_due_at_once(schedule: Daily | Every) -> None:
    assert next_due(schedule, None) <= datetime(2000, 1, 1, tzinfo=UTC)


@given(dailies, moments)
def test_a_daily_backup_is_due_at_its_time_within_the_next_day(schedule: Daily, last: datetime) -> None:
    due = next_due(schedule, last)
    assert last < due <= last + timedelta(days=1)
    assert due.time() == schedule.at


@given(intervals, moments)
def test_an_interval_backup_is_due_one_interval_after_the_last(schedule: Every, last: datetime) -> None:
    assert next_due(schedule, last) == last + schedule.interval


@given(st.one_of(dailies, intervals), st.none() | moments, moments)
def test_a_failure_after_the_last_success_is_retried_ten_minutes_later(
    schedule: Daily | Every, success: datetime | None, failure: datetime
) -> None:
    due = next_due(schedule, success, failure)
    if success is None or failure > success:
        assert due == failure + RETRY_AFTER
    else:
        assert due == next_due(schedule, success)  # an older failure no longer matters


@given(moments)
def test_a_backup_name_carries_the_instant_it_was_taken(moment: datetime) -> None:
    assert taken_at(backup_name(moment)) == moment


@given(st.lists(moments, unique=True, max_size=30), st.integers(1, 10), st.lists(st.text(max_size=12), max_size=5))
def test_pruning_keeps_the_newest_and_never_names_other_files(
    taken: list[datetime], keep: int, others: list[str]
) -> None:
    names = [backup_name(moment) for moment in taken] + others
    pruned = to_prune(names, keep)
    kept = sorted(set(map(backup_name, taken)) - set(pruned))
    assert len(kept) == min(keep, len(taken))
    assert all(taken_at(name) is not None for name in pruned)
    assert all(taken_at(old) < taken_at(new) for old in pruned for new in kept)  # type: ignore[operator]
