"""Exact money: the decimal context, rounding modes, minor units and cent-exact allocation.

All arithmetic runs in `CONTEXT` (34 significant digits, the IEEE decimal128 precision), so
results never depend on the caller's decimal context. Rounding happens only where the plan
says (per line or per statement) and through `round_money`. `allocate` splits an amount into
parts that add up to it exactly, to the minor unit.
"""

from __future__ import annotations

import decimal
import functools
import math
from collections.abc import Sequence
from decimal import Decimal

CONTEXT = decimal.Context(prec=34, rounding=decimal.ROUND_HALF_EVEN, Emin=-999999,
                          Emax=999999, traps=[decimal.InvalidOperation, decimal.DivisionByZero,
                                              decimal.Overflow])

ROUNDING_MODES = {
    "half up": decimal.ROUND_HALF_UP,
    "half even": decimal.ROUND_HALF_EVEN,
    "half down": decimal.ROUND_HALF_DOWN,
    "up": decimal.ROUND_UP,  # away from zero
    "down": decimal.ROUND_DOWN,  # towards zero
}

# ISO 4217 currencies whose minor unit is not the cent.
MINOR_DIGITS = {"JPY": 0, "KRW": 0, "CLP": 0, "ISK": 0, "VND": 0, "HUF": 2, "BHD": 3, "KWD": 3,
                "OMR": 3, "JOD": 3, "TND": 3}

ZERO = Decimal(0)


_QUANTA: dict[str, Decimal] = {}


def quantum(currency: str) -> Decimal:
    q = _QUANTA.get(currency)
    if q is None:
        q = _QUANTA[currency] = Decimal(1).scaleb(-MINOR_DIGITS.get(currency, 2))
    return q


def round_money(amount: Decimal, currency: str, mode: str = "half even") -> Decimal:
    return amount.quantize(_QUANTA.get(currency) or quantum(currency),
                           rounding=ROUNDING_MODES[mode], context=CONTEXT)


def divide_money(amount: Decimal, divisor: Decimal, currency: str) -> Decimal:
    """`amount / divisor` rounded half even to the currency's minor unit, exactly: the
    quotient is never cut to 34 digits first (which could turn a near-tie into a tie)."""
    digits = MINOR_DIGITS.get(currency, 2)
    a, b = amount.as_integer_ratio(), divisor.as_integer_ratio()
    num, den = a[0] * b[1] * 10 ** digits, a[1] * b[0]
    if den < 0:
        num, den = -num, -den
    q, r = divmod(num, den)
    if 2 * r > den or (2 * r == den and q % 2):
        q += 1
    return Decimal(q).scaleb(-digits)


def allocate(total: Decimal, weights: Sequence[Decimal], currency: str) -> list[Decimal]:
    """Split `total` (a whole number of minor units) in proportion to `weights`, exactly: each
    part is rounded down to the minor unit and the leftover units go to the parts with the
    largest remainders (ties: the earlier part). The parts always add up to `total`."""
    if not weights:
        return []
    q = quantum(currency)
    if len(weights) == 1:  # the common case (all to the owner): nothing to share
        return [total.quantize(q, rounding=decimal.ROUND_HALF_EVEN, context=CONTEXT)
                if weights[0] else ZERO]
    ints, weight_sum = _integer_weights(tuple(weights))
    if weight_sum == 0:
        return [ZERO for _ in weights]
    units = (total / q).to_integral_value(rounding=decimal.ROUND_HALF_EVEN, context=CONTEXT)
    negative = units < 0
    units = int(abs(units))
    scaled = [units * w for w in ints]
    floors = [a // weight_sum for a in scaled]
    left = units - sum(floors)
    order = sorted(range(len(weights)), key=lambda i: (floors[i] * weight_sum - scaled[i], i))
    for i in order[:left]:
        floors[i] += 1
    parts = [CONTEXT.multiply(Decimal(f), q) for f in floors]
    # A part of a negative total is negative, zero included (-0.00), as the total's sign says.
    return [p.copy_negate() for p in parts] if negative else parts


@functools.lru_cache(maxsize=1024)
def _integer_weights(weights: tuple[Decimal, ...]) -> tuple[tuple[int, ...], int]:
    """Weights as integers over a common denominator, and their (non-negative) sum: allocation
    then works in exact integer quotients and remainders. Runs split by the same few shares
    over and over."""
    ratios = [w.as_integer_ratio() for w in weights]
    common = math.lcm(*(d for _, d in ratios))
    ints = tuple(n * (common // d) for n, d in ratios)
    total = sum(ints)
    return (tuple(-w for w in ints), -total) if total < 0 else (ints, total)


def fmt(amount: Decimal, currency: str | None = None) -> str:
    """`1,234.50 USD`: amounts in traces and statements, always with the currency's minor unit
    (exact values with more digits keep them)."""
    digits = MINOR_DIGITS.get(currency or "", 2)
    exp = amount.as_tuple().exponent
    if isinstance(exp, int) and exp < -digits:  # trailing zeros beyond the minor unit go
        exp = amount.normalize(CONTEXT).as_tuple().exponent
    places = max(digits, -exp if isinstance(exp, int) and exp < 0 else 0)
    text = f"{amount:,.{places}f}"
    return f"{text} {currency}" if currency else text


def fmt_pct(fraction: Decimal) -> str:
    """`12.5%` from 0.125: at most four decimals, without trailing zeros."""
    value = (fraction * 100).quantize(Decimal("0.0001"), context=CONTEXT).normalize(CONTEXT)
    if value == value.to_integral_value():
        value = value.quantize(Decimal(1))
    return f"{value:f}%"
