"""The economy verifier (issue 29): how long `verify_document` takes on generated stores of
growing size, in-process. Each store has one value per currency and every SKU loses 5-30 % of
value (so it is clean, and the arbitrage search has to prove it: its worst case), plus the same
store with one profitable loop planted (found).

    python -m benchmarks.bench_verify [--repeat 3]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from typing import Any

from engine.economy_verify import verify_document

SIZES = ((5, 20), (10, 100), (30, 300), (50, 998))  # (currencies, SKUs); 998 + 2 planted: the limit


def store(currencies: int, skus: int, seed: int, planted: bool) -> dict[str, Any]:
    rng = random.Random(seed)
    names = [f"c{i}" for i in range(currencies)]
    value = {name: rng.randint(1, 50) for name in names}
    entries: list[dict[str, Any]] = []
    for index in range(skus):
        paid, got = rng.sample(names, 2)
        price = rng.randint(1, 100)
        grant = max(1, int(price * value[paid] / value[got] * rng.uniform(0.7, 0.95)))
        if grant * value[got] >= price * value[paid]:
            price = 1 + grant * value[got] // value[paid]
        entries.append({"sku": f"s{index}", "price": {paid: price}, "grants": {"currencies": {got: grant}}})
    if planted:
        entries += [
            {"sku": "loop-a", "price": {"c0": 10}, "grants": {"currencies": {"c1": 10}}},
            {"sku": "loop-b", "price": {"c1": 10}, "grants": {"currencies": {"c0": 11}}},
        ]
    currencies_doc = [{"id": name, "kind": "soft"} for name in names]
    return {"currencies": currencies_doc, "xpCurve": {"levels": [0, 100]}, "skus": entries}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print("| currencies | SKUs | planted loop | median ms | arbitrage findings |")
    print("| --- | --- | --- | --- | --- |")
    for currencies, skus in SIZES:
        for planted in (False, True):
            document = store(currencies, skus, 1, planted)
            times, found = [], []
            for _ in range(args.repeat):
                started = time.perf_counter()
                findings = verify_document(document)
                times.append((time.perf_counter() - started) * 1000)
                found = [f"{f.severity}" for f in findings if f.kind == "arbitrage"]
            median = statistics.median(times)
            row = [str(currencies), str(skus), "yes" if planted else "no", f"{median:.0f}", ", ".join(found) or "-"]
            print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
