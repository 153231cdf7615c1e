"""Reading data files (CSV, JSON Lines) into rows of cells that know where they are.

A `Table` is what a file holds before any column has a meaning: its column names and its
non-blank rows, each cell with its text and its span (the physical line and the 1-based
character columns of the field in the raw line, quotes included). Reading never raises: a
missing file, a directory, bytes that are not UTF-8, a binary file, a broken quote or a line
that is not a JSON object is a diagnostic, and whatever can still be read is returned.

CSV: the first non-blank record is the header; a UTF-8 byte order mark, CRLF line ends,
quoted fields with commas or newlines, and blank lines (also lines of empty cells) are handled;
a row with more or fewer cells than the header, or with a carriage return that ends no line
(only \n does, in a file that has any), is reported and left out (what it may hold is kept in
`Table.broken`). JSON Lines: one object per line; the column names are the keys, in
order of first appearance.
"""

from __future__ import annotations

import bisect
import csv
import decimal
import io
import json
import os
import re
from decimal import Decimal

import attrs

from incentive_dsl.diagnostics import Diagnostic, error, warning
from incentive_dsl.files import NotRegularFile, read_regular
from incentive_dsl.limits import (
    MAX_FRACTION_DIGITS, MAX_INTEGER_DIGITS, MAX_NESTING, find_bidi, nested_too_deep)
from incentive_dsl.span import Span

SUFFIXES = (".csv", ".jsonl")
FILE, ENCODING, SYNTAX, COLUMN, EMPTY = "D-FILE", "D-ENCODING", "D-SYNTAX", "D-COLUMN", "D-EMPTY"
BIDI = "D-BIDI"
MAX_BIDI_SHOWN = 10  # per file


class _Where:
    """Where a CSV record's cells are, worked out only when a diagnostic asks: reading a clean
    file never computes a position."""

    __slots__ = ("path", "first", "lines", "count", "_spans")

    def __init__(self, path: str, first: int, lines: list[str], count: int) -> None:
        self.path, self.first, self.lines, self.count = path, first, lines, count
        self._spans: list[Span] | None = None

    def spans(self) -> list[Span]:
        if self._spans is None:
            loc = _Locator(self.path, self.first, self.lines)
            offsets, _ = field_offsets("".join(self.lines))
            self._spans = [loc.span(s, e) for s, e in offsets] if len(offsets) == self.count \
                else [loc.span(0, 0)] * self.count  # positions unknown: column 1
        return self._spans

    def line_span(self) -> Span:
        return _Locator(self.path, self.first, self.lines).line_span()


class Cell:
    """One value of a row. `text` is stripped; JSON numbers keep their text as written (with
    an exponent written out: 1e5 -> 100000), `true`/`false` become 'true'/'false', null ''.
    `data` is a JSON object or list when the value was one (only splits may be an object).
    A plain slotted class: a file has a cell per value, so construction must be cheap."""

    __slots__ = ("column", "text", "data", "_span", "_where", "_index")

    def __init__(self, column: str, text: str, span: Span | None = None, data: object = None,
                 where: _Where | None = None, index: int = 0) -> None:
        self.column, self.text, self.data = column, text, data
        self._span, self._where, self._index = span, where, index

    @property
    def span(self) -> Span:
        if self._span is None:
            self._span = self._where.spans()[self._index]
        return self._span


class Row:
    """One record: its first physical line, its cells by column name (columns without a name
    are dropped) and the span of its whole first line."""

    __slots__ = ("line", "cells", "_span", "_where")

    def __init__(self, line: int, cells: dict[str, Cell], span: Span | None = None,
                 where: _Where | None = None) -> None:
        self.line, self.cells, self._span, self._where = line, cells, span, where

    @property
    def span(self) -> Span:
        if self._span is None:
            self._span = self._where.line_span()
        return self._span

    def get(self, column: str) -> Cell | None:
        """The cell, or None when the column is absent or the cell is empty."""
        cell = self.cells.get(column)
        if cell is None or (cell.text == "" and cell.data is None):
            return None
        return cell


