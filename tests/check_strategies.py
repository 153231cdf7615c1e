"""Hypothesis strategies for the checker's property tests (tests/test_check_properties.py).

Built on tests/strategies.py (literals, comments, precedence helpers), which generates trees the
parser can produce but whose names are drawn from a large pool, so a generated plan rarely gets
past its first few diagnostics. The strategies here generate plan files that look like plans:

- `plausible_plan_files()`: a plan header (usually with a currency and an effective range,
  sometimes without, sometimes twice), a fields block, and blocks of every kind whose names come
  from small shared pools, so references usually resolve, and deliberately wrong in places:
  mixed units and currencies, unknown and misspelt names, measures where only events are known
  and the reverse, wrong and impossible periods (2027-Q5), invalid dates (2027-02-30), odd tier
  tables (gaps, overlaps, descending, open in the middle, bounds in another unit), bad shares,
  examples naming unknown payees and rules. Mixed with S.blocks() (any block of the grammar).
- `typed_exprs(kind, ...)`: expressions that are well typed by construction for a unit kind
  (money in USD, percent, number, count, multiplier, duration, date, yes/no), following the
  arithmetic rules of docs/language.md §4.10 and incentive_dsl/check/types.py, over literals and
  the names of the probe plan `PROBE_PLAN` (credits, measures, a component, quotas, team
  values, aggregates, payee fields) in a period context.

Every tree carries `n.Paren` where the grammar's precedence needs one (S.at_least), so it prints
as text that parses back to the same tree.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import strategies as st

import strategies as S
from incentive_dsl.syntax import nodes as n

PATH = S.PATH
IF, OR, AND, NOT, CMP, SUM, PROD, NEG, ATOM = (S.IF, S.OR, S.AND, S.NOT, S.CMP, S.SUM, S.PROD,
                                               S.NEG, S.ATOM)
at_least = S.at_least


def ident(text: str) -> n.Ident:
    return n.Ident(text=text)


def text(value: str) -> n.Text:
    return n.Text(raw='"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"')


def money(amount: str, currency: str = "USD") -> n.Money:
    return n.Money(amount=n.Number(raw=amount), currency=currency)


# ------------------------------------------------------------------------------ name pools

CREDITS = ("bookings", "renewals", "sourced")
MEASURES = ("attainment", "gap", "meetings_held", "ratio", "deal_count")
COMPONENTS = ("core", "club", "p3", "presale", "demos", "team_pool", "mgr", "kicker")
CLAWBACKS = ("churn",)
QUOTAS = ("bookings", "meetings")
ROLES = ("AE", "SE", "MGR", "SDR")
MISSPELT = ("bookngs", "atainment", "cor", "meetings", "AE2", "ana", "sum")
RULE_NAMES = CREDITS + MEASURES + COMPONENTS + CLAWBACKS
PAYEES = ("ana", "bob", "mia", "sam")
STAGES = ("discovery", "demo", "proposal", "technical_win")
ACTIVITIES = ("meeting", "qualified_demo")
CHANNELS = ("email", "web", "partner", "rep")
DEAL_FIELDS = {  # the probe fields block: name -> kind
    "type": "one of", "product": "text", "seats": "count", "discount": "percent",
    "signed_on": "date", "multi_year": "yes or no", "cost": "money", "term_hint": "duration",
    "score": "number",
}
PAYEE_FIELDS = {"quota_share": "percent", "region": "text"}
FIELD_PARTS = {
    "deal": ("amount", "annual_value", "term", "id", "owner", "date", "booked_on", "stage",
             *DEAL_FIELDS, "colour"),
    "payee": ("id", "role", "team", "territory", "manager", "start", "end", *PAYEE_FIELDS,
              "height"),
    "activity": ("kind", "date", "id", "length"),
}
TYPES = ("new_business", "renewal", "expansion")

CURRENCY = st.sampled_from(["USD"] * 6 + ["EUR", "GBP"])
UNITS = S.PERIOD_UNITS
GOOD_PERIODS = ("2027-Q1", "2027-Q2", "2027-Q3", "2027-Q4", "2027-H1", "2027-H2", "2027-03",
                "2027-11", "FY2027", "FY2027-Q2")
BAD_PERIODS = ("2027-Q5", "2027-H3", "2027-13", "2027-00", "FY2030", "2031-Q1", "2026-Q4")

good_names = st.sampled_from(RULE_NAMES)
any_names = st.sampled_from(RULE_NAMES + MISSPELT)
names = st.one_of(good_names, good_names, good_names, any_names).map(ident)
credit_names = st.one_of(st.sampled_from(CREDITS), st.sampled_from(CREDITS),
                         any_names).map(ident)
component_names = st.one_of(st.sampled_from(COMPONENTS), any_names).map(ident)
quota_names = st.one_of(st.sampled_from(QUOTAS), st.sampled_from(QUOTAS),
                        any_names).map(ident)
roles = st.one_of(st.sampled_from(ROLES), st.sampled_from(ROLES), st.sampled_from(ROLES),
                  st.sampled_from(["VP", "ae", "Rep2"])).map(ident)
role_lists = st.lists(roles, min_size=1, max_size=3).map(tuple)
payees = st.one_of(st.sampled_from(PAYEES), st.sampled_from(PAYEES), st.just("zed")).map(ident)

# ------------------------------------------------------------------------------ literals

plan_dates = st.dates(min_value=dt.date(2026, 10, 1), max_value=dt.date(2028, 3, 31)).map(
    lambda d: n.DateLit(raw=d.isoformat()))
# Tokens that are dates to the lexer but not to the calendar (E-DATE).
bad_dates = st.sampled_from(["2027-02-30", "2027-13-01", "2027-00-10", "2026-02-29",
                             "2027-04-31"]).map(lambda r: n.DateLit(raw=r))
dates = st.one_of(plan_dates, plan_dates, plan_dates, S.dates, bad_dates)
periods = st.one_of(st.sampled_from(GOOD_PERIODS), st.sampled_from(GOOD_PERIODS),
                    st.sampled_from(BAD_PERIODS)).map(lambda r: n.PeriodLit(raw=r))
period_refs = st.one_of(periods, st.sampled_from(["2027", "2027", "2026", "2031"]).map(
    lambda r: n.YearLit(raw=r)))
moneys = st.builds(n.Money, amount=S.numbers, currency=CURRENCY)
texts = st.one_of(st.sampled_from(TYPES + STAGES + ACTIVITIES + ("east", "P3")).map(text),
                  S.texts)
stage_texts = st.one_of(st.sampled_from(STAGES).map(text), st.sampled_from(STAGES).map(text),
                        st.just(text("demoo")))
activity_texts = st.one_of(st.sampled_from(ACTIVITIES).map(text), st.just(text("call")))
durations = st.one_of(
    st.builds(n.Duration, count=st.integers(1, 400).map(lambda i: n.Number(raw=str(i))),
              unit=st.sampled_from(S.DURATION_UNITS)),
    S.durations)
literals = st.one_of(moneys, moneys, S.percents, S.percents, S.numbers, S.multipliers, durations,
                     dates, periods, texts, S.bools)

# ------------------------------------------------------------------------------ mixed expressions
# Expressions of any unit over the pools above: most are ill typed somewhere, which is the point.

field_refs = st.one_of(
    st.sampled_from(tuple(FIELD_PARTS)).flatmap(
        lambda owner: st.sampled_from(FIELD_PARTS[owner]).map(
            lambda part: n.FieldRef(parts=(ident(owner), ident(part))))),
    S.field_refs,
)
leaves = st.one_of(
    literals, literals,
    names.map(lambda i: n.Ref(name=i)), names.map(lambda i: n.Ref(name=i)),
    roles.map(lambda i: n.Ref(name=i)),
    st.just(n.Ref(name=ident("activities"))),
    field_refs, field_refs,
    quota_names.map(lambda i: n.QuotaRef(name=i)),
    names.map(lambda i: n.TeamRef(name=i)),
)
AGGREGATES = ("sum", "count", "average", "min", "max")


@st.composite
def mixed_exprs(draw, minimum: int = IF, depth: int = 3):
    """An expression over the pools, ill typed more often than not."""
    if depth <= 0 or draw(st.integers(0, 3)) == 0:
        return at_least(draw(leaves), minimum)
    sub = depth - 1

    def child(level: int) -> n.Expr:
        return draw(mixed_exprs(level, sub))

    kind = draw(st.sampled_from(["arith", "arith", "arith", "cmp", "cmp", "logic", "not", "neg",
                                 "if", "call", "oneof", "range", "paren"]))
    if kind == "arith":
        op = draw(st.sampled_from(["+", "-", "*", "/", "of"]))
        lv = S.BINARY_LEVELS[op]
        e = n.Binary(op=op, left=child(lv), right=child(lv + 1))
    elif kind == "cmp":
        op = draw(st.sampled_from(S.COMPARE_OPS))
        e = n.Binary(op=op, left=child(SUM), right=child(SUM))
    elif kind == "logic":
        op = draw(st.sampled_from(["and", "or"]))
        lv = S.BINARY_LEVELS[op]
        e = n.Binary(op=op, left=child(lv), right=child(lv + 1))
    elif kind == "not":
        e = n.Unary(op="not", operand=child(NOT))
    elif kind == "neg":
        e = n.Unary(op="-", operand=child(NEG))
    elif kind == "if":
        e = n.IfThenElse(condition=child(IF), then=child(IF), otherwise=child(IF))
    elif kind == "call":
        func = draw(st.sampled_from(AGGREGATES + ("avg", "round")))
        if draw(st.booleans()):  # an aggregate over a credit (or activities)
            source = draw(st.one_of(credit_names, st.just(ident("activities")), names))
            where = child(IF) if draw(st.booleans()) else None
            e = n.Call(func=ident(func), args=(n.Ref(name=source),), where=where)
        else:
            args = tuple(child(IF) for _ in range(draw(st.integers(1, 3))))
            where = child(IF) if draw(st.integers(0, 4)) == 0 else None
            e = n.Call(func=ident(func), args=args, where=where)
    elif kind == "oneof":
        options = tuple(child(IF) for _ in range(draw(st.integers(1, 3))))
        e = n.OneOf(operand=child(SUM), options=options, negated=draw(st.booleans()))
    elif kind == "range":
        e = n.InRange(operand=child(SUM), low=child(SUM), high=child(SUM),
                      negated=draw(st.booleans()))
    else:
        e = n.Paren(inner=child(IF))
    return at_least(e, minimum)


any_exprs = mixed_exprs(IF)
sum_exprs = mixed_exprs(SUM)
conditions = st.one_of(
    mixed_exprs(IF),
    # the usual shapes, often right
    st.builds(lambda f, t: n.Binary(op="is", left=n.FieldRef(parts=(ident("deal"), ident(f))),
                                    right=t),
              st.sampled_from(["type", "product", "stage", "owner", "colour"]), texts),
    st.builds(lambda m, v: n.Binary(op=">=", left=n.Ref(name=ident(m)), right=v),
              st.sampled_from(MEASURES + CREDITS), st.one_of(S.percents, moneys, S.numbers)),
    st.builds(lambda v: n.Binary(op=">", left=n.FieldRef(parts=(ident("deal"), ident("amount"))),
                                 right=v), st.one_of(moneys, S.percents, S.numbers)),
)

# ------------------------------------------------------------------------------ statements


def stmt(cls, **fields):
    return st.builds(cls, leading=S.leading_comments, trailing=S.trailing_comment, **fields)


def bare(cls, **fields):
    """A statement without comments (most lines of a generated plan)."""
    return st.builds(cls, **fields)


@st.composite
def date_ranges(draw):
    start = draw(st.one_of(st.just(n.DateLit(raw="2027-01-01")), dates))
    end = draw(st.one_of(st.just(n.DateLit(raw="2027-12-31")), st.none(), dates))
    return n.DateRange(start=start, end=end)


@st.composite
def plan_headers(draw):
    """`plan "..."` with its lines: right most of the time, each line sometimes missing,
    repeated or odd."""
    items: list[n.Statement] = []
    if draw(st.integers(0, 9)):
        items.append(n.CurrencyDecl(code=ident(draw(st.sampled_from(
            ["USD"] * 8 + ["EUR", "JPY"])))))
    if draw(st.integers(0, 9)):
        rng = draw(st.one_of(
            st.just(n.DateRange(start=n.DateLit(raw="2027-01-01"),
                                end=n.DateLit(raw="2027-12-31"))),
            st.just(n.DateRange(start=n.DateLit(raw="2027-01-01"),
                                end=n.DateLit(raw="2027-06-30"))),
            st.just(n.DateRange(start=n.DateLit(raw="2027-01-01"), end=None)),
            date_ranges()))
        items.append(n.EffectiveDecl(range=rng))
    if draw(st.integers(0, 3)):
        items.append(n.RolesDecl(roles=draw(st.one_of(
            st.just(tuple(ident(r) for r in ROLES)), role_lists))))
    if draw(st.booleans()):
        items.append(n.AppliesDecl(roles=draw(role_lists)))
    if draw(st.integers(0, 3)) == 0:
        items.append(n.FiscalDecl(month=ident(draw(st.sampled_from(S.MONTHS)))))
    if draw(st.booleans()):
        items.append(draw(S.PLAN_ITEMS[n.RoundingDecl]))
    if draw(st.integers(0, 3)) == 0:
        items.append(draw(S.PLAN_ITEMS[n.FxDecl]))
    if draw(st.booleans()):
        items.append(n.VocabularyDecl(kind="stages", values=tuple(text(s) for s in STAGES)))
    if draw(st.booleans()):
        items.append(n.VocabularyDecl(kind="activities",
                                      values=tuple(text(a) for a in ACTIVITIES)))
    if draw(st.integers(0, 3)) == 0:
        items.append(n.VocabularyDecl(kind="channels", values=tuple(text(c) for c in CHANNELS)))
    if draw(st.integers(0, 5)) == 0:  # a line given twice, or any line of the grammar
        items.append(draw(st.one_of(*S.PLAN_ITEMS.values())))
    if items:
        items = draw(st.permutations(items))
    else:
        items = [draw(S.PLAN_ITEMS[n.VersionDecl])]  # a block has at least one line
    return n.PlanBlock(name=draw(st.one_of(st.just(text("Generated 2027")), S.texts)),
                       items=tuple(items), leading=draw(S.leading_comments))


@st.composite
def fields_blocks(draw):
    decls = []
    for name, kind in DEAL_FIELDS.items():
        if draw(st.integers(0, 3)):
            options = tuple(text(t) for t in TYPES) if kind == "one of" else ()
            decls.append(n.FieldDecl(owner="deal", name=ident(name), kind=kind, options=options))
    for name, kind in PAYEE_FIELDS.items():
        if draw(st.booleans()):
            decls.append(n.FieldDecl(owner="payee", name=ident(name), kind=kind))
    if draw(st.integers(0, 3)) == 0:  # a duplicate, a built-in redeclared, a repeated option
        decls.append(draw(st.one_of(
            S.field_decls,
            st.just(n.FieldDecl(owner="deal", name=ident("amount"), kind="money")),
            st.just(n.FieldDecl(owner="deal", name=ident("tier"), kind="one of",
                                options=(text("a"), text("a")))))))
    if not decls:
        decls.append(draw(S.field_decls))
    return n.FieldsBlock(items=tuple(draw(st.permutations(decls))))


def rule_block(cls, name_strategy, items, label=True):
    return st.builds(lambda name, lbl, body: cls(name=name, label=lbl, items=tuple(body)),
                     name_strategy, st.one_of(st.none(), S.texts) if label else st.none(),
                     items)


@st.composite
def quota_blocks(draw):
    counted = draw(st.booleans())
    items: list[n.Statement] = []
    for _ in range(draw(st.integers(1, 3))):
        amount = draw(S.numbers if counted else st.one_of(moneys, moneys, S.numbers))
        valid = draw(st.one_of(st.none(), st.none(), date_ranges()))
        items.append(n.QuotaValue(amount=amount, period=draw(st.sampled_from(UNITS)),
                                  roles=draw(st.one_of(st.just(()), role_lists)), valid=valid))
    extras = draw(st.lists(st.sampled_from(["proration", "ramp", "forecast", "data",
                                            "normalize"]), max_size=3))
    for extra in extras:
        if extra == "proration":
            items.append(n.QuotaProration(basis=draw(st.sampled_from([None, "days", "months"]))))
        elif extra == "ramp":
            steps = tuple(n.RampStep(month=n.Number(raw=str(m)), share=draw(S.percents))
                          for m in draw(st.lists(st.integers(0, 14), min_size=1, max_size=4)))
            items.append(n.QuotaRamp(steps=steps))
        elif extra == "forecast":
            items.append(draw(st.builds(
                n.QuotaForecast, uplift=st.one_of(st.none(), S.percents),
                method=st.sampled_from(["trailing average", "linear trend", "seasonal naive"]),
                measure=names, count=st.sampled_from(["0", "1", "4", "2.5", "12"]).map(
                    lambda r: n.Number(raw=r)),
                unit=st.sampled_from(["month", "months", "quarter", "quarters", "years"]))))
        elif extra == "data":
            items.append(n.QuotaFromData())
        else:
            items.append(n.QuotaNormalize())
    return n.QuotaBlock(name=draw(quota_names), items=tuple(items))


@st.composite
def triggers(draw, event_only: bool = False):
    where = draw(st.one_of(st.none(), conditions))
    kind = "deal" if event_only else draw(st.sampled_from(["deal", "deal", "stage", "activity"]))
    if kind == "deal":
        return n.Trigger(kind="deal", event=draw(st.sampled_from(
            ["booked", "booked", "booked", "cancelled", "amended", "invoiced", "collected"])),
            subject=None, where=where)
    subject = draw(stage_texts if kind == "stage" else activity_texts)
    return n.Trigger(kind=kind, event=None, subject=subject, where=where)


@st.composite
def credit_blocks(draw):
    items: list[n.Statement] = []
    if draw(st.integers(0, 9)):
        items.append(n.OnEvent(trigger=draw(triggers())))
    choice = draw(st.sampled_from(["recorded", "evenly", "owner", "by role", "attribution",
                                   "none"]))
    if choice == "by role":
        shares = tuple(n.Share(name=draw(roles), share=draw(st.one_of(
            st.sampled_from(["70%", "30%", "50%", "100%"]).map(lambda r: n.Percent(raw=r)),
            S.percents))) for _ in range(draw(st.integers(1, 3))))
        items.append(n.SplitRule(mode="by role", shares=shares))
    elif choice == "attribution":
        items.append(draw(S.CREDIT_ITEMS[n.Attribution]))
        if draw(st.booleans()):
            items.append(draw(S.CREDIT_ITEMS[n.DigitalCredit]))
    elif choice != "none":
        items.append(n.SplitRule(mode=choice))
    for extra in draw(st.lists(st.sampled_from(["value", "overlay", "rollup", "roles", "during",
                                                "split"]), max_size=2)):
        if extra == "value":
            items.append(n.ValueLine(value=draw(any_exprs)))
        elif extra == "overlay":
            items.append(n.Overlay(roles=draw(role_lists), share=draw(S.percents)))
        elif extra == "rollup":
            items.append(draw(S.CREDIT_ITEMS[n.RollUp]))
        elif extra == "roles":
            items.append(n.RolesFilter(roles=draw(role_lists)))
        elif extra == "during":
            items.append(n.During(range=draw(date_ranges())))
        else:
            items.append(n.SplitRule(mode="evenly"))
    if not items:
        items.append(n.SplitRule(mode="owner"))
    return n.CreditBlock(name=draw(credit_names), label=draw(st.one_of(st.none(), texts)),
                         items=tuple(draw(st.permutations(items))))


@st.composite
def measure_blocks(draw):
    expr = draw(st.one_of(
        any_exprs,
        st.just(n.Binary(op="/", left=n.Ref(name=ident("bookings")),
                         right=n.QuotaRef(name=ident("bookings")))),
        st.builds(lambda a, b: n.Binary(op="-", left=a, right=b),
                  names.map(lambda i: n.QuotaRef(name=i)), names.map(lambda i: n.Ref(name=i))),
        st.builds(lambda w: n.Call(func=ident("count"), args=(n.Ref(name=ident("activities")),),
                                   where=w), st.one_of(st.none(), conditions)),
    ))
    return n.MeasureBlock(name=draw(st.sampled_from(MEASURES + MISSPELT[:2]).map(ident)),
                          label=draw(st.one_of(st.none(), texts)), expr=expr)


# Tier tables: rows over an increasing list of bounds in one unit, then damaged.
BOUND_UNITS = {
    "percent": lambda v: n.Percent(raw=f"{v}%"),
    "money": lambda v: money(f"{v * 1000:,}"),
    "eur": lambda v: money(f"{v * 1000:,}", "EUR"),
    "number": lambda v: n.Number(raw=str(v)),
}


@st.composite
def tier_tables(draw):
    unit = draw(st.sampled_from(["percent", "percent", "money", "money", "eur", "number"]))
    count = draw(st.integers(1, 5))  # the grammar needs at least one row
    bounds = sorted(draw(st.lists(st.integers(0, 300), min_size=count + 1, max_size=count + 1,
                                  unique=True)))
    if draw(st.integers(0, 2)):
        bounds[0] = 0
    rows: list[list] = [[bounds[i], bounds[i + 1]] for i in range(count)]
    if rows and draw(st.integers(0, 2)):
        rows[-1][1] = None  # open last tier (the normal case)
    damage = draw(st.sampled_from(["none", "none", "gap", "overlap", "swap", "open-middle",
                                   "unit", "expr", "empty-range"]))
    if rows and damage == "gap":
        k = draw(st.integers(0, len(rows) - 1))
        rows[k][0] += draw(st.integers(1, 20))
    elif rows and damage == "overlap":
        k = draw(st.integers(0, len(rows) - 1))
        rows[k][0] = max(0, rows[k][0] - draw(st.integers(1, 20)))
    elif len(rows) > 1 and damage == "swap":
        rows[0], rows[1] = rows[1], rows[0]
    elif len(rows) > 1 and damage == "open-middle":
        rows[0][1] = None
    elif rows and damage == "empty-range":
        rows[-1][1] = rows[-1][0]
    make = BOUND_UNITS[unit]
    items: list[n.Statement] = []
    for low, high in rows:
        low_e = make(low)
        high_e = make(high) if high is not None else None
        if damage == "unit" and draw(st.booleans()):
            low_e = BOUND_UNITS[draw(st.sampled_from(list(BOUND_UNITS)))](low)
        rate = draw(st.one_of(
            st.sampled_from(["8%", "12%", "15%", "0%", "100%"]).map(lambda r: n.Percent(raw=r)),
            S.percents, moneys, S.numbers) if damage != "expr" else sum_exprs)
        if damage == "expr" and draw(st.booleans()):
            low_e = draw(sum_exprs)
        items.append(n.TierRow(low=low_e, high=high_e, rate=rate))
    if draw(st.booleans()):
        items.insert(draw(st.integers(0, len(items))),
                     n.BoundRule(side=draw(st.sampled_from(["above", "below"]))))
    key = draw(st.one_of(st.none(), st.sampled_from(["attainment", "attainment", "bookings",
                                                      "gap", "meetings_held"]).map(ident),
                         names))
    return n.TierTable(mode=draw(st.sampled_from(["marginal", "marginal", "retroactive", None])),
                       key=key, period=draw(st.one_of(st.sampled_from(UNITS), st.none())),
                       items=tuple(items))


@st.composite
def limits(draw):
    return n.Limit(kind=draw(st.sampled_from(["cap", "cap", "floor"])),
                   amount=draw(st.one_of(moneys, moneys, sum_exprs)),
                   scope=draw(st.sampled_from(["deal", "total", *UNITS])))


@st.composite
def commission_blocks(draw):
    items: list[n.Statement] = []
    if draw(st.integers(0, 9)):
        items.append(n.BaseLine(credit=draw(credit_names)))
    how = draw(st.sampled_from(["rate", "tiers", "tiers", "both", "neither"]))
    if how in ("rate", "both"):
        items.append(n.RateLine(rate=draw(st.one_of(S.percents, S.percents, any_exprs))))
    if how in ("tiers", "both"):
        items.append(draw(tier_tables()))
    for extra in draw(st.lists(st.sampled_from(["accel", "limit", "when", "roles", "during"]),
                               max_size=3)):
        if extra == "accel":
            items.append(n.Accelerator(
                kind=draw(st.sampled_from(["accelerate", "decelerate"])),
                factor=draw(S.multipliers), key=draw(names),
                period=draw(st.one_of(st.sampled_from(UNITS), st.none())),
                side=draw(st.sampled_from(["above", "below"])),
                threshold=draw(st.one_of(S.percents, sum_exprs))))
        elif extra == "limit":
            items.append(draw(limits()))
        elif extra == "when":
            items.append(n.When(condition=draw(conditions)))
        elif extra == "roles":
            items.append(n.RolesFilter(roles=draw(role_lists)))
        else:
            items.append(n.During(range=draw(date_ranges())))
    if not items:
        items.append(n.RateLine(rate=n.Percent(raw="8%")))
    return n.CommissionBlock(name=draw(component_names), label=draw(st.one_of(st.none(), texts)),
                             items=tuple(items))


pays = st.one_of(moneys, moneys, any_exprs)


@st.composite
def bonus_blocks(draw):
    items: list[n.Statement] = []
    key = draw(st.one_of(st.sampled_from(["attainment", "meetings_held", "bookings"]).map(ident),
                         names))
    unit = draw(st.sampled_from(UNITS))
    if draw(st.booleans()):
        rows = tuple(n.StepRow(threshold=draw(st.one_of(S.percents, sum_exprs)), pay=draw(pays))
                     for _ in range(draw(st.integers(1, 4))))
        items.append(n.StepSchedule(key=key, period=unit, rows=rows))
    else:
        items.append(n.LinearSchedule(
            key=key, period=unit,
            low=n.LinearPoint(end="from", threshold=draw(st.one_of(S.percents, sum_exprs)),
                              pay=draw(pays)),
            high=n.LinearPoint(end="to", threshold=draw(st.one_of(S.percents, sum_exprs)),
                               pay=draw(pays))))
    if draw(st.booleans()):
        items.append(n.When(condition=draw(conditions)))
    if draw(st.booleans()):
        items.append(draw(limits()))
    if draw(st.integers(0, 3)) == 0:
        items.append(n.RolesFilter(roles=draw(role_lists)))
    return n.BonusBlock(name=draw(component_names), items=tuple(items))


@st.composite
def spiff_blocks(draw):
    items: list[n.Statement] = [n.OnEvent(trigger=draw(triggers()))]
    items.append(n.PayLine(amount=draw(pays)))
    if draw(st.integers(0, 2)):
        items.append(n.During(range=draw(date_ranges())))
    if draw(st.booleans()):
        items.append(draw(limits()))
    return n.SpiffBlock(name=draw(component_names), items=tuple(draw(st.permutations(items))))


@st.composite
def stage_reward_blocks(draw):
    items: list[n.Statement] = [
        n.StagePay(stage=draw(stage_texts), where=draw(st.one_of(st.none(), conditions)),
                   amount=draw(pays)) for _ in range(draw(st.integers(1, 3)))]
    if draw(st.booleans()):
        items.append(draw(limits()))
    if draw(st.booleans()):
        items.append(n.NetAgainst(component=draw(component_names)))
    return n.StageRewardBlock(name=draw(component_names), items=tuple(items))


@st.composite
def activity_reward_blocks(draw):
    items: list[n.Statement] = [
        n.ActivityPay(activity=draw(activity_texts), where=draw(st.one_of(st.none(), conditions)),
                      amount=draw(pays)) for _ in range(draw(st.integers(1, 3)))]
    if draw(st.booleans()):
        items.append(draw(limits()))
    return n.ActivityRewardBlock(name=draw(component_names), items=tuple(items))


@st.composite
def pool_blocks(draw):
    items: list[n.Statement] = [n.PeriodicAmount(verb="fund", amount=draw(pays),
                                                 period=draw(st.sampled_from(UNITS)))]
    if draw(st.integers(0, 3)):
        items.append(draw(st.one_of(st.just(n.ShareRule(mode="equally")),
                                    st.builds(lambda b: n.ShareRule(mode="by", by=b), names))))
    for extra in draw(st.lists(st.sampled_from(["when", "limit", "roles"]), max_size=2)):
        items.append({"when": lambda: n.When(condition=draw(conditions)),
                      "limit": lambda: draw(limits()),
                      "roles": lambda: n.RolesFilter(roles=draw(role_lists))}[extra]())
    return n.PoolBlock(name=draw(component_names), items=tuple(items))


@st.composite
def override_blocks(draw):
    amount = draw(st.one_of(
        pays, st.just(n.Binary(op="of", left=n.Percent(raw="2%"),
                               right=n.TeamRef(name=ident("bookings"))))))
    items: list[n.Statement] = [n.PeriodicAmount(verb="pay", amount=amount,
                                                 period=draw(st.sampled_from(UNITS)))]
    for extra in draw(st.lists(st.sampled_from(["when", "limit", "roles"]), max_size=2)):
        items.append({"when": lambda: n.When(condition=draw(conditions)),
                      "limit": lambda: draw(limits()),
                      "roles": lambda: n.RolesFilter(roles=draw(role_lists))}[extra]())
    return n.OverrideBlock(name=draw(component_names), items=tuple(items))


@st.composite
def clawback_blocks(draw):
    items: list[n.Statement] = []
    if draw(st.integers(0, 5)):
        items.append(n.CancelWindow(within=draw(durations)))
    if draw(st.integers(0, 5)):
        items.append(n.Reverse(components=tuple(draw(st.lists(names, min_size=1, max_size=3))),
                               share=draw(st.one_of(st.none(), S.percents))))
    if not items:
        items.append(n.During(range=draw(date_ranges())))
    return n.ClawbackBlock(name=draw(st.sampled_from(CLAWBACKS + ("core",)).map(ident)),
                           items=tuple(items))


@st.composite
def payout_blocks(draw):
    items: list[n.Statement] = []
    if draw(st.integers(0, 4)):
        items.append(draw(S.PAYOUT_ITEMS[n.Frequency]))
    if draw(st.integers(0, 3)):
        legs = draw(st.one_of(
            st.just((n.ScheduleLeg(share=n.Percent(raw="100%"), event="booked"),)),
            st.just((n.ScheduleLeg(share=n.Percent(raw="50%"), event="booked"),
                     n.ScheduleLeg(share=n.Percent(raw="50%"), event="collected"))),
            S.PAYOUT_ITEMS[n.Schedule].map(lambda s: s.legs)))
        items.append(n.Schedule(legs=legs))
    if draw(st.integers(0, 3)) == 0:
        items.append(draw(S.PAYOUT_ITEMS[n.Holdback]))
    if draw(st.integers(0, 3)) == 0:
        items.append(n.Draw(amount=draw(st.one_of(moneys, any_exprs)),
                            period=draw(st.sampled_from(UNITS)),
                            recovery=draw(st.sampled_from(["non-recoverable", "excess",
                                                           "all earnings"])),
                            months=draw(st.one_of(st.none(), S.small_numbers)),
                            forgiveness=draw(st.sampled_from([None, "termination"]))))
    if draw(st.integers(0, 3)) == 0:
        items.append(draw(limits()))
    if not items:
        items.append(n.Frequency(frequency="monthly"))
    return n.PayoutBlock(items=tuple(items))


@st.composite
def example_blocks(draw):
    items: list[n.Statement] = []
    people = draw(st.lists(st.sampled_from(PAYEES), min_size=1, max_size=3, unique=True))
    for p in people:
        attrs_ = []
        if draw(st.integers(0, 5)):
            attrs_.append(n.Attr(key="role", value=draw(roles)))
        if draw(st.integers(0, 2)):
            attrs_.append(n.Attr(key="from", value=draw(dates)))
        if draw(st.integers(0, 3)) == 0:
            attrs_.append(n.Attr(key="manager", value=draw(payees)))
        items.append(n.ExamplePayee(payee=ident(p), attrs=tuple(attrs_)))
    for k in range(draw(st.integers(0, 3))):
        deal = ident(f"D{k + 1}")
        attrs_ = [n.Attr(key="by", value=draw(payees)),
                  n.Attr(key="amount", value=draw(moneys))]
        if draw(st.integers(0, 3)) == 0:
            attrs_.append(n.Attr(key="split", value=tuple(
                n.Share(name=ident(p), share=draw(S.percents)) for p in people)))
        if draw(st.booleans()):
            attrs_.append(n.Attr(key="type", value=draw(texts), custom=True))
        if draw(st.integers(0, 3)) == 0:
            attrs_.append(n.Attr(key=draw(st.sampled_from(["seats", "signed_on", "term",
                                                           "colour", "product"])),
                                 value=draw(literals), custom=True))
        attrs_ = draw(st.permutations(attrs_)) if draw(st.integers(0, 5)) == 0 else attrs_
        items.append(n.ExampleEvent(deal=deal, kind="booked", subject=None, date=draw(dates),
                                    attrs=tuple(attrs_)))
        if draw(st.integers(0, 3)) == 0:
            kind = draw(st.sampled_from(["cancelled", "collected", "amended", "invoiced"]))
            extra = (n.Attr(key="amount", value=draw(moneys)),) if kind != "cancelled" else ()
            items.append(n.ExampleEvent(deal=deal, kind=kind, subject=None, date=draw(dates),
                                        attrs=extra))
    if draw(st.integers(0, 3)) == 0:
        items.append(n.ExampleEvent(deal=ident("D9"), kind="stage", subject=draw(stage_texts),
                                    date=draw(dates),
                                    attrs=(n.Attr(key="by", value=draw(payees)),)))
    if draw(st.integers(0, 3)) == 0:
        items.append(n.ExampleActivity(activity=draw(activity_texts), date=draw(dates),
                                       by=draw(payees), attrs=()))
    if draw(st.integers(0, 3)) == 0:
        items.append(n.ExampleQuota(quota=draw(quota_names), payee=draw(payees),
                                    period=draw(period_refs),
                                    amount=draw(st.one_of(moneys, S.numbers))))
    if draw(st.integers(0, 5)) == 0:
        items.append(n.ExampleFx(source=draw(moneys), target=draw(moneys), date=draw(dates)))
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["rule", "rule", "total", "paid"]))
        items.append(n.Expectation(
            kind=kind, target=draw(names) if kind == "rule" else None, payee=draw(payees),
            period=draw(period_refs),
            value=draw(st.one_of(moneys, moneys, S.percents, S.numbers, sum_exprs))))
    return n.ExampleBlock(name=draw(st.one_of(st.just(text("Example")), texts)),
                          items=tuple(items))


BLOCK_MAKERS = (quota_blocks, credit_blocks, credit_blocks, measure_blocks, measure_blocks,
                commission_blocks, commission_blocks, bonus_blocks, spiff_blocks,
                stage_reward_blocks, activity_reward_blocks, pool_blocks, override_blocks,
                clawback_blocks, payout_blocks, example_blocks, example_blocks)


@st.composite
def plausible_plan_files(draw, max_blocks: int = 10):
    """A plan file that looks like a plan: header first (usually), then blocks of every kind
    over shared names, with mistakes of every kind mixed in."""
    blocks: list[n.Block] = []
    shape = draw(st.integers(0, 19))
    if shape:  # shape 0: no header at all
        blocks.append(draw(plan_headers()))
    if draw(st.integers(0, 2)):
        blocks.append(draw(fields_blocks()))
    makers = draw(st.lists(st.sampled_from(BLOCK_MAKERS), min_size=1, max_size=max_blocks))
    blocks.extend(draw(m()) for m in makers)
    if draw(st.integers(0, 4)) == 0:  # any block of the grammar
        blocks.append(draw(S.blocks(max_items=3)))
    if shape == 1:  # a second header
        blocks.append(draw(plan_headers()))
    if shape == 2:  # blocks in any order
        blocks = draw(st.permutations(blocks))
    return n.PlanFile(path=PATH, blocks=tuple(blocks),
                      trailing_comments=draw(st.one_of(st.just(()), st.tuples(S.comments))))


# ------------------------------------------------------------------------------ typed expressions
# The probe plan declares the names typed expressions use. Its text is checked clean by the tests.

PROBE_PLAN = '''\
plan "Probe 2027"
  currency USD
  effective 2027-01-01 to 2027-12-31
  roles AE, SE, MGR
  activities "meeting", "qualified_demo"

fields
  deal.type one of "new_business", "renewal"

quota bookings "Bookings quota"
  250,000 USD per quarter
  no proration

quota meetings "Meetings quota"
  40 per month
  no proration

credit bookings "Bookings"
  on deal booked
  split as recorded

credit renewals "Renewals"
  on deal booked where deal.type is "renewal"
  split as recorded

measure attainment = bookings / quota bookings
measure gap = quota bookings - bookings
measure meetings_held = count(activities where activity.kind is "meeting")
measure deal_count = count(bookings)
measure ratio = meetings_held / 4

commission core "Core commission"
  on bookings
  rate 8%

bonus club "Club"
  step on attainment per quarter
    at 50% pay 100 USD
  when gap >= 0 USD or deal_count >= 0 or ratio >= 0 or renewals >= 0 USD

example "probe"
  payee ana role AE from 2027-01-01
  deal D1 booked 2027-02-10 by ana amount 1,000 USD type "new_business"
  expect core for ana in 2027-Q1 is 80 USD
'''

MONEY, PERCENT, NUMBER, COUNT, MULT, DURATION, DATE, BOOL = (
    "money", "percent", "number", "count", "multiplier", "duration", "date", "yes or no")
TYPED_KINDS = (MONEY, PERCENT, NUMBER, COUNT, MULT, DURATION, DATE, BOOL)


def ref(name: str) -> n.Ref:
    return n.Ref(name=ident(name))


def field(owner: str, part: str) -> n.FieldRef:
    return n.FieldRef(parts=(ident(owner), ident(part)))


def call(func: str, source: str, where: n.Expr | None = None) -> n.Call:
    return n.Call(func=ident(func), args=(ref(source),), where=where)


# Literal sizes are kept modest so that most results are exact in 34 digits.
amounts = st.one_of(
    st.sampled_from(["0", "1", "100", "250,000", "0.01", "1,000.50", "3"]),
    st.integers(0, 10 ** 6).map(str),
    st.decimals(min_value=0, max_value=10 ** 5, places=2, allow_nan=False,
                allow_infinity=False).map(lambda d: f"{d:f}"),
)
usd = amounts.map(lambda a: money(a))
pct = st.one_of(st.sampled_from(["0%", "8%", "12.5%", "100%", "150%", "33%"]),
                st.integers(0, 400).map(lambda i: f"{i}%")).map(lambda r: n.Percent(raw=r))
num = amounts.map(lambda a: n.Number(raw=a))
mult = st.sampled_from(["0.5x", "1x", "1.5x", "2x", "1.25x"]).map(lambda r: n.Multiplier(raw=r))
dur = st.builds(n.Duration, count=st.integers(0, 400).map(lambda i: n.Number(raw=str(i))),
                unit=st.sampled_from(["day", "days", "week", "weeks"]))
dur_calendar = st.builds(n.Duration, count=st.integers(0, 30).map(lambda i: n.Number(raw=str(i))),
                         unit=st.sampled_from(["month", "months", "quarter", "quarters", "year",
                                               "years"]))
day = st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2035, 12, 31)).map(
    lambda d: n.DateLit(raw=d.isoformat()))
deal_where = st.one_of(
    usd.map(lambda m: n.Binary(op=">=", left=field("deal", "amount"), right=m)),
    st.sampled_from(["new_business", "renewal"]).map(
        lambda t: n.Binary(op="is", left=field("deal", "type"), right=text(t))),
    st.tuples(usd, usd).map(lambda ab: n.InRange(operand=field("deal", "amount"), low=ab[0],
                                                 high=ab[1])),
)


def typed_leaves(kind: str, team: bool, calendar_durations: bool) -> st.SearchStrategy:
    if kind == MONEY:
        options = [usd, usd, st.sampled_from([ref("bookings"), ref("renewals"), ref("gap"),
                                              ref("core"), n.QuotaRef(name=ident("bookings"))]),
                   st.builds(call, st.sampled_from(["sum", "average", "min", "max"]),
                             st.just("bookings"), st.one_of(st.none(), deal_where))]
        if team:
            options.append(st.sampled_from([n.TeamRef(name=ident("bookings")),
                                            n.TeamRef(name=ident("gap"))]))
        return st.one_of(*options)
    if kind == PERCENT:
        options = [pct, pct, st.just(ref("attainment"))]
        if team:
            options.append(st.just(n.TeamRef(name=ident("attainment"))))
        return st.one_of(*options)
    if kind == NUMBER:
        return st.one_of(num, num, st.just(ref("ratio")))
    if kind == COUNT:
        options = [st.sampled_from([ref("meetings_held"), ref("deal_count"),
                                    n.QuotaRef(name=ident("meetings"))]),
                   st.builds(lambda w: call("count", "bookings", w),
                             st.one_of(st.none(), deal_where)),
                   st.just(n.Call(func=ident("count"), args=(ref("activities"),), where=n.Binary(
                       op="is", left=field("activity", "kind"), right=text("qualified_demo"))))]
        if team:
            options.append(st.just(n.TeamRef(name=ident("deal_count"))))
        return st.one_of(*options)
    if kind == MULT:
        return mult
    if kind == DURATION:
        return st.one_of(dur, dur_calendar) if calendar_durations else dur
    if kind == DATE:
        # payee.end is missing for a payee still employed: the value stays missing
        return st.one_of(day, day, st.sampled_from([field("payee", "start"),
                                                    field("payee", "end")]))
    if kind == BOOL:
        return S.bools
    raise AssertionError(kind)


# kind -> [(op, left kind, right kind)] following check/types.py `arithmetic`.
ARITHMETIC = {
    MONEY: [("+", MONEY, MONEY), ("-", MONEY, MONEY), ("*", MONEY, PERCENT), ("*", PERCENT, MONEY),
            ("*", MONEY, NUMBER), ("*", COUNT, MONEY), ("*", MONEY, MULT), ("/", MONEY, NUMBER),
            ("/", MONEY, COUNT), ("/", MONEY, PERCENT), ("of", PERCENT, MONEY)],
    PERCENT: [("/", MONEY, MONEY), ("/", COUNT, COUNT), ("+", PERCENT, PERCENT),
              ("-", PERCENT, PERCENT), ("*", PERCENT, PERCENT), ("*", PERCENT, MULT),
              ("*", MULT, PERCENT), ("*", PERCENT, NUMBER), ("*", COUNT, PERCENT),
              ("/", PERCENT, NUMBER), ("/", PERCENT, COUNT), ("of", PERCENT, PERCENT)],
    NUMBER: [("+", NUMBER, NUMBER), ("-", NUMBER, COUNT), ("+", COUNT, NUMBER),
             ("*", NUMBER, NUMBER), ("*", COUNT, NUMBER), ("*", NUMBER, MULT),
             ("/", NUMBER, NUMBER), ("/", COUNT, NUMBER), ("/", PERCENT, PERCENT),
             ("/", DURATION, DURATION), ("of", PERCENT, NUMBER)],
    COUNT: [("+", COUNT, COUNT), ("-", COUNT, COUNT), ("*", COUNT, COUNT), ("of", PERCENT, COUNT)],
    MULT: [("+", MULT, MULT), ("-", MULT, MULT), ("*", MULT, MULT)],
    DURATION: [("+", DURATION, DURATION), ("-", DURATION, DURATION), ("*", DURATION, NUMBER),
               ("*", COUNT, DURATION), ("-", DATE, DATE)],
    DATE: [("+", DATE, DURATION), ("-", DATE, DURATION)],
}
NEGATABLE = (MONEY, PERCENT, NUMBER, COUNT, DURATION)
ORDERED_KINDS = (MONEY, PERCENT, NUMBER, COUNT, MULT, DURATION, DATE)
ORDER_OPS = (">=", "<=", ">", "<", "reaches", "=", "!=", "is", "is not")


@st.composite
def typed_exprs(draw, kind: str, depth: int = 3, minimum: int = IF, team: bool = True,
                calendar_durations: bool = True):
    """An expression of unit `kind` (well typed by construction, in a period context).
    `team` allows `team X`; `calendar_durations` allows month, quarter and year durations. A
    date is moved by any duration expression (`2027-01-31 + 1 month * 2`)."""
    if depth <= 0 or draw(st.integers(0, 3)) == 0:
        return at_least(draw(typed_leaves(kind, team, calendar_durations)), minimum)
    sub = depth - 1

    def child(k: str, level: int) -> n.Expr:
        return draw(typed_exprs(k, sub, level, team, calendar_durations))

    forms = ["arith"] * 4 if kind in ARITHMETIC else []
    forms += ["if", "paren"]
    if kind in NEGATABLE:
        forms.append("neg")
    if kind in ORDERED_KINDS:
        forms.append("minmax")
    if kind == BOOL:
        forms += ["cmp"] * 4 + ["logic", "logic", "not", "in", "oneof", "range", "eq"]
    form = draw(st.sampled_from(forms))
    if form == "arith":
        op, lk, rk = draw(st.sampled_from(ARITHMETIC[kind]))
        lv = S.BINARY_LEVELS[op]
        e = n.Binary(op=op, left=child(lk, lv), right=child(rk, lv + 1))
    elif form == "if":
        e = n.IfThenElse(condition=child(BOOL, IF), then=child(kind, IF),
                         otherwise=child(kind, IF))
    elif form == "paren":
        e = n.Paren(inner=child(kind, IF))
    elif form == "neg":
        e = n.Unary(op="-", operand=child(kind, NEG))
    elif form == "minmax":
        args = tuple(child(kind, IF) for _ in range(draw(st.integers(2, 3))))
        e = n.Call(func=ident(draw(st.sampled_from(["min", "max"]))), args=args)
    elif form == "cmp":
        k = draw(st.sampled_from(ORDERED_KINDS))
        e = n.Binary(op=draw(st.sampled_from(ORDER_OPS)), left=child(k, SUM),
                     right=child(k, SUM))
    elif form == "eq":  # texts, roles and yes/no compare for equality only
        pair = draw(st.sampled_from([
            (field("payee", "role"), ref("AE")), (ref("SE"), field("payee", "role")),
            (field("payee", "territory"), text("east")), (field("payee", "id"), text("ana")),
            None, None]))
        left, right = pair if pair else (child(BOOL, SUM), child(BOOL, SUM))
        e = n.Binary(op=draw(st.sampled_from(["=", "!=", "is", "is not"])), left=left,
                     right=right)
    elif form == "logic":
        op = draw(st.sampled_from(["and", "or"]))
        lv = S.BINARY_LEVELS[op]
        e = n.Binary(op=op, left=child(BOOL, lv), right=child(BOOL, lv + 1))
    elif form == "not":
        e = n.Unary(op="not", operand=child(BOOL, NOT))
    elif form == "in":
        e = n.Binary(op=draw(st.sampled_from(["in", "not in"])), left=child(DATE, SUM),
                     right=draw(st.sampled_from(GOOD_PERIODS).map(
                         lambda r: n.PeriodLit(raw=r))))
    elif form == "oneof":
        k = draw(st.sampled_from([MONEY, PERCENT, NUMBER, DATE]))
        e = n.OneOf(operand=child(k, SUM),
                    options=tuple(child(k, IF) for _ in range(draw(st.integers(1, 3)))),
                    negated=draw(st.booleans()))
    else:  # range
        k = draw(st.sampled_from([MONEY, PERCENT, NUMBER, COUNT, DATE, DURATION]))
        e = n.InRange(operand=child(k, SUM), low=child(k, SUM), high=child(k, SUM),
                      negated=draw(st.booleans()))
    return at_least(e, minimum)


CONSTANT_KINDS = (MONEY, PERCENT, NUMBER, MULT)
CONSTANT_LEAVES = {MONEY: usd, PERCENT: pct, NUMBER: num, MULT: mult}


@st.composite
def constant_exprs(draw, kind: str, depth: int = 3, minimum: int = IF):
    """A constant expression of unit `kind` (one of CONSTANT_KINDS): literals, + - * / of,
    unary minus and parentheses, the forms `check.exprs.constant` folds."""
    if depth <= 0 or draw(st.integers(0, 3)) == 0:
        return at_least(draw(CONSTANT_LEAVES[kind]), minimum)
    rules = [r for r in ARITHMETIC[kind] if r[1] in CONSTANT_KINDS and r[2] in CONSTANT_KINDS]
    form = draw(st.sampled_from(["arith", "arith", "arith", "paren"] +
                                (["neg"] if kind in NEGATABLE else [])))
    if form == "arith":
        op, lk, rk = draw(st.sampled_from(rules))
        lv = S.BINARY_LEVELS[op]
        e = n.Binary(op=op, left=draw(constant_exprs(lk, depth - 1, lv)),
                     right=draw(constant_exprs(rk, depth - 1, lv + 1)))
    elif form == "neg":
        e = n.Unary(op="-", operand=draw(constant_exprs(kind, depth - 1, NEG)))
    else:
        e = n.Paren(inner=draw(constant_exprs(kind, depth - 1, IF)))
    return at_least(e, minimum)
