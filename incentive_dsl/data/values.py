"""Cell text -> typed values: dates, amounts, currencies, percentages, splits, custom fields.

Every parser takes the (stripped) text of one cell and returns an exact value or raises
`BadValue` with a message and a hint; the loaders turn that into a diagnostic pointing at the
cell. No binary floating point is ever involved: numbers are read with `Decimal` from their text.
Custom fields get the values evaluation works with: a `money` field is a Decimal in the plan
currency (the checker types it so), a `duration` a Decimal number of days.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from decimal import Decimal

from incentive_dsl.check.model import FieldSpec
from incentive_dsl.diagnostics import closest
from incentive_dsl.periods import DAYS_PER_UNIT
from incentive_dsl.limits import (MAX_FRACTION_DIGITS, MAX_FX_RATE, MAX_INTEGER_DIGITS,
                                  date_problem, duration_problem, number_problem)


class BadValue(Exception):
    """A cell that cannot be read as the value its column needs (internal: always caught)."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


def suggest(word: str, candidates) -> str | None:
    """A 'did you mean' hint for a misspelt word, or None."""
    close = closest(word, candidates)
    return f"did you mean '{close}'?" if close else None


# ------------------------------------------------------------------------------ dates

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


# The dates read, by their text: a history of a million events has a few hundred days, and
# each event would otherwise keep its own copy of its day.
_DATES: dict[str, dt.date] = {}


def parse_date(text: str) -> dt.date:
    day = _DATES.get(text)
    if day is not None:
        return day
    if _DATE.fullmatch(text):
        try:
            day = dt.date.fromisoformat(text)
        except ValueError:
            raise BadValue(f"'{text}' is not a calendar date",
                           "check the month and the day: dates are YYYY-MM-DD") from None
        day = _in_range(day, text)
        if len(_DATES) < 65536:
            _DATES[text] = day
        return day
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ].*", text):
        raise BadValue(f"'{text}' is not a date", f"drop the time of day: {text[:10]}")
    if re.fullmatch(r"\d{1,2}[/.]\d{1,2}[/.]\d{2,4}", text):
        raise BadValue(f"'{text}' is not a date",
                       "write dates as YYYY-MM-DD, e.g. 2027-03-15 (day/month order is "
                       "ambiguous)")
    raise BadValue(f"'{text}' is not a date", "write dates as YYYY-MM-DD, e.g. 2027-03-15")


def _in_range(day: dt.date, text: str) -> dt.date:
    problem = date_problem(day)
    if problem:
        raise BadValue(f"the date '{text}' {problem}", "see the limits in docs/data.md")
    return day


# ------------------------------------------------------------------------------ numbers

# [0-9], not \d: only ASCII digits are digits (limits.py says why)
_NUMBER = re.compile(r"(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?")
# Digits with an optional decimal part, within the limits (limits.py): read as they are.
PLAIN_AMOUNT = re.compile(
    rf"[0-9]{{1,{MAX_INTEGER_DIGITS}}}(?:\.[0-9]{{1,{MAX_FRACTION_DIGITS}}})?")
_INTEGER = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+")
_CURRENCY = re.compile(r"[A-Z]{3}")
_SYMBOLS = "$€£¥₹"


def _number_hint(text: str, what: str) -> str:
    if text.startswith("-") or (text.startswith("(") and text.endswith(")")):
        return f"{what}s are never negative"
    if any(s in text for s in _SYMBOLS) or re.search(r"[A-Za-z]{3}$", text.strip()):
        return "write only the number; the currency goes in the 'currency' column"
    if re.fullmatch(r"\d+,\d{1,2}", text) or re.fullmatch(r"\d{1,3}(\.\d{3})+,\d+", text):
        return "use a decimal point, not a decimal comma: 12.5, or 1,250.50"
    if re.fullmatch(r"\d+(\.\d+)?[eE][+-]?\d+", text):
        return "write the number out in digits, without an exponent"
    if re.fullmatch(r"\d+(\.\d+)?[kKmM]", text):
        return "write the number out in digits: 250000, not 250k"
    return "write digits with an optional decimal point; thousands may be grouped with commas " \
           "(250000.50 or 250,000.50)"


def _exact(text: str) -> Decimal:
    """The number a matched text writes, within the digits limits.py allows."""
    problem = number_problem(text)
    if problem:
        raise BadValue(f"'{_short(text)}' {problem}", "see the limits in docs/data.md")
    return Decimal(text.replace(",", ""))


