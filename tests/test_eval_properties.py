"""Property tests of the interpreter (incentive_dsl.eval) on generated datasets.

Plans are small texts parsed and checked with the real front end (`plan_from_text`); datasets
are built directly from incentive_dsl.data.records. The properties come from
docs/language.md:

- money is conserved to the cent by splits (§9.3) and pools (§17);
- evaluation is deterministic and does not depend on the order of the input rows (§5.2);
- marginal commission is continuous and non-decreasing in the booked amount (§12.3);
- a retroactive table pays at least as much as the marginal table with the same rows when the
  rates increase (§12.3);
- clawing back every deal nets each payee's commission to zero (§19).

Sizes are bounded so that each test runs in a few seconds under the default (dev) profile.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import random
from collections import defaultdict
from decimal import Decimal

import attrs
import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from incentive_dsl.check import Plan, check_trees
from incentive_dsl.data.records import Dataset, Event, PayeeRecord
from incentive_dsl.eval.money import round_money
from incentive_dsl.eval.run import RunResult, evaluate
from incentive_dsl.syntax import parse_text

CENT = Decimal("0.01")
ZERO = Decimal(0)
YEAR_START = dt.date(2027, 1, 1)
YEAR_END = dt.date(2027, 12, 31)


# ------------------------------------------------------------------------------ helpers


@functools.lru_cache(maxsize=256)
def plan_from_text(text: str, path: str = "prop.plan") -> Plan:
    """The checked Plan of a plan text; fails the test on any syntax or check error."""
    parsed = parse_text(path, text)
    errors = [d for d in parsed.diagnostics if d.is_error]
    assert not errors, [f"{d.code}: {d.message}" for d in errors]
    plans, diags = check_trees([(parsed.tree, text)])
    errors = [d for d in diags if d.is_error]
    assert not errors, [f"{d.code} line {d.span.line}: {d.message}" for d in diags]
    assert len(plans) == 1
    return plans[0]


def header(name: str, *, rounding: str = "half even per line", roles: str = "AE, SE, MGR",
           extra: str = "") -> str:
    return (f'plan "{name}"\n  currency USD\n  effective 2027-01-01 to 2027-12-31\n'
            f"  roles {roles}\n  rounding {rounding}\n{extra}\n")


def payee(pid: str, role: str = "AE", manager: str | None = None) -> PayeeRecord:
    return PayeeRecord(id=pid, role=role, start=YEAR_START, manager=manager)


def booking(deal: str, day: dt.date, owner: str, amount: Decimal,
            splits: tuple[tuple[str, Decimal], ...] = ()) -> Event:
    return Event(id=f"{deal}-booked", deal=deal, date=day, kind="booked", amount=amount,
                 currency="USD", owner=owner, splits=splits)


def cancellation(deal: str, day: dt.date) -> Event:
    return Event(id=f"{deal}-cancelled", deal=deal, date=day, kind="cancelled")


def run(plan: Plan, events, payees, quotas=()) -> RunResult:
    events = sorted(events, key=Event.sort_key)
    result = evaluate(plan, Dataset(events=tuple(events), payees=tuple(payees),
                                    quotas=tuple(quotas)))
    assert result.ok, [f"{d.code}: {d.message}" for d in result.diagnostics]
    return result


def jsonable(result: RunResult) -> dict:
    """The content of a result, as JSON text per part (Decimals, dates and spans as str)."""
    return {part: json.dumps([attrs.asdict(x) for x in getattr(result, part)], default=str,
                             sort_keys=True)
            for part in ("credits", "earnings", "payouts", "statements")}


def earned(result: RunResult, component: str, payee_id: str | None = None) -> Decimal:
    return sum((ln.amount for ln in result.earnings if ln.component == component
                and (payee_id is None or ln.payee == payee_id)), ZERO)


# ------------------------------------------------------------------------------ strategies

PEOPLE = ("ana", "bob", "cy", "dan", "eve")
ROLE_OF = {"ana": "AE", "bob": "AE", "cy": "SE", "dan": "SE", "eve": "AE"}

def money(max_usd: int) -> st.SearchStrategy[Decimal]:
    """Positive amounts in whole cents up to `max_usd`."""
    return st.integers(min_value=1, max_value=max_usd * 100).map(lambda c: Decimal(c) * CENT)


cents = money(10_000_000)
days = st.integers(min_value=0, max_value=363).map(lambda d: YEAR_START + dt.timedelta(days=d))


@st.composite
def percentages(draw, count: int) -> list[Decimal]:
    """`count` positive percentages with up to two decimals (as fractions), totalling 100%."""
    basis = 10_000  # hundredths of a percent
    cuts = sorted(draw(st.lists(st.integers(1, basis - 1), min_size=count - 1,
                                max_size=count - 1, unique=True)))
    bounds = [0] + cuts + [basis]
    return [Decimal(b - a) / Decimal(basis) for a, b in zip(bounds, bounds[1:])]


@st.composite
def split_deals(draw, max_deals: int = 4):
    """Deals with random amounts in cents, owners and recorded splits totalling 100%."""
    deals = []
    for i in range(draw(st.integers(1, max_deals))):
        people = draw(st.lists(st.sampled_from(PEOPLE), min_size=1, max_size=len(PEOPLE),
                               unique=True))
        shares = draw(percentages(len(people)))
        owner = draw(st.sampled_from(people))
        deals.append(booking(f"D{i + 1}", draw(days), owner, draw(cents),
                             tuple(zip(people, shares))))
    return deals


# ------------------------------------------------------------------------------ splits

SPLIT_RULES = {
    "recorded": "split as recorded",
    "evenly": "split evenly",
}


@pytest.mark.parametrize("rule", ["recorded", "evenly", "by role"])
@given(deals=split_deals(), ae_share=st.integers(1, 99))
def test_split_money_is_conserved_to_the_cent(rule, deals, ae_share):
    line = SPLIT_RULES.get(rule) or f"split by role AE {ae_share}%, SE {100 - ae_share}%"
    plan = plan_from_text(header("Splits") + f"credit bookings\n  on deal booked\n  {line}\n\n"
                          "commission core\n  on bookings\n  rate 10%\n")
    result = run(plan, deals, [payee(p, ROLE_OF[p]) for p in PEOPLE])
    by_event: dict[str, list] = defaultdict(list)
    for c in result.credits:
        by_event[c.event].append(c)
    for deal in deals:
        lines = by_event[deal.id]
        assert all(c.amount == c.amount.quantize(CENT) for c in lines), lines
        assert sum((c.amount for c in lines), ZERO) == deal.amount, (deal, lines)
        if rule == "evenly":
            # equal shares: no two participants differ by more than one cent
            amounts = [c.amount for c in lines]
            assert len(amounts) == len(deal.splits)
            assert max(amounts) - min(amounts) <= CENT


@given(deals=split_deals())
def test_recorded_split_shares_are_within_a_cent_of_exact(deals):
    plan = plan_from_text(header("Splits") + "credit bookings\n  on deal booked\n"
                          "  split as recorded\n\ncommission core\n  on bookings\n  rate 10%\n")
    result = run(plan, deals, [payee(p, ROLE_OF[p]) for p in PEOPLE])
    for deal in deals:
        got = {c.payee: c.amount for c in result.credits if c.event == deal.id}
        for person, share in deal.splits:
            assert abs(got.get(person, ZERO) - deal.amount * share) < CENT, (deal, got)


# ------------------------------------------------------------------------------ pools

POOL_PLAN = """
quota bookings
  250,000 USD per quarter for role AE
  no proration

