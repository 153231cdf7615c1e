"""The payout ledger: closed pay periods in one SQLite file, append-only and hash-chained.

Invariants (docs/ledger.md explains them to an auditor):

1. Append-only. Rows are only ever inserted. Triggers refuse every UPDATE and DELETE on the
   ledger tables, and `verify` detects changes made around them (triggers dropped, another
   tool, a hex editor).
2. One hash chain. Every record (a row of `runs`, `lines`, `statements` or `periods`) has a
   sequence number `seq`, 1, 2, 3 ... without gaps across the four tables, and
   `hash = sha256(prev_hash + "\\n" + canonical JSON of the record)`, `prev_hash` being the hash
   of record `seq - 1` (64 zeros for the first). An edited record no longer matches its hash; a
   deleted one leaves a gap and a broken link; deleting the newest records shows in the
   tables' id counters and against a head hash kept outside the ledger (`verify --head`).
3. A close is atomic. `close` writes a run record, then for each pay period it closes the
   payout lines, the statements and a seal (counts and digest of that period's records), in
   one `BEGIN IMMEDIATE` transaction: a crash or a kill leaves the ledger as it was, and of two
   closes at once the second waits for the first and then sees its result.
4. Closed means closed. A (plan, pay period) is closed at most once (a check inside the
   transaction and a unique index), pay periods are closed in order from the plan's first one
   without gaps, and nothing is ever reopened.
5. Corrections go forward. When a recomputation gives a closed period another result than
   what was paid for it (its recorded lines plus the adjustments already recorded for them),
   the difference is paid as `prior-period adjustment` lines in the first open pay period,
   each naming the closed period, the original lines, the old and new amounts and the cause
   (plan change, data change, both, or a new tool version). A period whose pay would go
   negative carries the rest forward (`carried adjustment`) instead of taking money back.
6. Determinism. Only a run record's `created_at` and `created_by` depend on the clock and the
   user; what a run computes with a ledger depends only on the plan, the data and the ledger.
"""

from __future__ import annotations

import datetime as dt
import decimal
import getpass
import hashlib
import heapq
import itertools
import json
import os
import socket
import sqlite3
import stat
from collections import defaultdict
from collections.abc import Callable, Collection, Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

import attrs

from incentive_dsl import __version__
from incentive_dsl.eval.money import CONTEXT, ZERO, fmt, quantum
from incentive_dsl.periods import FREQUENCY_UNIT
from incentive_dsl.eval.records import PayoutLine, Statement, Trace
from incentive_dsl.periods import Calendar, Period
from incentive_dsl.span import Span

SCHEMA_VERSION = 1
APPLICATION_ID = 0x49434C44  # "ICLD": an incentive-dsl ledger
GENESIS = "0" * 64
DEFAULT_TIMEOUT = 30.0  # seconds a close waits for another close to finish
TABLES = ("runs", "lines", "statements", "periods")
ADJUSTMENT = "prior-period adjustment"
CARRY = "carried adjustment"
LEDGER_KINDS = (ADJUSTMENT, CARRY)  # lines the ledger adds; the evaluator never makes them

