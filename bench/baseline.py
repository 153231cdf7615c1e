"""bench/reference.plan, written out by hand in plain Python: no parser, no checker, no
interpreter. It is the yardstick for the interpreter's speed (bench/run_bench.py) and a second
opinion on its arithmetic (bench/check_baseline.py compares payouts to the cent).

    import baseline                      # with bench/ on sys.path
    paid = baseline.payouts(dataset)     # {(payee, "2027-03"): Decimal("1234.56"), ...}

The plan, as implemented here (docs/language.md section in brackets):

- Money is exact Decimal in a 34-digit context (eval/money.py CONTEXT); amounts from the data
  are converted to USD at the latest rate dated on or before the event, rounded half-even to
  the cent [5.3].
- Credit `bookings`: every booked event of a deal whose `type` is new_business credits the
  deal's booked amount; every amended event credits the difference from the previous amount
  (a zero difference credits nothing) [9.1]. The value is split as recorded (all to the owner
  when no split is recorded) to the cent, largest remainders first, ties in payee id order
  [9.3]. A participant who is unknown, not employed that day or not an AE or SE that day gets
  no line (the share is not re-allocated). Lines are in the processing order of their events
  (date, kind, deal id, event id) [5.2], then by payee.
- Quota: per month, the quotas-table row covering the month (its amount / months of its
  period), else 250,000 USD (AE) or 400,000 USD (SE) per quarter by the role held on the 1st of
  the month, in thirds; times active days / days in the month. A quarter's quota is the exact
  sum of its months (fractions), converted to a 34-digit decimal once [8].
- Commission `core`, marginal rates by quarterly attainment: each 2027 credit line moves
  attainment (credit of the quarter so far / quarter quota; 0 when the quota is 0) from k0 to
  k1 and earns rate x credit x overlap / (k1 - k0) per tier: 8% to 100%, 12% to 150%, 15%
  above; when k0 = k1 the line earns the rate of the tier at k0 [12.3].
- SPIFF `p3`: 500 USD to the owner of each deal booked 2027-04-01..2027-06-30 with product
  P3, if the owner is an AE or SE employed that day [14].
- Clawback `churn`: a deal's first cancellation, in 2027 and at most 90 days after booking,
  reverses every core and p3 line of that deal dated on or before the cancellation, at its
  original amount, dated at the cancellation [19].
- Payout: each line rounded half-even to the cent, then allocated 50/50 (the odd cent to the
  booked half); clawback lines follow the same schedule. The booked half is paid in the line's
  month; the collected half is paid as the deal's collections come in, collection by
  collection in date and id order, each paying part x min(1, collected / booked amount)
  (rounded), never more than the part, in the month of max(collection, line) date; what is
  never collected stays unpaid. A negative collected half (of a clawback or of an amendment
  down) is taken back the same way, as the deal's collections come in. A
  month whose pay would be negative pays nothing and carries the amount into the next month.
  Only pay dated in 2027 counts [20].

Events must be in processing order (Event.sort_key), as load_dataset returns them.
"""

from __future__ import annotations

import bisect
import datetime as dt
import decimal
from collections import defaultdict
from decimal import Decimal
from fractions import Fraction

from incentive_dsl.data.records import Dataset

CONTEXT = decimal.Context(prec=34, rounding=decimal.ROUND_HALF_EVEN, Emin=-999999,
                          Emax=999999, traps=[decimal.InvalidOperation, decimal.DivisionByZero,
                                              decimal.Overflow])
CENT = Decimal("0.01")
ZERO = Decimal(0)
ONE = Decimal(1)
HALF = Decimal("0.5")
YEAR_START, YEAR_END = dt.date(2027, 1, 1), dt.date(2027, 12, 31)
SPIFF_START, SPIFF_END = dt.date(2027, 4, 1), dt.date(2027, 6, 30)
SPIFF_PAY = Decimal(500)
ROLES = ("AE", "SE")
PLAN_QUOTA = {"AE": Decimal(250_000), "SE": Decimal(400_000)}  # per quarter
TIERS = ((Decimal(0), Decimal(1), Decimal("0.08")),
         (Decimal(1), Decimal("1.5"), Decimal("0.12")),
         (Decimal("1.5"), None, Decimal("0.15")))
CLAWBACK_DAYS = 90
KIND_RANK = {"booked": 0, "amended": 1}  # the two kinds that give credit, in processing order


def cents(x: Decimal) -> Decimal:
    return x.quantize(CENT, rounding=decimal.ROUND_HALF_EVEN)