credit bookings
  on deal booked

measure attainment = bookings / quota bookings

pool equal
  for role AE
  fund {rate} of team bookings per quarter
  share equally

pool pro_rata
  for role AE
  fund {rate} of team bookings per quarter
  share by bookings
"""


@given(amounts=st.lists(st.tuples(st.sampled_from(("ana", "bob", "eve", "fay")), cents,
                                  st.integers(0, 89)), min_size=1, max_size=8),
       members=st.integers(1, 4),
       rate=st.sampled_from(["1%", "0.7%", "3.33%", "12.5%"]))
def test_pool_shares_sum_exactly_to_the_rounded_fund(amounts, members, rate):
    plan = plan_from_text(header("Pools") + POOL_PLAN.format(rate=rate))
    team = ("ana", "bob", "eve", "fay")[:members]
    payees = [payee("mia", "MGR")] + [payee(p, "AE", manager="mia") for p in team]
    events = [booking(f"D{i}", YEAR_START + dt.timedelta(days=d), who, amount)
              for i, (who, amount, d) in enumerate(amounts) if who in team]
    assume(events)
    result = run(plan, events, payees)
    fraction = Decimal(rate.rstrip("%")) / 100
    team_bookings = sum((e.amount for e in events), ZERO)  # all in 2027-Q1
    fund = round_money(team_bookings * fraction, "USD", "half even")
    for pool in ("equal", "pro_rata"):
        lines = [ln for ln in result.earnings if ln.component == pool]
        assert all(ln.amount == ln.amount.quantize(CENT) for ln in lines), lines
        assert {ln.payee for ln in lines} <= set(team)
        assert sum((ln.amount for ln in lines), ZERO) == fund, (pool, fund, lines)
    shares = sorted(ln.amount for ln in result.earnings if ln.component == "equal")
    if fund:
        assert shares[-1] - shares[0] <= CENT


# ------------------------------------------------------------------------------ order

ORDER_PLAN = """
quota bookings
  250,000 USD per quarter for role AE
  400,000 USD per quarter for role SE
  prorate by active days

