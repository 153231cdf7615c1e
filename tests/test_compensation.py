"""Base salary and target incentive (the `compensation` block, docs/language.md §20b): the
checker's rules, the amounts by days (worked examples with exact values), the names in rules,
the statement fields and where they are shown, and the additivity of amounts over periods."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from incentive_dsl import api
from incentive_dsl.audit import render
from incentive_dsl.audit import statement as rep
from incentive_dsl.audit.document import build, to_markdown
from incentive_dsl.check import check_trees
from incentive_dsl.columnar import not_covered
from incentive_dsl.data.records import Dataset, Event, PayeeRecord, Roster
from incentive_dsl.eval.context import Deals, EventIndex, Fx
from incentive_dsl.eval.measures import MeasureEngine
from incentive_dsl.periods import Period
from incentive_dsl.syntax.parser import parse_text

D = dt.date
HEADER = """plan "Target bonus"
  currency USD
  effective 2027-01-01 to 2027-12-31
  roles AE, SE, MGR
  applies to role AE, SE, MGR
"""

PLAN = HEADER + """
fields
  payee.base_salary money
  deal.type text

quota bookings "Bookings quota"
  250,000 USD per quarter

credit bookings "Bookings"
  on deal booked

measure attainment = bookings / quota bookings
measure ttc = target_total_compensation

compensation
  base salary 90,000 USD per year for role AE from 2027-01-01 to 2027-06-15
  base salary 96,000 USD per year for role AE from 2027-06-16
  base salary payee.base_salary per year for role SE, MGR
  target incentive 60,000 USD per year for role AE
  target incentive 40% of base_salary per year for role SE, MGR

bonus target "Target bonus"
  for role AE
  linear on attainment per quarter
    from 50% pay 0 USD
    to 100% pay target_incentive

override team "Team compensation"
  for role MGR
  pay 0 USD per quarter
  when team ttc > 0 USD

payout
  paid monthly
