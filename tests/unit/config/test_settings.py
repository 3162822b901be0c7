"""Defaults that depend on the machine."""

from __future__ import annotations

import pytest

from config import settings
from config.settings import Settings, default_shards


@pytest.mark.parametrize(("cores", "shards"), [(None, 1), (1, 1), (2, 1), (4, 2), (6, 3), (8, 4), (64, 4)])
def test_shards_default_to_half_the_cores_from_1_to_4(
    monkeypatch: pytest.MonkeyPatch, cores: int | None, shards: int
) -> None:
    monkeypatch.setattr(settings.os, "cpu_count", lambda: cores)
    monkeypatch.delenv("LUDEX_SHARDS", raising=False)
    assert default_shards() == shards
    assert Settings().shards == shards


def test_an_explicit_shard_count_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings.os, "cpu_count", lambda: 2)
    monkeypatch.setenv("LUDEX_SHARDS", "16")
    assert Settings().shards == 16
