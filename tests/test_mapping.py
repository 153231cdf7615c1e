"""CRM exports through a mapping file (incentive_dsl/data/mapping.py, docs/mapping.md): what a
small export becomes, every class of mapping error at its exact file, line and column, the notes
that report the mapping's choices, and the command line (--map, incentive data check)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from incentive_dsl import api, cli
from incentive_dsl.check.model import FieldSpec, Plan
from incentive_dsl.data.mapping import load_mapping
from incentive_dsl.diagnostics import Severity
from incentive_dsl.periods import Calendar
from incentive_dsl.span import Span

TEAMS = """sales_agent,manager,regional_office
Ana Ames,Mia Moss,East
Bob Burr,Mia Moss,East
Cy Cole,Mia Moss,East
"""
PRODUCTS = """product,series,sales_price
GTX Pro,GTX,4821
MG Special,MG,55
"""
ACCOUNTS = """account,sector
Acme,technolgy
"""
HEADER = "opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,close_value"
ROWS = [
    "D1,Ana Ames,GTX Pro,Acme,Won,2017-01-05,2017-03-01,4500",
    "D2,Bob Burr,MG Special,,Engaging,2017-02-01,,",
    "D3,Ana Ames,GTXPro,Acme,Lost,2017-01-06,2017-03-02,0",
    "D4,Bob Burr,MG Special,,Prospecting,,,",
    "D5,Bob Burr,GTXPro,Acme,Won,2017-02-10,2017-04-03,4700",
]
MAPPING = """\
[deals]
file = "pipeline.csv"
id = "opportunity_id"
owner = "sales_agent"
stage = "deal_stage"
amount = "close_value"
fixed_currency = "USD"

[deals.stages]
Won = { outcome = "booked", date = "close_date", reached = { Engaging = "engage_date" } }
Lost = { outcome = "lost", date = "close_date", reached = { Engaging = "engage_date" } }
Engaging = { outcome = "open", reached = { Engaging = "engage_date" } }
Prospecting = "open"

[deals.fields]
product = { column = "product", type = "text" }
account = { column = "account", type = "text", default = "(no account)" }
series = { lookup = "products", by = "product", column = "series", type = "text" }
sector = { lookup = "accounts", by = "account", column = "sector", type = "text" }

[deals.values.product]
GTXPro = "GTX Pro"

[lookups.products]
file = "products.csv"
key = "product"

[lookups.accounts]
file = "accounts.csv"
key = "account"

[lookups.accounts.values.sector]
technolgy = "technology"

[roster]
file = "teams.csv"
id = "sales_agent"
manager = "manager"
team = "regional_office"
territory = "regional_office"

[roster.fixed]
role = "AGENT"
start = 2016-10-01

[roster.managers]
role = "MANAGER"
inherit = ["team", "territory"]

[territories.index]
East = "90%"
"""
_S = Span("t.plan", 1, 1, 1, 2)
PLAN = Plan(
    name="T", path="t.plan", source_hash="0", span=_S, currency="USD",
    effective_start=dt.date(2017, 1, 1), effective_end=dt.date(2017, 12, 31),
    calendar=Calendar(), roles=("AGENT", "MANAGER"), stages=("Engaging",),
    fields=(FieldSpec(owner="deal", name="product", kind="one of",
                      options=("GTX Pro", "MG Special")),
            FieldSpec(owner="deal", name="series", kind="text"),
            FieldSpec(owner="deal", name="account", kind="text"),
            FieldSpec(owner="deal", name="sector", kind="text")))


def export(tmp_path: Path, rows: list[str] | None = None, mapping: str = MAPPING,
           teams: str = TEAMS) -> Path:
    """Write a small export and its mapping; returns the mapping's path."""
    (tmp_path / "pipeline.csv").write_text(HEADER + "\n" + "\n".join(rows or ROWS) + "\n")
    (tmp_path / "teams.csv").write_text(teams)
    (tmp_path / "products.csv").write_text(PRODUCTS)
    (tmp_path / "accounts.csv").write_text(ACCOUNTS)
    path = tmp_path / "crm.toml"
    path.write_text(mapping)
    return path


