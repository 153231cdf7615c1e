"""The shipped CRM sample (plans/crm/): the export is unedited, the mapping reads it with every
choice reported, the numbers in the mapping and the plan are the ones their comments derive
from the export, and a run gives every payee a statement for each quarter of 2017 whose
commission bases reconcile with the won deals, to the cent."""

from __future__ import annotations

import csv
import hashlib
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from incentive_dsl import api
from incentive_dsl.diagnostics import Severity

ROOT = Path(__file__).resolve().parents[1]
CRM = ROOT / "plans" / "crm"
DATA = CRM / "data"
PLAN = CRM / "field_sales.plan"
MAPPING = CRM / "crm.toml"
QUARTERS = ("2017-Q1", "2017-Q2", "2017-Q3", "2017-Q4")
SHA256 = {
    "sales_pipeline.csv": "825ce8f6c32d4009548b468df3173d55a46fd73f2531f532c5459371dc52adf2",
    "sales_teams.csv": "aeff1272ebe196f5a27e3fc0578aa27abf48ed9ae461aa344fb95990e5ad8bd1",
    "products.csv": "7c1c8cbbdb6d4c286902e1985eeb529a36366d6a43f43cd4a93c4b1da2a6eb84",
    "accounts.csv": "e5242324768a563fc632cddfed49a29acbbf2892b8a3c6453cc9650de9ae0358",
    "data_dictionary.csv": "22b34e498d07e3d7f322afdbf81d70a5dc0a389792944e50ca2af86a3597f0af",
}