@attrs.frozen
class Table:
    path: str
    format: str  # csv or jsonl
    columns: tuple[str, ...]  # header names (CSV) or keys in order of first appearance (JSONL)
    column_spans: dict[str, Span]  # where each column is named: header cell or first key
    rows: tuple[Row, ...]
    header_line: int  # CSV: the header's line (0 when there is none); JSONL: 0
    header_spans: tuple[Span, ...] = ()  # CSV: the span of each header cell
    # Rows left out before their cells could be read one by one, as column -> text readings
    # (see `_readings`): their keys still tell the checks across files what not to repeat.
    broken: tuple[dict[str, str], ...] = ()


def file_span(path: str) -> Span:
    return Span.point(path, 1, 1)


def read_table(path: str) -> tuple[Table | None, list[Diagnostic]]:
    """Read a .csv or .jsonl file; None when nothing could be read."""
    path = str(path)
    text, diags = read_text(path)
    if text is None:
        return None, diags
    suffix = os.path.splitext(path)[1].lower()
    if suffix == ".csv":
        table, more = _read_csv(path, text)
    else:
        table, more = _read_jsonl(path, text)
    return table, diags + more + bidi_warnings(path, text)


def bidi_warnings(path: str, text: str) -> list[Diagnostic]:
    """A warning at each of the first bidirectional control characters (limits.py): invisible,
    they make a cell read differently on screen than the loader reads it."""
    found = find_bidi(text)
    out = []
    for line, column, name in found[:MAX_BIDI_SHOWN]:
        more = len(found) - MAX_BIDI_SHOWN
        tail = f" ({more:,} more in this file)" if more > 0 and len(out) == MAX_BIDI_SHOWN - 1 \
            else ""
        out.append(warning(BIDI, Span(path, line, column, line, column + 1),
                           f"this line contains the invisible bidirectional control character "
                           f"{name}{tail}: the text may be shown in a different order than it "
                           "is read", "delete the character"))
    return out


# ------------------------------------------------------------------------------ bytes -> text


def read_text(path: str) -> tuple[str | None, list[Diagnostic]]:
    suffix = os.path.splitext(path)[1].lower()
    data, diags = read_data_file(path, "name a .csv or .jsonl file")
    if data is None:
        return None, diags
    if suffix not in SUFFIXES:
        return None, [error(FILE, file_span(path),
                            f"'{path}' is neither a .csv nor a .jsonl file",
                            "data files are CSV (.csv) or JSON Lines (.jsonl)")]
    return decode(path, data)


def read_data_file(path: str, hint: str) -> tuple[bytes | None, list[Diagnostic]]:
    """The bytes of a data or mapping file, or a D-FILE error saying why there are none: no
    file, a directory, a pipe or device (refused before anything is read), unreadable."""
    try:
        return read_regular(path), []
    except FileNotFoundError:
        return None, [error(FILE, file_span(path), f"file not found: '{path}'",
                            "check the path")]
    except IsADirectoryError:
        return None, [error(FILE, file_span(path), f"'{path}' is a directory, not a data file",
                            hint)]
    except NotRegularFile:
        return None, [error(FILE, file_span(path), f"'{path}' is not a regular file (a pipe, a "
                            "device or a socket)", hint)]
    except OSError as e:
        return None, [error(FILE, file_span(path), f"cannot read '{path}': {e.strerror or e}")]


def _place(data: bytes, pos: int) -> tuple[int, int]:
    """Line and 1-based character column of byte `pos` (the bytes before it on its line are
    valid UTF-8). Lines end as `decode` reads them: with \n, or \r in a file without any \n."""
    end = b"\n" if b"\n" in data else b"\r"
    line_start = data.rfind(end, 0, pos) + 1
    prefix = data[line_start:pos].decode("utf-8", errors="replace")
    if data.count(end, 0, pos) == 0:
        prefix = prefix.removeprefix("\ufeff")
    return data.count(end, 0, pos) + 1, len(prefix) + 1


