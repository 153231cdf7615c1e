"""Syntax tree of a plan file: frozen attrs classes, one per construct of grammar/incentive.lark.

Invariants:
- Every node has a `span`; spans (and only spans) are excluded from equality, so a tree parsed
  from reformatted text equals the original tree.
- Literals keep the text the author wrote (`raw`), so formatting never rewrites `250,000` as
  `250000`; their values are derived properties.
- Statements (one source line each) carry the comments written above them (`leading`) and at
  the end of their line (`trailing`). Expressions carry no comments.
- No Lark object is reachable from here.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Union

import attrs

from incentive_dsl.span import NO_SPAN, Span


def _span() -> Span:
    return attrs.field(default=NO_SPAN, eq=False, repr=False, kw_only=True)


node = attrs.frozen(kw_only=True)


@node
class Comment:
    """A `# ...` comment; `text` includes the leading '#'."""

    text: str
    span: Span = _span()


@node
class Node:
    span: Span = _span()


@node
class Statement(Node):
    """A node that occupies one source line (and, for blocks, owns the indented lines below)."""

    leading: tuple[Comment, ...] = attrs.field(default=(), kw_only=True)
    trailing: Comment | None = attrs.field(default=None, kw_only=True)


# ------------------------------------------------------------------------------ expressions


@node
class Expr(Node):
    """Base of everything that has a value."""


def _decimal(raw: str) -> Decimal:
    return Decimal(raw.replace(",", ""))


@node
class Number(Expr):
    """A plain number such as `3` or `1,250.5`."""

    raw: str

    @property
    def value(self) -> Decimal:
        return _decimal(self.raw)


@node
class Percent(Expr):
    """A percentage such as `8%`; `value` is the fraction (0.08)."""

    raw: str

    @property
    def value(self) -> Decimal:
        return _decimal(self.raw[:-1]) / 100


@node
class Multiplier(Expr):
    """A rate multiplier such as `1.5x`."""

    raw: str

    @property
    def value(self) -> Decimal:
        return Decimal(self.raw[:-1])


@node
class Money(Expr):
    """An amount with its currency: `250,000 USD`."""

    amount: Number
    currency: str


@node
class Duration(Expr):
    """A length of time: `90 days`, `3 months`."""

    count: Number
    unit: str


@node
class DateLit(Expr):
    """A calendar date `2027-03-31`."""

    raw: str

    @property
    def value(self) -> dt.date:
        return dt.date.fromisoformat(self.raw)


@node
class PeriodLit(Expr):
    """A named period: `2027-Q1`, `2027-03`, `2027-H2`, `FY2027`, `FY2027-Q3`."""

    raw: str


@node
class YearLit(Expr):
    """A calendar year written as a bare number where a period is expected (`in 2027`)."""

    raw: str


@node
class Text(Expr):
    """A double-quoted text; `value` has the escapes resolved."""

    raw: str

    @property
    def value(self) -> str:
        body = self.raw[1:-1]
        if "\\" not in body:
            return body
        out, i = [], 0
        while i < len(body):
            if body[i] == "\\" and i + 1 < len(body):
                out.append(body[i + 1])
                i += 2
            else:
                out.append(body[i])
                i += 1
        return "".join(out)


@node
class Bool(Expr):
    value: bool


@node
class Ident(Node):
    """A name written by the author: a rule, measure, role, payee, field or function."""

    text: str


@node
class Ref(Expr):
    """A bare name used as a value: a measure, credit, component or role."""

    name: Ident


@node
class FieldRef(Expr):
    """`deal.amount`, `payee.territory`: a field of the record in scope."""

    parts: tuple[Ident, ...]


@node
class QuotaRef(Expr):
    """`quota bookings`: the payee's quota for the period being measured."""

    name: Ident


@node
class TeamRef(Expr):
    """`team bookings`: a measure computed over the payee's direct reports."""

    name: Ident


@node
class Call(Expr):
    """`sum(bookings where deal.product is "P3")`, `min(a, b)`: aggregates and functions."""

    func: Ident
    args: tuple[Expr, ...]
    where: Expr | None = None


@node
class Paren(Expr):
    inner: Expr


@node
class Unary(Expr):
    """`-x` or `not x`."""

    op: str
    operand: Expr


@node
class Binary(Expr):
    """Arithmetic (`+ - * / of`), logic (`and or`) and comparison (`= != < <= > >= is`,
    `is not`, `reaches`, `in`, `not in`)."""

    op: str
    left: Expr
    right: Expr


