"""Advances (docs/language.md §20.8): paid whatever was earned, recovered from later pay.

Worked examples with hand-computed amounts, pay period by pay period, then properties over
random monthly earnings: what was advanced is recovered, forgiven or still owed, to the cent;
a recovery never takes more than its share of the pay period's pay, nor makes pay negative;
every statement adds up on its face.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from incentive_dsl import api
from incentive_dsl.audit.examples import run_example
from incentive_dsl.audit.reconcile import reconcile
from incentive_dsl.eval.money import ZERO, mul, round_money
from incentive_dsl.eval.records import STATEMENT_FLOWS
from incentive_dsl.periods import Calendar

HEAD = """\
plan "AE ramp 2027"
  currency USD
  effective 2027-01-01 to 2027-12-31
  roles AE
  rounding {rounding}

credit bookings "Bookings"
  on deal booked
  split as recorded
  cancelled deals lose their credit

commission core "Core commission"
  on bookings
  rate 10%

clawback churn "Early churn"
  when deal cancelled within 90 days of booking
  reverse core at original amounts

payout
  paid {pay}
{payout}
"""


def _run(tmp_path, payout: str, example: str, rounding: str = "half up per line",
         expectations: bool = True, pay: str = "monthly"):
    path = tmp_path / "advance.plan"
    path.write_text(HEAD.format(payout=payout, rounding=rounding, pay=pay) + "\n" + example)
    checked = api.check_paths([str(path)])
    assert not [d for d in checked.diagnostics], [d.message for d in checked.diagnostics]
    plan = checked.plans[0]
    res = run_example(plan, plan.examples[0])
    assert res.run.ok
    assert res.passed or not expectations, [(o.text, o.expected, o.actual) for o in res.outcomes if not o.passed]
    return res.run


def _by_period(result, payee: str) -> dict[str, object]:
    return {s.pay_period: s for s in result.statements if s.payee == payee}


def _adds_up(result) -> None:
    """Each statement's flows add up to its paid, which is the sum of its lines."""
    for s in result.statements:
        lines = [p for p in result.payouts if p.payee == s.payee
                 and p.pay_period == s.pay_period]
        assert sum((p.amount for p in lines), ZERO) == s.paid, s
        assert sum((getattr(s, f) for f in STATEMENT_FLOWS), ZERO) == s.paid, s
        assert s.paid >= 0, s


def test_periodic_advance_recovered_at_most_half_of_each_payout(tmp_path):
    result = _run(tmp_path, """\
  advance 3,000 USD per month for the first 3 months of employment
  recover advances from later pay at most 50% of each payout
""", """\
example "A new hire's first half year"
  payee ana role AE from 2027-01-01
  deal D1 booked 2027-02-10 by ana amount 10,000 USD
  deal D2 booked 2027-04-10 by ana amount 50,000 USD
  deal D3 booked 2027-05-10 by ana amount 100,000 USD
  deal D4 booked 2027-06-10 by ana amount 100,000 USD
  expect paid for ana in 2027-01 is 3,000 USD  # the advance alone
  expect paid for ana in 2027-02 is 4,000 USD  # 1,000 earned + 3,000 advance
  expect paid for ana in 2027-03 is 3,000 USD  # 9,000 owed
  expect paid for ana in 2027-04 is 2,500 USD  # 5,000 less 50%: 6,500 owed
  expect paid for ana in 2027-05 is 5,000 USD  # 10,000 less 50%: 1,500 owed
  expect paid for ana in 2027-06 is 8,500 USD  # 10,000 less the last 1,500
""")
    rows = _by_period(result, "ana")
    owed = {k: rows[k].advance_balance for k in ("2027-01", "2027-03", "2027-04", "2027-05",
                                                  "2027-06", "2027-07")}
    assert owed == {"2027-01": 3000, "2027-03": 9000, "2027-04": 6500, "2027-05": 1500,
                    "2027-06": 0, "2027-07": 0}
    assert [rows[k].advanced for k in ("2027-01", "2027-02", "2027-03", "2027-04")] == \
        [3000, 3000, 3000, 0]
    assert rows["2027-04"].advance_recovered == -2500
    assert rows["2027-06"].advance_recovered == -1500
    assert all(s.rounding == 0 for s in result.statements)
    _adds_up(result)
    recovery = next(p for p in result.payouts if p.kind == "advance recovery"
                    and p.pay_period == "2027-04")
    assert "at most 50% of this pay period's pay of 5,000.00 USD" in recovery.trace.because
    assert "6,500.00 USD still owed" in recovery.trace.because
    advance = next(p for p in result.payouts if p.kind == "advance"
                   and p.pay_period == "2027-02")
    assert "month 2 of the first 3 months" in advance.trace.because
    assert "6,000.00 USD owed" in advance.trace.because
    # explain's identity for the half year names the advance terms and what is still owed
    half = Calendar().period_of(rows["2027-01"].start, "half")
    rec = reconcile(result, "ana", half)
    assert rec.balances
    assert dict(rec.terms)["advanced"] == 9000
    assert dict(rec.terms)["advances recovered"] == -9000


