"""Command-line cases of issues 13 and 14: a directory without plans, a broken pipe, `data
check --data`, an impossible `diff --period`, an output file written whole or not at all."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from incentive_dsl import cli
from test_ledger import Workspace

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def ws(tmp_path, capsys) -> Workspace:
    return Workspace(tmp_path, capsys)


def test_commands_on_a_directory_without_plans_say_so(ws):
    empty = ws.root / "empty"
    empty.mkdir()
    for args in (("run", str(empty), *ws.data()),
                 ("explain", str(empty), *ws.data(), "--payee", "ana"),
                 ("close", "2027-01", str(empty), *ws.data())):
        code, out, err = ws.cli(*args)
        assert code == cli.EXIT_USAGE, (args, err)
        assert f"{empty}:1:1: error[E-FILE]: {empty} holds no plan files (*.plan)" in err
        assert not out
    assert not (empty / ".incentive").exists()


def test_a_directory_of_different_plans_is_a_usage_error_naming_its_plan_files(ws):
    """A directory is read as the versions of one plan: one holding several plans is the
    wrong path (exit 2, as a directory without plans is), and the message lists the plan
    files found with their plans and names one to run, for every command."""
    other = ws.root / "other.plan"
    other.write_text((ROOT / "plans/sales_manager.plan").read_text(encoding="utf-8"),
                     encoding="utf-8")
    for args in (("run", str(ws.root), *ws.data()),
                 ("explain", str(ws.root), *ws.data(), "--payee", "ana"),
                 ("close", "2027-01", str(ws.root), *ws.data())):
        code, out, err = ws.cli(*args)
        assert code == cli.EXIT_USAGE, (args, err)
        assert (f"{ws.root}:1:1: error[E-FILE]: {ws.root} holds 2 different plans, and a "
                f"directory is read as the versions of one plan; the plan files found: {other} "
                f'("Sales managers 2027"); {ws.plan} ("Ledger test AE")') in err
        assert "= hint: name one plan's file (such as " in err and not out
    assert not (ws.root / ".incentive").exists()


def _piped(args: list[str], cwd: Path) -> tuple[int, str]:
    """Run the command line with its output read by a reader that stops after one line,
    like `| head -1`: (exit code, stderr)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "incentive_dsl.cli", *args], cwd=cwd,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.readline()
    proc.stdout.close()  # the reader is gone: the next writes hit a broken pipe
    err = proc.stderr.read().decode()
    proc.stderr.close()
    return proc.wait(timeout=120), err


def test_a_broken_pipe_keeps_the_exit_code(ws):
    rows = [f"E{i},D{i},2027-13-01,booked,100,USD,ana" for i in range(500)]
    (ws.root / "bad.csv").write_text("event_id,deal_id,date,kind,amount,currency,owner\n"
                                     + "\n".join(rows) + "\n", encoding="utf-8")
    # 500 errors, reported on standard output: more than a pipe holds (64 KiB).
    code, err = _piped(["data", "check", "--deals", "bad.csv", "--roster", "roster.csv"],
                       ws.root)
    assert code == cli.EXIT_PROBLEMS, err
    assert "Traceback" not in err and "BrokenPipe" not in err and "Exception" not in err
    events = [f"E{i},D{i},2027-02-01,booked,100,USD,ana" for i in range(500)]
    (ws.root / "events.csv").write_text("event_id,deal_id,date,kind,amount,currency,owner\n"
                                        + "\n".join(events) + "\n", encoding="utf-8")
    code, err = _piped(["run", "t.plan", *ws.data(), "--format", "json"], ws.root)
    assert code == cli.EXIT_OK and not err.strip(), err
    # `fmt --diff` writes its diff with writelines(): a long one, read by `| head -1`.
    long = "\n".join(f"  # comment {i}" for i in range(5000))
    (ws.root / "messy.plan").write_text((ws.root / "t.plan").read_text().replace("\n  ", "\n    ")
                                        + long + "\n", encoding="utf-8")
    code, err = _piped(["fmt", "--diff", "messy.plan"], ws.root)
    assert code == cli.EXIT_PROBLEMS and "Traceback" not in err and "internal" not in err, err


