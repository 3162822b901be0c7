"""The verifier's fast check for stores too large for the exact search (`engine/economy_lp.py`):
a loop of SKUs that each turn one currency into another, whose exchange rates multiply to more
than 1 (Bellman-Ford on `-log(rate)`, then confirmed in exact arithmetic). It sees loops through
one-currency-in, one-currency-out SKUs only, so not finding one proves nothing: the verifier then
says the store was not fully checked.
"""

from __future__ import annotations

import math
from fractions import Fraction

from engine.definitions import Economy

Edge = tuple[str, str, str, int, int]  # paid currency, granted currency, SKU, price, grant


def _edges(economy: Economy, skus: list[str]) -> list[Edge]:
    edges: list[Edge] = []
    for sku_id in skus:
        sku = economy.skus[sku_id]
        granted = {currency: amount for currency, amount in sku.grants.currencies.items() if amount}
        if len(sku.price) == 1 and len(granted) == 1:
            [(paid, price)] = sku.price.items()
            [(got, grant)] = granted.items()
            edges.append((paid, got, sku_id, price, grant))
    return edges


def find_rate_loop(economy: Economy, skus: list[str]) -> dict[str, int] | None:
    """SKU -> purchases of one round of a profitable exchange loop, or None."""
    edges = _edges(economy, skus)
    for paid, got, sku_id, price, grant in edges:
        if paid == got and grant > price:
            return {sku_id: 1}
    distance = dict.fromkeys(economy.currencies, 0.0)
    via: dict[str, Edge] = {}
    relaxed: str | None = None
    for _ in range(len(distance)):
        relaxed = None
        for edge in edges:
            paid, got, _, price, grant = edge
            weight = math.log(price) - math.log(grant)
            if paid != got and distance[paid] + weight < distance[got] - 1e-12:
                distance[got], via[got], relaxed = distance[paid] + weight, edge, got
        if relaxed is None:
            return None
    node = relaxed
    for _ in range(len(distance)):  # walk back far enough to stand on the loop itself
        if node not in via:
            return None
        node = via[node][0]
    loop: list[Edge] = []
    current = node
    while len(loop) <= len(distance):
        if current not in via:
            return None
        edge = via[current]
        loop.append(edge)
        current = edge[0]
        if current == node:
            return _exact(list(reversed(loop)))
    return None


def _exact(loop: list[Edge]) -> dict[str, int] | None:
    """Counts where each purchase spends exactly what the one before granted; None when the exact
    rates do not gain (a float rounding found a loop that is not there)."""
    counts = [Fraction(1)]
    for previous, edge in zip(loop, loop[1:], strict=False):
        counts.append(counts[-1] * previous[4] / edge[3])
    if counts[-1] * loop[-1][4] <= counts[0] * loop[0][3]:
        return None
    scale = math.lcm(*(count.denominator for count in counts))
    mix: dict[str, int] = {}
    for count, edge in zip(counts, loop, strict=True):
        mix[edge[2]] = mix.get(edge[2], 0) + int(count * scale)
    return mix
