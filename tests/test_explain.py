"""Explanations: forecast quotas show their method and inputs (hand-computed here), and a
commission line shows its rule, source line, input row and arithmetic."""

import datetime as dt
from decimal import Decimal
from pathlib import Path

from incentive_dsl import api
from incentive_dsl.check import check_trees
from incentive_dsl.data.records import Dataset, Event, PayeeRecord
from incentive_dsl.syntax import parse_text

PLAN = '''\
plan "Forecasts"
  currency USD
  effective 2027-01-01 to 2027-12-31
  roles AE
  rounding half even per line

quota trailing "Trailing"
  forecast 110% of trailing average of bookings over 4 quarters

quota trend "Trend"
  forecast linear trend of bookings over 4 quarters

quota seasonal "Seasonal"
  forecast 105% of seasonal naive of bookings over 4 quarters

credit bookings "Bookings"
  on deal booked

measure a1 = bookings / quota trailing
measure a2 = bookings / quota trend
measure a3 = bookings / quota seasonal

commission core "Core"
  on bookings
  rate 10%

example "one deal"
  payee ana role AE from 2026-01-01
  deal D1 booked 2027-02-01 by ana amount 1,000 USD
  expect core for ana in 2027-Q1 is 100 USD
'''

# 2026 history, one deal per quarter: 100,000 / 120,000 / 80,000 / 100,000
HISTORY = [("H1", dt.date(2026, 2, 1), 100_000), ("H2", dt.date(2026, 5, 1), 120_000),
           ("H3", dt.date(2026, 8, 1), 80_000), ("H4", dt.date(2026, 11, 1), 100_000)]


def _run():
    tree = parse_text("forecasts.plan", PLAN).tree
    (plan,), diags = check_trees([(tree, PLAN)])
    assert not [d for d in diags if d.is_error]
    events = [Event(id=i, deal=i, date=d, kind="booked", amount=Decimal(a), currency="USD",
                    owner="ana") for i, d, a in HISTORY]
    events.append(Event(id="D1", deal="D1", date=dt.date(2027, 2, 1), kind="booked",
                        amount=Decimal(1000), currency="USD", owner="ana"))
    data = Dataset(events=tuple(events),
                   payees=(PayeeRecord(id="ana", role="AE", start=dt.date(2026, 1, 1)),))
    return plan, api.run(plan, data)


def test_forecast_values_are_the_hand_computed_ones():
    plan, result = _run()
    q1 = plan.calendar.parse("2027-Q1")
    engine = result.engine
    # trailing average: (100,000 + 120,000 + 80,000 + 100,000) / 4 = 100,000; x 110%
    assert engine.quota_total("trailing", ("ana",), q1) == Decimal("110000")
    # linear trend through (1, 100k) (2, 120k) (3, 80k) (4, 100k): slope -4,000, mean 100,000
    # at x = 2.5; at x = 5: 100,000 - 4,000 x 2.5 = 90,000
    assert engine.quota_total("trend", ("ana",), q1) == Decimal("90000")
    # seasonal naive: 2026-Q1 = 100,000; x 105%
    assert engine.quota_total("seasonal", ("ana",), q1) == Decimal("105000")


def test_explain_shows_each_forecast_with_its_inputs():
    plan, result = _run()
    text = "\n".join(api.explain(result, "ana", plan.calendar.parse("2027-Q1")).lines())
    assert ("2027-Q1: trailing average of bookings over 4 quarters (2026-Q1 100,000.00 USD, "
            "2026-Q2 120,000.00 USD, 2026-Q3 80,000.00 USD, 2026-Q4 100,000.00 USD) × 110% = "
            "110,000.00 USD") in text
    assert "linear trend of bookings over 4 quarters" in text and "= 90,000.00 USD" in text
    assert ("seasonal naive of bookings over 4 quarters (2026-Q1 100,000.00 USD) × 105% = "
            "105,000.00 USD") in text


def test_explain_cites_rule_source_row_and_arithmetic():
    plan, result = _run()
    text = "\n".join(api.explain(result, "ana", plan.calendar.parse("2027-Q1")).lines())
    assert "Core (core): 100.00 USD — rule 'core', forecasts.plan:23" in text
    assert "1,000.00 USD × 10% = 100.00 USD" in text
    assert "credit 1,000.00 USD from event D1" in text


