"""Stage 4: credits and measures -> earning lines, component by component.

Order: stage rewards, activity rewards, SPIFFs and commissions (per event, in event order),
then bonuses, pools and overrides (per period, after the period closes), then clawbacks, then
the payout block's plan-wide caps. Components that read other components' earnings (an
override on the team's commission) therefore see them complete.

Every adjustment is its own line: a cap that bites is a negative `capped` line next to the
full earning; a retroactive tier crossing is a `true-up` line; a failed `when` is a
`condition` line; a clawback reverses the original lines one by one.
"""

from __future__ import annotations

import bisect
import datetime as dt
import decimal
import functools
import operator
from collections import defaultdict
from decimal import Decimal, Inexact
from fractions import Fraction
from typing import NamedTuple

import attrs

from incentive_dsl.check import model as m
from incentive_dsl.data.records import Event, Roster
from incentive_dsl.eval.context import Deal, Deals, Env, Evaluator
from incentive_dsl.eval.credits import Eligibility, eligible, event_actor
from incentive_dsl.eval.measures import MeasureEngine, CreditSeries
from incentive_dsl.eval.money import (_PCT_EXPONENT_FROM, CONTEXT, EXACT, ROUNDING_MODES, ZERO,
                                      Number, add, allocate, div, fmt, fmt_pct, fmt_rate, mul,
                                      fmt_number, quantum, round_money, sub, to_money)
from incentive_dsl.eval.records import (CreditLine, EarningLine, Later, Skips, Trace,
                                        earning_line, outside_window, raw_trace,
                                        rounded_unread)
from incentive_dsl.periods import (
    MONTHS_PER_UNIT, UNIT_DAYS, Period, add_months, month_end, unit_text)
from incentive_dsl.limits import MAX_COMPUTED_DIGITS
from incentive_dsl.progress import QUIET, Meter
from incentive_dsl.syntax import nodes as n
from incentive_dsl.syntax.format import expr as show

ONE = Decimal(1)
SHARE_KINDS = frozenset(("split", "role split", "touch"))  # credit lines that are shares
REVERSIBLE = ("commission", "true-up", "capped", "netting", "condition", "spiff", "stage")
# Orders of earning lines (key functions in C: a run sorts every line twice).
_BY_DAY = operator.attrgetter("date", "id")
_BY_DAY_PAYEE = operator.attrgetter("date", "payee", "component", "id")


class _Piece(NamedTuple):
    """A stretch of the tier key that one credit line moves through, at one rate (a named
    tuple: a run makes one or two per credit line)."""

    low: Number
    high: Number
    rate: Number
    factor: Decimal
    row: m.TierRowSpec | None
    amount: Number  # the part of the line's credit inside this stretch, exact


_COMPUTED_BOUND = Decimal(10) ** MAX_COMPUTED_DIGITS
_EXACT_ADD, _EXACT_SUB, _EXACT_MUL = EXACT.add, EXACT.subtract, EXACT.multiply


class _Quotient(NamedTuple):
    """A tier key `credit / quota` kept as its two terms when its pieces were cut in money
    space: divided (exactly) only when a trace is read."""

    credit: Decimal
    quota: Number


def _key_value(k):
    return div(k.credit, k.quota) if type(k) is _Quotient else k


def _money_bounds(rows: tuple[m.TierRowSpec, ...], quota: Number) -> tuple:
    """A marginal table's rows as stretches of credit against `quota`: (low, high, row) with
    the bounds in money (quota × bound), None for the first row's low and an open last row's
    high."""
    return tuple((None if row is rows[0] else mul(quota, row.low),
                  None if row.high is None else mul(quota, row.high), row) for row in rows)


def _period_credit(before: Decimal | None, total0: Decimal | None,
                   total1: Decimal) -> tuple[Decimal, Decimal]:
    """A payee's credit in a tier period before and after one line, from the running totals
    of their credit series: `before` the period (None in the series' first period), before
    the line (None for the period's first line) and after it. Running totals start from 0 and
    add amounts (half even): none is -0 or has a positive exponent, so the first period's are
    read as they are, the others' less the total before the period."""
    if before is None:
        return (ZERO if total0 is None else total0), total1
    return (ZERO if total0 is None else total0 - before), total1 - before


def _earned(pieces: list[_Piece] | tuple[_Piece, ...]) -> Number:
    """What a commission line's pieces earn: each piece's amount × rate (× factor), added to
    0 (which sets the zero's sign and the exponent), exactly."""
    if len(pieces) == 1:  # most lines stay inside one tier
        p = pieces[0]
        return add(ZERO, mul(p.amount, p.rate) if p.factor is ONE else
                   mul(mul(p.amount, p.rate), p.factor))
    earned = ZERO
    for p in pieces:
        part = mul(p.amount, p.rate)
        earned = add(earned, part if p.factor is ONE else mul(part, p.factor))
    return earned


def _one_tier(bounds: tuple, lo: Decimal, hi: Decimal) -> m.TierRowSpec | None:
    """The tier row whose stretch of credit (`_money_bounds`) holds all of `lo` to `hi`, or
    None when they are in different tiers."""
    for low, high, row in bounds:
        if (low is None or lo >= low) and (high is None or hi <= high):
            return row
    return None


def _cut_in_money(bounds: tuple, c0: Decimal, c1: Decimal, amount: Decimal) -> list[_Piece]:
    """The pieces of a credit line of `amount` that moves its period's credit from `c0` to
    `c1`, cut where the credit crosses the bounds (`_money_bounds`): each the part of the line
    inside one stretch, exactly; the last takes the rest."""
    lo, hi = (c0, c1) if amount > 0 else (c1, c0)
    row = _one_tier(bounds, lo, hi)
    if row is not None:  # most lines stay inside one tier: one piece, the line
        return [_Piece(lo, hi, row.rate, ONE, row, sub(amount, ZERO))]
    stretches = []
    for low, high, row in bounds:
        a = lo if low is None else max(lo, low)
        b = hi if high is None else min(hi, high)
        if b > a:
            stretches.append((a, b, row))
    pieces, done = [], ZERO
    for i, (a, b, row) in enumerate(stretches):
        cut = amount if i == len(stretches) - 1 else (
            sub(b, lo) if amount > 0 else sub(lo, b))
        pieces.append(_Piece(a, b, row.rate, ONE, row, sub(cut, done)))
        done = cut
    return pieces


def _quotient_pct(k: _Quotient) -> str:
    """`fmt_pct(_key_value(k))` in integers: one exact division, half even to four decimals,
    instead of a division and rounding of decimals or fractions (commission traces show two of
    these per line, and JSON output reads every trace)."""
    return _ratio_pct(k.credit, k.quota, *k.quota.as_integer_ratio())


def _ratio_pct(credit: Decimal, quota: Number, quota_n: int, quota_d: int) -> str:
    """`_quotient_pct` of `credit / quota`, whose integer ratio is `quota_n / quota_d`."""
    n, d = credit.as_integer_ratio()
    n, d = n * quota_d, d * quota_n
    if d < 0:
        n, d = -n, -d
    # A zero (shown "0%" or "-0%"), a zero quota or a huge quotient go the long way, and so
    # does a quotient at a tie or within 34 digits of one: `fmt_pct` rounds a finite decimal
    # of more than 34 digits to 34 before it rounds to four decimals.
    if n and d and abs(n) < _PCT_EXPONENT_FROM * d:
        whole, rest = divmod(abs(n) * 1_000_000, d)
        if abs(2 * rest - d) * _NOT_NEAR_A_TIE > d * (whole + 1):
            units, decimals = divmod(whole + (2 * rest > d), 10_000)
            sign = "-" if n < 0 else ""
            if decimals:
                return f"{sign}{units}.{f'{decimals:04d}'.rstrip('0')}%"
            return f"{sign}{units}%"
    return fmt_pct(div(credit, quota))


# 10 ** (the context's precision - 1): how near a tie `_quotient_pct` leaves to `fmt_pct`.
_NOT_NEAR_A_TIE = _PCT_EXPONENT_FROM * 10 ** 6