"""


def _check(text: str, path: str = "comp.plan"):
    return check_trees([(parse_text(path, text).tree, text)])


def _plan(text: str = PLAN):
    (plan,), diags = _check(text)
    assert plan is not None, [str(d) for d in diags if d.is_error]
    return plan


def _payee(pid: str, role: str, start: dt.date, end: dt.date | None = None, salary=None,
           frm: dt.date | None = None, manager: str | None = None) -> PayeeRecord:
    fields = (("base_salary", Decimal(salary)),) if salary is not None else ()
    return PayeeRecord(id=pid, role=role, start=start, end=end, effective_from=frm or start,
                       fields=fields, manager=manager)


def _engine(plan, payees) -> MeasureEngine:
    dataset = Dataset(events=(), payees=tuple(payees))
    fx = Fx((), plan.currency)
    return MeasureEngine(plan, dataset, Roster(list(payees)), fx, Deals(EventIndex(()), fx), [])


def _month(year: int, month: int) -> tuple[dt.date, dt.date]:
    p = PLAN_CHECKED.calendar.period_of(D(year, month, 1), "month")
    return p.start, p.end


PLAN_CHECKED = _plan()


# ------------------------------------------------------------------------------ worked examples


def test_a_yearly_salary_is_a_twelfth_each_month_and_exactly_the_year():
    engine = _engine(PLAN_CHECKED, [_payee("sam", "SE", D(2026, 1, 1), salary="90000")])
    for month in range(1, 13):
        assert engine.compensation("base salary", "sam", *_month(2027, month)) == 7500
    year = PLAN_CHECKED.calendar.period_of(D(2027, 1, 1), "year")
    assert engine.compensation_total("base_salary", ("sam",), year) == 90000
    # 40% of base_salary per year: 36,000 a year, a quarter of it per quarter.
    q1 = PLAN_CHECKED.calendar.period_of(D(2027, 1, 1), "quarter")
    assert engine.compensation_total("target_incentive", ("sam",), q1) == 9000
    assert engine.compensation_total("target_total_compensation", ("sam",), q1) == 31500


def test_a_hire_on_the_10th_counts_the_days_of_the_month():
    engine = _engine(PLAN_CHECKED, [_payee("ana", "AE", D(2027, 1, 10))])
    # January: 22 of 31 days at 7,500 a month.
    assert engine.compensation("base salary", "ana", D(2027, 1, 1), D(2027, 1, 31)) == \
        Fraction(7500 * 22, 31)
    assert engine.compensation("target incentive", "ana", D(2027, 1, 1), D(2027, 1, 31)) == \
        Fraction(5000 * 22, 31)
    result = api.run(PLAN_CHECKED, Dataset(events=(), payees=(
        _payee("ana", "AE", D(2027, 1, 10)),)))
    jan = next(s for s in result.statements if s.pay_period == "2027-01")
    assert (jan.base_salary, jan.target_incentive) == (Decimal("5322.58"), Decimal("3548.39"))
    assert jan.paid == 0  # payroll pays the base salary, not the plan


def test_a_raise_in_the_middle_of_a_month_splits_it_by_days():
    engine = _engine(PLAN_CHECKED, [_payee("ana", "AE", D(2026, 1, 1))])
    # June 2027 has 30 days: 15 at 7,500 a month, 15 at 8,000 a month.
    assert engine.compensation("base salary", "ana", *_month(2027, 6)) == 7750
    assert engine.compensation("base salary", "ana", *_month(2027, 7)) == 8000
    year = PLAN_CHECKED.calendar.period_of(D(2027, 1, 1), "year")
    assert engine.compensation_total("base_salary", ("ana",), year) == 5 * 7500 + 7750 + 6 * 8000


def test_a_raise_in_the_roster_changes_the_field_from_its_date():
    rows = [_payee("sam", "SE", D(2026, 1, 1), salary="120000"),
            _payee("sam", "SE", D(2026, 1, 1), salary="132000", frm=D(2027, 4, 11))]
    engine = _engine(PLAN_CHECKED, rows)
    # April: 10 days at 10,000 a month, 20 at 11,000; the target is 40% of each.
    assert engine.compensation("base salary", "sam", *_month(2027, 4)) == \
        Fraction(10000 * 10 + 11000 * 20, 30)
    assert engine.compensation("target incentive", "sam", *_month(2027, 4)) == \
        Fraction(4000 * 10 + 4400 * 20, 30)


def test_a_target_incentive_as_a_share_of_a_payee_field():
    result = api.run(PLAN_CHECKED, Dataset(events=(), payees=(
        _payee("sam", "SE", D(2026, 1, 1), salary="100000"),)))
    months = [s for s in result.statements if s.payee == "sam"]
    assert len(months) == 12
    assert {s.target_incentive for s in months} == {Decimal("3333.33")}  # 40,000 / 12, rounded
    assert {s.base_salary for s in months} == {Decimal("8333.33")}
    year = result.plan.calendar.period_of(D(2027, 1, 1), "year")
    assert result.engine.compensation_total("target_incentive", ("sam",), year) == 40000


def _booking(deal: str, day: dt.date, amount: str, owner: str) -> Event:
    return Event(id=f"E-{deal}", deal=deal, date=day, kind="booked", amount=Decimal(amount),
                 currency="USD", owner=owner)


def test_a_quarterly_bonus_paying_the_target_incentive_at_100_percent():
    events = (_booking("D1", D(2027, 2, 10), "250000", "ana"),
              _booking("D2", D(2027, 5, 10), "187500", "ana"))
    result = api.run(PLAN_CHECKED, Dataset(events=events, payees=(
        _payee("ana", "AE", D(2027, 1, 1)),)))
    bonus = {e.period: e.amount for e in result.earnings if e.component == "target"}
    assert bonus["2027-Q1"] == 15000  # 100% of quota: a quarter of the 60,000 target
    assert bonus["2027-Q2"] == 7500  # 75%: half way from 50% to 100%
    assert "2027-Q3" not in bonus  # no bookings: below 50%, nothing


def test_a_team_sums_its_members_days_in_the_team():
    rows = [_payee("max", "MGR", D(2026, 1, 1), salary="150000"),
            _payee("sam", "SE", D(2026, 1, 1), salary="120000", manager="max"),
            # joins max's team on 2027-02-15 (before that, no manager)
            _payee("bo", "SE", D(2026, 1, 1), salary="60000"),
            _payee("bo", "SE", D(2026, 1, 1), salary="60000", frm=D(2027, 2, 15),
                   manager="max")]
    engine = _engine(PLAN_CHECKED, rows)
    q1 = PLAN_CHECKED.calendar.period_of(D(2027, 1, 1), "quarter")
    team = tuple(engine.team("max", q1))
    base = engine.compensation_total("base_salary", team, q1)
    # sam: the quarter of 120,000; bo: 14 of February's 28 days and all of March at 5,000.
    assert base == 30000 + Fraction(5000 * 14, 28) + 5000
    assert engine.measure("ttc", "max", q1) == 52500  # the manager's own: 37,500 + 40% of it
    result = api.run(PLAN_CHECKED, Dataset(events=(), payees=tuple(rows)))
    assert result.ok


def test_pay_periods_shorter_than_a_month_take_their_days():
    text = PLAN.replace("  paid monthly", "  paid biweekly from 2027-01-11")
    plan = _plan(text)
    result = api.run(plan, Dataset(events=(), payees=(_payee("ana", "AE", D(2026, 1, 1)),)))
    row = next(s for s in result.statements if s.pay_period == "2027-01-25/02-07")
    # 7 days of January at 7,500 / 31 and 7 of February at 7,500 / 28, rounded once.
    exact = Fraction(7500 * 7, 31) + Fraction(7500 * 7, 28)
    assert row.base_salary == Decimal(round(exact * 100)) / 100
    semi = _plan(PLAN.replace("  paid monthly", "  paid semimonthly"))
    result = api.run(semi, Dataset(events=(), payees=(_payee("ana", "AE", D(2026, 1, 1)),)))
    halves = [s.base_salary for s in result.statements if s.start.month == 1]
    assert halves == [Decimal("3629.03"), Decimal("3870.97")]  # 15 and 16 of 31 days


def test_days_outside_the_plan_and_employment_count_nothing():
    rows = [_payee("ana", "AE", D(2026, 6, 1), end=D(2027, 3, 10))]
    engine = _engine(PLAN_CHECKED, rows)
    assert engine.compensation("base salary", "ana", D(2026, 6, 1), D(2026, 12, 31)) == 0
    assert engine.compensation("base salary", "ana", *_month(2027, 3)) == Fraction(7500 * 10, 31)
    assert engine.compensation("base salary", "ana", *_month(2027, 4)) == 0


def test_a_missing_payee_field_counts_zero_and_is_noted():
    result = api.run(PLAN_CHECKED, Dataset(events=(), payees=(_payee("sam", "SE", D(2027, 1, 1)),)))
    assert result.ok
    assert {s.base_salary for s in result.statements} == {Decimal("0.00")}
    assert any("base salary" in d.message and "empty" in d.message for d in result.diagnostics)


# ------------------------------------------------------------------------------ the checker


def _codes(text: str) -> list[tuple[str, int, str]]:
    _, diags = _check(text)
    return [(d.code, d.span.line, d.message) for d in diags if d.is_error]


def test_names_without_a_compensation_block_are_unknown_with_a_hint():
    text = HEADER + """