credit bookings
  on deal booked
  split as recorded
  roll up to managers

measure attainment = bookings / quota bookings

commission core
  on bookings
  marginal rates by attainment per quarter
    from 0% to 100% at 8%
    from 100% to 150% at 12%
    from 150% at 15%
  cap 40,000 USD per quarter

commission retro
  on bookings
  retroactive rates by attainment per quarter
    from 0% to 100% at 2%
    from 100% at 3%

bonus club
  for role AE, SE
  step on attainment per quarter
    at 100% pay 1,000 USD

pool team_pool
  for role AE, SE
  fund 1% of team bookings per quarter
  share by bookings

clawback churn
  when deal cancelled within 30 days of booking
  reverse core, retro at original amounts

payout
  paid monthly
  hold back 10% for 1 month
  draw 1,000 USD per month recoverable from excess
"""


@given(deals=split_deals(max_deals=6), cancel=st.lists(st.booleans(), min_size=6, max_size=6),
       seed=st.integers(0, 2 ** 32))
def test_shuffling_the_input_rows_changes_no_result(deals, cancel, seed):
    plan = plan_from_text(header("Order") + ORDER_PLAN)
    payees = [payee("mia", "MGR")] + [payee(p, ROLE_OF[p], manager="mia") for p in PEOPLE]
    events = list(deals) + [cancellation(d.deal, min(d.date + dt.timedelta(days=10), YEAR_END))
                            for d, c in zip(deals, cancel) if c]
    events.sort(key=Event.sort_key)
    base = evaluate(plan, Dataset(events=tuple(events), payees=tuple(payees)))
    rng = random.Random(seed)
    shuffled_events, shuffled_payees = list(events), list(payees)
    rng.shuffle(shuffled_events)
    rng.shuffle(shuffled_payees)
    other = evaluate(plan, Dataset(events=tuple(shuffled_events),
                                   payees=tuple(shuffled_payees)))
    a, b = jsonable(base), jsonable(other)
    for part in a:
        assert a[part] == b[part], part


@given(deals=split_deals(max_deals=6))
def test_two_evaluations_give_identical_results(deals):
    plan = plan_from_text(header("Order") + ORDER_PLAN)
    payees = [payee("mia", "MGR")] + [payee(p, ROLE_OF[p], manager="mia") for p in PEOPLE]
    data = Dataset(events=tuple(sorted(deals, key=Event.sort_key)), payees=tuple(payees))
    first, second = evaluate(plan, data), evaluate(plan, data)
    assert first.credits == second.credits
    assert first.earnings == second.earnings
    assert first.payouts == second.payouts
    assert first.statements == second.statements
    assert jsonable(first) == jsonable(second)


# ------------------------------------------------------------------------------ marginal tiers

MARGINAL_PLAN = """
quota bookings
  250,000 USD per quarter
  no proration

credit bookings
  on deal booked

measure attainment = bookings / quota bookings

commission core
  on bookings
  marginal rates by attainment per quarter
    from 0% to 100% at 8%
    from 100% to 150% at 12%
    from 150% at 15%

commission by_amount
  on bookings
  marginal rates by deal amount
    from 0 USD to 100,000 USD at 5%
    from 100,000 USD at 7%
