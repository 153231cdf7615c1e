"""Exports of other shapes through a mapping (docs/mapping.md): column formats, defaults,
splits files, outcome `cancelled`, stage history, FX tables with named columns, the roster's
display name and active flag, and the hints that used to mislead. Each problem is checked at
its exact place; the shipped samples are reconciled in tests/test_crm_samples.py."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import attrs
from hypothesis import given
from hypothesis import strategies as st

from incentive_dsl import api
from incentive_dsl.check.model import CreditSpec
from incentive_dsl.data.formats import FormatError, date_pattern, number_format
from incentive_dsl.data.mapping import load_mapping
from incentive_dsl.data.values import BadValue
from incentive_dsl.diagnostics import Severity
from incentive_dsl.eval.money import div, round_money

import pytest

ROOT = Path(__file__).parents[1]
TEAM = "id,name,role,start,active,left\nana,Ana Ames,AE,2023-01-01,true,\n" \
       "bob,Bob Burr,AE,2023-01-01,true,\n"
DEALS = """id,owner,stage,amount_cents,closed,cancelled_on
D1,ana,won,1250050,2024-02-01,
D2,bob,cancelled,990000,2024-01-10,2024-03-01
D3,ana,lost,500000,2024-01-12,
"""
BASE = """\
[deals]
file = "deals.csv"
id = "id"
owner = "owner"
stage = "stage"
amount = "amount_cents"
fixed_currency = "USD"

[deals.formats]
amount_cents = { scale = "0.01" }

[deals.stages]
won = { outcome = "booked", date = "closed" }
cancelled = { outcome = "cancelled", booked = "closed", date = "cancelled_on" }
lost = "lost"

