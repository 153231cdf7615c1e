"""Hypothesis strategies that generate whole syntax trees (`n.PlanFile`) of the plan language.

Every concrete node class of incentive_dsl/syntax/nodes.py can be generated (checked by
tests/test_syntax_properties.py::test_strategies_cover_every_node_class). The trees are the ones
the parser can produce:

- names come from fixed pools of identifiers that are not keywords of the grammar (checked at
  import time against the compiled grammar's keyword terminals) and that no higher-priority
  terminal (CURRENCY, MONTH, PERIOD, ...) would take;
- literal `raw` texts are valid tokens (`250,000`, `8%`, `1.5x`, `2027-03-31`, `2027-Q1`, texts
  with escapes, ...);
- expressions carry an `n.Paren` wherever the precedence of the grammar's expression section
  requires one, so the printer's output parses back to the same tree;
- optional fields are present and absent, comments are leading and trailing.

Sizes are small (a few blocks of a few items, expressions a few levels deep) so a property test
of 60 examples runs in well under a second.
"""

from __future__ import annotations

import datetime as dt
import re

import attrs
from hypothesis import strategies as st

from incentive_dsl.syntax import nodes as n
from incentive_dsl.syntax.parser import _grammar

PATH = "gen.plan"

# ------------------------------------------------------------------------------ names

KEYWORDS = frozenset(w for w in _grammar().keyword_text.values() if re.fullmatch(r"[\w-]+", w))

# Terminals that beat NAME when both match (the contextual lexer only offers them in some
# states, but a general-purpose name must be safe everywhere a NAME may stand).
_NOT_A_NAME = [
    re.compile(r"[A-Z]{3}"),  # CURRENCY
    re.compile(r"FY\d{4}"),  # PERIOD
    re.compile(r"january|february|march|april|may|june|july|august|september|october|november"
               r"|december"),  # MONTH
]

NAMES = (
    "bookings", "attainment", "core", "ana", "bob", "mia", "sam", "p3", "x1", "club", "churn",
    "team_pool", "mgr", "demos", "sourced_bookings", "meetings_held", "presale", "revenue",
    "margin", "region", "segment", "seats", "tier2", "_tmp", "a", "B", "Zz9", "D1", "D22",
)
# Role codes; some are three capitals (SDR, MGR) and so look like a CURRENCY to the lexer: they are
# only used where the grammar expects a role name and the contextual lexer offers only NAME.
ROLES = ("AE", "SE", "SDR", "MGR", "CSM", "ae_ent", "Rep2")
# Field parts after `deal.`/`payee.`: the contextual lexer offers only NAME after a dot, so words
# that are keywords elsewhere (`amount`, `territory`, `kind`) are fine there and realistic.
FIELD_HEADS = ("deal", "payee", "activity", "touch") + NAMES[:6]
FIELD_PARTS = ("type", "product", "amount", "territory", "kind", "segment", "annual_value", "x1")
# Functions and the names the shipped plans pass to them (`count(activities where ...)`).
FUNCTIONS = ("count", "sum", "min", "max", "avg", "days_between", "round2")
CURRENCIES = ("USD", "EUR", "GBP", "JPY", "CHF")
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
          "september", "october", "november", "december")


def _check_pools() -> None:
    for pool in (NAMES, ROLES):
        for name in pool:
            assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name), name
            assert name not in KEYWORDS, f"{name!r} is a keyword of the grammar"
    for name in NAMES:
        assert not any(p.fullmatch(name) for p in _NOT_A_NAME), name
    for name in FIELD_PARTS + FUNCTIONS:
        assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name), name


_check_pools()

idents = st.sampled_from(NAMES).map(lambda t: n.Ident(text=t))
roles = st.sampled_from(ROLES).map(lambda t: n.Ident(text=t))


def tuples(elements, min_size=1, max_size=3, unique_by=None):
    return st.lists(elements, min_size=min_size, max_size=max_size).map(tuple)


role_lists = tuples(roles)
name_lists = tuples(idents)

# ------------------------------------------------------------------------------ comments

# Any character but a line break (the parser strips a comment's trailing whitespace, so a
# comment never ends with one) and NUL (a file holding one is refused as binary by
# decode_source, so such a text could never come from a file; \r is read as a line break).
_COMMENT_CHARS = st.characters(codec="utf-8", exclude_characters="\n\r\x00") | st.sampled_from(
    list(" \t#\"\\'%,.()é€→"))

