"""`incentive estimate`: what a payee earns if a deal closes, on their live history, and the
open pipeline closed one by one and all together. The plans are mechanics plans
(tests/mechanics/), the figures computed by hand in the comments."""

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

from incentive_dsl import api
from incentive_dsl.audit.estimate import DealError
from incentive_dsl.cli import main

MECHANICS = Path(__file__).parent / "mechanics"
D = Decimal

EVENTS = """event_id,deal_id,date,kind,amount,currency,owner,stage
E1,D1,2027-01-10,booked,"200,000",USD,ana,
E2,D2,2027-01-20,stage,"100,000",USD,ana,proposal
E3,D3,2027-01-25,stage,"60,000",USD,ana,demo
E4,D4,2027-01-26,stage,,,ana,demo
E5,D5,2027-02-01,stage,"10,000",USD,bob,demo
E6,D6,2027-01-05,stage,"10,000",USD,ana,demo
E7,D6,2027-01-09,booked,"10,000",USD,bob,
"""
ROSTER = "payee_id,role,start,manager\nana,AE,2027-01-01,mia\nbob,AE,2027-01-01,mia\n" \
    "mia,MGR,2027-01-01,\n"


@pytest.fixture
def data(tmp_path):
    (tmp_path / "events.csv").write_text(EVENTS)
    (tmp_path / "roster.csv").write_text(ROSTER)
    return tmp_path


def load(name: str, data: Path, events: str | None = None):
    if events is not None:
        (data / "events.csv").write_text(events)
    plan = api.load_plan(str(MECHANICS / f"{name}.plan")).plan
    dataset, diags = api.load_data(str(data / "events.csv"), str(data / "roster.csv"),
                                   plan=plan)
    assert not any(d.is_error for d in diags)
    return plan, dataset


def test_a_deal_crossing_a_marginal_bound(data):
    plan, dataset = load("marginal_tiers", data)
    deal = api.hypothetical_deal(plan, dataset, "ana", {"amount": "100,000",
                                                        "date": "2027-02-10"})
    est = api.estimate(plan, dataset, "ana", [deal])
    # ana has 200,000 booked (80% of 250,000); 100,000 more takes her to 120%:
    # 50,000 at 8% + 50,000 at 12% = 4,000 + 6,000.
    assert est.difference == D("10000")
    assert (est.earned_before, est.earned_after) == (D("16000"), D("26000"))
    (rule,) = est.rules
    assert rule.component == "core" and rule.difference == D("10000")
    (line,) = rule.lines
    assert (line.deal, line.period, line.before, line.after) == \
        ("HYPOTHETICAL", "2027-Q1", D(0), D("10000"))
    assert "attainment went from 80% to 120%" in line.because
    assert "tier '100% to 150%'" in line.because
    (pay,) = est.paid
    assert (pay.pay_period, pay.before, pay.after) == ("2027-02", D(0), D("10000"))
    assert est.others == () and est.notes == ()


def test_a_deal_crossing_a_retroactive_bound_trues_up_the_earlier_ones(data):
    plan, dataset = load("retroactive_tiers", data)
    deal = api.hypothetical_deal(plan, dataset, "ana", {"amount": "100,000",
                                                        "date": "2027-02-20"})
    est = api.estimate(plan, dataset, "ana", [deal])
    # 300,000 is 120%: the deal at 12% = 12,000, and D1's 200,000 trued up from 8% to 12% =
    # 8,000; 36,000 in all against 16,000.
    assert est.difference == D("20000")
    lines = {(ln.kind, ln.deal): ln.difference for ln in est.rules[0].lines}
    assert lines[("commission", "HYPOTHETICAL")] == D("12000")
    assert sum(v for (kind, _), v in lines.items() if kind == "true-up") == D("8000")


def test_what_a_deal_changes_for_others(data):
    plan, dataset = load("override", data, EVENTS + "E8,D8,2027-03-01,booked,\"150,000\",USD,bob,\n")
    deal = api.hypothetical_deal(plan, dataset, "ana", {"amount": "100,000",
                                                        "date": "2027-02-01"})
    est = api.estimate(plan, dataset, "ana", [deal])
    # The plan pays managers only: ana earns nothing more, but her team (ana 200,000 +
    # 100,000, bob 10,000 + 150,000 = 460,000 of 500,000, 92%) now reaches 80%: mia gets 2%.
    assert est.difference == 0 and est.rules == ()
    assert est.others == (("mia", D("9200")),)


