"""Pay periods shorter than a month: semi-monthly (1st-15th, 16th-end) and bi-weekly
(fortnights counted from a stated day), and rules that reset on them (`per pay period`).

The calendar is checked against its definition (contiguous, every day in exactly one period,
labels that name their period); a pay period's quota against an independent day-by-day
rational sum; evaluation, the ledger and the command line on worked examples."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings, strategies as st

from incentive_dsl import cli
from incentive_dsl.check import check_trees
from incentive_dsl.data.records import Dataset, Event, PayeeRecord
from incentive_dsl.eval.run import evaluate
from incentive_dsl.periods import Calendar, month_end
from incentive_dsl.syntax import parse_text

D = dt.date
ONE_DAY = dt.timedelta(days=1)


def _plan(frequency: str = "biweekly from 2027-01-04", quota: str = "93,000 USD per quarter",
          proration: str = "prorate by active days"):
    text = f"""\
plan "Pay periods"
  currency USD
  effective 2027-01-01 to 2027-12-31
  roles AE
  rounding half even per line

quota bookings "Bookings quota"
  {quota}
  {proration}

credit bookings "Bookings"
  on deal booked

measure attainment = bookings / quota bookings

commission core "Core commission"
  on bookings
  marginal rates by attainment per pay period
    from 0% to 100% at 5%
    from 100% at 8%
  cap 2,000 USD per pay period

payout
  paid {frequency}
"""
    (plan,), diags = check_trees([(parse_text("pay.plan", text).tree, text)])
    assert not [d for d in diags if d.is_error], [str(d) for d in diags]
    return plan


def _deal(deal: str, day: dt.date, amount: int, owner: str = "ana") -> Event:
    return Event(id=f"{deal}-booked", deal=deal, date=day, kind="booked",
                 amount=Decimal(amount), currency="USD", owner=owner)


def _run(plan, events, start=D(2027, 1, 1), end=None):
    payees = (PayeeRecord(id="ana", role="AE", start=start, end=end),)
    result = evaluate(plan, Dataset(events=tuple(events), payees=payees))
    assert result.ok, [str(d) for d in result.diagnostics]
    return result


# ------------------------------------------------------------------ the calendar

def test_semimonthly_periods_and_labels():
    cal = Calendar(pay_unit="semimonth")
    year = cal.periods(D(2027, 1, 1), D(2027, 12, 31), "semimonth")
    assert len(year) == 24
    assert [p.label for p in year[2:4]] == ["2027-02-01/15", "2027-02-16/28"]
    assert cal.parse("2028-02-16/29").end == D(2028, 2, 29)  # a leap year's February
    assert cal.parse("2027-02-16/30") is None and cal.parse("2027-02-02/15") is None
    # A calendar paid monthly names no half-month.
    assert Calendar().parse("2027-02-01/15") is None


def test_biweekly_periods_are_counted_from_the_stated_day_both_ways():
    cal = Calendar(pay_unit="biweek", pay_start=D(2027, 1, 4))
    assert cal.period_of(D(2027, 1, 3), "biweek").label == "2026-12-21/2027-01-03"
    assert cal.period_of(D(2027, 1, 30), "biweek").label == "2027-01-18/31"
    assert cal.period_of(D(2027, 3, 30), "biweek").label == "2027-03-29/04-11"
    assert cal.parse("2027-03-29/04-11").start == D(2027, 3, 29)
    assert cal.parse("2027-03-29/2027-04-11") == cal.parse("2027-03-29/04-11")  # end in full
    assert cal.parse("2027-03-29/2027-04-12") is None
    assert cal.parse("2027-03-30/04-12") is None  # not one of this calendar's fortnights
    assert cal.examples("2027", D(2027, 1, 1)).startswith("2026-12-21/2027-01-03, ")
    # A wrong pay period is answered with the one holding its first day.
    assert cal.examples("2027-03-03/16", D(2027, 1, 1)).startswith("2027-03-01/14, ")


@settings(max_examples=60, deadline=None)
@given(anchor=st.dates(D(2020, 1, 1), D(2030, 12, 31)),
       start=st.dates(D(2024, 1, 1), D(2028, 12, 31)), days=st.integers(1, 800),
       unit=st.sampled_from(["biweek", "semimonth"]))
def test_pay_periods_partition_the_days_and_name_themselves(anchor, start, days, unit):
    cal = Calendar(pay_unit=unit, pay_start=anchor if unit == "biweek" else None)
    end = start + dt.timedelta(days=days)
    periods = cal.periods(start, end, unit)
    assert periods[0].contains(start) and periods[-1].contains(end)
    for a, b in zip(periods, periods[1:]):
        assert b.start == a.end + ONE_DAY  # contiguous: no day twice, no day missing
    for p in periods:
        assert cal.parse(p.label) == p
        assert sum(share * m.days for m, share in p.month_shares()) == p.days
        if unit == "biweek":
            assert p.days == 14 and (p.start - anchor).days % 14 == 0
        else:
            assert p.start.day in (1, 16) and p.end in (D(p.start.year, p.start.month, 15),
                                                         month_end(p.start.year, p.start.month))


# ------------------------------------------------------------------ quotas of pay periods

def _daily_quota(quarterly: Fraction, day: dt.date) -> Fraction:
    """An independent statement of the rule: a month is a third of the quarter, spread evenly
    over the month's days."""
    return quarterly / 3 / month_end(day.year, day.month).day


