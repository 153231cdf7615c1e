"""Types with units, and the arithmetic rules between them.

A `Type` is a kind plus, for money, its currency and, for enumerations, the allowed values.
`UNKNOWN` is the type of anything that already produced a diagnostic: every rule accepts it
silently, which is how one root error never cascades into more.
"""

from __future__ import annotations

import attrs

MONEY, PERCENT, NUMBER, COUNT, MULTIPLIER = "money", "percent", "number", "count", "multiplier"
DATE, DURATION, PERIOD, BOOL, TEXT, ENUM, UNKNOWN_KIND = (
    "date", "duration", "period", "yes or no", "text", "enum", "unknown")


@attrs.frozen
class Type:
    kind: str
    currency: str | None = None
    values: tuple[str, ...] = ()  # ENUM: the declared values
    name: str | None = None  # ENUM: what is enumerated (a field, "role", "stage" ...)

    def __str__(self) -> str:
        if self.kind == MONEY:
            return f"money in {self.currency}" if self.currency else "money"
        if self.kind == ENUM:
            return f"one of {', '.join(repr(v) for v in self.values[:6])}" + (
                ", …" if len(self.values) > 6 else "")
        if self.kind == UNKNOWN_KIND:
            return "unknown"
        return {PERCENT: "a percentage", NUMBER: "a number", COUNT: "a count",
                MULTIPLIER: "a multiplier", DATE: "a date", DURATION: "a duration",
                PERIOD: "a period", BOOL: "yes or no (a condition)", TEXT: "a text"}[self.kind]

    @property
    def unknown(self) -> bool:
        return self.kind == UNKNOWN_KIND

    @property
    def numeric(self) -> bool:
        return self.kind in (NUMBER, COUNT)

    @property
    def textual(self) -> bool:
        return self.kind in (TEXT, ENUM)


UNKNOWN = Type(UNKNOWN_KIND)
T_PERCENT, T_NUMBER, T_COUNT = Type(PERCENT), Type(NUMBER), Type(COUNT)
T_DATE, T_DURATION, T_PERIOD = Type(DATE), Type(DURATION), Type(PERIOD)
T_BOOL, T_TEXT, T_MULTIPLIER = Type(BOOL), Type(TEXT), Type(MULTIPLIER)


def money(currency: str | None) -> Type:
    return Type(MONEY, currency)


class UnitError(Exception):
    """Raised by `arithmetic` with a message and a hint in sales-ops words."""

    def __init__(self, message: str, hint: str | None = None, code: str = "E-UNIT") -> None:
        super().__init__(message)
        self.message, self.hint, self.code = message, hint, code


def _same_money(a: Type, b: Type, verb: str) -> Type:
    if a.currency != b.currency:
        raise UnitError(
            f"cannot {verb} money in {a.currency} and money in {b.currency}",
            "amounts in different currencies are converted when deals are loaded; write both "
            "amounts in the plan currency", code="E-CURRENCY-MIX")
    return a


def arithmetic(op: str, a: Type, b: Type) -> Type:
    """The type of `a op b` for op in + - * / of, or UnitError."""
    if a.unknown or b.unknown:
        return UNKNOWN
    ka, kb = a.kind, b.kind
    if op in ("+", "-"):
        if ka == MONEY and kb == MONEY:
            return _same_money(a, b, "add" if op == "+" else "subtract")
        if ka == kb and ka in (PERCENT, NUMBER, COUNT, DURATION, MULTIPLIER):
            return a
        if {ka, kb} == {NUMBER, COUNT}:
            return T_NUMBER
        if ka == DATE and kb == DURATION:
            return T_DATE
        if op == "-" and ka == DATE and kb == DATE:
            return T_DURATION
        if PERCENT in (ka, kb) and {ka, kb} & {NUMBER, COUNT}:
            raise UnitError(f"cannot {'add' if op == '+' else 'subtract'} {a} and {b}",
                            "a percentage is never silently a plain number: write 8% or 0.08 "
                            "consistently")
        raise UnitError(f"cannot {'add' if op == '+' else 'subtract'} {b} "
                        f"{'to' if op == '+' else 'from'} {a}")
    if op == "*":
        for x, y in ((a, b), (b, a)):
            if x.kind == MONEY and y.kind in (PERCENT, NUMBER, COUNT, MULTIPLIER):
                return x
        if ka == MONEY and kb == MONEY:
            raise UnitError("cannot multiply money by money",
                            "multiply money by a percentage or a number, e.g. 8% * bookings")
        if {ka, kb} <= {PERCENT, MULTIPLIER}:
            return T_PERCENT if PERCENT in (ka, kb) else T_MULTIPLIER
        if {ka, kb} <= {NUMBER, COUNT}:
            return T_COUNT if ka == kb == COUNT else T_NUMBER
        if {ka, kb} <= {PERCENT, NUMBER, COUNT, MULTIPLIER}:
            return T_PERCENT if PERCENT in (ka, kb) else T_NUMBER
        if DURATION in (ka, kb) and {ka, kb} & {NUMBER, COUNT}:
            return T_DURATION
        raise UnitError(f"cannot multiply {a} by {b}")
    if op == "/":
        if ka == MONEY and kb == MONEY:
            _same_money(a, b, "divide")
            return T_PERCENT
        if ka == MONEY and kb in (NUMBER, COUNT, PERCENT):
            return a
        if ka in (NUMBER, COUNT) and kb in (NUMBER, COUNT):
            return T_PERCENT if ka == kb == COUNT else T_NUMBER
        if ka == PERCENT and kb in (PERCENT, NUMBER, COUNT):
            return T_NUMBER if kb == PERCENT else T_PERCENT
        if ka == DURATION and kb == DURATION:
            return T_NUMBER
        raise UnitError(f"cannot divide {a} by {b}")
    if op == "of":
        if ka != PERCENT:
            raise UnitError(f"'of' needs a percentage on its left, not {a}",
                            "write e.g. 2% of team bookings")
        if kb in (MONEY, COUNT, NUMBER, PERCENT):
            return b
        raise UnitError(f"cannot take a percentage of {b}")
    raise AssertionError(op)


def comparable(a: Type, b: Type) -> str | None:
    """None when `a` and `b` can be compared, else the reason why not."""
    if a.unknown or b.unknown:
        return None
    if a.kind == MONEY and b.kind == MONEY:
        return None if a.currency == b.currency else (
            f"cannot compare money in {a.currency} with money in {b.currency}")
    if a.numeric and b.numeric:
        return None
    if a.textual and b.textual:
        return None
    if a.kind == b.kind:
        return None
    return f"cannot compare {a} with {b}"
