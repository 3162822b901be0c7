"""The rules: `decide` turns a command into events (or a rejection) without changing anything;
`evolve` folds one event into state. A decision is all or nothing: every check runs against a
draft state before any event leaves this module, so a purchase that would break a stack limit
or a reward that cannot be paid rejects the whole command."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from engine import commands as c
from engine import events as e
from engine.definitions import Economy, Grants
from engine.errors import (
    BalanceLimitError,
    BoostLimitError,
    CounterLimitError,
    InsufficientFundsError,
    InsufficientItemsError,
    InvalidAmountError,
    InvalidFieldError,
    LeaderboardNotSubmittedError,
    PlayerExistsError,
    PlayerNotFoundError,
    QuestCompletedError,
    Rejection,
    StackLimitError,
    UnknownCounterError,
    UnknownCurrencyError,
    UnknownItemError,
    UnknownLeaderboardError,
    UnknownObjectiveError,
    UnknownQuestError,
    UnknownSkuError,
    XpLimitError,
)
from engine.formats import RECORD_FORMAT, upcast_events
from engine.item_effects import (
    CURRENCY_METRIC,
    MAX_BOOST_TOTAL_SECONDS,
    XP_METRIC,
    Boost,
    BoostEffect,
    CounterEffect,
    CurrencyEffect,
    FlagEffect,
    ItemEffect,
    XpEffect,
    boosted,
    extended_end,
    multiplier_at,
    with_boost,
)
from engine.leaderboards import MAX_SCORE, period_at
from engine.limits import MAX_AMOUNT, MAX_SAFE_INTEGER, MAX_UNLOCK_PASSES, MetadataError, check_metadata
from engine.remediation import clawback_split, credit_split
from engine.state import PlayerState, QuestState, with_changes
from engine.views import player_view, quest_view

MAX_BALANCE = MAX_SAFE_INTEGER
MAX_XP = MAX_SAFE_INTEGER
MAX_COUNTER = MAX_SAFE_INTEGER
MAX_PURCHASE_QUANTITY = 100
MAX_USERNAME_LENGTH = 64
Body = dict[str, Any] | None  # the answer's body, as the API shows it


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Context:
    """Everything a decision may depend on besides state and command."""

    now: datetime
    economy: Economy
    entity: str

    @property
    def occurred_at(self) -> str:
        return rfc3339(self.now)


@dataclass(frozen=True)
class Accepted:
    events: tuple[e.Event, ...]
    body: dict[str, Any] | None
    created: bool = False
    # The state the events lead to (seq not yet bumped): decide evolves it anyway, and the host
    # would otherwise fold the same events a second time (`state_after`).
    state: PlayerState | None = field(default=None, compare=False, repr=False)


# ---------------------------------------------------------------------------------------- evolve


def evolve(state: PlayerState, event: e.Event, occurred_at: str) -> PlayerState:
    """Apply one event. Pure and total: replaying a journal through it rebuilds the state."""
    return with_changes(state, updated_at=occurred_at, **_changes(state, event, occurred_at))


def _add(mapping: Any, key: str, delta: int) -> dict[str, int]:
    """Lifetime totals (earned, spent) stop at the safe-integer maximum instead of growing past
    what a store keeps: they only feed `>=` conditions, which stay true there."""
    return {**mapping, key: min(mapping.get(key, 0) + delta, MAX_SAFE_INTEGER)}


def _changes(s: PlayerState, event: e.Event, at: str) -> dict[str, Any]:
    """The fields `event` changes: one copy of the state per event, not two."""
    match event:
        case e.PlayerCreated(username=username, metadata=metadata):
            return dict(exists=True, username=username, metadata=metadata, created_at=at)
        case e.PlayerUpdated(username=username, metadata=metadata):
            return dict(username=username, metadata=metadata)
        case e.PlayerDeleted():
            return dict(deleted=True)
        case e.XpAdded(xp=xp):
            return dict(xp=xp)
        case e.LevelUpdated(level=level):
            return dict(level=level)
        case e.LevelReached():
            return {}
        case e.WalletCredited(currency=cur, amount=amount, balance_after=after):
            return dict(balances={**s.balances, cur: after}, earned=_add(s.earned, cur, amount))
        case e.WalletDebited(currency=cur, amount=amount, balance_after=after):
            return dict(balances={**s.balances, cur: after}, spent=_add(s.spent, cur, amount))
        case e.ItemGranted(item_id=item, total=total) | e.ItemConsumed(item_id=item, total=total):
            inventory = {**s.inventory, item: total}
            if total == 0:
                del inventory[item]
            return dict(inventory=inventory)
        case e.CounterIncremented(counter_id=counter, value=value):
            return dict(counters={**s.counters, counter: value})
        case e.CounterReset(counter_id=counter):
            return dict(counters={**s.counters, counter: 0})
        case e.QuestProgressed(quest_id=quest, objective_id=objective, value=value):
            current = s.quests.get(quest, QuestState())
            updated = with_changes(current, progress={**current.progress, objective: value})
            return dict(quests={**s.quests, quest: updated})
        case e.QuestCompleted(quest_id=quest):
            current = s.quests.get(quest, QuestState())
            return dict(quests={**s.quests, quest: with_changes(current, completed_at=at)})
        case e.AchievementUnlocked(achievement_id=achievement):
            return dict(achievements={**s.achievements, achievement: at})
        case e.PurchaseSucceeded():
            return dict(purchases=s.purchases + 1)
        case e.ScoreSubmitted():
            return {}  # boards are derived from the journal, not kept in the player's state
        case e.BoostStarted(metric=metric, multiplier=multiplier, ends_at=ends_at):
            return dict(boosts=with_boost(s.boosts, Boost(metric, multiplier, ends_at), at))
        case e.FlagSet(flag=flag, value=value):
            return dict(flags={**s.flags, flag: value})
        case e.GuardrailCounted(windows=windows, received=received):
            counted = {key: (start, received[key]) for key, start in windows.items()}
            return dict(guardrail_windows={**s.guardrail_windows, **counted})
        case e.GuardrailTripped(guardrail_id=guardrail, action=action):
            return dict(flags={**s.flags, f"guardrail:{guardrail}": True}) if action == "flag" else {}
        case e.WalletClawedBack(currency=cur, amount=amount, balance_after=after, debt_after=debt):
            # the credits it undoes no longer count as earned (achievements, `earned.*` boards)
            earned = {**s.earned, cur: max(s.earned.get(cur, 0) - amount, 0)}
            return dict(balances={**s.balances, cur: after}, debts=_owed(s.debts, cur, debt), earned=earned)
        case e.DebtRepaid(currency=cur, balance_after=after, debt_after=debt):
            return dict(balances={**s.balances, cur: after}, debts=_owed(s.debts, cur, debt))
        case e.ItemClawedBack(item_id=item, total=total):
            inventory = {**s.inventory, item: total}
            if total == 0:
                del inventory[item]
            return dict(inventory=inventory)
        case e.AchievementRevoked(achievement_id=achievement):
            return dict(achievements={k: v for k, v in s.achievements.items() if k != achievement})
    raise TypeError(f"no rule evolves {type(event).__name__}")


def _owed(debts: Any, currency: str, debt: int) -> dict[str, int]:
    """Debts with `currency`'s set to `debt`; a settled debt leaves no entry."""
    owed = {**debts, currency: debt}
    if debt == 0:
        del owed[currency]
    return owed