_comment_bodies = st.one_of(st.text(_COMMENT_CHARS, max_size=24),
                           st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=30))
comments = _comment_bodies.map(lambda s: n.Comment(text=("#" + s).rstrip()))
leading_comments = st.one_of(st.just(()), tuples(comments, max_size=2))
trailing_comment = st.one_of(st.none(), comments)

# ------------------------------------------------------------------------------ literals


@st.composite
def number_raws(draw, max_int_digits=7):
    """`0`, `42`, `250,000`, `12.5`, `1,250.75`, `007`."""
    if draw(st.booleans()):
        whole = str(draw(st.integers(0, 10 ** max_int_digits)))
        if len(whole) > 3 and draw(st.booleans()):
            whole = f"{int(whole):,}"
    else:
        whole = draw(st.sampled_from(["0", "007", "1,000", "250,000", "12", "3"]))
    if draw(st.integers(0, 3)) == 0:
        whole += "." + draw(st.from_regex(r"[0-9]{1,3}", fullmatch=True))
    return whole


numbers = number_raws().map(lambda r: n.Number(raw=r))
small_numbers = st.one_of(st.integers(1, 36).map(lambda i: n.Number(raw=str(i))), numbers)
percents = st.one_of(
    st.sampled_from(["0%", "8%", "12.5%", "100%", "150%", "1,000%"]),
    number_raws(max_int_digits=3).map(lambda r: r + "%"),
).map(lambda r: n.Percent(raw=r))
multipliers = st.one_of(
    st.sampled_from(["1.5x", "2x", "0.5x", "10x"]),
    st.from_regex(r"[0-9]{1,2}(\.[0-9]{1,2})?x", fullmatch=True),
).map(lambda r: n.Multiplier(raw=r))
currencies = st.sampled_from(CURRENCIES)
money = st.builds(n.Money, amount=numbers, currency=currencies)
DURATION_UNITS = ("day", "days", "week", "weeks", "month", "months", "quarter", "quarters",
                  "year", "years")
durations = st.builds(n.Duration, count=numbers, unit=st.sampled_from(DURATION_UNITS))
dates = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2099, 12, 31)).map(
    lambda d: n.DateLit(raw=d.isoformat()))
periods = st.one_of(
    st.integers(2000, 2099).map(lambda y: f"FY{y}"),
    st.tuples(st.integers(2000, 2099), st.sampled_from(["-Q1", "-Q2", "-Q3", "-Q4", "-H1", "-H2"]))
    .map(lambda t: f"FY{t[0]}{t[1]}"),
    st.tuples(st.integers(2000, 2099),
              # Q5, H3, 13: tokens the grammar reads as periods and the checker refuses
              st.sampled_from(["Q1", "Q2", "Q3", "Q4", "H1", "H2", "01", "03", "12", "Q5", "H3",
                               "13"]))
    .map(lambda t: f"{t[0]}-{t[1]}"),
).map(lambda r: n.PeriodLit(raw=r))
years = st.integers(1990, 2099).map(lambda y: n.YearLit(raw=str(y)))
period_refs = st.one_of(periods, years)

_TEXT_CHARS = st.characters(codec="utf-8", exclude_characters='"\\\n\r\x00') | st.sampled_from(
    list(" #'%,.()é€"))
_ESCAPES = st.sampled_from(['\\"', "\\\\", "\\n", "\\t", "\\#", "\\é"])


@st.composite
def text_raws(draw):
    chunk = st.one_of(st.text(_TEXT_CHARS, min_size=1, max_size=6),
                      st.from_regex(r"[a-z_ 0-9#]{1,8}", fullmatch=True), _ESCAPES)
    parts = draw(st.lists(chunk, max_size=4))
    return '"' + "".join(parts) + '"'


texts = st.one_of(
    st.sampled_from(['"new_business"', '"P3"', '"technical_win"', '"east"', '""']),
    text_raws(),
).map(lambda r: n.Text(raw=r))
bools = st.builds(n.Bool, value=st.booleans())

date_ranges = st.builds(n.DateRange, start=dates, end=st.one_of(st.none(), dates))

