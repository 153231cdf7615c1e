"""Running a compiled plan on DuckDB: the input tables filled from a `Dataset` (or from CSV
files by the caller), the query run, its rows read back as the interpreter's `Statement`s.

DuckDB is an optional dependency (`pip install 'incentive-dsl[columnar]'`); without it,
`ColumnarUnavailable` says how to install it.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import shutil
import tempfile
import weakref
from collections.abc import Sequence
from decimal import Decimal

import attrs

from incentive_dsl.check.model import Plan
from incentive_dsl.columnar.compiler import (INPUT_TABLES, Compiled, NotCovered, compile_plan,
                                             text)
from incentive_dsl.data.records import Dataset
from incentive_dsl.eval.money import ZERO
from incentive_dsl.eval.records import Statement
from incentive_dsl.audit.stamp import make_stamp
from incentive_dsl.eval.run import RunResult, default_range, evaluate_versions
from incentive_dsl.progress import QUIET, Meter

NULL = "\\N"
# DuckDB's memory (its default: 80% of the machine's). At 1M deals the credit-heavy query
# takes 1.2 GB beside its 0.3 GB of tables; held to this, it spills to disk, for about 10%
# more CPU in the query and a command line peaking at the loader's 1.05 GB instead of 2.2 GB
# (bench/README.md, "credit_heavy.plan on the columnar engine").
MEMORY_LIMIT = "512MB"
CENT = Decimal("0.01")
AMOUNT_DIGITS = 6  # decimals of amounts the input tables hold exactly
SHARE_DIGITS = 12


class ColumnarUnavailable(Exception):
    """DuckDB is not installed."""


class ColumnarOverflow(Exception):
    """A total of the history past the query's exact decimals (DECIMAL(38,20): 18 digits before
    the point), which the interpreter's decimals hold: the interpreter runs the plan."""

    def __init__(self) -> None:
        super().__init__("a total of this history has more than 18 digits before the decimal "
                         "point, more than the columnar engine's exact decimals hold; the "
                         "interpreter runs the plan instead")


def connect():
    """An in-memory DuckDB database that holds at most `MEMORY_LIMIT` in memory and spills the
    rest (its tables and the query's sorts and windows) to a temporary folder of its own,
    removed with the connection (DuckDB's default spills into `.tmp` in the working folder)."""
    try:
        import duckdb
    except ImportError:  # an optional extra
        raise ColumnarUnavailable(
            "the columnar engine needs DuckDB: pip install 'incentive-dsl[columnar]'") from None
    spill = tempfile.mkdtemp(prefix="incentive-duckdb-")
    con = duckdb.connect(config={"memory_limit": MEMORY_LIMIT, "temp_directory": spill})
    weakref.finalize(con, shutil.rmtree, spill, True)
    return con


def execute(con, sql: str):
    """`con.execute(sql)`, run again without the memory limit when DuckDB cannot run it within
    it (an operator that cannot spill enough: on a history much larger than 1M deals, or a
    connection given a smaller limit); the limit then stays off for the connection."""
    import duckdb

    try:
        return con.execute(sql)
    except duckdb.OutOfMemoryException:
        con.execute("RESET memory_limit")
        return con.execute(sql)


@attrs.frozen
class Range:
    """The days a run earns on (start..end) and pays up to (pay_end), as `evaluate` has them."""

    start: dt.date
    end: dt.date
    pay_end: dt.date


def run_range(plan: Plan, dataset: Dataset, until: dt.date | None = None) -> Range:
    d_start, d_end = default_range(plan, dataset)
    start = max(d_start, plan.effective_start)
    pay_end = until or d_end
    end = min(pay_end, plan.effective_end or pay_end)
    return Range(start, end, pay_end)


def _fine(value: Decimal | None, digits: int) -> bool:
    if value is None:
        return True
    exp = value.as_tuple().exponent
    return isinstance(exp, int) and exp >= -digits


def _cell(value) -> str:
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return f"{value:f}"
    return str(value)


