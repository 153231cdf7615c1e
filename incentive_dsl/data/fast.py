"""The clean-file fast path of the events and quotas loaders.

The general loader (`loaders._load`) first reads a file into a `Table` of cells that know their
positions, then reads each row's cells through a `RowReader` that turns every problem into a
diagnostic. That costs an object per cell and several calls per value: most of the time of
loading a million events, and most of its memory. A large events file is usually clean, so
`clean_events` first tries to read it in one pass straight into `Event` records, and gives up
(returns None) at the first thing the general loader would report or treat specially: then the
general loader reads the file from the start and reports everything as before. So a file gets
exactly the records and diagnostics it always got; only clean files get them faster.
`clean_quotas` does the same for a quotas file (through the general loader, the 4,000 quota
rows of 100k deals took 6% of the load, and their table 58 MB at a million deals).

Given up on: a file that is not CSV, cannot be decoded or read by the csv module in strict mode;
a header with an empty, repeated, unknown or missing required column; no rows; a record spanning
several lines or with the wrong number of cells; any value the general loader would reject or
report (a missing required value, a bad date, amount, currency, split, term, period or custom
field, a repeated event id or quota period).
"""

from __future__ import annotations

import csv
import io
import operator
import os
import sys
from collections.abc import Iterator
from decimal import Decimal
from itertools import chain, repeat

import attrs

from incentive_dsl.check.model import Plan
from incentive_dsl.data.records import EVENT_KINDS, Event, QuotaRecord, Source
from incentive_dsl.data.tables import read_text
from incentive_dsl.data.values import (
    PLAIN_AMOUNT, BadValue, parse_amount, parse_currency, parse_date, parse_field, parse_split_share,
    parse_splits, split_text_pairs,
)
from incentive_dsl.limits import find_bidi
from incentive_dsl.progress import EVERY, QUIET, Meter

# ASCII whitespace that str.strip() removes inside a line (a carriage return: in a quoted cell,
# or ending a CRLF line); a file without any (and ASCII only) needs no cell stripped.
_SPACE = " \t\x0b\x0c\x1c\x1d\x1e\x1f\r"


_EVENT_SLOTS = tuple(getattr(Event, f.name).__set__ for f in attrs.fields(Event))
_SOURCE_SLOTS = tuple(getattr(Source, f.name).__set__ for f in attrs.fields(Source))
_QUOTA_SLOTS = tuple(getattr(QuotaRecord, f.name).__set__ for f in attrs.fields(QuotaRecord))


class _GiveUp(Exception):
    """The general loader must read this file."""


def _cached(parse, store: dict | None = None):
    """`parse` with a cache of its results (a file repeats dates, currencies, splits): equal
    values are then one object, which also keeps a large dataset small. `store`: the cache, for
    a loop that looks in it before calling."""
    store = {} if store is None else store

    def get(text):
        value = store.get(text)
        if value is None:
            try:
                value = store[text] = parse(text)
            except BadValue:
                raise _GiveUp from None
        return value
    return get


def _split_piece(piece: str, share_of) -> tuple[str, Decimal] | None:
    """`ana:60` as `parse_splits` reads it, when written plainly (no whitespace, which
    `parse_splits` strips around a payee); None otherwise."""
    payee, sep, share = piece.partition(":")
    if not payee or not sep or ":" in share or " " in piece or not piece.isprintable():
        return None  # every whitespace character but the space is unprintable
    return payee, share_of(share)


