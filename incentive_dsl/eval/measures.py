"""Measures: per-payee (or per-team), per-period values of credits, quotas and measures.

Credit sums are answered from prefix sums over each payee's credit lines in evaluation order,
so "the measure as it stood after this deal" costs a binary search, not a rescan: the whole
evaluation stays linear in the number of events (times a logarithm).

Team measures follow the roster day by day: a team is its members' stretches of days under the
manager (`Member`), so a payee who changes manager mid-period brings each credit line, earning
line and day of quota to the manager they reported to on its date, and to no one else.

Quotas are built month by month: each month's value comes from the quotas table when it has a
row for it (with or without `from data`, which only says the plan expects the table), else from
the plan (role-specific values before general ones, effective-dated),
else from a forecast; then prorated, ramped and normalised as the quota says. A period's quota
is the sum of its months.

Base salaries and target incentives (the compensation block) are counted by days: for each
month a period overlaps, a line's monthly amount (the stated amount over the months of its
unit) counts for each day of that month inside the period on which the payee is employed, in
a role the line covers, within the line's dates and the plan's effective range, i.e. the
monthly amount times those days over the month's days. A month is cut into stretches where
nothing changes (a roster row, a line's dates, employment), each read once.
"""

from __future__ import annotations

import array
import bisect
import datetime as dt
import functools
import itertools
import operator
from collections import defaultdict
from decimal import Decimal
from fractions import Fraction
from typing import NamedTuple

from incentive_dsl.check.model import CompensationSpec, ForecastSpec, Plan, QuotaSpec
from incentive_dsl.data.records import Dataset, QuotaRecord, Roster
from incentive_dsl.eval.context import Deals, Env, Evaluator, Fx
from incentive_dsl.eval.money import ZERO, Number, div, exact, mul
from incentive_dsl.eval.records import CreditLine
from incentive_dsl.periods import MONTHS_PER_UNIT, Period, add_months, month_end, month_number
from incentive_dsl.span import Span
from incentive_dsl.syntax import nodes as n

ONE = Decimal(1)
_DATE, _AMOUNT = operator.attrgetter("date"), operator.attrgetter("amount")
_CREDIT_PAYEE = operator.attrgetter("credit", "payee")
_INT32_MAX = 2 ** 31 - 1
# What each name of the compensation block adds up.
COMPENSATION_KINDS = {"base_salary": ("base salary",),
                      "target_incentive": ("target incentive",),
                      "target_total_compensation": ("base salary", "target incentive")}


class Member(NamedTuple):
    """A payee's stretch of days in a manager's team within one period (a team subject is a
    tuple of these; a single payee's subject is their id, for the whole period)."""

    id: str
    start: dt.date
    end: dt.date


def _days(p: str | Member, period: Period) -> tuple[str, dt.date, dt.date]:
    """Whose lines count, and between which days, for one entry of a subject."""
    if type(p) is str:
        return p, period.start, period.end
    return p.id, max(p.start, period.start), min(p.end, period.end)


class CreditSeries:
    """One payee's lines of one credit, in evaluation order, with running totals."""

    __slots__ = ("seqs", "dates", "totals", "lines")

    def __init__(self) -> None:
        # (machine integers, not int objects: a run numbers every credit line past 256; four
        # bytes each while they fit, as any run's numbers do, else eight)
        self.seqs = array.array("i")
        self.dates: list[dt.date] = []
        self.totals: list[Decimal] = []
        self.lines: list[CreditLine] = []

    def extend(self, seqs: list[int], lines: list[CreditLine]) -> None:
        """Lines `lines`, numbered `seqs`, after the ones it has: their dates and running
        totals made in C (a run adds every credit line)."""
        if seqs and seqs[-1] > _INT32_MAX and self.seqs.typecode == "i":
            self.seqs = array.array("q", self.seqs)
        self.seqs.extend(seqs)
        self.lines += lines
        self.dates += map(_DATE, lines)
        # Each total is the one before plus the line's amount, the first added to 0.
        self.totals += itertools.islice(itertools.accumulate(
            map(_AMOUNT, lines), operator.add,
            initial=self.totals[-1] if self.totals else ZERO), 1, None)

    def _upto(self, day: dt.date, until: int | None) -> int:
        """How many lines are dated on or before `day` (and not after sequence `until`)."""
        count = bisect.bisect_right(self.dates, day)
        if until is not None:
            count = min(count, bisect.bisect_right(self.seqs, until))
        return count

    def total(self, start: dt.date, end: dt.date, until: int | None) -> Decimal:
        hi = self._upto(end, until)
        lo = bisect.bisect_left(self.dates, start)
        if hi <= lo:
            return ZERO
        return self.totals[hi - 1] - (self.totals[lo - 1] if lo else ZERO)

    def within(self, start: dt.date, end: dt.date, until: int | None) -> list[CreditLine]:
        return self.lines[bisect.bisect_left(self.dates, start):self._upto(end, until)]