def month_label(d: dt.date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


def quarter_of(d: dt.date) -> tuple[int, int]:
    return d.year, (d.month - 1) // 3 + 1


def month_days(y: int, m: int) -> int:
    nxt = dt.date(y + 1, 1, 1) if m == 12 else dt.date(y, m + 1, 1)
    return (nxt - dt.date(y, m, 1)).days


def allocate(total: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """Cent-exact split: floors, then one cent each to the largest remainders (ties: first)."""
    units = int(total / CENT)
    sign, units = (-1 if units < 0 else 1), abs(units)
    wsum = sum(weights, ZERO)
    exact = [units * w / wsum for w in weights]
    floors = [int(e) for e in exact]  # exact >= 0, so int() is the floor
    left = units - sum(floors)
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return [Decimal(sign * f) * CENT for f in floors]


class Roster:
    def __init__(self, payees) -> None:
        rows = defaultdict(list)
        for r in payees:
            rows[r.id].append(r)
        self.rows = {p: sorted(rs, key=lambda r: r.effective_from or dt.date.min)
                     for p, rs in rows.items()}
        self.since = {p: [r.effective_from or dt.date.min for r in rs]
                      for p, rs in self.rows.items()}
        self.span = {p: (rs[0].start, rs[-1].end) for p, rs in self.rows.items()}

    def role(self, payee: str, day: dt.date) -> str | None:
        rs = self.rows.get(payee)
        if rs is None:
            return None
        i = bisect.bisect_right(self.since[payee], day) - 1
        return rs[max(i, 0)].role

    def employed(self, payee: str, day: dt.date) -> bool:
        start, end = self.span[payee]
        return start <= day and (end is None or day <= end)

    def eligible(self, payee: str, day: dt.date) -> bool:
        return payee in self.rows and self.employed(payee, day) and \
            self.role(payee, day) in ROLES

    def active_days(self, payee: str, first: dt.date, last: dt.date) -> int:
        start, end = self.span[payee]
        lo, hi = max(start, first), min(end or last, last)
        return max(0, (hi - lo).days + 1)


class Fx:
    def __init__(self, rates) -> None:
        by = defaultdict(list)
        for r in rates:
            if r.target == "USD":
                by[r.currency].append((r.date, r.rate))
        self.dates, self.rates = {}, {}
        for cur, rows in by.items():
            rows.sort(key=lambda x: x[0])
            self.dates[cur] = [d for d, _ in rows]
            self.rates[cur] = [r for _, r in rows]

    def usd(self, amount: Decimal, currency: str | None, day: dt.date) -> Decimal:
        if currency is None or currency == "USD":
            return amount
        i = bisect.bisect_right(self.dates[currency], day) - 1
        if i < 0:
            raise ValueError(f"no {currency}->USD rate on or before {day}")
        return cents(amount * self.rates[currency][i])


def payouts(ds: Dataset) -> dict[tuple[str, str], Decimal]:
    """Pay per (payee, month) of 2027 under bench/reference.plan (months that pay nothing are
    left out)."""
    with decimal.localcontext(CONTEXT):
        return _payouts(ds)


def _payouts(ds: Dataset) -> dict[tuple[str, str], Decimal]:
    roster = Roster(ds.payees)
    fx = Fx(ds.fx)

    # Deals: the booking (the last booked event wins), its amount in USD, collections.
    booked, amount = {}, {}
    collections = defaultdict(list)
    cancels = {}  # deal -> its first cancellation: a deal is cancelled once
    for e in ds.events:
        k = e.kind
        if k == "booked":
            booked[e.deal] = e
            amount[e.deal] = fx.usd(e.amount, e.currency, e.date)
        elif k == "collected":
            collections[e.deal].append(e)
        elif k == "cancelled":
            cancels.setdefault(e.deal, e)

    # Credit lines: (date, kind rank, deal, event id, payee, amount).
    credit = []
    previous = {}
    for e in ds.events:
        if e.kind != "booked" and e.kind != "amended":
            continue
        b = booked.get(e.deal)  # the deal as booked: owner, splits, fields
        if b is None:
            continue
        if dict(b.fields).get("type") != "new_business":
            continue
        if e.kind == "booked":
            value = previous[e.deal] = amount[e.deal]
        else:
            new = fx.usd(e.amount, e.currency, e.date)
            value = new - previous.get(e.deal, amount[e.deal])
            previous[e.deal] = new
            if value == 0:
                continue
        if b.splits:
            payees = [p for p, _ in b.splits]
            parts = allocate(value, [w for _, w in b.splits])
        else:
            payees, parts = [b.owner], [cents(value)]
        for payee, part in zip(payees, parts):
            if roster.eligible(payee, e.date):
                credit.append((e.date, KIND_RANK[e.kind], e.deal, e.id, payee, part))
    credit.sort(key=lambda c: c[:5])  # processing order, then payee

    # Commission lines (payee, date, deal, amount) and the credit of each payee-quarter so far.
    earnings = []
    so_far = defaultdict(lambda: ZERO)
    quotas = {}
    rows = {(q.payee, q.period): q.amount for q in ds.quotas if q.quota == "bookings"}
    for day, _, deal, _, payee, part in credit:
        if not YEAR_START <= day <= YEAR_END:
            continue
        y, q = quarter_of(day)
        key = (payee, y, q)
        if key not in quotas:
            quotas[key] = _quarter_quota(roster, rows, payee, y, q)
        quota = quotas[key]
        before = so_far[key]
        after = so_far[key] = before + part
        k0 = before / quota if quota else ZERO
        k1 = after / quota if quota else ZERO
        earnings.append((payee, day, deal, _marginal(k0, k1, part), "commission"))

    # SPIFF: per booked event, to the deal's owner.
    for e in ds.events:
        if e.kind != "booked" or not SPIFF_START <= e.date <= SPIFF_END:
            continue
        b = booked[e.deal]
        if dict(b.fields).get("product") == "P3" and b.owner is not None and \
                roster.eligible(b.owner, e.date):
            earnings.append((b.owner, e.date, e.deal, SPIFF_PAY, "spiff"))

    # Clawback: reverse the deal's lines at their original amounts.
    by_deal = defaultdict(list)
    for ln in earnings:
        by_deal[ln[2]].append(ln)
    clawed = []
    for c in cancels.values():
        b = booked.get(c.deal)
        if b is None or not YEAR_START <= c.date <= YEAR_END:
            continue
        if (c.date - b.date).days > CLAWBACK_DAYS:
            continue
        for payee, day, deal, amt, _ in by_deal.get(c.deal, ()):
            if day <= c.date and amt:
                clawed.append((payee, c.date, deal, -amt, "clawback"))

    # Payout: per-line rounding, half when booked, half as collected; clawbacks follow the
    # same schedule.
    due = defaultdict(lambda: ZERO)
    for payee, day, deal, amt, kind in earnings + clawed:
        line = cents(amt)
        booked_half, collected_half = allocate(line, [HALF, HALF])
        due[(payee, month_label(day))] += booked_half
        base = amount.get(deal)
        sign = -1 if collected_half < 0 else 1
        target = abs(collected_half)
        so_far = ZERO
        for mv in sorted(collections.get(deal, ()), key=lambda e: (e.date, e.id)):
            if so_far >= target or not base:
                break
            got = fx.usd(mv.amount, mv.currency, mv.date)
            piece = cents(min(target - so_far, target * min(ONE, got / base)))
            if piece:
                when = max(mv.date, day)
                if when <= YEAR_END:
                    due[(payee, month_label(when))] += sign * piece
                so_far += piece

    # A month whose pay would be negative pays nothing and carries the debt to the next month.
    paid = {}
    for payee in sorted({p for p, _ in due}):
        carried = ZERO
        for m in range(1, 13):
            key = (payee, f"2027-{m:02d}")
            total = due.get(key, ZERO) - carried
            carried = -total if total < 0 else ZERO
            if total > 0:
                paid[key] = total
    return paid


def _quarter_quota(roster: Roster, rows: dict, payee: str, y: int, q: int) -> Decimal:
    """Exact (as a fraction) month by month, converted to a 34-digit decimal once."""
    total = Fraction(0)
    for m in range(3 * q - 2, 3 * q + 1):
        first = dt.date(y, m, 1)
        days = month_days(y, m)
        row = rows.get((payee, f"{y}-Q{q}"))
        if row is not None:
            value = Fraction(row) / 3
        else:
            value = Fraction(PLAN_QUOTA.get(roster.role(payee, first), ZERO)) / 3
        if value:
            last = first + dt.timedelta(days=days - 1)
            value *= Fraction(roster.active_days(payee, first, last), days)
        total += value
    return Decimal(total.numerator) / Decimal(total.denominator)


def _marginal(k0: Decimal, k1: Decimal, part: Decimal) -> Decimal:
    if k0 == k1:
        return part * _rate_at(k0)
    lo, hi = min(k0, k1), max(k0, k1)
    width = hi - lo
    pieces = []
    for i, (low, high, rate) in enumerate(TIERS):
        a = lo if i == 0 else max(lo, low)
        b = min(hi, high if high is not None else hi)
        if b > a:
            pieces.append([part * (b - a) / width, rate])
    residue = part - sum((p[0] for p in pieces), ZERO)
    if residue:
        pieces[-1][0] += residue
    return sum((p * r for p, r in pieces), ZERO)


def _rate_at(k: Decimal) -> Decimal:
    for low, high, rate in TIERS:
        if k >= low and (high is None or k < high):
            return rate
    return TIERS[0][2] if k < TIERS[0][0] else TIERS[-1][2]
