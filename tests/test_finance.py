"""Finance exports (audit/finance.py, `incentive finance`): accruals at a period end and the
straight-line amortisation of capitalised commissions, on the statement tests' small plan with
hand-computed figures; the amortisation of every shipped commission line adds up to the cent."""

import csv
import datetime as dt
import io
from decimal import Decimal as D
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from incentive_dsl import api, cli
from incentive_dsl.audit import finance
from incentive_dsl.check import check_trees
from incentive_dsl.syntax import parse_text

from shipped import load_shipped_data
from test_statement import ANA, PLAN, _run

ROOT = Path(__file__).parents[1]


def _accruals(period: str, plan_text: str = PLAN):
    result, _ = _run()
    if plan_text != PLAN:
        parsed = parse_text("q.plan", plan_text)
        (plan,), _ = check_trees([(parsed.tree, plan_text)])
        result = api.run(plan, result.engine.dataset)
    window = api.window(result.plan, period, whole_pay_periods=False)
    again = api.run(result.plan, result.engine.dataset, window.end)
    (row,) = finance.accruals(again, window)
    return row


def test_accruals_hand_computed():
    # At 2027-02-28 (monthly pay): January and February are paid (1,350 + 825); February's
    # 75 is still held back; D2's and D3's collected halves (1,000 + 250) await collection.
    feb = _accruals("2027-02")
    assert feb.payee == ANA and feb.as_of == dt.date(2027, 2, 28)
    assert (feb.earned_in_period, feb.paid_in_period) == (D("500.00"), D("825.00"))
    assert (feb.unpaid_payable, feb.held_back, feb.awaiting_collection,
            feb.carried_forward) == (0, D("75.00"), D("1250.00"), 0)
    assert feb.accrued == D("1325.00")  # 3,500 earned to date - 2,175 paid
    # At 2027-03-31: D3 cancelled (its awaiting half nets out, its paid half is clawed back
    # and carried: 175 to recover from later pay), the holdback released.
    mar = _accruals("2027-03")
    assert (mar.held_back, mar.awaiting_collection, mar.carried_forward) == (
        0, D("1000.00"), D("175.00"))
    assert mar.accrued == D("825.00")  # 3,000 earned to date - 2,175 paid


def test_accruals_with_a_pay_period_still_running():
    # Paid quarterly: at 2027-02-28 the first quarter's pay period is still running: what it
    # holds so far (2,250 payable less 225 held back) is unpaid, the 225 held back.
    quarterly = PLAN.replace("paid monthly", "paid quarterly")
    row = _accruals("2027-02", quarterly)
    assert (row.paid_in_period, row.unpaid_payable, row.held_back,
            row.awaiting_collection) == (0, D("2025.00"), D("225.00"), D("1250.00"))
    assert row.accrued == D("3500.00")  # all earned to date, nothing paid yet


def test_straight_line_puts_the_remainder_on_the_last_month():
    parts = finance.straight_line(D("1000.00"), 12, "USD")
    assert parts == [D("83.33")] * 11 + [D("83.37")]  # 8,333 cents x 11 + 8,337
    assert finance.straight_line(D("-1000.00"), 12, "USD")[-1] == D("-83.37")
    assert finance.straight_line(D("1000"), 3, "JPY") == [D(333), D(333), D(334)]
    with pytest.raises(ValueError):
        finance.straight_line(D("10.00"), 0, "USD")


@given(cents=st.integers(-10**12, 10**12), months=st.integers(1, 120))
def test_straight_line_sums_exactly(cents, months):
    amount = D(cents).scaleb(-2)
    parts = finance.straight_line(amount, months, "USD")
    assert len(parts) == months and sum(parts) == amount
    assert max(parts) - min(parts) < D(months).scaleb(-2) + D("0.01")
    assert all(p.as_tuple().exponent >= -2 for p in parts)


