"""Exact money: exact arithmetic, rounding modes, minor units and cent-exact allocation.

Numbers are exact. A value is a `Decimal` while its decimal expansion ends, and a
`fractions.Fraction` when it does not (a third, or a quota prorated by 31/90 days): `add`,
`sub`, `mul` and `div` never round, so no amount ever depends on a 34-digit quotient. A
fraction becomes money at one named point, `to_money` (where an earning line is made), which
keeps a terminating value as it is and rounds only a value that has no finite decimal form, to
the minor unit with the plan's rounding mode. All other rounding happens where the plan says
(per line or per statement) through `round_money`. `allocate` splits an amount into parts that
add up to it exactly, to the minor unit.

Decimal operations run in `CONTEXT` with the `Inexact` signal trapped (`EXACT`): a result
that would need more than 34 digits falls back to integer arithmetic instead of being rounded,
and results never depend on the caller's decimal context.
"""

from __future__ import annotations

import decimal
import math
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction

from incentive_dsl.minor_units import MINOR_DIGITS

CONTEXT = decimal.Context(prec=34, rounding=decimal.ROUND_HALF_EVEN, Emin=-999999,
                          Emax=999999, traps=[decimal.InvalidOperation, decimal.DivisionByZero,
                                              decimal.Overflow])

_PREC = CONTEXT.prec  # (read per amount shown)
# Rounding and context are passed to Decimal's methods by position below: by keyword, the
# call takes twice as long (`allocate` and `round_money` run for every credit line).
_HALF_EVEN = decimal.ROUND_HALF_EVEN

ROUNDING_MODES = {
    "half up": decimal.ROUND_HALF_UP,
    "half even": decimal.ROUND_HALF_EVEN,
    "half down": decimal.ROUND_HALF_DOWN,
    "up": decimal.ROUND_UP,  # away from zero
    "down": decimal.ROUND_DOWN,  # towards zero
}


ZERO = Decimal(0)

# Arithmetic that refuses to round: an inexact result raises, and is made again exactly.
EXACT = CONTEXT.copy()
EXACT.traps[decimal.Inexact] = True

Number = Decimal | Fraction


def exact(value: Fraction) -> Number:
    """`value` as a Decimal when its decimal expansion ends (its denominator has no prime
    factor but 2 and 5), else the fraction itself."""
    num, den = value.numerator, value.denominator
    if den == 1:
        return Decimal(num)
    twos = (den & -den).bit_length() - 1
    rest, fives = den >> twos, 0
    while rest % 5 == 0:
        rest //= 5
        fives += 1
    if rest != 1:
        return value
    places = max(twos, fives)
    return Decimal(f"{num * 2 ** (places - twos) * 5 ** (places - fives)}E-{places}")


def _exact_op(decimal_op, fraction_op):
    """An operation on exact numbers: the Decimal one while it is exact (the common case, and
    fast), else the same on fractions."""
    def op(a: Number, b: Number) -> Number:
        if type(a) is Decimal and type(b) is Decimal:
            try:
                return decimal_op(a, b)
            except decimal.Inexact:
                pass
        return exact(fraction_op(Fraction(a), Fraction(b)))
    return op


add = _exact_op(EXACT.add, Fraction.__add__)
sub = _exact_op(EXACT.subtract, Fraction.__sub__)
mul = _exact_op(EXACT.multiply, Fraction.__mul__)
_divide = _exact_op(EXACT.divide, Fraction.__truediv__)


def div(a: Number, b: Number) -> Number:
    """The exact quotient (a Decimal when it ends, else a fraction); by zero, 0 (evaluation
    is total: callers that show a quotient note the zero divisor)."""
    return _divide(a, b) if b else ZERO


def to_money(value: Number, currency: str, mode: str = "half even") -> Decimal:
    """The point where an exact value becomes an amount of money: a Decimal is kept as it is
    (rounding to the minor unit comes later, where the plan says); a fraction with no finite
    decimal form is rounded to the minor unit with `mode`."""
    if type(value) is Decimal:
        return value
    return round_money(value, currency, mode)


