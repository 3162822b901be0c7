"""`ludex tenant export`: everything a tenant owns, as NDJSON, read from the store itself (as
`ludex audit` does, so it works with the server stopped), with its progress on stderr.
The same records as `GET /v1/admin/tenants/{id}/export` (docs/TENANTS.md)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections import Counter
from typing import IO

import orjson

from serve.cli.data import settings_for

DONE, FAILED, NOT_FOUND = 0, 1, 2
PROGRESS_EVERY = 1000


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    tenant = commands.add_parser("tenant", help="a tenant's data: export it")
    actions = tenant.add_subparsers(dest="tenant_command", required=True)
    export = actions.add_parser(
        "export",
        help="write everything a tenant owns as NDJSON (progress on stderr)",
        description="Uses LUDEX_MONGO_URL / LUDEX_MONGO_DATABASE when set, else the SQLite store in the data "
        "directory. Exit status: 0 written, 1 could not read the store, 2 no such tenant.",
    )
    export.add_argument("tenant", help="the tenant's id")
    export.add_argument("--out", default="-", help="the file to write (default: standard output)")
    export.add_argument("--data-dir", help="where data lives (default ./.ludex, or LUDEX_DATA_DIR)")


async def _export(args: argparse.Namespace, out: IO[bytes]) -> int:
    from actors.ingress.tenant_export import tenant_records
    from actors.stores.factory import store_for

    store = store_for(settings_for(args))
    await store.open()
    try:
        counts: Counter[str] = Counter()
        written = 0
        async for record in tenant_records(store, args.tenant):
            out.write(orjson.dumps(record) + b"\n")
            counts[record["kind"]] += 1
            written += 1
            if written % PROGRESS_EVERY == 0:
                print(f"ludex: {written} records ({_counted(counts)})", file=sys.stderr, flush=True)
    finally:
        await store.close()
    if not written:
        print(f"ludex: no tenant '{args.tenant}'", file=sys.stderr, flush=True)
        return NOT_FOUND
    print(f"ludex: exported {written - 1} records of '{args.tenant}' ({_counted(counts)})", file=sys.stderr, flush=True)
    return DONE


def _counted(counts: Counter[str]) -> str:
    return ", ".join(f"{kind} {n}" for kind, n in counts.items() if kind != "summary")


def run(args: argparse.Namespace) -> int:
    try:
        if args.out == "-":
            return asyncio.run(_export(args, sys.stdout.buffer))
        with open(args.out, "wb") as out:
            return asyncio.run(_export(args, out))
    except Exception as error:  # noqa: BLE001 - any store failure: say it, exit 1
        print(f"ludex: cannot export: {error}", file=sys.stderr, flush=True)
        return FAILED