def decode(path: str, data: bytes) -> tuple[str | None, list[Diagnostic]]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None, [error(ENCODING, file_span(path), "the file is UTF-16, not UTF-8",
                            "save it as CSV UTF-8 (in a spreadsheet: 'CSV UTF-8 (comma "
                            "delimited)')")]
    nul = data.find(b"\x00")
    if nul >= 0:
        line, col = _place(data, nul)
        return None, [error(ENCODING, Span.point(path, line, col),
                            f"the file is binary, not text (a NUL byte at byte offset {nul})",
                            "data files are UTF-8 text: CSV or JSON Lines")]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line, col = _place(data, e.start)
        # surrogateescape turns each byte that is not UTF-8 into one lone surrogate
        escaped = data.decode("utf-8", errors="surrogateescape")
        bad = sum(1 for ch in escaped if "\udc80" <= ch <= "\udcff")
        more = f"; {bad - 1} more bytes in the file are not UTF-8" if bad > 1 else ""
        return None, [error(ENCODING, Span.point(path, line, col),
                            f"the file is not UTF-8: byte 0x{data[e.start]:02X} at byte "
                            f"offset {e.start} cannot be read{more}",
                            "save the file as UTF-8 (in a spreadsheet: 'CSV UTF-8')")]
    text = text.removeprefix("\ufeff")
    if "\n" not in text:
        # Lines ended by a lone \r (the classic Mac line end, still Excel's 'CSV (Macintosh)'):
        # read as the lines they are, by both formats and every check that counts lines, as a
        # text editor shows them (diagnostics._lines)
        text = text.replace("\r", "\n")
    return text, []


# ------------------------------------------------------------------------------ CSV


def _physical_lines(text: str) -> list[str]:
    """The lines of a CSV text, with their ends, as spans count them (diagnostics._lines,
    and editors): only \n ends a line, so a carriage return inside a row of a CRLF file does not
    shift every line number after it (`_stray_return` reports it). (A file whose lines end
    with a lone \r has them as \n since `decode`.)"""
    return io.StringIO(text, newline="\n").readlines()


def _stray_return(path: str, first: int, raw_lines: list[str],
                  is_header: bool) -> Diagnostic | None:
    """The error for a carriage return outside quotes that does not end a line, in a row read
    from line `first` (csv.reader refuses the row), or None. A data row is left out; the
    header is read without the character (the rows after it need its columns)."""
    raw = "".join(raw_lines)
    offsets, _ = field_offsets(raw)
    end = offsets[-1][1]  # where reading the row stopped: \r, \n or the end
    if raw[end:end + 1] != "\r" or raw[end + 1:end + 2] in ("\n", ""):
        return None
    return error(SYNTAX, _Locator(path, first, raw_lines).span(end, end + 1),
                 "a carriage return (\\r) inside this row, not at its end: "
                 + ("the header is read without it" if is_header else "the row is left out"),
                 "delete the character (most editors do not show it); a line break "
                 "inside a value needs the value in quotes")


def _kept(raw: str) -> list[int]:
    """The offsets of the characters of a row that are not stray carriage returns
    (`_stray_return`)."""
    return [i for i, ch in enumerate(raw) if ch != "\r" or raw[i + 1:i + 2] == "\n"]


def _without_returns(raw_lines: list[str]) -> list[str]:
    """A row with stray carriage returns (`_stray_return`) as the user sees it: without them."""
    raw = "".join(raw_lines)
    try:
        return next(csv.reader(["".join(raw[i] for i in _kept(raw))]), [])
    except csv.Error:
        return []


def _spans_without_returns(path: str, first: int, raw_lines: list[str],
                           count: int) -> list[Span]:
    """The span of each of the `count` cells of `_without_returns(raw_lines)`, in the lines as
    they are (a cell holding a stray return covers it), so a diagnostic about one header cell
    marks that cell; the whole line when the cells cannot be told apart."""
    raw = "".join(raw_lines)
    kept = _kept(raw)
    offsets, _ = field_offsets("".join(raw[i] for i in kept))
    loc = _Locator(path, first, raw_lines)
    if len(offsets) != count:
        return [loc.line_span()] * count
    kept.append(len(raw))  # where an empty last cell starts
    return [loc.span(kept[s], kept[e - 1] + 1 if e > s else kept[s]) for s, e in offsets]


def field_offsets(raw: str) -> tuple[list[tuple[int, int]], int | None]:
    """Start and end offsets of each field of one CSV record (excel dialect), and the offset of
    a quote that is never closed (None when all are)."""
    offsets, i, n = [], 0, len(raw)
    while True:
        start = i
        if i < n and raw[i] == '"':
            i += 1
            while True:
                if i >= n:
                    return offsets + [(start, n)], start
                if raw[i] == '"':
                    if i + 1 < n and raw[i + 1] == '"':
                        i += 2
                        continue
                    i += 1
                    break
                i += 1
        while i < n and raw[i] not in ",\r\n":
            i += 1
        offsets.append((start, i))
        if i < n and raw[i] == ",":
            i += 1
            continue
        return offsets, None


