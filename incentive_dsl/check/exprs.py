"""Type inference for expressions, in the context where they are evaluated.

Contexts say which records an expression can see. An event context (a rule's `where`, a SPIFF's
`pay`) sees one deal or activity and the payee; a period context (measures, `when` lines,
bonus and override amounts) sees the payee's credits, measures, quotas and team for a period.
The interpreter relies on this: it never meets a measure inside an event, or a deal field
outside one.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs

from incentive_dsl.check import scope as sc
from incentive_dsl.check import types as ty
from incentive_dsl.check.types import Type
from incentive_dsl.diagnostics import Diagnostic, Related, error, warning
from incentive_dsl.periods import Calendar, not_a_period_message
from incentive_dsl.syntax import nodes as n
from incentive_dsl.syntax.messages import percent_hint
from incentive_dsl.syntax.format import expr as show

EVENT_DEAL, EVENT_ACTIVITY, PERIOD, AGG_DEAL, AGG_ACTIVITY = (
    "a rule that looks at one deal event", "a rule that looks at one activity",
    "a line evaluated once per period (measures, 'when' lines, bonuses, pools, overrides)",
    "the 'where' of a credit total", "the 'where' of an activity count")
# A commission's rate is read for each credit line: it sees the line's deal and its period.
RATE = "a commission rate (read for each credit line: its deal and its period)"
# A compensation line's amount is read for one payee on each day it applies.
COMPENSATION = "a compensation amount (read for one payee on one day)"
# The names a compensation block gives rules (money for the expression's period); inside the
# block a target incentive may read `base_salary` (the payee's rate that day).
COMPENSATION_NAMES = {"base_salary": "base salary", "target_incentive": "target incentive",
                      "target_total_compensation": "target total compensation"}

AGGREGATES = ("sum", "count", "average", "min", "max")
ORDERED = (">=", "<=", ">", "<", "reaches")


@attrs.define
class ExprChecker:
    scope: sc.Scope
    currency: str
    calendar: Calendar
    deal_fields: dict[str, Type]
    payee_fields: dict[str, Type]
    activity_fields: dict[str, Type]
    measure_types: dict[str, Type]
    quota_types: dict[str, Type]
    diags: list[Diagnostic]
    compensation: bool = False  # the plan has a compensation block

    def _err(self, code: str, node: n.Node, message: str, hint: str | None = None,
             related: tuple[Related, ...] = ()) -> Type:
        self.diags.append(error(code, node.span, message, hint, related))
        return ty.UNKNOWN

    # ------------------------------------------------------------------ entry points

    def expect(self, e: n.Expr, ctx: str, want: str, what: str) -> Type:
        """Infer `e` and require a kind: 'money' (plan currency), 'bool', 'percent', ..."""
        t = self.infer(e, ctx)
        if t.unknown:
            return t
        if want == ty.MONEY:
            if t.kind != ty.MONEY:
                hint = (f"write an amount with its currency, e.g. {show(e)} {self.currency}"
                        if t.numeric else _share_hint(show(e), ctx, self.currency)
                        if t.kind == ty.PERCENT else None)
                return self._err("E-UNIT", e, f"{what} must be money in {self.currency}, "
                                 f"but this is {t}", hint)
            if t.currency != self.currency:
                return self._err("E-CURRENCY-MIX", e, f"{what} must be in the plan currency "
                                 f"{self.currency}, but this is {t}",
                                 f"write the amount in {self.currency}")
            return t
        if want == ty.BOOL and t.kind != ty.BOOL:
            return self._err("E-CONDITION", e, f"{what} must be a condition (yes or no), "
                             f"but this is {t}",
                             "compare it with something, e.g. attainment reaches 100%")
        if want == ty.PERCENT and t.kind != ty.PERCENT:
            hint = number_as_percent(e) if t.numeric else None
            return self._err("E-UNIT", e, f"{what} must be a percentage, but this is {t}", hint)
        return t

    # ------------------------------------------------------------------ inference

    def infer(self, e: n.Expr, ctx: str) -> Type:
        method = getattr(self, "_" + type(e).__name__)
        return method(e, ctx)

    def _Number(self, e: n.Number, ctx: str) -> Type:
        return ty.T_NUMBER

    def _Percent(self, e: n.Percent, ctx: str) -> Type:
        return ty.T_PERCENT

    def _Multiplier(self, e: n.Multiplier, ctx: str) -> Type:
        return ty.T_MULTIPLIER

    def _Money(self, e: n.Money, ctx: str) -> Type:
        return ty.money(e.currency)

    def _Duration(self, e: n.Duration, ctx: str) -> Type:
        return ty.T_DURATION

    def _DateLit(self, e: n.DateLit, ctx: str) -> Type:
        return ty.T_DATE if check_date(e, self.diags) else ty.UNKNOWN

    def _PeriodLit(self, e: n.PeriodLit, ctx: str) -> Type:
        if self.calendar.parse(e.raw) is None:
            return self._err("E-PERIOD", e, not_a_period_message(e.raw),
                             "periods look like 2027-Q1, 2027-03, 2027-H2 or FY2027")
        return ty.T_PERIOD

    _YearLit = _PeriodLit

    def _Text(self, e: n.Text, ctx: str) -> Type:
        return ty.T_TEXT

    def _Bool(self, e: n.Bool, ctx: str) -> Type:
        return ty.T_BOOL

    def _Paren(self, e: n.Paren, ctx: str) -> Type:
        return self.infer(e.inner, ctx)

    def _needs_period(self, e: n.Node, what: str, ctx: str) -> bool:
        if ctx in (PERIOD, RATE):
            return True
        self._err("E-CONTEXT", e, f"{what} cannot be used in {ctx}",
                  "a compensation amount reads payee fields and fixed amounts (a target "
                  "incentive also base_salary), nothing measured over a period"
                  if ctx == COMPENSATION else
                  "measures, credits and quotas are totals for a period; use them in a "
                  "measure, a `when` line or a bonus, not in a rule that looks at one event")
        return False

    def _compensation_name(self, e: n.Ref, name: str, ctx: str) -> Type:
        if not self.compensation:
            return self._err("E-NAME", e, f"'{name}' is the payee's {COMPENSATION_NAMES[name]}, "
                             "and this plan states none",
                             "state it in a compensation block, e.g. 'base salary 90,000 USD "
                             "per year' and 'target incentive 60,000 USD per year' under "
                             "'compensation' (docs/language.md §20b)")
        if ctx == COMPENSATION:
            if name == "base_salary":
                return ty.money(self.currency)  # the plan checker says which lines may read it
            return self._err("E-CONTEXT", e, f"{name} cannot be used in {ctx}",
                             "a target incentive may read base_salary; nothing else of the "
                             "compensation block")
        if ctx not in (PERIOD, RATE):
            return self._err("E-CONTEXT", e, f"the payee's {COMPENSATION_NAMES[name]} ({name}) "
                             f"cannot be used in {ctx}",
                             f"{name} is an amount for a period; use it in a measure, a `when` "
                             "line, a bonus, pool or override amount, or a commission rate")
        return ty.money(self.currency)

    def _Ref(self, e: n.Ref, ctx: str) -> Type:
        name = e.name.text
        sym = self.scope.lookup(name)
        if sym is None and name in COMPENSATION_NAMES:
            return self._compensation_name(e, name, ctx)
        if sym is None:
            if name in self.scope.roles:
                return Type(ty.ENUM, values=tuple(self.scope.roles), name="role")
            if name in self.scope.quotas:
                return self._err("E-NAME", e, f"'{name}' is a quota; its value is written "
                                 f"'quota {name}'", f"write: quota {name}")
            candidates = self.scope.names(sc.CREDIT, sc.MEASURE, sc.COMPONENT) + \
                list(self.scope.roles)
            return self._err("E-NAME", e, f"unknown name '{name}'", sc.suggest(name, candidates))
        if sym.kind == sc.CLAWBACK:
            return self._err("E-NAME", e, f"'{name}' is a clawback and has no value here")
        if not self._needs_period(e, f"the {sym.detail} '{name}'", ctx):
            return ty.UNKNOWN
        if sym.kind == sc.MEASURE:
            return self.measure_types.get(name, ty.UNKNOWN)
        return ty.money(self.currency)  # credits and components are money

    def _FieldRef(self, e: n.FieldRef, ctx: str) -> Type:
        parts = [p.text for p in e.parts]
        owner = parts[0]
        tables = {"deal": self.deal_fields, "payee": self.payee_fields,
                  "activity": self.activity_fields}
        if owner not in tables:
            return self._err("E-FIELD", e, f"unknown record '{owner}'",
                             sc.suggest(owner, tables, "{}." + ".".join(parts[1:])) or
                             "fields are written deal.NAME, payee.NAME or activity.NAME")
        if len(parts) != 2:
            return self._err("E-FIELD", e, f"'{show(e)}' has too many parts",
                             f"write {owner}.{parts[1]}")
        allowed = {"deal": (EVENT_DEAL, AGG_DEAL, RATE),
                   "activity": (EVENT_ACTIVITY, AGG_ACTIVITY),
                   "payee": None}[owner]
        if allowed is not None and ctx not in allowed:
            return self._err("E-CONTEXT", e, f"{owner}.{parts[1]} is not known in {ctx}",
                             f"{owner}.{parts[1]} is known only where one {owner} is looked at: "
                             "in an `on ...` line, its `where`, or an aggregate's `where`")
        table = tables[owner]
        if parts[1] not in table:
            return self._err("E-FIELD", e, f"unknown field '{show(e)}'",
                             sc.suggest(parts[1], table, owner + ".{}") or
                             f"declare it in the fields block: {owner}.{parts[1]} text")
        return table[parts[1]]

    def _QuotaRef(self, e: n.QuotaRef, ctx: str) -> Type:
        name = e.name.text
        sym = self.scope.lookup(name, sc.QUOTA)
        if sym is None:
            return self._err("E-NAME", e.name, f"unknown quota '{name}'",
                             sc.suggest(name, self.scope.names(sc.QUOTA), "quota {}"))
        if not self._needs_period(e, f"quota {name}", ctx):
            return ty.UNKNOWN
        return self.quota_types.get(name, ty.UNKNOWN)

    def _TeamRef(self, e: n.TeamRef, ctx: str) -> Type:
        name = e.name.text
        sym = self.scope.lookup(name, sc.CREDIT, sc.MEASURE)
        if sym is None:
            return self._err("E-NAME", e.name, f"unknown credit or measure '{name}'",
                             sc.suggest(name, self.scope.names(sc.CREDIT, sc.MEASURE), "team {}"))
        if not self._needs_period(e, f"team {name}", ctx):
            return ty.UNKNOWN
        if sym.kind == sc.MEASURE:
            return self.measure_types.get(name, ty.UNKNOWN)
        return ty.money(self.currency)

    def _Call(self, e: n.Call, ctx: str) -> Type:
        func = e.func.text
        if func not in AGGREGATES:
            return self._err("E-FUNCTION", e.func, f"unknown function '{func}'",
                             sc.suggest(func, AGGREGATES) or
                             "the functions are sum, count, average, min and max")
        if func in ("min", "max") and len(e.args) >= 2:
            if e.where is not None:
                return self._err("E-FUNCTION", e.where, f"{func} of values takes no 'where'")
            types = [self.infer(a, ctx) for a in e.args]
            first = types[0]
            for a, t in zip(e.args[1:], types[1:]):
                reason = ty.comparable(first, t)
                if reason or (not t.unknown and not first.unknown and t.kind != first.kind
                              and not (t.numeric and first.numeric)):
                    return self._err("E-UNIT", a, f"{func} needs values of one kind: "
                                     f"{reason or f'{first} and {t}'}")
            return first
        if len(e.args) != 1 or not isinstance(e.args[0], n.Ref):
            return self._err("E-FUNCTION", e, f"{func}(...) takes one credit name or "
                             "'activities', optionally followed by 'where'",
                             f"e.g. {func}(bookings where deal.product is \"P3\")")
        if not self._needs_period(e, f"{func}(...)", ctx):
            return ty.UNKNOWN
        source = e.args[0].name.text
        if source == "activities":
            if e.where is not None:
                self.expect(e.where, AGG_ACTIVITY, ty.BOOL, "the 'where' condition")
            if func != "count":
                return self._err("E-FUNCTION", e, f"{func}(activities) has no meaning: "
                                 "activities have no amount, they can only be counted",
                                 "write count(activities where ...)")
            return ty.T_COUNT
        sym = self.scope.lookup(source, sc.CREDIT)
        if sym is None:
            credits = self.scope.names(sc.CREDIT)
            return self._err("E-NAME", e.args[0], f"unknown credit '{source}'",
                             sc.suggest(source, credits + ["activities"]) or
                             f"{func}(...) takes a credit ({', '.join(credits) or 'none declared'}"
                             ") or 'activities'")
        if e.where is not None:
            self.expect(e.where, AGG_DEAL, ty.BOOL, "the 'where' condition")
        return ty.T_COUNT if func == "count" else ty.money(self.currency)

    def _Unary(self, e: n.Unary, ctx: str) -> Type:
        t = self.infer(e.operand, ctx)
        if t.unknown:
            return t
        if e.op == "not":
            if t.kind != ty.BOOL:
                return self._err("E-CONDITION", e.operand, f"'not' needs a condition, not {t}")
            return t
        if t.kind not in (ty.MONEY, ty.PERCENT, ty.NUMBER, ty.COUNT, ty.DURATION):
            return self._err("E-UNIT", e, f"cannot negate {t}")
        return t

    def _Binary(self, e: n.Binary, ctx: str) -> Type:
        a, b = self.infer(e.left, ctx), self.infer(e.right, ctx)
        if e.op in ("and", "or"):
            for side, t in ((e.left, a), (e.right, b)):
                if not t.unknown and t.kind != ty.BOOL:
                    self._err("E-CONDITION", side, f"'{e.op}' joins conditions, but this is {t}")
            return ty.T_BOOL
        if e.op == "/" and a.kind == ty.MONEY and b.kind in (ty.NUMBER, ty.COUNT) and \
                isinstance(e.right, n.QuotaRef):
            # `bookings / quota bookings` with the quota written without its currency: the
            # "attainment" would be money, and every tier and bonus on it reported instead.
            return self._err("E-UNIT", e.right, f"{show(e.left)} is {a}, but "
                             f"{show(e.right)} is {b}, so this is no attainment",
                             f"write the quota in {a.currency} (e.g. 250,000 {a.currency} per "
                             "quarter), or count what the quota counts: " + (
                                 f"count({show(e.left)}) for deals, "
                                 if isinstance(e.left, n.Ref) else "") +
                             "count(activities where activity.kind is \"...\") for activities")
        if e.op in ("+", "-", "*", "/", "of"):
            try:
                return ty.arithmetic(e.op, a, b)
            except ty.UnitError as exc:
                return self._err(exc.code, e, exc.message, exc.hint, (
                    Related(e.left.span, f"this is {a}"), Related(e.right.span, f"this is {b}")))
        if e.op in ("in", "not in"):
            if a.unknown or b.unknown:
                return ty.T_BOOL
            if a.kind == ty.DATE and b.kind == ty.PERIOD:
                return ty.T_BOOL
            return self._err("E-COMPARE", e, f"'{e.op}' tests whether a date falls in a "
                             f"period, but this tests {a} in {b}",
                             "e.g. deal.date in 2027-Q2, or x in 10 to 20 for a range")
        reason = ty.comparable(a, b)
        if reason:
            return self._err("E-COMPARE", e, reason, _unit_hint(e.right, a) or
                             _unit_hint(e.left, b), (
                Related(e.left.span, f"this is {a}"), Related(e.right.span, f"this is {b}")))
        if e.op in ORDERED and (a.textual or a.kind == ty.BOOL):
            return self._err("E-COMPARE", e, f"'{e.op}' compares amounts; {a} has no order",
                             "use 'is' or 'is one of (...)' for texts")
        if e.op in ("=", "is"):
            self._never(a, (e.right,))
            self._never(b, (e.left,))
        elif e.op in ("!=", "is not"):
            self._never(a, (e.right,), always=True)
            self._never(b, (e.left,), always=True)
        return ty.T_BOOL

    def _never(self, a: Type, options: tuple[n.Expr, ...], always: bool = False) -> None:
        """Warn when an enumerated field is compared with a value it can never have: an
        equality then never holds (and an inequality always does)."""
        if a.kind != ty.ENUM:
            return
        for opt in options:
            if isinstance(opt, n.Text) and opt.value not in a.values:
                outcome = "always holds" if always else "can never hold"
                self.diags.append(warning(
                    "W-NEVER", opt.span,
                    f"{a.name} is never {opt.raw}, so this condition {outcome}",
                    sc.suggest_text(opt.value, a.values) or
                    f"the declared values are {', '.join(a.values)}"))

    def _OneOf(self, e: n.OneOf, ctx: str) -> Type:
        a = self.infer(e.operand, ctx)
        for opt in e.options:
            b = self.infer(opt, ctx)
            reason = ty.comparable(a, b)
            if reason:
                self._err("E-COMPARE", opt, reason)
        self._never(a, e.options, always=e.negated)
        return ty.T_BOOL

    def _InRange(self, e: n.InRange, ctx: str) -> Type:
        a = self.infer(e.operand, ctx)
        for bound in (e.low, e.high):
            reason = ty.comparable(a, self.infer(bound, ctx))
            if reason:
                self._err("E-COMPARE", bound, reason)
        return ty.T_BOOL

    def _IfThenElse(self, e: n.IfThenElse, ctx: str) -> Type:
        self.expect(e.condition, ctx, ty.BOOL, "the 'if' condition")
        a, b = self.infer(e.then, ctx), self.infer(e.otherwise, ctx)
        if a.unknown or b.unknown:
            return ty.UNKNOWN
        if a != b and not (a.numeric and b.numeric):
            return self._err("E-UNIT", e, f"both branches of 'if' must have one unit, "
                             f"but 'then' is {a} and 'else' is {b}", None,
                             (Related(e.then.span, f"this is {a}"),
                              Related(e.otherwise.span, f"this is {b}")))
        return a


def _unit_hint(side: n.Expr, other: Type) -> str | None:
    """The hint for a plain number compared with a percentage or money (`attainment > 100`):
    the number written in the other side's unit."""
    if not isinstance(side, n.Number):
        return None
    if other.kind == ty.PERCENT:
        return ratio_as_percent(side)
    if other.kind == ty.MONEY:
        return f"write {show(side)} {other.currency}"
    return None


