"""Evaluation context: deals assembled from events, currency conversion, and the expression
evaluator. The checker has typed every expression, so evaluation here does no type checks.

Value representation: money, percentages (as fractions), numbers and counts are exact numbers:
Decimals, or `Fraction`s where a quotient has no finite decimal form (see `money`);
dates are `datetime.date`; durations are Decimal days (a month counts as 30 days in
expressions), and a date is moved by a duration's calendar months and days (`_calendar`);
periods are `Period`; texts and enumerations are `str`; conditions are `bool`.
"""

from __future__ import annotations

import bisect
import datetime as dt
import operator
import weakref
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING

import attrs

from incentive_dsl.check.exprs import COMPENSATION_NAMES
from incentive_dsl.check.model import Plan
from incentive_dsl.data.records import EVENT_KINDS, Event, FxRate, Roster
from incentive_dsl.eval.money import ZERO, Number, add, div, mul, round_money, sub
from incentive_dsl.limits import MAX_COMPUTED_DIGITS, MAX_DENOMINATOR_DIGITS
from incentive_dsl.periods import (DAYS_PER_UNIT, MONTHS_PER_UNIT, Period, add_months,
                                   month_end)
from incentive_dsl.syntax.format import expr as expr_text
from incentive_dsl.span import Span
from incentive_dsl.syntax import nodes as n

if TYPE_CHECKING:
    from incentive_dsl.eval.measures import MeasureEngine



class EvaluationError(Exception):
    """Input data the plan cannot be evaluated on (e.g. no FX rate); reported as a data
    diagnostic by the run, never shown as a traceback."""

    def __init__(self, message: str, event: Event | None = None, hint: str | None = None,
                 span: Span | None = None) -> None:
        super().__init__(message)
        self.message, self.event, self.hint, self.span = message, event, hint, span


class Fx:
    """Dated FX rates into the plan currency. Converted amounts are rounded to the plan
    currency's minor unit (half even): credits and splits then work in whole cents."""

    def __init__(self, rates: tuple[FxRate, ...], currency: str,
                 basis: str = "event date") -> None:
        self.currency = currency
        self.basis = basis  # "event date", or "period end": the rate of the month's last day
        self._rates: dict[str, list[FxRate]] = defaultdict(list)
        for r in sorted(rates, key=lambda r: (r.currency, r.date)):
            if r.target == currency:
                self._rates[r.currency].append(r)
        self._dates = {c: [r.date for r in rs] for c, rs in self._rates.items()}

    def rate(self, currency: str, day: dt.date) -> FxRate | None:
        """The rate in force on `day`: the latest dated on or before it (of two on one date,
        the later row)."""
        dates = self._dates.get(currency)
        if not dates:
            return None
        i = bisect.bisect_right(dates, day)
        return self._rates[currency][i - 1] if i else None

    def convert(self, amount: Decimal, currency: str | None, day: dt.date,
                event: Event | None = None) -> tuple[Decimal, FxRate | None]:
        if currency is None or currency == self.currency:
            return amount, None
        if self.basis == "period end":
            day = month_end(day.year, day.month)
        r = self.rate(currency, day)
        if r is None:
            raise EvaluationError(f"no {currency}->{self.currency} rate on or before {day}",
                                  event)
        if r.inverse:  # quoted per unit of the target: the exact quotient, then rounded
            return round_money(div(amount, r.rate), self.currency), r
        return round_money(mul(amount, r.rate), self.currency), r