class EarningStage:
    def __init__(self, plan: m.Plan, engine: MeasureEngine, roster: Roster,
                 deals: Deals, evaluator: Evaluator, start: dt.date,
                 end: dt.date, claw_end: dt.date | None = None,
                 skips: Skips | None = None) -> None:
        self.plan, self.engine, self.roster = plan, engine, roster
        self.deals, self.evaluator = deals, evaluator
        self.start, self.end = start, end  # earnings are computed for this range of days
        self.claw_end = max(claw_end or end, end)  # cancellations up to here are clawed back
        self.cur = plan.currency
        self.lines: list[EarningLine] = []
        self.skips = Skips() if skips is None else skips  # added to the credit stage's
        self._deal_credit: dict[tuple, Decimal] = {}  # (commission, payee, deal) -> credit so far
        # (commission, payee, deal, tier scope) -> what the deal's lines were paid there
        self._deal_paid: dict[tuple, Decimal] = {}
        # Tier keys around the last line of the commission's base that was rated (one payee's
        # lines, consecutive): (measure, period unit) -> (period, line seq, before, after).
        self._keys_after: dict[tuple[str, str], tuple[Period, int, Decimal, Decimal]] = {}
        # Commission -> (credit, quota) when its tier key is `credit / quota` (see _money_key).
        self._money_keys: dict[str, tuple[str, str] | None] = {}
        self._deal_keyed: dict[str, bool] = {}  # commission -> `_reads_deal_credit`
        # Each event rule looks at the events of its kind only (they stay in processing order).
        self.by_kind = deals.index.by_kind
        self._ids: set[str] = set()  # line ids made, and how many lines repeat one (`_id`)
        self._repeats: dict[str, int] = {}
        self.eligible = Eligibility(plan, roster)
        # The minor unit and rounding mode lines are rounded to (`round_money`'s).
        self._minor, self._mode = quantum(self.cur), ROUNDING_MODES[plan.rounding.mode]
        self._per_line = plan.rounding.point == "line"  # (read for every commission line)
        self._plain_rates: set[int] = set()  # (see `commission`)
        # One payee's tier periods (labels) -> what `_money_pieces` reads for each (see
        # `_quota_cut`).
        self._quota_cuts: dict[str, tuple] = {}
        # Trace heads (see `Later`): the commission's lines', by render (money cut, general)
        # and the span they point at (set for each commission); and those of rounded lines,
        # by the id of the head they wrap (`_then_head`) or, for a line whose trace is a
        # `Trace`, by its rule, label and the id of its span. Each entry holds the object
        # whose id keys it, so no id is reused while the entry lives; there are a few per
        # rule and span.
        self._span_heads: tuple[dict[int, tuple], dict[int, tuple]] = ({}, {})
        self._heads: dict[object, tuple] = {}
        # Rounding per line, the commission lines of split shares waiting to be rounded with
        # their deal's other shares, by event: (line, rounded trace head, trace arguments).
        self._shares: dict[str, list[tuple[EarningLine, tuple, tuple]]] = defaultdict(list)
        self.meter: Meter = QUIET  # told how many credit lines the commissions have rated

    # ------------------------------------------------------------------ helpers

    def _id(self, rule: str, kind: str, payee: str, key: object) -> str:
        base = f"{rule}:{kind}:{payee}:{key}"
        if base not in self._ids:  # the usual case: a set, and no count kept
            self._ids.add(base)
            return base
        n = self._repeats[base] = self._repeats.get(base, 1) + 1
        return f"{base}#{n}"

    def _line(self, comp, kind: str, payee: str, day: dt.date, period: str, amount: Number,
              deal: str | None, trace: Trace | Later, key: object) -> EarningLine:
        # Rounding per line, an exact line is rounded once, in `_rounded` (split shares
        # together): it must not be rounded here first.
        if self.plan.rounding.point != "line":
            amount = self._money(amount)
        return earning_line(id=self._id(comp.name, kind, payee, key), component=comp.name,
                            kind=kind, payee=payee, date=day, period=period, amount=amount,
                            deal=deal, trace=trace)

    def _money(self, value: Number) -> Decimal:
        """Where an exact value becomes money: see `money.to_money`."""
        return to_money(value, self.cur, self.plan.rounding.mode)

    def _trace(self, comp, because: str, arithmetic: str = "", values=(), events=(), inputs=(),
               span=None, touched=()) -> Trace:
        return Trace(rule=comp.name, label=comp.label, span=span or comp.span, because=because,
                     arithmetic=arithmetic, values=tuple(values), events=tuple(events),
                     inputs=tuple(inputs), touched=tuple(touched))

    def _in_range(self, day: dt.date) -> bool:
        return self.start <= day <= self.end

    def _periods(self, unit: str, comp=None) -> list[Period]:
        """Closed periods of `unit` overlapping the evaluated range (and, for a rule with a
        `during` window, ending inside the window)."""
        window = getattr(comp, "during", None)
        return [p for p in self.plan.calendar.periods(self.start, self.end, unit)
                if p.end <= self.end and (window is None or window.contains(p.end))]

    def _eligible_in(self, comp, payee: str, period: Period) -> str | None:
        start, end = self.roster.employment(payee)
        day = min(period.end, end) if end else period.end
        if day < period.start or start > period.end:
            return f"{payee} is not employed in {period.label}"
        return eligible(self.plan, comp.roles, self.roster, payee, day)

    def _period_env(self, payee: str, period: Period, until: int | None = None) -> Env:
        return Env(payee=payee, day=period.end, period=period, payees=(payee,), until=until)

    def _skip(self, rule: str, subject: str, reason: str, day: dt.date | None = None) -> None:
        self.skips.add(rule, subject, reason, day)

    # ------------------------------------------------------------------ run

    def run(self, meter: Meter = QUIET) -> tuple[list[EarningLine], Skips]:
        self.meter = meter
        ordered = sorted(self.plan.components, key=lambda c: (
            (m.StageRewardSpec, m.ActivityRewardSpec, m.SpiffSpec, m.CommissionSpec,
             m.BonusSpec, m.PoolSpec, m.OverrideSpec).index(type(c))))
        for comp in ordered:
            produce = {m.CommissionSpec: self.commission, m.BonusSpec: self.bonus,
                       m.SpiffSpec: self.spiff, m.StageRewardSpec: self.stage_reward,
                       m.ActivityRewardSpec: self.activity_reward, m.PoolSpec: self.pool,
                       m.OverrideSpec: self.override}[type(comp)]
            lines = produce(comp)
            if type(comp) is not m.CommissionSpec:  # a commission rounds its lines itself
                lines = self._rounded(lines)
            lines = self.apply_limits(comp, lines)
            self._publish(comp.name, lines)
            # Ids begin with their rule's name, which no other rule has: none of this rule's
            # can come up again, and a large run need not keep them all.
            self._ids.clear()
            self._repeats.clear()
        if self.plan.clawbacks or self.plan.payout.limits:
            self.meter.stage("evaluating: clawbacks and caps", 0)  # no count to show
        for claw in self.plan.clawbacks:
            lines = self._rounded(self.clawback(claw))
            for comp_name in claw.components:
                self._publish(comp_name, [ln for ln in lines if ln.component == comp_name])
        if self.plan.payout.limits:
            self.lines.extend(self.plan_caps())
        self.lines.sort(key=_BY_DAY_PAYEE)
        return self.lines, self.skips

    def _rounded(self, lines: list[EarningLine]) -> list[EarningLine]:
        """Rounding per line happens as lines are made, before caps and floors look at them:
        what a cap limits and a clawback reverses is what is paid."""
        if self.plan.rounding.point != "line":
            return lines
        return [self._round_line(ln) for ln in lines]

    def _publish(self, name: str, lines: list[EarningLine]) -> None:
        self.lines.extend(lines)
        self.engine.publish(name, lines)

    # ------------------------------------------------------------------ commission

    def commission(self, c: m.CommissionSpec) -> list[EarningLine]:
        out: list[EarningLine] = []
        self._span_heads = ({}, {})
        nets = [s for s in self.plan.components
                if isinstance(s, m.StageRewardSpec) and s.net_against == c.name]
        # The pre-sale rewards to net, by payee and deal (looked up once per booking).
        rewards: dict[tuple[str, str], list[EarningLine]] = defaultdict(list)
        for s in nets:
            for (name, _), lines in self.engine.component_lines.items():
                if name == s.name:
                    for ln in lines:
                        rewards[(ln.payee, ln.deal)].append(ln)
        # First every payee's lines are rated; then, rounding per line, the shares of one split
        # deal are rounded together; then netting and conditions read the rounded lines.
        rated: list[tuple[CreditLine, list[EarningLine], Period]] = []
        # The usual commission (nothing to net, no condition, no true-ups to round) keeps only
        # its lines, in the order they are made (a run rates every credit line).
        retroactive = c.table is not None and c.table.mode == "retroactive"
        usual = not nets and c.when is None and not retroactive
        made_lines: list[EarningLine] = []
        done = 0  # credit lines looked at, for the progress meter
        # Looked up once, not per line: the periods of the days lines are dated, and what
        # each line is checked against.
        periods: dict[dt.date, Period] = {}
        period_of, unit, during = self.plan.calendar.period_of, c.period, c.during
        eligible, roles = self.eligible, c.roles
        rate = self._money_line if self._money_path(c) else self._commission_line
        # The tier rows whose rate is a nonzero decimal without a positive exponent, by id.
        self._plain_rates = set() if c.table is None else {
            id(row) for row in c.table.rows if type(row.rate) is Decimal and row.rate
            and row.rate.is_finite() and row.rate.as_tuple().exponent <= 0}
        start, end, keys_after = self.start, self.end, self._keys_after
        spans: list[tuple[str, int, int]] = []  # each payee's stretch of `rated`
        for payee in self.roster.ids():
            series = self.engine.series.get((c.base, payee))
            if series is None:
                continue
            self.meter.update(done)
            done += len(series.lines)
            first = len(rated)
            state: dict[str, tuple[Decimal, Decimal]] = {}  # period -> (credit so far, paid)
            keys_after.clear()
            self._quota_cuts.clear()
            # The payee's eligibility on the days it is known without asking (most lines).
            known_from, known_to, known = eligible.window(roles, payee)
            for i, line in enumerate(series.lines):
                day = line.date
                if not start <= day <= end:
                    keys_after.clear()
                    continue
                if during is not None and not during.contains(day):
                    self._skip(c.name, line.event, "outside the rule's window", day)
                    keys_after.clear()
                    continue
                period = periods.get(day)
                if period is None:
                    period = periods[day] = period_of(day, unit)
                if line.kind == "cancelled":
                    self._cancelled(c, line, period, state)
                    keys_after.clear()
                    continue
                reason = known if known_from <= day <= known_to else \
                    eligible(roles, payee, day)
                if reason is not None:
                    self._skip(c.name, line.event, reason, day)
                    keys_after.clear()
                    continue
                if usual:
                    made_lines += rate(c, line, period, state, series, i)
                else:
                    rated.append((line, rate(c, line, period, state, series, i), period))
            if len(rated) > first:
                spans.append((payee, first, len(rated)))
        self.meter.update(done)
        if self.plan.rounding.point == "line":
            self._round_rated(rated, retroactive)
        if usual:
            return made_lines
        if not nets and c.when is None:  # its lines, as they were made
            return [ln for _, made, _ in rated for ln in made]
        for payee, first, last in spans:
            group = rated[first:last]
            netted: dict[str, Decimal] = defaultdict(lambda: ZERO)
            by_period: dict[Period, list[EarningLine]] = defaultdict(list)
            for line, made, period in group:
                by_period[period] += made
                out += made
                if nets and line.deal is not None and line.kind != "roll-up":
                    out += self._rounded(self._netting(c, rewards.get((payee, line.deal), ()),
                                                       line, made, netted, by_period[period]))
            if c.when is not None:
                for period, lines in sorted(by_period.items()):
                    if not self.evaluator.eval(c.when, self._period_env(payee, period)):
                        for ln in lines:
                            out += self._rounded([self._line(
                                c, "condition", payee, period.end, period.label, -ln.amount,
                                ln.deal, self._trace(
                                    c, f"not paid: the condition '{show(c.when)}' does not "
                                    f"hold for {payee} in {period.label}",
                                    f"-{fmt(ln.amount, self.cur)}", inputs=(ln.id,)),
                                period.label)])
        return out

    def _round_line(self, ln: EarningLine, rounded: Decimal | None = None,
                    whole: Decimal | None = None) -> EarningLine:
        """`ln` rounded to the minor unit (rounding per line), its trace saying so; `rounded`
        is its share of a split deal's rounded `whole` when given."""
        trace = raw_trace(ln)  # not made: the rounded line's is made from what makes it
        amount, rounded_trace = self._rounding(ln.amount, trace, rounded, whole)
        if amount is ln.amount and rounded_trace is trace:
            return ln
        return ln.rounded(amount, rounded_trace)

    def _rounding(self, amount: Number, trace: Trace | Later, rounded: Decimal | None = None,
                  whole: Decimal | None = None) -> tuple[Number, Trace | Later]:
        """An exact amount rounded to the minor unit and its trace saying so (see
        `_round_line`), to be made when read; the amount and trace themselves when nothing
        changes."""
        if rounded is None:
            rounded = round_money(amount, self.cur, self.plan.rounding.mode)
        if rounded == amount and type(amount) is Decimal:
            return (amount if rounded.same_quantum(amount) else rounded), trace
        if type(trace) is tuple:  # the texts of the trace it would have been, then rounding
            head = trace[0]
            exact = None if head[0] in _SHOWS_EARNED else amount
            return rounded, (self._heads.get(id(head)) or self._then_head(head), exact, rounded,
                             whole, *trace[1:])
        key = (trace.rule, trace.label, id(trace.span))
        head = self._heads.get(key)
        if head is None:
            head = self._heads[key] = (_rounded_texts, trace.rule, trace.label, trace.span)
        return rounded, (head, trace, amount, rounded, self.plan.rounding.mode, self.cur, whole)

    def _then_head(self, head: tuple) -> tuple:
        """The head of the traces of lines rounded from lines whose trace head is `head`
        (`_then_rounded`): made once, and shared by those lines."""
        then = self._heads.get(id(head))
        if then is None:
            then = self._heads[id(head)] = (_then_rounded, *head[1:4], head,
                                            self.plan.rounding.mode, self.cur)
        return then

    def _round_rated(self, rated: list[tuple[CreditLine, list[EarningLine], Period]],
                     true_ups: bool) -> None:
        """Rounding per line, in place. The commission lines of one deal's split shares are
        rounded as a whole: the sum of their exact amounts is rounded, then shared out to the
        minor unit in proportion to them (largest remainder), so the shares never pay more or
        less than the rounded whole (a 3-way split at 0.5% of 100 pays 0.17 + 0.17 + 0.16, not
        0.17 × 3). Every other line is rounded on its own; the commission line of a credit
        line that is not a share, first of what it made, was rounded where it was made, and
        the shares' were kept aside (`_shares`) by `_commission_made`, which made them.
        `true_ups`: whether lines may have made more than their commission line (a
        retroactive table's true-ups), rounded here on their own."""
        if true_ups:  # (`rated` holds the lines of a commission that can make them)
            round_line = self._round_line
            for _, made, _ in rated:
                for j in range(1, len(made)):
                    made[j] = round_line(made[j])
        # The shares' traces are tuples (`_commission_made`): `rounded_unread` rounds them in
        # place, in the lists they were made into.
        shares, self._shares = self._shares, defaultdict(list)
        minor, mode = self._minor, self._mode
        for places in shares.values():
            if len(places) == 2:  # a two-way split, the usual one: both shares earned
                (ln0, then0, args0), (ln1, then1, args1) = places
                a0, a1 = ln0.amount, ln1.amount
                exact = None
                if type(a0) is Decimal and type(a1) is Decimal and (
                        a0 > ZERO and a1 > ZERO or a0 < ZERO and a1 < ZERO):
                    try:  # (`add`, without its call)
                        exact = _EXACT_ADD(a0, a1)
                    except decimal.Inexact:
                        pass
                if exact is not None:
                    whole = exact.quantize(minor, mode, CONTEXT)
                    part0, part1 = allocate(whole, (a0, a1), self.cur)
                    _share_rounded(ln0, a0, then0, args0, part0, whole)
                    _share_rounded(ln1, a1, then1, args1, part1, whole)
                    continue
            amounts = [ln.amount for ln, _, _ in places]
            if len(places) < 2 or not any(amounts) or not (min(amounts) >= 0
                                                           or max(amounts) <= 0):
                # A single share, nothing to share, or shares of both signs: each rounded on
                # its own.
                for ln, _, _ in places:
                    rounded_unread(ln, *self._rounding(ln.amount, raw_trace(ln)))
                continue
            exact = functools.reduce(add, amounts)
            whole = exact.quantize(minor, mode, CONTEXT) if type(exact) is Decimal else \
                round_money(exact, self.cur, self.plan.rounding.mode)
            for (ln, _, _), part in zip(places, allocate(whole, amounts, self.cur)):
                rounded_unread(ln, *self._rounding(ln.amount, raw_trace(ln), part, whole))

    def _key(self, c: m.CommissionSpec, key: str | None, period_unit: str, line: CreditLine,
             payee: str, seq: int) -> tuple[Decimal, Decimal]:
        """The tier key before and after `line`, number `seq` of the credit lines in
        evaluation order (`MeasureEngine.add_credits`)."""
        if key is None:
            # The deal's own amount: an amendment moves it from what was credited before.
            before = self._deal_credit.get((c.name, payee, line.deal or line.event), ZERO)
            return before, before + line.amount
        period = self.plan.calendar.period_of(line.date, period_unit)
        known = self._keys_after.get((key, period_unit))
        if known is not None and known[1] == seq:
            return known[2], known[3]  # the same line again (two accelerators on one key)
        after = self.engine.measure(key, payee, period, seq)
        if known is not None and known[0] == period and self.engine.steps_with(key, c.base):
            before = known[3]  # its value after the payee's previous line of c.base
        else:
            before = self.engine.measure(key, payee, period, seq - 1)
        self._keys_after[(key, period_unit)] = (period, seq, before, after)
        return before, after

    def _commission_line(self, c: m.CommissionSpec, line: CreditLine, period: Period,
                         state: dict, series: CreditSeries, index: int) -> list[EarningLine]:
        """The lines one credit line earns: `series.lines[index]` is `line`."""
        payee, amount = line.payee, line.amount
        table = c.table
        # Values the accelerators read besides the tier key: (label, measure, value).
        extra: list[tuple[str, str | None, Decimal]] = []
        applied: list = []
        cut = None
        if table is not None and self._money_key(c) is not None:
            cut = self._money_pieces(c, table, line, period if table.period == c.period else
                                     self.plan.calendar.period_of(line.date, table.period),
                                     series, index)
        if table is not None:
            if cut is not None:
                bounds, c0, c1, q, kept = cut
                pieces = _cut_in_money(bounds, c0, c1, amount)
            else:
                k0, k1 = self._key(c, table.key, table.period, line, payee, series.seqs[index])
                if table.mode == "marginal":
                    pieces = self._marginal_pieces(table, k0, k1, amount)
                else:
                    row = self._row_at(table, k1)
                    pieces = [_Piece(k0, k1, row.rate, ONE, row, amount)]
        else:
            k0 = k1 = ZERO
            if c.accelerators:  # a flat rate is split along its first accelerator's key
                first = c.accelerators[0]
                k0, k1 = self._key(c, first.key, first.period, line, payee,
                                   series.seqs[index])
            # Read on the line's date: a payee field (`rate payee.rate`) is the value in force
            # that day, measures are as they stood after the line, `deal.` fields are the
            # line's deal's (margin bands).
            rate = self.evaluator.amount(c.rate, Env(
                payee=payee, day=line.date, period=period, payees=(payee,),
                until=series.seqs[index], deal=self.deals.get(line.deal)))
            pieces = [_Piece(k0, k1, rate, ONE, None, amount)]
        if c.accelerators:
            pieces = self._accelerate(c, line, series.seqs[index], period, pieces, table, extra,
                                      applied)
        earned = _earned(pieces)
        span = pieces[0].row.span if len(pieces) == 1 and pieces[0].row else c.span
        # The trace head (see `Later`) of the component's lines that point at `span`.
        if cut is not None and not c.accelerators:
            # The pieces, and what they earn, are worked out again from these when the trace
            # is read: a run keeps one per line, and few are read.
            render, heads = _money_commission_texts, self._span_heads[0]
            args = (line, period.label, *kept, q, pieces[0].row if len(pieces) == 1 else None)
        else:
            if cut is not None:
                k0, k1 = _Quotient(c0, q), _Quotient(c1, q)
            render, heads = _commission_texts, self._span_heads[1]
            args = (line, period.label, tuple(pieces), k0, k1, earned, tuple(extra),
                    tuple(applied))
        out = [self._commission_made(c, line, period, earned, render, heads, span, args)]
        if table is not None and table.mode == "retroactive":
            deal_key = (c.name, payee, line.deal or line.event)
            out += self._true_up(c, line, period, state, pieces, deal_key, earned, k0, k1, extra)
        if self._reads_deal_credit(c):
            deal_key = (c.name, payee, line.deal or line.event)
            self._deal_credit[deal_key] = self._deal_credit.get(deal_key, ZERO) + amount
        return out

    def _money_path(self, c: m.CommissionSpec) -> bool:
        """Whether `_money_line` rates `c`'s lines: marginal tiers keyed on `credit / quota`
        in the commission's own period, and nothing else a line's pieces depend on (no
        accelerator, the deal's credit so far not read)."""
        table = c.table
        return (table is not None and table.period == c.period and not c.accelerators
                and self._money_key(c) is not None and not self._reads_deal_credit(c))

    def _money_line(self, c: m.CommissionSpec, line: CreditLine, period: Period,
                    state: dict, series: CreditSeries, index: int) -> list[EarningLine]:
        """`_commission_line` for a commission on `_money_path`, with what it does not need
        left out (a run rates every credit line; most take this way). A line whose pieces
        `_money_pieces` cannot cut goes the general way."""
        # (`_money_pieces`, inline)
        cut = self._quota_cuts.get(period.label)
        if cut is None:
            cut = self._quota_cut(c, c.table, line.payee, period, series)
        q, low, limit, bounds, first = cut
        totals = series.totals
        before, total0, total1 = (totals[first - 1] if first else None,
                                  None if index == first else totals[index - 1], totals[index])
        if before is None:
            c0, c1 = (ZERO if total0 is None else total0), total1
        else:
            c0, c1 = (ZERO if total0 is None else total0 - before), total1 - before
        amount = line.amount
        if not q or c1 - c0 != amount or not amount or not (low < c0 < limit and
                                                            low < c1 < limit):
            return self._commission_line(c, line, period, state, series, index)
        if self._keys_after:
            self._keys_after.pop((c.table.key, c.table.period), None)
        row = _one_tier(bounds, c0, c1) if amount > ZERO else _one_tier(bounds, c1, c0)
        if row is not None:  # most lines: `_earned` of the one piece `_cut_in_money` cuts
            rate = row.rate
            earned = None
            if type(rate) is Decimal and type(amount) is Decimal:
                try:  # `add`, `mul` and `sub` themselves while they are exact (as ever here);
                    # adding and taking 0 changes nothing of an amount in minor units times a
                    # rate of `_plain_rates` (nonzero, no positive exponent)
                    earned = _EXACT_MUL(amount, rate) if id(row) in self._plain_rates and \
                        amount.same_quantum(self._minor) else \
                        _EXACT_ADD(ZERO, _EXACT_MUL(_EXACT_SUB(amount, ZERO), rate))
                except decimal.Inexact:
                    pass
            if earned is None:
                earned = add(ZERO, mul(sub(amount, ZERO), rate))
        else:
            pieces = _cut_in_money(bounds, c0, c1, amount)
            earned = _earned(pieces)
            row = pieces[0].row if len(pieces) == 1 else None
        return [self._commission_made(c, line, period, earned, _money_commission_texts,
                                      self._span_heads[0], c.span if row is None else row.span,
                                      (line, period.label, before, total0, total1, q, row))]

    def _commission_made(self, c: m.CommissionSpec, line: CreditLine, period: Period,
                         earned: Number, render, heads: dict, span, args: tuple) -> EarningLine:
        """The commission line that `line` earns `earned` by, its trace made when read
        (`Later`) by `render` from `args`, under the head of the component's lines that point
        at `span` (kept in `heads`, with the heads of those lines once rounded)."""
        known = heads.get(id(span))
        if known is None:
            head = (render, c.name, c.label, span, self.plan, c)
            mode, cur = self.plan.rounding.mode, self.cur
            known = heads[id(span)] = (head, (_then_rounded_line, c.name, c.label, span, head,
                                              mode, cur),
                                       (_then_rounded_share, c.name, c.label, span, head,
                                        mode, cur))
        paid, trace, shares = earned, None, None
        if not self._per_line:
            paid = self._money(earned)
        elif line.kind in SHARE_KINDS:  # rounded with the deal's other shares (`_round_rated`)
            shares = self._shares[line.event]
        elif type(earned) is Decimal:
            # Rounded now, as `_round_rated` would (only shares of a split wait for it), with
            # one trace saying both: a run makes one per line. (`round_money`, inline)
            paid = earned.quantize(self._minor, self._mode, CONTEXT)
            if paid != earned:
                trace = (known[1], paid, *args)
            elif paid.same_quantum(earned):
                paid = earned
        else:
            paid = round_money(earned, self.cur, self.plan.rounding.mode)
            trace = (known[1], paid, *args)
        # (`_line` and `_id`, inline)
        line_id = f"{c.name}:commission:{line.payee}:{line.event}"
        if line_id in self._ids:  # a repeat: numbered
            line_id = self._id(c.name, "commission", line.payee, line.event)
        else:
            self._ids.add(line_id)
        made = earning_line(id=line_id,
                            component=c.name, kind="commission", payee=line.payee,
                            date=line.date, period=period.label, amount=paid, deal=line.deal,
                            trace=trace or (known[0], *args))
        if shares is not None:
            shares.append((made, known[2], args))
        return made

    def _reads_deal_credit(self, c: m.CommissionSpec) -> bool:
        """Whether a tier key of `c` is the deal's own amount (read from `_deal_credit`): only
        then is the credit each deal had so far kept."""
        known = self._deal_keyed.get(c.name)
        if known is None:
            keys = [a.key for a in c.accelerators]
            if c.table is not None:
                keys.append(c.table.key)
            known = self._deal_keyed[c.name] = None in keys
        return known

    def _true_up(self, c: m.CommissionSpec, line: CreditLine, period: Period, state: dict,
                 pieces: list[_Piece], deal_key: tuple, earned: Number, k0, k1,
                 extra: list) -> list[EarningLine]:
        """A retroactive table's true-up of the credit rated earlier in the line's scope, when
        the line moved it to another tier; and the scope's totals after the line (what
        `_cancelled` takes a deal out of). Marginal tables re-rate nothing, and keep none."""
        table, payee, out = c.table, line.payee, []
        # A table keyed on the deal amount re-rates that deal only; one keyed on a period
        # measure re-rates the period.
        scope = deal_key if table.key is None else period.label
        base_before, paid_before = state.get(scope, (ZERO, ZERO))
        paid_now = earned
        if base_before:
            rate_now = pieces[-1].rate
            true_up = sub(mul(base_before, rate_now), paid_before)
            if true_up:
                # The true-up belongs to the deal that crossed the tier: cancelling that deal
                # reverses it too.
                out.append(self._line(
                    c, "true-up", payee, line.date, period.label, true_up, line.deal, self._trace(
                        c, f"{payee}'s {table.key or 'deal amount'} in {period.label} reached "
                        f"the tier '{pieces[-1].row.text}', so the {fmt(base_before, self.cur)} "
                        f"credited earlier in the period is re-rated at {fmt_pct(rate_now)}",
                        f"{fmt(base_before, self.cur)} × {fmt_pct(rate_now)} − "
                        f"{fmt(paid_before, self.cur)} already paid = {fmt(true_up, self.cur)}",
                        _commission_values(self.plan, c, line, k0, k1, extra),
                        (line.event,), (line.id,),
                        span=pieces[-1].row.span),
                    line.event))
                paid_now = add(paid_now, true_up)
        state[scope] = (base_before + line.amount, add(paid_before, paid_now))
        paid_key = (*deal_key, scope)
        self._deal_paid[paid_key] = add(self._deal_paid.get(paid_key, ZERO), paid_now)
        return out

    def _cancelled(self, c: m.CommissionSpec, line: CreditLine, period: Period,
                   state: dict) -> None:
        """A cancelled deal's credit taken back (`cancelled deals lose their credit`): not
        rated (reversing what the deal earned is the clawback's work), but later lines are
        rated on the lower credit. A retroactive table re-rates the period without the deal:
        what the deal was paid leaves the period's paid total too (the clawback takes it)."""
        deal_key = (c.name, line.payee, line.deal or line.event)
        table = c.table
        scope = deal_key if table is not None and table.key is None else period.label
        base, paid = state.get(scope, (ZERO, ZERO))
        state[scope] = (base + line.amount,
                        sub(paid, self._deal_paid.pop((*deal_key, scope), ZERO)))
        if self._reads_deal_credit(c):
            self._deal_credit[deal_key] = self._deal_credit.get(deal_key, ZERO) + line.amount
        self._skip(c.name, line.event, f"deal {line.deal} was cancelled: its credit is taken "
                   "back, not rated (cancelled deals lose their credit)", line.date)

    def _row_at(self, table: m.TierTableSpec, value: Decimal) -> m.TierRowSpec:
        for row in table.rows:
            above_low = value >= row.low if table.bound == "above" or row.low == 0 \
                else value > row.low
            below_high = row.high is None or (value < row.high if table.bound == "above"
                                              else value <= row.high)
            if above_low and below_high:
                return row
        return table.rows[0] if value < table.rows[0].low else table.rows[-1]

    def _money_key(self, c: m.CommissionSpec) -> tuple[str, str] | None:
        """(credit, quota) when the commission's marginal tiers are keyed on a measure that is
        exactly `CREDIT / quota QUOTA` of its own base credit, with no accelerator on that key:
        then a line's pieces can be cut where the credit crosses quota × bound."""
        if c.name not in self._money_keys:
            found, table = None, c.table
            spec = self.engine.measures.get(table.key) if table.key is not None else None
            e = spec.expr if spec is not None else None
            while isinstance(e, n.Paren):
                e = e.inner
            if (table.mode == "marginal" and isinstance(e, n.Binary) and e.op == "/"
                    and isinstance(e.left, n.Ref) and e.left.name.text == c.base
                    and isinstance(e.right, n.QuotaRef)
                    and not any((a.key, a.period) == (table.key, table.period)
                                for a in c.accelerators)):
                found = (c.base, e.right.name.text)
            self._money_keys[c.name] = found
        return self._money_keys[c.name]

    def _money_pieces(self, c: m.CommissionSpec, table: m.TierTableSpec, line: CreditLine,
                      period: Period, series: CreditSeries, index: int
                      ) -> tuple[tuple, Decimal, Decimal, Number, tuple] | None:
        """What cuts a line into the pieces `_marginal_pieces` would cut, in money space
        (`_cut_in_money`): with key k = credit / quota, the key crosses bound b where the
        credit crosses quota × b, and the part of the line below that bound is quota × b less
        the credit before it (the same exact value as amount × (b − k0) / (k1 − k0), without
        dividing), for a commission whose key is of that form (`_money_key`). None when the
        quota is 0 (the key is then 0), or the key would pass the bound on computed values
        (the measure reports it). Else the tier rows' bounds in money (`_money_bounds`), the
        credit before and after the line, the quota, and the running totals the credit before
        and after are computed from (`_period_credit`: a trace keeps those, which the series
        keeps anyway, not two more amounts per line).

        `series` is the payee's lines of the commission's base credit, `line` its line at
        `index`, in the table's `period`: the credit before and after the line are read from
        its running totals, as `MeasureEngine.credit_total` would for this payee, period and
        line."""
        cut = self._quota_cuts.get(period.label)
        if cut is None:
            cut = self._quota_cut(c, table, line.payee, period, series)
        q, low, limit, bounds, first = cut
        if not q:
            return None
        totals = series.totals
        kept = before, total0, total1 = (totals[first - 1] if first else None,
                                         None if index == first else totals[index - 1],
                                         totals[index])
        # `_period_credit(*kept)`, inline (a run reads it for every line)
        if before is None:
            c0, c1 = (ZERO if total0 is None else total0), total1
        else:
            c0, c1 = (ZERO if total0 is None else total0 - before), total1 - before
        amount = line.amount
        # (`max(abs(c0), abs(c1)) >= limit` without three calls: `low` is -limit)
        if c1 - c0 != amount or not amount or not (low < c0 < limit and low < c1 < limit):
            return None
        if self._keys_after:  # the key path's memory of the last line's key is now stale
            self._keys_after.pop((table.key, table.period), None)
        return bounds, c0, c1, q, kept

    def _quota_cut(self, c: m.CommissionSpec, table: m.TierTableSpec, payee: str,
                   period: Period, series: CreditSeries) -> tuple:
        """What `_money_pieces` reads for every line of one payee and tier period: the quota,
        the largest credit it cuts exactly (and its negative), the tier rows' bounds in money (quota × bound;
        None for the first row's low and the last row's open high) and where the period's
        lines start in `series`. Kept while the commission rates that payee."""
        q = self.engine.quota_total(self._money_key(c)[1], (payee,), period)
        bounds = _money_bounds(table.rows, q)
        limit = mul(q, _COMPUTED_BOUND)
        low = limit.copy_negate() if type(limit) is Decimal else -limit  # (not rounded)
        cut = self._quota_cuts[period.label] = (q, low, limit, bounds,
                                          bisect.bisect_left(series.dates, period.start))
        return cut

    def _marginal_pieces(self, table: m.TierTableSpec, k0: Number, k1: Number,
                         amount: Decimal) -> list[_Piece]:
        """The credit cut where its tier key crosses the table's bounds, in money space and
        exactly: the credit below bound b is amount × (b − low) / (high − low) (with a
        quota-based key, quota × b less the credit before), a fraction where it has no finite
        decimal form (a boundary between two cents, as with a prorated quota). Each piece is
        the difference of two cuts, so the pieces add up to the credit exactly; the line's
        earnings become money once, in `_line`."""
        if k1 == k0:
            row = self._row_at(table, k0)
            return [_Piece(k0, k1, row.rate, ONE, row, amount)]
        lo, hi = min(k0, k1), max(k0, k1)
        width = sub(hi, lo)
        stretches = []
        for row in table.rows:
            top = row.high if row.high is not None else hi
            a, b = max(lo, row.low), min(hi, top)
            if row is table.rows[0]:
                a = lo  # a key below the first bound (a negative key) is in the first tier
            if b > a:
                stretches.append((a, b, row))
        pieces, done = [], ZERO
        for i, (a, b, row) in enumerate(stretches):
            # The last stretch takes the rest: a key past a closed last row stays in it.
            cut = amount if i == len(stretches) - 1 else _cut(amount, sub(b, lo), width)
            pieces.append(_Piece(a, b, row.rate, ONE, row, sub(cut, done)))
            done = cut
        return pieces

    def _accelerate(self, c: m.CommissionSpec, line: CreditLine, seq: int, period: Period,
                    pieces: list[_Piece], table: m.TierTableSpec | None,
                    extra: list, applied: list) -> list[_Piece]:
        """Pieces with the accelerators' factors applied; `applied` receives the span of each
        accelerator that changed something, `extra` the values read on another key."""
        for acc in c.accelerators:
            axis = (table.key, table.period) if table is not None else \
                (c.accelerators[0].key, c.accelerators[0].period)
            same_key = (acc.key, acc.period) == axis
            if same_key:
                pieces = _split_at(pieces, acc.threshold)
                if any(_in_region(p, acc) for p in pieces):
                    applied.append(acc.span)
                pieces = [p._replace(factor=mul(p.factor, acc.factor))
                          if _in_region(p, acc) else p for p in pieces]
                continue
            a0, a1 = self._key(c, acc.key, acc.period, line, line.payee, seq)
            extra.append((f"{acc.key} ({acc.kind})", acc.key, a1))
            if a1 == a0:
                share = ONE if _in_region(_Piece(a0, a0, ZERO, ONE, None, ZERO), acc) else ZERO
            else:
                lo, hi = min(a0, a1), max(a0, a1)
                if acc.side == "above":
                    inside = max(ZERO, sub(hi, max(lo, acc.threshold)))
                else:
                    inside = max(ZERO, sub(min(hi, acc.threshold), lo))
                share = div(inside, sub(hi, lo))
            if share == 0:
                continue
            applied.append(acc.span)
            out = []
            for p in pieces:
                boosted = mul(p.amount, share)
                if boosted:
                    out.append(p._replace(amount=boosted, factor=mul(p.factor, acc.factor)))
                if p.amount != boosted:
                    out.append(p._replace(amount=sub(p.amount, boosted)))
            pieces = out
        return pieces

    def _netting(self, c: m.CommissionSpec, reward_lines, line: CreditLine,
                 made: list[EarningLine], netted: dict, period_lines: list) -> list[EarningLine]:
        earned = sum((ln.amount for ln in made if ln.kind == "commission"), ZERO)
        if earned <= 0:
            return []
        rewards = sum((ln.amount for ln in reward_lines if ln.date <= line.date), ZERO)
        remaining = rewards - netted[line.deal]
        take = min(remaining, earned)
        if take <= 0:
            return []
        netted[line.deal] += take
        ln = self._line(c, "netting", line.payee, line.date, made[0].period, -take, line.deal,
                        self._trace(c, f"pre-sale rewards of {fmt(rewards, self.cur)} already "
                                    f"paid on deal {line.deal} are netted against this "
                                    "commission (never below zero for the deal)",
                                    f"-min({fmt(remaining, self.cur)}, {fmt(earned, self.cur)})"
                                    f" = -{fmt(take, self.cur)}", events=(line.event,),
                                    inputs=tuple(x.id for x in made)), line.event)
        period_lines.append(ln)
        return [ln]

    # ------------------------------------------------------------------ event rewards

    def _event_reward(self, comp, e: Event, payee: str | None, pay, deal: Deal | None,
                      kind: str, because: str, span, env: Env | None = None
                      ) -> EarningLine | None:
        """The line an event earns `payee` by `pay`, read in `env` (made when not given: the
        payee, the event, its day and its deal)."""
        if payee is None:
            self._skip(comp.name, e.id, "the event names no payee", e.date)
            return None
        reason = self.eligible(comp.roles, payee, e.date)
        if reason is not None:
            self._skip(comp.name, e.id, reason, e.date)
            return None
        if env is None:
            env = Env(payee=payee, day=e.date, deal=deal, event=e)
        amount = self.evaluator.amount(pay, env)
        if not amount:
            self._skip(comp.name, e.id, f"'{show(pay)}' is zero for this event", e.date)
            return None
        period = self.plan.calendar.period_of(e.date, "month")
        return self._line(comp, kind, payee, e.date, period.label, amount,
                          e.deal if kind != "activity" else None,
                          self._trace(comp, because, _arithmetic(pay, amount, self.cur),
                                      events=(e.id,), span=span), e.id)

    def _event_window(self, comp, e: Event) -> bool:
        if not self._in_range(e.date):
            return False
        if comp.during is not None and not comp.during.contains(e.date):
            self._skip(comp.name, e.id, outside_window(e.date), e.date)
            return False
        return True

    def spiff(self, s: m.SpiffSpec) -> list[EarningLine]:
        out = []
        left = s.budget  # what the shared budget still has, events taken in processing order
        t = s.trigger
        kind = {"deal": t.event, "stage": "stage", "activity": "activity"}[t.kind]
        # Looked up once: a SPIFF looks at every event of its kind.
        where = self.evaluator.function(t.where) if t.where is not None else None
        start, end, deals = self.start, self.end, self.deals
        # The window's first and last day (`Window.contains`, inline)
        w_start, w_end = (dt.date.min, dt.date.max) if s.during is None else \
            (s.during.start, s.during.end or dt.date.max)
        skip = self.skips.add  # (`_skip`, without its call: half the bookings are outside)
        # The events of the trigger's kind are all looked at: a deal event is a hit, a stage
        # or activity one when it is the trigger's.
        any_subject, subject = t.kind == "deal", t.subject
        for e in self.by_kind.get(kind, ()):
            day = e.date
            if not (any_subject or e.subject == subject) or not start <= day <= end:
                continue  # (`_event_window`, inline)
            if not w_start <= day <= w_end:
                skip(s.name, e.id, outside_window(day), day)
                continue
            deal = deals.get(e.deal) if e.kind != "activity" else None
            payee = event_actor(e, deal)
            env = None
            if where is not None:
                env = Env(payee=payee, day=day, deal=deal, event=e)  # (the pay is read in it too)
                if not where(env):
                    skip(s.name, e.id, "the SPIFF's 'where' condition does not hold", day)
                    continue
            if left is not None and left <= 0:
                self._skip(s.name, e.id, f"the SPIFF's budget of {fmt(s.budget, self.cur)} is "
                           "spent (first come, first served)", e.date)
                continue
            line = self._event_reward(s, e, payee, s.pay, deal, "spiff",
                                      f"SPIFF for {e.kind} event {e.id}"
                                      + (f" on deal {e.deal}" if deal else ""), s.span, env)
            if line is None:
                continue
            if left is not None:
                if line.amount > left:  # the last of the budget: only what is left
                    line = attrs.evolve(line, amount=left, trace=self._trace(
                        s, f"{line.trace.because}; only {fmt(left, self.cur)} of the SPIFF's "
                        f"{fmt(s.budget, self.cur)} budget was left (first come, first served)",
                        f"min({fmt(line.amount, self.cur)}, {fmt(left, self.cur)} left) = "
                        f"{fmt(left, self.cur)}", events=(e.id,), span=s.span))
                left = sub(left, line.amount)
            out.append(line)
        return out

    def stage_reward(self, s: m.StageRewardSpec) -> list[EarningLine]:
        out = []
        pays = {p.subject: p for p in s.pays}
        seen: set[tuple[str, str]] = set()
        for e in self.by_kind.get("stage", ()):
            if e.kind != "stage" or e.subject not in pays:
                continue
            if (e.deal, e.subject) in seen:
                self._skip(s.name, e.id, f"deal {e.deal} already reached {e.subject!r}", e.date)
                continue
            seen.add((e.deal, e.subject))
            if not self._event_window(s, e):
                continue
            deal = self.deals.get(e.deal)
            payee = event_actor(e, deal)
            p = pays[e.subject]
            if p.where is not None and not self.evaluator.eval(
                    p.where, Env(payee=payee, day=e.date, deal=deal, event=e)):
                self._skip(s.name, e.id, "the reward's 'where' condition does not hold", e.date)
                continue
            line = self._event_reward(s, e, payee, p.pay, deal, "stage",
                                      f"deal {e.deal} reached {e.subject!r}", p.span)
            if line is not None:
                out.append(line)
        return out

    def activity_reward(self, s: m.ActivityRewardSpec) -> list[EarningLine]:
        out = []
        pays = {p.subject: p for p in s.pays}
        for e in self.by_kind.get("activity", ()):
            if e.kind != "activity" or e.subject not in pays or not self._event_window(s, e):
                continue
            p = pays[e.subject]
            if p.where is not None and not self.evaluator.eval(
                    p.where, Env(payee=e.owner, day=e.date, event=e)):
                self._skip(s.name, e.id, "the reward's 'where' condition does not hold", e.date)
                continue
            line = self._event_reward(s, e, e.owner, p.pay, None, "activity",
                                      f"activity {e.subject!r} ({e.id})", p.span)
            if line is not None:
                out.append(line)
        return out

    # ------------------------------------------------------------------ periodic components

    def bonus(self, b: m.BonusSpec) -> list[EarningLine]:
        out = []
        for period in self._periods(b.period, b):
            for payee in self.roster.ids():
                if self._eligible_in(b, payee, period) is not None:
                    continue
                env = self._period_env(payee, period)
                if b.when is not None and not self.evaluator.eval(b.when, env):
                    self._skip(b.name, f"{payee} {period.label}",
                               f"the condition '{show(b.when)}' does not hold", period.end)
                    continue
                value = self.engine.measure(b.key, payee, period)
                shown = _show(self.plan, b.key, value)
                if b.schedule == "step":
                    reached = [r for r in b.steps if value >= r.threshold]
                    if not reached:
                        self._skip(b.name, f"{payee} {period.label}",
                                   f"{b.key} {shown} reached no step", period.end)
                        continue
                    row = reached[-1]
                    amount = self.evaluator.amount(row.pay, env)
                    because = (f"your {period.label} {b.key} was {shown}, reaching the step "
                               f"at {_show(self.plan, b.key, row.threshold)}")
                    arithmetic = _arithmetic(row.pay, amount, self.cur)
                    span = row.span
                else:
                    low, high = b.steps
                    a, z = self.evaluator.amount(low.pay, env), self.evaluator.amount(high.pay, env)
                    if value < low.threshold:
                        self._skip(b.name, f"{payee} {period.label}",
                                   f"{b.key} {shown} is below "
                                   f"{_show(self.plan, b.key, low.threshold)}", period.end)
                        continue
                    if value >= high.threshold:
                        amount, arithmetic = z, f"at or above the top: {fmt(z, self.cur)}"
                    else:
                        frac = div(sub(value, low.threshold), sub(high.threshold, low.threshold))
                        amount = self._money(add(a, mul(sub(z, a), frac)))
                        arithmetic = (f"{fmt(a, self.cur)} + ({fmt(z, self.cur)} − "
                                      f"{fmt(a, self.cur)}) × ({shown} − "
                                      f"{_show(self.plan, b.key, low.threshold)}) / "
                                      f"({_show(self.plan, b.key, high.threshold)} − "
                                      f"{_show(self.plan, b.key, low.threshold)}) = "
                                      f"{fmt(amount, self.cur)}")
                    because = f"your {period.label} {b.key} was {shown} (linear scale)"
                    span = b.span
                if amount:
                    out.append(self._line(b, "bonus", payee, period.end, period.label, amount,
                                          None, self._trace(b, because, arithmetic,
                                                            [(b.key, shown)], span=span),
                                          period.label))
        return out

    def pool(self, p: m.PoolSpec) -> list[EarningLine]:
        out = []
        for period in self._periods(p.period, p):
            for manager in self.engine.managers(period):
                team = self.engine.team(manager, period)
                members = [x for x in self.engine.team_ids(manager, period)
                           if self._eligible_in(p, x, period) is None]
                # Each member's days in this team (a member who changed teams in the period
                # has some in each).
                stretches = {x: tuple(s for s in team if s.id == x) for x in members}
                subject = f"team of {manager} {period.label}"
                env = self._period_env(manager, period)
                if p.when is not None and not self.evaluator.eval(p.when, env):
                    self._skip(p.name, subject, f"the condition '{show(p.when)}' does not hold",
                               period.end)
                    continue
                fund = round_money(self.evaluator.amount(p.fund, env), self.cur)
                if fund <= 0 or not members:
                    self._skip(p.name, subject, "nothing to share" if members
                               else "no eligible members", period.end)
                    continue
                if p.share == "equally":
                    weights = [self._team_share(x, stretches[x], period) for x in members]
                else:
                    weights = [self.engine.credit_total(p.share_by, stretches[x], period, None)
                               for x in members]
                if not any(weights):
                    self._skip(p.name, subject, f"no member has {p.share_by} credit to share by",
                               period.end)
                    continue
                parts = allocate(fund, weights, self.cur)
                for member, weight, part in zip(members, weights, parts):
                    if not part:
                        continue
                    if p.share == "equally":
                        how = "an equal share" if weight == 1 else \
                            f"an equal share for {weight} of the period in this team"
                    else:
                        how = f"a share in proportion to {p.share_by} in this team " \
                            f"({fmt(weight, self.cur)})"
                    out.append(self._line(
                        p, "pool", member, period.end, period.label, part, None, self._trace(
                            p, f"{how} of the {period.label} pool of {manager}'s team, funded "
                            f"{fmt(fund, self.cur)} by '{show(p.fund)}'",
                            f"{fmt(fund, self.cur)} shared among {len(members)} = "
                            f"{fmt(part, self.cur)} for {member}",
                            [("pool", fmt(fund, self.cur)), ("members", str(len(members)))]),
                        period.label))
        return out

    def _team_share(self, payee: str, stretches, period: Period) -> Fraction:
        """The part of an equal share a member gets: their days in the team over their days
        employed in the period (1 for a member who was in no other team)."""
        employed = self.roster.active_days(payee, period.start, period.end)
        inside = sum((s.end - s.start).days + 1 for s in stretches)
        return Fraction(1) if not employed or inside >= employed else Fraction(inside, employed)

    def override(self, o: m.OverrideSpec) -> list[EarningLine]:
        out = []
        for period in self._periods(o.period, o):
            for payee in self.roster.ids():
                if self._eligible_in(o, payee, period) is not None:
                    continue
                env = self._period_env(payee, period)
                subject = f"{payee} {period.label}"
                if o.when is not None and not self.evaluator.eval(o.when, env):
                    self._skip(o.name, subject, f"the condition '{show(o.when)}' does not hold",
                               period.end)
                    continue
                amount = self.evaluator.amount(o.pay, env)
                if not amount:
                    self._skip(o.name, subject, f"'{show(o.pay)}' is zero", period.end)
                    continue
                team = self.engine.team_ids(payee, period)
                held = f", because '{show(o.when)}' holds" if o.when is not None else ""
                out.append(self._line(
                    o, "override", payee, period.end, period.label, amount, None, self._trace(
                        o, f"override on the {period.label} results of {payee}'s team "
                        f"({', '.join(team) or 'no reports'}){held}",
                        f"{show(o.pay)} = {fmt(amount, self.cur)}",
                        self._inputs_of(env, o.when, o.pay)), period.label))
        return out

    def _inputs_of(self, env: Env, *exprs) -> list[tuple[str, str]]:
        """The value of each measure or credit an expression reads (`team attainment:
        92.5%`), so that a line computed from them can be checked."""
        out: dict[str, str] = {}
        for e in (x for expr in exprs if expr is not None for x in n.walk(expr)):
            if isinstance(e, (n.Ref, n.TeamRef)) and show(e) not in out:
                value = self.evaluator.eval(e, env)
                if value is not None:
                    out[show(e)] = _show(self.plan, e.name.text, value)
        return list(out.items())

    # ------------------------------------------------------------------ limits

    def apply_limits(self, comp, lines: list[EarningLine]) -> list[EarningLine]:
        if not comp.limits:
            return sorted(lines, key=_BY_DAY)
        caps = sorted((lim for lim in comp.limits if lim.kind == "cap"),
                      key=lambda lim: (lim.scope != "deal",
                                       UNIT_DAYS.get(lim.scope, 10 ** 6)))
        lines = sorted(lines, key=_BY_DAY)
        result = list(lines)
        effective = {ln.id: ln.amount for ln in lines}
        for cap in caps:
            used: dict[tuple, Decimal] = {}
            for ln in lines:
                group = self._cap_group(cap.scope, ln)
                if group is None:
                    continue
                before = used.get(group, ZERO)
                after = used[group] = before + effective[ln.id]
                # Only the change in the amount over the cap is cut: below the cap nothing is
                # computed at all, so no rounding residue can appear as a "capped" line.
                cut = max(ZERO, after - cap.amount) - max(ZERO, before - cap.amount)
                passed = effective[ln.id] - cut
                if cut:
                    effective[ln.id] = passed
                    where = {"deal": f"on deal {ln.deal}", "total": "in total"}.get(
                        cap.scope, f"per {unit_text(cap.scope)} ({group[-1]})")
                    result.append(self._line(
                        comp, "capped", ln.payee, ln.date, ln.period, -cut, ln.deal, self._trace(
                            comp, f"the cap of {fmt(cap.amount, self.cur)} {where} is reached: "
                            f"{fmt(cut, self.cur)} of this line is not paid",
                            f"{fmt(ln.amount, self.cur)} earned − {fmt(cut, self.cur)} over the "
                            f"cap = {fmt(passed, self.cur)}",
                            [("cap", fmt(cap.amount, self.cur))], inputs=(ln.id,),
                            span=cap.span), ln.id))
        for floor in (lim for lim in comp.limits if lim.kind == "floor"):
            result += self._floor(comp, floor, result)
        return result

    def _cap_group(self, scope: str, ln: EarningLine) -> tuple | None:
        if scope == "deal":
            # A true-up re-rates earlier deals' money: it is not the crossing deal's own earning.
            return (ln.payee, ln.deal) if ln.deal is not None and ln.kind != "true-up" else None
        if scope == "total":
            return (ln.payee,)
        return (ln.payee, self.plan.calendar.period_of(ln.date, scope).label)

    def _floor(self, comp, floor: m.LimitSpec, lines: list[EarningLine]) -> list[EarningLine]:
        out = []
        for period in self._periods(floor.scope, comp):
            for payee in self.roster.ids():
                if self._eligible_in(comp, payee, period) is not None:
                    continue
                total = sum((ln.amount for ln in lines if ln.payee == payee
                             and period.contains(ln.date)), ZERO)
                if total < floor.amount:
                    top = floor.amount - total
                    out.append(self._line(comp, "floor", payee, period.end, period.label, top,
                                          None, self._trace(
                                              comp, f"{payee} earned {fmt(total, self.cur)} in "
                                              f"{period.label}, below the floor of "
                                              f"{fmt(floor.amount, self.cur)}",
                                              f"{fmt(floor.amount, self.cur)} − "
                                              f"{fmt(total, self.cur)} = {fmt(top, self.cur)}",
                                              span=floor.span), period.label))
        return out

    def plan_caps(self) -> list[EarningLine]:
        """The payout block's caps and floors, over each payee's earnings from every rule."""
        payout = m.CommissionSpec(name="payout", label="Plan-wide limits",
                                  span=self.plan.payout.span or self.plan.span, base="")
        limited = self.apply_limits(attrs.evolve(payout, limits=self.plan.payout.limits),
                                    list(self.lines))
        kinds = {"capped": "plan cap", "floor": "plan floor"}
        return [attrs.evolve(ln, kind=kinds[ln.kind]) for ln in limited
                if ln.kind in kinds and ln.component == "payout"]

    # ------------------------------------------------------------------ clawbacks

    def clawback(self, c: m.ClawbackSpec) -> list[EarningLine]:
        out = []
        # The lines of cancelled deals only (a few in a hundred): one look each at the others.
        cancelled = {e.deal for e in self.by_kind.get("cancelled", ()) if e.deal is not None}
        share = "" if c.share == ONE else f" × {fmt_pct(c.share)}"  # (in every line's trace)
        # The head of the lines' traces (see `Later`): each keeps the line it reverses.
        head = (_clawback_texts, c.name, c.label, c.span, self.cur, share)
        by_deal: dict[str, list[EarningLine]] = defaultdict(list)
        for ln in self.lines:
            if ln.deal in cancelled and ln.component in c.components and ln.kind in REVERSIBLE:
                by_deal[ln.deal].append(ln)
        for e in self.by_kind.get("cancelled", ()):
            # Cancellations after the plan's end still reverse what the plan paid.
            if e.kind != "cancelled" or not self.start <= e.date <= self.claw_end:
                continue
            deal = self.deals.get(e.deal)
            if deal is None or deal.booked is None or deal.cancelled is not e:
                continue  # a deal is cancelled once: a second cancellation reverses nothing
            booked = deal.booked.date
            if c.during is not None and not c.during.contains(booked):
                continue
            limit = _add(booked, c.within_count, c.within_unit)
            if e.date > limit:
                self._skip(c.name, e.id, f"cancelled {(e.date - booked).days} days after booking,"
                           f" outside the {c.within_count} {c.within_unit} window", e.date)
                continue
            # A `condition` line (a failed `when`) already took the money back: it is reversed
            # too, whenever it was written, so the deal nets to zero and not below.
            originals = [ln for ln in by_deal.get(e.deal, ())
                         if ln.date <= e.date or ln.kind == "condition"]
            if not originals:
                continue
            # What the cancellation's lines share, made once per cancellation.
            period = self.plan.calendar.period_of(e.date, "month").label
            why = f"deal {e.deal} was cancelled on {e.date}, {(e.date - booked).days} days " \
                f"after booking on {booked} (within {c.within_count} {c.within_unit}): the"
            for ln in originals:
                if c.roles and self.roster.role_on(ln.payee, ln.date) not in c.roles:
                    continue
                amount = -mul(ln.amount, c.share)
                if not amount:
                    continue
                out.append(earning_line(
                    id=self._id(c.name, "clawback", ln.payee, ln.id), component=ln.component,
                    kind="clawback", payee=ln.payee, date=e.date, period=period, amount=amount,
                    deal=e.deal, trace=(head, why, ln, amount, e.id)))
        return out


