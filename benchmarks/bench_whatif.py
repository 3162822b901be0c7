"""What-if (issue 29): how fast `engine.economy_whatif` replays a generated journal of the demo
economy with the potion pack's price raised, in-process, against a baseline measured in the same
run on the same records: folding the recorded events alone (`rules.replay_record`, what an
activation does), the least any replay must do. Also the peak memory of the what-if fold
(tracemalloc, records excluded: the job reads them a page at a time).

    python -m benchmarks.bench_whatif [--commands 122000] [--players 2000]
"""

from __future__ import annotations

import argparse
import copy
import time
import tracemalloc
from pathlib import Path

import yaml

from engine.definitions import parse_economy
from engine.economy_whatif import WhatIf
from engine.rules import replay_record
from engine.state import PlayerState
from tests.support.histories import history

DEMO = Path(__file__).resolve().parents[1] / "config" / "demo-economy.yaml"
SINCE, UNTIL = "2026-03-01T00:00:00.000Z", "2026-03-08T00:00:00.000Z"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--commands", type=int, default=122_000)  # refused ones leave no record: ~102k records
    parser.add_argument("--players", type=int, default=2_000)
    args = parser.parse_args()
    document = yaml.safe_load(DEMO.read_text())
    economy = parse_economy(document)
    dearer = copy.deepcopy(document)
    dearer["skus"][0]["price"] = {"coins": 400}
    candidate = parse_economy(dearer)
    started = time.perf_counter()
    records = list(history(economy, players=args.players, commands=args.commands, seed=1))
    print(f"generated {len(records):,} records of {args.players:,} players in {time.perf_counter() - started:.1f} s")

    started = time.perf_counter()
    state, entity = PlayerState(player_id=""), ""
    for player_id, record in records:
        if record.entity != entity:
            state, entity = PlayerState(player_id=player_id), record.entity
        state = replay_record(state, record.seq, record.events, record.occurred_at, record.format_version)
    baseline = len(records) / (time.perf_counter() - started)

    tracemalloc.start()
    started = time.perf_counter()
    fold = WhatIf(candidate, SINCE, UNTIL)
    for player_id, record in records:
        fold.add(record, player_id)
    result = fold.result()
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    started = time.perf_counter()
    fold = WhatIf(candidate, SINCE, UNTIL)
    for player_id, record in records:
        fold.add(record, player_id)
    fold.result()
    untraced = len(records) / (time.perf_counter() - started)

    [potions] = [row for row in result["purchases"] if row["sku"] == "potion-pack"]
    refused = sum(group["count"] for group in result["refused"])
    coins = next(row for row in result["balances"] if row["currency"] == "coins")
    print("| run | records/s | ratio to baseline |")
    print("| --- | --- | --- |")
    print(f"| baseline: fold the recorded events (activation) | {baseline:,.0f} | 1.00x |")
    print(f"| what-if: fold + decide again under the candidate | {untraced:,.0f} | {untraced / baseline:.2f}x |")
    print(f"what-if under tracemalloc: {len(records) / elapsed:,.0f} records/s, peak {peak / 2**20:.1f} MiB")
    print(
        f"shift: potion-pack receipts {potions['before']['receipts']:,} -> {potions['after']['receipts']:,}; "
        f"{refused:,} commands refused; coins supply at the end {coins['before']['supply']:,} -> "
        f"{coins['after']['supply']:,}"
    )


if __name__ == "__main__":
    main()
