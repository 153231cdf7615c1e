"""Cent-exact allocation (`eval.money.allocate`): hand-computed cases and, against an
independent reference in exact fractions, the largest-remainder rule with its tie-break; and
the statement CSV's amount cells against `fmt`."""

from __future__ import annotations

import decimal
import math
from decimal import Decimal
from fractions import Fraction

from hypothesis import example, given, strategies as st

from incentive_dsl.eval.money import CONTEXT, MINOR_DIGITS, allocate, fmt, fmt_pct

D = Decimal


def reference(total: Decimal, weights: list[Decimal], digits: int) -> list[Decimal]:
    """Largest remainders in exact fractions: floors, then one unit each to the largest
    remainders, ties to the earlier part."""
    units = int(total.scaleb(digits))
    sign, units = (-1 if units < 0 else 1), abs(units)
    wsum = sum(Fraction(w) for w in weights)
    exact = [units * Fraction(w) / wsum for w in weights]
    floors = [math.floor(e) for e in exact]
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:units - sum(floors)]:
        floors[i] += 1
    return [D(sign * f).scaleb(-digits) for f in floors]


def test_split_by_recorded_shares():
    # 1,000.01 at 70/30: 700.007 and 300.003 -> floors 700.00 + 300.00, the cent to 70%
    assert allocate(D("1000.01"), [D("0.7"), D("0.3")], "USD") == [D("700.01"), D("300.00")]


def test_exact_ties_go_to_the_earlier_part():
    # 6,400,468 cents in 7:4:1 leave a third of a cent on every part: a true tie, so the
    # earlier part gets the last cent (34-digit division used to break it by the number of
    # integer digits of each part).
    parts = allocate(D("-64004.68"), [D(7), D(4), D(1)], "USD")
    assert parts == [D("-37336.07"), D("-21334.89"), D("-5333.72")]
    assert sum(parts) == D("-64004.68")


def test_zero_part_of_a_negative_total_keeps_its_sign():
    parts = allocate(D("-0.01"), [D("0.5"), D("0.5")], "USD")
    assert [str(p) for p in parts] == ["-0.01", "-0.00"]


def test_minor_units_follow_the_currency():
    assert allocate(D(1001), [D(1), D(1)], "JPY") == [D(501), D(500)]
    assert allocate(D("1.001"), [D(1), D(1)], "KWD") == [D("0.501"), D("0.500")]


def test_zero_weights_give_zero_parts():
    assert allocate(D("10.00"), [D(0), D(0)], "USD") == [D(0), D(0)]


weights = st.lists(st.one_of(
    st.integers(0, 10).map(D),
    st.integers(0, 100).map(lambda n: D(n) / 100),
    st.integers(1, 9).map(lambda n: D(1) / D(n))), min_size=2, max_size=6)


@given(total=st.integers(-10**10, 10**10), weights=weights,
       currency=st.sampled_from(["USD", "JPY", "KWD"]))
def test_matches_the_exact_reference_and_conserves(total, weights, currency):
    digits = {"USD": 2, "JPY": 0, "KWD": 3}[currency]
    amount = D(total).scaleb(-digits)
    parts = allocate(amount, weights, currency)
    if sum(weights) == 0:
        assert parts == [0] * len(weights)
        return
    assert parts == reference(amount, weights, digits)
    assert sum(parts) == amount


def test_fmt_keeps_the_minor_unit_and_extra_digits():
    assert fmt(D("1234.5"), "USD") == "1,234.50 USD"
    assert fmt(D("0.125"), "USD") == "0.125 USD"
    assert fmt(D("1500"), "JPY") == "1,500 JPY"


def fmt_reference(amount: Decimal, currency: str | None) -> str:
    """What `fmt` shows, from the amount's digits (its exponent as `as_tuple` gives it): the
    minor unit's decimals, or every significant decimal beyond them."""
    digits = MINOR_DIGITS.get(currency or "", 2)
    exp = amount.as_tuple().exponent
    if isinstance(exp, int) and exp < -digits:
        exp = amount.normalize(CONTEXT).as_tuple().exponent
    places = max(digits, -exp if isinstance(exp, int) and exp < 0 else 0)
    text = f"{amount:,.{places}f}"
    return f"{text} {currency}" if currency else text


@given(value=st.decimals(allow_nan=False, places=None)
       | st.decimals(min_value=-10**12, max_value=10**12, places=4),
       currency=st.sampled_from(["USD", "JPY", "BHD", None]))
@example(value=D("1E+3"), currency="USD")  # scientific notation
@example(value=D("1.50E-8"), currency="USD")
@example(value=D("1E-7"), currency="USD")  # scientific, one digit: no point in its text
@example(value=D("0E-9"), currency="USD")
@example(value=D("-0.00"), currency="USD")
@example(value=D("12.3400"), currency="USD")  # trailing zeros beyond the minor unit
@example(value=D("100.000"), currency="USD")
@example(value=D("120.0"), currency="JPY")
@example(value=D("1.50"), currency="BHD")
@example(value=D("0.000"), currency=None)
@example(value=D("1234567890123456789012345678901234567.12300"), currency="USD")  # > 34 digits
@example(value=D("-Infinity"), currency="USD")
@example(value=D("12.340"), currency="JPY")
@example(value=D("NaN"), currency="USD")
def test_fmt_shows_the_minor_unit_or_every_significant_decimal(value, currency):
    assert fmt(value, currency) == fmt_reference(value, currency)


@given(st.decimals(allow_nan=False, allow_infinity=False, places=None)
       | st.decimals(min_value=-10**12, max_value=10**12, places=2)
       | st.fractions(max_denominator=1000))
def test_statement_csv_cells_are_fmt_without_separators(value):
    from incentive_dsl.audit.render import _csv_amount

    assert _csv_amount(value) == fmt(value, None).replace(",", "")


@given(st.decimals(allow_nan=False, allow_infinity=False, places=6,
                   min_value=Decimal("-1e29"), max_value=Decimal("1e29")))
@example(Decimal("1e26"))
@example(Decimal("123456789012345678901234567.123456"))
def test_fmt_pct_reads_alike_in_any_decimal_context(value):
    # A reader's default context (28 digits) refused percentages from 10^26 (the last step
    # ran in it) and rounded long ones before the four decimals were kept.
    with decimal.localcontext(CONTEXT):
        expected = fmt_pct(value)
    assert fmt_pct(value) == expected
    if abs(value) < Decimal("1e27"):  # shown in full: the exact value to four decimals
        error = CONTEXT.subtract(Decimal(expected[:-1]), CONTEXT.multiply(value, 100))
        assert abs(error) <= Decimal("0.00005")
