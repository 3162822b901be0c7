"""The player index's level and XP come from journal events; a commit must not fail over them."""

from actors.stores.progress import fold_progress


def test_the_last_figure_of_each_kind_wins() -> None:
    events = [
        {"type": "player.xp.added", "data": {"amount": 5, "xp": 5}},
        {"type": "player.levelup", "data": {"level": 2}},
        {"type": "player.xp.added", "data": {"amount": 7, "xp": 12}},
    ]
    assert fold_progress(events, {}) == {"xp": 12, "level": 2}


def test_an_event_without_its_figure_moves_nothing() -> None:
    events = [
        {"type": "player.xp.added", "data": {"amount": 1}},
        {"type": "player.levelup", "data": {"level": "3"}},
        {"type": "player.level.updated"},
        {"data": {"xp": 9}},
    ]
    assert fold_progress(events, {"xp": 4}) == {"xp": 4}