PLAN_CHANGE = "plan change"
DATA_CHANGE = "data change"
PLAN_AND_DATA = "plan change and data change"
TOOL_CHANGE = "tool change"
RECALCULATION = "recalculation with the same plan, data and tool"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT, seq INTEGER NOT NULL UNIQUE,
  kind TEXT NOT NULL, plan TEXT NOT NULL, periods TEXT NOT NULL,
  plan_path TEXT, plan_version TEXT, plan_hash TEXT NOT NULL, plan_git_revision TEXT,
  plan_sources TEXT NOT NULL, data_hash TEXT NOT NULL, data_files TEXT NOT NULL,
  tool_version TEXT NOT NULL, currency TEXT NOT NULL, fiscal_start INTEGER NOT NULL,
  pay_unit TEXT NOT NULL, created_at TEXT NOT NULL, created_by TEXT NOT NULL,
  prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS lines (
  id INTEGER PRIMARY KEY AUTOINCREMENT, seq INTEGER NOT NULL UNIQUE,
  run_id INTEGER NOT NULL, plan TEXT NOT NULL, pay_period TEXT NOT NULL, payee TEXT NOT NULL,
  kind TEXT NOT NULL, amount TEXT NOT NULL, earning TEXT, rule TEXT, record TEXT NOT NULL,
  adj_period TEXT, adj_kind TEXT, adj_earning TEXT, adj_old TEXT, adj_new TEXT,
  adj_cause TEXT, adj_lines TEXT,
  prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS statements (
  id INTEGER PRIMARY KEY AUTOINCREMENT, seq INTEGER NOT NULL UNIQUE,
  run_id INTEGER NOT NULL, plan TEXT NOT NULL, pay_period TEXT NOT NULL, payee TEXT NOT NULL,
  paid TEXT NOT NULL, adjusted TEXT NOT NULL, record TEXT NOT NULL,
  prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS periods (
  id INTEGER PRIMARY KEY AUTOINCREMENT, seq INTEGER NOT NULL UNIQUE,
  run_id INTEGER NOT NULL, plan TEXT NOT NULL, pay_period TEXT NOT NULL,
  start_date TEXT NOT NULL, end_date TEXT NOT NULL, line_count INTEGER NOT NULL,
  statement_count INTEGER NOT NULL, paid_total TEXT NOT NULL, digest TEXT NOT NULL,
  prev_hash TEXT NOT NULL, hash TEXT NOT NULL, UNIQUE (plan, pay_period));
CREATE INDEX IF NOT EXISTS lines_by_period ON lines (plan, pay_period);
CREATE INDEX IF NOT EXISTS statements_by_period ON statements (plan, pay_period);
"""

_COLUMNS = {
    "runs": ("id", "seq", "kind", "plan", "periods", "plan_path", "plan_version", "plan_hash",
             "plan_git_revision", "plan_sources", "data_hash", "data_files", "tool_version",
             "currency", "fiscal_start", "pay_unit", "created_at", "created_by"),
    "lines": ("id", "seq", "run_id", "plan", "pay_period", "payee", "kind", "amount", "earning",
              "rule", "record", "adj_period", "adj_kind", "adj_earning", "adj_old", "adj_new",
              "adj_cause", "adj_lines"),
    "statements": ("id", "seq", "run_id", "plan", "pay_period", "payee", "paid", "adjusted",
                   "record"),
    "periods": ("id", "seq", "run_id", "plan", "pay_period", "start_date", "end_date",
                "line_count", "statement_count", "paid_total", "digest"),
}


def _triggers() -> str:
    out = []
    for table in TABLES:
        for op in ("UPDATE", "DELETE"):
            out.append(
                f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: {table} records cannot "
                f"be {'changed' if op == 'UPDATE' else 'deleted'}'); END;")
    return "\n".join(out)


TRIGGER_NAMES = tuple(f"{t}_no_{op}" for t in TABLES for op in ("update", "delete"))


# ------------------------------------------------------------------------------ errors, records


class LedgerError(Exception):
    """The ledger cannot be used: missing, unreadable, not a ledger (a usage error). Each kind
    of ledger error has its diagnostic code (incentive_dsl/codes.py); `path` is the ledger
    file, set by whoever knows it, and `hint` says what to do."""

    code = "E-LEDGER-FILE"

    def __init__(self, message: str, hint: str | None = None, path: str | None = None) -> None:
        super().__init__(message)
        self.message, self.hint, self.path = message, hint, path

    def __reduce__(self):  # pickled and copied with its hint and path, not the message alone
        return type(self), (self.message, self.hint, self.path)

    def render(self) -> str:
        """`PATH: error[CODE]: MESSAGE` and the hint, as diagnostics are printed."""
        where = f"{self.path}: " if self.path else ""
        out = f"{where}error[{self.code}]: {self.message}"
        return out + (f"\n   = hint: {self.hint}" if self.hint else "")


class Refused(LedgerError):
    """The ledger refuses the operation: the period is closed, or an earlier one is open.
    Nothing was recorded."""

    code = "E-LEDGER-REFUSED"


class Busy(Refused):
    """Another process held the ledger longer than the timeout. Nothing was recorded."""

    code = "E-LEDGER-BUSY"


class PlanMismatch(Refused):
    """The plan does not continue the ledger's history: renamed, or paid on other pay periods
    (frequency, fiscal year) or in another currency than its closed periods."""

    code = "E-LEDGER-PLAN"


class Broken(LedgerError):
    """The ledger's records fail verification (edited, deleted, unreadable): nothing is read
    from it or written to it until it is restored."""

    code = "E-LEDGER-BROKEN"


class PeriodError(LedgerError):
    """The period named is not one the plan pays in (a usage error)."""

    code = "E-LEDGER-PERIOD"


def _db_error(path: str, exc: sqlite3.DatabaseError) -> LedgerError:
    """The ledger error for an SQLite error: a lock held past the timeout is Busy."""
    text = str(exc)
    if isinstance(exc, sqlite3.OperationalError) and ("locked" in text or "busy" in text):
        return Busy(f"the ledger is busy ({text}): another process held it longer than the "
                    "timeout; nothing was recorded", hint="try again when it is done",
                    path=path)
    if getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_CORRUPT:
        # A ledger file cut short or overwritten is a broken ledger, not a usage error.
        return Broken(f"the ledger file is damaged ({text}): its records cannot be read",
                      hint=DAMAGED_HINT, path=path)
    return LedgerError(f"the ledger cannot be read: {text}", path=path)


@attrs.frozen
class Adjustment:
    """A correction of one line of a closed pay period, paid in an open one."""

    payee: str
    pay_period: str  # where the correction is paid
    closed_period: str  # the closed pay period it corrects
    kind: str  # the kind of the corrected line(s): earning, draw, recovery, ...
    earning: str | None  # the earning line they pay, if any
    old: Decimal  # paid so far for it: the recorded lines plus earlier adjustments
    new: Decimal  # what the recomputation gives
    cause: str
    original: tuple[str, ...]  # ledger references of the original lines ("lines #12")
    rule: str
    span: Span | None = attrs.field(default=None, eq=False)
    deal: str | None = None  # the deal of the earning, when the data names it
    removed: bool = False  # the recomputation has no such line any more

    @property
    def amount(self) -> Decimal:
        return CONTEXT.subtract(self.new, self.old)

    @property
    def change(self) -> str:
        return _change_of(self.old, self.original, self.removed)

    def subject(self) -> str:
        return _subject(self.kind, self.rule, self.deal)

    def describe(self, currency: str | None = None) -> str:
        """The correction for a reviewer: the deal, rule and line, what changed and why,
        then the ids an audit follows."""
        return describe(self.closed_period, self.kind, self.rule, self.deal, self.earning,
                        self.old, self.new, self.cause, self.original, self.change, currency)

    def to_json(self) -> dict:
        return {"payee": self.payee, "pay_period": self.pay_period,
                "closed_period": self.closed_period, "kind": self.kind,
                "earning": self.earning, "old": str(self.old), "new": str(self.new),
                "amount": str(self.amount), "cause": self.cause,
                "original": list(self.original), "rule": self.rule, "deal": self.deal,
                "change": self.change}


NEW_LINE, LINE_REMOVED, CHANGED = "new line", "line removed", "changed"


def _change_of(old: Decimal, original: Sequence[str], removed: bool) -> str:
    if not original and not old:
        return NEW_LINE
    return LINE_REMOVED if removed else CHANGED


def _subject(kind: str, rule: str | None, deal: str | None) -> str:
    named = [f"deal {deal}"] if deal else []
    if rule:
        named.append(f"rule {rule}")
    return ", ".join(named) + f" ({kind} line)" if named else f"{kind} line"


def change_text(old: Decimal, new: Decimal, change: str, currency: str | None = None) -> str:
    if change == NEW_LINE:
        return f"new line, {fmt(new, currency)}"
    if change == LINE_REMOVED:
        return f"line removed, was {fmt(old, currency)}"
    return f"{fmt(old, currency)} -> {fmt(new, currency)}"


def references(earning: str | None, original: Sequence[str]) -> str:
    refs = [f"earning {earning}"] if earning else []
    refs.append(f"original {', '.join(original)}" if original else "no original line")
    return "; ".join(refs)


def describe(closed_period: str, kind: str, rule: str | None, deal: str | None,
             earning: str | None, old: Decimal, new: Decimal, cause: str,
             original: Sequence[str], change: str, currency: str | None = None) -> str:
    """`2027-02, deal D2, rule core (earning line): 3,000.00 -> 5,000.00 (data change)
    [earning core:commission:bob:E2; original lines #4]`."""
    return (f"{closed_period}, {_subject(kind, rule, deal)}: "
            f"{change_text(old, new, change, currency)} ({cause}) "
            f"[{references(earning, original)}]")


@attrs.frozen
class RunInfo:
    """A close as recorded: what was read, by which tool, when and by whom."""

    id: int
    plan: str
    periods: tuple[str, ...]
    plan_path: str | None
    plan_version: str | None
    plan_hash: str
    plan_git_revision: str | None
    plan_sources: tuple[dict, ...] = attrs.field(repr=False)
    data_hash: str
    data_files: tuple[str, ...]
    tool_version: str
    currency: str
    fiscal_start: int
    pay_unit: str
    created_at: str
    created_by: str
    hash: str

    def to_json(self) -> dict:
        d = attrs.asdict(self)
        d["plan_sources"] = [{"path": s["path"], "hash": s["hash"]} for s in self.plan_sources]
        d["periods"], d["data_files"] = list(self.periods), list(self.data_files)
        return d


@attrs.frozen
class ClosedPeriod:
    id: int
    run_id: int
    plan: str
    label: str
    start: dt.date
    end: dt.date
    line_count: int
    statement_count: int
    paid: Decimal


@attrs.frozen
class CloseResult:
    path: str
    plan: str
    periods: tuple[ClosedPeriod, ...]
    run: RunInfo
    adjustments: tuple[Adjustment, ...]
    lines: int
    statements: int
    head: str
    # Per payee with prior-period adjustments carried (nothing is taken back from pay): what
    # was carried into the close and what is carried forward after it.
    carried: tuple[Carried, ...] = ()
    # The pay periods of the period asked for that start after the plan ends: left open.
    after_plan: tuple[str, ...] = ()
    # Its first pay periods, closed by earlier closes: the close took the open rest.
    already_closed: tuple[str, ...] = ()


@attrs.frozen
class Carried:
    payee: str
    before: Decimal  # carried into the first closed pay period, from earlier closes
    after: Decimal  # carried forward after the last one, to recover from later pay

    def to_json(self) -> dict:
        return {"payee": self.payee, "before": str(self.before), "after": str(self.after)}


@attrs.frozen
class LedgerRun:
    """A run seen through the ledger: closed pay periods show what was paid, the first open
    one carries the corrections."""

    path: str
    result: object  # eval.run.RunResult with recorded and adjustment lines
    closed: tuple[str, ...]
    open_period: str | None
    adjustments: tuple[Adjustment, ...]
    head: str
    notes: tuple[str, ...]

    def to_json(self) -> dict:
        return {"path": self.path, "head": self.head, "closed": list(self.closed),
                "open_period": self.open_period,
                "adjustments": [a.to_json() for a in self.adjustments],
                "notes": list(self.notes)}


@attrs.frozen
class Problem:
    table: str
    id: int | None
    seq: int | None
    message: str

    @property
    def where(self) -> str:
        where = f"{self.table} #{self.id}" if self.id is not None else self.table
        return f"{where}{f' (seq {self.seq})' if self.seq is not None else ''}"

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@attrs.frozen
class VerifyReport:
    path: str
    records: int
    head: str
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict:
        return {"path": self.path, "ok": self.ok, "records": self.records, "head": self.head,
                "problems": [attrs.asdict(p) | {"text": str(p)} for p in self.problems]}


@attrs.frozen
class LedgerLine:
    id: int
    run_id: int
    plan: str
    pay_period: str
    payee: str
    kind: str
    amount: Decimal
    earning: str | None
    rule: str | None
    because: str
    # for adjustments: period, kind, earning, old, new, cause, lines; and deal and change
    # (new line, line removed, changed) as the line's trace recorded them (None before)
    adjusts: dict | None

    def to_json(self) -> dict:
        d = attrs.asdict(self)
        d["amount"] = str(self.amount)
        return d


@attrs.frozen
class History:
    path: str
    head: str
    runs: tuple[RunInfo, ...]
    periods: tuple[ClosedPeriod, ...]
    lines: tuple[LedgerLine, ...]
    # Every payee with a line or a statement (of the plan asked for): a payee asked for that
    # is not among them is a mistyped id, not a payee never paid.
    payees: frozenset[str] = frozenset()
    # The period asked for when no pay period of it is closed, and the closed pay periods (of
    # the plan asked for): said, as an empty history would look like a period that paid nothing.
    not_closed: str | None = None
    closed: tuple[ClosedPeriod, ...] = ()
    # Every plan with a close in the ledger, whichever was asked for: a plan asked for that is
    # not among them was renamed or is another plan, not a plan with nothing closed yet.
    plans: frozenset[str] = frozenset()

    def to_json(self) -> dict:
        return {"path": self.path, "head": self.head, "runs": [r.to_json() for r in self.runs],
                "periods": [{"plan": p.plan, "pay_period": p.label,
                             "start": p.start.isoformat(), "end": p.end.isoformat(),
                             "run_id": p.run_id, "lines": p.line_count,
                             "statements": p.statement_count, "paid": str(p.paid)}
                            for p in self.periods],
                "lines": [ln.to_json() for ln in self.lines]}


# ------------------------------------------------------------------------------ helpers


def default_path(plan_path: str) -> str:
    """The ledger of a plan's workspace: `.incentive/ledger.sqlite` next to the plan file (in
    the directory itself for a directory of plan versions)."""
    p = Path(plan_path)
    base = p if os.path.isdir(p) else p.parent
    return str(base / ".incentive" / "ledger.sqlite")


def who() -> str:
    try:
        user = getpass.getuser()
    except Exception:  # no user name in the environment (a container): say so
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def _canonical(table: str, row: dict) -> str:
    body = {k: v for k, v in row.items() if k not in ("hash", "prev_hash")}
    body["table"] = table
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def record_hash(prev_hash: str, table: str, row: dict) -> str:
    """sha256 over the previous record's hash and the canonical JSON of this record."""
    return hashlib.sha256(f"{prev_hash}\n{_canonical(table, row)}".encode()).hexdigest()


def _money(value: Decimal, currency: str) -> str:
    """An amount as the ledger writes it: to the currency's minor unit ("0.00", not "0"), never
    rounded (an amount with more digits keeps them). Records written before keep their text:
    hashes are over the stored text, which is never rewritten."""
    q = quantum(currency)
    if value.as_tuple().exponent > q.as_tuple().exponent:
        value = value.quantize(q, context=CONTEXT)
    return str(value)


def _to_json(rec, currency: str) -> dict:
    """A line or a statement record; its Decimal fields are all amounts."""
    def convert(inst, field, value):
        if isinstance(value, Decimal):
            return _money(value, currency)
        if isinstance(value, (dt.date, dt.datetime)):
            return value.isoformat()
        return value
    return attrs.asdict(rec, value_serializer=convert)


def _dumps(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# No amount a ledger records has a decimal exponent past this; a bound keeps a tampered amount
# ("1E+999999") from overflowing the arithmetic that reads it.
_EXPONENT_LIMIT = 40
# What reading a tampered record can raise (JSONDecodeError is a ValueError, decimal's
# InvalidOperation an ArithmeticError).
_UNREADABLE = (ValueError, KeyError, TypeError, AttributeError, IndexError, ArithmeticError)
VERIFY_HINT = ("`incentive ledger verify` names every broken record; restore the ledger from a "
               "backup (nothing was read from it or written to it)")
DAMAGED_HINT = ("nothing was read from it or written to it; the file was cut short or "
                "overwritten: restore the ledger from a backup and check it with `incentive "
                "ledger verify --head HASH`, HASH the head the last close printed")


def _amount(text) -> Decimal:
    """An amount as recorded: the exact decimal text, finite and of sane size."""
    if not isinstance(text, str):
        raise ValueError(f"the amount {text!r} is not decimal text")
    try:
        value = Decimal(text)
    except decimal.InvalidOperation:
        raise ValueError(f"'{text[:40]}' is not an amount") from None
    if not value.is_finite() or abs(value.adjusted()) > _EXPONENT_LIMIT:
        raise ValueError(f"'{text[:40]}' is not an amount")
    return value


def _json(text, kind: type):
    """A JSON column: text holding a value of type `kind` (list or dict)."""
    if not isinstance(text, str):
        raise ValueError(f"{text!r} is not JSON text")
    value = json.loads(text)
    if not isinstance(value, kind):
        raise ValueError(f"it holds {type(value).__name__}, not {kind.__name__}")
    return value


def _text(value, what: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{what} {value!r} is not text")
    return value


def _name(table: str, row: dict) -> str:
    return f"{table} #{row.get('id')} (seq {row.get('seq')})"


def _read(table: str, row: dict, convert: Callable):
    """`convert(row)`, or Broken naming the record when it cannot be read."""
    try:
        return convert(row)
    except _UNREADABLE as exc:
        raise Broken(f"{_name(table, row)} cannot be read: {_why(exc)}",
                     hint=VERIFY_HINT) from None


def _why(exc: BaseException) -> str:
    if isinstance(exc, KeyError):
        return f"the field {exc} is missing"
    if isinstance(exc, json.JSONDecodeError):
        return f"its JSON is damaged ({exc.msg} at character {exc.pos})"
    return str(exc) or type(exc).__name__


def _span(d: dict | None) -> Span | None:
    if not d:
        return None
    return Span(d["path"], d["line"], d["column"], d["end_line"], d["end_column"])


def _trace_from(d: dict) -> Trace:
    known = {f.name for f in attrs.fields(Trace)}
    kw = {k: v for k, v in d.items() if k in known}
    kw["span"] = _span(d.get("span")) or Span("<ledger>", 0, 0, 0, 0)
    for name in ("values",):
        if name in kw:
            kw[name] = tuple(tuple(v) for v in kw[name])
    for name in ("events", "inputs"):
        if name in kw:
            kw[name] = tuple(kw[name])
    return Trace(**kw)


def _line_from(d: dict) -> PayoutLine:
    known = {f.name for f in attrs.fields(PayoutLine)}
    kw = {k: v for k, v in d.items() if k in known}
    kw["amount"] = _amount(kw["amount"])
    kw["trace"] = _trace_from(kw["trace"])
    return PayoutLine(**kw)


_STATEMENT_TEXT = ("payee", "pay_period")
_STATEMENT_DATES = ("start", "end")
_RUNNING = ("draw_balance", "carried", "advance_balance")  # running balances: carried into a made-up statement


def _statement_from(d: dict) -> Statement:
    kw = {}
    for f in attrs.fields(Statement):
        if f.name not in d:
            continue
        v = d[f.name]
        if f.name in _STATEMENT_DATES:
            v = dt.date.fromisoformat(v)
        elif f.name not in _STATEMENT_TEXT:
            v = _amount(v)
        kw[f.name] = v
    return Statement(**kw)


def _blank_statement(payee: str, pp: Period, before: Statement | None) -> Statement:
    kw = {}
    for f in attrs.fields(Statement):
        if f.name in ("payee",):
            kw[f.name] = payee
        elif f.name == "pay_period":
            kw[f.name] = pp.label
        elif f.name == "start":
            kw[f.name] = pp.start
        elif f.name == "end":
            kw[f.name] = pp.end
        elif f.name in _RUNNING and before is not None:
            kw[f.name] = getattr(before, f.name)
        else:
            kw[f.name] = ZERO
    return Statement(**kw)


# ------------------------------------------------------------------------------ pay periods


def pay_unit(plan) -> str:
    return FREQUENCY_UNIT[plan.payout.frequency]


def first_pay_period(versions: Sequence) -> Period:
    plan = versions[-1]
    start = min(v.effective_start for v in versions)
    return plan.calendar.period_of(start, pay_unit(plan))


def next_pay_period(plan, after: dt.date) -> Period:
    return plan.calendar.period_of(after + dt.timedelta(days=1), pay_unit(plan))


def pay_periods(versions: Sequence, label: str) -> list[Period]:
    """The pay periods the period named `label` closes: those that end in it, as a report's
    window holds them (api.window): `2027-Q1` of a plan paid monthly is 2027-01 to 2027-03, of
    a plan paid bi-weekly the fortnights that end in the quarter (the one across the new year
    included). A period inside one pay period is refused, with that pay period named. Of a
    period reaching past the plan's effective range, the pay periods inside the range
    (`after_plan` names those left open)."""
    return _pay_periods(versions, label)[0]


def after_plan(versions: Sequence, label: str) -> list[Period]:
    """The pay periods of the period named `label` that start after the plan ends: a close
    of it leaves them open, for the plan (or its new version) that pays them."""
    return _pay_periods(versions, label)[1]


def _pay_periods(versions: Sequence, label: str) -> tuple[list[Period], list[Period]]:
    plan = versions[-1]
    unit = pay_unit(plan)
    period = plan.calendar.parse(label)
    if period is None:
        raise PeriodError(plan.calendar.not_a_period(label, plan.effective_start))
    pays = [p for p in plan.calendar.periods(period.start, period.end, unit)
            if p.end <= period.end]
    if not pays or (len(pays) == 1 and pays[0].start < period.start):
        # A part of one pay period (a month of a quarterly plan): closing is for good, so the
        # pay period is not taken for it; it is named.
        holding = pays[0] if pays else plan.calendar.period_of(period.end, unit)
        raise PeriodError(
            f"'{label}' is part of one pay period of \"{plan.name}\", which is paid "
            f"{plan.payout.frequency}: close {holding.label} (the pay period that holds it)")
    first = first_pay_period(versions)
    if pays[0].start < first.start:
        raise PeriodError(f"'{label}' is before \"{plan.name}\" starts paying ({first.label})")
    # A pay period that starts after the plan's last day is closed with the version in effect
    # then (run with the earlier ones, it also pays what they still owe): closed under this
    # plan, it would stay so for good. `run` may still report it. Of a period reaching past
    # the plan (`2027` of a plan ending 2027-06-30), the pay periods in the plan are closed,
    # as payroll closing its year expects, and the later ones left open (said by the close).
    start, end = versions[0].effective_start, plan.effective_end
    after = [p for p in pays if end is not None and p.start > end]
    if after and len(after) == len(pays):
        last = plan.calendar.period_of(end, unit)
        raise PeriodError(
            f"'{label}' is outside the effective range of \"{plan.name}\" ({start} to {end}): "
            "no pay period of the plan ends in it, and a close is for good",
            hint=f"the plan's last pay period is {last.label}; later pay periods are closed "
                 "under the plan (or the new version of it) that pays them")
    return [p for p in pays if p not in after], after


def check_ended(period: str, pays: Sequence[Period], dataset, path: str,
                now: dt.datetime | None = None, closed: Collection[str] = ()) -> None:
    """Refuse (Refused) to close pay periods that have not ended: by the calendar (ending
    after today, UTC) or by the data (ending after its last event, so their last days may
    still be missing). A close is for good: a period closed early would pay what its missing
    days earn as adjustments in a later period instead of in it. Pay periods labelled in
    `closed` are left to the ledger, which says they are closed."""
    pays = [p for p in pays if p.label not in closed]
    today = (now or dt.datetime.now(dt.timezone.utc)).date()
    data_end = max((e.date for e in dataset.events), default=None)
    late = [p for p in pays if p.end > today or (data_end is not None and p.end > data_end)]
    if not late:
        return
    reasons = []
    if any(p.end > today for p in late):
        reasons.append(f"today is {today}")
    if data_end is not None and any(p.end > data_end for p in late):
        reasons.append(f"the data's last event is on {data_end}")
    one = len(late) == 1
    what = (f"'{period}' has not ended" if one and late[0].label == period else
            f"{range_of([p.label for p in late])} of '{period}' {'has' if one else 'have'} "
            "not ended")
    ends = "it ends" if one else "the first ends"
    ended = [p.label for p in pays if p not in late]  # pays end in order: those before
    hint = (f"close {'it' if one else 'them'} once {'it has' if one else 'they have'} ended "
            "and the data is in" if not ended else
            f"close the pay periods that have ended ({range_of(ended)}) now, and the rest once "
            "they end and their data is in")
    raise Refused(f"{what}: {ends} on {late[0].end}, and {' and '.join(reasons)}; a close is "
                  "for good, so nothing was closed",
                  hint=f"{hint}; --early closes pay periods before they end, when the data is "
                       "known to be complete", path=path)


def closed_labels(path: str, plan: str) -> set[str]:
    """The pay periods of `plan` closed in the ledger at `path`, read without verifying it
    (for a check before a close, which verifies it); none when it cannot be read."""
    if not os.path.isfile(path):
        return set()
    try:
        con = _connect(path, create=False)
        try:
            return {r[0] for r in con.execute(
                "SELECT pay_period FROM periods WHERE plan = ?", (plan,))}
        finally:
            con.close()
    except (LedgerError, sqlite3.DatabaseError):
        return set()


def plan_hash(result) -> str:
    """The content hash of the plan a run used: the file's sha256, or for several versions
    run together a sha256 over theirs, oldest first."""
    stamps = tuple(getattr(result, "versions", ()) or ()) or (result.stamp,)
    if len(stamps) == 1:
        return stamps[0].plan_hash
    joined = "\n".join(s.plan_hash for s in stamps)
    return hashlib.sha256(f"versions\n{joined}".encode()).hexdigest()


def _plan_sources(result) -> list[dict]:
    """The text of every plan file the run used, checked against the hashes it ran with."""
    from incentive_dsl.syntax.parser import read_source

    stamps = tuple(getattr(result, "versions", ()) or ()) or (result.stamp,)
    out = []
    for s in stamps:
        text, _ = read_source(s.plan_path)
        if text is None or hashlib.sha256(text.encode("utf-8")).hexdigest() != s.plan_hash:
            raise Refused(f"the plan file {s.plan_path} changed (or disappeared) while the period "
                          "was being computed: nothing was recorded; run the close again")
        out.append({"path": s.plan_path, "hash": s.plan_hash, "text": text})
    return out


# ------------------------------------------------------------------------------ the file


def _ledger_file(path: str, create: bool) -> Path:
    """The ledger file, resolved; LedgerError unless it is a regular file (or, to create, a
    path where one can be made). Nothing is opened: a FIFO or a device would block or never
    end."""
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        st = None
    except NotADirectoryError:  # e.g. `.incentive` beside the plan is a file
        parent = next((q for q in p.parents if q.is_file()), p.parent)
        raise LedgerError(f"the ledger path cannot be used: {parent} is a file, not a "
                          "directory", path=path) from None
    except OSError as exc:  # a symbolic link loop, a name too long
        raise LedgerError(f"the ledger path cannot be used: {exc.strerror or exc}",
                          path=path) from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise LedgerError("this is a directory, not a ledger file", path=path)
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise LedgerError("this is not a regular file (a pipe, a device or a socket): a ledger "
                          "is an SQLite file", path=path)
    if st is None:
        if p.is_symlink():
            raise LedgerError("this is a symbolic link to nothing", path=path)
        if not create:
            raise LedgerError("no ledger at this path (a ledger is created by `incentive close`)",
                              path=path)
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # e.g. `.incentive` beside the plan is a file
            raise LedgerError(f"cannot make the ledger's directory {p.parent}: "
                              f"{exc.strerror or exc}", path=path) from None
    try:
        return p.resolve()
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symbolic link loop (Python 3.11)
        raise LedgerError(f"the ledger path cannot be used: {exc}", path=path) from None


def _connect(path: str, create: bool, timeout: float | None = None) -> sqlite3.Connection:
    p = _ledger_file(path, create)
    uri = f"file:{quote(str(p))}?mode={'rwc' if create else 'rw'}"
    try:
        con = sqlite3.connect(uri, uri=True, isolation_level=None,
                              timeout=DEFAULT_TIMEOUT if timeout is None else timeout)
        con.row_factory = sqlite3.Row
        app = con.execute("PRAGMA application_id").fetchone()[0]
        version = con.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as exc:
        err = _db_error(path, exc)
        if not isinstance(err, (Busy, Broken)):
            err = LedgerError(f"not a readable ledger: {exc}", path=path)
        raise err from None
    if app not in (0, APPLICATION_ID) or (app == 0 and tables - {"sqlite_sequence"}):
        con.close()
        raise LedgerError("an SQLite database but not an incentive-dsl ledger", path=path)
    if version > SCHEMA_VERSION:
        con.close()
        raise LedgerError(f"written by a newer incentive-dsl (ledger schema {version}); "
                          "upgrade to read it", path=path)
    return con


def _ensure_schema(con: sqlite3.Connection) -> None:
    if con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION:
        return
    # One script, one transaction: the tables, the triggers and the version appear together.
    script = (f"BEGIN IMMEDIATE;\n{_SCHEMA}\n{_triggers()}\n"
              f"PRAGMA application_id = {APPLICATION_ID};\n"
              f"PRAGMA user_version = {SCHEMA_VERSION};\nCOMMIT;")
    try:
        con.executescript(script)
    except sqlite3.OperationalError as exc:
        if con.in_transaction:
            con.execute("ROLLBACK")
        raise _db_error("", exc) from None
    except BaseException:
        if con.in_transaction:
            con.execute("ROLLBACK")
        raise


def _row(r: sqlite3.Row) -> dict:
    return {k: r[k] for k in r.keys()}


def _run_info(d: dict) -> RunInfo:
    sources = tuple(_json(d["plan_sources"], list))
    for src in sources:
        _text(src["path"], "a plan path"), _text(src["hash"], "a plan hash")
        _text(src["text"], "a plan text")
    if d["pay_unit"] not in FREQUENCY_UNIT.values():
        raise ValueError(f"the pay period unit {d['pay_unit']!r} is unknown")
    if not isinstance(d["fiscal_start"], int) or not 1 <= d["fiscal_start"] <= 12:
        raise ValueError(f"the fiscal year start {d['fiscal_start']!r} is not a month")
    return RunInfo(
        id=d["id"], plan=_text(d["plan"], "the plan name"),
        periods=tuple(_text(x, "a period") for x in _json(d["periods"], list)),
        plan_path=d["plan_path"], plan_version=d["plan_version"],
        plan_hash=_text(d["plan_hash"], "the plan hash"),
        plan_git_revision=d["plan_git_revision"],
        plan_sources=sources, data_hash=_text(d["data_hash"], "the data hash"),
        data_files=tuple(_json(d["data_files"], list)), tool_version=d["tool_version"],
        currency=_text(d["currency"], "the currency"), fiscal_start=d["fiscal_start"],
        pay_unit=d["pay_unit"], created_at=d["created_at"], created_by=d["created_by"],
        hash=d["hash"])


def _closed(d: dict) -> ClosedPeriod:
    start = dt.date.fromisoformat(_text(d["start_date"], "the start date"))
    end = dt.date.fromisoformat(_text(d["end_date"], "the end date"))
    if end < start:
        raise ValueError(f"it ends ({end}) before it starts ({start})")
    for f in ("line_count", "statement_count", "run_id"):
        if not isinstance(d[f], int):
            raise ValueError(f"{f} {d[f]!r} is not a number")
    return ClosedPeriod(id=d["id"], run_id=d["run_id"], plan=_text(d["plan"], "the plan name"),
                        label=_text(d["pay_period"], "the pay period"), start=start, end=end,
                        line_count=d["line_count"], statement_count=d["statement_count"],
                        paid=_amount(d["paid_total"]))


def _line_row(d: dict) -> PayoutLine:
    """Every field of a `lines` record read and checked; the payout line it records."""
    for f in ("plan", "pay_period", "payee", "kind"):
        _text(d[f], f)
    _amount(d["amount"])
    if d["kind"] == ADJUSTMENT:
        _text(d["adj_period"], "the corrected period"), _text(d["adj_kind"], "the kind")
        _amount(d["adj_old"]), _amount(d["adj_new"])
        for ref in _json(d["adj_lines"], list):
            _text(ref, "a line reference")
    if not isinstance(d["run_id"], int):
        raise ValueError(f"run_id {d['run_id']!r} is not a number")
    return _line_from(_json(d["record"], dict))


def _statement_row(d: dict) -> Statement:
    for f in ("plan", "pay_period", "payee"):
        _text(d[f], f)
    _amount(d["paid"]), _amount(d["adjusted"])
    if not isinstance(d["run_id"], int):
        raise ValueError(f"run_id {d['run_id']!r} is not a number")
    return _statement_from(_json(d["record"], dict))


_CHECK = {"runs": _run_info, "periods": _closed, "lines": _line_row,
          "statements": _statement_row}


def _head(con: sqlite3.Connection) -> tuple[int, str, str | None, dict | None]:
    """The newest record: (seq, hash, table, row)."""
    best: tuple[int, str, str | None, dict | None] = (0, GENESIS, None, None)
    for table in TABLES:
        r = con.execute(f"SELECT * FROM {table} WHERE typeof(seq) = 'integer' "
                        "ORDER BY seq DESC LIMIT 1").fetchone()
        if r is not None and r["seq"] > best[0]:
            best = (r["seq"], r["hash"], table, _row(r))
    return best


@attrs.define
class _State:
    """What the ledger holds for one plan."""

    head_seq: int
    head_hash: str
    runs: dict[int, RunInfo]
    closed: list[ClosedPeriod]
    # (closed period, payee, earning or "", kind) -> [paid so far, references, rule, span]
    paid: dict[tuple[str, str, str, str], list]
    carry: dict[str, Decimal]  # payee -> carried adjustment still owed
    line_rows: list[dict]
    statement_rows: list[dict]
    # earning id -> its deal as the ledger recorded it (with the line, or with an
    # adjustment of it): a deal whose events left the data since is still named.
    deals: dict[str, str] = attrs.Factory(dict)

    @property
    def last_run(self) -> RunInfo | None:
        return self.runs[max(self.runs)] if self.runs else None

    def closed_by_label(self) -> dict[str, ClosedPeriod]:
        return {c.label: c for c in self.closed}


def _read_state(con: sqlite3.Connection, plan: str) -> _State:
    seq, head, _, _ = _head(con)
    runs = {r["id"]: _read("runs", _row(r), _run_info)
            for r in con.execute("SELECT * FROM runs WHERE plan = ? ORDER BY id", (plan,))}
    closed = [_read("periods", _row(r), _closed) for r in con.execute(
        "SELECT * FROM periods WHERE plan = ? ORDER BY start_date", (plan,))]
    paid: dict[tuple[str, str, str, str], list] = {}
    carry: dict[str, Decimal] = defaultdict(lambda: ZERO)
    deals: dict[str, str] = {}
    rows = [_row(r) for r in con.execute("SELECT * FROM lines WHERE plan = ? ORDER BY seq",
                                         (plan,))]
    with decimal.localcontext(CONTEXT):
        for r in rows:
            trace = _read("lines", r, _line_row).trace
            amount = _amount(r["amount"])
            if r["kind"] == CARRY:
                carry[r["payee"]] += amount
                continue
            if r["kind"] == ADJUSTMENT:
                key = (r["adj_period"], r["payee"], r["adj_earning"] or "", r["adj_kind"])
                deal = dict(trace.values).get("deal")
                if deal and r["adj_earning"]:
                    deals[r["adj_earning"]] = deal
            else:
                key = (r["pay_period"], r["payee"], r["earning"] or "", r["kind"])
                deal = json.loads(r["record"]).get("deal") if r["earning"] else None
                if isinstance(deal, str) and deal:  # recorded since closes keep it
                    deals[r["earning"]] = deal
            entry = paid.setdefault(key, [ZERO, [], r["rule"], None])
            entry[0] += amount
            entry[1].append(f"lines #{r['id']}")
            if entry[3] is None:
                entry[3] = attrs.asdict(trace.span) if trace.span.line else None
    statements = [_row(r) for r in con.execute(
        "SELECT * FROM statements WHERE plan = ? ORDER BY seq", (plan,))]
    for r in statements:
        _read("statements", r, _statement_row)
    return _State(seq, head, runs, closed, paid, dict(carry), rows, statements, deals)


# ------------------------------------------------------------------------------ adjustments


def _recomputed(result, labels: set[str]) -> dict[tuple[str, str, str, str], list]:
    out: dict[tuple[str, str, str, str], list] = {}
    with decimal.localcontext(CONTEXT):
        for p in result.payouts:
            if p.pay_period not in labels or p.kind in LEDGER_KINDS:
                continue
            key = (p.pay_period, p.payee, p.earning or "", p.kind)
            entry = out.setdefault(key, [ZERO, p])
            entry[0] += p.amount
    return out


def _counterfactual(ref: RunInfo, dataset, labels: set[str], until: dt.date):
    """The closed periods as the plan of the last close computes them on today's data, or
    None when that plan cannot be evaluated any more."""
    try:
        from incentive_dsl import api
        from incentive_dsl.check import check_trees
        from incentive_dsl.syntax import parse_text

        trees = []
        for src in ref.plan_sources:
            parsed = parse_text(src["path"], src["text"])
            if any(d.is_error for d in parsed.diagnostics):
                return None
            trees.append((parsed.tree, src["text"]))
        plans, diags = check_trees(trees)
        if not plans or any(d.is_error for d in diags):
            return None
        old = api.run(sorted(plans, key=lambda p: p.effective_start), dataset, until)
        if not old.ok:
            return None
        return _recomputed(old, labels)
    except Exception:  # attribution is best effort; the amounts never depend on it
        return None


def compute_adjustments(state: _State, result, dataset, pay_in: str) -> list[Adjustment]:
    """Compare what was paid for each closed period with the recomputation in `result` and
    return the corrections to pay in `pay_in`."""
    if not state.closed:
        return []
    labels = {c.label for c in state.closed}
    new = _recomputed(result, labels)
    ref = state.last_run
    plan_changed = ref is not None and ref.plan_hash != plan_hash(result)
    data_changed = ref is not None and ref.data_hash != result.stamp.data_hash
    mid = None
    if plan_changed and data_changed:
        mid = _counterfactual(ref, dataset, labels, state.closed[-1].end)
    order = {c.label: i for i, c in enumerate(state.closed)}
    deals = {e.id: e.deal for e in result.earnings}
    events = {e.id: e.deal for e in dataset.events} if dataset is not None else {}
    out = []
    for key in sorted(set(new) | set(state.paid),
                      key=lambda k: (k[1], order.get(k[0], len(order)), k[3], k[2])):
        period, payee, earning, kind = key
        old_entry = state.paid.get(key)
        new_entry = new.get(key)
        old = old_entry[0] if old_entry else ZERO
        now = new_entry[0] if new_entry else ZERO
        if old == now:
            continue
        # Each step from the old amount to the new one, with its cause. With both the plan and
        # the data changed, the plan of the last close on today's data (`mid`) separates the
        # part the data changed from the part the plan changed.
        if plan_changed and data_changed:
            m = None if mid is None else (mid[key][0] if key in mid else ZERO)
            if m is None:
                steps = [(old, now, PLAN_AND_DATA)]
            elif m == old:
                steps = [(old, now, PLAN_CHANGE)]
            elif m == now:
                steps = [(old, now, DATA_CHANGE)]
            else:
                steps = [(old, m, DATA_CHANGE), (m, now, PLAN_CHANGE)]
        elif plan_changed:
            steps = [(old, now, PLAN_CHANGE)]
        elif data_changed:
            steps = [(old, now, DATA_CHANGE)]
        elif ref is not None and ref.tool_version != __version__:
            steps = [(old, now, f"{TOOL_CHANGE} ({ref.tool_version} to {__version__})")]
        else:
            steps = [(old, now, RECALCULATION)]
        if new_entry is not None:
            rule, span = new_entry[1].trace.rule, new_entry[1].trace.span
        else:
            rule, span = old_entry[2] or "payout", _span(old_entry[3])
        for i, (a, b, cause) in enumerate(steps):
            out.append(Adjustment(
                payee=payee, pay_period=pay_in, closed_period=period, kind=kind,
                earning=earning or None, old=a, new=b, cause=cause,
                original=tuple(old_entry[1]) if old_entry else (), rule=rule, span=span,
                deal=_deal_of(earning, deals, events) or state.deals.get(earning),
                removed=new_entry is None and i == len(steps) - 1))
    return out


def _deal_of(earning: str, deals: dict[str, str | None], events: dict[str, str]) -> str | None:
    """The deal an earning line is for: today's earning line names it; a line gone from the
    recomputation is found by the event its id ends with (`core:commission:ana:E12#2`), when
    the data still has that event (else the caller asks the ledger's adjustments)."""
    if not earning:
        return None
    if earning in deals:
        return deals[earning]
    # The id is `rule:kind:payee:key` and a repeat's `#n`; the key is all that follows the
    # payee, since an event id may hold colons itself (a mapping's `D1:booked`).
    parts = earning.split(":", 3)
    if len(parts) < 4:
        return None
    key, hash_, n = parts[3].rpartition("#")
    return events.get(key if hash_ and n.isdigit() else parts[3])


def _adjustment_line(adj: Adjustment, plan_span: Span, cur: str) -> PayoutLine:
    refs = ", ".join(adj.original) if adj.original else "none (a line the period did not have)"
    because = "prior-period adjustment for " + describe(
        f"{adj.closed_period} (closed)", adj.kind, adj.rule, adj.deal, adj.earning, adj.old,
        adj.new, adj.cause, adj.original, adj.change, cur)
    return PayoutLine(
        payee=adj.payee, pay_period=adj.pay_period, kind=ADJUSTMENT, amount=adj.amount,
        earning=adj.earning,
        trace=Trace(rule=adj.rule, label="Prior-period adjustment", span=adj.span or plan_span,
                    because=because,
                    arithmetic=f"{fmt(adj.new, cur)} − {fmt(adj.old, cur)} = "
                               f"{fmt(adj.amount, cur)}",
                    values=(("closed period", adj.closed_period), ("original kind", adj.kind),
                            ("original earning", adj.earning or ""),
                            ("deal", adj.deal or ""), ("change", adj.change),
                            ("original lines", refs), ("old", str(adj.old)),
                            ("new", str(adj.new)), ("cause", adj.cause)),
                    inputs=(adj.earning,) if adj.earning else ()))


def _carry_line(payee: str, pp: Period, amount: Decimal, because: str, plan_span: Span,
                cur: str) -> PayoutLine:
    return PayoutLine(payee=payee, pay_period=pp.label, kind=CARRY, amount=amount, earning=None,
                      trace=Trace(rule="ledger", label="Carried adjustment", span=plan_span,
                                  because=because, arithmetic=fmt(amount, cur)))


def _apply(result, state: _State, adjustments: list[Adjustment], open_periods: list[Period],
           replace_closed: bool):
    """`result` with the ledger's view: closed pay periods as recorded, adjustment lines in the
    first open pay period, carried adjustments through the open ones. Returns the new result
    and, per (payee, pay period), the sum of the ledger's lines."""
    plan = result.plan
    cur = plan.currency
    closed = {c.label for c in state.closed}
    payouts = list(result.payouts)
    statements = list(result.statements)
    if replace_closed and closed:
        payouts = [p for p in payouts if p.pay_period not in closed]
        statements = [s for s in statements if s.pay_period not in closed]
        payouts += [_read("lines", r, _line_row) for r in state.line_rows]
        statements += [_read("statements", r, _statement_row) for r in state.statement_rows]
    by_key = {(s.payee, s.pay_period): i for i, s in enumerate(statements)}
    extra_lines: list[PayoutLine] = []
    made: dict[int, Adjustment] = {}  # id() of each adjustment line -> its adjustment
    added: dict[tuple[str, str], Decimal] = {}
    adj_by_payee: dict[str, list[Adjustment]] = defaultdict(list)
    for a in adjustments:
        adj_by_payee[a.payee].append(a)
    payees = sorted(set(adj_by_payee) | {p for p, v in state.carry.items() if v})
    first_open = open_periods[0].start if open_periods else dt.date.max
    last_before: dict[str, Statement] = {}
    for st in statements:
        if st.end < first_open and (st.payee not in last_before
                                    or last_before[st.payee].start < st.start):
            last_before[st.payee] = st
    with decimal.localcontext(CONTEXT):
        for payee in payees:
            carry = state.carry.get(payee, ZERO)
            before = last_before.get(payee)
            for i, pp in enumerate(open_periods):
                lines = []
                for a in adj_by_payee[payee] if i == 0 else ():
                    lines.append(_adjustment_line(a, plan.span, cur))
                    made[id(lines[-1])] = a
                if carry > 0:
                    lines.append(_carry_line(
                        payee, pp, -carry, f"recovery of {fmt(carry, cur)} of prior-period "
                        "adjustments carried from earlier pay periods", plan.span, cur))
                if not lines:
                    continue
                idx = by_key.get((payee, pp.label))
                base = statements[idx].paid if idx is not None else ZERO
                net = base + sum((ln.amount for ln in lines), ZERO)
                carry = ZERO
                if net < 0:
                    carry = -net
                    lines.append(_carry_line(
                        payee, pp, carry, f"pay would be {fmt(net, cur)} after prior-period "
                        "adjustments: nothing is taken back from pay; the amount is carried "
                        "forward and recovered from later pay", plan.span, cur))
                delta = sum((ln.amount for ln in lines), ZERO)
                if idx is None:
                    statements.append(_blank_statement(payee, pp, before))
                    idx = len(statements) - 1
                    by_key[(payee, pp.label)] = idx
                # The ledger's lines are the statement's `adjusted` flow.
                statements[idx] = attrs.evolve(statements[idx],
                                               paid=statements[idx].paid + delta,
                                               adjusted=statements[idx].adjusted + delta)
                before = statements[idx]
                added[(payee, pp.label)] = delta
                extra_lines += lines
    starts = {s.pay_period: s.start for s in statements}
    far = dt.date.max

    def order(item):
        n, ln = item
        return (ln.payee, starts.get(ln.pay_period, far), 1 if ln.kind in LEDGER_KINDS else 0, n)

    merged = [ln for _, ln in sorted(enumerate(payouts + extra_lines), key=order)]
    statements.sort(key=lambda s: (s.payee, s.start))
    return (attrs.evolve(result, payouts=tuple(merged), statements=tuple(statements)), added,
            made)


def _open_periods(plan, state: _State, versions_first: Period, until: dt.date) -> list[Period]:
    start = state.closed[-1].end + dt.timedelta(days=1) if state.closed else versions_first.start
    if until < start:
        return []
    return plan.calendar.periods(start, until, pay_unit(plan))


def _evaluated_until(result, window: Period | None) -> dt.date:
    if window is not None:
        return window.end
    ends = [s.end for s in result.statements]
    if ends:
        return max(ends)
    return dt.date.fromisoformat(result.stamp.end)


def with_ledger(path: str, result, dataset, window: Period | None = None) -> LedgerRun:
    """`result` as the ledger sees it: closed pay periods show what was recorded for them,
    and the first open pay period carries the prior-period adjustments (when the run reaches
    it). Nothing is written."""
    plan = result.plan
    con = _connect(path, create=False)
    try:
        con.execute("BEGIN")
        _require_intact(con, path)
        state = _read_state(con, plan.name)
        _check_plan(con, state, plan, result, new_plan=None)
        con.execute("ROLLBACK")
    except sqlite3.DatabaseError as exc:
        raise _db_error(path, exc) from None
    except LedgerError as exc:
        exc.path = exc.path or path
        raise
    finally:
        con.close()
    if not state.closed:
        return LedgerRun(path, result, (), None, (), state.head_hash,
                         (f"nothing of \"{plan.name}\" is closed in {path}",))
    closed = tuple(c.label for c in state.closed)
    until = _evaluated_until(result, window)
    first_open = next_pay_period(plan, state.closed[-1].end)
    notes = []
    adjustments: list[Adjustment] = []
    open_periods: list[Period] = []
    if until >= first_open.start:
        open_periods = _open_periods(plan, state, first_open, until)
        adjustments = compute_adjustments(state, result, dataset, first_open.label)
        if window is not None and adjustments and not window.contains(first_open.start):
            notes.append(f"{len(adjustments)} prior-period adjustment(s) are paid in "
                         f"{first_open.label}, the first open pay period, outside the window")
    else:
        notes.append(f"{range_of(closed)} {'is' if len(closed) == 1 else 'are'} closed: closed "
                     f"pay periods show what was paid; corrections would be paid in "
                     f"{first_open.label}, which this run does not reach")
    new, _, _ = _apply(result, state, adjustments, open_periods, replace_closed=True)
    return LedgerRun(path, new, closed, first_open.label, tuple(adjustments), state.head_hash,
                     tuple(notes))


# ------------------------------------------------------------------------------ close


class _Writer:
    """Appends chained records inside the open transaction."""

    def __init__(self, con: sqlite3.Connection, seq: int, head: str) -> None:
        self.con, self.seq, self.head = con, seq, head
        self.next_id = {}
        for table in TABLES:
            r = con.execute("SELECT seq FROM sqlite_sequence WHERE name = ?", (table,)).fetchone()
            top = con.execute(f"SELECT max(id) FROM {table}").fetchone()[0] or 0
            self.next_id[table] = max(top, r[0] if r else 0) + 1
        self.pending: list[tuple[str, dict]] = []

    def add(self, table: str, row: dict) -> dict:
        row = {"id": self.next_id[table], "seq": self.seq + 1, **row}
        self.next_id[table] += 1
        self.seq += 1
        row["prev_hash"] = self.head
        row["hash"] = self.head = record_hash(self.head, table, row)
        self.pending.append((table, row))
        return row

    def flush(self) -> int:
        n = 0
        i = 0
        while i < len(self.pending):
            table = self.pending[i][0]
            j = i
            while j < len(self.pending) and self.pending[j][0] == table:
                j += 1
            cols = (*_COLUMNS[table], "prev_hash", "hash")
            self.con.executemany(
                f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                [tuple(row[c] for c in cols) for _, row in self.pending[i:j]])
            n += j - i
            i = j
        self.pending.clear()
        return n


def close(path: str, versions: Sequence, dataset, period: str, result=None, *,
          by: str | None = None, now: dt.datetime | None = None,
          progress: Callable[[str], None] | None = None,
          timeout: float | None = None, chunk: int = 500, new_plan: bool = False,
          early: bool = False) -> CloseResult:
    """Close the pay period(s) named by `period`: compute them with the plan (its versions,
    oldest first) and the data, and record them, with the prior-period adjustments they pay,
    in one transaction. Raises Refused (nothing recorded) when the period is closed already,
    an earlier one is still open, a pay period of it has not ended (after today, `now`, or
    after the data's last event; `early` closes it anyway), the plan does not continue the
    ledger's history of it (PlanMismatch: renamed, other pay periods; `new_plan` says a plan
    new to a ledger that holds other plans is no renamed one) or another close holds the
    ledger (Busy); Broken when the ledger fails verification."""
    from incentive_dsl import api

    step = progress or (lambda message: None)
    versions = list(versions)
    plan = versions[-1]
    pays = pay_periods(versions, period)
    if result is None:
        step("evaluating")
        result = api.run(versions, dataset, pays[-1].end)
    if not result.ok:
        raise Refused("the plan or the data has errors: nothing was closed")
    sources = _plan_sources(result)
    existed = os.path.exists(path)
    if not existed:  # refuse before creating the ledger (and its directory)
        try:
            _check_order(_State(0, GENESIS, {}, [], {}, {}, [], []), plan, pays, versions)
        except Refused as exc:  # a moved plan or a mistyped --ledger finds no ledger: say so
            exc.path = path
            exc.hint = ("there is no ledger at this path yet; if earlier pay periods were "
                        "closed in another ledger, give it with --ledger")
            raise
        if not early:
            check_ended(period, pays, dataset, path, now)
    con = _connect(path, create=True, timeout=timeout)
    try:
        if existed:
            _require_tables(con, path)
        _ensure_schema(con)
        cache: dict[str, object] = {}

        def prepare(state: _State):
            _check_plan(con, state, plan, result, new_plan)
            todo = _still_open(state, pays)
            _check_order(state, plan, todo, versions)
            if not early:  # after the order: a closed period is said to be closed
                check_ended(period, todo, dataset, path, now)
            key = (state.head_hash, plan_hash(result))
            if key not in cache:
                cache[key] = compute_adjustments(state, result, dataset, todo[0].label)
            return todo, cache[key]

        step("verifying the ledger")
        con.execute("BEGIN")
        _require_intact(con, path)
        state = _read_state(con, plan.name)
        con.execute("ROLLBACK")
        verified = (state.head_seq, state.head_hash)
        prepare(state)  # refuse early, and compute outside the lock
        step("waiting for the ledger")
        con.execute("BEGIN IMMEDIATE")
        try:
            seq, head, _, _ = _head(con)
            if (seq, head) != verified:  # another close wrote meanwhile: verify again
                _require_intact(con, path)
            state = _read_state(con, plan.name)
            todo, adjustments = prepare(state)
            out = _write(con, state, plan, todo, result, sources, adjustments,
                         by or who(), now or dt.datetime.now(dt.timezone.utc), step, chunk)
            step("committing")
            con.execute("COMMIT")
        except BaseException:
            if con.in_transaction:
                con.execute("ROLLBACK")
            raise
        step("committed")
        return attrs.evolve(out, path=path,
                            after_plan=tuple(p.label for p in after_plan(versions, period)),
                            already_closed=tuple(p.label for p in pays[:len(pays) - len(todo)]))
    except sqlite3.IntegrityError as exc:  # the unique index, should the check be bypassed
        raise Refused(f"the ledger refused the close: {exc}", path=path) from None
    except sqlite3.DatabaseError as exc:
        raise _db_error(path, exc) from None
    except LedgerError as exc:
        exc.path = exc.path or path
        raise
    finally:
        con.close()


def _check_plan(con: sqlite3.Connection, state: _State, plan, result,
                new_plan: bool | None) -> None:
    """Refuse a plan that does not continue the ledger's history of it. The ledger keys
    closes on the plan's name and pay period labels, so a renamed plan would find nothing
    closed and pay its closed periods again, and other pay periods (frequency, fiscal year)
    would reverse every closed one. `new_plan` None (a run, which writes nothing) skips the
    refusal of a plan new to a ledger of other plans."""
    last = state.last_run
    if last is not None:
        changed = []
        if last.pay_unit != pay_unit(plan):
            changed.append(f"its closed pay periods are {last.pay_unit}s, it is now paid "
                           f"{plan.payout.frequency}")
        elif last.pay_unit == "biweek" and state.closed and \
                plan.calendar.parse(state.closed[-1].label) is None:
            changed.append(f"its bi-weekly pay periods ({state.closed[-1].label}) are now "
                           f"counted from {plan.calendar.pay_start}")
        # Months are months whatever the fiscal year; quarters, halves and years move with it.
        if last.fiscal_start != plan.calendar.fiscal_start and last.pay_unit != "month":
            changed.append(f"its fiscal year started in month {last.fiscal_start}, now in "
                           f"month {plan.calendar.fiscal_start}")
        if last.currency != plan.currency:
            changed.append(f"it was paid in {last.currency}, now in {plan.currency}")
        if changed:
            raise PlanMismatch(
                f"\"{plan.name}\" no longer pays on the pay periods the ledger closed "
                f"({range_of([c.label for c in state.closed])}): {'; '.join(changed)}. "
                "Its recomputation would not line up with what was paid and would reverse "
                "every closed pay period",
                hint="keep the pay frequency, fiscal year and currency of the closed pay "
                     "periods; a plan paid otherwise is a new plan: give it a new name and "
                     "its own ledger (--ledger FILE)")
        return
    others = [_read("runs", _row(r), _run_info) for r in con.execute(
        "SELECT * FROM runs WHERE plan != ? ORDER BY id", (plan.name,))]
    if not others:
        return
    # A plan copied for another team may differ from its original only in the name:
    # --new-plan says so; the same file under a new name is a rename all the same.
    old = _renamed_from(others, plan, result, by_text=not new_plan)
    if old is not None:
        closed = [r[0] for r in con.execute(
            "SELECT pay_period FROM periods WHERE plan = ? ORDER BY start_date", (old.plan,))]
        span = f" ({range_of(closed)})" if closed else ""
        raise PlanMismatch(
            f"\"{plan.name}\" is \"{old.plan}\" renamed (the same plan file as its close "
            f"#{old.id}, {old.plan_sources[0]['path']}): the ledger records closes under the "
            f"plan's name, so the renamed plan would close and pay \"{old.plan}\"'s closed "
            f"pay periods{span} again",
            hint=f"keep the name \"{old.plan}\" in the plan header (the label can change in "
                 "a comment or in the rule labels)")
    if new_plan is False:
        names = ", ".join(f"\"{n}\"" for n in dict.fromkeys(r.plan for r in others))
        raise PlanMismatch(
            f"nothing of \"{plan.name}\" is closed in this ledger, which holds closes of "
            f"{names}: if \"{plan.name}\" is one of them renamed, this close would pay its "
            "closed pay periods again",
            hint="give the plan back its old name; if it is a different plan, close with "
                 "--new-plan")


def _renamed_from(others: list[RunInfo], plan, result, by_text: bool) -> RunInfo | None:
    """The newest close of another plan name made from the same plan file (the same path,
    or with `by_text` a file whose text differs only in the plan's name), if any."""
    from incentive_dsl.syntax.parser import read_source

    def body(text: str, name: str) -> str:
        return hashlib.sha256(text.replace(f'"{name}"', '""', 1).encode()).hexdigest()

    def where(path: str) -> tuple[str, str]:
        try:
            return path, str(Path(path).resolve())
        except (OSError, RuntimeError):
            return path, path

    stamps = tuple(getattr(result, "versions", ()) or ()) or (result.stamp,)
    paths, bodies = set(), set()
    for s in stamps:
        paths.update(where(s.plan_path))
        text, _ = read_source(s.plan_path)
        if text is not None:
            bodies.add(body(text, plan.name))
    for run in reversed(others):
        for src in run.plan_sources:
            if set(where(src["path"])) & paths or (
                    by_text and body(src["text"], run.plan) in bodies):
                return run
    return None


def _still_open(state: _State, pays: list[Period]) -> list[Period]:
    """The pay periods of a longer period left to close: a quarter whose first months are
    closed closes the rest, as payroll closing the quarter expects. Every one closed, or
    one pay period, is left whole for `_check_order` to refuse."""
    done = state.closed_by_label()
    closed = len(list(itertools.takewhile(lambda pp: pp.label in done, pays)))
    return pays[closed:] if closed < len(pays) else pays


def _check_order(state: _State, plan, pays: list[Period], versions: Sequence) -> None:
    done = state.closed_by_label()
    for pp in pays:
        if pp.label in done:
            c = done[pp.label]
            run = state.runs.get(c.run_id)
            by = f"ledger run #{c.run_id}" + (f" on {run.created_at} by {run.created_by}"
                                              if run else "")
            what = f"{pp.label} of \"{plan.name}\" is"
            if len(pays) > 1:  # reached only when every one is closed (_still_open)
                what = f"{range_of([p.label for p in pays])} of \"{plan.name}\" are"
                ids = sorted({done[p.label].run_id for p in pays})
                by = f"ledger run{'s' if len(ids) > 1 else ''} " + ", ".join(f"#{n}" for n in ids)
            nxt = next_pay_period(plan, state.closed[-1].end).label
            raise Refused(
                f"{what} already closed ({by}). A closed pay period never changes and "
                f"cannot be reopened: correct "
                f"the plan or the data and close the next pay period ({nxt}); the differences "
                "are paid there as prior-period adjustments")
    expected = (next_pay_period(plan, state.closed[-1].end) if state.closed
                else first_pay_period(versions))
    if pays[0].start != expected.start:
        if pays[0].start > expected.start:
            raise Refused(f"{pays[0].label} cannot be closed while {expected.label} is open: pay "
                          f"periods are closed in order; close {expected.label} first")
        raise Refused(f"{pays[0].label} does not follow the last closed pay period "
                      f"({state.closed[-1].label}) of \"{plan.name}\": its pay periods changed; "
                      f"the next pay period to close starts on {expected.start}")


def _write(con, state: _State, plan, pays: list[Period], result, sources, adjustments,
           by: str, now: dt.datetime, step, chunk: int) -> CloseResult:
    labels = [pp.label for pp in pays]
    cur = plan.currency
    new, added, made = _apply(result, state, adjustments, pays, replace_closed=False)
    stamp = result.stamp
    w = _Writer(con, state.head_seq, state.head_hash)
    run_row = w.add("runs", {
        "kind": "close", "plan": plan.name, "periods": _dumps(labels),
        "plan_path": stamp.plan_path, "plan_version": stamp.plan_version,
        "plan_hash": plan_hash(result), "plan_git_revision": stamp.plan_git_revision,
        "plan_sources": _dumps(sources), "data_hash": stamp.data_hash,
        "data_files": _dumps(list(stamp.data_files)), "tool_version": __version__,
        "currency": plan.currency, "fiscal_start": plan.calendar.fiscal_start,
        "pay_unit": pay_unit(plan), "created_at": now.isoformat(timespec="seconds"),
        "created_by": by})
    run_id = run_row["id"]
    wanted = set(labels)
    # A line's record keeps its deal, so a correction of it names the deal after its events
    # have left the data (compute_adjustments).
    deal_of = {e.id: e.deal for e in result.earnings if e.deal}
    lines_by = defaultdict(list)
    for ln in new.payouts:
        if ln.pay_period in wanted:
            lines_by[ln.pay_period].append(ln)
    statements_by = defaultdict(list)
    for s in new.statements:
        if s.pay_period in wanted:
            statements_by[s.pay_period].append(s)
    total_records = 1 + len(pays) + sum(map(len, lines_by.values())) + \
        sum(map(len, statements_by.values()))
    step(f"recording {total_records} records")
    written = [0]
    periods = []
    n_lines = n_statements = 0

    def tick() -> None:
        if len(w.pending) >= chunk:
            written[0] += w.flush()
            step(f"recorded {written[0]}/{total_records} records")

    for pp in pays:
        hashes = []
        with decimal.localcontext(CONTEXT):
            for ln in lines_by[pp.label]:
                adj = made.get(id(ln)) if ln.kind == ADJUSTMENT else None
                record = _to_json(ln, cur)
                if adj is None and ln.earning in deal_of:
                    record["deal"] = deal_of[ln.earning]
                row = w.add("lines", {
                    "run_id": run_id, "plan": plan.name, "pay_period": pp.label,
                    "payee": ln.payee, "kind": ln.kind, "amount": _money(ln.amount, cur),
                    "earning": ln.earning, "rule": ln.trace.rule,
                    "record": _dumps(record),
                    "adj_period": adj.closed_period if adj else None,
                    "adj_kind": adj.kind if adj else None,
                    "adj_earning": adj.earning if adj else None,
                    "adj_old": _money(adj.old, cur) if adj else None,
                    "adj_new": _money(adj.new, cur) if adj else None,
                    "adj_cause": adj.cause if adj else None,
                    "adj_lines": _dumps(list(adj.original)) if adj else None})
                hashes.append(row["hash"])
                tick()
            paid = ZERO
            for s in statements_by[pp.label]:
                row = w.add("statements", {
                    "run_id": run_id, "plan": plan.name, "pay_period": pp.label,
                    "payee": s.payee, "paid": _money(s.paid, cur),
                    "adjusted": _money(added.get((s.payee, pp.label), ZERO), cur),
                    "record": _dumps(_to_json(s, cur))})
                paid += s.paid
                hashes.append(row["hash"])
                tick()
        digest = hashlib.sha256("\n".join(hashes).encode()).hexdigest()
        prow = w.add("periods", {
            "run_id": run_id, "plan": plan.name, "pay_period": pp.label,
            "start_date": pp.start.isoformat(), "end_date": pp.end.isoformat(),
            "line_count": len(lines_by[pp.label]),
            "statement_count": len(statements_by[pp.label]), "paid_total": _money(paid, cur),
            "digest": digest})
        periods.append(_closed(prow))
        n_lines += len(lines_by[pp.label])
        n_statements += len(statements_by[pp.label])
    written[0] += w.flush()
    step(f"recorded {written[0]}/{total_records} records")
    after = defaultdict(lambda: ZERO, state.carry)
    with decimal.localcontext(CONTEXT):
        for ln in new.payouts:
            if ln.kind == CARRY and ln.pay_period in wanted:
                after[ln.payee] += ln.amount
    carried = tuple(Carried(payee, state.carry.get(payee, ZERO), after[payee])
                    for payee in sorted(after) if after[payee] or state.carry.get(payee))
    return CloseResult(path="", plan=plan.name, periods=tuple(periods), run=_run_info(run_row),
                       adjustments=tuple(adjustments), lines=n_lines, statements=n_statements,
                       head=w.head, carried=carried)


# ------------------------------------------------------------------------------ verify


def _records(con: sqlite3.Connection, table: str) -> Iterator[tuple[tuple, str, dict]]:
    for r in con.execute(f"SELECT * FROM {table} ORDER BY seq"):
        d = _row(r)
        seq = d.get("seq")
        # A tampered seq may not be a number: such records sort last instead of failing.
        yield ((0, seq) if isinstance(seq, int) else (1, repr(seq))), table, d


def verify(path: str, head: str | None = None) -> VerifyReport:
    """Recompute the hash chain and every check the ledger allows; report what is wrong,
    the first broken record first."""
    try:
        con = _connect(path, create=False)
    except Broken as exc:  # damaged past opening: reported as any other damage
        return VerifyReport(path, 0, GENESIS, (Problem("file", None, None, exc.message),))
    try:
        con.execute("BEGIN")  # one consistent snapshot, however long the check takes
        return _verify(con, path, head)
    except sqlite3.DatabaseError as exc:
        err = _db_error(path, exc)
        if isinstance(err, Busy):
            raise err from None
        return VerifyReport(path, 0, GENESIS, (Problem("file", None, None, err.message),))
    finally:
        if con.in_transaction:
            con.execute("ROLLBACK")
        con.close()


def _verify(con: sqlite3.Connection, path: str, head: str | None = None) -> VerifyReport:
    problems: list[Problem] = []
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if not tables & set(TABLES):
        problems.append(Problem("file", None, None, "it holds no ledger records and no ledger "
                                "tables: it is not a ledger written by `incentive close`, or "
                                "its tables were dropped"))
    else:
        quick = con.execute("PRAGMA quick_check").fetchone()[0]
        if quick != "ok":
            problems.append(Problem("file", None, None, f"SQLite reports damage: {quick}"))
        for t in TABLES:
            if t not in tables:
                problems.append(Problem(t, None, None, "the table is missing (dropped)"))
    present = [t for t in TABLES if t in tables]
    count, prev, expected_seq = 0, GENESIS, 1
    want = head.strip().lower() if head else None
    seen_head = False
    first: list[Problem] = []
    for key, table, row in heapq.merge(*(_records(con, t) for t in present),
                                       key=lambda x: x[0]):
        count += 1
        seq = row.get("seq")
        where = (table, row.get("id"), seq)
        if key[0] != 0:
            first.append(Problem(*where, "its sequence number is not a number"))
        elif seq != expected_seq:
            if seq < expected_seq:
                first.append(Problem(*where, f"sequence number {seq} is used twice"))
            else:
                missing = (f"record {expected_seq}" if seq == expected_seq + 1
                           else f"records {expected_seq} to {seq - 1}")
                first.append(Problem(*where, f"{missing} of the chain before it are missing "
                                     "(deleted)"))
        if row.get("prev_hash") != prev:
            first.append(Problem(*where, "its link to the record before it is broken: that "
                                 "record was deleted, or edited and re-hashed"))
        try:
            matches = record_hash(row.get("prev_hash"), table, row) == row.get("hash")
        except _UNREADABLE:
            matches = False
        if not matches:
            first.append(Problem(*where, "its content does not match its hash: the record "
                                 "was edited"))
        try:
            _CHECK[table](row)
        except _UNREADABLE as exc:
            first.append(Problem(*where, f"its content cannot be read: {_why(exc)}"))
        prev = row.get("hash")
        seen_head = seen_head or bool(want and len(want) >= 8 and isinstance(prev, str)
                                      and prev.startswith(want))
        if key[0] == 0:
            expected_seq = max(expected_seq, seq + 1)
    problems = first + problems
    for t in present:
        counter = con.execute("SELECT seq FROM sqlite_sequence WHERE name = ?",
                              (t,)).fetchone() if "sqlite_sequence" in tables else None
        top, n = con.execute(f"SELECT coalesce(max(id), 0), count(*) FROM {t}").fetchone()
        if counter is not None and counter[0] > top:
            problems.append(Problem(t, None, None, f"records #{top + 1} to #{counter[0]} "
                                    "were deleted (the table's id counter is past them)"))
        if n != top:
            problems.append(Problem(t, None, None, f"{top - n} record(s) with ids below "
                                    f"#{top} are missing (deleted)"))
    if set(TABLES) <= tables:
        problems += _check_seals(con)
    triggers = {r[0] for r in con.execute(
        "SELECT name FROM sqlite_master WHERE type='trigger'")}
    for name in TRIGGER_NAMES if present else ():
        if name not in triggers:
            problems.append(Problem(name.split("_no_")[0], None, None,
                                    f"the append-only trigger {name} is missing (dropped)"))
    if want is not None and not seen_head:
        problems.append(Problem("ledger", None, None, f"the head {head} kept from an earlier "
                                "close is not in the chain: records were deleted or the ledger "
                                "was rewritten" + ("" if count else " (it holds no records)")))
    return VerifyReport(path, count, prev if isinstance(prev, str) else GENESIS,
                        tuple(problems))


def _require_tables(con: sqlite3.Connection, path: str) -> None:
    """Refuse a file without ledger tables (an empty file, or another program's SQLite file):
    `verify` calls it broken, so no command reads it, and `close` does not start a history in
    it, as a ledger wiped to an empty file would have all its pay periods paid again."""
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    never = con.execute("PRAGMA user_version").fetchone()[0] == 0  # no schema was ever made
    if never and not tables & set(TABLES):
        raise LedgerError("this file holds no ledger tables: it is not a ledger written by "
                          "`incentive close`",
                          hint="a close creates a new ledger where no file is: remove the file "
                               "(or give another --ledger) if it never held a ledger; else "
                               "restore the ledger from a backup", path=path)


def _require_intact(con: sqlite3.Connection, path: str) -> None:
    """Refuse a ledger that `verify` reports broken: a tampered amount must never become a
    payment or an adjustment."""
    _require_tables(con, path)
    report = _verify(con, path)
    if not report.ok:
        more = len(report.problems) - 1
        raise Broken(f"the ledger is broken: {report.problems[0]}"
                     + (f" (and {more} more problem(s))" if more else "")
                     + "; nothing was read from it or written to it", hint=VERIFY_HINT,
                     path=path)


def _check_seals(con: sqlite3.Connection) -> list[Problem]:
    out = []
    for p in con.execute("SELECT * FROM periods ORDER BY seq"):
        rows = [r for r in con.execute(
            "SELECT 'l' AS t, seq, hash FROM lines WHERE plan = ? AND pay_period = ? AND run_id = ?"
            " UNION ALL SELECT 's', seq, hash FROM statements WHERE plan = ? AND pay_period = ? "
            "AND run_id = ? ORDER BY t, seq",
            (p["plan"], p["pay_period"], p["run_id"]) * 2)]
        lines = [str(r["hash"]) for r in rows if r["t"] == "l"]
        stmts = [str(r["hash"]) for r in rows if r["t"] == "s"]
        digest = hashlib.sha256("\n".join(lines + stmts).encode()).hexdigest()
        if len(lines) != p["line_count"] or len(stmts) != p["statement_count"] or \
                digest != p["digest"]:
            out.append(Problem("periods", p["id"], p["seq"], f"the seal of {p['pay_period']} "
                               f"({p['line_count']} lines, {p['statement_count']} statements) "
                               f"does not match its records ({len(lines)} lines, {len(stmts)} "
                               "statements)"))
    for r in con.execute("SELECT * FROM runs ORDER BY seq"):
        try:
            want = [_text(x, "a period") for x in _json(r["periods"], list)]
        except _UNREADABLE:
            continue  # reported as unreadable
        have = {x[0] for x in con.execute("SELECT pay_period FROM periods WHERE run_id = ?",
                                          (r["id"],))}
        if set(want) != have:
            out.append(Problem("runs", r["id"], r["seq"], f"it closed {', '.join(want)} but the "
                               f"ledger holds seals for {', '.join(sorted(have)) or 'none'}"))
    # Every line and statement belongs to a sealed pay period, and every adjustment corrects a
    # closed one: a record moved to another period (and the chain rebuilt) shows here.
    for table in ("lines", "statements"):
        for r in con.execute(
                f"SELECT t.id, t.seq, t.pay_period FROM {table} t WHERE NOT EXISTS (SELECT 1 "
                "FROM periods p WHERE p.plan = t.plan AND p.pay_period = t.pay_period AND "
                "p.run_id = t.run_id) ORDER BY t.seq"):
            out.append(Problem(table, r["id"], r["seq"], f"it belongs to pay period "
                               f"{r['pay_period']!r}, which its close did not seal"))
    for r in con.execute(
            "SELECT l.id, l.seq, l.adj_period FROM lines l WHERE l.kind = ? AND NOT EXISTS "
            "(SELECT 1 FROM periods p WHERE p.plan = l.plan AND p.pay_period = l.adj_period "
            "AND p.run_id < l.run_id) ORDER BY l.seq", (ADJUSTMENT,)):
        out.append(Problem("lines", r["id"], r["seq"], f"it corrects pay period "
                           f"{r['adj_period']!r}, which was not closed before it"))
    return out


# ------------------------------------------------------------------------------ show


def history(path: str, plan: str | None = None, payee: str | None = None,
            period: str | None = None) -> History:
    """The closes, closed pay periods and lines of the ledger, optionally for one plan, one
    payee, or one period (a pay period label, or a longer period such as 2027-Q1: its pay
    periods, with the adjustments that corrected them wherever they were paid)."""
    con = _connect(path, create=False)
    try:
        con.execute("BEGIN")
        _require_intact(con, path)  # what a broken ledger says cannot be shown as paid
        _, head, _, _ = _head(con)
        where, args = ("WHERE plan = ?", (plan,)) if plan else ("", ())
        runs = [_read("runs", _row(r), _run_info) for r in con.execute(
            f"SELECT * FROM runs {where} ORDER BY seq", args)]
        periods = [_read("periods", _row(r), _closed) for r in con.execute(
            f"SELECT * FROM periods {where} ORDER BY plan, start_date", args)]
        rows = [_row(r) for r in con.execute(f"SELECT * FROM lines {where} ORDER BY seq", args)]
        traces = [_read("lines", r, _line_row).trace for r in rows]
        stated = {(r[0], r[1], r[2]) for r in con.execute(
            f"SELECT DISTINCT plan, pay_period, payee FROM statements {where}", args)}
        payees = frozenset(r[2] for r in stated) | {r["payee"] for r in rows}
        plans = frozenset(r[0] for r in con.execute("SELECT DISTINCT plan FROM runs"))
        con.execute("ROLLBACK")
    except sqlite3.DatabaseError as exc:
        raise _db_error(path, exc) from None
    except LedgerError as exc:
        exc.path = exc.path or path
        raise
    finally:
        con.close()
    selected: set[tuple[str, str]] | None = None
    if period is not None:
        calendars = _calendars(runs, periods) or {None: Calendar()}  # None: no plan closed
        spans = {plan: cal.parse(period) for plan, cal in calendars.items()}
        if not any(spans.values()):
            cal = next(iter(calendars.values()))
            first = periods[0].start if periods else dt.date.today()
            raise PeriodError(cal.not_a_period(period, first), path=path)
        _require_a_pay_period(period, spans, calendars, path)
        selected = set()
        for p in periods:
            span = spans.get(p.plan)
            # As a report's window: the pay periods that end in it (api.window).
            if span is not None and span.start <= p.end <= span.end:
                selected.add((p.plan, p.label))
    lines = []
    for r, trace in zip(rows, traces):
        if payee is not None and r["payee"] != payee:
            continue
        if selected is not None and (r["plan"], r["pay_period"]) not in selected and (
                r["plan"], r["adj_period"]) not in selected:
            continue
        adj = None
        if r["kind"] == ADJUSTMENT:
            lines_of = json.loads(r["adj_lines"] or "[]")
            told = dict(trace.values)
            adj = {"period": r["adj_period"], "kind": r["adj_kind"],
                   "earning": r["adj_earning"], "old": r["adj_old"], "new": r["adj_new"],
                   "cause": r["adj_cause"], "lines": lines_of,
                   "deal": told.get("deal") or None,
                   "change": told.get("change") or _change_of(
                       _amount(r["adj_old"]), lines_of, removed=False)}
        lines.append(LedgerLine(id=r["id"], run_id=r["run_id"], plan=r["plan"],
                                pay_period=r["pay_period"], payee=r["payee"], kind=r["kind"],
                                amount=_amount(r["amount"]), earning=r["earning"],
                                rule=r["rule"], because=trace.because, adjusts=adj))
    shown = {(ln.plan, ln.pay_period) for ln in lines}
    # A payee's closed pay periods include those that paid them by statement alone (nothing
    # earned, nothing paid): shown as none, they would look never closed for the payee.
    shown |= {(p, label) for p, label, who in stated if who == payee and (
        selected is None or (p, label) in selected)}
    keep = [p for p in periods if (p.plan, p.label) in shown or (
        payee is None and (selected is None or (p.plan, p.label) in selected))]
    run_ids = {p.run_id for p in keep}
    return History(path, head, tuple(r for r in runs if r.id in run_ids or (
        payee is None and period is None)), tuple(keep), tuple(lines), payees,
        period if selected == set() else None, tuple(periods), plans)


def _require_a_pay_period(period: str, spans: dict[str | None, Period | None],
                          calendars: dict[str | None, Calendar], path: str) -> None:
    """Refuse a period in which no pay period of the ledger's plans ends (2027-02 of a plan
    paid quarterly), naming the pay period that holds it, as a report's window does
    (api.EmptyWindow): shown as nothing, it would look like a period without closes."""
    holding = {}
    for name, span in spans.items():
        if name is None or span is None:  # nothing closed yet, or another plan's calendar
            return
        cal = calendars[name]
        pay = cal.period_of(span.end, cal.pay_unit)
        if pay.end <= span.end or pay.start > span.start:
            return  # a pay period of this plan ends in the period
        paid = next((f for f, u in FREQUENCY_UNIT.items() if u == cal.pay_unit), cal.pay_unit)
        holding[name] = (paid, pay)
    names = " or ".join(f'"{name}"' for name in holding)
    if len(holding) == 1:
        (paid, pay), = holding.values()
        raise PeriodError(
            f"no pay period of {names} ends in {period}: nothing to show (the plan is paid "
            f"{paid}, and a period shows the pay periods that end in it)",
            hint=f"the pay period {pay.label} ({pay.start} to {pay.end}) holds it: --period "
                 f"{pay.label}", path=path)
    raise PeriodError(
        f"no pay period of {names} ends in {period}: nothing to show (a period shows the pay "
        "periods that end in it)",
        hint="the pay periods that hold it: " + ", ".join(
            f"{pay.label} of \"{name}\" (paid {paid})" for name, (paid, pay) in holding.items()),
        path=path)


def _calendars(runs: Sequence[RunInfo], periods: Sequence[ClosedPeriod]) -> dict[str, Calendar]:
    """Each plan's calendar as its last close recorded it; a bi-weekly plan's fortnights are
    counted from one it closed, so its pay period labels parse too."""
    starts = {p.plan: p.start for p in periods}
    return {r.plan: Calendar(r.fiscal_start, r.pay_unit, starts.get(r.plan)
                             if r.pay_unit == "biweek" else None) for r in runs}


def range_of(labels: Sequence[str]) -> str:
    """Consecutive pay periods by their first and last labels ("2027-01", "2027-01 to 2027-03")."""
    return labels[0] if len(labels) == 1 else f"{labels[0]} to {labels[-1]}"


def _short(text: str | None, n: int = 12) -> str:
    return (text or "-")[:n]


def render_history(h: History) -> str:
    """The history as text for people: each close, what it read, and what it paid."""
    out = [f"ledger {h.path}: {len(h.runs)} close(s) shown, head {h.head}"]
    if h.not_closed is not None:
        closed = defaultdict(list)
        for p in h.closed:
            closed[p.plan].append(p.label)
        out.append(f"{h.not_closed} is not closed; " + ("closed: " + "; ".join(
            f"{range_of(labels)} of \"{plan}\"" for plan, labels in closed.items())
            if closed else "nothing is closed in this ledger"))
    periods_by_run = defaultdict(list)
    for p in h.periods:
        periods_by_run[p.run_id].append(p)
    lines_by_period = defaultdict(list)
    for ln in h.lines:
        lines_by_period[(ln.plan, ln.pay_period)].append(ln)
    for run in h.runs:
        out.append("")
        out.append(f"run #{run.id}  close of \"{run.plan}\" {', '.join(run.periods)}  "
                   f"{run.created_at} by {run.created_by}")
        rev = f", git {run.plan_git_revision}" if run.plan_git_revision else ""
        out.append(f"  plan {run.plan_path} (sha256 {_short(run.plan_hash)}{rev}), data "
                   f"sha256 {_short(run.data_hash)} ({', '.join(run.data_files)}), "
                   f"incentive-dsl {run.tool_version}")
        for p in periods_by_run.get(run.id, []):
            lns = lines_by_period.get((p.plan, p.label), [])
            out.append(f"  {p.label} ({p.start} to {p.end}): paid {fmt(p.paid, run.currency)} "
                       f"on {p.statement_count} statement(s), {p.line_count} line(s)")
            width = max((len(ln.payee) for ln in lns), default=0)
            kw = max((len(ln.kind) for ln in lns), default=0)
            for ln in lns:
                what = ln.earning or ln.rule or ""
                if ln.kind == CARRY:  # its rule is "ledger": say what it does, as statements do
                    what = ("carried forward: nothing is taken back from pay" if ln.amount > 0
                            else "recovered from pay: prior-period adjustments carried from "
                                 "earlier pay periods")
                if ln.adjusts:
                    a = ln.adjusts
                    what = "for " + describe(a["period"], a["kind"], ln.rule, a["deal"],
                                             a["earning"], Decimal(a["old"]),
                                             Decimal(a["new"]), a["cause"], a["lines"],
                                             a["change"])
                out.append(f"    #{ln.id:<6} {ln.payee:<{width}}  {ln.kind:<{kw}}  "
                           f"{fmt(ln.amount):>14}  {what}")
    adjusted_elsewhere = [ln for ln in h.lines if not any(
        (ln.plan, ln.pay_period) == (p.plan, p.label) for p in h.periods)]
    if adjusted_elsewhere:
        out.append("")
        out.append("corrections paid in pay periods not shown above:")
        for ln in adjusted_elsewhere:
            out.append(f"    #{ln.id:<6} {ln.pay_period} {ln.payee} {ln.kind} {fmt(ln.amount)}")
    return "\n".join(out) + "\n"
