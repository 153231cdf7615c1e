"""Calendars and periods: months, quarters, halves and years, calendar or fiscal, and the
pay periods shorter than a month (semi-monthly and bi-weekly).

A fiscal year is named by the calendar year in which it ends: with the year starting in
February, FY2027 runs from 2026-02-01 to 2027-01-31. Without a fiscal start the calendar is
the calendar year and labels are `2027-Q1`, `2027-H2`, `2027`; months are always `2027-03`.

Semi-monthly periods run from the 1st to the 15th and from the 16th to the month's end;
bi-weekly ones are fortnights counted from the plan's stated first day (before it too). Their
labels are ISO 8601 intervals with the end abbreviated: `2027-03-01/15`, `2027-01-25/02-07`,
`2027-12-27/2028-01-09`.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from fractions import Fraction

import attrs

from incentive_dsl.limits import FIRST_YEAR, LAST_YEAR

MONTHS_PER_UNIT = {"month": 1, "quarter": 3, "half": 6, "year": 12}
WEEK_UNITS = ("semimonth", "biweek")  # pay periods that are not whole months
FREQUENCY_UNIT = {"monthly": "month", "quarterly": "quarter", "semiannually": "half",
                  "annually": "year", "semimonthly": "semimonth",
                  "biweekly": "biweek"}  # a payout frequency -> its pay period
# A period unit's nominal length, to order units (a cap per month is checked after one per
# bi-weekly period, before one per quarter).
UNIT_DAYS = {"biweek": 14, "semimonth": 15, "month": 30, "quarter": 91, "half": 182,
             "year": 365}
# Days per unit, as expressions and data files count durations (a month is 30 days).
DAYS_PER_UNIT = {"day": 1, "week": 7, "month": 30, "quarter": 91, "year": 365}
# The words of a duration (`90 days`, `1 quarter`): a number before one takes it as its unit.
DURATION_WORDS = frozenset(w for unit in DAYS_PER_UNIT for w in (unit, unit + "s"))


def part_problem(raw: str) -> str | None:
    """What is wrong with a period written as one but naming a quarter, half or month no year
    has (2027-Q5, 2027-H3, 2027-13), or None."""
    m = re.fullmatch(r"(?:FY)?[0-9]{4}-(?:Q([0-9]+)|H([0-9]+)|([0-9]{2}))", raw.strip().upper())
    if m is None:
        return None
    quarter, half, month = m.groups()
    if quarter is not None and not 1 <= int(quarter) <= 4:
        return f"a year has quarters Q1 to Q4, not Q{quarter}"
    if half is not None and not 1 <= int(half) <= 2:
        return f"a year has halves H1 and H2, not H{half}"
    if month is not None and not 1 <= int(month) <= 12:
        return f"a year has months 01 to 12, not {month}"
    return None


def not_a_period_message(raw: str) -> str:
    """`'raw' is not a period`, saying what is wrong when it names a part no year has."""
    problem = part_problem(raw)
    return f"'{raw}' is not a period" + (f": {problem}" if problem else "")


def unit_text(unit: str) -> str:
    """A period unit as plan text writes it: units shorter than a month are only reached as
    `per pay period`."""
    return "pay period" if unit in WEEK_UNITS else unit


def months_text(count: object) -> str:
    """`1 month`, `3 months`."""
    return f"{count} month" if str(count) == "1" else f"{count} months"


MONTH_NAMES = ("january", "february", "march", "april", "may", "june", "july", "august",
               "september", "october", "november", "december")


def add_months(year: int, month: int, n: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + n
    return index // 12, index % 12 + 1


def month_number(start: dt.date, day: dt.date) -> int:
    """Which month since `start` holds `day`: 1 for `start`'s own month (a quota's ramp)."""
    return (day.year - start.year) * 12 + day.month - start.month + 1


def month_end(year: int, month: int) -> dt.date:
    ny, nm = add_months(year, month, 1)
    return dt.date(ny, nm, 1) - dt.timedelta(days=1)


@attrs.frozen(order=True, cache_hash=True)  # periods key the measure and quota caches
class Period:
    """A closed range of days with its unit and label."""

    start: dt.date
    end: dt.date
    unit: str
    label: str

    def __str__(self) -> str:
        return self.label

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def months(self) -> tuple[Period, ...]:
        return _months(self)

    def month_shares(self) -> tuple[tuple[Period, Fraction], ...]:
        """The months this period overlaps, each with the share of its days inside the
        period (1 for every month of a period made of whole months)."""
        return _month_shares(self)


@attrs.frozen(cache_hash=True)
class Calendar:
    fiscal_start: int = 1  # month number the (fiscal) year starts in
    pay_unit: str = "month"  # the plan's pay period: labels of semimonth or biweek parse
    pay_start: dt.date | None = None  # biweek: the first day of one of its periods

    @property
    def fiscal(self) -> bool:
        return self.fiscal_start != 1

    def _year_start(self, fiscal_year: int) -> tuple[int, int]:
        return (fiscal_year, 1) if not self.fiscal else (fiscal_year - 1, self.fiscal_start)

    def fiscal_year_of(self, day: dt.date) -> int:
        if not self.fiscal:
            return day.year
        return day.year + 1 if day.month >= self.fiscal_start else day.year

    def period(self, unit: str, fiscal_year: int, index: int = 1) -> Period:
        """Period number `index` (1-based) of `unit` within (fiscal) year `fiscal_year`."""
        span = MONTHS_PER_UNIT[unit]
        y0, m0 = self._year_start(fiscal_year)
        y, m = add_months(y0, m0, span * (index - 1))
        ey, em = add_months(y, m, span - 1)
        prefix = f"FY{fiscal_year:04d}" if self.fiscal else f"{fiscal_year:04d}"
        if unit == "month":
            label = f"{y:04d}-{m:02d}"
        elif unit == "quarter":
            label = f"{prefix}-Q{index}"
        elif unit == "half":
            label = f"{prefix}-H{index}"
        else:
            label = prefix
        return Period(dt.date(y, m, 1), month_end(ey, em), unit, label)

    def period_of(self, day: dt.date, unit: str) -> Period:
        if unit == "biweek":
            return _fortnight_of(self.pay_start, day)
        return _period_of(self.fiscal_start, day, unit)

    def _compute_period_of(self, day: dt.date, unit: str) -> Period:
        if unit == "semimonth":
            if day.day <= 15:
                return _interval(dt.date(day.year, day.month, 1),
                                 dt.date(day.year, day.month, 15), unit)
            return _interval(dt.date(day.year, day.month, 16), month_end(day.year, day.month),
                             unit)
        fy = self.fiscal_year_of(day)
        y0, m0 = self._year_start(fy)
        months_in = (day.year * 12 + day.month) - (y0 * 12 + m0)
        return self.period(unit, fy, months_in // MONTHS_PER_UNIT[unit] + 1)

    def periods(self, start: dt.date, end: dt.date, unit: str) -> list[Period]:
        """Every period of `unit` that overlaps start..end, in order."""
        out, p = [], self.period_of(start, unit)
        while p.start <= end:
            out.append(p)
            p = self.period_of(p.end + dt.timedelta(days=1), unit)
        return out

    def examples(self, wrong: str, day: dt.date) -> str:
        """Period names for a message about the name `wrong`: when pay periods are shorter
        than a month, first the pay period holding the date `wrong` starts with (else `day`)."""
        # Every form `parse` takes: a quarter, a month, a half, a year (FY is optional).
        named = ("2027-Q1, 2027-03, 2027-H1, 2027 or FY2027" if not self.fiscal
                 else "FY2027-Q1, 2027-03, FY2027-H1, FY2027")
        if self.pay_unit in WEEK_UNITS:
            m = re.match(r"([0-9]{4})-([0-9]{2})-([0-9]{2})", wrong)
            try:
                day = dt.date(int(m[1]), int(m[2]), int(m[3])) if m else day
            except ValueError:
                pass
            return f"{self.period_of(day, self.pay_unit).label}, {named}"
        return named

    def not_a_period(self, wrong: str, day: dt.date) -> str:
        """Why `wrong` names no period, with the forms a period takes (`day` as in
        `examples`): written in lower case (2027-q1), a year outside the years a plan may
        use, or not a period's name at all."""
        if self.parse(wrong.upper()) is not None:  # 2027-q1, fy2027
            return f"'{wrong}' is not a period: write it in capitals, {wrong.upper()}"
        meant = self.respelt(wrong)
        if meant is not None:
            return f"'{wrong}' is not a period: did you mean {meant}?"
        problem = part_problem(wrong)
        if problem is not None:
            return f"'{wrong}' is not a period: {problem}"
        forms = self.examples(wrong, day)
        year = re.match(r"(?:FY)?([0-9]{4})(?![0-9])", wrong.upper())
        if year and not FIRST_YEAR <= int(year[1]) <= LAST_YEAR:
            return (f"'{wrong}' is not a period: the year {year[1]} is outside the years "
                    f"{FIRST_YEAR} to {LAST_YEAR} (e.g. {forms})")
        return f"'{wrong}' is not a period (e.g. {forms})"

    def respelt(self, wrong: str) -> str | None:
        """The period `wrong` names in another common spelling (2027Q1, Q1-2027, Q1 2027,
        2027/03, 2027-3, 03/2027), written as `parse` reads it; None if it names none."""
        part = r"(Q[1-4]|H[12]|[0-9]{1,2})"
        year = r"(FY)?\s*([0-9]{4})"
        text, sep = wrong.strip().upper(), r"([\s\-/_.]*)"
        found = re.fullmatch(year + sep + part, text)
        if found:
            fy, y, between, p = found.groups()
        else:
            found = re.fullmatch(part + sep + year, text)
            if found is None:
                return None
            p, between, fy, y = found.groups()
        if p.isdigit() and not between:  # 202703 or 12027: too far from a period to guess
            return None
        meant = f"{fy or ''}{y}-{p.zfill(2) if p.isdigit() else p}"
        return meant if meant != wrong and self.parse(meant) is not None else None

    def parse(self, raw: str) -> Period | None:
        """The period named by a literal (`2027-Q1`, `2027-03`, `FY2027-H2`, `2027`), or None."""
        return _parse(self, raw)

    def _compute_parse(self, raw: str) -> Period | None:
        if "/" in raw:
            return self._parse_interval(raw)
        m = re.fullmatch(r"(FY)?([0-9]{4})(?:-(Q[1-4]|H[12]|[0-9]{2}))?", raw)  # ASCII digits only
        if m is None:
            return None
        fy, year, part = m.group(1), int(m.group(2)), m.group(3)
        if year < 1900 or year > 2999:
            return None
        if part is None:
            return self.period("year", year)
        if part[0] == "Q":
            return self.period("quarter", year, int(part[1]))
        if part[0] == "H":
            return self.period("half", year, int(part[1]))
        if fy:
            return None  # FY2027-03 is not a period: months are calendar months
        month = int(part)
        if not 1 <= month <= 12:
            return None
        return Period(dt.date(year, month, 1), month_end(year, month), "month",
                      f"{year:04d}-{month:02d}")


    def _parse_interval(self, raw: str) -> Period | None:
        """A pay period of this calendar written as its label (`2027-03-16/31`); None for any
        other interval."""
        if self.pay_unit not in WEEK_UNITS or (self.pay_unit == "biweek" and
                                                self.pay_start is None):
            return None
        m = re.fullmatch(r"([0-9]{4})-([0-9]{2})-([0-9]{2})/"
                         r"(?:(?:([0-9]{4})-)?([0-9]{2})-)?([0-9]{2})", raw)
        if m is None:
            return None
        try:
            start = dt.date(int(m[1]), int(m[2]), int(m[3]))
            if start.year < 1900 or start.year > 2999:
                return None
            period = self.period_of(start, self.pay_unit)
        except ValueError:
            return None
        # Its label, or the same interval with the end written in full.
        return period if period.start == start and raw in (
            period.label, f"{period.start}/{period.end}") else None


