"""A checked plan -> one SQL query that computes its statements from column tables.

The query reads five input tables (their columns are in `INPUT_TABLES`; docs/columnar.md
describes them) and returns one row per statement, with the interpreter's columns. Every amount
is exact: money is DECIMAL(38, s) or an integer number of cents (HUGEINT), never a floating
type, and the query never divides two decimals (DuckDB's `/` on decimals gives a DOUBLE):
quotients are integer divisions with an explicit rounding, and tier pieces are computed in money
space (a bound of the key is quota x bound, compared with the running credit).

The plan model is read, never syntax trees beyond the checked expressions it holds. A plan the
compiler does not cover raises `NotCovered`, naming every feature it does not cover, in plan
order, each with its plan line; the caller runs the interpreter instead. Covered (docs/columnar.md has the whole list): credits
on deal bookings and amendments (to the owner, split as recorded or evenly), flat rates and
marginal or retroactive tiers on a credit or on credit / quota per period, SPIFFs on
bookings, clawbacks, pay monthly to annually, when booked and when collected or invoiced,
rounding per line or per statement in every mode, negative pay carried forward.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

import attrs

from incentive_dsl.check import model as m
from incentive_dsl.periods import FREQUENCY_UNIT, MONTHS_PER_UNIT
from incentive_dsl.span import Span
from incentive_dsl.syntax import nodes as n

# Input tables and their columns, in the order the runner fills them.
INPUT_TABLES = {
    "events": ("id VARCHAR", "deal VARCHAR", "day DATE", "kind VARCHAR", "amount DECIMAL(38,6)",
               "currency VARCHAR", "owner VARCHAR"),  # + one column f_NAME per custom field read
    "splits": ("event_id VARCHAR", "payee VARCHAR", "share DECIMAL(38,12)"),
    "roster": ("id VARCHAR", "role VARCHAR", "start_day DATE", "end_day DATE",
               "effective_from DATE", "ord INTEGER"),
    "fx": ("currency VARCHAR", "day DATE", "rate DECIMAL(38,12)", "ord INTEGER",
           "inverse BOOLEAN"),
    "quota_rows": ("payee VARCHAR", "quota VARCHAR", "first_month INTEGER", "months INTEGER",
                   "amount DECIMAL(38,6)", "ord INTEGER"),
}
FIELD_TYPES = {"text": "VARCHAR", "one of": "VARCHAR", "number": "DECIMAL(38,6)",
               "count": "DECIMAL(38,6)", "money": "DECIMAL(38,6)", "percent": "DECIMAL(38,6)",
               "date": "DATE", "yes or no": "BOOLEAN"}
KIND_RANK = ("touch", "stage", "activity", "booked", "amended", "invoiced", "collected",
             "cancelled")
CENT = Decimal("0.01")
EXACT = "DECIMAL(38,20)"  # exact earnings: 18 digits before the point, 20 after
# Days of every month length divide it: a month's share of a quota in whole units of 1/DAYS.
DAYS = 377580  # lcm(28, 29, 30, 31)
QUOTA_DEN = 10 ** 6 * 12 * DAYS  # micro-units, twelfths of a year, days of a month
ENDLESS = 3 * 3 * 7 * 29 * 31  # QUOTA_DEN's factors other than 2 and 5
REVERSIBLE = ("commission", "true-up", "capped", "spiff")
DEAL_KINDS = ("commission", "capped", "spiff", "clawback")
LINE = "comp, kind, payee, deal, day, amount, role, event_id"  # the columns of an earning line


@attrs.frozen
class Gap:
    """One feature of a plan the columnar engine does not compute, and where the plan uses it."""

    feature: str
    span: Span | None

    def __str__(self) -> str:
        return f"{self.span}: {self.feature}" if self.span is not None else self.feature


class NotCovered(Exception):
    """The plan uses features the columnar engine does not compute: `gaps`, every one of them,
    in plan order (file, line, column); `feature` and `span` are the first."""

    def __init__(self, gaps: Sequence[Gap]) -> None:
        self.gaps = tuple(gaps)
        super().__init__("; ".join(str(g) for g in self.gaps))
        self.feature, self.span = self.gaps[0].feature, self.gaps[0].span

    def message(self) -> str:
        if len(self.gaps) == 1:
            where = f"{self.span}: " if self.span is not None else ""
            return (f"{where}the columnar engine does not cover {self.feature}; "
                    "the interpreter runs the plan instead")
        return (f"the columnar engine does not cover {len(self.gaps)} features of the plan; "
                "the interpreter runs the plan instead:"
                + "".join(f"\n  {g}" for g in self.gaps))


@attrs.frozen
class Compiled:
    """The query, and what the runner must load for it."""

    sql: str  # one SELECT; its rows are the statements
    fields: tuple[tuple[str, str], ...]  # custom deal fields read: (name, SQL type)
    kinds: tuple[str, ...]  # event kinds the query reads
    checks: tuple[tuple[str, str], ...]  # (query counting offending rows, what they mean)


# ------------------------------------------------------------------------------ SQL pieces


def dec(value: Decimal) -> str:
    """An exact decimal literal of the smallest type that holds it."""
    sign, digits, exp = value.as_tuple()
    scale = max(0, -exp)
    width = max(len(digits) + max(exp, 0), scale + 1)
    return f"CAST('{value:f}' AS DECIMAL({min(38, width)},{scale}))"


def text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def date(day: dt.date) -> str:
    return f"DATE '{day.isoformat()}'"


def cents_to_dec(expr: str) -> str:
    """Integer cents as DECIMAL(38,2)."""
    return f"(CAST({expr} AS DECIMAL(38,0)) * CAST('0.01' AS DECIMAL(3,2)))"


def exact(expr: str) -> str:
    return f"CAST({expr} AS {EXACT})"


def round_cents(x: str, mode: str) -> str:
    """A decimal rounded to whole cents in a plan's rounding mode, as integer cents (HUGEINT).
    A cast to two decimals rounds half away from zero (`half up`); the other modes correct it
    where the rest `d = x - a` says so (a tie is |d| = 0.005 exactly). A cast, not `trunc`: on
    38-digit decimals DuckDB's `trunc` costs several times as much."""
    a = f"CAST({x} AS DECIMAL(38,2))"
    d = f"({x} - {a})"
    cent = "CAST('0.01' AS DECIMAL(3,2))"
    sign = f"(CASE WHEN {x} < 0 THEN -1 ELSE 1 END)"
    fix = {
        "half up": None,
        "half even": f"{d} = 0.005 OR {d} = -0.005) AND CAST({a} * 100 AS HUGEINT) % 2 <> 0",
        "half down": f"{d} = 0.005 OR {d} = -0.005)",
        "up": None,
        "down": None,
    }[mode]
    if mode in ("half even", "half down"):
        value = f"(CASE WHEN ({fix} THEN {a} - {sign} * {cent} ELSE {a} END)"
    elif mode == "up":  # away from zero: a cast that went towards zero goes one further
        value = (f"(CASE WHEN {x} > 0 AND {d} > 0 THEN {a} + {cent} "
                 f"WHEN {x} < 0 AND {d} < 0 THEN {a} - {cent} ELSE {a} END)")
    elif mode == "down":  # towards zero: a cast that went away from zero comes back
        value = (f"(CASE WHEN {x} > 0 AND {d} < 0 THEN {a} - {cent} "
                 f"WHEN {x} < 0 AND {d} > 0 THEN {a} + {cent} ELSE {a} END)")
    else:
        value = a
    return f"CAST({value} * 100 AS HUGEINT)"


def round_div(num: str, den: str, mode: str) -> str:
    """num / den rounded in a plan's mode, for integers num >= 0 and den > 0."""
    q, r = f"({num} // {den})", f"({num} % {den})"
    inc = {"half even": f"CASE WHEN 2 * {r} > {den} OR (2 * {r} = {den} AND {q} % 2 = 1) "
                        "THEN 1 ELSE 0 END",
           "half up": f"CASE WHEN 2 * {r} >= {den} THEN 1 ELSE 0 END",
           "half down": f"CASE WHEN 2 * {r} > {den} THEN 1 ELSE 0 END",
           "up": f"CASE WHEN {r} > 0 THEN 1 ELSE 0 END", "down": "0"}[mode]
    return f"({q} + {inc})"