def load(path: Path, plan: Plan | None = None):
    dataset, diags = load_mapping(str(path), plan)
    return dataset, diags


def only(diags, code: str, severity: Severity = Severity.ERROR):
    found = [d for d in diags if d.code == code and d.severity is severity]
    assert len(found) == 1, [(d.code, d.message) for d in diags]
    return found[0]


def errors(diags):
    return [d for d in diags if d.is_error]


def place(d) -> tuple[str, int, int]:
    return Path(d.span.path).name, d.span.line, d.span.column


# ------------------------------------------------------------------------------ a clean export


def test_the_export_becomes_events_and_a_roster(tmp_path):
    dataset, diags = load(export(tmp_path), PLAN)
    assert not errors(diags), diags
    kinds = sorted((e.deal, e.kind, e.subject or "", str(e.date)) for e in dataset.events)
    assert kinds == [
        ("D1", "booked", "", "2017-03-01"), ("D1", "stage", "Engaging", "2017-01-05"),
        ("D2", "stage", "Engaging", "2017-02-01"), ("D3", "stage", "Engaging", "2017-01-06"),
        ("D5", "booked", "", "2017-04-03"), ("D5", "stage", "Engaging", "2017-02-10"),
    ]  # D3 is lost: its engagement only; D4 is prospecting: nothing
    d1 = next(e for e in dataset.events if e.id == "D1:booked")
    assert (d1.amount, d1.currency, d1.owner) == (Decimal(4500), "USD", "Ana Ames")
    assert d1.source.path.endswith("pipeline.csv") and d1.source.row == 2
    assert dict(d1.fields) == {"product": "GTX Pro", "series": "GTX", "account": "Acme",
                               "sector": "technology"}
    d2 = next(e for e in dataset.events if e.deal == "D2")
    assert dict(d2.fields) == {"product": "MG Special", "series": "MG",
                               "account": "(no account)"}  # no sector: no account to join
    d5 = next(e for e in dataset.events if e.id == "D5:booked")
    assert dict(d5.fields)["product"] == "GTX Pro"  # the alias
    payees = {p.id: p for p in dataset.payees}
    assert sorted(payees) == ["Ana Ames", "Bob Burr", "Cy Cole", "Mia Moss"]
    ana, mia = payees["Ana Ames"], payees["Mia Moss"]
    assert (ana.role, ana.start, ana.manager, ana.team, ana.territory) == (
        "AGENT", dt.date(2016, 10, 1), "Mia Moss", "East", "East")
    assert (mia.role, mia.start, mia.manager, mia.territory) == (
        "MANAGER", dt.date(2016, 10, 1), None, "East")
    assert [(t.territory, t.index) for t in dataset.territories] == [("East", Decimal("0.9"))]


def test_every_choice_is_reported_as_a_note_with_counts(tmp_path):
    _, diags = load(export(tmp_path), PLAN)
    notes = {d.message for d in diags if d.severity is Severity.NOTE}
    aliases = [d for d in diags if d.code == "D-ALIAS"]
    assert [(place(d), d.message) for d in aliases] == [
        (("crm.toml", 22, 1), f"column 'product': 'GTXPro' read as 'GTX Pro' in 2 rows of "
                              f"{tmp_path / 'pipeline.csv'} (lines 4 and 6)"),
        (("crm.toml", 33, 1), f"column 'sector': 'technolgy' read as 'technology' in 1 row of "
                              f"{tmp_path / 'accounts.csv'} (line 2)"),
    ]
    assert "stage value 'Won' (2 rows): 2 bookings dated by 'close_date'; 2 reached 'Engaging' " \
           "(dated by 'engage_date')" in notes
    assert "stage value 'Lost' (1 row): 1 lost deal: no booking and no event for the loss (a " \
           "lost deal earns nothing); 1 reached 'Engaging' (dated by 'engage_date')" in notes
    assert "stage value 'Prospecting' (1 row): 1 open deal: no booking" in notes
    assert "field 'account' is empty in 2 rows of the deals (lines 3 and 5): the default " \
           "'(no account)' is used" in notes
    assert "1 payee of the roster has no deal in the export and manages nobody: Cy Cole (no " \
           "credit of their own; they count in their team's quota)" in notes
    assert "1 manager named in column 'manager' added as payees with role MANAGER: Mia Moss" \
        in notes