class _Locator:
    """Offsets in a record's raw text -> (line, column) spans."""

    def __init__(self, path: str, first_line: int, lines: list[str]) -> None:
        self.path, self.first = path, first_line
        self.widths = [len(ln.rstrip("\r\n")) for ln in lines] or [0]
        self.starts, pos = [], 0
        for ln in lines or [""]:
            self.starts.append(pos)
            pos += len(ln)

    def span(self, start: int, end: int) -> Span:
        k = bisect.bisect_right(self.starts, start) - 1 if len(self.starts) > 1 else 0
        col = start - self.starts[k] + 1
        end_col = min(end - self.starts[k], self.widths[k]) + 1
        line = self.first + k
        return Span(self.path, line, col, line, max(end_col, col + 1))

    def line_span(self) -> Span:
        return Span(self.path, self.first, 1, self.first, self.widths[0] + 1)


def _unclosed_quote(path: str, first: int, raw_lines: list[str]) -> Diagnostic | None:
    """The error for a quote opened in these lines (a row from line `first`) and never closed,
    or None."""
    raw = "".join(raw_lines)
    if '"' not in raw:
        return None
    _, open_quote = field_offsets(raw)
    if open_quote is None:
        return None
    return error(SYNTAX, _Locator(path, first, raw_lines).span(open_quote, open_quote + 1),
                 "a quote opened here is never closed, so the rest of the file is read as one "
                 "value", "close the quote; a quote inside a quoted value is written \"\"")


def _read_csv(path: str, text: str) -> tuple[Table | None, list[Diagnostic]]:
    lines = _physical_lines(text)
    reader = csv.reader(iter(lines))
    diags: list[Diagnostic] = []
    header: list[str] | None = None
    header_spans: list[Span] = []
    header_line = 0
    rows: list[Row] = []
    broken: list[dict[str, str]] = []
    while True:
        first = reader.line_num + 1
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            raw_lines = lines[first - 1:max(reader.line_num, first)]
            stray = _stray_return(path, first, raw_lines, header is None)
            if stray is not None:  # the row is left out, and reading goes on after it
                diags.append(stray)
                record = _without_returns(raw_lines)
                if not any(c.strip() for c in record):
                    continue
                if header is None:  # the columns are read, for the rows after it
                    header = [c.strip() for c in record]
                    header_spans = _spans_without_returns(path, first, raw_lines, len(header))
                    header_line = first
                else:
                    broken.extend(_readings(header, record))
                continue
            # A quote left open swallows the lines after it until the csv module's field limit:
            # the quote, not the limit, is what to report.
            unclosed = _unclosed_quote(path, first, raw_lines)
            diags.append(unclosed or error(
                SYNTAX, Span.point(path, first, 1), f"this row cannot be read as CSV: {e}",
                "check the quotes: a field that starts with \" must end with \""))
            break
        raw_lines = lines[first - 1:reader.line_num]
        if not "".join(record).strip():
            continue  # a blank line, or a line of empty cells
        where = _Where(path, first, raw_lines, len(record))
        unclosed = _unclosed_quote(path, first, raw_lines)
        if unclosed is not None:
            diags.append(unclosed)
            break
        if header is None:
            header = [c.strip() for c in record]
            header_spans, header_line = where.spans(), first
            continue
        if len(record) != len(header):
            diags.append(_cell_count(path, record, header, where.spans(),
                                     _Locator(path, first, raw_lines)))
            broken.extend(_readings(header, record))
            continue
        cells = {}
        for index, (name, value) in enumerate(zip(header, record)):
            if not name and value.strip():
                diags.append(error(COLUMN, where.spans()[index], "this value is in a column "
                                   "with no name in the header",
                                   "name the column in the header or remove the value"))
                broken.extend(_readings(header, record))
                cells = None
                break
            if name and name not in cells:
                cells[name] = Cell(name, value.strip(), where=where, index=index)
        if cells is not None:
            rows.append(Row(first, cells, where=where))
    if header is None:
        diags.append(warning(EMPTY, file_span(path), "the file is empty: no header, no rows",
                             "the first line names the columns; each further line is a row"))
        return None, diags
    if not rows and not diags:
        diags.append(warning(EMPTY, Span(path, header_line, 1, header_line, 2),
                             "the file has a header but no rows",
                             "each line after the header is one row"))
    column_spans: dict[str, Span] = {}
    for name, span in zip(header, header_spans):
        column_spans.setdefault(name, span)
    return Table(path, "csv", tuple(header), column_spans, tuple(rows), header_line,
                 tuple(header_spans), tuple(broken)), diags


