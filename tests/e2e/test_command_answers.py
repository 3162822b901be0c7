"""Command answers are built by the shard host and sent as they are (no `response_model` pass in
the hot path), so this holds them to their routes' response models: every economy-changing game
route, sent its OpenAPI example for a real player, answers a body that its model validates and
that has exactly the model's fields, and a replay answers the same body."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.routing import APIRoute
from pydantic import BaseModel

from serve.app import create_app
from tests.e2e.conftest import Api
from tests.e2e.helpers import new_player, unique

PATH_VALUES = {"counterId": "wins", "questId": "daily-battles", "projectId": "demo"}


def command_routes() -> list[APIRoute]:
    routes = [
        route
        for route in create_app().routes
        if isinstance(route, APIRoute)
        and route.path.startswith("/v1/projects/{projectId}/players")
        and route.methods & {"POST", "PATCH"}
    ]
    return sorted(routes, key=lambda route: route.path)


def example_body(route: APIRoute) -> dict[str, Any]:
    if route.body_field is None:
        return {}
    model = route.body_field.field_info.annotation
    assert isinstance(model, type) and issubclass(model, BaseModel)
    examples = (model.model_config.get("json_schema_extra") or {}).get("examples")  # type: ignore[union-attr]
    assert examples, f"{route.path}: the request model has no OpenAPI example"
    body: dict[str, Any] = dict(examples[0])
    return body


def assert_matches_model(body: Any, model: type[BaseModel], where: str) -> None:
    assert isinstance(body, dict), where
    model.model_validate(body)
    required = {name for name, field in model.model_fields.items() if field.is_required()}
    assert required <= set(body) <= set(model.model_fields), (where, sorted(body), sorted(model.model_fields))


@pytest.mark.parametrize("route", command_routes(), ids=lambda route: f"{sorted(route.methods)[0]} {route.path}")
def test_each_command_answers_what_its_response_model_says(api: Api, route: APIRoute) -> None:
    player = new_player(api)
    api.post(f"/players/{player}/wallet/credit", {"currency": "coins", "amount": 1000})  # the purchase needs coins
    relative = re.sub(r"^/v1/projects/\{projectId\}", "", route.path)
    path = relative.format(**PATH_VALUES, playerId=player)
    body = {"playerId": unique("pl"), "username": "ada"} if path.endswith("/players") else example_body(route)
    send = api.post if "POST" in route.methods else api.patch
    key = unique("key")
    first = send(path, body, headers={"Idempotency-Key": key})
    assert first.status_code < 300, (route.path, first.status_code, first.text)
    model = route.response_model
    assert isinstance(model, type) and issubclass(model, BaseModel), route.path
    assert_matches_model(first.json(), model, route.path)
    again = send(path, body, headers={"Idempotency-Key": key})
    if "PATCH" not in route.methods:
        assert again.headers.get("idempotent-replayed") == "true", route.path
    assert (again.status_code, again.json()) == (first.status_code, first.json()), route.path
