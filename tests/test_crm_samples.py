"""The Salesforce-shaped and HubSpot-shaped sample exports (plans/crm/salesforce/,
plans/crm/hubspot/): read through their mappings with no error or warning, and their payouts
reconciled, payee by payee and quarter by quarter, with a computation written here from the raw
CSV files alone (csv, Fraction, the plan's rules by hand), sharing no code with the mapping or
the interpreter."""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from incentive_dsl import api, cli
from incentive_dsl.audit import render
from incentive_dsl.diagnostics import Severity

ROOT = Path(__file__).parents[1]
SF = ROOT / "plans" / "crm" / "salesforce"
HS = ROOT / "plans" / "crm" / "hubspot"
CENT = Fraction(1, 100)


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def cents(x: Fraction) -> Fraction:
    """Round half even to the cent."""
    q, r = divmod(x / CENT, 1)
    if r > Fraction(1, 2) or (r == Fraction(1, 2) and q % 2):
        q += 1
    return q * CENT


def share_out(total: Fraction, shares: dict[str, Fraction]) -> dict[str, Fraction]:
    """Cut each share down to the cent; the cents left go to the largest remainders, ties in
    payee id order (docs/language.md §9.3)."""
    exact = {p: total * s for p, s in shares.items()}
    out = {p: (x // CENT) * CENT for p, x in exact.items()}
    left = round((total - sum(out.values())) / CENT)
    for p in sorted(shares, key=lambda p: (-(exact[p] - out[p]), p))[:left]:
        out[p] += CENT
    return out


def quarter(day: dt.date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


QUARTERS = [f"2024-Q{i}" for i in range(1, 5)]


def statements(plan_path: Path, mapping: Path):
    plan = api.load_plan(str(plan_path))
    assert plan.plan is not None, plan.diagnostics
    dataset, diags = api.load_mapping(str(mapping), plan=plan.plan)
    assert [d for d in diags if d.severity is not Severity.NOTE] == []
    result = api.run(plan.versions, dataset)
    assert result.ok, result.diagnostics
    got = {(s.payee, s.pay_period): (s.earned, s.clawed_back, s.paid, s.carried)
           for s in result.statements}
    return result, got


def commission_lines(credit_lines: dict[str, Fraction], rate: Fraction) -> dict[str, Fraction]:
    """The commission lines of one deal event: rounded half even to the cent as a whole, then
    shared to the cent in proportion to the payees' credit (docs/language.md §12)."""
    total = sum(credit_lines.values())
    if not total:
        return {}
    return share_out(cents(total * rate), {p: x / total for p, x in credit_lines.items()})


def with_pay(earned: dict, clawed: dict, payees) -> dict:
    """Statements (earned, of it clawed back, paid, carried) from the quarters' earning and
    clawback lines (each already rounded to the cent): a statement's earned includes its
    clawbacks; a negative quarter pays nothing and is carried into the next
    (docs/language.md §20.7)."""
    out = {}
    for p in payees:
        carried = Fraction(0)
        for q in QUARTERS:
            e, c = earned.get((p, q), Fraction(0)), clawed.get((p, q), Fraction(0))
            due = e + c - carried
            paid, carried = (due, Fraction(0)) if due >= 0 else (Fraction(0), -due)
            out[(p, q)] = tuple(Decimal(x.numerator) / Decimal(x.denominator)
                                for x in (e + c, c, paid, carried))
    return out


# ------------------------------------------------------------------------------ Salesforce


def salesforce_by_hand() -> dict:
    data = SF / "data"
    roles = {"00E5e000000MqRvEAK": "RVP", "00E5e000000MqAeEAK": "AE", "00E5e000000MqSeEAK": "SE"}
    users = {}
    for u in rows(data / "User.csv"):
        end = dt.date.fromisoformat(u["LastModifiedDate"][:10]) if u["IsActive"] == "false" \
            else None
        users[u["Id"]] = (roles[u["UserRoleId"] or "00E5e000000MqAeEAK"],
                          dt.date.fromisoformat(u["CreatedDate"][:10]), end, u["ManagerId"])

    def employed(p: str, day: dt.date) -> bool:
        _, start, end, _ = users[p]
        return start <= day and (end is None or day <= end)

    rates = defaultdict(list)
    for r in rows(data / "DatedConversionRate.csv"):
        rates[r["IsoCode"]].append((dt.date.fromisoformat(r["StartDate"]),
                                    Fraction(r["ConversionRate"])))

    def usd(amount: str, currency: str, day: dt.date) -> Fraction:
        rate = max(x for x in rates[currency] if x[0] <= day)[1]
        return cents(Fraction(amount) / rate)  # units of the currency per 1 USD: divide

    currency = {o["Id"]: o["CurrencyIsoCode"] for o in rows(data / "Opportunity.csv")}
    owner = {o["Id"]: o["OwnerId"] for o in rows(data / "Opportunity.csv")}
    services = defaultdict(Fraction)
    for li in rows(data / "OpportunityLineItem.csv"):
        if li["ProductCode"].startswith("SVC-"):
            services[li["OpportunityId"]] += Fraction(li["TotalPrice"])
    splits = defaultdict(dict)
    for s in rows(data / "OpportunitySplit.csv"):
        if s["SplitTypeId"] == "1495e000000CaRvAAK":  # revenue splits; overlays are not paid
            splits[s["OpportunityId"]][s["SplitOwnerId"]] = Fraction(s["SplitPercentage"]) / 100
    history = defaultdict(list)
    for h in rows(data / "OpportunityHistory.csv"):
        history[h["OpportunityId"]].append(h)

    credit = defaultdict(Fraction)  # (payee, quarter) -> bookings net of cancellations
    earned, clawed = defaultdict(Fraction), defaultdict(Fraction)
    for deal, hs in history.items():
        won, booked_on, booked_usd, amount, paid_lines = False, None, None, None, []
        for h in sorted(hs, key=lambda h: h["CreatedDate"]):
            day = dt.date.fromisoformat(h["CreatedDate"][:10])
            if h["StageName"] == "Closed Won":
                if not won:  # a booking: commission on each split line, the owner's SPIFF
                    won, booked_on, amount = True, day, h["Amount"]
                    booked_usd = value = usd(amount, currency[deal], day)
                    if services[deal] > 0 and users[owner[deal]][0] == "AE":
                        earned[(owner[deal], quarter(day))] += 250
                        paid_lines.append((owner[deal], Fraction(250)))
                elif h["Amount"] != amount:  # an amendment: the difference
                    value = usd(h["Amount"], currency[deal], day) - usd(amount, currency[deal],
                                                                         day)
                    amount = h["Amount"]
                else:
                    continue
                shares = share_out(value, splits[deal])
                for p, line in shares.items():
                    credit[(p, quarter(day))] += line
                for p, commission in commission_lines(
                        {p: x for p, x in shares.items() if users[p][0] in ("AE", "SE")},
                        Fraction(8, 100)).items():
                    earned[(p, quarter(day))] += commission
                    paid_lines.append((p, commission))
            elif won:  # re-opened or lost after being won: a cancellation
                won = False
                for p, line in share_out(booked_usd, splits[deal]).items():
                    if employed(p, day):
                        credit[(p, quarter(day))] -= line
                if (day - booked_on).days <= 180:
                    for p, commission in paid_lines:
                        clawed[(p, quarter(day))] -= commission
                paid_lines = []
    for m, (role, *_rest) in users.items():
        if role == "RVP":
            team = [p for p, u in users.items() if u[3] == m]
            for q in QUARTERS:
                earned[(m, q)] += cents(sum(credit[(p, q)] for p in team) / 100)
    return with_pay(earned, clawed, users)


def test_salesforce_payouts_reconcile_with_a_computation_from_the_raw_files():
    _, got = statements(SF / "salesforce.plan", SF / "salesforce.toml")
    assert got == salesforce_by_hand()
    # what the sample is there to show, in figures: the re-opened deal's commission and SPIFF
    # are clawed back (Tom Becker, who has left, carries what he owes), the won-again deal
    # earns both again
    assert got[("0055e000004Ae3cAAC", "2024-Q2")] == (Decimal("-448.00"), Decimal("-4730.00"),
                                                     Decimal(0), Decimal("448.00"))


def test_salesforce_history_becomes_dated_events():
    plan = api.load_plan(str(SF / "salesforce.plan")).plan
    dataset, _ = api.load_mapping(str(SF / "salesforce.toml"), plan=plan)
    umbrella = [(e.deal, e.kind, str(e.date), e.amount) for e in dataset.events
                if e.deal.startswith("0065e00000GxA04AAF")]
    assert umbrella == [
        ("0065e00000GxA04AAF", "booked", "2024-03-28", Decimal("80000.00")),
        ("0065e00000GxA04AAF", "cancelled", "2024-04-15", None),  # re-opened
        ("0065e00000GxA04AAF#2", "booked", "2024-05-20", Decimal("72000.00")),  # won again
    ]
    hooli = [(e.kind, str(e.date), e.amount) for e in dataset.events
             if e.deal == "0065e00000GxA05AAF"]
    assert hooli == [("booked", "2024-06-10", Decimal("25000.00")),
                     ("amended", "2024-07-02", Decimal("30000.00"))]
    acme = next(e for e in dataset.events if e.id == "0065e00000GxA01AAF:booked")
    assert acme.splits == (("0055e000004Ae1aAAC", Decimal("0.5")),
                           ("0055e000004Ae2bAAC", Decimal("0.3")),
                           ("0055e000004Se1dAAC", Decimal("0.2")))
    assert acme.source.path.endswith("OpportunityHistory.csv") and acme.source.row == 5
    tom = next(p for p in dataset.payees if p.name == "Tom Becker")
    assert (tom.role, tom.start, tom.end) == ("AE", dt.date(2023, 2, 1), dt.date(2024, 6, 28))
    sam = next(p for p in dataset.payees if p.name == "Sam Patel")
    assert sam.role == "AE"  # empty UserRoleId: the default
    assert {(f.currency, f.target, f.inverse) for f in dataset.fx} == {("EUR", "USD", True),
                                                                       ("GBP", "USD", True)}


def test_statements_show_display_names(capsys):
    code = cli.main(["run", str(SF / "salesforce.plan"), "--map", str(SF / "salesforce.toml"),
                     "--format", "csv"])
    out = capsys.readouterr().out
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("payee,payee_name,pay_period,")
    assert "0055e000004Ae3cAAC,Tom Becker,2024-Q2," in out
    assert cli.main(["run", str(SF / "salesforce.plan"), "--map", str(SF / "salesforce.toml")]) \
        == 0
    table = capsys.readouterr().out
    assert "Tom Becker" in table and "0055e000004Ae3cAAC" not in table
    assert cli.main(["explain", str(SF / "salesforce.plan"), "--map", str(SF / "salesforce.toml"),
                     "--payee", "Tom Becker", "--period", "2024-Q2"]) == 0
    assert capsys.readouterr().out.startswith("Tom Becker (0055e000004Ae3cAAC), 2024-Q2: earned "
                                              "-448.00 USD")


def test_a_shared_display_name_shows_the_id():
    plan = api.load_plan(str(SF / "salesforce.plan"))
    dataset, _ = api.load_mapping(str(SF / "salesforce.toml"), plan=plan.plan)
    import attrs
    payees = tuple(attrs.evolve(p, name="Jonas Weber") if p.name == "Priya Nair" else p
                   for p in dataset.payees)
    result = api.run(plan.versions, attrs.evolve(dataset, payees=payees))
    labels = render.payee_labels(result)
    assert labels["0055e000004Ae2bAAC"] == "Jonas Weber (0055e000004Ae2bAAC)"
    assert labels["0055e000004Ae1aAAC"] == "Jonas Weber (0055e000004Ae1aAAC)"
    assert labels["0055e000004Ae4eAAC"] == "Sam Patel"


# ------------------------------------------------------------------------------ HubSpot


def hubspot_by_hand() -> dict:
    data = HS / "data"
    users = {u["Email"]: (u["Role"] or "Sales Rep", u["Manager"]) for u in rows(data / "users.csv")}
    earned, clawed = defaultdict(Fraction), defaultdict(Fraction)
    team_nb = defaultdict(Fraction)

    def day(text: str) -> dt.date:
        month, d, year = text.split()[0].split("/")
        return dt.date(int(year), int(month), int(d))

    for d in rows(data / "hubspot-crm-exports-all-deals-2024-10-03.csv"):
        stage = d["Deal Stage"]
        if stage not in ("Closed Won", "Renewal Signed", "Cancelled"):
            continue
        owner = d["Deal owner"].split("(")[1].rstrip(")")
        amount = Fraction(d["Amount"].lstrip("$").replace(",", ""))
        booked = day(d["Close Date"])
        new_business = d["Pipeline"] == "Sales Pipeline"
        commission = cents(amount * (Fraction(10, 100) if new_business else Fraction(4, 100)))
        earned[(owner, quarter(booked))] += commission
        if new_business:
            team_nb[(users[owner][1], quarter(booked))] += amount
        if stage == "Cancelled":
            cancelled = day(d["Cancellation Date"])
            if (cancelled - booked).days <= 90:
                clawed[(owner, quarter(cancelled))] -= commission
    for (manager, q), total in team_nb.items():
        earned[(manager, q)] += cents(total * Fraction(2, 100))
    return with_pay(earned, clawed, users)


def test_hubspot_payouts_reconcile_with_a_computation_from_the_raw_files():
    _, got = statements(HS / "hubspot.plan", HS / "hubspot.toml")
    assert got == hubspot_by_hand()
    assert got[("emily.wong@acme.io", "2024-Q2")][0] == Decimal("125000.00")  # $1,250,000.00


def test_hubspot_cells_are_read_by_their_column_formats():
    plan = api.load_plan(str(HS / "hubspot.plan")).plan
    dataset, _ = api.load_mapping(str(HS / "hubspot.toml"), plan=plan)
    fjord = next(e for e in dataset.events if e.deal == "1107")
    assert (fjord.date, fjord.amount, fjord.owner) == (dt.date(2024, 5, 31),
                                                       Decimal("1250000.00"),
                                                       "emily.wong@acme.io")
    elm = [(e.kind, e.date) for e in dataset.events if e.deal == "1106"]
    assert elm == [("booked", dt.date(2024, 3, 15)), ("cancelled", dt.date(2024, 5, 20))]
    emily = next(p for p in dataset.payees if p.id == "emily.wong@acme.io")
    assert (emily.name, emily.role, emily.start) == ("Emily Wong", "REP", dt.date(2024, 1, 8))


@pytest.mark.parametrize("folder", [SF, HS])
def test_each_sample_has_a_readme(folder):
    text = (folder / "README.md").read_text()
    assert "written for the project" in text and "incentive run" in text