def _share_hint(pct: str, ctx: str, currency: str) -> str:
    """The hint for a percentage written where money belongs (`pay 2%`): a share of what."""
    if ctx == EVENT_ACTIVITY:  # an activity has no amount to take a share of
        return f"an activity has no amount: write a fixed amount, e.g. 30 {currency}"
    if ctx in (EVENT_DEAL, RATE):
        return f"a percentage pays a share of an amount: write e.g. {pct} of deal.amount"
    return f"a percentage pays a share of a credit or measure: write e.g. {pct} of bookings"


def number_as_percent(e: n.Expr) -> str:
    """The hint for a number where a percentage belongs (`0.06` is most likely 6%)."""
    if isinstance(e, n.Number):
        return percent_hint(e.raw)
    return f"write it with a % sign, e.g. {show(e)}%"


def ratio_as_percent(e: n.Expr) -> str:
    """The hint for a number where a percentage such as an attainment belongs, which authors
    also write as a ratio: `1.2` is 120% (as 0.8 is 80%, percent_hint); a small whole number
    (`1`) may be either."""
    if not isinstance(e, n.Number):
        return number_as_percent(e)
    value = e.value
    shown = f"{value.scaleb(2).normalize():f}%"
    if 1 <= value < 10 and value != value.to_integral_value():
        return (f"write percentages with a % sign: {shown} (not {e.raw}%, which is a "
                "hundredth of it)")
    if 1 <= value <= 5:
        return f"write percentages with a % sign: {shown} if {e.raw} is a ratio, or {e.raw}%"
    return percent_hint(e.raw)


