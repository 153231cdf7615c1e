"""CRM exports -> deal events and a roster, through a mapping file (TOML), without code.

Sales ops have exports from a CRM, with its own column names, stage names and inconsistencies,
not files in the events/roster format of docs/data.md. A mapping file says how to read them:

    [deals]                         the deals table: one row per deal (opportunity)
    file, id, owner, stage          the file, and the columns of the deal id, owner and stage
    amount, currency | fixed_currency
    [deals.stages.VALUE]            what a stage value means: outcome booked | lost | open, the
                                    date column of the outcome, the stages the deal has reached
                                    (each with its date column)
    [deals.fields.NAME]             a typed custom field: a column, or a column of a lookup
                                    table joined on another field; a default for empty cells
    [deals.values.COLUMN]           aliases: a value as the export writes it -> the value meant
    [deals.splits]                  a splits file joined per deal (shares total 100% per deal);
                                    or splits in a column: splits = "COLUMN" (ana:60;bob:40),
                                    splits = { column, separator } (Ana Ames 60% / Bob Burr 40%)
    [deals.history]                 stage history -> bookings, amendments, cancellations
    [deals.children.NAME]           line items, team members: added up into deal fields
    [lookups.NAME]                  a table joined by a key column (products, accounts)
    [roster]                        the team table: payee id, display name, manager, team,
                                    territory columns; [roster.active] an active flag
    [roster.fixed]                  constants for what the export lacks (role, start date);
    [roster.managers]               managers named in the manager column become payees
    [territories.index], [quotas], [fx] (an FX file, or an export's rate table by its columns)
    [SECTION.formats], [SECTION.defaults]   per column: how it writes dates, amounts and owners
                                    (formats.py), and values for its empty cells

`load_mapping(path, plan=None)` reads the mapping and every file it names and returns a
`Dataset` (records.py) and diagnostics. Paths in the mapping are relative to the mapping file.
Nothing is raised or printed for bad input: each problem is a diagnostic with file, line and
column, in the export (a bad date, an unmapped stage value, a product missing from the product
table) or in the mapping (an unknown key, a column the export does not have). Every choice the
mapping makes is reported as a note when it applies, with counts: an alias used, a default
filled in, a lost or open deal that gives no booking, a stage without its date. With a plan,
the mapping's fields must agree with the plan's `fields` declarations and its stages with the
plan's `stages`. The whole key reference, with the shipped CRM sample as the worked example,
is docs/mapping.md.
"""

from __future__ import annotations

import datetime as dt
import decimal
import os
from decimal import Decimal
import re
import tomllib
from collections import Counter, defaultdict
from collections.abc import Iterable

import attrs

from incentive_dsl.check.model import FieldSpec, Plan
from incentive_dsl.collector import collector_paused
from incentive_dsl.data.formats import (
    TAKES, ColumnFormat, FormatError, date_pattern, number_format,
)
from incentive_dsl.data.loaders import load_keyed, make_dataset
from incentive_dsl.data.records import (
    Dataset, Event, FxRate, PayeeRecord, Source, TerritoryIndex,
)
from incentive_dsl.data.tables import (
    Cell, Row, Table, bidi_warnings, read_data_file, read_table)
from incentive_dsl.data.validate import check_dataset
from incentive_dsl.data.values import (
    BadValue, parse_amount, parse_count, parse_currency, parse_date, parse_field, parse_index,
    parse_number, parse_positive, parse_split_share, parse_splits, split_text_pairs, suggest,
)
from incentive_dsl.diagnostics import Diagnostic, Related, Severity, error, warning
from incentive_dsl.limits import MAX_INTEGER_DIGITS, MAX_NESTING, date_problem, nested_too_deep
from incentive_dsl.span import Span

__all__ = ["MAPPING_CODES", "load_mapping"]

MAP, ALIAS, MAPPED = "D-MAP", "D-ALIAS", "D-MAPPED"
MAPPING_CODES = {
    MAP: "the mapping file itself: TOML syntax, an unknown key, a missing or wrong value, a "
         "field type that disagrees with the plan",
    ALIAS: "(note) an alias of [*.values] applied, with the number of rows; (warning) an alias "
           "that never applies",
    MAPPED: "(note) what the mapping did with the rows: outcomes per stage value, defaults "
            "filled in, stages without a date, payees without deals, managers added",
}
OUTCOMES = ("booked", "cancelled", "lost", "open")
FIELD_TYPES = ("text", "number", "count", "money", "percent", "date", "duration", "yes or no")
PAYEE_ATTRS = ("role", "start", "end", "manager", "team", "territory")
# Totals of child rows are exact: a sum that would need rounding is an error, never rounded.
_EXACT_SUM = decimal.Context(prec=60, traps=[decimal.Inexact, decimal.InvalidOperation])
SHOW_ROWS = 5  # a problem repeated on many rows: the first rows are listed, then a count


def note(code: str, span: Span, message: str, hint: str | None = None,
         related: Iterable[Related] = ()) -> Diagnostic:
    return Diagnostic(code, Severity.NOTE, span, message, hint, tuple(related))


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else plural or word + 's'}"


def _lines(rows: list[int]) -> str:
    """'line 4' / 'lines 4, 9 and 12' / 'lines 4, 9, 12, 15, 20 and 112 more'."""
    if len(rows) == 1:
        return f"line {rows[0]}"
    shown = ", ".join(str(r) for r in rows[:SHOW_ROWS])
    if len(rows) <= SHOW_ROWS:
        head, _, last = shown.rpartition(", ")
        return f"lines {head} and {last}"
    return f"lines {shown} and {len(rows) - SHOW_ROWS:,} more"


# ------------------------------------------------------------------------------ TOML positions


_BARE = r"[A-Za-z0-9_-]+"
_QUOTED = r'"(?:[^"\\]|\\.)*"|\'[^\']*\''
_KEY = rf"(?:{_QUOTED}|{_BARE})(?:\s*\.\s*(?:{_QUOTED}|{_BARE}))*"
_HEADER = re.compile(rf"^\s*\[\[?\s*({_KEY})\s*\]\]?")
_ASSIGN = re.compile(rf"\s*({_KEY})\s*=")


def _split_key(text: str) -> tuple[str, ...]:
    parts = re.findall(rf"{_QUOTED}|{_BARE}", text)
    out = []
    for p in parts:
        if p[0] == '"':
            p = p[1:-1].encode().decode("unicode_escape") if "\\" in p else p[1:-1]
        elif p[0] == "'":
            p = p[1:-1]
        out.append(p)
    return tuple(out)


def _beyond_toml(path: str, text: str, nested: bool) -> Diagnostic:
    lines = text.split("\n")
    if nested:
        at = next((i for i, ln in enumerate(lines, start=1) if nested_too_deep(ln)), 1)
        return error(MAP, Span.point(path, at, 1),
                     f"the mapping nests arrays more than {MAX_NESTING} deep",
                     "a mapping needs no nesting this deep; see docs/mapping.md for the layout")
    found = next(((i, m.start() + 1) for i, ln in enumerate(lines, start=1)
                  for m in [re.search(r"[0-9_]{4300,}", ln)] if m), (1, 1))
    return error(MAP, Span.point(path, *found), "this number has thousands of digits",
                 f"numbers have at most {MAX_INTEGER_DIGITS} digits before the decimal point")


class Locator:
    """Key path -> where the key is written in the mapping file (tables, keys, and the keys of
    one-line inline tables), so problems with a key point at it."""

    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.keys: dict[tuple[str, ...], Span] = {}
        table: tuple[str, ...] = ()
        for number, line in enumerate(text.splitlines(), 1):
            m = _HEADER.match(line)
            if m:
                table = _split_key(m.group(1))
                self.keys.setdefault(table, Span(self.path, number, m.start(1) + 1, number,
                                                 m.end(1) + 1))
                continue
            m = re.match(_ASSIGN.pattern, line)
            if m:
                self._assign(number, line, 0, table)

    def _assign(self, number: int, line: str, pos: int, table: tuple[str, ...]) -> None:
        """Register the key assigned at `pos` (and the keys of an inline table after it)."""
        m = _ASSIGN.match(line, pos)
        if not m:
            return
        key = table + _split_key(m.group(1))
        self.keys.setdefault(key, Span(self.path, number, m.start(1) + 1, number, m.end(1) + 1))
        i = m.end()
        while i < len(line) and line[i] == " ":
            i += 1
        if i < len(line) and line[i] == "{":
            self._inline(number, line, i + 1, key)

    def _inline(self, number: int, line: str, i: int, key: tuple[str, ...]) -> int:
        expect_key = True
        while i < len(line):
            ch = line[i]
            if ch in "\"'":
                end = line.find(ch, i + 1)
                while ch == '"' and end > 0 and line[end - 1] == "\\":
                    end = line.find(ch, end + 1)
                if expect_key:
                    m = _ASSIGN.match(line, i)
                    if m:
                        self._assign(number, line, i, key)
                        i = m.end()
                        expect_key = False
                        continue
                i = (end if end > 0 else len(line)) + 1
                continue
            if ch == "}":
                return i + 1
            if ch == ",":
                expect_key = True
            elif ch == "{":
                # the inner table of `sub = { ... }` was registered by _assign: skip over it
                depth = 1
                i += 1
                while i < len(line) and depth:
                    depth += {"{": 1, "}": -1}.get(line[i], 0)
                    i += 1
                expect_key = False
                continue
            elif expect_key and not ch.isspace():
                m = _ASSIGN.match(line, i)
                if m:
                    sub = key + _split_key(m.group(1))
                    self.keys.setdefault(sub, Span(self.path, number, m.start(1) + 1, number,
                                                   m.end(1) + 1))
                    j = m.end()
                    while j < len(line) and line[j] == " ":
                        j += 1
                    if j < len(line) and line[j] == "{":
                        i = self._inline(number, line, j + 1, sub)
                    else:
                        i = j
                    expect_key = False
                    continue
            i += 1
        return i

    def span(self, *key: str) -> Span:
        for n in range(len(key), 0, -1):
            if key[:n] in self.keys:
                return self.keys[key[:n]]
        return Span.point(self.path, 1, 1)


# ------------------------------------------------------------------------------ the mapping


def _name(key: tuple[str, ...]) -> str:
    return ".".join(f'"{k}"' if not re.fullmatch(_BARE, k) else k for k in key)


@attrs.define
class FieldMap:
    """A custom field: where its value comes from and how it is read."""

    name: str
    key: tuple[str, ...]  # its place in the mapping, for diagnostics
    type: str
    column: str | None = None
    lookup: str | None = None  # a [lookups.NAME]
    by: str | None = None  # the field whose value is the lookup key
    default: str | None = None
    required: bool = False
    spec: FieldSpec | None = None  # how values are parsed (the plan's declaration, if any)
    child: str | None = None  # a [deals.children.NAME] whose rows of the deal are added up
    total: str | None = None  # with child: "sum" (of `column`) or "count" (of rows)


@attrs.define
class StageRule:
    value: str
    key: tuple[str, ...]
    outcome: str
    date: str | None = None
    booked: str | None = None  # outcome cancelled: the column dating the booking
    reached: list[tuple[str, str]] = attrs.Factory(list)  # (stage, date column)


