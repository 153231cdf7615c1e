"""The clean-file fast path of the events loader (incentive_dsl/data/fast.py) gives exactly what
the general loader gives: the same records with the same sources, or it gives up and the
general loader reads the file (so the diagnostics are the general loader's)."""

from __future__ import annotations

import csv
import os
from decimal import Decimal

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from incentive_dsl import api
from incentive_dsl.data import fast, loaders
from incentive_dsl.data.records import Event

PLAN = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench",
                    "credit_heavy.plan")
_plan = api.load_plan(PLAN).plan

HEADERS = [
    ["event_id", "deal_id", "date", "kind", "amount", "currency", "owner", "splits", "product",
     "stage"],
    ["event_id", "date", "kind", "deal_id", "amount", "owner", "splits", "term_months"],
    ["event_id", "deal_id", "date", "kind", "amount", "owner", "bogus"],
    ["event_id", "deal_id", "date", "kind", "amount", "owner", "event_id"],
    ["deal_id", "date", "kind", "amount", "owner"],
]
CELLS = {
    "event_id": ["E1", "E2", "E3", "E4", "", " E5 "],
    "deal_id": ["D1", "D2", "", "D 3"],
    "date": ["2027-01-05", "2027-02-30", "05/01/2027", "", " 2027-03-01"],
    "kind": ["booked", "booked", "stage", "cancelled", "activity", "won", ""],
    "amount": ["1000", "250,000.50", "-5", "12,50", "", "1e5"],
    "currency": ["USD", "EUR", "usd", ""],
    "owner": ["ana", "bob", "", " ana"],
    "splits": ["", "ana:60;bob:40", "ana:60;bob:30", "ana:100%", "ana;bob", "ana\t:60;bob:40",
               "ana:50;ana:50", "bob:40;ana:60", "ana:50;bob:25;cy:25"],
    "product": ["P1", "P3", "", "P9"],
    "stage": ["lost", "", "demo"],
    "term_months": ["12", "", "0", "x"],
    "bogus": ["", "x"],
}


# The cells of CELLS the general loader takes without a word (with the plan): a "tidy" file of
# only these, its ids not repeated, is clean and the fast path reads it. Without tidy files
# the fast path gave up on every generated file (one bad cell among some 30 is enough), and
# the property never compared its records with the general loader's.
TIDY = {
    "deal_id": ["D1", "D2", "D 3"],
    "date": ["2027-01-05", " 2027-03-01"],
    "kind": ["booked", "booked", "cancelled"],
    "amount": ["1000", "250,000.50"],
    "currency": ["USD", "EUR", ""],
    "owner": ["ana", "bob", " ana"],
    "splits": ["", "ana:60;bob:40", "ana:100%", "ana\t:60;bob:40", "bob:40;ana:60",
               "ana:50;bob:25;cy:25"],
    "product": ["P1", "P3", ""],
    "stage": ["lost", "", "demo"],
    "term_months": ["12", ""],
}


def _quote(text: str) -> str:
    return f'"{text}"' if "," in text or '"' in text else text


def _csv_file(draw, headers, tidy_cell, any_cell) -> str:
    """A CSV text with a header from `headers` and up to six lines: tidy (rows the fast path
    reads, a cell drawn by `tidy_cell(draw, column, row)`) or not (blank lines, lines of
    commas, short rows, any cells from `any_cell(column)`), with LF, CRLF, and CRLF saved once
    more as text (\r\r\n) endings: one line each, in both loaders."""
    tidy = draw(st.booleans())
    header = draw(st.sampled_from(headers[:2] if tidy else headers))
    lines = [",".join(header)]
    for i in range(draw(st.integers(1 if tidy else 0, 6))):
        shape = draw(st.sampled_from(["row", "row", "row", "blank"] if tidy else
                                     ["row", "row", "row", "blank", "commas", "short"]))
        if shape == "blank":
            lines.append("")
        elif shape == "commas":
            lines.append("," * (len(header) - 1))
        elif tidy:
            lines.append(",".join(tidy_cell(draw, c, i) for c in header))
        else:
            cells = [_quote(draw(st.sampled_from(any_cell(c)))) for c in header]
            lines.append(",".join(cells[:-1] if shape == "short" else cells))
    end = draw(st.sampled_from(["\n", "\r\n", "\r\r\n"]))
    return end.join(lines) + draw(st.sampled_from([end, "", end * 2]))


