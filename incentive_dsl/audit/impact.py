"""The payout impact of a plan change on a history: per payee, what the old plan and the new plan
earn and pay, the difference, and the rules that make it.

Both runs are given (each plan evaluated once, on one shared dataset); nothing is re-evaluated
here. Totals are earnings (every earning line, caps and clawbacks included) in the report window;
`paid` is what the statements pay in the window's pay periods, so payout settings (holdbacks,
draws, schedules) show there. Per-rule differences group earning lines by their rule: a
component's own lines and caps under the component, clawback lines under the clawback rule.
Amounts are added exactly and rounded to the currency's minor unit (in the plan's mode) only
when compared and shown, so a payee is changed only by at least a cent. A payee's total is
rounded once; each rule and each period is rounded on its own, and where those figures do not
add up to the rounded total (lines kept exact, `rounding ... per statement`), a `rounding` row
holds the difference, so every breakdown adds up to the total shown, to the cent.

Earnings rounded once over the window and statements rounded per pay period (`rounding ...
per statement`) can differ by a cent or so: each payee's `rounding` is how much of the gap
between the paid difference and the earnings difference that alone makes, and a note names the
payees whose gap it explains, so no cent of it goes unexplained.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from decimal import Decimal

import attrs

from incentive_dsl.audit.plandiff import title_of
from incentive_dsl.check import model as m
from incentive_dsl.eval.money import ZERO, Number, add, fmt, round_money, sub
from incentive_dsl.eval.run import RunResult
from incentive_dsl.periods import FREQUENCY_UNIT, Period

# The row that reconciles a breakdown with its rounded total: a reserved word of the language,
# so no rule is named so, and no period label reads so.
ROUNDING = "rounding"
ROUNDING_TITLE = "Rounding"

class _Change:
    """An old and a new amount."""

    old: Decimal
    new: Decimal

    @property
    def difference(self) -> Decimal:
        return self.new - self.old


@attrs.frozen
class RuleDelta(_Change):
    rule: str
    title: str
    old: Decimal
    new: Decimal


@attrs.frozen
class PeriodDelta(_Change):
    period: str
    old: Decimal
    new: Decimal


@attrs.frozen
class PayeeImpact:
    payee: str
    old: Decimal  # earned under the old plan, in the window
    new: Decimal
    old_paid: Decimal
    new_paid: Decimal
    rules: tuple[RuleDelta, ...]  # the rules whose earnings differ, largest difference first
    periods: tuple[PeriodDelta, ...] = ()  # with by-period: the periods whose earnings differ
    # Of paid_difference - difference, what rounding makes: the statements' own rounding to
    # the cent (per statement: each pay period's) less the window's earnings rounded once.
    rounding: Number = ZERO

    @property
    def difference(self) -> Decimal:
        return self.new - self.old

    @property
    def paid_gap(self) -> Decimal:
        """What the paid difference differs from the earnings difference by."""
        return self.paid_difference - self.difference

    @property
    def paid_difference(self) -> Decimal:
        return self.new_paid - self.old_paid

    @property
    def percent(self) -> Decimal | None:
        return change_percent(self.old, self.new)

    @property
    def status(self) -> str:
        """gain or loss by the earnings difference; "net zero" when the total is the same but
        something under it changes (rules that offset, or what is paid in the window)."""
        if self.difference > 0:
            return "gain"
        if self.difference < 0:
            return "loss"
        return "net zero" if self.changed else "unchanged"

    @property
    def changed(self) -> bool:
        return bool(self.difference or self.paid_difference or self.rules)


@attrs.frozen
class Impact:
    currency: str
    window: Period | None
    range: str  # the days compared: the window's, else both runs' ("2027-01-01 to 2027-12-31")
    payees: tuple[PayeeImpact, ...]  # every payee of the roster or of either run, by id
    period_unit: str | None = None
    periods: tuple[PeriodDelta, ...] = ()  # with by-period: all payees' totals per period
    notes: tuple[str, ...] = ()

    @property
    def old(self) -> Decimal:
        return sum((p.old for p in self.payees), ZERO)

    @property
    def new(self) -> Decimal:
        return sum((p.new for p in self.payees), ZERO)

    @property
    def difference(self) -> Decimal:
        return self.new - self.old

    @property
    def percent(self) -> Decimal | None:
        return change_percent(self.old, self.new)

    @property
    def old_paid(self) -> Decimal:
        return sum((p.old_paid for p in self.payees), ZERO)

    @property
    def new_paid(self) -> Decimal:
        return sum((p.new_paid for p in self.payees), ZERO)

    def count(self, status: str) -> int:
        return sum(1 for p in self.payees if p.status == status)

    @property
    def changed(self) -> bool:
        """Whether any payee earns or is paid a different amount (by at least a cent)."""
        return any(p.difference or p.paid_difference for p in self.payees)

    def changed_payees(self) -> list[PayeeImpact]:
        """Payees whose pay changes, the largest changes first (then by id)."""
        return sorted((p for p in self.payees if p.changed),
                      key=lambda p: (-abs(p.difference), -abs(p.paid_difference), p.payee))


def change_percent(old: Decimal, new: Decimal) -> Decimal | None:
    """The change in percent of the old amount, to 0.1; None when the old amount is zero."""
    if old == 0:
        return None
    return ((new - old) * 100 / abs(old)).quantize(Decimal("0.1"))


def currency_problem(old: Iterable[m.Plan], new: Iterable[m.Plan],
                     sources: dict[str, str] | None = None) -> str | None:
    """Why payouts of `old` and `new` (each a plan's versions) cannot be compared, or None:
    they pay in different currencies. A difference of dollars and euros is no amount of
    money, and a conversion would hang the review on one exchange rate no plan states, so
    the comparison is refused. `sources` (path to text) place each `currency` line."""
    seen: dict[str, str] = {}
    for plan in (*old, *new):
        if plan.currency not in seen:
            seen[plan.currency] = f"{plan.path}{_currency_line(plan, sources or {})}"
    if len(seen) < 2:
        return None
    which = ", ".join(f"{cur} ({where})" for cur, where in seen.items())
    return (f"the plans pay in different currencies, {which}: their payouts cannot be "
            "compared as amounts of money, so no payout impact is computed")


def _currency_line(plan: m.Plan, sources: dict[str, str]) -> str:
    """`:4` for the plan's `currency` line, or nothing when its text is not at hand."""
    text = sources.get(plan.path)
    found = None if text is None else re.search(
        rf"^[ \t]+currency[ \t]+{re.escape(plan.currency)}\b", text, re.MULTILINE)
    return "" if found is None else f":{text.count(chr(10), 0, found.start()) + 1}"


def data_plan(old: m.Plan, new: m.Plan) -> tuple[m.Plan, tuple[str, ...]]:
    """The plan the shared dataset is read with: the new plan, knowing the names of both
    (custom fields, roles, stages, activities, channels, quotas), so that each plan finds
    what it reads and neither plan's names are rejected as unknown columns. Notes say where
    the two plans disagree on how the data is read."""
    notes = []
    fields = {(f.owner, f.name): f for f in old.fields}
    for f in new.fields:
        before = fields.get((f.owner, f.name))
        if before is not None and (before.kind, before.options) != (f.kind, f.options):
            notes.append(f"field {f.owner}.{f.name} is read as the new plan declares it "
                         f"({f.kind}, was {before.kind})")
        fields[(f.owner, f.name)] = f

    def names(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
        # An empty list means "any name": the union must stay open then.
        return tuple(dict.fromkeys(b + a)) if a and b else ()

    known = {q.name for q in new.quotas}
    quotas = new.quotas + tuple(q for q in old.quotas if q.name not in known)
    return attrs.evolve(new, fields=tuple(fields.values()), roles=names(old.roles, new.roles),
                        stages=names(old.stages, new.stages),
                        activities=names(old.activities, new.activities),
                        channels=names(old.channels, new.channels), quotas=quotas), tuple(notes)


def impact(old: RunResult, new: RunResult, payees: Iterable[str] = (),
           window: Period | None = None, by_period: str | None = None,
           notes: Iterable[str] = (), plans: Iterable[m.Plan] = ()) -> Impact:
    """Compare two runs on one dataset. `payees`: the roster's ids (payees who earn nothing
    under either plan count as unchanged); `by_period`: month, quarter, half or year, or
    "pay" for the new plan's pay periods; `plans`: every version the runs ran, whose rules
    name the lines (a run keeps its last version only). Raises ValueError for runs of plans
    that pay in different currencies (`currency_problem`)."""
    problem = currency_problem((old.plan,), (new.plan,))
    if problem is not None:
        raise ValueError(problem)
    cur = new.plan.currency
    unit = FREQUENCY_UNIT[new.plan.payout.frequency] if by_period == "pay" else by_period
    calendar = new.plan.calendar
    sides = []
    for result in (old, new):
        mode = result.plan.rounding.mode
        by_rule: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
        by_payee: dict[str, Decimal] = defaultdict(lambda: ZERO)
        by_payee_period: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
        for ln in result.earnings:
            if window is not None and not window.contains(ln.date):
                continue
            rule = ln.trace.rule if ln.kind == "clawback" else ln.component
            by_rule[(ln.payee, rule)] = add(by_rule[(ln.payee, rule)], ln.amount)
            by_payee[ln.payee] = add(by_payee[ln.payee], ln.amount)
            if unit is not None:
                key = (ln.payee, calendar.period_of(ln.date, unit).label)
                by_payee_period[key] = add(by_payee_period[key], ln.amount)
        paid: dict[str, Decimal] = defaultdict(lambda: ZERO)
        statement_rounding: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for s in result.statements:
            if window is None or (window.start <= s.start and s.end <= window.end):
                paid[s.payee] += s.paid
                statement_rounding[s.payee] = add(statement_rounding[s.payee], s.rounding)

        def rounded(table: dict, mode: str = mode) -> dict:
            return {k: round_money(v, cur, mode) for k, v in table.items()}
        totals = rounded(by_payee)
        per_period = rounded(by_payee_period)
        rounding = {p: sub(statement_rounding[p], sub(totals.get(p, ZERO), by_payee[p]))
                    for p in set(statement_rounding) | set(by_payee)}
        sides.append((totals, reconciled(rounded(by_rule), totals),
                      per_period if unit is None else reconciled(per_period, totals),
                      rounded(paid), result.plan, rounding))
    (old_payee, old_rule, old_period, old_paid, old_plan, old_rounding), \
        (new_payee, new_rule, new_period, new_paid, new_plan, new_rounding) = sides

    titles = {}
    for plan in (*plans, old_plan, new_plan):
        for spec in (*plan.components, *plan.clawbacks):
            titles[spec.name] = title_of(spec)
    titles.setdefault("payout", "Plan-wide cap")
    titles[ROUNDING] = ROUNDING_TITLE
    # A rule renamed (with a change) or two rules with one label would read as one rule twice.
    shared = Counter(titles.values())
    titles = {rule: f"{t} ({rule})" if shared[t] > 1 else t for rule, t in titles.items()}

    zero = round_money(ZERO, cur)  # 0.00: missing amounts read like the others
    everyone = sorted(set(payees) | set(old_payee) | set(new_payee) | set(old_paid)
                      | set(new_paid))
    rules_of: dict[str, set[str]] = defaultdict(set)
    for payee, rule in (*old_rule, *new_rule):
        rules_of[payee].add(rule)
    periods_of: dict[str, set[str]] = defaultdict(set)
    for payee, label in (*old_period, *new_period):
        periods_of[payee].add(label)
    out = []
    for payee in everyone:
        rules = tuple(sorted(
            (RuleDelta(rule, titles.get(rule, rule), old_rule.get((payee, rule), zero),
                       new_rule.get((payee, rule), zero))
             for rule in rules_of[payee]
             if old_rule.get((payee, rule), zero) != new_rule.get((payee, rule), zero)),
            key=lambda r: (r.rule == ROUNDING, -abs(r.difference), r.rule)))
        periods = tuple(PeriodDelta(label, old_period.get((payee, label), zero),
                                    new_period.get((payee, label), zero))
                        for label in sorted(periods_of[payee], key=_last_rounding)
                        if old_period.get((payee, label), zero)
                        != new_period.get((payee, label), zero))
        out.append(PayeeImpact(payee=payee, old=old_payee.get(payee, zero),
                               new=new_payee.get(payee, zero), old_paid=old_paid.get(payee, zero),
                               new_paid=new_paid.get(payee, zero), rules=rules, periods=periods,
                               rounding=sub(new_rounding.get(payee, ZERO),
                                            old_rounding.get(payee, ZERO))))
    note = rounding_note(out, (old_plan, new_plan), cur)
    if note is not None:
        notes = (*notes, note)
    totals = ()
    if unit is not None:
        per: dict[str, list[Decimal]] = defaultdict(lambda: [zero, zero])
        for (_, label), v in old_period.items():
            per[label][0] += v
        for (_, label), v in new_period.items():
            per[label][1] += v
        # Payees' rounding rows of both signs can cancel out: a 0.00 → 0.00 row says nothing.
        totals = tuple(PeriodDelta(label, *per[label])
                       for label in sorted(per, key=_last_rounding)
                       if label != ROUNDING or any(per[label]))
    if window is not None:
        days = f"{window.start} to {window.end}"
    else:
        stamps = [s for r in (old, new) for s in (r.versions or (r.stamp,))]
        days = f"{min(s.start for s in stamps)} to {max(s.end for s in stamps)}"
    return Impact(currency=cur, window=window, range=days, payees=tuple(out), period_unit=unit,
                  periods=totals, notes=tuple(notes))


def rounding_note(payees: Iterable[PayeeImpact], plans: Iterable[m.Plan], currency: str
                  ) -> str | None:
    """Why the paid difference of some payees is not their earnings difference: rounding
    per statement, the whole gap or a part of it (then how much). None when rounding makes
    no gap."""
    parts, alone = [], True
    gap_total, rounding_total = ZERO, ZERO
    for p in payees:
        gap_total += p.paid_gap
        rounding_total = add(rounding_total, p.rounding)
        if p.paid_gap and p.rounding:
            parts.append(_gap_text(p.payee, p.paid_gap, p.rounding, currency))
            alone = alone and p.paid_gap == p.rounding
    if not parts:
        return None
    if len(parts) > 1 or gap_total != sum((p.paid_gap for p in payees
                                           if p.paid_gap and p.rounding), ZERO):
        parts.append(_gap_text("in total", gap_total, rounding_total, currency))
    rounds = " and ".join(dict.fromkeys(
        f"{plan.rounding.mode} per {plan.rounding.point}" for plan in plans))
    why = ("by rounding" if alone else "partly by rounding (the rest is pay held back, or "
           "paid before or after the window)")
    return (f"Paid difference is not Difference {why}: {'; '.join(parts)}. The plans round "
            f"{rounds}: a statement's pay is rounded to the cent in each pay period, while "
            "Old, New and Difference are the window's earnings added exactly and rounded once")


def _gap_text(who: str, gap: Decimal, rounding: Number, currency: str) -> str:
    if gap == rounding:
        return f"{who} {_signed(gap, currency)}"
    return f"{who} {_signed(gap, currency)}, of which {_signed(rounding, currency)} rounding"


def _signed(amount: Number, currency: str) -> str:
    return ("+" if amount > 0 else "") + fmt(amount, currency)


def reconciled(parts: dict[tuple[str, str], Decimal], totals: dict[str, Decimal]
               ) -> dict[tuple[str, str], Decimal]:
    """Each payee's rounded parts (by rule or by period), with a (payee, "rounding") part for
    what the parts, each rounded on its own, miss of the payee's rounded total."""
    out = dict(parts)
    missing = dict(totals)
    for (payee, _), amount in parts.items():
        missing[payee] -= amount
    for payee, amount in missing.items():
        if amount:
            out[(payee, ROUNDING)] = amount
    return out


def _last_rounding(label: str) -> tuple[bool, str]:
    return label == ROUNDING, label
