"""The `incentive` command line: argument parsing and printing over incentive_dsl.api.

Exit codes (the same for every command unless its help says otherwise):
  0  success: no errors found, nothing to change
  1  the input has problems: diagnostics with errors, files that `fmt --check` would change
  2  usage error or unreadable input (bad option, missing file, a directory given as a file)
  3  internal error (a bug in incentive-dsl; please report it with the input)
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import difflib
import io
import json
import math
import os
import re
import stat
import sys
import tempfile
import traceback
from collections.abc import Sequence
from pathlib import Path

from incentive_dsl import __version__, api
from incentive_dsl.diagnostics import closest, not_found, payee_not_found, to_json
from incentive_dsl.files import read_regular
from incentive_dsl.limits import date_problem
from incentive_dsl.periods import Calendar
from incentive_dsl.progress import QUIET

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3

EXIT_CODES_HELP = """exit codes:
  0  no errors (check), nothing to reformat (fmt --check)
  1  errors found in the plans (or warnings, with check --strict), or files that
     fmt --check would change
  2  usage error or unreadable input (missing file, directory, bad option)
  3  internal error (a bug: please report it)"""


def _file_errors_only(diags) -> bool:
    return bool(diags) and all(d.code in ("E-FILE",) for d in diags if d.is_error)


def _print_diagnostics(result_diags, sources, fmt: str) -> None:
    if fmt == "json":
        print(to_json(result_diags))
        return
    if result_diags:
        print(api.render_all(result_diags, sources), file=sys.stderr)
        errors = sum(1 for d in result_diags if d.is_error)
        warnings = len(result_diags) - errors
        print(f"\n{errors} error(s), {warnings} warning(s)", file=sys.stderr)


def _plan_files(paths: list[str], command: str) -> list[str]:
    """The plan files named by `paths` (directories searched for *.plan); says so if none."""
    files = api.discover(paths)
    if not files:
        print(f"incentive {command}: no plan files found in the given paths", file=sys.stderr)
    return files


def cmd_check(args: argparse.Namespace) -> int:
    files = _plan_files(args.paths, "check")
    if not files:
        return EXIT_USAGE
    result = api.check_paths(files)
    _print_diagnostics(result.diagnostics, result.sources, args.format)
    # A file that could not be read was not checked: unreadable input, whatever the others
    # hold (as with fmt).
    if any(d.code == "E-FILE" for d in result.diagnostics if d.is_error):
        return EXIT_USAGE
    if args.strict and any(d.severity.value == "warning" for d in result.diagnostics):
        return EXIT_PROBLEMS
    if result.ok:
        if args.format == "text":
            print(f"{len(files)} plan file(s) checked: no errors")
        return EXIT_OK
    return EXIT_PROBLEMS


def cmd_fmt(args: argparse.Namespace) -> int:
    files = _plan_files(args.paths, "fmt")
    if not files:
        return EXIT_USAGE
    status = EXIT_OK
    changed = []
    for path in files:
        result = api.format_path(path)
        if result.formatted is None:
            print(api.render_all(result.diagnostics, {path: result.original}), file=sys.stderr)
            status = max(status, EXIT_USAGE if _file_errors_only(result.diagnostics)
                         else EXIT_PROBLEMS)
            continue
        if not result.changed:
            continue
        if args.diff:
            sys.stdout.writelines(difflib.unified_diff(
                result.original.splitlines(keepends=True),
                result.formatted.splitlines(keepends=True),
                fromfile=f"{path} (original)", tofile=f"{path} (formatted)"))
        if args.check or args.diff:
            changed.append(path)
            continue
        # Replaced whole or not at all (an interrupted write never truncates a plan); a file
        # that cannot be written is said so, and the others are still formatted.
        text = result.formatted
        if _write_with(args, path, lambda out: out.write(text), newline="") == EXIT_OK:
            changed.append(path)
        else:
            status = max(status, EXIT_USAGE)
    if args.check or args.diff:
        for path in changed:
            print(f"would reformat {path}", file=sys.stderr)
        if changed:
            status = max(status, EXIT_PROBLEMS)
    else:
        for path in changed:
            print(f"reformatted {path}")
    return status


def cmd_explain_code(args: argparse.Namespace) -> int:
    from incentive_dsl import codes

    text = codes.explain(args.code)
    if text is None:
        close = codes.suggest(args.code)
        hint = f"; did you mean {close}?" if close else ""
        print(f"incentive explain-code: unknown diagnostic code '{args.code}'{hint}\n"
              "the codes are listed in docs/diagnostics.md", file=sys.stderr)
        return EXIT_USAGE
    print(text, end="")
    return EXIT_OK


# ------------------------------------------------------------------------------ run / explain


def _date(text: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        # A period given as a date (2027-05, or 2027-5): name the period and its days.
        cal = Calendar()
        period = cal.parse(text) or cal.parse(cal.respelt(text) or "")
        told = (f" (the period {period.label} runs from {period.start} to {period.end})"
                if period is not None else "")
        raise argparse.ArgumentTypeError(f"'{text}' is not a date like 2027-03-31{told}") from None
    # The years data and plans may use (docs/data.md): periods are worked out around a date,
    # and a pay period past the year 9999 has no end.
    problem = date_problem(day)
    if problem:
        raise argparse.ArgumentTypeError(f"'{text}' {problem}")
    return day


def _file_sources(diags) -> dict[str, str]:
    """The text of every file the diagnostics point into, for their excerpts."""
    out = {}
    for d in diags:
        for span in (d.span, *(r.span for r in d.related)):
            if span.path not in out:
                try:  # a regular file only: the diagnostic may be about a pipe or a device
                    out[span.path] = read_regular(span.path).decode("utf-8")
                except (OSError, UnicodeDecodeError):
                    out[span.path] = ""
    return out


def _prog(args: argparse.Namespace) -> str:
    """The command as typed (`incentive run`, `incentive ledger show`): what every message of a
    command begins with, as its usage errors do. Only a message written before the command is
    known begins with `incentive:`."""
    sub = next((getattr(args, name) for name in ("finance_command", "data_command",
                                                 "ledger_command") if getattr(args, name, None)),
               None)
    return f"incentive {args.command}" + (f" {sub}" if sub else "")


def _load_dataset(args: argparse.Namespace, plan):
    """The dataset from the data files (--deals, --roster ...) or from a CRM export through
    its mapping (--map, docs/mapping.md): (dataset, diagnostics, None) or (None, (), exit
    code) on a usage error."""
    files = [o for o in ("data", "deals", "roster", "quotas", "fx", "territories")
             if getattr(args, o, None) is not None]
    if getattr(args, "map", None) is not None:
        if files:
            print(f"{_prog(args)}: --map names the data files itself; leave out "
                  + ", ".join(f"--{o}" for o in files), file=sys.stderr)
            return None, (), EXIT_USAGE
        dataset, diags = api.load_mapping(args.map, plan=plan)
        return dataset, diags, None
    if getattr(args, "data", None) is not None:
        folder = Path(args.data)
        if not os.path.isdir(folder):
            what = "not a directory" if os.path.exists(folder) else "no such directory"
            print(f"{_prog(args)}: --data {args.data}: {what}", file=sys.stderr)
            return None, (), EXIT_USAGE
        # A data directory holds the files under their standard names; a file given on its own
        # option wins.
        for option, names in (("deals", ("events.csv", "events.jsonl")),
                              ("roster", ("roster.csv", "roster.jsonl")),
                              ("quotas", ("quotas.csv",)), ("fx", ("fx.csv",)),
                              ("territories", ("territories.csv",))):
            found = next((folder / n for n in names if os.path.isfile(folder / n)), None)
            if getattr(args, option, None) is None and found is not None:
                setattr(args, option, str(found))
            elif getattr(args, option, None) is None and option in ("deals", "roster"):
                print(f"{_prog(args)}: {folder / names[0]}: no such file (--data needs "
                      f"{' or '.join(names)} in {folder})", file=sys.stderr)
                return None, (), EXIT_USAGE
    if args.deals is None or args.roster is None:
        print(f"{_prog(args)}: give the data: --data DIR (events.csv, roster.csv, ...), --deals FILE "
              "and --roster FILE, or --map FILE (a CRM export read through its mapping, "
              "docs/mapping.md)", file=sys.stderr)
        return None, (), EXIT_USAGE
    with _meter() as meter:
        dataset, diags = api.load_data(args.deals, args.roster, quotas=args.quotas, fx=args.fx,
                                       territories=args.territories, plan=plan, meter=meter)
    return dataset, diags, None


def _empty_window(exc: api.EmptyWindow, plan) -> str:
    """Why a window holding no whole pay period reports nothing, naming the pay period that
    holds it."""
    pay = exc.holding
    return (f"{exc}: nothing to report (the plan is paid {plan.payout.frequency}, and a report "
            f"covers the pay periods that end in its window)\n   = hint: the pay period "
            f"{pay.label} ({pay.start} to {pay.end}) holds it: --period {pay.label}")


def _window_problem(window, args: argparse.Namespace, start: dt.date, end: dt.date | None,
                    whose: str = "the plan's") -> str | None:
    """Why the window asked for (--period, --from, --to) reports nothing on plans in effect
    from `start` to `end` (None: open-ended), or None when it is a window to report on."""
    if window is None:
        return None
    if window.end < window.start and args.start and args.end:
        return f"--to {window.end} is before --from {window.start}"
    if window.end < window.start:  # one end given, beyond the plan's other end
        given = f"--from {args.start}" if args.start else f"--to {args.end}"
        return (f"{given} is outside {whose} effective range ({start} to {end or 'open'}): "
                "there is nothing to report")
    if window.end < start or (end is not None and window.start > end):
        return (f"{window.label} is outside {whose} effective range ({start} to "
                f"{end or 'open'}): there is nothing to report")
    return None


def _load(args: argparse.Namespace, whole_pay_periods: bool = True):
    """The checked plan (its versions, oldest first), the dataset and the report window, or
    an exit code. `whole_pay_periods`: see api.window."""
    loaded = api.load_plan(args.plan)
    if loaded.plan is None:
        _print_diagnostics(loaded.diagnostics, loaded.sources, "text")
        return None, None, None, (EXIT_USAGE if _file_errors_only(loaded.diagnostics)
                                  else EXIT_PROBLEMS)
    # A condition that can never hold (a misspelt value of a `one of` field) makes its rule
    # pay nothing: said here too, as `check` says it, or the run shows zeros without a word.
    # The other warnings are `check`'s to report (W-NO-EXAMPLE on every run would be noise).
    never = [d for d in loaded.diagnostics if d.code == "W-NEVER"]
    if never:
        print(api.render_all(never, loaded.sources), file=sys.stderr)
    plan = loaded.plan
    # What the command line asks is checked before the data is read: on a large history
    # reading takes a while, and a mistyped period or output path should not wait for it.
    period = getattr(args, "period", None)
    first, last = loaded.versions[0], loaded.versions[-1]
    start, end = first.effective_start, last.effective_end
    empty = None
    try:
        window = api.window(loaded.versions, period, args.start, args.end,
                            whole_pay_periods=whole_pay_periods)
    except api.EmptyWindow as exc:  # reported after the checks of the window as asked
        window, empty = exc.window, exc
    except api.NotAPeriod as exc:
        print(f"{_prog(args)}: {exc}", file=sys.stderr)
        return None, None, None, EXIT_USAGE
    problem = _window_problem(window, args, start, end)
    if problem:
        print(f"{_prog(args)}: {problem}", file=sys.stderr)
        return None, None, None, EXIT_USAGE
    if empty is not None:
        print(f"{_prog(args)}: {_empty_window(empty, plan)}", file=sys.stderr)
        return None, None, None, EXIT_USAGE
    output = getattr(args, "output", None)
    problem = _output_problem(output) if output else None
    if problem:
        print(f"{_prog(args)}: cannot write {output}: {problem}", file=sys.stderr)
        return None, None, None, EXIT_USAGE
    dataset, diags, code = _load_dataset(args, plan)
    if code is not None:
        return None, None, None, code
    # Notes (a mapping's choices, with counts) are for `incentive data check`; a run shows
    # warnings and errors only.
    missing = _report_data([d for d in diags if d.severity.value != "note"])
    if missing is not None:
        return None, None, None, EXIT_USAGE if missing else EXIT_PROBLEMS
    return loaded.versions, dataset, window, None


def _report_data(diags) -> bool | None:
    """Print what loading the data found; None when it found no error, else whether every
    error is a missing file."""
    if diags:
        print(api.render_all(diags, _file_sources(diags)), file=sys.stderr)
    if not any(d.is_error for d in diags):
        return None
    print(f"\n{sum(d.is_error for d in diags)} data error(s): nothing was evaluated",
          file=sys.stderr)
    return all(d.code == "D-FILE" for d in diags if d.is_error)


def _umask() -> int:
    mask = os.umask(0o022)  # reading the umask means setting it: put back at once
    os.umask(mask)
    return mask


def _output_problem(path: str) -> str | None:
    """Why a file cannot be written at `path`, as far as can be told before writing it."""
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        return "it is a directory"
    if not os.path.isdir(folder):
        return f"no such directory: {folder}"
    if not os.access(folder, os.W_OK):
        return f"the directory {folder} is not writable"
    return None


def _write(args: argparse.Namespace, path: str, text: str) -> int:
    return _write_with(args, path, lambda out: out.write(text))


def _write_with(args: argparse.Namespace, path: str | None, write,
                newline: str | None = None, binary: bool = False) -> int:
    """Let `write` write to the file at `path` (stdout when None); a failure is reported as
    the command's (`_prog`). `newline=""` writes line endings as given, untranslated.
    `binary`: a file is opened in binary mode, for a writer that encodes its own UTF-8 (the
    streamed JSON), where that changes no byte (line endings are "\n" here)."""
    if path is None:
        write(sys.stdout)
        return EXIT_OK
    # Written to a file beside it, which then replaces it: an interrupted or failed write
    # (Ctrl-C halfway through a large JSON document) leaves the file as it was, never half
    # written.
    problem = _output_problem(path)  # said as every command says it, not as the OS does
    if problem:
        print(f"{_prog(args)}: cannot write {path}: {problem}", file=sys.stderr)
        return EXIT_USAGE
    target = os.path.realpath(path)  # through a symbolic link, as opening it would
    folder, name = os.path.split(target)
    try:
        # The mode opening the file would give it: an existing file's, else the umask's.
        mode = stat.S_IMODE(os.stat(target).st_mode) if os.path.exists(target) else \
            0o666 & ~_umask()
        fd, partial = tempfile.mkstemp(prefix=f".{name}.", suffix=".partial", dir=folder)
    except OSError as exc:
        print(f"{_prog(args)}: cannot write {path}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        with open(fd, "wb") if binary and os.linesep == "\n" else \
                open(fd, "w", encoding="utf-8", newline=newline) as out:
            write(out)
        os.chmod(partial, mode)
        os.replace(partial, target)
    except OSError as exc:
        os.unlink(partial)
        print(f"{_prog(args)}: cannot write {path}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    except BaseException:
        os.unlink(partial)
        raise
    return EXIT_OK


def _meter():
    """A progress bar on stderr while loading or evaluating, when stderr is a terminal (a
    context giving None, and nothing shown, when it is not)."""
    from incentive_dsl.progress import TerminalMeter

    return TerminalMeter.for_stderr() or contextlib.nullcontext()


def _evaluate(plan, dataset, window):
    until = window.end if window is not None else None
    with _meter() as meter:
        return _keep(api.run(plan, dataset, until, meter=meter))


def cmd_run(args: argparse.Namespace) -> int:
    from incentive_dsl.audit import render

    columnar = getattr(args, "engine", "interpreter") == "columnar"
    if columnar:
        # Statements only (docs/columnar.md): the options that read lines need the interpreter.
        given = [option for option, value in (("--lines", args.lines),
                                              ("--skipped", args.skipped),
                                              ("--ledger", getattr(args, "ledger", None)))
                 if value]
        if given:
            print(f"incentive run: --engine columnar computes statements only; "
                  f"{' and '.join(given)} {'needs' if len(given) == 1 else 'need'} the "
                  "interpreter (leave out --engine columnar)", file=sys.stderr)
            return EXIT_USAGE
    plan, dataset, window, code = _load(args)
    if code is not None:
        return code
    if columnar:
        from incentive_dsl.columnar.runner import ColumnarOverflow, ColumnarUnavailable

        until = window.end if window else None
        try:
            with _meter() as meter:
                ready, fallback = api.prepare_columnar(plan, dataset, until, meter=meter)
                if ready is None:
                    result = _keep(api.run(plan, dataset, until, meter=meter))
                else:
                    # The history is in DuckDB and no fallback is left: the dataset's memory
                    # goes before the query adds its own (docs/columnar.md, "Memory").
                    dataset = None
                    try:
                        result = ready.result()
                    except ColumnarOverflow as exc:  # the files are read again, already checked
                        fallback = str(exc)
                        dataset, _, _ = _load_dataset(args, plan[-1])
                        result = _keep(api.run(plan, dataset, until, meter=meter))
        except ColumnarUnavailable as exc:
            print(f"incentive run: {exc}", file=sys.stderr)
            return EXIT_USAGE
        if fallback is not None:
            print(f"note: {fallback}", file=sys.stderr)
    else:
        result = _evaluate(plan, dataset, window)
    if result.diagnostics:
        print(api.render_all(result.diagnostics, _file_sources(result.diagnostics)),
              file=sys.stderr)
    if not result.ok:
        return EXIT_PROBLEMS
    view = None
    if getattr(args, "ledger", None):  # closed pay periods as paid, corrections (docs/ledger.md)
        view, code = _run_with_ledger(args, dataset, result, window)
        if code is not None:
            return code
        result = view.result
    if args.format == "json" and view is None:  # streamed: the document can be gigabytes
        # A bar while the document is written, unless it is written to the same terminal.
        quiet = args.output is None and sys.stdout.isatty()
        with contextlib.nullcontext() if quiet else _meter() as meter:
            return _write_with(args, args.output, lambda out: render.write_json(
                out, result, window, meter=meter or QUIET), binary=True)
    if args.format == "json":
        text = _ledger_json(render.to_json(result, window, lines=True), view)
    elif args.format == "csv":
        text = (render.payout_lines_csv(result, window) if args.lines
                else render.statements_csv(result, window))
    else:
        text = None
    if text is not None:
        if args.output:
            return _write(args, args.output, text)
        sys.stdout.write(text)
        return EXIT_OK
    from rich.console import Console

    # Written to a file: recorded into a buffer (a quiet console records nothing in rich 15).
    console = Console(record=bool(args.output), file=io.StringIO() if args.output else None,
                      width=None if sys.stdout.isatty() and not args.output else 160)
    console.print(render.statement_table(result, window, by_period=args.by_period))
    if args.lines:
        for p in result.payouts:
            if window is None or any(s.pay_period == p.pay_period for s in result.statements
                                     if render.in_window(s, window)):
                console.print(f"{p.payee} {p.pay_period} {p.kind} {p.amount} — {p.trace.because}",
                              markup=False, highlight=False)
    if args.skipped:
        console.print(f"\nevents and periods that earned nothing ({len(result.skips)}):")
        for sk in result.skips:
            if window is None or sk.date is None or window.contains(sk.date):
                console.print(f"  {sk.rule}: {sk.subject} — {sk.reason}", markup=False,
                              highlight=False)
    if view is not None:
        _print_ledger(console, view, result.plan.currency)
    if args.output:
        return _write(args, args.output, console.export_text())
    return EXIT_OK


def _known_payee(args: argparse.Namespace, dataset) -> bool:
    """Whether --payee names a payee of the roster, by id or by display name (--map [roster]
    name), which it is then read as; else says so, with the payees meant."""
    ids = {p.id for p in dataset.payees}
    named = {p.id for p in dataset.payees if p.name == args.payee}
    if args.payee not in ids and len(named) == 1:
        args.payee = named.pop()
    if args.payee in ids:
        return True
    print(f"{_prog(args)}: {payee_not_found(args.payee, dataset.payees)}", file=sys.stderr)
    return False


def cmd_explain(args: argparse.Namespace) -> int:
    plan, dataset, window, code = _load(args)
    if code is not None:
        return code
    if not _known_payee(args, dataset):
        return EXIT_USAGE
    deals = {e.deal for e in dataset.events if e.kind != "activity"}
    if args.deal is not None and args.deal not in deals:
        print(f"incentive explain: {not_found('deal', args.deal, 'the data', deals)}",
              file=sys.stderr)
        return EXIT_USAGE
    if window is None:
        window = api.window(plan, None, plan[0].effective_start, plan[-1].effective_end,
                            overlap=True)
    result = _evaluate(plan, dataset, window)
    if not result.ok:
        print(api.render_all(result.diagnostics, _file_sources(result.diagnostics)),
              file=sys.stderr)
        return EXIT_PROBLEMS
    if getattr(args, "ledger", None):  # closed pay periods as paid, prior-period adjustments
        view, code = _run_with_ledger(args, dataset, result, window)
        if code is not None:
            return code
        result = view.result
    tree = api.explain(result, args.payee, window, args.deal, grouped=args.format == "text")
    if args.format == "json":  # every line, for programs
        print(json.dumps({"format_version": 1, "payee": args.payee, "period": window.label,
                          "deal": args.deal, "explanation": tree.to_dict()},
                         ensure_ascii=False, indent=2))
        return EXIT_OK
    print("\n".join(tree.lines()))
    return EXIT_OK


def cmd_statement(args: argparse.Namespace) -> int:
    from incentive_dsl.audit import statement as rep
    from incentive_dsl.audit.explain import no_statement

    if args.pdf and rep.pdf_renderer() is None:
        print("incentive statement: --pdf: no PDF renderer is installed (chromium, or the "
              "weasyprint package); nothing was written", file=sys.stderr)
        return EXIT_USAGE
    plan, dataset, window, code = _load(args)
    if code is not None:
        return code
    known = {p.id for p in dataset.payees}
    for payee in args.payee or ():
        if payee not in known:
            print(f"incentive statement: {payee_not_found(payee, dataset.payees)}",
                  file=sys.stderr)
            return EXIT_USAGE
    if window is None:
        window = api.window(plan, None, plan[0].effective_start, plan[-1].effective_end,
                            overlap=True)
    result = _evaluate(plan, dataset, window)
    if result.diagnostics:
        print(api.render_all(result.diagnostics, _file_sources(result.diagnostics)),
              file=sys.stderr)
    if not result.ok:
        return EXIT_PROBLEMS
    view = None
    if args.ledger:
        view, code = _run_with_ledger(args, dataset, result, window)
        if code is not None:
            return code
    # A payee the plan does not pay would get an all-zero statement: refused, with the reason.
    for payee in args.payee or ():
        absent = no_statement(view.result if view else result, payee, window)
        if absent is not None:
            print(f"incentive statement: {absent}; nothing was written", file=sys.stderr)
            return EXIT_USAGE
    out = Path(args.output_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except FileExistsError:  # mkdir's own words, "File exists", do not say what is wrong
        print(f"incentive statement: --output-dir {out} is a file, not a directory",
              file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        print(f"incentive statement: cannot create {out}: {exc.strerror or exc}",
              file=sys.stderr)
        return EXIT_USAGE
    payees = rep.payees_of(view.result if view else result, window, args.payee or ())
    for payee in payees:
        page = api.statement_html(api.statement(result, payee, window, view))
        path = out / f"{rep.file_stem(payee, window.label)}.html"
        if _write(args, str(path), page) != EXIT_OK:
            return EXIT_USAGE
        print(path)
        if args.pdf:
            failed = rep.write_pdf(str(path), str(path.with_suffix(".pdf")))
            if failed:
                print(f"incentive statement: {path.with_suffix('.pdf')}: {failed}",
                      file=sys.stderr)
                return EXIT_USAGE
            print(path.with_suffix(".pdf"))
    if not payees:
        print(f"incentive statement: no payee has a statement in {window.label}",
              file=sys.stderr)
    return EXIT_OK


def cmd_finance(args: argparse.Namespace) -> int:
    from incentive_dsl.audit import finance

    command = _prog(args)
    if args.finance_command == "accruals" and args.period is None and args.end is None:
        print(f"{command}: say which period the accruals close: --period 2027-03 (or --to "
              "DATE)", file=sys.stderr)
        return EXIT_USAGE
    if args.finance_command == "amortisation" and args.benefit_months < 1:
        print(f"{command}: --benefit-months must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    # Accruals are as of the period's last day, which may fall inside a pay period.
    plan, dataset, window, code = _load(args, whole_pay_periods=False)
    if code is not None:
        return code
    rules = tuple(r for r in (getattr(args, "rules", None) or "").split(",") if r)
    for rule in rules:
        if plan[-1].component(rule) is None:
            names = [c.name for c in plan[-1].components]
            said = not_found('rule', rule, 'the plan', names)
            if any(c.name == rule for c in plan[-1].credits):  # it pays nothing to capitalise
                said = f"'{rule}' is a credit of the plan, not a rule that pays"
            # A clawback's lines are those of the rules it reverses (the `rule` column).
            for claw in plan[-1].clawbacks:
                if claw.name == rule:
                    said = (f"'{rule}' is a clawback of the plan: its lines are capitalised "
                            f"with the rules it reverses ({', '.join(claw.components)})")
            if "did you mean" not in said:
                said += f"; --rules takes the rules that pay: {', '.join(names)}"
            print(f"{command}: {said}", file=sys.stderr)
            return EXIT_USAGE
    result = _evaluate(plan, dataset, window)
    if result.diagnostics:
        print(api.render_all(result.diagnostics, _file_sources(result.diagnostics)),
              file=sys.stderr)
    if not result.ok:
        return EXIT_PROBLEMS
    if args.finance_command == "accruals":
        view = None
        if args.ledger:  # closed pay periods as paid, adjustments and their carry (ledger.md)
            view, code = _run_with_ledger(args, dataset, result, window,
                                          refuse=lambda view: finance.closed_after(view, window))
            if code is not None:
                return code
        text = finance.accruals_csv(api.accruals(result, window, view))
    else:
        text = finance.amortisation_csv(api.amortisation(result, args.benefit_months, rules,
                                                         window))
    if args.output:
        return _write(args, args.output, text)
    sys.stdout.write(text)
    return EXIT_OK


def _add_finance_commands(sub) -> None:
    fin = sub.add_parser(
        "finance", help="accruals and commission amortisation as CSV for the general ledger",
        description="Finance exports as CSV a ledger system can import (docs/finance.md).",
        epilog=RUN_EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    fsub = fin.add_subparsers(dest="finance_command", metavar="COMMAND", required=True)
    acc = fsub.add_parser(
        "accruals", help="per payee, commissions earned and not yet paid at a period end",
        description="Per payee, what is earned and not yet paid at the end of the period: "
                    "unpaid payable + held back + awaiting collection - carried forward, with "
                    "the period's earned and paid and the draw receivable (docs/finance.md).",
        epilog=LEDGER_RUN_EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    amo = fsub.add_parser(
        "amortisation", help="straight-line amortisation of capitalised commissions",
        description="The amortisation schedule of capitalised commissions (ASC 340-40): each "
                    "earning line of the capitalised rules dated in the period (--period, "
                    "--from/--to; default: the whole plan), straight-line over the benefit "
                    "period from the month of its date, one row per line and month; the "
                    "cents left over go to the last month (docs/finance.md).",
        epilog=RUN_EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    for p in (acc, amo):
        _data_options(p)
        for action in p._actions:
            if action.dest == "period":
                action.help = ("the period: 2027-03, 2027-Q1, 2027-H1, 2027 (FY2027-Q1 ... for "
                               "a fiscal year), taken as asked (not with --from or --to)")
        p.add_argument("--output", metavar="FILE", help="write to FILE instead of stdout")
        p.set_defaults(run=cmd_finance)
    acc.add_argument("--ledger", metavar="FILE",
                     help="read this ledger: closed pay periods as paid, and the prior-period "
                          "adjustments and the negative pay they carry forward")
    amo.add_argument("--benefit-months", type=int, required=True, metavar="N",
                     help="the benefit period in months over which each capitalised line is "
                          "amortised (the expected life of the customer contract)")
    amo.add_argument("--rules", metavar="RULE,...",
                     help="the rules whose lines are capitalised (default: every commission "
                          "rule)")


def cmd_document(args: argparse.Namespace) -> int:
    loaded = api.load_plan(args.plan)
    if loaded.plan is None:
        _print_diagnostics(loaded.diagnostics, loaded.sources, "text")
        return EXIT_USAGE if _file_errors_only(loaded.diagnostics) else EXIT_PROBLEMS
    fmt = args.format or ("html" if (args.output or "").lower().endswith((".html", ".htm"))
                          else "markdown")
    text = api.plan_document(loaded.versions, fmt)
    if args.output:
        return _write(args, args.output, text)
    sys.stdout.write(text)
    return EXIT_OK


def cmd_test(args: argparse.Namespace) -> int:
    from incentive_dsl.eval.money import fmt as money, sub

    files = _plan_files(args.paths, "test")
    if not files:
        return EXIT_USAGE
    results, checked = api.run_examples(files)
    errors = [d for d in checked.diagnostics if d.is_error]
    if errors:
        _print_diagnostics(errors, checked.sources, "text")
    failed = 0
    for r in results:
        status = "ok" if r.passed else "FAILED"
        print(f"{status:6} {r.example.span.path}:{r.example.span.line} {r.plan.name} / "
              f"{r.example.name}")
        if r.passed:
            continue
        failed += 1
        # The run's own diagnostics (a missing FX rate stops it) with their code and hint.
        for d in r.run.diagnostics:
            print(f"       {d.span}: {d.severity.value}[{d.code}]: {d.message}")
            if d.hint:
                print(f"         = hint: {d.hint}")
        stopped = any(d.is_error for d in r.run.diagnostics)
        cur = r.plan.currency
        for o in r.outcomes:
            if o.passed:
                continue
            diff = sub(o.actual, o.expected)
            print(f"       {o.span}: {o.text}")
            print(f"         expected {o.show(o.expected, cur)}, got {o.show(o.actual, cur)} "
                  f"(difference {o.show(diff, cur) if o.unit != 'money' else money(diff, cur)})")
            for ln in o.lines:
                print(f"         {ln.kind} {money(ln.amount, cur)}: {ln.trace.because}")
                if ln.trace.arithmetic:
                    print(f"           {ln.trace.arithmetic}")
            if stopped:
                print("         nothing was computed: the run stopped at the error above")
            elif o.what == "paid":
                print(f"         {_paid_by_period(r.run, o.payee)}")
            elif o.what in ("rule", "total") and not o.lines and o.actual == 0:
                print("         nothing was earned" +
                      ("; events that earned nothing:" if r.run.skips else ""))
                for sk in r.run.skips[:10]:
                    print(f"           {sk.rule}: {sk.subject} — {sk.reason}")
    untested = len({d.span.path for d in errors})
    skipped = f"; {untested} plan file(s) with errors were not tested" if untested else ""
    print(f"\n{len(results) - failed} passed, {failed} failed{skipped}")
    low = False
    if args.coverage or args.min_coverage is not None:
        low = _print_coverage(api.coverage(results, checked), checked.sources, args.min_coverage)
    mapped = _test_mapping(args.map, checked.plans) if getattr(args, "map", None) else EXIT_OK
    # A plan file that could not be read was not tested: unreadable input, as with check.
    if mapped == EXIT_USAGE or any(d.code == "E-FILE" for d in errors):
        return EXIT_USAGE
    if errors or failed or low or mapped:
        return EXIT_PROBLEMS
    return EXIT_OK


def _paid_by_period(result, payee: str) -> str:
    """What a payee was paid in each pay period of an example's run, and what still awaits
    the customer's payment: where the money of a failed `expect paid` went."""
    from incentive_dsl.eval.money import ZERO, add, fmt as money

    paid: dict = {}  # pay period (or awaiting collection) -> amount, in pay order
    for ln in result.payouts:
        if ln.payee == payee:
            key = "awaiting collection" if ln.kind == "awaiting collection" else ln.pay_period
            paid[key] = add(paid.get(key, ZERO), ln.amount)
    cur = result.plan.currency
    shown = [f"{money(amount, cur)} in {when}" for when, amount in paid.items()
             if amount and when != "awaiting collection"]
    if paid.get("awaiting collection"):
        shown.append(f"{money(paid['awaiting collection'], cur)} awaiting collection")
    return (f"paid to {payee}: {', '.join(shown)}" if shown
            else f"nothing was paid to {payee} in any pay period")