def check_date(e: n.DateLit, diags: list[Diagnostic]) -> bool:
    try:
        dt.date.fromisoformat(e.raw)
    except ValueError:
        diags.append(error("E-DATE", e.span, f"{e.raw} is not a calendar date",
                           "check the month and the day"))
        return False
    return True


def constant(e: n.Expr) -> tuple[Decimal, Type] | None:
    """The exact value and type of a constant expression (literals and arithmetic on them),
    or None when `e` depends on data."""
    if isinstance(e, n.Number):
        return e.value, ty.T_NUMBER
    if isinstance(e, n.Percent):
        return e.value, ty.T_PERCENT
    if isinstance(e, n.Multiplier):
        return e.value, ty.T_MULTIPLIER
    if isinstance(e, n.Money):
        return e.amount.value, ty.money(e.currency)
    if isinstance(e, n.Paren):
        return constant(e.inner)
    if isinstance(e, n.Unary) and e.op == "-":
        inner = constant(e.operand)
        return (-inner[0], inner[1]) if inner else None
    if isinstance(e, n.Binary) and e.op in ("+", "-", "*", "/", "of"):
        a, b = constant(e.left), constant(e.right)
        if a is None or b is None:
            return None
        try:
            t = ty.arithmetic(e.op, a[1], b[1])
        except ty.UnitError:
            return None
        x, y = a[0], b[0]
        if e.op == "+":
            return x + y, t
        if e.op == "-":
            return x - y, t
        if e.op in ("*", "of"):
            return x * y, t
        if y == 0:
            return None
        return x / y, t
    return None