def month_index(day: str) -> str:
    return f"(year({day}) * 12 + month({day}) - 1)"


def period_key(month: str, unit: str, fiscal_start: int) -> str:
    """The first month (as a month index) of the period of `unit` holding month index `month`."""
    span = MONTHS_PER_UNIT[unit]
    if span == 1:
        return month
    off = fiscal_start - 1
    return f"((({month}) - {off}) // {span} * {span} + {off})"


def month_start(index: str) -> str:
    return f"make_date(CAST(({index}) // 12 AS INTEGER), CAST(({index}) % 12 + 1 AS INTEGER), 1)"


def month_last(index: str) -> str:
    return f"last_day({month_start(index)})"


def in_list(column: str, values) -> str:
    return f"{column} IN ({', '.join(text(v) for v in values)})"


# ------------------------------------------------------------------------------ expressions


class Expressions:
    """Checked expressions about one deal event, as SQL over the columns `d.*` (the deal: its
    last booking) of the query's `deals` table. Missing values follow the interpreter: a
    comparison with a missing value is false (true for `!=` and `is not`), arithmetic with one
    is missing."""

    BUILTIN = {"amount": "d.amount", "id": "d.deal", "owner": "d.owner",
               "booked_on": "d.booked_day"}

    def __init__(self, plan: m.Plan, gaps: list[Gap] | None = None) -> None:
        self.plan = plan
        self.fields: dict[str, str] = {}
        self.gaps = gaps  # collect what is not covered here (and go on), or raise it

    def uncovered(self, feature: str, span: Span) -> str:
        if self.gaps is None:
            raise NotCovered([Gap(feature, span)])
        self.gaps.append(Gap(feature, span))
        return "NULL"

    def condition(self, e: n.Expr) -> str:
        if isinstance(e, n.Paren):
            return self.condition(e.inner)
        if isinstance(e, n.Binary) and e.op in ("and", "or"):
            return f"({self.condition(e.left)} {e.op.upper()} {self.condition(e.right)})"
        if isinstance(e, n.Unary) and e.op == "not":
            return f"(NOT {self.condition(e.operand)})"
        if isinstance(e, n.Binary) and e.op in ("=", "is", "!=", "is not", "<", "<=", ">",
                                                ">=", "reaches"):
            op = {"is": "=", "!=": "<>", "is not": "<>", "reaches": ">="}.get(e.op, e.op)
            missing = "TRUE" if e.op in ("!=", "is not") else "FALSE"
            return (f"coalesce(({self.value(e.left)}) {op} ({self.value(e.right)}), "
                    f"{missing})")
        if isinstance(e, n.OneOf):
            options = ", ".join(self.value(o) for o in e.options)
            inside = f"coalesce(({self.value(e.operand)}) IN ({options}), FALSE)"
            return f"(NOT {inside})" if e.negated else inside
        if isinstance(e, n.InRange):
            inside = (f"coalesce(({self.value(e.operand)}) BETWEEN ({self.value(e.low)}) AND "
                      f"({self.value(e.high)}), FALSE)")
            return f"(NOT {inside})" if e.negated else inside
        if isinstance(e, (n.Bool, n.FieldRef)):
            return f"coalesce({self.value(e)}, FALSE)"
        return self.uncovered("this condition", e.span)

    def value(self, e: n.Expr) -> str:
        if isinstance(e, n.Paren):
            return self.value(e.inner)
        if isinstance(e, (n.Number, n.Percent)):
            return dec(e.value)
        if isinstance(e, n.Money):
            return dec(e.amount.value)
        if isinstance(e, n.Text):
            return text(e.value)
        if isinstance(e, n.Bool):
            return "TRUE" if e.value else "FALSE"
        if isinstance(e, n.DateLit):
            return date(e.value)
        if isinstance(e, n.FieldRef):
            owner, name = e.parts[0].text, e.parts[1].text
            if owner == "deal" and name in self.BUILTIN:
                return self.BUILTIN[name]
            spec = self.plan.field("deal", name) if owner == "deal" else None
            if spec is None or spec.kind not in FIELD_TYPES:
                return self.uncovered(f"the field '{owner}.{name}' in an expression", e.span)
            self.fields[name] = FIELD_TYPES[spec.kind]
            return f"d.f_{name}"
        if isinstance(e, n.Unary) and e.op == "-":
            return f"(-({self.value(e.operand)}))"
        if isinstance(e, n.Binary) and e.op in ("+", "-", "*", "of"):
            op = "*" if e.op == "of" else e.op
            return f"(({self.value(e.left)}) {op} ({self.value(e.right)}))"
        return self.uncovered("this expression", e.span)


def _strip(e: n.Expr) -> n.Expr:
    while isinstance(e, n.Paren):
        e = e.inner
    return e


# ------------------------------------------------------------------------------ the compiler


def not_covered(plans) -> NotCovered | None:
    """Everything the columnar engine does not cover in these plan versions (every version is
    read), or None if it covers them."""
    plans = [plans] if isinstance(plans, m.Plan) else list(plans)
    gaps = [Gap("several versions of one plan", plans[1].span)] if len(plans) > 1 else []
    for plan in plans:
        gaps += _Compiler(plan, dt.date(2000, 1, 1), dt.date(2000, 1, 1),
                          dt.date(2000, 1, 1)).covered()
    if not gaps:
        return None
    files = list(dict.fromkeys(p.span.path for p in plans))

    def where(g: Gap):  # plan order: the versions' files in turn, then line and column
        if g.span is None:
            return (len(files) + 1, "", 0, 0)
        rank = files.index(g.span.path) if g.span.path in files else len(files)
        return (rank, g.span.path, g.span.line, g.span.column)
    return NotCovered(sorted(dict.fromkeys(gaps), key=where))


def compile_plan(plans, start: dt.date, end: dt.date, pay_end: dt.date) -> Compiled:
    """The statements query of a plan for a run that earns from `start` to `end` and pays up to
    `pay_end` (as `eval.run.evaluate` chooses them). Raises NotCovered, naming every feature
    not covered."""
    plans = [plans] if isinstance(plans, m.Plan) else list(plans)
    found = not_covered(plans)
    if found is not None:
        raise found
    return _Compiler(plans[0], start, end, pay_end).build()


