"""The `ludex` command."""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from config.settings import Settings
from serve.cli.audit import add_parser as add_audit_parser
from serve.cli.audit import run as audit_command
from serve.cli.client import BackofficeLoginError, Target, problem, problem_text
from serve.cli.data import COMMANDS as DATA_COMMANDS
from serve.cli.data import add_parsers as add_data_parsers
from serve.cli.data import check_schema_before_serving
from serve.cli.economy_file import ApplyError, load_definition
from serve.cli.leaderboards import add_parser as add_leaderboards_parser
from serve.cli.leaderboards import leaderboards_command
from serve.cli.shards import add_parser as add_shards_parser
from serve.cli.shards import run as shards_command
from serve.cli.tenants import add_parser as add_tenant_parser
from serve.cli.tenants import run as tenant_command
from serve.cli.whatif import add_arguments as add_whatif_arguments
from serve.cli.whatif import run as whatif_command
from serve.proxy import PROXIES, apply_proxy_environment, default_proxy


def serve_command(args: argparse.Namespace) -> int:
    overrides: dict[str, object] = {"bind_host": args.host}
    if args.data_dir is not None:
        overrides["data_dir"] = Path(args.data_dir)
    if args.shards is not None:
        overrides["shards"] = args.shards
    settings = Settings(**overrides)  # type: ignore[arg-type]
    refusal = check_schema_before_serving(settings)  # before Ray: a refusal costs nothing to start
    if refusal is not None:
        print(f"ludex: {refusal}", file=sys.stderr, flush=True)
        return 1
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    proxy_env = apply_proxy_environment(args.proxy)
    import ray

    from serve.launcher import launch, shutdown

    store = f"MongoDB ({settings.mongo_database})" if settings.mongo_url else f"SQLite ({settings.sqlite_path})"
    print(f"ludex: starting Ray and {settings.shards} shard hosts on {store} ...", flush=True)
    ray.init(include_dashboard=False, log_to_driver=False, namespace="ludex-serve")
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    launched = None
    try:
        launched = launch(settings, args.host, args.port, replicas=args.replicas)
        print(serving_banner(launched, settings, show_secrets=args.print_credentials), flush=True)
        stop.wait()
        print("ludex: stopping ...", flush=True)
    finally:
        if launched is not None:
            shutdown(launched)
        ray.shutdown()
        if "RAY_SERVE_HAPROXY_SERVER_STATE_BASE" in proxy_env:
            shutil.rmtree(proxy_env["RAY_SERVE_HAPROXY_SERVER_STATE_BASE"], ignore_errors=True)
    print("ludex: stopped", flush=True)
    return 0


def serving_banner(launched: Any, settings: Settings, *, show_secrets: bool) -> str:
    """Where to find the demo credentials; the key and password themselves only on request, so
    they do not end up in terminal scrollback, CI logs or log collectors."""
    creds = launched.credentials
    lines = [
        f"ludex: serving at {launched.base_url}  (OpenAPI: {launched.base_url}/v1/docs)",
        f"  tenant:  {creds['tenantId']}",
        f"  project: {creds['projectId']}",
        f"  dashboard admin: {creds['adminEmail']}",
        f"  API key and admin password: in {settings.data_dir / 'demo-credentials.json'} (mode 0600)",
    ]
    if show_secrets:
        lines += [f"  apiKey:  {creds['apiKey']}", f"  adminPassword: {creds['adminPassword']}"]
    return "\n".join([*lines, "ludex: press Ctrl-C to stop"])


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

    from actors.ingress.accounts import AccountError, AccountService
    from actors.secret_box import SecretBox
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
            accounts = AccountService(store, box=SecretBox.from_settings(settings))
            return await accounts.create_user(args.email, password, platform_role="superadmin")
        finally:
            await store.close()

    try:
        user = asyncio.run(create())
    except (AccountError, ValueError) as error:
        print(f"ludex: cannot create the superadmin: {error}", file=sys.stderr)
        return 1
    print(f"ludex: superadmin {user['email']} created ({user['id']})", flush=True)
    return 0


def project_apply(args: argparse.Namespace) -> int:
    """Validate an economy file, show what changes against the live version, and install it."""
    import httpx

    from engine.economy_diff import diff_economies
    from engine.economy_verify import has_errors, verify_document
    from serve.cli.findings import finding_lines, findings_summary

    target = Target.from_args(args)
    tenant, project, base_url = target.tenant, target.project, target.base_url
    try:
        document = load_definition(args.file)
        findings = verify_document(document)
        print(f"ludex: the verifier found {findings_summary(findings)} (docs/ECONOMY.md, Verification)")
        for line in finding_lines(findings):
            print(line)
        unsafe = ApplyError(1, f"{args.file} is unsafe to publish: fix its errors, or pass --force")
        if has_errors(findings) and not args.force and not args.dry_run:
            raise unsafe  # the server would refuse it: no need to log in
        if missing := target.missing():
            raise ApplyError(2, f"missing {', '.join(missing)} (and no demo-credentials.json to default from)")
        with httpx.Client(base_url=base_url, timeout=30) as client:
            target.log_in(client)
            economy_path = f"/v1/client/projects/{project}/economy"
            current = client.get(economy_path)
            if current.status_code == 200:
                old, version = current.json()["document"], current.json()["version"]
            elif current.status_code == 404 and str(problem(current).get("type", "")).endswith("/not-found"):
                old, version = None, None
            else:
                raise ApplyError(2, f"cannot read the economy of {tenant}/{project}: {problem_text(current)}")
            changes = diff_economies(old, document)
            live = "no economy yet" if version is None else f"version {version}"
            if not changes:
                print(f"ludex: {tenant}/{project} ({live}): no changes", flush=True)
                return 0
            print(f"ludex: {tenant}/{project} ({live}): {len(changes)} change(s)")
            for line in changes:
                print(f"  {line}")
            if args.dry_run:
                print("ludex: dry run, nothing applied", flush=True)
                if has_errors(findings) and not args.force:
                    raise unsafe
                return 0
            applied = client.put(economy_path, json=document, params={"force": "true"} if args.force else {})
            if applied.status_code != 200:
                raise ApplyError(2, f"the server refused the economy: {problem_text(applied)}")
            print(f"ludex: applied, {tenant}/{project} is now at version {applied.json()['version']}", flush=True)
            return 0
    except ApplyError as error:
        print(f"ludex: {error}", file=sys.stderr, flush=True)
        return error.code
    except BackofficeLoginError as error:
        print(f"ludex: {error}", file=sys.stderr, flush=True)
        return 2
    except httpx.HTTPError as error:
        print(f"ludex: cannot reach {base_url}: {error}", file=sys.stderr, flush=True)
        return 2


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except ValidationError as error:  # a malformed LUDEX_* setting: one line each, naming it
        for issue in error.errors():
            name = "LUDEX_" + "_".join(str(part) for part in issue["loc"]).upper()
            message = issue["msg"].removeprefix("Value error, ")
            print(f"ludex: {message if name in message else f'{name}: {message}'}", file=sys.stderr)
        return 2