def test_explain_says_whether_a_quota_ramp_applies_to_the_payee():
    """A ramped quota is explained with the payee's start: the ramp applies in the months of
    employment it covers, not to someone hired years ago (the SDR plan's 3-month ramp)."""
    from pathlib import Path

    from incentive_dsl.periods import Calendar

    root = Path(__file__).resolve().parents[1]
    plan = api.load_plan(str(root / "plans/sdr_activity.plan")).plan
    data = root / "plans/data"
    dataset, _ = api.load_data(str(data / "events.csv"), str(data / "roster.csv"),
                               quotas=str(data / "quotas.csv"), fx=str(data / "fx.csv"),
                               territories=str(data / "territories.csv"), plan=plan)
    result = api.run(plan, dataset)
    q1 = Calendar().parse("2027-Q1")

    def ramp(payee: str) -> str:
        found = [ln for ln in api.explain(result, payee, q1).lines() if "ramped" in ln]
        assert len(found) == 1
        return found[0]

    assert ramp("bea.l").endswith("bea.l started on 2023-07-01, so the ramp does not apply "
                                  "in 2027-Q1")
    # started 2026-11-05: January 2027 is the third month of employment, still ramped
    assert ramp("finn.l").endswith("finn.l started on 2026-11-05, so the ramp applies in "
                                   "2027-Q1")


FX_PLAN = '''plan "FX"
  currency USD
  effective 2027-01-01 to 2027-12-31
  roles AE
  applies to role AE

credit bookings "Bookings"
  on deal booked

commission core "Core"
  on bookings
  rate 10%

payout
  paid monthly
'''


def test_explain_shows_the_fx_conversion_of_a_credit(tmp_path):
    # every cent is explained: a deal booked in EUR shows its amount as booked and the rate
    # (with its row) that made it 1,100.00 USD, not only the converted amount
    (tmp_path / "fx.plan").write_text(FX_PLAN)
    (tmp_path / "events.csv").write_text("event_id,deal_id,date,kind,amount,currency,owner\n"
                                         "E1,D1,2027-01-11,booked,1000.00,EUR,ann\n")
    (tmp_path / "roster.csv").write_text("payee_id,role,start\nann,AE,2026-01-01\n")
    (tmp_path / "fx.csv").write_text("currency,target,date,rate\nEUR,USD,2027-01-09,1.10\n")
    plan = api.load_plan(str(tmp_path / "fx.plan")).plan
    dataset, _ = api.load_data(str(tmp_path / "events.csv"), str(tmp_path / "roster.csv"),
                               fx=str(tmp_path / "fx.csv"), plan=plan)
    result = api.run(plan, dataset)
    text = "\n".join(api.explain(result, "ann", plan.calendar.parse("2027-01")).lines())
    assert ("deal D1 booked at 1,100.00 USD (1,000.00 EUR × 1.10, the EUR→USD rate of "
            f"2027-01-09, {tmp_path / 'fx.csv'}:2)") in text


SPLIT_PLAN = '''\
plan "Split partners"
  currency USD
  effective 2027-01-01 to 2027-12-31
  roles AE, SE, SDR
  applies to role AE, SE

credit bookings "Bookings"
  on deal booked
  split as recorded

commission core "Core commission"
  for role AE
  on bookings
  rate 10%
'''


def test_not_paid_leaves_out_a_split_partners_skip_under_a_rule_that_paid(tmp_path):
    # D1 is ana's and sam's (an SE: core is for AEs), D2 ana's and bea's (an SDR: the plan
    # does not cover her, so the credit rule skips her share). Each rule paid or credited ana
    # her share: the partner's skip is no reason ana was not paid. The partner's own
    # explanation keeps it.
    (tmp_path / "split.plan").write_text(SPLIT_PLAN)
    (tmp_path / "events.csv").write_text(
        "event_id,deal_id,date,kind,amount,currency,owner,splits\n"
        'E1,D1,2027-02-10,booked,"100,000",USD,ana,ana:50;sam:50\n'
        'E2,D2,2027-02-11,booked,"100,000",USD,ana,ana:50;bea:50\n')
    (tmp_path / "roster.csv").write_text("payee_id,role,start\nana,AE,2027-01-01\n"
                                         "sam,SE,2027-01-01\nbea,SDR,2027-01-01\n")
    plan = api.load_plan(str(tmp_path / "split.plan")).plan
    dataset, _ = api.load_data(str(tmp_path / "events.csv"), str(tmp_path / "roster.csv"),
                               plan=plan)
    result = api.run(plan, dataset)
    q1 = plan.calendar.parse("2027-Q1")
    text = "\n".join(api.explain(result, "ana", q1).lines())
    assert "Core commission (core): 10,000.00 USD" in text and "not paid" not in text
    assert "core: E1 — sam's role SE is not one of AE" in \
        "\n".join(api.explain(result, "sam", q1).lines())
    assert "bookings: E2 — bea's role SDR is not covered by the plan" in \
        "\n".join(api.explain(result, "bea", q1).lines())


