"""bench/credit_heavy.plan written by hand: a plain Python loop in Decimal, no parser, no
interpreter. It is what the interpreter is timed against on the credit-heavy workload
(bench/gen_credit.py), and a second opinion on its arithmetic: both must pay the same to the
cent per payee and month.

    PYTHONPATH=. python bench/baseline_credit.py DATA_DIR OUT.csv   # read, evaluate, write

Two entry points: `payouts(dataset)` on an in-memory Dataset (timed against `evaluate`), and
`run(directory, out)`, which also reads the CSV files with its own reader and writes a
statement CSV (timed against `incentive run --format csv`, end to end).

The plan, as implemented here (section numbers of docs/language.md):

- Credit `bookings`: each booked deal's amount (USD), split as recorded: `allocate` splits the
  cents in proportion to the shares, floors first, then a cent each to the largest
  remainders (ties: the first payee in payee order); without splits all to the owner. A payee
  gets credit only when employed on the booking date (every rep is an AE) [9].
- Quota `bookings`: the quotas row of the payee's quarter, else 400,000 USD (no proration).
- Commission `core`: marginal tiers on the running quarterly attainment, computed in money:
  the tier boundaries are quota x 100% and quota x 150%, and a credit moving the payee's
  quarter from c0 to c1 earns 8% of the part of [c0, c1] below the first boundary, 12% of the
  part between the two and 15% of the part above. Every amount is exact (no quotient is
  taken) [12.3].
- SPIFF `p3`: 250 USD to the owner of each P3 deal booked 2027-04-01..2027-09-30, if employed.
- Clawback `churn`: a deal cancelled at most 90 days after its booking has every core and p3
  line dated on or before the cancellation reversed at its original amount, dated at the
  cancellation [19].
- Rounding per line [5.4]: each line half-even to the cent, except that the commission lines
  of one split deal are rounded as a whole (their exact sum rounded, then shared to the cent in
  proportion to the exact amounts, leftover cents to the largest remainders, ties to the
  earlier payee id); a clawback reverses the rounded lines.
- Payout: all paid in the line's month; a month whose
  pay would be negative pays nothing and carries the amount into the next month [20].
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import math
import os
import sys
from collections import defaultdict
from decimal import Decimal
from fractions import Fraction

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from baseline import CONTEXT, allocate, cents  # noqa: E402  (the other baseline's helpers)

ZERO = Decimal(0)
YEAR_START, YEAR_END = dt.date(2027, 1, 1), dt.date(2027, 12, 31)
SPIFF_START, SPIFF_END = dt.date(2027, 4, 1), dt.date(2027, 9, 30)
SPIFF_PAY = Decimal(250)
PLAN_QUOTA = Decimal(400_000)
RATES = (Decimal("0.08"), Decimal("0.12"), Decimal("0.15"))
SECOND, THIRD = Decimal(1), Decimal("1.5")  # tier bounds, as shares of the quota
CLAWBACK_DAYS = 90
MONTHS = [f"2027-{m:02d}" for m in range(1, 13)]


class Booking:
    """What the plan reads of a booked deal."""

    __slots__ = ("id", "deal", "date", "amount", "owner", "splits", "product")

    def __init__(self, id, deal, date, amount, owner, splits, product) -> None:
        self.id, self.deal, self.date, self.amount = id, deal, date, amount
        self.owner, self.splits, self.product = owner, splits, product


def payouts(ds) -> dict[tuple[str, str], Decimal]:
    """Pay per (payee, month) of 2027, for months that pay something, from a Dataset."""
    bookings, cancels = [], {}
    for e in ds.events:  # in processing order: date, kind, deal, id
        if e.kind == "booked":
            bookings.append(Booking(e.id, e.deal, e.date, e.amount, e.owner, e.splits,
                                    e.field("product")))
        elif e.kind == "cancelled":
            cancels.setdefault(e.deal, e.date)
    employed = {}
    for p in ds.payees:
        employed[p.id] = (p.start, p.end)
    quotas = {(q.payee, q.period): q.amount for q in ds.quotas if q.quota == "bookings"}
    with decimal.localcontext(CONTEXT):
        return _pay(_earnings(bookings, cancels, employed, quotas))[0]


def _earnings(bookings, cancels, employed, quotas):
    """Due per (payee, month), and the statement columns (earned, clawed back) per payee-month."""
    def works(payee, day):
        span = employed.get(payee)
        return span is not None and span[0] <= day and (span[1] is None or day <= span[1])

    clawable = {}  # deal -> cancellation date, for deals cancelled inside the window
    booked_on = {b.deal: b.date for b in bookings}
    for deal, day in cancels.items():
        when = booked_on.get(deal)
        if when is not None and YEAR_START <= day <= YEAR_END and \
                (day - when).days <= CLAWBACK_DAYS:
            clawable[deal] = day
    earned = defaultdict(lambda: ZERO)
    clawed = defaultdict(lambda: ZERO)
    so_far = {}  # (payee, quarter) -> credit so far
    bounds = {}  # (payee, quarter) -> (quota x 100%, quota x 150%)
    month_of = {}
    for b in bookings:
        day = b.date
        if not YEAR_START <= day <= YEAR_END:
            continue
        month = month_of.get(day)
        if month is None:
            month = month_of[day] = f"{day.year:04d}-{day.month:02d}"
        quarter = f"{day.year}-Q{(day.month - 1) // 3 + 1}"
        if b.splits:
            splits = sorted(b.splits)
            parts = allocate(b.amount, [w for _, w in splits])
            payees = [p for p, _ in splits]
        else:
            payees, parts = [b.owner], [b.amount]
        lines = []
        for payee, part in zip(payees, parts):
            if not works(payee, day):
                continue
            key = (payee, quarter)
            bound = bounds.get(key)
            if bound is None:
                quota = quotas.get(key, PLAN_QUOTA)
                bound = bounds[key] = (quota * SECOND, quota * THIRD)
            c0 = so_far.get(key, ZERO)
            c1 = so_far[key] = c0 + part
            amount = ZERO
            lo = c0
            for rate, top in zip(RATES, (*bound, None)):
                hi = c1 if top is None else min(c1, top)
                if hi > lo:
                    amount += (hi - lo) * rate
                    lo = hi
            lines.append((payee, amount))
        lines = _round_shares(lines)
        if b.product == "P3" and SPIFF_START <= day <= SPIFF_END and works(b.owner, day):
            lines.append((b.owner, SPIFF_PAY))
        for payee, amount in lines:
            earned[(payee, month)] += amount
        cancel = clawable.get(b.deal)
        if cancel is not None and day <= cancel:
            back = f"{cancel.year:04d}-{cancel.month:02d}"
            for payee, amount in lines:
                clawed[(payee, back)] -= amount
    return earned, clawed


def _round_shares(lines):
    """Commission lines rounded per line, the shares of a split deal as a whole [5.4]: their
    exact sum rounded half-even, then shared to the cent in proportion to the exact amounts,
    leftover cents to the largest remainders (ties: the earlier payee id). In fractions."""
    if len(lines) < 2:
        return [(payee, cents(amount)) for payee, amount in lines]
    total = sum((a for _, a in lines), ZERO)
    units = int(cents(total) * 100)
    exact = [Fraction(units) * Fraction(a) / Fraction(total) for _, a in lines]
    parts = [math.floor(x) for x in exact]
    order = sorted(range(len(lines)), key=lambda i: (-(exact[i] - parts[i]), lines[i][0]))
    for i in order[:units - sum(parts)]:
        parts[i] += 1
    return [(payee, Decimal(n) / 100) for (payee, _), n in zip(lines, parts)]


def _pay(columns):
    """Pay per payee-month (months paying nothing left out), and the statement rows."""
    earned, clawed = columns
    paid, rows = {}, []
    for payee in sorted({p for p, _ in earned} | {p for p, _ in clawed}):
        carried = ZERO
        for month in MONTHS:
            key = (payee, month)
            e, c = earned.get(key, ZERO), clawed.get(key, ZERO)
            total = e + c - carried
            carried = -total if total < 0 else ZERO
            pay = total if total > 0 else ZERO
            if pay:
                paid[key] = pay
            rows.append((payee, month, e, c, pay, carried))
    return paid, rows


# ------------------------------------------------------------------------------ end to end


def read(directory: str):
    """The files gen_credit.py writes, read with the csv module (trusted input: no checks)."""
    dates: dict[str, dt.date] = {}

    def day(text):
        d = dates.get(text)
        if d is None:
            d = dates[text] = dt.date.fromisoformat(text)
        return d

    bookings, cancels = [], {}
    shares = {}
    with open(os.path.join(directory, "events.csv"), newline="") as f:
        rows = csv.reader(f)
        col = {name: i for i, name in enumerate(next(rows))}
        i_id, i_deal, i_date, i_kind = col["event_id"], col["deal_id"], col["date"], col["kind"]
        i_amount, i_owner, i_splits, i_product = (col["amount"], col["owner"], col["splits"],
                                                  col["product"])
        for r in rows:
            kind = r[i_kind]
            if kind == "booked":
                text = r[i_splits]
                splits = ()
                if text:
                    splits = shares.get(text)
                    if splits is None:
                        splits = shares[text] = tuple(
                            (p, Decimal(w) / 100) for p, w in
                            (piece.split(":") for piece in text.split(";")))
                bookings.append(Booking(r[i_id], r[i_deal], day(r[i_date]),
                                        Decimal(r[i_amount]), r[i_owner], splits,
                                        r[i_product]))
            elif kind == "cancelled":
                cancels.setdefault(r[i_deal], day(r[i_date]))
    bookings.sort(key=lambda b: (b.date, b.deal, b.id))  # processing order
    employed = {}
    with open(os.path.join(directory, "roster.csv"), newline="") as f:
        for r in csv.DictReader(f):
            employed[r["payee_id"]] = (day(r["start"]), day(r["end"]) if r["end"] else None)
    quotas = {}
    with open(os.path.join(directory, "quotas.csv"), newline="") as f:
        for r in csv.DictReader(f):
            if r["quota"] == "bookings":
                quotas[(r["payee_id"], r["period"])] = Decimal(r["amount"])
    return bookings, cancels, employed, quotas


def run(directory: str, out: str) -> dict[tuple[str, str], Decimal]:
    """Read the files, evaluate, write one statement row per payee and month."""
    with decimal.localcontext(CONTEXT):
        paid, rows = _pay(_earnings(*read(directory)))
    with open(out, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["payee", "pay_period", "earned", "clawed_back", "paid", "carried"])
        for payee, month, e, c, pay, carried in rows:
            w.writerow([payee, month, f"{e:.2f}", f"{c:.2f}", f"{pay:.2f}", f"{carried:.2f}"])
    return paid


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__.split("\n\n")[1])
    run(sys.argv[1], sys.argv[2])