# ------------------------------------------------------------------------------ expressions
# Binding levels, loosest first (grammar/incentive.lark, "expressions"):
#   0 if/then/else, 1 or, 2 and, 3 not, 4 comparison, 5 + -, 6 * / of, 7 unary -, 8 atom.

IF, OR, AND, NOT, CMP, SUM, PROD, NEG, ATOM = range(9)
COMPARE_OPS = (">=", "<=", "!=", "=", ">", "<", "reaches", "is", "is not", "in", "not in")
BINARY_LEVELS = {"or": OR, "and": AND, "+": SUM, "-": SUM, "*": PROD, "/": PROD, "of": PROD,
                 **{op: CMP for op in COMPARE_OPS}}


def level(e: n.Expr) -> int:
    if isinstance(e, n.IfThenElse):
        return IF
    if isinstance(e, n.Binary):
        return BINARY_LEVELS[e.op]
    if isinstance(e, n.Unary):
        return NOT if e.op == "not" else NEG
    if isinstance(e, (n.OneOf, n.InRange)):
        return CMP
    return ATOM


def at_least(e: n.Expr, minimum: int) -> n.Expr:
    """`e`, parenthesised if it binds more loosely than the position needs."""
    return e if level(e) >= minimum else n.Paren(inner=e)


LITERALS = (n.Number, n.Percent, n.Multiplier, n.Money, n.Duration, n.DateLit, n.PeriodLit,
            n.Text, n.Bool)
_LITERAL_STRATEGIES = {
    n.Number: numbers, n.Percent: percents, n.Multiplier: multipliers, n.Money: money,
    n.Duration: durations, n.DateLit: dates, n.PeriodLit: periods, n.Text: texts, n.Bool: bools,
}
literals = st.one_of(*_LITERAL_STRATEGIES.values())
LEAF_KINDS = LITERALS + (n.Ref, n.FieldRef, n.QuotaRef, n.TeamRef)
COMPOUND_KINDS = (n.Call, n.Paren, n.Unary, n.Binary, n.OneOf, n.InRange, n.IfThenElse)
EXPR_KINDS = LEAF_KINDS + COMPOUND_KINDS

field_refs = st.builds(
    lambda head, rest: n.FieldRef(parts=tuple(n.Ident(text=p) for p in (head, *rest))),
    st.sampled_from(FIELD_HEADS), st.lists(st.sampled_from(FIELD_PARTS), min_size=1, max_size=2))
refs = st.one_of(idents, st.sampled_from(["activities", "deals"]).map(lambda t: n.Ident(text=t))
                 ).map(lambda i: n.Ref(name=i))
_LEAF_STRATEGIES = {
    **_LITERAL_STRATEGIES,
    n.Ref: refs,
    n.FieldRef: field_refs,
    n.QuotaRef: st.builds(n.QuotaRef, name=idents),
    n.TeamRef: st.builds(n.TeamRef, name=idents),
}
leaves = st.one_of(*_LEAF_STRATEGIES.values())


@st.composite
def exprs(draw, minimum: int = IF, depth: int = 2, kind: type | None = None):
    """An expression that may stand where the grammar needs binding level `minimum` (IF: any
    `expr`; SUM: a `sum_expr`). `kind` forces the class of the outermost node (before any
    Paren added for precedence)."""
    if kind is None:
        if depth <= 0 or draw(st.integers(0, 2)) == 0:
            kind = draw(st.sampled_from(LEAF_KINDS))
        else:
            kind = draw(st.sampled_from(COMPOUND_KINDS))
    sub = max(depth - 1, 0)

    def child(minimum_level: int) -> n.Expr:
        return draw(exprs(minimum_level, sub))

    if kind in _LEAF_STRATEGIES:
        e = draw(_LEAF_STRATEGIES[kind])
    elif kind is n.Call:
        args = tuple(child(IF) for _ in range(draw(st.integers(0, 3))))
        where = child(IF) if args and draw(st.booleans()) else None  # `f( where x)` is no call
        func = draw(st.sampled_from(FUNCTIONS + NAMES[:4]))
        e = n.Call(func=n.Ident(text=func), args=args, where=where)
    elif kind is n.Paren:
        e = n.Paren(inner=child(IF))
    elif kind is n.Unary:
        if draw(st.booleans()):
            e = n.Unary(op="not", operand=child(NOT))
        else:
            e = n.Unary(op="-", operand=child(NEG))
    elif kind is n.Binary:
        op = draw(st.sampled_from(sorted(BINARY_LEVELS)))
        lv = BINARY_LEVELS[op]
        if lv == CMP:  # non-associative: both sides are sum_expr
            e = n.Binary(op=op, left=child(SUM), right=child(SUM))
        else:  # left-associative
            e = n.Binary(op=op, left=child(lv), right=child(lv + 1))
    elif kind is n.OneOf:
        options = tuple(child(IF) for _ in range(draw(st.integers(1, 3))))
        e = n.OneOf(operand=child(SUM), options=options, negated=draw(st.booleans()))
    elif kind is n.InRange:
        e = n.InRange(operand=child(SUM), low=child(SUM), high=child(SUM),
                      negated=draw(st.booleans()))
    elif kind is n.IfThenElse:
        e = n.IfThenElse(condition=child(IF), then=child(IF), otherwise=child(IF))
    else:  # pragma: no cover - a new expression class this module does not know yet
        raise AssertionError(kind)
    return at_least(e, minimum)


