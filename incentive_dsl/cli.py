"""The `incentive` command line: argument parsing and printing over incentive_dsl.api.

Exit codes (the same for every command unless its help says otherwise):
  0  success: no errors found, nothing to change
  1  the input has problems: diagnostics with errors, files that `fmt --check` would change
  2  usage error or unreadable input (bad option, missing file, a directory given as a file)
  3  internal error (a bug in incentive-dsl; please report it with the input)
"""

from __future__ import annotations

import argparse
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
  1  errors found in the plans, or files that fmt --check would change
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
