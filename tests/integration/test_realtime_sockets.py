"""Realtime socket caps: counted per replica without Redis, shared by replicas through a real
`redis-server` with it, and a dead replica's slots come back when their leases lapse."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from config.settings import Settings
from engine.access import ApiKey
from serve.realtime.sockets import OpenSockets


def api_key(tenant: str) -> ApiKey:
    prefix = uuid.uuid4().hex[:12]
    return ApiKey(
        id=f"key_{prefix}",
        tenant_id=tenant,
        project_id="game",
        name="k",
        prefix=prefix,
        secret_hash="-",
        scopes=("realtime",),
        created_at="2026-01-01T00:00:00Z",
    )


def settings(tmp_path: Path, redis_url: str | None, **limits: float) -> Settings:
    values = {"realtime_max_connections_per_key": 2, "realtime_max_connections_per_tenant": 3, **limits}
    return Settings(data_dir=tmp_path, redis_url=redis_url, **values)  # type: ignore[arg-type]


@pytest.fixture
async def replicas(tmp_path: Path, redis_url: str) -> AsyncIterator[list[OpenSockets]]:
    found = [OpenSockets(settings(tmp_path, redis_url)) for _ in range(2)]
    yield found
    for each in found:
        await each.close()


async def test_without_redis_each_replica_counts_its_own(tmp_path: Path) -> None:
    one, two = OpenSockets(settings(tmp_path, None)), OpenSockets(settings(tmp_path, None))
    key = api_key(f"t-{uuid.uuid4().hex[:6]}")
    assert [await one.admit(key, f"c{i}") for i in range(3)] == [True, True, False]
    assert await two.admit(key, "c9") is True  # another replica: its own count
    await one.release(key, "c0")
    assert await one.admit(key, "c3") is True


async def test_replicas_sharing_redis_share_the_key_and_tenant_caps(replicas: list[OpenSockets]) -> None:
    one, two = replicas
    tenant = f"t-{uuid.uuid4().hex[:6]}"
    key, other = api_key(tenant), api_key(tenant)
    assert await one.admit(key, "a1") is True
    assert await two.admit(key, "a2") is True
    assert await one.admit(key, "a3") is False and await two.admit(key, "a4") is False  # key cap 2, in all
    assert await two.admit(other, "b1") is True
    assert await one.admit(other, "b2") is False  # tenant cap 3, in all
    await one.release(key, "a1")
    assert await two.admit(other, "b3") is True  # the released slot is free on every replica


async def test_a_dead_replicas_slots_lapse_and_renewed_ones_stay(tmp_path: Path, redis_url: str) -> None:
    quick = {"realtime_recheck_s": 0.1}  # leases of 3 re-checks + 5 s
    dead = OpenSockets(settings(tmp_path, redis_url, **quick))
    alive = OpenSockets(settings(tmp_path, redis_url, **quick))
    try:
        tenant = f"t-{uuid.uuid4().hex[:6]}"
        held, kept = api_key(tenant), api_key(tenant)
        assert await dead.admit(held, "d1") and await dead.admit(held, "d2")
        assert await alive.admit(kept, "k1")
        assert await alive.admit(held, "x") is False
        for _ in range(100):  # `alive` renews its lease at each re-check; `dead` never does
            await alive.renew(kept, "k1")
            if await alive.admit(held, "x"):
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the dead replica's slots never lapsed")
        # k1 (renewed) and x hold two of the tenant's 3 slots: one more fits, then none.
        assert await alive.admit(api_key(tenant), "y") is True
        assert await alive.admit(api_key(tenant), "z") is False
    finally:
        await dead.close()
        await alive.close()


async def test_sockets_waiting_to_authenticate_are_capped_per_address_and_in_all(tmp_path: Path) -> None:
    sockets = OpenSockets(settings(tmp_path, None, realtime_max_pending_per_address=2, realtime_max_pending=3))
    assert [sockets.await_auth("10.0.0.1") for _ in range(3)] == [True, True, False]
    assert sockets.await_auth("10.0.0.2") is True  # another address has room
    assert sockets.await_auth("10.0.0.3") is False  # but three wait in all
    sockets.authenticated("10.0.0.1")
    assert sockets.await_auth("10.0.0.1") is True  # an authenticated socket gave its place back
    assert await sockets.admit(api_key("t-pending"), "c1") is True  # the authenticated cap is apart


async def test_behind_a_proxy_that_hides_clients_only_the_cap_in_all_holds(tmp_path: Path) -> None:
    """Behind HAProxy every peer is the proxy: a per-address cap would let one client's idle
    sockets lock every browser out, so an unknown address counts only toward the cap in all."""
    sockets = OpenSockets(settings(tmp_path, None, realtime_max_pending_per_address=1, realtime_max_pending=3))
    assert [sockets.await_auth(None) for _ in range(4)] == [True, True, True, False]
    sockets.authenticated(None)
    assert sockets.await_auth(None) is True
    assert sockets.pending_by_address == {}
