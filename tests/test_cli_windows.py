"""Report windows of every pay frequency, and the command line's usage errors around them: a
window holds the pay periods that end in it, one in which none ends is a usage error naming
the pay period that holds it; --period with --from/--to, a subcommand's unknown option, a
wrong period name; the reason for a payee without a statement (explain, estimate, and
statement, which refuses them); `check` and `test` on a missing file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from incentive_dsl import api, cli
from incentive_dsl.periods import Period

ROOT = Path(__file__).resolve().parents[1]
MONTHLY = str(ROOT / "plans/enterprise_ae.plan")
QUARTERLY = str(ROOT / "plans/sales_manager.plan")
BIWEEKLY = str(ROOT / "plans/inside_sales_biweekly.plan")
DATA = ("--data", str(ROOT / "plans/data"))
D = dt.date


def _plan(path: str):
    return api.load_plan(path).plan


def _cli(capsys, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        code = cli.main(list(args))
    except SystemExit as exc:  # argparse's usage errors
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def test_a_monthly_window_holds_the_months_that_end_in_it():
    plan = _plan(MONTHLY)
    w = api.window(plan, None, D(2027, 1, 15), D(2027, 2, 14))
    assert (w.start, w.end) == (D(2027, 1, 1), D(2027, 1, 31))
    assert w.label == "2027-01-15 to 2027-02-14, pay period 2027-01"
    w = api.window(plan, None, D(2027, 1, 1), D(2027, 3, 14))
    assert (w.start, w.end) == (D(2027, 1, 1), D(2027, 2, 28))
    assert w.label == "2027-01-01 to 2027-03-14, pay periods 2027-01 to 2027-02"
    # Whole pay periods as asked: the window itself, its label unchanged.
    assert api.window(plan, "2027-Q1") == plan.calendar.parse("2027-Q1")
    touched = api.window(plan, None, D(2027, 1, 15), D(2027, 2, 14), overlap=True)
    assert (touched.start, touched.end) == (D(2027, 1, 1), D(2027, 2, 28))
    raw = api.window(plan, None, D(2027, 1, 15), D(2027, 2, 14), whole_pay_periods=False)
    assert (raw.start, raw.end) == (D(2027, 1, 15), D(2027, 2, 14))


def test_a_window_in_which_no_pay_period_ends_names_the_one_that_holds_it():
    with pytest.raises(api.EmptyWindow) as monthly:
        api.window(_plan(MONTHLY), None, D(2027, 1, 5), D(2027, 1, 20))
    assert monthly.value.holding.label == "2027-01"
    quarterly = _plan(QUARTERLY)
    with pytest.raises(api.EmptyWindow) as month:
        api.window(quarterly, "2027-02")
    assert month.value.holding.label == "2027-Q1"
    march = api.window(quarterly, "2027-03")  # Q1 ends in March
    assert (march.start, march.end, march.label) == (D(2027, 1, 1), D(2027, 3, 31),
                                                     "2027-03, pay period 2027-Q1")
    with pytest.raises(api.EmptyWindow) as fortnight:
        api.window(_plan(BIWEEKLY), None, D(2027, 1, 5), D(2027, 1, 10))
    assert fortnight.value.holding.label == "2027-01-04/17"


def test_run_reports_the_pay_periods_that_end_in_a_from_to_window(capsys):
    code, out, err = _cli(capsys, "run", MONTHLY, *DATA, "--from", "2027-01-15",
                          "--to", "2027-02-14", "--format", "csv")
    assert code == 0, err
    rows = out.splitlines()[1:]
    assert rows and {r.split(",")[1] for r in rows} == {"2027-01"}
    code, out, err = _cli(capsys, "run", MONTHLY, *DATA, "--from", "2027-01-15",
                          "--to", "2027-02-14")
    title = " ".join(out.split("┏")[0].split())  # the title, as the table wraps it
    assert code == 0 and title == ("Enterprise AE 2027 — 2027-01-15 to 2027-02-14, pay period "
                                   "2027-01 (USD)")


def test_a_window_without_a_pay_period_is_a_usage_error(capsys):
    for command in (("run", MONTHLY), ("explain", MONTHLY, "--payee", "abe.d"),
                    ("statement", MONTHLY), ("diff", MONTHLY, MONTHLY)):
        code, out, err = _cli(capsys, *command, *DATA, "--from", "2027-01-05",
                              "--to", "2027-01-20")
        assert code == cli.EXIT_USAGE, (command, err)
        assert not out
        assert "no pay period of the plan ends in 2027-01-05 to 2027-01-20" in err
        assert "the pay period 2027-01 (2027-01-01 to 2027-01-31) holds it: --period 2027-01" \
            in err
    code, _, err = _cli(capsys, "run", QUARTERLY, *DATA, "--period", "2027-02")
    assert code == cli.EXIT_USAGE and "--period 2027-Q1" in err
    # Under --exit-code, 2 means "payouts change": the error exits 1.
    code, _, _ = _cli(capsys, "diff", MONTHLY, MONTHLY, *DATA, "--from", "2027-01-05",
                      "--to", "2027-01-20", "--exit-code")
    assert code == cli.EXIT_PROBLEMS


def test_finance_takes_the_period_as_asked(capsys):
    # Accruals at the end of February, inside a quarterly pay period.
    code, out, err = _cli(capsys, "finance", "accruals", QUARTERLY, *DATA, "--period", "2027-02")
    assert code == 0, err
    assert ",2027-02-28," in out.splitlines()[1]


def test_explain_says_why_a_payee_has_no_statement(capsys):
    code, out, err = _cli(capsys, "explain", MONTHLY, *DATA, "--period", "2027-Q1",
                          "--payee", "bea.l")
    assert code == 0, err
    assert ("no statement in 2027-Q1: bea.l (SDR) holds no role this plan covers (AE, SE) "
            "at the end of its pay periods, so the plan pays them nothing") in out
    assert "wholly inside" not in out and "quota" not in out
    code, out, err = _cli(capsys, "explain", MONTHLY, *DATA, "--period", "2027-Q1",
                          "--payee", "vic.f")
    assert code == 0, err
    assert ("no statement in 2027-Q1: vic.f was not employed in it (employed from 2023-01-03 "
            "to 2026-03-05)") in out


@pytest.mark.parametrize("payee, reason", [
    ("bea.l", "no statement in 2027-Q1: bea.l (SDR) holds no role this plan covers (AE, SE)"),
    ("vic.f", "no statement in 2027-Q1: vic.f was not employed in it (employed from 2023-01-03"),
])
def test_statement_refuses_a_payee_the_plan_does_not_pay(capsys, tmp_path, payee, reason):
    code, out, err = _cli(capsys, "statement", MONTHLY, *DATA, "--period", "2027-Q1",
                          "--payee", payee, "--output-dir", str(tmp_path))
    assert code == cli.EXIT_USAGE and reason in err, err
    assert not list(tmp_path.iterdir()) and not out  # no all-zero statement


def test_explain_of_a_deal_and_estimate_say_why_the_plan_does_not_pay_the_payee(capsys):
    reason = ("bea.l (SDR) holds no role this plan covers (AE, SE) at the end of its pay "
              "periods, so the plan pays them nothing")
    code, out, err = _cli(capsys, "explain", MONTHLY, *DATA, "--period", "2027-Q1",
                          "--payee", "bea.l", "--deal", "D0001027")
    assert code == 0, err
    assert f"no statement in 2027-Q1: {reason}" in out
    code, out, err = _cli(capsys, "estimate", MONTHLY, *DATA, "--payee", "bea.l",
                          "--deal", "amount=100000", "date=2027-02-10")
    assert code == 0, err
    assert f"note: no statement in 2027-02: {reason}" in out


def test_explain_of_a_window_inside_one_pay_period_says_so():
    plan = _plan(MONTHLY)
    dataset, _ = api.load_data(str(ROOT / "plans/data/events.csv"),
                               str(ROOT / "plans/data/roster.csv"),
                               quotas=str(ROOT / "plans/data/quotas.csv"), plan=plan)
    result = api.run(plan, dataset, D(2027, 1, 31))
    inside = Period(D(2027, 1, 5), D(2027, 1, 20), "range", "2027-01-05 to 2027-01-20")
    text = "\n".join(api.explain(result, "abe.d", inside).lines())
    assert "no pay period lies wholly inside 2027-01-05 to 2027-01-20" in text
    assert "no statement" not in text


@pytest.mark.parametrize("command", [
    ("run", MONTHLY), ("explain", MONTHLY, "--payee", "abe.d"), ("statement", MONTHLY),
    ("diff", MONTHLY, MONTHLY), ("finance", "accruals", MONTHLY)])
def test_period_and_from_to_are_alternatives(capsys, command):
    name = " ".join(c for c in command if not c.startswith(("/", "-")) and c != "abe.d")
    for window in (("--period", "2027-Q1", "--from", "2027-01-01"),
                   ("--to", "2027-03-31", "--period", "2027-Q1")):
        code, out, err = _cli(capsys, *command, *DATA, *window)
        assert code == cli.EXIT_USAGE
        assert not out
        assert err.startswith(f"usage: incentive {name} ")
        assert "not allowed with" in err


def test_a_subcommand_reports_an_unknown_option_with_its_own_usage(capsys):
    code, _, err = _cli(capsys, "explain", MONTHLY, *DATA, "--payee", "abe.d",
                        "--colour", "red")
    assert code == cli.EXIT_USAGE
    assert err.startswith("usage: incentive explain ")
    assert "incentive explain: error: unrecognized arguments: --colour red" in err
    code, _, err = _cli(capsys, "finance", "accruals", MONTHLY, "--bogus")
    assert code == cli.EXIT_USAGE and err.startswith("usage: incentive finance accruals ")
    code, _, err = _cli(capsys, "--bogus", "check", "plans")
    assert code == cli.EXIT_USAGE and err.startswith("usage: incentive [-h]")


def test_a_wrong_period_lists_every_accepted_form(capsys):
    code, _, err = _cli(capsys, "run", MONTHLY, *DATA, "--period", "2027-X")
    assert code == cli.EXIT_USAGE
    assert "'2027-X' is not a period (e.g. 2027-Q1, 2027-03, 2027-H1, 2027 or FY2027)" in err
    for named in ("2027-H1", "FY2027"):
        assert _plan(MONTHLY).calendar.parse(named) is not None


def test_check_exits_2_when_a_plan_file_is_missing_even_beside_errors(tmp_path, capsys):
    bad = tmp_path / "bad.plan"
    bad.write_text("plan x\n", encoding="utf-8")
    missing = str(tmp_path / "missing.plan")
    code, _, err = _cli(capsys, "check", str(bad), missing)
    assert code == cli.EXIT_USAGE
    assert "error[E-SYNTAX]" in err and f"no such file: {missing}" in err
    assert _cli(capsys, "check", str(bad))[0] == cli.EXIT_PROBLEMS
    assert _cli(capsys, "check", "--strict", MONTHLY, missing)[0] == cli.EXIT_USAGE


def test_test_exits_2_when_a_plan_file_is_missing_as_its_help_says(tmp_path, capsys):
    missing = str(tmp_path / "missing.plan")
    code, out, err = _cli(capsys, "test", missing)
    assert code == cli.EXIT_USAGE and f"no such file: {missing}" in err
    code, out, _ = _cli(capsys, "test", MONTHLY, missing)  # the readable one is still tested
    assert code == cli.EXIT_USAGE and "passed, 0 failed" in out
    assert "2  usage error, no plan files, a missing file" in _cli(capsys, "test", "--help")[1]


@pytest.mark.parametrize("option", ["--from", "--to"])
def test_a_date_outside_the_supported_years_is_a_usage_error(capsys, option):
    """A window's date beyond the years plans and data may use (limits.py) is refused as an
    argument: periods are worked out around it, and past the year 9999 there are none."""
    code, out, err = _cli(capsys, "run", MONTHLY, *DATA, option, "9999-12-30")
    assert code == cli.EXIT_USAGE and not out
    assert f"argument {option}: '9999-12-30' is outside the years 1900 to 2999" in err
    assert "internal error" not in err


@pytest.mark.parametrize("period, says", [
    ("2027-q1", "'2027-q1' is not a period: write it in capitals, 2027-Q1"),
    ("fy2027", "'fy2027' is not a period: write it in capitals, FY2027"),
    ("9999", "'9999' is not a period: the year 9999 is outside the years 1900 to 2999 (e.g. "),
    # other spellings of a period: the one meant, as the calendar writes it
    ("2027Q1", "'2027Q1' is not a period: did you mean 2027-Q1?"),
    ("Q1-2027", "'Q1-2027' is not a period: did you mean 2027-Q1?"),
    ("Q2 2027", "'Q2 2027' is not a period: did you mean 2027-Q2?"),
    ("2027/3", "'2027/3' is not a period: did you mean 2027-03?"),
    ("2027-5", "'2027-5' is not a period: did you mean 2027-05?"),
    ("03/2027", "'03/2027' is not a period: did you mean 2027-03?"),
    ("h1-2027", "'h1-2027' is not a period: did you mean 2027-H1?"),
    # a quarter, half or month no year has: which ones a year has
    ("2027-13", "'2027-13' is not a period: a year has months 01 to 12, not 13"),
    ("2027-Q5", "'2027-Q5' is not a period: a year has quarters Q1 to Q4, not Q5"),
    ("2027-H3", "'2027-H3' is not a period: a year has halves H1 and H2, not H3"),
    # nothing guessed where no period is near
    ("202703", "'202703' is not a period (e.g. 2027-Q1"),
])
def test_a_wrong_period_says_what_is_wrong_with_it(capsys, period, says):
    for command in (("run", MONTHLY, *DATA), ("diff", MONTHLY, MONTHLY)):
        code, out, err = _cli(capsys, *command, "--period", period)
        assert code == cli.EXIT_USAGE and not out
        assert says in err, err


@pytest.mark.parametrize("option", ["--from", "--to"])
def test_a_period_given_as_a_date_names_its_days(capsys, option):
    code, out, err = _cli(capsys, "run", MONTHLY, *DATA, option, "2027-5")
    assert code == cli.EXIT_USAGE and not out
    assert (f"argument {option}: '2027-5' is not a date like 2027-03-31 (the period 2027-05 "
            "runs from 2027-05-01 to 2027-05-31)") in err


def test_a_whole_run_names_the_pay_periods_it_reports_beyond_the_plan():
    """Without a window, a plan paid bi-weekly reports pay periods from before its start to
    after its end: the table's title says so; a monthly plan's title is its range."""
    from incentive_dsl.audit import render

    dataset, _ = api.load_data(str(ROOT / "plans/data/events.csv"),
                               str(ROOT / "plans/data/roster.csv"),
                               quotas=str(ROOT / "plans/data/quotas.csv"),
                               fx=str(ROOT / "plans/data/fx.csv"),
                               territories=str(ROOT / "plans/data/territories.csv"),
                               plan=_plan(BIWEEKLY))
    titles = [render.statement_table(api.run(_plan(path), dataset)).title
              for path in (BIWEEKLY, MONTHLY)]
    assert titles[0] == ("Inside sales bi-weekly 2027 — 2027-01-01 to 2027-12-31, pay periods "
                         "2026-12-21/2027-01-03 to 2027-12-20/2028-01-02 (USD)")
    assert titles[1] == "Enterprise AE 2027 — 2027-01-01 to 2027-12-31 (USD)"


def test_diff_names_the_window_as_run_does(capsys):
    """diff's review says the window as asked and the pay period it holds, as run's title."""
    code, out, _ = _cli(capsys, "diff", MONTHLY, MONTHLY, *DATA, "--from", "2027-01-15",
                        "--to", "2027-02-14", "--format", "markdown")
    assert code == 0
    assert "(2027-01-15 to 2027-02-14, pay period 2027-01)" in out


def test_a_window_given_by_its_end_starts_with_the_first_version(capsys):
    """`--to` alone on a plan of several versions reports from the first version's start (the
    H1 version of plans/operations included), not from the last version's."""
    code, out, _ = _cli(capsys, "run", str(ROOT / "plans/operations"), *DATA,
                        "--to", "2027-08-31", "--format", "csv", "--by-period")
    assert code == 0
    periods = {row.split(",")[1] for row in out.splitlines()[1:]}
    assert {"2027-01", "2027-06", "2027-08"} <= periods and "2027-09" not in periods