def _test_mapping(path: str, plans) -> int:
    """`test --map`: read the CRM export through the mapping as each plan reads it (its fields,
    stages, roles, currency), so a plan and its mapping cannot drift apart. Errors and warnings
    are printed; the mapping's notes are `incentive data check`'s."""
    status = EXIT_OK
    said: set = set()  # a problem of the mapping or the export is the same for every plan
    latest = {p.name: p for p in sorted(plans, key=lambda p: p.effective_start)}
    for plan in latest.values():
        dataset, diags = api.load_mapping(path, plan=plan)
        found = [d for d in diags if d.severity.value != "note"]
        shown = [d for d in found if (d.code, d.span, d.message) not in said]
        said |= {(d.code, d.span, d.message) for d in found}
        if shown:
            print(api.render_all(shown, _file_sources(shown)), file=sys.stderr)
        errors = sum(d.is_error for d in found)
        print(f"{'ok' if not errors else 'FAILED':6} {path} read as '{plan.name}' reads it: "
              f"{len(dataset.events):,} events, {len(dataset.payees):,} payees, "
              f"{errors} error(s)")
        if errors:
            missing = all(d.code == "D-FILE" for d in diags if d.is_error)
            status = max(status, EXIT_USAGE if missing else EXIT_PROBLEMS)
    return status