credit bookings "Bookings"
  on deal booked

commission core "Core"
  on bookings
  rate 8%
  when bookings > base_salary
"""
    _, diags = _check(text)
    (d,) = [d for d in diags if d.is_error]
    assert d.code == "E-NAME" and "base salary" in d.message
    assert "compensation" in d.hint


def test_compensation_amounts_see_one_payee_on_one_day():
    text = HEADER + """
credit bookings "Bookings"
  on deal booked

compensation
  base salary 90,000 USD per year
  target incentive target_total_compensation per year for role AE
  target incentive 10% of bookings per year for role SE
  base salary 5,000 per month for role MGR
"""
    found = _codes(text)
    assert [(c, line) for c, line, _ in found] == [
        ("E-CONTEXT", 12), ("E-CONTEXT", 13), ("E-UNIT", 14)]  # MGR's line overrides line 11
    assert "compensation amount" in found[0][2]


def test_a_raise_must_end_the_old_line_and_roles_must_be_declared():
    text = HEADER + """
compensation
  base salary 90,000 USD per year for role AE
  base salary 96,000 USD per year for role AE from 2027-07-01
  target incentive 50% of base_salary per year for role XX
"""
    # An unknown role is not also reported as one without a base salary.
    assert [c for c, _, _ in _codes(text)] == ["E-COMPENSATION-OVERLAP", "E-ROLE"]


def test_a_pay_period_unit_shorter_than_a_month_does_not_fit():
    text = HEADER + """
