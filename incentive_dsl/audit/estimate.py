"""What would I earn if I closed this deal? Hypothetical bookings on a payee's live history.

A hypothetical deal is a `booked` event added to the dataset as it is; the plan is run with
and without it, and the payee's earnings are compared rule by rule. Everything the plan
carries across a period moves with it: a deal that takes attainment over a tier bound pays the
higher rate on the part above it only (marginal) or lifts the earlier deals too (retroactive,
as a true-up), a step bonus may be reached, a cap may bite. Each changed line keeps the
explanation its trace gives in the "with" run, so the tier crossing is in words.

Open pipeline deals (`open_deals`): deals of the data that reached a stage and were neither
booked nor cancelled, closed hypothetically at their last recorded amount, one by one and all
together (`scenarios`). The data cannot tell a lost deal that reached a stage from an open one
(lost deals have no event of their own, docs/data.md), so a deal that is lost but still has
stage events counts as open.

Nothing is rounded here: earnings are exact, as the run computed them; pay (rounded where the
plan says) is compared per pay period from the statements.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal

import attrs

from incentive_dsl.check.model import BonusSpec, OverrideSpec, Plan, PoolSpec
from incentive_dsl.data.records import Dataset, Event, Roster
from incentive_dsl.data.values import (BadValue, parse_amount, parse_count, parse_currency,
                                       parse_date, parse_field, parse_splits, split_text_pairs,
                                       suggest)
from incentive_dsl.diagnostics import Diagnostic
from incentive_dsl.audit.explain import Node, no_statement, skip_reason
from incentive_dsl.eval.context import Fx
from incentive_dsl.eval.money import ZERO, fmt, fmt_number, fmt_pct
from incentive_dsl.eval.records import EarningLine, Skips
from incentive_dsl.eval.run import RunResult, evaluate_versions
from incentive_dsl.periods import FREQUENCY_UNIT, month_end
from incentive_dsl.syntax import nodes
from incentive_dsl.syntax.format import expr as show

# The keys of `--deal key=value` besides the plan's custom deal fields.
DEAL_KEYS = ("amount", "date", "id", "currency", "splits", "term_months")
HYPOTHETICAL_ID = "HYPOTHETICAL"


class DealError(ValueError):
    """A `key=value` of a hypothetical deal that cannot be read (message and hint)."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __reduce__(self):  # pickled and copied with its hint, not from the message alone
        return type(self), (self.message, self.hint)


@attrs.frozen
class Closing:
    """A deal closed hypothetically: the booked event and where it came from."""

    event: Event
    origin: str  # "hypothetical", or the pipeline deal's stage and row
    stage: str | None = None  # a pipeline deal's last stage


@attrs.frozen
class ChangedLine:
    """One earning (a rule, a kind, a period, a deal) whose amount the closing changes."""

    component: str
    kind: str
    period: str
    deal: str | None
    before: Decimal
    after: Decimal
    because: str  # the trace of the line in the run where it exists (the "with" run if both)

    @property
    def difference(self) -> Decimal:
        return self.after - self.before


@attrs.frozen
class RuleChange:
    component: str
    label: str
    before: Decimal
    after: Decimal
    lines: tuple[ChangedLine, ...]

    @property
    def difference(self) -> Decimal:
        return self.after - self.before


@attrs.frozen
class PayChange:
    pay_period: str
    before: Decimal
    after: Decimal


@attrs.frozen
class NotPaid:
    """A rule that turned a closing's event away in the "with" run, and why (the run's skip)."""

    rule: str
    label: str
    deal: str
    reason: str