[roster]
file = "team.csv"
id = "id"
name = "name"
role = "role"
start = "start"
"""


def export(tmp_path: Path, mapping: str = BASE, deals: str = DEALS, team: str = TEAM,
           **files: str) -> Path:
    (tmp_path / "deals.csv").write_text(deals)
    (tmp_path / "team.csv").write_text(team)
    for name, text in files.items():
        (tmp_path / name.replace("_", ".")).write_text(text)
    path = tmp_path / "map.toml"
    path.write_text(mapping)
    return path


def found(diags, code: str, severity: Severity = Severity.ERROR):
    return [d for d in diags if d.code == code and d.severity is severity]


def place(d) -> tuple[str, int, int]:
    return Path(d.span.path).name, d.span.line, d.span.column


def errors(diags):
    return [(d.code, d.message) for d in diags if d.is_error]


# ------------------------------------------------------------------------------ formats


def test_amounts_in_cents_and_the_cancelled_outcome(tmp_path):
    dataset, diags = load_mapping(str(export(tmp_path)))
    assert errors(diags) == []
    got = [(e.id, e.kind, str(e.date), e.amount) for e in dataset.events]
    assert got == [("D2:booked", "booked", "2024-01-10", Decimal("9900.00")),
                   ("D1:booked", "booked", "2024-02-01", Decimal("12500.50")),
                   ("D2:cancelled", "cancelled", "2024-03-01", None)]
    assert "stage value 'cancelled' (1 row): 1 booking dated by 'closed', each cancelled on " \
           "its 'cancelled_on'" in {d.message for d in diags}


def test_a_cancelled_deal_needs_both_dates(tmp_path):
    deals = DEALS.replace("D2,bob,cancelled,990000,2024-01-10,2024-03-01",
                          "D2,bob,cancelled,990000,2024-01-10,")
    dataset, diags = load_mapping(str(export(tmp_path, deals=deals)))
    [d] = found(diags, "D-DATE")
    assert place(d) == ("deals.csv", 3, 36)
    assert d.message == "column 'cancelled_on' is empty: a 'cancelled' deal is cancelled, " \
                        "dated by 'cancelled_on'"
    assert not [e for e in dataset.events if e.deal == "D2"]
    _, diags = load_mapping(str(export(tmp_path, BASE.replace(
        'booked = "closed", ', ""))))
    assert [(place(d), d.message) for d in found(diags, "D-MAP")] == [
        (("map.toml", 14, 1), "stage value 'cancelled' cancels a booked deal but says no column "
                              "dating its booking")]


@pytest.mark.parametrize("pattern, text, day", [
    ("MM/DD/YYYY hh:mm", "10/03/2024 14:05", "2024-10-03"),
    ("DD.MM.YYYY", "3.10.2024", "2024-10-03"),
    ("YYYY-MM-DDThh:mm:ss.SSSZ", "2024-10-03T23:59:59.000Z", "2024-10-03"),
    ("YYYY-MM-DDThh:mm:ssZ", "2024-10-03T01:00:00+02:00", "2024-10-03"),
    ("MM/DD/YYYY hh:mm AM", "10/03/2024 11:05 PM", "2024-10-03"),
])
def test_date_patterns(pattern, text, day):
    assert date_pattern(pattern).normalize(text) == day


@pytest.mark.parametrize("pattern, text, message", [
    ("MM/DD/YYYY", "2024-10-03", "'2024-10-03' does not match the column's date format "
                                 "'MM/DD/YYYY'"),
    ("MM/DD/YYYY", "02/30/2024", "'02/30/2024' is not a calendar date (format 'MM/DD/YYYY')"),
    ("MM/DD/YYYY hh:mm", "02/03/2024 25:00", "'02/03/2024 25:00' is not a time of day (format "
                                             "'MM/DD/YYYY hh:mm')"),
])
def test_a_date_that_does_not_match_its_pattern(pattern, text, message):
    with pytest.raises(BadValue) as e:
        date_pattern(pattern).normalize(text)
    assert e.value.message == message


@pytest.mark.parametrize("pattern, message", [
    ("MM/YYYY", "the date format 'MM/YYYY' has no DD"),
    ("DD/MM/YYYY/DD", "'DD' appears twice in the date format 'DD/MM/YYYY/DD'"),
    ("dd/mm/yyyy", r"^the date format 'dd/mm/yyyy' has no YYYY, MM, DD \(they are written in "
                   r"capitals; mm is minutes\)$"),
])
def test_unusable_date_patterns(pattern, message):
    with pytest.raises(FormatError, match=message):
        date_pattern(pattern)


@pytest.mark.parametrize("fmt, text, plain", [
    (number_format(symbols=("$",)), "$12,500.00", "12500.00"),
    (number_format(symbols=("$",)), "$ 12500", "12500"),
    (number_format(",", ".", ("€",)), "12.500,50 €", "12500.50"),
    (number_format(",", " "), "1 250 000,5", "1250000.5"),
    (number_format(thousands="'"), "1'250.25", "1250.25"),
    (number_format(scale=Decimal("0.01")), "1250050", "12500.50"),
    (number_format(scale=Decimal("1000")), "12.5", "12500.0"),
])
def test_number_formats_are_exact(fmt, text, plain):
    assert fmt.normalize(text) == plain


@pytest.mark.parametrize("text", ["$12,50.00", "12.500,00", "$1e5", "12,500.0x", "US$ 10"])
def test_a_number_that_does_not_match_its_format(text):
    with pytest.raises(BadValue, match="does not match the column's number format"):
        number_format(symbols=("$",)).normalize(text)


def test_a_scale_that_would_need_rounding_is_refused():
    # a scale is exact: 0.5 cents is not silently rounded
    with pytest.raises(BadValue):
        number_format(scale=Decimal("0.001"), thousands="").normalize("1" + "0" * 59 + ".5")


def test_format_mistakes_in_the_mapping(tmp_path):
    mapping = BASE.replace('amount_cents = { scale = "0.01" }',
                           'amount_cents = { scale = 0.01 }\nclosed = { date = "MM/YYYY" }\n'
                           'owner = { take = "name" }\nstage = { decimal = ",", thousands = "," }')
    _, diags = load_mapping(str(export(tmp_path, mapping)))
    assert [(place(d), d.message) for d in found(diags, "D-MAP")] == [
        (("map.toml", 10, 1), "format of column 'amount_cents': 'scale' must be a number "
                              "written as a text, such as \"0.01\" for cents, not 0.01"),
        (("map.toml", 11, 1), "format of column 'closed': the date format 'MM/YYYY' has no DD"),
        (("map.toml", 12, 1), "format of column 'owner': 'take' is one of email, not 'name'"),
        (("map.toml", 13, 1), "format of column 'stage': ',' cannot separate both thousands and "
                              "decimals"),
    ]


def test_a_cell_that_does_not_match_its_format_is_an_error_at_the_cell(tmp_path):
    mapping = BASE.replace('amount_cents = { scale = "0.01" }',
                           'amount_cents = { scale = "0.01" }\nclosed = { date = "DD/MM/YYYY" }')
    dataset, diags = load_mapping(str(export(tmp_path, mapping)))
    dates = sorted(found(diags, "D-DATE"), key=lambda d: d.span.line)
    assert [(place(d), d.message) for d in dates][0] == (
        ("deals.csv", 2, 20), "column 'closed': '2024-02-01' does not match the column's date "
                              "format 'DD/MM/YYYY'")


def test_the_amount_hint_points_at_the_mapping_not_a_currency_column(tmp_path):
    mapping = BASE.replace('amount_cents = { scale = "0.01" }\n', "")
    deals = DEALS.replace("1250050", '"$12,500.50"').replace("990000", '"9.900,00"')
    _, diags = load_mapping(str(export(tmp_path, mapping, deals)))
    hints = sorted((d.span.line, d.hint) for d in found(diags, "D-AMOUNT"))
    assert hints == [
        (2, 'declare the column\'s format in the mapping: [deals.formats] "amount_cents" = '
            '{ symbol = "$" } (docs/mapping.md, column formats)'),
        (3, 'the column writes a decimal comma: [deals.formats] "amount_cents" = { decimal = '
            '",", thousands = "." }'),
    ]


def test_an_amount_in_another_currency_is_not_read_as_the_fixed_currency(tmp_path):
    # '12,500.50 EUR' under fixed_currency = "USD": declaring EUR as a symbol would read the
    # deal as 12,500.50 USD, so the hint must say the currencies differ instead
    mapping = BASE.replace('amount_cents = { scale = "0.01" }\n', "")
    deals = DEALS.replace("1250050", '"12,500.50 EUR"').replace("990000", '"€9,900.00"')
    _, diags = load_mapping(str(export(tmp_path, mapping, deals)))
    hints = sorted((d.span.line, d.hint) for d in found(diags, "D-AMOUNT"))
    assert hints == [
        (2, "the amount is written in EUR, but fixed_currency reads every deal as USD: map the "
            "export's currency column (currency = \"COLUMN\"), or set fixed_currency = \"EUR\" if "
            "the whole export is in EUR; then [deals.formats] \"amount_cents\" = "
            "{ symbol = \"EUR\" }"),
        (3, "the amount is written in EUR, but fixed_currency reads every deal as USD: map the "
            "export's currency column (currency = \"COLUMN\"), or set fixed_currency = \"EUR\" if "
            "the whole export is in EUR; then [deals.formats] \"amount_cents\" = "
            "{ symbol = \"€\" }"),
    ]


@pytest.mark.parametrize("cell, hint", [
    ("02/13/2024", 'declare the column\'s date format in the mapping: [deals.formats] '
                   '"closed" = { date = "MM/DD/YYYY" } (docs/mapping.md, column formats)'),
    ("13.02.2024", 'declare the column\'s date format in the mapping: [deals.formats] '
                   '"closed" = { date = "DD.MM.YYYY" } (docs/mapping.md, column formats)'),
    ("02/03/2024", 'declare the column\'s date format in the mapping: [deals.formats] '
                   '"closed" = { date = "MM/DD/YYYY" } or { date = "DD/MM/YYYY" }, as the '
                   'export writes its dates (docs/mapping.md, column formats)'),
    ("2024-02-01T17:20:05.000Z", 'declare the column\'s date format in the mapping: '
                                 '[deals.formats] "closed" = { date = '
                                 '"YYYY-MM-DDThh:mm:ss.SSSZ" } (docs/mapping.md, column formats)'),
])
def test_the_date_hint_points_at_the_mapping_not_at_editing_the_export(tmp_path, cell, hint):
    # a mapping reads the export as it is: the hint is the column's format, not "write dates as
    # YYYY-MM-DD" (the hint for the plain data files)
    deals = DEALS.replace("D1,ana,won,1250050,2024-02-01,", f"D1,ana,won,1250050,{cell},")
    _, diags = load_mapping(str(export(tmp_path, deals=deals)))
    [d] = found(diags, "D-DATE")
    assert (d.span.line, d.hint) == (2, hint)


# ------------------------------------------------------------------------------ defaults, roster


def test_defaults_fill_empty_cells_and_are_reported(tmp_path):
    team = TEAM.replace("bob,Bob Burr,AE,", "bob,Bob Burr,,")
    mapping = BASE + '\n[roster.defaults]\nrole = "AE"\n'
    dataset, diags = load_mapping(str(export(tmp_path, mapping, team=team)))
    assert errors(diags) == []
    assert {p.id: p.role for p in dataset.payees} == {"ana": "AE", "bob": "AE"}
    [d] = [d for d in diags if "is used" in d.message]
    assert place(d) == ("map.toml", 25, 1)
    assert d.message == f"column 'role' is empty in 1 row of {tmp_path / 'team.csv'} (line 3): " \
                        "'AE' is used"


def test_without_a_default_an_empty_role_is_an_error(tmp_path):
    team = TEAM.replace("bob,Bob Burr,AE,", "bob,Bob Burr,,")
    _, diags = load_mapping(str(export(tmp_path, team=team)))
    assert errors(diags)[0] == ("D-COLUMN", "payee 'bob' has no role: column 'role' is empty")


def test_an_inactive_payee_ends_on_the_date_given(tmp_path):
    team = TEAM.replace("bob,Bob Burr,AE,2023-01-01,true,", "bob,Bob Burr,AE,2023-01-01,FALSE,"
                        "2024-01-31")
    mapping = BASE + '\n[roster.active]\ncolumn = "active"\nend = "left"\n'
    dataset, diags = load_mapping(str(export(tmp_path, mapping, team=team)))
    bob = next(p for p in dataset.payees if p.id == "bob")
    assert (bob.name, bob.end) == ("Bob Burr", dt.date(2024, 1, 31))
    # bob's deal of 2024-01-10 is before he left: no warning; his name is kept for statements
    assert not [d for d in diags if d.severity is not Severity.NOTE]
    fixed = BASE + '\n[roster.active]\ncolumn = "active"\nend = 2023-12-31\n'
    dataset, diags = load_mapping(str(export(tmp_path, fixed, team=team)))
    assert next(p for p in dataset.payees if p.id == "bob").end == dt.date(2023, 12, 31)
    assert [d.message for d in diags if d.code == "D-PAYEE"] == [
        "'bob' is not employed on 2024-01-10 (employed from 2023-01-01 to 2023-12-31)"]


def test_active_flag_problems(tmp_path):
    team = TEAM.replace("ana,Ana Ames,AE,2023-01-01,true,", "ana,Ana Ames,AE,2023-01-01,maybe,") \
        .replace("bob,Bob Burr,AE,2023-01-01,true,", "bob,Bob Burr,AE,2023-01-01,false,")
    mapping = BASE + '\n[roster.active]\ncolumn = "active"\nend = "left"\n'
    _, diags = load_mapping(str(export(tmp_path, mapping, team=team)))
    assert sorted((place(d), d.message) for d in diags if d.is_error
                  and d.code in ("D-FIELD", "D-DATE")) == [
        (("team.csv", 2, 28), "column 'active': 'maybe' is not yes or no"),
        (("team.csv", 3, 34), "payee 'bob' is inactive ('active' is false) but column 'left' "
                              "is empty: their last day is not known"),
    ]


# ------------------------------------------------------------------------------ splits

SPLITS = """deal,who,pct,type
D1,ana,60,rev
D1,bob,40,rev
D1,bob,100,overlay
D2,bob,100,rev
"""
WITH_SPLITS = BASE.replace("[deals.stages]", """[deals.splits]
file = "splits.csv"
deal = "deal"
payee = "who"
share = "pct"
where = { type = "rev" }

