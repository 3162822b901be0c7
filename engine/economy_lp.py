"""Exact linear feasibility for the economy verifier: is there a mix `x >= 0` of columns whose
every row sum is `>= 0` and whose total is `> 0`? Rational arithmetic (no float rounding can
hide or invent a profit of one coin) and Dantzig's rule, falling back to Bland's rule
(no cycling, so it always ends) when steps stop improving.

Economies are small (tens of SKUs in the currency-granting part), so a dense tableau is enough;
`MAX_CELL_UPDATES` bounds the work of a pathological document (about a second).
"""

from __future__ import annotations

from fractions import Fraction

MAX_CELL_UPDATES = 2_000_000
STALL_BEFORE_BLAND = 50  # degenerate steps in a row before switching to Bland's rule


class TooLargeError(ValueError):
    """The search needed more than `MAX_CELL_UPDATES` updates of the tableau; the answer is unknown."""


def find_nonnegative_gain(rows: list[list[Fraction]]) -> list[Fraction] | None:
    """`x` (one value per column) with `rows[i] . x >= 0` for every i and their sum `>= 1`, or
    None when none exists. The problem is homogeneous, so any positive gain scales to 1."""
    if not rows:
        return None
    m, n = len(rows), len(rows[0])
    # Unknowns: x (n), a surplus per row (m), the slack of the total (1). Equalities:
    #   rows[i] . x - surplus[i] = 0;   sum(surplus) - slack = 1.
    width = n + m + 1
    equalities: list[list[Fraction]] = []
    for i, row in enumerate(rows):
        equalities.append([*row, *(Fraction(-1 if k == i else 0) for k in range(m)), Fraction(0)])
    equalities.append([*(Fraction(0) for _ in range(n)), *(Fraction(1) for _ in range(m)), Fraction(-1)])
    rhs = [Fraction(0)] * m + [Fraction(1)]
    solution = _phase_one(equalities, rhs, width)
    return None if solution is None else solution[:n]


def _phase_one(equalities: list[list[Fraction]], rhs: list[Fraction], width: int) -> list[Fraction] | None:
    """A point of `A y = b, y >= 0` (b >= 0), found by minimising the sum of one artificial
    unknown per equality: the point exists when that minimum is 0."""
    m = len(equalities)
    tableau = [[*row, *(Fraction(1 if k == i else 0) for k in range(m)), rhs[i]] for i, row in enumerate(equalities)]
    basis = [width + i for i in range(m)]
    total = width + m
    cost = [-sum((tableau[i][j] for i in range(m)), Fraction(0)) for j in range(width)]
    cost += [Fraction(0)] * m + [-sum(rhs, Fraction(0))]
    work = stalled = 0
    while True:
        entering = _entering(cost, total, bland=stalled > STALL_BEFORE_BLAND)
        if entering is None:
            break
        work += m * (total + 1)
        if work > MAX_CELL_UPDATES:
            raise TooLargeError(f"no answer within {MAX_CELL_UPDATES} updates")
        leaving: int | None = None
        best: Fraction | None = None
        for i in range(m):
            if tableau[i][entering] > 0:
                ratio = tableau[i][-1] / tableau[i][entering]
                if best is None or ratio < best or (ratio == best and basis[i] < basis[leaving or 0]):
                    leaving, best = i, ratio
        if leaving is None:  # cannot happen: the artificial sum is bounded below by 0
            break
        objective = cost[-1]
        _pivot(tableau, cost, leaving, entering)
        basis[leaving] = entering
        stalled = stalled + 1 if cost[-1] == objective else 0
    if cost[-1] != 0:
        return None
    point = [Fraction(0)] * width
    for i, variable in enumerate(basis):
        if variable < width:
            point[variable] = tableau[i][-1]
    return point


def _entering(cost: list[Fraction], total: int, *, bland: bool) -> int | None:
    """The most negative reduced cost (few steps in practice), or after a run of steps that did
    not improve the objective the first negative one (Bland: cannot cycle)."""
    if bland:
        return next((j for j in range(total) if cost[j] < 0), None)
    best = min(range(total), key=cost.__getitem__)
    return best if cost[best] < 0 else None


def _pivot(tableau: list[list[Fraction]], cost: list[Fraction], row: int, column: int) -> None:
    pivot = tableau[row][column]
    tableau[row] = [value / pivot for value in tableau[row]]
    for i, other in enumerate(tableau):
        factor = other[column]
        if i != row and factor != 0:
            tableau[i] = [value - factor * pivoted for value, pivoted in zip(other, tableau[row], strict=True)]
    factor = cost[column]
    if factor != 0:
        pivoted_row = tableau[row]
        cost[:] = [value - factor * pivoted for value, pivoted in zip(cost, pivoted_row, strict=True)]
