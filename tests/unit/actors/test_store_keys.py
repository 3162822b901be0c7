"""The key arithmetic every store's range reads rest on (`actors/stores/base.py`): a prefix
turned into an index range, and a player entity key split into its path."""

from __future__ import annotations

import pytest

from actors.stores.base import player_path, prefix_upper_bound


def test_a_prefix_bound_is_the_smallest_string_after_every_string_it_starts() -> None:
    assert prefix_upper_bound("player:t/p/") == "player:t/p0"
    bound = prefix_upper_bound("a\U0010ffff")  # the last code point cannot grow: its parent does
    assert bound == "b"
    assert bound > "a\U0010ffff\U0010ffff" and bound <= "b"


def test_a_prefix_of_only_the_last_code_point_or_nothing_has_no_bound() -> None:
    assert prefix_upper_bound("\U0010ffff\U0010ffff") is None
    assert prefix_upper_bound("") is None


def test_a_player_key_splits_into_tenant_project_and_a_player_id_that_may_hold_slashes() -> None:
    assert player_path("player:acme/space/ann") == ("acme", "space", "ann")
    assert player_path("player:acme/space/a/b") == ("acme", "space", "a/b")


@pytest.mark.parametrize("entity", ["project:acme/space", "player:acme/space", "acme/space/ann"])
def test_a_key_that_is_not_a_player_is_refused(entity: str) -> None:
    with pytest.raises(ValueError, match="is not a player entity"):
        player_path(entity)
