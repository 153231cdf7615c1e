"""The shortcuts trace texts take to be cheap to write (JSON output writes every trace) show
exactly what the general formatting shows, in the run's decimal context whoever reads them."""

from __future__ import annotations

import datetime as dt
import decimal
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from incentive_dsl.eval.earnings import _key_value, _Quotient, _quotient_pct
from incentive_dsl.eval.money import CONTEXT, ZERO, fmt_pct, fmt_rate
from incentive_dsl.eval.records import DeferredTrace

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
@example(credit=Decimal("0.01"), quota=Decimal("1E-28"))  # 10^28 %
@example(credit=Decimal("1.00"), quota=Decimal("2000000"))  # a tie: 0.00005%, to 0%
@example(credit=Decimal("3.00"), quota=Decimal("2000000"))  # a tie: 0.00015%, to 0.0002%
@example(credit=Decimal("1.00"), quota=Decimal(2 ** 120))  # more than 34 digits
def test_a_quotient_is_shown_as_fmt_pct_shows_its_value(credit, quota):
    key = _Quotient(credit, quota)
    with decimal.localcontext(CONTEXT):  # where trace texts are made
        assert _quotient_pct(key) == fmt_pct(_key_value(key))


@given(rate=st.one_of(st.decimals(min_value=-10, max_value=10, places=4, allow_nan=False,
                                  allow_infinity=False),
                      st.builds(Fraction, st.integers(-100, 100), st.integers(1, 30))))
@example(rate=Decimal("-0"))
@example(rate=Decimal("0"))
def test_a_cached_rate_is_shown_as_fmt_pct_shows_it(rate):
    with decimal.localcontext(CONTEXT):
        assert fmt_rate(rate) == fmt_pct(rate)
        assert fmt_rate(rate) == fmt_pct(rate)  # again, from the cache
        if rate == 0:  # -0 and 0 are equal keys but are shown differently
            assert fmt_rate(Decimal("-0")) == "-0%" and fmt_rate(Decimal(0)) == "0%"


def test_texts_are_made_in_the_run_context_and_the_readers_is_left_as_it_was():
    inner = DeferredTrace(lambda: (f"prec {decimal.getcontext().prec}", "", (), (), (), ()), ())

    def outer_texts():  # a rounded line's trace reads its commission's while it is made
        return f"{inner.because}, prec {decimal.getcontext().prec}", "", (), (), (), ()

    outer = DeferredTrace(outer_texts, ())
    with decimal.localcontext(decimal.Context(prec=6)) as reader:
        assert outer.contents()[3] == "prec 34, prec 34"
        assert decimal.getcontext() is reader and reader.prec == 6
        failing = DeferredTrace(lambda: 1 / Decimal(0), ())
        with pytest.raises(decimal.DivisionByZero):
            failing.contents()
        assert decimal.getcontext() is reader


_BENCH_PLAN = None


def _bench_plan():
    global _BENCH_PLAN
    if _BENCH_PLAN is None:
        from incentive_dsl import api
        from tests.shipped import ROOT
        _BENCH_PLAN = api.load_plan(str(ROOT / "bench" / "credit_heavy.plan")).plan
    return _BENCH_PLAN


_money = st.decimals(min_value=-10**7, max_value=10**7, places=2, allow_nan=False,
                     allow_infinity=False)


@given(before=_money, amount=_money, quota=quotas.filter(lambda q: q > 0),
       opening=st.none() | _money, deal=st.sampled_from(["D1", None]), first=st.booleans())
@example(before=Decimal("0"), amount=Decimal("0.00"), quota=Decimal("100"), opening=None,
         deal="D1", first=False)  # a line of nothing
@example(before=Decimal("0"), amount=Decimal("250.00"), quota=Decimal("100"),
         opening=Decimal("90"), deal="D1", first=True)  # a period's first line, across bounds
@example(before=Decimal("90"), amount=Decimal("20"), quota=Decimal("100"), opening=None,
         deal="D1", first=False)  # across a bound: two pieces
@example(before=Decimal("120"), amount=Decimal("-30"), quota=Decimal("100"),
         opening=Decimal("500.25"), deal=None, first=False)  # taken back across it, later
@example(before=Decimal("10"), amount=Decimal("-10"), quota=Fraction(1000, 3),
         opening=Decimal("7"), deal="D1", first=False)
def test_a_line_in_one_tier_is_written_as_the_general_texts_write_it(before, amount, quota,
                                                                      opening, deal, first):
    """`_money_commission_texts` writes a line inside one tier itself, and works out the
    credit before and after the line from the running totals: the texts are those
    `_commission_texts` writes of its pieces, cut in money space, and of what they earn."""
    from incentive_dsl.eval import earnings
    from incentive_dsl.eval.records import credit_line

    plan = _bench_plan()
    core = plan.component("core")
    line = credit_line(id="bookings:E1:ana:owner", credit="bookings", payee="ana", deal=deal,
                       event="E1", date=dt.date(2027, 2, 1), amount=amount, kind="owner",
                       trace=None)
    with decimal.localcontext(CONTEXT):
        start = opening or 0
        if first:  # the period's first line: no total before it in the period
            before = ZERO
        kept = (opening, None if first else start + before, start + before + amount)
        c0, c1 = earnings._period_credit(*kept)
        assert (c0, c1) == (before, before + amount)
        pieces = earnings._cut_in_money(earnings._money_bounds(core.table.rows, quota), c0,
                                        c1, amount)
        general = earnings._commission_texts(
            plan, core, line, "2027-Q1", tuple(pieces), _Quotient(c0, quota),
            _Quotient(c1, quota), earnings._earned(pieces), (), ())
        assert earnings._money_commission_texts(plan, core, line, "2027-Q1", *kept,
                                                quota) == general
        if len(pieces) == 1:  # a line that was cut into one piece keeps its tier: not cut again
            assert earnings._money_commission_texts(plan, core, line, "2027-Q1", *kept, quota,
                                                    pieces[0].row) == general


@given(value=st.decimals(allow_nan=False, allow_infinity=False, min_value=-10**9,
                         max_value=10**9), exponent=st.integers(-6, 2))
@example(value=Decimal("0"), exponent=0)
@example(value=Decimal("-0.00"), exponent=-2)  # shown "-0.00", not "0.00"
@example(value=Decimal("1E+2"), exponent=-3)
def test_a_credit_of_the_whole_value_shows_its_own_amount(value, exponent):
    """`_credit_texts` shows an amount equal to the value as it shows the value: the same text
    `fmt` makes of the amount itself, whatever its exponent."""
    from incentive_dsl.eval.credits import _credit_texts
    from incentive_dsl.eval.money import fmt

    with decimal.localcontext(CONTEXT):
        amount = value.quantize(Decimal(1).scaleb(exponent))  # equal, other digits
    if amount != value:  # the quantum would round it: the value itself
        amount = value
    if amount == 0:  # a zero of the other sign: equal, but shown otherwise
        amount = value.copy_negate()
    with decimal.localcontext(CONTEXT):
        texts = _credit_texts("USD", value, None, amount, "detail", "E1", "at {}", value)
        assert texts[2] == (("value", fmt(value, "USD")), ("credited", fmt(amount, "USD")))
        assert texts[1] == f"{fmt(value, 'USD')} = {fmt(amount, 'USD')}"