def _clawback_texts(currency: str, share: str, why: str, ln: EarningLine, amount: Decimal,
                    event: str) -> tuple:
    """The texts of a clawback line's trace: `amount` reverses the earning line `ln`, as the
    cancellation `event` says (`why`)."""
    return (f"{why} {ln.kind} line of {ln.date} is reversed at its original amount",
            f"-{fmt(ln.amount, currency)}{share} = {fmt(amount, currency)}", (), (event,),
            (ln.id,), ())


def _arithmetic(pay, amount: Decimal, currency: str) -> str:
    """`2% of deal.amount = 1,000.00 USD`; nothing for a fixed amount, which speaks for itself."""
    if isinstance(pay, n.Money):
        return ""
    return f"{show(pay)} = {fmt(amount, currency)}"


def _add(day: dt.date, count: int, unit: str) -> dt.date:
    unit = unit.rstrip("s")
    if unit in ("day", "week"):
        return day + dt.timedelta(days=count * (7 if unit == "week" else 1))
    year, month = add_months(day.year, day.month, count * MONTHS_PER_UNIT[unit])
    return dt.date(year, month, min(day.day, month_end(year, month).day))


def _split_at(pieces: list[_Piece], threshold: Decimal) -> list[_Piece]:
    """Pieces cut where the key crosses `threshold`, in money space like tier bounds."""
    out = []
    for p in pieces:
        if p.low < threshold < p.high:
            left = _cut(p.amount, sub(threshold, p.low), sub(p.high, p.low))
            out += [p._replace(high=threshold, amount=left),
                    p._replace(low=threshold, amount=sub(p.amount, left))]
        else:
            out.append(p)
    return out