def _readings(header: list[str], record: list[str]) -> list[dict[str, str]]:
    """What a row left out may hold, column by column. With as many cells as columns, its one
    reading. Otherwise a separator is missing or too many (an unquoted `14,370.00`), and where
    is unknown: the cells before it are in place when read from the left, those after it when
    read from the right, so both readings are given. A cell read in the wrong place holds a
    neighbour's value (a date as the deal id), which in practice names no deal, payee or
    currency, so taking keys from both readings silences only what follows from this row."""
    cells = [c.strip() for c in record]
    pad = [""] * (len(header) - len(cells))
    readings = [(cells + pad)[:len(header)], (pad + cells)[-len(header):]]
    out = []
    for reading in readings[:1] if len(cells) == len(header) else readings:
        named: dict[str, str] = {}
        for name, text in zip(header, reading):
            if name:
                named.setdefault(name, text)
        out.append(named)
    return out


def _cell_count(path: str, record: list[str], header: list[str], spans: list[Span],
                loc: _Locator) -> Diagnostic:
    have, want = len(record), len(header)
    message = f"this row has {have} cells but the header has {want} columns"
    if have > want:
        # An amount written with thousands separators, unquoted: as many cells as there are
        # cells too many, plus one (1,011,880.00 with one row too long by two).
        size = have - want + 1
        for i in range(have - size + 1):
            groups = [c.strip() for c in record[i:i + size]]
            if re.fullmatch(r"\d{1,3}", groups[0]) and all(
                    re.fullmatch(r"\d{3}", g) for g in groups[1:-1]) and \
                    re.fullmatch(r"\d{3}(\.\d+)?", groups[-1]):
                first, last = spans[i], spans[i + size - 1]
                span = Span(path, first.line, first.column, last.line, last.end_column)
                return error(COLUMN, span, message,
                             f"quote amounts that contain commas: \"{','.join(groups)}\"")
        return error(COLUMN, loc.line_span(), message,
                     "quote values that contain commas, or add the extra columns to the header")
    last = spans[-1] if spans else loc.line_span()
    return error(COLUMN, Span.point(path, last.end_line, last.end_column), message,
                 "every row needs a cell for every column (leave optional cells empty: a,,c)")


# ------------------------------------------------------------------------------ JSON Lines

def _json_number(text: str) -> Decimal | str:
    """A JSON number as a Decimal; one whose exponent not even a Decimal can hold (1E+10^20)
    stays text, for the value's reader to refuse with the row and column."""
    try:
        return Decimal(text)
    except decimal.InvalidOperation:
        return text


# NaN and Infinity are not JSON numbers: they are read as text, which no number parser accepts
_DECODER = json.JSONDecoder(parse_float=_json_number, parse_int=_json_number,
                            parse_constant=str)
_WS = " \t\r\n"
_WRITABLE_EXPONENTS = (-MAX_FRACTION_DIGITS - 1, MAX_INTEGER_DIGITS + 1)


class _NotAnObject(Exception):
    def __init__(self, pos: int, message: str) -> None:
        super().__init__(message)
        self.pos, self.message = pos, message


def _skip(line: str, i: int) -> int:
    while i < len(line) and line[i] in _WS:
        i += 1
    return i


