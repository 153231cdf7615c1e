"""Run results as JSON, CSV and terminal tables.

JSON is versioned (`format_version`) and deterministic: keys sorted, amounts as exact decimal
strings, records in evaluation order, no timestamps, so two runs on the same inputs give
byte-identical output. Money in tables and CSV is rounded to the currency's minor unit for
display only; the JSON keeps exact values.
"""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import attrs

from incentive_dsl.eval.money import ZERO, fmt
from incentive_dsl.eval.records import STATEMENT_FLOWS, Statement
from incentive_dsl.eval.run import RunResult
from incentive_dsl.periods import Period

FORMAT_VERSION = 1
# The table's columns: the statement's flows, which add up to `paid` (eval.records.Statement).
STATEMENT_COLUMNS = (*STATEMENT_FLOWS, "paid")
HEADERS = {"earned": "Earned", "later": "Paid later", "awaiting": "Awaiting",
           "earlier": "Earned before", "held": "Held", "released": "Released", "drawn": "Drawn",
           "recovered": "Recovered", "carry": "Carried", "rounding": "Rounding",
           "adjusted": "Adjusted", "paid": "Paid"}
# CSV adds how much of `earned` caps and clawbacks are, and the balances after the period.
CSV_COLUMNS = (*STATEMENT_COLUMNS, "capped", "clawed_back", "draw_balance", "carried")


def _record(rec) -> dict:
    def convert(inst, field, value):
        if isinstance(value, Decimal):
            return format(value, "f")  # never exponent notation such as 2.000E+4
        if hasattr(value, "isoformat"):
            return value.isoformat()
        return value
    return attrs.asdict(rec, value_serializer=convert)


def payee_labels(result: RunResult) -> dict[str, str]:
    """Payee id -> what tables show: the display name the roster gives (a CRM's 18-character
    user ids mean nothing to a reader), with the id after a name two payees share; payees
    without a name are shown by id and are not in the dict."""
    if result.engine is None:
        return {}
    names: dict[str, str] = {}
    for r in result.engine.dataset.payees:
        if r.name:
            names[r.id] = r.name  # the latest row's name
    shared = {n for n in names.values() if list(names.values()).count(n) > 1}
    return {pid: f"{n} ({pid})" if n in shared else n for pid, n in names.items()}


def in_window(statement: Statement, window: Period | None) -> bool:
    return window is None or (window.start <= statement.start and statement.end <= window.end)


def to_json(result: RunResult, window: Period | None = None, lines: bool = True) -> str:
    statements = [s for s in result.statements if in_window(s, window)]
    periods = {s.pay_period for s in statements}
    doc = {
        "format_version": FORMAT_VERSION,
        "stamp": result.stamp.to_json(),
        "window": None if window is None else {"label": window.label,
                                                "start": window.start.isoformat(),
                                                "end": window.end.isoformat()},
        "currency": result.plan.currency,
        "statements": [_record(s) for s in statements],
        "diagnostics": [d.to_json() for d in result.diagnostics],
    }
    if lines:
        doc["payouts"] = [_record(p) for p in result.payouts
                          if window is None or p.pay_period in periods]
        doc["earnings"] = [_record(e) for e in result.earnings
                           if window is None or window.contains(e.date)]
        doc["credits"] = [_record(c) for c in result.credits
                          if window is None or window.contains(c.date)]
        doc["skipped"] = [_record(s) for s in result.skips
                          if window is None or s.date is None or window.contains(s.date)]
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def statements_csv(result: RunResult, window: Period | None = None) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    names = payee_labels(result)  # a payee_name column only when the roster has names
    w.writerow(["payee", *(["payee_name"] if names else []), "pay_period", "start", "end",
                *CSV_COLUMNS, "currency"])
    cur = result.plan.currency
    for s in result.statements:
        if in_window(s, window):
            w.writerow([s.payee, *([names.get(s.payee, s.payee)] if names else []),
                        s.pay_period, s.start, s.end,
                        *(fmt(getattr(s, c), None).replace(",", "") for c in CSV_COLUMNS), cur])
    return out.getvalue()


def payout_lines_csv(result: RunResult, window: Period | None = None) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    names = payee_labels(result)
    w.writerow(["payee", *(["payee_name"] if names else []), "pay_period", "kind", "amount",
                "rule", "earning", "explanation", "arithmetic"])
    periods = {s.pay_period for s in result.statements if in_window(s, window)}
    for p in result.payouts:
        if window is None or p.pay_period in periods:
            w.writerow([p.payee, *([names.get(p.payee, p.payee)] if names else []),
                        p.pay_period, p.kind, str(p.amount), p.trace.rule,
                        p.earning or "", p.trace.because, p.trace.arithmetic])
    return out.getvalue()


def statement_table(result: RunResult, window: Period | None = None, by_period: bool = False):
    """A rich Table of statements: one row per payee over the window (with `by_period`, one row
    per payee and pay period, and a total per payee), and a grand total. Every column is a flow
    of the statement, so each row adds up to its Paid; columns that are zero throughout (no
    holdback, no draw, no ledger) are left out."""
    from rich.table import Table

    cur = result.plan.currency
    first = result.versions[0] if result.versions else result.stamp
    span = window.label if window else f"{first.start} to {result.stamp.end}"
    table = Table(title=f"{result.plan.name} — {span} ({cur})")
    table.add_column("Payee")
    if by_period:
        table.add_column("Period")
    by_payee: dict[str, list[Statement]] = {}
    for s in result.statements:
        if in_window(s, window):
            by_payee.setdefault(s.payee, []).append(s)
    everyone = [s for rows in by_payee.values() for s in rows]
    columns = [c for c in STATEMENT_COLUMNS if c in ("earned", "paid")
               or any(getattr(s, c) for s in everyone)]
    for col in columns:
        table.add_column(HEADERS[col], justify="right")

    def totals(rows: list[Statement]) -> list[str]:
        return [_cell(sum((getattr(s, c) for s in rows), ZERO)) for c in columns]

    names = payee_labels(result)
    for payee, rows in by_payee.items():
        label = names.get(payee, payee)
        if not by_period:
            table.add_row(label, *totals(rows))
            continue
        for s in rows:
            table.add_row(label, s.pay_period, *(_cell(getattr(s, c)) for c in columns))
        table.add_row("", "[bold]total[/bold]", *(f"[bold]{x}[/bold]" for x in totals(rows)),
                      end_section=True)
    if everyone:
        table.add_row(f"[bold]all {len(by_payee)} payees[/bold]", *([""] if by_period else []),
                      *(f"[bold]{x}[/bold]" for x in totals(everyone)), end_section=True)
    return table


def _cell(amount: Decimal) -> str:
    return "" if amount == 0 else fmt(amount)