def test_data_check_takes_the_data_option_it_suggests(ws):
    code, out, err = ws.cli("data", "check")
    assert code == cli.EXIT_USAGE and "--data DIR" in err
    code, out, err = ws.cli("data", "check", "--data", str(ws.root))
    assert code == cli.EXIT_OK, err
    assert "read from 2 file(s): 0 error(s)" in out


def test_a_commands_messages_begin_with_the_command(ws):
    """The checks shared by commands (the window, the data options, the output) speak for the
    command that made them, as its own messages and its usage errors do."""
    missing = str(ws.root / "nowhere")
    for args, says in (
            (("run", str(ws.plan), "--data", missing), f"--data {missing}: no such directory"),
            (("data", "check", "--data", missing), f"--data {missing}: no such directory"),
            (("explain", str(ws.plan), *ws.data(), "--payee", "ana", "--period", "2027-Q5"),
             "'2027-Q5' is not a period"),
            (("finance", "accruals", str(ws.plan), "--period", "2027-03"), "give the data: "),
            (("statement", str(ws.plan), *ws.data(), "--period", "2027-Q1", "--map", missing),
             "--map names the data files itself; leave out --deals, --roster"),
            (("document", str(ws.plan), "--output", f"{missing}/plan.md"),
             f"cannot write {missing}/plan.md: no such directory: {missing}")):
        code, _, err = ws.cli(*args)
        command = " ".join(args[:2] if args[0] in ("data", "finance") else args[:1])
        assert code == cli.EXIT_USAGE, (args, err)
        assert err.startswith(f"incentive {command}: {says}"), (args, err)


def test_diff_refuses_a_period_that_does_not_exist(ws):
    for extra in ((), tuple(ws.data())):
        code, _, err = ws.cli("diff", str(ws.plan), str(ws.plan), "--period", "2027-Q5", *extra)
        assert code == cli.EXIT_USAGE and "'2027-Q5' is not a period" in err, err
        code, _, _ = ws.cli("diff", str(ws.plan), str(ws.plan), "--period", "2027-Q5",
                            "--exit-code", *extra)
        assert code == cli.EXIT_PROBLEMS  # under --exit-code, 2 means "payouts change"
    assert ws.cli("diff", str(ws.plan), str(ws.plan), "--period", "2027-Q1")[0] == cli.EXIT_OK


RUN = argparse.Namespace(command="run")


def test_an_interrupted_write_leaves_the_output_as_it_was(tmp_path):
    """Ctrl-C halfway through writing a large document: the file keeps its old contents and
    mode, and no partial file is left beside it; a finished write replaces it, keeping its mode."""
    out = tmp_path / "statements.json"
    out.write_text("old\n")
    out.chmod(0o640)

    def interrupted(stream):
        stream.write("{\"half\": ")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        cli._write_with(RUN, str(out), interrupted)
    assert out.read_text() == "old\n" and sorted(p.name for p in tmp_path.iterdir()) == [
        "statements.json"]
    assert cli._write_with(RUN, str(out), lambda stream: stream.write("new\n")) == cli.EXIT_OK
    assert out.read_text() == "new\n" and (out.stat().st_mode & 0o777) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["statements.json"]


def test_an_output_that_cannot_be_written_is_refused_before_the_data_is_read(tmp_path, capsys):
    code = cli.main(["run", str(ROOT / "plans" / "split_deals.plan"), "--data",
                     str(tmp_path / "no-data-here"), "--output",
                     str(tmp_path / "missing" / "out.csv")])
    err = capsys.readouterr().err
    assert code == cli.EXIT_USAGE
    assert err == f"incentive run: cannot write {tmp_path / 'missing' / 'out.csv'}: no such " \
        f"directory: {tmp_path / 'missing'}\n"
    assert "no-data-here" not in err  # the data was not looked at


