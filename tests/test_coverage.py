"""`incentive test --coverage [--min-coverage N]`: which rules, tier rows, steps, pay lines,
accelerators, caps, floors and clawbacks the worked examples reach, read from the runs' traces;
what is not reached is listed with its file, line and text."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from incentive_dsl import api, cli

PLAN = textwrap.dedent("""\
    plan "Coverage 2027"
      currency USD
      effective 2027-01-01 to 2027-12-31
      roles AE

    quota bookings "Bookings quota"
      100,000 USD per quarter

    credit bookings "Bookings"
      on deal booked

    measure attainment = bookings / quota bookings

    commission core "Core commission"
      on bookings
      marginal rates by attainment per quarter
        from 0% to 100% at 10%
        from 100% to 150% at 15%
        from 150% at 20%
      cap 50,000 USD per year

    bonus club "Club kicker"
      step on attainment per year
        at 100% pay 1,000 USD
        at 120% pay 5,000 USD

    clawback churn "Early churn"
      when deal cancelled within 90 days of booking
      reverse core at original amounts

    spiff whale "Whale deals"
      on deal booked where deal.amount >= 1,000,000 USD
      during 2027-01-01 to 2027-12-31
      pay 5,000 USD

    example "Crossing into the second tier"
      payee ana role AE from 2027-01-01
      deal D1 booked 2027-02-10 by ana amount 120,000 USD
      expect core for ana in 2027-Q1 is 13,000 USD
    """)

# Lines of PLAN, for the expectations below.
TIER_1, TIER_2, TIER_3, CAP = 17, 18, 19, 20
CLUB, STEP_1, STEP_2, CLAWBACK, SPIFF = 22, 24, 25, 27, 31

CANCELLED = textwrap.dedent("""\

    example "Cancelled within the window"
      payee bob role AE from 2027-01-01
      deal D2 booked 2027-01-10 by bob amount 10,000 USD
      deal D2 cancelled 2027-02-01
      expect core for bob in 2027-Q1 is 0 USD
    """)


def write(tmp_path: Path, text: str, name: str = "plan.plan") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def missed_lines(path: str) -> list[int]:
    results, checked = api.run_examples([path])
    cov = api.coverage(results, checked)
    return [t.span.line for t in cov.plans[0].missed]


def test_uncovered_tier_row_is_listed_with_its_line(tmp_path, capsys):
    path = write(tmp_path, PLAN)
    assert cli.main(["test", path, "--coverage"]) == cli.EXIT_OK
    out = capsys.readouterr().out
    assert f"not reached: {path}:{TIER_3}: tier row of core | from 150% at 20%" in out
    assert f"not reached: {path}:{CAP}: cap of core | cap 50,000 USD per year" in out
    assert f"not reached: {path}:{CLAWBACK}: clawback | clawback churn \"Early churn\"" in out
    # the example's line crosses from the first tier into the second: both are reached
    assert f"{path}:{TIER_1}:" not in out and f"{path}:{TIER_2}:" not in out
    assert "coverage: the examples reach 4 of 11" in out
    assert "(36.3%)" in out  # 4/11 = 36.36...%, cut, not rounded


def test_what_is_reached(tmp_path):
    assert missed_lines(write(tmp_path, PLAN)) == [
        TIER_3, CAP, CLUB, STEP_1, STEP_2, CLAWBACK, SPIFF]


def test_a_cap_counts_only_when_it_bites(tmp_path):
    biting = PLAN.replace("cap 50,000 USD per year", "cap 5,000 USD per year")
    biting = biting.replace("is 13,000 USD", "is 5,000 USD")
    assert CAP not in missed_lines(write(tmp_path, biting))


def test_clawback_and_bonus_steps(tmp_path):
    year = PLAN + textwrap.dedent("""\

        example "A good year"
          payee cy role AE from 2027-01-01
          deal D3 booked 2027-03-01 by cy amount 450,000 USD
          expect club for cy in 2027 is 1,000 USD
        """) + CANCELLED
    missed = missed_lines(write(tmp_path, year))
    # 450,000 against 400,000 for the year: 112.5%, the first step; the quarter reaches 450%
    assert missed == [STEP_2, SPIFF]


def test_min_coverage_fails_below_the_threshold(tmp_path, capsys):
    path = write(tmp_path, PLAN)
    assert cli.main(["test", path, "--min-coverage", "40"]) == cli.EXIT_PROBLEMS
    captured = capsys.readouterr()
    assert "coverage 36.3% is below the minimum of 40%" in captured.err
    assert "not reached:" in captured.out  # --min-coverage implies --coverage
    assert cli.main(["test", path, "--min-coverage", "36"]) == cli.EXIT_OK
    capsys.readouterr()


def test_min_coverage_is_compared_exactly(tmp_path, capsys):
    # 4 of 11 is 36.36...%: 36.4 is not reached even though it would display so when rounded
    path = write(tmp_path, PLAN)
    assert cli.main(["test", path, "--min-coverage", "36.4"]) == cli.EXIT_PROBLEMS
    assert cli.main(["test", path, "--min-coverage", "36.36"]) == cli.EXIT_OK


@pytest.mark.parametrize("bad", ["abc", "101", "-1"])
def test_min_coverage_must_be_a_percentage(tmp_path, bad, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["test", write(tmp_path, PLAN), "--min-coverage", bad])
    assert exc.value.code == cli.EXIT_USAGE
    assert "is not a percentage from 0 to 100" in capsys.readouterr().err


def test_min_coverage_accepts_a_percent_sign(tmp_path, capsys):
    assert cli.main(["test", write(tmp_path, PLAN), "--min-coverage", "30%"]) == cli.EXIT_OK


def test_failing_examples_still_fail_with_coverage(tmp_path, capsys):
    path = write(tmp_path, PLAN.replace("is 13,000 USD", "is 1 USD"))
    assert cli.main(["test", path, "--coverage"]) == cli.EXIT_PROBLEMS
    assert "FAILED" in capsys.readouterr().out


def test_plan_without_examples_reaches_nothing(tmp_path, capsys):
    text = PLAN[: PLAN.index("example ")]
    path = write(tmp_path, text)
    assert cli.main(["test", path, "--coverage"]) == cli.EXIT_OK
    out = capsys.readouterr().out
    assert "0 of 11 (0.0%) with 0 example(s)" in out


def test_accelerators_and_pay_lines(tmp_path):
    text = textwrap.dedent("""\
        plan "Accelerated 2027"
          currency USD
          effective 2027-01-01 to 2027-12-31
          roles SDR
          activities "demo", "meeting"

        quota bookings "Bookings quota"
          100,000 USD per quarter

        credit bookings "Bookings"
          on deal booked

        measure attainment = bookings / quota bookings

        commission sourcing "Sourcing"
          on bookings
          rate 2%
          accelerate 1.5x by attainment per quarter above 100%
          decelerate 0.5x by attainment per quarter below 50%

        activity reward demos "Demos"
          on activity "demo" pay 75 USD
          on activity "meeting" pay 30 USD

        example "Above quota"
          payee sam role SDR from 2027-01-01
          deal D1 booked 2027-02-01 by sam amount 60,000 USD
          deal D2 booked 2027-03-01 by sam amount 60,000 USD
          activity "demo" 2027-01-05 by sam
          expect sourcing for sam in 2027-Q1 is 2,100 USD
        """)
    path = write(tmp_path, text)
    # D1: 0%→60%: 50,000 × 2% × 0.5 + 10,000 × 2% = 700; D2: 60%→120%: 40,000 × 2% +
    # 20,000 × 2% × 1.5 = 1,400; the pieces show their factors, so both are reached
    results, checked = api.run_examples([path])
    assert all(r.passed for r in results)
    cov = api.coverage(results, checked)
    missed = [(t.kind, t.span.line) for t in cov.plans[0].missed]
    assert missed == [("pay line", 23)]


def test_coverage_json(tmp_path):
    path = write(tmp_path, PLAN)
    results, checked = api.run_examples([path])
    doc = api.coverage(results, checked).to_json()
    assert doc["targets"] == 11 and doc["reached"] == 4 and doc["percent"] == 36.4
    assert doc["plans"][0]["missed"][0] == {"kind": "tier row", "rule": "core",
                                            "what": "tier row of core", "path": path,
                                            "line": TIER_3}


def test_shipped_plans_report_their_coverage(capsys):
    plans = str(Path(__file__).parent.parent / "plans")
    assert cli.main(["test", plans, "--coverage"]) == cli.EXIT_OK
    out = capsys.readouterr().out
    assert "coverage: the examples reach" in out
