"""One command path (`serve.commanding.execute`) for a single call and a batch (the stream's
twin is in `tests/e2e/test_command_stream.py`): once the month's quota is spent, a new (unkeyed)
command is refused at the ingress and no host sees it, whichever way it is sent; a keyed one
still goes to its host, which replays a remembered key and refuses a new one."""

from __future__ import annotations

from typing import Any

from tests.e2e.helpers import assert_problem, assert_problem_shape, tenant_with_quotas
from tests.routes.conftest import PortalProxy, RouteApi, Seam


def spent_quota_project(seam: Seam, control_plane: PortalProxy) -> RouteApi:
    """A project of a fresh tenant whose plan allows one request a month, with no economy yet:
    a command that reaches a host is answered 409 `economy-not-defined` there, so an answer of
    429 `quota-exceeded` shows the command was refused before any host saw it."""
    tenant, token = tenant_with_quotas(control_plane, "path", requestsPerMonth=1)
    api = RouteApi(seam.client, tenant, "game", token)
    first = api.post("/players/ada/xp", {"amount": 5})  # the month's one request: it reaches a host
    assert_problem(first, 409, "economy-not-defined")
    return api


def batch_result(api: RouteApi, command: dict[str, Any]) -> dict[str, Any]:
    response = api.post("/commands", {"commands": [command]})
    assert response.status_code == 200, response.text
    [result] = response.json()["results"]
    assert_problem_shape(result["problem"], result["status"], result["problem"]["type"].rsplit("/", 1)[1])
    return dict(result)


def test_a_spent_quota_refuses_new_commands_before_any_host_in_a_single_call_and_a_batch(
    seam: Seam, control_plane: PortalProxy
) -> None:
    api = spent_quota_project(seam, control_plane)
    single = assert_problem(api.post("/players/ada/xp", {"amount": 5}), 429, "quota-exceeded")
    batched = batch_result(api, {"op": "xp", "playerId": "ada", "amount": 5})
    assert (batched["ok"], batched["status"], batched["replayed"]) == (False, 429, False)
    assert batched["problem"]["type"] == single["type"] and "1 requests per month" in batched["problem"]["detail"]
    assert batched["retryAfterS"] >= 1


def test_a_spent_quota_still_sends_keyed_commands_to_their_host_in_a_single_call_and_a_batch(
    seam: Seam, control_plane: PortalProxy
) -> None:
    api = spent_quota_project(seam, control_plane)
    keyed = api.post("/players/ada/xp", {"amount": 5, "idempotencyKey": "k-single"})
    assert_problem(keyed, 409, "economy-not-defined")  # the host answered: it may have been a replay
    batched = batch_result(api, {"op": "xp", "playerId": "ada", "amount": 5, "idempotencyKey": "k-batch"})
    assert (batched["ok"], batched["status"]) == (False, 409)
    assert batched["problem"]["type"].endswith("/economy-not-defined")
