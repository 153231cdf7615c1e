"""Data loaders: file formats, every D- diagnostic with its exact place, checks across files,
the CSV / JSON Lines round trip and independence from row order."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from incentive_dsl.check.model import FieldSpec, Plan, QuotaSpec
from incentive_dsl.data.loaders import (
    load_dataset, load_events, load_fx, load_quotas, load_roster, load_territories, parse_period,
    validate,
)
from incentive_dsl.data.records import Dataset, Event, PayeeRecord, Source
from incentive_dsl.data.tables import field_offsets
from incentive_dsl.data.values import BadValue
from incentive_dsl.diagnostics import Severity, render_all
from incentive_dsl.periods import Calendar
from incentive_dsl.span import Span

DATA = Path(__file__).parent / "data"
CLEAN = DATA / "clean"
_S = Span("t.plan", 1, 1, 1, 2)

PLAN = Plan(
    name="Test", path="t.plan", source_hash="0", span=_S, currency="USD",
    effective_start=dt.date(2027, 1, 1), effective_end=None, calendar=Calendar(),
    roles=("AE", "SE", "SDR", "MGR"), stages=("discovery", "demo", "proposal"),
    channels=("email", "web", "rep"), activities=("meeting", "qualified_demo"),
    fields=(
        FieldSpec(owner="deal", name="type", kind="one of",
                  options=("new_business", "renewal", "expansion")),
        FieldSpec(owner="deal", name="product", kind="text"),
        FieldSpec(owner="deal", name="seats", kind="count"),
        FieldSpec(owner="deal", name="discount", kind="percent"),
        FieldSpec(owner="deal", name="signed_on", kind="date"),
        FieldSpec(owner="deal", name="multi_year", kind="yes or no"),
        FieldSpec(owner="deal", name="list_price", kind="money"),
        FieldSpec(owner="deal", name="ramp", kind="duration"),
        FieldSpec(owner="deal", name="score", kind="number"),
        FieldSpec(owner="payee", name="quota_share", kind="percent"),
    ),
    quotas=(QuotaSpec(name="bookings", label="Bookings", span=_S, kind="money"),
            QuotaSpec(name="meetings", label="Meetings", span=_S, kind="count")),
)

EVENTS_HEADER = "event_id,deal_id,date,kind,amount,currency,owner,splits\n"
ROSTER = ("payee_id,role,start,end,manager\n"
          "mia,MGR,2027-01-01,,\n"
          "ana,AE,2027-01-01,,mia\n"
          "bob,SE,2027-01-01,,mia\n")


def write(tmp_path: Path, name: str, text: str | bytes) -> str:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8", newline="")
    return str(path)


def places(diags) -> list[tuple[str, int, int]]:
    return [(d.code, d.span.line, d.span.column) for d in diags]


def one(diags, code: str):
    found = [d for d in diags if d.code == code]
    assert len(found) == 1, render_all(diags, {})
    return found[0]


def clean_paths(ext: str, folder: Path = CLEAN) -> list[str]:
    return [str(folder / f"{name}.{ext}")
            for name in ("events", "roster", "quotas", "fx", "territories")]


# ------------------------------------------------------------------------------ round trip


def test_clean_dataset_loads_without_diagnostics():
    dataset, diags = load_dataset(*clean_paths("csv"), plan=PLAN)
    assert diags == []
    assert [e.id for e in dataset.events] == [
        "E01", "E02", "E03", "E04", "E11", "E05", "E06", "E07", "E08", "E09", "E10"]
    assert dataset.sources == tuple(clean_paths("csv"))
    assert (len(dataset.payees), len(dataset.quotas), len(dataset.fx),
            len(dataset.territories)) == (5, 4, 3, 2)


def test_clean_values_are_exact_and_typed():
    events, diags = load_events(CLEAN / "events.csv", PLAN)
    assert diags == []
    by_id = {e.id: e for e in events}
    booked = by_id["E05"]
    assert booked == Event(
        id="E05", deal="D1", date=dt.date(2027, 2, 10), kind="booked",
        amount=Decimal("100000.00"), currency="EUR", owner="ana",
        splits=(("ana", Decimal("0.7")), ("bob", Decimal("0.3"))), term_months=36,
        fields=(("discount", Decimal("0.08")), ("list_price", Decimal("130000")),
                ("multi_year", True), ("product", "P3"), ("ramp", Decimal(90)),
                ("score", Decimal("4.5")), ("seats", 25),
                ("signed_on", dt.date(2027, 2, 9)), ("type", "new_business")))
    assert booked.source == Source(str(CLEAN / "events.csv"), 6)
    assert by_id["E09"].currency == "USD"  # empty cell: the plan currency
    assert by_id["E09"].amount == Decimal("250000.50")
    assert by_id["E09"].field("product") == "P1, extended"
    assert by_id["E09"].field("list_price") == Decimal("260000")  # plain: the event currency
    assert by_id["E09"].field("ramp") == Decimal(180)  # days, as evaluation counts months
    assert by_id["E01"].owner is None and by_id["E01"].subject == "email"  # a digital touch
    assert by_id["E02"].deal == "" and by_id["E02"].subject == "meeting"
    assert by_id["E04"].subject == "demo"
    assert by_id["E10"].amount is None


def test_clean_roster_quotas_fx_territories():
    payees, diags = load_roster(CLEAN / "roster.csv", PLAN)  # CRLF line ends
    assert diags == []
    ana = [p for p in payees if p.id == "ana"]
    assert ana[1] == PayeeRecord(id="ana", role="AE", start=dt.date(2027, 1, 1), manager="mia",
                                 team="west", territory="central",
                                 effective_from=dt.date(2027, 7, 1),
                                 fields=(("quota_share", Decimal("0.80")),))
    assert ana[1].source.row == 4
    quotas, diags = load_quotas(CLEAN / "quotas.csv")
    assert diags == []
    assert [(q.payee, q.period, q.amount, q.currency) for q in quotas][:2] == [
        ("ana", "2027-Q1", Decimal("250000"), "USD"), ("ana", "2027-Q2", Decimal("250000"), None)]
    fx, diags = load_fx(CLEAN / "fx.csv")
    assert diags == [] and fx[1].rate == Decimal("1.10") and fx[1].date == dt.date(2027, 4, 1)
    territories, diags = load_territories(CLEAN / "territories.csv")
    assert diags == []
    assert {t.territory: t.index for t in territories} == {"east": Decimal("1.10"),
                                                          "central": Decimal("0.95")}


def test_csv_and_jsonl_give_equal_records():
    from_csv, d1 = load_dataset(*clean_paths("csv"), plan=PLAN)
    from_jsonl, d2 = load_dataset(*clean_paths("jsonl"), plan=PLAN)
    assert d1 == [] and d2 == []
    for name in ("events", "payees", "quotas", "fx", "territories"):
        assert getattr(from_csv, name) == getattr(from_jsonl, name), name
    assert from_csv.content_hash() == from_jsonl.content_hash()


def test_jsonl_events_share_their_repeated_values(tmp_path):
    """The general loader (JSON Lines here) keeps one copy of each kind, currency, owner, split
    payee and date, whatever the number of rows naming it: a large history would otherwise
    hold one per row. (The clean CSV fast path caches them likewise.)"""
    rows = "".join(
        f'{{"event_id": "E{i}", "deal_id": "D{i}", "date": "2027-02-0{1 + i % 2}", '
        f'"kind": "booked", "amount": "100", "currency": "USD", "owner": "ana", '
        f'"splits": "ana:60;bob:40"}}\n' for i in range(6))
    events, diags = load_events(write(tmp_path, "events.jsonl", rows), PLAN)
    assert diags == [] and len(events) == 6
    for field in ("kind", "currency", "owner", "date"):
        values = [getattr(e, field) for e in events]
        assert len({id(v) for v in values}) == len(set(values)) < len(values), field
    payees = [p for e in events for p, _ in e.splits]
    assert len({id(p) for p in payees}) == len(set(payees)) == 2


def records_of(d: Dataset) -> tuple:
    return (d.events, d.payees, d.quotas, d.fx, d.territories)


def _shuffle_rows(src: Path, dst: Path, rng: random.Random) -> None:
    text = src.read_text(encoding="utf-8")
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = [ln for ln in text.split(newline) if ln.strip()]
    if src.suffix == ".csv":
        header, rows = lines[:1], lines[1:]
    else:
        header, rows = [], lines
    rng.shuffle(rows)
    dst.write_text(newline.join(header + rows) + newline, encoding="utf-8", newline="")


@pytest.mark.parametrize("ext", ["csv", "jsonl"])
@given(seed=st.integers(0, 2**32 - 1))
def test_shuffled_rows_give_the_same_dataset(tmp_path_factory, ext, seed):
    rng = random.Random(seed)
    folder = tmp_path_factory.mktemp("shuffled")
    for path in clean_paths(ext):
        _shuffle_rows(Path(path), folder / Path(path).name, rng)
    original, _ = load_dataset(*clean_paths(ext), plan=PLAN)
    shuffled, diags = load_dataset(*clean_paths(ext, folder), plan=PLAN)
    assert diags == []
    assert shuffled.content_hash() == original.content_hash()
    assert records_of(shuffled) == records_of(original)


# ------------------------------------------------------------------------------ files


def test_missing_file_and_directory_are_one_diagnostic_each(tmp_path):
    dataset, diags = load_dataset(str(tmp_path / "nope.csv"), str(tmp_path))
    assert places(diags) == [("D-FILE", 1, 1), ("D-FILE", 1, 1)]
    assert {d.span.path for d in diags} == {str(tmp_path), str(tmp_path / "nope.csv")}
    assert "directory" in one([d for d in diags if d.span.path == str(tmp_path)], "D-FILE").message
    assert dataset.events == () and dataset.payees == ()


def test_unknown_suffix(tmp_path):
    _, diags = load_events(write(tmp_path, "events.xlsx", "x"))
    assert places(diags) == [("D-FILE", 1, 1)]
    assert "neither a .csv nor a .jsonl" in diags[0].message


def test_invalid_utf8_points_at_the_byte(tmp_path):
    text = (EVENTS_HEADER + "E1,D1,2027-02-10,booked,100,USD,ana,\n").encode()
    text += "E2,D1,2027-02-11,stage,,,Jos\xe9,\n".encode("latin-1")
    _, diags = load_events(write(tmp_path, "events.csv", text))
    d = one(diags, "D-ENCODING")
    assert (d.span.line, d.span.column) == (3, 29)
    assert d.message.startswith("the file is not UTF-8: byte 0xE9 at byte offset 121 ") and d.is_error


def test_binary_and_utf16_files(tmp_path):
    _, diags = load_events(write(tmp_path, "events.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00"))
    assert places(diags) == [("D-ENCODING", 3, 1)]
    assert "binary" in diags[0].message
    _, diags = load_events(write(tmp_path, "e16.csv", EVENTS_HEADER.encode("utf-16")))
    assert places(diags) == [("D-ENCODING", 1, 1)] and "UTF-16" in diags[0].message


def test_bom_crlf_blank_lines_and_quoted_newlines(tmp_path):
    text = ("\ufeff" + EVENTS_HEADER.replace("\n", "\r\n") + "\r\n"
            + "E1,D1,2027-02-10,booked,100,USD,ana,\r\n"
            + ",,,,,,,\r\n"
            + '"E2","D\r\n2",2027-02-11,cancelled,,,ana,\r\n'
            + "E3,D1,2027-02-3O,invoiced,100,USD,,\r\n")
    events, diags = load_events(write(tmp_path, "events.csv", text))
    assert [(e.id, e.deal, e.source.row) for e in events] == [("E1", "D1", 3), ("E2", "D\r\n2", 5)]
    assert places(diags) == [("D-DATE", 7, 7)]
    assert diags[0].span.end_column == 17


def test_a_stray_carriage_return_in_a_crlf_file_is_reported_where_it_is(tmp_path):
    """A carriage return inside a row (not before its \\n) is an error at its line and column,
    and its row is left out; the lines after it keep the numbers editors give them, so a later
    error cites its own line, and a line ending \\r\\r\\n is one line."""
    text = (EVENTS_HEADER.replace("\n", "\r\n")
            + "E1,D1,2027-02-10,booked,100,USD,ana,\r\r\n"
            + "E2,D2,2027-02-11,booked,100,U\rSD,ana,\r\n"
            + '"E3","D\r3",2027-02-12,booked,100,USD,ana,\r\n'
            + "E4,D4,2027-02-3O,booked,100,USD,ana,\r\n"
            + "E5,D5,2027-02-14,booked,100,USD,ana,\r\n")
    path = write(tmp_path, "events.csv", text)
    events, diags = load_events(path, PLAN)
    assert places(diags) == [("D-SYNTAX", 3, 30), ("D-DATE", 5, 7)]
    assert [(e.id, e.deal, e.source.row) for e in events] == [
        ("E1", "D1", 2), ("E3", "D\r3", 4), ("E5", "D5", 6)]
    shown = render_all(diags, {path: text})
    assert "\n 3 | E2,D2,2027-02-11,booked,100,U\u240dSD,ana,\r\n" in shown
    assert "\n 5 | E4,D4,2027-02-3O,booked,100,USD,ana,\r\n" in shown
    assert diags[0].message == "a carriage return (\\r) inside this row, not at its end: " \
        "the row is left out"



def test_a_stray_carriage_return_in_the_header_keeps_the_header(tmp_path):
    """In the header line the character is reported, and the header is read without it: the
    rows after it are read by its columns (the message must not say the row is left out)."""
    header = EVENTS_HEADER.replace("\n", "\r\n").replace("deal_id", "deal\r_id", 1)
    path = write(tmp_path, "events.csv", header + "E1,D1,2027-02-10,booked,100,USD,ana,\r\n")
    events, diags = load_events(path, PLAN)
    assert [d.code for d in diags] == ["D-SYNTAX"]
    assert diags[0].message == "a carriage return (\\r) inside this row, not at its end: " \
        "the header is read without it"
    assert [(e.id, e.deal) for e in events] == [("E1", "D1")]

def test_a_header_read_without_its_stray_return_marks_each_cell_where_it_is(tmp_path):
    """A later diagnostic about a column of that header marks the column's cell (quotes and
    a stray return inside it included), not the whole rest of the line."""
    header = 'event_id,deal\r_id,date,kind,amount,currency,owner,splits,"amuont",col\rour\r\n'
    path = write(tmp_path, "events.csv", header + "E1,D1,2027-02-10,booked,100,USD,ana,,1,r\r\n")
    _, diags = load_events(path, PLAN)
    columns = sorted((d for d in diags if d.code == "D-COLUMN"), key=lambda d: d.span.column)
    assert [(d.message, d.span.line, d.span.column, d.span.end_column) for d in columns] == [
        ("unknown column 'amuont'", 1, 58, 66),
        ("column 'colour' is not used by this plan and is ignored", 1, 67, 74)]
    shown = render_all(columns, {path: header})
    assert "\n   | " + " " * 57 + "^" * 8 + "\n" in shown  # "amuont", with its quotes
    assert "\n   | " + " " * 66 + "^" * 7 + "\n" in shown  # col\rour, shown as col␍our


def test_lines_ended_by_lone_carriage_returns_are_read_as_lines(tmp_path):
    """A file saved with classic Mac line ends (a lone \r, Excel's 'CSV (Macintosh)') is read
    row by row, and each diagnostic cites the row's own line, column and text, not the whole
    file as line 1."""
    rows = [EVENTS_HEADER.rstrip("\n"), "E1,D1,2027-02-10,booked,100,USD,ana,",
            '"E2","D2",2027-02-11,booked,"1,000",USD,bob,', "E3,D1,2027-02-3O,invoiced,100,USD,,",
            "E4,D1,2027-02-12,invoiced,100,USD,ana\u202e,"]
    text = "\r".join(rows) + "\r"
    path = write(tmp_path, "events.csv", text)
    events, diags = load_events(path, PLAN)
    assert [(e.id, e.deal, e.amount, e.source.row) for e in events] == [
        ("E1", "D1", Decimal(100), 2), ("E2", "D2", Decimal(1000), 3),
        ("E4", "D1", Decimal(100), 5)]
    assert places(diags) == [("D-DATE", 4, 7), ("D-BIDI", 5, 38)]
    shown = render_all(diags, {path: text})
    assert "\n 4 | E3,D1,2027-02-3O,invoiced,100,USD,,\n   |       ^^^^^^^^^^\n" in shown
    assert "\u240d" not in shown  # no other line is shown after the row's own

    jsonl = '{"event_id": "E1", "deal_id": "D1", "date": "2027-02-10", "kind": "booked", ' \
        '"amount": 100, "currency": "USD", "owner": "ana"}\r{"event_id": "E2", "deal_id": ' \
        '"D1", "date": "2027-02-3O", "kind": "invoiced", "amount": 100, "currency": "USD"}\r'
    events, diags = load_events(write(tmp_path, "events.jsonl", jsonl), PLAN)
    assert [(e.id, e.source.row) for e in events] == [("E1", 1)]
    assert places(diags) == [("D-DATE", 2, 45)]

    _, diags = load_events(write(tmp_path, "latin1.csv", "\r".join(rows[:2]).encode()
                                 + "\rE2,D\xe9,".encode("latin-1")))
    assert places(diags) == [("D-ENCODING", 3, 5)]


def test_header_only_and_empty_files(tmp_path):
    events, diags = load_events(write(tmp_path, "events.csv", EVENTS_HEADER))
    assert events == [] and places(diags) == [("D-EMPTY", 1, 1)]
    assert diags[0].severity is Severity.WARNING
    _, diags = load_events(write(tmp_path, "empty.csv", "\n\n"))
    assert places(diags) == [("D-EMPTY", 1, 1)]
    _, diags = load_events(write(tmp_path, "empty.jsonl", ""))
    assert places(diags) == [("D-EMPTY", 1, 1)]


# ------------------------------------------------------------------------------ columns


def test_unknown_missing_and_duplicate_columns(tmp_path):
    text = ("event_id,dat,kind,ammount,kind,region\n"
            "E1,2027-02-10,booked,100,booked,west\n")
    events, diags = load_events(write(tmp_path, "events.csv", text))
    assert events == []
    assert places(diags) == [("D-COLUMN", 1, 1)] * 4 + [
        ("D-COLUMN", 1, 10), ("D-COLUMN", 1, 19), ("D-COLUMN", 1, 27), ("D-COLUMN", 1, 32)]
    assert [(d.message, d.hint) for d in diags[:4]] == [
        ("missing column 'amount': a booked event needs an amount (line 2)",
         "is the header's 'ammount' meant to be 'amount'? rename it"),
        ("missing column 'date'", "is the header's 'dat' meant to be 'date'? rename it"),
        ("missing column 'deal_id': a booked event names its deal (line 2)",
         "add the column 'deal_id' to the header"),
        ("missing column 'owner': a booked event needs its owner (the deal owner) (line 2)",
         "add the column 'owner' to the header")]
    dat, ammount, twice, region = diags[4:]
    assert dat.message == "unknown column 'dat'" and dat.hint == "did you mean 'date'?"
    assert (dat.span.column, dat.span.end_column) == (10, 13)
    assert ammount.hint == "did you mean 'amount'?"
    assert twice.message == "column 'kind' appears twice in the header"
    assert "fields / deal.region text" in region.hint


def test_semicolon_separated_file_is_one_diagnostic(tmp_path):
    text = "event_id;deal_id;date;kind\nE1;D1;2027-02-10;booked\n"
    events, diags = load_events(write(tmp_path, "events.csv", text))
    assert events == [] and places(diags) == [("D-COLUMN", 1, 1)]
    assert diags[0].message == "the columns are separated by ';', not by commas"


def test_declared_custom_fields_are_columns(tmp_path):
    text = EVENTS_HEADER.strip() + ",region,type\nE1,D1,2027-02-10,booked,100,,ana,,west,renewal\n"
    _, diags = load_events(write(tmp_path, "events.csv", text), PLAN)
    assert places(diags) == [("D-COLUMN", 1, 57)]  # region is not declared; type is


def test_too_many_and_too_few_cells(tmp_path):
    text = (EVENTS_HEADER
            + "E1,D1,2027-02-10,booked,250,000.50,USD,ana,\n"
            + "E2,D1,2027-02-10,booked\n"
            + "E3,D2,2027-02-10,booked,100,USD,ana,,x\n")
    events, diags = load_events(write(tmp_path, "events.csv", text))
    assert events == []
    assert places(diags) == [("D-COLUMN", 2, 25), ("D-COLUMN", 3, 24), ("D-COLUMN", 4, 1)]
    assert diags[0].hint == 'quote amounts that contain commas: "250,000.50"'
    assert diags[0].span.end_column == 35
    assert diags[1].message == "this row has 4 cells but the header has 8 columns"


def test_an_unquoted_amount_in_millions_is_quoted_whole_in_the_hint(tmp_path):
    """Two separators make a row two cells too long: the hint quotes the three groups, not the
    first two."""
    text = EVENTS_HEADER + "E1,D1,2027-02-10,booked,1,011,880.00,USD,ana,\n"
    _, diags = load_events(write(tmp_path, "events.csv", text))
    assert [d.hint for d in diags] == ['quote amounts that contain commas: "1,011,880.00"']
    assert (diags[0].span.column, diags[0].span.end_column) == (25, 37)


def test_required_values_and_columns(tmp_path):
    text = ("event_id,deal_id,date,kind,owner\n"
            "E1,D1,2027-02-10,booked,ana\n"
            "E2,D1,2027-03-10,invoiced,\n"
            "E3,,2027-03-10,cancelled,\n"
            ",D1,2027-03-10,stage,\n")
    events, diags = load_events(write(tmp_path, "events.csv", text))
    assert events == []
    assert places(diags) == [("D-COLUMN", 1, 1), ("D-COLUMN", 1, 1), ("D-COLUMN", 4, 4),
                             ("D-COLUMN", 5, 1)]
    assert [d.message for d in diags] == [
        "missing column 'amount': a booked event needs an amount; an invoiced event needs an "
        "amount (2 rows, the first on line 2)",
        "missing column 'stage': a stage event names the stage reached (line 5)",
        "column 'deal_id' is empty: a cancelled event names its deal",
        "column 'event_id' is empty: every event needs an id"]
    assert diags[0].span.end_column == 33  # the whole header


def test_missing_currency_without_plan_and_plan_default(tmp_path):
    path = write(tmp_path, "events.csv", EVENTS_HEADER + "E1,D1,2027-02-10,booked,100,,ana,\n")
    events, diags = load_events(path)
    assert events == [] and places(diags) == [("D-COLUMN", 2, 29)]
    assert "an amount needs its currency" in diags[0].message
    events, diags = load_events(path, PLAN)
    assert diags == [] and events[0].currency == "USD"


# ------------------------------------------------------------------------------ values


def test_every_bad_value_of_a_row_is_reported(tmp_path):
    text = (EVENTS_HEADER.strip() + ",term_months\n"
            + 'E1,D1,2027-02-30,Booked,"12,5x",usd,ana,ana:60;bob:30,0\n'
            + "E2,D1,03/15/2027,closed won,100,$,ana,ana:50;ana:50,\n")
    events, diags = load_events(write(tmp_path, "events.csv", text))
    assert events == []
    assert places(diags) == [
        ("D-DATE", 2, 7), ("D-KIND", 2, 18), ("D-AMOUNT", 2, 25), ("D-CURRENCY", 2, 33),
        ("D-SPLITS", 2, 41), ("D-NUMBER", 2, 55),
        ("D-DATE", 3, 7), ("D-KIND", 3, 18), ("D-CURRENCY", 3, 33), ("D-SPLITS", 3, 39)]
    amount = diags[2]
    assert amount.message == "column 'amount': '12,5x' is not an amount"
    assert (amount.span.column, amount.span.end_column) == (25, 32)  # the quoted cell
    assert diags[0].message == "column 'date': '2027-02-30' is not a calendar date"
    assert diags[1].hint == "did you mean 'booked'?"
    assert diags[3].hint == "write currency codes in capitals: USD"
    assert diags[4].message == "column 'splits': the splits total 90%, not 100%"
    assert diags[7].hint == "write 'booked'"
    assert diags[9].message == "column 'splits': 'ana' appears twice in the splits"


@pytest.mark.parametrize("amount, hint", [
    ("-100", "amounts are never negative"),
    ("1.250,50", "use a decimal point, not a decimal comma: 12.5, or 1,250.50"),
    ("250k", "write the number out in digits: 250000, not 250k"),
    ("$100", "write only the number; the currency goes in the 'currency' column"),
    ("1,2345", None),
])
def test_amount_hints(tmp_path, amount, hint):
    text = EVENTS_HEADER + f'E1,D1,2027-02-10,booked,"{amount}",USD,ana,\n'
    _, diags = load_events(write(tmp_path, "events.csv", text))
    d = one(diags, "D-AMOUNT")
    assert (d.span.line, d.span.column) == (2, 25)
    assert d.message == f"column 'amount': '{amount}' is not an amount"
    if hint:
        assert d.hint == hint


def test_custom_field_values(tmp_path):
    text = ("event_id,deal_id,date,kind,amount,currency,owner,type,seats,discount,"
            "multi_year,list_price,ramp,signed_on\n"
            "E1,D1,2027-02-10,booked,100,USD,ana,new_busines,2.5,8 pct,maybe,"
            "12 usd,3 fortnights,2027-02-31\n"
            "E2,D2,2027-02-10,booked,100,EUR,ana,renewal,3,8,TRUE,1000 USD,6 months,\n"
            "E3,D3,2027-02-10,booked,100,EUR,ana,,,,,1000,,\n"
            "E4,D4,2027-02-10,booked,100,USD,ana,,,,,900 EUR,,\n")
    events, diags = load_events(write(tmp_path, "events.csv", text), PLAN)
    assert places(diags) == [("D-FIELD", 2, 37), ("D-FIELD", 2, 49), ("D-FIELD", 2, 53),
                             ("D-FIELD", 2, 59), ("D-FIELD", 2, 65), ("D-FIELD", 2, 72),
                             ("D-FIELD", 2, 85), ("D-FIELD", 4, 41), ("D-FIELD", 5, 41)]
    assert diags[0].message == ("column 'type': 'new_busines' is not one of 'new_business', "
                                "'renewal', 'expansion'")
    assert diags[0].hint == "did you mean 'new_business'?"
    assert diags[1].message == "column 'seats': '2.5' is not a count"
    assert diags[7].message == ("column 'list_price': '1000' is in EUR, the event's currency, "
                                "not in the plan currency USD")
    assert diags[8].message == "column 'list_price': '900 EUR' is in EUR, not in the plan " \
                               "currency USD"
    assert [e.id for e in events] == ["E2"]
    assert events[0].fields == (("discount", Decimal("0.08")), ("list_price", Decimal("1000")),
                                ("multi_year", True), ("ramp", Decimal(180)),
                                ("seats", 3), ("type", "renewal"))


def test_splits_forms(tmp_path):
    text = ('{"event_id": "E1", "deal_id": "D1", "date": "2027-02-10", "kind": "booked", '
            '"amount": 9, "currency": "USD", "owner": "ana", "splits": {"bob": "25%", "ana": 75}}\n'
            '{"event_id": "E2", "deal_id": "D2", "date": "2027-02-10", "kind": "booked", '
            '"amount": 9, "currency": "USD", "owner": "ana", '
            '"splits": "ana: 33.34; bob:33.33;cy:33.33;"}\n'
            '{"event_id": "E3", "deal_id": "D3", "date": "2027-02-10", "kind": "booked", '
            '"amount": 9, "currency": "USD", "owner": "ana", "splits": "ana=50, bob=50"}\n'
            '{"event_id": "E4", "deal_id": "D4", "date": "2027-02-10", "kind": "booked", '
            '"amount": 9, "currency": "USD", "owner": "ana", "splits": ["ana", 100]}\n')
    events, diags = load_events(write(tmp_path, "events.jsonl", text))
    assert [e.splits for e in events] == [
        (("ana", Decimal("0.75")), ("bob", Decimal("0.25"))),
        (("ana", Decimal("0.3334")), ("bob", Decimal("0.3333")), ("cy", Decimal("0.3333")))]
    assert places(diags) == [("D-SPLITS", 3, 135), ("D-SPLITS", 4, 135)]
    assert diags[0].message == "key 'splits': 'ana=50, bob=50' is not a payee:percent pair"


def test_quota_fx_and_territory_values(tmp_path):
    _, diags = load_quotas(write(tmp_path, "q.csv", "payee_id,quota,period,amount,currency\n"
                                 "ana,bookings,2027-q1,100,\n"
                                 "ana,bookings,2027-Q5,100,US\n"
                                 "ana,bookings,2027-03-01/15,100,USD\n"))
    assert places(diags) == [("D-PERIOD", 2, 14), ("D-PERIOD", 3, 14), ("D-CURRENCY", 3, 26),
                             ("D-PERIOD", 4, 14)]
    assert diags[0].hint == "write 2027-Q1"
    assert diags[3].hint.startswith("a quota is given per month or longer")
    # Another spelling of a period: the one meant, as --period says it.
    _, diags = load_quotas(write(tmp_path, "q.csv", "payee_id,quota,period,amount,currency\n"
                                 "ana,bookings,2027-5,100,USD\nana,bookings,2027q2,100,USD\n"))
    assert [d.hint for d in diags] == ["did you mean 2027-05?", "did you mean 2027-Q2?"]
    _, diags = load_fx(write(tmp_path, "fx.csv", "currency,target,date,rate\n"
                             "EUR,USD,2027-01-01,0\nUSD,USD,2027-01-01,1\n"))
    assert places(diags) == [("D-NUMBER", 2, 20), ("D-CURRENCY", 3, 5)]
    assert diags[0].message == "column 'rate': a rate must be above zero, not '0'"
    assert diags[1].message == "a rate from USD to USD"
    _, diags = load_territories(write(tmp_path, "t.csv", "territory,index\neast,110\nwest,x\n"))
    assert places(diags) == [("D-NUMBER", 2, 6), ("D-NUMBER", 3, 6)]
    assert diags[0].hint == "did you mean 110%? write 110% or 1.10"


def test_duplicates_within_a_file(tmp_path):
    events, diags = load_events(write(tmp_path, "events.csv", EVENTS_HEADER
                                      + "E1,D1,2027-02-10,booked,100,USD,ana,\n"
                                      + "E1,D2,2027-02-11,booked,100,USD,ana,\n"))
    assert [e.deal for e in events] == ["D1"]
    d = one(diags, "D-DUPLICATE")
    assert (d.span.line, d.span.column) == (3, 1)
    assert d.message == "event id 'E1' is used twice"
    assert d.related[0].span.line == 2
    _, diags = load_roster(write(tmp_path, "r.csv", ROSTER + "ana,AE,2027-01-01,,mia\n"))
    assert places(diags) == [("D-DUPLICATE", 5, 1)]
    assert diags[0].message == "payee 'ana' has a second row without effective_from"


# ------------------------------------------------------------------------------ JSON Lines


def test_jsonl_problems(tmp_path):
    text = ('{"event_id": "E1", "deal_id": "D1", "date": "2027-02-10", "kind": "booked", '
            '"amount": 1e5, "currency": "USD", "owner": "ana", "regoin": "x"}\n'
            '{"event_id": "E2", "date": 5 \n'
            '[1, 2]\n'
            '\n'
            '{"event_id": "E3", "kind": "booked", "kind": "stage"}\n'
            '{"event_id": "E4", "deal_id": "D1", "date": "2027-02-11", "kind": "invoiced", '
            '"amount": -5, "currency": "USD"}\n')
    events, diags = load_events(write(tmp_path, "events.jsonl", text))
    assert [e.amount for e in events] == [Decimal("100000")]  # 1e5 is exact
    assert places(diags) == [("D-COLUMN", 1, 127), ("D-SYNTAX", 2, 29), ("D-SYNTAX", 3, 1),
                             ("D-COLUMN", 5, 38), ("D-AMOUNT", 6, 89)]
    # A key that is close to no known key is an export's extra column: said, then ignored.
    assert diags[0].message == "key 'regoin' is not used by this plan and is ignored"
    assert not diags[0].is_error
    assert diags[2].message == "this line is JSON but not an object"
    assert diags[3].message == "key 'kind' appears twice in this object"
    assert diags[4].message == "key 'amount': '-5' is not an amount"


def test_jsonl_missing_key_points_at_the_object(tmp_path):
    text = '{"event_id": "E1", "deal_id": "D1", "date": "2027-02-10", "kind": "booked"}\n'
    _, diags = load_events(write(tmp_path, "events.jsonl", text), PLAN)
    assert places(diags) == [("D-COLUMN", 1, 1), ("D-COLUMN", 1, 1)]
    assert sorted(d.message for d in diags) == [
        "key 'amount' is missing: a booked event needs an amount",
        "key 'owner' is missing: a booked event needs its owner (the deal owner)"]


def test_unterminated_quote(tmp_path):
    text = EVENTS_HEADER + 'E1,"D1,2027-02-10,booked,100,USD,ana,\nE2,D2,2027-02-10,booked\n'
    events, diags = load_events(write(tmp_path, "events.csv", text))
    assert events == [] and places(diags) == [("D-SYNTAX", 2, 4)]


# ------------------------------------------------------------------------------ across files


def _dataset(tmp_path, events: str, roster: str = ROSTER, plan=PLAN, **more):
    paths = {"events": write(tmp_path, "events.csv", EVENTS_HEADER + events),
             "roster": write(tmp_path, "roster.csv", roster)}
    for name, text in more.items():
        paths[name] = write(tmp_path, f"{name}.csv", text)
    return load_dataset(paths["events"], paths["roster"], paths.get("quotas"), paths.get("fx"),
                        paths.get("territories"), plan=plan)


def test_unknown_payees(tmp_path):
    dataset, diags = _dataset(
        tmp_path,
        "E1,D1,2027-02-10,booked,100,USD,anna,\n"
        "E2,D2,2027-02-10,booked,100,USD,ana,ana:50;zoe:50\n"
        "E3,D3,2027-02-10,booked,100,USD,ana,\n",
        ROSTER + "cy,AE,2027-01-01,,max\n",
        quotas="payee_id,quota,period,amount\nbobby,bookings,2027-Q1,100\n")
    assert places(diags) == [("D-PAYEE", 2, 33), ("D-PAYEE", 3, 37), ("D-PAYEE", 2, 1),
                             ("D-PAYEE", 5, 19)]
    assert [d.span.path.rsplit("/", 1)[1] for d in diags] == [
        "events.csv", "events.csv", "quotas.csv", "roster.csv"]
    assert diags[0].message == "the owner 'anna' is not in the roster"
    assert diags[0].hint == "did you mean 'ana'?"
    assert diags[1].message == "split payee 'zoe' is not in the roster"
    assert diags[3].message == "manager 'max' is not in the roster"
    assert [e.id for e in dataset.events] == ["E3"]  # rows with errors are left out
    assert [p.id for p in dataset.payees] == ["ana", "bob", "mia"]


def test_a_payee_missing_from_the_roster_is_one_error_per_kind_of_record(tmp_path):
    dataset, diags = _dataset(
        tmp_path,
        "E1,D1,2027-02-10,booked,100,USD,ana,ana:50;zed:50\n"
        "E2,D2,2027-02-11,booked,100,USD,zed,\n"
        "E3,D3,2027-02-12,booked,100,USD,zed,zed:60;bob:40\n"
        "E4,D4,2027-02-12,booked,100,USD,ana,\n",
        ROSTER + "cy,AE,2027-01-01,,max\ndee,AE,2027-01-01,,max\n",
        quotas="payee_id,quota,period,amount\nzed,bookings,2027-Q1,100\n"
               "zed,bookings,2027-Q2,100\n")
    assert places(diags) == [("D-PAYEE", 2, 37), ("D-PAYEE", 2, 1), ("D-PAYEE", 5, 19)]
    # at the first record naming them, in file order, counting the others
    assert diags[0].message == "split payee 'zed' is not in the roster (3 events name 'zed')"
    assert diags[1].message == "payee 'zed' is not in the roster (2 quota rows name 'zed')"
    assert diags[2].message == "manager 'max' is not in the roster (2 roster rows name 'max')"
    # every record naming them is still left out
    assert [e.id for e in dataset.events] == ["E4"]
    assert dataset.quotas == ()
    assert [p.id for p in dataset.payees] == ["ana", "bob", "mia"]


def test_a_rejected_roster_row_is_not_repeated_for_each_event(tmp_path):
    """A payee whose roster row is rejected is not also reported for each of their events:
    not as unknown, not as not employed (on the dates the rejected row leaves)."""
    events = "".join(f"E{i},D{i},2027-02-{i:02},booked,100,USD,sam,\n" for i in range(1, 6))
    for roster, code in (
            # ends before starting (a check across files)
            (ROSTER + "sam,SDR,2027-03-01,2027-01-31,mia\n", "D-ROSTER"),
            # a row with one cell too many (the table)
            (ROSTER + "sam,SDR,2027,01-01,,mia\n", "D-COLUMN"),
            # a bad date (the row's own reading)
            (ROSTER + "sam,SDR,2027-13-01,,mia\n", "D-DATE")):
        _, diags = _dataset(tmp_path, events, roster)
        assert places(diags) == [(code, 5, places(diags)[0][2])], render_all(diags, {})
    # of a payee's two rows, the rejected one set the start: the other would leave the events
    # outside the employment
    roster = ("payee_id,role,start,end,manager,effective_from\n"
              "mia,MGR,2027-01-01,,,\n"
              "sam,SDR,2027-01-0x,,mia,\n"
              "sam,SDR,2027-04-01,,mia,2027-04-01\n")
    _, diags = _dataset(tmp_path, events, roster)
    assert places(diags) == [("D-DATE", 3, 9)]


@pytest.mark.parametrize("rows, line, column, message", [
    # a later row ends before it takes effect (the payee's employment ends on that row's end)
    ("sam,SDR,2027-01-01,,mia,\nsam,SDR,2027-01-01,2027-01-31,mia,2027-04-01\n", 4, 20,
     "payee 'sam' ends on 2027-01-31, before this row takes effect on 2027-04-01"),
    # a middle row does: its end is not the employment's, but the row contradicts itself
    ("sam,SDR,2027-01-01,,mia,\nsam,SDR,2027-01-01,2027-01-31,mia,2027-04-01\n"
     "sam,SDR,2027-01-01,,mia,2027-06-01\n", 4, 20,
     "payee 'sam' ends on 2027-01-31, before this row takes effect on 2027-04-01"),
    # a change takes effect before the start of the earliest row (whatever its own start)
    ("sam,SDR,2027-01-01,,mia,\nsam,SDR,2026-01-01,,mia,2026-12-01\n", 4, 25,
     "payee 'sam' has a row taking effect on 2026-12-01, before starting on 2027-01-01"),
    # the only row takes effect before the start
    ("sam,SDR,2027-01-01,,mia,2026-12-01\n", 3, 25,
     "payee 'sam' has a row taking effect on 2026-12-01, before starting on 2027-01-01"),
])
def test_a_roster_row_taking_effect_outside_the_employment(tmp_path, rows, line, column,
                                                          message):
    """One error at the row's cell, and none of the payee's events is also reported as
    outside the employment the row leaves."""
    events = "".join(f"E{i},D{i},2027-02-{i:02},booked,100,USD,sam,\n" for i in range(1, 6))
    roster = "payee_id,role,start,end,manager,effective_from\nmia,MGR,2027-01-01,,,\n" + rows
    _, diags = _dataset(tmp_path, events, roster)
    assert places(diags) == [("D-ROSTER", line, column)], render_all(diags, {})
    assert diags[0].message == message


def test_roster_rows_taking_effect_on_the_first_or_the_last_day(tmp_path):
    """The bounds are days of the employment, and the rows' order in the file does not
    matter; the same rows with the end a day earlier are an error."""
    rows = ("sam,SDR,2027-01-01,2027-04-01,mia,2027-04-01\n"
            "sam,SDR,2027-01-01,,mia,2027-01-01\n")
    roster = "payee_id,role,start,end,manager,effective_from\nmia,MGR,2027-01-01,,,\n"
    events = "E1,D1,2027-03-01,booked,100,USD,sam,\n"
    assert _dataset(tmp_path, events, roster + rows)[1] == []
    early = rows.replace("2027-04-01,mia", "2027-03-31,mia")
    _, diags = _dataset(tmp_path, events, roster + early)
    assert places(diags) == [("D-ROSTER", 3, 20)], render_all(diags, {})


def test_duplicate_event_ids_across_files(tmp_path):
    first = write(tmp_path, "a.csv", EVENTS_HEADER + "E1,D1,2027-02-10,booked,100,USD,ana,\n")
    second = write(tmp_path, "b.csv", EVENTS_HEADER + "E1,D1,2027-03-10,invoiced,100,USD,,\n")
    roster = write(tmp_path, "roster.csv", ROSTER)
    dataset, diags = load_dataset([first, second], roster, plan=PLAN)
    d = one(diags, "D-DUPLICATE")
    assert (d.span.path, d.span.line, d.span.column) == (second, 2, 1)
    assert d.related[0].span.path == first
    assert [e.kind for e in dataset.events] == ["booked"]
    assert dataset.sources == (first, second, roster)


def test_an_events_file_given_twice_repeats_its_ids(tmp_path):
    """load_dataset leaves the search for repeated keys to each file's loader only for the
    kinds of records read from one file: the same file twice is two."""
    events = write(tmp_path, "events.csv", EVENTS_HEADER + "E1,D1,2027-02-10,booked,100,USD,ana,\n")
    roster = write(tmp_path, "roster.csv", ROSTER)
    dataset, diags = load_dataset([events, events], roster, plan=PLAN)
    assert [(d.code, d.span.line, d.span.column) for d in diags] == [
        ("D-DUPLICATE", 2, 1), ("D-DUPLICATE", 2, 4)]
    assert diags[0].message == "event id 'E1' is used twice"
    assert [e.id for e in dataset.events] == ["E1"]


def test_bookings_and_orphans(tmp_path):
    _, diags = _dataset(
        tmp_path,
        "E1,D1,2027-02-10,booked,100,USD,ana,\n"
        "E2,D1,2027-03-10,booked,100,USD,ana,\n"
        "E3,D2,2027-03-10,collected,100,USD,,\n"
        "E4,D1,2027-01-10,invoiced,100,USD,,\n"
        "E5,D1,2027-02-10,amended,120,USD,,\n"
        "E6,D9,2027-02-10,booked,12x,USD,ana,\n"
        "E7,D9,2027-02-11,cancelled,,,,\n")
    assert places(diags) == [("D-DUPLICATE", 3, 4), ("D-ORPHAN", 4, 4), ("D-ORPHAN", 5, 7),
                             ("D-AMOUNT", 7, 25)]
    assert diags[0].message == "deal 'D1' is booked twice (first on 2027-02-10)"
    assert diags[1].message == "deal 'D2' is collected but never booked"
    assert diags[2].message == ("deal 'D1' is invoiced on 2027-01-10, before it is booked on "
                                "2027-02-10")
    # E5 (amended the day of the booking) is fine; E7 follows a booking left out for its
    # amount, so it is not reported again


def test_an_orphan_suggests_only_a_deal_id_it_may_be_a_typo_of(tmp_path):
    _, diags = _dataset(
        tmp_path,
        "E1,D00000123,2027-02-10,booked,100,USD,ana,\n"
        "E2,D00000456,2027-02-10,booked,100,USD,ana,\n"
        "E3,D0000O123,2027-03-10,invoiced,100,USD,,\n"  # a letter O for a zero
        "E4,D00000789,2027-03-10,invoiced,100,USD,,\n")  # another deal, not booked here
    assert [(d.code, d.span.line, d.hint) for d in diags] == [
        ("D-ORPHAN", 4, "did you mean 'D00000123'?"),
        ("D-ORPHAN", 5, "add the deal's booked event, or check the deal id")]


def test_a_booking_rejected_for_its_number_of_cells_leaves_no_orphans(tmp_path):
    """The row's deal id is read from its cells as placed from the left (right before a stray
    separator) and from the right (right after it): either way the booking's later events
    are not orphans, and no other deal is suggested for them."""
    for booking in ("E1,D1144,2027-02-15,booked,14,370.00x,USD,ana,\n",  # one cell too many
                    "E1,D1144,2027-02-15,booked,14370,USD,ana\n",  # one too few
                    "ana:100,E1,D1144,2027-02-15,booked,14370,USD,ana,\n",  # one too many first
                    "E1,D1144,2027-02-15,booked,14370,USD,ana,,x\n"):  # a cell with no column
        _, diags = _dataset(
            tmp_path,
            "E0,D1614,2027-01-10,booked,100,USD,ana,\n" + booking
            + "E2,D1144,2027-02-20,invoiced,14370.00,USD,,\n"
            + "E3,D1144,2027-03-17,collected,14370.00,USD,,\n")
        assert [d.code for d in diags] == ["D-COLUMN"], render_all(diags, {})
    # a stage row with a wrong number of cells is not the deal's booking: the orphan stays
    _, diags = _dataset(
        tmp_path,
        "E1,D7,2027-02-15,stage,14,370.00,USD,ana,\n"
        "E2,D7,2027-02-20,invoiced,14370.00,USD,,\n")
    assert places(diags) == [("D-COLUMN", 2, 24), ("D-ORPHAN", 3, 4)]


def test_a_jsonl_booking_with_a_key_twice_leaves_no_orphans(tmp_path):
    events = write(tmp_path, "events.jsonl",
                   '{"event_id": "E1", "deal_id": "D1", "date": "2027-02-15", "kind": "booked", '
                   '"amount": 100, "currency": "USD", "owner": "ana", "owner": "bob"}\n'
                   '{"event_id": "E2", "deal_id": "D1", "date": "2027-02-20", '
                   '"kind": "invoiced", "amount": 100, "currency": "USD"}\n')
    _, diags = load_dataset(events, write(tmp_path, "roster.csv", ROSTER), plan=PLAN)
    assert places(diags) == [("D-COLUMN", 1, 127)]


def test_rates_and_indexes_rejected_for_their_number_of_cells(tmp_path):
    _, diags = _dataset(tmp_path, "E1,D1,2027-02-10,booked,100,EUR,ana,\n",
                        "payee_id,role,start,territory\nana,AE,2027-01-01,east\n",
                        fx="currency,target,date,rate\nEUR,USD,2027-01-01,1,08\n",
                        territories="territory,index\neast,1,10\n")
    # not also: no rate from EUR to USD; territory 'east' has no index
    assert [(d.code, d.span.path.rsplit("/", 1)[1]) for d in diags] == [
        ("D-COLUMN", "fx.csv"), ("D-COLUMN", "territories.csv")]


def test_fx_rates_must_exist_on_or_before_the_event(tmp_path):
    fx = "currency,target,date,rate\nEUR,USD,2027-03-01,1.08\nUSD,GBP,2027-01-01,0.8\n"
    dataset, diags = _dataset(
        tmp_path,
        "E1,D1,2027-02-10,booked,100,EUR,ana,\n"
        "E2,D2,2027-03-01,booked,100,EUR,ana,\n"
        "E3,D3,2027-02-01,booked,100,GBP,ana,\n"
        "E4,D4,2027-02-20,booked,100,EUR,ana,\n"
        "E5,D5,2027-02-20,booked,100,USD,ana,\n", fx=fx)
    assert places(diags) == [("D-CURRENCY", 2, 29), ("D-CURRENCY", 4, 29)]
    assert diags[0].message == ("no FX rate from EUR to USD on or before 2027-02-10 "
                                "(2 records in EUR need one)")
    assert diags[0].hint == ("the first EUR→USD rate is dated 2027-03-01; add one dated on or "
                             "before 2027-02-10")
    assert diags[1].hint.startswith("the FX file has USD→GBP rates, but converting needs GBP→USD")
    assert [e.id for e in dataset.events] == ["E5", "E2"]


def test_a_missing_rate_with_no_fx_rates_at_all_says_none_were_read(tmp_path):
    # with no FX file given, "add a row to the FX file" names a file that is not there
    _, diags = _dataset(tmp_path, "E1,D1,2027-02-10,booked,100,EUR,ana,\n")
    [d] = diags
    assert d.hint == ("no FX rates were read: give an FX file (--fx FILE, fx.csv in --data, or "
                      "[fx] in a mapping; docs/data.md) with a row EUR,USD,2027-02-10,RATE "
                      "(1 EUR = RATE USD)")


def test_names_the_plan_does_not_declare(tmp_path):
    text = ("event_id,deal_id,date,kind,owner,stage,activity,channel\n"
            "E1,D1,2027-01-10,stage,ana,Demo,,\n"
            "E2,,2027-01-10,activity,ana,,coffee,\n"
            "E3,D1,2027-01-10,touch,,,,fax\n")
    events = write(tmp_path, "events.csv", text)
    _, diags = load_dataset(events, write(tmp_path, "roster.csv", ROSTER), plan=PLAN)
    assert places(diags) == [("D-STAGE", 2, 28), ("D-STAGE", 3, 30), ("D-STAGE", 4, 27)]
    assert diags[0].message == ("stage 'Demo' is not one of the plan's stages ('discovery', "
                                "'demo', 'proposal')")
    assert diags[0].hint == "did you mean 'demo'?"
    assert diags[2].message.startswith("channel 'fax' is not one of the plan's channels")
    _, diags = load_dataset(events, write(tmp_path, "roster.csv", ROSTER))  # no plan: no list
    assert diags == []


def test_roster_problems(tmp_path):
    roster = ("payee_id,role,start,end,manager,effective_from\n"
              "mia,MGR,2027-01-01,,ana,\n"
              "ana,AE,2027-01-01,,mia,\n"
              "bob,SE,2027-03-01,2027-02-01,,\n"
              "cy,CSM,2027-01-01,,cy,\n"
              "ana,AE,2027-01-01,,,2027-06-01\n"
              "ana,AE,2027-01-01,,bob,2027-06-01\n")
    dataset, diags = _dataset(tmp_path, "", roster)
    assert places(diags) == [
        ("D-EMPTY", 1, 1),
        ("D-ROSTER", 3, 20), ("D-ROSTER", 4, 19), ("D-ROLE", 5, 4), ("D-ROSTER", 5, 20),
        ("D-DUPLICATE", 7, 24)]
    cycle = diags[1]
    assert cycle.message == "the managers form a cycle: ana → mia → ana"
    assert cycle.related[0].message == "mia's manager is ana" and cycle.related[0].span.line == 2
    assert diags[2].message == "payee 'bob' ends on 2027-02-01, before starting on 2027-03-01"
    assert diags[3].severity is Severity.WARNING
    assert diags[4].message == "'cy' is their own manager"
    assert diags[5].message == "payee 'ana' has a second row effective from 2027-06-01"
    # from 2027-06-01 ana has no manager: no cycle then; the rows of the cycle are left out
    assert [(p.id, p.effective_from) for p in dataset.payees] == [("ana", dt.date(2027, 6, 1))]


def test_manager_cycle_that_starts_with_a_reorganisation(tmp_path):
    roster = ("payee_id,role,start,manager,effective_from\n"
              "mia,MGR,2027-01-01,,\n"
              "ana,AE,2027-01-01,mia,\n"
              "mia,MGR,2027-01-01,ana,2027-07-01\n"  # from July mia reports to ana: a loop
              "bob,SE,2027-01-01,mia,\n"
              "bob,SE,2027-01-01,ana,2027-03-01\n")  # a change that makes no loop
    _, diags = _dataset(tmp_path, "", roster)
    assert places(diags)[1:] == [("D-ROSTER", 4, 20)]  # the row that closes the loop
    assert diags[1].message == "the managers form a cycle: mia → ana → mia (from 2027-07-01)"
    assert diags[1].related[0].span.line == 3


def test_owner_not_employed_is_a_warning(tmp_path):
    roster = ROSTER + "sam,SDR,2027-03-01,2027-06-30,mia\n"
    dataset, diags = _dataset(tmp_path, "E1,D1,2027-02-10,booked,100,USD,sam,sam:50;ana:50\n"
                              "E2,D1,2027-07-01,invoiced,100,USD,sam,\n", roster)
    assert places(diags) == [("D-PAYEE", 2, 33), ("D-PAYEE", 2, 37)]
    assert all(d.severity is Severity.WARNING for d in diags)
    assert diags[0].message == "'sam' is not employed on 2027-02-10 (employed from 2027-03-01 " \
                               "to 2027-06-30)"
    assert len(dataset.events) == 2  # warnings keep the rows


def test_quotas_against_the_plan(tmp_path):
    quotas = ("payee_id,quota,period,amount,currency\n"
              "ana,booking,2027-Q1,100,USD\n"
              "ana,meetings,2027-Q1,40,USD\n"
              "ana,bookings,2027-Q1,100,EUR\n"
              "ana,bookings,2027-Q1,100,USD\n")
    _, diags = _dataset(tmp_path, "", quotas=quotas)
    assert places(diags)[1:] == [("D-QUOTA", 2, 5), ("D-CURRENCY", 3, 25), ("D-CURRENCY", 4, 26),
                                 ("D-DUPLICATE", 5, 14)]
    assert diags[1].hint == "did you mean 'bookings'?"
    assert diags[3].message == "no FX rate from EUR to USD on or before 2027-03-31"


def test_territory_without_index_is_a_warning(tmp_path):
    roster = "payee_id,role,start,territory\nana,AE,2027-01-01,east\nbob,AE,2027-01-01,wst\n"
    _, diags = _dataset(tmp_path, "", roster,
                        territories="territory,index\neast,110%\nwest,90%\n")
    assert places(diags)[1:] == [("D-TERRITORY", 3, 19)]
    assert diags[1].hint == "did you mean 'west'?"


def test_validate_alone_finds_the_cells(tmp_path):
    events, _ = load_events(write(tmp_path, "events.csv",
                                  EVENTS_HEADER + "E1,D1,2027-02-10,booked,100,USD,anna,\n"))
    payees, _ = load_roster(write(tmp_path, "roster.csv", ROSTER))
    diags = validate(Dataset(tuple(events), tuple(payees)))
    assert places(diags) == [("D-PAYEE", 2, 33)]
    # records made in code have no file: the diagnostic still names the problem
    made = Event(id="X", deal="D", date=dt.date(2027, 1, 1), kind="invoiced",
                 amount=Decimal(1), currency="USD")
    diags = validate(Dataset((made,), tuple(payees)))
    assert [d.code for d in diags] == ["D-ORPHAN"] and diags[0].span.path == "<generated>"


def test_render_points_at_the_cell(tmp_path):
    path = write(tmp_path, "events.csv",
                 EVENTS_HEADER + 'E1,D1,2027-02-10,booked,"12,5x",USD,ana,\n')
    _, diags = load_events(path)
    text = render_all(diags, {path: Path(path).read_text()})
    assert text.endswith(
        "error[D-AMOUNT]: column 'amount': '12,5x' is not an amount\n"
        ' 2 | E1,D1,2027-02-10,booked,"12,5x",USD,ana,\n'
        "   |                         ^^^^^^^\n"
        "   = hint: write digits with an optional decimal point; thousands may be grouped with "
        "commas (250000.50 or 250,000.50)")


# ------------------------------------------------------------------------------ never raises


@given(st.text(alphabet=st.sampled_from(list('ab,"  \r\n')), min_size=1, max_size=20))
def test_cell_columns_agree_with_the_csv_module(text):
    lines = io.StringIO(text + "\n", newline="").readlines()
    reader = csv.reader(iter(lines))
    record = next(reader, [])
    offsets, open_quote = field_offsets("".join(lines[:reader.line_num]))
    if not record or open_quote is not None:
        return
    assert len(offsets) == len(record)
    raw = "".join(lines)
    for (start, end), value in zip(offsets, record):
        # a cell ends where its record or the next cell begins
        assert raw[end:end + 1] in ("", ",", "\r", "\n"), (raw, start, end)
        if not raw[start:end].startswith('"'):
            assert raw[start:end] == value
        else:  # quoted: the whole cell, quotes and what follows the closing one included
            assert next(csv.reader(io.StringIO(raw[start:end], newline=""))) == [value]


@given(st.binary(max_size=300))
def test_any_bytes_give_diagnostics_not_exceptions(tmp_path_factory, data):
    folder = tmp_path_factory.mktemp("fuzz")
    for name in ("events.csv", "events.jsonl"):
        path = folder / name
        path.write_bytes(EVENTS_HEADER.encode() + data if name.endswith("csv") else data)
        events, diags = load_events(path, PLAN)
        assert isinstance(events, list) and isinstance(diags, list)
        assert all(d.span.line >= 1 and d.span.column >= 1 for d in diags)


@given(st.text(alphabet=st.sampled_from(list('ab,"\n\r 1-:;%{}[]E0.9DUS')), max_size=200))
def test_any_text_gives_diagnostics_not_exceptions(tmp_path_factory, text):
    folder = tmp_path_factory.mktemp("fuzz")
    for name in ("events.csv", "events.jsonl", "roster.csv"):
        path = folder / name
        path.write_text(text, encoding="utf-8", newline="")
    dataset, diags = load_dataset(folder / "events.csv", folder / "roster.csv", plan=PLAN)
    assert isinstance(dataset, Dataset)
    events, diags = load_events(folder / "events.jsonl", PLAN)
    assert isinstance(events, list)


def test_fixture_with_many_problems_reports_them_all(tmp_path):
    broken = DATA / "broken"
    dataset, diags = load_dataset(broken / "events.csv", broken / "roster.csv",
                                  fx=CLEAN / "fx.csv", plan=PLAN)
    assert len({(d.span.path, d.span.line, d.code) for d in diags}) == len(diags)
    assert sorted({d.code for d in diags}) == [
        "D-AMOUNT", "D-COLUMN", "D-CURRENCY", "D-DATE", "D-DUPLICATE", "D-FIELD", "D-KIND",
        "D-ORPHAN", "D-PAYEE", "D-ROSTER", "D-SPLITS", "D-STAGE"]
    assert [e.id for e in dataset.events] == ["E1"]


def test_paths_may_be_pathlib_paths(tmp_path):
    shutil.copy(CLEAN / "events.csv", tmp_path / "events.csv")
    dataset, _ = load_dataset(tmp_path / "events.csv", CLEAN / "roster.csv", plan=PLAN)
    assert dataset.sources == (str(tmp_path / "events.csv"), str(CLEAN / "roster.csv"))


def test_a_quote_left_open_far_from_the_end_is_reported_where_it_opens(tmp_path):
    """A stray quote swallows the rows after it; with more than the csv module's field limit
    (128 KiB) left, reading stops on that limit, and the error must still name the quote, at
    its row and column, not the limit."""
    rows = [f"E{i:05d},D{i:05d},2027-02-01,booked,100.00,USD,ana" for i in range(5000)]
    rows[10] = 'E00010,D00010,2027-02-01,booked,100.00,"USD,ana'
    path = write(tmp_path, "events.csv",
                 "event_id,deal_id,date,kind,amount,currency,owner\n" + "\n".join(rows) + "\n")
    _, diags = load_events(path, PLAN)
    d = one(diags, "D-SYNTAX")
    assert (d.span.line, d.span.column) == (12, 40)
    assert "never closed" in d.message and "limit" not in d.message


@pytest.mark.parametrize("text, says", [
    ("2027-Q5", "a year has quarters Q1 to Q4, not Q5"),
    ("2027-H3", "a year has halves H1 and H2, not H3"),
    ("2027-13", "a year has months 01 to 12, not 13"),
])
def test_a_quota_period_no_year_has_says_which_a_year_has(text, says):
    with pytest.raises(BadValue, match=f"'{text}' is not a period: {says}"):
        parse_period(text)