def apply_record(state: PlayerState, seq: int, events: list[e.Event], occurred_at: str) -> PlayerState:
    """Fold one journal record (the events of one accepted command) into state."""
    for event in events:
        state = evolve(state, event, occurred_at)
    return with_changes(state, seq=seq)


def replay_record(
    state: PlayerState, seq: int, events: list[dict[str, Any]], occurred_at: str, format_version: int = RECORD_FORMAT
) -> PlayerState:
    """Fold a stored journal record of any format this code ever wrote (`engine.formats`)."""
    upcast = upcast_events(format_version, events)
    return apply_record(state, seq, [e.event_from_dict(event) for event in upcast], occurred_at)


def state_after(state: PlayerState, decision: Accepted, seq: int, occurred_at: str) -> PlayerState:
    """What `apply_record` makes of `decision`'s journal record, from the state decide reached."""
    if decision.state is None:
        return apply_record(state, seq, list(decision.events), occurred_at)
    return with_changes(decision.state, seq=seq)


# ---------------------------------------------------------------------------------------- decide


class _Draft:
    """Events decided so far and the state they lead to, so later checks see earlier effects."""

    def __init__(self, state: PlayerState, ctx: Context) -> None:
        self.state = state
        self.ctx = ctx
        self.events: list[e.Event] = []

    def emit(self, event: e.Event) -> int:
        self.events.append(event)
        self.state = evolve(self.state, event, self.ctx.occurred_at)
        return len(self.events) - 1

    def event_id(self, index: int) -> str:
        return e.event_id(self.ctx.entity, self.state.seq + 1, index)


