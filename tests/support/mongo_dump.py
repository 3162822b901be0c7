"""Load a MongoDB dump written by tests/fixtures/make_v0_1_0.py (one canonical extended-JSON
array per collection, plus `indexes.json`) into a database, as `mongorestore` would."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bson import json_util
from pymongo import MongoClient


def restore_dump(dump: Path, url: str, database: str) -> dict[str, int]:
    """Documents and indexes of every collection in `dump`; answers how many documents each."""
    indexes: dict[str, list[dict[str, Any]]] = json_util.loads((dump / "indexes.json").read_text())
    counts: dict[str, int] = {}
    client: MongoClient[dict[str, Any]] = MongoClient(url)
    try:
        db = client[database]
        for path in sorted(dump.glob("*.json")):
            if path.stem in ("indexes", "manifest"):
                continue
            documents = json_util.loads(path.read_text())
            if documents:
                db[path.stem].insert_many(documents)
            counts[path.stem] = len(documents)
            for spec in indexes.get(path.stem, []):
                if spec["name"] == "_id_":
                    continue
                options = {k: v for k, v in spec.items() if k in ("unique", "partialFilterExpression")}
                db[path.stem].create_index(list(spec["key"].items()), name=spec["name"], **options)
    finally:
        client.close()
    return counts
