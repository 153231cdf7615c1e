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


EUROS = '''plan "Omnichannel"
  currency EUR
  effective 2027-01-01 to 2027-12-31
  roles AE

credit bookings "Bookings"
  on deal booked

commission core "Core"
  on bookings
  rate 8%

example "A deal in dollars without a rate"
  payee ana role AE from 2027-01-01
  deal D1 booked 2027-01-20 by ana amount 10,000 USD
  expect core for ana in 2027-01 is 800 EUR
  expect paid for ana in 2027-01 is 800 EUR
'''


def test_a_run_stopped_by_missing_data_says_so(tmp_path, capsys):
    """The run's error is shown with its code and hint, and the expectations say nothing was
    computed, not that nothing was earned or paid."""
    path = tmp_path / "euros.plan"
    path.write_text(EUROS, encoding="utf-8")
    assert cli.main(["test", str(path)]) == cli.EXIT_PROBLEMS
    out = capsys.readouterr().out
    assert out == f"""FAILED {path}:13 Omnichannel / A deal in dollars without a rate
       {path}:15:1: error[E-DATA]: no USD->EUR rate on or before 2027-01-20
         = hint: add the missing rate to the FX table
       {path}:16:3: expect core for ana in 2027-01 is 800 EUR
         expected 800.00 EUR, got 0.00 EUR (difference -800.00 EUR)
         nothing was computed: the run stopped at the error above
       {path}:17:3: expect paid for ana in 2027-01 is 800 EUR
         expected 800.00 EUR, got 0.00 EUR (difference -800.00 EUR)
         nothing was computed: the run stopped at the error above

0 passed, 1 failed
"""