@pytest.mark.parametrize("option, day", [("--from", "2028-02-01"), ("--to", "2026-02-01")])
def test_one_end_beyond_the_plan_is_said_as_given(capsys, option, day):
    code, _, err = _cli(capsys, "run", MONTHLY, *DATA, option, day)
    assert code == cli.EXIT_USAGE
    assert f"{option} {day} is outside the plan's effective range (2027-01-01 to 2027-12-31)" \
        in err
    assert "before --from" not in err


def test_explain_reads_the_role_at_the_end_of_the_pay_period_as_statements_do(capsys):
    """tom.d is an SDR until 2027-06-08 and an AE from 06-09: the SDR plan makes no statement
    for June, whose last day finds him an AE; explain says that, not that he held no role the
    plan covers at all."""
    code, out, err = _cli(capsys, "explain", str(ROOT / "plans/sdr_activity.plan"), *DATA,
                          "--period", "2027-06", "--payee", "tom.d")
    assert code == 0, err
    assert ("no statement in 2027-06: tom.d (AE) holds no role this plan covers (SDR) at the "
            "end of its pay periods") in out


@pytest.mark.parametrize("window, says", [
    (("--from", "2027-03-01", "--to", "2027-02-01"), "--to 2027-02-01 is before --from 2027-03-01"),
    (("--period", "2026"), "2026 is outside the plans' effective range (2027-01-01 to 2027-12-31)"),
    (("--from", "2028-02-01"), "--from 2028-02-01 is outside the plans' effective range"),
    (("--to", "2026-02-01"), "--to 2026-02-01 is outside the plans' effective range")])