[deals.stages]""")


def test_splits_from_a_file(tmp_path):
    dataset, diags = load_mapping(str(export(tmp_path, WITH_SPLITS, splits_csv=SPLITS)))
    assert errors(diags) == []
    d1 = next(e for e in dataset.events if e.id == "D1:booked")
    assert d1.splits == (("ana", Decimal("0.6")), ("bob", Decimal("0.4")))
    notes = {d.message for d in diags if d.severity is Severity.NOTE}
    assert f"splits of 2 deals read from {tmp_path / 'splits.csv'}, 1 shared by several " \
           "payees; 1 deal without a split row (line 4) go 100% to their owner" in notes
    assert f"the splits: 1 row of {tmp_path / 'splits.csv'} left out (only rows where 'type' " \
           "is 'rev' are read)" in notes


def test_splits_that_do_not_total_100_percent(tmp_path):
    splits = SPLITS.replace("D1,bob,40,rev", "D1,bob,30,rev")
    dataset, diags = load_mapping(str(export(tmp_path, WITH_SPLITS, splits_csv=splits)))
    [d] = found(diags, "D-SPLITS")
    assert place(d) == ("splits.csv", 2, 8)
    assert d.message == "the splits of deal 'D1' total 90%, not 100% (lines 2 and 3)"
    assert not [e for e in dataset.events if e.deal == "D1"]
    without_where = WITH_SPLITS.replace('where = { type = "rev" }\n', "")
    _, diags = load_mapping(str(export(tmp_path, without_where, splits_csv=SPLITS)))
    [d] = found(diags, "D-SPLITS")
    assert place(d) == ("splits.csv", 4, 4)
    assert d.message == "'bob' has two splits of deal 'D1'"
    assert d.hint.endswith("overlay splits are not part of the 100%: keep them out with where "
                           "= { ... }")
    splits = SPLITS.replace("D1,bob,100,overlay", "D1,cy,100,overlay")
    _, diags = load_mapping(str(export(tmp_path, without_where, splits_csv=splits,
                                       team=TEAM + "cy,Cy Cole,SE,2023-01-01,true,\n")))
    [d] = found(diags, "D-SPLITS")
    assert d.message == "the splits of deal 'D1' total 200%, not 100% (lines 2, 3 and 4)"
    assert d.hint.endswith("overlay splits do not: keep them out with where = { ... }")


def test_a_split_payee_not_in_the_roster(tmp_path):
    splits = SPLITS.replace("D1,bob,40,rev", "D1,bobb,40,rev")
    _, diags = load_mapping(str(export(tmp_path, WITH_SPLITS, splits_csv=splits)))
    [d] = found(diags, "D-PAYEE")
    assert place(d) == ("splits.csv", 3, 4)
    assert d.message == f"split payee 'bobb' is not in the roster: 1 row of " \
                        f"{tmp_path / 'splits.csv'} (line 3)"
    assert d.hint == "did you mean 'bob'?"


def test_splits_in_a_column_of_the_deals_file(tmp_path):
    deals = DEALS.replace("cancelled_on\n", "cancelled_on,team\n").replace(
        "2024-02-01,\n", '2024-02-01,,ana:50;bob:50\n').replace("2024-03-01\n", "2024-03-01,\n") \
        .replace("2024-01-12,\n", "2024-01-12,,\n")
    mapping = BASE.replace('fixed_currency = "USD"', 'fixed_currency = "USD"\nsplits = "team"')
    dataset, diags = load_mapping(str(export(tmp_path, mapping, deals)))
    assert errors(diags) == []
    assert next(e for e in dataset.events if e.id == "D1:booked").splits == (
        ("ana", Decimal("0.5")), ("bob", Decimal("0.5")))


def test_split_as_recorded_without_splits_is_an_error(tmp_path):
    plan = api.load_plan(str(ROOT / "plans" / "crm" / "salesforce" / "salesforce.plan")).plan
    assert any(isinstance(c, CreditSpec) and c.split == "recorded" for c in plan.credits)
    _, diags = load_mapping(str(export(tmp_path)), plan)
    [d] = [d for d in found(diags, "D-MAP") if "split as recorded" in d.message]
    assert place(d) == ("map.toml", 1, 2)
    assert d.message == "the plan credits 'split as recorded' but the mapping reads no splits: " \
                        "every deal would go 100% to its owner"


# ------------------------------------------------------------------------------ history

HISTORY = """deal,at,stage,amount
D1,2024-01-05,open,1000000
D1,2024-02-01,won,1250050
D1,2024-02-01,won,1250050
D1,2024-02-20,open,1250050
D1,2024-03-10,won,1100000
D1,2024-04-02,won,1200000
D2,2024-01-10,won,990000
D2,2024-03-01,cancelled,990000
"""
WITH_HISTORY = BASE.replace("[deals.stages]", """[deals.history]
file = "history.csv"
deal = "deal"
stage = "stage"
date = "at"
amount = "amount"