@settings(max_examples=25, deadline=None)
@given(anchor=st.dates(D(2026, 12, 1), D(2027, 1, 31)),
       hired=st.dates(D(2026, 12, 1), D(2027, 11, 30)), amount=st.integers(1, 10 ** 7))
def test_a_pay_periods_quota_is_the_sum_of_its_days(anchor, hired, amount):
    plan = _plan(f"biweekly from {anchor}", f"{amount:,} USD per quarter")
    result = _run(plan, [], start=hired)
    cal, engine = plan.calendar, result.engine
    for p in cal.periods(D(2027, 1, 1), D(2027, 12, 31), "biweek"):
        # Days employed and inside the plan (2027): a plan's first and last fortnights are not
        # measured against the days outside it.
        expected, day = Fraction(0), max(p.start, hired, D(2027, 1, 1))
        while day <= min(p.end, D(2027, 12, 31)):
            expected += _daily_quota(Fraction(amount), day)
            day += ONE_DAY
        assert Fraction(engine.quota_total("bookings", ("ana",), p)) == expected, p.label


def test_the_half_months_of_a_year_add_up_to_the_years_quota():
    plan = _plan("semimonthly", "100,000 USD per quarter")
    engine = _run(plan, []).engine
    halves = plan.calendar.periods(D(2027, 1, 1), D(2027, 12, 31), "semimonth")
    total = sum(Fraction(engine.quota_total("bookings", ("ana",), p)) for p in halves)
    assert total == 400_000


def test_without_proration_a_hire_gets_the_months_quota_over_their_days():
    plan = _plan("semimonthly", "90,000 USD per quarter", proration="no proration")
    engine = _run(plan, [], start=D(2027, 1, 10)).engine
    first, second = plan.calendar.periods(D(2027, 1, 1), D(2027, 1, 31), "semimonth")
    # 30,000 for January, employed 22 days: 6 of them in the first half, 16 in the second.
    assert Fraction(engine.quota_total("bookings", ("ana",), first)) == Fraction(30_000 * 6, 22)
    assert Fraction(engine.quota_total("bookings", ("ana",), second)) == \
        Fraction(30_000 * 16, 22)


# ------------------------------------------------------------------ rules per pay period

def test_tiers_start_again_every_fortnight():
    plan = _plan()
    result = _run(plan, [_deal("D1", D(2027, 1, 5), 20_000), _deal("D2", D(2027, 1, 20), 7_000)])
    lines = {ln.deal: ln for ln in result.earnings if ln.kind == "commission"}
    # Quota for 2027-01-04/17: 31,000 × 14/31 = 14,000; D1: 14,000 × 5% + 6,000 × 8%.
    assert lines["D1"].amount == Decimal("1180.00")
    # 2027-01-18/31 starts at the bottom tier again.
    assert lines["D2"].amount == Decimal("350.00")
    assert {s.pay_period for s in result.statements if s.paid} == {"2027-01-04/17",
                                                                   "2027-01-18/31"}


def test_a_cap_per_pay_period_resets_each_pay_period():
    plan = _plan("semimonthly")
    deals = [_deal("D1", D(2027, 3, 2), 60_000), _deal("D2", D(2027, 3, 14), 10_000),
             _deal("D3", D(2027, 3, 16), 10_000)]
    result = _run(plan, deals)
    paid = {s.pay_period: s.paid for s in result.statements if s.paid}
    assert paid == {"2027-03-01/15": Decimal("2000.00"), "2027-03-16/31": Decimal("500.00")}
    capped = [ln for ln in result.earnings if ln.kind == "capped"]
    assert {ln.deal for ln in capped} == {"D1", "D2"}
    assert "per pay period (2027-03-01/15)" in capped[0].trace.because


