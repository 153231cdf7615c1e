"""The shortcuts trace texts take to be cheap to write (JSON output writes every trace) show
exactly what the general formatting shows."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from hypothesis import example, given
from hypothesis import strategies as st

from incentive_dsl.eval.earnings import _key_value, _Quotient, _quotient_pct, _rate_pct
from incentive_dsl.eval.money import fmt_pct

credits = st.decimals(min_value=-10**12, max_value=10**12, places=2, allow_nan=False,
                      allow_infinity=False)
quotas = st.one_of(
    st.decimals(min_value=-10**9, max_value=10**9, places=2, allow_nan=False,
                allow_infinity=False),
    # prorated quotas (no finite decimal form), tiny ones (huge attainments), round ones
    st.builds(Fraction, st.integers(-10**12, 10**12), st.integers(1, 10**4)),
    st.builds(lambda e: Decimal(1).scaleb(-e), st.integers(0, 40)),
    st.builds(lambda a, b: Decimal(2 ** a * 5 ** b), st.integers(0, 60), st.integers(0, 30)))


@given(credit=credits, quota=quotas)
@example(credit=Decimal("1.00"), quota=Decimal("3"))  # 33.3333%
@example(credit=Decimal("2.00"), quota=Decimal("3"))  # 66.6667%: rounded up
@example(credit=Decimal("-1.00"), quota=Decimal("3"))
@example(credit=Decimal("-0.01"), quota=Decimal("3000000000"))  # rounds to -0%
@example(credit=Decimal("0.01"), quota=Decimal("3000000000"))  # rounds to 0%
@example(credit=Decimal("1.00"), quota=Decimal("0"))  # a zero quota: the key is 0
@example(credit=Decimal("0.00"), quota=Decimal("7"))
@example(credit=Decimal("1000000.00"), quota=Decimal("1E-40"))  # too large for four decimals
@example(credit=Decimal("1000000.00"), quota=Fraction(1, 3 * 10**25))
@example(credit=Decimal("1.00"), quota=Decimal("8"))  # a finite decimal with five places
def test_a_quotient_is_shown_as_fmt_pct_shows_its_value(credit, quota):
    key = _Quotient(credit, quota)
    assert _quotient_pct(key) == fmt_pct(_key_value(key))


@given(rate=st.one_of(st.decimals(min_value=-10, max_value=10, places=4, allow_nan=False,
                                  allow_infinity=False),
                      st.builds(Fraction, st.integers(-100, 100), st.integers(1, 30))))
@example(rate=Decimal("-0"))
@example(rate=Decimal("0"))
def test_a_cached_rate_is_shown_as_fmt_pct_shows_it(rate):
    assert _rate_pct(rate) == fmt_pct(rate)
    assert _rate_pct(rate) == fmt_pct(rate)  # again, from the cache
    if rate == 0:  # -0 and 0 are equal keys but are shown differently
        assert _rate_pct(Decimal("-0")) == "-0%" and _rate_pct(Decimal(0)) == "0%"