[deals.history.formats]
amount = { scale = "0.01" }

[deals.stages]
open = "open\"""")


def test_history_gives_bookings_amendments_and_cancellations(tmp_path):
    dataset, diags = load_mapping(str(export(tmp_path, WITH_HISTORY, history_csv=HISTORY)))
    assert [d for d in diags if d.severity is not Severity.NOTE] == []
    got = [(e.id, str(e.date), e.amount) for e in dataset.events]
    assert got == [
        ("D2:booked", "2024-01-10", Decimal("9900.00")),
        ("D1:booked", "2024-02-01", Decimal("12500.50")),
        ("D1:cancelled", "2024-02-20", None),  # re-opened
        ("D2:cancelled", "2024-03-01", None),
        ("D1#2:booked", "2024-03-10", Decimal("11000.00")),
        ("D1#2:amended:1", "2024-04-02", Decimal("12000.00")),
    ]
    [d] = [d for d in diags if "the history of" in d.message]
    assert d.message == (f"the history of 2 deals read from {tmp_path / 'history.csv'}: 3 "
                         "bookings; 1 amendment (a booked amount changed); 2 cancellations (1 "
                         "cancelled, 1 re-opened); 1 deal booked again after a cancellation, as "
                         "deal ID#2 (a deal is booked once); 2 rows change neither the outcome "
                         "nor the booked amount (no event); 1 deal without history (line 4) are "
                         "read from their current stage")