compensation
  base salary 3,000 USD per pay period

payout
  paid semimonthly
"""
    assert [c for c, _, _ in _codes(text)] == ["E-PERIOD-FIT"]


# ------------------------------------------------------------------------------ where it is shown


def _shown_run():
    events = (_booking("D1", D(2027, 2, 10), "250000", "ana"),)
    return api.run(PLAN_CHECKED, Dataset(events=events, payees=(
        _payee("ana", "AE", D(2027, 1, 1)),)))


def test_csv_json_and_table_show_the_amounts():
    result = _shown_run()
    rows = list(csv.DictReader(io.StringIO(render.statements_csv(result))))
    assert rows[0]["base_salary"] == "7500.00" and rows[0]["target_incentive"] == "5000.00"
    doc = json.loads(render.to_json(result, lines=False))
    assert doc["statements"][0]["base_salary"] == "7500.00"
    from rich.console import Console
    console = Console(width=200, record=True)
    console.print(render.statement_table(result))
    text = console.export_text()
    assert "Base salary" in text and "93,250.00" in text and "60,000.00" in text


def test_the_rep_statement_shows_target_total_compensation():
    result = _shown_run()
    q1 = result.plan.calendar.period_of(D(2027, 1, 1), "quarter")
    built = rep.build(result, "ana", q1)
    c = built.compensation
    assert (c.base, c.target, c.total) == (22500, 15000, 37500)
    assert c.earned_ytd == 15000  # the bonus at 100% of the quarter's quota
    page = rep.to_html(built)
    assert 'id="compensation"' in page and "Target total compensation" in page
    assert "100% of the target incentive to date" in page
    assert "Pay mix: 60% base salary, 40% target incentive" in page


def test_explain_reads_earnings_against_the_target():
    result = _shown_run()
    q1 = result.plan.calendar.period_of(D(2027, 1, 1), "quarter")
    tree = api.explain(result, "ana", q1)
    branch = next(c for c in tree.children if c.text.startswith("compensation"))
    assert [c.text for c in branch.children] == [
        "base salary for 2027-Q1: 22,500.00 USD",
        "target incentive for 2027-Q1: 15,000.00 USD",
        "target total compensation for 2027-Q1: 37,500.00 USD",
        "earned 15,000.00 USD = 100% of the target incentive"]


def test_a_biweekly_statement_counts_its_year_to_date_by_pay_periods():
    # The window's first fortnight starts in December: its year to date starts with it.
    plan = _plan(PLAN.replace("paid monthly", "paid biweekly from 2027-01-11"))
    result = api.run(plan, Dataset(events=(), payees=(_payee("ana", "AE", D(2027, 1, 10)),)))
    window = api.window(plan, "2027-Q1")
    c = rep.build(result, "ana", window).compensation
    assert window.start == D(2026, 12, 28) and c.ytd_start == "2026-12-28"
    # 7,500 a month from 2027-01-10 to 2027-03-21: 22/31 of January, February, 21/31 of March
    # = 17,903.2258..., each fortnight's statement rounded to the cent (their sum: .24).
    assert (c.base, c.base_ytd) == (Decimal("17903.24"), Decimal("17903.24"))


def test_the_plan_document_and_the_columnar_engine():
    md = to_markdown(build(PLAN_CHECKED, results=[]))
    assert "## Base salary and target incentive" in md
    assert "Base salary: 90,000 USD per year for role AE, from 2027-01-01 to 2027-06-15." in md
    assert "paid by payroll, not by this plan" in md
    reason = not_covered(PLAN_CHECKED)
    assert reason is not None and "compensation block" in reason.feature


# ------------------------------------------------------------------------------ additivity

PROPERTY_PLAN = _plan(HEADER + """
fields
  payee.base_salary money