class EventIndex:
    """A run's view of the dataset's events, grouped once: by kind (each group in processing
    order), and by deal within a kind when first asked. A plan reads a few kinds of event; the
    others (often most of a CRM export) are grouped and never looked at again."""

    def __init__(self, events: tuple[Event, ...]) -> None:
        self.events = events
        self.by_kind: dict[str, list[Event]] = {k: [] for k in EVENT_KINDS}
        add = {k: group.append for k, group in self.by_kind.items()}
        for e in events:
            add[e.kind](e)
        self._by_deal: dict[str, dict[str, list[Event]]] = {}
        self._activities: dict[str, list[Event]] | None = None
        # Each cancelled deal's first cancellation (`Deal.cancelled`: few deals have one)
        self.cancellations: dict[str | None, Event] = {}
        for e in self.by_kind["cancelled"]:
            if e.deal not in self.cancellations:
                self.cancellations[e.deal] = e

    def of_deal(self, kind: str, deal: str) -> list[Event]:
        """A deal's events of one kind, in processing order (the kind is grouped by deal on
        the first call for it)."""
        groups = self._by_deal.get(kind)
        if groups is None:
            groups = self._by_deal[kind] = {}
            for e in self.by_kind[kind]:
                group = groups.get(e.deal)
                if group is None:
                    groups[e.deal] = [e]
                else:
                    group.append(e)
        return groups.get(deal, [])

    def activities_of(self, payee: str) -> list[Event]:
        """A payee's activities, in processing order."""
        if self._activities is None:
            self._activities = defaultdict(list)
            for e in self.by_kind["activity"]:
                if e.owner:
                    self._activities[e.owner].append(e)
        return self._activities.get(payee, [])


class Deal:
    """A deal as its events describe it: its booking (the last booked event), its amount in
    the plan currency, its first cancellation, and its other events by kind, read from the
    run's `EventIndex` when asked."""

    # Four slots, not five: a run keeps a deal per booking, and the fifth slot would cost
    # 16 bytes each (the allocator's size classes). The cancellation, which few deals have and
    # few readers ask for, is the index's.
    __slots__ = ("id", "booked", "amount", "_index")

    def __init__(self, deal_id: str, index: EventIndex) -> None:
        self.id = deal_id
        self.booked: Event | None = None
        self.amount = ZERO  # the booked amount in the plan currency
        self._index = index

    @property
    def cancelled(self) -> Event | None:
        return self._index.cancellations.get(self.id)

    def copy(self, amount: Decimal) -> Deal:
        """The deal as it reads with another amount (to price an amendment)."""
        other = Deal(self.id, self._index)
        other.booked, other.amount = self.booked, amount
        return other

    def _events(self, kind: str) -> list[Event]:
        return self._index.of_deal(kind, self.id)

    amendments = property(lambda self: self._events("amended"))
    stages = property(lambda self: self._events("stage"))
    collections = property(lambda self: self._events("collected"))
    invoices = property(lambda self: self._events("invoiced"))
    touches = property(lambda self: self._events("touch"))

    @property
    def owner(self) -> str | None:
        return self.booked.owner if self.booked else None

    def stage_on(self, day: dt.date) -> str | None:
        reached = [e.subject for e in self.stages if e.date <= day]
        return reached[-1] if reached else None


class Deals:
    """The deals of a run by id. Booked and cancelled deals are made up front (with the booked
    amount converted); a deal that only has other events is made when first asked for."""

    def __init__(self, index: EventIndex, fx: Fx) -> None:
        self.index = index
        # The deals made so far, by id (the credit stage looks a booked deal up here itself)
        self.made: dict[str, Deal] = {}
        self._ids: set[str] | None = None
        plan_currency, made = fx.currency, self.made
        new = object.__new__  # (`Deal(...)`'s fields set here, once each: a run makes a deal
        # per booking)
        for e in index.by_kind["booked"]:
            deal_id, amount = e.deal, e.amount
            d = made.get(deal_id)
            if d is None:
                d = made[deal_id] = new(Deal)
                d.id, d._index, d.amount = deal_id, index, ZERO
            d.booked = e
            if amount is not None:  # (in the plan currency, as most are: no conversion)
                d.amount = amount if e.currency is None or e.currency == plan_currency else \
                    fx.convert(amount, e.currency, e.date, e)[0]
        for deal_id in index.cancellations:
            if deal_id not in self.made:
                self.made[deal_id] = Deal(deal_id, index)

    def get(self, deal_id: str | None) -> Deal | None:
        d = self.made.get(deal_id)
        if d is None and deal_id is not None:
            if self._ids is None:
                self._ids = {e.deal for e in self.index.events if e.kind != "activity"}
            if deal_id in self._ids:
                d = self.made[deal_id] = Deal(deal_id, self.index)
        return d