def test_a_reopened_deal_is_clawed_back_by_the_plan(tmp_path):
    plan = api.load_plan(str(ROOT / "plans" / "crm" / "salesforce" / "salesforce.plan"))
    # the plan splits as recorded: the deals file has a splits column, empty (all to the owner)
    path = export(tmp_path, WITH_HISTORY.replace('fixed_currency = "USD"',
                                                 'fixed_currency = "USD"\nsplits = "team"'),
                  DEALS.replace("\n", ",\n").replace("cancelled_on,\n", "cancelled_on,team\n"),
                  history_csv=HISTORY)
    dataset, diags = load_mapping(str(path), plan.plan)
    fields = (("name", "x"), ("type", "New Business"))
    dataset = attrs.evolve(dataset, events=tuple(attrs.evolve(e, fields=fields)
                                                  for e in dataset.events))
    result = api.run(plan.versions, dataset)
    assert result.ok, result.diagnostics
    core = {(ln.payee, ln.kind, ln.deal, str(ln.date)): ln.amount for ln in result.earnings
            if ln.component == "core"}
    # D1 booked at 12,500.50 on 2024-02-01 and re-opened on 2024-02-20: its 8% is reversed
    assert core[("ana", "clawback", "D1", "2024-02-20")] == Decimal("-1000.04")
    assert core[("ana", "commission", "D1#2", "2024-03-10")] == Decimal("880.00")


def test_history_problems_are_reported_at_their_cells(tmp_path):
    history = HISTORY.replace("D1,2024-02-20,open", "D1,2024-02-20,reopened").replace(
        "D2,2024-01-10,won", "D2,10/01/2024,won")
    dataset, diags = load_mapping(str(export(tmp_path, WITH_HISTORY, history_csv=history)))
    assert sorted((d.code, place(d), d.message) for d in diags if d.is_error) == [
        ("D-DATE", ("history.csv", 8, 4), "column 'at': '10/01/2024' is not a date"),
        ("D-STAGE", ("history.csv", 5, 15), f"stage value 'reopened' of column 'stage' of "
         f"{tmp_path / 'history.csv'} is not mapped: 1 row (line 5)"),
    ]
    assert {e.deal for e in dataset.events} == set()  # both deals' histories are in error


def test_the_current_stage_and_the_history_disagree(tmp_path):
    history = HISTORY + "D3,2024-01-12,won,500000\n"
    _, diags = load_mapping(str(export(tmp_path, WITH_HISTORY, history_csv=history)))
    [d] = found(diags, "D-MAPPED", Severity.WARNING)
    assert place(d) == ("deals.csv", 4, 1)
    assert d.message == "deal 'D3' is 'lost' (lost) in the deals file, but its history ends " \
                        "with 'won' (booked) on 2024-01-12: the history is used"


# ------------------------------------------------------------------------------ FX

RATES = """IsoCode,ConversionRate,StartDate,NextStartDate
USD,1,2023-01-01,9999-12-31
EUR,0.92,2024-01-01,9999-12-31
"""
WITH_FX = BASE.replace('fixed_currency = "USD"', 'currency = "cur"') + """
[fx]
file = "rates.csv"
currency = "IsoCode"
fixed_target = "USD"
date = "StartDate"
rate = "ConversionRate"
quote = "units per target"
"""


def test_fx_rates_quoted_per_unit_of_the_target_are_divided_exactly(tmp_path):
    deals = DEALS.replace("cancelled_on\n", "cancelled_on,cur\n").replace(
        "2024-02-01,\n", "2024-02-01,,EUR\n").replace("2024-03-01\n", "2024-03-01,USD\n") \
        .replace("2024-01-12,\n", "2024-01-12,,USD\n")
    plan = api.load_plan(str(ROOT / "plans" / "crm" / "salesforce" / "salesforce.plan"))
    dataset, diags = load_mapping(str(export(tmp_path, WITH_FX, deals, rates_csv=RATES)))
    assert errors(diags) == []
    assert [(r.currency, r.target, r.rate, r.inverse) for r in dataset.fx] == [
        ("EUR", "USD", Decimal("0.92"), True)]
    fields = (("name", "x"), ("type", "New Business"))
    dataset = attrs.evolve(dataset, events=tuple(attrs.evolve(e, fields=fields)
                                                  for e in dataset.events))
    result = api.run(plan.versions, dataset)
    credit = next(c for c in result.credits if c.deal == "D1")
    assert credit.amount == Decimal("13587.50")  # 12,500.50 / 0.92 = 13,587.5000