def _splits(text: str, pieces: dict, piece_of) -> tuple | None:
    """`ana:60;bob:40` as `parse_splits` reads it, when each piece is written plainly (see
    `_split_piece`); None otherwise, and for anything `parse_splits` would reject. `piece_of`
    caches `_split_piece` in `pieces`: a file repeats its pieces (a history of splits between
    a thousand payees, rarely its split texts), and equal pairs are then one tuple."""
    pairs = list(map(pieces.get, text.split(";")))  # looked up in C; a call for a new piece
    if None in pairs:
        pairs = list(map(piece_of, text.split(";")))
        if None in pairs:
            return None
    if len(pairs) == 2:  # most splits: without the zip, set and sum
        a, b = pairs
        if a[0] == b[0] or a[1] + b[1] != 1:
            return None
        return (a, b) if a < b else (b, a)
    payees, shares = zip(*pairs)
    if len(set(payees)) != len(pairs) or sum(shares) != 1:
        return None
    pairs.sort()
    return tuple(pairs)


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """Each CSV record of `text` with its line, as csv.reader in strict mode reads them; a
    blank record over several lines is skipped, and any other gives up."""
    if '"' not in text and "\r" not in text:
        # the rows of each block chained in C: no Python frame resumed per row
        return chain.from_iterable(_plain_blocks(text))
    return _csv_records(text)


_BLOCK = 1 << 20  # characters split into lines at a time


def _plain_blocks(text: str) -> Iterator[Iterator[tuple[int, list[str]]]]:
    # Then a record is one line and its cells what lies between commas: str.split reads them
    # as csv.reader would, in half its time. The lines are split a block at a time: a list of
    # all of them would take more memory than the text (a million events: 120 MB).
    limit = csv.field_size_limit()
    line, start = 1, 0
    while True:
        stop = text.find("\n", start + _BLOCK)
        lines = text[start:stop].split("\n") if stop >= 0 else text[start:].split("\n")
        if max(map(len, lines)) > limit:
            raise _GiveUp  # a cell csv.reader may refuse: the general loader says
        yield enumerate(map(str.split, lines, repeat(",")), line)
        if stop < 0:
            return
        line, start = line + len(lines), stop + 1


def _csv_records(text: str) -> Iterator[tuple[int, list[str]]]:
    # Only \n ends a line, as for the general loader (tables._physical_lines): a carriage
    # return elsewhere is refused by csv.reader (the general loader reports it), and a line
    # ending \r\r\n is one line.
    reader = csv.reader(io.StringIO(text, newline="\n"), strict=True)
    line = 0
    for record in reader:
        first, line = line + 1, reader.line_num
        if line == first:
            yield first, record
        elif any(c.strip() for c in record):
            raise _GiveUp  # a record over several lines


def _clean_text(path: str) -> str | None:
    """The text of a CSV file the general loader reads without a word, as far as the file as a
    whole goes; None otherwise."""
    if os.path.splitext(path)[1].lower() != ".csv" or not os.path.isfile(path):
        return None
    text, diags = read_text(path)
    if text is None or diags or (not text.isascii() and find_bidi(text)):
        return None  # a bidirectional control is reported (D-BIDI) by the general loader
    return text


def _needs_strip(text: str) -> bool:
    """Whether a cell of `text` may have whitespace to strip."""
    return not text.isascii() or any(c in text for c in _SPACE)


def _header(records: Iterator[tuple[int, list[str]]], columns, custom) -> list[str]:
    """The header (the first record that is not blank), given up on where the general loader
    says something about it: an empty, repeated, unknown or missing required column."""
    header = None
    while header is None:
        _, record = next(records, (0, None))
        if record is None:
            raise _GiveUp  # no header: the general loader says so
        if any(c.strip() for c in record):
            header = [c.strip() for c in record]
    known = (*columns.standard, *custom)
    if "" in header or len(set(header)) != len(header) or \
            any(c not in known for c in header) or any(c not in header for c in columns.required):
        raise _GiveUp
    return header


def clean_events(path: str, columns, plan: Plan | None,
                 meter: Meter = QUIET) -> list[Event] | None:
    """The events of a clean CSV file, as `loaders._event` reads them, or None when the
    general loader must read it (see the module docstring). `columns` is EVENT_COLUMNS."""
    text = _clean_text(path)
    if text is None:
        return None
    try:
        return _read(path, text, columns, plan, meter)
    except (_GiveUp, csv.Error):
        return None


def clean_quotas(path: str, columns) -> list[QuotaRecord] | None:
    """The quota rows of a clean CSV file, as `loaders._quota` reads them, or None when the
    general loader must read it (as for events). `columns` is QUOTA_COLUMNS."""
    text = _clean_text(path)
    if text is None:
        return None
    try:
        return _read_quotas(path, text, columns)
    except (_GiveUp, csv.Error):
        return None


