"""What `incentive test` prints for a failed expectation: where the money went, never a
heading over an empty list."""

from incentive_dsl import cli

PLAN = '''plan "Paid later"
  currency USD
  effective 2027-01-01 to 2027-12-31
  roles AE

credit bookings "Bookings"
  on deal booked

commission core "Core"
  on bookings
  rate 8%

payout
  paid monthly
  50% when booked, 50% when collected

example "Paid in the month it is booked"
  payee ana role AE from 2027-01-01
  payee bob role AE from 2027-01-01
  deal D1 booked 2027-02-10 by ana amount 100,000 USD
  expect paid for ana in 2027-03 is 4,000 USD
  expect paid for bob in 2027-Q1 is 1 USD
  expect core for ana in 2027-Q2 is 1 USD
'''


def test_a_failed_expectation_says_where_the_money_went(tmp_path, capsys):
    path = tmp_path / "paid.plan"
    path.write_text(PLAN, encoding="utf-8")
    assert cli.main(["test", str(path)]) == cli.EXIT_PROBLEMS
    out = capsys.readouterr().out
    assert out == f"""FAILED {path}:17 Paid later / Paid in the month it is booked
       {path}:21:3: expect paid for ana in 2027-03 is 4,000 USD
         expected 4,000.00 USD, got 0.00 USD (difference -4,000.00 USD)
         paid to ana: 4,000.00 USD in 2027-02, 4,000.00 USD awaiting collection
       {path}:22:3: expect paid for bob in 2027-Q1 is 1 USD
         expected 1.00 USD, got 0.00 USD (difference -1.00 USD)
         nothing was paid to bob in any pay period
       {path}:23:3: expect core for ana in 2027-Q2 is 1 USD
         expected 1.00 USD, got 0.00 USD (difference -1.00 USD)
         nothing was earned

0 passed, 1 failed
"""


TOO_LARGE = '''plan "Omnichannel"
  currency EUR
  effective 2027-01-01 to 2027-12-31
  roles AE

credit bookings "Bookings"
  on deal booked
  value deal.amount * 1,000,000,000,000

commission core "Core"
  on bookings
  rate 8%

example "A deal too large to compute with"
  payee ana role AE from 2027-01-01
  deal D1 booked 2027-01-20 by ana amount 10,000,000,000,000 EUR
  expect core for ana in 2027-01 is 800 EUR
  expect paid for ana in 2027-01 is 800 EUR
'''


def test_a_run_stopped_by_missing_data_says_so(tmp_path, capsys):
    """The run's error is shown with its code and hint, and the expectations say nothing was
    computed, not that nothing was earned or paid. (A missing FX rate no longer gets this far:
    the checker reports it, E-EXAMPLE-FX; a value beyond the computing limit still does.)"""
    path = tmp_path / "too_large.plan"
    path.write_text(TOO_LARGE, encoding="utf-8")
    assert cli.main(["test", str(path)]) == cli.EXIT_PROBLEMS
    out = capsys.readouterr().out
    assert out == f"""FAILED {path}:14 Omnichannel / A deal too large to compute with
       {path}:8:9: error[E-DATA]: 'deal.amount * 1,000,000,000,000' comes to 1.000E+25, beyond the largest value a plan may compute (10^24) (on {path}:16)
         = hint: check the data this expression reads (amounts, quotas, FX rates), or divide it down
       {path}:17:3: expect core for ana in 2027-01 is 800 EUR
         expected 800.00 EUR, got 0.00 EUR (difference -800.00 EUR)
         nothing was computed: the run stopped at the error above
       {path}:18:3: expect paid for ana in 2027-01 is 800 EUR
         expected 800.00 EUR, got 0.00 EUR (difference -800.00 EUR)
         nothing was computed: the run stopped at the error above

0 passed, 1 failed
"""
