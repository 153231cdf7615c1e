"""The public Python surface of incentive-dsl. The command line is a thin layer over it.

    from incentive_dsl import api
    result = api.check_paths(["plans/"])
    for d in result.diagnostics:
        print(api.render(d, result.sources))

Every function returns values (trees, diagnostics, results); none prints or exits.
"""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import attrs

from incentive_dsl.audit.examples import ExampleResult, run_example
from incentive_dsl.check import Plan, check_trees
from incentive_dsl.collector import collector_paused
from incentive_dsl.data.records import Dataset
from incentive_dsl.eval.run import RunResult, evaluate_versions
from incentive_dsl.periods import FREQUENCY_UNIT, Period
from incentive_dsl.progress import QUIET, Meter
from incentive_dsl.diagnostics import (Diagnostic, error, not_found, payee_not_found, render,
                                       render_all)
from incentive_dsl.files import read_regular
from incentive_dsl.syntax import format_file, parse_path, parse_text
from incentive_dsl.syntax.parser import MAX_FILE_BYTES, read_source
from incentive_dsl.syntax.nodes import PlanFile
from incentive_dsl.span import Span

__all__ = [
    "CheckResult", "FormatResult", "PlanLoad", "check_paths", "coverage", "data_for",
    "data_view", "diff_plans", "discover", "estimate", "explain", "format_path", "format_text",
    "hypothetical_deal", "load_data", "load_plan", "open_deals", "parse_path", "parse_text",
    "prepare_columnar", "read_plan", "render", "render_all", "review", "run", "run_columnar",
    "run_examples", "scenarios", "window", "EmptyWindow", "NotAPeriod", "statement",
    "statement_html",
    "accruals", "amortisation", "plan_document", "load_mapping", "FormatterBug",
    "default_ledger", "close_period", "with_ledger", "verify_ledger", "ledger_history",
]

PLAN_SUFFIX = ".plan"
BY_PERIOD = ("pay", "month", "quarter", "half", "year")  # review's per-period comparisons


def discover(paths: Iterable[str]) -> list[str]:
    """Plan files named by `paths`: files as given, directories searched for *.plan files.
    Raises TypeError for one path given alone (a list of paths is wanted)."""
    if isinstance(paths, (str, bytes, os.PathLike)):
        # Iterated, a string is one-letter paths, '/' and '.' among them: whole directory trees.
        raise TypeError(f"paths is a list of paths, not one path: write [{str(paths)!r}]")
    found: list[str] = []
    for raw in map(os.fspath, paths):  # a pathlib.Path kept would reach spans and JSON
        p = Path(raw)
        if os.path.isdir(p):  # False, not an error, for a name too long or a link loop
            found.extend(str(f) for f in sorted(p.rglob(f"*{PLAN_SUFFIX}")) if f.is_file())
        else:
            found.append(raw)
    return list(dict.fromkeys(found))


def _versions_of(plan: Plan | Sequence[Plan] | None) -> list[Plan]:
    """A plan or the versions of one plan, as a list. `load_plan` gives None for a plan
    with errors: said here, not as 'NoneType is not iterable' deep inside a run."""
    versions = ([plan] if isinstance(plan, Plan) else
                list(plan) if isinstance(plan, (list, tuple)) else [])
    if not versions or not all(isinstance(p, Plan) for p in versions):
        raise _not_a_plan(plan, " (or a list of the versions of one plan)")
    return versions


def _plan_of(plan: Plan) -> Plan:
    """`plan`, refused as `_versions_of` refuses it when it is not one plan."""
    if not isinstance(plan, Plan):
        raise _not_a_plan(plan)
    return plan


def _not_a_plan(value: object, versions: str = "") -> TypeError:
    """The error for a plan argument that is not a plan, naming the usual mistake."""
    if value is None:
        return TypeError("no plan: load_plan gives plan=None when the plan has errors (render "
                         "them with api.render_all(loaded.diagnostics, loaded.sources))")
    if isinstance(value, PlanLoad):
        return TypeError("not a plan: a PlanLoad; pass loaded.plan, not what load_plan returns")
    return TypeError(f"not a plan: {value!r:.60}; pass api.load_plan(path).plan{versions}")


def _data_of(dataset: Dataset) -> Dataset:
    """`dataset`, said to be what `load_data` returns unpacked when it is not a Dataset."""
    if not isinstance(dataset, Dataset):
        raise TypeError(f"not a dataset: {type(dataset).__name__}; load_data returns "
                        "(dataset, diagnostics): unpack it, dataset, problems = load_data(...)")
    return dataset