def round_to(value: Fraction, places: int, mode: str = "half even") -> Decimal:
    """`value` rounded to `places` decimals, exactly (integer quotient and remainder)."""
    scaled = value * 10 ** places
    negative = scaled < 0
    whole, rest = divmod(abs(scaled.numerator), scaled.denominator)
    twice, den = 2 * rest, scaled.denominator
    if rest:
        if mode == "up":
            whole += 1
        elif mode == "half up":
            whole += twice >= den
        elif mode == "half down":
            whole += twice > den
        elif mode == "half even":
            whole += twice > den or (twice == den and whole % 2 == 1)
    return Decimal(f"{'-' if negative else ''}{whole}E-{places}")


_QUANTA: dict[str, Decimal] = {}
_SCALES = {d: 10 ** d for d in range(5)}  # a minor unit's ten-power, by its digits


def quantum(currency: str) -> Decimal:
    q = _QUANTA.get(currency)
    if q is None:
        q = _QUANTA[currency] = Decimal(1).scaleb(-MINOR_DIGITS.get(currency, 2))
    return q


def round_money(amount: Number, currency: str, mode: str = "half even") -> Decimal:
    if type(amount) is Fraction:
        return round_to(amount, MINOR_DIGITS.get(currency, 2), mode)
    return amount.quantize(_QUANTA.get(currency) or quantum(currency), ROUNDING_MODES[mode],
                           CONTEXT)