def _cut(amount: Number, part: Number, whole: Number) -> Number:
    """The share `part / whole` of an amount, exactly."""
    return mul(amount, div(part, whole))


def _in_region(p: _Piece, acc: m.AcceleratorSpec) -> bool:
    mid = div(add(p.low, p.high), Decimal(2))
    return mid > acc.threshold or (p.low == p.high and p.low >= acc.threshold) \
        if acc.side == "above" else mid < acc.threshold


def _show(plan: m.Plan, key: str | None, value: Number | _Quotient) -> str:
    """A tier key's value as its measure reads: a percentage, a number, or money."""
    spec = plan.measure(key) if key else None
    if spec is not None and spec.kind == "percent":
        return _quotient_pct(value) if type(value) is _Quotient else fmt_pct(value)
    value = _key_value(value)
    if spec is not None and spec.kind in ("count", "number"):
        return fmt_number(value)
    return fmt(value, plan.currency)


def _commission_values(plan: m.Plan, c: m.CommissionSpec, line: CreditLine, k0: Decimal,
                       k1: Decimal, extra) -> tuple[tuple[str, str], ...]:
    """The values a commission line's trace shows: the credit, the tier key before and after
    it, and what the accelerators read."""
    values = [("credit", fmt(line.amount, plan.currency))]
    if c.table is not None:
        key, key_name = c.table.key, c.table.key or "deal amount"
        values += [(f"{key_name} before", _show(plan, key, k0)),
                   (f"{key_name} after", _show(plan, key, k1))]
    values += [(label, _show(plan, key, value)) for label, key, value in extra]
    return tuple(values)