def _in_roster(payee: str, roster: Iterable) -> str:
    """`payee`, refused when not in `roster` (the roster's rows): a mistyped id would get an
    answer of all zeros."""
    roster = tuple(roster)
    if payee not in {r.id for r in roster}:
        raise ValueError(payee_not_found(payee, roster))
    return payee


def _iso_date(value: object) -> bool:
    """Whether `value` is text that `datetime.date.fromisoformat` reads (only then is that
    the fix to suggest)."""
    try:
        dt.date.fromisoformat(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return True


def _date_of(value: dt.date | None, name: str) -> dt.date | None:
    """`value`, refused when it is not a date (or None): compared with dates deep in a run,
    a string or a datetime would fail there with a message that names neither."""
    if value is None or (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
        return value
    fix = (f"datetime.date.fromisoformat({value!r})" if _iso_date(value)
           else f"{name}.date()" if isinstance(value, dt.datetime)
           else "a datetime.date, e.g. datetime.date(2027, 3, 31)")
    raise TypeError(f"{name} is a datetime.date, not {type(value).__name__} {value!r:.40}; "
                    f"write {fix}")


def _until(plans: list[Plan], until: dt.date | None) -> dt.date | None:
    """`until`, refused before the plan starts: the run would be empty with nothing to say
    why (the command line refuses such a window too)."""
    until = _date_of(until, "until")
    start = min(p.effective_start for p in plans)
    if until is not None and until < start:
        raise ValueError(f"until {until} is before the plan starts ({start}): there is "
                         "nothing to run; give a date in the plan's effective range, or none "
                         "for all of it")
    return until


def _name_of(period: str) -> str:
    """`period`, refused when it is not a period name: the calendar reads text only."""
    if not isinstance(period, str):
        hint = f" (its name: {period.label!r})" if isinstance(period, Period) else ""
        raise TypeError(f"period is a period name such as '2027-Q1', not "
                        f"{type(period).__name__} {period!r:.40}{hint}")
    return period


def _period_of(value: Period | None, name: str = "period", optional: bool = False
               ) -> Period | None:
    """`value`, refused when it is not a Period (None allowed when `optional`)."""
    if isinstance(value, Period) or (optional and value is None):
        return value
    raise TypeError(f"{name} is a Period, not {value!r:.40}; api.window(plan, '2027-Q1') "
                    "gives the Period of a period name")


@attrs.frozen
class CheckResult:
    """Trees of the files that parsed, every diagnostic of every file, and the sources
    (for rendering excerpts)."""

    files: tuple[PlanFile, ...]
    plans: tuple[Plan, ...]
    diagnostics: tuple[Diagnostic, ...]
    sources: dict[str, str]

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)


def check_paths(paths: Iterable[str]) -> CheckResult:
    """Parse and check every plan file named by `paths`, reporting all problems at once.
    A file with syntax errors yields no plan; the blocks of it that parsed are still checked,
    as far as the blocks with errors leave the rest checkable (docs/language.md §24). The
    garbage collector is paused meanwhile (see `incentive_dsl.collector`)."""
    with collector_paused(promote=False):
        return _check_paths(paths)


def _check_paths(paths: Iterable[str]) -> CheckResult:
    files, diags, sources, checked = [], [], {}, []
    for path in discover(paths):
        result = parse_path(path)
        sources[path] = result.source
        diags.extend(result.diagnostics)
        files.append(result.tree)
        # A file that could not be read has errors and no broken blocks: nothing to check.
        if result.broken or not any(d.is_error for d in result.diagnostics):
            checked.append((result.tree, result.source, result.broken))
    plans, found = check_trees(checked)
    diags.extend(found)
    diags.sort(key=Diagnostic.sort_key)
    return CheckResult(tuple(files), tuple(plans), tuple(diags), sources)


@attrs.frozen
class FormatResult:
    path: str
    original: str
    # None when the file has syntax errors and cannot be formatted; `original` is then the
    # text as parsed (line endings normalised), for showing the errors.
    formatted: str | None
    diagnostics: tuple[Diagnostic, ...]

    @property
    def changed(self) -> bool:
        return self.formatted is not None and self.formatted != self.original


class FormatterBug(Exception):
    """The formatter produced text that does not parse back to the same tree (a bug)."""


def format_text(path: str, text: str) -> FormatResult:
    """The canonical layout of `text`. A byte-order mark and CRLF line endings (as the first
    line ends) are kept: fmt changes layout, not a Windows checkout's encoding of it."""
    bom = "\ufeff" if text.startswith("\ufeff") else ""
    first_end = text.find("\n")
    newline = "\r\n" if first_end > 0 and text[first_end - 1] == "\r" else "\n"
    body = text[len(bom):].replace("\r\n", "\n").replace("\r", "\n")
    parsed = parse_text(path, body)
    if any(d.is_error for d in parsed.diagnostics):
        return FormatResult(path, body, None, parsed.diagnostics)
    formatted = format_file(parsed.tree)
    # Guard: formatting must never change meaning; refuse to write rather than lose anything.
    again = parse_text(path, formatted)
    if again.diagnostics or again.tree != parsed.tree:
        raise FormatterBug(f"formatting {path} would change its meaning")
    return FormatResult(path, text, bom + formatted.replace("\n", newline), ())


def format_path(path: str) -> FormatResult:
    path = os.fspath(path)
    text, _ = read_source(path)
    if text is None:
        parsed = parse_path(path)  # its diagnostics, and the file as best it can be shown
        return FormatResult(path, parsed.source, None, parsed.diagnostics)
    # The file as written (its byte-order mark and line endings), which reading normalised.
    return format_text(path, read_regular(path, MAX_FILE_BYTES).decode("utf-8"))


# ------------------------------------------------------------------------------ running plans


@attrs.frozen
class PlanLoad:
    """A checked plan (None when the files have errors), with every diagnostic and the
    sources. `versions` holds every version when several files of one plan were loaded;
    `plan` is then the latest."""

    plan: Plan | None
    diagnostics: tuple[Diagnostic, ...]
    sources: dict[str, str]
    versions: tuple[Plan, ...] = ()


def load_plan(path: str) -> PlanLoad:
    """Parse and check a plan file, or a directory holding the versions of one plan."""
    path = os.fspath(path)  # as a str in the plan, its spans and the run's stamp
    if not discover([path]):  # a directory without plan files: say so, not nothing
        return PlanLoad(None, (error("E-FILE", Span.point(path, 1, 1),
                                     f"{path} holds no plan files (*{PLAN_SUFFIX})",
                                     "name a plan file, or a directory of its versions"),), {})
    return _versions(path, check_paths([path]))


def _versions(path: str, result: CheckResult) -> PlanLoad:
    """The checked files of `path` as the versions of one plan, oldest first."""
    if not result.ok or not result.plans:
        return PlanLoad(None, result.diagnostics, result.sources)
    names = sorted({p.name for p in result.plans})
    if len(names) > 1:
        # A directory is read as the versions of one plan: given a directory of several
        # plans, the path is the mistake (exit 2, as for one without plans), not a plan.
        files = sorted(sorted(p.path for p in result.plans if p.name == name) for name in names)
        named = {p.path: p.name for p in result.plans}
        found = "; ".join(f'{" and ".join(paths)} ("{named[paths[0]]}")' for paths in files)
        example = min((paths[0] for paths in files), key=lambda f: (f.count(os.sep), f))
        problem = error("E-FILE", Span.point(path, 1, 1),
                        f"{path} holds {len(names)} different plans, and a directory is read "
                        f"as the versions of one plan; the plan files found: {found}",
                        f"name one plan's file (such as {example}), or a directory holding "
                        "only the versions of one plan")
        return PlanLoad(None, (*result.diagnostics, problem), result.sources)
    versions = tuple(sorted(result.plans, key=lambda p: p.effective_start))
    return PlanLoad(versions[-1], result.diagnostics, result.sources, versions)


def load_data(deals: str, roster: str, quotas: str | None = None, fx: str | None = None,
              territories: str | None = None, plan: Plan | None = None,
              pause_gc: bool = True,
              meter: Meter | None = None) -> tuple[Dataset, tuple[Diagnostic, ...]]:
    """Load and validate the input files (see docs/data.md). `pause_gc=False` keeps Python's
    garbage collector running while it loads (see `run`); `meter` is told how far it is
    (`incentive_dsl.progress`)."""
    from incentive_dsl.data.loaders import load_dataset

    if plan is not None:
        _plan_of(plan)
    deals, roster, quotas, fx, territories = (  # str in diagnostics and the run's stamp
        None if f is None else os.fspath(f) for f in (deals, roster, quotas, fx, territories))
    dataset, diags = load_dataset(deals, roster, quotas=quotas, fx=fx, territories=territories,
                                  plan=plan, pause_gc=pause_gc, meter=meter)
    return dataset, tuple(diags)


def load_mapping(path: str, plan: Plan | None = None, pause_gc: bool = True
                 ) -> tuple[Dataset, tuple[Diagnostic, ...]]:
    """Read a CRM export through its mapping file (TOML; see docs/mapping.md): the dataset
    and every diagnostic, notes on the mapping's choices included. `pause_gc` as in
    `load_data`."""
    from incentive_dsl.data.mapping import load_mapping as load

    if plan is not None:
        _plan_of(plan)
    dataset, diags = load(os.fspath(path), plan=plan, pause_gc=pause_gc)
    return dataset, tuple(diags)


class EmptyWindow(ValueError):
    """A report window in which no pay period of the plan ends: `window` is the window as
    asked, `holding` the pay period that holds all of it."""

    def __init__(self, window: Period, holding: Period) -> None:
        super().__init__(f"no pay period of the plan ends in {window.label}")
        self.window = window
        self.holding = holding

    def __reduce__(self):  # pickled and copied from its fields, not from the message alone
        return type(self), (self.window, self.holding)


class NotAPeriod(ValueError):
    """A period name the plan's calendar does not read (`2027-Q5`, `2027-q1`); the message
    says why, with the forms a period takes."""


def window(plan: Plan | Sequence[Plan], period: str | None = None,
           start: dt.date | None = None, end: dt.date | None = None, overlap: bool = False,
           whole_pay_periods: bool = True) -> Period | None:
    """The period to report on: a named period, a from/to range, or None (everything). `plan`
    is a plan or its versions, oldest first: a range given by one end reaches the other end of
    all of them, and the last one's calendar names the periods.

    A report covers whole pay periods, so that a statement is never cut, whatever the pay
    frequency: a window holds the pay periods that end inside it (a fortnight across the end
    of a quarter belongs to the quarter it ends in, so the quarters add up to the year; a
    range from the 15th of one month to the 14th of the next holds the first month of a plan
    paid monthly), labelled with their names when they are not the window as asked; with
    `overlap` every pay period it touches (a plan's whole range). Raises EmptyWindow when no
    pay period ends in the window. `whole_pay_periods=False` gives the window as asked (the
    finance exports, whose as-of date is the period's last day). A window whose end is before
    its start is returned as asked, for the caller to report. Raises NotAPeriod for a
    `period` that names no period: None would mean everything; ValueError for a `period`
    given with `start` or `end`."""
    versions = _versions_of(plan)
    plan = versions[-1]
    start, end = _date_of(start, "start"), _date_of(end, "end")
    if period is not None:
        if start is not None or end is not None:  # the range would be dropped unsaid
            raise ValueError("give a period or a range (start, end), not both")
        w = plan.calendar.parse(_name_of(period))
        if w is None:
            raise NotAPeriod(plan.calendar.not_a_period(period, plan.effective_start))
    elif start is None and end is None:
        return None
    else:
        s = start or versions[0].effective_start
        e = end or plan.effective_end or dt.date.max
        w = Period(s, e, "range", f"{s} to {e}")
    unit = FREQUENCY_UNIT[plan.payout.frequency]
    if not whole_pay_periods or w.unit == unit or w.end < w.start:
        return w
    first = plan.calendar.period_of(w.start, unit)
    if w.end == dt.date.max:  # open-ended: every pay period from the one holding the start
        if first.start == w.start:
            return w
        return Period(first.start, w.end, "range", f"{w.label}, pay periods from {first.label}")
    last = plan.calendar.period_of(w.end, unit)
    if not overlap and last.end > w.end:
        if last.start <= w.start:  # one pay period holds the whole window
            raise EmptyWindow(w, last)
        last = plan.calendar.period_of(last.start - dt.timedelta(days=1), unit)
    if first.start == w.start and last.end == w.end:
        return w
    named = (f"pay period {first.label}" if first == last
             else f"pay periods {first.label} to {last.label}")
    return Period(first.start, last.end, "range", f"{w.label}, {named}")


def run(plan: Plan | Sequence[Plan], dataset: Dataset, until: dt.date | None = None,
        progress: Callable[[str], None] | None = None, pause_gc: bool = True,
        meter: Meter | None = None) -> RunResult:
    """Evaluate a plan (or the versions of one plan) on `dataset` from its start up to
    `until` (default: the plan's end). Earlier periods are always evaluated, since caps, tiers
    and draws carry over. `pause_gc=False` keeps Python's garbage collector running during
    the run (slower; for programs whose other threads must keep collecting). `progress` is
    told each stage's name; `meter` how far each stage is (`incentive_dsl.progress`)."""
    plans = _versions_of(plan)
    return evaluate_versions(plans, _data_of(dataset), end=_until(plans, until),
                             progress=progress, pause_gc=pause_gc, meter=meter)


def run_columnar(plan: Plan | Sequence[Plan], dataset: Dataset, until: dt.date | None = None,
                 progress: Callable[[str], None] | None = None, pause_gc: bool = True,
                 meter: Meter | None = None) -> tuple[RunResult, str | None]:
    """`run` on the columnar engine (DuckDB, the `[columnar]` extra; docs/columnar.md): the
    same statements to the cent, without lines or traces. When the engine does not cover the
    plan (or the data), the interpreter runs it, and the second value is the message naming
    every feature not covered, in plan order, each with its plan line (None when the columnar
    engine ran).
    Raises columnar.runner.ColumnarUnavailable when DuckDB is not installed."""
    from incentive_dsl.columnar.runner import run_or_interpret

    plans = _versions_of(plan)
    return run_or_interpret(plans, _data_of(dataset), _until(plans, until),
                            progress=progress, pause_gc=pause_gc, meter=meter)


def prepare_columnar(plan: Plan | Sequence[Plan], dataset: Dataset,
                     until: dt.date | None = None, meter: Meter | None = None):
    """The first half of `run_columnar`, for a caller that can let go of the dataset before
    the query runs (the command line does: at 1M deals it is 0.7 GB): `(loaded, None)`, the
    plan's input tables filled in DuckDB and checked, whose `loaded.result()` runs the query
    and gives `run_columnar`'s result; or `(None, message)` when the engine steps aside (run
    the interpreter, `run`). Raises columnar.runner.ColumnarUnavailable without DuckDB;
    `loaded.result()` raises columnar.runner.ColumnarOverflow when a total is past the
    query's exact decimals (run the interpreter)."""
    from incentive_dsl.columnar.runner import ColumnarRun, prepare

    plans = _versions_of(plan)
    ready = prepare(plans, _data_of(dataset), _until(plans, until),
                    meter=meter or QUIET)
    return (None, ready.fallback) if isinstance(ready, ColumnarRun) else (ready, None)


def explain(result: RunResult, payee: str, period: Period, deal: str | None = None,
            grouped: bool = False):
    """The explanation tree (audit.explain.Node) of a payee's pay in a period (a payee the
    plan does not pay: why), or of one deal's part of it. `grouped`: under "not paid", one
    line for the skips a rule turned away for one reason (when there are several), as
    `incentive explain` prints it; else one line a skip. Raises ValueError for a `deal` not
    in the run's data."""
    from incentive_dsl.audit.explain import explain as build
    from incentive_dsl.audit.index import index

    if deal is not None and result.engine is not None:  # else an empty tree, saying nothing
        deals = index(result).deals  # built once per run: explain reads the same index
        if deal not in deals:  # told as `incentive explain --deal` tells it
            raise ValueError(not_found("deal", deal, "the data", deals))
    return build(result, payee, _period_of(period), deal, grouped)


def statement(result: RunResult, payee: str, period: Period, ledger_view=None):
    """A rep statement (audit.statement.PayeeStatement): the payee's pay for `period` as `run`
    and `explain` show it, with year-to-date attainment and, given `with_ledger`'s view of the
    run, the prior-period adjustments it pays. Raises ValueError for a payee not in the
    roster (a mistyped id would otherwise get an all-zero statement)."""
    from incentive_dsl.audit.statement import build

    _in_roster(payee, result.engine.dataset.payees if result.engine is not None
               else result.roster)
    return build(result, payee, _period_of(period), ledger_view)


def statement_html(statement) -> str:
    """A rep statement as one self-contained HTML page (inline CSS and SVG, no script)."""
    from incentive_dsl.audit.statement import to_html

    return to_html(statement)


def accruals(result: RunResult, period: Period, ledger_view=None):
    """Per payee, commissions earned and not yet paid at the end of `period`
    (audit.finance.Accrual); `result` is a run up to `period.end`. With `ledger_view`
    (`with_ledger(result, dataset, ledger_path, period)`), closed pay periods count as
    recorded and the prior-period adjustments, with the pay they carry forward, as the ledger
    pays them. Raises ValueError for a run that goes on past it, and for a ledger with pay
    periods closed after `period` ends (finance.closed_after)."""
    from incentive_dsl.audit.finance import accruals as compute

    from incentive_dsl.audit.finance import closed_after

    period = _period_of(period)
    # A longer run would give what awaits collection at its end, not the period's: wrong
    # figures with nothing to say so.
    if any(s.start > period.end for s in result.statements):
        raise ValueError(f"accruals are as of {period.end}, and this run goes on past it: "
                         "run up to it, api.run(plan, dataset, until=period.end)")
    if ledger_view is not None:
        later = closed_after(ledger_view, period)
        if later:
            raise ValueError(later)
    return compute(result, period, ledger_view)


def amortisation(result: RunResult, benefit_months: int, rules: Sequence[str] = (),
                 period: Period | None = None):
    """The straight-line amortisation schedule (ASC 340-40) of the capitalised earning lines
    dated in `period` (audit.finance.AmortisationRow): `rules` (default: every commission
    rule) over `benefit_months` months each. Raises ValueError for `benefit_months` below 1
    and for a rule the plan does not have."""
    from incentive_dsl.audit.finance import amortisation as schedule

    if benefit_months < 1:  # said whether or not a line is capitalised
        raise ValueError(f"benefit_months is at least 1, not {benefit_months}")
    if isinstance(rules, str):  # iterated, it would be its letters: no rule, no rows
        raise TypeError(f"rules is a list of rule names: write [{rules!r}]")
    names = [c.name for c in result.plan.components]
    for rule in rules:  # an unknown rule would give an empty schedule
        if rule not in names:
            raise ValueError(not_found("rule", rule, "the plan", names))
    return schedule(result, benefit_months, rules, _period_of(period, optional=True))


def plan_document(plan: Plan | Sequence[Plan], fmt: str = "markdown") -> str:
    """The plan as the document a rep signs (audit.document), generated from the checked plan:
    terms in plain words, tier tables, the worked examples with their computed results,
    effective dates, version, plan hash and an acknowledgement. `fmt`: markdown or html (one
    self-contained page). Several versions of one plan give one document, oldest first.
    Raises ValueError for another `fmt`."""
    from incentive_dsl.audit.document import render as write

    if fmt not in ("markdown", "html"):  # anything else was taken as markdown
        raise ValueError(f"fmt is 'markdown' or 'html', not {fmt!r}")
    return write(_versions_of(plan), fmt)


def run_examples(paths: Iterable[str]) -> tuple[list[ExampleResult], CheckResult]:
    """Run the worked examples of every plan named by `paths` that checks clean."""
    checked = check_paths(paths)
    results = [run_example(plan, ex) for plan in checked.plans for ex in plan.examples]
    return results, checked


# ------------------------------------------------------------------------------ estimates


def hypothetical_deal(plan: Plan, dataset: Dataset, payee: str, values: dict[str, str],
                      date: dt.date | None = None):
    """A deal `payee` might close (audit.estimate.Closing), from `key=value` texts: `amount`
    (`120,000` in the plan currency or `120,000 EUR`), `date` (else `date`, else the day the
    data runs up to), `id`, `currency`, `splits`, `term_months` and the plan's custom deal
    fields. Raises audit.estimate.DealError (message, hint) for a value it cannot read, and
    ValueError for a payee not in the roster."""
    from incentive_dsl.audit.estimate import hypothetical_deal as make

    _in_roster(payee, _data_of(dataset).payees)
    return make(_plan_of(plan), dataset, payee, values, _date_of(date, "date"))


def open_deals(plan: Plan, dataset: Dataset, payee: str, date: dt.date | None = None):
    """The payee's open pipeline deals (reached a stage, neither booked nor cancelled), each
    as a closing on `date` (default: the day the data runs up to) at its last recorded
    amount; and notes on those left out. Returns (closings, notes). Raises ValueError for a
    payee not in the roster, and audit.estimate.DealError (a ValueError) for a deal whose
    amount is in a currency with no rate to the plan's."""
    from incentive_dsl.audit import estimate

    _plan_of(plan)
    _in_roster(payee, _data_of(dataset).payees)
    date = _date_of(date, "date") or estimate.today_in_data(dataset, plan)
    return estimate.open_deals(plan, dataset, payee, date)


def estimate(plan: Plan | Sequence[Plan], dataset: Dataset, payee: str, closings: Sequence):
    """What `payee` earns if `closings` close (audit.estimate.Estimate): the plan run with
    and without them on the history, compared per rule, each changed line explained. Raises
    ValueError for a payee not in the roster."""
    from incentive_dsl.audit.estimate import estimate as compare

    _in_roster(payee, _data_of(dataset).payees)
    return compare(_versions_of(plan), dataset, payee, closings)


def scenarios(plan: Plan | Sequence[Plan], dataset: Dataset, payee: str, closings: Sequence):
    """`estimate` for each closing on its own and, with several, for all together:
    (list of estimates, the estimate of all or None). The history is run once without them.
    Raises ValueError for a payee not in the roster."""
    from incentive_dsl.audit.estimate import scenarios as each

    _in_roster(payee, _data_of(dataset).payees)
    return each(_versions_of(plan), dataset, payee, closings)


# ------------------------------------------------------------------------------ plan review


def coverage(results: Iterable[ExampleResult], checked: CheckResult):
    """Which rules, tier rows, steps, caps, floors and clawbacks of the checked plans their
    worked examples reach (audit.coverage.Coverage), from `run_examples`' results."""
    from incentive_dsl.audit.coverage import coverage as measure

    return measure(checked.plans, results)


def read_plan(ref: str) -> PlanLoad:
    """Parse and check a plan named by a path or by `REV:path`, the file at a git revision
    read with `git show` in the current directory's repository (audit/revisions.py). A
    directory, on disk or at a revision, holds the versions of one plan, as for `load_plan`."""
    from incentive_dsl.audit.revisions import is_revision, read_plan_texts

    ref = os.fspath(ref)
    if not is_revision(ref) and os.path.isdir(ref):
        return load_plan(ref)
    texts, diags = read_plan_texts(ref)
    if texts is None:
        return PlanLoad(None, tuple(diags), {})
    with collector_paused(promote=False):
        files, found, clean = [], [], []
        for name, text in texts:
            parsed = parse_text(name, text)
            files.append(parsed.tree)
            found.extend(parsed.diagnostics)
            if not any(d.is_error for d in parsed.diagnostics):
                clean.append((parsed.tree, text))
        plans, checked = (check_trees(clean) if len(clean) == len(texts) else ([], []))
    found = sorted([*found, *checked], key=Diagnostic.sort_key)
    return _versions(ref, CheckResult(tuple(files), tuple(plans), tuple(found), dict(texts)))


def diff_plans(old: Plan, new: Plan):
    """The semantic changes from `old` to `new` (audit.plandiff.PlanDiff), in plan words."""
    from incentive_dsl.audit.plandiff import diff_plans as compare

    return compare(_plan_of(old), _plan_of(new))


def data_view(old: Plan | Sequence[Plan], new: Plan | Sequence[Plan]
              ) -> tuple[Plan, tuple[str, ...]]:
    """The plan to read a history with when comparing `old` and `new` (plans, or the versions
    of plans): the new plan's last version, knowing the fields and names of every version on
    both sides (audit.impact.data_plan); and notes on where they differ."""
    from incentive_dsl.audit.impact import data_plan

    olds, news = _versions_of(old), _versions_of(new)
    view, notes = data_plan(olds[-1], news[-1])
    for other in (*olds[:-1], *news[:-1]):  # earlier versions read the same history
        view, more = data_plan(other, view)
        notes = (*notes, *more)
    return view, tuple(dict.fromkeys(notes))


def data_for(old: Plan, new: Plan, deals: str, roster: str, quotas: str | None = None,
             fx: str | None = None, territories: str | None = None
             ) -> tuple[Dataset, tuple[Diagnostic, ...], tuple[str, ...]]:
    """Load the input files once for comparing two plans: read as the new plan reads them,
    knowing both plans' fields and names (audit.impact.data_plan). Returns the dataset, its
    diagnostics and notes on where the plans read the data differently."""
    view, notes = data_view(old, new)
    dataset, diags = load_data(deals, roster, quotas=quotas, fx=fx, territories=territories,
                               plan=view)
    return dataset, diags, notes


def review(old_ref: str, new_ref: str, old: Plan | Sequence[Plan], new: Plan | Sequence[Plan],
           dataset: Dataset | None = None, window: Period | None = None,
           by_period: str | None = None, notes: Iterable[str] = (),
           progress: Callable[[str], None] | None = None):
    """A plan review (audit.review.Review): the semantic changes, and with a dataset the
    payout impact, each plan evaluated once on the one dataset. `old` and `new` are plans or
    the versions of plans (oldest first): the versions of each side are run together, as `run`
    runs them, and each stretch of days is compared with the two versions in effect on it
    (audit.plandiff.diff_versions). `window` (a Period) limits the impact to its days;
    `by_period` also compares per month, quarter, half or year, or "pay" (the new plan's pay
    periods). Returns the review and the runs' diagnostics; with errors among them the review
    has no impact. Raises ValueError for another `by_period`, and with a dataset for plans
    that pay in different currencies (their payouts are not comparable)."""
    from incentive_dsl.audit.impact import currency_problem, impact
    from incentive_dsl.audit.plandiff import diff_versions
    from incentive_dsl.audit.review import Review

    olds, news = _versions_of(old), _versions_of(new)
    window = _period_of(window, "window", optional=True)
    if by_period not in (None, *BY_PERIOD):  # said before both plans are run
        raise ValueError(f"by_period is one of {', '.join(BY_PERIOD)}, not {by_period!r}")
    changes = diff_versions(olds, news)
    if dataset is None:
        return Review(old_ref, new_ref, changes, None), ()
    problem = currency_problem(olds, news)
    if problem is not None:
        raise ValueError(problem)
    until = window.end if window is not None else None
    step = progress or (lambda stage: None)
    results = []
    for which, plans in (("old", olds), ("new", news)):
        # Not `run`: a window before one side's plan starts is that side paying nothing.
        results.append(evaluate_versions(plans, _data_of(dataset), end=until,
                                         progress=lambda s, w=which: step(f"{w}: {s}")))
    diags = tuple(d for r in results for d in r.diagnostics)
    if any(d.is_error for d in diags):
        return Review(old_ref, new_ref, changes, None), diags
    payees = {p.id for p in dataset.payees}
    # Quota rows win over the plan's quota values (language.md §8.2): without this note a
    # changed quota that the rows cover reads as a change that does not affect pay.
    rows = Counter(q.quota for q in dataset.quotas)
    for name in dict.fromkeys(c.name for d in changes for c in d.changes if c.kind == "quota"):
        if rows[name]:
            notes = (*notes, f"quota {name}: the data's {rows[name]} quota row(s) for it replace "
                     "the plan's values for the payees and periods they cover, so a change of "
                     "those values does not show there")
    # A field is an optional column (data.md): one the history never carries reads as no
    # value, so rules that test it change pay for want of data, not by the plan's design.
    fields = {c.name for d in changes for c in d.changes
              if c.kind == "field" and c.action != "removed"}
    have = {("deal", k) for e in dataset.events for k, _ in e.fields} | {
        ("payee", k) for p in dataset.payees for k, _ in p.fields}
    for f in news[-1].fields:
        if f.name in fields and (f.owner, f.name) not in have:
            notes = (*notes, f"field {f.owner}.{f.name}: no record of the data has a value for "
                     "it, so every rule that reads it finds none")
    if len(olds) > 1 or len(news) > 1:
        notes = (*notes, f"each side's versions are run together, as `incentive run` runs a "
                 f"directory of versions: {_count(olds)} before, {_count(news)} after")
    found = impact(results[0], results[1], payees, window, by_period, notes,
                   plans=(*olds, *news))
    return Review(old_ref, new_ref, changes, found), diags


def _count(versions: Sequence[Plan]) -> str:
    return f"{len(versions)} version{'s' if len(versions) > 1 else ''}"


# ------------------------------------------------------------------------------ the ledger


def default_ledger(plan_path: str) -> str:
    """The ledger of a plan's workspace: `.incentive/ledger.sqlite` beside the plan file."""
    from incentive_dsl.audit import ledger

    return ledger.default_path(plan_path)


def close_period(plan: Plan | Sequence[Plan], dataset: Dataset, period: str,
                 ledger_path: str | None = None, result: RunResult | None = None,
                 progress: Callable[[str], None] | None = None, new_plan: bool = False,
                 early: bool = False):
    """Close the pay period(s) named by `period` (`2027-03`, or `2027-Q1` for three monthly
    pay periods) in the ledger, in one transaction (audit.ledger.CloseResult; of a period
    whose first pay periods are closed, the rest, with CloseResult.already_closed naming
    those). Raises audit.ledger.Refused when it is closed already, an earlier pay period is
    open or another
    close holds the ledger; audit.ledger.PeriodError when `period` is not whole pay periods
    or lies wholly outside the plan's effective range (of a period reaching past it, the pay
    periods inside it are closed and CloseResult.after_plan names the rest);
    audit.ledger.Broken when the ledger fails verification. `new_plan` allows the first close
    of a plan in a ledger that holds other plans (it is not one of them renamed). A pay
    period that has not ended (it ends after today, or after the data's last event) is
    refused (audit.ledger.Refused) unless `early`."""
    from incentive_dsl.audit import ledger

    plans = _versions_of(plan)
    path = ledger_path or ledger.default_path(plans[-1].path)
    return ledger.close(path, plans, _data_of(dataset), _name_of(period), result,
                        progress=progress, new_plan=new_plan, early=early)


def with_ledger(result: RunResult, dataset: Dataset, ledger_path: str,
                window: Period | None = None):
    """A run as the ledger sees it (audit.ledger.LedgerRun): closed pay periods as recorded,
    prior-period adjustments in the first open pay period. Reads the ledger, writes nothing.
    Raises audit.ledger.LedgerError when there is no ledger at `ledger_path` (or it cannot be
    read); its `render()` names the path."""
    from incentive_dsl.audit import ledger

    return ledger.with_ledger(ledger_path, result, dataset,
                              _period_of(window, "window", optional=True))


def verify_ledger(ledger_path: str, head: str | None = None):
    """Recompute the ledger's hash chain and seals (audit.ledger.VerifyReport). Raises
    audit.ledger.LedgerError as `with_ledger` does."""
    from incentive_dsl.audit import ledger

    return ledger.verify(ledger_path, head)


def ledger_history(ledger_path: str, plan: str | None = None, payee: str | None = None,
                   period: str | None = None):
    """What the ledger records, for one plan, payee or period (audit.ledger.History). Raises
    audit.ledger.LedgerError as `with_ledger` does."""
    from incentive_dsl.audit import ledger

    return ledger.history(ledger_path, plan, payee, period)