@st.composite
def events_file(draw):
    def tidy_cell(draw, column, row):
        if column == "event_id":
            return draw(st.sampled_from([f"E{row}", f" E{row} "]))
        return _quote(draw(st.sampled_from(TIDY[column])))

    return _csv_file(draw, HEADERS, tidy_cell, CELLS.__getitem__)


@settings(max_examples=150, deadline=None)
@given(text=events_file(), with_plan=st.booleans())
def test_fast_path_reads_what_the_general_loader_reads(tmp_path_factory, text, with_plan):
    path = str(tmp_path_factory.mktemp("fast") / "events.csv")
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    plan = _plan if with_plan else None
    quick = fast.clean_events(path, loaders.EVENT_COLUMNS, plan)
    general = loaders._load(path, loaders.EVENT_COLUMNS, loaders._event, plan)
    if quick is not None:
        assert not general.diags and not general.rejected
        assert quick == general.records
        assert [e.source for e in quick] == [e.source for e in general.records]
    records, diags = loaders.load_events(path, plan)
    assert records == general.records and diags == general.diags
    # load_dataset relies on it (check_dataset's `unique`): no id twice among a file's records
    assert len({e.id for e in records}) == len(records)


def test_clean_file_takes_the_fast_path(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text("event_id,deal_id,date,kind,amount,currency,owner,splits,product\n"
                    "E1,D1,2027-01-05,booked,\"1,000.50\",USD,ana,ana:60;bob:40,P3\n\n"
                    "E2,D1,2027-02-01,cancelled,,,,,\n", encoding="utf-8")
    events = fast.clean_events(str(path), loaders.EVENT_COLUMNS, _plan)
    assert events is not None and [e.source.row for e in events] == [2, 4]
    assert events[0].splits and events[0].fields == (("product", "P3"),)
    general = loaders._load(str(path), loaders.EVENT_COLUMNS, loaders._event, _plan).records
    assert events == loaders.load_events(str(path), _plan)[0] == general
    # its records are made slot by slot: every field set, as attrs' __init__ sets them
    for quick, made in zip(events, general):
        assert type(quick) is Event and attrs.asdict(quick) == attrs.asdict(made)
        assert hash(quick) == hash(made) and str(quick.source) == str(made.source)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        events[0].amount = Decimal(2)
    path.write_text(path.read_text() + "E2,D2,2027-02-01,booked,5,USD,ana,,P1\n")
    assert fast.clean_events(str(path), loaders.EVENT_COLUMNS, _plan) is None  # a repeated id


def test_the_fast_path_counts_lines_as_editors_do(tmp_path):
    """Only \\n ends a line: a CRLF file saved once more as text (\\r\\r\\n) has its rows on
    lines 2 and 3, and a carriage return inside a row is the general loader's to report."""
    path = tmp_path / "events.csv"
    rows = ["event_id,deal_id,date,kind,amount,currency,owner",
            "E1,D1,2027-01-05,booked,100,USD,ana", "E2,D2,2027-01-06,booked,100,USD,ana"]
    path.write_bytes(("\r\r\n".join(rows) + "\r\r\n").encode())
    events = fast.clean_events(str(path), loaders.EVENT_COLUMNS, _plan)
    assert [e.source.row for e in events] == [2, 3]
    assert events == loaders._load(str(path), loaders.EVENT_COLUMNS, loaders._event,
                                   _plan).records
    path.write_bytes(("\r\n".join(rows).replace("D2", "D\r2") + "\r\n").encode())
    assert fast.clean_events(str(path), loaders.EVENT_COLUMNS, _plan) is None


def test_whitespace_around_a_split_payee_is_stripped_as_the_general_loader_strips_it(tmp_path):
    """parse_splits strips any whitespace around a payee, not only spaces."""
    path = tmp_path / "events.csv"
    for space in ("\t", "\u00a0", "\u3000", "\x1f"):
        path.write_text("event_id,deal_id,date,kind,amount,currency,owner,splits\n"
                        f"E1,D1,2027-01-05,booked,100,USD,ana,ana{space}:60;{space}bob:40\n",
                        encoding="utf-8")
        general = loaders._load(str(path), loaders.EVENT_COLUMNS, loaders._event, None)
        assert not general.diags
        assert general.records[0].splits == (("ana", Decimal("0.6")), ("bob", Decimal("0.4")))
        assert fast.clean_events(str(path), loaders.EVENT_COLUMNS, None) == general.records


def _filled(records):
    return [(line, cells) for line, cells in records if any(c.strip() for c in cells)]


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=["a", "b", ",", "\n", " ", "\t", "\r", '"', "\u2028", "\x85", "\x0c",
                              "\x1c"], max_size=40))
