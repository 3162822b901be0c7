"""Models of `/v1/admin/shards`: the slot map's summary and what a rebalance did."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from serve.backoffice_schemas import Body

MAX_SHARD_HOSTS = 256


class ShardOwner(BaseModel):
    host: str = Field(description="The shard host's Ray actor name.")
    slots: int = Field(description="Slots it owns.")
    down: bool = Field(description="Presumed dead (silent for `LUDEX_HOST_DOWN_AFTER_S`): its slots moved away.")


class Rebalance(BaseModel):
    moved: int = Field(description="Slots that changed hosts.")
    handoffs: int = Field(description="Handoffs (one drain and snapshot of a batch of slots each).")
    seconds: float = Field(description="How long the whole rebalance took.")
    movesPerSecond: float | None = Field(description="`moved / seconds`; null when nothing moved.")
    longestHandoffS: float = Field(description="The longest one batch of slots held its commands back.")
    passivated: int = Field(description="Entities snapshotted and dropped by the hosts giving slots away.")
    failures: list[str] = Field(description="Hosts that did not answer a step (their slots moved regardless).")


class ShardStatus(BaseModel):
    hosts: int = Field(description="Shard hosts the deployment runs.")
    slots: int = Field(description="Slots entities hash to (fixed for the life of the data).")
    version: int = Field(description="The slot map's version; it only grows.")
    owners: list[ShardOwner]
    lastRebalance: Rebalance = Field(description="The last rebalance that moved slots (zeros before any).")


class ShardScaleIn(Body):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"hosts": 4}]})
    hosts: int = Field(
        ge=1,
        le=MAX_SHARD_HOSTS,
        strict=True,
        description="Shard hosts to run (a JSON integer). A deployment takes at most `LUDEX_MAX_SHARD_HOSTS` "
        "and one per slot: more answers 422 `validation-error` before any host starts.",
    )
