"""Errors over HTTP: problem+json everywhere, 400 for unparseable bodies (never 500), 422 with
`errors` for invalid ones, 404/405 problems for unknown routes, and request ids echoed."""

from __future__ import annotations

import pytest

from tests.e2e.helpers import assert_problem, balances, unique
from tests.routes.conftest import RouteApi as Api
from tests.routes.conftest import Seam

JSON = {"content-type": "application/json"}


@pytest.mark.parametrize(
    "raw",
    [
        b'{"currency": "coins", "amount": 1',
        b'{"currency": "coins", "amount": 1,}',
        b"{'currency': 'coins', 'amount': 1}",
        b'{"currency": "coins", "amount": 1} trailing',
        b"\xff\xfe{}",
        b"not json at all",
    ],
    ids=["truncated", "trailing-comma", "single-quotes", "trailing-garbage", "bad-bytes", "plain-text"],
)
def test_malformed_json_answers_400_malformed_json(api: Api, player: str, raw: bytes) -> None:
    response = api.post(f"/players/{player}/wallet/credit", content=raw, headers=JSON)
    body = assert_problem(response, 400, "malformed-json")
    assert "errors" not in body
    assert balances(api, player) == {}


@pytest.mark.parametrize(
    "raw",
    [
        b"[" * 50_000 + b"]" * 50_000,
        b'{"currency": "coins", "amount": 1' + b"0" * 5000 + b"}",
        '{"currency": "coins", "amount": 1, "reason": "caf\u00e9"}'.encode("latin-1"),
    ],
    ids=["deeply-nested", "huge-number", "latin-1"],
)
def test_bodies_the_parser_gives_up_on_answer_a_400_problem_not_a_500(api: Api, player: str, raw: bytes) -> None:
    response = api.post(f"/players/{player}/wallet/credit", content=raw, headers=JSON)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"].rsplit("/", 1)[1] in ("malformed-json", "bad-request")
    assert balances(api, player) == {}


def test_a_body_that_is_not_utf8_answers_malformed_json(api: Api, player: str) -> None:
    raw = '{"currency": "coins", "amount": 1, "reason": "caf\u00e9"}'.encode("latin-1")
    assert_problem(api.post(f"/players/{player}/wallet/credit", content=raw, headers=JSON), 400, "malformed-json")


@pytest.mark.parametrize("number", ["NaN", "Infinity", "1e400"])
def test_a_non_finite_number_is_refused_before_anything_is_committed(api: Api, number: str) -> None:
    player_id = unique("nan")
    raw = f'{{"playerId": "{player_id}", "username": "x", "metadata": {{"a": {number}}}}}'.encode()
    response = api.post("/players", content=raw, headers=JSON)
    assert response.status_code in (400, 422), response.text
    assert api.get(f"/players/{player_id}").status_code == 404


def test_a_body_that_is_not_an_object_answers_422(api: Api, player: str) -> None:
    for raw in (b"[]", b'"coins"', b"42", b"null"):
        response = api.post(f"/players/{player}/wallet/credit", content=raw, headers=JSON)
        body = assert_problem(response, 422, "validation-error")
        assert body["errors"] and all(set(e) == {"field", "message"} for e in body["errors"])


def test_a_missing_body_answers_422_naming_the_body(api: Api, player: str) -> None:
    body = assert_problem(api.post(f"/players/{player}/wallet/credit"), 422, "validation-error")
    assert body["errors"] == [{"field": "body", "message": "Field required"}]


def test_validation_errors_list_every_field_with_a_message(api: Api, player: str) -> None:
    response = api.post(f"/players/{player}/wallet/credit", {"currency": 5, "amount": -1, "colour": "red"})
    body = assert_problem(response, 422, "validation-error")
    assert sorted(e["field"] for e in body["errors"]) == ["amount", "colour", "currency"]
    assert all(isinstance(e["message"], str) and e["message"] for e in body["errors"])
    assert all(set(e) == {"field", "message"} for e in body["errors"])
    for error in body["errors"]:
        assert error["field"] in body["detail"]


def test_an_unknown_body_field_is_a_422_not_silently_ignored(api: Api, player: str) -> None:
    response = api.post(f"/players/{player}/wallet/credit", {"currency": "coins", "amount": 1, "ammount": 2})
    body = assert_problem(response, 422, "validation-error")
    assert body["errors"] == [{"field": "ammount", "message": "Extra inputs are not permitted"}]
    assert balances(api, player) == {}


def test_nested_validation_errors_name_the_path(api: Api) -> None:
    response = api.post("/players", {"username": ""})
    body = assert_problem(response, 422, "validation-error")
    assert [e["field"] for e in body["errors"]] == ["username"]