def check_amount(field: str, value: Any, minimum: int = 1, maximum: int = MAX_AMOUNT) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise InvalidAmountError(field, value, minimum, maximum)


def check_currency(economy: Economy, currency: str) -> None:
    if currency not in economy.currencies:
        raise UnknownCurrencyError(currency)


def check_item(economy: Economy, item_id: str) -> None:
    if item_id not in economy.items:
        raise UnknownItemError(item_id)


def check_username(username: Any) -> None:
    if not isinstance(username, str) or not 1 <= len(username.strip()) <= MAX_USERNAME_LENGTH:
        raise InvalidFieldError("username", f"must be 1 to {MAX_USERNAME_LENGTH} characters")
    if not username.isprintable():
        raise InvalidFieldError("username", "must not contain control characters")


def check_metadata_field(metadata: Any) -> None:
    """Metadata reaches the journal only if every store and SDK can keep it exactly: one bad
    value must not fail the group commit that carries other tenants' writes."""
    try:
        check_metadata(metadata)
    except MetadataError as error:
        raise InvalidFieldError(f"metadata.{error.path}" if error.path else "metadata", error.message) from None


def _credit(
    draft: _Draft, currency: str, amount: int, reason: str, metadata: dict[str, Any], *, boost: bool = True
) -> int:
    """Credits `amount` (`boost`: multiplied by the player's active currency boosts; item effects
    are not); a debt of the currency (left by a clawback) takes its share first."""
    if boost:
        amount = boosted(amount, multiplier_at(draft.state.boosts, CURRENCY_METRIC + currency, draft.ctx.now))
    balance = draft.state.balance(currency)
    split = credit_split(balance, draft.state.debt(currency), amount)
    if split.balance_after > MAX_BALANCE:
        raise BalanceLimitError(currency, balance, amount, MAX_BALANCE)
    index = draft.emit(e.WalletCredited(currency, amount, balance + amount, reason, metadata))
    if split.moved:
        draft.emit(e.DebtRepaid(currency, split.moved, split.balance_after, split.debt_after, reason))
    return index


def _debit(draft: _Draft, currency: str, amount: int, reason: str, metadata: dict[str, Any]) -> int:
    balance = draft.state.balance(currency)
    if balance < amount:
        raise InsufficientFundsError(currency, balance, amount)
    return draft.emit(e.WalletDebited(currency, amount, balance - amount, reason, metadata))


def _grant_item(draft: _Draft, item_id: str, quantity: int, reason: str) -> None:
    limit = draft.ctx.economy.items[item_id].stack_limit
    held = draft.state.quantity(item_id)
    if held + quantity > limit:
        raise StackLimitError(item_id, limit, held, quantity)
    draft.emit(e.ItemGranted(item_id, quantity, held + quantity, reason))