def allocate(total: Decimal, weights: Sequence[Decimal], currency: str) -> list[Decimal]:
    """Split `total` (a whole number of minor units) in proportion to `weights`, exactly: each
    part is rounded down to the minor unit and the leftover units go to the parts with the
    largest remainders (ties: the earlier part). The parts always add up to `total`."""
    if not weights:
        return []
    if len(weights) == 1:  # the common case (all to the owner): nothing to share
        if not weights[0]:
            return [ZERO]
        part = total.quantize(quantum(currency), _HALF_EVEN, CONTEXT)
        # The total itself when it is whole minor units already (a run keeps one per line).
        return [total if part == total and part.same_quantum(total) else part]
    if len(weights) == 2:  # a two-way split, the usual one: the product is a common denominator
        (n0, d0), (n1, d1) = weights[0].as_integer_ratio(), weights[1].as_integer_ratio()
        w0, w1 = n0 * d1, n1 * d0
        weight_sum = w0 + w1
        if weight_sum < 0:
            w0, w1, weight_sum = -w0, -w1, -weight_sum
        ints = None
    else:
        ints, weight_sum = _integer_weights(weights)
    if weight_sum == 0:
        return [ZERO for _ in weights]
    digits = MINOR_DIGITS.get(currency, 2)
    # Minor units from the total's exact ratio when it is whole minor units (as a credited
    # value is: half the cost), else by moving the decimal point and rounding.
    num, den = total.as_integer_ratio()
    scale = _SCALES.get(digits) or 10 ** digits
    if scale % den:
        units = int(CONTEXT.scaleb(total, digits).to_integral_value(_HALF_EVEN, CONTEXT))
    else:
        units = num * (scale // den)
    negative = units < 0
    units = abs(units)
    if ints is None:  # two parts, which leave at most one unit over
        # The two remainders add up to 0 or `weight_sum` (one unit over): the second is
        # `weight_sum - r0` when the first is not 0, and the unit goes to the larger (the first
        # on a tie). The second part is what the first leaves.
        f0, r0 = divmod(units * w0, weight_sum)
        if 2 * r0 >= weight_sum:
            f0 += 1
        f1 = units - f0
        # (the Decimal's method: the context's converts its arguments, at more cost)
        p0, p1 = Decimal(f0).scaleb(-digits, CONTEXT), Decimal(f1).scaleb(-digits, CONTEXT)
        # A part of a negative total is negative, zero included (-0.00), as the total's sign
        # says.
        return [p0.copy_negate(), p1.copy_negate()] if negative else [p0, p1]
    floors, remainders = [], []
    for w in ints:
        floor, remainder = divmod(units * w, weight_sum)
        floors.append(floor)
        remainders.append(remainder)
    left = units - sum(floors)
    if left:
        for i in sorted(range(len(ints)), key=lambda i: (-remainders[i], i))[:left]:
            floors[i] += 1
    parts = [Decimal(f).scaleb(-digits, CONTEXT) for f in floors]
    return [p.copy_negate() for p in parts] if negative else parts


def _integer_weights(weights: Sequence[Decimal]) -> tuple[list[int], int]:
    """Weights as integers over a common denominator, and their (non-negative) sum: allocation
    then works in exact integer quotients and remainders. (Not cached: the split shares of a
    rounded deal are its lines' exact amounts, different every time, and a cache's misses cost
    more than working the few weights out again.)"""
    ratios = [w.as_integer_ratio() for w in weights]
    common = math.lcm(*(d for _, d in ratios))
    ints = [n * (common // d) for n, d in ratios]
    total = sum(ints)
    return ([-w for w in ints], -total) if total < 0 else (ints, total)


def fmt(amount: Number, currency: str | None = None) -> str:
    """`1,234.50 USD`: amounts in traces and statements, always with the currency's minor unit
    (exact values with more digits keep them; a value with no finite decimal form, such as a
    prorated quota, is shown to the minor unit after `≈`)."""
    digits = MINOR_DIGITS.get(currency or "", 2)
    if type(amount) is Fraction:
        return "≈" + fmt(round_to(amount, digits, "half even"), currency)
    # Most amounts are shown with the decimals they have: the minor unit's, or more that do
    # not end with a zero (an exact share). Their plain text with grouping, the text `str`
    # writes, tells (traces show several amounts per line, and JSON output reads them all).
    text = format(amount, ",")
    if text[-digits - 1:-digits] == "." and len(text) <= _PREC:  # the minor unit's decimals
        return f"{text} {currency}" if currency else text  # (no exponent: digits end it)
    if len(text) <= _PREC and "E" not in text:
        point = text.find(".")
        have = 0 if point < 0 else len(text) - point - 1  # the decimals it has
        if have == digits or (have > digits and text[-1] != "0"):
            return f"{text} {currency}" if currency else text
    # The decimals an amount has past its trailing zeros, read from its plain text (what
    # `normalize` leaves, at less cost); scientific notation, or more digits than `normalize`
    # keeps, the long way.
    plain = str(amount)
    if "E" not in plain and len(plain) <= _PREC:
        point = plain.find(".")
        places = digits if point < 0 else max(digits, len(plain.rstrip("0")) - point - 1)
    else:
        exp = amount.as_tuple().exponent
        if isinstance(exp, int) and exp < -digits:  # trailing zeros beyond the minor unit go
            exp = amount.normalize(CONTEXT).as_tuple().exponent
        places = max(digits, -exp if isinstance(exp, int) and exp < 0 else 0)
    text = f"{amount:,.{places}f}"
    return f"{text} {currency}" if currency else text


_PCT_EXPONENT_FROM = 10 ** (CONTEXT.prec - 7)  # a fraction this large has no room for four decimals
_HUNDRED, _PCT_QUANTUM, _UNIT = Decimal(100), Decimal("0.0001"), Decimal(1)


def fmt_pct(fraction: Number) -> str:
    """`12.5%` from 0.125: at most four decimals, without trailing zeros (`1.0000E+42%` when
    four decimals would take more digits than the context keeps)."""
    if abs(fraction) >= _PCT_EXPONENT_FROM:
        return f"{Decimal(round(fraction * 100)):.4E}%"
    # Every step in the run's context, whatever the caller's: a reader's default context (28
    # digits) would round a large percentage, or refuse it.
    if type(fraction) is Fraction:
        value = round_to(fraction * 100, 4, "half even").normalize(CONTEXT)
    else:
        value = CONTEXT.multiply(fraction, _HUNDRED).quantize(
            _PCT_QUANTUM, context=CONTEXT).normalize(CONTEXT)
    if value == value.to_integral_value(context=CONTEXT):
        value = value.quantize(_UNIT, context=CONTEXT)
    return f"{value:f}%"


_RATES: dict[Number, str] = {}  # rates and shares as percentages: a plan has few


def fmt_rate(rate: Number) -> str:
    """`fmt_pct` of a rate or a share, which a run's lines repeat: made once per value."""
    text = _RATES.get(rate) if rate else None  # (-0 equals 0 but is shown "-0%")
    if text is None:
        text = fmt_pct(rate)
        if rate and len(_RATES) < 4096:
            _RATES[rate] = text
    return text


def fmt_number(value: Number) -> str:
    """`12.5`: a count or number as written, without trailing zeros; a value with no finite
    decimal form to four decimals after `≈`."""
    if type(value) is Fraction:
        return f"≈{round_to(value, 4).normalize(CONTEXT):f}"
    return f"{value.normalize(CONTEXT):f}"
