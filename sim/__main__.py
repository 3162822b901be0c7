"""`python -m sim` (`make sim`): many seeds and a summary; `--seed N`: one run and its trace."""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter

from sim.run import CLIENTS, COMMANDS, RunReport, run_seed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim", description=__doc__)
    parser.add_argument("--seed", type=int, help="run this seed alone and print its trace")
    parser.add_argument("--seeds", type=int, default=300, help="how many seeds to run (from --first)")
    parser.add_argument("--first", type=int, default=0, help="the first seed of the range")
    parser.add_argument("--clients", type=int, default=CLIENTS)
    parser.add_argument("--commands", type=int, default=COMMANDS, help="commands per client")
    args = parser.parse_args(argv)
    if args.seed is not None:
        report = run_seed(args.seed, clients=args.clients, commands=args.commands, trace=print)
        _print_one(report)
        return 0 if report.ok else 1
    started = time.perf_counter()
    faults: Counter[str] = Counter()
    checks: Counter[str] = Counter()
    failed: list[RunReport] = []
    board_entries = 0
    commands = acknowledged = 0
    for seed in range(args.first, args.first + args.seeds):
        report = run_seed(seed, clients=args.clients, commands=args.commands)
        faults.update(report.faults)
        checks.update(report.checks)
        commands += report.commands
        acknowledged += report.acknowledged
        board_entries += report.board_entries
        if not report.ok:
            failed.append(report)
            print(f"seed {seed}: {report.violations[0]}", file=sys.stderr)
    elapsed = time.perf_counter() - started
    print(f"{args.seeds} seeds in {elapsed:.1f}s: {commands} keyed commands, {acknowledged} acknowledged")
    print(f"leaderboard entries compared with their rebuild: {board_entries}")
    print("faults injected:")
    for name, count in sorted(faults.items()):
        print(f"  {count:7d}  {name}")
    print("invariants checked:")
    for name, count in sorted(checks.items()):
        print(f"  {count:7d}  {name}")
    if failed:
        print(f"{len(failed)} seeds broke an invariant; replay one with `make sim SEED={failed[0].seed}`")
        return 1
    print("every invariant held")
    return 0


def _print_one(report: RunReport) -> None:
    print(f"seed {report.seed}: {report.commands} commands, {report.acknowledged} acknowledged,")
    print(f"  {report.virtual_s:.2f}s virtual; faults {dict(report.faults)}")
    print(f"  checks {sum(report.checks.values())}")
    for violation in report.violations:
        print(f"  VIOLATION {violation}")

    print("every invariant held" if report.ok else f"{len(report.violations)} violations")


if __name__ == "__main__":
    sys.exit(main())