def _shown_percent(value: float) -> str:
    """A percentage cut (not rounded) to one decimal, so 79.96% never shows as 80.0%."""
    return f"{math.floor(value * 10) / 10:.1f}%"


def _print_coverage(cov, sources, minimum: float | None) -> bool:
    """Print what the examples reach; True when coverage is below `minimum` percent."""
    from incentive_dsl.audit.coverage import source_line

    print(f"\ncoverage: the examples reach {cov.hits} of {cov.total} rules, tier rows, steps, "
          f"pay lines, caps, floors and clawbacks ({_shown_percent(cov.percent)})")
    for p in cov.plans:
        print(f"  {p.plan.path}: {p.hits} of {len(p.targets)} ({_shown_percent(p.percent)}) "
              f"with {p.examples} example(s)")
        for t in p.missed:
            print(f"    not reached: {t.span.path}:{t.span.line}: {t.what} | "
                  f"{source_line(t.span, sources)}")
    if minimum is not None and cov.below(minimum):
        print(f"incentive test: coverage {_shown_percent(cov.percent)} is below the minimum of "
              f"{minimum:g}%", file=sys.stderr)
        return True
    return False


def _percentage(text: str) -> float:
    try:
        value = float(text.rstrip("%"))
    except ValueError:
        value = -1.0
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"'{text}' is not a percentage from 0 to 100")
    return value


