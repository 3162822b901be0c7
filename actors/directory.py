"""The one module that calls the Ray API: it makes shard hosts Ray actors, finds them by name,
and routes commands to them. Commands for a shard that arrive while earlier calls to it are in
flight go together in its next call (`Coalescer`), so a burst costs one Ray call per shard per
batch, not one per request."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

import ray

from actors.coalescer import Coalescer
from actors.committer import EntityUnavailableError
from actors.event_publisher import RedisEventPublisher
from actors.host import CommandRequest, ShardHost, unavailable_outcome
from actors.secret_box import SecretBox
from actors.sharding import shard_for, shard_name
from actors.stores.factory import store_for
from actors.webhook_delivery import WebhookWorker
from config.logging import configure_logging
from config.settings import Settings
from engine.outcomes import Outcome
from engine.webhooks import parse_retry_schedule

NAMESPACE = "ludex"
MAX_CALLS_IN_FLIGHT_PER_SHARD = 2  # one call decides while the previous one waits for its commit
MAX_COMMANDS_PER_CALL = 512
log = logging.getLogger("ludex.webhooks")


class RayShardHost(ShardHost):
    """A shard host in its own Ray worker process: it sets up that process's JSON logging, and
    publishes durable events to Redis for realtime fan-out when `redis_url` is given."""

    def __init__(self, *args: Any, redis_url: str | None = None, **kwargs: Any) -> None:
        configure_logging()
        if redis_url:
            kwargs["publisher"] = RedisEventPublisher(redis_url)
        super().__init__(*args, **kwargs)


def start_shard_hosts(settings: Settings, *, max_restarts: int = -1) -> list[Any]:
    """Create (or find, if they already run) the deployment's shard host actors. Ray restarts a
    host that dies (`max_restarts`); the new one recovers its entities from the journal."""
    remote_host: Any = ray.remote(RayShardHost)
    handles = [
        remote_host.options(
            name=shard_name(settings.deployment, shard_id),
            namespace=NAMESPACE,
            get_if_exists=True,
            lifetime="detached",
            max_restarts=max_restarts,
            max_task_retries=0,
            max_concurrency=10_000,
            num_cpus=0,
        ).remote(
            store_for(settings),
            shard_id=shard_id,
            snapshot_every=settings.snapshot_every,
            idle_timeout_s=settings.idle_timeout_s,
            max_batch_size=settings.max_batch_size,
            idempotency_retention_s=settings.idempotency_retention_s,
            event_retention_days=settings.event_retention_days,
            redis_url=settings.redis_url,
        )
        for shard_id in range(settings.shards)
    ]
    ray.get([handle.start.remote() for handle in handles])
    return handles


def stop_shard_hosts(handles: list[Any], *, attempts: int = 30) -> None:
    """Stop every host (flushing its commits), then kill it. A host Ray is restarting at that
    moment (after a crash) is asked again until it answers, then stopped like the others."""
    for handle in handles:
        for attempt in range(attempts):
            try:
                ray.get(handle.stop.remote())
                break
            except ray.exceptions.ActorUnavailableError:
                if attempt == attempts - 1:
                    raise
                time.sleep(1.0)
        ray.kill(handle, no_restart=True)


class RayWebhookWorker(WebhookWorker):
    """The webhook worker in its own Ray worker process. It starts its loop as soon as it is
    constructed, so a worker Ray restarts after a crash resumes from its durable cursor alone."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        configure_logging()
        super().__init__(*args, **kwargs)
        self._boot: asyncio.Task[None] | None = None
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # a Ray that constructs actors outside their loop: `start` does it
            return
        self._boot = asyncio.ensure_future(self._keep_starting())

    async def _keep_starting(self) -> None:
        while True:
            try:
                await self.start()
                return
            except Exception:  # noqa: BLE001 - e.g. the store is not reachable yet: try again
                log.exception("the webhook worker could not start; trying again in 1 s")
                await asyncio.sleep(1.0)


def webhook_worker_name(deployment: str) -> str:
    return f"{deployment}-webhooks"


def start_webhook_worker(settings: Settings, *, max_restarts: int = -1) -> Any:
    """Create (or find) the deployment's one webhook worker; Ray restarts it if it dies."""
    remote_worker: Any = ray.remote(RayWebhookWorker)
    handle = remote_worker.options(
        name=webhook_worker_name(settings.deployment),
        namespace=NAMESPACE,
        get_if_exists=True,
        lifetime="detached",
        max_restarts=max_restarts,
        max_task_retries=0,
        max_concurrency=100,
        num_cpus=0,
    ).remote(
        store_for(settings),
        schedule=parse_retry_schedule(settings.webhook_retry_schedule),
        allow_private=settings.webhook_allow_private,
        retention_days=settings.webhook_delivery_retention_days,
        box=SecretBox.from_settings(settings),
    )
    ray.get(handle.start.remote())
    return handle


async def webhook_stats(deployment: str, timeout_s: float = 2.0) -> dict[str, Any] | None:
    """The webhook worker's counters, or None when it is not running (or not answering)."""
    try:
        handle = ray.get_actor(webhook_worker_name(deployment), namespace=NAMESPACE)
        stats: dict[str, Any] = await asyncio.wait_for(handle.stats.remote(), timeout_s)
    except Exception:  # noqa: BLE001 - metrics must not fail a scrape
        return None
    return stats