class MeasureEngine:
    def __init__(self, plan: Plan, dataset: Dataset, roster: Roster, fx: Fx,
                 deals: Deals, notes: list[tuple[str, Span | None]]) -> None:
        self.plan, self.dataset, self.roster, self.fx, self.deals = plan, dataset, roster, fx, deals
        self.notes = notes  # warnings about the data found while evaluating (run diagnostics)
        self.series: dict[tuple[str, str], CreditSeries] = defaultdict(CreditSeries)
        self._component_lines: dict[tuple[str, str], list] = defaultdict(list)
        # (component, its lines) published and not yet put in `component_lines`
        self._published: list[tuple[str, list]] = []
        # Names looked up on every evaluation: dictionaries, not scans of the plan's lists.
        self.credit_names = frozenset(c.name for c in plan.credits)
        self.measures = {ms.name: ms for ms in plan.measures}
        self.component_names = frozenset(c.name for c in plan.components)
        self.evaluator = Evaluator(plan, self)
        # Each quotas row with the period it names (read for every month of every period),
        # and a row's monthly share once worked out, by the row's id (rows live as long as the
        # dataset).
        self.quota_rows: dict[tuple[str, str], list[tuple[Period, QuotaRecord]]] = \
            defaultdict(list)
        parse = plan.calendar.parse
        for q in dataset.quotas:
            p = parse(q.period)
            if p is not None:
                self.quota_rows[(q.payee, q.quota)].append((p, q))
        self._row_monthly: dict[int, Fraction] = {}
        self.territory_index = {t.territory: t.index for t in dataset.territories}
        self._cache: dict = {}
        self._team_cache: dict = {}
        self._noted: set = set()

    # ------------------------------------------------------------------ credits

    def add_credits(self, lines: list[CreditLine]) -> None:
        # Each series' numbers, grouped first: a series is then filled in one go.
        groups: dict[tuple[str, str], list[int]] = {}
        for seq, key in enumerate(map(_CREDIT_PAYEE, lines)):
            group = groups.get(key)
            if group is None:
                groups[key] = [seq]
            else:
                group.append(seq)
        for key, seqs in groups.items():
            self.series[key].extend(seqs, list(map(lines.__getitem__, seqs)))

    def publish(self, component: str, lines: list) -> None:
        """A component's earning lines (a list nobody changes afterwards), put in
        `component_lines` when that is first read: most plans read no component's earnings,
        and a run would otherwise file every line by payee."""
        self._published.append((component, lines))

    @property
    def component_lines(self) -> dict[tuple[str, str], list]:
        """Each (component, payee)'s earning lines, in the order they were published."""
        if self._published:
            table = self._component_lines
            for name, lines in self._published:
                for ln in lines:
                    table[(name, ln.payee)].append(ln)
            self._published.clear()
        return self._component_lines

    def credit_total(self, credit: str, payees: tuple[str, ...], period: Period,
                     until: int | None) -> Decimal:
        total = ZERO
        for p in payees:
            if type(p) is str:  # asked for every credit line: no call for the usual case
                s = self.series.get((credit, p))
                if s is not None:
                    total += s.total(period.start, period.end, until)
                continue
            payee, start, end = _days(p, period)
            s = self.series.get((credit, payee))
            if s is not None:
                total += s.total(start, end, until)
        return total

    def credit_lines(self, credit: str, payees: tuple[str, ...], period: Period,
                     until: int | None) -> list[CreditLine]:
        out = []
        for p in payees:
            payee, start, end = _days(p, period)
            s = self.series.get((credit, payee))
            if s is not None:
                out.extend(s.within(start, end, until))
        return out

    def aggregate(self, func: str, source: str, where, env: Env) -> Decimal:
        payees = env.subject
        if source == "activities":
            count = 0
            for p in payees:
                payee, start, end = _days(p, env.period)
                for ev in self.deals.index.activities_of(payee):
                    if start <= ev.date <= end and (where is None or self.evaluator.eval(
                            where, Env(payee=payee, day=ev.date, event=ev))):
                        count += 1
            return Decimal(count)
        lines = self.credit_lines(source, payees, env.period, env.until)
        if where is not None:
            lines = [ln for ln in lines if self.evaluator.eval(where, Env(
                payee=ln.payee, day=ln.date, deal=self.deals.get(ln.deal)))]
        if func == "count":
            return Decimal(len({(ln.deal or ln.event) for ln in lines}))
        amounts = [ln.amount for ln in lines]
        if not amounts:
            return ZERO
        if func == "sum":
            return sum(amounts, ZERO)
        if func == "average":
            return div(sum(amounts, ZERO), Decimal(len(amounts)))
        return min(amounts) if func == "min" else max(amounts)

    # ------------------------------------------------------------------ values

    def value(self, name: str, env: Env) -> Decimal:
        payees = env.subject
        if name in self.credit_names:
            return self.credit_total(name, payees, env.period, env.until)
        spec = self.measures.get(name)
        if spec is not None:
            return self._measure(spec, env.payee, payees, env.period, env.until)
        return self.component_total(name, payees, env.period)

    def _measure(self, spec, payee: str | None, payees: tuple[str, ...], period: Period,
                 until: int | None) -> Decimal:
        if until is not None:
            # As it stood after one credit line: asked for once or twice (a commission line
            # reads its tier key before and after itself), not worth keeping.
            value = self.evaluator.function(spec.expr)(Env(
                payee=payee, day=period.end, period=period, payees=payees, until=until))
            return ZERO if value is None else value
        key = (spec.name, payees, period)
        value = self._cache.get(key)
        if value is None:
            value = self._cache[key] = self.evaluator.amount(
                spec.expr, Env(payee=payee, day=period.end, period=period, payees=payees))
        return value

    def steps_with(self, name: str, credit: str) -> bool:
        """Whether measure `name` of a payee reads no credit but the payee's own `credit`
        (besides quotas, constants and the payee's fields): then, within a period, its value
        changes only at that payee's lines of `credit`, and its value before one of them is its
        value after the one before."""
        key = ("steps with", name, credit)
        if key not in self._cache:
            spec = self.measures.get(name)
            self._cache[key] = spec is not None and self._reads_only(spec.expr, credit, {name})
        return self._cache[key]

    def _reads_only(self, expr: n.Expr, credit: str, seen: set[str]) -> bool:
        for e in n.walk(expr):
            if isinstance(e, n.TeamRef) or isinstance(e, n.Call) and not (
                    e.func.text in ("min", "max") and len(e.args) >= 2):
                return False  # other payees' credit, or counts and sums of lines
            if isinstance(e, n.FieldRef) and e.parts[0].text != "payee":
                return False
            if isinstance(e, n.Ref):
                name = e.name.text
                if name in self.credit_names:
                    if name != credit:
                        return False
                elif name in self.measures:
                    if name in seen or not self._reads_only(self.measures[name].expr, credit,
                                                            seen | {name}):
                        return False
                elif name not in self.plan.roles or name in self.component_names:
                    return False
        return True

    def measure(self, name: str, payee: str, period: Period, until: int | None = None) -> Decimal:
        """A measure (or credit) of one payee for one period, as it stood at `until`."""
        spec = self.measures.get(name)
        if spec is not None:
            return self._measure(spec, payee, (payee,), period, until)
        return self.value(name, Env(payee=payee, day=period.end, period=period,
                                    payees=(payee,), until=until))

    def component_total(self, name: str, payees: tuple[str, ...], period: Period) -> Decimal:
        total = ZERO
        for p in payees:
            payee, start, end = _days(p, period)
            for line in self.component_lines.get((name, payee), ()):
                if start <= line.date <= end:
                    total += line.amount
        return total

    def _teams(self, period: Period) -> dict[str, tuple[Member, ...]]:
        teams = self._team_cache.get(period)
        if teams is None:
            teams = self._team_cache[period] = {
                manager: tuple(Member(*span) for span in spans) for manager, spans in
                self.roster.reporting_spans(period.start, period.end).items()}
        return teams

    def team(self, manager: str | None, period: Period) -> tuple[Member, ...]:
        """The direct reports of `manager` during `period`, each with the days of the period
        they reported to `manager` while employed (a payee who left and came back has two
        entries)."""
        return self._teams(period).get(manager, ()) if manager is not None else ()

    def team_ids(self, manager: str | None, period: Period) -> list[str]:
        """The payees who reported to `manager` on some day of `period`."""
        return sorted({m.id for m in self.team(manager, period)})

    def managers(self, period: Period) -> list[str]:
        """The payees with a direct report on some day of `period`."""
        return sorted(self._teams(period))

    # ------------------------------------------------------------------ compensation

    def compensation_total(self, name: str, payees: tuple, period: Period) -> Number:
        """`base_salary`, `target_incentive` or `target_total_compensation` of a subject for
        a period, exactly (a team's is the sum of its members' days in the team)."""
        key = ("compensation", name, payees, period)
        value = self._cache.get(key)
        if value is None:
            total = Fraction(0)
            for p in payees:
                payee, start, end = _days(p, period)
                for kind in COMPENSATION_KINDS[name]:
                    total += self.compensation(kind, payee, start, end)
            value = self._cache[key] = exact(total)
        return value

    def compensation(self, kind: str, payee: str | None, start: dt.date,
                     end: dt.date) -> Fraction:
        """A payee's base salary or target incentive for the days start..end."""
        total = Fraction(0)
        if payee is None or payee not in self.roster or start > end:
            return total
        year, month = start.year, start.month
        while dt.date(year, month, 1) <= end:
            last = month_end(year, month)
            lo, hi = max(start, dt.date(year, month, 1)), min(end, last)
            for a, b, monthly in self._month_compensation(kind, payee, year, month):
                days = (min(b, hi) - max(a, lo)).days + 1
                if days > 0:
                    total += monthly if days == last.day else monthly * Fraction(days, last.day)
            year, month = add_months(year, month, 1)
        return total

    def _month_compensation(self, kind: str, payee: str, year: int,
                            month: int) -> list[tuple[dt.date, dt.date, Fraction]]:
        """The stretches of one month in which one line applies to the payee, each with the
        line's monthly amount."""
        key = ("month compensation", kind, payee, year, month)
        out = self._cache.get(key)
        if out is not None:
            return out
        out = self._cache[key] = []
        first, (hired, left) = dt.date(year, month, 1), self.roster.employment(payee)
        lo = max(first, hired, self.plan.effective_start)
        hi = min(month_end(year, month), *(d for d in (left, self.plan.effective_end) if d))
        if lo > hi:
            return out
        one = dt.timedelta(days=1)
        cuts = {lo, hi + one}
        for r in self.roster.records_of(payee):
            cuts.add(r.effective_from or lo)
        for line in self.plan.compensation:
            cuts.update(d for d in (line.start, line.end and line.end + one) if d)
        cuts = sorted(d for d in cuts if lo <= d <= hi + one)
        for a, b in zip(cuts, cuts[1:]):
            line = self.compensation_line(kind, self.roster.role_on(payee, a), a)
            if line is not None:
                out.append((a, b - one, self._stated(line, payee, a) /
                            MONTHS_PER_UNIT[line.per]))
        return out

    def compensation_line(self, kind: str, role: str | None,
                          day: dt.date) -> CompensationSpec | None:
        """The line of `kind` for a role on a day: one for the role before one for every role
        the plan applies to (the checker allows one of each)."""
        best = None
        for line in self.plan.compensation:
            if line.kind != kind or (line.start and day < line.start) or (
                    line.end and day > line.end):
                continue
            if line.roles and role not in line.roles:
                continue
            if not line.roles and self.plan.applies_to and role not in self.plan.applies_to:
                continue
            if best is None or (line.roles and not best.roles):
                best = line
        return best

    def _stated(self, line: CompensationSpec, payee: str, day: dt.date) -> Fraction:
        """A line's amount for a payee on a day, per the line's unit: a target incentive's
        `base_salary` is the payee's base salary that day, per the same unit."""
        salary = None
        if line.kind == "target incentive":
            base = self.compensation_line("base salary", self.roster.role_on(payee, day), day)
            salary = ZERO if base is None else exact(
                self._stated(base, payee, day) * MONTHS_PER_UNIT[line.per] /
                MONTHS_PER_UNIT[base.per])
        value = self.evaluator.eval(line.amount, Env(payee=payee, day=day, salary=salary))
        if value is None:
            self.note(("compensation", payee, line.span.line),
                      f"payee {payee}: this {line.kind} reads a payee field the roster leaves "
                      f"empty on {day}; 0 used", line.span)
            return Fraction(0)
        return Fraction(value)

    # ------------------------------------------------------------------ quotas

    def quota_total(self, name: str, payees: tuple[str, ...], period: Period) -> Number:
        """Exact: months are added as fractions (a third of a quarterly 250,000 is not a finite
        decimal, but three of them are exactly 250,000); a total with no finite decimal form (a
        quota prorated by 31 of 90 days) stays a fraction."""
        key = ("quota total", name, payees, period)
        value = self._cache.get(key)
        if value is None:
            spec = self.plan.quota(name)
            parts = [self._member_quota(spec, p, m) if type(p) is Member else
                     self._part_quota(spec, p, period, m) for p in payees
                     for m in period.months()]
            denominator = parts[0].denominator if parts else 1
            if all(f.denominator == denominator for f in parts):  # the usual case: no sum of
                numerator = sum(f.numerator for f in parts)      # fractions needed
            else:
                total = sum(parts, Fraction(0))
                numerator, denominator = total.numerator, total.denominator
            value = self._cache[key] = exact(Fraction(numerator, denominator))
        return value

    def _part_quota(self, spec: QuotaSpec, payee: str, period: Period,
                    month: Period) -> Fraction:
        """The part of a payee's month quota inside `period`: all of it for a period made of
        whole months; for a pay period shorter than a month (semi-monthly, bi-weekly), the
        payee's days employed inside it, and inside the plan's effective range, over their
        days employed that month, so that the pay periods of a month add up to the month's
        quota and the first and last fortnights of a plan are not measured against days on
        which nothing can be credited."""
        value = self.month_quota(spec, payee, month)
        if not value or (period.start <= month.start and month.end <= period.end):
            return value
        plan = self.plan
        lo = max(period.start, month.start, plan.effective_start)
        hi = min(period.end, month.end, plan.effective_end or month.end)
        if lo > hi:
            return Fraction(0)
        if payee not in self.roster:
            return value * Fraction((hi - lo).days + 1, month.days)
        employed = self.roster.active_days(payee, month.start, month.end)
        inside = self.roster.active_days(payee, lo, hi)
        return value * Fraction(inside, employed) if employed else Fraction(0)

    def _member_quota(self, spec: QuotaSpec, member: Member, month: Period) -> Fraction:
        """The share of a member's month quota that falls in their days in the team: their
        days in the team over their days employed that month, so that a month split between
        two managers is split between their teams, and adds up to the whole."""
        lo, hi = max(member.start, month.start), min(member.end, month.end)
        if lo > hi:
            return Fraction(0)
        value = self.month_quota(spec, member.id, month)
        employed = self.roster.active_days(member.id, month.start, month.end)
        inside = (hi - lo).days + 1
        return value if not value or inside >= employed else value * Fraction(inside, employed)

    def month_quota(self, spec: QuotaSpec, payee: str, month: Period) -> Fraction:
        key = ("quota", spec.name, payee, month.start)
        if key in self._cache:
            return self._cache[key]
        value = self._base_month_quota(spec, payee, month)
        if payee in self.roster and value:
            if spec.proration == "days":
                active = self.roster.active_days(payee, month.start, month.end)
                if active != month.days:  # a whole month keeps the whole value
                    value = value * Fraction(active, month.days)
            elif spec.proration == "months" and not self.roster.active_days(
                    payee, month.start, month.end):
                value = Fraction(0)
            if spec.ramp:
                tenure = month_number(self.roster.employment(payee)[0], month.start)
                if 1 <= tenure <= len(spec.ramp):
                    value = value * Fraction(spec.ramp[tenure - 1])
            if spec.normalize:
                value = value * Fraction(self._territory_index(payee, month))
        self._cache[key] = value
        return value

    def _territory_index(self, payee: str, month: Period) -> Decimal:
        r = self.roster.at(payee, month.start)
        territory = r.territory if r else None
        if territory in self.territory_index:
            return self.territory_index[territory]
        self.note(("territory", payee, territory),
                  f"payee {payee}: territory {territory!r} has no index in the territories "
                  "table; 100% used")
        return ONE

    def note(self, key, message: str, span: Span | None = None) -> None:
        """A warning about the data, once per `key`, at `span` (the plan line that read the
        data) or else at the plan header."""
        if key not in self._noted:
            self._noted.add(key)
            self.notes.append((message, span))

    def _base_month_quota(self, spec: QuotaSpec, payee: str, month: Period) -> Fraction:
        # A row of the quotas table (or an example's quota line) wins over the plan's values.
        for p, row in self.quota_rows.get((payee, spec.name), ()):
            if p.start <= month.start and month.end <= p.end:
                monthly = self._row_monthly.get(id(row))
                if monthly is None:
                    amount = row.amount
                    if row.currency and row.currency != self.plan.currency and \
                            spec.kind == "money":
                        # A quota in another currency is converted at the rate of its period's
                        # end.
                        amount = self.fx.convert(amount, row.currency, p.end)[0]
                    monthly = self._row_monthly[id(row)] = _monthly(amount, len(p.months()))
                return monthly
        if spec.forecast is not None:
            return self._forecast_month(spec.forecast, payee, month)
        role = self.roster.role_on(payee, month.start) if payee in self.roster else None
        if role is None and payee in self.roster:
            role = self.roster.first(payee).role
        best = None
        for v in spec.values:
            if v.start is not None and month.end < v.start:
                continue
            if v.end is not None and month.start > v.end:
                continue
            if v.roles and role not in v.roles:
                continue
            if best is None or (v.roles and not best.roles):
                best = v
        if best is None:
            return Fraction(0)
        return _monthly(best.amount, MONTHS_PER_UNIT[best.per])

    def _forecast_month(self, f: ForecastSpec, payee: str, month: Period) -> Fraction:
        period = self.plan.calendar.period_of(month.start, f.unit)
        return Fraction(self.forecast(f, payee, period)[0]) / MONTHS_PER_UNIT[f.unit]

    def forecast(self, f: ForecastSpec, payee: str,
                 period: Period) -> tuple[Decimal, list[tuple[str, Decimal]]]:
        """The forecast for `period` and the history it used: [(period label, value)]."""
        key = ("forecast", f.measure, f.method, f.count, f.unit, payee, period.start)
        if key in self._cache:
            return self._cache[key]
        cal = self.plan.calendar
        if f.method == "seasonal naive":
            year_before = period.start.replace(year=period.start.year - 1)
            history_periods = [cal.period_of(year_before, f.unit)]
        else:
            history_periods, p = [], period
            for _ in range(f.count):
                p = cal.period_of(p.start - dt.timedelta(days=1), f.unit)
                history_periods.insert(0, p)
        earliest = self.dataset.events[0].date if self.dataset.events else period.start
        usable = [p for p in history_periods if p.end >= earliest]
        if len(usable) < len(history_periods):
            self.note(("forecast", payee, f.measure),
                      f"payee {payee}: the data starts {earliest}, so the {f.method} forecast "
                      f"of {f.measure} uses {len(usable)} of {len(history_periods)} periods")
        history = [(p.label, self.measure(f.measure, payee, p)) for p in usable]
        values = [v for _, v in history]
        if not values:
            result = ZERO
        elif f.method == "trailing average" or f.method == "seasonal naive" or len(values) < 2:
            result = exact(sum(map(Fraction, values), Fraction(0)) / len(values))
        else:
            result = _linear_next(values)
        result = max(ZERO, mul(result, f.uplift))
        self._cache[key] = (result, history)
        return self._cache[key]


@functools.lru_cache(maxsize=4096)
def _monthly(amount: Decimal, months: int) -> Fraction:
    """One month's share of a quota amount, exactly (quota tables repeat a few amounts)."""
    return Fraction(amount) / months


def _linear_next(values: list[Number]) -> Number:
    """The least-squares line through (1, v1) … (n, vn), evaluated at n + 1, exactly."""
    count = len(values)
    ys = [Fraction(v) for v in values]
    mean_x = Fraction(count + 1, 2)
    mean_y = sum(ys, Fraction(0)) / count
    sxx = sum(((x - mean_x) ** 2 for x in range(1, count + 1)), Fraction(0))
    sxy = sum(((x - mean_x) * (y - mean_y) for x, y in zip(range(1, count + 1), ys)),
              Fraction(0))
    return exact(mean_y + sxy / sxx * (count + 1 - mean_x))

