"""The shard host (`ShardHost`, shard_host.py) and the parts it is made of; see shard_host.py
for which part does what. Importers take `ShardHost`, `CommandRequest` and the
`entity-unavailable` answer from here."""

from actors.host.pipeline import CommandRequest
from actors.host.shard_host import ShardHost
from actors.host.unavailable import UNAVAILABLE, unavailable_outcome

__all__ = ["UNAVAILABLE", "CommandRequest", "ShardHost", "unavailable_outcome"]