def _command(*args: str) -> subprocess.CompletedProcess:
    """The `incentive` command as a process (`cli.entry`, which ends it with `os._exit`)."""
    return subprocess.run([sys.executable, "-m", "incentive_dsl.cli", *args], cwd=ROOT,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)), capture_output=True,
                          text=True, timeout=300)


def test_the_command_ends_with_mains_exit_code_and_all_of_its_output(capsys):
    # `entry` skips freeing the run's records at exit: the output must still be flushed
    # whole and the exit code be main's, for a run, a usage error and --help alike.
    args = ("run", "plans/split_deals.plan", "--data", "plans/data", "--format", "csv",
            "--lines")
    done = _command(*args)
    code = cli.main(list(args))
    expected = capsys.readouterr().out
    assert (done.returncode, done.stdout) == (code, expected) == (0, expected)
    assert len(expected) > 65536  # more than a pipe and a stream buffer hold
    usage = _command("run")
    assert usage.returncode == cli.EXIT_USAGE
    assert "the following arguments are required: PLAN" in usage.stderr
    shown = _command("--help")
    assert shown.returncode == 0 and "usage: incentive" in shown.stdout
    assert cli._kept is None  # main, called from Python, keeps nothing


def test_explain_suggests_only_a_deal_id_that_may_be_mistyped(ws):
    """A deal id sharing a long prefix with the one typed is another deal, not suggested; a
    letter I for a one is, even among ids a character apart from it."""
    ws.write_events([(f"E{d}", f"D0000{d}", "2027-01-10", "booked", "100", "ana")
                     for d in ("123", "223", "323", "456")])
    explain = ("explain", str(ws.plan), *ws.data(), "--period", "2027-Q1", "--payee", "ana")
    code, _, err = ws.cli(*explain, "--deal", "D0000000")
    assert code == cli.EXIT_USAGE
    assert err == "incentive explain: no deal 'D0000000' in the data\n"
    code, _, err = ws.cli(*explain, "--deal", "D0000I23")
    assert err == "incentive explain: no deal 'D0000I23' in the data; did you mean 'D0000123'?\n"


@pytest.mark.parametrize("args, hint", [
    (["chek", "plans"], "invalid choice: 'chek' (choose from 'check', "),
    (["chek", "plans"], "; did you mean 'check'?"),
    (["ledger", "verfy"], "; did you mean 'verify'?"),
    # An option or a path before the command: argparse took it for the command.
    (["--data", "plans/data", "run", "plans/enterprise_ae.plan"],
     "invalid choice: 'plans/data' (choose from"),
    (["--data", "plans/data", "run", "plans/enterprise_ae.plan"],
     "; the command comes first, then its arguments and options: incentive run ..."),
    (["plans/enterprise_ae.plan", "run"], "; the command comes first"),
    (["run", "plans/enterprise_ae.plan", "--data", "plans/data", "--perod", "2027-Q1"],
     "unrecognized arguments: --perod 2027-Q1; did you mean --period?"),
])
def test_usage_errors_say_what_was_meant(capsys, args, hint):
    with pytest.raises(SystemExit) as exc:
        cli.main(args)
    assert exc.value.code == cli.EXIT_USAGE
    assert hint in capsys.readouterr().err


def test_a_word_close_to_no_command_gets_no_hint(capsys):
    with pytest.raises(SystemExit):
        cli.main(["frobnicate"])
    err = capsys.readouterr().err
    assert "invalid choice: 'frobnicate'" in err and "did you mean" not in err
    assert "comes first" not in err
    # statement has no --format: --from, its nearest option, is not what was meant.
    with pytest.raises(SystemExit):
        cli.main(["statement", "plans/enterprise_ae.plan", "--payee", "abe.d", "--format",
                  "json"])
    err = capsys.readouterr().err
    assert "unrecognized arguments: --format json" in err and "did you mean" not in err


