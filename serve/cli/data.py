"""`ludex migrate`, `ludex backup`, `ludex restore`, and the schema check `ludex serve` runs
before it starts anything (docs/UPGRADING.md)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from config.settings import Settings


def settings_for(args: argparse.Namespace) -> Settings:
    overrides: dict[str, object] = {}
    if getattr(args, "data_dir", None) is not None:
        overrides["data_dir"] = Path(args.data_dir)
    return Settings(**overrides)  # type: ignore[arg-type]


def _say(line: str) -> None:
    print(f"ludex: {line}", flush=True)


def _fail(message: str) -> int:
    print(f"ludex: {message}", file=sys.stderr, flush=True)
    return 1


def check_schema_before_serving(settings: Settings) -> str | None:
    """Migrate the store before any host opens it (or, with LUDEX_AUTO_MIGRATE=false, refuse an
    older one): one process migrates, printing each step, instead of every host at once.
    Answers why serving must not start, or None."""
    from actors.stores.factory import store_for
    from actors.stores.migrations import SchemaError, SchemaOutdatedError

    store = store_for(settings, _say)
    try:
        plan = asyncio.run(store.migrate(dry_run=True))
        if plan.steps and not plan.fresh:
            if not settings.auto_migrate:
                raise SchemaOutdatedError(plan.where, plan.found)
            _say("migrating the store before serving (LUDEX_AUTO_MIGRATE=false makes this a refusal)")
            asyncio.run(store.migrate())
    except SchemaError as error:
        return str(error)
    return None


def migrate_command(args: argparse.Namespace) -> int:
    from actors.stores.factory import store_for
    from actors.stores.migrations import SchemaError

    store = store_for(settings_for(args), _say)
    try:
        plan = asyncio.run(store.migrate(dry_run=True))
        for line in plan.describe():
            _say(line)
        if args.dry_run:
            _say("dry run: nothing changed")
            return 0
        if plan.steps or plan.found is None:
            asyncio.run(store.migrate())
            _say("migrated")
    except SchemaError as error:
        return _fail(str(error))
    return 0


def backup_command(args: argparse.Namespace) -> int:
    from actors.stores.backup import BackupError, backup

    settings = settings_for(args)
    if settings.mongo_url:
        return _fail(
            "this deployment stores its data in MongoDB: back it up with `mongodump --oplog` against the"
            " replica set (docs/UPGRADING.md); `ludex backup` copies the embedded SQLite store"
        )
    try:
        summary = backup(settings.data_dir, Path(args.to))
    except (BackupError, OSError) as error:
        return _fail(f"backup failed: {error}")
    _say(
        f"backed up {settings.data_dir} (schema version {summary.schema_version}) to {summary.file}:"
        f" database {summary.database_bytes:,} bytes, file {summary.file_bytes:,} bytes, {summary.seconds:.2f} s"
        f" (the consistent copy itself: {summary.copy_seconds:.2f} s)"
    )
    if summary.left_out:
        _say(f"not in the backup (not Ludex's data): {', '.join(summary.left_out)}")
    return 0


def restore_command(args: argparse.Namespace) -> int:
    """Exit status 0 restored, 1 failed (nothing to restore, a directory in the way), 2 the archive
    is refused (crafted, damaged, too large once unpacked): nothing restored either way."""
    from actors.stores.backup import BackupError, BackupRefusedError, restore

    max_bytes = Settings().restore_max_bytes if args.max_bytes is None else args.max_bytes
    try:
        summary = restore(Path(args.source), Path(args.data_dir), force=args.force, max_bytes=max_bytes)
    except BackupRefusedError as error:
        _fail(f"restore refused: {error}")
        return 2
    except (BackupError, OSError) as error:
        return _fail(f"restore failed: {error}")
    _say(
        f"restored the backup of {summary.created_at} (schema version {summary.schema_version}) into"
        f" {summary.data_dir}; `ludex serve --data-dir {summary.data_dir}` serves it"
    )
    return 0


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    data_dir_help = "where data lives (default ./.ludex, or LUDEX_DATA_DIR)"
    migrate = commands.add_parser(
        "migrate",
        help="bring the store's schema to this release's version, printing each step",
        description="Uses LUDEX_MONGO_URL / LUDEX_MONGO_DATABASE when set, else the SQLite store in the data "
        "directory. Back up first (docs/UPGRADING.md). Exit status 0 done, 1 refused.",
    )
    migrate.add_argument("--data-dir", help=data_dir_help)
    migrate.add_argument("--dry-run", action="store_true", help="print the steps, change nothing")
    backup = commands.add_parser(
        "backup", help="copy the embedded store consistently, while it serves, into one file (tar; .gz compresses)"
    )
    backup.add_argument("--to", required=True, help="the backup file to write (e.g. ludex-2026-11-30.tar.gz)")
    backup.add_argument("--data-dir", help=data_dir_help)
    restore = commands.add_parser(
        "restore",
        help="unpack a backup into a data directory (stop its server first)",
        description="Exit status 0 restored, 1 failed, 2 the archive is refused (crafted, damaged or too large).",
    )
    restore.add_argument("--from", dest="source", required=True, help="a file written by `ludex backup`")
    restore.add_argument("--data-dir", required=True, help="the directory to restore into (must be empty)")
    restore.add_argument("--force", action="store_true", help="replace the database in a non-empty directory")
    restore.add_argument(
        "--max-bytes",
        type=int,
        help="refuse a backup that unpacks to more bytes than this (default LUDEX_RESTORE_MAX_BYTES, 64 GiB)",
    )


COMMANDS = {"migrate": migrate_command, "backup": backup_command, "restore": restore_command}