def test_an_alias_that_never_applies_is_a_warning(tmp_path):
    mapping = MAPPING.replace('GTXPro = "GTX Pro"', 'GTXPro = "GTX Pro"\n"GTX-Pro" = "GTX Pro"')
    _, diags = load(export(tmp_path, mapping=mapping))
    d = only(diags, "D-ALIAS", Severity.WARNING)
    assert place(d) == ("crm.toml", 23, 1)
    assert d.message == "the alias 'GTX-Pro' → 'GTX Pro' of column 'product' never applies"


def test_an_undated_stage_is_left_out_and_counted(tmp_path):
    rows = [*ROWS, "D6,Ana Ames,GTX Pro,Acme,Engaging,,,"]
    dataset, diags = load(export(tmp_path, rows))
    assert not errors(diags)
    assert not [e for e in dataset.events if e.deal == "D6"]
    d = next(d for d in diags if "no 'engage_date'" in d.message)
    assert d.severity is Severity.NOTE and place(d) == ("crm.toml", 12, 44)  # Engaging in reached
    assert d.message == ("1 deal with stage value 'Engaging' has no 'engage_date' (line 7): "
                         "stage 'Engaging' is not recorded for it (an undated stage cannot be "
                         "placed in a period)")


# ------------------------------------------------------------------------------ error classes


def test_unknown_column(tmp_path):
    mapping = MAPPING.replace('amount = "close_value"', 'amount = "close_val"')
    dataset, diags = load(export(tmp_path, mapping=mapping))
    d = only(diags, "D-COLUMN")
    assert place(d) == ("crm.toml", 6, 1)
    assert d.message == f"deals.amount: column 'close_val' is not in {tmp_path / 'pipeline.csv'}"
    assert d.hint == "did you mean 'close_value'?"
    assert [(Path(r.span.path).name, r.span.line) for r in d.related] == [("pipeline.csv", 1)]
    assert not dataset.events  # rows are read once the mapping is right


def test_unknown_column_inside_an_inline_table(tmp_path):
    mapping = MAPPING.replace('reached = { Engaging = "engage_date" } }\nLost',
                              'reached = { Engaging = "engaged" } }\nLost')
    _, diags = load(export(tmp_path, mapping=mapping))
    d = only(diags, "D-COLUMN")
    assert place(d) == ("crm.toml", 10, 62)  # the key Engaging inside Won's inline table
    assert d.message.startswith("deals.stages.Won.reached.Engaging: column 'engaged' is not in")
    assert d.hint == "did you mean 'engage_date'?"


def test_unmapped_stage_value(tmp_path):
    rows = [*ROWS, "D6,Ana Ames,GTX Pro,Acme,Closed Won,2017-01-05,2017-03-01,900",
            "D7,Bob Burr,GTX Pro,Acme,Closed Won,2017-01-05,2017-03-01,900"]
    dataset, diags = load(export(tmp_path, rows))
    d = only(diags, "D-STAGE")
    assert place(d) == ("pipeline.csv", 7, 26)  # the first row's deal_stage cell
    assert d.span.end_column == 36
    assert d.message == "stage value 'Closed Won' of column 'deal_stage' is not mapped: 2 rows " \
                        "(lines 7 and 8)"
    assert d.hint.startswith('add it to [deals.stages]: "Closed Won" = { outcome = ')
    assert {e.deal for e in dataset.events} == {"D1", "D2", "D3", "D5"}  # the others are read


def test_the_unmapped_stage_hint_lists_every_outcome_and_reads_as_a_sentence(tmp_path):
    # the hint listed booked | lost | open (not "cancelled", an outcome of docs/mapping.md) and
    # joined a suggestion as "did you mean 'Won'?; or add it"
    rows = [*ROWS, "D6,Ana Ames,GTX Pro,Acme,Wonn,2017-01-05,2017-03-01,900"]
    _, diags = load(export(tmp_path, rows))
    assert only(diags, "D-STAGE").hint == (
        "did you mean 'Won'? If not, add it to [deals.stages]: \"Wonn\" = { outcome = "
        "\"booked\" | \"cancelled\" | \"lost\" | \"open\", ... }")


