"""Finance exports: commission accruals at a period end, and the amortisation schedule of
capitalised commissions (ASC 340-40), as CSV a ledger system can import (docs/finance.md).

Both read a run's records; nothing is recomputed. Amounts are exact money: every column is a
sum of payout lines (already rounded as the plan says) or of earning lines rounded once, to
the currency's minor unit in the plan's rounding mode, as the payout stage rounds a line.

Accruals: what a payee has earned and is not yet paid at the end of the period, in parts a
controller can book separately:

    accrued = unpaid_payable + held_back + awaiting_collection - carried_forward

Amortisation: each capitalised earning line (by default every commission rule's lines) is
expensed straight-line over the stated benefit period from the month of its date: each month
the amount divided by the months, rounded down to the minor unit, and the cents left over in
the last month, so the months add up to the capitalised amount exactly. A clawback line gets
a negative schedule of its own from its month, so a deal's rows net to what it finally cost.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal

import attrs

from incentive_dsl.check.model import CommissionSpec
from incentive_dsl.eval.money import CONTEXT, ZERO, quantum, round_money
from incentive_dsl.eval.run import RunResult
from incentive_dsl.periods import Period, add_months

ACCRUAL_COLUMNS = ("period", "as_of", "payee", "earned_in_period", "paid_in_period",
                   "unpaid_payable", "held_back", "awaiting_collection", "carried_forward",
                   "accrued", "draw_receivable", "advance_receivable", "currency")
AMORTISATION_COLUMNS = ("payee", "deal", "rule", "kind", "earning", "capitalised_on",
                        "capitalised", "benefit_months", "month", "amortisation", "remaining",
                        "currency")
HOLD_KINDS = ("holdback", "release")


@attrs.frozen
class Accrual:
    period: str
    as_of: dt.date
    payee: str
    earned_in_period: Decimal  # earning lines dated in the period
    paid_in_period: Decimal  # paid on the statements of pay periods inside the period
    unpaid_payable: Decimal  # on statements of pay periods still running at as_of
    held_back: Decimal  # withheld by holdbacks and not released by as_of
    awaiting_collection: Decimal  # earned, payable when the customer's money comes in
    carried_forward: Decimal  # negative pay to recover from later pay (reduces the accrual)
    draw_receivable: Decimal  # recoverable draw still owed by the payee (not netted)
    currency: str
    advance_receivable: Decimal = ZERO  # advances still owed by the payee (not netted)

    @property
    def accrued(self) -> Decimal:
        return (self.unpaid_payable + self.held_back + self.awaiting_collection
                - self.carried_forward)

    def row(self) -> list[str]:
        return [self.period, self.as_of.isoformat(), self.payee,
                *(_amount(getattr(self, c)) for c in ACCRUAL_COLUMNS[3:10]),
                _amount(self.draw_receivable), _amount(self.advance_receivable), self.currency]


def _amount(value: Decimal) -> str:
    return format(value, "f")


def accruals(result: RunResult, window: Period, ledger_view=None) -> list[Accrual]:
    """Per payee, what is earned and not paid at the end of `window`. `result` must be a run
    up to `window.end` (api.run(..., until=window.end)): what is awaiting collection is as of
    the run's end. With `ledger_view` (audit.ledger.with_ledger of `result`), closed pay
    periods count as recorded, with the prior-period adjustments and the pay they carry
    forward (`closed_after` says when the ledger cannot be read as of `window.end`)."""
    from incentive_dsl.audit.ledger import CARRY

    plan = result.plan
    cur, mode = plan.currency, plan.rounding.mode
    as_of = window.end
    by_payee: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    if ledger_view is not None:
        if not ledger_view.adjustments:
            # The run ends with the last closed pay period: the corrections the first open one
            # will pay are owed (or to recover) already. They are what the recomputation of
            # the closed pay periods differs by from what was paid for them.
            # A correction of a holdback pays net of it and is held back as well, as the
            # holdback lines of the pay periods are below.
            closed = set(ledger_view.closed)
            for p in result.payouts:
                if p.pay_period in closed:
                    by_payee[p.payee]["unpaid"] += p.amount
                    if p.kind in HOLD_KINDS:
                        by_payee[p.payee]["held"] -= p.amount
            for p in ledger_view.result.payouts:
                if p.pay_period in closed and p.kind != CARRY:
                    by_payee[p.payee]["unpaid"] -= p.amount
                    if p.kind in HOLD_KINDS:
                        by_payee[p.payee]["held"] += p.amount
        for adj in ledger_view.adjustments:
            if adj.kind in HOLD_KINDS:  # its line is counted in pay below, like the others
                by_payee[adj.payee]["held"] -= adj.amount
        result = ledger_view.result
    settled = {s.pay_period for s in result.statements if s.end <= as_of}
    for p in result.payouts:
        totals = by_payee[p.payee]
        if p.kind == "awaiting collection":
            totals["awaiting"] += p.amount
            continue
        if p.kind == CARRY:
            # The ledger's carried adjustments: what a paid pay period carried out (its
            # carry line, less what later paid ones recovered) is still to recover. In a pay
            # period still running, the carry is not made yet: its adjustments count in full.
            if p.pay_period in settled:
                totals["ledger_carry"] += p.amount
            continue
        if p.kind in HOLD_KINDS:
            totals["held"] -= p.amount  # holdback lines are negative, releases positive
        if p.pay_period not in settled:
            totals["unpaid"] += p.amount  # net of its holdback: that is in held_back
    last: dict[str, object] = {}
    for s in result.statements:
        totals = by_payee[s.payee]
        if s.pay_period in settled:
            if s.payee not in last or last[s.payee].start < s.start:
                last[s.payee] = s
            if window.start <= s.start:
                totals["paid"] += s.paid
    for e in result.earnings:
        if window.contains(e.date):
            by_payee[e.payee]["earned"] += e.amount
    out = []
    for payee in sorted(by_payee):
        t = by_payee[payee]
        st = last.get(payee)

        def cents(value: Decimal) -> Decimal:
            return round_money(value, cur, mode)

        out.append(Accrual(
            period=window.label, as_of=as_of, payee=payee,
            earned_in_period=cents(t["earned"]), paid_in_period=cents(t["paid"]),
            unpaid_payable=cents(t["unpaid"]), held_back=cents(t["held"]),
            awaiting_collection=cents(t["awaiting"]),
            carried_forward=cents((st.carried if st is not None else ZERO)
                                  + t["ledger_carry"]),
            draw_receivable=cents(st.draw_balance) if st is not None else cents(ZERO),
            advance_receivable=cents(st.advance_balance) if st is not None else cents(ZERO),
            currency=cur))
    return out


def closed_after(view, window: Period) -> str | None:
    """Why accruals as of `window.end` cannot be read through the ledger `view`
    (audit.ledger.LedgerRun), or None: pay periods closed that end after it were recorded
    later, and the ledger keeps what was paid, not what had been paid by a date."""
    later = sorted({(s.end, s.pay_period) for s in view.result.statements
                    if s.pay_period in view.closed and s.end > window.end})
    if not later:
        return None
    labels = [label for _, label in later]
    shown = (f"{labels[0]} is closed there and ends" if len(labels) == 1 else
             f"{labels[0]} to {labels[-1]} are closed there and end")
    return (f"accruals as of {window.end} cannot be read from the ledger {view.path}: {shown} "
            f"after that date. Give a period that ends on or after {later[-1][0]} (the end of "
            "the last closed pay period), or leave out --ledger for today's recomputation")


def accruals_csv(rows: Sequence[Accrual]) -> str:
    return _csv(ACCRUAL_COLUMNS, rows)


# ------------------------------------------------------------------------------ amortisation


@attrs.frozen
class AmortisationRow:
    payee: str
    deal: str | None
    rule: str
    kind: str
    earning: str
    capitalised_on: dt.date
    capitalised: Decimal
    benefit_months: int
    month: str  # YYYY-MM
    amortisation: Decimal
    remaining: Decimal  # still capitalised after this month
    currency: str

    def row(self) -> list[str]:
        return [self.payee, self.deal or "", self.rule, self.kind, self.earning,
                self.capitalised_on.isoformat(), _amount(self.capitalised),
                str(self.benefit_months), self.month, _amount(self.amortisation),
                _amount(self.remaining), self.currency]


def straight_line(amount: Decimal, months: int, currency: str) -> list[Decimal]:
    """`amount` (a whole number of minor units) in `months` equal parts rounded towards zero
    to the minor unit, the units left over added to the last month: the parts add up to
    `amount` exactly and differ by less than `months` minor units."""
    if months < 1:
        raise ValueError("the benefit period is at least one month")
    q = quantum(currency)
    units = int(CONTEXT.divide(amount, q))
    base = abs(units) // months * (1 if units >= 0 else -1)
    parts = [CONTEXT.multiply(Decimal(base), q)] * months
    parts[-1] = CONTEXT.multiply(Decimal(units - base * (months - 1)), q)
    return parts


def capitalised_rules(result: RunResult) -> tuple[str, ...]:
    """The rules capitalised by default: every commission rule (incremental costs of
    obtaining a contract); SPIFFs, bonuses and the rest are expensed unless named."""
    return tuple(c.name for c in result.plan.components if isinstance(c, CommissionSpec))


def amortisation(result: RunResult, benefit_months: int, rules: Sequence[str] = (),
                 window: Period | None = None) -> list[AmortisationRow]:
    """The straight-line schedule of every earning line of `rules` (default:
    `capitalised_rules`) dated in `window`, over `benefit_months` months from its month."""
    plan = result.plan
    cur, mode = plan.currency, plan.rounding.mode
    wanted = set(rules or capitalised_rules(result))
    out = []
    for e in sorted(result.earnings, key=lambda e: (e.payee, e.date, e.id)):
        if e.component not in wanted or (window is not None and not window.contains(e.date)):
            continue
        amount = round_money(e.amount, cur, mode)
        if not amount:
            continue
        remaining = amount
        for i, part in enumerate(straight_line(amount, benefit_months, cur)):
            year, month = add_months(e.date.year, e.date.month, i)
            remaining -= part
            out.append(AmortisationRow(
                payee=e.payee, deal=e.deal, rule=e.component, kind=e.kind, earning=e.id,
                capitalised_on=e.date, capitalised=amount, benefit_months=benefit_months,
                month=f"{year:04d}-{month:02d}", amortisation=part, remaining=remaining,
                currency=cur))
    return out


def amortisation_csv(rows: Sequence[AmortisationRow]) -> str:
    return _csv(AMORTISATION_COLUMNS, rows)


def _csv(columns: Sequence[str], rows) -> str:
    """The rows as CSV under a header of `columns` (each row knows its own cells)."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(columns)
    for r in rows:
        w.writerow(r.row())
    return out.getvalue()