def _main(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(prog="ludex", description="Ludex game-economy engine")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="run the HTTP API (embedded SQLite unless LUDEX_MONGO_URL is set)")
    serve_parser.add_argument("--data-dir", help="where data lives (default ./.ludex, or LUDEX_DATA_DIR)")
    serve_parser.add_argument("--host", default="127.0.0.1")
    serve_parser.add_argument("--port", type=int, default=8000)
    serve_parser.add_argument(
        "--shards",
        type=int,
        help="shard hosts at start (default: half the cores, 1 to 4, or LUDEX_SHARDS); `ludex shards scale N` later",
    )
    serve_parser.add_argument("--replicas", type=int, default=1, help="ingress (HTTP/WebSocket) replicas (default 1)")
    serve_parser.add_argument(
        "--proxy",
        choices=PROXIES,
        default=default_proxy(),
        help="HTTP proxy in front of the ingress: haproxy (default where installed, or LUDEX_PROXY) or Serve's "
        "python proxy (slower)",
    )
    serve_parser.add_argument(
        "--print-credentials",
        action="store_true",
        help="also print the demo API key and admin password (by default only the file holding them)",
    )
    admin_parser = commands.add_parser("admin", help="manage dashboard users")
    admin_commands = admin_parser.add_subparsers(dest="admin_command", required=True)
    superadmin = admin_commands.add_parser("create-superadmin", help="create a platform superadmin")
    superadmin.add_argument("--email", required=True)
    superadmin.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    superadmin.add_argument("--data-dir", help="where data lives (default ./.ludex, or LUDEX_DATA_DIR)")
    project_parser = commands.add_parser("project", help="manage a project through the backoffice API")
    project_commands = project_parser.add_subparsers(dest="project_command", required=True)
    apply = project_commands.add_parser(
        "apply",
        help="validate an economy file, print what changes, and install it",
        description="Defaults come from <LUDEX_DATA_DIR or .ludex>/demo-credentials.json; the password from "
        "LUDEX_ADMIN_PASSWORD or that file. Exit status: 0 applied or nothing to change, 1 invalid file "
        "or one the verifier finds errors in (without --force), 2 server or login error.",
    )
    apply.add_argument("file", help="the economy definition (YAML or JSON)")
    apply.add_argument("--tenant", help="tenant id (default: the demo credentials' tenantId)")
    apply.add_argument("--project", help="project id (default: the demo credentials' projectId)")
    apply.add_argument("--base-url", help="the Ludex API (default: the demo credentials' baseUrl)")
    apply.add_argument("--email", help="dashboard user (default: the demo credentials' adminEmail)")
    apply.add_argument("--dry-run", action="store_true", help="print the changes and findings, apply nothing")
    apply.add_argument("--force", action="store_true", help="publish despite the verifier's errors (audited)")
    what_if = project_commands.add_parser(
        "what-if",
        help="replay the project's recorded commands under an economy file and print what would change",
        description="Defaults as for apply. Draws the job's progress on stderr; Ctrl-C cancels it. Exit status: "
        "0 done, 1 invalid file or input, the job failed or was cancelled, 2 server or login error.",
    )
    add_whatif_arguments(what_if)
    add_data_parsers(commands)
    add_leaderboards_parser(commands)
    add_shards_parser(commands)
    add_audit_parser(commands)
    add_tenant_parser(commands)
    args = parser.parse_args(argv)
    return _run(args)


def _run(args: argparse.Namespace) -> int:
    if args.command in DATA_COMMANDS:
        return DATA_COMMANDS[args.command](args)
    if args.command == "serve":
        return serve_command(args)
    if args.command == "leaderboards":
        return leaderboards_command(args)
    if args.command == "admin" and args.admin_command == "create-superadmin":
        return create_superadmin_command(args)
    if args.command == "project" and args.project_command == "apply":
        return project_apply(args)
    if args.command == "project" and args.project_command == "what-if":
        return whatif_command(args)
    if args.command == "shards":
        return shards_command(args)
    if args.command == "audit":
        return audit_command(args)
    if args.command == "tenant":
        return tenant_command(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
