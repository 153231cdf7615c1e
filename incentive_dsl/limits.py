"""The bounds on what plans and data files may say, decided in one place.

Plans and data files are untrusted. Every value they bring in is checked against these bounds
where it enters (the plan checker for plans, the loaders for data files and mappings), so the
interpreter only ever sees values whose arithmetic stays exact in the 34-digit money context
(eval/money.py) and whose dates stay inside the calendar. docs/language.md and docs/data.md
state them for authors.

Why these numbers: an amount below 10^15 (a thousand trillion) times an FX rate below 10^6 is
below 10^21; a million such amounts add up to less than 10^27, which with its cents still fits
the 34 digits exactly. Twelve decimals are more than any rate or share needs. Years stay
within 1900..2999 so that a period, a cancellation window or a holdback of up to 100 years
never leaves the calendar (which ends in 9999).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

MAX_INTEGER_DIGITS = 15  # digits before the decimal point: values below 10^15
MAX_FRACTION_DIGITS = 12  # digits after it
MAX_FX_RATE = Decimal(10) ** 6  # an exchange rate is below a million
MAX_COMPUTED_DIGITS = 24  # a product or quotient in a plan's expression stays below 10^24
# A value with no finite decimal form is kept as a fraction whose denominator has at most this
# many digits (a third of a prorated quota has a handful; only chained divisions go further).
MAX_DENOMINATOR_DIGITS = 100
FIRST_YEAR, LAST_YEAR = 1900, 2999  # dates and periods in plans and data
MAX_DURATION_DAYS = 100 * 366  # a duration is at most 100 years
MAX_EXPRESSION_DEPTH = 100  # brackets and operators nested inside one expression
MAX_CHAIN = 32  # measures defined in terms of measures, this many deep at most
MAX_NESTING = 32  # brackets inside one JSON Lines row or a mapping's TOML

# ASCII digits only: Python's \d, int() and Decimal() also read fullwidth and Arabic-Indic
# digits, which would let '２０２７' and '2027' be two different texts of one value.
_PARTS = re.compile(r"(?a)[+-]?(\d*)(?:\.(\d*))?")

# Characters that change the display order of text (Unicode bidirectional controls): a plan
# or data file containing them can read differently on screen than it is parsed.
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                          "\u2066\u2067\u2068\u2069")
_BIDI = re.compile("[" + "".join(sorted(BIDI_CONTROLS)) + "]")


def number_problem(text: str) -> str | None:
    """Why the digits of a number written as `text` (commas and a sign allowed) exceed the
    bounds, or None. The caller has already matched it as a number."""
    m = _PARTS.fullmatch(text.replace(",", ""))
    if m is None:
        return None
    whole, fraction = m.group(1).lstrip("0"), m.group(2) or ""
    if len(whole) > MAX_INTEGER_DIGITS:
        return (f"has {len(whole)} digits before the decimal point; at most "
                f"{MAX_INTEGER_DIGITS} are allowed (values below 10^{MAX_INTEGER_DIGITS})")
    if len(fraction) > MAX_FRACTION_DIGITS:
        return (f"has {len(fraction)} digits after the decimal point; at most "
                f"{MAX_FRACTION_DIGITS} are allowed")
    return None


def date_problem(day: dt.date) -> str | None:
    if FIRST_YEAR <= day.year <= LAST_YEAR:
        return None
    return f"is outside the years {FIRST_YEAR} to {LAST_YEAR}"


def duration_problem(days: Decimal) -> str | None:
    if days <= MAX_DURATION_DAYS:
        return None
    return "is longer than 100 years"


def find_bidi(text: str) -> list[tuple[int, int, str]]:
    """(line, column, character name) of each bidirectional control character, 1-based."""
    if _BIDI.search(text) is None:
        return []
    return [(number, m.start() + 1, f"U+{ord(m.group()):04X}")
            for number, line in enumerate(text.split("\n"), start=1)
            for m in _BIDI.finditer(line)]


def nested_too_deep(text: str) -> bool:
    """Whether JSON text nests [ and { more than MAX_NESTING deep, outside strings (linear, no
    recursion: Python's JSON reader recurses and would fail deep inside)."""
    if text.count("[") + text.count("{") <= MAX_NESTING:
        return False
    depth = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > MAX_NESTING:
                return True
        elif ch in "]}":
            depth -= 1
    return False