def test_diff_refuses_a_window_that_run_refuses(capsys, window, says):
    """A reversed window, or one neither plan is in effect in, is a usage error in diff as in
    run: reviewed, it said "no payout change" (and --exit-code 0) for a window that held no
    pay at all."""
    code, out, err = _cli(capsys, "diff", MONTHLY, MONTHLY, *DATA, *window)
    assert code == cli.EXIT_USAGE and not out
    assert f"incentive diff: {says}" in err
    code, out, _ = _cli(capsys, "diff", MONTHLY, MONTHLY, *DATA, *window, "--exit-code")
    assert code == cli.EXIT_PROBLEMS and not out


def test_diff_window_reaches_over_both_plans(capsys):
    """A window in which only the old plan is in effect is reviewed: its pay ends there."""
    h1, h2 = (str(ROOT / f"plans/operations/commission_2027_h{n}.plan") for n in (1, 2))
    code, out, err = _cli(capsys, "diff", h1, h2, *DATA, "--period", "2027-Q1")
    assert code == 0, err
    assert "total earnings 152,371.36 → 0.00 USD" in " ".join(out.split())


@pytest.mark.parametrize("payee, period, deal, says", [
    ("ana.b", "2027-Q1", "D0001064", "it is eli.g's deal (split dee.l 25%; eli.g 75%), and ana.b "
                                     "has no credit on it"),
    ("abe.d", "2027-Q3", "D0001027", "none of its events is dated in it (they are dated "
                                     "2026-10-27 to 2027-05-24)")])
def test_explain_of_a_deal_that_earns_the_payee_nothing_says_why(capsys, payee, period, deal,
                                                                  says):
    """Not a bare "earned 0.00 USD": the deal is someone else's, or not in the window."""
    code, out, err = _cli(capsys, "explain", MONTHLY, *DATA, "--period", period, "--payee",
                          payee, "--deal", deal)
    assert code == 0, err
    assert out.splitlines() == [
        f"{payee}, {period} on deal {deal}: earned 0.00 USD",
        f"└── no earning on deal {deal} for {payee} in {period}: {says}"]
