"""A shard host's guardrail step, between `decide` and the journal: the project budgets' room
from this host's leases (`actors/guardrail_leases.py`), then the pure check
(`engine/guardrail_checks.py`), then the accepted command's spending of that room."""

from __future__ import annotations

from datetime import datetime

from actors.guardrail_leases import BudgetLeases, lease_key
from engine.definitions import Economy
from engine.guardrail_checks import GuardrailRefusal, demands, guard
from engine.guardrails import Guardrail, Limit
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
        keys = {gid: (lease_key(tenant, project, gid), _limit(budgeted[gid]).window(epoch_s)) for gid in wanted}
        for guardrail_id, amount in wanted.items():
            key, window = keys[guardrail_id]
            await self.leases.reserve(key, window, _limit(budgeted[guardrail_id]).amount, amount)
        # From here to the spending nothing awaits: the room read is the room spent, though other
        # commands spent and leased while this one waited for its leases above.
        room = {gid: self.leases.room(*keys[gid]) for gid in wanted}
        result = guard(state, op, decision, guardrails, now, room)
        if isinstance(result, Accepted):
            for guardrail_id, amount in wanted.items():
                self.leases.spend(*keys[guardrail_id], amount)
        return result


def _limit(guardrail: Guardrail) -> Limit:
    assert guardrail.project is not None  # only budgeted guardrails get here
    return guardrail.project