def stop_webhook_worker(handle: Any) -> None:
    ray.get(handle.stop.remote())
    ray.kill(handle, no_restart=True)


class ShardDirectory:
    """Routes requests to shard hosts by the stable hash of (tenant, project, player)."""

    def __init__(self, handles: list[Any]) -> None:
        self.handles = handles
        self._shards = [
            Coalescer(
                self._sender(handle),
                max_batch_size=MAX_COMMANDS_PER_CALL,
                max_inflight=MAX_CALLS_IN_FLIGHT_PER_SHARD,
            )
            for handle in handles
        ]

    @staticmethod
    def _sender(handle: Any) -> Callable[[list[list[CommandRequest]]], Awaitable[list[list[Outcome]]]]:
        async def send(groups: list[list[CommandRequest]]) -> list[list[Outcome]]:
            """One Ray call for every caller's commands; each caller's stay together, in order."""
            outcomes: list[Outcome] = await handle.execute.remote([r for group in groups for r in group])
            answers, start = [], 0
            for group in groups:
                answers.append(outcomes[start : start + len(group)])
                start += len(group)
            return answers

        return send

    @classmethod
    def connect(cls, settings: Settings) -> ShardDirectory:
        names = [shard_name(settings.deployment, i) for i in range(settings.shards)]
        return cls([ray.get_actor(name, namespace=NAMESPACE) for name in names])

    def host_for(self, tenant: str, project: str, player_id: str) -> Any:
        return self.handles[shard_for(tenant, project, player_id, len(self.handles))]

    async def execute(self, requests: list[CommandRequest]) -> list[Outcome]:
        """Answers in request order; commands for one player apply in request order."""
        by_shard: dict[int, list[int]] = defaultdict(list)
        for index, request in enumerate(requests):
            by_shard[shard_for(request.tenant, request.project, request.player_id, len(self.handles))].append(index)
        calls = {shard: self._shards[shard].call([requests[i] for i in indexes]) for shard, indexes in by_shard.items()}
        answers: dict[int, Outcome] = {}
        results = await asyncio.gather(*calls.values(), return_exceptions=True)
        for shard, outcomes in zip(calls, results, strict=True):
            if isinstance(outcomes, BaseException):
                # The host died or restarts: whether these commands committed is unknown, and a
                # retry with the same idempotency key is always safe.
                _unavailable(outcomes)
                outcomes = [unavailable_outcome(f"shard {shard} is restarting")] * len(by_shard[shard])
            for index, outcome in zip(by_shard[shard], outcomes, strict=True):
                answers[index] = outcome
        return [answers[index] for index in range(len(requests))]

    async def _call(self, method: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return await method.remote(*args, **kwargs)
        except ray.exceptions.RayError as error:
            _unavailable(error)
            raise EntityUnavailableError("the shard host is restarting") from error

    async def stats(self) -> list[dict[str, Any]]:
        """Each reachable host's metrics snapshot (a host that does not answer is left out)."""
        results = await asyncio.gather(*(h.stats.remote() for h in self.handles), return_exceptions=True)
        return [r for r in results if isinstance(r, dict)]

    async def define_economy(self, tenant: str, project: str, document: dict[str, Any]) -> Outcome:
        outcome: Outcome = await self.host_for(tenant, project, "").define_economy.remote(tenant, project, document)
        await asyncio.gather(*(h.invalidate_economy.remote(tenant, project) for h in self.handles))
        return outcome

    async def view(self, tenant: str, project: str, player_id: str, name: str) -> Outcome:
        result: Outcome = await self._call(
            self.host_for(tenant, project, player_id).view, tenant, project, player_id, name
        )
        return result

    async def ledger(self, tenant: str, project: str, player_id: str, **query: Any) -> list[dict[str, Any]]:
        host = self.host_for(tenant, project, player_id)
        entries: list[dict[str, Any]] = await self._call(host.ledger, tenant, project, player_id, **query)
        return entries

    async def erase(self, tenant: str, project: str, player_id: str, request_id: str | None) -> Outcome:
        """The player's host deletes it and rewrites its personal data (`ShardHost.erase`)."""
        host = self.host_for(tenant, project, player_id)
        outcome: Outcome = await self._call(host.erase, tenant, project, player_id, request_id)
        return outcome

    async def receipt(self, tenant: str, project: str, player_id: str, purchase: str) -> dict[str, Any] | None:
        host = self.host_for(tenant, project, player_id)
        receipt: dict[str, Any] | None = await self._call(host.receipt, tenant, project, player_id, purchase)
        return receipt

    async def economy_document(self, tenant: str, project: str) -> dict[str, Any] | None:
        host = self.host_for(tenant, project, "")
        document: dict[str, Any] | None = await self._call(host.economy_document, tenant, project)
        return document

    async def economy_version(self, tenant: str, project: str) -> int:
        version: int = await self._call(self.host_for(tenant, project, "").economy_version, tenant, project)
        return version

    async def ready(self, timeout_s: float = 5.0) -> bool:
        try:
            await asyncio.wait_for(asyncio.gather(*(h.ready.remote() for h in self.handles)), timeout_s)
        except Exception:  # noqa: BLE001 - any failure means not ready
            return False
        return True


def _unavailable(error: BaseException) -> None:
    """Only Ray's failures mean "restarting"; anything else is a bug and must surface."""
    if not isinstance(error, ray.exceptions.RayError):
        raise error