@node
class OneOf(Expr):
    """`x is one of ("a", "b")` or `x is not one of (...)`."""

    operand: Expr
    options: tuple[Expr, ...]
    negated: bool = False


@node
class InRange(Expr):
    """`x in low to high` (both ends included) or `x not in low to high`."""

    operand: Expr
    low: Expr
    high: Expr
    negated: bool = False


@node
class IfThenElse(Expr):
    condition: Expr
    then: Expr
    otherwise: Expr


# ------------------------------------------------------------------------------ shared parts


@node
class DateRange(Node):
    """`2027-01-01 to 2027-12-31` (both days included) or `from 2027-07-01` (open-ended)."""

    start: DateLit
    end: DateLit | None


@node
class Share(Node):
    """`AE 70%` in a role split, `ana 60%` in a recorded split."""

    name: Ident
    share: Percent


@node
class Trigger(Node):
    """What event a rule reacts to: `on deal booked where ...`, `on deal reaching "demo"`,
    `on activity "meeting"`."""

    kind: str  # "deal", "stage" or "activity"
    event: str | None  # for kind "deal": booked, cancelled, amended, invoiced, collected
    subject: Text | None  # the stage or activity name
    where: Expr | None = None


@node
class RolesFilter(Statement):
    """`for role AE, SE`: the rule applies to payees holding one of these roles."""

    roles: tuple[Ident, ...]


@node
class During(Statement):
    """`during 2027-04-01 to 2027-06-30`: only events dated in the range count."""

    range: DateRange


@node
class When(Statement):
    """`when <condition>`: the rule pays only for periods (or events) where it holds."""

    condition: Expr


@node
class Limit(Statement):
    """`cap 150,000 USD per year`, `floor 500 USD per month`, `cap 20,000 USD per deal`,
    `cap 1,000,000 USD in total`."""

    kind: str  # "cap" or "floor"
    amount: Expr
    scope: str  # "deal", "month", "quarter", "half", "year" or "total"


# ------------------------------------------------------------------------------ plan header


@node
class CurrencyDecl(Statement):
    code: Ident


@node
class EffectiveDecl(Statement):
    range: DateRange


@node
class VersionDecl(Statement):
    label: Text


@node
class RolesDecl(Statement):
    roles: tuple[Ident, ...]


@node
class AppliesDecl(Statement):
    roles: tuple[Ident, ...]


@node
class FiscalDecl(Statement):
    month: Ident


@node
class RoundingDecl(Statement):
    mode: str  # "half up", "half even", "half down", "up", "down"
    point: str  # "line" or "statement"


@node
class FxDecl(Statement):
    basis: str  # "event date" or "period end"


@node
class VocabularyDecl(Statement):
    kind: str  # "stages", "channels" or "activities"
    values: tuple[Text, ...]


@node
class Block(Statement):
    """A top-level block: a header line and the indented statements it owns."""

    items: tuple[Statement, ...] = ()


@node
class RuleBlock(Block):
    """A named block; `name` is how diffs, statements and other rules cite it."""

    name: Ident
    label: Text | None = None


@node
class PlanBlock(Block):
    name: Text


# ------------------------------------------------------------------------------ fields


@node
class FieldDecl(Statement):
    """`deal.segment one of "smb", "ent"` or `deal.seats count`."""

    owner: str  # "deal" or "payee"
    name: Ident
    kind: str  # text, number, count, money, percent, date, duration, "yes or no", "one of"
    options: tuple[Text, ...] = ()


@node
class FieldsBlock(Block):
    pass


# ------------------------------------------------------------------------------ quotas


@node
class QuotaValue(Statement):
    """`250,000 USD per quarter for role AE from 2027-07-01`."""

    amount: Expr  # Money or Number
    period: str
    roles: tuple[Ident, ...] = ()
    valid: DateRange | None = None


@node
class QuotaFromData(Statement):
    pass


@node
class QuotaForecast(Statement):
    """`forecast 110% of trailing average of bookings over 4 quarters`."""

    uplift: Percent | None
    method: str  # "trailing average", "linear trend", "seasonal naive"
    measure: Ident
    count: Number
    unit: str


@node
class QuotaProration(Statement):
    basis: str | None  # "days", "months"; None for `no proration`


@node
class RampStep(Node):
    month: Number
    share: Percent