compensation
  base salary payee.base_salary per year for role AE
  base salary 30,000 USD per quarter for role SE from 2027-01-01 to 2027-05-16
  base salary 31,000 USD per quarter for role SE from 2027-05-17
  target incentive 40% of base_salary per month for role AE, SE
""")
DAYS_2027 = st.integers(0, 364).map(lambda n: D(2027, 1, 1) + dt.timedelta(days=n))


@st.composite
def histories(draw):
    """A payee's roster rows: hired (maybe before 2027), maybe leaving, with raises and role
    changes on random days."""
    start = draw(st.one_of(st.just(D(2026, 7, 1)), DAYS_2027))
    end = draw(st.one_of(st.none(), DAYS_2027.filter(lambda d: d >= start)))
    changes = sorted(set(draw(st.lists(DAYS_2027.filter(lambda d: d > start), max_size=3))))
    rows = []
    for frm in [start, *changes]:
        salary = Decimal(draw(st.integers(30_000_00, 200_000_00))) / 100
        rows.append(_payee("p", draw(st.sampled_from(["AE", "SE"])), start, end, salary, frm))
    return rows


@given(histories(), DAYS_2027)
def test_amounts_add_up_over_months_quarters_and_the_year(rows, cut):
    engine = _engine(PROPERTY_PLAN, rows)
    cal = PROPERTY_PLAN.calendar
    year = cal.period_of(D(2027, 1, 1), "year")
    for kind in ("base salary", "target incentive"):
        whole = engine.compensation(kind, "p", year.start, year.end)
        months = sum((engine.compensation(kind, "p", m.start, m.end) for m in year.months()),
                     Fraction(0))
        quarters = sum((engine.compensation(kind, "p", q.start, q.end)
                        for q in cal.periods(year.start, year.end, "quarter")), Fraction(0))
        assert months == quarters == whole
        split = engine.compensation(kind, "p", year.start, cut) + engine.compensation(
            kind, "p", cut + dt.timedelta(days=1), year.end)
        assert split == whole
    total = engine.compensation_total("target_total_compensation", ("p",), year)
    assert total == engine.compensation_total("base_salary", ("p",), year) + \
        engine.compensation_total("target_incentive", ("p",), year)


@given(st.integers(1, 500_000_00))
def test_a_full_year_at_one_rate_is_exactly_the_yearly_amount(cents):
    salary = Decimal(cents) / 100
    engine = _engine(PROPERTY_PLAN, [_payee("p", "AE", D(2025, 3, 1), salary=salary)])
    year = Period(D(2027, 1, 1), D(2027, 12, 31), "year", "2027")
    assert engine.compensation("base salary", "p", year.start, year.end) == salary
    assert engine.compensation("target incentive", "p", year.start, year.end) == \
        Fraction(salary) * Fraction(2, 5)  # 40% of a twelfth, every month


def test_a_plan_diff_names_changed_compensation_lines():
    new = _plan(PLAN.replace("target incentive 60,000 USD per year for role AE",
                             "target incentive 66,000 USD per year for role AE"))
    changes = api.diff_plans(PLAN_CHECKED, new).changes
    assert [c.text for c in changes] == [
        "compensation: target incentive 60,000 USD per year for role AE → target incentive "
        "66,000 USD per year for role AE"]


def test_versions_count_their_own_days_and_a_statement_adds_them():
    def version(effective: str, salary: str) -> str:
        return f"""plan "Versions"
  currency USD
  effective {effective}
  roles AE

compensation
  base salary {salary} USD per year
"""
    texts = [version("2027-01-01 to 2027-02-14", "84,000"), version("2027-02-15 to 2027-12-31",
                                                                    "96,000")]
    plans, diags = check_trees([(parse_text(f"v{i}.plan", t).tree, t)
                                for i, t in enumerate(texts)])
    assert len(plans) == 2, [str(d) for d in diags if d.is_error]
    result = api.run(plans, Dataset(events=(), payees=(_payee("ana", "AE", D(2026, 1, 1)),)))
    feb = next(s for s in result.statements if s.pay_period == "2027-02")
    assert feb.base_salary == Decimal("7500.00")  # 7,000 × 14 / 28 + 8,000 × 14 / 28