def _read_quotas(path: str, text: str, columns) -> list[QuotaRecord]:
    from incentive_dsl.data.loaders import parse_period

    strip = _needs_strip(text)
    records = _records(text)
    header = _header(records, columns, {})
    width = len(header)
    col = {name: i for i, name in enumerate(header)}
    i_payee, i_quota, i_period, i_amount, i_cur = (
        col.get(c, width) for c in ("payee_id", "quota", "period", "amount", "currency"))
    periods: dict = {}
    period_of = _cached(parse_period, periods)
    currencies: dict = {}
    currency_of = _cached(parse_currency, currencies)
    plain_amount = PLAIN_AMOUNT.fullmatch
    new = object.__new__
    set_payee, set_quota, set_period, set_amount, set_currency, set_source = _QUOTA_SLOTS
    set_path, set_row = _SOURCE_SLOTS
    seen: set[tuple[str, str, str]] = set()
    out: list[QuotaRecord] = []
    append = out.append
    for first, record in records:
        if len(record) != width:
            if not any(c.strip() for c in record):
                continue  # a blank line, or a line of empty cells
            raise _GiveUp  # the wrong number of cells
        if strip:
            record = [c.strip() for c in record]
        record.append("")
        payee, quota, text = record[i_payee], record[i_quota], record[i_period]
        if not (payee and quota and text):
            if not any(record):
                continue
            raise _GiveUp
        period = periods.get(text) or period_of(text)
        key = (payee, quota, period)
        if key in seen:
            raise _GiveUp  # a second row for the period
        seen.add(key)
        text = record[i_amount]
        if plain_amount(text):  # as parse_amount reads most amounts, without its call
            amount = Decimal(text)
        else:
            try:
                amount = parse_amount(text)  # an empty amount gives up here
            except BadValue:
                raise _GiveUp from None
        text = record[i_cur]
        currency = (currencies.get(text) or currency_of(text)) if text else None
        # QuotaRecord(...) made slot by slot, as the events are
        q = new(QuotaRecord)
        set_payee(q, payee)
        set_quota(q, quota)
        set_period(q, period)
        set_amount(q, amount)
        set_currency(q, currency)
        where = new(Source)
        set_path(where, path)
        set_row(where, first)
        set_source(q, where)
        append(q)
    if not out:
        raise _GiveUp  # the general loader warns about a file without rows
    return out