any_exprs = exprs(IF)
sum_exprs = exprs(SUM)
quantities = st.one_of(money, numbers)

# ------------------------------------------------------------------------------ statements


def stmt(cls, **fields):
    """A statement of class `cls` with optional comments above and beside it."""
    return st.builds(cls, leading=leading_comments, trailing=trailing_comment, **fields)


PERIOD_UNITS = ("month", "quarter", "half", "year", "pay period")
period_units = st.sampled_from(PERIOD_UNITS)
optional_period = st.one_of(st.none(), period_units)

# plan header
PLAN_ITEMS = {
    n.CurrencyDecl: stmt(n.CurrencyDecl, code=currencies.map(lambda c: n.Ident(text=c))),
    n.EffectiveDecl: stmt(n.EffectiveDecl, range=date_ranges),
    n.VersionDecl: stmt(n.VersionDecl, label=texts),
    n.RolesDecl: stmt(n.RolesDecl, roles=role_lists),
    n.AppliesDecl: stmt(n.AppliesDecl, roles=role_lists),
    n.FiscalDecl: stmt(n.FiscalDecl, month=st.sampled_from(MONTHS).map(lambda m: n.Ident(text=m))),
    n.RoundingDecl: stmt(n.RoundingDecl,
                         mode=st.sampled_from(["half up", "half even", "half down", "up", "down"]),
                         point=st.sampled_from(["line", "statement"])),
    n.FxDecl: stmt(n.FxDecl, basis=st.sampled_from(["event date", "period end"])),
    n.VocabularyDecl: stmt(n.VocabularyDecl,
                           kind=st.sampled_from(["stages", "channels", "activities"]),
                           values=tuples(texts)),
}

# fields
FIELD_KINDS = ("text", "number", "count", "money", "percent", "date", "duration", "yes or no")
field_decls = st.one_of(
    stmt(n.FieldDecl, owner=st.sampled_from(["deal", "payee"]), name=idents,
         kind=st.sampled_from(FIELD_KINDS)),
    stmt(n.FieldDecl, owner=st.sampled_from(["deal", "payee"]), name=idents,
         kind=st.just("one of"), options=tuples(texts)),
)
FIELDS_ITEMS = {n.FieldDecl: field_decls}

# quotas
QUOTA_ITEMS = {
    n.QuotaValue: stmt(
        n.QuotaValue, amount=quantities, period=period_units,
        roles=st.one_of(st.just(()), role_lists),
        valid=st.one_of(st.none(), date_ranges)),
    n.QuotaFromData: stmt(n.QuotaFromData),
    n.QuotaForecast: stmt(
        n.QuotaForecast, uplift=st.one_of(st.none(), percents),
        method=st.sampled_from(["trailing average", "linear trend", "seasonal naive"]),
        measure=idents, count=small_numbers,
        unit=st.sampled_from(["month", "months", "quarter", "quarters", "year", "years"])),
    n.QuotaProration: stmt(n.QuotaProration, basis=st.sampled_from([None, "days", "months"])),
    n.QuotaRamp: stmt(n.QuotaRamp, steps=tuples(st.builds(n.RampStep, month=small_numbers,
                                                           share=percents))),
    n.QuotaNormalize: stmt(n.QuotaNormalize),
}