class Mapping:
    """A mapping being read: its TOML, its tables, every diagnostic, and the counts behind the
    notes."""

    def __init__(self, path: str, plan: Plan | None) -> None:
        self.path = os.path.normpath(str(path))
        self.base = os.path.dirname(self.path)
        self.plan = plan
        self.diags: list[Diagnostic] = []
        self.doc: dict = {}
        self.loc = Locator(self.path, "")
        self.tables: dict[str, Table] = {}  # by section: deals, roster, lookups.products ...
        self.lookup_rows: dict[str, dict[str, Row]] = {}
        self.aliases: dict[str, dict[str, dict[str, str]]] = {}  # section -> column -> map
        self.alias_rows: dict[tuple[str, str, str], list[int]] = defaultdict(list)
        self.alias_lookup_rows: set[tuple[str, str, int]] = set()
        self.formats: dict[str, dict[str, ColumnFormat]] = {}  # section -> column -> format
        self.children: dict[str, _Child] = {}  # [deals.children.NAME] by name
        self.defaults: dict[str, dict[str, str]] = {}  # section -> column -> value
        self.default_rows: dict[tuple[str, str], set[int]] = defaultdict(set)
        self.field_names: set[str] = set()  # of the table being read, broken ones included
        self.files: list[str] = []
        self.rejected: set[str] = set()
        self.payee_names: dict[str, str] = {}  # a display name two payees share is not here
        self.shared_names: dict[str, list[str]] = {}  # ... but here, with the ids it names

    # ------------------------------------------------------------------ reporting

    def at(self, *key: str) -> Span:
        return self.loc.span(*key)

    def blocked(self) -> bool:
        """Whether the mapping (or a file) has an error that keeps rows from being read: the
        rows are read once the mapping is right."""
        return any(self.blocks(d) for d in self.diags)

    def blocks(self, d: Diagnostic) -> bool:
        return blocks_rows(self.path, d)

    def map_error(self, key: tuple[str, ...], message: str, hint: str | None = None,
                  related: Iterable[Related] = ()) -> None:
        self.diags.append(error(MAP, self.at(*key), message, hint, tuple(related)))

    # ------------------------------------------------------------------ TOML

    def read(self) -> bool:
        text, diags = read_text_any(self.path)
        if text is None:
            self.diags += diags
            return False
        self.loc = Locator(self.path, text)
        self.diags += bidi_warnings(self.path, text)  # a mapping is reviewed like a plan
        try:
            self.doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            kind = os.path.splitext(self.path)[1].lower()
            if kind in (".csv", ".jsonl", ".json", ".tsv"):
                # The export given where its mapping goes: TOML's complaint about line 1
                # would not say so.
                self.diags.append(error("D-FILE", Span.point(self.path, 1, 1),
                                        f"{self.path} is a data file ({kind[1:].upper()}), not "
                                        "a mapping: a mapping is a TOML file that names the "
                                        "export's files and columns",
                                        "write one beside the export, starting from "
                                        "plans/crm/crm.toml (docs/mapping.md)"))
                return False
            m = re.search(r"\(at line (\d+), column (\d+)\)", str(e))
            line, col = (int(m.group(1)), int(m.group(2))) if m else (1, 1)
            message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(e)) or "invalid TOML"
            self.diags.append(error(MAP, Span.point(self.path, line, col),
                                    f"the mapping is not valid TOML: {message}",
                                    "see docs/mapping.md for the layout; texts are quoted: "
                                    'owner = "sales_agent"'))
            return False
        except (RecursionError, ValueError) as e:
            # Python's TOML reader recurses into nested arrays and reads integers with int(),
            # which refuses more than 4,300 digits: both are far beyond what a mapping needs.
            self.diags.append(_beyond_toml(self.path, text, isinstance(e, RecursionError)))
            return False
        return True

    def keys(self, key: tuple[str, ...], table: object, allowed: Iterable[str],
             required: Iterable[str] = (), what: str = "") -> dict:
        """A table of the mapping, checked for unknown and missing keys ({} if not a table)."""
        if not isinstance(table, dict):
            self.map_error(key, f"'{_name(key)}' must be a table", f"write [{_name(key)}]")
            return {}
        allowed = tuple(allowed)
        for k in table:
            if k not in allowed:
                self.map_error((*key, k), f"unknown key '{k}' in [{_name(key)}]" if key else
                               f"unknown table [{k}]",
                               suggest(k, allowed) or
                               (f"the keys of [{_name(key)}]{what} are " if key else
                                "the tables of a mapping are ") + ", ".join(allowed))
        for k in required:
            if k in table:
                continue
            if key:
                self.map_error(key, f"[{_name(key)}] needs '{k}'",
                               f"add {k} = ... (docs/mapping.md)")
            else:  # the top level's keys are tables
                self.map_error(key, f"the mapping has no [{k}] table",
                               f"add [{k}] with its file and columns (docs/mapping.md)")
        return table

    def text(self, key: tuple[str, ...], value: object, what: str = "a text") -> str | None:
        if value is None:
            return None
        if isinstance(value, str) and value.strip():
            return value.strip()
        self.map_error(key, f"'{_name(key)}' must be {what}, not {_show(value)}",
                       f'write {key[-1]} = "..."')
        return None

    # ------------------------------------------------------------------ tables

    def load_table(self, section: str, key: tuple[str, ...], spec: dict) -> Table | None:
        file = self.text((*key, "file"), spec.get("file"), "a file path")
        if file is None:
            return None
        path = os.path.normpath(os.path.join(self.base, file))
        self.files.append(path)
        table, diags = read_table(path)
        if table is None and any(d.code == "D-FILE" for d in diags):
            self.diags.append(error("D-FILE", self.at(*key, "file"),
                                    f"{_name((*key, 'file'))}: {diags[0].message}",
                                    "paths in a mapping are relative to the mapping file"))
            return None
        self.diags += diags
        if table is None:
            return None
        self.tables[section] = table
        self.aliases[section] = self.read_aliases(key, spec.get("values", {}), table)
        self.formats[section] = self.read_formats((*key, "formats"), spec.get("formats", {}),
                                                  table)
        self.defaults[section] = self.read_defaults((*key, "defaults"),
                                                    spec.get("defaults", {}), table)
        return table

    def read_formats(self, key: tuple[str, ...], spec: object,
                     table: Table) -> dict[str, ColumnFormat]:
        """`[SECTION.formats]`: COLUMN = { date = "MM/DD/YYYY" } or { decimal, thousands,
        symbol, scale }."""
        out: dict[str, ColumnFormat] = {}
        if not isinstance(spec, dict):
            self.map_error(key, f"'{_name(key)}' must be a table of columns",
                           f'write [{_name(key)}] with lines COLUMN = {{ date = "DD/MM/YYYY" }}')
            return out
        for col, raw in spec.items():
            ckey = (*key, col)
            if self.column(ckey, col, table) is None:
                continue
            f = self.keys(ckey, raw, FORMAT_KEYS)
            if not f:
                continue
            try:
                if "take" in f:
                    extra = [k for k in f if k != "take"]
                    if extra:
                        raise FormatError(f"'take' goes alone, not with '{extra[0]}'")
                    if f["take"] not in TAKES:
                        raise FormatError(f"'take' is one of {', '.join(TAKES)}, not "
                                          f"{_show(f['take'])}")
                    out[col] = ColumnFormat(take=f["take"])
                    continue
                if "date" in f:
                    extra = [k for k in f if k != "date"]
                    if extra:
                        raise FormatError(f"a date column has no '{extra[0]}'")
                    pattern = self.text((*ckey, "date"), f["date"], "a date pattern")
                    if pattern is None:
                        continue
                    out[col] = date_pattern(pattern)
                    continue
                symbols = f.get("symbol", ())
                if isinstance(symbols, str):
                    symbols = (symbols,)
                if not isinstance(symbols, (list, tuple)) or not all(
                        isinstance(x, str) and x.strip() for x in symbols):
                    raise FormatError("'symbol' is a text or a list of texts: \"$\" or "
                                      "[\"$\", \"USD\"]")
                seps = {}
                for k in ("decimal", "thousands"):
                    if k in f and not isinstance(f[k], str):
                        raise FormatError(f"'{k}' is a text such as \",\" or \".\"")
                    seps[k] = f.get(k)
                decimal_sep = seps["decimal"] if seps["decimal"] is not None else (
                    "," if seps["thousands"] == "." else ".")
                thousands = seps["thousands"] if seps["thousands"] is not None else (
                    "." if decimal_sep == "," else ",")
                out[col] = number_format(decimal_sep, thousands,
                                         tuple(x.strip() for x in symbols),
                                         self.scale((*ckey, "scale"), f["scale"])
                                         if "scale" in f else None)
            except FormatError as e:
                self.map_error(ckey, f"format of column '{col}': {e}",
                               "see docs/mapping.md, column formats")
        return out

    def scale(self, key: tuple[str, ...], value: object) -> Decimal | None:
        """A scale is written as a text or a whole number (never a TOML float, which is
        binary): "0.01" for cents."""
        if isinstance(value, int) and not isinstance(value, bool):
            return Decimal(value)
        if isinstance(value, str):
            try:
                return parse_positive(value.strip(), "scale")
            except BadValue:
                pass
        raise FormatError(f"'scale' must be a number written as a text, such as \"0.01\" for "
                          f"cents, not {_show(value)}")

    def read_defaults(self, key: tuple[str, ...], spec: object, table: Table) -> dict[str, str]:
        """`[SECTION.defaults]`: COLUMN = "value used when the cell is empty"."""
        out: dict[str, str] = {}
        if not isinstance(spec, dict):
            self.map_error(key, f"'{_name(key)}' must be a table of columns",
                           f'write [{_name(key)}] with lines COLUMN = "value"')
            return out
        for col, value in spec.items():
            ckey = (*key, col)
            if self.column(ckey, col, table) is None:
                continue
            if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
                value = value.isoformat()
            text = self.text(ckey, value, "a text")
            if text is not None:
                out[col] = text
        return out

    def parse(self, section: str, column: str, text: str, parser):
        """`parser` on a cell's text after the column's format (BadValue either way); a
        `take` format was applied by `cell` already."""
        f = self.formats.get(section, {}).get(column)
        if f is None and parser is parse_date:
            try:
                return parse_date(text)
            except BadValue as e:
                # The hint of the plain data files says to rewrite the date; an export is read
                # as it is, so the hint is the column's format, when one reads this cell.
                raise BadValue(e.message, date_hint(section, column, text) or e.hint) from None
        return parser(f.normalize(text) if f is not None and f.take is None else text)

    def column(self, key: tuple[str, ...], value: object, table: Table | None,
               what: str = "") -> str | None:
        """A column named by the mapping; it must be in the table's header."""
        name = self.text(key, value, "a column name")
        if name is None or table is None:
            return name
        if name not in table.columns:
            header = Span(table.path, table.header_line or 1, 1, table.header_line or 1,
                          max((s.end_column for s in table.header_spans), default=2))
            self.diags.append(error(
                "D-COLUMN", self.at(*key), f"{_name(key)}: column '{name}' is not in "
                f"{table.path}{what}", suggest(name, table.columns) or
                f"the columns of {os.path.basename(table.path)} are {', '.join(table.columns)}",
                [Related(header, "the header of the file")]))
            return None
        return name

    def read_aliases(self, key: tuple[str, ...], values: object,
                     table: Table) -> dict[str, dict[str, str]]:
        out: dict[str, dict[str, str]] = {}
        vkey = (*key, "values")
        if not isinstance(values, dict):
            self.map_error(vkey, f"'{_name(vkey)}' must be a table of columns",
                           f'write [{_name(vkey)}.COLUMN] with lines "as written" = "meant"')
            return out
        for col, table_ in values.items():
            ckey = (*vkey, col)
            if self.column(ckey, col, table) is None:
                continue
            if not isinstance(table_, dict):
                self.map_error(ckey, f"'{_name(ckey)}' must be a table of aliases",
                               f'write [{_name(ckey)}] with lines "as written" = "meant"')
                continue
            out[col] = {}
            for raw, meant in table_.items():
                if not isinstance(meant, str):
                    self.map_error((*ckey, raw), f"the alias of '{raw}' must be a text, not "
                                   f"{_show(meant)}", f'write "{raw}" = "..."')
                    continue
                out[col][raw] = meant
        return out

    def cell(self, section: str, row: Row, column: str | None) -> tuple[str, Cell | None]:
        """A cell's text after the aliases of its column ('' when empty or absent)."""
        if column is None:
            return "", None
        cell = row.get(column)
        if cell is None:
            # a default fills the empty cell as if the export had written it
            text = self.defaults.get(section, {}).get(column)
            if text is None:
                return "", row.cells.get(column)
            self.default_rows[(section, column)].add(row.line)
            cell = row.cells.get(column)
        else:
            text = cell.text
        fmt = self.formats.get(section, {}).get(column)
        if fmt is not None and fmt.take is not None:
            try:
                text = fmt.taken(text)
            except BadValue:
                pass  # kept as written: whatever reads it reports it (an unknown owner ...)
        aliases = self.aliases.get(section, {}).get(column)
        if aliases and text in aliases:
            lines = self.alias_rows[(section, column, text)]
            if not lines or lines[-1] != row.line:
                if section.startswith("lookups."):  # a lookup row is read for many deals
                    if (section, column, row.line) not in self.alias_lookup_rows:
                        self.alias_lookup_rows.add((section, column, row.line))
                        lines.append(row.line)
                else:
                    lines.append(row.line)
            text = aliases[text]
        return text, cell

    def broken(self, section: str, column: str | None) -> set[str]:
        """The texts in `column` (as `cell` reads them) of the rows of `section` left out
        before their cells were read (tables.Table.broken): the keys (deal, payee) the checks
        across tables must not report again, as the general loader does (data/loaders.py)."""
        table = self.tables.get(section)
        if table is None or column is None:
            return set()
        out = set()
        for reading in table.broken:
            text = reading.get(column, "")
            fmt = self.formats.get(section, {}).get(column)
            if fmt is not None and fmt.take is not None:
                try:
                    text = fmt.taken(text)
                except BadValue:
                    pass
            text = self.aliases.get(section, {}).get(column, {}).get(text, text)
            if text:
                out.add(text)
        return out

    # ------------------------------------------------------------------ fields

    def read_fields(self, owner: str, key: tuple[str, ...], spec: object,
                    table: Table | None) -> list[FieldMap]:
        out: list[FieldMap] = []
        if not isinstance(spec, dict):
            self.map_error(key, f"'{_name(key)}' must be a table of fields",
                           f'write [{_name(key)}] with lines NAME = {{ column = "...", '
                           'type = "text" }')
            return out
        declared = {f.name: f for f in self.plan.fields if f.owner == owner} if self.plan \
            else {}
        self.field_names = set(spec)
        for name, raw in spec.items():
            fkey = (*key, name)
            if isinstance(raw, str):
                raw = {"column": raw}
            f = self.keys(fkey, raw, ("column", "type", "lookup", "by", "default", "required",
                                      *(("child", "sum", "count") if owner == "deal" else ())),
                          ("type",))
            if not f:
                continue
            kind = self.text((*fkey, "type"), f.get("type"))
            if kind is not None and kind not in FIELD_TYPES:
                self.map_error((*fkey, "type"), f"'{kind}' is not a field type",
                               suggest(kind, FIELD_TYPES) or
                               f"the types are {', '.join(FIELD_TYPES)}")
                kind = None
            fm = FieldMap(name=name, key=fkey, type=kind or "text")
            if "child" in f:
                if not self.child_field(fm, f):
                    continue
            elif "sum" in f or "count" in f:
                self.map_error((*fkey, "sum" if "sum" in f else "count"), "'sum' and 'count' go "
                               "with 'child'", 'add child = "NAME" (a [deals.children.NAME])')
                continue
            elif "lookup" in f:
                fm.lookup = self.text((*fkey, "lookup"), f["lookup"])
                fm.by = self.text((*fkey, "by"), f.get("by"))
                if fm.by is None and "by" not in f:
                    self.map_error(fkey, f"the lookup field '{name}' needs 'by': the field "
                                   "whose value is the key of the lookup table",
                                   'add by = "FIELD"')
                fm.column = self.text((*fkey, "column"), f.get("column"), "a column name")
                if fm.column is None and "column" not in f:
                    self.map_error(fkey, f"the lookup field '{name}' needs 'column': the column "
                                   "of the lookup table", 'add column = "..."')
            else:
                if "by" in f:
                    self.map_error((*fkey, "by"), "'by' goes with 'lookup'",
                                   "remove it, or add lookup = \"TABLE\"")
                fm.column = self.column((*fkey, "column"), f.get("column", name), table)
            if "default" in f:
                fm.default = self.text((*fkey, "default"), f["default"])
            if "required" in f:
                if isinstance(f["required"], bool):
                    fm.required = f["required"]
                else:
                    self.map_error((*fkey, "required"), "'required' is true or false")
            declared_spec = declared.get(name)
            if declared_spec is not None and kind is not None:
                compatible = declared_spec.kind == kind or (
                    kind == "text" and declared_spec.kind == "one of")
                if not compatible:
                    want = declared_spec.kind
                    self.map_error((*fkey, "type"), f"field '{name}' is {kind} here but the plan "
                                   f"declares {owner}.{name} {want}"
                                   + (" ..." if want == "one of" else ""),
                                   f'write type = "{"text" if want == "one of" else want}"')
                    continue
            fm.spec = declared_spec or FieldSpec(owner=owner, name=name, kind=fm.type)
            out.append(fm)
        if self.plan is not None:
            names = {f.name for f in out}
            for name in declared:
                if name not in names and name not in spec:
                    self.diags.append(warning(
                        "D-FIELD", self.at(*key), f"the plan declares {owner}.{name} but the "
                        f"mapping gives no field '{name}': it is empty on every record",
                        f"add it to [{_name(key)}], or remove it from the plan's fields"))
        return out

    def child_field(self, fm: FieldMap, f: dict) -> bool:
        """A field added up from a child table: child = NAME and sum = COLUMN or count = true
        (its column is checked against the child's file once that is read)."""
        extra = [k for k in ("lookup", "by", "column") if k in f]
        if extra:
            self.map_error((*fm.key, extra[0]), f"'{extra[0]}' does not go with 'child'",
                           "a child field adds up its child's rows: sum = COLUMN or count = true")
            return False
        fm.child = self.text((*fm.key, "child"), f["child"])
        if ("sum" in f) == ("count" in f):
            self.map_error(fm.key, f"the child field '{fm.name}' needs one of 'sum' (a column "
                           "of the child table) and 'count' (= true)",
                           'e.g. sum = "TotalPrice" or count = true')
            return False
        if "sum" in f:
            fm.total, fm.column = "sum", self.text((*fm.key, "sum"), f["sum"], "a column name")
        elif f["count"] is not True:
            self.map_error((*fm.key, "count"), "'count' is true (the number of rows)")
            return False
        else:
            fm.total = "count"
        if fm.type not in ("number", "count", "money"):
            self.map_error((*fm.key, "type"), f"a child field is a number, count or money, not "
                           f"{fm.type}", 'write type = "number"')
            return False
        return fm.child is not None and (fm.total == "count" or fm.column is not None)

    def check_children(self, fields: list[FieldMap], children: dict) -> None:
        for f in fields:
            if f.child is None:
                continue
            child = children.get(f.child)
            if child is None:
                declared = self.doc["deals"].get("children")
                if not isinstance(declared, dict) or f.child not in declared:
                    self.map_error((*f.key, "child"), f"no child table '{f.child}'",
                                   suggest(f.child, children) or
                                   f"add [deals.children.{f.child}] with its file and deal")
                f.child = None  # a child table with an error of its own: reported there
            elif f.total == "sum" and self.column((*f.key, "sum"), f.column,
                                                 child.table) is None:
                f.child = None

    def check_lookups(self, fields: list[FieldMap]) -> None:
        names = self.field_names  # a field with an error of its own is not reported again
        for f in fields:
            if f.lookup is None:
                continue
            if f.lookup not in self.lookup_rows:
                declared = self.doc.get("lookups")
                if not isinstance(declared, dict) or f.lookup not in declared:
                    self.map_error((*f.key, "lookup"), f"no lookup table '{f.lookup}'",
                                   suggest(f.lookup, self.lookup_rows) or
                                   f"add [lookups.{f.lookup}] with its file and key")
                f.lookup = None  # a lookup table with an error of its own: reported there
                continue
            if f.by is not None and f.by not in names:
                self.map_error((*f.key, "by"), f"'{f.by}' is not a field of this table",
                               suggest(f.by, names) or "name another field of the table")
                f.lookup = None
                continue
            table = self.tables[f"lookups.{f.lookup}"]
            if f.column is not None and self.column((*f.key, "column"), f.column, table) is None:
                f.lookup = None

    # ------------------------------------------------------------------ rows -> fields