def _read(path: str, text: str, columns, plan: Plan | None, meter: Meter) -> list[Event]:
    # The general loader's rules, read where they are written (it imports this module).
    from incentive_dsl.data.loaders import HAS_AMOUNT, NEEDS_AMOUNT, SUBJECT_COLUMN, parse_term

    custom = {f.name: f for f in plan.fields if f.owner == "deal"} if plan is not None else {}
    strip = _needs_strip(text)
    records = _records(text)
    header = _header(records, columns, custom)
    width = len(header)
    col = {name: i for i, name in enumerate(header)}
    col_of = lambda name: col.get(name, width)  # noqa: E731  (absent: the empty cell added)
    i_id, i_deal, i_date, i_kind = (col_of(c) for c in ("event_id", "deal_id", "date", "kind"))
    i_amount, i_cur, i_owner, i_splits, i_term = (
        col_of(c) for c in ("amount", "currency", "owner", "splits", "term_months"))
    i_subject = {kind: col_of(c) for kind, c in SUBJECT_COLUMN.items()}
    plan_currency = plan.currency if plan is not None else None
    fields = [(name, col_of(name), spec) for name, spec in sorted(custom.items())
              if name not in columns.standard and plan_currency is not None]
    # a row's custom field cells in one call (a generator per row costs more)
    field_cells = operator.itemgetter(*(i for _, i, _ in fields)) if fields else None
    kinds = {k: k for k in EVENT_KINDS}  # each row's kind becomes the one shared string
    dates: dict = {}
    date = _cached(parse_date, dates)
    currencies: dict = {}
    currency_of = _cached(parse_currency, currencies)
    splits_of = _cached(lambda t: parse_splits(split_text_pairs(t)))
    share_of = _cached(lambda t: parse_split_share("", t).normalize())
    pieces: dict = {}
    piece_of = _cached(lambda t: _split_piece(t, share_of), pieces)
    term_of = _cached(parse_term)
    intern = sys.intern
    plain_amount = PLAIN_AMOUNT.fullmatch
    new = object.__new__
    (set_id, set_deal, set_date, set_kind, set_amount, set_currency, set_owner, set_splits,
     set_subject, set_term, set_fields, set_source) = _EVENT_SLOTS
    set_path, set_row = _SOURCE_SLOTS
    field_values: dict = {}
    owners: dict = {}  # each owner's text: the one interned string, None for an empty cell
    seen: set[str] = set()
    out: list[Event] = []
    append = out.append
    for first, record in records:
        if not first % EVERY:
            meter.update(first)
        if len(record) != width:
            if not any(c.strip() for c in record):
                continue  # a blank line, or a line of empty cells
            raise _GiveUp  # the wrong number of cells
        if strip:
            record = [c.strip() for c in record]
        record.append("")
        eid = record[i_id]
        if not eid:
            if not any(record):
                continue
            raise _GiveUp
        # Shared values are looked up by subscript, which costs no call (a KeyError only
        # for a new text): a call per cell is much of the time of a row.
        try:
            kind = kinds[record[i_kind]]
        except KeyError:
            raise _GiveUp from None
        seen.add(eid)  # a repeated id is found at the end, by the count
        try:
            day = dates[record[i_date]]
        except KeyError:
            day = date(record[i_date])  # an empty or bad date gives up there
        deal = record[i_deal]
        if not deal and kind != "activity":
            raise _GiveUp
        amount = currency = None
        if kind in HAS_AMOUNT:
            text = record[i_amount]
            if text:
                if plain_amount(text):  # as parse_amount reads most amounts, without its call
                    amount = Decimal(text)
                else:
                    try:
                        amount = parse_amount(text)
                    except BadValue:
                        raise _GiveUp from None
            elif kind in NEEDS_AMOUNT:
                raise _GiveUp
            text = record[i_cur]
            if text:
                try:
                    currency = currencies[text]
                except KeyError:
                    currency = currency_of(text)
            elif amount is not None:
                if plan_currency is None:
                    raise _GiveUp
                currency = plan_currency
        text = record[i_owner]
        try:
            owner = owners[text]
        except KeyError:
            owner = owners[text] = intern(text) or None
        if owner is None and (kind == "booked" or kind == "activity"):
            raise _GiveUp
        splits = ()
        subject = term = None
        if kind == "booked":
            text = record[i_splits]
            if text:
                splits = _splits(text, pieces, piece_of) or splits_of(text)
            text = record[i_term]
            if text:
                term = term_of(text)
        elif kind in i_subject:
            subject = record[i_subject[kind]]
            if not subject:
                raise _GiveUp
            subject = intern(subject)
        values = ()
        if fields:
            key = (currency, field_cells(record))
            try:
                values = field_values[key]
            except KeyError:
                try:
                    values = field_values[key] = tuple(
                        (name, parse_field(spec, record[i], currency, plan_currency))
                        for name, i, spec in fields if record[i])
                except BadValue:
                    raise _GiveUp from None
        # Event(...) and its Source, with every slot set through its descriptor: in half the
        # time of attrs' __init__ for a frozen class (which sets each through
        # object.__setattr__), and without a call per row
        e = new(Event)
        set_id(e, eid)
        set_deal(e, deal)
        set_date(e, day)
        set_kind(e, kind)
        set_amount(e, amount)
        set_currency(e, currency if amount is not None else None)
        set_owner(e, owner)
        set_splits(e, splits)
        set_subject(e, subject)
        set_term(e, term)
        set_fields(e, values)
        where = new(Source)
        set_path(where, path)
        set_row(where, first)
        set_source(e, where)
        append(e)
    if not out or len(seen) != len(out):
        raise _GiveUp  # a file without rows (the general loader warns), or an id twice
    return out