def test_amortisation_hand_computed():
    result, _ = _run()
    rows = finance.amortisation(result, 24)
    by_line = {}
    for r in rows:
        by_line.setdefault(r.earning, []).append(r)
    assert len(by_line) == 4  # D1, D2, D3 commissions and D3's clawback
    d2 = next(v for v in by_line.values() if v[0].deal == "D2")
    # 2,000.00 over 24 months: 83.33 x 23 and 83.41 in the last, from January 2027.
    assert [r.month for r in d2][:2] == ["2027-01", "2027-02"] and d2[-1].month == "2028-12"
    assert {r.amortisation for r in d2[:-1]} == {D("83.33")} and d2[-1].amortisation == D("83.41")
    assert d2[-1].remaining == 0 and sum(r.amortisation for r in d2) == D("2000.00")
    claw = next(v for v in by_line.values() if v[0].kind == "clawback")
    assert claw[0].month == "2027-03" and claw[0].capitalised == D("-500.00")
    assert sum(r.amortisation for r in rows) == D("3000.00")  # net capitalised
    text = finance.amortisation_csv(rows)
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert tuple(parsed[0]) == finance.AMORTISATION_COLUMNS and len(parsed) == 4 * 24


def test_shipped_commissions_amortise_to_the_cent():
    loaded = api.load_plan(str(ROOT / "plans" / "enterprise_ae.plan"))
    dataset, _ = load_shipped_data(loaded.plan)
    window = api.window(loaded.plan, "2027-Q1")
    rows = finance.amortisation(api.run(loaded.plan, dataset, window.end), 36, window=window)
    assert rows
    per_line: dict[str, D] = {}
    for r in rows:
        per_line[r.earning] = per_line.get(r.earning, D(0)) + r.amortisation
        assert r.amortisation.as_tuple().exponent == -2
    capitalised = {r.earning: r.capitalised for r in rows}
    assert per_line == capitalised


def test_cli_finance_commands(tmp_path, capsys):
    base = [str(ROOT / "plans" / "enterprise_ae.plan"), "--data", str(ROOT / "plans" / "data")]
    out = tmp_path / "acc.csv"
    assert cli.main(["finance", "accruals", *base, "--period", "2027-03", "--output",
                     str(out)]) == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert tuple(rows[0]) == finance.ACCRUAL_COLUMNS and len(rows) > 20
    for r in rows:
        parts = (D(r["unpaid_payable"]) + D(r["held_back"]) + D(r["awaiting_collection"])
                 - D(r["carried_forward"]))
        assert parts == D(r["accrued"])
    assert cli.main(["finance", "amortisation", *base, "--period", "2027-01",
                     "--benefit-months", "12"]) == 0
    text = capsys.readouterr().out
    assert text.startswith(",".join(finance.AMORTISATION_COLUMNS))
    assert cli.main(["finance", "amortisation", *base, "--benefit-months", "0"]) == 2
    assert "at least 1" in capsys.readouterr().err
    assert cli.main(["finance", "amortisation", *base, "--benefit-months", "12",
                     "--rules", "nope"]) == 2
    assert "no rule 'nope' in the plan; --rules takes the rules that pay: core, milestones" \
        in capsys.readouterr().err
    # A credit gives attainment, not pay: there is nothing of it to capitalise.
    assert cli.main(["finance", "amortisation", *base, "--benefit-months", "12",
                     "--rules", "bookings"]) == 2
    assert "'bookings' is a credit of the plan, not a rule that pays; --rules takes" in \
        capsys.readouterr().err
    # A clawback is named in the plan: it is not "no rule", its lines go with what it reverses.
    assert cli.main(["finance", "amortisation", *base, "--benefit-months", "12",
                     "--rules", "churn"]) == 2
    assert ("'churn' is a clawback of the plan: its lines are capitalised with the rules it "
            "reverses (core, p3); --rules takes the rules that pay: core, milestones") in \
        capsys.readouterr().err
    assert cli.main(["finance", "accruals", *base]) == 2
    assert "--period" in capsys.readouterr().err
