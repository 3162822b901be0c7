"""`ludex audit verify` and `ludex audit forget`, run on the store itself (not through the API:
whoever checks the log should not have to trust the server that writes it). docs/SECURITY.md,
"Audit log"."""

from __future__ import annotations

import argparse
import asyncio
import sys

from actors.audit_log import AuditLog, ChainReport
from actors.clock import SystemClock
from serve.cli.data import settings_for

INTACT, FAILED, BROKEN = 0, 1, 2


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    audit = commands.add_parser("audit", help="check the audit log's hash chains, or erase a person from it")
    actions = audit.add_subparsers(dest="audit_command", required=True)
    verify = actions.add_parser(
        "verify",
        help="find any edited, removed or reordered audit entry",
        description="Uses LUDEX_MONGO_URL / LUDEX_MONGO_DATABASE when set, else the SQLite store in the data "
        "directory. Exit status: 0 every chain holds, 1 could not read the store, 2 a chain is broken (the first "
        "bad entry is named).",
    )
    verify.add_argument("--tenant", help="one tenant's chain (default: every chain, the platform's included)")
    verify.add_argument("--platform", action="store_true", help="only the platform's chain (no tenant)")
    verify.add_argument("--expect", help="a head hash noted earlier (the dashboard shows it): it must still be there")
    forget = actions.add_parser(
        "forget",
        help="erase an email from a tenant's audit entries, keeping the chain verifiable",
        description="The value and its salt are dropped and its salted digest kept. Exit status 0 done, 1 failed.",
    )
    forget.add_argument("--tenant", help="the tenant (default: the platform's chain)")
    forget.add_argument("--email", required=True, help="the person's email, as the entries hold it")
    for parser in (verify, forget):
        parser.add_argument("--data-dir", help="where data lives (default ./.ludex, or LUDEX_DATA_DIR)")


def describe(report: ChainReport) -> str:
    name = "the platform" if report.tenant_id is None else f"tenant '{report.tenant_id}'"
    before = f", {report.unchained} written before the chain started" if report.unchained else ""
    if report.broken is not None:
        return f"{name}: BROKEN at entry {report.broken.seq} ({report.broken.reason}): {report.broken.message}"
    head = "no entries" if report.head is None else f"head {report.head.seq} {report.head.hash}"
    return f"{name}: intact, {report.entries} entries{before}; {head}"


async def _verify(log: AuditLog, args: argparse.Namespace) -> int:
    tenants = [None] if args.platform else [args.tenant] if args.tenant else await log.chains()
    status = INTACT
    for tenant in tenants:
        report = await log.verify_chain(tenant, args.expect)
        print(f"ludex: {describe(report)}", file=sys.stderr if report.broken else sys.stdout, flush=True)
        status = BROKEN if report.broken else status
    return status


async def _forget(log: AuditLog, args: argparse.Namespace) -> int:
    changed = await log.forget_subject(args.tenant, args.email)
    print(f"ludex: erased from {changed} audit entries; the chain still verifies", flush=True)
    return INTACT


def run(args: argparse.Namespace) -> int:
    from actors.stores.factory import store_for

    async def go() -> int:
        store = store_for(settings_for(args))
        await store.open()
        try:
            log = AuditLog(store, SystemClock())
            return await (_verify(log, args) if args.audit_command == "verify" else _forget(log, args))
        finally:
            await store.close()

    try:
        return asyncio.run(go())
    except Exception as error:  # noqa: BLE001 - any store failure: say it, exit 1
        print(f"ludex: cannot read the audit log: {error}", file=sys.stderr, flush=True)
        return FAILED