# shared lines
triggers = st.one_of(
    st.builds(n.Trigger, kind=st.just("deal"),
              event=st.sampled_from(["booked", "cancelled", "amended", "invoiced", "collected"]),
              subject=st.none(), where=st.one_of(st.none(), any_exprs)),
    st.builds(n.Trigger, kind=st.sampled_from(["stage", "activity"]), event=st.none(),
              subject=texts, where=st.one_of(st.none(), any_exprs)),
)
limits = stmt(n.Limit, kind=st.sampled_from(["cap", "floor"]), amount=sum_exprs,
              scope=st.sampled_from(["deal", "total", *PERIOD_UNITS]))
SHARED = {
    n.RolesFilter: stmt(n.RolesFilter, roles=role_lists),
    n.During: stmt(n.During, range=date_ranges),
}
WHEN = {n.When: stmt(n.When, condition=any_exprs)}
LIMIT = {n.Limit: limits}
shares = st.builds(n.Share, name=roles, share=percents)

# credits
CREDIT_ITEMS = {
    n.OnEvent: stmt(n.OnEvent, trigger=triggers),
    n.ValueLine: stmt(n.ValueLine, value=any_exprs),
    n.SplitRule: st.one_of(
        stmt(n.SplitRule, mode=st.sampled_from(["recorded", "evenly", "owner"])),
        stmt(n.SplitRule, mode=st.just("by role"), shares=tuples(shares)),
    ),
    n.Overlay: stmt(n.Overlay, roles=role_lists, share=percents),
    n.RollUp: stmt(n.RollUp, scope=st.sampled_from(["managers", "direct manager"])),
    n.Attribution: st.one_of(
        stmt(n.Attribution, model=st.sampled_from(["first touch", "last touch",
                                                   "linear touches"])),
        stmt(n.Attribution, model=st.just("position"),
             weights=st.tuples(percents, percents, percents)),
    ),
    n.DigitalCredit: stmt(n.DigitalCredit, share=percents),
    n.CancelledCredit: stmt(n.CancelledCredit, choice=st.sampled_from(["keep", "lose"])),
    **SHARED,
}

# commission
tier_rows = stmt(n.TierRow, low=sum_exprs, high=st.one_of(st.none(), sum_exprs), rate=sum_exprs)
bound_rules = stmt(n.BoundRule, side=st.sampled_from(["above", "below"]))
COMMISSION_ITEMS = {
    n.BaseLine: stmt(n.BaseLine, credit=idents),
    n.RateLine: stmt(n.RateLine, rate=any_exprs),
    n.TierTable: stmt(
        n.TierTable, mode=st.sampled_from([None, "marginal", "retroactive"]),
        key=st.one_of(st.none(), idents), period=optional_period,
        items=tuples(st.one_of(tier_rows, bound_rules), max_size=4)),
    n.Accelerator: stmt(
        n.Accelerator, kind=st.sampled_from(["accelerate", "decelerate"]), factor=multipliers,
        key=idents, period=optional_period, side=st.sampled_from(["above", "below"]),
        threshold=sum_exprs),
    **LIMIT, **WHEN, **SHARED,
}

# bonuses
BONUS_ITEMS = {
    n.StepSchedule: stmt(n.StepSchedule, key=idents, period=period_units,
                         rows=tuples(stmt(n.StepRow, threshold=sum_exprs, pay=any_exprs))),
    n.LinearSchedule: stmt(
        n.LinearSchedule, key=idents, period=period_units,
        low=stmt(n.LinearPoint, end=st.just("from"), threshold=sum_exprs, pay=any_exprs),
        high=stmt(n.LinearPoint, end=st.just("to"), threshold=sum_exprs, pay=any_exprs)),
    **WHEN, **LIMIT, **SHARED,
}

# event rewards
SPIFF_ITEMS = {
    n.OnEvent: stmt(n.OnEvent, trigger=triggers),
    n.PayLine: stmt(n.PayLine, amount=any_exprs),
    n.Budget: stmt(n.Budget, amount=quantities),
    **LIMIT, **SHARED,
}
STAGE_ITEMS = {
    n.StagePay: stmt(n.StagePay, stage=texts, where=st.one_of(st.none(), any_exprs),
                     amount=any_exprs),
    n.NetAgainst: stmt(n.NetAgainst, component=idents),
    **LIMIT, **SHARED,
}
ACTIVITY_ITEMS = {
    n.ActivityPay: stmt(n.ActivityPay, activity=texts, where=st.one_of(st.none(), any_exprs),
                        amount=any_exprs),
    **LIMIT, **SHARED,
}

