"""What the game API does per call about usage: the tenant's plan, the call counted, the quota
decided (`engine.quotas`), and the events of accepted commands counted."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from actors.clock import Clock, SystemClock
from actors.ingress.plan_cache import PlanCache, PlayerCounts
from actors.ingress.usage_meters import LocalUsageMeter, RedisUsageMeter, UsageMeter
from actors.stores.base import DocumentStore, PlayerIndex
from engine.outcomes import Outcome
from engine.quotas import QuotaRefusal, Usage, month_of, quota_refusal


class MeteringStore(DocumentStore, PlayerIndex, Protocol):
    """Plans and usage are documents; a player quota counts the player index."""


def events_of(outcomes: Iterable[Outcome]) -> int:
    """Events produced by fresh accepted commands; replays and rejections produce none."""
    return sum(len(o.event_ids) for o in outcomes if o.ok and not o.replayed)


class Metering:
    """What the game API needs per call: the tenant's plan, the call counted, the quota decided,
    and the events of accepted commands counted."""

    def __init__(
        self, meter: UsageMeter, plans: PlanCache, clock: Clock | None = None, players: PlayerCounts | None = None
    ) -> None:
        self.meter = meter
        self.plans = plans
        self.players = players
        self.clock: Clock = clock or SystemClock()

    @classmethod
    def for_deployment(cls, store: MeteringStore, redis_url: str | None) -> Metering:
        meter: UsageMeter = RedisUsageMeter(redis_url) if redis_url else LocalUsageMeter(store)
        return cls(meter, PlanCache(store), players=PlayerCounts(store))

    def month(self) -> str:
        return month_of(self.clock.now())

    async def count_request(self, tenant: str, count: int = 1) -> Usage:
        """Counts `count` calls (a realtime socket's commands that go out together count one each)."""
        return await self.meter.add(tenant, self.month(), requests=count)

    def refusal(self, plan: dict[str, Any] | None, usage: Usage) -> QuotaRefusal | None:
        return quota_refusal(plan, usage, self.clock.now())

    async def count_events(self, tenant: str, outcomes: Sequence[Outcome]) -> int:
        produced = events_of(outcomes)
        if produced:
            await self.meter.add(tenant, self.month(), events=produced)
        return produced