def _commission_texts(plan: m.Plan, c: m.CommissionSpec, line: CreditLine, period: str,
                      pieces: tuple[_Piece, ...], k0: Number | _Quotient,
                      k1: Number | _Quotient, earned: Decimal, extra: tuple,
                      applied: tuple) -> tuple:
    """A commission line's trace (see `DeferredTrace`). Each value is formatted once: JSON
    output reads every trace."""
    cur = plan.currency
    values = _commission_values(plan, c, line, k0, k1, extra)
    terms, parts = [], []
    for p in pieces:
        # A piece of the whole credit is shown as the values show the credit (equal nonzero
        # amounts of one type are shown alike; -0 and 0 are not).
        same = p.amount == line.amount and type(p.amount) is type(line.amount) and p.amount
        amount, rate = values[0][1] if same else fmt(p.amount, cur), fmt_rate(p.rate)
        factor = f" × {p.factor.normalize():f}" if p.factor != ONE else ""
        terms.append(f"{amount} × {rate}{factor}")
        tier = f" (tier '{p.row.text}')" if p.row else ""
        parts.append(f"{rate}{factor} of {amount}{tier}")
    arithmetic = f"{' + '.join(terms)} = {fmt(earned, cur)}"
    text = " + ".join(parts)
    deal = f"deal {line.deal}" if line.deal else f"event {line.event}"
    table = c.table
    if table is None:
        because = f"{text} for {deal}: the commission rate"
    else:
        before, after = values[1][1], values[2][1]  # the tier key, as the values show it
        if table.key is None:
            because = f"{text} for {deal}: the deal amount is {after}"
        else:
            how = "marginal" if table.mode == "marginal" else "retroactive"
            because = (f"{text} for {deal} because your {period} {table.key} went from "
                       f"{before} to {after} ({how} tiers)")
    touched = (*dict.fromkeys(p.row.span for p in pieces if p.row is not None), *applied)
    return because, arithmetic, values, (line.event,), (line.id,), touched


