"""Guardrails as pure rules: parsing names every problem, `guard` counts only a guardrail's
source, refuses past a `refuse` cap (journaling only the trip), flags past a `flag` one, resets
with each window, and a cap is never exceeded inside a window whatever the commands (hypothesis);
folding the journal rebuilds the windows the live state holds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import commands as c
from engine import events as e
from engine.definitions import DefinitionError, Economy, economy_to_document, parse_economy
from engine.guardrail_checks import GuardrailRefusal, demands, guard
from engine.rules import Accepted, Context, apply_record, decide, rfc3339, state_after
from engine.state import PlayerState, state_from_dict, state_to_dict

BASE: dict[str, Any] = {
    "currencies": [{"id": "coins", "kind": "soft"}, {"id": "gems", "kind": "hard"}],
    "items": [{"id": "sword", "stackLimit": 1_000_000}],
    "xpCurve": {"levels": [0, 100]},
    "skus": [{"sku": "bundle", "price": {"coins": 1}, "grants": {"currencies": {"gems": 5}}}],
}
T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def economy(*guardrails: dict[str, Any]) -> Economy:
    return parse_economy({**BASE, "guardrails": list(guardrails)})


def cap(gid: str = "cap", amount: int = 100, per: str = "hour", action: str = "refuse", **more: Any) -> dict[str, Any]:
    return {"id": gid, "currency": "coins", "perPlayer": {"amount": amount, "per": per}, "action": action, **more}


class Player:
    """One player's state and journal under `economy`, deciding then guarding like a host."""

    def __init__(self, econ: Economy, balances: dict[str, int] | None = None) -> None:
        self.economy = econ
        self.state = PlayerState("p1", exists=True, balances=balances or {})
        self.journal: list[tuple[int, list[e.Event], str]] = []

    def run(self, command: c.Command, now: datetime, room: dict[str, int] | None = None) -> Any:
        decision = decide(self.state, command, Context(now=now, economy=self.economy, entity="p1"))
        if isinstance(decision, Accepted):
            decision = guard(self.state, command.op, decision, self.economy.guardrails, now, room or {})
        if isinstance(decision, Accepted | GuardrailRefusal) and decision.events:
            events = list(decision.events)
            seq = self.state.seq + 1
            accepted = (
                decision if isinstance(decision, Accepted) else Accepted(decision.events, None, state=decision.state)
            )
            self.state = state_after(self.state, accepted, seq, rfc3339(now))
            self.journal.append((seq, events, rfc3339(now)))
        return decision


def test_parsing_reports_every_problem_with_its_path() -> None:
    with pytest.raises(DefinitionError) as raised:
        economy(
            cap(),
            cap(),
            {
                "id": "b",
                "currency": "coins",
                "itemId": "sword",
                "perPlayer": {"amount": 1, "per": "hour"},
                "action": "flag",
            },
            {"id": "c", "currency": "coins", "action": "flag"},
            {"id": "d", "itemId": "axe", "project": {"amount": 1, "per": "minute", "x": 1}, "action": "refuse"},
        )
    paths = dict(raised.value.problems)
    assert "duplicate id 'cap'" in paths["guardrails[1].id"]
    assert "exactly one" in paths["guardrails[2]"]
    assert "'perPlayer', 'project'" in paths["guardrails[3]"]
    assert "unknown item" in paths["guardrails[4].itemId"]
    assert paths["guardrails[4].project.x"] == "unknown field"


def test_guardrails_round_trip_through_the_document() -> None:
    rails = [
        cap(source="quest"),
        {"id": "s", "itemId": "sword", "project": {"amount": 9, "per": "day"}, "action": "flag"},
    ]
    document = economy_to_document(economy(*rails))
    assert document["guardrails"] == rails
    assert parse_economy(document).guardrails == economy(*rails).guardrails
    assert "guardrails" not in economy_to_document(parse_economy(BASE))


def test_a_refuse_cap_refuses_past_its_limit_and_journals_only_the_trip() -> None:
    player = Player(economy(cap(amount=100)))
    assert isinstance(player.run(c.Credit("coins", 70), T0), Accepted)
    refused = player.run(c.Credit("coins", 31), T0 + timedelta(minutes=10))
    assert isinstance(refused, GuardrailRefusal)
    assert refused.error.data["guardrail"] == "cap"
    assert refused.error.headers == {"Retry-After": str(50 * 60)}
    assert [type(event) for event in refused.events] == [e.GuardrailTripped]
    assert player.state.balance("coins") == 70
    assert isinstance(player.run(c.Credit("coins", 30), T0), Accepted)


