"""`ludex project what-if FILE --from DAY --to DAY`: start a what-if of the economy in FILE on a
running server, draw its progress, then print what would change (docs/ECONOMY.md, "What-if").
Ctrl-C cancels the job on the server."""

from __future__ import annotations

import argparse
import json
import sys
import time
from contextlib import nullcontext
from typing import IO, TYPE_CHECKING, Any

from serve.cli.client import BackofficeLoginError, Target, problem_text
from serve.cli.economy_file import ApplyError, load_definition

if TYPE_CHECKING:
    import httpx

DONE, FAILED, UNREACHABLE = 0, 1, 2
POLL_S = 0.5
BAR_WIDTH = 30


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="the proposed economy (YAML or JSON)")
    parser.add_argument("--from", dest="from_", required=True, help="first UTC day replayed, YYYY-MM-DD")
    parser.add_argument("--to", required=True, help="UTC day after the window, YYYY-MM-DD (exclusive)")
    parser.add_argument("--sample", type=int, help="replay this many players drawn at random (default: all)")
    parser.add_argument("--json", action="store_true", help="print the whole result as JSON instead of a summary")
    for name, text in (
        ("--tenant", "tenant id (default: the demo credentials' tenantId)"),
        ("--project", "project id (default: the demo credentials' projectId)"),
        ("--base-url", "the Ludex API (default: the demo credentials' baseUrl)"),
        ("--email", "dashboard user (default: the demo credentials' adminEmail)"),
    ):
        parser.add_argument(name, help=text)


def progress_line(job: dict[str, Any]) -> str:
    """`[#####.....]  50 %  12/24 players  1,234 commands`: one line, redrawn in place."""
    progress = job["progress"]
    filled = int(progress["fraction"] * BAR_WIDTH)
    total = progress.get("playersTotal")
    players = f"{progress['players']:,}/{total:,}" if total is not None else f"{progress['players']:,}"
    bar = "#" * filled + "." * (BAR_WIDTH - filled)
    return f"[{bar}] {progress['fraction'] * 100:3.0f} %  {players} players  {progress['commands']:,} commands"


def _total(rows: list[dict[str, Any]], currency: str, side: str, flow: str) -> int:
    return sum(int(row[side][flow]["total"]) for row in rows if row["currency"] == currency)


def summary(result: dict[str, Any]) -> list[str]:
    """The window's totals before → after: per currency sources, sinks and closing supply; every
    SKU's receipts; the level spread; the refusals, most frequent first."""
    sample = result["sample"]
    replayed = f"{result['players']:,} players" + (
        f" (a sample of {sample['samplePlayers']:,} of {sample['playersInProject']:,})" if sample["sampled"] else ""
    )
    lines = [
        f"replayed {result['commands']:,} commands of {replayed}; {result['refusedCommands']:,} would be refused"
        + (f", {result['skipped']:,} without a recorded command skipped" if result["skipped"] else ""),
        "currency      sources before -> after      sinks before -> after      supply at the end before -> after",
    ]
    rows = result["currencies"]
    for balance in result["balances"]:
        currency = balance["currency"]
        sources = f"{_total(rows, currency, 'before', 'sources'):,} -> {_total(rows, currency, 'after', 'sources'):,}"
        sinks = f"{_total(rows, currency, 'before', 'sinks'):,} -> {_total(rows, currency, 'after', 'sinks'):,}"
        supply = f"{balance['before']['supply']:,} -> {balance['after']['supply']:,}"
        lines.append(f"  {currency:<11} {sources:<27} {sinks:<26} {supply}")
    for row in result["purchases"]:
        lines.append(f"  purchases of {row['sku']}: {row['before']['receipts']:,} -> {row['after']['receipts']:,}")
    levels = result["levels"]
    lines.append(f"  players per level: {levels['before']} -> {levels['after']}")
    for group in result["refused"]:
        target = f" {group['target']}" if group["target"] else ""
        lines.append(f"  refused {group['count']:,}x {group['op']}{target}: {group['reason']} ({group['detail']})")
    return lines


def run(
    args: argparse.Namespace, out: IO[str] = sys.stdout, err: IO[str] = sys.stderr, client: httpx.Client | None = None
) -> int:
    """`client`: an HTTP client to use instead of one to `--base-url` (the route seam's, in tests)."""
    import httpx

    target = Target.from_args(args)
    try:
        document = load_definition(args.file)
        if missing := target.missing():
            print(f"ludex: missing {', '.join(missing)} (and no demo-credentials.json)", file=err)
            return UNREACHABLE
        body: dict[str, Any] = {"economy": document, "from": args.from_, "to": args.to}
        if args.sample is not None:
            body["samplePlayers"] = args.sample
        opened = httpx.Client(base_url=target.base_url, timeout=30) if client is None else nullcontext(client)
        with opened as client:
            target.log_in(client)
            path = f"/v1/client/projects/{target.project}/economy/what-if"
            started = client.post(path, json=body)
            if started.status_code != 202:
                print(f"ludex: the server refused the what-if: {problem_text(started)}", file=err)
                return FAILED if started.status_code == 422 else UNREACHABLE
            job_id = started.json()["jobId"]
            print(f"ludex: what-if {job_id} of {args.file} on {target.tenant}/{target.project}", file=err)
            try:
                job = _follow(client, f"{path}/{job_id}", err)
            except KeyboardInterrupt:
                client.post(f"{path}/{job_id}/cancel")
                print(f"\nludex: cancelled what-if {job_id}", file=err)
                return FAILED
    except ApplyError as error:
        print(f"ludex: {error}", file=err)
        return error.code
    except BackofficeLoginError as error:
        print(f"ludex: {error}", file=err)
        return UNREACHABLE
    except httpx.HTTPError as error:
        print(f"ludex: cannot reach {target.base_url}: {error}", file=err)
        return UNREACHABLE
    if job["status"] != "done":
        print(f"ludex: what-if {job['status']}: {job.get('error') or ''}", file=err)
        return FAILED
    if args.json:
        print(json.dumps(job["result"], indent=2), file=out)
    else:
        print("\n".join(summary(job["result"])), file=out)
    return DONE


def _follow(client: Any, path: str, err: IO[str]) -> dict[str, Any]:
    """Polls the job, redrawing the bar on a terminal (one line per change elsewhere)."""
    last = ""
    while True:
        response = client.get(path)
        if response.status_code != 200:
            raise BackofficeLoginError(f"cannot read the what-if: {problem_text(response)}")
        job: dict[str, Any] = response.json()
        line = progress_line(job)
        if line != last:
            print(f"\r{line}" if err.isatty() else line, end="" if err.isatty() else "\n", file=err, flush=True)
            last = line
        if job["status"] != "running":
            if err.isatty():
                print(file=err)
            return job
        time.sleep(POLL_S)
