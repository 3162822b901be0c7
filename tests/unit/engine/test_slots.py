"""The slot assignment rules: fair shares, as few moves as possible, stable once balanced."""

from __future__ import annotations

import hashlib
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.slots import (
    DEFAULT_SLOTS,
    Move,
    apply_moves,
    handoff_batches,
    initial_owners,
    quotas,
    rebalance,
    slot_of,
)

HOST_NAMES = [f"h{i}" for i in range(12)]
hosts_strategy = st.lists(st.sampled_from(HOST_NAMES), min_size=1, max_size=8, unique=True)


@st.composite
def tables(draw: st.DrawFn) -> list[str | None]:
    """Any table: owners drawn from live, removed and no host at all."""
    size = draw(st.integers(min_value=1, max_value=300))
    return draw(st.lists(st.sampled_from([*HOST_NAMES[:10], None]), min_size=size, max_size=size))


def fewest_moves(owners: list[str | None], hosts: list[str]) -> int:
    """An independent count: the best fair table keeps, per host, at most its holdings and at
    most its share; the larger shares go to the hosts holding the most."""
    base, extra = divmod(len(owners), len(hosts))
    held = sorted((sum(o == h for o in owners) for h in hosts), reverse=True)
    kept = sum(min(count, base + (1 if rank < extra else 0)) for rank, count in enumerate(held))
    return len(owners) - kept


@given(tables(), hosts_strategy)
def test_every_host_ends_with_a_fair_share(owners: list[str | None], hosts: list[str]) -> None:
    table = apply_moves(owners, rebalance(owners, hosts))
    counts = Counter(table)
    assert set(counts) <= set(hosts)
    shares = [counts.get(h, 0) for h in hosts]
    assert max(shares) - min(shares) <= 1
    assert sum(shares) == len(owners)


@given(tables(), hosts_strategy)
def test_no_fair_table_is_reached_with_fewer_moves(owners: list[str | None], hosts: list[str]) -> None:
    moves = rebalance(owners, hosts)
    assert len(moves) == fewest_moves(owners, hosts)
    assert len({m.slot for m in moves}) == len(moves), "a slot moves at most once"
    assert all(owners[m.slot] == m.source and m.source != m.target for m in moves)


@given(tables(), hosts_strategy)
def test_a_balanced_table_stays_put(owners: list[str | None], hosts: list[str]) -> None:
    balanced = apply_moves(owners, rebalance(owners, hosts))
    assert rebalance(balanced, hosts) == []
    assert rebalance(balanced, list(reversed(hosts))) == [], "the order hosts are named in does not matter"


@given(st.integers(min_value=1, max_value=2048), st.integers(min_value=1, max_value=10))
def test_adding_a_host_moves_only_its_share_to_it(slots: int, count: int) -> None:
    hosts = HOST_NAMES[:count]
    table = initial_owners(slots, hosts)
    moves = rebalance(table, [*hosts, "new"])
    assert {m.target for m in moves} <= {"new"}
    assert len(moves) == slots // (count + 1), "the new host gets the smaller share: nobody holds more"


@given(st.integers(min_value=1, max_value=2048), st.integers(min_value=2, max_value=10), st.data())
def test_removing_a_host_moves_only_its_slots(slots: int, count: int, data: st.DataObject) -> None:
    hosts = HOST_NAMES[:count]
    table = initial_owners(slots, hosts)
    leaving = data.draw(st.sampled_from(hosts))
    moves = rebalance(table, [h for h in hosts if h != leaving])
    assert {m.source for m in moves} <= {leaving}
    assert len(moves) == table.count(leaving)


def test_a_fresh_table_deals_every_slot_round_robin() -> None:
    table = initial_owners(DEFAULT_SLOTS, ["a", "b", "c"])
    assert Counter(table) == {"a": 342, "b": 341, "c": 341}
    assert table[:4] == ["a", "b", "c", "a"]
    assert rebalance(table, ["a", "b", "c"]) == []


@given(st.text(max_size=20), st.sampled_from([1, 2, 4, 8]))
def test_a_fresh_table_puts_players_where_hash_mod_n_did(player: str, hosts: int) -> None:
    table = initial_owners(DEFAULT_SLOTS, [str(i) for i in range(hosts)])
    legacy = int.from_bytes(hashlib.blake2b(f"t/p/{player}".encode(), digest_size=8).digest(), "big")
    assert table[slot_of("t", "p", player, DEFAULT_SLOTS)] == str(legacy % hosts)


def test_quotas_need_distinct_hosts() -> None:
    with pytest.raises(ValueError):
        quotas([None], [])
    with pytest.raises(ValueError):
        quotas([None], ["a", "a"])


@given(st.lists(st.builds(Move, st.integers(0, 99), st.sampled_from(["a", "b", None]), st.sampled_from(["c", "d"]))))
def test_handoff_batches_keep_one_source_and_target_and_every_move(moves: list[Move]) -> None:
    batches = handoff_batches(moves, 7)
    assert sorted((m for b in batches for m in b), key=repr) == sorted(moves, key=repr)
    for batch in batches:
        assert 1 <= len(batch) <= 7
        assert len({(m.source, m.target) for m in batch}) == 1


def test_slot_of_is_stable_and_in_range() -> None:
    assert slot_of("acme", "space", "ada", 1024) == slot_of("acme", "space", "ada", 1024)
    assert all(0 <= slot_of("t", "p", str(i), 16) < 16 for i in range(200))
    assert len({slot_of("t", "p", str(i), 1024) for i in range(5000)}) > 950, "players spread over the slots"
