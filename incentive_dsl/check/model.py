"""The checked plan: what the checker guarantees and the interpreter consumes.

Everything here has been resolved and validated: names exist, units agree, tier tables are
contiguous, shares total 100%, constants are exact Decimals in the plan currency. Expressions
stay syntax nodes (immutable, with spans for traces); the checker guarantees they are well
typed, so the interpreter never re-checks. Every spec keeps the span of the text it came from,
so every payout line can cite its rule and source line.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs

from incentive_dsl.periods import Calendar
from incentive_dsl.span import Span
from incentive_dsl.syntax import nodes as n

spec = attrs.frozen(kw_only=True)


@spec
class Rounding:
    mode: str = "half even"  # half up, half even, half down, up, down
    point: str = "line"  # line or statement


@spec
class FieldSpec:
    owner: str  # deal or payee
    name: str
    kind: str  # text, number, count, money, percent, date, duration, yes or no, one of
    options: tuple[str, ...] = ()


@spec
class LimitSpec:
    kind: str  # cap or floor
    amount: Decimal
    scope: str  # deal, month, quarter, half, year, total
    span: Span


@spec
class Window:
    """`during`: only events dated inside count (both days included)."""

    start: dt.date
    end: dt.date | None

    def contains(self, day: dt.date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


@spec
class RuleCommon:
    name: str
    label: str
    span: Span
    roles: tuple[str, ...] = ()  # empty: every role the plan applies to
    during: Window | None = None
    limits: tuple[LimitSpec, ...] = ()
    when: n.Expr | None = None


# ------------------------------------------------------------------------------ quotas


@spec
class QuotaValueSpec:
    amount: Decimal
    per: str  # month, quarter, half, year
    roles: tuple[str, ...]
    start: dt.date | None
    end: dt.date | None
    span: Span


@spec
class ForecastSpec:
    method: str  # trailing average, linear trend, seasonal naive
    measure: str
    count: int
    unit: str  # month, quarter, year
    uplift: Decimal  # 1.10 for "110% of"
    span: Span


@spec
class QuotaSpec:
    name: str
    label: str
    span: Span
    kind: str  # money or count
    values: tuple[QuotaValueSpec, ...] = ()
    from_data: bool = False
    forecast: ForecastSpec | None = None
    proration: str | None = None  # days, months
    ramp: tuple[Decimal, ...] = ()  # ramp[k] multiplies tenure month k+1
    normalize: bool = False


# ------------------------------------------------------------------------------ credits


@spec
class TriggerSpec:
    kind: str  # deal, stage, activity
    event: str | None  # booked, cancelled, amended, invoiced, collected (kind deal)
    subject: str | None  # stage or activity name
    where: n.Expr | None
    span: Span


@spec
class CreditSpec(RuleCommon):
    trigger: TriggerSpec
    value: n.Expr | None = None  # None: the event amount
    split: str = "owner"  # owner, recorded, evenly, by role
    role_shares: tuple[tuple[str, Decimal], ...] = ()
    overlays: tuple[tuple[tuple[str, ...], Decimal], ...] = ()
    rollup: str | None = None  # managers, direct manager
    attribution: str | None = None  # first touch, last touch, linear touches, position
    position_weights: tuple[Decimal, Decimal, Decimal] | None = None
    digital_share: Decimal = Decimal(0)
    # Whether a cancelled deal's credit is taken back at the cancellation ("lose") or kept
    # ("keep", also when the plan does not say).
    cancelled: str = "keep"


@spec
class MeasureSpec:
    name: str
    label: str
    expr: n.Expr
    kind: str  # the type's kind: money, percent, count, number
    span: Span


# ------------------------------------------------------------------------------ components


@spec
class TierRowSpec:
    low: Decimal
    high: Decimal | None
    rate: Decimal
    span: Span
    text: str  # the row as written, for traces


@spec
class TierTableSpec:
    mode: str  # marginal or retroactive
    key: str | None  # a measure or credit name; None: the deal amount
    period: str
    bound: str  # above or below: the tier a value exactly on a bound belongs to
    rate_kind: str  # percent (of credit) or money (per unit of a count key)
    rows: tuple[TierRowSpec, ...]
    span: Span


@spec
class AcceleratorSpec:
    kind: str  # accelerate or decelerate
    factor: Decimal
    key: str
    period: str
    side: str  # above or below
    threshold: Decimal
    span: Span


@spec
class CommissionSpec(RuleCommon):
    base: str
    rate: n.Expr | None = None
    table: TierTableSpec | None = None
    accelerators: tuple[AcceleratorSpec, ...] = ()
    period: str = "month"  # the period its `when` and limits are measured in


@spec
class StepRowSpec:
    threshold: Decimal
    pay: n.Expr
    span: Span


@spec
class BonusSpec(RuleCommon):
    schedule: str  # step or linear
    key: str
    period: str
    bound: str = "above"
    steps: tuple[StepRowSpec, ...] = ()  # step; linear: exactly two (from, to)


@spec
class SpiffSpec(RuleCommon):
    trigger: TriggerSpec
    pay: n.Expr
    budget: Decimal | None = None  # shared by all payees, first come first served


@spec
class EventPaySpec:
    subject: str  # stage or activity
    where: n.Expr | None
    pay: n.Expr
    span: Span


@spec
class StageRewardSpec(RuleCommon):
    pays: tuple[EventPaySpec, ...]
    net_against: str | None = None


@spec
class ActivityRewardSpec(RuleCommon):
    pays: tuple[EventPaySpec, ...]


@spec
class PoolSpec(RuleCommon):
    fund: n.Expr
    period: str
    share: str  # equally or by
    share_by: str | None = None


@spec
class OverrideSpec(RuleCommon):
    pay: n.Expr
    period: str


Component = (CommissionSpec | BonusSpec | SpiffSpec | StageRewardSpec | ActivityRewardSpec
             | PoolSpec | OverrideSpec)


@spec
class ClawbackSpec:
    name: str
    label: str
    span: Span
    within_count: int
    within_unit: str  # day(s), week(s), month(s), quarter(s), year(s)
    components: tuple[str, ...]
    share: Decimal
    roles: tuple[str, ...] = ()
    during: Window | None = None


# ------------------------------------------------------------------------------ payout


@spec
class HoldbackSpec:
    share: Decimal
    release: str  # for, until, year end
    months: int | None = None
    days: int | None = None
    date: dt.date | None = None
    span: Span


@spec
class DrawSpec:
    amount: Decimal
    per: str
    recovery: str  # non-recoverable, excess, all earnings
    months: int | None
    forgiveness: str | None  # at, termination
    forgive_date: dt.date | None
    span: Span


@spec
class AdvanceSpec:
    """Paid whatever was earned (each pay period of the first `months` of employment, or once
    at hire), then recovered from later pay."""

    amount: Decimal
    per: str | None  # the pay period unit; None: once, at hire
    months: int | None
    recovery_share: Decimal | None  # at most this share of each payout; None: all of it
    forgiveness: str | None  # at, termination
    forgive_date: dt.date | None
    span: Span


@spec
class PayoutSpec:
    frequency: str = "monthly"
    schedule: tuple[tuple[str, Decimal], ...] = (("booked", Decimal(1)),)
    holdback: HoldbackSpec | None = None
    draw: DrawSpec | None = None
    advance: AdvanceSpec | None = None
    limits: tuple[LimitSpec, ...] = ()
    span: Span | None = None


# ------------------------------------------------------------------------------ compensation


@spec
class CompensationSpec:
    """One `base salary ...` or `target incentive ...` line: an amount per period for the
    payees of some roles, from a date."""

    kind: str  # base salary, target incentive
    amount: n.Expr  # money; may read payee fields (and base_salary, for a target incentive)
    per: str  # month, quarter, half, year
    roles: tuple[str, ...]
    start: dt.date | None
    end: dt.date | None
    span: Span


# ------------------------------------------------------------------------------ examples


@spec
class ExampleSpec:
    name: str
    span: Span
    block: n.ExampleBlock  # its inline data is turned into input records by data/examples.py


# ------------------------------------------------------------------------------ plan


@spec
class Plan:
    name: str
    path: str
    source_hash: str
    span: Span
    currency: str
    effective_start: dt.date
    effective_end: dt.date | None
    calendar: Calendar
    version: str | None = None
    effective_span: Span | None = None  # the `effective` line, which version checks cite
    roles: tuple[str, ...] = ()
    applies_to: tuple[str, ...] = ()
    rounding: Rounding = Rounding()
    fx_basis: str = "event date"
    stages: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    activities: tuple[str, ...] = ()
    fields: tuple[FieldSpec, ...] = ()
    quotas: tuple[QuotaSpec, ...] = ()
    credits: tuple[CreditSpec, ...] = ()
    measures: tuple[MeasureSpec, ...] = ()
    components: tuple[Component, ...] = ()
    clawbacks: tuple[ClawbackSpec, ...] = ()
    payout: PayoutSpec = PayoutSpec()
    compensation: tuple[CompensationSpec, ...] = ()
    examples: tuple[ExampleSpec, ...] = ()

    def quota(self, name: str) -> QuotaSpec:
        return next(q for q in self.quotas if q.name == name)

    def credit(self, name: str) -> CreditSpec:
        return next(c for c in self.credits if c.name == name)

    def measure(self, name: str) -> MeasureSpec | None:
        for m in self.measures:  # (a loop, not a generator: every commission trace asks)
            if m.name == name:
                return m
        return None

    def component(self, name: str) -> Component | None:
        return next((c for c in self.components if c.name == name), None)

    def field(self, owner: str, name: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.owner == owner and f.name == name), None)
