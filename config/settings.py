"""Deployment settings, read from `LUDEX_*` environment variables."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

DEMO_ECONOMY_PATH = Path(__file__).with_name("demo-economy.yaml")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LUDEX_")

    deployment: str = "ludex"
    data_dir: Path = Path(".ludex")
    mongo_url: str | None = None
    mongo_database: str = "ludex"
    redis_url: str | None = None
    shards: int = 4
    snapshot_every: int = 100
    idle_timeout_s: float = 300.0
    max_batch_size: int = 512
    idempotency_retention_s: float = 7 * 24 * 3600.0
    default_rate_limit_per_s: float = 1000.0

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "ludex.sqlite3"