def rows(name: str) -> list[dict[str, str]]:
    with open(DATA / name, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def quarter(day: str) -> str:
    return f"{day[:4]}-Q{(int(day[5:7]) - 1) // 3 + 1}"


@pytest.fixture(scope="module")
def loaded():
    plan = api.load_plan(str(PLAN.relative_to(ROOT)))
    assert plan.plan is not None, plan.diagnostics
    dataset, diags = api.load_mapping(str(MAPPING.relative_to(ROOT)), plan=plan.plan)
    return plan, dataset, diags


@pytest.fixture(scope="module")
def result(loaded):
    plan, dataset, diags = loaded
    assert not any(d.is_error for d in diags)
    run = api.run(plan.versions, dataset)
    assert run.ok, run.diagnostics
    return run


@pytest.fixture(autouse=True)
def at_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def test_the_export_is_shipped_unedited():
    for name, digest in SHA256.items():
        assert hashlib.sha256((DATA / name).read_bytes()).hexdigest() == digest, name
    assert (DATA / "README.md").is_file()


def test_the_mapping_reads_everything_and_reports_its_choices(loaded):
    _, dataset, diags = loaded
    assert [d for d in diags if d.severity is not Severity.NOTE] == []
    notes = sorted(d.message for d in diags)
    expected = [
        "1,589 open deals: no booking", "500 open deals: no booking",
        "2,473 lost deals: no booking and no event for the loss",
        "4,238 bookings dated by 'close_date'", "'GTXPro' read as 'GTX Pro' in 1,480 rows",
        "'technolgy' read as 'technology' in 12 rows",
        "field 'account' is empty in 1,425 rows of the deals",
        "field 'sector' is empty in 1,425 rows of the deals",
        "5 payees of the roster have no deal in the export and manage nobody: Carl Lin, "
        "Carol Thompson, Elizabeth Anderson, Mei-Mei Johns, Natalya Ivanova",
        "6 managers named in column 'manager' added as payees with role MANAGER: Cara Losch, "
        "Celia Rouche, Dustin Brinkmann, Melvin Marxen, Rocco Neubert, Summer Sewald",
    ]
    for text in expected:
        assert any(text in n for n in notes), (text, notes)
    assert len(notes) == len(expected)
    kinds = Counter(e.kind for e in dataset.events)
    assert kinds == {"booked": 4238, "stage": 4238 + 2473 + 1589}
    roles = Counter(p.role for p in dataset.payees)
    assert roles == {"AGENT": 35, "MANAGER": 6}


def test_territory_indexes_are_computed_from_the_export(loaded):
    """crm.toml: each office's won value per agent over the company's, to the whole percent."""
    _, dataset, _ = loaded
    office = {r["sales_agent"]: r["regional_office"] for r in rows("sales_teams.csv")}
    agents = Counter(office.values())
    won: Counter = Counter()
    for r in rows("sales_pipeline.csv"):
        if r["deal_stage"] == "Won":
            won[office[r["sales_agent"]]] += Decimal(r["close_value"])
    company = sum(won.values()) / len(office)
    computed = {o: (won[o] / agents[o] / company * 100).quantize(Decimal(1)) / 100
                for o in agents}
    assert {t.territory: t.index for t in dataset.territories} == computed
    assert sum(won.values()) == 10_005_534


def test_the_quota_is_set_from_the_export(loaded):
    """field_sales.plan: the company's won value per agent per quarter-of-months over the ten
    months with closings, rounded down to the thousand."""
    plan = loaded[0].plan
    won = [r for r in rows("sales_pipeline.csv") if r["deal_stage"] == "Won"]
    months = {r["close_date"][:7] for r in won}
    assert min(months) == "2017-03" and len(months) == 10  # no closing before March 2017
    per_quarter = sum(Decimal(r["close_value"]) for r in won) / 35 / len(months) * 3
    assert int(per_quarter) == 85_761
    (value,) = plan.quota("bookings").values
    assert value.amount == int(per_quarter) // 1000 * 1000
    assert str(value.start) == "2017-03-01"


def test_reconciliation_commission_bases_equal_won_close_values(result):
    """Per quarter: the credit lines the commission paid on add up to the won close values of
    the export closed in that quarter, and each won deal is a base exactly once."""
    won: dict[str, Decimal] = defaultdict(Decimal)
    won_deals: dict[str, set[str]] = defaultdict(set)
    for r in rows("sales_pipeline.csv"):
        if r["deal_stage"] == "Won":
            won[quarter(r["close_date"])] += Decimal(r["close_value"])
            won_deals[quarter(r["close_date"])].add(r["opportunity_id"])
    credits = {c.id: c for c in result.credits}
    bases: dict[str, Decimal] = defaultdict(Decimal)
    base_deals: dict[str, list[str]] = defaultdict(list)
    for e in result.earnings:
        if e.component == "core" and e.kind == "commission":
            (line,) = (credits[i] for i in e.trace.inputs)
            bases[e.period] += line.amount
            base_deals[e.period].append(line.deal)
    assert sorted(bases) == list(QUARTERS)
    for q in QUARTERS:
        assert bases[q] == won[q], q
        assert sorted(base_deals[q]) == sorted(won_deals[q]), q
    assert sum(bases.values()) == Decimal(10_005_534)


def test_every_payee_with_deals_and_every_manager_has_a_statement_each_quarter(result, loaded):
    _, dataset, _ = loaded
    idle = {"Carl Lin", "Carol Thompson", "Elizabeth Anderson", "Mei-Mei Johns",
            "Natalya Ivanova"}
    active = {p.id for p in dataset.payees} - idle
    have = {(s.payee, s.pay_period) for s in result.statements}
    assert {(p, q) for p in active for q in QUARTERS} <= have
    assert len(active) == 36


def test_all_35_agents_and_6_managers_have_a_statement_each_quarter(result, loaded):
    _, dataset, _ = loaded
    have = {(s.payee, s.pay_period) for s in result.statements}
    assert have == {(p.id, q) for p in dataset.payees for q in QUARTERS}
    assert len(have) == 41 * 4


def test_payouts_add_up(result):
    by_component: Counter = Counter()
    for e in result.earnings:
        by_component[e.component] += e.amount
    assert sum(s.paid for s in result.statements) == sum(by_component.values())
    # the pre-sale rewards of won deals come back out of their commission
    assert sum(e.amount for e in result.earnings if e.kind == "netting") < 0
    assert by_component["gtk"] == Decimal(11_000)  # 11 GTK deals won April to September
