"""Defaults that depend on the machine."""

from __future__ import annotations

import pytest

from config import settings
from config.settings import Settings, default_max_shard_hosts, default_shards


@pytest.mark.parametrize(("cores", "shards"), [(None, 1), (1, 1), (2, 1), (4, 2), (6, 3), (8, 4), (64, 4)])
def test_shards_default_to_half_the_cores_from_1_to_4(
    monkeypatch: pytest.MonkeyPatch, cores: int | None, shards: int
) -> None:
    monkeypatch.setattr(settings.os, "cpu_count", lambda: cores)
    monkeypatch.delenv("LUDEX_SHARDS", raising=False)
    assert default_shards() == shards
    assert Settings().shards == shards


@pytest.mark.parametrize(("cores", "most"), [(None, 4), (1, 4), (2, 4), (4, 8), (64, 128)])
def test_the_shard_host_ceiling_defaults_to_two_per_core_at_least_4(
    monkeypatch: pytest.MonkeyPatch, cores: int | None, most: int
) -> None:
    monkeypatch.setattr(settings.os, "cpu_count", lambda: cores)
    monkeypatch.delenv("LUDEX_MAX_SHARD_HOSTS", raising=False)
    assert default_max_shard_hosts() == most
    assert Settings().max_shard_hosts == most


def test_an_explicit_shard_count_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings.os, "cpu_count", lambda: 2)
    monkeypatch.setenv("LUDEX_SHARDS", "16")
    assert Settings().shards == 16


@pytest.mark.parametrize(
    ("bind_host", "mongo_url", "allowed"),
    [
        ("127.0.0.1", None, True),
        ("::1", None, True),
        ("localhost", None, True),
        ("0.0.0.0", None, False),
        ("192.168.1.10", None, False),
        ("127.0.0.1", "mongodb://db:27017", False),
    ],
)
def test_private_webhook_targets_are_allowed_by_default_only_on_a_loopback_embedded_server(
    monkeypatch: pytest.MonkeyPatch, bind_host: str, mongo_url: str | None, allowed: bool
) -> None:
    monkeypatch.delenv("LUDEX_WEBHOOK_ALLOW_PRIVATE", raising=False)
    assert Settings(bind_host=bind_host, mongo_url=mongo_url).webhook_allow_private is allowed


def test_an_explicit_private_webhook_setting_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LUDEX_WEBHOOK_ALLOW_PRIVATE", "true")
    assert Settings(bind_host="0.0.0.0").webhook_allow_private is True


def test_idempotency_answers_are_kept_at_least_seven_days() -> None:
    with pytest.raises(ValueError, match="greater than or equal"):
        Settings(idempotency_retention_s=3600)


def test_a_secret_key_with_surrounding_whitespace_is_the_key_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    from cryptography.fernet import Fernet

    from actors.secret_box import SecretBox

    key = Fernet.generate_key().decode()
    monkeypatch.setenv("LUDEX_SECRET_KEY", f"  {key}\n")
    settings = Settings()
    assert settings.secret_key == key
    sealed = SecretBox.from_settings(settings).seal("totp")
    assert SecretBox(key).open(sealed) == "totp"


@pytest.mark.parametrize("malformed", ["not-a-key", "c2hvcnQ=", "x" * 44])
def test_a_malformed_secret_key_stops_the_start_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], malformed: str
) -> None:
    from serve.cli.ludex import main

    monkeypatch.setenv("LUDEX_SECRET_KEY", malformed)
    assert main(["serve"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("ludex: LUDEX_SECRET_KEY must be a Fernet key"), error
    assert malformed not in error  # the setting is named, its (secret) value is not echoed


def test_an_empty_secret_key_means_the_key_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LUDEX_SECRET_KEY", "  ")
    assert Settings().secret_key is None


@pytest.mark.parametrize("malformed", ["daily@25:00", "weekly", "6d"])
def test_a_malformed_backup_schedule_stops_the_start_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], malformed: str
) -> None:
    from serve.cli.ludex import main

    monkeypatch.setenv("LUDEX_BACKUP_SCHEDULE", malformed)
    assert main(["serve"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("ludex: LUDEX_BACKUP_SCHEDULE must be `daily@HH:MM` (UTC) or an interval"), error
    assert error.count("\n") == 1