class RowFields:
    """Reads the custom fields of one row, reporting each bad value at its cell."""

    def __init__(self, m: Mapping, section: str, fields: list[FieldMap]) -> None:
        # plain columns first: a lookup reads the value of the field it is joined on
        self.m, self.section = m, section
        self.fields = sorted(fields, key=lambda f: f.lookup is not None)
        self.names = sorted(f.name for f in fields)  # records keep their fields sorted by name
        self._shared: dict[tuple, tuple] = {}  # one tuple per combination of values
        self.defaults: dict[str, list[int]] = defaultdict(list)
        self.empty: dict[str, list[int]] = defaultdict(list)
        self.missing_keys: dict[tuple[str, str], list[tuple[int, object]]] = defaultdict(list)
        self._parsed: dict[tuple[str, str, str, bool], object] = {}
        self._reported_rows: set[tuple[str, int]] = set()
        self._reported: set[tuple[str, str]] = set()

    def _value(self, f: FieldMap, text: str, currency: str | None,
               section: str | None) -> object:
        """The parsed value, or the BadValue saying why it cannot be read (cached: an export
        repeats the same few values on thousands of rows). `section`: the table whose column
        the text is in (its format applies); None for the mapping's own default."""
        key = (f.name, text, currency or "", section is None)
        if key not in self._parsed:
            try:
                plan_currency = self.m.plan.currency if self.m.plan else currency
                fmt = self.m.formats.get(section, {}).get(f.column) if section else None
                if fmt is not None and fmt.take is None:
                    text = fmt.normalize(text)
                self._parsed[key] = parse_field(f.spec, text, currency, plan_currency)
            except BadValue as e:
                self._parsed[key] = e
        return self._parsed[key]

    def read(self, row: Row, currency: str | None, deal: str | None = None
             ) -> tuple[tuple[tuple[str, object], ...], bool]:
        """(fields sorted by name, ok). Positions are worked out only for a problem: `where` is
        the cell (or row) a value comes from, and `foreign` says it is not this row's (a lookup
        table's cell, a default in the mapping). `deal`: the row's deal id, for child fields."""
        m, ok = self.m, True
        values: dict[str, object] = {}
        raw_text: dict[str, tuple[str, object]] = {}
        for f in self.fields:
            text, where, foreign, section = "", row, False, self.section
            if f.total is not None:
                if f.child is None:
                    continue  # the field's mapping is in error, reported there
                text = self.child_total(f, deal)
                if text is None:
                    ok = False
                    continue
                section = None  # a total, not a cell: no column format applies
            elif f.lookup is None and f.column is not None:
                text, cell = m.cell(self.section, row, f.column)
                where = cell if cell is not None else row
            elif f.lookup is not None:
                key_text, key_where = raw_text.get(f.by, ("", row))
                if key_text:
                    target = m.lookup_rows[f.lookup].get(key_text)
                    if target is None:
                        self.missing_keys[(f.lookup, key_text)].append((row.line, key_where))
                        ok = False
                        continue
                    section = f"lookups.{f.lookup}"
                    text, cell = m.cell(section, target, f.column)
                    where, foreign = (cell if cell is not None else target), True
            raw_text[f.name] = (text, where)
            if not text:
                if f.default is not None:
                    self.defaults[f.name].append(row.line)
                    text, where, foreign = f.default, m.at(*f.key, "default"), True
                    section = None
                elif f.required:
                    m.diags.append(error("D-COLUMN", _span(where), f"field '{f.name}' is empty: "
                                         "the mapping says it is required",
                                         f"fill it in, or give it a default in {_name(f.key)}"))
                    ok = False
                    continue
                else:
                    self.empty[f.name].append(row.line)
                    continue
            value = self._value(f, text, currency, section)
            if isinstance(value, BadValue):
                # a bad cell of the row is reported at each row; a bad value of a lookup table
                # or a default (somewhere else) once
                if not foreign or (f.name, text) not in self._reported:
                    self._reported.add((f.name, text))
                    m.diags.append(error("D-FIELD", _span(where), f"field '{f.name}': "
                                         f"{value.message}", value.hint))
                ok = False
                continue
            values[f.name] = value
        fields = tuple((n, values[n]) for n in self.names if n in values)
        return self._shared.setdefault(fields, fields), ok

    def child_total(self, f: FieldMap, deal: str | None) -> str | None:
        """The sum of the child rows' column, or their count, as plain text (None: a cell that
        is not a number, reported at the cell)."""
        child = self.m.children[f.child]
        rows = child.by_deal.get(deal, [])
        if f.total == "count":
            return str(len(rows))
        total = Decimal(0)
        for r in rows:
            text, cell = self.m.cell(child.section, r, f.column)
            if not text:
                continue
            try:
                total = _EXACT_SUM.add(total, self.m.parse(child.section, f.column, text,
                                                           parse_number))
            except BadValue as e:
                if (f.name, r.line) not in self._reported_rows:
                    self._reported_rows.add((f.name, r.line))
                    self.m.diags.append(error("D-FIELD", _span(cell or r), f"field '{f.name}' "
                                              f"(column '{f.column}'): {e.message}", e.hint))
                return None
        if f.type == "count" and total == total.to_integral_value():
            return str(int(total))
        return format(total, "f")

    def report(self, key: tuple[str, ...], what: str) -> None:
        m = self.m
        for (lookup, text), places in sorted(self.missing_keys.items()):
            rows = [r for r, _ in places]
            table = m.tables[f"lookups.{lookup}"]
            keys = list(m.lookup_rows[lookup])
            column = m.doc["lookups"][lookup]["key"]
            m.diags.append(error(
                "D-FIELD", _span(places[0][1]),
                f"'{text}' is not in {table.path} (column '{column}'): "
                f"{_plural(len(rows), 'row')} of the {what} ({_lines(rows)})",
                (suggest(text, keys) or "check the value") +
                f"; to read it as a value of the table, add an alias: "
                f"[{_name((*key, 'values'))}.COLUMN] \"{text}\" = \"...\""))
        for fname, rows in sorted(self.defaults.items()):
            f = next(x for x in self.fields if x.name == fname)
            m.diags.append(note(MAPPED, m.at(*f.key, "default"),
                                f"field '{fname}' is empty in {_plural(len(rows), 'row')} of "
                                f"the {what} ({_lines(rows)}): the default '{f.default}' is "
                                "used"))
        for fname, rows in sorted(self.empty.items()):
            f = next(x for x in self.fields if x.name == fname)
            m.diags.append(note(MAPPED, m.at(*f.key),
                                f"field '{fname}' is empty in {_plural(len(rows), 'row')} of "
                                f"the {what} ({_lines(rows)}): it is left unset on them"))


# Date formats of exports, tried in turn on a date the mapping cannot read without one.
_DATE_GUESSES = tuple(
    [f"{a}{sep}{b}{sep}YYYY{time}" for sep in "/.-" for a, b in (("MM", "DD"), ("DD", "MM"))
     for time in ("", " hh:mm", " hh:mm:ss", " hh:mm AM")]
    + [f"YYYY-MM-DD{t}hh:mm{s}{z}" for t in "T " for s in ("", ":ss", ":ss.SSS")
       for z in ("", "Z")])


def date_hint(section: str, column: str, text: str) -> str | None:
    """The `[*.formats]` line that reads `text` as a date (both orders when day and month cannot
    be told apart), or None when no usual format reads it."""
    fits = []
    for pattern in _DATE_GUESSES:
        try:
            parse_date(date_pattern(pattern).normalize(text))
        except BadValue:
            continue
        fits.append(pattern)
    if not fits:
        return None
    line = f"[{section}.formats] \"{column}\" = {{ date = \"{fits[0]}\" }}"
    if len(fits) > 1:
        line += f" or {{ date = \"{fits[1]}\" }}, as the export writes its dates"
    return (f"declare the column's date format in the mapping: {line} (docs/mapping.md, column "
            "formats)")


