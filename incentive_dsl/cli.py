"""The `incentive` command line: argument parsing and printing over incentive_dsl.api.

Exit codes (the same for every command unless its help says otherwise):
  0  success: no errors found, nothing to change
  1  the input has problems: diagnostics with errors, files that `fmt --check` would change
  2  usage error or unreadable input (bad option, missing file, a directory given as a file)
  3  internal error (a bug in incentive-dsl; please report it with the input)
"""

from __future__ import annotations

import argparse
import datetime as dt
import difflib
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from incentive_dsl import __version__, api
from incentive_dsl.diagnostics import to_json

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


def cmd_check(args: argparse.Namespace) -> int:
    files = api.discover(args.paths)
    if not files:
        print("incentive check: no plan files found in the given paths", file=sys.stderr)
        return EXIT_USAGE
    result = api.check_paths(files)
    _print_diagnostics(result.diagnostics, result.sources, args.format)
    if args.strict and any(d.severity.value == "warning" for d in result.diagnostics):
        return EXIT_PROBLEMS
    if result.ok:
        if args.format == "text":
            print(f"{len(files)} plan file(s) checked: no errors")
        return EXIT_OK
    if _file_errors_only(result.diagnostics):
        return EXIT_USAGE
    return EXIT_PROBLEMS


def cmd_fmt(args: argparse.Namespace) -> int:
    files = api.discover(args.paths)
    if not files:
        print("incentive fmt: no plan files found in the given paths", file=sys.stderr)
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
        changed.append(path)
        if args.diff:
            sys.stdout.writelines(difflib.unified_diff(
                result.original.splitlines(keepends=True),
                result.formatted.splitlines(keepends=True),
                fromfile=f"{path} (original)", tofile=f"{path} (formatted)"))
        if not args.check and not args.diff:
            Path(path).write_text(result.formatted, encoding="utf-8")
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
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date like 2027-03-31") from None


def _file_sources(diags) -> dict[str, str]:
    """The text of every file the diagnostics point into, for their excerpts."""
    out = {}
    for d in diags:
        for span in (d.span, *(r.span for r in d.related)):
            if span.path not in out:
                try:
                    out[span.path] = Path(span.path).read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError):
                    out[span.path] = ""
    return out


def _load_dataset(args: argparse.Namespace, plan):
    """The dataset from the data files (--deals, --roster ...) or from a CRM export through
    its mapping (--map, docs/mapping.md): (dataset, diagnostics, None) or (None, (), exit
    code) on a usage error."""
    files = [o for o in ("deals", "roster", "quotas", "fx", "territories")
             if getattr(args, o, None) is not None]
    if getattr(args, "map", None) is not None:
        if files:
            print("incentive: --map names the data files itself; leave out "
                  + ", ".join(f"--{o}" for o in files), file=sys.stderr)
            return None, (), EXIT_USAGE
        dataset, diags = api.load_mapping(args.map, plan=plan)
        return dataset, diags, None
    if args.deals is None or args.roster is None:
        print("incentive: give the data: --deals FILE and --roster FILE, or --map FILE (a CRM "
              "export read through its mapping, docs/mapping.md)", file=sys.stderr)
        return None, (), EXIT_USAGE
    dataset, diags = api.load_data(args.deals, args.roster, quotas=args.quotas, fx=args.fx,
                                   territories=args.territories, plan=plan)
    return dataset, diags, None


def _load(args: argparse.Namespace):
    """The checked plan (its versions, oldest first), the dataset and the report window, or
    an exit code."""
    loaded = api.load_plan(args.plan)
    if loaded.plan is None:
        _print_diagnostics(loaded.diagnostics, loaded.sources, "text")
        return None, None, None, (EXIT_USAGE if _file_errors_only(loaded.diagnostics)
                                  else EXIT_PROBLEMS)
    plan = loaded.plan
    dataset, diags, code = _load_dataset(args, plan)
    if code is not None:
        return None, None, None, code
    if diags:
        print(api.render_all(diags, _file_sources(diags)), file=sys.stderr)
    if any(d.is_error for d in diags):
        missing = all(d.code == "D-FILE" for d in diags if d.is_error)
        print(f"\n{sum(d.is_error for d in diags)} data error(s): nothing was evaluated",
              file=sys.stderr)
        return None, None, None, EXIT_USAGE if missing else EXIT_PROBLEMS
    period = getattr(args, "period", None)
    window = api.window(plan, period, args.start, args.end)
    if period is not None and window is None:
        print(f"incentive: '{period}' is not a period (e.g. 2027-Q1, 2027-03, 2027)",
              file=sys.stderr)
        return None, None, None, EXIT_USAGE
    return loaded.versions, dataset, window, None