def test_bad_date(tmp_path):
    rows = [*ROWS, "D6,Ana Ames,GTX Pro,Acme,Won,2017-01-05,2017-02-30,4500",
            "D7,Ana Ames,GTX Pro,Acme,Won,01/05/2017,2017-03-03,4500"]
    dataset, diags = load(export(tmp_path, rows))
    dates = sorted((d for d in diags if d.code == "D-DATE"), key=lambda d: d.span.line)
    assert [(place(d), d.message) for d in dates] == [
        (("pipeline.csv", 7, 41), "column 'close_date': '2017-02-30' is not a calendar date"),
        (("pipeline.csv", 8, 30), "column 'engage_date': '01/05/2017' is not a date"),
    ]
    assert all(d.is_error for d in dates)
    assert not [e for e in dataset.events if e.deal in ("D6", "D7")]  # a bad row is left out


def test_a_booking_without_its_date(tmp_path):
    rows = [*ROWS, "D6,Ana Ames,GTX Pro,Acme,Won,2017-01-05,,4500"]
    _, diags = load(export(tmp_path, rows))
    d = only(diags, "D-DATE")
    assert place(d) == ("pipeline.csv", 7, 41)
    assert d.message == "column 'close_date' is empty: a 'Won' deal is booked, dated by " \
                        "'close_date'"


def test_bad_amount(tmp_path):
    rows = [*ROWS, "D6,Ana Ames,GTX Pro,Acme,Won,2017-01-05,2017-03-05,45x0",
            "D7,Ana Ames,GTX Pro,Acme,Won,2017-01-05,2017-03-05,"]
    _, diags = load(export(tmp_path, rows))
    amounts = sorted((d for d in diags if d.code == "D-AMOUNT"), key=lambda d: d.span.line)
    assert [(place(d), d.message) for d in amounts] == [
        (("pipeline.csv", 7, 52), "column 'close_value': '45x0' is not an amount"),
        (("pipeline.csv", 8, 52), "column 'close_value' is empty: a 'Won' deal is booked and "
                                  "needs its amount"),
    ]


def test_a_value_missing_from_a_lookup_table(tmp_path):
    mapping = MAPPING.replace('[deals.values.product]\nGTXPro = "GTX Pro"\n', "")
    dataset, diags = load(export(tmp_path, mapping=mapping))
    d = only(diags, "D-FIELD")
    assert place(d) == ("pipeline.csv", 4, 13)  # D3's product cell, the first of two rows
    assert d.message == (f"'GTXPro' is not in {tmp_path / 'products.csv'} (column 'product'): "
                         "2 rows of the deals (lines 4 and 6)")
    assert d.hint.startswith("did you mean 'GTX Pro'?; to read it as a value of the table, add "
                             "an alias: [deals.values.COLUMN] \"GTXPro\" = \"...\"")
    assert {e.deal for e in dataset.events} == {"D1", "D2"}


def test_a_field_value_the_plan_does_not_allow(tmp_path):
    rows = [*ROWS, "D6,Ana Ames,MG Special,Acme,Won,2017-01-05,2017-03-05,40"]
    products = PRODUCTS + "MG Advanced,MG,3393\n"
    path = export(tmp_path, [*rows, "D7,Ana Ames,MG Advanced,Acme,Won,2017-01-05,2017-03-05,9"])
    (tmp_path / "products.csv").write_text(products)
    _, diags = load(path, PLAN)
    d = only(diags, "D-FIELD")
    assert place(d) == ("pipeline.csv", 8, 13)
    assert d.message == "field 'product': 'MG Advanced' is not one of 'GTX Pro', 'MG Special'"


def test_an_owner_missing_from_the_roster(tmp_path):
    rows = [*ROWS, "D6,Ana Amess,GTX Pro,Acme,Won,2017-01-05,2017-03-05,40"]
    _, diags = load(export(tmp_path, rows))
    d = only(diags, "D-PAYEE")
    assert place(d) == ("pipeline.csv", 7, 4)
    assert d.message == "the owner 'Ana Amess' is not in the roster: 1 deal (line 7)"
    assert d.hint == "did you mean 'Ana Ames'?"