# The currency a symbol names, where it names one ('$' and '¥' are several currencies' sign).
_SYMBOL_CURRENCY = {"US$": "USD", "€": "EUR", "£": "GBP", "₹": "INR"}


def amount_hint(e: BadValue, column: str, fmt: ColumnFormat | None,
                fixed_currency: str | None = None) -> str | None:
    """The hint for an amount the mapping cannot read: a mapping has no currency column to put
    a symbol in, but it can declare the column's format. Not when the amount names another
    currency than `fixed_currency`: the symbol would then be dropped and the amount read, wrongly,
    in the fixed currency."""
    text = e.message.split("'")[1] if e.message.count("'") >= 2 else ""
    if fmt is not None:
        return e.hint
    symbol = next((s for s in ("US$", "$", "€", "£", "¥", "₹") if s in text), None)
    if symbol is None:
        m = re.search(r"\b[A-Z]{3}\b", text)
        symbol = m.group() if m else None
    if symbol is not None:
        declare = f"[deals.formats] \"{column}\" = {{ symbol = \"{symbol}\" }}"
        named = _SYMBOL_CURRENCY.get(symbol, symbol if len(symbol) == 3 else None)
        if fixed_currency is not None and named is not None and named != fixed_currency:
            return (f"the amount is written in {named}, but fixed_currency reads every deal as "
                    f"{fixed_currency}: map the export's currency column (currency = "
                    f"\"COLUMN\"), or set fixed_currency = \"{named}\" if the whole export is in "
                    f"{named}; then {declare}")
        return (f"declare the column's format in the mapping: {declare} "
                "(docs/mapping.md, column formats)")
    if re.fullmatch(r"\d{1,3}(\.\d{3})+(,\d+)?|\d+,\d{1,2}", text):
        return (f"the column writes a decimal comma: [deals.formats] \"{column}\" = "
                "{ decimal = \",\", thousands = \".\" }")
    return e.hint


def _span(where: object) -> Span:
    """The span of a cell, a row or a span (cells work theirs out when asked)."""
    return where if isinstance(where, Span) else where.span


def _show(value: object) -> str:
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return str(value)


def read_text_any(path: str) -> tuple[str | None, list[Diagnostic]]:
    """The mapping file's text (read_text insists on .csv/.jsonl)."""
    span = Span.point(path, 1, 1)
    if os.path.isdir(path):
        return None, [error("D-FILE", span, f"'{path}' is a directory, not a mapping file",
                            "name a .toml mapping file")]
    data, diags = read_data_file(path, "name a .toml mapping file")
    if data is None:
        return None, diags
    try:
        return data.decode("utf-8").removeprefix("\ufeff"), []
    except UnicodeDecodeError as e:
        return None, [error("D-ENCODING", span, f"the mapping is not UTF-8 (byte {e.start})",
                            "save it as UTF-8")]


# ------------------------------------------------------------------------------ the sections


FORMAT_KEYS = ("date", "decimal", "thousands", "symbol", "scale", "take")
TOP_KEYS = ("deals", "roster", "lookups", "territories", "quotas", "fx")
TABLE_KEYS = ("values", "formats", "defaults")  # every table read from a file may have these
DEAL_KEYS = ("file", "id", "owner", "stage", "amount", "currency", "fixed_currency", "term",
             "stages", "fields", "splits", "history", "children", *TABLE_KEYS)
ROSTER_KEYS = ("file", "id", "name", *PAYEE_ATTRS, "active", "fixed", "managers", "fields",
               *TABLE_KEYS)


def _lookups(m: Mapping) -> None:
    spec = m.doc.get("lookups", {})
    if not isinstance(spec, dict):
        m.map_error(("lookups",), "'lookups' must be a table of tables",
                    "write [lookups.NAME] with file and key")
        return
    for name, t in spec.items():
        key = ("lookups", name)
        t = m.keys(key, t, ("file", "key", *TABLE_KEYS), ("file", "key"))
        if not t:
            continue
        table = m.load_table(f"lookups.{name}", key, t)
        column = m.column((*key, "key"), t.get("key"), table)
        if table is None or column is None:
            continue
        rows: dict[str, Row] = {}
        for row in table.rows:
            text, cell = m.cell(f"lookups.{name}", row, column)
            if not text:
                continue
            if text in rows:
                first = rows[text].cells[column]
                m.diags.append(error("D-DUPLICATE", cell.span, f"'{text}' appears twice in "
                                     f"column '{column}' of the lookup table '{name}'",
                                     "keep one row per key", [Related(first.span, "first here")]))
                continue
            rows[text] = row
        m.lookup_rows[name] = rows


def _roster(m: Mapping) -> list[PayeeRecord]:
    key = ("roster",)
    if "roster" not in m.doc:  # reported as a missing table: not again as each missing key
        return []
    spec = m.keys(key, m.doc["roster"], ROSTER_KEYS, ("file", "id"))
    if not spec:
        return []
    table = m.load_table("roster", key, spec)
    id_col = m.column((*key, "id"), spec.get("id"), table)
    cols = {a: m.column((*key, a), spec[a], table) for a in PAYEE_ATTRS if a in spec}
    name_col = m.column((*key, "name"), spec["name"], table) if "name" in spec else None
    active = _active_spec(m, spec.get("active"), table) if "active" in spec else None
    if active is not None and "end" in spec:
        m.map_error((*key, "active"), "[roster] has both an 'end' column and 'active'",
                    "keep one: the end date column, or the active flag with its end date")
    fixed = m.keys((*key, "fixed"), spec.get("fixed", {}), PAYEE_ATTRS)
    consts: dict[str, object] = {}
    for a, v in fixed.items():
        if a in spec:
            m.map_error((*key, "fixed", a), f"'{a}' is both a column (roster.{a}) and a fixed "
                        "value", "keep one of them")
            continue
        consts[a] = _fixed_value(m, (*key, "fixed", a), a, v)
    for a in ("role", "start"):
        if a not in spec and a not in fixed:
            m.map_error(key, f"[roster] needs the payees' {a}: a column (roster.{a}) or a fixed "
                        f"value ([roster.fixed] {a} = ...)",
                        "the export has none? give a fixed value and document it")
    fields = m.read_fields("payee", (*key, "fields"), spec.get("fields", {}), table)
    m.check_lookups(fields)
    managers = m.keys((*key, "managers"), spec.get("managers", {}),
                      ("role", "start", "end", "team", "territory", "inherit"))
    if table is None or id_col is None or m.blocked():
        return []
    m.rejected |= {f"payee:{pid}" for pid in m.broken("roster", id_col)}
    reader = RowFields(m, "roster", fields)
    records: list[PayeeRecord] = []
    first: dict[str, Row] = {}
    for row in table.rows:
        ok = True
        pid, cell = m.cell("roster", row, id_col)
        if not pid:
            m.diags.append(error("D-COLUMN", cell.span if cell else row.span,
                                 f"column '{id_col}' is empty: every payee needs an id",
                                 "fill it in or remove the row"))
            continue
        if pid in first:
            m.diags.append(error("D-DUPLICATE", cell.span, f"payee '{pid}' has a second row",
                                 "one row per payee",
                                 [Related(first[pid].cells[id_col].span, "first here")]))
            continue
        first[pid] = row
        values: dict[str, object] = dict(consts)
        for a, col in cols.items():
            if col is None:
                continue
            text, c = m.cell("roster", row, col)
            if not text:
                continue
            if a in ("start", "end"):
                try:
                    values[a] = m.parse("roster", col, text, parse_date)
                except BadValue as e:
                    m.diags.append(error("D-DATE", _span(c or row), f"column '{col}': "
                                         f"{e.message}", e.hint))
                    ok = False
            else:
                values[a] = text
        if active is not None and ok:
            ok = _read_active(m, active, row, pid, values)
        if name_col is not None:
            values["name"] = m.cell("roster", row, name_col)[0] or None
        for a in ("role", "start"):
            if a not in values:
                col = cols.get(a)
                m.diags.append(error("D-COLUMN", row.span, f"payee '{pid}' has no {a}"
                                     + (f": column '{col}' is empty" if col else ""),
                                     f"fill it in, or give [roster.fixed] {a}"))
                ok = False
        flds, fields_ok = reader.read(row, m.plan.currency if m.plan else None)
        if not (ok and fields_ok):
            m.rejected.add(f"payee:{pid}")
            continue
        records.append(PayeeRecord(id=pid, fields=flds, source=Source(table.path, row.line),
                                   **values))
    reader.report(key, "roster")
    if active is not None and active.inactive:
        rows = active.inactive
        ends = f"on their '{active.end}'" if isinstance(active.end, str) else \
            f"on {active.end}"
        m.diags.append(note(MAPPED, m.at(*key, "active"), f"{_plural(len(rows), 'payee')} "
                            f"inactive in column '{active.column}' ({_lines(rows)}): "
                            f"their employment ends {ends}"))
    if "managers" in spec:
        added = _managers(m, managers, records, cols.get("manager"), consts, first)
        if added is None:  # the mapping's error is the cause: not every report's manager too
            m.rejected |= {f"payee:{r.manager}" for r in records if r.manager}
        else:
            records += added
    return records


@attrs.define
class _Active:
    column: str
    end: str | dt.date  # a column, or one date for every inactive payee
    inactive: list[int] = attrs.Factory(list)


def _active_spec(m: Mapping, raw: object, table: Table | None) -> _Active | None:
    """`[roster.active]`: column = the yes/no column; end = the column dating an inactive
    payee's last day, or one TOML date."""
    key = ("roster", "active")
    spec = m.keys(key, raw, ("column", "end"), ("column", "end"))
    if not spec or "column" not in spec or "end" not in spec:
        return None
    column = m.column((*key, "column"), spec["column"], table)
    end = spec["end"]
    if isinstance(end, dt.date) and not isinstance(end, dt.datetime):
        return _Active(column, end) if column else None
    end = m.column((*key, "end"), end, table)
    return _Active(column, end) if column and end else None


def _read_active(m: Mapping, a: _Active, row: Row, pid: str, values: dict) -> bool:
    """An inactive payee's end date, from the column or the fixed date (False: an error)."""
    text, c = m.cell("roster", row, a.column)
    flag = _YES_NO.get(text.lower()) if text else None
    if flag is None:
        m.diags.append(error("D-FIELD", _span(c or row), f"column '{a.column}': "
                             f"{_show(text) if text else 'an empty cell'} is not yes or no",
                             "write true or false (yes, no, 1, 0), or give the column a "
                             "default in [roster.defaults]"))
        return False
    if flag:
        return True
    a.inactive.append(row.line)
    if isinstance(a.end, dt.date):
        values["end"] = a.end
        return True
    text, c = m.cell("roster", row, a.end)
    if not text:
        m.diags.append(error("D-DATE", _span(c or row), f"payee '{pid}' is inactive "
                             f"('{a.column}' is false) but column '{a.end}' is empty: their "
                             "last day is not known", "fill it in, or give [roster.defaults] "
                             f"{a.end}"))
        return False
    try:
        values["end"] = m.parse("roster", a.end, text, parse_date)
    except BadValue as e:
        m.diags.append(error("D-DATE", _span(c or row), f"column '{a.end}': {e.message}",
                             e.hint))
        return False
    return True


_YES_NO = {"yes": True, "true": True, "1": True, "no": False, "false": False, "0": False}


def _managers(m: Mapping, spec: dict, agents: list[PayeeRecord], column: str | None,
              consts: dict, rows: dict[str, Row]) -> list[PayeeRecord] | None:
    """Everyone named in the manager column who has no row of their own becomes a payee (None
    when the settings have an error, which is reported)."""
    key = ("roster", "managers")
    if column is None:
        m.map_error(key, "[roster.managers] needs roster.manager: the column naming each "
                    "payee's manager", 'add manager = "COLUMN" to [roster]')
        return []
    role = m.text((*key, "role"), spec.get("role"))
    if role is None:
        m.map_error(key, "[roster.managers] needs 'role': the role of the managers it adds",
                    'add role = "MANAGER"')
        return None
    inherit = spec.get("inherit", [])
    if not isinstance(inherit, list) or any(x not in ("team", "territory") for x in inherit):
        m.map_error((*key, "inherit"), "'inherit' lists 'team' and/or 'territory'",
                    'write inherit = ["territory"]')
        inherit = []
    own: dict[str, object] = {a: consts[a] for a in ("start", "end") if a in consts}
    for a in ("start", "end", "team", "territory"):
        if a in spec:
            if a in inherit:
                m.map_error((*key, a), f"'{a}' is both fixed and inherited", "keep one of them")
                continue
            own[a] = _fixed_value(m, (*key, a), a, spec[a])
    if "start" not in own:
        m.map_error(key, "the managers need a start date: [roster.fixed] start or "
                    "[roster.managers] start")
        return None
    if any(v is None for v in own.values()):
        return None  # a bad fixed value, reported where it is written
    ids = {a.id for a in agents} | set(rows)
    reports: dict[str, list[PayeeRecord]] = defaultdict(list)
    for a in agents:
        if a.manager:
            reports[a.manager].append(a)
    out = []
    for manager, team in sorted(reports.items()):
        if manager in ids:
            continue
        values = dict(own)
        ok = True
        for attr in inherit:
            seen = Counter(getattr(a, attr) for a in team if getattr(a, attr))
            if len(seen) > 1:
                first = min(team, key=lambda a: a.source.row)
                shown = ", ".join(f"'{v}' ({_plural(n, 'report')})" for v, n in seen.items())
                m.diags.append(error(
                    "D-ROSTER", Span.point(first.source.path, first.source.row, 1),
                    f"the reports of manager '{manager}' are in several "
                    f"{'territories' if attr == 'territory' else 'teams'} ({shown}): "
                    f"[roster.managers] inherit cannot choose one",
                    f"give the managers a fixed {attr}, or their own rows in the roster"))
                ok = False
            elif seen:
                values[attr] = next(iter(seen))
        if not ok:
            continue
        first = min(team, key=lambda a: a.source.row)
        out.append(PayeeRecord(id=manager, role=role, source=first.source, **values))
    if out:
        m.diags.append(note(MAPPED, m.at(*key), f"{_plural(len(out), 'manager')} named in column "
                            f"'{column}' added as payees with role {role}: "
                            f"{', '.join(p.id for p in out)}"))
    return out