def test_an_invalid_path_id_answers_422_naming_it(api: Api) -> None:
    for bad in ("x" * 65, "-starts-with-dash", "has space"):
        body = assert_problem(api.get(f"/players/{bad}"), 422, "validation-error")
        assert [e["field"] for e in body["errors"]] == ["playerId"]


def test_a_too_long_idempotency_key_answers_422_naming_it(api: Api, player: str) -> None:
    response = api.post(
        f"/players/{player}/wallet/credit", {"currency": "coins", "amount": 1}, headers={"Idempotency-Key": "k" * 256}
    )
    body = assert_problem(response, 422, "validation-error")
    assert [e["field"] for e in body["errors"]] == ["Idempotency-Key"]
    body_key = api.post(f"/players/{player}/wallet/credit", {"currency": "coins", "amount": 1, "idempotencyKey": ""})
    assert [e["field"] for e in assert_problem(body_key, 422, "validation-error")["errors"]] == ["idempotencyKey"]
    assert balances(api, player) == {}


def test_an_empty_idempotency_key_header_answers_422_with_errors(api: Api, player: str) -> None:
    response = api.post(
        f"/players/{player}/wallet/credit", {"currency": "coins", "amount": 1}, headers={"Idempotency-Key": ""}
    )
    body = assert_problem(response, 422, "validation-error")
    assert [e["field"] for e in body["errors"]] == ["Idempotency-Key"]


def test_an_empty_idempotency_key_header_is_refused(api: Api, player: str) -> None:
    response = api.post(
        f"/players/{player}/wallet/credit", {"currency": "coins", "amount": 1}, headers={"Idempotency-Key": ""}
    )
    assert_problem(response, 422, "validation-error")
    assert balances(api, player) == {}


@pytest.mark.parametrize(
    "path", ["/nope", "/v1/nope", "/v1/projects/demo/nope", "/v1/projects/demo/players/p1/nope/deeper"]
)
def test_an_unknown_route_answers_a_404_problem(seam: Seam, path: str) -> None:
    response = seam.client.get(path, headers={"x-tenant-id": "demo"})
    body = assert_problem(response, 404, "not-found")
    assert body["instance"] == path


def test_a_wrong_method_answers_a_405_problem(api: Api, player: str, seam: Seam) -> None:
    assert_problem(api.delete(f"/players/{player}/wallet"), 405, "method-not-allowed")
    assert_problem(api.get(f"/players/{player}/wallet/credit"), 405, "method-not-allowed")
    assert_problem(seam.client.post("/v1/health"), 405, "method-not-allowed")


def test_the_x_request_id_is_echoed_on_problems_and_successes(api: Api, player: str) -> None:
    request_id = unique("req")
    failed = api.get(f"/players/{unique('ghost')}", headers={"x-request-id": request_id})
    assert failed.headers["x-request-id"] == request_id
    assert assert_problem(failed, 404, "player-not-found")["requestId"] == request_id
    succeeded = api.get(f"/players/{player}", headers={"x-request-id": request_id + "-ok"})
    assert succeeded.status_code == 200
    assert succeeded.headers["x-request-id"] == request_id + "-ok"


def test_a_request_id_is_made_when_the_client_sends_none(api: Api) -> None:
    first = api.get(f"/players/{unique('ghost')}")
    second = api.get(f"/players/{unique('ghost')}")
    ids = [assert_problem(r, 404, "player-not-found")["requestId"] for r in (first, second)]
    assert ids[0] != ids[1]
    assert all(len(i) >= 16 for i in ids)


def test_a_long_request_id_is_the_same_in_header_and_problem(api: Api) -> None:
    request_id = "r" * 200
    response = api.get(f"/players/{unique('ghost')}", headers={"x-request-id": request_id})
    assert response.json()["requestId"] == response.headers["x-request-id"]


def test_problem_types_are_uris_ending_in_their_slug(api: Api, player: str) -> None:
    cases = [
        (api.post(f"/players/{player}/wallet/debit", {"currency": "coins", "amount": 1}), 409, "insufficient-funds"),
        (api.post(f"/players/{player}/wallet/credit", {"currency": "x", "amount": 1}), 422, "unknown-currency"),
        (api.post(f"/players/{player}/purchases", {"sku": "nope"}), 404, "unknown-sku"),
        (api.post(f"/players/{player}/items/grant", {"itemId": "sword", "quantity": 5}), 409, "stack-limit"),
        (api.get(f"/players/{player}/wallet/history", params={"cursor": "!"}), 422, "invalid-cursor"),
    ]
    for response, status, slug in cases:
        body = assert_problem(response, status, slug)
        assert body["type"] == f"https://ludex.dev/problems/{slug}"
        assert set(body) == {"type", "title", "status", "detail", "instance", "requestId"}
