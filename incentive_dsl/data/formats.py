"""Column formats of a CRM export: date and date-time patterns, number separators, currency
symbols and scale, declared once per column in a mapping (`[deals.formats]`, docs/mapping.md).

A format turns a cell as the export writes it (`$12,500.00`, `10/03/2024 14:05`, `1250000`
cents) into the plain text the value parsers of values.py read (`12500.00`, `2024-10-03`,
`12500.00`), or raises `BadValue` saying what the column's format expects. Numbers are handled
as text and `Decimal` only: a scale multiplies exactly, and a result that would need rounding is
refused rather than rounded.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from decimal import Decimal

import attrs

from incentive_dsl.data.values import BadValue

__all__ = ["ColumnFormat", "DATE_TOKENS", "FormatError", "TAKES", "date_pattern",
           "number_format"]
TAKES = ("email",)

# Date pattern tokens, longest first so that "YYYY" is not read as two "YY".
DATE_TOKENS = {
    "YYYY": r"(?P<year>\d{4})",
    "MM": r"(?P<month>\d{1,2})",
    "DD": r"(?P<day>\d{1,2})",
    "hh": r"(?P<hour>\d{1,2})",
    "mm": r"(?P<minute>\d{2})",
    "ss": r"(?P<second>\d{2})",
    "SSS": r"\d+",  # fractions of a second
    "Z": r"(?:Z|[+-]\d{2}:?\d{2})",  # a time zone, which the day as written ignores
    "AM": r"(?P<ampm>[AaPp][Mm])",
}
_TOKEN = re.compile("|".join(sorted(map(re.escape, DATE_TOKENS), key=len, reverse=True)))
SEPARATORS = {",": "a comma", ".": "a point", " ": "a space", "'": "an apostrophe",
              "": "none"}
_EMAIL = re.compile(r"[^\s()<>@,;:\"\[\]]+@[^\s()<>@,;:\"\[\]]+\.[A-Za-z]{2,}")
_EXACT = decimal.Context(prec=60, traps=[decimal.Inexact, decimal.InvalidOperation])


class FormatError(ValueError):
    """A format declared in the mapping that cannot be used (the message says why)."""


@attrs.frozen
class ColumnFormat:
    """How one column writes its values: a date pattern, or a number format."""

    date: str | None = None  # the pattern as written in the mapping
    regex: re.Pattern | None = None
    decimal: str = "."
    thousands: str = ","
    symbols: tuple[str, ...] = ()
    scale: Decimal | None = None
    take: str | None = None  # "email": the address in 'Jane Smith (jane@acme.io)'

    def describe(self) -> str:
        if self.date is not None:
            return f"date '{self.date}'"
        if self.take is not None:
            return f"take '{self.take}'"
        parts = []
        if self.symbols:
            parts.append("symbol " + " or ".join(f"'{s}'" for s in self.symbols))
        parts.append(f"thousands {SEPARATORS[self.thousands]}")
        parts.append(f"decimal {SEPARATORS[self.decimal]}")
        if self.scale is not None:
            parts.append(f"scale {self.scale}")
        return ", ".join(parts)

    def normalize(self, text: str) -> str:
        """The cell's text in the plain form values.py reads; BadValue if it does not match."""
        if self.take is not None:
            return self.taken(text)
        return self._date(text) if self.date is not None else self._number(text)

    def taken(self, text: str) -> str:
        """The part of a text cell the format takes: the one e-mail address in it."""
        found = _EMAIL.findall(text)
        if len(found) != 1:
            raise BadValue(f"'{text}' has {'no' if not found else 'more than one'} e-mail "
                           "address", "the column's format takes the e-mail address from "
                           "each cell")
        return found[0]

    def _date(self, text: str) -> str:
        m = self.regex.fullmatch(text)
        if m is None:
            raise BadValue(f"'{text}' does not match the column's date format '{self.date}'",
                           "check the format in the mapping's [*.formats]; "
                           "tokens: " + ", ".join(DATE_TOKENS))
        g = m.groupdict()
        try:
            day = dt.date(int(g["year"]), int(g["month"]), int(g["day"]))
        except ValueError:
            raise BadValue(f"'{text}' is not a calendar date (format '{self.date}')",
                           "check the month and the day") from None
        hour = int(g.get("hour") or 0)
        if hour > (12 if g.get("ampm") else 23) or int(g.get("minute") or 0) > 59 \
                or int(g.get("second") or 0) > 59:
            raise BadValue(f"'{text}' is not a time of day (format '{self.date}')")
        return day.isoformat()

    def _number(self, text: str) -> str:
        body = text
        for s in self.symbols:
            if body.startswith(s):
                body = body[len(s):].lstrip()
                break
            if body.endswith(s):
                body = body[:-len(s)].rstrip()
                break
        negative = body.startswith("-")
        if negative:
            body = body[1:]
        whole, sep, frac = body.partition(self.decimal) if self.decimal else (body, "", "")
        groups = whole.split(self.thousands) if self.thousands else [whole]
        ok = (all(g.isdigit() and g.isascii() for g in groups) and
              (len(groups) == 1 or (1 <= len(groups[0]) <= 3 and
                                    all(len(g) == 3 for g in groups[1:]))) and
              (not sep or (frac.isdigit() and frac.isascii())))
        if not ok:
            raise BadValue(f"'{text}' does not match the column's number format "
                           f"({self.describe()})",
                           "check the format in the mapping's [*.formats]")
        plain = "".join(groups) + (f".{frac}" if sep else "")
        if self.scale is not None:
            try:
                plain = format(_EXACT.multiply(Decimal(plain), self.scale), "f")
            except decimal.Inexact:
                raise BadValue(f"'{text}' has too many digits to scale exactly") from None
        return ("-" if negative else "") + plain