@attrs.define
class Env:
    """What an expression can see. `payees` is the subject: None for `payee` alone, or a team
    (possibly empty: a team of nobody has no credit and no quota). Never changed once made
    (`attrs.evolve` makes another), but not frozen: a large run makes hundreds of thousands,
    and a frozen class takes three times as long to make."""

    payee: str | None
    day: dt.date
    period: Period | None = None
    payees: tuple[str, ...] | None = None

    @property
    def subject(self) -> tuple[str, ...]:
        return self.payees if self.payees is not None else (self.payee,)
    deal: Deal | None = None
    event: Event | None = None
    until: int | None = None  # credit lines with a higher sequence number are not yet counted
    # A compensation line's `base_salary`: the payee's base salary that day, per the line's
    # period unit (no period: the line is read for one day).
    salary: Number | None = None


class Evaluator:
    """Evaluates checked expressions. Evaluation is total: division by zero gives 0 (noted by
    the callers that show it), and every loop is over finite input.

    The measure engine owns its evaluator; the evaluator and its compiled expressions reach
    the engine through a weak reference, so a run's result forms no reference cycle and is
    freed by reference counting as soon as it is dropped."""

    def __init__(self, plan: Plan, engine: MeasureEngine) -> None:
        self.plan = plan
        self._engine = weakref.ref(engine)
        self._compiled: dict[int, tuple[n.Expr, Callable[[Env], object]]] = {}
        self.fx = engine.fx
        self.roster = engine.roster

    @property
    def engine(self) -> MeasureEngine:
        return self._engine()

    # Pickled and copied with a strong reference to the engine (which owns this evaluator),
    # without the compiled closures (made again when needed).
    def __getstate__(self) -> dict:
        return {"plan": self.plan, "engine": self.engine, "fx": self.fx, "roster": self.roster}

    def __setstate__(self, state: dict) -> None:
        self.plan, self.fx, self.roster = state["plan"], state["fx"], state["roster"]
        self._engine = weakref.ref(state["engine"])
        self._compiled = {}

    def eval(self, e: n.Expr, env: Env):
        return self.function(e)(env)

    def function(self, e: n.Expr) -> Callable[[Env], object]:
        """`e` compiled, once per run: callers on a hot path keep it."""
        compiled = self._compiled.get(id(e))
        if compiled is None or compiled[0] is not e:
            compiled = self._compiled[id(e)] = (e, self.compile(e))
        return compiled[1]

    def amount(self, e: n.Expr, env: Env) -> Decimal:
        """An amount (money, a rate, a measure): a missing input counts as zero."""
        value = self.eval(e, env)
        return ZERO if value is None else value

    def compile(self, e: n.Expr) -> Callable[[Env], object]:
        """`e` as a function of the environment. Literals are read, names resolved and operators
        chosen once per expression and run, not on every evaluation."""
        return getattr(self, "_" + type(e).__name__)(e)

    def _Number(self, e):
        return _constant(e.value)

    _Percent = _Number
    _Multiplier = _Number

    def _Money(self, e):
        return _constant(e.amount.value)

    def _Duration(self, e):
        return _constant(e.count.value * DAYS_PER_UNIT[e.unit.rstrip("s")])

    def _PeriodLit(self, e):
        return _constant(self.plan.calendar.parse(e.raw))

    _YearLit = _PeriodLit

    def _DateLit(self, e):
        return _constant(e.value)

    _Text = _DateLit
    _Bool = _DateLit

    def _Paren(self, e):
        return self.compile(e.inner)

    def _Ref(self, e):
        name, engine, ref = e.name.text, self.engine, self._engine
        if name in engine.credit_names:
            return lambda env: ref().credit_total(name, env.subject, env.period, env.until)
        if name in engine.measures:
            return lambda env: ref().value(name, env)
        if name in COMPENSATION_NAMES and self.plan.compensation:
            return lambda env: env.salary if env.period is None else \
                ref().compensation_total(name, env.subject, env.period)
        if name in self.plan.roles and name not in engine.component_names:
            return _constant(name)  # a role, compared with payee.role
        return lambda env: ref().component_total(name, env.subject, env.period)

    def _QuotaRef(self, e):
        name, ref = e.name.text, self._engine
        return lambda env: ref().quota_total(name, env.subject, env.period)

    def _TeamRef(self, e):
        name, ref = e.name.text, self._engine

        def team_value(env):
            engine = ref()
            team = engine.team(env.payee, env.period)
            return engine.value(name, attrs.evolve(env, payees=tuple(team)))
        return team_value

    def _FieldRef(self, e):
        owner, name = e.parts[0].text, e.parts[1].text
        if owner == "payee":
            roster = self.roster
            return lambda env: payee_field(roster, env.payee, name, env.day)
        if owner == "activity":
            def activity_field(env):
                ev = env.event
                return {"kind": ev.subject, "date": ev.date, "id": ev.id}.get(name) if ev else None
            return activity_field
        read = _DEAL_FIELDS.get(name)
        if read is None:
            def read(deal, day):
                return _custom_field(deal, name)
        return lambda env: None if env.deal is None else read(env.deal, env.day)

    def _Call(self, e):
        func = e.func.text
        if func in ("min", "max") and len(e.args) >= 2:
            args = [self.compile(a) for a in e.args]
            pick = min if func == "min" else max

            def extreme(env):
                values = [a(env) for a in args]
                if any(v is None for v in values):
                    return None  # the smaller of a value and a missing one is not known
                return pick(values)
            return extreme
        source, where, ref = e.args[0].name.text, e.where, self._engine
        return lambda env: ref().aggregate(func, source, where, env)

    def _Unary(self, e):
        operand = self.compile(e.operand)
        if e.op == "not":
            return lambda env: not operand(env)

        def negative(env):
            v = operand(env)
            return None if v is None else -v
        return negative

    def _Binary(self, e):
        op, left, right = e.op, self.compile(e.left), self.compile(e.right)
        if op == "and":
            return lambda env: bool(left(env)) and bool(right(env))
        if op == "or":
            return lambda env: bool(left(env)) or bool(right(env))
        if op in ("in", "not in"):
            negated = op == "not in"

            def inside(env):
                a, b = left(env), right(env)
                return (a is not None and b is not None and b.contains(a)) != negated
            return inside
        if op in ("+", "-"):
            combine = add if op == "+" else sub
            sign = 1 if op == "+" else -1
            calendar = self._calendar(e.right)  # how the right side moves a date, if it does

            def plus_minus(env):
                a, b = left(env), right(env)
                if a is None or b is None:
                    return None  # a missing value (a payee with no end date) stays missing
                if isinstance(a, dt.date):
                    if isinstance(b, dt.date):
                        return Decimal((a - b).days)
                    form = calendar(env) if calendar is not None else None
                    return _shift(a, e.right, (ZERO, b) if form is None else form, sign, env)
                return combine(a, b)
            return plus_minus
        if op in ("*", "of", "/"):
            combine = div if op == "/" else mul  # exact: a third stays a third

            def arithmetic(env):
                a, b = left(env), right(env)
                if a is None or b is None:
                    return None
                value = combine(a, b)
                if type(value) is Decimal:
                    if value.adjusted() >= MAX_COMPUTED_DIGITS and value:
                        _too_large(e, value, env)
                elif abs(value) >= _COMPUTED_BOUND:
                    _too_large(e, value, env)
                elif value.denominator >= _DENOMINATOR_BOUND:
                    _too_fine(e, env)
                return value
            return arithmetic
        compare = _COMPARE[op]
        missing = op in ("!=", "is not")  # a missing value equals nothing, not even another

        def comparison(env):
            a, b = left(env), right(env)
            if a is None or b is None:
                return missing
            return compare(a, b)
        return comparison

    def _OneOf(self, e):
        operand, options, negated = self.compile(e.operand), [self.compile(o) for o in e.options], \
            e.negated

        def one_of(env):
            a = operand(env)
            return (a is not None and any(a == o(env) for o in options)) != negated
        return one_of

    def _InRange(self, e):
        operand, low, high, negated = self.compile(e.operand), self.compile(e.low), \
            self.compile(e.high), e.negated

        def in_range(env):
            a, lo, hi = operand(env), low(env), high(env)
            inside = a is not None and lo is not None and hi is not None and lo <= a <= hi
            return inside != negated
        return in_range

    def _IfThenElse(self, e):
        condition, then, otherwise = self.compile(e.condition), self.compile(e.then), \
            self.compile(e.otherwise)
        return lambda env: then(env) if condition(env) else otherwise(env)

    # ------------------------------------------------------------------ moving dates

    def _calendar(self, e: n.Expr) -> Callable[[Env], tuple | None] | None:
        """How the duration `e` moves a date (docs §4.5): a function giving its (months, days),
        or None when it has no months, quarters or years in it and so moves a date by its days
        (its value). Months are counted from the duration literals through signs, sums,
        products and quotients by numbers, conditions and min/max; a duration read from a
        field or a measure, or a date minus a date, is days. The function gives None where the
        value it follows is missing (the date then stays missing)."""
        if isinstance(e, n.Paren):
            return self._calendar(e.inner)
        if isinstance(e, n.Duration):
            months = MONTHS_PER_UNIT.get(e.unit.rstrip("s"))
            if months is None:
                return None
            form = (e.count.value * months, ZERO)
            return lambda env: form
        if isinstance(e, n.Unary) and e.op == "-":
            inner = self._calendar(e.operand)
            if inner is None:
                return None

            def negated(env):
                form = inner(env)
                return None if form is None else (-form[0], -form[1])
            return negated
        if isinstance(e, n.IfThenElse):
            then, otherwise = self._calendar(e.then), self._calendar(e.otherwise)
            if then is None and otherwise is None:
                return None
            condition = self.compile(e.condition)
            then, otherwise = then or self._days(e.then), otherwise or self._days(e.otherwise)
            return lambda env: then(env) if condition(env) else otherwise(env)
        if isinstance(e, n.Call) and e.func.text in ("min", "max") and len(e.args) >= 2:
            forms = [self._calendar(a) for a in e.args]
            if all(f is None for f in forms):
                return None
            values = [self.compile(a) for a in e.args]
            forms = [f or self._days(a) for f, a in zip(forms, e.args)]
            pick = min if e.func.text == "min" else max

            def extreme(env):  # the argument min/max picks (the first of equals), as a form
                found = [v(env) for v in values]
                if any(v is None for v in found):
                    return None
                return forms[found.index(pick(found))](env)
            return extreme
        if isinstance(e, n.Binary) and e.op in ("+", "-", "*", "/", "of"):
            return self._calendar_binary(e)
        return None

    def _calendar_binary(self, e: n.Binary) -> Callable[[Env], tuple | None] | None:
        left_form, right_form = self._calendar(e.left), self._calendar(e.right)
        if left_form is None and right_form is None:
            return None
        left, right = self.compile(e.left), self.compile(e.right)
        if e.op in ("+", "-"):
            sign = 1 if e.op == "+" else -1
            left_form, right_form = left_form or self._days(e.left), \
                right_form or self._days(e.right)

            def sum_form(env):
                a = left(env)
                if isinstance(a, dt.date):  # a date minus a date: days
                    b = right(env)
                    return None if b is None else (ZERO, Decimal((a - b).days))
                x, y = left_form(env), right_form(env)
                if x is None or y is None:
                    return None
                return add(x[0], sign * y[0]), add(x[1], sign * y[1])
            return sum_form
        if e.op in ("*", "of"):  # a duration times a number, or a percentage of one
            form, factor = (left_form, right) if left_form is not None else (right_form, left)
            combine = mul
        elif left_form is not None:  # a duration divided by a number (by 0: 0, as values are)
            form, factor, combine = left_form, right, div
        else:
            return None  # a number divided by a duration is not a duration

        def scaled(env):
            f, k = form(env), factor(env)
            if f is None or k is None:
                return None
            return combine(f[0], k), combine(f[1], k)
        return scaled

    def _days(self, e: n.Expr) -> Callable[[Env], tuple | None]:
        """A duration without months as a (months, days) form: its value in days."""
        value = self.compile(e)
        return lambda env: None if (v := value(env)) is None else (ZERO, v)


