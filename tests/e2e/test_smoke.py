"""The server answers through Ray Serve over HTTP."""

from __future__ import annotations

from tests.e2e.conftest import Api


def test_xp_award_crossing_levels_is_visible_in_the_profile(api: Api, player: str) -> None:
    award = api.post(f"/players/{player}/xp", {"amount": 460})
    assert award.status_code == 200
    assert award.json() == {"xp": 460, "level": 4, "leveledUp": True, "levelsGained": 3, "nextLevelXp": 700}
    profile = api.get(f"/players/{player}").json()
    assert (profile["level"], profile["xp"]) == (4, 460)
