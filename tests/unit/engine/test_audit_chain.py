"""The audit chain's rules: an intact chain verifies, and any single edit, removal or reorder is
found at the first entry it touches; an erasure keeps the chain verifiable."""

from __future__ import annotations

import secrets
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from engine.audit_chain import ChainHead, chain_entry, entry_hash, forget, head_of, personal_paths, verify


def build(count: int) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    head: ChainHead | None = None
    for n in range(count):
        fields = {
            "id": f"{n:013d}-{n + 1:010d}",
            "tenantId": "acme",
            "actor": f"user{n % 3}@example.com",
            "action": "member.put",
            "target": f"usr_{n}",
            "before": None,
            "after": {"email": f"member{n % 2}@example.com", "role": "developer"},
            "requestId": f"req-{n}",
            "occurredAt": "2026-12-07T00:00:00Z",
        }
        salts = {path: secrets.token_hex(16) for path in personal_paths(fields)}
        entries.append(chain_entry(fields, head, salts))
        head = head_of(entries[-1])
    return entries


def tip(entries: list[dict[str, Any]]) -> ChainHead | None:
    return head_of(entries[-1]) if entries else None


@given(st.integers(min_value=0, max_value=12))
def test_an_untouched_chain_verifies(count: int) -> None:
    entries = build(count)
    assert verify(entries, tip(entries)) is None


@given(st.data())
def test_any_edit_of_a_chained_field_is_found_at_that_entry(data: st.DataObject) -> None:
    entries = build(data.draw(st.integers(min_value=1, max_value=10)))
    head = tip(entries)
    at = data.draw(st.integers(min_value=0, max_value=len(entries) - 1))
    field = data.draw(st.sampled_from(["actor", "action", "target", "after", "requestId", "occurredAt", "tenantId"]))
    entries[at] = {**entries[at], field: "tampered"}
    broken = verify(entries, head)
    assert broken is not None and broken.seq == at + 1 and broken.reason == "edited"


@given(st.data())
def test_a_removed_entry_is_found_where_it_was(data: st.DataObject) -> None:
    entries = build(data.draw(st.integers(min_value=1, max_value=10)))
    head = tip(entries)
    at = data.draw(st.integers(min_value=0, max_value=len(entries) - 1))
    del entries[at]
    broken = verify(entries, head)
    assert broken is not None and broken.seq == at + 1
    assert broken.reason == ("truncated" if at == len(entries) else "missing")


@given(st.data())
def test_two_entries_swapped_are_found_at_the_first(data: st.DataObject) -> None:
    entries = build(data.draw(st.integers(min_value=2, max_value=10)))
    head = tip(entries)
    i, j = sorted(data.draw(st.lists(st.integers(0, len(entries) - 1), min_size=2, max_size=2, unique=True)))
    entries[i], entries[j] = entries[j], entries[i]
    broken = verify(entries, head)
    assert broken is not None and broken.seq == i + 1 and broken.reason in ("missing", "out-of-order")


@given(st.data())
def test_a_rewritten_chain_from_an_entry_on_does_not_match_the_head(data: st.DataObject) -> None:
    """Recomputing every hash after an edit makes a consistent chain, but not the head shown."""
    entries = build(data.draw(st.integers(min_value=1, max_value=8)))
    head = tip(entries)
    at = data.draw(st.integers(min_value=0, max_value=len(entries) - 1))
    forged: list[dict[str, Any]] = entries[:at]
    for entry in entries[at:]:
        changed = {**entry, "target": "forged"} if entry is entries[at] else entry
        forged.append(chain_entry(changed, tip(forged), changed["salts"]))
    broken = verify(forged, head)
    assert broken is not None and broken.reason == "edited"


def test_a_personal_value_enters_the_hash_only_salted() -> None:
    entry = build(1)[0]
    assert set(entry["salts"]) == {"actor", "after.email"}
    assert verify([{**entry, "salts": {**entry["salts"], "actor": "00" * 16}}], head_of(entry)) is not None
    assert verify([{**entry, "salts": {}}], head_of(entry)) is not None


@given(st.data())
def test_an_erasure_keeps_the_chain_verifiable_and_leaves_nothing_personal(data: st.DataObject) -> None:
    entries = build(data.draw(st.integers(min_value=1, max_value=10)))
    head = tip(entries)
    email = data.draw(st.sampled_from(["user0@example.com", "user1@example.com", "member1@example.com"]))
    erased = [forget(e, frozenset({email})) or e for e in entries]
    assert verify(erased, head) is None
    assert email not in str(erased)
    assert [entry_hash(e) for e in erased] == [e["hash"] for e in entries]


def test_an_erased_entry_edited_afterwards_is_found() -> None:
    entries = build(2)
    erased = forget(entries[0], frozenset({"user0@example.com"}))
    assert erased is not None and erased["actor"] is None and "actor" in erased["sealed"]
    erased["sealed"] = {**erased["sealed"], "actor": "0" * 64}
    broken = verify([erased, entries[1]], tip(entries))
    assert broken is not None and broken.seq == 1


def test_forget_answers_none_when_the_entry_names_nobody_given() -> None:
    assert forget(build(1)[0], frozenset({"nobody@example.com"})) is None


def test_an_entry_written_before_the_chain_loses_its_personal_values() -> None:
    legacy = {"id": "1", "actor": "old@example.com", "after": {"email": "old@example.com"}}
    assert forget(legacy, frozenset({"old@example.com"})) == {"id": "1", "actor": None, "after": {"email": None}}


def test_a_chain_without_its_head_is_reported_truncated() -> None:
    broken = verify(build(2), None)
    assert broken is not None and broken.reason == "truncated"