def _object_members(line: str) -> list[tuple[str, int, int, object, int, int]]:
    """(key, key start, key end, value, value start, value end) of a one-line JSON object."""
    i = _skip(line, 0)
    if i >= len(line) or line[i] != "{":
        try:
            _DECODER.raw_decode(line, i)
            raise _NotAnObject(i, "this line is JSON but not an object")
        except json.JSONDecodeError as e:
            raise _NotAnObject(e.pos, f"this line is not JSON: {e.msg}") from None
    members = []
    i = _skip(line, i + 1)
    if i < len(line) and line[i] == "}":
        end = _skip(line, i + 1)
        if end != len(line):
            raise _NotAnObject(end, "unexpected text after the object")
        return members
    while True:
        if i >= len(line) or line[i] != '"':
            raise _NotAnObject(i, "this line is not JSON: expected a key in double quotes")
        try:
            key, key_end = json.decoder.scanstring(line, i + 1)
        except json.JSONDecodeError as e:
            raise _NotAnObject(e.pos, f"this line is not JSON: {e.msg}") from None
        key_start = i
        i = _skip(line, key_end)
        if i >= len(line) or line[i] != ":":
            raise _NotAnObject(i, "this line is not JSON: expected ':' after the key")
        i = _skip(line, i + 1)
        try:
            value, value_end = _DECODER.raw_decode(line, i)
        except json.JSONDecodeError as e:
            raise _NotAnObject(e.pos, f"this line is not JSON: {e.msg}") from None
        members.append((key, key_start, key_end, value, i, value_end))
        i = _skip(line, value_end)
        if i < len(line) and line[i] == ",":
            i = _skip(line, i + 1)
            continue
        if i < len(line) and line[i] == "}":
            end = _skip(line, i + 1)
            if end != len(line):
                raise _NotAnObject(end, "unexpected text after the object (one object per "
                                   "line)")
            return members
        raise _NotAnObject(i, "this line is not JSON: expected ',' or '}'")


def _json_cell(name: str, value: object, raw: str, span: Span) -> Cell:
    if value is None:
        return Cell(name, "", span)
    if isinstance(value, bool):
        return Cell(name, "true" if value else "false", span)
    if isinstance(value, Decimal):
        # numbers keep their digits as written; 1e5 is written out (100000), never a float; an
        # exponent that would write out more digits than any value may have is left as
        # written, for the value's reader to refuse (1E+999999999 must not be written out)
        if "e" in raw.lower() and _WRITABLE_EXPONENTS[0] <= value.as_tuple().exponent and \
                value.adjusted() <= _WRITABLE_EXPONENTS[1]:
            raw = f"{value:f}"
        return Cell(name, raw, span)
    if isinstance(value, str):
        return Cell(name, value.strip(), span)
    return Cell(name, raw, span, data=value)


def _read_jsonl(path: str, text: str) -> tuple[Table | None, list[Diagnostic]]:
    diags: list[Diagnostic] = []
    rows: list[Row] = []
    broken: list[dict[str, str]] = []
    columns: dict[str, Span] = {}
    for number, raw_line in enumerate(text.split("\n"), start=1):
        line = raw_line.removesuffix("\r")
        if not line.strip():
            continue
        row_span = Span(path, number, 1, number, len(line) + 1)
        if nested_too_deep(line):
            diags.append(error(SYNTAX, Span.point(path, number, 1),
                               f"this line nests brackets more than {MAX_NESTING} deep",
                               "write one flat JSON object per line (only 'splits' is an "
                               "object inside it)"))
            continue
        try:
            members = _object_members(line)
        except _NotAnObject as e:
            pos = min(e.pos, max(len(line) - 1, 0))
            diags.append(error(SYNTAX, Span.point(path, number, pos + 1), e.message,
                               "write one JSON object per line: {\"event_id\": \"E1\", ...}"))
            continue
        cells: dict[str, Cell] | None = {}
        for key, ks, ke, value, vs, ve in members:
            key = key.strip()
            span = Span(path, number, vs + 1, number, ve + 1)
            if key in cells:
                diags.append(error(COLUMN, Span(path, number, ks + 1, number, ke + 1),
                                   f"key '{key}' appears twice in this object",
                                   "give each key once"))
                # either value of the key may be the one meant: a reading with each
                texts = [(k.strip(), _json_cell(k, v, line[vs:ve], span).text)
                         for k, _, _, v, vs, ve in members]
                broken.extend([dict(reversed(texts)), dict(texts)])
                cells = None
                break
            columns.setdefault(key, Span(path, number, ks + 1, number, ke + 1))
            cells[key] = _json_cell(key, value, line[vs:ve], span)
        if cells is not None:
            rows.append(Row(number, cells, row_span))
    if not rows and not diags:
        diags.append(warning(EMPTY, file_span(path), "the file has no records",
                             "write one JSON object per line"))
    return Table(path, "jsonl", tuple(columns), columns, tuple(rows), 0,
                 broken=tuple(broken)), diags
