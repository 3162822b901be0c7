"""Leaderboard rules: definitions, operators and ordering against a model, ties, periods and
their UTC boundaries, and which journal events feed which board."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine import commands as c
from engine.definitions import DefinitionError, economy_to_document, leaderboards_of, parse_economy
from engine.errors import InvalidAmountError, LeaderboardNotSubmittedError, UnknownLeaderboardError
from engine.events import event_to_dict
from engine.leaderboards import (
    MAX_SCORE,
    Entry,
    Leaderboard,
    Operator,
    Order,
    Reset,
    apply_observation,
    period_at,
    period_by_id,
    previous_period,
    rank_key,
    record_changes,
    resolve_period,
)
from engine.rules import Accepted, Context, decide
from engine.state import PlayerState
from tests.unit.engine.test_definitions import demo_document, minimal_document, problems_of

UTC_NOON = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)  # a Monday


def board(
    operator: Operator = "best", order: Order = "desc", reset: Reset = "never", metric: str = "submitted"
) -> Leaderboard:
    return Leaderboard("b", "B", metric, operator, order, reset)


# ------------------------------------------------------------------------------------ definitions


def test_the_demo_economy_defines_its_three_boards() -> None:
    boards = parse_economy(demo_document()).leaderboards
    assert boards["xp-all-time"] == Leaderboard("xp-all-time", "All-time XP", "xp", "incr", "desc", "never")
    assert boards["weekly-wins"] == Leaderboard(
        "weekly-wins", "Wins this week", "counter:wins", "incr", "desc", "weekly"
    )
    assert boards["high-score"] == Leaderboard("high-score", "High score", "submitted", "best", "desc", "never")


def test_boards_survive_a_round_trip_and_an_economy_without_them_stays_as_it_was() -> None:
    economy = parse_economy(demo_document())
    assert parse_economy(economy_to_document(economy)) == economy
    assert "leaderboards" not in economy_to_document(parse_economy(minimal_document()))
    assert leaderboards_of(economy_to_document(economy)) == economy.leaderboards


@pytest.mark.parametrize(
    ("entry", "path", "message"),
    [
        ({"id": "b", "metric": "counter:nope"}, "leaderboards[0].metric", "unknown metric 'counter:nope'"),
        ({"id": "b", "metric": "currency-earned:gold"}, "leaderboards[0].metric", "unknown metric"),
        ({"id": "b", "metric": "xp", "operator": "max"}, "leaderboards[0].operator", "must be 'best', 'set' or 'incr'"),
        ({"id": "b", "metric": "xp", "order": "up"}, "leaderboards[0].order", "must be 'desc' or 'asc'"),
        ({"id": "b", "metric": "xp", "reset": "hourly"}, "leaderboards[0].reset", "must be 'never'"),
        ({"id": "b c", "metric": "xp"}, "leaderboards[0].id", "must be 1 to 64"),
        ({"metric": "xp"}, "leaderboards[0].id", "required"),
        ({"id": "b", "metric": "xp", "color": "red"}, "leaderboards[0].color", "unknown field"),
    ],
)
def test_a_bad_board_is_reported_with_its_path(entry: dict[str, Any], path: str, message: str) -> None:
    document = {**minimal_document(), "leaderboards": [entry]}
    assert any(p == path and message in m for p, m in problems_of(document)), problems_of(document)


def test_duplicate_board_ids_are_refused() -> None:
    document = {**minimal_document(), "leaderboards": [{"id": "b", "metric": "xp"}, {"id": "b", "metric": "level"}]}
    with pytest.raises(DefinitionError, match=r"leaderboards\[1\].id: duplicate id 'b'"):
        parse_economy(document)


# ------------------------------------------------------------------------------------ operators


def model_score(operator: Operator, order: Order, values: list[int]) -> int:
    if operator == "incr":
        return max(-MAX_SCORE, min(MAX_SCORE, sum(values)))  # sums here never reach the clamp
    if operator == "set":
        return values[-1]
    return max(values) if order == "desc" else min(values)


@given(
    operator=st.sampled_from(["best", "set", "incr"]),
    order=st.sampled_from(["desc", "asc"]),
    values=st.lists(st.integers(-(10**9), 10**9), min_size=1, max_size=30),
)
def test_operators_agree_with_the_model(operator: Operator, order: Order, values: list[int]) -> None:
    rules = board(operator, order)
    entry: Entry | None = None
    for seq, value in enumerate(values, start=1):
        entry = apply_observation(rules, entry, value, 1_000 * seq, seq) or entry
    assert entry is not None and entry.score == model_score(operator, order, values)
    # "reached at": the record after which the score last changed
    first_reach = next(
        seq
        for seq in range(1, len(values) + 1)
        if all(model_score(operator, order, values[:k]) == entry.score for k in range(seq, len(values) + 1))
    )
    assert entry.reached_ms == 1_000 * first_reach


@given(
    order=st.sampled_from(["desc", "asc"]),
    entries=st.dictionaries(
        st.text("abcdef", min_size=1, max_size=3),
        st.tuples(st.integers(-5, 5), st.integers(0, 3)),
        min_size=1,
        max_size=20,
    ),
)
def test_ranking_orders_by_score_then_first_reach_then_player(
    order: Order, entries: dict[str, tuple[int, int]]
) -> None:
    rules = board("best", order)
    ranked = sorted(entries, key=lambda p: rank_key(rules, Entry(entries[p][0], entries[p][1], 1), p))
    for better, worse in zip(ranked, ranked[1:], strict=False):
        (s1, t1), (s2, t2) = entries[better], entries[worse]
        assert rules.better(s1, s2) or (s1 == s2 and (t1, better) < (t2, worse))


def test_a_record_applied_again_changes_nothing() -> None:
    rules = board("incr")
    entry = apply_observation(rules, None, 5, 1_000, 3)
    assert entry is not None
    assert apply_observation(rules, entry, 5, 2_000, 3) is None
    assert apply_observation(rules, entry, 5, 2_000, 2) is None


def test_incr_stops_at_the_exact_range() -> None:
    rules = board("incr")
    entry = apply_observation(rules, None, MAX_SCORE, 1, 1)
    assert apply_observation(rules, entry, 10, 2, 2) == Entry(MAX_SCORE, 1, 2)


# ------------------------------------------------------------------------------------ periods


@pytest.mark.parametrize(
    ("reset", "moment", "period_id", "starts", "ends"),
    [
        (
            "daily",
            datetime(2026, 11, 30, 23, 59, 59, 999_000, tzinfo=UTC),
            "2026-11-30",
            "2026-11-30T00:00:00Z",
            "2026-12-01T00:00:00Z",
        ),
        ("daily", datetime(2026, 12, 1, tzinfo=UTC), "2026-12-01", "2026-12-01T00:00:00Z", "2026-12-02T00:00:00Z"),
        (
            "weekly",
            datetime(2026, 11, 29, 23, 59, 59, tzinfo=UTC),
            "2026-W48",
            "2026-11-23T00:00:00Z",
            "2026-11-30T00:00:00Z",
        ),
        (
            "weekly",
            datetime(2026, 11, 30, 0, 0, tzinfo=UTC),
            "2026-W49",
            "2026-11-30T00:00:00Z",
            "2026-12-07T00:00:00Z",
        ),
        ("weekly", datetime(2027, 1, 1, tzinfo=UTC), "2026-W53", "2026-12-28T00:00:00Z", "2027-01-04T00:00:00Z"),
        (
            "monthly",
            datetime(2026, 12, 31, 23, 59, tzinfo=UTC),
            "2026-12",
            "2026-12-01T00:00:00Z",
            "2027-01-01T00:00:00Z",
        ),
        ("monthly", datetime(2027, 1, 1, tzinfo=UTC), "2027-01", "2027-01-01T00:00:00Z", "2027-02-01T00:00:00Z"),
        ("never", datetime(2027, 1, 1, tzinfo=UTC), "all", None, None),
    ],
)
def test_periods_turn_at_utc_midnights(
    reset: Reset, moment: datetime, period_id: str, starts: str | None, ends: str | None
) -> None:
    period = period_at(reset, moment)
    assert period.to_document() == {"id": period_id, "startsAt": starts, "endsAt": ends}


def test_a_moment_in_another_zone_is_placed_by_its_utc_time() -> None:
    monday_morning_in_sydney = datetime(2026, 11, 30, 9, 0, tzinfo=ZoneInfo("Australia/Sydney"))  # Sunday 22:00 UTC
    assert period_at("daily", monday_morning_in_sydney).id == "2026-11-29"
    assert period_at("weekly", monday_morning_in_sydney).id == "2026-W48"


@given(
    reset=st.sampled_from(["daily", "weekly", "monthly"]),
    moment=st.datetimes(min_value=datetime(2000, 1, 2), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)),
)
def test_periods_tile_time_and_their_ids_name_them(reset: Reset, moment: datetime) -> None:
    period = period_at(reset, moment)
    assert period.starts_at is not None and period.ends_at is not None
    assert period.starts_at <= moment < period.ends_at
    assert period_by_id(reset, period.id) == period
    before = previous_period(reset, moment)
    assert before is not None and before.ends_at == period.starts_at
    assert period_at(reset, period.ends_at).starts_at == period.ends_at


def test_resolve_period_names_current_previous_and_ids_and_refuses_others() -> None:
    weekly = board(reset="weekly")
    assert resolve_period(weekly, "current", UTC_NOON).id == "2026-W49"  # type: ignore[union-attr]
    assert resolve_period(weekly, "previous", UTC_NOON).id == "2026-W48"  # type: ignore[union-attr]
    assert resolve_period(weekly, "2026-W01", UTC_NOON).id == "2026-W01"  # type: ignore[union-attr]
    for bad in ("2026-W54", "2026-11", "2026-W1", "nonsense", "all"):
        assert resolve_period(weekly, bad, UTC_NOON) is None
    assert resolve_period(board(), "previous", UTC_NOON) is None
    assert resolve_period(board(), "all", UTC_NOON).id == "all"  # type: ignore[union-attr]
    assert period_by_id("daily", "2026-02-30") is None


# ------------------------------------------------------------------------------------ feeding


def demo_decision(state: PlayerState, command: c.Command, now: datetime = UTC_NOON) -> Accepted:
    economy = parse_economy(demo_document())
    decision = decide(state, command, Context(now, economy, "player:t/p/ada"))
    assert isinstance(decision, Accepted), decision
    return decision


def changes_for(state: PlayerState, command: c.Command, now: datetime = UTC_NOON) -> Any:
    economy = parse_economy(demo_document())
    decision = demo_decision(state, command, now)
    after = decision.state or state
    events = [event_to_dict(event) for event in decision.events]
    occurred = now.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    totals = {"xp": after.xp, "level": after.level, "counters": after.counters, "earned": after.earned}
    return record_changes(economy.leaderboards, "t", "p", "ada", state.seq + 1, events, occurred, totals)


ADA = PlayerState(player_id="ada", exists=True, username="Ada")


def test_an_xp_award_feeds_the_xp_board_only() -> None:
    change = changes_for(ADA, c.AwardXp(150))
    assert [(o.board.id, o.period_id, o.value) for o in change.observations] == [("xp-all-time", "all", 150)]
    assert change.at_ms == int(UTC_NOON.timestamp() * 1000) and change.seq == 1


def test_a_win_feeds_the_weekly_board_in_the_current_iso_week() -> None:
    change = changes_for(ADA, c.IncrementCounter("wins", 2), now=datetime(2026, 11, 29, 23, 59, tzinfo=UTC))
    assert [(o.board.id, o.period_id, o.value) for o in change.observations] == [("weekly-wins", "2026-W48", 2)]


def test_a_submitted_score_feeds_its_board_and_a_rename_or_deletion_is_carried() -> None:
    change = changes_for(ADA, c.SubmitScore("high-score", 4200))
    assert [(o.board.id, o.value) for o in change.observations] == [("high-score", 4200)]
    renamed = changes_for(ADA, c.UpdatePlayer(username="Countess"))
    assert renamed.username == "Countess" and renamed.observations == ()
    assert changes_for(ADA, c.DeletePlayer()).removed


def test_a_record_feeding_no_board_changes_nothing() -> None:
    assert changes_for(ADA, c.GrantItem("potion", 1)) is None


def test_derived_best_boards_keep_the_total_and_level_boards_the_level() -> None:
    economy = parse_economy(
        {
            **demo_document(),
            "leaderboards": [
                {"id": "lvl", "metric": "level"},
                {"id": "coins", "metric": "currency-earned:coins", "operator": "best"},
            ],
        }
    )
    after = ADA.__class__(**{**ADA.__dict__, "xp": 300, "level": 3, "earned": {"coins": 900}})
    events = [
        {"type": "player.xp.added", "data": {"amount": 300, "xp": 300, "reason": ""}},
        {"type": "player.level.updated", "data": {"level": 3, "previousLevel": 1}},
        {"type": "wallet.credited", "data": {"currency": "coins", "amount": 500, "balanceAfter": 900}},
    ]
    totals = {"xp": after.xp, "level": after.level, "counters": {}, "earned": after.earned}
    change = record_changes(economy.leaderboards, "t", "p", "ada", 4, events, "2026-11-30T12:00:00.000Z", totals)
    assert change is not None
    assert {o.board.id: o.value for o in change.observations} == {"lvl": 3, "coins": 900}


def test_scores_go_only_to_submitted_boards_and_stay_in_range() -> None:
    economy = parse_economy(demo_document())
    ctx = Context(UTC_NOON, economy, "player:t/p/ada")
    assert isinstance(decide(ADA, c.SubmitScore("xp-all-time", 1), ctx), LeaderboardNotSubmittedError)
    assert isinstance(decide(ADA, c.SubmitScore("nope", 1), ctx), UnknownLeaderboardError)
    assert isinstance(decide(ADA, c.SubmitScore("high-score", MAX_SCORE + 1), ctx), InvalidAmountError)
    accepted = decide(ADA, c.SubmitScore("high-score", -MAX_SCORE), ctx)
    assert isinstance(accepted, Accepted)
    assert accepted.body == {"boardId": "high-score", "playerId": "ada", "score": -MAX_SCORE, "periodId": "all"}


def test_period_boundaries_follow_the_record_time_not_the_reader() -> None:
    just_before = UTC_NOON.replace(hour=0) - timedelta(milliseconds=1)
    change = changes_for(ADA, c.IncrementCounter("wins", 1), now=just_before)
    assert change.observations[0].period_id == "2026-W48"
