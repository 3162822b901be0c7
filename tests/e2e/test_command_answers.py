"""Command answers are built by the shard host and sent as they are (no `response_model` pass in
the hot path), so this holds them to their routes' response models: every economy-changing game
route, sent its OpenAPI example for a real player, answers a body that its model validates and
that has exactly the model's fields, and a replay answers the same body."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from serve import schemas
from serve.openapi import current_document
from tests.e2e.conftest import Api
from tests.e2e.helpers import new_player, unique

PATH_VALUES = {"counterId": "wins", "questId": "daily-battles"}
DOCUMENT = current_document()
PREFIX = "/v1/projects/{projectId}"


def command_operations() -> list[tuple[str, str]]:
    """Every (method, path) that changes a player, from the OpenAPI."""
    return sorted(
        (method, path)
        for path, operations in DOCUMENT["paths"].items()
        if path.startswith(PREFIX + "/players")
        for method in operations
        if method in ("post", "patch")
    )


def _component(reference: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    name = reference["$ref"].rsplit("/", 1)[-1]
    component: dict[str, Any] = DOCUMENT["components"]["schemas"][name]
    return name, component


def example_body(operation: dict[str, Any]) -> dict[str, Any]:
    if "requestBody" not in operation:
        return {}
    name, component = _component(operation["requestBody"]["content"]["application/json"]["schema"])
    assert component.get("examples"), f"{name} has no OpenAPI example"
    body: dict[str, Any] = dict(component["examples"][0])
    return body


def response_model(operation: dict[str, Any]) -> type[BaseModel]:
    success = next(code for code in sorted(operation["responses"]) if code.startswith("2"))
    name, _ = _component(operation["responses"][success]["content"]["application/json"]["schema"])
    model = getattr(schemas, name)
    assert isinstance(model, type) and issubclass(model, BaseModel), name
    return model


def assert_matches_model(body: Any, model: type[BaseModel], where: str) -> None:
    assert isinstance(body, dict), where
    model.model_validate(body)
    required = {name for name, field in model.model_fields.items() if field.is_required()}
    assert required <= set(body) <= set(model.model_fields), (where, sorted(body), sorted(model.model_fields))


@pytest.mark.parametrize(("method", "path"), command_operations(), ids=lambda part: str(part))
def test_each_command_answers_what_its_response_model_says(api: Api, method: str, path: str) -> None:
    operation = DOCUMENT["paths"][path][method]
    player = new_player(api)
    api.post(f"/players/{player}/wallet/credit", {"currency": "coins", "amount": 1000})  # for the purchase
    api.post(f"/players/{player}/items/grant", {"itemId": "potion", "quantity": 5})  # for the consumption
    relative = path.removeprefix(PREFIX).format(**PATH_VALUES, playerId=player)
    body = {"playerId": unique("pl"), "username": "ada"} if relative == "/players" else example_body(operation)
    send = api.post if method == "post" else api.patch
    key = unique("key")
    first = send(relative, body, headers={"Idempotency-Key": key})
    assert first.status_code < 300, (path, first.status_code, first.text)
    if first.status_code != 204:
        assert_matches_model(first.json(), response_model(operation), path)
    if method == "post":  # economy-changing: a replay answers the same, marked
        again = send(relative, body, headers={"Idempotency-Key": key})
        assert again.headers.get("idempotent-replayed") == "true", path
        assert (again.status_code, again.content) == (first.status_code, first.content), path