def test_custom_fields_and_bad_values(data):
    plan, dataset = load("spiff", data)
    p3 = api.hypothetical_deal(plan, dataset, "ana", {"amount": "50,000 USD", "product": "P3",
                                                      "date": "2027-04-01"})
    est = api.estimate(plan, dataset, "ana", [p3])
    # 2% of 50,000 + 500 fixed.
    assert est.difference == D("1500")
    assert {r.component: r.difference for r in est.rules} == {"p3": D("1000"),
                                                              "p3_flat": D("500")}
    p1 = api.hypothetical_deal(plan, dataset, "ana", {"amount": "50,000", "product": "P1",
                                                      "date": "2027-04-01"})
    assert api.estimate(plan, dataset, "ana", [p1]).difference == 0
    with pytest.raises(DealError) as bad:
        api.hypothetical_deal(plan, dataset, "ana", {"amount": "50,000", "prodcut": "P3"})
    assert bad.value.hint == "did you mean 'product'?"
    with pytest.raises(DealError) as bad:
        api.hypothetical_deal(plan, dataset, "ana", {"amount": "50.000,00"})
    assert bad.value.message.startswith("amount: '50.000,00' is not an amount")
    with pytest.raises(DealError):
        api.hypothetical_deal(plan, dataset, "ana", {"date": "2027-04-01"})
    with pytest.raises(DealError) as bad:
        api.hypothetical_deal(plan, dataset, "ana", {"amount": "1", "id": "D1"})
    assert bad.value.message == "id: deal D1 is booked in the data already"
    # A share to a payee the roster does not know would be paid to nobody (the data's
    # D-PAYEE): refused, with the payee meant.
    with pytest.raises(DealError) as bad:
        api.hypothetical_deal(plan, dataset, "ana", {"amount": "1", "splits": "ana:50;bbo:50"})
    assert (bad.value.message, bad.value.hint) == \
        ("splits: split payee 'bbo' is not in the roster", "did you mean 'bob'?")
    with pytest.raises(DealError) as bad:
        api.hypothetical_deal(plan, dataset, "ana", {"amount": "1 EUR", "currency": "GBP"})
    assert bad.value.message == "currency: the amount is in EUR, but currency= says GBP"
    # Given once or twice alike, the currency needs a rate to the plan's (the data has none).
    with pytest.raises(DealError) as bad:
        api.hypothetical_deal(plan, dataset, "ana", {"amount": "1 EUR", "currency": "EUR"})
    assert bad.value.message.startswith("amount: no EUR->USD rate on or before ")
    # An open deal may be closed at another amount than its pipeline's.
    assert api.hypothetical_deal(plan, dataset, "ana", {"amount": "1", "id": "D2"}).event.deal \
        == "D2"


def test_a_deal_that_earns_nothing_says_which_rule_turned_it_away_and_why(data, capsys):
    plan, dataset = load("spiff", data)
    # No product: both SPIFFs' conditions are false; a P3 deal in July is outside the window.
    bare = api.hypothetical_deal(plan, dataset, "ana", {"amount": "10,000",
                                                        "date": "2027-05-01"})
    late = api.hypothetical_deal(plan, dataset, "ana", {"amount": "10,000", "product": "P3",
                                                        "date": "2027-07-01"})
    for deal, reason in ((bare, "the SPIFF's 'where' condition does not hold "
                                "(where deal.product is \"P3\")"),
                         (late, "dated 2027-07-01, outside the rule's window")):
        est = api.estimate(plan, dataset, "ana", [deal])
        assert est.difference == 0
        assert [(n.rule, n.label, n.deal, n.reason) for n in est.not_paid] == [
            ("p3", "P3 launch", "HYPOTHETICAL", reason),
            ("p3_flat", "P3 launch, fixed", "HYPOTHETICAL", reason)]
    plan_file = str(MECHANICS / "spiff.plan")
    args = ["estimate", plan_file, "--data", str(data), "--payee", "ana",
            "--deal", "amount=10,000", "date=2027-05-01"]
    assert main(args) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1:] == [
        "└── rules that give ana nothing for deal HYPOTHETICAL",
        "    ├── P3 launch (p3): the SPIFF's 'where' condition does not "
        "hold (where deal.product is \"P3\")",
        "    └── P3 launch, fixed (p3_flat): the SPIFF's 'where' condition "
        "does not hold (where deal.product is \"P3\")"]
    assert main([*args, "--format", "json"]) == 0
    (report,) = json.loads(capsys.readouterr().out)["estimates"]
    assert [n["rule"] for n in report["not_paid"]] == ["p3", "p3_flat"]
    assert report["not_paid"][0]["reason"].startswith("the SPIFF's 'where' condition")