def _add_xp(draft: _Draft, amount: int, reason: str, *, boost: bool = True) -> None:
    if boost:
        amount = boosted(amount, multiplier_at(draft.state.boosts, XP_METRIC, draft.ctx.now))
    curve = draft.ctx.economy.xp_curve
    before = draft.state.level
    xp = draft.state.xp + amount
    if xp > MAX_XP:
        raise XpLimitError(draft.state.xp, amount, MAX_XP)
    draft.emit(e.XpAdded(amount, xp, reason))
    after = curve.level_for(xp)
    for level in range(before + 1, after + 1):
        draft.emit(e.LevelReached(level))
    if after != before:
        draft.emit(e.LevelUpdated(after, before))


def _pay(draft: _Draft, grants: Grants, times: int, reason: str, *, boost: bool = True) -> None:
    for grant in grants.items:
        _grant_item(draft, grant.item_id, grant.quantity * times, reason)
    for currency, amount in grants.currencies.items():
        if amount:
            _credit(draft, currency, amount * times, reason, {}, boost=boost)
    if grants.xp:
        _add_xp(draft, grants.xp * times, reason, boost=boost)


def metric_value(state: PlayerState, metric: str) -> int:
    if metric == "level":
        return state.level
    if metric == "xp":
        return state.xp
    if metric == "purchases":
        return state.purchases
    kind, _, name = metric.partition(".")
    source = {"counter": state.counters, "earned": state.earned, "spent": state.spent}[kind]
    return source.get(name, 0)


def _unlock_achievements(draft: _Draft) -> list[str]:
    """Unlock every achievement the draft now satisfies, paying rewards, until nothing changes
    (a reward may satisfy another achievement)."""
    unlocked: list[str] = []
    progress = True
    for _ in range(MAX_UNLOCK_PASSES):
        if not progress:
            break
        progress = False
        for achievement in draft.ctx.economy.achievements.values():
            if achievement.id in draft.state.achievements:
                continue
            if all(metric_value(draft.state, cond.metric) >= cond.gte for cond in achievement.conditions):
                draft.emit(e.AchievementUnlocked(achievement.id))
                _pay(draft, achievement.rewards, 1, f"achievement:{achievement.id}")
                unlocked.append(achievement.id)
                progress = True
    return unlocked


def decide(state: PlayerState, command: c.Command, ctx: Context) -> Accepted | Rejection:
    """The events `command` causes on `state`, or why it is refused. Never raises a Rejection."""
    try:
        return _decide(state, command, ctx)
    except Rejection as rejection:
        return rejection


def _decide(state: PlayerState, command: c.Command, ctx: Context) -> Accepted:
    if isinstance(command, c.CreatePlayer):
        return _create(state, command, ctx)
    if not state.is_active:
        raise PlayerNotFoundError(state.player_id)
    rule = _RULES.get(type(command))
    if rule is None:
        raise TypeError(f"no rule decides {type(command).__name__}")
    draft = _Draft(state, ctx)
    body = rule(draft, command)
    return Accepted(tuple(draft.events), body, created=type(command) in _CREATES, state=draft.state)


def _update_player(draft: _Draft, command: c.UpdatePlayer) -> Body:
    state = draft.state
    if command.username is not None:
        check_username(command.username)
    new_username = state.username if command.username is None else command.username
    if command.metadata is not None:
        check_metadata_field(command.metadata)
    new_metadata = dict(state.metadata) if command.metadata is None else command.metadata
    if (new_username, new_metadata) != (state.username, dict(state.metadata)):
        draft.emit(e.PlayerUpdated(new_username, new_metadata))
    return player_view(draft.state)


def _delete_player(draft: _Draft, command: c.DeletePlayer) -> Body:
    draft.emit(e.PlayerDeleted())
    return None


