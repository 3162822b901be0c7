"""Outcomes cross Ray as pickles and are remembered in their stored form: both round trips must
give back an equal value, and the stored form must stay the one Ludex 0.1.0 wrote."""

from __future__ import annotations

import pickle
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from engine.domain_error import DomainError, NamedError
from engine.errors import InsufficientFundsError, InvalidAmountError, Rejection
from engine.outcomes import Outcome, Refusal

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
accepted = st.builds(
    Outcome.accepted, st.none() | st.dictionaries(st.text(max_size=5), json_values, max_size=4), created=st.booleans()
)
refused = st.builds(
    lambda slug, detail, data: Outcome.refused(Refusal(slug, detail, data)),
    st.sampled_from(["insufficient-funds", "unknown-currency", "stack-limit"]),
    st.text(max_size=20),
    st.dictionaries(st.text(max_size=5), json_values, max_size=3),
)


@given(accepted | refused)
def test_the_stored_form_gives_back_the_same_answer(outcome: Outcome) -> None:
    assert Outcome.from_stored(outcome.to_stored()) == outcome


@given(accepted | refused)
def test_an_outcome_survives_pickling_as_ray_sends_it(outcome: Outcome) -> None:
    sent = outcome.with_events(["evt_1"])
    assert pickle.loads(pickle.dumps(sent)) == sent


def test_the_stored_form_is_the_one_0_1_0_wrote() -> None:
    stored: dict[str, Any] = {
        "ok": False,
        "error": {"slug": "insufficient-funds", "detail": "balance of gems is 0, 5 needed",
                  "data": {"amount": 5, "balance": 0, "currency": "gems"}},
    }  # fmt: skip
    outcome = Outcome.refused(InsufficientFundsError("gems", 0, 5))
    assert outcome.to_stored() == stored
    assert Outcome.accepted({"xp": 1}).to_stored() == {"ok": True, "created": False, "body": {"xp": 1}}
    assert Outcome.from_stored({"ok": True, "body": None}) == Outcome()  # a view's answer had no `created`


def test_a_replay_is_marked_and_carries_no_new_events() -> None:
    fresh = Outcome.accepted({"balance": 5}).with_events(["evt_a", "evt_b"])
    again = fresh.as_replay()
    assert again.replayed and again.event_ids == () and again.body == fresh.body


def test_every_domain_error_has_slug_detail_data_and_headers() -> None:
    errors: list[DomainError] = [
        InvalidAmountError("amount", 0, 1, 10),
        NamedError("plan-in-use", "plan 'free' is used by 2 tenant(s)"),
        NamedError("quota-exceeded", "used up", {"retryAfterS": 5}, {"Retry-After": "5"}),
    ]
    for error in errors:
        refusal = Refusal.of(error)
        assert (refusal.slug, refusal.detail, dict(refusal.data), dict(refusal.headers)) == (
            error.slug,
            error.detail,
            dict(error.data),
            dict(error.headers),
        )
        assert str(error) == error.detail
        copy = pickle.loads(pickle.dumps(error))
        assert Refusal.of(copy) == refusal, "hosts raise them across process boundaries"
    assert isinstance(InvalidAmountError("amount", 0, 1, 10), Rejection)
    assert Refusal.of(errors[0]).data["field"] == "amount"