def _fixed_value(m: Mapping, key: tuple[str, ...], attr: str, value: object) -> object:
    if attr in ("start", "end"):
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            if date_problem(value):
                m.map_error(key, f"{_name(key)}: the date {value} {date_problem(value)}",
                            "see the limits in docs/data.md")
                return None
            return value
        if isinstance(value, str):
            try:
                return parse_date(value.strip())
            except BadValue as e:
                m.map_error(key, f"{_name(key)}: {e.message}", e.hint)
                return None
        m.map_error(key, f"{_name(key)} must be a date such as 2017-01-01, not {_show(value)}")
        return None
    return m.text(key, value)


def _stage_rules(m: Mapping, spec: object, table: Table | None) -> dict[str, StageRule]:
    key = ("deals", "stages")
    rules: dict[str, StageRule] = {}
    if not isinstance(spec, dict) or not spec:
        m.map_error(key if isinstance(spec, dict) else ("deals",),
                    "[deals.stages] must say what each stage value of the export means",
                    'e.g. Won = { outcome = "booked", date = "close_date" }')
        return rules
    stages = m.plan.stages if m.plan is not None else ()
    for value, raw in spec.items():
        rkey = (*key, value)
        if isinstance(raw, str):
            if raw not in ("open", "lost"):
                m.map_error(rkey, f"stage value '{value}': '{raw}' is not an outcome",
                            'a booking needs its date: write { outcome = "booked", date = '
                            '"COLUMN" }' if raw == "booked" else
                            suggest(raw, OUTCOMES) or 'write "open", "lost", or a table')
                continue
            raw = {"outcome": raw}
        r = m.keys(rkey, raw, ("outcome", "date", "booked", "reached"), ("outcome",))
        if not r:
            continue
        outcome = m.text((*rkey, "outcome"), r.get("outcome"))
        if outcome not in OUTCOMES:
            if outcome is not None:
                m.map_error((*rkey, "outcome"), f"'{outcome}' is not an outcome",
                            suggest(outcome, OUTCOMES) or
                            "outcomes are booked, cancelled, lost and open")
            continue
        rule = StageRule(value, rkey, outcome)
        if "booked" in r:
            if outcome != "cancelled":
                m.map_error((*rkey, "booked"), "'booked' dates the booking of a cancelled deal",
                            'remove it, or write outcome = "cancelled"')
            else:
                rule.booked = m.column((*rkey, "booked"), r["booked"], table)
        elif outcome == "cancelled":
            m.map_error(rkey, f"stage value '{value}' cancels a booked deal but says no column "
                        "dating its booking", 'add booked = "COLUMN" (the close date)')
        if "date" in r:
            if outcome == "open":
                m.map_error((*rkey, "date"), "an open deal has no outcome to date",
                            "remove 'date'; date the stages it reached in 'reached'")
            else:
                rule.date = m.column((*rkey, "date"), r["date"], table)
        elif outcome in ("booked", "cancelled"):
            m.map_error(rkey, f"stage value '{value}' "
                        f"{'books' if outcome == 'booked' else 'cancels'} the deal but says no "
                        "date column",
                        'add date = "COLUMN" (the close date)' if outcome == "booked" else
                        'add date = "COLUMN" (the day of the cancellation)')
        reached = r.get("reached", {})
        if not isinstance(reached, dict):
            m.map_error((*rkey, "reached"), "'reached' is a table: stage name = date column",
                        'write reached = { Engaging = "engage_date" }')
            reached = {}
        for stage, column in reached.items():
            skey = (*rkey, "reached", stage)
            col = m.column(skey, column, table)
            if stages and stage not in stages:
                m.diags.append(error("D-STAGE", m.at(*skey), f"stage '{stage}' is not one of "
                                     f"the plan's stages ({', '.join(map(repr, stages))})",
                                     suggest(stage, stages) or "declare it in the plan: "
                                     f'stages "{stage}"'))
                continue
            if col is not None:
                rule.reached.append((stage, col))
        rules[value] = rule
    return rules


@attrs.define
class _Tally:
    rows: list[int] = attrs.Factory(list)
    booked: int = 0
    lost: int = 0
    open: int = 0
    cancelled: int = 0
    history: int = 0  # deals whose bookings come from the history file
    reached: Counter = attrs.Factory(Counter)
    undated: dict = attrs.Factory(lambda: defaultdict(list))  # stage -> rows without a date


def _deals(m: Mapping, payees: set[str]) -> list[Event]:
    key = ("deals",)
    if "deals" not in m.doc:  # reported as a missing table: not again as each missing key
        return []
    spec = m.keys(key, m.doc["deals"], DEAL_KEYS, ("file", "id", "owner", "stage", "stages"))
    if not spec:
        return []
    table = m.load_table("deals", key, spec)
    id_col = m.column((*key, "id"), spec.get("id"), table)
    owner_col = m.column((*key, "owner"), spec.get("owner"), table)
    stage_col = m.column((*key, "stage"), spec.get("stage"), table)
    amount_col = m.column((*key, "amount"), spec["amount"], table) if "amount" in spec else None
    term_col = m.column((*key, "term"), spec["term"], table) if "term" in spec else None
    currency_col = fixed_currency = None
    if "currency" in spec and "fixed_currency" in spec:
        m.map_error((*key, "fixed_currency"), "both 'currency' and 'fixed_currency' are given",
                    "keep one: a column of currencies, or one currency for every amount")
    elif "currency" in spec:
        currency_col = m.column((*key, "currency"), spec["currency"], table)
    elif "fixed_currency" in spec:
        raw = m.text((*key, "fixed_currency"), spec["fixed_currency"])
        try:
            fixed_currency = parse_currency(raw) if raw is not None else None
        except BadValue as e:
            m.map_error((*key, "fixed_currency"), f"fixed_currency: {e.message}", e.hint)
    rules = _stage_rules(m, spec.get("stages"), table)
    if any(r.outcome in ("booked", "cancelled") for r in rules.values()):
        if "amount" not in spec:
            m.map_error(key, "bookings need an amount: [deals] has no 'amount' column",
                        'add amount = "COLUMN"')
        if "currency" not in spec and "fixed_currency" not in spec:
            m.map_error(key, "amounts need a currency: [deals] has neither 'currency' (a column) "
                        "nor 'fixed_currency'", 'the export has no currency? add fixed_currency '
                        '= "USD"')
    children = _children_spec(m, spec.get("children", {}))
    fields = m.read_fields("deal", (*key, "fields"), spec.get("fields", {}), table)
    m.check_lookups(fields)
    m.check_children(fields, children)
    splits_spec = _splits_spec(m, spec, table)
    history_spec = _history_spec(m, spec.get("history")) if "history" in spec else None
    if table is None or m.blocked():
        return []
    m.rejected |= {f"deal:{deal}" for deal in m.broken("deals", id_col)}
    splits = _read_splits(m, splits_spec, payees) if isinstance(splits_spec, _Child) else {}
    history = _read_history(m, history_spec, rules) if history_spec is not None else {}
    for child in children.values():
        child.by_deal = _child_rows(m, child)
    m.children = children
    reader = RowFields(m, "deals", fields)
    tallies: dict[str, _Tally] = defaultdict(_Tally)
    unmapped: dict[str, list[tuple[int, Span]]] = defaultdict(list)
    unknown_owner: dict[str, list[tuple[int, Span]]] = defaultdict(list)
    seen: dict[str, Row] = {}
    events: list[Event] = []
    deals_with_history: list[str] = []
    for row in table.rows:
        deal, id_cell = m.cell("deals", row, id_col)
        if not deal:
            m.diags.append(error("D-COLUMN", id_cell.span if id_cell else row.span,
                                 f"column '{id_col}' is empty: every deal needs an id",
                                 "fill it in or remove the row"))
            continue
        if deal in seen:
            m.diags.append(error("D-DUPLICATE", id_cell.span, f"deal '{deal}' appears twice",
                                 "one row per deal",
                                 [Related(seen[deal].cells[id_col].span, "first here")]))
            m.rejected.add(f"deal:{deal}")
            continue
        seen[deal] = row
        stage, stage_cell = m.cell("deals", row, stage_col)
        rule = rules.get(stage)
        if rule is None:
            unmapped[stage].append((row.line, stage_cell.span if stage_cell else row.span))
            continue
        tally = tallies[stage]
        tally.rows.append(row.line)
        ok = True
        if deal in history and history[deal] is None:  # its history has an error
            m.rejected.add(f"deal:{deal}")
            continue
        timeline = history.get(deal)

        def date(column: str, why: str | None) -> dt.date | None:
            nonlocal ok
            text, c = m.cell("deals", row, column)
            if not text:
                if why is not None:
                    m.diags.append(error("D-DATE", c.span if c else row.span,
                                         f"column '{column}' is empty: {why}",
                                         "fill in the date, or map this stage value to another "
                                         "outcome"))
                    ok = False
                return None
            try:
                return m.parse("deals", column, text, parse_date)
            except BadValue as e:
                m.diags.append(error("D-DATE", _span(c or row), f"column '{column}': "
                                     f"{e.message}", e.hint))
                ok = False
                return None

        reached = []
        for name, column in rule.reached:
            day = date(column, None)
            if day is None and ok:
                tally.undated[name].append(row.line)
            elif day is not None:
                reached.append((name, day))
        outcome_day = booked_day = None
        books = rule.outcome in ("booked", "cancelled") if timeline is None else \
            timeline.books
        if timeline is None and rule.outcome != "open" and rule.date is not None:
            outcome_day = date(rule.date, f"a '{stage}' deal is {rule.outcome}, dated by "
                               f"'{rule.date}'" if rule.outcome in ("booked", "cancelled")
                               else None)
        if timeline is None and rule.outcome == "cancelled" and rule.booked is not None:
            booked_day = date(rule.booked, f"a '{stage}' deal was booked before it was "
                              f"cancelled, dated by '{rule.booked}'")
        amount = currency = term = None
        if books:
            text, c = m.cell("deals", row, amount_col)
            if not text:
                if timeline is None or timeline.needs_amount:
                    m.diags.append(error("D-AMOUNT", c.span if c else row.span,
                                         f"column '{amount_col}' is empty: a '{stage}' deal is "
                                         "booked and needs its amount" if timeline is None else
                                         f"column '{amount_col}' is empty: deal '{deal}' is "
                                         "booked in its history and needs its amount",
                                         "fill in the amount"))
                    ok = False
            else:
                try:
                    amount = m.parse("deals", amount_col, text, parse_amount)
                except BadValue as e:
                    m.diags.append(error("D-AMOUNT", _span(c or row), f"column '{amount_col}': "
                                         f"{e.message}", amount_hint(e, amount_col, m.formats.get(
                                             "deals", {}).get(amount_col), fixed_currency)))
                    ok = False
            currency = fixed_currency
            if currency_col is not None:
                text, c = m.cell("deals", row, currency_col)
                try:
                    currency = parse_currency(text) if text else None
                except BadValue as e:
                    m.diags.append(error("D-CURRENCY", c.span, f"column '{currency_col}': "
                                         f"{e.message}", e.hint))
                    ok = False
                if not text:
                    m.diags.append(error("D-CURRENCY", c.span if c else row.span,
                                         f"column '{currency_col}' is empty: the amount needs "
                                         "its currency", "fill it in"))
                    ok = False
            if term_col is not None:
                text, c = m.cell("deals", row, term_col)
                if text:
                    try:
                        term = m.parse("deals", term_col, text,
                                       lambda t: parse_count(t, "number of months"))
                    except BadValue as e:
                        m.diags.append(error("D-NUMBER", c.span, f"column '{term_col}': "
                                             f"{e.message}", e.hint))
                        ok = False
        owner, owner_cell = m.cell("deals", row, owner_col)
        makes_events = books or reached
        if makes_events:
            if not owner:
                m.diags.append(error("D-COLUMN", owner_cell.span if owner_cell else row.span,
                                     f"column '{owner_col}' is empty: the deal's events need "
                                     "their owner", "fill in the owner"))
                ok = False
            elif owner not in payees:
                if f"payee:{owner}" not in m.rejected:
                    unknown_owner[owner].append((row.line, owner_cell.span))
                ok = False
        fields, fields_ok = reader.read(row, currency or (m.plan.currency if m.plan else None),
                                        deal)
        shares = splits.get(deal, ())
        if isinstance(splits_spec, _SplitCell) and books:
            shares = _split_column(m, row, splits_spec, payees)
        if not (ok and fields_ok) or shares is None:  # None: the deal's splits are in error
            m.rejected.add(f"deal:{deal}")
            continue
        source = Source(table.path, row.line)
        for name, day in reached:
            tally.reached[name] += 1
            if outcome_day is not None and day > outcome_day:
                m.diags.append(warning("D-DATE", row.span, f"deal '{deal}' reaches '{name}' on "
                                       f"{day}, after it is {rule.outcome} on {outcome_day}",
                                       "check the dates"))
            events.append(Event(id=f"{deal}:{name}", deal=deal, date=day, kind="stage",
                                owner=owner, subject=name, fields=fields, source=source))
        if timeline is not None:
            tally.history += 1
            deals_with_history.append(deal)
            events += timeline.events(deal, owner, amount, currency, term, shares, fields)
            timeline.check_current(m, rule, row, deal)
        elif rule.outcome in ("booked", "cancelled"):
            day = booked_day if rule.outcome == "cancelled" else outcome_day
            events.append(Event(id=f"{deal}:booked", deal=deal, date=day, kind="booked",
                                amount=amount, currency=currency, owner=owner, splits=shares,
                                term_months=term, fields=fields, source=source))
            if rule.outcome == "cancelled":
                tally.cancelled += 1
                events.append(Event(id=f"{deal}:cancelled", deal=deal, date=outcome_day,
                                    kind="cancelled", owner=owner, fields=fields,
                                    source=source))
            else:
                tally.booked += 1
        elif rule.outcome == "lost":
            tally.lost += 1
        else:
            tally.open += 1
    for value, places in unmapped.items():
        rows = [r for r, _ in places]
        shown = f"stage value '{value}'" if value else "an empty stage value"
        m.diags.append(error(
            "D-STAGE", places[0][1], f"{shown} of column '{stage_col}' is not "
            f"mapped: {_plural(len(rows), 'row')} ({_lines(rows)})",
            (suggest(value, rules) + " If not, " if suggest(value, rules) else "") +
            f'add it to [deals.stages]: "{value}" = {{ outcome = '
            + " | ".join(f'"{o}"' for o in OUTCOMES) + ", ... }"))
    for owner, places in unknown_owner.items():
        rows = [r for r, _ in places]
        m.diags.append(error(
            "D-PAYEE", places[0][1], f"the owner '{owner}' is not in the roster: "
            f"{_plural(len(rows), 'deal')} ({_lines(rows)})",
            suggest(owner, payees) or "add the payee to the roster, or check the name"))
    reader.report(key, "deals")
    _report_stages(m, rules, tallies, history_spec)
    if isinstance(splits_spec, _Child):
        _report_splits(m, splits_spec, splits, seen)
    elif splits_spec is None and _plan_splits_as_recorded(m):
        m.map_error(key, "the plan credits 'split as recorded' but the mapping reads no splits: "
                    "every deal would go 100% to its owner",
                    'add [deals.splits] (a file of splits, one row per payee and deal) or '
                    'splits = "COLUMN" (payee:percent;... in the deals file)')
    if history_spec is not None:
        _report_history(m, history_spec, history, seen, deals_with_history)
    for name, child in children.items():
        _report_child(m, child, child.by_deal, seen, f"child table '{name}'")
        joined = sum(1 for d in seen if d in child.by_deal)
        m.diags.append(note(MAPPED, m.at(*child.key), f"child table '{name}': "
                            f"{_plural(sum(len(r) for r in child.by_deal.values()), 'row')} of "
                            f"{child.table.path} joined to {_plural(joined, 'deal')}; "
                            f"{_plural(len(seen) - joined, 'deal')} without a row (their totals "
                            "are 0)"))
    return events