@attrs.frozen
class Estimate:
    """The payee's earnings with and without `closings`, per rule, and what else changes."""

    payee: str
    currency: str
    closings: tuple[Closing, ...]
    earned_before: Decimal
    earned_after: Decimal
    rules: tuple[RuleChange, ...]  # the rules whose earnings change, in plan order
    paid: tuple[PayChange, ...]  # the pay periods whose pay changes
    others: tuple[tuple[str, Decimal], ...]  # other payees whose earnings change, and by how much
    notes: tuple[str, ...]
    diagnostics: tuple[Diagnostic, ...]  # from the runs (a missing FX rate...)
    # The rules that skipped the closings' events and give the payee nothing for the deal,
    # and why: what a deal that earns nothing (or less than the payee expects: no SPIFF)
    # needs to be told.
    not_paid: tuple[NotPaid, ...] = ()
    # What waits for the customer's payment at the end of the plan range, without and with the
    # closings: the part of the change that no pay period pays yet.
    awaiting_before: Decimal = ZERO
    awaiting_after: Decimal = ZERO
    # The payee's credit from a closing booked in another currency or split: (rule, deal,
    # amount, why), the why with the rate and its row, or the split.
    credits: tuple[tuple[str, str, Decimal, str], ...] = ()

    @property
    def difference(self) -> Decimal:
        return self.earned_after - self.earned_before


def today_in_data(dataset: Dataset, plan: Plan) -> dt.date:
    """The day the data runs up to (its latest event), kept inside the plan's range: where a
    deal closing now is dated when no date is given."""
    latest = max((e.date for e in dataset.events), default=plan.effective_start)
    latest = max(latest, plan.effective_start)
    return min(latest, plan.effective_end) if plan.effective_end else latest


def hypothetical_deal(plan: Plan, dataset: Dataset, payee: str, values: Mapping[str, str],
                      default_date: dt.date | None = None) -> Closing:
    """The booked event for `--deal key=value ...`: `amount` (required; `300,000` in the plan
    currency or `300,000 EUR`), `date` (default: `default_date`, else today in the data),
    `id`, `currency`, `splits` (`ana:60;bob:40`), `term_months`, and the plan's custom deal
    fields by name. Raises DealError for a value that cannot be read or an unknown key."""
    fields = {f.name: f for f in plan.fields if f.owner == "deal"}
    for key in values:
        if key not in DEAL_KEYS and key not in fields:
            known = [*DEAL_KEYS, *fields]
            raise DealError(f"'{key}' is not a deal field of {plan.name}",
                            suggest(key, known) or f"use {', '.join(known)}")
    if "amount" not in values:
        raise DealError("the deal needs an amount", "e.g. --deal amount=120,000")

    def read(key: str, parse: Callable[[str], object], text: str | None = None):
        try:
            return parse((values[key] if text is None else text).strip())
        except BadValue as e:
            raise DealError(f"{key}: {e.message}", e.hint) from None

    words = values["amount"].split()
    if len(words) not in (1, 2):
        raise DealError(f"amount: '{values['amount']}' is not an amount",
                        f"e.g. amount=120,000 or amount=120,000 {plan.currency}")
    amount = read("amount", parse_amount, words[0])
    currency = (read("amount", parse_currency, words[1]) if len(words) == 2
                else read("currency", parse_currency) if "currency" in values
                else plan.currency)
    # Both given: one would be dropped without a word.
    if len(words) == 2 and "currency" in values and \
            read("currency", parse_currency) != currency:
        raise DealError(f"currency: the amount is in {currency}, but currency= says "
                        f"{values['currency'].strip()}", "give the currency once")
    day = read("date", parse_date) if "date" in values else (
        default_date or today_in_data(dataset, plan))
    # The run would stop on the missing rate with an error at the plan's first line: the
    # amount given here is what needs it.
    missing = _missing_rate(plan, dataset, currency, day)
    if missing is not None:
        have = _rated(plan, dataset, day)
        raise DealError(f"amount: {missing}",
                        f"give the amount in {plan.currency}"
                        + (f" or in a currency with rates: {', '.join(have)}" if have else "")
                        +
                        f", or add a {currency}->{plan.currency} rate to the FX table")
    splits = read("splits", lambda t: parse_splits(split_text_pairs(t))) \
        if "splits" in values else ()
    # As the data's D-PAYEE: a share to no payee of the roster would be paid to nobody.
    ids = [p.id for p in dataset.payees]
    for name, _ in splits:
        if name not in ids:
            raise DealError(f"splits: split payee '{name}' is not in the roster",
                            suggest(name, ids) or "name payees of the roster")
    term = read("term_months", lambda t: parse_count(t, "number of months")) \
        if "term_months" in values else None
    if term is not None and term < 1:
        raise DealError("term_months: a contract lasts at least one month", "e.g. term_months=12")
    custom = tuple(sorted(
        (k, read(k, lambda t, f=fields[k]: parse_field(f, t, currency, plan.currency)))
        for k in values if k in fields))
    deal_id = values.get("id", HYPOTHETICAL_ID).strip() or HYPOTHETICAL_ID
    if any(e.deal == deal_id and e.kind == "booked" for e in dataset.events):
        raise DealError(f"id: deal {deal_id} is booked in the data already",
                        "name a deal that is not booked yet (an open one, or a new id)")
    # An open deal of someone else's closed as the payee's would move it to them unasked.
    owners = [e.owner for e in sorted((e for e in dataset.events if e.deal == deal_id
                                       and e.kind == "stage" and e.owner),
                                      key=lambda e: e.sort_key())]
    if owners and owners[-1] != payee and payee not in dict(splits):
        raise DealError(f"id: deal {deal_id} is {owners[-1]}'s open deal, not {payee}'s",
                        f"estimate it for {owners[-1]} (--payee {owners[-1]}), give {payee} "
                        f"a share of it (splits={owners[-1]}:50;{payee}:50), or use a new id")
    event = Event(id=f"{deal_id}-estimate", deal=deal_id, date=day, kind="booked",
                  amount=amount, currency=currency, owner=payee, splits=splits,
                  term_months=term, fields=custom)
    return Closing(event, "hypothetical")