COMMISSION_AND_SPIFF = """plan "Commission and a SPIFF"
  currency USD
  effective 2027-01-01 to 2027-12-31
  roles AE, MGR
  applies to role AE

fields
  deal.product text

credit bookings "Bookings"
  on deal booked
  split as recorded

commission core "Core commission"
  on bookings
  rate 10%

spiff p3 "P3 launch"
  on deal booked where deal.product is "P3"
  pay 500 USD
"""


def test_a_rule_that_pays_for_the_deal_is_never_listed_as_turning_it_away(data, capsys):
    # Half of the deal is mia's, a manager the plan does not cover: the credit rule skips her
    # share, yet credits ana hers, and the commission pays ana. Only the SPIFF (no product)
    # gives ana nothing for the deal, and the report says so per rule, not as "not paid"
    # beside a total of +5,000.
    plan_file = data / "mixed.plan"
    plan_file.write_text(COMMISSION_AND_SPIFF)
    args = ["estimate", str(plan_file), "--data", str(data), "--payee", "ana",
            "--deal", "amount=100,000", "date=2027-05-01", "splits=ana:50;mia:50"]
    plan = api.load_plan(str(plan_file)).plan
    dataset, _ = api.load_data(str(data / "events.csv"), str(data / "roster.csv"), plan=plan)
    deal = api.hypothetical_deal(plan, dataset, "ana", {"amount": "100,000",
                                                        "date": "2027-05-01",
                                                        "splits": "ana:50;mia:50"})
    est = api.estimate(plan, dataset, "ana", [deal])
    assert est.difference == D("5000")  # 10% of ana's 50,000
    assert [(n.rule, n.deal) for n in est.not_paid] == [("p3", "HYPOTHETICAL")]
    assert main(args) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-2:] == [
        "└── rules that give ana nothing for deal HYPOTHETICAL",
        "    └── P3 launch (p3): the SPIFF's 'where' condition does not hold "
        "(where deal.product is \"P3\")"]
    assert "not paid" not in "\n".join(out) and "mia" not in "\n".join(out)
    assert main([*args, "--format", "json"]) == 0
    (report,) = json.loads(capsys.readouterr().out)["estimates"]
    assert [(n["rule"], n["deal"]) for n in report["not_paid"]] == [("p3", "HYPOTHETICAL")]


def test_the_date_defaults_to_the_day_the_data_runs_up_to(data):
    plan, dataset = load("marginal_tiers", data)
    deal = api.hypothetical_deal(plan, dataset, "ana", {"amount": "1"})
    assert deal.event.date == dt.date(2027, 2, 1)  # E5, the latest event
    outside = api.hypothetical_deal(plan, dataset, "ana", {"amount": "1", "date": "2028-01-05"})
    (note,) = api.estimate(plan, dataset, "ana", [outside]).notes
    assert "outside the plan's effective range" in note


