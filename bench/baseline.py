"""bench/reference.plan, written out by hand in plain Python: no parser, no checker, no
interpreter. It is the yardstick for the interpreter's speed (bench/run_bench.py) and a second
opinion on its arithmetic (bench/check_baseline.py compares payouts to the cent).

    import baseline                      # with bench/ on sys.path
    paid = baseline.payouts(dataset)     # {(payee, "2027-03"): Decimal("1234.56"), ...}

The plan, as implemented here (docs/language.md section in brackets):

- Money is exact: Decimal for amounts with a finite decimal form, Fraction where they have none
  (a prorated quota); amounts from the data are converted to USD at the latest rate dated on
  or before the event, rounded half-even to the cent [5.3].
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
  sum of its months, a fraction [8].
- Commission `core`, marginal rates by quarterly attainment, worked in money space: the tiers
  are the credit intervals [0, quota), [quota, 1.5 x quota), [1.5 x quota, ...) (bounds exact
  fractions); each 2027 credit line covers [credit of the quarter before it, after it) and
  earns 8%, 12% or 15% of the part of that interval inside each tier, exactly; with a zero
  quota, attainment is 0% (8%). Each line is rounded half even to the cent, except that the
  lines of one split deal's shares are rounded as a whole, the rounded whole shared to the cent
  in proportion to their exact amounts (largest remainders, ties to the earlier payee id)
  [12.3, 5.4].
- SPIFF `p3`: 500 USD to the owner of each deal booked 2027-04-01..2027-06-30 with product
  P3, if the owner is an AE or SE employed that day [14].
- Clawback `churn`: a deal's first cancellation, in 2027 and at most 90 days after booking,
  reverses every core and p3 line of that deal dated on or before the cancellation, at its
  original amount, dated at the cancellation [19].
- Payout: each line rounded half-even to the cent, then allocated 50/50 (the odd cent to the
  booked half); clawback lines follow the same schedule. The booked half is paid in the line's
  month; the collected half is paid as the deal's collections come in, collection by
  collection in date and id order: after each, the part x min(1, collected so far / booked
  amount), rounded half even, is released in all, so each collection pays that less what the
  earlier ones paid, in the month of max(collection, line) date; what is never collected
  stays unpaid. A negative collected half (of a clawback or of an amendment
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
HALF = Decimal("0.5")
YEAR_START, YEAR_END = dt.date(2027, 1, 1), dt.date(2027, 12, 31)
SPIFF_START, SPIFF_END = dt.date(2027, 4, 1), dt.date(2027, 6, 30)
SPIFF_PAY = Decimal(500)
ROLES = ("AE", "SE")
PLAN_QUOTA = {"AE": Decimal(250_000), "SE": Decimal(400_000)}  # per quarter
TIER_BOUNDS = (Fraction(0), Fraction(1), Fraction(3, 2))  # lower bounds, as shares of the quota
TIER_RATES = (Decimal("0.08"), Decimal("0.12"), Decimal("0.15"))
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
    wsum = sum(weights)  # Decimal or Fraction weights
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
                credit.append((e.date, KIND_RANK[e.kind], e.deal, e.id, payee, part,
                               bool(b.splits)))
    credit.sort(key=lambda c: c[:5])  # processing order, then payee

    # Commission lines (payee, date, deal, amount) and the credit of each payee-quarter so far.
    earnings = []
    so_far = defaultdict(lambda: ZERO)
    quotas = {}
    rows = {(q.payee, q.period): q.amount for q in ds.quotas if q.quota == "bookings"}
    shares = defaultdict(list)  # event -> indexes of the commission lines of its split shares
    for day, _, deal, event, payee, part, split in credit:
        if not YEAR_START <= day <= YEAR_END:
            continue
        y, q = quarter_of(day)
        key = (payee, y, q)
        if key not in quotas:
            quotas[key] = _quarter_quota(roster, rows, payee, y, q)
        before = so_far[key]
        after = so_far[key] = before + part
        if split:
            shares[event].append(len(earnings))
        earnings.append([payee, day, deal, _commission(before, after, quotas[key]),
                         "commission"])
    # Rounding per line: the shares of one split deal are rounded as a whole and shared out
    # in proportion to their exact amounts; every other line on its own.
    rounded = set()
    for places in shares.values():
        exact = [Fraction(earnings[i][3]) for i in places]
        if len(places) < 2 or not (all(x >= 0 for x in exact) or all(x <= 0 for x in exact)):
            continue
        whole = _round_cents(sum(exact))
        weights = [abs(x) for x in exact]
        if not any(weights):
            continue
        for i, part in zip(places, allocate(whole, weights)):
            earnings[i][3] = part
            rounded.add(i)
    for i, line in enumerate(earnings):
        if i not in rounded:
            line[3] = _round_cents(line[3])

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
        released = collected = ZERO
        for mv in sorted(collections.get(deal, ()), key=lambda e: (e.date, e.id)):
            if abs(released) >= abs(collected_half) or not base:
                break
            collected += fx.usd(mv.amount, mv.currency, mv.date)
            share = Fraction(collected) / Fraction(base)
            now = collected_half if share >= 1 else _round_cents(Fraction(collected_half) * share)
            piece = now - released
            if piece:
                when = max(mv.date, day)
                if when <= YEAR_END:
                    due[(payee, month_label(when))] += piece
                released = now

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


def _quarter_quota(roster: Roster, rows: dict, payee: str, y: int, q: int) -> Fraction:
    """Exact (a fraction), month by month."""
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
    return total


def _commission(before: Decimal, after: Decimal, quota: Fraction) -> Decimal | Fraction:
    """The exact commission of the credit from `before` to `after`."""
    if before == after:
        return ZERO
    lo, hi = min(before, after), max(before, after)
    sign = 1 if after > before else -1
    if not quota:  # attainment over a zero quota is 0%
        return sign * (hi - lo) * TIER_RATES[0]
    lows = [quota * b for b in TIER_BOUNDS]  # in money: 0, quota, 1.5 x quota
    tiers = list(zip(lows, lows[1:] + [None], TIER_RATES))
    # the common case: the whole credit inside one tier, in plain Decimal arithmetic
    for i, (low, high, rate) in enumerate(tiers):
        if (i == 0 or low <= lo) and (high is None or hi <= high):
            return sign * (hi - lo) * rate
    total = Fraction(0)
    for i, (low, high, rate) in enumerate(tiers):
        a = Fraction(lo) if i == 0 else max(Fraction(lo), low)  # below 0 is the first tier
        b = Fraction(hi) if high is None else min(Fraction(hi), high)
        if b > a:
            total += (b - a) * Fraction(rate)
    return sign * total


def _round_cents(x) -> Decimal:
    """A Decimal or a Fraction rounded half even to the cent."""
    if isinstance(x, Decimal):
        return cents(x)
    return Decimal(round(x * 100)) / 100  # Fraction.__round__ rounds half to even