COLLECT_PLAN = '''\
plan "Paid on collection"
  currency USD
  effective 2027-01-01 to 2027-12-31
  roles AE
  rounding half even per line

credit bookings "Bookings"
  on deal booked

commission core "Core commission"
  on bookings
  rate 10%

payout
  paid monthly
  50% when booked, 50% when collected
'''


def test_payouts_awaiting_collection_says_it_holds_earlier_periods_earnings(tmp_path):
    # D1 (January) and D2 (February) are never collected: at the end of February 500 + 1,000
    # wait for the customer, 1,000 of it earned in February. A bare "awaiting collection:
    # 1,500.00" beside the reconciliation's "− awaiting collection 1,000.00" read as two
    # answers to one question.
    (tmp_path / "c.plan").write_text(COLLECT_PLAN)
    (tmp_path / "events.csv").write_text(
        "event_id,deal_id,date,kind,amount,currency,owner\n"
        'E1,D1,2027-01-10,booked,"10,000",USD,ana\n'
        'E2,D2,2027-02-10,booked,"20,000",USD,ana\n')
    (tmp_path / "roster.csv").write_text("payee_id,role,start\nana,AE,2026-01-01\n")
    plan = api.load_plan(str(tmp_path / "c.plan")).plan
    dataset, _ = api.load_data(str(tmp_path / "events.csv"), str(tmp_path / "roster.csv"),
                               plan=plan)
    feb = plan.calendar.parse("2027-02")
    text = "\n".join(api.explain(api.run(plan, dataset, feb.end), "ana", feb).lines())
    assert ("still awaiting collection on 2027-02-28, from the earnings of every period so "
            "far: 1,500.00 USD (1,000.00 USD of it earned in 2027-02)") in text
    assert "− awaiting collection 1,000.00 USD" in text


POOL_PLAN = '''\
plan "Team pool"
  currency USD
  effective 2027-01-01 to 2027-12-31
  roles MGR, AE
  applies to role MGR, AE
  rounding half even per line

quota bookings "Bookings quota"
  100,000 USD per quarter for role AE

credit bookings "Bookings"
  on deal booked
  roll up to managers

measure attainment = bookings / quota bookings

spiff big "Big product"
  on deal booked where deal.amount >= 50,000 USD
  during 2027-01-01 to 2027-12-31
  pay 500 USD

pool team_pool "Team pool"
  for role AE
  fund if team attainment >= 100% then 1% of team bookings else 0 USD per quarter
  share by bookings
'''


def test_a_member_whose_pool_paid_nothing_and_a_spiff_turned_away_are_told_why(tmp_path):
    # ana's team books 30,000 against 100,000: the pool's fund is 0, and ana earned nothing.
    # The skip is the team's ("team of mia"), and was left out of ana's explanation; the
    # SPIFF's skip said a 'where' condition does not hold without saying which.
    (tmp_path / "p.plan").write_text(POOL_PLAN)
    (tmp_path / "events.csv").write_text(
        "event_id,deal_id,date,kind,amount,currency,owner\n"
        'E1,D1,2027-02-10,booked,"30,000",USD,ana\n')
    (tmp_path / "roster.csv").write_text("payee_id,role,start,manager\nmia,MGR,2026-01-01,\n"
                                         "ana,AE,2026-01-01,mia\n")
    plan = api.load_plan(str(tmp_path / "p.plan")).plan
    dataset, _ = api.load_data(str(tmp_path / "events.csv"), str(tmp_path / "roster.csv"),
                               plan=plan)
    q1 = plan.calendar.parse("2027-Q1")
    result = api.run(plan, dataset)
    text = "\n".join(api.explain(result, "ana", q1).lines())
    assert "ana, 2027-Q1: earned 0.00 USD" in text
    assert ("team_pool: team of mia 2027-Q1 — nothing to share: its fund, 'if team attainment "
            ">= 100% then 1% of team bookings else 0 USD', came to 0") in text
    assert ("big: E1 — the SPIFF's 'where' condition does not hold "
            "(where deal.amount >= 50,000 USD)") in text
    # the manager is no member of her own team's pool
    assert "team_pool" not in "\n".join(api.explain(result, "mia", q1).lines())