def test_a_data_file_given_as_the_plan_is_one_error(tmp_path, capsys):
    """The plan and the data swapped: one E-FILE saying so (exit 2), not an 'unknown block'
    error for each row of the CSV file."""
    events = str(ROOT / "plans/data/events.csv")
    for args in (("check", events), ("run", events, "--data", str(ROOT / "plans/data"))):
        code = cli.main(list(args))
        err = capsys.readouterr().err
        assert code == cli.EXIT_USAGE, err
        assert f"error[E-FILE]: {events} is a data file, not a plan file" in err
        assert "data goes to --data DIR" in err and "E-BLOCK" not in err
    # Only these suffixes: a plan file named otherwise is still read as a plan.
    plan = tmp_path / "enterprise_ae.txt"
    plan.write_text((ROOT / "plans/enterprise_ae.plan").read_text(encoding="utf-8"),
                    encoding="utf-8")
    assert cli.main(["check", str(plan)]) == cli.EXIT_OK


def test_statement_output_dir_that_is_a_file(ws):
    taken = ws.root / "statements"
    taken.write_text("not a directory\n", encoding="utf-8")
    code, out, err = ws.cli("statement", str(ws.plan), *ws.data(), "--period", "2027-Q1",
                            "--output-dir", str(taken))
    assert code == cli.EXIT_USAGE and not out
    assert f"incentive statement: --output-dir {taken} is a file, not a directory" in err


def test_map_and_data_together_is_a_usage_error(capsys):
    """--map names its files itself: --data beside it went unread without a word, as the
    data files' own options do not."""
    for name, command in (("run", ["run", str(ROOT / "plans/crm/field_sales.plan")]),
                          ("data check", ["data", "check"])):
        code = cli.main([*command, "--map", str(ROOT / "plans/crm/crm.toml"),
                         "--data", str(ROOT / "plans/data")])
        assert code == cli.EXIT_USAGE
        assert capsys.readouterr().err == \
            f"incentive {name}: --map names the data files itself; leave out --data\n"


def test_close_with_the_plan_and_the_period_swapped(ws):
    code, out, err = ws.cli("close", str(ws.plan), "2027-01", *ws.data())
    assert code == cli.EXIT_USAGE and not out
    assert f"the period comes first, then the plan: incentive close 2027-01 {ws.plan}" in err
    assert not (ws.root / ".incentive").exists()


def test_the_readme_command_table_shows_each_required_option():
    """Each row of README's command table names the options its command cannot run without
    (the finance row showed --benefit-months as optional)."""
    import argparse
    import re

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    table = text.split("## Commands", 1)[1].split("\n\n", 2)[1]
    rows = [re.split(r"(?<!\\)\|", r)[1].strip(" `") for r in table.splitlines()[2:]]
    parser = cli.build_parser()

    def sub(p, word):
        choices = next(a for a in p._actions if isinstance(a, argparse._SubParsersAction))
        return choices.choices.get(word)

    checked = 0
    for row in rows:
        words = row.replace("\\|", "|").split()[1:]
        commands = [sub(parser, words[0])]
        if commands[0] is None:
            continue
        if any(isinstance(a, argparse._SubParsersAction) for a in commands[0]._actions):
            commands = [sub(commands[0], w) for w in words[1].split("|")]  # verify|show
        for command in commands:
            required = [a.option_strings[0] for a in command._actions
                        if a.required and a.option_strings]
            shown = re.sub(r"\[[^\]]*\]", "", row)  # not as optional, in brackets
            assert all(o in shown for o in required), (row, required)
            checked += 1
    assert checked >= 15


def test_run_says_a_condition_can_never_hold(ws):
    """A misspelt value of a `one of` field (W-NEVER) makes the rule pay nothing: the run says
    so on stderr, as check does; its other warnings (no example...) stay check's."""
    ws.edit_plan('quota bookings "', 'fields\n  deal.type one of "new", "renewal"\n\n'
                 'quota bookings "')
    ws.edit_plan("  on deal booked\n", "  on deal booked where deal.type is \"nwe\"\n")
    code, out, err = ws.cli("run", str(ws.plan), *ws.data(), "--period", "2027-Q1")
    assert code == cli.EXIT_OK and out
    assert "warning[W-NEVER]: deal.type is never \"nwe\"" in err
    assert 'did you mean "new"?' in err and "W-NO-EXAMPLE" not in err
    assert "The commands that pay (`run`, " in (ROOT / "docs/diagnostics.md").read_text("utf-8")


