"""What `incentive check` asks of an example's dates and currencies (E-EXAMPLE-DATE,
E-EXAMPLE-FX) beyond the golden corpus: the events and amounts the example's run does read
are not reported."""

from __future__ import annotations

from incentive_dsl import api

HALF_YEAR = """\
plan "Second half"
  currency USD
  effective {effective}
  roles AE
  {fx}

credit bookings "Bookings"
  on deal booked
  split as recorded

commission core "Core"
  on bookings
  rate 8%

example "Worked"
  payee ana role AE from 2027-01-01
{lines}
"""


def codes(tmp_path, lines: str, effective: str = "2027-07-01 to 2027-12-31",
          fx: str = "") -> list[tuple[str, int]]:
    path = tmp_path / "p.plan"
    path.write_text(HALF_YEAR.format(effective=effective, fx=fx, lines=lines), encoding="utf-8")
    return [(d.code, d.span.line) for d in api.check_paths([str(path)]).diagnostics]


def test_an_event_inside_an_expected_period_is_read(tmp_path):
    # Credit is kept for every event: the year's credit includes March, before the plan.
    assert codes(tmp_path, "  deal D1 booked 2027-03-01 by ana amount 10 USD\n"
                           "  expect bookings for ana in 2027 is 10 USD") == []
    assert codes(tmp_path, "  deal D1 booked 2027-03-01 by ana amount 10 USD\n"
                           "  expect bookings for ana in 2027-Q3 is 0 USD") == [
        ("E-EXAMPLE-DATE", 17)]


def test_an_event_after_the_plan_is_read_only_inside_an_expected_period(tmp_path):
    within = "2027-01-01 to 2027-06-30"
    assert codes(tmp_path, "  deal D1 booked 2027-09-01 by ana amount 10 USD\n"
                           "  expect bookings for ana in 2027 is 10 USD", within) == []
    assert codes(tmp_path, "  deal D1 booked 2027-09-01 by ana amount 10 USD\n"
                           "  expect core for ana in 2027-Q1 is 0 USD", within) == [
        ("E-EXAMPLE-DATE", 17)]


def test_a_rate_is_needed_on_the_day_of_conversion(tmp_path):
    lines = ("  fx 1 EUR is 1.08 USD from 2027-08-20\n"
             "  deal D1 booked 2027-08-10 by ana amount 10 EUR\n"
             "  expect core for ana in 2027-Q3 is 0.86 USD")
    assert codes(tmp_path, lines) == [("E-EXAMPLE-FX", 18)]
    # Converted at the rate of the month's last day, which the line is in force on.
    assert codes(tmp_path, lines, fx="convert currencies at rate on period end") == []
