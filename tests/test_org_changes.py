"""Org changes mid-period, worked by hand: team measures, overrides, pools and roll-ups follow
the roster's effective dates line by line, and a payee field is read as it stood on the line's
date.

The world of the worked examples: managers mia and max (MGR), reps ana (always under mia) and
bob, who reports to mia until 2027-02-14 and to max from 2027-02-15 (a second roster row, as
in roster.csv). Quotas are 300,000 USD per quarter per AE, with no proration (100,000 a month).
The same world is the worked example of tests/mechanics/org_change.plan; here it is written as
data, with what an example cannot say (a custom payee field, `rate payee.rate`), the team
members' stretches of days, and a property over random moves.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings, strategies as st

from incentive_dsl.check import check_trees
from incentive_dsl.data.records import Dataset, Event, PayeeRecord
from incentive_dsl.eval.money import round_money
from incentive_dsl.eval.run import evaluate
from incentive_dsl.syntax import parse_text

D = dt.date
MOVE = D(2027, 2, 15)

PLAN = """\
plan "Org changes"
  currency USD
  effective 2027-01-01 to 2027-12-31
  roles AE, MGR, VP
  rounding half even per line

fields
  payee.rate percent

quota bookings "Bookings quota"
  300,000 USD per quarter for role AE
  no proration

credit bookings "Bookings"
  on deal booked

credit rolled "Rolled-up bookings"
  on deal booked
  roll up to managers

measure attainment = bookings / quota bookings
measure commission_earned = own

commission own "Own commission"
  for role AE
  on bookings
  rate payee.rate

override mgr "Manager override"
  for role MGR
  pay 2% of team bookings per quarter

override gated "Override above 50% of the team quota"
  for role MGR
  pay 1% of team bookings per quarter
  when team attainment >= 50%

override on_own "Override on the team's commission"
  for role MGR
  pay 10% of team commission_earned per quarter

pool by_credit "Pool shared by bookings"
  for role AE
  fund 1% of team bookings per quarter
  share by bookings

pool equal "Pool shared equally"
  for role AE
  fund 3,000 USD per quarter
  share equally
