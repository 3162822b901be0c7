"""Webhooks over HTTP against the running Ludex: subscriptions with a secret shown once, a game
command's event reaching a local receiver with a verifiable Standard Webhooks signature (sent by
the worker actor `launch()` started), deliveries and redrive, 410, and a worker killed by SIGKILL
that Ray restarts and that still delivers."""

from __future__ import annotations

import base64
import os
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook

from actors.cluster import NAMESPACE, webhook_worker_name
from actors.sharding import shard_for, shard_name
from serve.launcher import Launched
from tests.e2e.conftest import Api
from tests.e2e.helpers import assert_problem, new_player

DEMO = "/v1/client/projects/demo/webhooks"


class Receiver:
    """An HTTP server in a thread: answers the scripted statuses (then 200), keeps requests."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.statuses = list(statuses or [])
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                with receiver.lock:
                    receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/{uuid.uuid4().hex[:6]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def wait_for(self, count: int, timeout_s: float = 30.0) -> list[tuple[dict[str, str], bytes]]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.requests) >= count:
                    return list(self.requests)
            time.sleep(0.05)
        raise AssertionError(f"the receiver got {len(self.requests)} of {count} deliveries")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.close()


@pytest.fixture(scope="module")
def dashboard(admin: httpx.Client) -> httpx.Client:
    """The demo superadmin, signed in, acting for tenant `demo`."""
    return admin


def subscribe(dashboard: httpx.Client, url: str, event_types: list[str]) -> dict[str, Any]:
    response = dashboard.post(DEMO, json={"url": url, "eventTypes": event_types})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def eventually(check: Callable[[], Any], timeout_s: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.1)


def deliveries(dashboard: httpx.Client, webhook: str, status: str | None = None) -> list[dict[str, Any]]:
    params = {"status": status} if status else {}
    response = dashboard.get(f"{DEMO}/{webhook}/deliveries", params=params)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_webhook_crud_shows_the_secret_once(dashboard: httpx.Client, direct_store: tuple[Any, Any]) -> None:
    created = dashboard.post(DEMO, json={"url": "https://hooks.example.com/ludex", "eventTypes": ["wallet.*"]})
    assert created.status_code == 201, created.text
    body = created.json()
    assert set(body) == {"id", "url", "eventTypes", "active", "secret"}
    assert body["id"].startswith("wh_") and body["active"] is True and body["eventTypes"] == ["wallet.*"]
    assert body["secret"].startswith("whsec_") and len(base64.b64decode(body["secret"][6:])) == 24
    webhook = body["id"]
    loop, store = direct_store
    stored = loop.run_until_complete(store.get_document("webhooks", webhook))
    assert stored["secret"] != body["secret"] and body["secret"] not in str(stored), "sealed at rest"

    one = dashboard.get(f"{DEMO}/{webhook}")
    assert one.status_code == 200 and "secret" not in one.json()
    listed = dashboard.get(DEMO).json()["items"]
    assert webhook in [w["id"] for w in listed] and all("secret" not in w for w in listed)
    assert body["secret"] not in dashboard.get(DEMO).text

    patched = dashboard.patch(f"{DEMO}/{webhook}", json={"eventTypes": ["player.*"], "active": False})
    assert patched.status_code == 200, patched.text
    assert patched.json()["eventTypes"] == ["player.*"] and patched.json()["active"] is False
    assert "secret" not in patched.json()

    audit = dashboard.get("/v1/admin/audit", params={"tenantId": "demo", "target": webhook})
    assert audit.status_code == 200, audit.text
    assert [e["action"] for e in audit.json()["items"]] == ["webhook.create", "webhook.update"]
    assert body["secret"] not in audit.text, "the audit trail never keeps secrets"

    assert dashboard.delete(f"{DEMO}/{webhook}").status_code == 204
    assert_problem(dashboard.get(f"{DEMO}/{webhook}"), 404, "webhook-not-found")
    assert webhook not in [w["id"] for w in dashboard.get(DEMO).json()["items"]]

    assert_problem(dashboard.post(DEMO, json={"url": "ftp://example.com/x"}), 422, "webhook-url-refused")
    assert_problem(dashboard.post(DEMO, json={"url": "https://user:pw@example.com/x"}), 422, "webhook-url-refused")
    assert_problem(
        dashboard.post(DEMO, json={"url": "https://a.example/x", "eventTypes": ["Bad Type"]}), 422, "validation-error"
    )
    assert_problem(dashboard.get(f"{DEMO}/wh_000000000000"), 404, "webhook-not-found")


def test_private_receivers_are_allowed_on_the_embedded_default(dashboard: httpx.Client, receiver: Receiver) -> None:
    created = subscribe(dashboard, receiver.url, ["*"])  # 127.0.0.1: refused only when not allowed
    assert dashboard.delete(f"{DEMO}/{created['id']}").status_code == 204


def test_a_game_event_reaches_the_receiver_signed_and_can_be_redriven(
    dashboard: httpx.Client, api: Api, receiver: Receiver
) -> None:
    webhook = subscribe(dashboard, receiver.url, ["player.created"])
    try:
        player = new_player(api)
        [(headers, body)] = receiver.wait_for(1)
        payload = Webhook(webhook["secret"]).verify(body, headers)
        assert payload["type"] == "player.created" and payload["playerId"] == player
        assert payload["tenantId"] == "demo" and payload["projectId"] == "demo"
        assert headers["webhook-id"] == payload["id"] and headers["ludex-event-type"] == "player.created"
        assert abs(int(headers["webhook-timestamp"]) - time.time()) < 60

        delivered = eventually(lambda: deliveries(dashboard, webhook["id"], "delivered"))
        assert [d["eventId"] for d in delivered] == [payload["id"]]
        [delivery] = delivered
        assert delivery["attempts"][0]["statusCode"] == 200 and delivery["deliveredAt"]
        assert deliveries(dashboard, webhook["id"], "dead") == []

        redriven = dashboard.post(f"{DEMO}/{webhook['id']}/deliveries/{delivery['id']}/redrive")
        assert redriven.status_code == 200, redriven.text
        assert redriven.json()["status"] == "pending"
        second = receiver.wait_for(2)
        assert second[1][0]["webhook-id"] == payload["id"]
        Webhook(webhook["secret"]).verify(second[1][1], second[1][0])
        missing = dashboard.post(f"{DEMO}/{webhook['id']}/deliveries/{webhook['id']}:evt_nope/redrive")
        assert_problem(missing, 404, "delivery-not-found")
        none_dead = dashboard.post(f"{DEMO}/{webhook['id']}/redrive")
        assert none_dead.status_code == 200 and none_dead.json() == {"redriven": 0}
    finally:
        dashboard.delete(f"{DEMO}/{webhook['id']}")


def test_a_410_disables_the_webhook_and_redrive_sends_its_dead_deliveries(dashboard: httpx.Client, api: Api) -> None:
    receiver = Receiver(statuses=[410])
    webhook = subscribe(dashboard, receiver.url, ["player.created"])
    try:
        new_player(api)
        receiver.wait_for(1)
        disabled = eventually(lambda: not dashboard.get(f"{DEMO}/{webhook['id']}").json()["active"])
        assert disabled
        assert dashboard.get(f"{DEMO}/{webhook['id']}").json()["disabledReason"] == "gone"
        dead = eventually(lambda: deliveries(dashboard, webhook["id"], "dead"))
        assert len(dead) == 1 and dead[0]["attempts"][-1]["statusCode"] == 410
        assert_problem(dashboard.post(f"{DEMO}/{webhook['id']}/redrive"), 409, "webhook-inactive")

        enabled = dashboard.patch(f"{DEMO}/{webhook['id']}", json={"active": True})
        assert enabled.status_code == 200 and enabled.json()["disabledReason"] is None
        redrive = dashboard.post(f"{DEMO}/{webhook['id']}/redrive")
        assert redrive.status_code == 200 and redrive.json() == {"redriven": 1}
        requests = receiver.wait_for(2)
        assert requests[0][0]["webhook-id"] == requests[1][0]["webhook-id"]
        assert eventually(lambda: deliveries(dashboard, webhook["id"], "delivered"))
    finally:
        dashboard.delete(f"{DEMO}/{webhook['id']}")
        receiver.close()


def test_a_killed_webhook_worker_is_restarted_by_ray_and_still_delivers(
    ludex: Launched, dashboard: httpx.Client, api: Api, receiver: Receiver, ray_instance: Any
) -> None:
    webhook = subscribe(dashboard, receiver.url, ["player.created"])
    try:
        worker = ray_instance.get_actor(webhook_worker_name(ludex.settings.deployment), namespace=NAMESPACE)
        pid = ray_instance.get(worker.pid.remote())
        os.kill(pid, signal.SIGKILL)
        player = new_player(api)  # committed while the worker is down
        [(headers, body)] = receiver.wait_for(1, timeout_s=90)
        payload = Webhook(webhook["secret"]).verify(body, headers)
        assert payload["playerId"] == player
        assert ray_instance.get(worker.pid.remote()) != pid, "Ray restarted the worker in a new process"
    finally:
        dashboard.delete(f"{DEMO}/{webhook['id']}")


def test_a_shard_host_killed_right_after_the_commit_still_has_its_event_delivered(
    ludex: Launched, dashboard: httpx.Client, api: Api, receiver: Receiver, ray_instance: Any
) -> None:
    webhook = subscribe(dashboard, receiver.url, ["wallet.credited"])
    try:
        player = new_player(api)
        credited = api.post(f"/players/{player}/wallet/credit", {"currency": "coins", "amount": 7})
        assert credited.status_code == 200
        shard = shard_for("demo", "demo", player, ludex.settings.shards)
        host = ray_instance.get_actor(shard_name(ludex.settings.deployment, shard), namespace=NAMESPACE)
        os.kill(ray_instance.get(host.pid.remote()), signal.SIGKILL)  # before any delivery could be made
        [(headers, body)] = receiver.wait_for(1, timeout_s=90)
        payload = Webhook(webhook["secret"]).verify(body, headers)
        assert payload["playerId"] == player and payload["data"]["amount"] == 7
        assert headers["webhook-id"] == credited.json()["entryId"], "the ledger entry id is the event id"
    finally:
        dashboard.delete(f"{DEMO}/{webhook['id']}")