def _award_xp(draft: _Draft, command: c.AwardXp) -> Body:
    check_amount("amount", command.amount)
    before = draft.state.level
    _add_xp(draft, command.amount, command.reason)
    _unlock_achievements(draft)
    after = draft.state
    return {
        "xp": after.xp,
        "level": after.level,
        "leveledUp": after.level > before,
        "levelsGained": after.level - before,
        "nextLevelXp": draft.ctx.economy.xp_curve.next_level_xp(after.level),
    }


def _credit_wallet(draft: _Draft, command: c.Credit) -> Body:
    return _change_wallet(draft, command, _credit)


def _debit_wallet(draft: _Draft, command: c.Debit) -> Body:
    return _change_wallet(draft, command, _debit)


def _change_wallet(
    draft: _Draft, command: c.Credit | c.Debit, change: Callable[[_Draft, str, int, str, dict[str, Any]], int]
) -> Body:
    check_currency(draft.ctx.economy, command.currency)
    check_amount("amount", command.amount)
    check_metadata_field(command.metadata)
    index = change(draft, command.currency, command.amount, command.reason, command.metadata)
    _unlock_achievements(draft)
    return _wallet_body(draft, command.currency, index)


def _grant(draft: _Draft, command: c.GrantItem) -> Body:
    check_item(draft.ctx.economy, command.item_id)
    check_amount("quantity", command.quantity)
    _grant_item(draft, command.item_id, command.quantity, "")
    _unlock_achievements(draft)
    return {"itemId": command.item_id, "quantity": draft.state.quantity(command.item_id)}


def _consume(draft: _Draft, command: c.ConsumeItem) -> Body:
    item_id, quantity = command.item_id, command.quantity
    check_item(draft.ctx.economy, item_id)
    check_amount("quantity", quantity)
    held = draft.state.quantity(item_id)
    if held < quantity:
        raise InsufficientItemsError(item_id, held, quantity)
    draft.emit(e.ItemConsumed(item_id, quantity, held - quantity))
    apply_item_effects(draft, item_id, quantity)
    _unlock_achievements(draft)
    return {"itemId": item_id, "quantity": draft.state.quantity(item_id)}


def _increment_counter(draft: _Draft, command: c.IncrementCounter) -> Body:
    counter_id, by = command.counter_id, command.by
    if counter_id not in draft.ctx.economy.counters:
        raise UnknownCounterError(counter_id)
    check_amount("by", by)
    value = _count(draft, counter_id, by)
    unlocked = _unlock_achievements(draft)
    return {"counterId": counter_id, "value": value, "unlocked": unlocked}


def _count(draft: _Draft, counter_id: str, by: int) -> int:
    value = draft.state.counters.get(counter_id, 0) + by
    if value > MAX_COUNTER:
        raise CounterLimitError(counter_id, value - by, by, MAX_COUNTER)
    draft.emit(e.CounterIncremented(counter_id, by, value))
    return value


def apply_item_effects(draft: _Draft, item_id: str, units: int) -> None:
    """Each effect of `item_id` once per unit consumed, as the events of the equivalent direct
    command (`engine/item_effects.py` says why n units at once equal n single units)."""
    reason = f"item:{item_id}"
    for effect in draft.ctx.economy.items[item_id].effects:
        match effect:
            case XpEffect(amount=amount):
                _add_xp(draft, amount * units, reason, boost=False)
            case CurrencyEffect(currency=currency, amount=amount):
                _credit(draft, currency, amount * units, reason, {}, boost=False)
            case ItemEffect(item_id=granted, quantity=quantity):
                _grant_item(draft, granted, quantity * units, reason)
            case CounterEffect(counter_id=counter_id, amount=amount):
                _count(draft, counter_id, amount * units)
            case FlagEffect(flag=flag, value=value):
                draft.emit(e.FlagSet(flag, value, item_id))
            case BoostEffect():
                ends = extended_end(draft.state.boosts, effect, units, draft.ctx.now)
                if ends is None:
                    raise BoostLimitError(item_id, effect.metric, MAX_BOOST_TOTAL_SECONDS)
                draft.emit(e.BoostStarted(effect.metric, effect.multiplier, rfc3339(ends), item_id))