def _rate_day(plan: Plan, day: dt.date) -> dt.date:
    return month_end(day.year, day.month) if plan.fx_basis == "period end" else day


def _missing_rate(plan: Plan, dataset: Dataset, currency: str, day: dt.date) -> str | None:
    """Why an amount in `currency` booked on `day` cannot be converted into the plan currency,
    or None when it can."""
    on = _rate_day(plan, day)
    if currency == plan.currency or \
            Fx(dataset.fx, plan.currency, plan.fx_basis).rate(currency, on) is not None:
        return None
    return (f"no {currency}->{plan.currency} rate on or before {on} in the FX table, to "
            "convert the deal into the plan currency")


def _rated(plan: Plan, dataset: Dataset, day: dt.date) -> list[str]:
    """The currencies with a rate to the plan currency for an amount booked on `day`."""
    fx, on = Fx(dataset.fx, plan.currency, plan.fx_basis), _rate_day(plan, day)
    return sorted(c for c in {r.currency for r in dataset.fx if r.target == plan.currency}
                  if fx.rate(c, on) is not None)


def open_deals(plan: Plan, dataset: Dataset, payee: str,
               day: dt.date) -> tuple[list[Closing], list[str]]:
    """The payee's open pipeline deals, each as a booking on `day` at the amount of its last
    stage event that has one; and notes on the open deals that cannot be closed so (no
    amount). A deal is open when it reached a stage and has no booked or cancelled event; it
    is the payee's when its last stage event's owner is the payee. Raises DealError for a
    deal whose amount is in a currency with no rate to the plan's on `day`."""
    stages: dict[str, list[Event]] = defaultdict(list)
    closed: set[str] = set()
    for e in dataset.events:
        if e.kind == "stage":
            stages[e.deal].append(e)
        elif e.kind in ("booked", "cancelled"):
            closed.add(e.deal)
    closings, notes = [], []
    for deal in sorted(set(stages) - closed):
        events = stages[deal]  # in processing order: the last is the latest
        if events[-1].owner != payee:
            continue
        priced = [e for e in events if e.amount is not None]
        if not priced:
            notes.append(f"open deal {deal} (stage '{events[-1].subject}') has no amount in "
                         "its stage events: left out")
            continue
        last = priced[-1]
        # As for --deal: the run would stop at the plan's first line, not at the deal's row.
        missing = _missing_rate(plan, dataset, last.currency or plan.currency, day)
        if missing is not None:
            where = f" ({last.source})" if last.source else ""
            raise DealError(
                f"open deal {deal}: its amount as of {last.date}{where}, "
                f"{fmt(last.amount, last.currency)}: {missing}",
                f"add a {last.currency}->{plan.currency} rate to the FX table; the "
                f"currencies with a rate on {_rate_day(plan, day)}: "
                f"{', '.join(_rated(plan, dataset, day)) or 'none'}")
        fields = next((e.fields for e in reversed(events) if e.fields), ())
        event = Event(id=f"{deal}-estimate", deal=deal, date=day, kind="booked",
                      amount=last.amount, currency=last.currency, owner=payee, fields=fields)
        where = f" ({last.source})" if last.source else ""
        closings.append(Closing(event, f"open deal at stage '{events[-1].subject}' since "
                                       f"{events[-1].date}, amount as of {last.date}{where}",
                                events[-1].subject))
    return closings, notes


