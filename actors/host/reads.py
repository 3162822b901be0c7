"""What a shard host answers without deciding anything: read models of a player's durable
state (`view`), the project's definitions as a document, the wallet ledger and purchase
receipts (both read from the journal, so they always agree with the balance)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from actors.host.economies import ProjectEconomies
from actors.host.entities import Entities
from actors.slots import SlotGate, wrong_owner_outcome
from actors.stores.base import JournalRecord, JournalStore
from engine import views
from engine.definitions import Economy, economy_to_document
from engine.errors import PlayerNotFoundError, Rejection
from engine.events import PurchaseSucceeded, event_from_dict, event_id, purchase_seq
from engine.identity import player_key
from engine.outcomes import Outcome
from engine.rules import receipt_view
from engine.state import PlayerState

LEDGER_TYPES = ("wallet.credited", "wallet.debited", "wallet.clawedback", "wallet.debt.repaid")

View = Callable[[PlayerState, Economy, datetime], dict[str, Any]]  # now: which boosts still run
VIEWS: dict[str, View] = {
    "profile": views.profile_view,
    "player": lambda state, economy, now: views.player_view(state),
    "progression": lambda state, economy, now: views.progression_view(state, economy),
    "wallet": lambda state, economy, now: {"balances": dict(state.balances), **views.debts_view(state)},
    "inventory": lambda state, economy, now: {"items": views.inventory_view(state)},
    "counters": lambda state, economy, now: {"counters": dict(state.counters)},
    "quests": lambda state, economy, now: views.quests_view(state, economy),
    "achievements": lambda state, economy, now: {"items": views.achievements_view(state)},
    "flags": lambda state, economy, now: views.flags_view(state, economy),
}


class PlayerReads:
    def __init__(self, store: JournalStore, slots: SlotGate, entities: Entities, economies: ProjectEconomies) -> None:
        self.store = store
        self.slots = slots
        self.entities = entities
        self.economies = economies

    async def view(self, tenant: str, project: str, player_id: str, name: str) -> Outcome:
        """A read model (`VIEWS`) of the player's durable state, if this host owns its slot."""
        slot = self.slots.slot(tenant, project, player_id)
        if not await self.slots.enter(slot):
            return wrong_owner_outcome(slot)
        try:
            return await self._view(tenant, project, player_id, name)
        finally:
            self.slots.leave(slot)

    async def _view(self, tenant: str, project: str, player_id: str, name: str) -> Outcome:
        key = player_key(tenant, project, player_id)
        async with self.entities.held(key) as entity:
            try:
                state = await self.entities.load(entity, player_id)
                economy = await self.economies.get(tenant, project)
            except Rejection as rejection:
                return Outcome.refused(rejection)
        if not state.is_active:
            return Outcome.refused(PlayerNotFoundError(player_id))
        return Outcome.accepted(VIEWS[name](state, economy, self.entities.clock.now()))

    async def economy_document(self, tenant: str, project: str) -> dict[str, Any] | None:
        """The project's current definitions in document form (for catalogs), or None."""
        try:
            economy = await self.economies.get(tenant, project)
        except Rejection:
            return None
        return economy_to_document(economy)

    async def ledger(
        self, tenant: str, project: str, player_id: str, *, currency: str | None, after: tuple[int, int], limit: int
    ) -> list[dict[str, Any]]:
        """Wallet entries oldest first, strictly after position `after` = (seq, index)."""
        key = player_key(tenant, project, player_id)
        entries: list[dict[str, Any]] = []
        next_seq = max(after[0] - 1, 0)  # re-read `after`'s own record: later events in it count
        while records := await self.store.read_journal(key, after_seq=next_seq, limit=200):
            for record in records:
                for index, event in enumerate(record.current_events()):
                    if (record.seq, index) <= after or event["type"] not in LEDGER_TYPES:
                        continue
                    if currency is not None and event["data"]["currency"] != currency:
                        continue
                    entries.append(ledger_entry(key, record, index, event))
                    if len(entries) == limit:
                        return entries
            next_seq = records[-1].seq
        return entries

    async def receipt(self, tenant: str, project: str, player_id: str, purchase: str) -> dict[str, Any] | None:
        key = player_key(tenant, project, player_id)
        seq = purchase_seq(key, purchase)
        if seq is None:
            return None
        records = await self.store.read_journal(key, after_seq=seq - 1, limit=1)
        for record in records:
            for event in record.current_events():
                if event["type"] == PurchaseSucceeded.type:
                    succeeded = event_from_dict(event)
                    assert isinstance(succeeded, PurchaseSucceeded)
                    return receipt_view(succeeded, record.occurred_at)
        return None


def ledger_entry(key: str, record: JournalRecord, index: int, event: dict[str, Any]) -> dict[str, Any]:
    """One wallet event as a ledger line: the ledger route and the player export show the same one."""
    data = event["data"]
    sign = 1 if event["type"] == "wallet.credited" else -1
    # a clawback moves the balance by what it took (the rest is debt, in `debtAfter`)
    moved = data["taken"] if event["type"] == "wallet.clawedback" else data["amount"]
    debt = {"debtAfter": data["debtAfter"]} if "debtAfter" in data else {}
    return {
        "entryId": event_id(key, record.seq, index),
        "currency": data["currency"],
        "delta": sign * moved,
        "balanceAfter": data["balanceAfter"],
        **debt,
        "reason": data.get("reason", ""),
        "metadata": data.get("metadata", {}),
        "idempotencyKey": record.idempotency_key,
        "occurredAt": record.occurred_at,
        "position": [record.seq, index],
    }