def _short(text: str) -> str:
    return text if len(text) <= 40 else f"{text[:20]}…{text[-10:]}"


def parse_amount(text: str) -> Decimal:
    """A non-negative exact amount: `250000`, `250,000.50`."""
    if PLAIN_AMOUNT.fullmatch(text):  # most amounts: no separators, within the digit limits
        return Decimal(text)
    if _NUMBER.fullmatch(text):
        return _exact(text)
    raise BadValue(f"'{text}' is not an amount", _number_hint(text, "amount"))


def parse_number(text: str, what: str = "number") -> Decimal:
    """An exact number, optionally negative: `-3`, `1,250.5`."""
    body = text[1:] if text.startswith("-") else text
    if _NUMBER.fullmatch(body):
        return _exact(text)
    raise BadValue(f"'{text}' is not a {what}", _number_hint(body, what)
                   if not text.startswith("-") else None)


def parse_positive(text: str, what: str) -> Decimal:
    """A number above zero (FX rates)."""
    if _NUMBER.fullmatch(text):
        value = _exact(text)
        if value >= MAX_FX_RATE:
            raise BadValue(f"a {what} must be below {MAX_FX_RATE:,}, not '{_short(text)}'")
        if value > 0:
            return value
        raise BadValue(f"a {what} must be above zero, not '{text}'")
    raise BadValue(f"'{text}' is not a {what}", _number_hint(text, what))


def parse_count(text: str, what: str = "whole number") -> int:
    """A whole number, zero or more: `3`, `1,200`."""
    if _INTEGER.fullmatch(text):
        return int(_exact(text))
    if _NUMBER.fullmatch(text):
        raise BadValue(f"'{text}' is not a {what}", "write a whole number, without decimals")
    raise BadValue(f"'{text}' is not a {what}", _number_hint(text, what))


def parse_percent(text: str) -> Decimal:
    """`8%` or `8` (percentage points), `12.5%`; returns the fraction (0.08)."""
    body = text[:-1].rstrip() if text.endswith("%") else text
    if _NUMBER.fullmatch(body):
        return _exact(body).scaleb(-2)
    raise BadValue(f"'{text}' is not a percentage", "write a percentage such as 8% or 12.5%")


def parse_index(text: str) -> Decimal:
    """A territory index: `110%` or the plain multiplier `1.10`; returns the multiplier."""
    if text.endswith("%"):
        value = parse_percent(text)
    elif _NUMBER.fullmatch(text):
        value = _exact(text)
        if value > 10:
            raise BadValue(f"an index of {text} would multiply quotas by {text}",
                           f"did you mean {text}%? write 110% or 1.10")
    else:
        raise BadValue(f"'{text}' is not an index", "write a percentage such as 110% or a "
                       "multiplier such as 1.10")
    if value <= 0:
        raise BadValue(f"an index must be above zero, not '{text}'")
    return value


def parse_currency(text: str) -> str:
    if _CURRENCY.fullmatch(text):
        return sys.intern(text)  # one copy of each code, not one per row
    if _CURRENCY.fullmatch(text.upper()):
        return_hint = f"write currency codes in capitals: {text.upper()}"
    elif any(s in text for s in _SYMBOLS):
        return_hint = "write the three-letter ISO code, e.g. USD or EUR, not a symbol"
    else:
        return_hint = "write a three-letter ISO code in capitals, e.g. USD or EUR"
    raise BadValue(f"'{text}' is not a currency code", return_hint)


# ------------------------------------------------------------------------------ splits

_SPLIT_PART = re.compile(r"\s*([^:;]+?)\s*:\s*([^:;]*?)\s*")


def parse_split_share(payee: str, raw: str) -> Decimal:
    text = raw.strip()
    try:
        pct = parse_percent(text)
    except BadValue:
        raise BadValue(f"the share of '{payee}' ('{raw}') is not a percentage",
                       "write splits as payee:percent pairs, e.g. ana:60;bob:40") from None
    if pct <= 0:
        raise BadValue(f"the share of '{payee}' must be above 0%")
    return pct


def split_text_pairs(text: str) -> list[tuple[str, str]]:
    """`ana:60;bob:40` -> [("ana", "60"), ("bob", "40")]; empty pieces are skipped."""
    pairs = []
    for piece in text.split(";"):
        if not piece.strip():
            continue
        m = _SPLIT_PART.fullmatch(piece)
        if m is None:
            raise BadValue(f"'{piece.strip()}' is not a payee:percent pair",
                           "write splits as payee:percent pairs separated by ';', "
                           "e.g. ana:60;bob:40")
        pairs.append((m.group(1), m.group(2)))
    return pairs