def _evaluate(plan, dataset, window):
    until = window.end if window is not None else None
    if not sys.stderr.isatty():
        return api.run(plan, dataset, until)
    from rich.console import Console

    with Console(stderr=True).status("evaluating") as status:
        return api.run(plan, dataset, until,
                       progress=lambda stage: status.update(f"evaluating: {stage}"))


def cmd_run(args: argparse.Namespace) -> int:
    from incentive_dsl.audit import render

    plan, dataset, window, code = _load(args)
    if code is not None:
        return code
    result = _evaluate(plan, dataset, window)
    if result.diagnostics:
        print(api.render_all(result.diagnostics, _file_sources(result.diagnostics)),
              file=sys.stderr)
    if not result.ok:
        return EXIT_PROBLEMS
    if args.format == "json":
        text = render.to_json(result, window, lines=True)
    elif args.format == "csv":
        text = (render.payout_lines_csv(result, window) if args.lines
                else render.statements_csv(result, window))
    else:
        text = None
    if text is not None:
        if args.output:
            Path(args.output).write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(text)
        return EXIT_OK
    from rich.console import Console

    console = Console(record=bool(args.output), quiet=bool(args.output),
                      width=None if sys.stdout.isatty() and not args.output else 160)
    console.print(render.statement_table(result, window))
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
    if args.output:
        Path(args.output).write_text(console.export_text(), encoding="utf-8")
    return EXIT_OK