# ------------------------------------------------------------------------------ diff


def cmd_diff(args: argparse.Namespace) -> int:
    # Under --exit-code, 2 means "payouts change", so every error exits 1.
    unreadable = EXIT_PROBLEMS if args.exit_code else EXIT_USAGE
    plans, sources = [], {}
    for ref in (args.old, args.new):
        loaded = api.read_plan(ref)
        if loaded.plan is None:
            _print_diagnostics(loaded.diagnostics, loaded.sources, "text")
            return unreadable if _file_errors_only(loaded.diagnostics) else EXIT_PROBLEMS
        plans.append(loaded.versions)
        sources.update(loaded.sources)
    old, new = plans  # each a plan's versions, oldest first (one for a plan file)
    dataset, notes = None, ()
    empty = None
    try:
        window = api.window(new, args.period, args.start, args.end)
    except api.EmptyWindow as exc:  # reported after the checks of the window as asked
        window, empty = exc.window, exc
    except api.NotAPeriod as exc:
        print(f"incentive diff: {exc}", file=sys.stderr)
        return unreadable
    # A window that neither plan is in effect in (or ends before it starts) would be
    # reported as "no payout change", and --exit-code would answer 0 for it.
    ends = [p[-1].effective_end for p in plans]
    problem = _window_problem(window, args, min(p[0].effective_start for p in plans),
                              None if None in ends else max(ends), "the plans'")
    if problem:
        print(f"incentive diff: {problem}", file=sys.stderr)
        return unreadable
    if empty is not None:
        print(f"incentive diff: {_empty_window(empty, new[-1])}", file=sys.stderr)
        return unreadable
    if any(getattr(args, o) is not None for o in ("data", "map", "deals", "roster", "quotas",
                                                  "fx", "territories")):
        from incentive_dsl.audit.impact import currency_problem

        problem = currency_problem(old, new, sources)
        if problem is not None:
            print(f"incentive diff: {problem}\n  hint: review the change of currency without "
                  "--data (the plan changes only), and see each plan's payouts in its own "
                  "currency with `incentive run`", file=sys.stderr)
            return unreadable
        # Read once, as the new plan reads it, knowing the names of both plans.
        view, notes = api.data_view(old, new)
        dataset, diags, code = _load_dataset(args, view)
        if code is not None:
            return unreadable
        missing = _report_data(diags)
        if missing is not None:
            return unreadable if missing else EXIT_PROBLEMS
    else:
        window = None  # without a history there is nothing to report per period
    if dataset is not None and sys.stderr.isatty():
        from rich.console import Console

        with Console(stderr=True).status("evaluating") as status:
            review, diags = api.review(args.old, args.new, old, new, dataset, window,
                                       args.by_period, notes,
                                       progress=lambda s: status.update(f"evaluating {s}"))
    else:
        review, diags = api.review(args.old, args.new, old, new, dataset, window,
                                   args.by_period, notes)
    if diags:
        print(api.render_all(diags, _file_sources(diags)), file=sys.stderr)
    if any(d.is_error for d in diags):
        return EXIT_PROBLEMS
    from incentive_dsl.audit import review as report

    if args.format == "json":
        sys.stdout.write(report.to_json(review))
    elif args.format == "markdown":
        sys.stdout.write(report.to_markdown(review))
    else:
        from rich.console import Console

        console = Console(width=None if sys.stdout.isatty() else 120, highlight=False)
        report.print_text(review, console, all_payees=args.all_payees)
    if args.exit_code:
        return 2 if review.payouts_changed else EXIT_OK
    return EXIT_OK


def _data_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("plan", metavar="PLAN",
                   help="the plan file, or a directory holding the versions of one plan")
    _history_options(p, "report on")


class _WindowOption(argparse.Action):
    """--period, or a range with --from and --to: given both, one would go unread."""

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        others = ("--from", "--to") if self.dest == "period" else ("--period",)
        given = [o for o in others if getattr(namespace, _WINDOW_DESTS[o]) is not None]
        if given:
            raise argparse.ArgumentError(
                self, f"not allowed with {' and '.join(given)}: give --period, or --from "
                      "and/or --to")
        setattr(namespace, self.dest, values)


_WINDOW_DESTS = {"--period": "period", "--from": "start", "--to": "end"}


def _history_options(p: argparse.ArgumentParser, verb: str) -> None:
    """The data a plan runs on (one of --data, --deals with --roster, --map) and the window."""
    _data_file_options(p)
    p.add_argument("--period", metavar="PERIOD", action=_WindowOption,
                   help=f"{verb} one period: 2027-Q1, 2027-03, 2027-H1, 2027 (FY2027-Q1 ... "
                        "for a fiscal year), or a pay period of a plan paid semi-monthly or "
                        "bi-weekly (2027-03-01/15); the report holds the plan's pay periods "
                        "that end in it (not with --from or --to)")
    p.add_argument("--from", dest="start", type=_date, metavar="DATE", action=_WindowOption,
                   help=f"{verb} from this date")
    p.add_argument("--to", dest="end", type=_date, metavar="DATE", action=_WindowOption,
                   help=f"{verb} up to this date (with --from: the pay periods that end "
                        "between the two dates)")


def _data_file_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", metavar="DIR",
                   help="a directory with events.csv, roster.csv and, if present, quotas.csv, "
                        "fx.csv and territories.csv (docs/data.md)")
    p.add_argument("--deals", metavar="FILE",
                   help="deal events, CSV or JSON Lines (docs/data.md); or --data, or --map")
    p.add_argument("--roster", metavar="FILE", help="payees, CSV or JSON Lines; or --map")
    p.add_argument("--map", metavar="FILE",
                   help="instead of the data files: a CRM export read through its mapping "
                        "(TOML, docs/mapping.md)")
    p.add_argument("--quotas", metavar="FILE", help="quota table")
    p.add_argument("--fx", metavar="FILE", help="dated FX rates into the plan currency")
    p.add_argument("--territories", metavar="FILE", help="territory index table")