def _reset_counter(draft: _Draft, command: c.ResetCounter) -> Body:
    if command.counter_id not in draft.ctx.economy.counters:
        raise UnknownCounterError(command.counter_id)
    draft.emit(e.CounterReset(command.counter_id))
    return {"counterId": command.counter_id, "value": 0}


def _submit_score(draft: _Draft, command: c.SubmitScore) -> Body:
    board_id, score, metadata = command.board_id, command.score, command.metadata
    board = draft.ctx.economy.leaderboards.get(board_id)
    if board is None:
        raise UnknownLeaderboardError(board_id)
    if not board.submitted:
        raise LeaderboardNotSubmittedError(board_id, board.metric)
    check_amount("score", score, minimum=-MAX_SCORE, maximum=MAX_SCORE)
    check_metadata_field(metadata)
    period = period_at(board.reset, draft.ctx.now).id
    draft.emit(e.ScoreSubmitted(board_id, score, period, metadata))
    return {"boardId": board_id, "playerId": draft.state.player_id, "score": score, "periodId": period}


def _wallet_body(draft: _Draft, currency: str, index: int) -> dict[str, Any]:
    return {"currency": currency, "balance": draft.state.balance(currency), "entryId": draft.event_id(index)}


def _create(state: PlayerState, command: c.CreatePlayer, ctx: Context) -> Accepted:
    check_username(command.username)
    check_metadata_field(command.metadata)
    if state.exists:
        same = (state.username, dict(state.metadata)) == (command.username, command.metadata)
        if same and not state.deleted:
            return Accepted((), player_view(state), created=False)
        raise PlayerExistsError(state.player_id)
    draft = _Draft(state, ctx)
    draft.emit(e.PlayerCreated(command.username, command.metadata))
    _unlock_achievements(draft)
    return Accepted(tuple(draft.events), player_view(draft.state), created=True, state=draft.state)


def _progress_quest(draft: _Draft, command: c.ProgressQuest) -> Body:
    quest_id, objective_id, by = command.quest_id, command.objective_id, command.by
    quest = draft.ctx.economy.quests.get(quest_id)
    if quest is None:
        raise UnknownQuestError(quest_id)
    objective = next((o for o in quest.objectives if o.id == objective_id), None)
    if objective is None:
        raise UnknownObjectiveError(quest_id, objective_id)
    check_amount("by", by)
    current = draft.state.quests.get(quest_id, QuestState())
    if current.completed_at is not None:
        raise QuestCompletedError(quest_id)
    value = min(current.progress.get(objective_id, 0) + by, objective.target)
    draft.emit(e.QuestProgressed(quest_id, objective_id, by, value))
    progress = draft.state.quests[quest_id].progress
    if all(progress.get(o.id, 0) >= o.target for o in quest.objectives):
        draft.emit(e.QuestCompleted(quest_id))
        _pay(draft, quest.rewards, 1, f"quest:{quest_id}")
    _unlock_achievements(draft)
    return quest_view(draft.state, quest)


def _purchase(draft: _Draft, command: c.Purchase) -> Body:
    sku_id, quantity = command.sku, command.quantity
    sku = draft.ctx.economy.skus.get(sku_id)
    if sku is None:
        raise UnknownSkuError(sku_id)
    check_amount("quantity", quantity, maximum=MAX_PURCHASE_QUANTITY)
    price = {currency: amount * quantity for currency, amount in sku.price.items()}
    for currency, amount in price.items():
        _debit(draft, currency, amount, f"purchase:{sku_id}", {})
    # A purchase is an exchange at the catalog's rates: a boost would let a verified-safe pair of
    # SKUs loop for profit (engine/economy_verify.py knows no boosts), so grants are not boosted.
    _pay(draft, sku.grants, quantity, f"purchase:{sku_id}", boost=False)
    grants = grants_document(sku.grants, quantity)
    purchase = e.purchase_id(draft.ctx.entity, draft.state.seq + 1)
    succeeded = e.PurchaseSucceeded(purchase, sku_id, quantity, price, grants, dict(draft.state.balances))
    draft.emit(succeeded)
    _unlock_achievements(draft)
    return receipt_view(succeeded, draft.ctx.occurred_at)