SPLITS = """\
[deals.splits]
file = "splits.csv"
deal = "opp"
payee = "who"
share = "pct"

"""


def test_a_row_with_the_wrong_number_of_cells_is_reported_once(tmp_path):
    """Rows left out before their cells are read (tables.Table.broken) are reported there
    only, as by the general loader: not again as an unknown owner, orphan splits or a split
    total short of 100%. A deal truly missing from the deals file is still an orphan."""
    rows = [r if not r.startswith("D5,") else
            "D5,Bob Burr,GTXPro,Acme,Won,2017-02-10,2017-04-03,4,700" for r in ROWS]
    rows.append("D6,Cy Cole,GTX Pro,Acme,Won,2017-01-05,2017-03-05,40")
    teams = TEAMS.replace("Cy Cole,Mia Moss,East", "Cy Cole,Mia Moss,East,extra")
    mapping = MAPPING.replace("[deals.stages]", SPLITS + "[deals.stages]", 1)
    (tmp_path / "splits.csv").write_text("opp,who,pct\nD1,Ana Ames,50,%\nD1,Bob Burr,50\n"
                                         "D5,Bob Burr,100\nD9,Ana Ames,100\n")
    dataset, diags = load(export(tmp_path, rows, mapping, teams))
    found = sorted((place(d), d.code) for d in diags if d.severity is not Severity.NOTE)
    assert found == [(("pipeline.csv", 6, 51), "D-COLUMN"), (("splits.csv", 2, 1), "D-COLUMN"),
                     (("splits.csv", 5, 1), "D-ORPHAN"), (("teams.csv", 4, 1), "D-COLUMN")]
    assert "'D9'" in only(diags, "D-ORPHAN", Severity.WARNING).message
    # D1 (a split row left out), D5 and D6 (their rows left out) are not read at all.
    assert {e.deal for e in dataset.events} == {"D2", "D3"}


def test_a_territory_row_left_out_is_not_followed_by_no_index(tmp_path):
    """A `[territories] file =` row left out for its number of cells is reported there only,
    as by load_dataset: the payees of its territory are not told it has no index."""
    mapping = MAPPING.replace('[territories.index]\nEast = "90%"\n',
                              '[territories]\nfile = "territories.csv"\n')
    (tmp_path / "territories.csv").write_text("territory,index\nEast,9,0%\nWest,100%\n")
    _, diags = load(export(tmp_path, mapping=mapping), PLAN)
    assert [(d.code, place(d)) for d in diags if d.severity is not Severity.NOTE] == [
        ("D-COLUMN", ("territories.csv", 2, 1))]


def test_a_territory_index_in_error_is_not_followed_by_no_index(tmp_path):
    """An index of [territories.index] in error is reported at its key only, as a row of a
    territories file: its territory's payees are not each told it has no index."""
    mapping = MAPPING.replace('East = "90%"', 'East = "90"\nWest = "110%"')
    teams = TEAMS + "Di Dunn,Max Marr,West\n"
    _, diags = load(export(tmp_path, mapping=mapping, teams=teams), PLAN)
    assert [(d.code, place(d)) for d in diags if d.is_error or d.code == "D-TERRITORY"] == [
        ("D-MAP", ("crm.toml", 51, 1))]


def test_a_deal_id_twice(tmp_path):
    rows = [*ROWS, "D1,Ana Ames,GTX Pro,Acme,Won,2017-01-05,2017-03-05,40"]
    _, diags = load(export(tmp_path, rows))
    d = only(diags, "D-DUPLICATE")
    assert place(d) == ("pipeline.csv", 7, 1)
    assert d.related[0].span.line == 2