# pools and overrides
POOL_ITEMS = {
    n.PeriodicAmount: stmt(n.PeriodicAmount, verb=st.just("fund"), amount=any_exprs,
                           period=period_units),
    n.ShareRule: st.one_of(stmt(n.ShareRule, mode=st.just("equally")),
                           stmt(n.ShareRule, mode=st.just("by"), by=idents)),
    **WHEN, **LIMIT, **SHARED,
}
OVERRIDE_ITEMS = {
    n.PeriodicAmount: stmt(n.PeriodicAmount, verb=st.just("pay"), amount=any_exprs,
                           period=period_units),
    **WHEN, **LIMIT, **SHARED,
}

# clawbacks
CLAWBACK_ITEMS = {
    n.CancelWindow: stmt(n.CancelWindow, within=durations),
    n.Reverse: stmt(n.Reverse, components=name_lists, share=st.one_of(st.none(), percents)),
    **SHARED,
}

# payout
PAYOUT_ITEMS = {
    n.Frequency: st.one_of(
        stmt(n.Frequency, frequency=st.sampled_from(["monthly", "quarterly", "semiannually",
                                                     "annually", "semimonthly", "biweekly"])),
        stmt(n.Frequency, frequency=st.just("biweekly"), start=dates)),
    n.Schedule: stmt(n.Schedule, legs=tuples(st.builds(
        n.ScheduleLeg, share=percents,
        event=st.sampled_from(["booked", "invoiced", "collected"])))),
    n.Holdback: st.one_of(
        stmt(n.Holdback, share=percents, release=st.just("for"), duration=durations),
        stmt(n.Holdback, share=percents, release=st.just("until"), date=dates),
        stmt(n.Holdback, share=percents, release=st.just("year end")),
    ),
    n.Draw: st.one_of(
        stmt(n.Draw, amount=any_exprs, period=period_units,
             recovery=st.sampled_from(["non-recoverable", "excess", "all earnings"]),
             months=st.one_of(st.none(), small_numbers),
             forgiveness=st.sampled_from([None, "termination"])),
        stmt(n.Draw, amount=any_exprs, period=period_units,
             recovery=st.sampled_from(["non-recoverable", "excess", "all earnings"]),
             months=st.one_of(st.none(), small_numbers),
             forgiveness=st.just("at"), forgive_date=dates),
    ),
    n.Advance: st.one_of(
        stmt(n.Advance, amount=any_exprs, period=period_units, months=small_numbers),
        stmt(n.Advance, amount=any_exprs)),
    n.RecoverAdvances: stmt(n.RecoverAdvances, share=st.one_of(st.none(), percents)),
    n.ForgiveAdvances: st.one_of(stmt(n.ForgiveAdvances, when=st.just("termination")),
                                 stmt(n.ForgiveAdvances, when=st.just("at"), date=dates)),
    **LIMIT,
}

# compensation
COMPENSATION_ITEMS = {
    n.CompensationAmount: stmt(
        n.CompensationAmount, kind=st.sampled_from(["base salary", "target incentive"]),
        amount=any_exprs, period=period_units, roles=st.one_of(st.just(()), name_lists),
        valid=st.one_of(st.none(), date_ranges)),
}

# examples
payee_attrs = st.one_of(
    st.builds(n.Attr, key=st.just("role"), value=roles),
    st.builds(n.Attr, key=st.sampled_from(["from", "to"]), value=dates),
    st.builds(n.Attr, key=st.just("manager"), value=idents),
    st.builds(n.Attr, key=st.sampled_from(["team", "territory"]), value=texts),
)
# A custom field's key: a name, and keys the formatter must quote to read back as that key
# (three capitals or a duration unit after a plain number, the line's own attribute words, a key
# that is not a name), and words that are keywords elsewhere.
FIELD_KEYS = (*NAMES, "ARR", "ACV", "MGR", "months", "day", "years", "by", "amount", "split",
              "true", "in", "x", "deal size", 'say "hi"', "back\\slash", "9lives")
