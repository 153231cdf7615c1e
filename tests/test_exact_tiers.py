"""Tier pieces are exact: every commission line of a marginal table equals the same plan
worked out independently with `fractions.Fraction` (docs/language.md §5.4).

The reference here shares nothing with the interpreter: it places each tier bound in money
space (quota × bound), intersects the deal's credit interval with each tier's interval, and
multiplies by the rate, all in rational arithmetic. Amounts cross the bounds on purpose; the
quota is sometimes a third of a quarterly figure (a monthly table), so bounds fall between
cents and attainment has no finite decimal form.
"""

from __future__ import annotations

import datetime as dt
import decimal
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from fractions import Fraction

from hypothesis import example, given, settings
from hypothesis import strategies as st

from incentive_dsl.eval import earnings
from tests.test_eval_properties import booking, header, payee, plan_from_text, run

CENT = Fraction(1, 100)


def reference_line(credit_before: Fraction, amount: Fraction, quota: Fraction,
                   bounds: list[Fraction], rates: list[Fraction]) -> Fraction:
    """The exact commission of one deal: the part of [before, before + amount] inside each
    tier's money interval [quota × low, quota × high], times the tier's rate."""
    lows = [None] + [quota * b for b in bounds]  # the first tier also takes a negative key
    highs = [quota * b for b in bounds] + [None]
    start, end = credit_before, credit_before + amount
    total = Fraction(0)
    for low, high, rate in zip(lows, highs, rates):
        a = start if low is None else max(start, low)
        b = end if high is None else min(end, high)
        if b > a:
            total += (b - a) * rate
    return total


def terminates(f: Fraction) -> bool:
    d = f.denominator
    for p in (2, 5):
        while d % p == 0:
            d //= p
    return d == 1


def to_cent(f: Fraction, mode: str = "half even") -> Decimal:
    """`f` rounded to the cent by the decimal module, not by the interpreter's
    `money.round_to`: 80 digits hold every tie (a finite decimal) exactly, and no other value
    of these tests comes within 10^-60 of one (their denominators are far smaller)."""
    rounding = {"half even": ROUND_HALF_EVEN, "half up": ROUND_HALF_UP}[mode]
    with decimal.localcontext(decimal.Context(prec=80)):
        return (Decimal(f.numerator) / f.denominator).quantize(Decimal("0.01"), rounding)


def as_money(f: Fraction) -> Fraction:
    """What a line must hold: the exact value, or the cent it rounds to (half even) when it
    has no finite decimal form."""
    return f if terminates(f) else Fraction(to_cent(f))


@st.composite
def tables(draw):
    count = draw(st.integers(2, 4))
    # bounds in hundredths of a percent, so that quota × bound often falls between cents
    bounds = sorted(draw(st.lists(st.integers(1, 30_000), min_size=count - 1,
                                  max_size=count - 1, unique=True)))
    rates = draw(st.lists(st.integers(1, 2_500), min_size=count, max_size=count))
    return [Fraction(b, 10_000) for b in bounds], [Fraction(r, 10_000) for r in rates]


def table_text(period: str, bounds, rates) -> str:
    def pct(f: Fraction) -> str:
        return f"{(Decimal(f.numerator) / f.denominator * 100).normalize():f}%"
    lows = [Fraction(0)] + bounds
    rows = []
    for i, rate in enumerate(rates):
        top = f" to {pct(bounds[i])}" if i < len(bounds) else ""
        rows.append(f"    from {pct(lows[i])}{top} at {pct(rate)}")
    return ("commission core\n  on bookings\n"
            f"  marginal rates by attainment per {period}\n" + "\n".join(rows) + "\n")


amounts = st.integers(1, 40_000_000).map(lambda c: Decimal(c) / 100)


@given(table=tables(), quarterly=st.integers(100, 100_000_000), monthly=st.booleans(),
       deals=st.lists(amounts, min_size=1, max_size=6),
       rounding=st.sampled_from(["half even per statement", "half up per line"]))
@example(table=([Fraction(1)], [Fraction(6, 100), Fraction(9, 100)]), quarterly=3_649_950,
         monthly=False, deals=[Decimal("52000.00")], rounding="half even per statement")
@example(table=([Fraction(1)], [Fraction(1, 100), Fraction(2, 100)]), quarterly=10_000_000,
         monthly=False, deals=[Decimal("1002.50")], rounding="half up per line")  # 10.025: a
# tie after an even cent, which half up and half even round apart (10.03 and 10.02)
def test_every_tier_line_equals_exact_rational_arithmetic(table, quarterly, monthly, deals,
                                                          rounding):
    bounds, rates = table
    period = "month" if monthly else "quarter"
    text = (header("Exact tiers", rounding=rounding) +
            f"quota bookings\n  {Decimal(quarterly) / 100:f} USD per quarter\n"
            "  no proration\n\ncredit bookings\n  on deal booked\n\n"
            "measure attainment = bookings / quota bookings\n\n" +
            table_text(period, bounds, rates))
    plan = plan_from_text(text)
    day = dt.date(2027, 2, 1)  # every deal in February: one month, one quarter
    events = [booking(f"D{i}", day + dt.timedelta(days=i), "ana", a)
              for i, a in enumerate(deals)]
    result = run(plan, events, [payee("ana")])
    quota = Fraction(quarterly, 100) / (3 if monthly else 1)
    lines = {ln.deal: ln.amount for ln in result.earnings if ln.kind == "commission"}
    before = Fraction(0)
    per_line = rounding.endswith("per line")
    for i, a in enumerate(deals):
        want = reference_line(before, Fraction(a), quota, bounds, rates)
        got = lines.get(f"D{i}", Decimal(0))
        if per_line:  # rounded once, in the plan's mode
            mode = rounding.removesuffix(" per line")
            assert got == to_cent(want, mode), (i, got, want)
        else:
            assert Fraction(got) == as_money(want), (i, got, want, float(want))
        before += Fraction(a)