_COMPUTED_BOUND = 10 ** MAX_COMPUTED_DIGITS
_DENOMINATOR_BOUND = 10 ** MAX_DENOMINATOR_DIGITS


def _too_large(e: n.Expr, value, env: Env) -> None:
    """A product or quotient beyond the bound of limits.py: every value derived from data
    stays small enough for exact money arithmetic, or the run stops here."""
    raise EvaluationError(f"'{expr_text(e)}' comes to {Decimal(round(value)):.3E}, beyond the "
                          f"largest value a plan may compute (10^{MAX_COMPUTED_DIGITS})",
                          env.event,
                          "check the data this expression reads (amounts, quotas, FX rates), "
                          "or divide it down", e.span)


def _too_fine(e: n.Expr, env: Env) -> None:
    """A fraction whose exact denominator passed the bound of limits.py: arithmetic on it
    would slow every later step, so the run stops here."""
    raise EvaluationError(f"'{expr_text(e)}' has no finite decimal form and its exact fraction "
                          f"needs a denominator of more than {MAX_DENOMINATOR_DIGITS} digits",
                          env.event,
                          "divide fewer times in a chain of measures, or multiply before "
                          "dividing", e.span)


def _shift(day: dt.date, right: n.Expr, form: tuple, sign: int, env: Env) -> dt.date:
    """A date moved by a duration's (months, days) (`Evaluator._calendar`): by the calendar
    months first (2027-01-31 + 1 month = 2027-02-28), then by the days; each a whole number,
    its fraction dropped (1.5 months moves by one month)."""
    months, days = form
    try:
        if months:
            year, month = add_months(day.year, day.month, sign * int(months))
            day = dt.date(year, month, min(day.day, month_end(year, month).day))
        return day + sign * dt.timedelta(days=int(days))
    except (OverflowError, ValueError):
        raise EvaluationError(f"'{day} {'+' if sign > 0 else '-'} {expr_text(right)}' is "
                              "outside the calendar (years 1 to 9999)", env.event) from None


