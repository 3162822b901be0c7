"""The Serve import path for clusters that deploy Ludex declaratively (KubeRay's `serveConfigV2`:
`import_path: serve.entrypoint:app`).

`ludex serve` starts Ray, the shard hosts and the app itself (`serve/launcher.py`). In a KubeRay
`RayService` the operator asks the cluster's Serve controller to import this module and call `app`
with the config's `args`; that call runs inside the cluster, where Ray is connected. It reads
`Settings` from the `LUDEX_*` environment, creates the slot coordinator and the shard hosts (or
finds them: creation is idempotent, so a config update or a controller restart calls it again
safely; the host count is the one last scaled to, `LUDEX_SHARDS` only for a new store) and returns the
application. It never bootstraps the demo tenant.

Importing this module starts nothing and does not import Ray: all work happens when `app` is
called.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from config.settings import Settings


class EntrypointArgs(BaseModel):
    """The `args` of the application in `serveConfigV2`."""

    model_config = ConfigDict(extra="forbid")

    replicas: int = Field(default=1, ge=1, description="ingress replicas when the config sets no autoscaling")
    require_mongo: bool = Field(
        default=True,
        description="refuse to start on the embedded SQLite store, which is local to one pod",
    )


def app(args: dict[str, Any]) -> Any:
    """Serve application builder: start (or find) the shard hosts and return the ingress app."""
    options = EntrypointArgs.model_validate(args or {})
    settings = Settings()
    if options.require_mongo and not settings.mongo_url:
        raise RuntimeError(
            "LUDEX_MONGO_URL is not set: in a Ray cluster every node needs the same durable store "
            "(set it, e.g. from a Secret, or pass require_mongo: false in the Serve args for a "
            "single-node test cluster)"
        )
    from actors.cluster import start_shard_hosts, start_webhook_worker
    from serve.deployment import build_application

    if not settings.mongo_url:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    # A config update (or a new cluster of an upgrade) keeps the host count last scaled to.
    start_shard_hosts(settings, keep_scaled=True)
    start_webhook_worker(settings)
    return build_application(settings, replicas=options.replicas)