def test_advance_at_hire_with_little_earnings_forgiven_on_termination(tmp_path):
    result = _run(tmp_path, """\
  advance 10,000 USD at hire
  recover advances from later pay
  forgive advances on termination
""", """\
example "A short stay"
  payee bo role AE from 2027-03-15 to 2027-08-20
  deal D1 booked 2027-04-10 by bo amount 20,000 USD
  deal D2 booked 2027-06-10 by bo amount 30,000 USD
  expect paid for bo in 2027-03 is 10,000 USD  # at hire, whatever was earned
  expect paid for bo in 2027-04 is 0 USD  # 2,000 earned, all recovered: 8,000 owed
  expect paid for bo in 2027-06 is 0 USD  # 3,000 recovered: 5,000 owed
  expect paid for bo in 2027-08 is 0 USD  # the 5,000 still owed is forgiven
""")
    rows = _by_period(result, "bo")
    assert "2027-02" not in rows  # not hired yet: no advance, no statement
    assert rows["2027-03"].advanced == 10000
    assert rows["2027-04"].advance_balance == 8000
    assert rows["2027-07"].advance_balance == 5000
    assert rows["2027-08"].advance_balance == 0
    forgiven = [p for p in result.payouts if p.kind == "advance forgiven"]
    assert len(forgiven) == 1 and forgiven[0].pay_period == "2027-08"
    assert forgiven[0].amount == 0
    assert "5,000.00 USD forgiven on 2027-08-20" in forgiven[0].trace.because
    assert sum((s.advanced for s in result.statements), ZERO) == 10000
    _adds_up(result)


def test_unforgiven_balance_stays_owed_after_termination(tmp_path):
    result = _run(tmp_path, """\
  advance 4,000 USD at hire
  recover advances from later pay
""", """\
example "Leaves owing"
  payee cy role AE from 2027-01-10 to 2027-02-28
  deal D1 booked 2027-02-10 by cy amount 10,000 USD
  expect paid for cy in 2027-01 is 4,000 USD
  expect paid for cy in 2027-02 is 0 USD  # 1,000 recovered
""")
    rows = _by_period(result, "cy")
    assert rows["2027-02"].advance_balance == 3000
    assert not [p for p in result.payouts if p.kind == "advance forgiven"]


def test_recovery_never_makes_pay_negative(tmp_path):
    # March: D1's clawback (-5,000) is larger than the 2,000 earned; pay is 0, the rest is
    # carried, and nothing is recovered from a period that pays nothing.
    result = _run(tmp_path, """\
  advance 3,000 USD at hire
  recover advances from later pay
""", """\
example "A clawback while advances are owed"
  payee di role AE from 2027-01-01
  deal D1 booked 2027-02-10 by di amount 50,000 USD
  deal D1 cancelled 2027-03-01
  deal D2 booked 2027-03-20 by di amount 20,000 USD
  deal D3 booked 2027-04-20 by di amount 100,000 USD
  expect paid for di in 2027-01 is 3,000 USD
  expect paid for di in 2027-02 is 2,000 USD  # 5,000 less the 3,000 owed
  expect paid for di in 2027-03 is 0 USD
  expect paid for di in 2027-04 is 7,000 USD  # 10,000 less 3,000 carried
""")
    rows = _by_period(result, "di")
    assert rows["2027-02"].advance_recovered == -3000
    assert rows["2027-03"].advance_recovered == 0 and rows["2027-03"].carried == 3000
    assert rows["2027-04"].advance_balance == 0
    _adds_up(result)


def test_advance_with_holdback(tmp_path):
    # The holdback is taken from earnings only; the advance is not held back. A release is
    # pay like any other, so it recovers its share.
    result = _run(tmp_path, """\
  hold back 10% for 3 months
  advance 2,000 USD at hire
  recover advances from later pay at most 50% of each payout
""", """\
example "Held back while recovering"
  payee ed role AE from 2027-01-01
  deal D1 booked 2027-01-10 by ed amount 10,000 USD
  deal D2 booked 2027-02-10 by ed amount 30,000 USD
  expect paid for ed in 2027-01 is 2,900 USD  # 1,000 less 100 held, plus the 2,000 advance
  expect paid for ed in 2027-02 is 1,350 USD  # 3,000 less 300 held is 2,700; half recovered
  expect paid for ed in 2027-03 is 0 USD
  expect paid for ed in 2027-04 is 50 USD  # January's 100 released, half recovered
  expect paid for ed in 2027-05 is 150 USD  # February's 300 released, half recovered
""")
    rows = _by_period(result, "ed")
    assert rows["2027-01"].held == -100 and rows["2027-01"].advanced == 2000
    assert rows["2027-05"].advance_balance == 450
    _adds_up(result)


