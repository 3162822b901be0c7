"""Write or check the committed OpenAPI snapshot (`docs/openapi.json`).

python -m serve.openapi --write   # after changing the API on purpose
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from serve.app import create_app

SNAPSHOT = Path(__file__).resolve().parents[1] / "docs" / "openapi.json"


def current_document() -> dict[str, Any]:
    return create_app().openapi()


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description="OpenAPI snapshot")
    parser.add_argument("--write", action="store_true", help="overwrite docs/openapi.json")
    args = parser.parse_args()
    text = render(current_document())
    if args.write:
        SNAPSHOT.write_text(text)
        print(f"wrote {SNAPSHOT}")
    else:
        print(text, end="")


if __name__ == "__main__":
    main()