def _interval(start: dt.date, end: dt.date, unit: str) -> Period:
    if start.year != end.year:
        tail = end.isoformat()
    elif start.month != end.month:
        tail = f"{end.month:02d}-{end.day:02d}"
    else:
        tail = f"{end.day:02d}"
    return Period(start, end, unit, f"{start.isoformat()}/{tail}")


@functools.lru_cache(maxsize=65536)
def _fortnight_of(anchor: dt.date | None, day: dt.date) -> Period:
    if anchor is None:
        raise ValueError("a bi-weekly calendar needs the first day of a pay period")
    start = anchor + dt.timedelta(days=(day - anchor).days // 14 * 14)
    return _interval(start, start + dt.timedelta(days=13), "biweek")


@functools.lru_cache(maxsize=4096)
def _month_shares(period: Period) -> tuple[tuple[Period, Fraction], ...]:
    out = []
    for month in _months(period):
        inside = (min(period.end, month.end) - max(period.start, month.start)).days + 1
        out.append((month, Fraction(1) if inside == month.days else
                    Fraction(inside, month.days)))
    return tuple(out)


@functools.lru_cache(maxsize=4096)
def _months(period: Period) -> tuple[Period, ...]:
    out, y, m = [], period.start.year, period.start.month
    while dt.date(y, m, 1) <= period.end:
        out.append(Period(dt.date(y, m, 1), month_end(y, m), "month", f"{y:04d}-{m:02d}"))
        y, m = add_months(y, m, 1)
    return tuple(out)


@functools.lru_cache(maxsize=4096)
def _parse(calendar: Calendar, raw: str) -> Period | None:
    return calendar._compute_parse(raw)


@functools.lru_cache(maxsize=65536)
def _period_of(fiscal_start: int, day: dt.date, unit: str) -> Period:
    # Evaluation asks for the period of the same few hundred days again and again (keyed by
    # the fiscal start: a calendar's hash is a Python call, an int's is not).
    return Calendar(fiscal_start)._compute_period_of(day, unit)