def with_closings(dataset: Dataset, closings: Sequence[Closing]) -> Dataset:
    # Not through the loaders: the events are made here and need no reading or validation,
    # and the fingerprint of the files no longer describes the data.
    return attrs.evolve(dataset, events=(*dataset.events, *(c.event for c in closings)),
                        fingerprint=None)


def estimate(plan: Plan | Sequence[Plan], dataset: Dataset, payee: str,
             closings: Sequence[Closing], baseline: RunResult | None = None) -> Estimate:
    """Run the plan (or the versions of one plan) with and without `closings` (the run
    without may be given, when it serves several estimates) and compare `payee`'s earnings."""
    before = baseline or _run(plan, dataset)
    after = _run(plan, with_closings(dataset, closings))
    last = after.plan
    notes = _notes([plan] if isinstance(plan, Plan) else list(plan), dataset, payee, closings,
                   after)
    diags = tuple(d for d in (*before.diagnostics, *after.diagnostics) if d.is_error)
    if diags:
        return Estimate(payee, last.currency, tuple(closings), ZERO, ZERO, (), (), (), notes,
                        diags)
    old, new = _groups(before.earnings, payee), _groups(after.earnings, payee)
    rules: list[RuleChange] = []
    order = {c.name: i for i, c in enumerate(last.components)}
    for component in sorted({k[0] for k in (*old, *new)}, key=lambda c: (order.get(c, 1e9), c)):
        changed = []
        for key in sorted({k for k in (*old, *new) if k[0] == component},
                          key=lambda k: (k[2], k[3] or "", k[1])):
            b, a = old.get(key), new.get(key)
            amount_b = sum((e.amount for e in b), ZERO) if b else ZERO
            amount_a = sum((e.amount for e in a), ZERO) if a else ZERO
            if amount_a != amount_b:
                because = "; ".join(e.trace.because for e in (a or b))
                changed.append(ChangedLine(component, key[1], key[2], key[3], amount_b,
                                           amount_a, because))
        if changed:
            spec = last.component(component)
            total_b = sum((sum((e.amount for e in v), ZERO) for k, v in old.items()
                           if k[0] == component), ZERO)
            total_a = sum((sum((e.amount for e in v), ZERO) for k, v in new.items()
                           if k[0] == component), ZERO)
            rules.append(RuleChange(component, spec.label if spec else "Plan-wide cap",
                                    total_b, total_a, tuple(changed)))
    earned_b = sum((e.amount for e in before.earnings if e.payee == payee), ZERO)
    earned_a = sum((e.amount for e in after.earnings if e.payee == payee), ZERO)
    paid_b = _paid(before, payee)
    paid_a = _paid(after, payee)
    paid = tuple(PayChange(p, paid_b.get(p, ZERO), paid_a.get(p, ZERO))
                 for p in sorted({*paid_b, *paid_a})
                 if paid_b.get(p, ZERO) != paid_a.get(p, ZERO))
    totals_b, totals_a = _totals(before), _totals(after)
    others = tuple((p, totals_a.get(p, ZERO) - totals_b.get(p, ZERO))
                   for p in sorted({*totals_b, *totals_a})
                   if p != payee and totals_a.get(p, ZERO) != totals_b.get(p, ZERO))
    return Estimate(payee, last.currency, tuple(closings), earned_b, earned_a, tuple(rules),
                    paid, others, notes, (),
                    _not_paid(after, closings, payee) +
                    _period_rules(before, after, dataset, closings, payee,
                                  {r.component for r in rules}),
                    _awaiting(before, payee), _awaiting(after, payee),
                    _credits(after, closings, payee))