"""


def _plan():
    (plan,), diags = check_trees([(parse_text("org.plan", PLAN).tree, PLAN)])
    assert not [d for d in diags if d.is_error], [str(d) for d in diags]
    return plan


def _payee(pid, role, manager=None, start=D(2027, 1, 1), since=None, rate="5%", vp=None):
    return PayeeRecord(id=pid, role=role, start=start, manager=manager, effective_from=since,
                       fields=(("rate", Decimal(rate.rstrip("%")) / 100),))


def _deal(deal, day, owner, amount):
    return Event(id=f"{deal}-booked", deal=deal, date=day, kind="booked",
                 amount=Decimal(amount), currency="USD", owner=owner)


ROSTER = (
    _payee("vic", "VP"),
    _payee("mia", "MGR", "vic"),
    _payee("max", "MGR", "vic"),
    _payee("ana", "AE", "mia"),
    _payee("bob", "AE", "mia"),
    _payee("bob", "AE", "max", since=MOVE),
)
DEALS = (
    _deal("D1", D(2027, 1, 20), "bob", 60_000),    # bob under mia
    _deal("D2", D(2027, 2, 14), "bob", 40_000),    # bob's last day under mia
    _deal("D3", D(2027, 2, 15), "bob", 100_000),   # bob's first day under max
    _deal("D4", D(2027, 3, 10), "bob", 50_000),    # under max
    _deal("D5", D(2027, 2, 20), "ana", 200_000),   # ana, always under mia
)


def _run(payees=ROSTER, events=DEALS):
    result = evaluate(_plan(), Dataset(events=events, payees=payees))
    assert result.ok, [str(d) for d in result.diagnostics]
    return result


def _earned(result, component, payee, period="2027-Q1"):
    cal = result.plan.calendar.parse(period)
    return sum((ln.amount for ln in result.earnings if ln.component == component
                and ln.payee == payee and cal.contains(ln.date)), Decimal(0))


def _measure(result, name, payee, period="2027-Q1"):
    return result.engine.measure(name, payee, result.plan.calendar.parse(period))


def test_override_follows_the_move_line_by_line():
    r = _run()
    # mia: ana's 200,000 + bob's D1 60,000 + D2 40,000 (up to 2027-02-14) = 300,000; 2% = 6,000
    assert _earned(r, "mgr", "mia") == Decimal("6000")
    # max: bob's D3 100,000 + D4 50,000 (from 2027-02-15) = 150,000; 2% = 3,000
    assert _earned(r, "mgr", "max") == Decimal("3000")
    # Counted whole in both teams, bob's 250,000 would pay 5,000 twice: 9,000 + 3,000 = 12,000
    # instead of 2% of the 450,000 booked = 9,000.
    assert _earned(r, "mgr", "mia") + _earned(r, "mgr", "max") == Decimal("9000")


def test_team_quota_is_split_by_days_in_the_team():
    r = _run()
    # bob's quota: 100,000 a month. mia has him for January and 14 of February's 28 days:
    # 100,000 + 50,000; max for the other 14 days and March: 50,000 + 100,000.
    # mia's team: ana 300,000 + bob 150,000 = 450,000 of quota, 300,000 booked: 66.6…%
    assert _earned(r, "gated", "mia") == Decimal("3000")  # 1% of 300,000
    # max's team: bob 150,000 of quota, 150,000 booked: exactly 100%
    assert _earned(r, "gated", "max") == Decimal("1500")  # 1% of 150,000


def test_team_attainment_before_and_after_the_move():
    r = _run()
    q1 = r.plan.calendar.parse("2027-Q1")
    engine = r.engine
    mia_team, max_team = engine.team("mia", q1), engine.team("max", q1)
    assert [(m.id, m.start, m.end) for m in mia_team] == [
        ("ana", D(2027, 1, 1), D(2027, 3, 31)), ("bob", D(2027, 1, 1), D(2027, 2, 14))]
    assert [(m.id, m.start, m.end) for m in max_team] == [("bob", MOVE, D(2027, 3, 31))]
    assert engine.quota_total("bookings", mia_team, q1) == Decimal("450000")
    assert engine.quota_total("bookings", max_team, q1) == Decimal("150000")
    assert engine.credit_total("bookings", max_team, q1, None) == Decimal("150000")


def test_override_on_the_teams_earnings_follows_the_move():
    r = _run()
    # bob earns 5% of each deal: D1 3,000, D2 2,000 under mia; D3 5,000, D4 2,500 under max.
    # ana earns 5% of 200,000 = 10,000 under mia.
    assert _earned(r, "on_own", "mia") == Decimal("1500")  # 10% of (10,000 + 3,000 + 2,000)
    assert _earned(r, "on_own", "max") == Decimal("750")   # 10% of (5,000 + 2,500)


def test_pool_shares_follow_the_move():
    r = _run()
    # mia's pool: 1% of 300,000 = 3,000, shared by bookings in her team: ana 200,000, bob
    # 100,000 (D1 and D2): 2,000 and 1,000. max's pool: 1% of 150,000 = 1,500, all bob's.
    assert _earned(r, "by_credit", "ana") == Decimal("2000")
    assert _earned(r, "by_credit", "bob") == Decimal("2500")  # 1,000 from mia's + 1,500 max's
    # The equal pool of 3,000 per team: bob was in mia's team 45 of his 90 days (Jan 31 +
    # Feb 14), in max's the other 45. mia's 3,000 goes ana 1 : bob 1/2 = 2,000 and 1,000;
    # max's 3,000 is all bob's (his only member).
    assert _earned(r, "equal", "ana") == Decimal("2000")
    assert _earned(r, "equal", "bob") == Decimal("4000")
    assert sum(_earned(r, "equal", p) for p in ("ana", "bob")) == Decimal("6000")


def test_roll_up_goes_to_the_manager_of_the_day():
    r = _run()
    # rolled credit: each deal to its owner and every manager above them on its date.
    assert _measure(r, "rolled", "mia") == Decimal("300000")  # ana 200,000 + D1 + D2
    assert _measure(r, "rolled", "max") == Decimal("150000")  # D3 + D4
    assert _measure(r, "rolled", "vic") == Decimal("450000")  # above both managers


def test_a_rate_read_from_the_roster_is_the_one_in_force_on_the_deal_date():
    # bob's rate goes from 5% to 7% on 2027-02-15 (the same row that moves him to max).
    payees = ROSTER[:-1] + (_payee("bob", "AE", "max", since=MOVE, rate="7%"),)
    r = _run(payees)
    # D1 60,000 and D2 40,000 at 5% = 5,000; D3 100,000 and D4 50,000 at 7% = 10,500
    assert _earned(r, "own", "bob", "2027-01") == Decimal("3000")
    assert _earned(r, "own", "bob", "2027-02") == Decimal("2000") + Decimal("7000")
    assert _earned(r, "own", "bob", "2027-03") == Decimal("3500")


def test_a_rate_change_mid_month_splits_the_month():
    # A change on 2027-01-16 with no move: deals on the 15th and the 16th earn 5% and 7%.
    payees = (_payee("ana", "AE"), _payee("ana", "AE", since=D(2027, 1, 16), rate="7%"))
    events = (_deal("D1", D(2027, 1, 15), "ana", 10_000), _deal("D2", D(2027, 1, 16), "ana",
                                                                10_000))
    r = _run(payees, events)
    lines = {ln.deal: ln.amount for ln in r.earnings if ln.component == "own"}
    assert lines == {"D1": Decimal("500"), "D2": Decimal("700")}


# ---------------------------------------------------------------------- property

REPS = ("r1", "r2", "r3")
MANAGERS = ("m1", "m2", "m3")
Q1_DAYS = [D(2027, 1, 1) + dt.timedelta(days=i) for i in range(90)]


@st.composite
def _orgs(draw):
    """Reps who move between managers on random days of the quarter, and random deals."""
    payees = [_payee(m, "MGR", "vic") for m in MANAGERS] + [_payee("vic", "VP")]
    for rep in REPS:
        days = sorted(set(draw(st.lists(st.sampled_from(Q1_DAYS[1:]), max_size=3))))
        payees.append(_payee(rep, "AE", draw(st.sampled_from(MANAGERS))))
        for day in days:
            payees.append(_payee(rep, "AE", draw(st.sampled_from(MANAGERS)), since=day))
    deals = draw(st.lists(st.tuples(st.sampled_from(Q1_DAYS), st.sampled_from(REPS),
                                    st.integers(1, 10 ** 7)), max_size=8))
    events = tuple(_deal(f"D{i}", day, rep, Decimal(cents) / 100)
                   for i, (day, rep, cents) in enumerate(deals))
    return tuple(payees), events


@settings(max_examples=25, deadline=None)
@given(_orgs())
def test_moves_never_change_the_total_over_all_managers(org):
    payees, events = org
    r = _run(payees, events)
    q1 = r.plan.calendar.parse("2027-Q1")
    engine = r.engine
    booked = sum((e.amount for e in events), Decimal(0))
    teams = [engine.team(m, q1) for m in MANAGERS]
    # Every credit line counts for exactly one manager: the one of its date.
    assert sum(engine.credit_total("bookings", t, q1, None) for t in teams) == booked
    # Every day of every rep's quota counts for exactly one manager (each team's quota is an
    # exact fraction: 100,000 × 20/31 does not end, and the teams add up to exactly 900,000).
    quotas = sum((Fraction(engine.quota_total("bookings", t, q1)) for t in teams), Fraction(0))
    assert quotas == 900_000
    # The override is 2% of each team's bookings, rounded per line: the managers share what
    # was booked, and each is paid 2% of their part.
    for m, t in zip(MANAGERS, teams):
        part = engine.credit_total("bookings", t, q1, None)
        assert _earned(r, "mgr", m) == round_money(part * Decimal("0.02"), "USD")
    # The roll-up gives each manager what the team measure counts.
    for m, t in zip(MANAGERS, teams):
        assert engine.measure("rolled", m, q1) == engine.credit_total("bookings", t, q1, None)
