"""Deployment settings, read from `LUDEX_*` environment variables."""

from __future__ import annotations

import ipaddress
import os
import re
from pathlib import Path

from cryptography.fernet import Fernet
from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEMO_ECONOMY_PATH = Path(__file__).with_name("demo-economy.yaml")
# `daily@HH:MM` (UTC) or an interval `<n>m` / `<n>h`; engine/backup_schedule.py reads it.
BACKUP_SCHEDULE = re.compile(r"daily@([01]\d|2[0-3]):[0-5]\d|[1-9]\d{0,4}[mh]")


def default_shards() -> int:
    """Half the machine's cores, 1 to 4. A shard host is one Python process (a core at most), and
    the ingress replica is the busier process: on 2 cores, 1 shard served 1,115 keyed XP awards/s,
    2 shards 978/s and 4 shards 736/s (fewer, larger batched Ray calls; benchmarks/RESULTS.md).
    A cluster sets LUDEX_SHARDS explicitly; `ludex shards scale N` changes it while serving."""
    return max(1, min(4, (os.cpu_count() or 2) // 2))


def default_max_shard_hosts() -> int:
    """Two shard hosts per core of this machine, at least 4. Each host is one Python process, so
    a scale past what the machine holds would only queue actors Ray cannot start (on 2 cores,
    255 of them never answer). A cluster sets LUDEX_MAX_SHARD_HOSTS to what its nodes hold."""
    return max(4, 2 * (os.cpu_count() or 2))


def reference() -> str:
    """The settings as a Markdown table, for docs/CONFIGURATION.md (`python -m config.settings`)."""
    rows = ["| setting | default | what it does |", "| --- | --- | --- |"]
    for name, field in Settings.model_fields.items():
        default = _MACHINE_DEFAULTS[field.default_factory] if field.default_factory is not None else field.default
        shown = "unset" if default is None else f"`{default}`"
        rows.append(f"| `LUDEX_{name.upper()}` | {shown} | {field.description} |")
    return "\n".join(rows) + "\n"


_MACHINE_DEFAULTS: dict[object, str] = {
    default_shards: "half the cores, 1 to 4",
    default_max_shard_hosts: "two per core, at least 4",
}


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LUDEX_")

    deployment: str = Field(default="ludex", description="Names the Ray actors and Serve app of this deployment.")
    data_dir: Path = Field(default=Path(".ludex"), description="The embedded store, demo credentials and `secret.key`.")
    mongo_url: str | None = Field(default=None, description="MongoDB instead of SQLite (a replica set in production).")
    mongo_database: str = Field(default="ludex", description="The MongoDB database.")
    mongo_timeout_ms: int = Field(
        default=10_000, ge=100, description="Every MongoDB operation fails within this (503)."
    )
    redis_url: str | None = Field(
        default=None,
        description="Rate limits, usage counters, realtime fan-out and socket caps shared by replicas.",
    )
    shards: int = Field(
        default_factory=default_shards,
        ge=1,
        description="Shard hosts at deploy time (default half the cores, 1 to 4); `ludex shards scale N` changes them.",
    )
    max_shard_hosts: int = Field(
        default_factory=default_max_shard_hosts,
        ge=1,
        description="Most shard hosts `PUT /v1/admin/shards` may scale to (default two per core, at least 4); "
        "more answers 422 at once.",
    )
    slots: int = Field(
        default=1024,
        ge=1,
        le=65536,
        description="Slots entities hash to; read when a store first gets its slot table, then fixed with the data.",
    )
    shard_host_resource: str | None = Field(
        default=None,
        description="A Ray custom resource each shard host asks 1 of (`ludex_shard_host`): hosts go where it is.",
    )
    host_down_after_s: float = Field(
        default=10.0, gt=0, description="A shard host Ray reports dead or restarting this long loses its slots."
    )
    handoff_batch_slots: int = Field(
        default=64, ge=1, description="Slots moved per handoff while rebalancing (one drain and snapshot per batch)."
    )
    leaderboard_shards: int = Field(
        default=4,
        ge=1,
        le=64,
        description="Redis keys each leaderboard period is split over (by player), so a hot board melts no single key.",
    )
    leaderboard_push_interval_s: float = Field(
        default=1.0,
        gt=0,
        description="Realtime `leaderboard.rank.changed`: a watched board's top is read and pushed at most this often.",
    )
    snapshot_every: int = Field(default=100, description="Journal records between an entity's snapshots.")
    idle_timeout_s: float = Field(default=300.0, description="An entity idle this long is passivated.")
    max_batch_size: int = Field(default=512, description="Writes per group commit.")
    idempotency_retention_s: float = Field(
        default=7 * 24 * 3600.0, ge=7 * 24 * 3600.0, description="How long keyed answers replay (7 days at least)."
    )
    event_retention_days: float | None = Field(
        default=None, description="Event store retention (the journal stays); unset keeps every event."
    )
    retention_floor_days: float | None = Field(
        default=None, gt=0, description="The least any tenant's or plan's retention may keep (unset: no floor)."
    )
    retention_ceiling_days: float | None = Field(
        default=None, gt=0, description="The most any tenant's or plan's retention may keep (unset: no ceiling)."
    )
    default_rate_limit_per_s: float = Field(
        default=1000.0, description="Calls per second of a key (and of a tenant) without a plan rate; bursts of twice."
    )
    login_rate_per_ip_per_s: float = Field(
        default=10.0, description="Sign-in attempts per client address per second (bursts of twice that)."
    )
    login_rate_per_s: float = Field(default=100.0, description="Sign-in attempts per second in all.")
    player_signin_rate_per_ip_per_s: float = Field(
        default=10.0, gt=0, description="Player sign-ins and refreshes per client address per second (bursts of twice)."
    )
    player_session_rate_per_s: float = Field(
        default=20.0, gt=0, description="Game API calls per player session per second (bursts of twice)."
    )
    restore_max_bytes: int = Field(
        default=64 * 1024**3, ge=1, description="`ludex restore` refuses a backup that unpacks to more bytes than this."
    )
    backoffice_rate_per_user_per_s: float = Field(
        default=20.0,
        gt=0,
        description="Backoffice (dashboard) calls per second of one signed-in user, all sessions together"
        " (bursts of twice that); more answer 429 `rate-limited` with Retry-After.",
    )
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024, description="Larger request bodies answer 413.")
    secret_key: str | None = Field(
        default=None, description="Fernet key sealing secrets at rest; unset: `<data dir>/secret.key` (0600)."
    )
    metrics_token: str | None = Field(
        default=None, description="When set, `GET /metrics` needs `Authorization: Bearer <token>`."
    )
    realtime_max_eventtypes: int = Field(default=32, description="Event types one realtime subscription may name.")
    realtime_queue_size: int = Field(default=1000, description="A socket's backlog before it is closed (4008).")
    realtime_max_connections_per_key: int = Field(
        default=16, ge=1, description="Sockets per API key (per replica, or in all with Redis); over it 4429."
    )
    realtime_max_connections_per_tenant: int = Field(
        default=256, ge=1, description="Sockets per tenant (per replica, or in all with Redis); over it 4429."
    )
    realtime_max_connections: int = Field(default=1024, ge=1, description="Sockets per replica, all tenants.")
    realtime_max_message_bytes: int = Field(
        default=16 * 1024, ge=256, description="Larger client messages close the socket (1009)."
    )
    realtime_messages_per_s: float = Field(default=10.0, gt=0, description="Client messages per socket per second.")
    realtime_message_burst: int = Field(default=20, ge=1, description="Client messages a socket may send at once.")
    realtime_rate_limit_strikes: int = Field(
        default=20, ge=1, description="Refused messages in a row before the socket closes (4429)."
    )
    realtime_max_pending_commands: int = Field(
        default=256,
        ge=1,
        description="Commands one socket may have sent and not yet had answered; past it the server stops reading.",
    )
    realtime_max_replay: int = Field(
        default=10_000, ge=1, description="Events one `subscribe ... since` may replay (`since_too_old` beyond)."
    )
    realtime_recheck_s: float = Field(
        default=30.0,
        gt=0,
        description="How often an open socket's key is checked again (expiry; revocations reach it sooner).",
    )
    realtime_auth_timeout_s: float = Field(
        default=5.0, gt=0, description="How long a socket without credentials waits for its `auth` message."
    )
    realtime_max_pending: int = Field(
        default=256,
        ge=1,
        description="Sockets per replica still waiting for their `auth` message, apart from the authenticated cap.",
    )
    realtime_max_pending_per_address: int = Field(
        default=8, ge=1, description="Sockets waiting for their `auth` message per client address (per replica)."
    )
    realtime_revocation_poll_s: float = Field(
        default=0.5,
        gt=0,
        description="How often a replica looks for revoked keys and suspended or deleted tenants and projects "
        "(open sockets learn of them within about twice this).",
    )
    realtime_replay_events_per_request: int = Field(
        default=200,
        ge=1,
        description="Events a `subscribe ... since` replay reads per request of the key's and tenant's rate limits.",
    )
    http_max_ongoing_requests: int = Field(
        default=256, ge=1, description="HTTP requests a replica serves at once (sockets get their own slots)."
    )
    webhook_retry_schedule: str | None = Field(
        default=None, description="Comma-separated seconds between delivery attempts; unset: the engine's schedule."
    )
    webhook_allow_private: bool = Field(
        default=False,
        description="Allow private webhook targets; unset: on only for an embedded server bound to loopback.",
    )
    auto_migrate: bool = Field(
        default=True,
        description="Migrate an older store at start; false refuses until `ludex migrate` ran (a separate step).",
    )
    migration_batch_size: int = Field(default=1000, ge=1, description="Documents per MongoDB migration round trip.")
    webhook_delivery_retention_days: float = Field(
        default=30.0, gt=0, description="Delivered and dead webhook deliveries are deleted after this."
    )
    billing_interval_s: float = Field(
        default=60.0,
        ge=0,
        description="How often a replica enqueues ended days' usage reports and sends due billing hooks (0: never).",
    )
    bind_host: str = Field(
        default="127.0.0.1", description="Where the HTTP API listens (`ludex serve --host` sets it)."
    )
    auth_secret: str | None = Field(
        default=None,
        description="The HS256 key signing dashboard tokens; unset: one generated once, kept sealed in the store.",
    )
    auth_access_ttl_s: int = Field(
        default=15 * 60, ge=1, description="Lifetime in seconds of a dashboard access token (refresh tokens rotate)."
    )
    proxy: str | None = Field(
        default=None,
        description="The HTTP proxy in front of the ingress, `haproxy` or `python` (`ludex serve --proxy`); "
        "unset: HAProxy where installed.",
    )
    backup_schedule: str | None = Field(
        default=None,
        description="Embedded store: back up on a schedule, `daily@HH:MM` (UTC) or an interval (`6h`, `30m`); "
        "unset: never.",
    )
    backup_keep: int = Field(default=7, ge=1, description="Scheduled backups kept; older ones are deleted.")
    backup_dir: Path | None = Field(
        default=None, description="Where scheduled backups go (made 0700); unset: `<data dir>/../ludex-backups`."
    )
    log_level: str = Field(default="INFO", description="Level of the JSON logs of `ludex.*` (DEBUG, INFO, WARNING...).")
    tracing_enabled: bool = Field(default=False, description="One OpenTelemetry server span per HTTP request.")
    tracing_console: bool = Field(
        default=False, description="With tracing on, print spans to stdout (a quick look, no exporter set up)."
    )

    @field_validator("secret_key")
    @classmethod
    def _fernet_key(cls, value: str | None) -> str | None:
        """Read as `secret.key` is: surrounding whitespace (a trailing newline from a Secret or an
        `echo`) is not part of the key. A malformed key stops the start here, naming the setting,
        instead of at the first secret sealed."""
        if value is None or not value.strip():
            return None
        key = value.strip()
        try:
            Fernet(key)  # the check SecretBox makes, made here at start
        except ValueError:
            raise ValueError(
                "LUDEX_SECRET_KEY must be a Fernet key: 32 bytes in url-safe base64, 44 characters (make one with: "
                "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')"
            ) from None
        return key

    @field_validator("backup_schedule")
    @classmethod
    def _backup_schedule(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not BACKUP_SCHEDULE.fullmatch(value.strip()):
            raise ValueError(
                f"LUDEX_BACKUP_SCHEDULE must be `daily@HH:MM` (UTC) or an interval like `6h` or `30m`, not {value!r}"
            )
        return value.strip()

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

    @property
    def backups_path(self) -> Path:
        """Beside the data dir by default, not in it: a restore replaces the data dir's files."""
        return self.backup_dir or self.data_dir.resolve().parent / "ludex-backups"


if __name__ == "__main__":
    print(reference(), end="")