def test_a_clawback_shows_the_line_it_reverses_with_its_arithmetic(tmp_path):
    # The clawback's own arithmetic is "-X = -X"; what it reverses (which tiers, which
    # attainment, in another quarter) was not shown, so its amount could not be checked.
    plan = api.load_plan(str(Path(__file__).parent / "mechanics" / "clawback.plan")).plan
    (tmp_path / "events.csv").write_text(
        "event_id,deal_id,date,kind,amount,currency,owner\n"
        'E1,D1,2027-03-20,booked,"300,000",USD,ana\n'
        "E2,D1,2027-04-10,cancelled,,,ana\n")
    (tmp_path / "roster.csv").write_text("payee_id,role,start\nana,AE,2026-01-01\n")
    dataset, _ = api.load_data(str(tmp_path / "events.csv"), str(tmp_path / "roster.csv"),
                               plan=plan)
    result = api.run(plan, dataset)
    lines = api.explain(result, "ana", plan.calendar.parse("2027-Q2"), "D1").lines()
    # 250,000 at 8% + 50,000 at 12% = 20,000 + 6,000
    assert lines[-2:] == [
        "        └── reverses the commission line of deal D1 on 2027-03-20: 26,000.00 USD — "
        "8% of 250,000.00 USD (tier '0% to 100%') + 12% of 50,000.00 USD (tier '100% and "
        "above') for deal D1 because your 2027-Q1 attainment went from 0% to 120% (marginal "
        "tiers)",
        "            └── 250,000.00 USD × 8% + 50,000.00 USD × 12% = 26,000.00 USD"]


def test_an_override_says_which_condition_held_and_the_team_figures_it_read(tmp_path):
    # "2% of team bookings = 9,000.00 USD" named neither the team's bookings nor the
    # attainment that let the override pay.
    plan = api.load_plan(str(Path(__file__).parent / "mechanics" / "override.plan")).plan
    (tmp_path / "events.csv").write_text(
        "event_id,deal_id,date,kind,amount,currency,owner\n"
        'E1,D1,2027-02-01,booked,"300,000",USD,ana\n'
        'E2,D2,2027-03-01,booked,"150,000",USD,bob\n')
    (tmp_path / "roster.csv").write_text(
        "payee_id,role,start,manager\nmia,MGR,2027-01-01,\nana,AE,2027-01-01,mia\n"
        "bob,AE,2027-01-01,mia\n")
    dataset, _ = api.load_data(str(tmp_path / "events.csv"), str(tmp_path / "roster.csv"),
                               plan=plan)
    lines = api.explain(api.run(plan, dataset), "mia", plan.calendar.parse("2027-Q1")).lines()
    # 450,000 against two quotas of 250,000: 90%; 2% of 450,000 = 9,000
    assert lines[2:6] == [
        "│   └── override 2027-Q1 on 2027-03-31: 9,000.00 USD — override on the 2027-Q1 "
        "results of mia's team (ana, bob), because 'team attainment reaches 80%' holds",
        "│       ├── 2% of team bookings = 9,000.00 USD",
        "│       ├── team attainment: 90%",
        "│       └── team bookings: 450,000.00 USD"]
    # mia has no quota of her own: the one the override measured is her team's.
    assert "├── quotas" in lines
    quotas = lines[lines.index("├── quotas") + 1:]
    assert quotas[0] == ("│   └── quota bookings of mia's team for 2027-Q1: 500,000.00 USD — "
                         "what rule 'mgr' measured the team against")
    assert not any("quota bookings for" in line for line in lines)
    # An AE's own quota, unchanged.
    ana = api.explain(api.run(plan, dataset), "ana", plan.calendar.parse("2027-Q1")).lines()
    assert "│   └── quota bookings for 2027-Q1: 250,000.00 USD" in ana


ACTIVITY_PLAN = '''\
plan "Activities"
  currency USD
  effective 2027-01-01 to 2027-12-31
  roles SDR
  rounding half even per line
  activities "qualified_demo", "meeting"

activity reward demos "Qualified demos"
  on activity "qualified_demo" pay 75 USD
  on activity "meeting" where payee.territory is "east" pay 30 USD
'''