def test_mapping_file_problems(tmp_path):
    mapping = MAPPING.replace("owner = ", "ownr = ").replace('outcome = "lost"', 'outcome = "lose"')
    _, diags = load(export(tmp_path, mapping=mapping))
    found = sorted((place(d), d.message, d.hint) for d in diags if d.code == "D-MAP")
    assert found == [
        (("crm.toml", 1, 2), "[deals] needs 'owner'", "add owner = ... (docs/mapping.md)"),
        (("crm.toml", 4, 1), "unknown key 'ownr' in [deals]", "did you mean 'owner'?"),
        (("crm.toml", 11, 10), "'lose' is not an outcome", "did you mean 'lost'?"),
    ]


def test_toml_syntax_error(tmp_path):
    _, diags = load(export(tmp_path, mapping=MAPPING.replace('id = "opportunity_id"',
                                                            "id = opportunity_id")))
    d = only(diags, "D-MAP")
    assert place(d) == ("crm.toml", 3, 6)
    assert d.message.startswith("the mapping is not valid TOML: Invalid value")


def test_a_missing_or_misspelt_top_table(tmp_path):
    """A required table missing is one error that names the table (not "[] needs 'roster'"
    followed by each of its keys); a misspelt one is an unknown table."""
    start, end = MAPPING.index("[roster]\n"), MAPPING.index("[roster.fixed]")
    mapping = MAPPING[:start] + MAPPING[end:].replace("[roster.fixed]", "[rooster.fixed]")
    mapping = mapping.replace("[roster.managers]\nrole = \"MANAGER\"\ninherit = [\"team\", "
                              "\"territory\"]\n", "")
    _, diags = load(export(tmp_path, mapping=mapping))
    assert sorted((d.message, d.hint) for d in diags if d.code == "D-MAP") == [
        ("the mapping has no [roster] table",
         "add [roster] with its file and columns (docs/mapping.md)"),
        ("unknown table [rooster]", "did you mean 'roster'?")]
    _, diags = load(export(tmp_path, mapping=MAPPING + "[xyzzy]\n"))
    assert only(diags, "D-MAP").hint == ("the tables of a mapping are deals, roster, lookups, "
                                         "territories, quotas, fx")


def test_a_lookup_table_in_error_is_not_also_missing(tmp_path):
    """A field joined on a lookup table that has an error of its own is not told the table
    does not exist (with the hint to add it)."""
    mapping = MAPPING.replace('[lookups.products]\nfile = "products.csv"\n', "[lookups.products]\n")
    _, diags = load(export(tmp_path, mapping=mapping))
    assert [d.message for d in diags if d.is_error] == ["[lookups.products] needs 'file'"]
    # 'lookups' not a table at all: the field's lookup is missing (and nothing fails)
    start, end = MAPPING.index("[lookups.products]"), MAPPING.index("[roster]")
    _, diags = load(export(tmp_path, mapping="lookups = 5\n" + MAPPING[:start] + MAPPING[end:]))
    assert sorted(d.message for d in diags if d.is_error) == [
        "'lookups' must be a table of tables", "no lookup table 'accounts'",
        "no lookup table 'products'"]


def test_an_empty_stage_cell_not_mapped(tmp_path):
    rows = [*ROWS, "D6,Bob Burr,MG Special,,,,,"]
    _, diags = load(export(tmp_path, rows))
    d = only(diags, "D-STAGE")
    assert d.message == ("an empty stage value of column 'deal_stage' is not mapped: 1 row "
                         "(line 7)")


def test_a_missing_file(tmp_path):
    path = export(tmp_path)
    (tmp_path / "products.csv").unlink()
    _, diags = load(path)
    d = only(diags, "D-FILE")
    assert place(d) == ("crm.toml", 25, 1)  # lookups.products.file
    assert "file not found" in d.message
    _, diags = load(tmp_path / "nope.toml")
    assert place(only(diags, "D-FILE")) == ("nope.toml", 1, 1)