def test_a_rate_row_left_out_is_not_followed_by_no_rate_errors(tmp_path):
    """An FX row left out (its number of cells, or a cell that cannot be read) is reported
    there only: the EUR deal is not told there is no EUR rate, whether the file is an FX file
    of docs/data.md (`[fx] file =` alone) or an export's rate table, as in load_dataset."""
    deals = DEALS.replace("cancelled_on\n", "cancelled_on,cur\n").replace(
        "2024-02-01,\n", "2024-02-01,,EUR\n").replace("2024-03-01\n", "2024-03-01,USD\n") \
        .replace("2024-01-12,\n", "2024-01-12,,USD\n")
    plan = api.load_plan(str(ROOT / "plans" / "crm" / "salesforce" / "salesforce.plan")).plan
    # Its credit reads recorded splits, which this mapping does not: an error that would keep
    # the rate table from being read. The currencies are what is checked here.
    plan = attrs.evolve(plan, credits=())
    plain = BASE.replace('fixed_currency = "USD"', 'currency = "cur"') + \
        '\n[fx]\nfile = "fx.csv"\n'
    cases = [
        (plain, "currency,target,date,rate\nEUR,USD,2024-01-01,1,08\n", "D-COLUMN", 2),
        (plain, "currency,target,date,rate\nEUR,USD,2024-01-01,1.08x\n", "D-NUMBER", 2),
        (WITH_FX.replace("rates.csv", "fx.csv"), RATES.replace("EUR,0.92,", "EUR,0,92,"),
         "D-COLUMN", 3),
        (WITH_FX.replace("rates.csv", "fx.csv"), RATES.replace("EUR,0.92,", "EUR,0.92x,"),
         "D-NUMBER", 3),
    ]
    for mapping, rates, code, line in cases:
        _, diags = load_mapping(str(export(tmp_path, mapping, deals, fx_csv=rates)), plan)
        assert [(d.code, place(d)[:2]) for d in diags if d.is_error] == [(code, ("fx.csv", line))]


def test_fx_mapping_problems(tmp_path):
    _, diags = load_mapping(str(export(tmp_path, WITH_FX.replace("units per target",
                                                                 "units per targets"),
                                       rates_csv=RATES)))
    [d] = found(diags, "D-MAP")
    assert place(d) == ("map.toml", 30, 1) and d.hint == "did you mean 'units per target'?"
    _, diags = load_mapping(str(export(tmp_path, WITH_FX.replace('fixed_target = "USD"\n', ""),
                                       rates_csv=RATES)))
    assert [d.message for d in found(diags, "D-MAP")] == [
        "[fx] needs one of 'target' (a column) and 'fixed_target' (the currency every rate "
        "converts to)"]


def test_an_export_rate_table_read_as_a_plain_fx_file_is_not_told_startdate_is_rate(tmp_path):
    mapping = BASE + '\n[fx]\nfile = "rates.csv"\n'
    _, diags = load_mapping(str(export(tmp_path, mapping, rates_csv=RATES)))
    hints = {d.hint for d in found(diags, "D-COLUMN")}
    assert "did you mean 'rate'?" not in hints
    assert any(h and h.startswith("name the file's columns in [fx]") for h in hints)


@given(st.decimals(min_value=0, max_value=10**9, places=2),
       st.decimals(min_value=Decimal("0.000001"), max_value=1000, places=6))
def test_an_inverse_rate_converts_by_the_exact_quotient_rounded(amount, rate):
    exact = Fraction(amount) / Fraction(rate) * 100
    q, r = divmod(exact, 1)
    q += 1 if r > Fraction(1, 2) or (r == Fraction(1, 2) and q % 2) else 0
    assert round_money(div(amount, rate), "USD") == Decimal(q) / 100


# ------------------------------------------------------------------------------ aliases, notes


def test_an_alias_seen_only_on_rows_that_give_nothing_is_not_said_to_never_apply(tmp_path):
    # lost deals are read without their close date: an alias of it is not "never applies"
    deals = DEALS.replace("D3,ana,lost,500000,2024-01-12", "D3,ana,lost,500000,TBD")
    mapping = BASE + '\n[deals.values.closed]\nTBD = "2024-12-31"\n'
    _, diags = load_mapping(str(export(tmp_path, mapping, deals)))
    assert not found(diags, "D-ALIAS", Severity.WARNING)
    [d] = found(diags, "D-ALIAS", Severity.NOTE)
    assert d.message == f"column 'closed': 'TBD' occurs in 1 row of {tmp_path / 'deals.csv'} " \
                        "(line 4), none of which gives a record that reads this column"
    mapping = BASE + '\n[deals.values.closed]\nTBC = "2024-12-31"\n'
    _, diags = load_mapping(str(export(tmp_path, mapping, deals)))
    [d] = found(diags, "D-ALIAS", Severity.WARNING)
    assert d.message == "the alias 'TBC' → '2024-12-31' of column 'closed' never applies"


def test_managers_are_not_listed_as_payees_without_deals(tmp_path):
    team = "id,name,role,start,boss\nmia,Mia Moss,MGR,2023-01-01,\n" \
           "ana,Ana Ames,AE,2023-01-01,mia\nbob,Bob Burr,AE,2023-01-01,mia\n" \
           "cy,Cy Cole,AE,2023-01-01,mia\n"
    mapping = BASE.replace('start = "start"', 'start = "start"\nmanager = "boss"')
    _, diags = load_mapping(str(export(tmp_path, mapping, team=team)))
    [d] = [d for d in diags if "no deal in the export" in d.message]
    assert d.message.startswith("1 payee of the roster has no deal in the export and manages "
                                "nobody: Cy Cole (cy) ")


BAD_VALUES = ("1", "true", "[]", "{}", '""', '"nope"', "2017-01-01", '{ x = 1 }', "0.5")