def test_an_activity_turned_away_names_the_where_of_its_own_activity(tmp_path):
    # The condition is per activity (the meeting's, not the demo's): the skip named none.
    (tmp_path / "a.plan").write_text(ACTIVITY_PLAN)
    (tmp_path / "events.csv").write_text(
        "event_id,deal_id,date,kind,owner,activity\n"
        "E1,,2027-02-10,activity,sam,meeting\n")
    (tmp_path / "roster.csv").write_text("payee_id,role,start,territory\nsam,SDR,2026-01-01,west\n")
    plan = api.load_plan(str(tmp_path / "a.plan")).plan
    dataset, problems = api.load_data(str(tmp_path / "events.csv"),
                                      str(tmp_path / "roster.csv"), plan=plan)
    assert not problems
    text = "\n".join(api.explain(api.run(plan, dataset), "sam",
                                 plan.calendar.parse("2027-02")).lines())
    assert ("demos: E1 — the reward's 'where' condition does not hold "
            "(where payee.territory is \"east\")") in text


def test_a_split_credit_names_the_payees_share():
    # "split as recorded in the CRM" alone does not say which part of the deal a line is.
    text = '''plan "Split"
  currency USD
  effective 2027-01-01 to 2027-12-31
  roles AE

credit bookings "Bookings"
  on deal booked
  value deal.amount
  split as recorded
'''
    tree = parse_text("split.plan", text).tree
    (plan,), diags = check_trees([(tree, text)])
    assert not [d for d in diags if d.is_error]
    data = Dataset(
        events=(Event(id="E1", deal="D1", date=dt.date(2027, 2, 1), kind="booked",
                      amount=Decimal("1000.00"), currency="USD", owner="ana",
                      splits=(("ana", Decimal("0.75")), ("bob", Decimal("0.25")))),),
        payees=(PayeeRecord(id="ana", role="AE", start=dt.date(2026, 1, 1)),
                PayeeRecord(id="bob", role="AE", start=dt.date(2026, 1, 1))))
    result = api.run(plan, data)
    because = {c.payee: c.trace.because for c in result.credits}
    assert because == {
        "ana": "the rule's value; split as recorded on the deal (75% to this payee)",
        "bob": "the rule's value; split as recorded on the deal (25% to this payee)"}


class _Counted(tuple):
    """A run's lines, counting the passes over them."""

    passes = 0

    def __iter__(self):
        type(self).passes += 1
        return super().__iter__()


def test_explaining_many_payees_and_deals_passes_over_the_run_once():
    import attrs

    from shipped import ROOT, load_shipped_data

    loaded = api.load_plan(str(ROOT / "plans" / "sales_manager.plan"))
    dataset, _ = load_shipped_data(loaded.plan)
    result = api.run(loaded.versions, attrs.evolve(dataset, events=_Counted(dataset.events)))
    window = loaded.plan.calendar.parse("2027-Q1")
    payees = sorted({s.payee for s in result.statements})[:12]
    deals = sorted({c.deal for c in result.credits if c.payee == payees[0]})[:6]
    assert len(payees) == 12 and len(deals) == 6
    asked = [(p, None) for p in payees] + [(payees[0], d) for d in deals]

    def explained(run):
        return ["\n".join(api.explain(run, p, window, d).lines()) for p, d in asked]

    # Each explanation on a run of its own, whose index is built for it alone.
    fresh = [explained(attrs.evolve(result))[i] for i in range(len(asked))]
    counted = attrs.evolve(result, **{name: _Counted(getattr(result, name)) for name in (
        "credits", "earnings", "payouts", "statements", "skips")})
    _Counted.passes = 0
    assert explained(counted) == fresh
    # One pass over each of the five kinds of line and over the events, for all 18 calls.
    assert _Counted.passes <= 6


def test_a_payee_given_by_part_of_their_display_name_is_suggested():
    from incentive_dsl.diagnostics import payee_not_found

    start = dt.date(2027, 1, 1)
    roster = [PayeeRecord(id="darcel.s", role="AE", start=start, name="Darcel Schlecht"),
              PayeeRecord(id="bea.l", role="AE", start=start),
              PayeeRecord(id="bea.v", role="MGR", start=start)]
    meant = "; did you mean 'darcel.s' (Darcel Schlecht)?"
    for typed in ("Darcel", "schlecht", "Darcel Schlect"):
        assert payee_not_found(typed, roster) == f"no payee '{typed}' in the roster{meant}"
    assert payee_not_found("bea", roster).endswith("did you mean one of 'bea.l', 'bea.v'?")
    assert payee_not_found("zed", roster) == "no payee 'zed' in the roster"