RUN_EXIT_CODES = """exit codes:
  0  evaluated
  1  the plan or the data has errors (all are listed)
  2  usage error, missing or unreadable file
  3  internal error (a bug: please report it)"""
# run, explain, statement and finance accruals read a ledger with --ledger, which may be broken
# or refuse the plan: the codes of close for those cases.
LEDGER_RUN_EXIT_CODES = """exit codes:
  0  evaluated
  1  the plan or the data has errors (all are listed), or the ledger (--ledger) fails
     `ledger verify`
  2  usage error, missing or unreadable file (a path that is no ledger)
  3  internal error (a bug: please report it)
  4  refused by the ledger (--ledger): the plan was renamed, or is paid on other pay
     periods or in another currency than the closed ones; or another process held the
     ledger past the timeout (30 s)"""


# ------------------------------------------------------------------------------ data check


def cmd_data_check(args: argparse.Namespace) -> int:
    from incentive_dsl.data.mapping import blocks_rows

    plan = None
    if args.plan is not None:
        loaded = api.load_plan(args.plan)
        if loaded.plan is None:
            _print_diagnostics(loaded.diagnostics, loaded.sources, "text")
            return EXIT_USAGE if _file_errors_only(loaded.diagnostics) else EXIT_PROBLEMS
        plan = loaded.plan
    dataset, diags, code = _load_dataset(args, plan)
    if code is not None:
        return code
    errors = sum(d.is_error for d in diags)
    if args.format == "json":
        print(to_json(diags))
    else:
        if diags:
            print(api.render_all(diags, _file_sources(diags)) + "\n")
        warnings = sum(d.severity.value == "warning" for d in diags)
        notes = len(diags) - errors - warnings
        counts = f"{errors} error(s), {warnings} warning(s), {notes} note(s)"
        if args.map is not None and any(blocks_rows(os.fspath(args.map), d) for d in diags):
            # The rows are read once the mapping is right: "0 events read from 5 file(s)"
            # would say the files were read and held nothing.
            print(f"nothing was read: the rows are read once the mapping {args.map} and the "
                  f"files it names are without error: {counts}")
        else:
            print(f"{len(dataset.events):,} events, {len(dataset.payees):,} payees, "
                  f"{len(dataset.quotas):,} quotas, {len(dataset.fx):,} FX rates, "
                  f"{len(dataset.territories):,} territory indexes read from "
                  f"{len(dataset.sources)} file(s): {counts}")
    if errors:
        missing = all(d.code == "D-FILE" for d in diags if d.is_error)
        return EXIT_USAGE if missing else EXIT_PROBLEMS
    return EXIT_OK