@pytest.mark.parametrize("args, hint", [
    (["run", "plans/enterprise_ae.plan", "--deal", "plans/data/events.csv"],
     "unrecognized arguments: --deal plans/data/events.csv; did you mean --deals?"),
    (["explain", "plans/enterprise_ae.plan", "--data", "plans/data", "--pay", "abe.d"],
     "the following arguments are required: --payee"),
    (["ledger", "show", "--pla", "plans/enterprise_ae.plan"],
     "unrecognized arguments: --pla plans/enterprise_ae.plan; did you mean --plan?"),
    (["finance", "accruals", "plans/enterprise_ae.plan", "--data", "plans/data",
      "--per", "2027-03"], "unrecognized arguments: --per 2027-03"),
])
def test_an_option_is_never_taken_from_its_prefix(capsys, args, hint):
    """`--deal X` in run is not `--deals X`: a prefix is a usage error, with the option meant."""
    with pytest.raises(SystemExit) as exc:
        cli.main(args)
    assert exc.value.code == cli.EXIT_USAGE
    assert hint in capsys.readouterr().err


@pytest.mark.parametrize("args", [
    ["explain", "plans/enterprise_ae.plan", "--data", "plans/data", "--payee", "abe.d",
     "--engine", "columnar"],
    ["statement", "plans/enterprise_ae.plan", "--data", "plans/data", "--engine=columnar"],
])
def test_engine_outside_run_says_why(capsys, args):
    """explain (like every command that reads lines) runs on the interpreter only: a usage
    error that says so, not a bare 'unrecognized arguments'."""
    with pytest.raises(SystemExit) as exc:
        cli.main(args)
    assert exc.value.code == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert f"incentive {args[0]}: error: --engine is an option of `incentive run` only: " \
           f"{args[0]} runs on the interpreter (the columnar engine computes statements " \
           "without their lines" in err
    assert "unrecognized" not in err


def test_the_export_given_as_its_mapping_is_one_error(capsys):
    """--map takes the mapping (TOML), not the CSV export: said as such (exit 2, like a data
    file given as the plan), not as TOML's 'Expected = after a key' at line 1."""
    export = "plans/crm/data/sales_pipeline.csv"
    assert cli.main(["run", "plans/crm/field_sales.plan", "--map", export]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert f"{export}:1:1: error[D-FILE]: {export} is a data file (CSV), not a mapping: a " \
           "mapping is a TOML file that names the export's files and columns" in err
    assert "TOML:" not in err and err.count("error[") == 1


def test_document_to_a_directory_is_said_as_run_says_it(tmp_path, capsys):
    for args in (["run", "plans/enterprise_ae.plan", "--data", "plans/data"],
                 ["document", "plans/enterprise_ae.plan"]):
        assert cli.main([*args, "--output", str(tmp_path)]) == cli.EXIT_USAGE
        assert capsys.readouterr().err == \
            f"incentive {args[0]}: cannot write {tmp_path}: it is a directory\n"


def test_test_map_says_a_missing_mapping_once(capsys):
    """`test PLANS --map` reads the export once per plan: a problem of the mapping itself is
    the same for each, said once (each plan's FAILED line still counts it)."""
    assert cli.main(["test", "plans/crm", "--map", "plans/crm/nope.toml"]) == cli.EXIT_USAGE
    out, err = capsys.readouterr()
    assert err.count("error[D-FILE]: file not found: 'plans/crm/nope.toml'") == 1
    assert out.count("FAILED plans/crm/nope.toml read as ") == 3