def test_a_whole_year_has_one_statement_per_pay_period():
    for frequency, count in (("semimonthly", 24), ("biweekly from 2027-01-04", 27)):
        result = _run(_plan(frequency), [_deal("D1", D(2027, 6, 1), 1_000)])
        assert len({s.pay_period for s in result.statements}) == count, frequency


# ------------------------------------------------------------------ the command line

PLAN_FILE = "plans/inside_sales_biweekly.plan"


class _Out:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.returncode, self.stdout, self.stderr = code, out, err


def _cli(capsys, *args):
    capsys.readouterr()
    code = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return _Out(code, out, err)


def test_run_accepts_a_pay_period_label_and_explains_a_wrong_one(tmp_path, capsys):
    from shipped import ROOT
    ok = _cli(capsys, "run", str(ROOT / PLAN_FILE), "--data", str(ROOT / "plans/data"),
              "--period", "2027-03-01/14", "--format", "csv")
    assert ok.returncode == 0, ok.stderr
    assert "2027-03-01/14" in ok.stdout
    bad = _cli(capsys, "run", str(ROOT / PLAN_FILE), "--data", str(ROOT / "plans/data"),
               "--period", "2027-03-01/15")
    assert bad.returncode == 2
    assert "'2027-03-01/15' is not a period (e.g. 2027-03-01/14, 2027-Q1" in bad.stderr


def test_the_ledger_refuses_fortnights_counted_from_another_day(tmp_path, capsys):
    from shipped import ROOT
    plan = tmp_path / "p.plan"
    plan.write_text((ROOT / PLAN_FILE).read_text())
    ledger = str(tmp_path / "ledger.db")
    data = str(ROOT / "plans/data")
    first = _cli(capsys, "close", "2026-12-21/2027-01-03", plan, "--data", data,
                 "--ledger", ledger, "--early")  # the data's 2027 is after today
    assert first.returncode == 0, first.stderr
    plan.write_text(plan.read_text().replace("from 2027-01-04", "from 2027-01-11"))
    moved = _cli(capsys, "close", "2027-01-11/24", plan, "--data", data, "--ledger", ledger,
                 "--early")
    assert moved.returncode == 4  # the ledger refuses: docs/ledger.md, exit codes
    assert "error[E-LEDGER-PLAN]" in moved.stderr
    assert "are now counted from 2027-01-11" in moved.stderr


def test_diff_shows_a_moved_pay_calendar(tmp_path, capsys):
    from shipped import ROOT
    new = tmp_path / "new.plan"
    new.write_text((ROOT / PLAN_FILE).read_text().replace("from 2027-01-04", "from 2027-01-11"))
    out = _cli(capsys, "diff", str(ROOT / PLAN_FILE), str(new))
    assert "paid biweekly from 2027-01-04" in out.stdout and \
        "paid biweekly from 2027-01-11" in out.stdout, out.stdout + out.stderr


def test_the_plan_document_says_how_often_pay_comes():
    # tests/test_document.py keeps the committed document equal to the generated one.
    from shipped import ROOT
    doc = (ROOT / "plans/documents/inside_sales_biweekly.md").read_text()
    assert "You are paid every two weeks, for the fortnights counted from 2027-01-04." in doc
    assert "tier of attainment per pay period (two weeks)" in doc


def test_a_report_window_holds_the_pay_periods_that_end_in_it():
    from incentive_dsl import api
    plan = _plan()
    deals = [_deal("D1", D(2027, 3, 30), 1_000), _deal("D2", D(2027, 1, 2), 1_000)]
    result = _run(plan, deals)
    q1, q2 = (api.window(plan, q) for q in ("2027-Q1", "2027-Q2"))
    # 2026-12-21/2027-01-03 ends in Q1; 2027-03-29/04-11 ends in Q2, so D1 is Q2's.
    assert (q1.start, q1.end) == (D(2026, 12, 21), D(2027, 3, 28))
    assert (q2.start, q2.end) == (D(2027, 3, 29), D(2027, 6, 20))
    assert q1.label == "2027-Q1, pay periods 2026-12-21/2027-01-03 to 2027-03-15/28"
    quarters = [api.window(plan, f"2027-Q{i}") for i in range(1, 5)]
    for a, b in zip(quarters, quarters[1:]):
        assert b.start == a.end + ONE_DAY  # the quarters share no pay period
    year = api.window(plan, "2027")
    assert (year.start, year.end) == (quarters[0].start, quarters[-1].end)
    whole = api.window(plan, None, plan.effective_start, plan.effective_end, overlap=True)
    assert whole.end == D(2028, 1, 2)  # the plan's last fortnight is in its whole range
    assert [s.earned for s in result.statements if s.paid and q2.contains(s.start)] == \
        [Decimal("50.00")]