@node
class QuotaRamp(Statement):
    steps: tuple[RampStep, ...]


@node
class QuotaNormalize(Statement):
    pass


@node
class QuotaBlock(RuleBlock):
    pass


# ------------------------------------------------------------------------------ credits


@node
class OnEvent(Statement):
    trigger: Trigger


@node
class ValueLine(Statement):
    value: Expr


@node
class SplitRule(Statement):
    mode: str  # "recorded", "evenly", "by role", "owner"
    shares: tuple[Share, ...] = ()


@node
class Overlay(Statement):
    roles: tuple[Ident, ...]
    share: Percent


@node
class RollUp(Statement):
    scope: str  # "managers" or "direct manager"


@node
class Attribution(Statement):
    model: str  # "first touch", "last touch", "linear touches", "position"
    weights: tuple[Percent, ...] = ()


@node
class DigitalCredit(Statement):
    share: Percent


@node
class Budget(Statement):
    """`budget 10,000 USD first come first served` (a SPIFF's budget for all payees)."""

    amount: Expr


@node
class CancelledCredit(Statement):
    """`cancelled deals keep their credit` / `cancelled deals lose their credit`."""

    choice: str  # "keep" or "lose"


@node
class CreditBlock(RuleBlock):
    pass


# ------------------------------------------------------------------------------ measures


@node
class MeasureBlock(RuleBlock):
    expr: Expr


# ------------------------------------------------------------------------------ commission


@node
class BaseLine(Statement):
    credit: Ident


@node
class RateLine(Statement):
    rate: Expr


@node
class BoundRule(Statement):
    side: str  # "above" or "below"


@node
class TierRow(Statement):
    low: Expr
    high: Expr | None
    rate: Expr


@node
class TierTable(Statement):
    mode: str | None  # "marginal", "retroactive"; None when the author left it out
    key: Ident | None  # None: keyed on the deal amount
    period: str | None
    items: tuple[Statement, ...]  # BoundRule and TierRow


@node
class Accelerator(Statement):
    kind: str  # "accelerate" or "decelerate"
    factor: Multiplier
    key: Ident
    period: str | None
    side: str
    threshold: Expr


@node
class CommissionBlock(RuleBlock):
    pass


# ------------------------------------------------------------------------------ bonuses


@node
class StepRow(Statement):
    threshold: Expr
    pay: Expr


@node
class StepSchedule(Statement):
    key: Ident
    period: str
    rows: tuple[StepRow, ...]


@node
class LinearPoint(Statement):
    end: str  # "from" or "to"
    threshold: Expr
    pay: Expr


@node
class LinearSchedule(Statement):
    key: Ident
    period: str
    low: LinearPoint
    high: LinearPoint


@node
class BonusBlock(RuleBlock):
    pass


# ------------------------------------------------------------------------------ event rewards


@node
class PayLine(Statement):
    amount: Expr


@node
class SpiffBlock(RuleBlock):
    pass


@node
class StagePay(Statement):
    stage: Text
    where: Expr | None
    amount: Expr


@node
class NetAgainst(Statement):
    component: Ident


@node
class StageRewardBlock(RuleBlock):
    pass


@node
class ActivityPay(Statement):
    activity: Text
    where: Expr | None
    amount: Expr


@node
class ActivityRewardBlock(RuleBlock):
    pass


# ------------------------------------------------------------------------------ pools, overrides


@node
class PeriodicAmount(Statement):
    """`fund 2% of team bookings per quarter` (pools) or `pay ... per quarter` (overrides)."""

    verb: str  # "fund" or "pay"
    amount: Expr
    period: str


@node
class ShareRule(Statement):
    mode: str  # "equally" or "by"
    by: Ident | None = None


@node
class PoolBlock(RuleBlock):
    pass


@node
class OverrideBlock(RuleBlock):
    pass


# ------------------------------------------------------------------------------ clawbacks


@node
class CancelWindow(Statement):
    within: Duration


@node
class Reverse(Statement):
    components: tuple[Ident, ...]
    share: Percent | None  # None: 100% of the original amounts


@node
class ClawbackBlock(RuleBlock):
    pass


# ------------------------------------------------------------------------------ payout


@node
class Frequency(Statement):
    frequency: str
    start: DateLit | None = None  # bi-weekly: the first day of a pay period


@node
class ScheduleLeg(Node):
    share: Percent
    event: str  # booked, invoiced, collected