# ------------------------------------------------------------------------------ child tables


@attrs.define
class _Child:
    """A table joined to the deals one-to-many by a deal id column (splits, history)."""

    section: str  # deals.splits, deals.history
    key: tuple[str, ...]
    table: Table
    deal: str  # the column holding the deal id
    columns: dict[str, str]  # role (payee, share, stage, date, amount) -> column
    where: dict[str, tuple[str, ...]]  # column -> values kept
    left_out: int = 0
    by_deal: dict[str, list[Row]] = attrs.Factory(dict)
    counts: Counter = attrs.Factory(Counter)  # history: rows per stage value
    unchanged: int = 0  # history: rows that give no event
    # Deals with a row left out before its cells were read: their rows here are incomplete.
    broken: set[str] = attrs.Factory(set)


def _child_spec(m: Mapping, key: tuple[str, ...], raw: object, roles: tuple[str, ...],
                optional: tuple[str, ...] = ()) -> _Child | None:
    section = ".".join(key)
    spec = m.keys(key, raw, ("file", "deal", *roles, *optional, "where", *TABLE_KEYS),
                  ("file", "deal", *roles))
    if not spec or any(k not in spec for k in ("file", "deal", *roles)):
        return None
    table = m.load_table(section, key, spec)
    deal = m.column((*key, "deal"), spec["deal"], table)
    columns = {r: m.column((*key, r), spec[r], table) for r in (*roles, *optional) if r in spec}
    where: dict[str, tuple[str, ...]] = {}
    raw_where = spec.get("where", {})
    if not isinstance(raw_where, dict):
        m.map_error((*key, "where"), "'where' is a table: COLUMN = \"value\" or [\"a\", \"b\"]",
                    'write where = { SplitTypeId = "Revenue" }')
        raw_where = {}
    for col, values in raw_where.items():
        wkey = (*key, "where", col)
        if m.column(wkey, col, table) is None:
            continue
        values = [values] if isinstance(values, str) else values
        if not isinstance(values, list) or not values or not all(
                isinstance(v, str) for v in values):
            m.map_error(wkey, f"'where' keeps rows whose column '{col}' has one of the values "
                        "given: a text or a list of texts", f'write {col} = "value"')
            continue
        where[col] = tuple(values)
    if table is None or deal is None or any(c is None for c in columns.values()):
        return None
    return _Child(section, key, table, deal, columns, where)


def _child_rows(m: Mapping, child: _Child) -> dict[str, list[Row]]:
    """The child table's rows by deal id, in file order, after its `where`."""
    child.broken = m.broken(child.section, child.deal)
    out: dict[str, list[Row]] = defaultdict(list)
    for row in child.table.rows:
        if any(m.cell(child.section, row, col)[0] not in values
               for col, values in child.where.items()):
            child.left_out += 1
            continue
        deal, cell = m.cell(child.section, row, child.deal)
        if not deal:
            m.diags.append(error("D-COLUMN", _span(cell or row), f"column '{child.deal}' is "
                                 "empty: the row belongs to no deal", "fill in the deal id"))
            continue
        out[deal].append(row)
    return out


def _report_child(m: Mapping, child: _Child, by_deal: dict, deals: dict[str, Row],
                  what: str) -> None:
    if child.where:
        shown = " and ".join(f"'{c}' is " + " or ".join(f"'{v}'" for v in vs)
                             for c, vs in child.where.items())
        m.diags.append(note(MAPPED, m.at(*child.key, "where"), f"{what}: "
                            f"{_plural(child.left_out, 'row')} of {child.table.path} left out "
                            f"(only rows where {shown} are read)"))
    strays = sorted((rows[0].line, deal) for deal, rows in by_deal.items()
                    if deal not in deals and f"deal:{deal}" not in m.rejected)
    if strays:
        line, deal = strays[0]
        row = next(r for r in by_deal[deal] if r.line == line)
        m.diags.append(warning(
            "D-ORPHAN", _span(row.cells.get(child.deal) or row),
            f"{_plural(len(strays), 'deal')} of {child.table.path} "
            f"{'is' if len(strays) == 1 else 'are'} not in the deals file: "
            f"{', '.join(repr(d) for _, d in strays[:SHOW_ROWS])}"
            + (f" and {len(strays) - SHOW_ROWS:,} more" if len(strays) > SHOW_ROWS else "")
            + f" ({what} of them are not read)", "check the deal ids, or the deals file"))


# ------------------------------------------------------------------------------ splits


def _children_spec(m: Mapping, raw: object) -> dict[str, _Child]:
    """`[deals.children.NAME]`: tables joined to the deals one-to-many (line items, team
    members), which child fields add up."""
    if not isinstance(raw, dict):
        m.map_error(("deals", "children"), "'deals.children' must be a table of tables",
                    "write [deals.children.NAME] with file and deal")
        return {}
    out = {}
    for name, spec in raw.items():
        child = _child_spec(m, ("deals", "children", name), spec, ())
        if child is not None:
            out[name] = child
    return out


@attrs.frozen
class _SplitCell:
    """Splits written in one cell of the deals file: `ana:60;bob:40` (no separator), or
    `Ana Ames 60% / Bob Burr 40%` (each payee followed by its share, between `separator`s)."""

    column: str
    separator: str | None = None


def _splits_spec(m: Mapping, spec: dict, table: Table | None) -> _Child | _SplitCell | str | None:
    """`splits = "COLUMN"` (payee:percent;... in the deals file), `splits = { column = ...,
    separator = ... }` (payee and share, then the next, in the deals file) or [deals.splits]
    (a file, one row per payee and deal). '' when in error."""
    if "splits" not in spec:
        return None
    raw = spec["splits"]
    key = ("deals", "splits")
    if isinstance(raw, str):
        column = m.column(key, raw, table)
        return _SplitCell(column) if column else ""
    if isinstance(raw, dict) and "column" in raw and "file" not in raw:
        written = m.keys(key, raw, ("column", "separator"), ("column", "separator"),
                         " written in a column")
        column = m.column((*key, "column"), written.get("column"), table)
        separator = m.text((*key, "separator"), written.get("separator"), "a text")
        if separator is not None and (any(c.isdigit() for c in separator) or "%" in separator):
            m.map_error((*key, "separator"), f"the separator {separator!r} would cut into the "
                        "shares", 'write the text between two payees, e.g. separator = "/"')
            separator = None
        return _SplitCell(column, separator) if column and separator else ""
    return _child_spec(m, key, raw, ("payee", "share")) or ""


# A payee and its share: `Ana Ames 60%`, `bob 40 %`; the share's number is the last thing.
_WRITTEN_SHARE = re.compile(r"(.*?)\s*(\d[\d.,]*)\s*(%?)")


def _written_pairs(text: str, separator: str) -> list[tuple[str, str]]:
    """`Ana Ames 60% / Bob Burr 40%` -> [("Ana Ames", "60%"), ("Bob Burr", "40%")]."""
    pairs = []
    example = f"Ana Ames 60% {separator} Bob Burr 40%"
    for piece in text.split(separator):
        piece = piece.strip()
        if not piece:
            raise BadValue(f"'{text}' has an empty part between two '{separator}'",
                           f"write each payee followed by its share, e.g. {example}")
        found = _WRITTEN_SHARE.fullmatch(piece)
        if found is None or not found.group(1):
            raise BadValue(f"'{piece}' is not a payee followed by a share",
                           f"write each payee followed by its share, e.g. {example}")
        if not found.group(3):
            raise BadValue(f"the share of '{found.group(1)}' ('{found.group(2)}') has no % sign",
                           f"write it as a percentage: {found.group(1)} {found.group(2)}%")
        pairs.append((found.group(1), found.group(2) + "%"))
    return pairs


def _split_column(m: Mapping, row: Row, spec: _SplitCell, payees: set[str]
                  ) -> tuple[tuple[str, Decimal], ...] | None:
    """A deal's splits written in one cell of the deals file."""
    column = spec.column
    text, cell = m.cell("deals", row, column)
    if not text:
        return ()

    def pairs(text: str) -> list[tuple[str, str]]:
        if spec.separator is None:
            return split_text_pairs(text)
        # A CRM writes people by name: a payee is its id or, failing that, its display name.
        return [(p if p in payees else m.payee_names.get(p, p), share)
                for p, share in _written_pairs(text, spec.separator)]

    try:
        shares = m.parse("deals", column, text, lambda t: parse_splits(pairs(t)))
    except BadValue as e:
        m.diags.append(error("D-SPLITS", _span(cell or row), f"column '{column}': {e.message}",
                             e.hint))
        return None
    for payee, _ in shares:
        if payee in m.shared_names:  # in the roster, but not as one payee
            ids = m.shared_names[payee]
            m.diags.append(error("D-PAYEE", _span(cell), f"split payee '{payee}' names "
                                 f"{len(ids)} payees of the roster ({', '.join(ids)})",
                                 "write the payee's id instead of the name"))
            return None
        if payee not in payees and f"payee:{payee}" not in m.rejected:
            m.diags.append(error("D-PAYEE", _span(cell), f"split payee '{payee}' is not in the "
                                 "roster", suggest(payee, payees | set(m.payee_names))
                                 or "check the id"))
            return None
    return shares