def test_the_plan_must_agree_with_the_mapping(tmp_path):
    mapping = MAPPING.replace('product = { column = "product", type = "text" }',
                              'product = { column = "product", type = "count" }').replace(
        "reached = { Engaging = ", "reached = { Engage = ", 1)
    plan = Plan(**{**{a: getattr(PLAN, a) for a in ("name", "path", "source_hash", "span",
                                                     "currency", "effective_start",
                                                     "effective_end", "calendar", "roles",
                                                     "stages")},
                   "fields": (*PLAN.fields, FieldSpec(owner="deal", name="segment",
                                                      kind="text"))})
    _, diags = load(export(tmp_path, mapping=mapping), plan)
    found = sorted((d.code, d.severity.value, place(d), d.message) for d in diags
                   if d.code in ("D-MAP", "D-STAGE", "D-FIELD"))
    assert found == [
        ("D-FIELD", "warning", ("crm.toml", 15, 2), "the plan declares deal.segment but the "
         "mapping gives no field 'segment': it is empty on every record"),
        ("D-MAP", "error", ("crm.toml", 16, 33), "field 'product' is count here but the plan "
         "declares deal.product one of ..."),
        ("D-STAGE", "error", ("crm.toml", 10, 62), "stage 'Engage' is not one of the plan's "
         "stages ('Engaging')"),
    ]


def test_managers_in_two_offices(tmp_path):
    teams = TEAMS.replace("Cy Cole,Mia Moss,East", "Cy Cole,Mia Moss,West")
    _, diags = load(export(tmp_path, teams=teams))
    found = [d for d in diags if d.code == "D-ROSTER"]
    assert [(place(d), d.message) for d in found] == [
        (("teams.csv", 2, 1), f"the reports of manager 'Mia Moss' are in several {attrs} ('East' "
                              "(2 reports), 'West' (1 report)): [roster.managers] inherit cannot "
                              "choose one") for attrs in ("teams", "territories")]


def test_the_mapping_is_deterministic(tmp_path):
    path = export(tmp_path)
    a, _ = load(path, PLAN)
    b, _ = load(path, PLAN)
    assert a.content_hash() == b.content_hash()


# ------------------------------------------------------------------------------ command line


def test_data_check_exit_codes(tmp_path, capsys):
    path = export(tmp_path)
    assert cli.main(["data", "check", "--map", str(path)]) == 0
    out = capsys.readouterr().out
    assert "note[D-ALIAS]" in out and out.rstrip().endswith("0 error(s), 0 warning(s), 10 note(s)")
    (tmp_path / "x").mkdir()
    bad = export(tmp_path / "x", [*ROWS, "D6,Ana Ames,GTX Pro,Acme,Won,2017-01-05,2017-02-30,4500"])
    assert cli.main(["data", "check", "--map", str(bad)]) == 1
    out = capsys.readouterr().out
    assert f"{tmp_path / 'x' / 'pipeline.csv'}:7:41: error[D-DATE]" in out
    # A mapping in error: no row is read, and the summary says so rather than "read from
    # 5 file(s)".
    wrong = export(tmp_path / "x", mapping=MAPPING.replace("owner = ", "ownr = "))
    assert cli.main(["data", "check", "--map", str(wrong)]) == 1
    out = capsys.readouterr().out
    assert "error[D-MAP]" in out and "read from" not in out
    assert out.rstrip().endswith(f"nothing was read: the rows are read once the mapping {wrong} "
                                 "and the files it names are without error: 2 error(s), 0 "
                                 "warning(s), 0 note(s)")
    assert cli.main(["data", "check", "--map", str(tmp_path / "missing.toml")]) == 2
    assert capsys.readouterr().out.rstrip().endswith("nothing was read: the rows are read once "
                                                     f"the mapping {tmp_path / 'missing.toml'} "
                                                     "and the files it names are without "
                                                     "error: 1 error(s), 0 warning(s), 0 "
                                                     "note(s)")
    assert cli.main(["data", "check"]) == 2  # neither --map nor the data files
    assert cli.main(["data", "check", "--map", str(path), "--deals", "x.csv"]) == 2


def test_run_needs_data(tmp_path, capsys):
    assert cli.main(["run", "plans/crm/field_sales.plan"]) == 2
    assert "--map FILE" in capsys.readouterr().err


