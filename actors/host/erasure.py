"""Erasing a player (docs/PRIVACY.md): a journaled `player.deleted` if it is not deleted yet,
then the store rewrites its personal data while the player's lock is held, and the entity is
dropped from memory so its next use reloads what was rewritten. Idempotent."""

from __future__ import annotations

from typing import Protocol

from actors.host.entities import Entities
from actors.host.pipeline import CommandPipeline, CommandRequest
from actors.host.unavailable import unavailable_outcome
from actors.stores.base import ErasureStore, SnapshotStore
from engine.commands import DeletePlayer
from engine.errors import PlayerNotFoundError
from engine.identity import player_key
from engine.outcomes import Outcome
from engine.privacy import scrub_state
from engine.state import state_from_dict, state_to_dict


class ErasingStore(ErasureStore, SnapshotStore, Protocol):
    """Erasure rewrites the stored copies, then saves the snapshots of the entities it reloads."""


class PlayerErasure:
    def __init__(self, store: ErasingStore, entities: Entities, commands: CommandPipeline) -> None:
        self.store = store
        self.entities = entities
        self.commands = commands

    async def erase(self, tenant: str, project: str, player_id: str, request_id: str | None = None) -> Outcome:
        """Delete the player, then have the store rewrite its personal data (`ErasureStore.erase_player`)."""
        deleted = await self.commands.execute_one(
            CommandRequest(tenant, project, player_id, DeletePlayer(), None, request_id)
        )
        if deleted.refusal is not None and deleted.refusal.slug != PlayerNotFoundError.slug:
            return deleted  # unavailable, or the project is gone: nothing was rewritten
        key = player_key(tenant, project, player_id)
        async with self.entities.held(key) as entity:
            try:
                state = await self.entities.load(entity, player_id)
            except Exception as error:  # a store read failed: retryable, nothing rewritten
                return unavailable_outcome(f"store read failed: {error}")
            if not state.exists:
                return Outcome.refused(PlayerNotFoundError(player_id))
            # Snapshots being written in the background hold the state from before: let them land first.
            await self.entities.settle()
            # A snapshot at the last seq first: a passivation that snapshotted the old state just
            # before cannot land after the rewrite (snapshots never move back), only before it.
            erased = state_from_dict(scrub_state(state_to_dict(state)))
            await self.store.save_snapshots([self.entities.snapshot(key, erased)])
            changed = await self.store.erase_player(key)
            self.entities.retire(entity)
            return Outcome.accepted({"playerId": player_id, "seq": state.seq, "rewritten": changed})