def test_lines_are_split_as_the_csv_module_reads_them(text):
    """Without quotes or carriage returns the fast path splits lines and cells itself: it must
    give the records (and lines) csv.reader gives, blank ones aside, whatever else the text
    holds (other line separators, tabs, blank lines, no final newline)."""
    try:
        expected = _filled(fast._csv_records(text))
    except (fast._GiveUp, csv.Error):
        expected = None
    try:
        assert _filled(fast._records(text)) == expected
    except (fast._GiveUp, csv.Error):
        assert expected is None


def test_a_carriage_return_in_a_quoted_cell_is_stripped_as_the_general_loader_strips_it(tmp_path):
    """A quoted cell ending with \\r is read without it by both loaders (str.strip)."""
    path = tmp_path / "events.csv"
    path.write_bytes(b'event_id,deal_id,date,kind,amount,currency,owner\n'
                     b'E1,"D1\r",2027-01-05,booked,100,USD,ana\n')
    general = loaders._load(str(path), loaders.EVENT_COLUMNS, loaders._event, None)
    assert not general.diags and general.records[0].deal == "D1"
    assert fast.clean_events(str(path), loaders.EVENT_COLUMNS, None) == general.records


QUOTA_HEADERS = [
    ["payee_id", "quota", "period", "amount", "currency"],
    ["period", "amount", "payee_id", "quota"],
    ["payee_id", "quota", "period", "amount", "bogus"],
    ["payee_id", "quota", "period", "amount", "period"],
    ["payee_id", "quota", "amount"],
]
QUOTA_CELLS = {
    "payee_id": ["ana", "bob", "", " ana"],
    "quota": ["bookings", "calls", "", "bookings "],
    "period": ["2027-Q1", "2027-03", "2027", "FY2027", "2027-q1", "2027-3", "", " 2027-Q2"],
    "amount": ["1000", "250,000.50", "-5", "12,50", "", "1e5", "0"],
    "currency": ["USD", "EUR", "usd", ""],
    "bogus": ["", "x"],
}
QUOTA_TIDY = {"payee_id": ["ana", "bob", " ana"], "quota": ["bookings", "calls"],
              "period": ["2027-Q1", "2027-03", "2027", "FY2027", " 2027-Q2"],
              "amount": ["1000", "250,000.50", "0"], "currency": ["USD", "EUR", ""]}


@st.composite
def quotas_file(draw):
    return _csv_file(draw, QUOTA_HEADERS,
                     lambda draw, column, row: _quote(draw(st.sampled_from(QUOTA_TIDY[column]))),
                     QUOTA_CELLS.__getitem__)


@settings(max_examples=150, deadline=None)
@given(text=quotas_file())
def test_quotas_fast_path_reads_what_the_general_loader_reads(tmp_path_factory, text):
    path = str(tmp_path_factory.mktemp("fast") / "quotas.csv")
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    quick = fast.clean_quotas(path, loaders.QUOTA_COLUMNS)
    general = loaders._load(path, loaders.QUOTA_COLUMNS, loaders._quota, None)
    if quick is not None:
        assert not general.diags and not general.rejected
        assert quick == general.records
        assert [q.source for q in quick] == [q.source for q in general.records]
        for made, read in zip(quick, general.records):
            assert attrs.asdict(made) == attrs.asdict(read) and hash(made) == hash(read)
    records, diags = loaders.load_quotas(path)
    assert records == general.records and diags == general.diags


def test_clean_quotas_take_the_fast_path(tmp_path):
    path = tmp_path / "quotas.csv"
    path.write_text("payee_id,quota,period,amount,currency\nana,bookings,2027-Q1,\"1,000\",USD\n"
                    "\nana,bookings,2027-Q2,500,\n", encoding="utf-8")
    quotas = fast.clean_quotas(str(path), loaders.QUOTA_COLUMNS)
    assert quotas is not None and [q.source.row for q in quotas] == [2, 4]
    assert quotas == loaders._load(str(path), loaders.QUOTA_COLUMNS, loaders._quota,
                                   None).records
    path.write_text(path.read_text() + "ana,bookings,2027-Q2,700,USD\n")
    assert fast.clean_quotas(str(path), loaders.QUOTA_COLUMNS) is None  # a second Q2 row
