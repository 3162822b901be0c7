"""A shard host's guardrail step, between `decide` and the journal: the project budgets' room
from this host's leases (`actors/guardrail_leases.py`), then the pure check
(`engine/guardrail_checks.py`), then the accepted command's spending of that room."""

from __future__ import annotations

from datetime import datetime

from actors.guardrail_leases import BudgetLeases, lease_key
from engine.definitions import Economy
from engine.guardrail_checks import GuardrailRefusal, demands, guard
from engine.rules import Accepted
from engine.state import PlayerState


class HostGuardrails:
    def __init__(self, leases: BudgetLeases) -> None:
        self.leases = leases

    async def check(
        self,
        tenant: str,
        project: str,
        state: PlayerState,
        op: str,
        decision: Accepted,
        economy: Economy,
        now: datetime,
    ) -> Accepted | GuardrailRefusal:
        guardrails = economy.guardrails
        budgeted = {gid: g for gid, g in guardrails.items() if g.project is not None}
        if not budgeted:
            return guard(state, op, decision, guardrails, now, {})
        epoch_s = int(now.timestamp())
        wanted = demands(budgeted, op, decision.events)
        room: dict[str, int] = {}
        for guardrail_id, amount in wanted.items():
            limit = budgeted[guardrail_id].project
            assert limit is not None
            key = lease_key(tenant, project, guardrail_id)
            room[guardrail_id] = await self.leases.reserve(key, limit.window(epoch_s), limit.amount, amount)
        result = guard(state, op, decision, guardrails, now, room)
        if isinstance(result, Accepted):
            for guardrail_id, amount in wanted.items():
                limit = budgeted[guardrail_id].project
                assert limit is not None
                self.leases.spend(lease_key(tenant, project, guardrail_id), limit.window(epoch_s), amount)
        return result