# A table's bounds in money per quota (by identity: the lines of a payee's period share one),
# each kept with the objects it was made from: reading every trace would make them per line.
_BOUNDS: dict[tuple[int, int], tuple] = {}


def _money_commission_texts(plan: m.Plan, c: m.CommissionSpec, line: CreditLine, period: str,
                            before: Decimal | None, total0: Decimal | None, total1: Decimal,
                            quota: Number, row: m.TierRowSpec | None = None) -> tuple:
    """`_commission_texts` of a line whose tiers were cut in money space (`_money_pieces`):
    its pieces cut again, exactly as they were, from the credit before and after it (made
    from the running totals, `_period_credit`) and the quota, and what they earn summed again;
    `row` is the tier of a line that was cut into one piece (then not cut again)."""
    c0, c1 = _period_credit(before, total0, total1)
    table = c.table
    spec = plan.measure(table.key) if table.key else None
    one_tier = spec is not None and spec.kind == "percent" and table.mode == "marginal"
    if row is not None and line.amount and one_tier:
        return _one_tier_texts(plan, table, line, period, c0, c1, quota, row)
    rows = table.rows
    known = _BOUNDS.get((id(rows), id(quota)))
    if known is None or known[0] is not rows or known[1] is not quota:
        if len(_BOUNDS) >= 65536:
            _BOUNDS.clear()
        known = _BOUNDS[(id(rows), id(quota))] = (rows, quota, _money_bounds(rows, quota))
    pieces = _cut_in_money(known[2], c0, c1, line.amount)
    if len(pieces) == 1 and line.amount and one_tier:
        return _one_tier_texts(plan, table, line, period, c0, c1, quota, pieces[0].row)
    return _commission_texts(plan, c, line, period, tuple(pieces), _Quotient(c0, quota),
                             _Quotient(c1, quota), _earned(pieces), (), ())