def payee_field(roster: Roster, payee: str | None, name: str, day: dt.date):
    if payee is None:
        return None
    r = roster.at(payee, day)
    if r is None:
        return None
    builtin = {"id": r.id, "role": r.role, "team": r.team, "territory": r.territory,
               "manager": r.manager, "start": r.start, "end": r.end}
    return builtin[name] if name in builtin else dict(r.fields).get(name)


def _term(deal: Deal) -> int | None:
    b = deal.booked
    return b.term_months if b and b.term_months else None


def _annual_value(deal: Deal, day: dt.date) -> Decimal:
    term = _term(deal)
    if term and term > 12:
        return div(mul(deal.amount, Decimal(12)), Decimal(term))
    return deal.amount


def _custom_field(deal: Deal, name: str):
    """A custom field as recorded at booking, else at the latest stage that records it."""
    b = deal.booked
    if b is not None:
        value = b.field(name)
        if value is not None:
            return value
    for ev in reversed(deal.stages):
        value = ev.field(name)
        if value is not None:
            return value
    return None


# The built-in deal fields: (deal, the date of the event being looked at) -> value.
_DEAL_FIELDS = {
    "amount": lambda deal, day: deal.amount,
    "annual_value": _annual_value,
    "term": lambda deal, day: Decimal(_term(deal) * 30) if _term(deal) else ZERO,
    "id": lambda deal, day: deal.id,
    "owner": lambda deal, day: deal.owner,
    "date": lambda deal, day: day,
    "booked_on": lambda deal, day: deal.booked.date if deal.booked else None,
    "stage": lambda deal, day: deal.stage_on(day),
}


def _constant(value):
    return lambda env: value


_COMPARE = {"=": operator.eq, "is": operator.eq, "!=": operator.ne, "is not": operator.ne,
            "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
            "reaches": operator.ge}