def test_explain_suggests_the_crm_payee_whose_name_holds_the_word_typed(capsys):
    from incentive_dsl.cli import main

    from shipped import ROOT

    crm = ROOT / "plans" / "crm"
    code = main(["explain", str(crm / "field_sales.plan"), "--map", str(crm / "crm.toml"),
                 "--payee", "Darcel", "--period", "2017-Q1"])
    assert code == 2
    assert capsys.readouterr().err.endswith(
        "incentive explain: no payee 'Darcel' in the roster; did you mean 'Darcel Schlecht'?\n")


def test_many_skips_for_one_reason_are_one_line_in_text_and_every_line_in_json(capsys):
    # bob.b's 26 meetings were 26 lines of the same reason under "not paid".
    import json

    from incentive_dsl.cli import main

    from shipped import ROOT

    base = ["explain", str(ROOT / "plans" / "sdr_activity.plan"), "--data",
            str(ROOT / "plans" / "data"), "--payee", "bob.b"]
    assert main(base) == 0
    text = capsys.readouterr().out.splitlines()
    where = "the reward's 'where' condition does not hold (where payee.territory is \"east\")"
    assert text[text.index("└── not paid") + 1:] == [
        f"    └── demos: 26 'meeting' activities not paid — {where}: E00015074, E00015075, "
        "E00015076 and 23 more"]
    assert main([*base, "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["format_version"] == 1 and doc["payee"] == "bob.b"
    (not_paid,) = [c for c in doc["explanation"]["children"] if c["text"] == "not paid"]
    lines = [c["text"] for c in not_paid["children"]]
    assert len(lines) == 26 and lines[0] == f"demos: E00015074 — {where}"
    assert all(line.endswith(where) for line in lines)


def test_skipped_periods_are_grouped_and_a_lone_skip_is_left_as_it_is(tmp_path):
    plan = api.load_plan(str(Path(__file__).parent / "mechanics" / "override.plan")).plan
    (tmp_path / "events.csv").write_text(
        "event_id,deal_id,date,kind,amount,currency,owner\n"
        'E1,D1,2027-02-01,booked,"30,000",USD,ana\n')
    (tmp_path / "roster.csv").write_text(
        "payee_id,role,start,manager\nmia,MGR,2027-01-01,\nana,AE,2027-01-01,mia\n")
    dataset, _ = api.load_data(str(tmp_path / "events.csv"), str(tmp_path / "roster.csv"),
                               plan=plan)
    result = api.run(plan, dataset)
    year = plan.calendar.parse("2027")
    # One skip a quarter for mia (the override's condition does not hold): four, one reason.
    full = api.explain(result, "mia", year).lines()
    grouped = api.explain(result, "mia", year, grouped=True).lines()
    skipped = full[full.index("└── not paid") + 1:]
    assert len(skipped) == 4
    assert grouped[grouped.index("└── not paid") + 1:] == [
        "    └── mgr: 4 periods not paid — " + skipped[0].split(" — ", 1)[1]
        + ": mia 2027-Q1, mia 2027-Q2, mia 2027-Q3 and 1 more"]
    q1 = plan.calendar.parse("2027-Q1")
    assert api.explain(result, "mia", q1, grouped=True).lines() == \
        api.explain(result, "mia", q1).lines()


def test_a_deal_rolled_up_to_a_manager_says_it_counts_in_her_figures(tmp_path):
    # A deal of her team said nothing but "earned 0.00 USD" to the manager.
    from shipped import ROOT

    plan = api.load_plan(str(ROOT / "plans" / "sales_manager.plan")).plan
    (tmp_path / "events.csv").write_text(
        "event_id,deal_id,date,kind,amount,currency,owner\n"
        'E1,D1,2027-02-01,booked,"300,000",USD,ana\n')
    (tmp_path / "roster.csv").write_text(
        "payee_id,role,start,manager\nmia,MGR,2027-01-01,\nana,AE,2027-01-01,mia\n")
    dataset, _ = api.load_data(str(tmp_path / "events.csv"), str(tmp_path / "roster.csv"),
                               plan=plan)
    lines = api.explain(api.run(plan, dataset), "mia", plan.calendar.parse("2027-Q1"),
                        "D1").lines()
    assert lines[0] == "mia, 2027-Q1 on deal D1: earned 0.00 USD"
    assert lines[1].startswith("└── no earning on deal D1 for mia in 2027-Q1: it credits them "
                               "300,000.00 USD of bookings (")
    assert lines[1].endswith(
        "rolled up from ana), which counts in their figures for the period but earns nothing "
        "on the deal itself: see explain without --deal for what those figures earned")