def scenarios(plan: Plan | Sequence[Plan], dataset: Dataset, payee: str,
              closings: Sequence[Closing]) -> tuple[list[Estimate], Estimate | None]:
    """Each closing on its own, and (with more than one) all of them together; the history
    without them is run once."""
    baseline = _run(plan, dataset)
    one_by_one = [estimate(plan, dataset, payee, [c], baseline) for c in closings]
    together = estimate(plan, dataset, payee, closings, baseline) if len(closings) > 1 else None
    return one_by_one, together


def _run(plan: Plan | Sequence[Plan], dataset: Dataset) -> RunResult:
    # The whole plan range: a closing may change later periods (a yearly cap, a clawback).
    return evaluate_versions([plan] if isinstance(plan, Plan) else list(plan), dataset)


def _groups(earnings: Sequence[EarningLine], payee: str) -> dict[tuple, list[EarningLine]]:
    out: dict[tuple, list[EarningLine]] = defaultdict(list)
    for e in earnings:
        if e.payee == payee:
            out[(e.component, e.kind, e.period, e.deal)].append(e)
    return out


def _paid(result: RunResult, payee: str) -> dict[str, Decimal]:
    out: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for s in result.statements:
        if s.payee == payee:
            out[s.pay_period] += s.paid
    return out


def _credits(result: RunResult, closings: Sequence[Closing], payee: str) -> tuple:
    # A credit equal to the amount as given needs no word; a converted or split one does:
    # the earnings are on it, not on the amount the deal was given at.
    events = {c.event.id: c.event for c in closings
              if c.event.currency != result.plan.currency or c.event.splits}
    return tuple((c.credit, c.deal, c.amount, c.trace.because) for c in result.credits
                 if c.payee == payee and c.event in events)


def _awaiting(result: RunResult, payee: str) -> Decimal:
    return sum((p.amount for p in result.payouts
                if p.payee == payee and p.kind == "awaiting collection"), ZERO)


def _totals(result: RunResult) -> dict[str, Decimal]:
    out: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for e in result.earnings:
        out[e.payee] += e.amount
    return out


def _not_paid(result: RunResult, closings: Sequence[Closing],
              payee: str) -> tuple[NotPaid, ...]:
    # A skip of a closing's event may be a split partner's (not employed, a role the plan does
    # not cover) under a rule that credits or pays the payee for the deal all the same: such a
    # rule is not one that turned the deal away.
    deals = {c.event.id: c.event.deal for c in closings}
    gives = {(c.credit, c.deal) for c in result.credits
             if c.payee == payee and c.deal in deals.values() and c.amount}
    gives.update((e.component, e.deal) for e in result.earnings
                 if e.payee == payee and e.deal in deals.values() and e.amount)
    labels = {r.name: r.label for r in (*result.plan.credits, *result.plan.components)}
    return tuple(dict.fromkeys(
        NotPaid(rule, labels.get(rule, rule), deals[subject],
                skip_reason(result.plan, rule, reason))
        for rule, subject, reason, _ in _rows(result.skips)
        if subject in deals and (rule, deals[subject]) not in gives))