event_attrs = st.one_of(
    st.builds(n.Attr, key=st.just("by"), value=idents),
    st.builds(n.Attr, key=st.just("amount"), value=money),
    st.builds(n.Attr, key=st.just("split"), value=tuples(st.builds(n.Share, name=idents,
                                                                    share=percents))),
    st.builds(n.Attr, key=st.sampled_from(FIELD_KEYS), value=literals, custom=st.just(True)),
)
attr_lists = st.lists(event_attrs, max_size=3).map(tuple)
EXAMPLE_ITEMS = {
    n.ExamplePayee: stmt(n.ExamplePayee, payee=idents,
                         attrs=st.lists(payee_attrs, max_size=3).map(tuple)),
    n.ExampleEvent: st.one_of(
        stmt(n.ExampleEvent, deal=st.one_of(idents, texts),
             kind=st.sampled_from(["booked", "cancelled", "amended", "invoiced", "collected"]),
             subject=st.none(), date=dates, attrs=attr_lists),
        stmt(n.ExampleEvent, deal=st.one_of(idents, texts),
             kind=st.sampled_from(["stage", "touch"]), subject=texts, date=dates,
             attrs=attr_lists),
    ),
    n.ExampleActivity: stmt(n.ExampleActivity, activity=texts, date=dates, by=idents,
                            attrs=attr_lists),
    n.ExampleQuota: stmt(n.ExampleQuota, quota=idents, payee=idents, period=period_refs,
                         amount=quantities),
    n.ExampleFx: stmt(n.ExampleFx, source=money, target=money, date=dates),
    n.ExampleTerritory: stmt(n.ExampleTerritory, territory=texts, index=percents),
    n.Expectation: st.one_of(
        stmt(n.Expectation, kind=st.just("rule"), target=idents, payee=idents,
             period=period_refs, value=any_exprs),
        stmt(n.Expectation, kind=st.sampled_from(["total", "paid"]), target=st.none(),
             payee=idents, period=period_refs, value=any_exprs),
    ),
}

# ------------------------------------------------------------------------------ blocks

# Block class -> the statements its body may hold.
BLOCK_ITEMS: dict[type, dict[type, st.SearchStrategy]] = {
    n.PlanBlock: PLAN_ITEMS,
    n.FieldsBlock: FIELDS_ITEMS,
    n.QuotaBlock: QUOTA_ITEMS,
    n.CreditBlock: CREDIT_ITEMS,
    n.MeasureBlock: {},
    n.CommissionBlock: COMMISSION_ITEMS,
    n.BonusBlock: BONUS_ITEMS,
    n.SpiffBlock: SPIFF_ITEMS,
    n.StageRewardBlock: STAGE_ITEMS,
    n.ActivityRewardBlock: ACTIVITY_ITEMS,
    n.PoolBlock: POOL_ITEMS,
    n.OverrideBlock: OVERRIDE_ITEMS,
    n.ClawbackBlock: CLAWBACK_ITEMS,
    n.PayoutBlock: PAYOUT_ITEMS,
    n.CompensationBlock: COMPENSATION_ITEMS,
    n.ExampleBlock: EXAMPLE_ITEMS,
}
labels = st.one_of(st.none(), texts)


@st.composite
def blocks(draw, cls: type | None = None, force=None, max_items: int = 4):
    """A block of class `cls` (any kind if None); `force` is a statement class its body must
    include, or a strategy for a statement it must include."""
    if cls is None:
        cls = draw(st.sampled_from(list(BLOCK_ITEMS)))
    head = {"leading": draw(leading_comments), "trailing": draw(trailing_comment)}
    if cls is n.MeasureBlock:
        return n.MeasureBlock(name=draw(idents), label=draw(labels), expr=draw(any_exprs), **head)
    options = BLOCK_ITEMS[cls]
    items = draw(st.lists(st.one_of(*options.values()), min_size=1, max_size=max_items))
    if force is not None:
        forced = options[force] if isinstance(force, type) else force
        items.insert(draw(st.integers(0, len(items))), draw(forced))
    items = tuple(items)
    if cls in (n.PlanBlock, n.ExampleBlock):
        return cls(name=draw(texts), items=items, **head)
    if cls in (n.FieldsBlock, n.PayoutBlock, n.CompensationBlock):
        return cls(items=items, **head)
    return cls(name=draw(idents), label=draw(labels), items=items, **head)