def _plan_splits_as_recorded(m: Mapping) -> bool:
    return m.plan is not None and any(getattr(c, "split", None) == "recorded"
                                      for c in getattr(m.plan, "credits", ()))


def _read_splits(m: Mapping, child: _Child, payees: set[str]
                 ) -> dict[str, tuple[tuple[str, Decimal], ...] | None]:
    """Each deal's recorded split from the splits file (None: a deal whose splits are in
    error, reported at its rows)."""
    by_deal = _child_rows(m, child)
    child.by_deal = by_deal
    out: dict[str, tuple[tuple[str, Decimal], ...] | None] = {}
    payee_col, share_col = child.columns["payee"], child.columns["share"]
    unknown: dict[str, list[tuple[int, Span]]] = defaultdict(list)
    # A deal with a split row left out has splits in error, reported at that row: its total
    # would be short for no reason of its own.
    out.update((deal, None) for deal in child.broken)
    for deal, rows in by_deal.items():
        if deal in child.broken:
            continue
        shares: dict[str, Decimal] = {}
        ok = True
        for row in rows:
            payee, pcell = m.cell(child.section, row, payee_col)
            text, scell = m.cell(child.section, row, share_col)
            if not payee:
                m.diags.append(error("D-SPLITS", _span(pcell or row), f"column '{payee_col}' is "
                                     f"empty: a split of deal '{deal}' names nobody",
                                     "fill in the payee"))
                ok = False
                continue
            if payee not in payees:
                if f"payee:{payee}" not in m.rejected:
                    unknown[payee].append((row.line, _span(pcell)))
                ok = False
                continue
            try:
                share = m.parse(child.section, share_col, text,
                                lambda t: parse_split_share(payee, t))
            except BadValue as e:
                m.diags.append(error("D-SPLITS", _span(scell or row), f"column '{share_col}': "
                                     f"{e.message}", e.hint))
                ok = False
                continue
            if payee in shares:
                m.diags.append(error("D-SPLITS", _span(pcell), f"'{payee}' has two splits of "
                                     f"deal '{deal}'", "give each payee one share per deal; "
                                     "overlay splits are not part of the 100%: keep them out "
                                     "with where = { ... }"))
                ok = False
                continue
            shares[payee] = share
        total = sum(shares.values(), Decimal(0))
        if ok and total != 1:
            lines = [r.line for r in rows]
            first = rows[0]
            m.diags.append(error(
                "D-SPLITS", _span(first.cells.get(share_col) or first),
                f"the splits of deal '{deal}' total {total.scaleb(2).normalize():f}%, not 100% "
                f"({_lines(lines)})", "the shares of a deal must total exactly 100%"
                + ("; overlay splits do not: keep them out with where = { ... }"
                   if total > 1 else "")))
            ok = False
        out[deal] = tuple(sorted((p, s.normalize()) for p, s in shares.items())) if ok \
            else None
    for payee, places in unknown.items():
        rows = [r for r, _ in places]
        m.diags.append(error(
            "D-PAYEE", places[0][1], f"split payee '{payee}' is not in the roster: "
            f"{_plural(len(rows), 'row')} of {child.table.path} ({_lines(rows)})",
            suggest(payee, payees) or "add the payee to the roster, or check the id"))
    return out


def _report_splits(m: Mapping, child: _Child, splits: dict, deals: dict[str, Row]) -> None:
    by_deal = child.by_deal
    _report_child(m, child, by_deal, deals, "the splits")
    read = [d for d in deals if d in splits and splits[d] is not None]
    shared = sum(1 for d in read if len(splits[d]) > 1)
    without = [deals[d].line for d in deals if d not in splits]
    m.diags.append(note(MAPPED, m.at(*child.key), f"splits of {_plural(len(read), 'deal')} "
                        f"read from {child.table.path}, {shared:,} shared by several payees"
                        + (f"; {_plural(len(without), 'deal')} without a split row "
                           f"({_lines(without)}) go 100% to their owner" if without else "")))


# ------------------------------------------------------------------------------ history


@attrs.define
class _Step:
    kind: str  # booked, amended, cancelled
    date: dt.date
    amount: Decimal | None
    row: Row
    why: str = ""  # a cancellation: re-opened, lost, cancelled


@attrs.define
class _Timeline:
    """What one deal's stage history says happened: bookings, amendments, cancellations."""

    path: str
    steps: list[_Step]
    last: tuple[str, str, dt.date]  # the last row's stage value, outcome and date

    @property
    def books(self) -> bool:
        return any(s.kind == "booked" for s in self.steps)

    @property
    def needs_amount(self) -> bool:
        return any(s.kind == "booked" and s.amount is None for s in self.steps)

    def events(self, deal: str, owner: str, amount: Decimal | None, currency: str | None,
               term: int | None, shares: tuple, fields: tuple) -> list[Event]:
        """A deal booked again after a cancellation is a new booking of deal `ID#2` (a deal
        is booked once); its first booking stays cancelled."""
        out: list[Event] = []
        n, did, amended = 0, deal, 0
        for s in self.steps:
            source = Source(self.path, s.row.line)
            if s.kind == "booked":
                n += 1
                did = deal if n == 1 else f"{deal}#{n}"
                out.append(Event(id=f"{did}:booked", deal=did, date=s.date, kind="booked",
                                 amount=s.amount if s.amount is not None else amount,
                                 currency=currency, owner=owner, splits=shares,
                                 term_months=term, fields=fields, source=source))
            elif s.kind == "amended":
                amended += 1
                out.append(Event(id=f"{did}:amended:{amended}", deal=did, date=s.date,
                                 kind="amended", amount=s.amount, currency=currency,
                                 owner=owner, fields=fields, source=source))
            else:
                out.append(Event(id=f"{did}:cancelled", deal=did, date=s.date,
                                 kind="cancelled", owner=owner, fields=fields, source=source))
        return out

    def check_current(self, m: Mapping, rule: StageRule, row: Row, deal: str) -> None:
        booked_now = rule.outcome == "booked"
        ends_booked = bool(self.steps) and self.steps[-1].kind != "cancelled"
        if booked_now != ends_booked:
            value, outcome, day = self.last
            m.diags.append(warning(
                MAPPED, row.span, f"deal '{deal}' is '{rule.value}' ({rule.outcome}) in the "
                f"deals file, but its history ends with '{value}' ({outcome}) on {day}: the "
                "history is used", "check that the history export is as recent as the deals "
                "export"))


def _history_spec(m: Mapping, raw: object) -> _Child | None:
    return _child_spec(m, ("deals", "history"), raw, ("stage", "date"), ("amount",))


def _read_history(m: Mapping, child: _Child, rules: dict[str, StageRule]
                  ) -> dict[str, _Timeline | None]:
    """Each deal's timeline from its history rows (None: a deal whose history has an error,
    reported at its cell)."""
    by_deal = _child_rows(m, child)
    child.by_deal = by_deal
    stage_col, date_col = child.columns["stage"], child.columns["date"]
    amount_col = child.columns.get("amount")
    unmapped: dict[str, list[tuple[int, Span]]] = defaultdict(list)
    # A deal with a history row left out has a history in error, reported at that row: read
    # without it, its timeline would be wrong.
    out: dict[str, _Timeline | None] = dict.fromkeys(child.broken)
    for deal, rows in by_deal.items():
        if deal in child.broken:
            continue
        ok = True
        dated: list[tuple[dt.date, int, Row, StageRule, Decimal | None]] = []
        for row in rows:
            value, scell = m.cell(child.section, row, stage_col)
            rule = rules.get(value)
            if rule is None:
                unmapped[value].append((row.line, _span(scell or row)))
                ok = False
                continue
            child.counts[value] += 1
            text, dcell = m.cell(child.section, row, date_col)
            try:
                if not text:
                    raise BadValue("the row is not dated", "fill in the date of the change")
                day = m.parse(child.section, date_col, text, parse_date)
            except BadValue as e:
                m.diags.append(error("D-DATE", _span(dcell or row), f"column '{date_col}': "
                                     f"{e.message}", e.hint))
                ok = False
                continue
            amount = None
            if amount_col is not None and rule.outcome == "booked":
                text, acell = m.cell(child.section, row, amount_col)
                if text:
                    try:
                        amount = m.parse(child.section, amount_col, text, parse_amount)
                    except BadValue as e:
                        m.diags.append(error("D-AMOUNT", _span(acell or row), f"column "
                                             f"'{amount_col}': {e.message}", e.hint))
                        ok = False
                        continue
            dated.append((day, row.line, row, rule, amount))
        if not ok:
            out[deal] = None
            continue
        dated.sort(key=lambda x: (x[0], x[1]))
        steps: list[_Step] = []
        state, current = None, None
        for day, _, row, rule, amount in dated:
            if rule.outcome == "booked":
                if state != "booked":
                    steps.append(_Step("booked", day, amount, row))
                    current = amount
                elif amount is not None and current is not None and amount != current:
                    steps.append(_Step("amended", day, amount, row))
                    current = amount
                else:
                    child.unchanged += 1
            elif state == "booked":
                why = {"open": "re-opened", "lost": "lost"}.get(rule.outcome, "cancelled")
                steps.append(_Step("cancelled", day, None, row, why))
            else:
                child.unchanged += 1
            state = rule.outcome
        last = dated[-1]
        out[deal] = _Timeline(child.table.path, steps, (last[3].value, last[3].outcome,
                                                         last[0]))
    for value, places in unmapped.items():
        rows = [r for r, _ in places]
        shown = f"stage value '{value}'" if value else "an empty stage value"
        m.diags.append(error(
            "D-STAGE", places[0][1], f"{shown} of column '{stage_col}' of "
            f"{child.table.path} is not mapped: {_plural(len(rows), 'row')} ({_lines(rows)})",
            (suggest(value, rules) + "; or " if suggest(value, rules) else "") +
            f'add it to [deals.stages]: "{value}" = {{ outcome = ... }}'))
    return out


def _report_history(m: Mapping, child: _Child, history: dict, deals: dict[str, Row],
                    used: list[str]) -> None:
    _report_child(m, child, child.by_deal, deals, "the history")
    steps = [s for d in used if history.get(d) for s in history[d].steps]
    kinds = Counter(s.kind for s in steps)
    whys = Counter(s.why for s in steps if s.kind == "cancelled")
    rebooked = sum(1 for d in used
                   if sum(s.kind == "booked" for s in history[d].steps) > 1)
    parts = [f"{_plural(kinds['booked'], 'booking')}",
             f"{_plural(kinds['amended'], 'amendment')} (a booked amount changed)",
             f"{_plural(kinds['cancelled'], 'cancellation')}"
             + (" (" + ", ".join(f"{n:,} {why}" for why, n in sorted(whys.items())) + ")"
                if whys else "")]
    if rebooked:
        parts.append(f"{_plural(rebooked, 'deal')} booked again after a cancellation, as "
                     "deal ID#2 (a deal is booked once)")
    without = [deals[d].line for d in deals if d not in history]
    m.diags.append(note(
        MAPPED, m.at(*child.key), f"the history of {_plural(len(used), 'deal')} read from "
        f"{child.table.path}: " + "; ".join(parts) + f"; {_plural(child.unchanged, 'row')} "
        "change neither the outcome nor the booked amount (no event)"
        + (f"; {_plural(len(without), 'deal')} without history ({_lines(without)}) are read "
           "from their current stage" if without else "")))


def _report_stages(m: Mapping, rules: dict[str, StageRule], tallies: dict[str, _Tally],
                   history: _Child | None) -> None:
    for value, rule in rules.items():
        t = tallies.get(value)
        in_history = history.counts[value] if history is not None else 0
        if t is None:
            if in_history:
                m.diags.append(note(MAPPED, m.at(*rule.key), f"stage value '{value}' appears "
                                    f"only in the history ({_plural(in_history, 'row')})"))
            else:
                m.diags.append(warning(MAPPED, m.at(*rule.key), f"stage value '{value}' "
                                       "appears in no row of the export", "check its spelling"))
            continue
        parts = []
        if rule.outcome == "booked" and (t.booked or not t.history):
            parts.append(f"{_plural(t.booked, 'booking')} dated by '{rule.date}'")
        elif rule.outcome == "cancelled" and (t.cancelled or not t.history):
            parts.append(f"{_plural(t.cancelled, 'booking')} dated by '{rule.booked}', each "
                         f"cancelled on its '{rule.date}'")
        elif rule.outcome == "lost" and (t.lost or not t.history):
            parts.append(f"{_plural(t.lost, 'lost deal')}: no booking and no event for the loss "
                         "(a lost deal earns nothing)")
        elif rule.outcome == "open" and (t.open or not t.history):
            parts.append(f"{_plural(t.open, 'open deal')}: no booking")
        if t.history:
            parts.append(f"{_plural(t.history, 'deal')} read from "
                         f"{'its' if t.history == 1 else 'their'} history")
        for name, column in rule.reached:
            parts.append(f"{t.reached[name]:,} reached '{name}' (dated by '{column}')")
        m.diags.append(note(MAPPED, m.at(*rule.key), f"stage value '{value}' "
                            f"({_plural(len(t.rows), 'row')}): " + "; ".join(parts)))
        for name, rows in t.undated.items():
            column = dict(rule.reached)[name]
            m.diags.append(note(MAPPED, m.at(*rule.key, "reached", name),
                                f"{_plural(len(rows), 'deal')} with stage value '{value}' "
                                f"{'has' if len(rows) == 1 else 'have'} no '{column}' "
                                f"({_lines(rows)}): stage '{name}' is not recorded for "
                                f"{'it' if len(rows) == 1 else 'them'} (an undated stage "
                                "cannot be placed in a period)"))