def _add_data_commands(sub) -> None:
    data = sub.add_parser(
        "data", help="check data files or a CRM export (through its mapping)",
        description="Commands on the input data of runs.")
    dsub = data.add_subparsers(dest="data_command", metavar="COMMAND", required=True)
    check = dsub.add_parser(
        "check", help="read and validate the data, reporting every problem",
        description="Read the data files (--deals, --roster ...) or a CRM export through its "
                    "mapping (--map, docs/mapping.md) and report every problem with its file, "
                    "line and column, and every choice the mapping made (aliases, defaults, "
                    "rows without a booking) as a note with counts. With --plan, the data is "
                    "read as that plan reads it: its fields, stages, roles and currency.",
        epilog="exit codes:\n  0  no errors (warnings and notes may be listed)\n"
               "  1  the data or the mapping has errors (all are listed)\n"
               "  2  usage error, missing or unreadable file\n  3  internal error",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    check.add_argument("--map", metavar="FILE",
                       help="a mapping file (TOML) that reads a CRM export (docs/mapping.md)")
    check.add_argument("--plan", metavar="PLAN", help="check the data against this plan")
    check.add_argument("--data", metavar="DIR",
                       help="a directory with events.csv, roster.csv and, if present, "
                            "quotas.csv, fx.csv and territories.csv (docs/data.md)")
    check.add_argument("--deals", metavar="FILE", help="deal events, CSV or JSON Lines")
    check.add_argument("--roster", metavar="FILE", help="payees, CSV or JSON Lines")
    check.add_argument("--quotas", metavar="FILE", help="quota table")
    check.add_argument("--fx", metavar="FILE", help="dated FX rates into the plan currency")
    check.add_argument("--territories", metavar="FILE", help="territory index table")
    check.add_argument("--format", choices=("text", "json"), default="text",
                       help="text for people (default), json for programs")
    check.set_defaults(run=cmd_data_check)


# The commands that evaluate a plan other than run: each reads lines and traces, which the
# columnar engine never makes.
_EVALUATING = ("explain", "statement", "estimate", "diff", "close", "accruals", "amortisation",
               "test")


def _no_engine(command: str) -> str:
    return (f"--engine is an option of `incentive run` only: {command} runs on the "
            "interpreter (the columnar engine computes statements without their lines, and "
            f"{command} needs the lines); leave out --engine")


class _Parser(argparse.ArgumentParser):
    """A parser whose subcommands report arguments they do not know with their own usage
    (argparse leaves them to the top-level parser, whose usage says nothing of the command's
    options). Subparsers are made of the same class. Options are never abbreviated:
    argparse would take `--deal X` for `--deals X` without a word."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs["allow_abbrev"] = False
        super().__init__(*args, **kwargs)

    def parse_known_args(self, args=None, namespace=None):
        self._words = list(sys.argv[1:] if args is None else args)
        parsed, extra = super().parse_known_args(args, namespace)
        if extra:
            command = self.prog.split()[-1]
            if command in _EVALUATING and any(w.partition("=")[0] == "--engine" for w in extra):
                self.error(_no_engine(command))
            self.error(f"unrecognized arguments: {' '.join(extra)}" + self._hint(extra))
        return parsed, extra

    def error(self, message: str):
        # argparse names the word it took for a command, not what was meant: a misspelling, or
        # an option or path written before the command (`incentive --data DIR run PLAN`).
        wrong = re.match(r"argument COMMAND: invalid choice: '(.*?)' \(", message)
        if wrong and self._subparsers is not None:
            commands = [c for a in self._subparsers._group_actions for c in a.choices]
            later = [w for w in getattr(self, "_words", ()) if w in commands]
            near = closest(wrong.group(1), commands)
            if near:
                message += f"; did you mean '{near}'?"
            elif later:
                message += (f"; the command comes first, then its arguments and options: "
                            f"{self.prog} {later[0]} ...")
        super().error(message)

    def _hint(self, extra: list[str]) -> str:
        # A key=value left behind by another option was meant for --deal (estimate).
        if "--deal" in self._option_string_actions and \
                any("=" in w and not w.startswith("-") for w in extra):
            return "; a deal's key=value pairs follow --deal (or another --deal)"
        # Compared without the dashes, and closer than `closest` asks: every option shares
        # them, and `--format` is not a slip for `--from`.
        options = {o[2:]: o for o in self._option_string_actions if o.startswith("--")}
        for word in extra:
            if word.startswith("--"):
                near = difflib.get_close_matches(word.partition("=")[0][2:], list(options),
                                                 n=1, cutoff=0.75)
                if near:
                    return f"; did you mean {options[near[0]]}?"
        return ""


def build_parser() -> argparse.ArgumentParser:
    # argparse exits with 2 on usage errors, which is our usage exit code too.
    parser = _Parser(
        prog="incentive",
        description="Sales-compensation plans as code: check, format and run plan files.",
        epilog=EXIT_CODES_HELP + "\n  4  refused by the ledger (close, ledger; run, explain "
               "and statement with --ledger)\neach command's --help says what they mean for it",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"incentive-dsl {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    check = sub.add_parser(
        "check", help="parse and check plan files, reporting every problem",
        description="Parse and check plan files (directories are searched for *.plan). "
                    "Every problem of every file is reported at once (a file with syntax "
                    "errors is not checked further).",
        epilog=EXIT_CODES_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    check.add_argument("paths", nargs="+", metavar="PATH", help="plan files or directories")
    check.add_argument("--format", choices=("text", "json"), default="text",
                       help="text for people (default), json for programs")
    check.add_argument("--strict", action="store_true",
                       help="fail (exit 1) on warnings too, not only on errors")
    check.set_defaults(run=cmd_check)

    fmt = sub.add_parser(
        "fmt", help="rewrite plan files in the canonical layout",
        description="Rewrite plan files in the canonical layout. Only layout changes: comments "
                    "and every token stay as written.",
        epilog=EXIT_CODES_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    fmt.add_argument("paths", nargs="+", metavar="PATH", help="plan files or directories")
    fmt.add_argument("--check", action="store_true",
                     help="change nothing; exit 1 if any file is not canonically formatted")
    fmt.add_argument("--diff", action="store_true",
                     help="change nothing; print what would change as a unified diff")
    fmt.set_defaults(run=cmd_fmt)

    explain_code = sub.add_parser(
        "explain-code", help="explain a diagnostic code such as E-TIER-GAP",
        description="Explain a diagnostic code: what it means, why it matters for payouts, "
                    "and a wrong plan fragment next to its fix.",
        epilog="exit codes:\n  0  the code is known\n  2  unknown code",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    explain_code.add_argument("code", metavar="CODE", help="a code such as E-TIER-GAP or W-NEVER")
    explain_code.set_defaults(run=cmd_explain_code)

    run = sub.add_parser(
        "run", help="evaluate a plan on deal data and print statements",
        description="Evaluate a plan on a deal history and a roster; print each payee's "
                    "statement (earned, capped, clawed back, held, drawn, paid) per pay period.",
        epilog=LEDGER_RUN_EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    _data_options(run)
    run.add_argument("--format", choices=("table", "csv", "json"), default="table",
                     help="table for people (default), csv for spreadsheets, json for programs "
                          "(versioned, with every line and its trace)")
    run.add_argument("--by-period", action="store_true",
                     help="table: one row per payee and pay period instead of one per payee")
    run.add_argument("--lines", action="store_true",
                     help="also list the payout lines (csv: the lines instead of statements)")
    run.add_argument("--skipped", action="store_true",
                     help="also list the events and periods that earned nothing, and why")
    run.add_argument("--output", metavar="FILE", help="write to FILE instead of the terminal")
    run.add_argument("--engine", choices=("interpreter", "columnar"), default="interpreter",
                     help="columnar: compute the statements as one SQL query on DuckDB (for "
                          "large histories; statements only; plans it does not cover run on the "
                          "interpreter, with a note saying why; docs/columnar.md)")
    run.set_defaults(run=cmd_run)

    explain = sub.add_parser(
        "explain", help="explain a payee's pay, line by line, in plan words",
        description="Explain how a payee's pay was computed: every earning with its rule, "
                    "source line, inputs and arithmetic, quotas, payouts, and what earned "
                    "nothing and why.",
        epilog=LEDGER_RUN_EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    _data_options(explain)
    explain.add_argument("--payee", required=True, help="the payee id")
    explain.add_argument("--deal", help="only this deal")
    explain.add_argument("--format", choices=("text", "json"), default="text",
                         help="text for people (default: the events a rule turned away for "
                              "one reason on one line), json for programs (the tree, every "
                              "line)")
    explain.set_defaults(run=cmd_explain)

    test = sub.add_parser(
        "test", help="run the worked examples inside plan files",
        description="Run every `example` block of the plans: build its inline data, evaluate, "
                    "compare each `expect` line.",
        epilog="exit codes:\n  0  every example passes\n  1  a plan has errors or an example "
               "fails (or, with --map, the mapped export has errors)\n  2  usage error, no "
               "plan files, a missing file\n  3  internal error",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    test.add_argument("paths", nargs="+", metavar="PATH", help="plan files or directories")
    test.add_argument("--coverage", action="store_true",
                      help="also report the rules, tier rows, steps, pay lines, caps, floors "
                           "and clawbacks no example reaches, with their lines")
    test.add_argument("--min-coverage", type=_percentage, metavar="N",
                      help="fail (exit 1) when the examples reach less than N%% of them "
                           "(implies --coverage)")
    test.add_argument("--map", metavar="FILE",
                      help="also read this CRM export mapping (docs/mapping.md) as each plan "
                           "reads it: fail (exit 1) when they disagree or the export has errors")
    test.set_defaults(run=cmd_test)

    diff = sub.add_parser(
        "diff", help="review a plan change: what changed, in plan words, and who it pays",
        description="Compare two versions of a plan: the changes in plan words (rules, tiers, "
                    "rates, caps, windows, quotas, credits, payout), and with a history (--data, "
                    "--deals and --roster, or --map) the payout impact on it: per payee the old "
                    "and new totals, the difference and the rules behind it (without a history: "
                    "the changes only). OLD and NEW are plan files or REV:path, the file at a git revision (git show REV:path, run in the "
                    "current directory's repository: the path is relative to the repository's "
                    "top, :path is the staged version). Each plan is evaluated once, on data "
                    "loaded once.",
        epilog="exit codes:\n  0  compared (with --exit-code: no payout changes)\n"
               "  1  the plans or the data have errors (with --exit-code: any error, "
               "including\n     usage errors and unreadable files or revisions)\n"
               "  2  usage error, missing or unreadable file or revision (with --exit-code:\n"
               "     payouts change; without a history: the plan's meaning changed)\n"
               "  3  internal error (a bug: please report it)",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    diff.add_argument("old", metavar="OLD",
                      help="the plan before: a file, a directory of its versions, or REV:path")
    diff.add_argument("new", metavar="NEW",
                      help="the plan after: a file, a directory of its versions, or REV:path")
    _history_options(diff, "compare")
    diff.add_argument("--by-period", nargs="?", const="pay", metavar="UNIT",
                      choices=api.BY_PERIOD,
                      help="also compare per period: month, quarter, half or year (default: "
                           "the new plan's pay periods)")
    diff.add_argument("--format", choices=("text", "markdown", "json"), default="text",
                      help="text for people (default), markdown for a pull-request comment, "
                           "json for programs (versioned)")
    diff.add_argument("--all-payees", action="store_true",
                      help="text: list unchanged payees too")
    diff.add_argument("--exit-code", action="store_true",
                      help="exit 2 when payouts change, 0 when not, 1 on any error "
                           "(like git diff --exit-code)")
    diff.set_defaults(run=cmd_diff)
    _add_ledger_commands(sub)
    statement = sub.add_parser(
        "statement", help="write each payee's statement for a period as an HTML page (and PDF)",
        description="Write one self-contained HTML page per payee for the period (--period, or "
                    "--from/--to; default: the plan's whole range): earned, paid, held back, "
                    "carried, awaiting collection, every earning with its credit and reason, "
                    "year-to-date attainment against quota, and with --ledger the prior-period "
                    "adjustments. The numbers are those of `run` and `explain`.",
        epilog=LEDGER_RUN_EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    _data_options(statement)
    statement.add_argument("--payee", action="append", metavar="ID",
                           help="only this payee (repeat for several; default: every payee "
                                "with a statement in the period)")
    statement.add_argument("--output-dir", metavar="DIR", default="statements",
                           help="where to write PAYEE_PERIOD.html (default: ./statements)")
    statement.add_argument("--pdf", action="store_true",
                           help="also print each page to PDF (needs chromium or weasyprint; "
                                "exit 2 without one)")
    statement.add_argument("--ledger", metavar="FILE",
                           help="read this ledger: closed pay periods as paid, and the "
                                "prior-period adjustments paid in the period")
    statement.set_defaults(run=cmd_statement)
    _add_finance_commands(sub)
    document = sub.add_parser(
        "document", help="write the plan as the document a rep reads and signs",
        description="Write the plan as a human-readable document, generated from the checked "
                    "plan so the two cannot drift: its terms in plain words, tier and step "
                    "tables, the worked examples with the results computed for them, effective "
                    "dates, version, plan hash and an acknowledgement to sign. A directory of "
                    "versions gives each version in turn.",
        epilog="exit codes:\n  0  written\n  1  the plan has errors (all are listed)\n"
               "  2  usage error, missing or unreadable file\n  3  internal error",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    document.add_argument("plan", metavar="PLAN",
                          help="the plan file, or a directory holding the versions of one plan")
    document.add_argument("--format", choices=("markdown", "html"), default=None,
                          help="markdown or html (one self-contained page); default: html for "
                               "an --output ending in .html or .htm, else markdown")
    document.add_argument("--output", metavar="FILE", help="write to FILE instead of stdout")
    document.set_defaults(run=cmd_document)
    _add_data_commands(sub)
    _add_editor_commands(sub)
    _add_estimate_command(sub)
    return parser


# ------------------------------------------------------------------------------ estimates


def cmd_estimate(args: argparse.Namespace) -> int:
    from incentive_dsl.audit import estimate

    plans, dataset, _, code = _load(args)
    if code is not None:
        return code
    if not _known_payee(args, dataset):
        return EXIT_USAGE
    notes: list[str] = []
    heading: list[str] = []
    if args.pipeline:
        try:
            closings, notes = api.open_deals(plans[-1], dataset, args.payee, args.date)
        except estimate.DealError as exc:
            print(f"incentive estimate: --pipeline: {exc.message}"
                  + (f"\n   = hint: {exc.hint}" if exc.hint else ""), file=sys.stderr)
            return EXIT_USAGE
        if not closings:
            print(f"{args.payee} has no open pipeline deal with an amount in the data",
                  *(f"note: {n}" for n in notes), sep="\n")
            return EXIT_OK
        one_by_one, together = api.scenarios(plans, dataset, args.payee, closings)
        heading = estimate.summary(args.payee, closings[0].event.date, one_by_one, together)
        labelled = [(f"if {estimate.describe(e.closings[0], e.currency)} closes", e)
                    for e in one_by_one]
        if together is not None:
            labelled.append((f"if all {len(closings)} open deals close", together))
    else:
        values = {}
        for item in args.deal:
            key, _, value = item.partition("=")
            key = key.strip()
            if key in values:
                print(f"incentive estimate: --deal {item}: {key} is given twice "
                      f"({key}={values[key]} before)", file=sys.stderr)
                return EXIT_USAGE
            values[key] = value
        try:
            closing = api.hypothetical_deal(plans[-1], dataset, args.payee, values, args.date)
        except estimate.DealError as exc:
            print(f"incentive estimate: --deal: {exc.message}"
                  + (f"\n   = hint: {exc.hint}" if exc.hint else ""), file=sys.stderr)
            return EXIT_USAGE
        est = api.estimate(plans, dataset, args.payee, [closing])
        labelled = [(f"if {estimate.describe(closing, est.currency)} closes", est)]
    problems = [d for _, e in labelled for d in e.diagnostics]
    if problems:
        unique = list(dict.fromkeys(problems))
        print(api.render_all(unique, _file_sources(unique)), file=sys.stderr)
        return EXIT_PROBLEMS
    if args.format == "json":
        sys.stdout.write(estimate.to_json(labelled))
        return EXIT_OK
    blocks = ["\n".join(estimate.tree(e, label).lines()) for label, e in labelled]
    if heading:
        blocks.insert(0, "\n".join(heading))
    print("\n\n".join(blocks + [f"note: {n}" for n in notes]))
    return EXIT_OK


def _deal_item(text: str) -> str:
    key, sep, _ = text.partition("=")
    if not sep or not key.strip():
        # --deal takes every word up to the next option: a plan path after the pairs is one.
        raise argparse.ArgumentTypeError(
            f"'{text}' is not key=value, e.g. amount=120,000 (--deal takes the words after it "
            "up to the next option: write the plan before --deal)")
    return text


def _add_estimate_command(sub) -> None:
    est = sub.add_parser(
        "estimate", help="what a payee earns if a deal closes, on their live history",
        description="What would the payee earn if this deal closed? The deal (--deal "
                    "key=value ...) is added to the payee's history and the plan run with and "
                    "without it: the difference per rule, each changed line with its reason "
                    "(a tier crossed, a bonus step reached, a cap hit), the pay periods whose "
                    "pay changes and the other payees it changes. --pipeline does it for "
                    "each of the payee's open deals in the data, one by one and all together. "
                    "docs/estimate.md.",
        epilog="exit codes:\n  0  estimated\n  1  the plan or the data has errors\n"
               "  2  usage error, a value of --deal that cannot be read, an unknown payee, "
               "a missing file\n  3  internal error (a bug: please report it)",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    est.add_argument("plan", metavar="PLAN",
                     help="the plan file, or a directory holding the versions of one plan")
    _data_file_options(est)
    est.add_argument("--payee", required=True, help="the payee id")
    what = est.add_mutually_exclusive_group(required=True)
    # extend: `--deal amount=1 --deal date=...` is one deal, as `--deal amount=1 date=...`.
    what.add_argument("--deal", nargs="+", action="extend", metavar="KEY=VALUE",
                      type=_deal_item,
                      help="the deal: amount=120,000 (or 'amount=120,000 EUR'), and "
                           "optionally date=, id=, currency=, splits=ana:60;bob:40, "
                           "term_months=, and the plan's deal fields (type=new_business)")
    what.add_argument("--pipeline", action="store_true",
                      help="each open deal of the payee in the data (reached a stage, not "
                           "booked or cancelled) at its last amount, and all together")
    est.add_argument("--date", type=_date, metavar="DATE",
                     help="the day the deal closes (default: the day the data runs up to)")
    est.add_argument("--format", choices=("text", "json"), default="text",
                     help="text for people (default), json for programs")
    est.set_defaults(run=cmd_estimate, period=None, start=None, end=None)


# ------------------------------------------------------------------------------ editors


def cmd_lsp(args: argparse.Namespace) -> int:
    try:
        from incentive_dsl.editor import lsp
    except ImportError as exc:  # pygls is an optional extra
        print(f"incentive lsp: needs the language-server extra ({exc.name} is not installed): "
              "pip install 'incentive-dsl[lsp]'", file=sys.stderr)
        return EXIT_USAGE
    return lsp.main()


def _add_editor_commands(sub) -> None:
    lsp = sub.add_parser(
        "lsp", help="the language server for editors (stdio)",
        description="Serve the Language Server Protocol over stdin and stdout: diagnostics as "
                    "`incentive check` reports them, hover and go-to-definition on names. "
                    "Needs the [lsp] extra; docs/editor.md shows how to set up VS Code and "
                    "Neovim.",
        epilog="exit codes:\n  0  the client ended the session\n  2  the [lsp] extra "
               "(pygls) is not installed",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    lsp.set_defaults(run=cmd_lsp)


# ------------------------------------------------------------------------------ the ledger


EXIT_REFUSED = 4

CLOSE_EXIT_CODES = """exit codes:
  0  closed: the pay period(s), their lines and statements are recorded
  1  the plan or the data has errors, or the ledger is broken (fails `ledger verify`);
     nothing was recorded
  2  usage error, missing or unreadable file, a period that is not whole pay periods
  3  internal error (a bug: please report it)
  4  refused by the ledger (nothing was recorded): the period is already closed, an earlier
     pay period is still open, a pay period has not ended (after today or after the data's
     last event; --early closes it), the plan was renamed or pays on other pay periods than those
     closed, or another process held the ledger past the timeout (30 s)"""

LEDGER_EXIT_CODES = """exit codes:
  0  the ledger is intact (verify) or was printed (show)
  1  verify found edited, deleted, unreadable or missing records, or the head is missing;
     show refuses such a ledger (E-LEDGER-BROKEN)
  2  usage error: no ledger at the path, not a ledger, bad option
  4  another process held the ledger past the timeout (30 s)"""


def _ledger_error(command: str, exc) -> int:
    """Print a ledger error as a diagnostic; its exit code."""
    from incentive_dsl.audit import ledger

    print(f"incentive {command}: {exc.render()}", file=sys.stderr)
    if isinstance(exc, ledger.Broken):
        return EXIT_PROBLEMS
    return EXIT_REFUSED if isinstance(exc, ledger.Refused) else EXIT_USAGE


def _ledger_file(args: argparse.Namespace, command: str) -> str | None:
    if args.ledger:
        return args.ledger
    if getattr(args, "plan", None):
        return api.default_ledger(args.plan)
    print(f"incentive ledger {command}: say which ledger: --ledger FILE, or --plan PLAN for the "
          "ledger beside that plan", file=sys.stderr)
    return None


def _money(amount, currency: str | None = None) -> str:
    from incentive_dsl.eval.money import fmt

    return ("+" if amount > 0 else "") + fmt(amount, currency)


def cmd_close(args: argparse.Namespace) -> int:
    import json
    from decimal import Decimal

    from incentive_dsl.audit import ledger

    if args.period is not None or args.start is not None or args.end is not None:
        print("incentive close: the period to close is the first argument "
              "(incentive close 2027-03 PLAN ...); --period, --from and --to do not apply",
              file=sys.stderr)
        return EXIT_USAGE
    if not os.path.exists(args.plan) and os.path.exists(args.close_period):
        # `close PLAN PERIOD` would say only "no such file: 2027-03".
        print(f"incentive close: the period comes first, then the plan: incentive close "
              f"{args.plan} {args.close_period} ...", file=sys.stderr)
        return EXIT_USAGE
    versions, dataset, _, code = _load(args)
    if code is not None:
        return code
    path = args.ledger or api.default_ledger(args.plan)
    try:
        pays = ledger.pay_periods(versions, args.close_period)
        if not args.early:  # before the plan is evaluated for nothing
            ledger.check_ended(args.close_period, pays, dataset, path,
                               closed=ledger.closed_labels(path, versions[-1].name))
    except ledger.LedgerError as exc:
        return _ledger_error("close", exc)

    def say(message: str) -> None:
        if args.verbose:
            print(f"incentive close: {message}", file=sys.stderr, flush=True)

    say(f"evaluating up to {pays[-1].end}")
    result = _keep(api.run(versions, dataset, pays[-1].end))
    if result.diagnostics:
        print(api.render_all(result.diagnostics, _file_sources(result.diagnostics)),
              file=sys.stderr)
    if not result.ok:
        print("incentive close: the plan or the data has errors: nothing was closed",
              file=sys.stderr)
        return EXIT_PROBLEMS
    try:
        done = api.close_period(versions, dataset, args.close_period, path, result, progress=say,
                                new_plan=args.new_plan, early=args.early)
    except ledger.LedgerError as exc:
        return _ledger_error("close", exc)
    cur = result.plan.currency
    if args.format == "json":
        print(json.dumps({
            "format_version": 1, "ledger": done.path, "plan": done.plan, "head": done.head,
            "run": done.run.to_json(),
            "periods": [{"pay_period": p.label, "start": p.start.isoformat(),
                         "end": p.end.isoformat(), "lines": p.line_count,
                         "statements": p.statement_count, "paid": str(p.paid)}
                        for p in done.periods],
            "adjustments": [a.to_json() for a in done.adjustments],
            "carried": [c.to_json() for c in done.carried],
            "after_plan": list(done.after_plan), "already_closed": list(done.already_closed)},
            indent=2, sort_keys=True, ensure_ascii=False))
        return EXIT_OK
    print(f"closed {', '.join(p.label for p in done.periods)} of \"{done.plan}\" "
          f"(ledger run #{done.run.id}, {done.run.created_by})")
    for p in done.periods:
        print(f"  {p.label}  paid {_fmt_money(p.paid, cur)} on {p.statement_count} statement(s), "
              f"{p.line_count} line(s)")
    if done.already_closed:
        print(f"already closed: {ledger.range_of(list(done.already_closed))} of "
              f"{args.close_period}, closed before (unchanged)")
    if done.after_plan:
        left = done.after_plan
        print(f"not closed: {ledger.range_of(list(left))} of {args.close_period} "
              f"{'starts' if len(left) == 1 else 'start'} after \"{done.plan}\" ends "
              f"({versions[-1].effective_end}); close {'it' if len(left) == 1 else 'them'} "
              "under the plan (or the new version of it) that pays them")
    net = sum((a.amount for a in done.adjustments), Decimal(0))
    first = done.periods[0].label
    if done.adjustments and not done.carried:
        print(f"prior-period adjustments paid in {first}: {len(done.adjustments)} line(s), "
              f"net {_money(net, cur)}")
    elif done.carried:
        # Part of the adjustments (or of those carried from earlier closes) would make pay
        # negative: say what reached pay and what is carried forward, not "paid".
        before = sum((c.before for c in done.carried), Decimal(0))
        after = sum((c.after for c in done.carried), Decimal(0))
        in_pay = net - before + after
        closed = ledger.range_of([p.label for p in done.periods])
        if done.adjustments:
            said = (f"prior-period adjustments in {first}: {len(done.adjustments)} line(s), "
                    f"net {_money(net, cur)}")
            if before:
                said += f", and {_fmt_money(before, cur)} carried from earlier pay periods"
        else:
            said = (f"{_fmt_money(before, cur)} of prior-period adjustments carried from "
                    "earlier pay periods")
        reached = (f"{_fmt_money(-in_pay, cur)} recovered from the pay of {closed}"
                   if in_pay <= 0 else f"{_fmt_money(in_pay, cur)} paid in {closed}")
        print(f"{said}: {reached}, {_fmt_money(after, cur)} carried forward (nothing is taken "
              "back from pay: it is recovered from later pay)")
    for a in done.adjustments:
        print(f"  {a.payee}  {_money(a.amount, cur)}  for {a.describe()}")
    for c in done.carried:
        print(f"  {c.payee}  carried forward {_fmt_money(c.after, cur)}"
              + (f" (carried in: {_fmt_money(c.before, cur)})" if c.before else ""))
    print(f"ledger {done.path}, head {done.head}")
    print(f"keep the head: `incentive ledger verify --ledger {done.path} --head "
          f"{done.head[:16]}` later proves that no record up to it was deleted")
    return EXIT_OK


def _fmt_money(amount, currency: str | None = None) -> str:
    from incentive_dsl.eval.money import fmt

    return fmt(amount, currency)


def _head_hash(text: str) -> str:
    """--head: a head hash as a close prints it (at least 8 hex digits). Anything else would
    be reported as a ledger whose records were deleted, and an empty one (`--head "$HEAD"`
    with HEAD unset) would skip the check."""
    head = text.strip().lower()
    if not re.fullmatch(r"[0-9a-f]{8,64}", head):
        raise argparse.ArgumentTypeError(
            f"'{text}' is not a head hash: give the hash a close printed (8 to 64 hex digits, "
            "e.g. 3b1a98f66b902954)")
    return head


def cmd_ledger_verify(args: argparse.Namespace) -> int:
    import json
    from collections import defaultdict

    from incentive_dsl.audit import ledger

    path = _ledger_file(args, "verify")
    if path is None:
        return EXIT_USAGE
    if not args.ledger and os.path.isdir(args.plan):
        # The ledger in a directory is that of the one plan whose versions it holds: given a
        # directory of several plans (or of none), which plan's ledger is meant is unknown, as
        # for `run`. Errors inside the plan do not stop the ledger being verified.
        loaded = api.load_plan(args.plan)
        if loaded.plan is None and _file_errors_only(loaded.diagnostics):
            _print_diagnostics(loaded.diagnostics, loaded.sources, "text")
            return EXIT_USAGE
    try:
        report = api.verify_ledger(path, args.head)
    except ledger.LedgerError as exc:
        return _ledger_error("ledger verify", exc)
    if args.format == "json":
        print(json.dumps(report.to_json(), indent=2, sort_keys=True, ensure_ascii=False))
    elif report.ok:
        print(f"ledger {path}: intact, {report.records} record(s), head {report.head}")
    else:
        print(f"ledger {path}: BROKEN: {report.problems[0]}")
        # One deleted or moved record breaks every record that depends on it (a deleted seal,
        # each line of its period): each problem once, with the count of records it hits.
        same = defaultdict(list)
        for p in report.problems[1:]:
            same[p.message].append(p)
        for hit in same.values():
            print(f"  also: {hit[0]}")
            if len(hit) > 2:
                print(f"        and {len(hit) - 1} more record(s), up to {hit[-1].where}, "
                      "with the same problem")
            elif len(hit) == 2:
                print(f"  also: {hit[1]}")
        print(f"{len(report.problems)} problem(s) in {report.records} record(s)"
              + (" (--format json lists each)" if len(report.problems) > len(same) + 1 else ""))
        print("   = hint: restore the ledger from a backup and verify it with --head HASH, the "
              "head a close printed")
    return EXIT_OK if report.ok else EXIT_PROBLEMS


def cmd_ledger_show(args: argparse.Namespace) -> int:
    import json

    from incentive_dsl.audit import ledger

    path = _ledger_file(args, "show")
    if path is None:
        return EXIT_USAGE
    name = None
    if args.plan:
        loaded = api.load_plan(args.plan)
        if loaded.plan is None:
            _print_diagnostics(loaded.diagnostics, loaded.sources, "text")
            return EXIT_USAGE if _file_errors_only(loaded.diagnostics) else EXIT_PROBLEMS
        name = loaded.plan.name
    try:
        found = api.ledger_history(path, name, args.payee, args.period)
    except ledger.LedgerError as exc:
        return _ledger_error("ledger show", exc)
    if name is not None and found.plans and name not in found.plans:
        # A renamed plan, or another plan's file: "0 close(s) shown" would read as nothing paid.
        held = ", ".join(f'"{p}"' for p in sorted(found.plans))
        near = closest(name, found.plans, ignore_case=True)
        print(f"incentive ledger show: {path}: no close of plan \"{name}\" (of {args.plan}) in "
              f"the ledger, which holds {held}"
              + (f'; was the plan "{near}" renamed?' if near else ""), file=sys.stderr)
        return EXIT_USAGE
    if args.payee is not None and args.payee not in found.payees:
        place = f'the ledger for "{name}"' if name else "the ledger"
        print(f"incentive ledger show: {path}: "
              f"{not_found('payee', args.payee, place, found.payees)}", file=sys.stderr)
        return EXIT_USAGE
    if args.format == "json":
        print(json.dumps(found.to_json(), indent=2, sort_keys=True, ensure_ascii=False))
    else:
        sys.stdout.write(ledger.render_history(found))
    return EXIT_OK


def _run_with_ledger(args: argparse.Namespace, dataset, result, window, refuse=None):
    """`incentive run --ledger` (and explain): the run as the ledger sees it, or an exit
    code. `refuse(view)` says why the command cannot use the view (a usage error), or None."""
    from incentive_dsl.audit import ledger

    command = _prog(args).removeprefix("incentive ")
    try:
        view = api.with_ledger(result, dataset, args.ledger, window)
    except ledger.LedgerError as exc:
        return None, _ledger_error(command, exc)
    why = refuse(view) if refuse is not None else None
    if why:
        print(f"incentive {command}: {why}", file=sys.stderr)
        return None, EXIT_USAGE
    for note in view.notes:
        print(f"incentive {command}: {note}", file=sys.stderr)
    return view, None


def _ledger_json(text: str, view) -> str:
    import json

    doc = json.loads(text)
    doc["ledger"] = view.to_json()
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _print_ledger(console, view, currency: str) -> None:
    if view.closed:
        console.print(f"\nclosed in {view.path}: {', '.join(view.closed)} (shown as paid)",
                      markup=False, highlight=False)
    if view.adjustments:
        console.print(f"prior-period adjustments paid in {view.open_period}:", markup=False,
                      highlight=False)
        for a in view.adjustments:
            console.print(f"  {a.payee}  {_money(a.amount, currency)}  for {a.describe()}",
                          markup=False, highlight=False)


def _add_ledger_commands(sub) -> None:
    for command in ("run", "explain"):
        sub.choices[command].add_argument(
            "--ledger", metavar="FILE",
            help="read this ledger: closed pay periods show what was paid, and differences "
                 "from the recomputation are paid as prior-period adjustments in the first "
                 "open one")
    close = sub.add_parser(
        "close", help="compute pay period(s) and record them as closed in the ledger",
        description="Compute the pay period(s) named by PERIOD (2027-03, or 2027-Q1 for three "
                    "monthly pay periods) and record their payout lines and statements, with the "
                    "prior-period adjustments they pay, in the ledger, in one transaction. Pay "
                    "periods are closed in order and never reopened (docs/ledger.md).",
        epilog=CLOSE_EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    close.add_argument("close_period", metavar="PERIOD", help="the pay period(s) to close")
    _data_options(close)
    for action in close._actions:
        if action.dest in ("period", "start", "end"):
            action.help = argparse.SUPPRESS
    close.add_argument("--ledger", metavar="FILE",
                       help="the ledger (default: .incentive/ledger.sqlite beside the plan)")
    close.add_argument("--format", choices=("text", "json"), default="text")
    close.add_argument("--verbose", action="store_true", help="report each step on stderr")
    close.add_argument("--new-plan", action="store_true",
                       help="the first close of a plan in a ledger that holds other plans: "
                            "it is a new plan, not one of them renamed")
    close.add_argument("--early", action="store_true",
                       help="close pay periods that have not ended (ending after today or "
                            "after the data's last event), for good: only when the data is "
                            "known to be complete")
    close.set_defaults(run=cmd_close)

    led = sub.add_parser(
        "ledger", help="verify or show the payout ledger",
        description="The payout ledger: closed pay periods, append-only and hash-chained "
                    "(docs/ledger.md).", epilog=LEDGER_EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    lsub = led.add_subparsers(dest="ledger_command", metavar="COMMAND", required=True)
    verify = lsub.add_parser(
        "verify", help="recompute the hash chain; name any edited or deleted record",
        epilog=LEDGER_EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    show = lsub.add_parser(
        "show", help="print the closes, closed pay periods and their lines",
        epilog=LEDGER_EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    for p in (verify, show):
        p.add_argument("--ledger", metavar="FILE", help="the ledger file")
        p.add_argument("--plan", metavar="PLAN",
                       help="the ledger beside this plan (show: only this plan's records)")
        p.add_argument("--format", choices=("text", "json"), default="text")
    verify.add_argument("--head", metavar="HASH", type=_head_hash,
                        help="a head hash printed by an earlier close: fail unless the chain "
                             "still contains it (catches deletion of the newest records)")
    verify.set_defaults(run=cmd_ledger_verify)
    show.add_argument("--payee", metavar="ID", help="only this payee's lines")
    show.add_argument("--period", metavar="PERIOD",
                      help="only this pay period (or those that end in 2027-Q1, 2027, as "
                           "in a run's window), with the adjustments that corrected it")
    show.set_defaults(run=cmd_ledger_show)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    if argv is not None and any("\x00" in a for a in argv):
        # No path or value can hold a NUL (a shell cannot even pass one): refused before a
        # file function sees it and raises.
        print("incentive: error: an argument contains a NUL character", file=sys.stderr)
        return EXIT_USAGE
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        # Under `diff --exit-code`, 2 means "payouts change": a usage error must not look so.
        words = sys.argv[1:] if argv is None else list(argv)
        if exc.code == EXIT_USAGE and "diff" in words and "--exit-code" in words:
            raise SystemExit(EXIT_PROBLEMS) from None
        raise
    stdout = sys.stdout
    sys.stdout = _PipeSafe(stdout)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug: say so plainly; the traceback only on request
        if os.environ.get("INCENTIVE_DEBUG"):
            traceback.print_exc()
        print(f"{_prog(args)}: internal error: {type(exc).__name__}: {exc}\n"
              "this is a bug in incentive-dsl; rerun with INCENTIVE_DEBUG=1 for details "
              "and report it with the input", file=sys.stderr)
        return EXIT_INTERNAL
    finally:
        sys.stdout = stdout


class _PipeSafe:
    """Standard output that a closed pipe (`incentive run ... | head -1`) does not interrupt:
    the rest of the output is dropped and the command finishes, so its exit code is the
    command's (1 for errors found), not that of the broken pipe, and no traceback is shown."""

    def __init__(self, stream) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._drop()
            return len(text)

    def writelines(self, lines) -> None:
        for line in lines:  # each through write(): the stream's own would raise
            self.write(line)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._drop()

    def _drop(self) -> None:
        # Everything still buffered, and all later output, goes nowhere: flushing it at exit
        # would raise again.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)
        except (OSError, ValueError):  # no file descriptor behind it (captured output)
            pass

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


# What the command made, when `entry` runs it: left for the process's end to take back.
_kept: list | None = None


def _keep(made):
    if _kept is not None:
        _kept.append(made)
    return made


def entry() -> None:
    """The `incentive` command: `main`, then the process ends without freeing what the command
    made. A run over a large history holds millions of records; freeing them one at a time
    took about a tenth of a whole `run` at 100k deals (bench/README.md), and the operating system takes
    the memory back at once. Every file is closed by then, and the output is flushed here;
    nothing registers exit handlers. `main` itself, called from Python, keeps nothing."""
    global _kept
    _kept = []
    try:
        code = main()
    except SystemExit as exc:  # argparse's usage errors and --help
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if exc.code is not None and not isinstance(exc.code, int):
            print(exc.code, file=sys.stderr)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a reader that left (main said so), or a closed stream
        pass
    os._exit(code)


if __name__ == "__main__":
    entry()