def _one_tier_texts(plan: m.Plan, table: m.TierTableSpec, line: CreditLine, period: str,
                    c0: Decimal, c1: Decimal, quota: Number, row: m.TierRowSpec) -> tuple:
    """Most lines: one tier, on an attainment. What `_commission_texts` writes of them, with
    less work (JSON output reads every trace)."""
    cur = plan.currency
    # What the line's one piece earned (`_cut_in_money`, `_earned`): in the exact context's
    # own operations while they are exact and on decimals (as `add`, `mul` and `sub` are).
    try:
        earned = _ADD(ZERO, _MUL(_SUB(line.amount, ZERO), row.rate))
    except (Inexact, TypeError):
        earned = add(ZERO, mul(sub(line.amount, ZERO), row.rate))
    shown, rate = fmt(line.amount, cur), fmt_rate(row.rate)
    # The key before the line is the key after the payee's previous line of the period, whose
    # trace is usually read before (the same text for an equal quotient, but a zero's sign).
    known = _KEYS_AFTER.get(id(quota))
    if known is None or known[0] is not quota:
        if len(_KEYS_AFTER) >= 65536:
            _KEYS_AFTER.clear()
        known = (quota, *quota.as_integer_ratio(), None, "")
    before = known[4] if c0 and c0 == known[3] else _ratio_pct(c0, *known[:3])
    after = _ratio_pct(c1, *known[:3])
    _KEYS_AFTER[id(quota)] = (*known[:3], c1, after)
    names = _KEY_NAMES.get(table.key) or _key_names(table.key)
    deal = f"deal {line.deal}" if line.deal else f"event {line.event}"
    return (f"{rate} of {shown} (tier '{row.text}') for {deal} because your {period} "
            f"{table.key} went from {before} to {after} (marginal tiers)",
            f"{shown} × {rate} = {fmt(earned, cur)}",
            (("credit", shown), (names[0], before), (names[1], after)),
            (line.event,), (line.id,), (row.span,))