def test_run_through_a_mapping(tmp_path, capsys):
    path = export(tmp_path)
    code = cli.main(["run", "plans/crm/field_sales.plan", "--map", str(path), "--format", "csv"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    lines = captured.out.splitlines()
    ana_q1 = next(ln for ln in lines if ln.startswith("Ana Ames,2017-Q1"))
    # quota 85,000 / 3 × 90% = 25,500 for March; D1 4,500 at 5% = 225, less the 25 pre-sale
    # reward paid on it in January; the rewards of D1 and of the lost D3: 200 + 25 + 25
    assert ana_q1.split(",")[4] == "250.00"


def test_test_reads_the_mapping_as_each_plan_reads_it(tmp_path, capsys):
    path = export(tmp_path)
    assert cli.main(["test", "plans/crm/field_sales.plan", "--map", str(path)]) == 0
    assert f"ok     {path} read as 'CRM field sales 2017' reads it" in capsys.readouterr().out
    path.write_text(MAPPING.replace('product = { column = "product", type = "text" }',
                                    'product = { column = "product", type = "count" }'))
    assert cli.main(["test", "plans/crm/field_sales.plan", "--map", str(path)]) == 1
    captured = capsys.readouterr()
    assert "FAILED" in captured.out and "error[D-MAP]" in captured.err
    assert cli.main(["test", "plans/crm/field_sales.plan", "--map",
                     str(tmp_path / "none.toml")]) == 2


@pytest.mark.parametrize("change, message", [
    ('start = 2016-10-01\n\n[roster.managers]\nrole = "MANAGER"',
     'start = 2016-10-01\n\n[roster.managers]\nrole = "MANAGER"\nstart = "2016-13-01"'),
    ('[roster.managers]\nrole = "MANAGER"\ninherit = ["team", "territory"]\n',
     '[roster.managers]\n'),
])
def test_bad_manager_settings_are_reported_not_raised(tmp_path, change, message):
    dataset, diags = load(export(tmp_path, mapping=MAPPING.replace(change, message)))
    assert [d.code for d in errors(diags)] == ["D-MAP"]
    assert "Mia Moss" not in {p.id for p in dataset.payees}


BAD_VALUES = ("1", "true", "[]", "{}", '""', '"nope"', "2017-01-01", '{ x = 1 }')


def _mutations():
    lines = MAPPING.splitlines()
    for i, line in enumerate(lines):
        if "=" not in line or line.startswith("["):
            continue
        key = line.split("=", 1)[0]
        for bad in BAD_VALUES:
            yield i, "\n".join([*lines[:i], f"{key}= {bad}", *lines[i + 1:]]) + "\n"


# The only mutations that are no error: an alias or a role is any text (a role the plan lacks
# is a warning), a start any date, `inherit` may be empty and an index may be a number.
ACCEPTED = {('GTXPro = "GTX Pro"', '""'), ('technolgy = "technology"', '""'),
            ('technolgy = "technology"', '"nope"'), ('role = "AGENT"', '"nope"'),
            ("start = 2016-10-01", "2017-01-01"), ('role = "MANAGER"', '"nope"'),
            ('inherit = ["team", "territory"]', "[]"), ('East = "90%"', "1")}


def test_a_wrong_value_anywhere_is_a_diagnostic_never_an_exception(tmp_path):
    export(tmp_path)
    path = tmp_path / "crm.toml"
    lines = MAPPING.splitlines()
    accepted = set()
    for i, text in _mutations():
        path.write_text(text)
        dataset, diags = load_mapping(str(path), PLAN)  # must not raise
        for d in diags:
            assert d.span.line >= 1 and d.message
        bad = text.splitlines()[i].split("= ", 1)[1]
        if not errors(diags):
            accepted.add((lines[i], bad))
    assert accepted == ACCEPTED  # every other wrong value is an error


def test_a_bidirectional_control_in_the_mapping_is_a_warning(tmp_path):
    # Reviewers read a mapping like a plan: an invisible reordering character in it (here in
    # an alias) must be shown, as it is in plans and data files.
    mapping = MAPPING.replace('GTXPro = "GTX Pro"', 'GTXPro = "GTX\u202e Pro"')
    _, diags = load(export(tmp_path, mapping=mapping))
    d = only(diags, "D-BIDI", Severity.WARNING)
    assert place(d) == ("crm.toml", 22, 14) and "U+202E" in d.message
