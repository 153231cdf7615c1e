"""What each stage of evaluation produces. Every record carries its provenance: the rule and
source span it came from, the input events, and a `Trace` with the intermediate values and
the arithmetic, so any cent can be explained.

Amounts are exact Decimals in the plan currency. `EarningLine.amount` is exact; the payout
stage rounds as the plan says.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs

from incentive_dsl.span import Span

record = attrs.frozen(kw_only=True)


@record
class Trace:
    """Why a line has its amount, in business words and in arithmetic."""

    rule: str  # the rule's name, e.g. "core"
    label: str  # its label, e.g. "Core commission"
    span: Span  # the rule line (or tier row) in the plan
    because: str  # "12% of 50,000.00 USD because your 2027-Q1 attainment was 100%–150%"
    arithmetic: str = ""  # "50,000.00 × 12% = 6,000.00"
    values: tuple[tuple[str, str], ...] = ()  # intermediate values, in order
    events: tuple[str, ...] = ()  # input event ids
    inputs: tuple[str, ...] = ()  # ids of the credit or earning lines it was computed from
    touched: tuple[Span, ...] = ()  # other plan lines it went through (tier rows, accelerators)


@record
class CreditLine:
    """Credit to one payee from one event, under one credit rule."""

    id: str
    credit: str
    payee: str
    deal: str | None
    event: str
    date: dt.date
    amount: Decimal
    kind: str  # owner, split, role split, overlay, roll-up, touch
    trace: Trace


@record
class EarningLine:
    """Money earned (or taken back) under one component."""

    id: str
    component: str
    kind: str  # commission, true-up, capped, floor, condition, netting, bonus, spiff, stage,
    # activity, pool, override, clawback, plan cap
    payee: str
    date: dt.date
    period: str  # the measurement period label
    amount: Decimal
    deal: str | None
    trace: Trace


@record
class PayoutLine:
    """Money paid (or withheld) in one pay period."""

    payee: str
    pay_period: str
    kind: str  # earning, awaiting collection, holdback, release, draw, recovery, forgiven,
    # rounding
    amount: Decimal
    earning: str | None  # the earning line it pays
    trace: Trace


@record
class Skip:
    """An event or a payee-period that earned nothing under a rule, and why."""

    rule: str
    subject: str  # an event id or "payee period"
    reason: str
    date: dt.date | None = None


@record
class Statement:
    payee: str
    pay_period: str
    start: dt.date
    end: dt.date
    earned: Decimal
    capped: Decimal
    clawed_back: Decimal
    held: Decimal
    released: Decimal
    drawn: Decimal
    recovered: Decimal
    paid: Decimal
    draw_balance: Decimal  # draw still owed after this pay period
    carried: Decimal = Decimal(0)  # negative pay carried forward after this pay period