"""
TOP_RATE = {"core": Decimal("0.15"), "by_amount": Decimal("0.07")}
# amounts near the bounds: 100% and 150% of the quota, and the 100,000 USD deal-amount bound
NEAR_BOUNDS = st.sampled_from([Decimal(b) for b in (100_000, 250_000, 375_000)]).flatmap(
    lambda b: st.integers(-300, 300).map(lambda c: b + Decimal(c) * CENT))


@given(prior=st.one_of(st.just(ZERO), money(500_000)),
       amount=st.one_of(NEAR_BOUNDS, money(1_000_000)))
def test_marginal_commission_is_continuous_and_non_decreasing(prior, amount):
    # Rounding per statement keeps the lines exact (rounding per line rounds each line once).
    plan = plan_from_text(header("Marginal", rounding="half even per statement") + MARGINAL_PLAN)
    day = dt.date(2027, 2, 10)

    def pay(a: Decimal) -> dict[str, Decimal]:
        events = [booking("D2", day, "ana", a)]
        if prior:
            events.append(booking("D1", day - dt.timedelta(days=5), "ana", prior))
        result = run(plan, events, [payee("ana")])
        return {c: sum((ln.amount for ln in result.earnings
                        if ln.component == c and ln.deal == "D2"), ZERO) for c in TOP_RATE}

    low, high = pay(amount), pay(amount + CENT)
    for comp, top in TOP_RATE.items():
        step = high[comp] - low[comp]
        # exact pieces: a cent more credit earns between 0 and the top rate of a cent, exactly
        assert step >= 0, (comp, amount, low[comp], high[comp])
        assert step <= top * CENT, (comp, amount, low[comp], high[comp])
        rounded = round_money(high[comp], "USD") - round_money(low[comp], "USD")
        assert ZERO <= rounded <= top * CENT + CENT, (comp, amount, rounded)


# ------------------------------------------------------------------------------ retroactive >= marginal


@st.composite
def increasing_table(draw):
    """Bounds (percentages of quota) and strictly increasing rates for a 2-4 row table."""
    rows = draw(st.integers(2, 4))
    bounds = sorted(draw(st.lists(st.integers(10, 250), min_size=rows - 1, max_size=rows - 1,
                                  unique=True)))
    rates = sorted(draw(st.lists(st.integers(1, 300), min_size=rows, max_size=rows,
                                 unique=True)))
    return bounds, [Decimal(r) / 10 for r in rates]


def table_text(mode: str, bounds, rates) -> str:
    lo = [0] + bounds
    lines = []
    for i, rate in enumerate(rates):
        top = f" to {bounds[i]}%" if i < len(bounds) else ""
        lines.append(f"    from {lo[i]}%{top} at {rate.normalize():f}%")
    return (f"commission {mode[:5]}\n  on bookings\n  {mode} rates by attainment per quarter\n"
            + "\n".join(lines) + "\n")


@given(table=increasing_table(),
       deals=st.lists(st.tuples(money(300_000), st.integers(0, 88)), min_size=1, max_size=6))
def test_retroactive_pays_at_least_the_marginal_table(table, deals):
    bounds, rates = table
    text = (header("Retro vs marginal", rounding="half even per statement") + "quota bookings\n  250,000 USD per quarter\n"
            "  no proration\n\ncredit bookings\n  on deal booked\n\n"
            "measure attainment = bookings / quota bookings\n\n"
            + table_text("marginal", bounds, rates) + "\n"
            + table_text("retroactive", bounds, rates))
    plan = plan_from_text(text)
    events = [booking(f"D{i}", YEAR_START + dt.timedelta(days=d), "ana", a)
              for i, (a, d) in enumerate(deals)]
    result = run(plan, events, [payee("ana")])
    marginal, retro = earned(result, "margi"), earned(result, "retro")
    assert retro >= marginal, (bounds, rates, marginal, retro)
    # and the retroactive table pays the whole quarter at the final tier's rate
    total = sum((e.amount for e in events), ZERO)
    attainment = total / Decimal(250_000) * 100
    final = rates[sum(1 for b in bounds if attainment >= b)]
    assert retro == total * final / 100, (bounds, rates, total, retro)


# ------------------------------------------------------------------------------ clawback of everything

CLAWBACK_PLAN = """
quota bookings
  250,000 USD per quarter
  no proration

credit bookings
  on deal booked
  split as recorded

measure attainment = bookings / quota bookings

commission core
  on bookings
  {table}
  cap 30,000 USD per deal
  cap 60,000 USD per quarter

clawback churn
  when deal cancelled within 30 days of booking
  reverse core at original amounts
"""
MARGINAL_TABLE = """marginal rates by attainment per quarter
    from 0% to 100% at 8%
    from 100% to 150% at 12%
    from 150% at 15%"""
RETRO_TABLE = MARGINAL_TABLE.replace("marginal", "retroactive")


def _claw_everything(table: str, deals) -> None:
    plan = plan_from_text(header("Clawback", rounding="half even per statement") +
                          CLAWBACK_PLAN.format(table=table))
    events = list(deals) + [cancellation(d.deal, d.date + dt.timedelta(days=1)) for d in deals]
    result = run(plan, events, [payee(p, ROLE_OF[p]) for p in PEOPLE])
    assert any(ln.kind == "commission" and ln.amount > 0 for ln in result.earnings)
    assert any(ln.kind == "clawback" for ln in result.earnings)
    for person in PEOPLE:
        assert earned(result, "core", person) == 0, (person, [
            (ln.kind, ln.date, ln.amount, ln.deal) for ln in result.earnings
            if ln.payee == person])


deals_before_year_end = split_deals(max_deals=5).filter(
    lambda ds: all(d.date < YEAR_END for d in ds))


@given(deals=deals_before_year_end)
def test_clawing_back_every_deal_nets_marginal_commission_to_zero(deals):
    _claw_everything(MARGINAL_TABLE, deals)


@given(deals=deals_before_year_end)
@example(deals=[booking("D1", dt.date(2027, 1, 10), "ana", Decimal("200000"), (("ana", Decimal(1)),)),
                booking("D2", dt.date(2027, 2, 10), "ana", Decimal("100000"), (("ana", Decimal(1)),))])
def test_clawing_back_every_deal_nets_retroactive_commission_to_zero(deals):
    _claw_everything(RETRO_TABLE, deals)
