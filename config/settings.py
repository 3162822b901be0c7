"""Deployment settings, read from `LUDEX_*` environment variables."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEMO_ECONOMY_PATH = Path(__file__).with_name("demo-economy.yaml")


def default_shards() -> int:
    """Half the machine's cores, 1 to 4. A shard host is one Python process (a core at most), and
    the ingress replica is the busier process: on 2 cores, 1 shard served 1,115 keyed XP awards/s,
    2 shards 978/s and 4 shards 736/s (fewer, larger batched Ray calls; benchmarks/RESULTS.md).
    A cluster sets LUDEX_SHARDS explicitly: it must not change while the cluster runs."""
    return max(1, min(4, (os.cpu_count() or 2) // 2))


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LUDEX_")

    deployment: str = "ludex"
    data_dir: Path = Path(".ludex")
    mongo_url: str | None = None
    mongo_database: str = "ludex"
    mongo_timeout_ms: int = Field(default=10_000, ge=100)  # every MongoDB operation fails within this
    redis_url: str | None = None
    shards: int = Field(default_factory=default_shards)
    snapshot_every: int = 100
    idle_timeout_s: float = 300.0
    max_batch_size: int = 512
    idempotency_retention_s: float = Field(default=7 * 24 * 3600.0, ge=7 * 24 * 3600.0)  # the contract's 7-day floor
    event_retention_days: float | None = None  # event store (not journal) retention; None keeps all
    default_rate_limit_per_s: float = 1000.0
    login_rate_per_ip_per_s: float = 10.0  # sign-in attempts per client address (bursts of twice that)
    login_rate_per_s: float = 100.0  # sign-in attempts in all, per ingress replica without Redis
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)  # larger request bodies answer 413
    secret_key: str | None = None  # Fernet key sealing secrets at rest; unset: <data dir>/secret.key
    metrics_token: str | None = None  # when set, GET /metrics needs `Authorization: Bearer <token>`
    realtime_max_eventtypes: int = 32  # event types one realtime subscription may name
    realtime_queue_size: int = 1000  # per-connection backlog before a slow consumer is closed
    # Realtime limits (docs/EVENTS.md). Key and tenant caps: per replica, or in all with Redis.
    realtime_max_connections_per_key: int = Field(default=16, ge=1)
    realtime_max_connections_per_tenant: int = Field(default=256, ge=1)
    realtime_max_connections: int = Field(default=1024, ge=1)  # all tenants, per replica
    realtime_max_message_bytes: int = Field(default=16 * 1024, ge=256)  # larger client messages: close 1009
    realtime_messages_per_s: float = Field(default=10.0, gt=0)  # per connection, token bucket
    realtime_message_burst: int = Field(default=20, ge=1)
    realtime_rate_limit_strikes: int = Field(default=20, ge=1)  # refused messages in a row before close 4429
    realtime_max_replay: int = Field(default=10_000, ge=1)  # events one `subscribe ... since` may replay
    realtime_recheck_s: float = Field(default=30.0, gt=0)  # how often an open socket's key is re-checked
    realtime_auth_timeout_s: float = Field(default=5.0, gt=0)  # wait for the `auth` message
    # HTTP requests a replica serves at once; realtime sockets get their own slots on top.
    http_max_ongoing_requests: int = Field(default=256, ge=1)
    webhook_retry_schedule: str | None = None  # comma-separated seconds; None: the engine's schedule
    webhook_allow_private: bool = False  # unset: on for the embedded default (no LUDEX_MONGO_URL)
    # An older schema is migrated when a store opens (`ludex serve` first); false refuses to start
    # until `ludex migrate` ran, for operators who migrate as a separate, backed-up step.
    auto_migrate: bool = True
    migration_batch_size: int = Field(default=1000, ge=1)  # documents per MongoDB migration round trip
    webhook_delivery_retention_days: float = Field(default=30.0, gt=0)  # delivered/dead deliveries kept this long

    bind_host: str = "127.0.0.1"  # where the HTTP API listens (`ludex serve --host` sets it)

    @model_validator(mode="after")
    def _webhook_private_default(self) -> Settings:
        """An embedded Ludex that only this machine can reach talks to receivers on the same
        machine; one that listens on a network, or a cluster with a shared store, refuses private
        destinations unless told otherwise (a tenant's webhook must not probe the LAN)."""
        if "webhook_allow_private" not in self.model_fields_set:
            self.webhook_allow_private = self.mongo_url is None and _is_loopback(self.bind_host)
        return self

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "ludex.sqlite3"
