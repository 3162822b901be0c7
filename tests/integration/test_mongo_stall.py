"""A stalled MongoDB (its server process stopped with SIGSTOP, as a hung replica set looks from
the client) fails operations within the client-side timeout: the host answers the command
`entity-unavailable` (503 with Retry-After over HTTP) instead of hanging, and serves again,
exactly once, when the server comes back."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pymongo.errors import PyMongoError

from actors.host import CommandRequest, ShardHost
from actors.stores.mongo import MongoStore
from engine import commands as c
from tests.support.services import nx27017_server

T, P = "acme", "stall"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, int]]:
    with nx27017_server(tmp_path) as url:
        pid = int((tmp_path / "nx.pid").read_text())
        try:
            yield url, pid
        finally:
            os.kill(pid, signal.SIGCONT)


async def test_a_stalled_mongodb_fails_within_the_timeout_and_the_host_recovers(
    server: tuple[str, int], demo_economy_document: dict[str, Any]
) -> None:
    url, pid = server
    host = ShardHost(MongoStore(url, "stall", timeout_ms=1000))
    await host.start(sweep=False)
    assert (await host.define_economy(T, P, demo_economy_document)).ok
    assert (await host.execute([CommandRequest(T, P, "ann", c.CreatePlayer(username="ann"))]))[0].ok
    credit = CommandRequest(T, P, "ann", c.Credit("coins", 5), "stalled-credit")
    os.kill(pid, signal.SIGSTOP)
    try:
        (outcome,) = await asyncio.wait_for(host.execute([credit]), timeout=60)
        assert not outcome.ok and outcome.refusal.slug == "entity-unavailable", outcome
        with pytest.raises(PyMongoError):
            await asyncio.wait_for(host.store.get_document("tenants", T), timeout=60)
    finally:
        os.kill(pid, signal.SIGCONT)
    for _ in range(20):  # the client reconnects; the retried key applies once
        (again,) = await host.execute([credit])
        if again.ok:
            break
        await asyncio.sleep(0.5)
    assert again.ok, again
    wallet = await host.view(T, P, "ann", "wallet")
    assert wallet.body["balances"]["coins"] == 5
    await host.stop()
