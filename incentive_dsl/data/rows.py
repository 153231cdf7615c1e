"""Reading the cells of a table's rows as typed values, with a diagnostic for each bad cell.

`FileReader` checks a table's columns against what its kind of file may hold (standard columns
and the custom fields the plan declares) and collects diagnostics; `RowReader` reads one row:
each call either returns a value or records a diagnostic naming the file, line, column and
header and marks the row bad, so that every problem of every row is reported and no bad row
reaches the dataset. A required value missing from a CSV file that lacks the whole column is
reported once, at the header, instead of once per row.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable

import attrs

from incentive_dsl.check.model import FieldSpec
from incentive_dsl.data.tables import COLUMN, Cell, Row, Table
from incentive_dsl.data.values import BadValue, closest, parse_field, suggest
from incentive_dsl.diagnostics import Diagnostic, Related, error, warning
from incentive_dsl.span import Span


@attrs.frozen
class Columns:
    """What one kind of data file may hold."""

    what: str  # "an events file"
    standard: tuple[str, ...]
    required: tuple[str, ...]  # needed on every row
    field_owner: str | None = None  # "deal" or "payee": custom fields of the plan may appear


class FileReader:
    """One table being read: its column checks and the diagnostics of all its rows."""

    def __init__(self, table: Table, columns: Columns, custom: Iterable[FieldSpec] = ()) -> None:
        self.table, self.columns = table, columns
        self.custom = {f.name: f for f in custom}
        self.diags: list[Diagnostic] = []
        self._needed: dict[str, tuple[dict[str, None], list[int]]] = {}
        self._missing_reported: set[str] = set()
        self.unknown: list[str] = []
        self.unusable = False  # the header cannot be read: rows are not reported one by one

    @property
    def csv(self) -> bool:
        return self.table.format == "csv"

    def label(self, column: str) -> str:
        return f"column '{column}'" if self.csv else f"key '{column}'"

    def known(self) -> list[str]:
        return [*self.columns.standard, *self.custom]

    def check_columns(self) -> None:
        t, known = self.table, self.known()
        if self.csv and len(t.columns) == 1 and any(sep in t.columns[0] for sep in ";\t|"):
            sep = next(sep for sep in ";\t|" if sep in t.columns[0])
            shown = {"\t": "tabs"}.get(sep, f"'{sep}'")
            self.diags.append(error(COLUMN, self.header_span(), f"the columns are separated by "
                                    f"{shown}, not by commas",
                                    "save the file as CSV with commas ('CSV (comma delimited)')"))
            self.unusable = True
            return
        unknown = self.unknown = [c for c in dict.fromkeys(t.columns) if c and c not in known]
        if self.csv:
            seen: set[str] = set()
            for name, span in zip(t.columns, t.header_spans):
                if name and name in seen:
                    self.diags.append(error(COLUMN, span, f"column '{name}' appears twice in "
                                            "the header", "keep one of them"))
                seen.add(name)
            for name in self.columns.required:
                if name not in t.columns:
                    self._missing_reported.add(name)
                    self.diags.append(error(
                        COLUMN, self.header_span(), f"missing column '{name}'",
                        _renamed(name, unknown) or f"{self.columns.what} needs the columns "
                        f"{', '.join(self.columns.required)}"))
        for name in unknown:
            close = suggest(name, known)
            if close:  # a misspelt column would silently lose its values: an error
                self.diags.append(error(COLUMN, t.column_spans[name],
                                        f"unknown {self.label(name)}{self._rows_with(name)}",
                                        close))
            else:  # an export's extra column the plan does not use: said, then ignored
                self.diags.append(warning(
                    COLUMN, t.column_spans[name],
                    f"{self.label(name)} is not used by this plan and is ignored"
                    f"{self._rows_with(name)}", self._declare_hint(name)))

    def _rows_with(self, name: str) -> str:
        if self.csv:
            return ""
        n = sum(1 for r in self.table.rows if name in r.cells)
        return f" (in {n} records)" if n > 1 else ""

    def _declare_hint(self, name: str) -> str:
        owner = self.columns.field_owner
        cols = ", ".join(self.columns.standard)
        if owner is None:
            return f"the columns of {self.columns.what} are {cols}"
        return (f"the columns of {self.columns.what} are {cols}, and the custom fields the plan "
                f"declares (fields / {owner}.{name} text)")

    def header_span(self) -> Span:
        line = self.table.header_line or 1
        end = max((s.end_column for s in self.table.header_spans if s.line == line), default=2)
        return Span(self.table.path, line, 1, line, end)

    def need(self, column: str, why: str, line: int) -> None:
        if column in self._missing_reported or self.unusable:
            return
        whys, lines = self._needed.setdefault(column, ({}, []))
        whys[why] = None
        lines.append(line)

    def finish(self) -> list[Diagnostic]:
        for column, (whys, lines) in self._needed.items():
            why = "; ".join(whys)
            rows = f"{len(lines)} rows, the first on line {lines[0]}" if len(lines) > 1 else \
                f"line {lines[0]}"
            self.diags.append(error(COLUMN, self.header_span(),
                                    f"missing column '{column}': {why} ({rows})",
                                    _renamed(column, self.unknown) or
                                    f"add the column '{column}' to the header"))
        return self.diags


def _renamed(missing: str, unknown: list[str]) -> str | None:
    """The hint for a missing column that an unknown column of the header may be, misspelt."""
    near = closest(missing, unknown)
    return f"is the header's '{near}' meant to be '{missing}'? rename it" if near else None


class RowReader:
    """One row: read its cells, recording a diagnostic (and `ok = False`) for each problem."""

    def __init__(self, reader: FileReader, row: Row) -> None:
        self.file, self.row, self.ok = reader, row, True

    @property
    def path(self) -> str:
        return self.file.table.path

    def cell(self, column: str) -> Cell | None:
        return self.row.get(column)

    def report(self, code: str, span: Span, message: str, hint: str | None = None,
               related: Iterable[Related] = (), is_error: bool = True) -> None:
        make = error if is_error else warning
        self.file.diags.append(make(code, span, message, hint, tuple(related)))
        if is_error:
            self.ok = False

    def missing(self, column: str, why: str) -> None:
        self.ok = False
        cell = self.row.cells.get(column)
        if cell is None and self.file.csv:
            self.file.need(column, why, self.row.line)
            return
        span = cell.span if cell is not None else self.row.span
        what = "is empty" if cell is not None else "is missing"
        self.file.diags.append(error(COLUMN, span, f"{self.file.label(column)} {what}: {why}",
                                     f"fill in the {self.file.label(column)}"))

    def value(self, column: str, parse: Callable[[str], object], code: str,
              required: str | None = None) -> object:
        """The parsed cell, or None (empty or bad; a problem is recorded when it is bad, or
        empty and `required` says why it is needed)."""
        cell = self.cell(column)
        if cell is None:
            if required:
                self.missing(column, required)
            return None
        if cell.data is not None:
            kind = "an object" if isinstance(cell.data, dict) else "a list"
            self.report(code, cell.span, f"{self.file.label(column)}: {kind} cannot be read "
                        "here", "write a string or a number")
            return None
        try:
            return parse(cell.text)
        except BadValue as e:
            self.report(code, cell.span, f"{self.file.label(column)}: {e.message}", e.hint)
            return None

    def text(self, column: str, required: str | None = None) -> str | None:
        return self.value(column, lambda s: s, COLUMN, required)

    def name(self, column: str, required: str | None = None) -> str | None:
        """`text`, for a column whose values many rows repeat (payees, stages): each value is
        kept once (`sys.intern`), not once per row, as a large history would."""
        return self.value(column, sys.intern, COLUMN, required)

    def fields(self, currency: str | None,
               plan_currency: str | None) -> tuple[tuple[str, object], ...]:
        """The custom fields present in the row, sorted by name (empty cells are skipped); a
        plain money amount is in `currency` (None: the plan currency)."""
        out = []
        for name, spec in sorted(self.file.custom.items()):
            if name in self.file.columns.standard or plan_currency is None:
                continue
            value = self.value(name, lambda s, spec=spec: parse_field(spec, s, currency,
                                                                      plan_currency), "D-FIELD")
            if value is not None:
                out.append((name, value))
        return tuple(out)
