"""`ludex leaderboards rebuild`: refill the boards from the journal (docs/LEADERBOARDS.md)."""

from __future__ import annotations

import argparse
import asyncio

from config.settings import Settings
from serve.cli.data import settings_for


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    boards = commands.add_parser("leaderboards", help="leaderboard maintenance")
    actions = boards.add_subparsers(dest="leaderboards_command", required=True)
    rebuild = actions.add_parser(
        "rebuild",
        help="empty the boards and refill them from the journal (same ranks as live)",
        description="Reads every player record of each project in journal order and applies it to the "
        "boards its current definitions name. Run it with the deployment stopped: a record committed "
        "while a board is being refilled could be counted before the older ones it follows.",
    )
    rebuild.add_argument("--data-dir", help="where data lives (default ./.ludex, or LUDEX_DATA_DIR)")
    rebuild.add_argument("--tenant", help="only this tenant's projects")
    rebuild.add_argument("--project", help="only this project (with --tenant)")


def leaderboards_command(args: argparse.Namespace) -> int:
    return asyncio.run(_rebuild(settings_for(args), args.tenant, args.project))


async def _rebuild(settings: Settings, tenant: str | None, project: str | None) -> int:
    from actors.boards.factory import board_store_for
    from actors.boards.rebuild import rebuild_project
    from actors.economy_reads import projects_in
    from actors.stores.factory import store_for

    store, boards = store_for(settings), board_store_for(settings)
    await store.open()
    await boards.open()
    try:
        chosen = [
            (t, p)
            for t, p in await projects_in(store)
            if (tenant is None or t == tenant) and (project is None or p == project)
        ]
        for t, p in chosen:
            done = await rebuild_project(store, boards, t, p)
            print(f"ludex: {t}/{p}: {done.records} records, {done.changes} board changes applied", flush=True)
        if not chosen:
            print("ludex: no project matched", flush=True)
            return 1
    finally:
        await boards.close()
        await store.close()
    return 0