def test_the_open_pipeline_one_by_one_and_together(data):
    plan, dataset = load("marginal_tiers", data)
    closings, notes = api.open_deals(plan, dataset, "ana", dt.date(2027, 2, 10))
    # D2 and D3 are ana's open deals; D4 has no amount, D5 is bob's, D6 was booked.
    assert [c.event.deal for c in closings] == ["D2", "D3"]
    assert [c.event.amount for c in closings] == [D("100000"), D("60000")]
    assert notes == ["open deal D4 (stage 'demo') has no amount in its stage events: left out"]
    each, together = api.scenarios(plan, dataset, "ana", closings)
    # D2: 80% -> 120%: 50,000 at 8% + 50,000 at 12% = 10,000.
    # D3: 80% -> 104%: 50,000 at 8% + 10,000 at 12% = 5,200.
    # Both (D2 first): 10,000, then D3 from 120% to 144% all at 12% = 7,200; 17,200.
    assert [e.difference for e in each] == [D("10000"), D("5200")]
    assert together.difference == D("17200")
    assert [ln.difference for ln in together.rules[0].lines] == [D("10000"), D("7200")]


def test_cli_estimate_text_and_json(data, capsys):
    plan = str(MECHANICS / "marginal_tiers.plan")
    code = main(["estimate", plan, "--data", str(data), "--payee", "ana",
                 "--deal", "amount=100,000", "date=2027-02-10"])
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith("if deal HYPOTHETICAL booked 2027-02-10 at 100,000.00 USD closes: "
                          "+10,000.00 USD earned by ana (16,000.00 USD -> 26,000.00 USD)")
    assert "attainment went from 80% to 120% (marginal tiers)" in out
    code = main(["estimate", plan, "--data", str(data), "--payee", "ana", "--pipeline",
                 "--date", "2027-02-10"])
    out = capsys.readouterr().out
    assert out.split("\n")[:4] == [
        "open pipeline of ana, each deal closing on 2027-02-10: what ana would earn",
        "  D2     stage 'proposal'  100,000.00 USD  +10,000.00 USD",
        "  D3     stage 'demo'       60,000.00 USD   +5,200.00 USD",
        "  all 2                                    +17,200.00 USD"]
    assert out.rstrip().endswith(
        "note: open deal D4 (stage 'demo') has no amount in its stage events: left out")
    code = main(["estimate", plan, "--data", str(data), "--payee", "ana", "--pipeline",
                 "--date", "2027-02-10", "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert [(e["scenario"].split(" ")[2], Decimal(e["difference"]))
            for e in report["estimates"]] == [("D2", 10000), ("D3", 5200), ("2", 17200)]
    assert all("E" not in e["difference"] for e in report["estimates"])


def test_cli_estimate_takes_deal_keys_over_several_deal_options(data, capsys):
    """`--deal amount=... --deal date=...` is one deal: the second --deal dropped the first
    (and then said "the deal needs an amount")."""
    plan = str(MECHANICS / "marginal_tiers.plan")
    code = main(["estimate", plan, "--data", str(data), "--payee", "ana",
                 "--deal", "amount=100,000", "--deal", "date=2027-02-10"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.startswith("if deal HYPOTHETICAL booked 2027-02-10 at 100,000.00 USD closes: "
                          "+10,000.00 USD earned by ana")


@pytest.mark.parametrize("args, message", [
    (["--payee", "ann", "--deal", "amount=1"], "no payee 'ann' in the roster; did you mean 'ana'?"),
    # Ids are compared ignoring case (diagnostics.closest): a capital is no reason to miss one.
    (["--payee", "MIe", "--deal", "amount=1"], "no payee 'MIe' in the roster; did you mean 'mia'?"),
    (["--payee", "zed", "--deal", "amount=1"], "no payee 'zed' in the roster\n"),
    (["--payee", "ana", "--deal", "amount"],
     "argument --deal: 'amount' is not key=value, e.g. amount=120,000"),
    (["--payee", "ana", "--deal", "amount=1", "colour=red"], "'colour' is not a deal field"),
    # One value per key: the second amount would silently replace the first.
    (["--payee", "ana", "--deal", "amount=1", "--deal", "amount=2"],
     "--deal amount=2: amount is given twice (amount=1 before)"),
])
def test_cli_estimate_usage_errors(data, capsys, args, message):
    try:  # argparse's errors exit, the command's return
        code = main(["estimate", str(MECHANICS / "marginal_tiers.plan"), "--data", str(data),
                     *args])
    except SystemExit as exc:
        code = exc.code
    assert code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("args, message", [
    # --deal takes every word up to the next option: the plan after the pairs is one of them,
    # and argparse said "the following arguments are required: PLAN".
    (["--deal", "amount=1", "PLAN", "--data", "DATA", "--payee", "ana"],
     "argument --deal: 'PLAN' is not key=value, e.g. amount=120,000 (--deal takes the words "
     "after it up to the next option: write the plan before --deal)"),
    # A pair after another option is left over.
    (["PLAN", "--data", "DATA", "--deal", "amount=1", "--payee", "ana", "date=2027-02-10"],
     "unrecognized arguments: date=2027-02-10; a deal's key=value pairs follow --deal"),
])
def test_cli_estimate_pairs_in_the_wrong_place(data, capsys, args, message):
    plan = str(MECHANICS / "marginal_tiers.plan")
    words = [plan if w == "PLAN" else str(data) if w == "DATA" else w for w in args]
    with pytest.raises(SystemExit) as exc:
        main(["estimate", *words])
    assert exc.value.code == 2
    assert message.replace("PLAN", plan) in capsys.readouterr().err


def test_the_docs_name_the_deal_values_refused():
    text = (Path(__file__).resolve().parents[1] / "docs" / "estimate.md").read_text("utf-8")
    assert "a split payee the roster does not know" in " ".join(text.split())


def test_the_part_awaiting_collection_is_shown_beside_the_pay_periods(data, capsys):
    # Half of a deal's 10% is paid when booked, half when collected; a hypothetical deal is
    # never collected. 100,000 earns 10,000: 5,000 in 2027-02 and 5,000 awaiting collection,
    # which no pay period showed, so "paid" added up to half of what was earned.
    plan, dataset = load("payout_schedule", data)
    deal = api.hypothetical_deal(plan, dataset, "ana", {"amount": "100,000",
                                                        "date": "2027-02-10"})
    est = api.estimate(plan, dataset, "ana", [deal])
    assert est.difference == D("10000")
    assert [(p.pay_period, p.after - p.before) for p in est.paid] == [("2027-02", D("5000"))]
    # D1 (200,000, January, never collected) waits for 10,000 already
    assert (est.awaiting_before, est.awaiting_after) == (D("10000"), D("15000"))
    code = main(["estimate", str(MECHANICS / "payout_schedule.plan"), "--data", str(data),
                 "--payee", "ana", "--deal", "amount=100,000", "date=2027-02-10"])
    out = capsys.readouterr().out
    assert code == 0
    assert ("    └── awaiting collection, paid when the customer pays: +5,000.00 USD "
            "(10,000.00 USD -> 15,000.00 USD)") in out
    code = main(["estimate", str(MECHANICS / "payout_schedule.plan"), "--data", str(data),
                 "--payee", "ana", "--deal", "amount=100,000", "date=2027-02-10",
                 "--format", "json"])
    (report,) = json.loads(capsys.readouterr().out)["estimates"]
    assert report["awaiting_collection"] == {"before": "10000.00", "after": "15000.00"}


def test_an_amount_in_a_currency_without_a_rate_is_the_deals_usage_error(data, capsys):
    # The run stopped with "no JPY->USD rate" at the plan's first line (exit 1), as if the plan
    # were wrong; it is the --deal amount that needs the rate.
    (data / "fx.csv").write_text("currency,target,date,rate\nEUR,USD,2027-01-01,1.10\n")
    plan = str(MECHANICS / "fx.plan")
    base = ["estimate", plan, "--data", str(data), "--payee", "ana", "--deal"]
    code = main([*base, "amount=1,000 JPY", "date=2027-02-10"])
    assert code == 2
    assert capsys.readouterr().err.endswith(  # after the data's warning: mia is a MGR
        "incentive estimate: --deal: amount: no JPY->USD rate on or before 2027-02-10 in the "
        "FX table, to convert the deal into the plan currency\n"
        "   = hint: give the amount in USD or in a currency with rates: EUR, or add a "
        "JPY->USD rate to the FX table\n")
    assert main([*base, "amount=1,000 EUR", "date=2027-02-10"]) == 0
    assert "+110.00 USD earned by ana" in capsys.readouterr().out  # 1,100 USD at 10%


def test_a_converted_or_split_deal_shows_the_payees_credit_with_its_rate(data, capsys):
    # "at 1,000.00 EUR" in the title and "10% of 660.00 USD" in the line: the rate and the
    # share between them were not shown.
    (data / "fx.csv").write_text("currency,target,date,rate\nEUR,USD,2027-01-01,1.10\n")
    code = main(["estimate", str(MECHANICS / "fx.plan"), "--data", str(data), "--payee", "ana",
                 "--deal", "amount=1,000 EUR", "date=2027-02-10", "splits=ana:60;bob:40"])
    assert code == 0
    assert (f"├── credit bookings of deal HYPOTHETICAL: 660.00 USD — deal HYPOTHETICAL booked "
            f"at 1,100.00 USD (1,000.00 EUR × 1.10, the EUR→USD rate of 2027-01-01, "
            f"{data / 'fx.csv'}:2)") in capsys.readouterr().out
    code = main(["estimate", str(MECHANICS / "fx.plan"), "--data", str(data), "--payee", "ana",
                 "--deal", "amount=1,000", "date=2027-02-10", "--format", "json"])
    (report,) = json.loads(capsys.readouterr().out)["estimates"]
    assert report["credits"] == []  # in the plan currency, all to ana: the amount itself


def test_another_payees_open_deal_is_not_closed_as_the_payees_own(data):
    # D5 is bob's open deal: estimating it for ana booked it to her, silently.
    plan, dataset = load("marginal_tiers", data)
    with pytest.raises(DealError) as bad:
        api.hypothetical_deal(plan, dataset, "ana", {"amount": "1", "id": "D5"})
    assert (bad.value.message, bad.value.hint) == (
        "id: deal D5 is bob's open deal, not ana's",
        "estimate it for bob (--payee bob), give ana a share of it (splits=bob:50;ana:50), or "
        "use a new id")
    shared = api.hypothetical_deal(plan, dataset, "ana", {"amount": "1", "id": "D5",
                                                          "splits": "bob:50;ana:50"})
    assert shared.event.deal == "D5"
    assert api.hypothetical_deal(plan, dataset, "bob", {"amount": "1", "id": "D5"}).event.owner \
        == "bob"


def test_an_open_deal_in_a_currency_without_a_rate_is_a_usage_error_naming_its_row(data, capsys):
    # It stopped with "no JPY->USD rate" at the plan's first line (exit 1), as --deal did: the
    # data has a rate for the stage event's day, none for the day the deal is closed on.
    (data / "events.csv").write_text(EVENTS.replace('E3,D3,2027-01-25,stage,"60,000",USD',
                                                    'E3,D3,2027-01-25,stage,"60,000",JPY'))
    (data / "fx.csv").write_text("currency,target,date,rate\nEUR,USD,2027-01-01,1.10\n"
                                 "JPY,USD,2027-01-20,0.0065\n")
    code = main(["estimate", str(MECHANICS / "fx.plan"), "--data", str(data), "--payee", "ana",
                 "--pipeline", "--date", "2027-01-10"])
    assert code == 2
    assert capsys.readouterr().err.endswith(
        f"incentive estimate: --pipeline: open deal D3: its amount as of 2027-01-25 "
        f"({data / 'events.csv'}:4), 60,000 JPY: no JPY->USD rate on or before 2027-01-10 "
        "in the FX table, to convert the deal into the plan currency\n"
        "   = hint: add a JPY->USD rate to the FX table; the currencies with a rate on "
        "2027-01-10: EUR\n")


def test_a_managers_own_deal_says_why_the_override_does_not_pay_for_it(data, capsys):
    # The override pays on the team's bookings (mia's direct reports'): her own deal is not in
    # them, so it earns her nothing, and the report says why instead of a bare 0.00 earned.
    plan, dataset = load("override", data)
    deal = api.hypothetical_deal(plan, dataset, "mia", {"amount": "50,000",
                                                        "date": "2027-05-01"})
    est = api.estimate(plan, dataset, "mia", [deal])
    assert est.difference == 0
    reason = ("it pays on team bookings, the figures of mia's direct reports, which leave out "
              "mia's own deal")
    assert [(n.rule, n.deal, n.reason) for n in est.not_paid] == [
        ("mgr", "HYPOTHETICAL", reason)]
    assert main(["estimate", str(MECHANICS / "override.plan"), "--data", str(data),
                 "--payee", "mia", "--deal", "amount=50,000", "date=2027-05-01"]) == 0
    assert capsys.readouterr().out.splitlines()[1:] == [
        "└── rules that give mia nothing for deal HYPOTHETICAL",
        f"    └── Manager override (mgr): {reason}"]
    # A rule for another role is not one that could pay the payee: ana (AE) is not told about
    # the override (MGR).
    rep = api.estimate(plan, dataset, "ana", [api.hypothetical_deal(
        plan, dataset, "ana", {"amount": "1,000", "date": "2027-05-01"})])
    assert rep.not_paid == ()


def test_a_bonus_the_deal_does_not_move_says_which_step_it_misses(data, capsys):
    # bonus_step pays 5,000 USD from 100% of a quarter's 100,000 USD quota and 10,000 USD from
    # 120%. ana has 200,000 booked in Q1 and 105,000 in Q2; bob nothing in Q3.
    events = EVENTS + "E8,D8,2027-04-10,booked,\"105,000\",USD,ana,\n"
    plan, dataset = load("bonus_step", data, events)

    def why(payee: str, amount: str, date: str) -> str:
        deal = api.hypothetical_deal(plan, dataset, payee, {"amount": amount, "date": date})
        est = api.estimate(plan, dataset, payee, [deal])
        [club] = [n for n in est.not_paid if n.rule == "club"]
        return club.reason

    assert why("bob", "10,000", "2027-08-01") == (
        "2027-Q3 attainment 10% with the deal (0% without) is below the first step, 100% "
        "(5,000 USD)")
    assert why("ana", "5,000", "2027-05-01") == (
        "2027-Q2 attainment 110% with the deal (105% without): still the step at 100% "
        "(5,000 USD); the next step is 120% (10,000 USD)")
    assert why("ana", "5,000", "2027-02-01") == (
        "2027-Q1 attainment 205% with the deal (200% without): the top step, 120% "
        "(10,000 USD), is reached without the deal")
    assert main(["estimate", str(MECHANICS / "bonus_step.plan"), "--data", str(data),
                 "--payee", "bob", "--deal", "amount=10,000", "date=2027-08-01"]) == 0
    assert ("    └── Club kicker (club): 2027-Q3 attainment 10% with the deal (0% without) is "
            "below the first step, 100% (5,000 USD)") in capsys.readouterr().out.splitlines()


def test_a_linear_bonus_or_its_condition_the_deal_does_not_reach(data, tmp_path):
    plan, dataset = load("bonus_linear", data)
    deal = api.hypothetical_deal(plan, dataset, "bob", {"amount": "10,000",
                                                        "date": "2027-08-01"})
    reasons = {n.rule: n.reason for n in api.estimate(plan, dataset, "bob", [deal]).not_paid}
    assert reasons == {
        "ramp": "2027-Q3 attainment 10% with the deal (0% without) is below the start of its "
                "linear scale, 50% (0 USD)",
        "base": "2027-Q3 attainment 10% with the deal (0% without) is below the start of its "
                "linear scale, 50% (200 USD)"}
    text = (MECHANICS / "bonus_step.plan").read_text().split("\nexample")[0].replace(
        "  step on attainment per quarter\n",
        "  when bookings >= 50,000 USD\n  step on attainment per quarter\n")
    (tmp_path / "when.plan").write_text(text)
    plan = api.load_plan(str(tmp_path / "when.plan")).plan
    assert plan is not None
    deal = api.hypothetical_deal(plan, dataset, "bob", {"amount": "10,000",
                                                        "date": "2027-08-01"})
    [club] = api.estimate(plan, dataset, "bob", [deal]).not_paid
    assert club.reason == ("the condition 'bookings >= 50,000 USD' does not hold in 2027-Q3, "
                           "with the deal as without it")
