"""Property-based fuzzing of the whole game API from its committed OpenAPI, over real HTTP:
whatever schemathesis sends, the server never answers 5xx."""

from __future__ import annotations

import json

import schemathesis
from hypothesis import HealthCheck, settings

from serve.launcher import Launched
from serve.openapi import SNAPSHOT

schema = schemathesis.openapi.from_dict(json.loads(SNAPSHOT.read_text()))


@schema.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_operation_answers_a_server_error(case: schemathesis.Case, ludex: Launched) -> None:
    creds = ludex.credentials
    if "projectId" in (case.path_parameters or {}) and hash(str(case.body)) % 2:
        case.path_parameters["projectId"] = creds["projectId"]  # half the cases reach real data
    response = case.call(
        base_url=ludex.base_url,
        headers={"x-tenant-id": creds["tenantId"], "x-api-key": creds["apiKey"]},
        timeout=30,
    )
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.status_code} {response.text}"