# The only mutations that are no error: a filter may be empty, an alias or a role is any text
# and a default role id any value (a role the plan lacks is then a D-ROLE warning).
SALESFORCE_ACCEPTED = {
    ('where = { ProductCode = ["SVC-ONBOARD", "SVC-TRAINING"] }', "{}"),
    ('"1495e000000CaRvAAK" = "Revenue"', '""'), ('"1495e000000CaRvAAK" = "Revenue"', '"nope"'),
    ('"1495e000000CaOvAAK" = "Overlay"', '""'), ('"1495e000000CaOvAAK" = "Overlay"', '"nope"'),
    ('UserRoleId = "00E5e000000MqAeEAK"', '"nope"'),
    ('UserRoleId = "00E5e000000MqAeEAK"', "2017-01-01"),
    ('"00E5e000000MqRvEAK" = "RVP"', '"nope"'), ('"00E5e000000MqAeEAK" = "AE"', '"nope"'),
    ('"00E5e000000MqSeEAK" = "SE"', '"nope"')}


def test_a_wrong_value_anywhere_in_the_salesforce_mapping_is_a_diagnostic(tmp_path):
    sample = ROOT / "plans" / "crm" / "salesforce"
    plan = api.load_plan(str(sample / "salesforce.plan")).plan
    lines = (sample / "salesforce.toml").read_text().splitlines()
    (tmp_path / "data").symlink_to(sample / "data")
    path = tmp_path / "map.toml"
    accepted = set()
    for i, line in enumerate(lines):
        if "=" not in line or line.startswith(("[", "#")):
            continue
        key = line.split("=", 1)[0]
        for bad in BAD_VALUES:
            path.write_text("\n".join([*lines[:i], f"{key}= {bad}", *lines[i + 1:]]) + "\n")
            _, diags = load_mapping(str(path), plan)  # must not raise
            assert all(d.span.line >= 1 and d.message for d in diags)
            if not any(d.is_error for d in diags):
                accepted.add((line, bad))
    assert accepted == SALESFORCE_ACCEPTED  # every other wrong value is an error


# ------------------------------------------------------------------------------ child tables

LINES = """OpportunityId,Family,TotalPrice,Quantity
D1,License,"$10,000.25",4
D1,Services,"$2,500.25",1
D1,License,$0.50,2
D2,Services,"$9,900.00",1
"""
TEAM_MEMBERS = """OpportunityId,UserId,TeamMemberRole
D1,bob,Sales Engineer
D1,ana,Account Manager
D2,bob,Sales Engineer
D2,ana,Sales Engineer
"""
WITH_CHILDREN = BASE.replace("[deals.stages]", """[deals.children.licenses]
file = "lines.csv"
deal = "OpportunityId"
where = { Family = "License" }

[deals.children.licenses.formats]
TotalPrice = { symbol = "$" }

[deals.children.engineers]
file = "members.csv"
deal = "OpportunityId"
where = { TeamMemberRole = "Sales Engineer" }

[deals.fields]
license_value = { child = "licenses", sum = "TotalPrice", type = "money" }
seats = { child = "licenses", sum = "Quantity", type = "count" }
engineers = { child = "engineers", count = true, type = "count" }

[deals.stages]""")


def test_child_tables_are_added_up_per_deal(tmp_path):
    dataset, diags = load_mapping(str(export(tmp_path, WITH_CHILDREN, lines_csv=LINES,
                                             members_csv=TEAM_MEMBERS)))
    assert errors(diags) == []
    got = {e.id: dict(e.fields) for e in dataset.events}
    assert got["D1:booked"] == {"engineers": 1, "license_value": Decimal("10000.75"),
                                "seats": 6}
    assert got["D2:booked"] == {"engineers": 2, "license_value": Decimal("0"), "seats": 0}
    notes = {d.message for d in diags if d.severity is Severity.NOTE}
    assert f"child table 'licenses': 2 rows of {tmp_path / 'lines.csv'} joined to 1 deal; 2 " \
           "deals without a row (their totals are 0)" in notes
    assert f"child table 'engineers': 1 row of {tmp_path / 'members.csv'} left out (only rows " \
           "where 'TeamMemberRole' is 'Sales Engineer' are read)" in notes


def test_child_table_problems(tmp_path):
    lines = LINES.replace("$0.50", "0.50 EUR")
    dataset, diags = load_mapping(str(export(tmp_path, WITH_CHILDREN, lines_csv=lines,
                                             members_csv=TEAM_MEMBERS)))
    [d] = [d for d in diags if d.is_error]
    assert (d.code, place(d)) == ("D-FIELD", ("lines.csv", 4, 12))
    assert d.message.startswith("field 'license_value' (column 'TotalPrice'): '0.50 EUR' does "
                                "not match the column's number format")
    assert "D1" not in {e.deal for e in dataset.events}
    mapping = WITH_CHILDREN.replace('child = "engineers"', 'child = "engineer"').replace(
        'sum = "Quantity"', 'sum = "Qty"').replace('count = true, type = "count"',
                                                  'count = true, type = "text"')
    _, diags = load_mapping(str(export(tmp_path, mapping, lines_csv=LINES,
                                       members_csv=TEAM_MEMBERS)))
    assert sorted((d.code, d.message, d.hint) for d in diags if d.is_error) == [
        ("D-COLUMN", f"deals.fields.seats.sum: column 'Qty' is not in {tmp_path / 'lines.csv'}",
         "the columns of lines.csv are OpportunityId, Family, TotalPrice, Quantity"),
        ("D-MAP", "a child field is a number, count or money, not text",
         'write type = "number"'),
    ]
    mapping = WITH_CHILDREN.replace('count = true, type = "count"', 'type = "count"').replace(
        'child = "licenses", sum', 'child = "license", sum', 1)
    _, diags = load_mapping(str(export(tmp_path, mapping, lines_csv=LINES,
                                       members_csv=TEAM_MEMBERS)))
    assert sorted((d.message, d.hint) for d in diags if d.is_error) == [
        ("no child table 'license'", "did you mean 'licenses'?"),
        ("the child field 'engineers' needs one of 'sum' (a column of the child table) and "
         "'count' (= true)", 'e.g. sum = "TotalPrice" or count = true'),
    ]
    # 'children' not a table of tables: an error at the key, not an internal error
    mapping = WITH_CHILDREN.replace("[deals.children.", "[nochildren.").replace(
        "[deals]\n", "[deals]\nchildren = 5\n")
    _, diags = load_mapping(str(export(tmp_path, mapping, lines_csv=LINES,
                                       members_csv=TEAM_MEMBERS)))
    assert "'deals.children' must be a table of tables" in [d.message for d in diags]


