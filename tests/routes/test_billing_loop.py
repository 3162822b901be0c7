"""The replica's billing loop (`serve.background`), started by the app's lifespan: a
`tenant.plan.changed` hook the receiver refused is sent again by the loop, without any request
driving it."""

from __future__ import annotations

import uuid
from pathlib import Path

from config.settings import Settings
from tests.e2e.test_webhooks import Receiver, eventually
from tests.routes.conftest import seam_for, sign_in
from tests.support.billing_hooks import billing_hook, received


def test_the_loop_sends_a_refused_hook_again_on_its_own(tmp_path: Path) -> None:
    settings = Settings(
        deployment="billing-loop", data_dir=tmp_path, shards=1, billing_interval_s=0.2, webhook_retry_schedule="0,0,0"
    )
    with seam_for(settings) as seam:
        creds = seam.credentials
        admin = sign_in(seam, creds["adminEmail"], creds["adminPassword"], creds["tenantId"])
        with billing_hook(admin) as (receiver, hook):
            receiver_refuses_once(receiver)
            tenant = f"loop-{uuid.uuid4().hex[:8]}"
            assert (
                admin.post("/v1/admin/tenants", json={"id": tenant, "name": "Loop", "planId": "indie"}).status_code
                == 201
            )

            def refused_one_sent_again() -> bool:
                """The first hook received (the refused one: the tenant's, or another the loop was
                sending at that moment, such as the demo tenant's) came again."""
                ids = [headers["webhook-id"] for headers, _ in list(receiver.requests)]
                return bool(ids) and ids.count(ids[0]) >= 2

            assert eventually(refused_one_sent_again, timeout_s=60), "refused once, then sent by the loop"
            refused_id = receiver.requests[0][0]["webhook-id"]
            found = admin.get("/v1/admin/billing/deliveries", params={"limit": 200}).json()["items"]
            [delivery] = [d for d in found if d["id"] == refused_id]
            assert delivery["status"] == "delivered" and len(delivery["attempts"]) == 2
            assert eventually(
                lambda: len(received(receiver, hook["secret"], type="tenant.plan.changed", tenantId=tenant)) >= 1,
                timeout_s=60,
            ), "the new tenant's hook went out too"


def receiver_refuses_once(receiver: Receiver) -> None:
    with receiver.lock:
        receiver.statuses[:] = [500]