_ADD, _MUL, _SUB = EXACT.add, EXACT.multiply, EXACT.subtract

# By quota (by identity: a payee's period has its own): (quota, its integer ratio's numerator
# and denominator, the credit after the line of the last one-tier trace read with it, the key
# shown after it).
_KEYS_AFTER: dict[int, tuple] = {}
# A tier key's value names, before and after a line: "attainment before", "attainment after".
_KEY_NAMES: dict[str, tuple[str, str]] = {}


def _key_names(key: str) -> tuple[str, str]:
    names = (f"{key} before", f"{key} after")
    if len(_KEY_NAMES) < 4096:
        _KEY_NAMES[key] = names
    return names


# Renders whose arithmetic always ends with the exact amount earned: a line rounded from one
# keeps no copy of it (`_with_rounding`).
_SHOWS_EARNED = frozenset((_commission_texts, _money_commission_texts))


def _rounded_texts(trace: Trace, exact: Decimal | None, rounded: Decimal, mode: str, currency: str,
                   whole: Decimal | None) -> tuple:
    """A line's trace once rounded per line: its own texts, and the rounding."""
    return _with_rounding(trace.texts(), exact, rounded, mode, currency, whole)


def _then_rounded_line(head: tuple, mode: str, currency: str, rounded: Decimal,
                       *args) -> tuple:
    """`_then_rounded` of a commission line rounded where it was made (`_commission_made`),
    whose trace keeps only the rounded amount (the exact one is in its texts)."""
    return _then_rounded(head, mode, currency, None, rounded, None, *args)


def _then_rounded_share(head: tuple, mode: str, currency: str, rounded: Decimal,
                        whole: Decimal, *args) -> tuple:
    """`_then_rounded` of a split share's commission line, rounded with the deal's other
    shares to its part of their rounded `whole` (`_round_rated`)."""
    return _then_rounded(head, mode, currency, None, rounded, whole, *args)


def _share_rounded(line: EarningLine, exact: Decimal, then: tuple, args: tuple,
                   part: Decimal, whole: Decimal) -> None:
    """A split share's commission line of the exact amount `exact`, its trace made by its
    head from `args`, given its `part` of the deal's rounded `whole`, in place (`_rounding`
    of that trace, written out: `then` is its head once rounded, `_then_rounded_share`)."""
    if part != exact:
        rounded_unread(line, part, (then, part, whole, *args))
    elif not part.same_quantum(exact):
        rounded_unread(line, part, raw_trace(line))


def _then_rounded(head: tuple, mode: str, currency: str, exact: Decimal | None,
                  rounded: Decimal, whole: Decimal | None, *args) -> tuple:
    """`_rounded_texts` of the trace that the trace head `head` and `args` stand for (see
    `Later`), without making that trace. (`_with_rounding` written out: JSON output reads every
    line's trace, most of them rounded.)"""
    because, arithmetic, values, events, inputs, touched = head[0](*head[4:], *args)
    how = f"rounded {mode} per line: {fmt(rounded, currency)}"
    if whole is not None:
        how = (f"{how} (this share of the split deal's {fmt(whole, currency)}, rounded as a "
               "whole)")
    arithmetic = f"{arithmetic}; {how}" if arithmetic else f"{fmt(exact, currency)} {how}"
    return because, arithmetic, values, events, inputs, touched


def _with_rounding(texts: tuple, exact: Decimal | None, rounded: Decimal, mode: str,
                   currency: str, whole: Decimal | None) -> tuple:
    """`texts` and the rounding of `exact` to `rounded`. `exact` is shown only when the texts
    have no arithmetic; it is None for texts that always end with it (`_SHOWS_EARNED`)."""
    how = f"rounded {mode} per line: {fmt(rounded, currency)}"
    if whole is not None:
        how = (f"{how} (this share of the split deal's {fmt(whole, currency)}, rounded as a "
               "whole)")
    because, arithmetic, values, events, inputs, touched = texts
    arithmetic = f"{arithmetic}; {how}" if arithmetic else f"{fmt(exact, currency)} {how}"
    return because, arithmetic, values, events, inputs, touched