WRITTEN = BASE.replace('fixed_currency = "USD"', 'fixed_currency = "USD"\n'
                       'splits = { column = "team", separator = "/" }')


def _with_team(cell: str) -> str:
    return DEALS.replace("cancelled_on\n", "cancelled_on,team\n").replace(
        "2024-02-01,\n", f'2024-02-01,,{cell}\n').replace("2024-03-01\n", "2024-03-01,\n") \
        .replace("2024-01-12,\n", "2024-01-12,,\n")


def test_splits_written_as_payees_and_shares_in_one_cell(tmp_path):
    """`Ana Ames 60% / Bob Burr 40%`: payees by display name (or id), each with its share."""
    for cell in ("Ana Ames 60% / Bob Burr 40%", "ana 60 % /bob 40%"):
        dataset, diags = load_mapping(str(export(tmp_path, WRITTEN, _with_team(cell))))
        assert errors(diags) == []
        assert next(e for e in dataset.events if e.id == "D1:booked").splits == (
            ("ana", Decimal("0.6")), ("bob", Decimal("0.4")))


@pytest.mark.parametrize("cell, code, message", [
    ("Ana Ames 60% / Bob Burr 30%", "D-SPLITS", "column 'team': the splits total 90%, not 100%"),
    ("Ana Ames 60% / Cy Cole 40%", "D-PAYEE", "split payee 'Cy Cole' is not in the roster"),
    ("Ana Ames 60% / Bob Burr 40", "D-SPLITS",
     "column 'team': the share of 'Bob Burr' ('40') has no % sign"),
    ("Ana Ames 60% / Bob Burr", "D-SPLITS",
     "column 'team': 'Bob Burr' is not a payee followed by a share"),
    ("Ana Ames 60% / / Bob Burr 40%", "D-SPLITS", "column 'team': 'Ana Ames 60% / / Bob Burr "
     "40%' has an empty part between two '/'"),
    ("Ana Ames 50% / ana 50%", "D-SPLITS", "column 'team': 'ana' appears twice in the splits"),
])
def test_a_malformed_written_split_is_an_error_at_its_cell(tmp_path, cell, code, message):
    dataset, diags = load_mapping(str(export(tmp_path, WRITTEN, _with_team(cell))))
    [d] = [d for d in diags if d.is_error]
    assert (d.code, d.message, place(d)) == (code, message, ("deals.csv", 2, 32))
    assert "D1" not in {e.deal for e in dataset.events}  # the deal gives no record


def test_a_written_split_naming_two_payees_says_so(tmp_path):
    """A display name two payees share is in the roster, but names neither of them."""
    team = TEAM + "ana2,Ana Ames,AE,2023-01-01,true,\n"
    dataset, diags = load_mapping(str(export(tmp_path, WRITTEN, _with_team(
        "Ana Ames 60% / Bob Burr 40%"), team=team)))
    [d] = [d for d in diags if d.is_error]
    assert (d.code, d.message, d.hint, place(d)) == (
        "D-PAYEE", "split payee 'Ana Ames' names 2 payees of the roster (ana, ana2)",
        "write the payee's id instead of the name", ("deals.csv", 2, 32))
    assert "D1" not in {e.deal for e in dataset.events}


def test_a_written_split_needs_its_separator(tmp_path):
    mapping = WRITTEN.replace(', separator = "/"', "")
    _, diags = load_mapping(str(export(tmp_path, mapping, _with_team("ana 100%"))))
    [d] = [d for d in diags if d.is_error]
    assert d.code == "D-MAP" and d.message == "[deals.splits] needs 'separator'"
    mapping = WRITTEN.replace('separator = "/"', 'separator = "%"')
    _, diags = load_mapping(str(export(tmp_path, mapping, _with_team("ana 100%"))))
    [d] = [d for d in diags if d.is_error]
    assert d.message == "the separator '%' would cut into the shares"


def test_a_mapping_in_error_reports_its_errors_only(tmp_path):
    """Rows are not read until the mapping is right: no notes or warnings about them (an
    alias 'applying to no record', the managers added) alongside the mapping's error."""
    mapping = BASE.replace('owner = "owner"', 'owner = "ownr"') + \
        '\n[deals.values.stage]\nWon = "won"\n\n[roster.defaults]\nrole = "AE"\n'
    dataset, diags = load_mapping(str(export(tmp_path, mapping)))
    assert [(d.code, d.message, place(d)) for d in diags] == [
        ("D-COLUMN", f"deals.owner: column 'ownr' is not in {tmp_path / 'deals.csv'}",
         ("map.toml", 4, 1))]
    assert dataset.events == () and dataset.payees == ()
    # once it is right, the notes about the rows are there
    _, diags = load_mapping(str(export(tmp_path, mapping.replace('"ownr"', '"owner"'))))
    assert errors(diags) == [] and any(d.code == "D-ALIAS" for d in diags)