class _Compiler:
    def __init__(self, plan: m.Plan, start: dt.date, end: dt.date, pay_end: dt.date) -> None:
        self.plan = plan
        self.start, self.end, self.pay_end = start, end, pay_end
        self.fs = plan.calendar.fiscal_start
        self.cur = plan.currency
        self.mode = plan.rounding.mode
        self.per_line = plan.rounding.point == "line"
        self.exprs = Expressions(plan)
        self.ctes: list[tuple[str, str]] = []
        self.marginal_quotas: list[str] = []  # quota tables of marginal tier keys
        self.kinds = {"booked", "amended", "cancelled"}
        self.gaps: list[Gap] = []

    def cte(self, name: str, sql: str) -> None:
        self.ctes.append((name, sql.strip()))

    # ------------------------------------------------------------------ coverage

    def gap(self, feature: str, span: Span | None) -> None:
        self.gaps.append(Gap(feature, span))

    def covered(self) -> list[Gap]:
        """Every feature of the plan the query does not compute (none: `build` may run)."""
        plan = self.plan
        if plan.compensation:
            self.gap("base salaries and target incentives (the compensation block)",
                     plan.compensation[0].span)
        if FREQUENCY_UNIT[plan.payout.frequency] not in MONTHS_PER_UNIT:
            self.gap(f"{plan.payout.frequency} pay periods (shorter than a month)",
                     plan.payout.span or plan.span)
        # Conditions and amounts are read by a collecting compiler of expressions: every
        # field or form it does not take is noted, not only the first.
        exprs = Expressions(plan, self.gaps)
        credits: set[str] = set()
        for comp in plan.components:
            if isinstance(comp, m.CommissionSpec):
                self.check_commission(comp)
                cr = plan.credit(comp.base)
                if cr.name not in credits:
                    credits.add(cr.name)
                    self.check_credit(cr)
                    if cr.trigger.where is not None:
                        exprs.condition(cr.trigger.where)
            elif isinstance(comp, m.SpiffSpec):
                self.check_rule(comp)
                if comp.budget is not None:
                    self.gap(f"a SPIFF budget ({comp.name})", comp.span)
                t = comp.trigger
                if t.kind != "deal" or t.event != "booked":
                    self.gap("a SPIFF on other events than bookings", t.span)
                if t.where is not None:
                    exprs.condition(t.where)
                exprs.value(comp.pay)
            else:
                kind = {m.BonusSpec: "bonuses", m.StageRewardSpec: "stage rewards",
                        m.ActivityRewardSpec: "activity rewards", m.PoolSpec: "team pools",
                        m.OverrideSpec: "manager overrides"}[type(comp)]
                self.gap(f"{kind} ({comp.name})", comp.span)
        for claw in plan.clawbacks:
            for name in claw.components:
                if not isinstance(plan.component(name), (m.CommissionSpec, m.SpiffSpec)):
                    self.gap(f"clawing back '{name}'", claw.span)
        p = plan.payout
        if p.holdback is not None:
            self.gap("holdbacks", p.holdback.span)
        if p.draw is not None:
            self.gap("draws", p.draw.span)
        if p.advance is not None:
            self.gap("advances", p.advance.span)
        for lim in p.limits:
            self.gap("payout caps and floors", lim.span)
        if not self.per_line and any(event != "booked" for event, _ in p.schedule):
            self.gap("rounding per statement with pay when collected or invoiced",
                     p.span or plan.span)
        return self.gaps

    def check_rule(self, comp) -> None:
        for lim in comp.limits:
            if lim.kind == "floor":
                self.gap(f"floors ({comp.name})", lim.span)
            elif self.per_line and lim.amount != lim.amount.quantize(CENT):
                # A cap cuts rounded lines: a cut finer than the cent stays as it is.
                self.gap(f"a cap finer than the cent with rounding per line ({comp.name})",
                         lim.span)
        if comp.when is not None:
            self.gap(f"'when' conditions ({comp.name})", comp.when.span)

    def check_commission(self, c: m.CommissionSpec) -> None:
        self.check_rule(c)
        if c.accelerators:
            self.gap("accelerators and decelerators", c.accelerators[0].span)
        if c.table is None:
            if not isinstance(_strip(c.rate), n.Percent):
                self.gap("a commission rate that is not a fixed percentage", c.rate.span)
            return
        t = c.table
        if t.key is None:
            self.gap("tier tables keyed on the deal amount", t.span)
            return
        if t.period != c.period:
            self.gap("a tier table whose period is not the commission's", t.span)
        quota = self.key_of(c)
        if quota is not None:
            self.check_quota(self.plan.quota(quota))

    def check_credit(self, cr: m.CreditSpec) -> None:
        t = cr.trigger
        if t.kind != "deal" or t.event != "booked":
            self.gap("credit on other events than bookings", t.span)
        if cr.value is not None:
            self.gap("a credit 'value' line", cr.value.span)
        if cr.split not in ("owner", "recorded", "evenly"):
            self.gap("split by role", cr.span)
        if cr.overlays:
            self.gap("overlay credit", cr.span)
        if cr.rollup is not None:
            self.gap("roll-up to managers", cr.span)
        if cr.attribution is not None:
            self.gap("attribution by touches", cr.span)
        if cr.during is not None:
            self.gap("a 'during' window on a credit", cr.span)
        if cr.cancelled != "keep":
            self.gap("cancelled deals losing their credit", cr.span)

    def check_quota(self, q) -> None:
        if q.forecast is not None:
            self.gap("forecast quotas", q.forecast.span)
        if q.ramp:
            self.gap("quota ramps", q.span)
        if q.normalize:
            self.gap("territory normalisation", q.span)
        if q.kind != "money":
            self.gap("count quotas", q.span)
        for v in q.values:
            if v.amount * 10 ** 6 != int(v.amount * 10 ** 6):
                self.gap("a quota value finer than a millionth", v.span)

    def key_of(self, c: m.CommissionSpec) -> str | None:
        """The quota a tier key divides the base credit by (None: the key is the credit, or a
        key not covered, which it notes)."""
        key = c.table.key
        if key == c.base:
            return None
        spec = self.plan.measure(key)
        expr = _strip(spec.expr) if spec is not None else None
        if not (isinstance(expr, n.Binary) and expr.op == "/"
                and isinstance(_strip(expr.left), n.Ref) and _strip(expr.left).name.text == c.base
                and isinstance(_strip(expr.right), n.QuotaRef)):
            self.gap(f"a tier key other than '{c.base}' or '{c.base} / quota ...'",
                     spec.span if spec is not None else c.table.span)
            return None
        return _strip(expr.right).name.text

    # ------------------------------------------------------------------ build

    def build(self) -> Compiled:
        """The query of a plan `covered` found nothing against."""
        plan = self.plan
        if any(ev != "booked" for ev, _ in plan.payout.schedule):
            self.kinds |= {ev for ev, _ in plan.payout.schedule if ev != "booked"}
        self.base_tables()
        lines = []
        credits_done: set[str] = set()
        for comp in plan.components:
            if isinstance(comp, m.CommissionSpec):
                if comp.base not in credits_done:
                    self.credit_lines(plan.credit(comp.base))
                    credits_done.add(comp.base)
                lines.append(self.limited(comp, self.round_lines(self.commission(comp), True)))
            else:
                lines.append(self.limited(comp, self.round_lines(self.spiff(comp), False)))
        union = " UNION ALL ".join(f"SELECT * FROM {x}" for x in lines) if lines else \
            f"SELECT NULL::VARCHAR AS comp, NULL::VARCHAR AS kind, NULL::VARCHAR AS payee, " \
            f"NULL::VARCHAR AS deal, NULL::DATE AS day, NULL::{EXACT} AS amount, " \
            f"NULL::VARCHAR AS role, NULL::VARCHAR AS event_id WHERE FALSE"
        self.cte("earned", union)
        claws = [self.clawback(c) for c in plan.clawbacks]
        self.cte("earnings", " UNION ALL ".join(
            ["SELECT comp, kind, payee, deal, day, amount FROM earned"] +
            [f"SELECT comp, kind, payee, deal, day, amount FROM {c}" for c in claws]))
        self.legs()
        sql = self.statements()
        body = ",\n".join(f"{name} AS (\n{text_}\n)" for name, text_ in self.ctes)
        # A quota without a finite decimal form (a prorated third of a quarter) makes the
        # marginal lines that cross its bounds fractions, which the interpreter rounds to the
        # cent where it makes them; rounding per statement, the query does not: it steps aside.
        endless = () if self.per_line else tuple(
            (f"WITH {body}\nSELECT count(*) FROM {q} WHERE total % {ENDLESS} <> 0",
             "a prorated quota without a finite decimal form under a marginal tier table")
            for q in self.marginal_quotas)
        checks = endless + (
            ("SELECT count(*) FROM events e WHERE e.currency IS NOT NULL AND e.currency <> "
             f"{text(self.cur)} AND {in_list('e.kind', sorted(self.kinds - {'cancelled'}))} "
             "AND NOT EXISTS (SELECT 1 FROM fx WHERE fx.currency = e.currency AND fx.day <= "
             f"{self.fx_day('e.day')})",
             "an amount in another currency without an FX rate"),
        )
        return Compiled(sql=f"WITH {body}\n{sql}", fields=tuple(sorted(self.exprs.fields.items())),
                        kinds=tuple(sorted(self.kinds)), checks=checks)

    def fx_day(self, day: str) -> str:
        return f"last_day({day})" if self.plan.fx_basis == "period end" else day

    def base_tables(self) -> None:
        cur = text(self.cur)
        rank = " ".join(f"WHEN {text(k)} THEN {i}" for i, k in enumerate(KIND_RANK))
        fields = self.field_columns()
        kinds = sorted(self.kinds | ({"stage"} if fields else set()))
        self.cte("fxr", """
SELECT currency, day AS d0, lead(day) OVER (PARTITION BY currency ORDER BY day, ord) AS d1, rate,
  inverse
FROM fx""")
        # Events in processing order (date, kind, deal, id), amounts in the plan currency.
        converted = round_cents("e.amount * r.rate", "half even")
        # A rate quoted per unit of the plan currency (a CRM's): the amount divided by it,
        # exactly rounded, in integers (millionths of the amount, 10^-12 of the rate).
        micro = "CAST(e.amount * 1000000 AS HUGEINT)"
        pico = "CAST(r.rate * 1000000000000 AS HUGEINT)"
        divided = (f"(CASE WHEN e.amount < 0 THEN -1 ELSE 1 END) * "
                   f"{round_div(f'abs({micro}) * 100000000', pico, 'half even')}")
        self.cte("ev", f"""
SELECT e.*, row_number() OVER (ORDER BY e.day, CASE e.kind {rank} END, e.deal, e.id) AS seq,
  CASE WHEN e.currency IS NULL OR e.currency = {cur} THEN e.amount
       WHEN r.inverse THEN CAST({cents_to_dec(divided)} AS DECIMAL(38,6))
       ELSE CAST({cents_to_dec(converted)} AS DECIMAL(38,6)) END AS amt
FROM events e
LEFT JOIN fxr r ON e.currency <> {cur} AND r.currency = e.currency
  AND r.d0 <= {self.fx_day('e.day')} AND (r.d1 IS NULL OR {self.fx_day('e.day')} < r.d1)
WHERE {in_list('e.kind', kinds)}""")
        # A deal is its last booking; custom fields fall back to its latest stage recording them.
        stage_fields = "".join(f",\n  coalesce(b.f_{f}, s_{f}.f_{f}) AS f_{f}" for f in fields)
        stage_joins = "".join(f"""
LEFT JOIN (SELECT deal, f_{f}, row_number() OVER (PARTITION BY deal ORDER BY seq DESC) AS rn
           FROM ev WHERE kind = 'stage' AND f_{f} IS NOT NULL) s_{f}
  ON s_{f}.deal = b.deal AND s_{f}.rn = 1""" for f in fields)
        self.cte("deals", f"""
SELECT b.deal, b.owner, coalesce(b.amt, 0) AS amount, b.day AS booked_day, b.id AS booked_id,
  c.day AS cancel_day, c.id AS cancel_id{stage_fields}
FROM (SELECT *, row_number() OVER (PARTITION BY deal ORDER BY seq DESC) AS rn
      FROM ev WHERE kind = 'booked') b
LEFT JOIN (SELECT deal, day, id, row_number() OVER (PARTITION BY deal ORDER BY seq) AS rn
           FROM ev WHERE kind = 'cancelled') c ON c.deal = b.deal AND c.rn = 1{stage_joins}
WHERE b.rn = 1""")
        # Roster: the row in force on a day is the last starting on or before it (the first
        # row before any); employment runs from the first row's start to the last row's end.
        self.cte("spans", """
SELECT id, role, CASE WHEN rn = 1 THEN DATE '0001-01-01'
                      ELSE coalesce(effective_from, DATE '0001-01-01') END AS r0,
  lead(coalesce(effective_from, DATE '0001-01-01')) OVER (PARTITION BY id ORDER BY ord) AS r1
FROM (SELECT *, row_number() OVER (PARTITION BY id ORDER BY ord) AS rn FROM roster)""")
        self.cte("employment", """
SELECT f.id, f.start_day, l.end_day
FROM (SELECT id, start_day, row_number() OVER (PARTITION BY id ORDER BY ord) AS rn FROM roster) f
JOIN (SELECT id, end_day, row_number() OVER (PARTITION BY id ORDER BY ord DESC) AS rn
      FROM roster) l ON l.id = f.id AND l.rn = 1
WHERE f.rn = 1""")

    def field_columns(self) -> list[str]:
        """Compile every condition and amount once, first, so the custom fields are known."""
        for comp in self.plan.components:
            if isinstance(comp, m.SpiffSpec):
                if comp.trigger.where is not None:
                    self.exprs.condition(comp.trigger.where)
                self.exprs.value(comp.pay)
            elif isinstance(comp, m.CommissionSpec):
                where = self.plan.credit(comp.base).trigger.where
                if where is not None:
                    self.exprs.condition(where)
        return sorted(self.exprs.fields)

    def role_ok(self, role: str, roles: tuple[str, ...]) -> str:
        tests = []
        if self.plan.applies_to:
            tests.append(in_list(role, self.plan.applies_to))
        if roles:
            tests.append(in_list(role, roles))
        return " AND ".join(tests) or "TRUE"

    def eligible_join(self, payee: str, day: str, alias: str) -> str:
        """Joins giving `{alias}_s.role` and requiring employment on `day` (the role test is
        the caller's)."""
        return (f"JOIN employment {alias}_e ON {alias}_e.id = {payee} AND {alias}_e.start_day <= "
                f"{day} AND ({alias}_e.end_day IS NULL OR {day} <= {alias}_e.end_day)\n"
                f"JOIN spans {alias}_s ON {alias}_s.id = {payee} AND {alias}_s.r0 <= {day} AND "
                f"({alias}_s.r1 IS NULL OR {day} < {alias}_s.r1)")

    # ------------------------------------------------------------------ credits

    def credit_lines(self, cr: m.CreditSpec) -> None:
        where = self.exprs.condition(cr.trigger.where) if cr.trigger.where is not None else "TRUE"
        name = f"credit_{cr.name}"
        # Bookings credit the deal's amount; an amendment the change from the amount before.
        self.cte(f"{name}_events", f"""
SELECT * FROM (
  SELECT e.seq, e.id AS event_id, e.deal, e.day, e.kind, coalesce(d.owner, e.owner) AS actor,
    d.booked_id,
    CASE WHEN e.kind = 'booked' THEN d.amount
         ELSE coalesce(e.amt, 0) - lag(CASE WHEN e.kind = 'booked' THEN d.amount
                                            ELSE coalesce(e.amt, 0) END, 1, d.amount)
                                   OVER (PARTITION BY e.deal ORDER BY e.seq) END AS value
  FROM ev e JOIN deals d ON d.deal = e.deal
  WHERE e.kind IN ('booked', 'amended') AND {where})
WHERE kind = 'booked' OR value <> 0""")
        # The value in cents, rounded half even; all of it to the owner when the deal records
        # no split (or the credit is to the owner).
        units = round_cents("value", "half even")
        owner_only = "TRUE" if cr.split == "owner" else \
            "NOT EXISTS (SELECT 1 FROM splits s WHERE s.event_id = c.booked_id)"
        self.cte(f"{name}_units", f"""
SELECT *, {units} AS units, {owner_only} AS alone FROM {name}_events c""")
        parts = [f"""
SELECT seq, 1 AS shares, event_id, deal, day, actor AS payee, units AS cents
FROM {name}_units WHERE alone AND actor IS NOT NULL"""]
        if cr.split != "owner":
            weight = "CAST(s.share * 1000000000000 AS HUGEINT)" if cr.split == "recorded" \
                else "CAST(1 AS HUGEINT)"
            # Cent-exact split: each part cut down to the cent, the cents left over to the
            # largest remainders, ties to the payee first in id order; nothing when the
            # weights add up to 0 (eval/money.py, allocate).
            self.cte(f"{name}_alloc", f"""
SELECT c.seq, c.event_id, c.deal, c.day, s.payee, {weight} AS w, c.units,
  sum({weight}) OVER (PARTITION BY c.seq) AS wsum, count(*) OVER (PARTITION BY c.seq) AS shares
FROM {name}_units c JOIN splits s ON s.event_id = c.booked_id
WHERE NOT c.alone AND s.payee IS NOT NULL""")
            self.cte(f"{name}_parts", f"""
SELECT *, sum(fl) OVER w AS fl_sum, row_number() OVER w AS rk
FROM (SELECT *, CASE WHEN wsum = 0 THEN 0 ELSE abs(units) * w // wsum END AS fl,
        CASE WHEN wsum = 0 THEN 0 ELSE abs(units) * w % wsum END AS rem
      FROM {name}_alloc)
WINDOW w AS (PARTITION BY seq ORDER BY rem DESC, payee
             ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)""")
            parts.append(f"""
SELECT seq, shares, event_id, deal, day, payee,
  CASE WHEN wsum = 0 THEN 0 ELSE (CASE WHEN units < 0 THEN -1 ELSE 1 END)
    * (fl + CASE WHEN rk <= abs(units) - fl_sum THEN 1 ELSE 0 END) END AS cents
FROM {name}_parts""")
        self.cte(f"{name}_split", " UNION ALL ".join(parts))
        self.cte(name, f"""
SELECT p.seq, p.shares, p.event_id, p.deal, p.day, p.payee, s_s.role, p.cents
FROM {name}_split p
{self.eligible_join('p.payee', 'p.day', 's')}
WHERE {self.role_ok('s_s.role', cr.roles)}""")

    # ------------------------------------------------------------------ commissions

    def rated(self, c: m.CommissionSpec, src: str) -> str:
        tests = [f"{src}.day BETWEEN {date(self.start)} AND {date(self.end)}"]
        if c.during is not None:
            tests.append(f"{src}.day >= {date(c.during.start)}")
            if c.during.end is not None:
                tests.append(f"{src}.day <= {date(c.during.end)}")
        if c.roles:
            tests.append(in_list(f"{src}.role", c.roles))
        return " AND ".join(tests)

    def commission(self, c: m.CommissionSpec) -> str:
        name = f"comm_{c.name}"
        base = f"credit_{c.base}"
        comp = text(c.name)
        t = c.table
        if t is None:
            rate = dec(_strip(c.rate).value)
            self.cte(name, f"""
SELECT {comp} AS comp, 'commission' AS kind, payee, deal, day,
  {exact(f"{cents_to_dec('cents')} * {rate}")} AS amount, role, event_id, seq, shares
FROM {base} l WHERE {self.rated(c, 'l')}""")
            return name
        quota = self.key_of(c)
        pk = period_key(month_index("l.day"), t.period, self.fs)
        # The key before and after each line: the running credit of the payee's period, in the
        # order of the lines (every credit line counts, rated or not).
        self.cte(f"{name}_keys", f"""
SELECT l.*, {pk} AS pk,
  sum(l.cents) OVER (PARTITION BY l.payee, {pk} ORDER BY l.seq ROWS UNBOUNDED PRECEDING) AS c1
FROM {base} l""")
        if quota is not None:
            self.quota_table(name, quota, t.period)
            q = "coalesce(q.q, 0)"
            join = f"LEFT JOIN {name}_quota q ON q.payee = k.payee AND q.pk = k.pk"
        else:
            q, join = exact("1"), ""
        c1 = exact(cents_to_dec("k.c1"))
        c0 = exact(cents_to_dec("k.c1 - k.cents"))
        amount = cents_to_dec("k.cents")
        rows = t.rows
        # A key exactly on a bound belongs to the tier above or below, as the table says.
        below = "<" if t.bound == "above" else "<="
        rate_at = "CASE " + " ".join(
            f"WHEN {{key}} {below} {{q}} * {dec(r.high)} THEN {dec(r.rate)}"
            for r in rows[:-1]) + f" ELSE {dec(rows[-1].rate)} END"
        if t.mode == "marginal" and quota is not None:
            self.marginal_quotas.append(f"{name}_quota")
        if t.mode == "marginal":
            # Each tier's part of the line: the overlap, in money, of the credit's stretch
            # [c0, c1] with the tier's [quota x low, quota x high]; the first tier reaches down
            # and the last up without end. With a quota of 0 the key stays at 0% and the whole
            # line earns the rate there.
            # The bounds in money, quota x bound, once per payee and period.
            bounds = sorted({r.low for r in rows[1:]}
                            | {r.high for r in rows if r.high is not None})
            col = {b: f"b{i}" for i, b in enumerate(bounds)}
            if quota is not None:
                cols = "".join(f", {exact(f'q * {dec(b)}')} AS {col[b]}" for b in bounds)
                self.cte(f"{name}_bounds", f"SELECT payee, pk, q{cols} FROM {name}_quota")
                join = join.replace(f"{name}_quota", f"{name}_bounds")
                at = "".join(f", coalesce(q.{col[b]}, CAST(0 AS {EXACT})) AS {col[b]}"
                             for b in bounds)
            else:
                at = "".join(f", {exact(dec(b))} AS {col[b]}" for b in bounds)
            pieces = []
            for i, r in enumerate(rows):
                lo_b = "lo" if i == 0 else f"greatest(lo, {col[r.low]})"
                hi_b = "hi" if r.high is None else f"least(hi, {col[r.high]})"
                pieces.append(f"greatest(CAST(0 AS {EXACT}), {hi_b} - {lo_b}) * {dec(r.rate)}")
            zero_rate = rate_at.format(key="0", q="1")
            # Both branches at the exact scale: DuckDB gives a CASE its branches' common type,
            # and the THEN branch's 4 decimals would round the ELSE branch's pieces.
            earned = (f"CASE WHEN q = 0 THEN {exact(f'{amount} * {zero_rate}')} "
                      f"ELSE (CASE WHEN cents < 0 THEN -1 ELSE 1 END) * ("
                      + " + ".join(exact(p) for p in pieces) + ") END")
            self.cte(name, f"""
SELECT {comp} AS comp, 'commission' AS kind, payee, deal, day, {exact(earned)} AS amount, role,
  event_id, seq, shares
FROM (SELECT k.*, {q} AS q, least({c0}, {c1}) AS lo, greatest({c0}, {c1}) AS hi{at}
      FROM {name}_keys k {join} WHERE {self.rated(c, 'k')}) k""")
            return name
        # Retroactive: each line at the rate of the tier reached after it; a line that changes
        # the rate re-rates the period's earlier rated lines with a true-up (the difference
        # between the two rates on their credit).
        key = f"CASE WHEN {q} = 0 THEN CAST(0 AS {EXACT}) ELSE {c1} END"
        qq = f"CASE WHEN {q} = 0 THEN {exact('1')} ELSE {q} END"
        self.cte(f"{name}_rates", f"""
SELECT *, sum(cents) OVER w - cents AS base_before, lag(rate) OVER w AS rate_before
FROM (SELECT k.*, {rate_at.format(key=f'({key})', q=f'({qq})')} AS rate
      FROM {name}_keys k {join} WHERE {self.rated(c, 'k')})
WINDOW w AS (PARTITION BY payee, pk ORDER BY seq ROWS UNBOUNDED PRECEDING)""")
        self.cte(name, f"""
SELECT {comp} AS comp, 'commission' AS kind, payee, deal, day,
  {exact(f"{cents_to_dec('cents')} * rate")} AS amount, role, event_id, seq, shares
FROM {name}_rates
UNION ALL
SELECT {comp}, 'true-up', payee, deal, day,
  {exact(f"{cents_to_dec('base_before')} * (rate - rate_before)")}, role, event_id, seq, shares
FROM {name}_rates WHERE base_before <> 0 AND rate <> rate_before""")
        return name

    def round_lines(self, name: str, shared: bool) -> str:
        """Rounding per line, a component's lines (`shared`: commission lines, with the
        `seq` and `shares` of their credit event) rounded where they are made, before caps
        and clawbacks read them (eval/earnings.py, `_round_rated`). The commission lines of one
        credit event's shares (two or more, all of one sign) are rounded as a whole: their
        exact sum is rounded, then shared out to the cent in proportion to their exact amounts
        (parts cut down to the cent, the cents left over to the largest remainders, ties to the
        payee first in id order: eval/money.py, `allocate`). Every other line is rounded on
        its own. Rounding per statement, the lines stay exact."""
        if not self.per_line:
            return self.just_lines(name) if shared else name
        alone = (f"SELECT comp, kind, payee, deal, day, "
                 f"{exact(cents_to_dec(round_cents('amount', self.mode)))} AS amount, role, "
                 "event_id")
        if not shared:
            self.cte(f"{name}_r", f"{alone} FROM {name}")
            return f"{name}_r"
        # The exact amounts as whole numbers at the query's exact scale (20 decimals: the
        # integer part, then the fraction in two halves of 10 digits, each exact through
        # `floor`), divided by the power of ten of the trailing zeros they all share, to keep
        # the products small.
        tens = lambda k: f"CAST('1{'0' * k}' AS HUGEINT)"  # noqa: E731
        zeros = "CASE " + " ".join(f"WHEN a20 % {tens(k)} = 0 THEN {k}"
                                   for k in range(20, 0, -2)) + " ELSE 0 END"
        powers = "CASE z " + " ".join(f"WHEN {k} THEN {tens(k)}" for k in range(20, 0, -2)) \
            + " ELSE CAST(1 AS HUGEINT) END"
        self.cte(f"{name}_g", f"""
SELECT *, count(*) OVER g AS n, bool_and(amount >= 0) OVER g AS pos,
  bool_and(amount <= 0) OVER g AS neg, sum(amount) OVER g AS total, sum(a20) OVER g AS a_sum,
  min({zeros}) OVER g AS z
FROM (SELECT *, CAST(ip AS HUGEINT) * {tens(20)} + CAST(floor(f) AS HUGEINT) * {tens(10)}
        + CAST((f - floor(f)) * {tens(10)} AS HUGEINT) AS a20
      FROM (SELECT *, floor(abs(amount)) AS ip,
              (abs(amount) - floor(abs(amount))) * {tens(10)} AS f
            FROM {name} WHERE kind = 'commission' AND shares >= 2))
WINDOW g AS (PARTITION BY seq)""")
        self.cte(f"{name}_s", f"""
SELECT *, sum(fl) OVER o AS fl_sum, row_number() OVER o AS rk
FROM (SELECT *, CASE WHEN ws = 0 THEN 0 ELSE units * w // ws END AS fl,
        CASE WHEN ws = 0 THEN 0 ELSE units * w % ws END AS rem
      FROM (SELECT *, abs({round_cents("total", self.mode)}) AS units, a20 // p AS w,
              a_sum // p AS ws
            FROM (SELECT *, {powers} AS p FROM {name}_g WHERE n >= 2 AND (pos OR neg))))
WINDOW o AS (PARTITION BY seq ORDER BY rem DESC, payee
             ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)""")
        sign = "(CASE WHEN total < 0 THEN -1 ELSE 1 END)"
        part = f"{sign} * (fl + CASE WHEN rk <= units - fl_sum THEN 1 ELSE 0 END)"
        self.cte(f"{name}_r", f"""
{alone} FROM {name} WHERE NOT (kind = 'commission' AND shares >= 2)
UNION ALL
{alone} FROM {name}_g WHERE NOT (n >= 2 AND (pos OR neg))
UNION ALL
SELECT comp, kind, payee, deal, day, {exact(cents_to_dec(part))}, role, event_id FROM {name}_s""")
        return f"{name}_r"

    def just_lines(self, name: str) -> str:
        """The lines without the credit event's `seq` and `shares` (rounding per statement)."""
        self.cte(f"{name}_l", f"SELECT {LINE} FROM {name}")
        return f"{name}_l"

    def quota_table(self, name: str, quota: str, unit: str) -> None:
        """The payee's quota for each period a line falls in, exact to 20 decimals: months
        are added as whole numbers of 1/QUOTA_DEN, then divided once."""
        q = self.plan.quota(quota)
        span = MONTHS_PER_UNIT[unit]
        months = " UNION ALL ".join(f"SELECT {i} AS i" for i in range(span))
        ms = month_start("m.mi")
        plan_values = []
        ordered = [v for v in q.values if v.roles] + [v for v in q.values if not v.roles]
        for v in ordered:
            tests = []
            if v.roles:
                tests.append(in_list("s.role", v.roles))
            if v.start is not None:
                tests.append(f"last_day({ms}) >= {date(v.start)}")
            if v.end is not None:
                tests.append(f"{ms} <= {date(v.end)}")
            micro = int(v.amount * 10 ** 6)  # whole: `check_quota`
            per = 12 // MONTHS_PER_UNIT[v.per]
            plan_values.append(f"WHEN {' AND '.join(tests) or 'TRUE'} THEN "
                               f"CAST({micro} AS HUGEINT) * {per}")
        plan_value = ("CASE " + " ".join(plan_values) + " ELSE CAST(0 AS HUGEINT) END") \
            if plan_values else "CAST(0 AS HUGEINT)"
        days = f"(last_day({ms}) - {ms} + 1)"
        active = (f"greatest(0, least(coalesce(e.end_day, last_day({ms})), last_day({ms})) - "
                  f"greatest(e.start_day, {ms}) + 1)")
        prorate = {"days": f"* ({DAYS} // {days}) * {active}",
                   "months": f"* {DAYS} * CASE WHEN {active} > 0 THEN 1 ELSE 0 END",
                   None: f"* {DAYS}"}[q.proration]
        self.cte(f"{name}_months", f"""
SELECT k.payee, k.pk, k.pk + i.i AS mi FROM (SELECT DISTINCT payee, pk FROM {name}_keys) k,
  ({months}) i""")
        # A row of the quotas table covering the month wins (the first in the table's order).
        self.cte(f"{name}_qrow", f"""
SELECT m.payee, m.pk, m.mi, CAST(r.amount * 1000000 AS HUGEINT) * (12 // r.months) AS units,
  row_number() OVER (PARTITION BY m.payee, m.mi ORDER BY r.ord) AS rn
FROM {name}_months m
JOIN quota_rows r ON r.payee = m.payee AND r.quota = {text(quota)} AND r.first_month <= m.mi
  AND m.mi < r.first_month + r.months""")
        self.cte(f"{name}_qmonth", f"""
SELECT m.payee, m.pk, coalesce(r.units, {plan_value}) {prorate} AS units
FROM {name}_months m
LEFT JOIN {name}_qrow r ON r.payee = m.payee AND r.mi = m.mi AND r.rn = 1
JOIN employment e ON e.id = m.payee
JOIN spans s ON s.id = m.payee AND s.r0 <= {ms} AND (s.r1 IS NULL OR {ms} < s.r1)""")
        den = QUOTA_DEN
        scale = 10 ** 20
        self.cte(f"{name}_quota", f"""
SELECT payee, pk, total, CAST((total // {den}) * CAST('{scale}' AS HUGEINT)
                       + (total % {den}) * CAST('{scale}' AS HUGEINT) // {den} AS DECIMAL(38,0))
    * CAST('0.00000000000000000001' AS DECIMAL(21,20)) AS q
FROM (SELECT payee, pk, sum(units) AS total FROM {name}_qmonth GROUP BY payee, pk)""")

    def limited(self, comp, name: str) -> str:
        """A component's lines with its caps: per deal first, then per period from the
        shortest, then in total, each on what the ones before left. Lines are taken in date
        order, then by kind and event (the interpreter's line ids); at each line a cap cuts
        what takes the running total of its group over it, as a `capped` line."""
        caps = sorted((lim for lim in comp.limits if lim.kind == "cap"),
                      key=lambda lim: (lim.scope != "deal", MONTHS_PER_UNIT.get(lim.scope, 10 ** 6)))
        if not caps:
            return name
        prev = f"{name}_e0"
        self.cte(prev, f"SELECT {LINE}, amount AS eff FROM {name}")
        cuts: list[str] = []
        for i, cap in enumerate(caps):
            if cap.scope == "deal":
                # A true-up re-rates other deals' money: it does not count on the deal's cap.
                group, applies = "payee, deal", "kind <> 'true-up' AND deal IS NOT NULL"
            elif cap.scope == "total":
                group, applies = "payee", "TRUE"
            else:
                group = f"payee, {period_key(month_index('day'), cap.scope, self.fs)}"
                applies = "TRUE"
            limit = dec(cap.amount)
            carried = "".join(f", {c}" for c in cuts)
            cut = f"cut{i}"
            self.cte(f"{name}_e{i + 1}", f"""
SELECT {LINE}{carried}, {cut}, eff - {cut} AS eff
FROM (SELECT *, CASE WHEN {applies} THEN greatest(CAST(0 AS {EXACT}), run - {limit})
                     - greatest(CAST(0 AS {EXACT}), run - eff - {limit}) ELSE CAST(0 AS {EXACT})
                END AS {cut}
      FROM (SELECT *, sum(CASE WHEN {applies} THEN eff ELSE CAST(0 AS {EXACT}) END)
                        OVER (PARTITION BY {group} ORDER BY day, kind, event_id
                              ROWS UNBOUNDED PRECEDING) AS run
            FROM {prev}))""")
            cuts.append(cut)
            prev = f"{name}_e{i + 1}"
        capped = " UNION ALL ".join(
            f"SELECT comp, 'capped', payee, deal, day, {exact(f'-{c}')}, role, event_id "
            f"FROM {prev} WHERE {c} <> 0" for c in cuts)
        self.cte(f"{name}_capped", f"SELECT {LINE} FROM {name} UNION ALL {capped}")
        return f"{name}_capped"

    # ------------------------------------------------------------------ SPIFFs, clawbacks

    def spiff(self, s: m.SpiffSpec) -> str:
        name = f"spiff_{s.name}"
        where = self.exprs.condition(s.trigger.where) if s.trigger.where is not None else "TRUE"
        pay = self.exprs.value(s.pay)
        tests = [f"e.day BETWEEN {date(self.start)} AND {date(self.end)}"]
        if s.during is not None:
            tests.append(f"e.day >= {date(s.during.start)}")
            if s.during.end is not None:
                tests.append(f"e.day <= {date(s.during.end)}")
        self.cte(name, f"""
SELECT {text(s.name)} AS comp, 'spiff' AS kind, x.payee, x.deal, x.day, x.amount,
  p_s.role AS role, x.event_id
FROM (SELECT coalesce(d.owner, e.owner) AS payee, e.deal, e.day, e.id AS event_id,
        coalesce({exact(pay)}, CAST(0 AS {EXACT})) AS amount, {where} AS ok
      FROM ev e JOIN deals d ON d.deal = e.deal
      WHERE e.kind = 'booked' AND {' AND '.join(tests)}) x
{self.eligible_join('x.payee', 'x.day', 'p')}
WHERE x.ok AND x.amount <> 0 AND {self.role_ok('p_s.role', s.roles)}""")
        return name

    def clawback(self, c: m.ClawbackSpec) -> str:
        name = f"claw_{c.name}"
        unit = c.within_unit.rstrip("s")
        count = c.within_count * {"day": 1, "week": 7, "month": 1, "quarter": 3, "year": 12}[unit]
        interval = "DAY" if unit in ("day", "week") else "MONTH"
        tests = [f"d.cancel_day BETWEEN {date(self.start)} AND {date(max(self.pay_end, self.end))}",
                 f"d.cancel_day <= d.booked_day + INTERVAL {count} {interval}"]
        if c.during is not None:
            tests.append(f"d.booked_day >= {date(c.during.start)}")
            if c.during.end is not None:
                tests.append(f"d.booked_day <= {date(c.during.end)}")
        if c.roles:
            tests.append(in_list("l.role", c.roles))
        amount = f"-l.amount * {dec(c.share)}"
        if self.per_line:  # a reversal is a line too: rounded where it is made
            amount = cents_to_dec(round_cents(f"({amount})", self.mode))
        self.cte(name, f"""
SELECT l.comp, 'clawback' AS kind, l.payee, l.deal, d.cancel_day AS day,
  {exact(amount)} AS amount
FROM earned l JOIN deals d ON d.deal = l.deal
WHERE {in_list('l.comp', c.components)} AND {in_list('l.kind', REVERSIBLE)}
  AND l.day <= d.cancel_day AND l.amount <> 0 AND {' AND '.join(tests)}""")
        return name

    # ------------------------------------------------------------------ payouts

    def legs(self) -> None:
        """When each earning is payable: `legs(payee, own, day, amount)`, `own` the pay period
        the line is dated in (its first month's index); amounts in cents when rounding is per
        line, exact when per statement."""
        schedule = self.plan.payout.schedule
        unit = FREQUENCY_UNIT[self.plan.payout.frequency]
        own = period_key(month_index(f"greatest(day, {date(self.start)})"), unit, self.fs)
        # Rounding per line, every line is already whole cents.
        r = "CAST(CAST(amount AS DECIMAL(38,2)) * 100 AS HUGEINT)" if self.per_line else "amount"
        self.cte("rounded", f"SELECT *, {r} AS r, {own} AS own FROM earnings")
        at_once = len(schedule) == 1 and schedule[0][0] == "booked"
        deal_kind = f"{in_list('kind', DEAL_KINDS)} AND deal IS NOT NULL"
        self.at_once = at_once
        if at_once:
            self.cte("legs", "SELECT payee, own, day, r AS amount FROM rounded")
            self.cte("waiting", "SELECT payee, own, 0 AS n FROM rounded WHERE FALSE")
            return
        # Schedule parts of a line: cut down to the cent, leftover cents to the largest
        # remainders, ties to the earlier leg (eval/money.py, allocate).
        weights = [int(share * 10 ** 12) for _, share in schedule]
        legs_sql = " UNION ALL ".join(
            f"SELECT {i} AS leg, {text(ev)} AS ev, CAST({w} AS HUGEINT) AS w"
            for i, ((ev, _), w) in enumerate(zip(schedule, weights)))
        self.cte("line_ids", f"""
SELECT row_number() OVER (ORDER BY payee, day, comp, kind, deal, amount) AS line, *
FROM rounded WHERE {deal_kind}""")
        self.cte("parts", f"""
SELECT *, (CASE WHEN r < 0 THEN -1 ELSE 1 END)
    * (fl + CASE WHEN rk <= abs(r) - sum(fl) OVER (PARTITION BY line) THEN 1 ELSE 0 END)
    AS part
FROM (SELECT l.*, g.leg, g.ev, abs(l.r) * g.w // {sum(weights)} AS fl,
        row_number() OVER (PARTITION BY l.line ORDER BY abs(l.r) * g.w % {sum(weights)} DESC,
                           g.leg) AS rk
      FROM line_ids l, ({legs_sql}) g)""")
        # A collected (or invoiced) part is released as the deal's money comes in: after each
        # collection, the part times the share of the deal collected so far (all of it from
        # the deal's amount on), rounded, less what the collections before released; nothing
        # once the part is released, never before the earning. Rounding the running share,
        # not each collection's, keeps the pieces adding up to what the interpreter releases
        # (eval/payouts.py, legs). What no collection releases waits.
        got = "CAST(coalesce(mv.amt, 0) * 1000000 AS HUGEINT)"
        base = "CAST(d.amount * 1000000 AS HUGEINT)"
        sign = "(CASE WHEN {} < 0 THEN -1 ELSE 1 END)"
        release = (f"{sign.format('part')} * {sign.format('cum')} * CASE WHEN cum >= base "
                   f"THEN abs(part) ELSE {round_div('abs(part) * abs(cum)', 'base', self.mode)} "
                   "END")
        self.cte("released", f"""
SELECT payee, own, line, leg, greatest(mv_day, day) AS day,
  rel - coalesce(lag(rel) OVER w, 0) AS amount,
  max(CASE WHEN abs(rel) >= abs(part) THEN 1 ELSE 0 END)
    OVER (PARTITION BY line, leg ORDER BY mv_seq ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
    AS done
FROM (SELECT *, {release} AS rel
      FROM (SELECT p.*, mv.day AS mv_day, mv.seq AS mv_seq, {base} AS base,
              sum({got}) OVER (PARTITION BY p.line, p.leg ORDER BY mv.seq
                               ROWS UNBOUNDED PRECEDING) AS cum
            FROM parts p JOIN deals d ON d.deal = p.deal
            JOIN ev mv ON mv.deal = p.deal AND mv.kind = p.ev
            WHERE p.ev <> 'booked' AND d.amount > 0))
WINDOW w AS (PARTITION BY line, leg ORDER BY mv_seq)""")
        self.cte("legs", f"""
SELECT payee, own, day, r AS amount FROM rounded WHERE NOT ({deal_kind})
UNION ALL
SELECT payee, own, day, part FROM parts WHERE ev = 'booked'
UNION ALL
SELECT payee, own, day, amount FROM released WHERE amount <> 0 AND coalesce(done, 0) = 0""")
        # The parts still waiting at the end of the run (for `awaiting` to be written as the
        # interpreter writes it: "0" when no part of the period's lines waits).
        self.cte("waiting", f"""
SELECT p.payee, p.own, count(*) AS n
FROM parts p LEFT JOIN (
  SELECT line, leg, sum(amount) AS amount FROM released
  WHERE amount <> 0 AND coalesce(done, 0) = 0 AND day <= {date(max(self.end, self.pay_end))}
  GROUP BY line, leg) x ON x.line = p.line AND x.leg = p.leg
WHERE p.ev <> 'booked' AND p.part <> coalesce(x.amount, 0)
GROUP BY p.payee, p.own""")

    def pay_periods(self) -> list[tuple[int, int, str, dt.date, dt.date]]:
        unit = FREQUENCY_UNIT[self.plan.payout.frequency]
        periods = self.plan.calendar.periods(self.start, max(self.end, self.pay_end), unit)
        return [(i, p.start.year * 12 + p.start.month - 1, p.label, p.start, p.end)
                for i, p in enumerate(periods)]

    def statements(self) -> str:
        """One row per statement with the interpreter's flows: `earned` (every earning line
        dated in the pay period, exact), `capped` and `clawed_back` of it, `later` and
        `awaiting` (what of it is payable in a later pay period, or after the run), `earlier`
        (earned before, payable now), `carry`, `rounding` (what is left to `paid`); and for
        each but `carried`, whether any line went into it (`t_...`: the interpreter writes
        an amount no line went into as 0, one that lines made with the lines' digits)."""
        unit = FREQUENCY_UNIT[self.plan.payout.frequency]
        periods = self.pay_periods()
        values = " UNION ALL ".join(
            f"SELECT {i} AS i, {pk} AS pk, {text(label)} AS label, {date(s)} AS p0, "
            f"{date(e)} AS p1" for i, pk, label, s, e in periods)
        pay_end = max(self.end, self.pay_end)
        target = period_key(month_index(f"greatest(day, {date(self.start)})"), unit, self.fs)
        self.cte("pay_periods", values)
        zero = "CAST(0 AS HUGEINT)" if self.per_line else f"CAST(0 AS {EXACT})"
        nought = f"CAST(0 AS {EXACT})"
        # Rounding per line, the interpreter rounds each line where it is made: what it earned
        # is the rounded lines.
        line = exact(cents_to_dec("r")) if self.per_line else "amount"
        self.cte("owned", f"""
SELECT payee, own AS pk, count(*) AS n, sum({line}) AS earned, sum(r) AS due,
  sum(CASE WHEN kind = 'capped' THEN {line} ELSE 0 END) AS capped,
  sum(CASE WHEN kind = 'clawback' THEN {line} ELSE 0 END) AS claw,
  sum(CASE WHEN kind = 'capped' THEN 1 ELSE 0 END) AS n_capped,
  sum(CASE WHEN kind = 'clawback' THEN 1 ELSE 0 END) AS n_claw
FROM rounded GROUP BY payee, own""")
        # Legs payable after the run's last day are still waiting, as if for money.
        # All paid when booked, a leg is payable in the pay period of its line.
        self.cte("payable", f"""
SELECT payee, own, {'own' if self.at_once else target} AS pk, amount FROM legs
WHERE day <= {date(pay_end)}""")
        self.cte("paid_own", f"""
SELECT payee, own AS pk, sum(CASE WHEN pk = own THEN amount ELSE {zero} END) AS same,
  sum(CASE WHEN pk <> own THEN amount ELSE {zero} END) AS other,
  sum(CASE WHEN pk = own THEN 1 ELSE 0 END) AS n_same,
  sum(CASE WHEN pk <> own THEN 1 ELSE 0 END) AS n_other
FROM payable GROUP BY payee, own""")
        self.cte("paid_earlier", """
SELECT payee, pk, count(*) AS n, sum(amount) AS earlier FROM payable WHERE pk <> own
GROUP BY payee, pk""")
        # Covered in a pay period: employed in it, in a role the plan covers on the period's
        # last day (or the last day of employment).
        role_day = "greatest(least(pp.p1, coalesce(e.end_day, pp.p1)), e.start_day)"
        active = "TRUE" if not self.plan.applies_to else in_list("s.role", self.plan.applies_to)
        self.cte("covered", f"""
SELECT e.id AS payee, pp.i FROM employment e CROSS JOIN pay_periods pp
JOIN spans s ON s.id = e.id AND s.r0 <= {role_day} AND (s.r1 IS NULL OR {role_day} < s.r1)
WHERE e.start_day <= pp.p1 AND (e.end_day IS NULL OR e.end_day >= pp.p0) AND {active}""")
        self.cte("grid", f"""
SELECT p.payee, pp.i, pp.label, pp.p0, pp.p1, coalesce(o.n, 0) + coalesce(r.n, 0) AS n,
  coalesce(l.same, {zero}) + coalesce(r.earlier, {zero}) AS x,
  coalesce(o.earned, {nought}) AS earned, coalesce(o.capped, {nought}) AS capped,
  coalesce(o.claw, {nought}) AS claw, coalesce(o.due, {zero}) AS due,
  coalesce(l.same, {zero}) AS same, coalesce(l.other, {zero}) AS other,
  coalesce(r.earlier, {zero}) AS earlier, coalesce(o.n, 0) AS n_earned,
  coalesce(o.n_capped, 0) AS n_capped, coalesce(o.n_claw, 0) AS n_claw,
  coalesce(l.n_other, 0) AS n_later, coalesce(w.n, 0) AS n_awaiting,
  coalesce(r.n, 0) AS n_earlier, coalesce(l.n_same, 0) + coalesce(r.n, 0) AS n_paid
FROM (SELECT id AS payee FROM employment UNION SELECT payee FROM rounded) p
CROSS JOIN pay_periods pp
LEFT JOIN owned o ON o.payee = p.payee AND o.pk = pp.pk
LEFT JOIN paid_own l ON l.payee = p.payee AND l.pk = pp.pk
LEFT JOIN paid_earlier r ON r.payee = p.payee AND r.pk = pp.pk
LEFT JOIN waiting w ON w.payee = p.payee AND w.own = pp.pk""")
        # Negative pay is carried forward: the amount carried after a period is the highest
        # running total so far (or 0) less the running total now.
        self.cte("carry", f"""
SELECT *, greatest(max(total) OVER w, {zero}) - total AS carried
FROM (SELECT *, sum(x) OVER w AS total FROM grid
      WINDOW w AS (PARTITION BY payee ORDER BY i ROWS UNBOUNDED PRECEDING))
WINDOW w AS (PARTITION BY payee ORDER BY i ROWS UNBOUNDED PRECEDING)""")
        self.cte("carried", f"""
SELECT *, coalesce(lag(carried) OVER (PARTITION BY payee ORDER BY i), {zero}) AS before
FROM carry""")
        money = cents_to_dec if self.per_line else (lambda x: x)
        paid = "x - before + carried"
        paid = cents_to_dec(paid if self.per_line else round_cents(f"({paid})", self.mode))
        # Rounding per statement, paid is rounded, so written with the cent's digits always.
        paid_lines = "c.n_paid > 0 OR c.before <> 0 OR c.carried <> 0" if self.per_line \
            else "TRUE"
        self.cte("flows", f"""
SELECT c.payee, c.i, c.label, c.p0, c.p1, c.n, c.before, c.earned, c.capped, c.claw,
  c.n_earned > 0 AS t_earned, c.n_capped > 0 AS t_capped, c.n_claw > 0 AS t_claw,
  c.n_later > 0 AS t_later, c.n_awaiting > 0 AS t_awaiting, c.n_earlier > 0 AS t_earlier,
  {paid_lines} AS t_paid,
  c.before <> 0 OR c.carried <> 0 AS t_carry,
  {paid} AS paid, {money('c.carried')} AS carried, {money('-c.other')} AS later,
  {money('c.same + c.other - c.due')} AS awaiting, {money('c.earlier')} AS earlier,
  {money('c.carried - c.before')} AS carry
FROM carried c""")
        return f"""SELECT f.payee, f.label AS pay_period, f.p0 AS start, f.p1 AS "end",
  f.earned, f.capped, f.claw AS clawed_back, f.paid, f.carried, f.later, f.awaiting,
  f.earlier, f.carry,
  {exact('f.paid - (f.earned + f.later + f.awaiting + f.earlier + f.carry)')} AS rounding,
  f.t_earned, f.t_capped, f.t_claw, f.t_paid, f.t_later, f.t_awaiting, f.t_earlier,
  f.t_carry, f.t_paid OR f.t_earned OR f.t_later OR f.t_awaiting OR f.t_earlier OR f.t_carry
    AS t_rounding
FROM flows f
WHERE f.n > 0 OR f.before <> 0 OR EXISTS (
  SELECT 1 FROM covered v WHERE v.payee = f.payee AND v.i = f.i)
ORDER BY f.payee, f.p0"""