def cmd_explain(args: argparse.Namespace) -> int:
    plan, dataset, window, code = _load(args)
    if code is not None:
        return code
    if args.payee not in {p.id for p in dataset.payees}:
        ids = sorted({p.id for p in dataset.payees})
        close = difflib.get_close_matches(args.payee, ids, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        print(f"incentive explain: no payee '{args.payee}' in the roster{hint}", file=sys.stderr)
        return EXIT_USAGE
    if window is None:
        window = api.window(plan[-1], None, plan[0].effective_start, plan[-1].effective_end)
    result = _evaluate(plan, dataset, window)
    if not result.ok:
        print(api.render_all(result.diagnostics, _file_sources(result.diagnostics)),
              file=sys.stderr)
        return EXIT_PROBLEMS
    tree = api.explain(result, args.payee, window, args.deal)
    print("\n".join(tree.lines()))
    return EXIT_OK


def cmd_test(args: argparse.Namespace) -> int:
    from incentive_dsl.eval.money import fmt as money

    files = api.discover(args.paths)
    if not files:
        print("incentive test: no plan files found in the given paths", file=sys.stderr)
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
        for d in r.run.diagnostics:
            print(f"       {d.span}: {d.message}")
        cur = r.plan.currency
        for o in r.outcomes:
            if o.passed:
                continue
            diff = o.actual - o.expected
            print(f"       {o.span}: {o.text}")
            print(f"         expected {o.show(o.expected, cur)}, got {o.show(o.actual, cur)} "
                  f"(difference {o.show(diff, cur) if o.unit != 'money' else money(diff, cur)})")
            for ln in o.lines:
                print(f"         {ln.kind} {money(ln.amount, cur)}: {ln.trace.because}")
                if ln.trace.arithmetic:
                    print(f"           {ln.trace.arithmetic}")
            if not o.lines and o.actual == 0:
                print("         nothing was earned; events that earned nothing:")
                for sk in r.run.skips[:10]:
                    print(f"           {sk.rule}: {sk.subject} — {sk.reason}")
    print(f"\n{len(results) - failed} passed, {failed} failed")
    if errors or failed:
        return EXIT_PROBLEMS
    return EXIT_OK


def _data_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("plan", metavar="PLAN",
                   help="the plan file, or a directory holding the versions of one plan")
    p.add_argument("--deals", metavar="FILE",
                   help="deal events, CSV or JSON Lines (docs/data.md); or --map")
    p.add_argument("--roster", metavar="FILE", help="payees, CSV or JSON Lines; or --map")
    p.add_argument("--map", metavar="FILE",
                   help="instead of the data files: a CRM export read through its mapping "
                        "(TOML, docs/mapping.md)")
    p.add_argument("--quotas", metavar="FILE", help="quota table")
    p.add_argument("--fx", metavar="FILE", help="dated FX rates into the plan currency")
    p.add_argument("--territories", metavar="FILE", help="territory index table")
    p.add_argument("--period", metavar="PERIOD",
                   help="report on one period: 2027-Q1, 2027-03, 2027-H1, 2027")
    p.add_argument("--from", dest="start", type=_date, metavar="DATE",
                   help="report from this date")
    p.add_argument("--to", dest="end", type=_date, metavar="DATE", help="report up to this date")


RUN_EXIT_CODES = """exit codes:
  0  evaluated
  1  the plan or the data has errors (all are listed)
  2  usage error, missing or unreadable file
  3  internal error (a bug: please report it)"""


# ------------------------------------------------------------------------------ data check


def cmd_data_check(args: argparse.Namespace) -> int:
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
        print(f"{len(dataset.events):,} events, {len(dataset.payees):,} payees, "
              f"{len(dataset.quotas):,} quotas, {len(dataset.fx):,} FX rates, "
              f"{len(dataset.territories):,} territory indexes read from "
              f"{len(dataset.sources)} file(s): {errors} error(s), {warnings} warning(s), "
              f"{notes} note(s)")
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
    check.add_argument("--deals", metavar="FILE", help="deal events, CSV or JSON Lines")
    check.add_argument("--roster", metavar="FILE", help="payees, CSV or JSON Lines")
    check.add_argument("--quotas", metavar="FILE", help="quota table")
    check.add_argument("--fx", metavar="FILE", help="dated FX rates into the plan currency")
    check.add_argument("--territories", metavar="FILE", help="territory index table")
    check.add_argument("--format", choices=("text", "json"), default="text",
                       help="text for people (default), json for programs")
    check.set_defaults(run=cmd_data_check)


def build_parser() -> argparse.ArgumentParser:
    # argparse exits with 2 on usage errors, which is our usage exit code too.
    parser = argparse.ArgumentParser(
        prog="incentive",
        description="Sales-compensation plans as code: check, format and run plan files.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"incentive-dsl {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    check = sub.add_parser(
        "check", help="parse and check plan files, reporting every problem",
        description="Parse and check plan files (directories are searched for *.plan). "
                    "Every problem of every file is reported at once.",
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
        epilog=RUN_EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    _data_options(run)
    run.add_argument("--format", choices=("table", "csv", "json"), default="table",
                     help="table for people (default), csv for spreadsheets, json for programs "
                          "(versioned, with every line and its trace)")
    run.add_argument("--lines", action="store_true",
                     help="also list the payout lines (csv: the lines instead of statements)")
    run.add_argument("--skipped", action="store_true",
                     help="also list the events and periods that earned nothing, and why")
    run.add_argument("--output", metavar="FILE", help="write to FILE instead of the terminal")
    run.set_defaults(run=cmd_run)

    explain = sub.add_parser(
        "explain", help="explain a payee's pay, line by line, in plan words",
        description="Explain how a payee's pay was computed: every earning with its rule, "
                    "source line, inputs and arithmetic, quotas, payouts, and what earned "
                    "nothing and why.",
        epilog=RUN_EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    _data_options(explain)
    explain.add_argument("--payee", required=True, help="the payee id")
    explain.add_argument("--deal", help="only this deal")
    explain.set_defaults(run=cmd_explain)

    test = sub.add_parser(
        "test", help="run the worked examples inside plan files",
        description="Run every `example` block of the plans: build its inline data, evaluate, "
                    "compare each `expect` line.",
        epilog="exit codes:\n  0  every example passes\n  1  a plan has errors or an example "
               "fails\n  2  usage error, no plan files\n  3  internal error",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    test.add_argument("paths", nargs="+", metavar="PATH", help="plan files or directories")
    test.set_defaults(run=cmd_test)
    _add_data_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # a bug: say so plainly; the traceback only on request
        if os.environ.get("INCENTIVE_DEBUG"):
            traceback.print_exc()
        print(f"incentive: internal error: {type(exc).__name__}: {exc}\n"
              "this is a bug in incentive-dsl; rerun with INCENTIVE_DEBUG=1 for details "
              "and report it with the input", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