def _report_aliases(m: Mapping) -> None:
    for section, columns in m.aliases.items():
        key = tuple(section.split("."))
        for column, table in columns.items():
            for raw, meant in table.items():
                rows = m.alias_rows.get((section, column, raw), [])
                akey = (*key, "values", column, raw)
                path = m.tables[section].path
                if not rows:
                    # rows the mapping reads nothing from (lost deals, rows left out by
                    # `where`) still show that the alias is spelt right
                    unread = [r.line for r in m.tables[section].rows
                              if (c := r.get(column)) is not None and c.text == raw]
                    if unread:
                        m.diags.append(note(ALIAS, m.at(*akey), f"column '{column}': '{raw}' "
                                            f"occurs in {_plural(len(unread), 'row')} of {path} "
                                            f"({_lines(unread)}), none of which gives a record "
                                            "that reads this column"))
                        continue
                    m.diags.append(warning(ALIAS, m.at(*akey), f"the alias '{raw}' → '{meant}' "
                                           f"of column '{column}' never applies",
                                           "remove it, or check its spelling"))
                    continue
                m.diags.append(note(ALIAS, m.at(*akey), f"column '{column}': '{raw}' read as "
                                    f"'{meant}' in {_plural(len(rows), 'row')} of {path} "
                                    f"({_lines(sorted(rows))})"))


def _report_defaults(m: Mapping) -> None:
    for (section, column), rows in sorted(m.default_rows.items()):
        key = (*section.split("."), "defaults", column)
        m.diags.append(note(MAPPED, m.at(*key), f"column '{column}' is empty in "
                            f"{_plural(len(rows), 'row')} of {m.tables[section].path} "
                            f"({_lines(sorted(rows))}): '{m.defaults[section][column]}' is "
                            "used"))


def _territories(m: Mapping) -> list[TerritoryIndex]:
    if "territories" not in m.doc:
        return []
    key = ("territories",)
    spec = m.keys(key, m.doc["territories"], ("index", "file"))
    if "index" in spec and "file" in spec:
        m.map_error(key, "[territories] has both 'index' and 'file'", "keep one of them")
        return []
    if "file" in spec:
        return _standard(m, key, spec)
    out = []
    index = spec.get("index", {})
    if not isinstance(index, dict):
        m.map_error((*key, "index"), "'territories.index' is a table: TERRITORY = \"110%\"")
        return []
    for name, raw in index.items():
        ikey = (*key, "index", name)
        try:
            if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
                raise BadValue(f"{_show(raw)} is not an index", 'write "110%" or 1.10')
            text = raw if isinstance(raw, str) else repr(raw)
            value = parse_index(text.strip())
        except BadValue as e:
            m.map_error(ikey, f"territory '{name}': {e.message}", e.hint)
            # reported here only, as a territories file's row: its payees are not told it has
            # no index
            m.rejected.add(f"territory:{name}")
            continue
        span = m.at(*ikey)
        out.append(TerritoryIndex(territory=name, index=value,
                                  source=Source(m.path, span.line)))
    return out


def _standard(m: Mapping, key: tuple[str, ...], spec: dict) -> list:
    """The records of a `[quotas]`, `[fx]` or `[territories]` file of docs/data.md (`key`
    names which), read by the general loader; the keys of its rows left out go to the checks
    across tables, as in load_dataset."""
    spec = m.keys(key, spec, ("file",), ("file",))
    file = m.text((*key, "file"), spec.get("file"), "a file path")
    if file is None:
        return []
    path = os.path.normpath(os.path.join(m.base, file))
    m.files.append(path)
    loaded = load_keyed(key[0], path)
    m.rejected |= loaded.rejected
    for d in loaded.diags:
        if d.code == "D-FILE":
            m.diags.append(error("D-FILE", m.at(*key, "file"), f"{_name((*key, 'file'))}: "
                                 f"{d.message}", "paths in a mapping are relative to the "
                                 "mapping file"))
        elif key == ("fx",) and d.code == "D-COLUMN" and "unknown column" in d.message:
            # an export's rate table has its own columns: they are named in the mapping
            m.diags.append(attrs.evolve(d, hint="name the file's columns in [fx]: currency = "
                                        "..., date = ..., rate = ..., fixed_target = ..., "
                                        "quote = ... (docs/mapping.md)"))
        else:
            m.diags.append(d)
    return loaded.records


FX_KEYS = ("file", "currency", "target", "fixed_target", "date", "rate", "quote", *TABLE_KEYS)
QUOTES = {"target per unit": False, "units per target": True}


def _fx(m: Mapping) -> list[FxRate]:
    """`[fx] file = ...` alone reads an FX file of docs/data.md; with `currency`, `date` and
    `rate` (and `target` or `fixed_target`) it names the columns of an export's rate table,
    and `quote` says which way its rates go."""
    key = ("fx",)
    raw = m.doc["fx"]
    if isinstance(raw, dict) and set(raw) <= {"file"}:
        return _standard(m, key, raw)
    spec = m.keys(key, raw, FX_KEYS, ("file", "currency", "date", "rate"))
    if not spec or not all(k in spec for k in ("file", "currency", "date", "rate")):
        return []
    if ("target" in spec) == ("fixed_target" in spec):
        m.map_error(key, "[fx] needs one of 'target' (a column) and 'fixed_target' (the "
                    "currency every rate converts to)", 'e.g. fixed_target = "USD"')
        return []
    quote = spec.get("quote", "target per unit")
    if not isinstance(quote, str) or quote not in QUOTES:
        m.map_error((*key, "quote"), f"'quote' is \"target per unit\" (1 unit of the currency "
                    f"= RATE target) or \"units per target\" (1 target = RATE units of the "
                    f"currency), not {_show(quote)}", suggest(str(quote), QUOTES))
        return []
    table = m.load_table("fx", key, spec)
    cols = {k: m.column((*key, k), spec[k], table) for k in ("currency", "target", "date",
                                                             "rate") if k in spec}
    fixed = None
    if "fixed_target" in spec:
        text = m.text((*key, "fixed_target"), spec["fixed_target"])
        try:
            fixed = parse_currency(text) if text else None
        except BadValue as e:
            m.map_error((*key, "fixed_target"), f"fixed_target: {e.message}", e.hint)
    if table is None or any(c is None for c in cols.values()) or m.blocked():
        return []
    # A row left out (for its number of cells, or a cell) keeps its currency's 'no rate'
    # errors away, as in load_dataset (loaders._fx): the row is what to fix.
    for text in m.broken("fx", cols["currency"]):
        try:
            m.rejected.add(f"currency:{parse_currency(text)}")
        except BadValue:
            pass  # no currency to name: nothing follows from the row
    out: list[FxRate] = []
    same: list[int] = []
    for row in table.rows:
        values: dict[str, object] = {}
        ok = True
        for k, parse, code in (("currency", parse_currency, "D-CURRENCY"),
                               ("target", parse_currency, "D-CURRENCY"),
                               ("date", parse_date, "D-DATE"),
                               ("rate", lambda t: parse_positive(t, "rate"), "D-NUMBER")):
            if k not in cols:
                continue
            text, c = m.cell("fx", row, cols[k])
            try:
                if not text:
                    raise BadValue("the cell is empty", f"every rate needs its {k}")
                values[k] = m.parse("fx", cols[k], text, parse)
            except BadValue as e:
                m.diags.append(error(code, _span(c or row), f"column '{cols[k]}': {e.message}",
                                     e.hint))
                ok = False
        if not ok:
            if "currency" in values:
                m.rejected.add(f"currency:{values['currency']}")
            continue
        target = values.get("target", fixed)
        if values["currency"] == target:
            same.append(row.line)  # the corporate currency's own rate of 1
            continue
        out.append(FxRate(currency=values["currency"], target=target, date=values["date"],
                          rate=values["rate"], inverse=QUOTES[quote],
                          source=Source(table.path, row.line)))
    direction = ("1 unit of the currency = RATE target" if not QUOTES[quote] else
                 "1 target = RATE units of the currency: amounts are divided by the rate, "
                 "rounded half even to the cent")
    m.diags.append(note(MAPPED, m.at(*key), f"{_plural(len(out), 'FX rate')} read from "
                        f"{table.path} ({direction})"
                        + (f"; {_plural(len(same), 'row')} converting a currency to itself "
                           f"left out ({_lines(same)})" if same else "")))
    return out


# ------------------------------------------------------------------------------ public API


def blocks_rows(mapping_path: str, d: Diagnostic) -> bool:
    """Whether `d`, found reading through the mapping at `mapping_path`, keeps the export's
    rows from being read: an error in the mapping itself, or a file it names that cannot
    be read."""
    return d.is_error and (d.span.path == mapping_path or d.code in ("D-FILE", "D-ENCODING"))



def load_mapping(path: str | os.PathLike, plan: Plan | None = None, pause_gc: bool = True
                 ) -> tuple[Dataset, list[Diagnostic]]:
    """Read a CRM export through the mapping file at `path`: the dataset of the rows without
    errors, and every diagnostic (errors, warnings and notes), sorted by file, line and column.
    With a plan, its field declarations, stages, roles and currency are checked too.
    `pause_gc`: see `incentive_dsl.collector`."""
    with collector_paused(pause_gc):
        return _load_mapping(path, plan)


def _load_mapping(path: str | os.PathLike, plan: Plan | None) -> tuple[Dataset, list[Diagnostic]]:
    m = Mapping(os.fspath(path), plan)
    if not m.read():
        return make_dataset((), ()), sorted(m.diags, key=Diagnostic.sort_key)
    m.keys((), m.doc, TOP_KEYS, ("deals", "roster"))
    _lookups(m)
    payees = _roster(m)
    named = Counter(p.name for p in payees if p.name)
    m.payee_names = {p.name: p.id for p in payees if p.name and named[p.name] == 1}
    m.shared_names = {name: sorted(p.id for p in payees if p.name == name)
                      for name, n in named.items() if n > 1}
    events = _deals(m, {p.id for p in payees})
    territories = _territories(m)
    quotas = _standard(m, ("quotas",), m.doc["quotas"]) if "quotas" in m.doc else []
    fx = _fx(m) if "fx" in m.doc else []
    if not m.blocked():  # they count rows, which are not all read
        _report_aliases(m)
        _report_defaults(m)
    if payees:
        # owners, split partners and managers (paid on their team) are not idle
        busy = {e.owner for e in events} | {p for e in events for p, _ in e.splits} | \
            {p.manager for p in payees if p.manager}
        idle = [p for p in payees if p.id not in busy and p.role != _manager_role(m)]
        if idle and events:
            m.diags.append(note(MAPPED, m.at("roster"), f"{_plural(len(idle), 'payee')} of the "
                                f"roster {'has' if len(idle) == 1 else 'have'} no deal in the "
                                f"export and {'manages' if len(idle) == 1 else 'manage'} "
                                "nobody: " + ", ".join(sorted(
                                    f"{p.name} ({p.id})" if p.name else p.id for p in idle))
                                + " (no credit of their own; they count in their team's "
                                "quota)"))
    sources = tuple(dict.fromkeys([m.path, *m.files]))
    if m.blocked():
        # The rows are not read (or only some are) until the mapping is right: what was said
        # of them (an alias applying to no record, a manager added) would mislead. Warnings
        # on the mapping's own keys stay (a plan's field the mapping does not give).
        return make_dataset((), (), sources=sources), sorted(
            (d for d in m.diags if m.blocks(d) or (d.span.path == m.path
                                                   and d.severity is Severity.WARNING)),
            key=Diagnostic.sort_key)
    dataset = make_dataset(events, payees, quotas, fx, territories, sources)
    tables = {t.path: t for t in m.tables.values()}
    found, bad = check_dataset(dataset, plan, tables, m.rejected)
    m.diags += found
    if bad:
        dataset = make_dataset(*(
            [r for r in getattr(dataset, name) if id(r) not in bad]
            for name in ("events", "payees", "quotas", "fx", "territories")), sources)
    return dataset, sorted(m.diags, key=Diagnostic.sort_key)


def _manager_role(m: Mapping) -> str | None:
    managers = m.doc.get("roster", {}).get("managers") if isinstance(m.doc.get("roster"),
                                                                      dict) else None
    return managers.get("role") if isinstance(managers, dict) else None


def summary(diags: Iterable[Diagnostic]) -> str:
    """'2 errors, 1 warning, 9 notes'."""
    count = Counter(d.severity for d in diags)
    return ", ".join([_plural(count[Severity.ERROR], "error"),
                      _plural(count[Severity.WARNING], "warning"),
                      _plural(count[Severity.NOTE], "note")])

