"""The OpenAPI the server generates is committed (`docs/openapi.json`) and agrees with the
contract: a change to the API must update the snapshot on purpose (`python -m serve.openapi --write`)."""

from __future__ import annotations

import json

from serve.openapi import SNAPSHOT, current_document, render

CONTRACT_OPERATIONS = {
    ("post", "/v1/projects/{projectId}/players"),
    ("get", "/v1/projects/{projectId}/players"),
    ("get", "/v1/projects/{projectId}/players/{playerId}"),
    ("patch", "/v1/projects/{projectId}/players/{playerId}"),
    ("delete", "/v1/projects/{projectId}/players/{playerId}"),
    ("post", "/v1/projects/{projectId}/players/{playerId}/xp"),
    ("get", "/v1/projects/{projectId}/players/{playerId}/progression"),
    ("get", "/v1/projects/{projectId}/players/{playerId}/wallet"),
    ("post", "/v1/projects/{projectId}/players/{playerId}/wallet/credit"),
    ("post", "/v1/projects/{projectId}/players/{playerId}/wallet/debit"),
    ("get", "/v1/projects/{projectId}/players/{playerId}/wallet/history"),
    ("get", "/v1/projects/{projectId}/players/{playerId}/inventory"),
    ("post", "/v1/projects/{projectId}/players/{playerId}/items/grant"),
    ("post", "/v1/projects/{projectId}/players/{playerId}/items/consume"),
    ("get", "/v1/projects/{projectId}/players/{playerId}/counters"),
    ("post", "/v1/projects/{projectId}/players/{playerId}/counters/{counterId}/increment"),
    ("post", "/v1/projects/{projectId}/players/{playerId}/counters/{counterId}/reset"),
    ("get", "/v1/projects/{projectId}/players/{playerId}/quests"),
    ("post", "/v1/projects/{projectId}/players/{playerId}/quests/{questId}/progress"),
    ("get", "/v1/projects/{projectId}/players/{playerId}/achievements"),
    ("get", "/v1/projects/{projectId}/store/catalog"),
    ("get", "/v1/projects/{projectId}/store/skus/{sku}"),
    ("post", "/v1/projects/{projectId}/players/{playerId}/purchases"),
    ("get", "/v1/projects/{projectId}/players/{playerId}/purchases/{purchaseId}"),
    ("post", "/v1/projects/{projectId}/commands"),
    ("get", "/v1/client/projects/{projectId}/players/{playerId}/export"),
    ("post", "/v1/client/projects/{projectId}/players/{playerId}/erase"),
    ("get", "/v1/client/projects/{projectId}/players/{playerId}/journal"),
    ("get", "/v1/client/projects/{projectId}/players/{playerId}/state"),
    ("get", "/v1/health"),
    ("get", "/v1/health/ready"),
    ("get", "/metrics"),
}


def test_the_committed_openapi_snapshot_matches_the_server() -> None:
    assert SNAPSHOT.read_text() == render(current_document()), (
        "docs/openapi.json is stale: run `python -m serve.openapi --write` and review the diff"
    )


def test_every_contract_operation_is_documented_with_a_summary() -> None:
    paths = json.loads(SNAPSHOT.read_text())["paths"]
    documented = {(method, path) for path, item in paths.items() for method in item}
    assert CONTRACT_OPERATIONS.issubset(documented)
    assert all(paths[path][method].get("summary") for method, path in CONTRACT_OPERATIONS)


def test_every_request_body_has_an_example() -> None:
    document = json.loads(SNAPSHOT.read_text())
    schemas = document["components"]["schemas"]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            body = operation.get("requestBody")
            if body is None:
                continue
            media = body["content"]["application/json"]
            schema = media["schema"]
            if "$ref" in schema:
                schema = schemas[schema["$ref"].rsplit("/", 1)[-1]]
            assert schema.get("examples") or media.get("examples"), f"{method.upper()} {path} has no request example"


def test_economy_changing_posts_declare_the_idempotency_key_header() -> None:
    paths = json.loads(SNAPSHOT.read_text())["paths"]
    for method, path in CONTRACT_OPERATIONS:
        # The game API's posts; the backoffice's erase is idempotent by itself (no key needed).
        if method == "post" and path.startswith("/v1/projects/") and path != "/v1/projects/{projectId}/commands":
            names = {p["name"] for p in paths[path][method].get("parameters", [])}
            assert "Idempotency-Key" in names, path


def test_every_operation_has_an_english_description() -> None:
    paths = json.loads(SNAPSHOT.read_text())["paths"]
    missing = [f"{m.upper()} {p}" for p, item in paths.items() for m, op in item.items() if not op.get("description")]
    assert missing == []