def _period_rules(before: RunResult, result: RunResult, dataset: Dataset,
                  closings: Sequence[Closing], payee: str, changed: set[str]
                  ) -> tuple[NotPaid, ...]:
    """The rules paid per period (bonuses, pools, overrides) that cover the payee and whose pay
    the deal leaves unchanged, and why: they never look at a deal, so no skip records them,
    and a manager's deal that the override leaves out would read as a bare 0.00 earned. A
    bonus says which condition or step its figure, without and with the deal, misses."""
    plan = result.plan
    roster = Roster(list(dataset.payees))
    out = []
    for c in closings:
        day = c.event.date
        role = roster.role_on(payee, day)
        if role is None or not plan.effective_start <= day <= (plan.effective_end or day):
            continue  # a note says so (not employed, outside the plan's range)
        for spec in plan.components:
            if not isinstance(spec, (BonusSpec, PoolSpec, OverrideSpec)) or \
                    spec.name in changed or (spec.roles and role not in spec.roles):
                continue
            period = plan.calendar.period_of(day, spec.period)
            reason = None
            if isinstance(spec, BonusSpec):
                reason = _bonus_because(spec, plan, payee, period, before, result)
            out.append(NotPaid(spec.name, spec.label, c.event.deal,
                               reason or _unchanged_because(spec, payee, period.label)))
    return tuple(out)


def _bonus_because(spec: BonusSpec, plan: Plan, payee: str, period, before: RunResult,
                   after: RunResult) -> str | None:
    """Why a bonus pays the same with the deal: its condition does not hold, or its figure
    (before -> after) stays below the first step (or the scale), on the step it reached, or
    at the top. None when the runs keep no measures (a run of several versions may not)."""
    subject = f"{payee} {period.label}"
    if spec.when is not None:
        for rule, who, reason, _ in _rows(after.skips):
            if rule == spec.name and who == subject and "does not hold" in reason:
                return f"{reason} in {period.label}, with the deal as without it"
    if before.engine is None or after.engine is None:
        return None
    b = before.engine.measure(spec.key, payee, period)
    a = after.engine.measure(spec.key, payee, period)
    key = spec.key

    def value(v) -> str:
        return _measure_text(plan, key, v)

    moved = (f"{period.label} {key} {value(a)} with the deal ({value(b)} without)" if a != b
             else f"{period.label} {key} {value(a)}, the same with the deal")
    steps = sorted(spec.steps, key=lambda r: r.threshold)
    if spec.schedule != "step":
        low, high = steps
        if a < low.threshold:
            return (f"{moved} is below the start of its linear scale, "
                    f"{value(low.threshold)} ({show(low.pay)})")
        if b >= high.threshold:
            return (f"{moved}: the top of its linear scale, {value(high.threshold)} "
                    f"({show(high.pay)}, the most it pays), is reached without the deal")
        return None
    reached = [r for r in steps if a >= r.threshold]
    if not reached:
        return (f"{moved} is below the first step, {value(steps[0].threshold)} "
                f"({show(steps[0].pay)})")
    higher = [r for r in steps if r.threshold > a]
    if not higher:
        return (f"{moved}: the top step, {value(reached[-1].threshold)} "
                f"({show(reached[-1].pay)}), is reached without the deal")
    return (f"{moved}: still the step at {value(reached[-1].threshold)} "
            f"({show(reached[-1].pay)}); the next step is {value(higher[0].threshold)} "
            f"({show(higher[0].pay)})")


def _measure_text(plan: Plan, key: str, value) -> str:
    """A bonus key's value as its measure reads: a percentage, a number, or money."""
    spec = plan.measure(key)
    if spec is not None and spec.kind == "percent":
        return fmt_pct(value)
    if spec is not None and spec.kind in ("count", "number"):
        return fmt_number(value)
    return fmt(value, plan.currency)