@node
class Schedule(Statement):
    legs: tuple[ScheduleLeg, ...]


@node
class Holdback(Statement):
    share: Percent
    release: str  # "for", "until" or "year end"
    duration: Duration | None = None
    date: DateLit | None = None


@node
class Draw(Statement):
    amount: Expr
    period: str
    recovery: str  # "non-recoverable", "excess", "all earnings"
    months: Number | None = None
    forgiveness: str | None = None  # "at" or "termination"
    forgive_date: DateLit | None = None


@node
class Advance(Statement):
    """`advance 3,000 USD per month for the first 3 months of employment`, or
    `advance 10,000 USD at hire`: paid whatever was earned."""

    amount: Expr
    period: str | None = None  # None: once, at hire
    months: Number | None = None


@node
class RecoverAdvances(Statement):
    share: Percent | None = None  # at most this share of each payout; None: all of it


@node
class ForgiveAdvances(Statement):
    when: str  # "at" or "termination"
    date: DateLit | None = None


@node
class PayoutBlock(Block):
    pass


# ------------------------------------------------------------------------------ compensation


@node
class CompensationAmount(Statement):
    """`base salary 90,000 USD per year for role AE from 2027-07-01`, or
    `target incentive 40% of base_salary per year`."""

    kind: str  # "base salary" or "target incentive"
    amount: Expr
    period: str
    roles: tuple[Ident, ...] = ()
    valid: DateRange | None = None


@node
class CompensationBlock(Block):
    pass


# ------------------------------------------------------------------------------ examples

AttrValue = Union[Expr, Ident, tuple[Share, ...]]


# A name (the grammar's NAME): a custom field's key that is not one is quoted in an example line.
NAME_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@node
class Attr(Node):
    """One `key value` pair on an example line: `role AE`, `amount 300,000 USD`,
    `split ana 60%, bob 40%`, or a custom field `type "new_business"`."""

    key: str
    value: AttrValue
    custom: bool = False


@node
class ExamplePayee(Statement):
    payee: Ident
    attrs: tuple[Attr, ...]


@node
class ExampleEvent(Statement):
    """`deal D1 booked 2027-02-10 by ana amount 300,000 USD type "new_business"`."""

    deal: Ident | Text
    kind: str  # booked, cancelled, amended, invoiced, collected, stage, touch
    subject: Text | None
    date: DateLit
    attrs: tuple[Attr, ...]


@node
class ExampleActivity(Statement):
    activity: Text
    date: DateLit
    by: Ident
    attrs: tuple[Attr, ...]


@node
class ExampleQuota(Statement):
    quota: Ident
    payee: Ident
    period: PeriodLit | YearLit
    amount: Expr


@node
class ExampleFx(Statement):
    """`fx 1 EUR is 1.08 USD from 2027-01-01`."""

    source: Money
    target: Money
    date: DateLit


@node
class ExampleTerritory(Statement):
    territory: Text
    index: Percent


@node
class Expectation(Statement):
    """`expect core for ana in 2027-Q1 is 26,000 USD`; target None with kind total/paid."""

    kind: str  # "rule", "total" or "paid"
    target: Ident | None
    payee: Ident
    period: PeriodLit | YearLit
    value: Expr


@node
class ExampleBlock(Block):
    name: Text


# ------------------------------------------------------------------------------ file


@node
class PlanFile(Node):
    """A parsed file: its blocks in source order and the comments after the last block."""

    path: str
    blocks: tuple[Block, ...]
    trailing_comments: tuple[Comment, ...] = ()


def children(value: object) -> list[object]:
    """The nodes directly inside `value` (a node or a tuple), in field order. Used by walkers
    that must not recurse (deeply nested input is checked with an explicit stack)."""
    if isinstance(value, tuple):
        return [v for v in value if isinstance(v, (Node, Comment, tuple))]
    if not isinstance(value, Node):
        return []
    out = []
    for f in attrs.fields(type(value)):
        if f.name in ("span", "leading", "trailing"):
            continue
        v = getattr(value, f.name)
        if isinstance(v, (Node, tuple)):
            out.append(v)
    return out


def walk(root: object):
    """Every node inside `root` (itself included), depth first, without recursion."""
    stack = [root]
    while stack:
        value = stack.pop()
        if isinstance(value, Node):
            yield value
        stack.extend(reversed(children(value)))