def _table(con, name: str, columns: Sequence[str], rows) -> None:
    """Create table `name` (columns as `name TYPE`) from rows, through a CSV file: the fastest
    way into DuckDB without pandas or Arrow."""
    rows = iter(rows)
    first = next(rows, None)
    if first is None:  # nothing to read (DuckDB cannot sniff an empty file)
        execute(con, f"CREATE OR REPLACE TABLE {name} ({', '.join(columns)})")
        return
    fd, path = tempfile.mkstemp(suffix=".csv", prefix=f"incentive-{name}-")
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow([_cell(v) for v in first])
            for row in rows:
                w.writerow([_cell(v) for v in row])
        spec = ", ".join(f"'{c.split()[0]}': '{c.split(maxsplit=1)[1]}'" for c in columns)
        execute(con, f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM read_csv({text(path)}, "
                    f"header = false, auto_detect = false, delim = ',', nullstr = '\\N', "
                    f"quote = '\"', escape = '\"', columns = {{{spec}}})")
    finally:
        os.unlink(path)


def data_problem(plan: Plan, dataset: Dataset) -> str | None:
    """Data the input tables cannot hold exactly, or that the query does not read as the
    interpreter does (the interpreter then runs)."""
    for e in dataset.events:
        if not _fine(e.amount, AMOUNT_DIGITS):
            return f"event {e.id} has an amount with more than {AMOUNT_DIGITS} decimals"
        for _, share in e.splits:
            if not _fine(share, SHARE_DIGITS):
                return f"event {e.id} records a split share with more than {SHARE_DIGITS} decimals"
    for q in dataset.quotas:
        if q.currency and q.currency != plan.currency:
            return f"the quota row of {q.payee} for {q.period} is in {q.currency}"
        if not _fine(q.amount, AMOUNT_DIGITS) or plan.calendar.parse(q.period) is None:
            return f"the quota row of {q.payee} for {q.period}"
    return None


def load(con, plan: Plan, dataset: Dataset, compiled: Compiled) -> None:
    """Fill the input tables the query reads from a dataset."""
    kinds = set(compiled.kinds) | ({"stage"} if compiled.fields else set())
    names = [f for f, _ in compiled.fields]
    events = [e for e in dataset.events if e.kind in kinds]
    _table(con, "events", [*INPUT_TABLES["events"], *(f"f_{f} {t}" for f, t in compiled.fields)],
           ((e.id, e.deal, e.date, e.kind, e.amount, e.currency, e.owner,
             *(e.field(f) for f in names)) for e in events))
    _table(con, "splits", INPUT_TABLES["splits"],
           ((e.id, p, w) for e in events if e.kind == "booked" for p, w in e.splits))
    roster = sorted(dataset.payees, key=lambda r: (r.id, r.effective_from or dt.date.min))
    _table(con, "roster", INPUT_TABLES["roster"],
           ((r.id, r.role, r.start, r.end, r.effective_from, i) for i, r in enumerate(roster)))
    _table(con, "fx", INPUT_TABLES["fx"],
           ((r.currency, r.date, r.rate, i, r.inverse) for i, r in enumerate(dataset.fx)
            if r.target == plan.currency))
    rows = []
    for i, q in enumerate(dataset.quotas):
        p = plan.calendar.parse(q.period)
        rows.append((q.payee, q.quota, p.start.year * 12 + p.start.month - 1, len(p.months()),
                     q.amount, i))
    _table(con, "quota_rows", INPUT_TABLES["quota_rows"], rows)


def _written(value: Decimal, touched: bool) -> Decimal:
    """An amount as the interpreter's statement holds it, so that it is written with the same
    text: 0 (Decimal 0, written `0`) when no line of the pay period went into it (the
    interpreter's totals start at 0); else with the digits the amounts added had, which are
    the cent's, or, for exact amounts rounding per statement, without the query's trailing
    zeros past the cent."""
    if not touched and not value:
        return ZERO
    cents = value.quantize(CENT)
    return cents if cents == value else value.normalize()


def statements(con, compiled: Compiled) -> list[Statement]:
    """Run the query on the loaded tables; raises ColumnarOverflow when a value is out of
    range (DuckDB stops rather than round)."""
    import duckdb

    try:
        rows = execute(con, compiled.sql).fetchall()
    except duckdb.DataError as exc:
        if isinstance(exc, duckdb.OutOfRangeException) or "out of range" in str(exc):
            raise ColumnarOverflow() from exc
        raise
    out = []
    for payee, label, start, end, *rest in rows:
        earned, capped, clawed, paid, carried, later, awaiting, earlier, carry, rounding = (
            _written(a, t) for a, t in zip(rest[:10], (*rest[10:14], False, *rest[14:])))
        out.append(Statement(payee=payee, pay_period=label, start=start, end=end, earned=earned,
                             capped=capped, clawed_back=clawed, held=ZERO, released=ZERO,
                             drawn=ZERO, recovered=ZERO, paid=paid, draw_balance=ZERO,
                             carried=carried, later=later, awaiting=awaiting, earlier=earlier,
                             carry=carry, rounding=rounding))
    return out


@attrs.frozen
class ColumnarRun:
    """What the columnar engine made of a run: its statements, or why it stepped aside."""

    statements: tuple[Statement, ...] | None  # None: not covered, run the interpreter
    fallback: str | None  # the message naming what is not covered
    compiled: Compiled | None = None


@attrs.frozen(eq=False)
class Loaded:
    """A covered plan's input tables in DuckDB, checked: the query will run, and the dataset
    they were filled from is no longer needed (a caller may drop it before `result`, which on
    a large history is most of the memory the query would otherwise add to)."""

    con: object
    compiled: Compiled
    plan: Plan
    stamp: object  # the run's RunStamp
    roster: tuple  # the roster's rows (payee names for statements)

    def statements(self) -> tuple[Statement, ...]:
        return tuple(statements(self.con, self.compiled))

    def result(self) -> RunResult:
        """The run: statements only (no lines, no traces)."""
        return RunResult(self.plan, self.stamp, (), (), (), self.statements(), (), (),
                         roster=self.roster)


def prepare(plans: Plan | Sequence[Plan], dataset: Dataset, until: dt.date | None = None,
            con=None, meter: Meter = QUIET) -> Loaded | ColumnarRun:
    """The input tables of the plan's query filled from the dataset and checked (`Loaded`),
    or why the engine steps aside (a `ColumnarRun` without statements): every fallback is
    decided here, before the query. `meter` is told of the query once the plan is known to be
    covered (one stage without a count)."""
    plans = [plans] if isinstance(plans, Plan) else list(plans)
    plan = plans[-1]
    rng = run_range(plan, dataset, until)
    try:
        compiled = compile_plan(plans, rng.start, rng.end, rng.pay_end)
    except NotCovered as exc:
        return ColumnarRun(None, exc.message())
    problem = data_problem(plan, dataset)
    if problem is not None:
        return ColumnarRun(None, f"the columnar engine does not take this data ({problem}); "
                           "the interpreter runs the plan instead", compiled)
    meter.stage("evaluating: the plan's query on DuckDB", 0)
    con = con or connect()
    load(con, plan, dataset, compiled)
    for query, what in compiled.checks:
        if execute(con, query).fetchone()[0]:
            return ColumnarRun(None, f"the data has {what}; the interpreter runs the plan "
                               "instead and reports it", compiled)
    return Loaded(con, compiled, plan, make_stamp(plan, dataset, rng.start, rng.end),
                  dataset.payees)


def run(plans: Plan | Sequence[Plan], dataset: Dataset, until: dt.date | None = None,
        con=None, meter: Meter = QUIET) -> ColumnarRun:
    """The statements of the plan's query on DuckDB, or why the engine steps aside."""
    ready = prepare(plans, dataset, until, con, meter)
    if isinstance(ready, ColumnarRun):
        return ready
    return ColumnarRun(ready.statements(), None, ready.compiled)


def run_or_interpret(plans: Plan | Sequence[Plan], dataset: Dataset, until: dt.date | None = None,
                     progress=None, pause_gc: bool = True,
                     meter: Meter | None = None) -> tuple[RunResult, str | None]:
    """The run on the columnar engine (a `RunResult` with statements only: no lines, no
    traces), or, when it does not cover the plan or the data, the interpreter's full run and
    the message saying why."""
    plans = [plans] if isinstance(plans, Plan) else list(plans)
    ready = prepare(plans, dataset, until, meter=meter or QUIET)
    if isinstance(ready, ColumnarRun):
        return evaluate_versions(plans, dataset, end=until, progress=progress,
                                 pause_gc=pause_gc, meter=meter), ready.fallback
    try:
        return ready.result(), None
    except ColumnarOverflow as exc:
        return evaluate_versions(plans, dataset, end=until, progress=progress,
                                 pause_gc=pause_gc, meter=meter), str(exc)