def _unchanged_because(spec: BonusSpec | PoolSpec | OverrideSpec, payee: str,
                       period: str) -> str:
    expr = spec.fund if isinstance(spec, PoolSpec) else \
        spec.pay if isinstance(spec, OverrideSpec) else None
    if expr is not None:
        refs = [x for x in nodes.walk(expr) if isinstance(x, (nodes.Ref, nodes.TeamRef))]
        if refs and all(isinstance(x, nodes.TeamRef) for x in refs):
            names = ", ".join(dict.fromkeys(f"team {x.name.text}" for x in refs))
            return (f"it pays on {names}, the figures of {payee}'s direct reports, which leave "
                    f"out {payee}'s own deal")
    what = f"'{spec.key}'" if isinstance(spec, BonusSpec) else f"'{show(expr)}'"
    return f"it pays per {spec.period} on {what}, and with the deal it pays the same for {period}"


def _rows(skips) -> Sequence[tuple]:
    # A single run keeps its `Skips` by column; the versions of a plan run together give a
    # tuple of records.
    return skips.rows() if isinstance(skips, Skips) else \
        [(s.rule, s.subject, s.reason, s.date) for s in skips]


def _notes(plans: Sequence[Plan], dataset: Dataset, payee: str,
           closings: Sequence[Closing], after: RunResult) -> tuple:
    notes = []
    unit = FREQUENCY_UNIT[after.plan.payout.frequency]
    roster = Roster(list(dataset.payees))
    start = min(p.effective_start for p in plans)
    end = None if any(p.effective_end is None for p in plans) else \
        max(p.effective_end for p in plans)
    for c in closings:
        day = c.event.date
        if day < start or (end is not None and day > end):
            notes.append(f"deal {c.event.deal} closes on {day}, outside the plan's effective "
                         f"range ({start} to {end or 'open'}): the plan pays nothing for it")
        elif payee in roster and not roster.active_on(payee, day):
            notes.append(f"{payee} is not employed on {day}: the deal earns them nothing")
        else:  # employed, yet the plan may not pay them (a role it does not cover)
            absent = no_statement(after, payee, after.plan.calendar.period_of(day, unit))
            if absent is not None:
                notes.append(absent)
    return tuple(notes)


# ------------------------------------------------------------------------------ rendering


def describe(closing: Closing, currency: str) -> str:
    e = closing.event
    shown = fmt(e.amount, e.currency)
    extra = "".join(f", {k} {v}" for k, v in e.fields)
    origin = "" if closing.origin == "hypothetical" else f" — {closing.origin}"
    return f"deal {e.deal} booked {e.date} at {shown}{extra}{origin}"


def _signed(amount: Decimal, currency: str) -> str:
    return ("+" if amount > 0 else "") + fmt(amount, currency)


def tree(est: Estimate, title: str) -> Node:
    """The estimate as an explanation tree: the change per rule, each changed line with its
    reason, the pay periods whose pay changes, other payees affected, notes."""
    cur = est.currency
    root = Node(f"{title}: {_signed(est.difference, cur)} earned by {est.payee} "
                f"({fmt(est.earned_before, cur)} -> {fmt(est.earned_after, cur)})")
    for rule in est.rules:
        branch = root.add(f"{rule.label} ({rule.component}): {_signed(rule.difference, cur)} "
                          f"({fmt(rule.before, cur)} -> {fmt(rule.after, cur)})")
        for ln in rule.lines:
            subject = f"deal {ln.deal}, {ln.period}" if ln.deal else ln.period
            branch.add(f"{ln.kind} {subject}: {_signed(ln.difference, cur)} "
                       f"({fmt(ln.before, cur)} -> {fmt(ln.after, cur)}) — {ln.because}")
    for rule, deal, amount, because in est.credits:
        root.add(f"credit {rule} of deal {deal}: {fmt(amount, cur)} — {because}")
    if est.paid or est.awaiting_after != est.awaiting_before:
        pay = root.add("paid")
        for p in est.paid:
            pay.add(f"{p.pay_period}: {_signed(p.after - p.before, cur)} "
                    f"({fmt(p.before, cur)} -> {fmt(p.after, cur)})")
        if est.awaiting_after != est.awaiting_before:
            pay.add(f"awaiting collection, paid when the customer pays: "
                    f"{_signed(est.awaiting_after - est.awaiting_before, cur)} "
                    f"({fmt(est.awaiting_before, cur)} -> {fmt(est.awaiting_after, cur)})")
    if est.others:
        others = root.add("also changes the earnings of")
        for payee, delta in est.others:
            others.add(f"{payee}: {_signed(delta, cur)}")
    # Per deal and per rule, so that a rule turning the deal away does not read as the deal
    # earning nothing when other rules pay for it.
    for deal in dict.fromkeys(n.deal for n in est.not_paid):
        unpaid = root.add(f"rules that give {est.payee} nothing for deal {deal}")
        for n in est.not_paid:
            if n.deal == deal:
                unpaid.add(f"{n.label} ({n.rule}): {n.reason}")
    for note in est.notes:
        root.add(f"note: {note}")
    return root