def test_per_statement_rounding_still_adds_up(tmp_path):
    result = _run(tmp_path, """\
  advance 1,000 USD at hire
  recover advances from later pay at most 33% of each payout
""", """\
example "Cents"
  payee fa role AE from 2027-01-01
  deal D1 booked 2027-02-10 by fa amount 1,234.57 USD
  expect paid for fa in 2027-02 is 82.72 USD  # 123.457 less round(33% of it) = 40.74
""", rounding="half up per statement")
    rows = _by_period(result, "fa")
    assert rows["2027-02"].advance_recovered == Decimal("-40.74")
    _adds_up(result)


# ------------------------------------------------------------------------------ properties

RECOVERY = {None: "recover advances from later pay",
            **{share: f"recover advances from later pay at most {share} of each payout"
               for share in ("25%", "50%", "100%")}}


@settings(max_examples=40)
@given(share=st.sampled_from(sorted(RECOVERY, key=str)),
       cents=st.lists(st.integers(0, 5_000_000), min_size=12, max_size=12),
       start=st.integers(1, 6), cancel=st.one_of(st.none(), st.integers(0, 10)))
def test_advances_are_recovered_forgiven_or_owed(tmp_path_factory, share, cents, start, cancel):
    lines = [f"  payee ana role AE from 2027-{start:02d}-01"]
    for month, amount in enumerate(cents, start=1):
        if amount:
            lines.append(f"  deal D{month} booked 2027-{month:02d}-05 by ana amount "
                         f"{Decimal(amount) / 100} USD")
    if cancel is not None and cents[cancel]:  # a clawback: a period may be negative
        lines.append(f"  deal D{cancel + 1} cancelled 2027-{cancel + 2:02d}-02")
    lines.append("  expect paid for ana in 2027-12 is 0 USD  # not asserted: an example expects")
    payout = f"""\
  advance 2,500 USD per month for the first 2 months of employment
  {RECOVERY[share]}
  forgive advances at 2027-10-31
"""
    result = _run(tmp_path_factory.mktemp("p"), payout,
                  'example "random months"\n' + "\n".join(lines) + "\n",
                  rounding="half even per line", expectations=False)
    rows = sorted((s for s in result.statements if s.payee == "ana"), key=lambda s: s.start)
    forgiven = {p.pay_period: _forgiven(p) for p in result.payouts
                if p.kind == "advance forgiven"}
    owed = ZERO
    for s in rows:
        owed += s.advanced + s.advance_recovered
        if s.pay_period in forgiven:
            assert forgiven[s.pay_period] == owed
            owed = ZERO
        assert s.advance_balance == owed, s
    assert set(forgiven) <= {"2027-10"}
    advanced = sum((s.advanced for s in rows), ZERO)
    recovered = -sum((s.advance_recovered for s in rows), ZERO)
    assert advanced == 2500 * min(2, 13 - start)
    assert advanced == recovered + sum(forgiven.values(), ZERO) + rows[-1].advance_balance
    _adds_up(result)
    for s in rows:
        pay = s.paid - s.advance_recovered  # the pay the recovery was taken from
        if share is not None:
            # Never more than the share, not even by half a cent: rounded down.
            limit = mul(pay, Decimal(share[:-1]) / 100)
            assert -s.advance_recovered <= limit, s
            if s.advance_recovered:  # the share rounded down, or what was still owed
                assert -s.advance_recovered == round_money(limit, "USD", "down") or \
                    s.advance_balance == 0, s
        assert -s.advance_recovered <= pay
        if s.advanced:
            assert not s.advance_recovered  # recovery starts after the advances


def _forgiven(line) -> Decimal:
    """The balance a forgiven line forgives (the line pays 0): read from its trace, "advance
    balance of 1,234.00 USD forgiven on ..."."""
    text = line.trace.because.split("advance balance of ", 1)[1].split(" USD", 1)[0]
    return Decimal(text.replace(",", ""))