@st.composite
def plan_files(draw, max_blocks: int = 5, block_strategy=None):
    block_strategy = block_strategy if block_strategy is not None else blocks()
    return n.PlanFile(
        path=PATH,
        blocks=tuple(draw(st.lists(block_strategy, max_size=max_blocks))),
        trailing_comments=draw(st.one_of(st.just(()), tuples(comments, max_size=2))),
    )


# ------------------------------------------------------------------------------ coverage


# Parts of statements (and the file itself): a block and a statement that certainly holds one.
PART_HOSTS = {
    n.Comment: (n.MeasureBlock, None),
    n.Ident: (n.MeasureBlock, None),
    n.PlanFile: (n.MeasureBlock, None),
    n.DateRange: (n.PlanBlock, stmt(n.EffectiveDecl, range=date_ranges)),
    n.Share: (n.CreditBlock, stmt(n.SplitRule, mode=st.just("by role"), shares=tuples(shares))),
    n.Trigger: (n.CreditBlock, stmt(n.OnEvent, trigger=triggers)),
    n.RampStep: (n.QuotaBlock, QUOTA_ITEMS[n.QuotaRamp]),
    n.ScheduleLeg: (n.PayoutBlock, PAYOUT_ITEMS[n.Schedule]),
    n.Attr: (n.ExampleBlock, stmt(n.ExamplePayee, payee=idents,
                                  attrs=st.lists(payee_attrs, min_size=1, max_size=3).map(tuple))),
    n.TierRow: (n.CommissionBlock, stmt(
        n.TierTable, mode=st.sampled_from([None, "marginal", "retroactive"]),
        key=st.one_of(st.none(), idents), period=optional_period,
        items=st.tuples(bound_rules, tier_rows).map(lambda t: t[1:]))),
    n.BoundRule: (n.CommissionBlock, stmt(
        n.TierTable, mode=st.sampled_from([None, "marginal", "retroactive"]),
        key=st.one_of(st.none(), idents), period=optional_period,
        items=st.tuples(bound_rules, tuples(tier_rows, min_size=0)).map(
            lambda t: (t[0],) + t[1]))),
    n.StepRow: (n.BonusBlock, BONUS_ITEMS[n.StepSchedule]),
    n.LinearPoint: (n.BonusBlock, BONUS_ITEMS[n.LinearSchedule]),
    n.YearLit: (n.ExampleBlock, stmt(n.Expectation, kind=st.sampled_from(["total", "paid"]),
                                     target=st.none(), payee=idents, period=years,
                                     value=any_exprs)),
}


def file_containing(cls: type) -> st.SearchStrategy[n.PlanFile]:
    """Plan files that certainly contain a node of class `cls` (for the coverage test, and for
    a round trip per construct)."""
    if cls is n.Comment:
        return st.builds(lambda f, c: attrs.evolve(f, trailing_comments=f.trailing_comments + (c,)),
                         plan_files(max_blocks=2), comments)
    if cls in PART_HOSTS:
        block_cls, host = PART_HOSTS[cls]
        return blocks(block_cls, force=host, max_items=2).map(
            lambda b: n.PlanFile(path=PATH, blocks=(b,)))
    if cls in BLOCK_ITEMS:
        return blocks(cls).map(lambda b: n.PlanFile(path=PATH, blocks=(b,)))
    for block_cls, items in BLOCK_ITEMS.items():
        if cls in items:
            return blocks(block_cls, force=cls, max_items=2).map(
                lambda b: n.PlanFile(path=PATH, blocks=(b,)))
    if cls in EXPR_KINDS:
        return exprs(IF, 2, kind=cls).map(
            lambda e: n.PlanFile(path=PATH, blocks=(n.MeasureBlock(name=n.Ident(text="m"),
                                                                   expr=e),)))
    raise KeyError(cls)


def walk(value: object):
    """Every node (and comment) in `value`, iteratively."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, (n.Node, n.Comment)):
            yield v
        if isinstance(v, n.Statement):
            stack.extend(v.leading)
            if v.trailing is not None:
                stack.append(v.trailing)
        if isinstance(v, n.PlanFile):
            stack.extend(v.trailing_comments)
        stack.extend(n.children(v))