def summary(payee: str, day: dt.date, each: Sequence[Estimate],
            together: Estimate | None) -> list[str]:
    """One line per open deal (its stage, amount and what closing it earns), then all."""
    if not each:
        return []
    cur = each[0].currency
    rows = [(e.closings[0].event.deal, f"stage '{e.closings[0].stage}'",
             fmt(e.closings[0].event.amount, e.closings[0].event.currency),
             _signed(e.difference, cur)) for e in each]
    if together is not None:
        rows.append((f"all {len(each)}", "", "", _signed(together.difference, cur)))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    head = f"open pipeline of {payee}, each deal closing on {day}: what {payee} would earn"
    return [head, *("  " + "  ".join((r[0].ljust(widths[0]), r[1].ljust(widths[1]),
                                      r[2].rjust(widths[2]), r[3].rjust(widths[3]))).rstrip()
                    for r in rows)]


def to_json(estimates: Sequence[tuple[str, Estimate]]) -> str:
    """Versioned JSON of labelled estimates; amounts as exact decimal strings."""
    def money(d: Decimal) -> str:
        return format(d, "f")  # exact, never in exponent notation such as 1E+4

    out = []
    for label, est in estimates:
        out.append({
            "scenario": label, "payee": est.payee, "currency": est.currency,
            "deals": [{"deal": c.event.deal, "date": c.event.date.isoformat(),
                       "amount": money(c.event.amount), "currency": c.event.currency,
                       "fields": {k: str(v) for k, v in c.event.fields},
                       "origin": c.origin} for c in est.closings],
            "earned_before": money(est.earned_before), "earned_after": money(est.earned_after),
            "difference": money(est.difference),
            "rules": [{"rule": r.component, "label": r.label, "before": money(r.before),
                       "after": money(r.after), "difference": money(r.difference),
                       "lines": [{"kind": ln.kind, "period": ln.period, "deal": ln.deal,
                                  "before": money(ln.before), "after": money(ln.after),
                                  "difference": money(ln.difference), "because": ln.because}
                                 for ln in r.lines]} for r in est.rules],
            "paid": [{"pay_period": p.pay_period, "before": money(p.before),
                      "after": money(p.after)} for p in est.paid],
            "credits": [{"rule": rule, "deal": deal, "amount": money(amount), "because": why}
                        for rule, deal, amount, why in est.credits],
            "awaiting_collection": {"before": money(est.awaiting_before),
                                    "after": money(est.awaiting_after)},
            "others": [{"payee": p, "difference": money(d)} for p, d in est.others],
            "not_paid": [{"rule": n.rule, "label": n.label, "deal": n.deal,
                          "reason": n.reason} for n in est.not_paid],
            "notes": list(est.notes),
        })
    return json.dumps({"format_version": 1, "estimates": out}, indent=2, sort_keys=True) + "\n"