def parse_splits(pairs: list[tuple[str, str]]) -> tuple[tuple[str, Decimal], ...]:
    """Payee/percentage pairs -> (payee, fraction) pairs sorted by payee; they must total 100%."""
    if not pairs:
        raise BadValue("the splits name nobody", "write payee:percent pairs, e.g. ana:60;bob:40")
    shares: dict[str, Decimal] = {}
    for payee, raw in pairs:
        if payee in shares:
            raise BadValue(f"'{payee}' appears twice in the splits",
                           "give each payee one share")
        shares[sys.intern(payee)] = parse_split_share(payee, raw)  # (see RowReader.name)
    total = sum(shares.values(), Decimal(0))
    if total != 1:
        shown = f"{total.scaleb(2).normalize():f}"
        raise BadValue(f"the splits total {shown}%, not 100%",
                       "the shares of a deal must total exactly 100%")
    return tuple(sorted((p, s.normalize()) for p, s in shares.items()))


# ------------------------------------------------------------------------------ custom fields

DURATION_UNITS = {"day": "day", "days": "day", "week": "week", "weeks": "week",
                  "month": "month", "months": "month", "quarter": "quarter",
                  "quarters": "quarter", "year": "year", "years": "year"}
_YES = {"yes": True, "true": True, "no": False, "false": False}


def parse_money(text: str, currency: str | None, plan_currency: str) -> Decimal:
    """`1,000 USD`, or a plain `1,000` in `currency` (the event's, or the plan's when None). The
    value must be in the plan currency: the plan types money fields in it."""
    parts = text.split()
    if len(parts) == 2 and _CURRENCY.fullmatch(parts[1]):
        amount, written = parse_amount(parts[0]), parts[1]
    elif len(parts) == 1 and _NUMBER.fullmatch(text):
        amount, written = parse_amount(text), currency or plan_currency
    else:
        raise BadValue(f"'{text}' is not an amount of money",
                       f"write an amount, optionally with its currency: 1,000 or "
                       f"1,000 {plan_currency}")
    if written != plan_currency:
        where = "," if len(parts) == 2 else ", the event's currency,"
        raise BadValue(f"'{text}' is in {written}{where} not in the plan currency "
                       f"{plan_currency}", f"money fields are in the plan currency: convert the "
                       f"amount and write it with its code, e.g. 1,000 {plan_currency}")
    return amount


def parse_duration(text: str) -> Decimal:
    """`90 days`, `6 months`: the number of days (a month counts 30, a quarter 91, a year
    365), as evaluation counts duration literals."""
    parts = text.split()
    if len(parts) == 2 and parts[1].lower() in DURATION_UNITS and _INTEGER.fullmatch(parts[0]):
        unit = DURATION_UNITS[parts[1].lower()]
        days = _exact(parts[0]) * DAYS_PER_UNIT[unit]
        problem = duration_problem(days)
        if problem:
            raise BadValue(f"the duration '{_short(text)}' {problem}",
                           "see the limits in docs/data.md")
        return days
    raise BadValue(f"'{text}' is not a duration",
                   "write a whole number and a unit: 90 days, 2 weeks, 6 months, 1 year")


def parse_field(spec: FieldSpec, text: str, currency: str | None, plan_currency: str) -> object:
    """A custom field's value, by the kind the plan declares for it; `currency` is the one a
    plain money amount is in (None: the plan currency)."""
    kind = spec.kind
    if kind == "text":
        return text
    if kind == "number":
        return parse_number(text)
    if kind == "count":
        return parse_count(text, "count")
    if kind == "money":
        return parse_money(text, currency, plan_currency)
    if kind == "percent":
        return parse_percent(text)
    if kind == "date":
        return parse_date(text)
    if kind == "duration":
        return parse_duration(text)
    if kind == "yes or no":
        value = _YES.get(text.lower())
        if value is None:
            raise BadValue(f"'{text}' is not yes or no", "write yes, no, true or false")
        return value
    if kind == "one of":
        if text in spec.options:
            return text
        options = ", ".join(f"'{o}'" for o in spec.options)
        raise BadValue(f"'{text}' is not one of {options}",
                       suggest(text, spec.options) or f"write one of {options}")
    raise BadValue(f"fields of kind '{kind}' cannot be read from data files")