def test_the_issue_example_pays_the_exact_half_cent_rounded():
    """36,499.50 × 6% + 15,500.50 × 9% = 3,585.015, which is 3,585.02 half even and half up
    (a 34-digit quotient made it 3,585.01)."""
    for mode in ("half even", "half up"):
        text = (header("Issue", rounding=f"{mode} per line") +
                "quota bookings\n  36,499.50 USD per quarter\n  no proration\n\n"
                "credit bookings\n  on deal booked\n\n"
                "measure attainment = bookings / quota bookings\n\n" +
                table_text("quarter", [Fraction(1)], [Fraction(6, 100), Fraction(9, 100)]))
        result = run(plan_from_text(text), [booking("D1", dt.date(2027, 2, 1), "ana",
                                                    Decimal("52000.00"))], [payee("ana")])
        (line,) = [ln for ln in result.earnings if ln.kind == "commission"]
        assert line.amount == Decimal("3585.02"), (mode, line.amount)
        assert "= 3,585.015 USD; rounded " + mode + " per line: 3,585.02 USD" in \
            line.trace.arithmetic, line.trace.arithmetic
        assert "36,499.50 USD" in line.trace.because and "15,500.50 USD" in line.trace.because


@settings(max_examples=30)
@given(table=tables(), quarterly=st.integers(100, 100_000_000),
       deals=st.lists(amounts, min_size=1, max_size=5))
def test_tiers_cut_in_money_space_explain_themselves_as_the_key_space_cut(table, quarterly, deals):
    """A tier key `credit / quota` is cut in money space and its trace keeps only the running
    totals of the credit and the quota (`_money_commission_texts`); the same key written
    so that the interpreter cuts it in key space (`(bookings + 0 USD) / quota`) must give the
    same lines with the same traces, word for word. The deals fall in several quarters, so
    the credit before a line is the running total less the total before its quarter."""
    bounds, rates = table

    def plan(measure: str):
        return plan_from_text(
            header("Traces", rounding="half even per statement") +
            f"quota bookings\n  {Decimal(quarterly) / 100:f} USD per quarter\n"
            "  no proration\n\ncredit bookings\n  on deal booked\n\n"
            f"measure attainment = {measure}\n\n" + table_text("quarter", bounds, rates))

    day = dt.date(2027, 2, 1)
    events = [booking(f"D{i}", day + dt.timedelta(days=40 * i), "ana", a)
              for i, a in enumerate(deals)]
    money = run(plan("bookings / quota bookings"), events, [payee("ana")])
    keyed = run(plan("(bookings + 0 USD) / quota bookings"), events, [payee("ana")])
    # Each plan took its own path (read before any trace is: reading one lets its inputs go).
    assert {ln.trace._render for ln in money.earnings} == {earnings._money_commission_texts}
    assert {ln.trace._render for ln in keyed.earnings} == {earnings._commission_texts}
    assert [(ln.id, ln.amount, ln.trace) for ln in money.earnings] == \
        [(ln.id, ln.amount, ln.trace) for ln in keyed.earnings]


def test_split_shares_rounded_as_a_whole_explain_it_without_making_the_exact_trace():
    """Rounding per line rounds a split deal's commission shares as a whole: 500.04 + 500.03
    at 8% is 40.0032 + 40.0024 = 80.0056, 80.01 rounded, shared 40.01 + 40.00 by the larger
    remainder. Each share's trace is made from what makes the exact line's (the exact line's is
    never made): its texts, then the rounding."""
    from incentive_dsl.eval import records
    text = (header("Shares") + "quota bookings\n  100,000 USD per quarter\n  no proration\n\n"
            "credit bookings\n  on deal booked\n  split as recorded\n\n"
            "measure attainment = bookings / quota bookings\n\n" +
            table_text("quarter", [Fraction(1)], [Fraction(8, 100), Fraction(12, 100)]))
    split = (("ana", Decimal("0.5")), ("bo", Decimal("0.5")))
    result = run(plan_from_text(text), [booking("D1", dt.date(2027, 2, 1), "ana",
                                                Decimal("1000.07"), split)],
                 [payee("ana"), payee("bo")])
    shares = [ln for ln in result.earnings if ln.kind == "commission"]
    assert [(ln.payee, ln.amount) for ln in shares] == [("ana", Decimal("40.01")),
                                                         ("bo", Decimal("40.00"))]
    assert all(type(records.raw_trace(ln)) is tuple for ln in shares)
    whole = "(this share of the split deal's 80.01 USD, rounded as a whole)"
    assert [ln.trace.arithmetic for ln in shares] == [
        f"500.04 USD × 8% = 40.0032 USD; rounded half even per line: 40.01 USD {whole}",
        f"500.03 USD × 8% = 40.0024 USD; rounded half even per line: 40.00 USD {whole}"]
    assert shares[1].trace.because == ("8% of 500.03 USD (tier '0% to 100%') for deal D1 "
                                       "because your 2027-Q1 attainment went from 0% to 0.5% "
                                       "(marginal tiers)")