def test_a_new_window_starts_from_zero() -> None:
    player = Player(economy(cap(amount=100, per="minute")))
    assert isinstance(player.run(c.Credit("coins", 100), T0), Accepted)
    assert isinstance(player.run(c.Credit("coins", 1), T0 + timedelta(seconds=59)), GuardrailRefusal)
    assert isinstance(player.run(c.Credit("coins", 100), T0 + timedelta(seconds=60)), Accepted)


def test_a_flag_cap_applies_the_command_and_flags_the_player() -> None:
    player = Player(economy(cap(amount=10, action="flag")))
    decision = player.run(c.Credit("coins", 11), T0)
    assert isinstance(decision, Accepted)
    assert player.state.balance("coins") == 11
    assert player.state.flags == {"guardrail:cap": True}
    assert [event.type for event in decision.events][-1] == "economy.guardrail.tripped"


def test_a_source_counts_only_its_op_sku_or_reason() -> None:
    econ = economy(
        cap("by-reason", source="quest"),
        cap("by-op", source="credit"),
        {
            "id": "by-sku",
            "currency": "gems",
            "source": "bundle",
            "perPlayer": {"amount": 9, "per": "day"},
            "action": "flag",
        },
    )
    credited = (e.WalletCredited("coins", 5, 5, reason="quest"), e.WalletCredited("coins", 7, 12, reason="login"))
    assert demands(econ.guardrails, "credit", credited) == {"by-reason": 5, "by-op": 12}
    assert demands(econ.guardrails, "xp", credited) == {"by-reason": 5}
    bought = (e.WalletCredited("gems", 5, 5), e.PurchaseSucceeded("pur", "bundle", 1, {"coins": 1}, {}))
    assert demands(econ.guardrails, "purchase", bought) == {"by-sku": 5}


def test_a_project_budget_trips_when_the_host_lacks_room() -> None:
    budget = {"id": "b", "currency": "coins", "project": {"amount": 1000, "per": "day"}, "action": "refuse"}
    player = Player(economy(budget))
    assert isinstance(player.run(c.Credit("coins", 10), T0, room={"b": 10}), Accepted)
    refused = player.run(c.Credit("coins", 10), T0, room={"b": 9})
    assert isinstance(refused, GuardrailRefusal) and refused.error.data["scope"] == "project"


def test_a_command_no_guardrail_touches_is_left_as_decided() -> None:
    econ = economy(cap())
    decision = decide(PlayerState("p1", exists=True), c.AwardXp(5), Context(now=T0, economy=econ, entity="p1"))
    assert isinstance(decision, Accepted)
    assert guard(PlayerState("p1", exists=True), "xp", decision, econ.guardrails, T0, {}) is decision


@settings(max_examples=60, deadline=None)
@given(
    steps=st.lists(
        st.tuples(st.integers(1, 60), st.integers(0, 200), st.sampled_from(["credit", "bundle"])), max_size=40
    ),
    limit=st.integers(1, 120),
)
def test_a_refuse_cap_is_never_exceeded_in_any_window(steps: list[tuple[int, int, str]], limit: int) -> None:
    econ = economy(
        cap(amount=limit, per="minute"),
        {"id": "g", "currency": "gems", "perPlayer": {"amount": limit, "per": "hour"}, "action": "refuse"},
    )
    player = Player(econ, balances={"coins": 10_000})
    now = T0
    received: dict[tuple[str, int], int] = {}
    for amount, seconds, kind in steps:
        now += timedelta(seconds=seconds)
        command: c.Command = c.Credit("coins", amount) if kind == "credit" else c.Purchase("bundle")
        decision = player.run(command, now)
        if isinstance(decision, Accepted):
            for event in decision.events:
                if isinstance(event, e.WalletCredited):
                    per = 60 if event.currency == "coins" else 3600
                    window = int(now.timestamp()) // per
                    received[event.currency, window] = received.get((event.currency, window), 0) + event.amount
    assert all(total <= limit for total in received.values()), received
    rebuilt = PlayerState("p1", exists=True, balances={"coins": 10_000})
    for seq, events, at in player.journal:
        rebuilt = apply_record(rebuilt, seq, events, at)
    assert rebuilt == player.state
    assert state_from_dict(state_to_dict(player.state)) == player.state