def test_columnar_engine_falls_back_for_advances(tmp_path):
    from incentive_dsl.columnar import not_covered

    path = tmp_path / "advance.plan"
    text = HEAD.format(payout="  advance 10,000 USD at hire\n  recover advances from later pay",
                       rounding="half up per statement", pay="monthly")
    # Without a clawback, an advance is the first thing the columnar engine does not cover.
    text = text.replace("  cancelled deals lose their credit\n", "").split("clawback churn")[0] \
        + "payout" + text.split("payout", 1)[1]
    path.write_text(text)
    plan = api.check_paths([str(path)]).plans[0]
    found = not_covered([plan])
    assert found is not None and found.feature == "advances"
    assert found.message().startswith(f"{path}:17:3: the columnar engine does not cover "
                                      "advances; the interpreter runs the plan instead")


def test_finance_shows_the_advance_receivable(tmp_path):
    from incentive_dsl.audit.finance import accruals

    result = _run(tmp_path, """\
  advance 4,000 USD at hire
  recover advances from later pay
""", """\
example "Owing at the quarter's end"
  payee cy role AE from 2027-01-10
  deal D1 booked 2027-02-10 by cy amount 10,000 USD
  expect paid for cy in 2027-02 is 0 USD  # 1,000 recovered: 3,000 owed
""")
    q1 = Calendar().period_of(result.statements[0].start, "quarter")
    rows = accruals(result, q1)
    assert [(r.payee, r.advance_receivable, r.draw_receivable) for r in rows] == \
        [("cy", Decimal("3000.00"), Decimal("0.00"))]


def test_plan_diff_and_document_state_the_advance(tmp_path):
    def plan(payout: str):
        path = tmp_path / f"p{len(payout)}.plan"
        path.write_text(HEAD.format(payout=payout, rounding="half up per line", pay="monthly"))
        return api.check_paths([str(path)]).plans[0]

    old = plan("  advance 3,000 USD per month for the first 3 months of employment\n"
               "  recover advances from later pay\n")
    new = plan("  advance 10,000 USD at hire\n"
               "  recover advances from later pay at most 25% of each payout\n"
               "  forgive advances at 2027-12-31\n")
    details = [c.detail for c in api.diff_plans(old, new).changes if c.kind == "payout"]
    assert details == ["advance: advance 3,000 USD per month for the first 3 months of "
                       "employment; recover advances from later pay → advance 10,000 USD at "
                       "hire; recover advances from later pay at most 25% of each payout; "
                       "forgive advances at 2027-12-31"]
    text = api.plan_document(new)
    assert ("An advance of 10,000 USD is paid in the pay period you start in, whatever you "
            "earn. Advances are owed: from the first pay period after the last advance, at "
            "most 25% of each later payout goes to repay them until they are repaid (pay is "
            "never below zero). Whatever is still owed on 2027-12-31 is forgiven.") in text


def test_rep_statement_shows_the_advance(tmp_path):
    result = _run(tmp_path, """\
  advance 4,000 USD at hire
  recover advances from later pay at most 50% of each payout
""", """\
example "Owing at the quarter's end"
  payee cy role AE from 2027-01-10
  deal D1 booked 2027-02-10 by cy amount 10,000 USD
  expect paid for cy in 2027-02 is 500 USD  # half of 1,000 recovered: 3,500 owed
""")
    q1 = Calendar().period_of(result.statements[0].start, "quarter")
    page = api.statement_html(api.statement(result, "cy", q1))
    assert "Advance balance owed</div><div class=\"v\">3,500.00 USD" in page
    assert "<th class=\"num\">Advanced</th><th class=\"num\">Advance recovered</th>" in page
    assert "An advance is paid whatever was earned" in page


def test_advance_per_pay_period_with_biweekly_pay(tmp_path):
    # Pay periods are fortnights from 2027-01-04; the payee starts on 2027-01-13, so the
    # fortnights starting (for them) on 01-13 and 01-18 are in their first month of employment,
    # the one from 02-01 is not.
    result = _run(tmp_path, """\
  advance 1,200 USD per pay period for the first 1 months of employment
  recover advances from later pay
""", """\
example "Fortnights"
  payee gus role AE from 2027-01-13
  deal D1 booked 2027-02-10 by gus amount 20,000 USD
  expect paid for gus in 2027-01 is 2,400 USD  # two fortnights' advances
  expect paid for gus in 2027-02 is 0 USD  # 2,000 earned, all recovered: 400 owed
""", pay="biweekly from 2027-01-04")
    rows = _by_period(result, "gus")
    assert [(k, s.advanced) for k, s in rows.items() if s.advanced] == \
        [("2027-01-04/17", 1200), ("2027-01-18/31", 1200)]
    assert rows["2027-02-01/14"].advance_recovered == -2000
    assert rows["2027-02-01/14"].advance_balance == 400
    _adds_up(result)