def date_pattern(pattern: str) -> ColumnFormat:
    """A date format from a pattern such as 'MM/DD/YYYY hh:mm' (FormatError if unusable)."""
    out, i, seen = [], 0, set()
    for m in _TOKEN.finditer(pattern):
        out.append(re.escape(pattern[i:m.start()]))
        token = m.group()
        if token in seen:
            raise FormatError(f"'{token}' appears twice in the date format '{pattern}'")
        seen.add(token)
        out.append(DATE_TOKENS[token])
        i = m.end()
    out.append(re.escape(pattern[i:]))
    missing = [t for t in ("YYYY", "MM", "DD") if t not in seen]
    if missing:
        # 'dd/mm/yyyy' is the usual slip: the tokens are case-sensitive, and mm reads minutes
        case = any(t.lower() in pattern for t in missing)
        raise FormatError(f"the date format '{pattern}' has no {', '.join(missing)}"
                          + (" (they are written in capitals; mm is minutes)" if case else ""))
    if "AM" in seen and "hh" not in seen:
        raise FormatError(f"the date format '{pattern}' has AM but no hh")
    return ColumnFormat(date=pattern, regex=re.compile("".join(out)))


def number_format(decimal_sep: str = ".", thousands: str = ",", symbols: tuple[str, ...] = (),
                  scale: Decimal | None = None) -> ColumnFormat:
    """A number format (FormatError if the separators clash or are not separators)."""
    for name, sep in (("decimal", decimal_sep), ("thousands", thousands)):
        if sep not in SEPARATORS:
            raise FormatError(f"{name} separator '{sep}' is not one of "
                              + ", ".join(f"'{s}'" for s in SEPARATORS))
    if decimal_sep not in (".", ","):
        raise FormatError("the decimal separator is '.' or ','")
    if decimal_sep == thousands:
        raise FormatError(f"'{decimal_sep}' cannot separate both thousands and decimals")
    if scale is not None and scale <= 0:
        raise FormatError(f"a scale must be above zero, not {scale}")
    return ColumnFormat(decimal=decimal_sep, thousands=thousands, symbols=symbols, scale=scale)
