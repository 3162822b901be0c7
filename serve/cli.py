"""The `ludex` command."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path

from config.settings import Settings


def serve_command(args: argparse.Namespace) -> int:
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    import ray

    from serve.launcher import launch, shutdown

    overrides: dict[str, object] = {}
    if args.data_dir is not None:
        overrides["data_dir"] = Path(args.data_dir)
    if args.shards is not None:
        overrides["shards"] = args.shards
    settings = Settings(**overrides)  # type: ignore[arg-type]
    store = f"MongoDB ({settings.mongo_database})" if settings.mongo_url else f"SQLite ({settings.sqlite_path})"
    print(f"ludex: starting Ray and {settings.shards} shard hosts on {store} ...", flush=True)
    ray.init(include_dashboard=False, log_to_driver=False, namespace="ludex-serve")
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    launched = None
    try:
        launched = launch(settings, args.host, args.port)
        creds = launched.credentials
        print(
            f"ludex: serving at {launched.base_url}  (OpenAPI: {launched.base_url}/v1/docs)\n"
            f"  tenant:  {creds['tenantId']}\n  project: {creds['projectId']}\n  apiKey:  {creds['apiKey']}\n"
            f"  dashboard admin: {creds['adminEmail']}  password: {creds['adminPassword']}\n"
            f"  credentials written to {settings.data_dir / 'demo-credentials.json'}\n"
            "ludex: press Ctrl-C to stop",
            flush=True,
        )
        stop.wait()
        print("ludex: stopping ...", flush=True)
    finally:
        if launched is not None:
            shutdown(launched)
        ray.shutdown()
    print("ludex: stopped", flush=True)
    return 0


def read_new_password(from_stdin: bool) -> str:
    """The password from stdin (one line, for scripts) or typed twice at a prompt."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    import getpass

    password = getpass.getpass("password: ")
    if getpass.getpass("repeat password: ") != password:
        raise ValueError("the passwords differ")
    return password


def create_superadmin_command(args: argparse.Namespace) -> int:
    import asyncio

    from actors.accounts import AccountError, AccountService
    from actors.stores.factory import store_for

    overrides: dict[str, object] = {}
    if args.data_dir is not None:
        overrides["data_dir"] = Path(args.data_dir)
    settings = Settings(**overrides)  # type: ignore[arg-type]
    try:
        password = read_new_password(args.password_stdin)
    except (ValueError, EOFError, KeyboardInterrupt) as error:
        print(f"ludex: {error or 'cancelled'}", file=sys.stderr)
        return 1

    async def create() -> dict[str, object]:
        store = store_for(settings)
        await store.open()
        try:
            return await AccountService(store).create_user(args.email, password, platform_role="superadmin")
        finally:
            await store.close()

    try:
        user = asyncio.run(create())
    except (AccountError, ValueError) as error:
        print(f"ludex: cannot create the superadmin: {error}", file=sys.stderr)
        return 1
    print(f"ludex: superadmin {user['email']} created ({user['id']})", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ludex", description="Ludex game-economy engine")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="run the HTTP API (embedded SQLite unless LUDEX_MONGO_URL is set)")
    serve_parser.add_argument("--data-dir", help="where data lives (default ./.ludex, or LUDEX_DATA_DIR)")
    serve_parser.add_argument("--host", default="127.0.0.1")
    serve_parser.add_argument("--port", type=int, default=8000)
    serve_parser.add_argument("--shards", type=int, help="shard hosts (default 4, or LUDEX_SHARDS)")
    admin_parser = commands.add_parser("admin", help="manage dashboard users")
    admin_commands = admin_parser.add_subparsers(dest="admin_command", required=True)
    superadmin = admin_commands.add_parser("create-superadmin", help="create a platform superadmin")
    superadmin.add_argument("--email", required=True)
    superadmin.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    superadmin.add_argument("--data-dir", help="where data lives (default ./.ludex, or LUDEX_DATA_DIR)")
    args = parser.parse_args(argv)
    if args.command == "serve":
        return serve_command(args)
    if args.command == "admin" and args.admin_command == "create-superadmin":
        return create_superadmin_command(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