def _remediate(draft: _Draft, command: c.Remediate) -> Body:
    """A remediation's compensating entries: never rejected for want of funds or items. What
    a balance cannot give becomes debt (`_credit` collects it later); what an inventory cannot
    give is reported as a shortfall. Returns (negative amounts) are ordinary credits and
    grants, so they pay debt first too. No achievement is unlocked here: revoking one must not
    re-grant it in the same breath."""
    reason = f"remediation:{command.remediation_id}"
    for currency, amount in sorted(command.currencies.items()):
        check_currency(draft.ctx.economy, currency)
        if amount > 0:
            split = clawback_split(draft.state.balance(currency), draft.state.debt(currency), amount)
            draft.emit(e.WalletClawedBack(currency, amount, split.moved, split.balance_after, split.debt_after, reason))
        elif amount < 0:
            _credit(draft, currency, -amount, reason, {})
    for item_id, quantity in sorted(command.items.items()):
        check_item(draft.ctx.economy, item_id)
        held = draft.state.quantity(item_id)
        if quantity > 0 and held:
            taken = min(held, quantity)
            draft.emit(e.ItemClawedBack(item_id, taken, held - taken, quantity - taken, reason))
        elif quantity < 0:
            _grant_item(draft, item_id, -quantity, reason)
    for achievement in command.achievements:
        if achievement in draft.state.achievements:
            draft.emit(e.AchievementRevoked(achievement, reason))
    state = draft.state
    return {
        "remediationId": command.remediation_id,
        "balances": {cur: state.balance(cur) for cur in sorted(command.currencies)},
        "debts": {cur: state.debt(cur) for cur in sorted(command.currencies)},
        "items": {item: state.quantity(item) for item in sorted(command.items)},
    }


# One rule per command (`CreatePlayer` aside: it is the only one allowed on an absent player).
_RULES: dict[type[c.Command], Callable[[_Draft, Any], Body]] = {
    c.UpdatePlayer: _update_player,
    c.DeletePlayer: _delete_player,
    c.AwardXp: _award_xp,
    c.Credit: _credit_wallet,
    c.Debit: _debit_wallet,
    c.GrantItem: _grant,
    c.ConsumeItem: _consume,
    c.IncrementCounter: _increment_counter,
    c.ResetCounter: _reset_counter,
    c.ProgressQuest: _progress_quest,
    c.Purchase: _purchase,
    c.SubmitScore: _submit_score,
    c.Remediate: _remediate,
}
_CREATES: frozenset[type[c.Command]] = frozenset({c.Purchase})  # its answer is a new receipt: 201


def receipt_view(event: e.PurchaseSucceeded, occurred_at: str) -> dict[str, Any]:
    return {
        "purchaseId": event.purchase_id,
        "sku": event.sku,
        "quantity": event.quantity,
        "price": event.price,
        "grants": event.grants,
        "balances": event.balances,
        "occurredAt": occurred_at,
    }


def grants_document(grants: Grants, times: int = 1) -> dict[str, Any]:
    document: dict[str, Any] = {}
    if grants.xp:
        document["xp"] = grants.xp * times
    if grants.items:
        document["items"] = [{"itemId": g.item_id, "quantity": g.quantity * times} for g in grants.items]
    if grants.currencies:
        document["currencies"] = {cur: amount * times for cur, amount in grants.currencies.items()}
    return document
