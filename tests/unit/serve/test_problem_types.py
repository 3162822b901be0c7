"""Every problem type the server can answer is documented in docs/API.md under its status, and
every operation of the OpenAPI documents its problems as application/problem+json."""

from __future__ import annotations

import re
from pathlib import Path

from serve.openapi import current_document
from serve.problems import PROBLEM_JSON, STATUS_BY_SLUG

API_DOC = Path(__file__).resolve().parents[3] / "docs" / "API.md"


def test_every_problem_type_is_in_the_api_doc_under_its_status() -> None:
    rows = re.findall(r"^\| (\d{3}) \| (.*) \|$", API_DOC.read_text(), flags=re.M)
    documented = {slug: int(status) for status, slugs in rows for slug in re.findall(r"`([a-z-]+)`", slugs)}
    for slug, status in STATUS_BY_SLUG.items():
        assert documented.get(slug) == status, f"docs/API.md does not list `{slug}` under {status}"


def test_every_operation_documents_its_problems_as_problem_json() -> None:
    document = current_document()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            problems = {code: r for code, r in operation["responses"].items() if code[0] in "45"}
            if path.startswith("/v1/") and not path.startswith("/v1/health"):
                assert problems, f"{method.upper()} {path} documents no problem"
            for code, response in problems.items():
                assert list(response.get("content", {})) == [PROBLEM_JSON], f"{method.upper()} {path} {code}"
            if path.startswith("/v1/projects/"):
                assert "429" in problems, f"{method.upper()} {path}: a game call can be rate limited"
