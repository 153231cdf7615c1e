"""`incentive diff OLD NEW`: the semantic changes between two plans, in plan words, and their
payout impact on a history; plans read from files or from git revisions (`REV:path`).

Git tests build a real repository in a temporary directory (two commits of one plan) and run
the command there. The markdown pull-request comment is compared with tests/golden/diff/*.md;
refresh with:

    UPDATE_GOLDEN=1 python -m pytest tests/test_diff.py
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import textwrap
from decimal import Decimal
from pathlib import Path

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from incentive_dsl import api, cli
from incentive_dsl.audit import plandiff, review
from incentive_dsl.audit.impact import Impact, PayeeImpact, RuleDelta, impact
from incentive_dsl.check import model as m
from incentive_dsl.data.records import Dataset, Event, PayeeRecord

GOLDEN = Path(__file__).parent / "golden" / "diff"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"

PLAN = textwrap.dedent("""\
    # A small plan for the diff tests.
    plan "Test AE 2027"
      currency USD
      effective 2027-01-01 to 2027-12-31
      roles AE

    fields
      deal.product text

    quota bookings "Bookings quota"
      100,000 USD per quarter

    credit bookings "Bookings"
      on deal booked

    measure attainment = bookings / quota bookings

    commission core "Core commission"
      on bookings
      marginal rates by attainment per quarter
        from 0% to 100% at 10%
        from 100% at 15%
      cap 50,000 USD per year

    spiff p3 "P3 launch"
      on deal booked where deal.product is "P3"
      during 2027-04-01 to 2027-06-30
      pay 500 USD

    clawback churn "Early churn"
      when deal cancelled within 90 days of booking
      reverse core at original amounts

    example "Over quota"
      payee ana role AE from 2027-01-01
      deal D1 booked 2027-02-10 by ana amount 150,000 USD product "P1"
      expect core for ana in 2027-Q1 is 17,500 USD
    """)

EVENTS = textwrap.dedent("""\
    event_id,deal_id,date,kind,amount,currency,owner,product
    E1,D1,2027-01-15,booked,80000,USD,ana,P1
    E2,D2,2027-02-20,booked,60000,USD,ana,P3
    E3,D3,2027-04-10,booked,50000,USD,bob,P3
    E4,D4,2027-05-05,booked,30000,USD,cy,P1
    E5,D4,2027-06-01,cancelled,,,,
    E6,D5,2027-08-01,booked,120000,USD,bob,P2
    """)

ROSTER = textwrap.dedent("""\
    payee_id,role,start
    ana,AE,2027-01-01
    bob,AE,2027-01-01
    cy,AE,2027-01-01
    dan,AE,2027-01-01
    """)


def edit(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new)


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com",
         "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", *args],
        cwd=repo, capture_output=True, text=True, check=True)
    return done.stdout


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """A git repository with the data and two commits of plan.plan: the second raises the
    upper tier's rate from 15% to 18%. The working directory is the repository."""
    git(tmp_path, "init", "-q")
    (tmp_path / "events.csv").write_text(EVENTS)
    (tmp_path / "roster.csv").write_text(ROSTER)
    (tmp_path / "plan.plan").write_text(PLAN)
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "first")
    (tmp_path / "plan.plan").write_text(edit(PLAN, "from 100% at 15%", "from 100% at 18%"))
    git(tmp_path, "commit", "-q", "-am", "raise the accelerator")
    monkeypatch.chdir(tmp_path)
    return tmp_path


DATA = ["--deals", "events.csv", "--roster", "roster.csv"]


def diff(*args: str) -> list[str]:
    return ["diff", *args]


# ------------------------------------------------------------------------------ git revisions


def test_diff_between_two_revisions(repo, capsys):
    code = cli.main(diff("HEAD~1:plan.plan", "HEAD:plan.plan", *DATA))
    out = capsys.readouterr().out
    assert code == cli.EXIT_OK
    assert "Core commission (commission core)" in out
    assert "tier from 100%: rate 15% → 18%" in out
    # ana: Q1 140,000 USD against 100,000: 40,000 in the upper tier, +3 points = +1,200.00
    assert "ana" in out and "+1,200.00" in out
    assert "Payouts change" in out


def test_revision_against_the_working_tree(repo, capsys):
    (repo / "plan.plan").write_text(edit(PLAN, "cap 50,000 USD per year",
                                         "cap 10,000 USD per year"))
    assert cli.main(diff("HEAD~1:plan.plan", "plan.plan", "--format", "json")) == cli.EXIT_OK
    doc = json.loads(capsys.readouterr().out)
    assert [c["text"] for c in doc["changes"]] == [
        "Core commission: cap per year: 50,000 USD → 10,000 USD"]
    assert doc["impact"] is None and doc["payouts_changed"] is None


def test_staged_version_with_an_empty_revision(repo, capsys):
    (repo / "plan.plan").write_text(edit(PLAN, "pay 500 USD", "pay 750 USD"))
    git(repo, "add", "plan.plan")
    (repo / "plan.plan").write_text(PLAN)  # the working tree differs from the index
    assert cli.main(diff("HEAD~1:plan.plan", ":plan.plan", "--format", "json")) == cli.EXIT_OK
    texts = [c["text"] for c in json.loads(capsys.readouterr().out)["changes"]]
    assert texts == ["P3 launch: pay 500 USD → 750 USD"]


def test_missing_revision_is_an_unreadable_input(repo, capsys):
    assert cli.main(diff("nosuchrev:plan.plan", "plan.plan")) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert "cannot read nosuchrev:plan.plan: there is no revision 'nosuchrev'" in err


def test_missing_path_at_a_revision(repo, capsys):
    assert cli.main(diff("HEAD~1:plans/other.plan", "plan.plan")) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert "there is no file 'plans/other.plan' in revision 'HEAD~1'" in err
    assert "relative to the repository's top directory" in err


def test_outside_a_git_repository(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    (tmp_path / "plan.plan").write_text(PLAN)
    assert cli.main(diff("HEAD:plan.plan", "plan.plan")) == cli.EXIT_USAGE
    assert "not inside a git repository" in capsys.readouterr().err


def test_missing_file(repo, capsys):
    assert cli.main(diff("plan.plan", "nowhere.plan")) == cli.EXIT_USAGE
    assert "no such file: nowhere.plan" in capsys.readouterr().err


def test_a_plan_with_errors(repo, capsys):
    (repo / "bad.plan").write_text(edit(PLAN, "on bookings\n", "on bookingz\n"))
    assert cli.main(diff("plan.plan", "bad.plan")) == cli.EXIT_PROBLEMS
    assert "bad.plan:" in capsys.readouterr().err


def test_a_revision_with_errors_cites_the_revision(repo, capsys):
    (repo / "plan.plan").write_text(edit(PLAN, "on bookings\n", "on bookingz\n"))
    git(repo, "commit", "-q", "-am", "break it")
    assert cli.main(diff("HEAD:plan.plan", "HEAD~1:plan.plan")) == cli.EXIT_PROBLEMS
    assert "HEAD:plan.plan:19" in capsys.readouterr().err


# ------------------------------------------------------------------------------ exit codes


def test_exit_code_two_when_payouts_change(repo, capsys):
    assert cli.main(diff("HEAD~1:plan.plan", "HEAD:plan.plan", *DATA, "--exit-code")) == 2


def test_exit_code_zero_when_only_comments_and_layout_change(repo, capsys):
    reworded = edit(PLAN, "# A small plan", "# A reworded comment on a small plan")
    reworded = edit(reworded, "100,000 USD per quarter", "100000 USD per quarter  # per rep")
    (repo / "plan.plan").write_text(reworded)
    assert cli.main(diff("HEAD~1:plan.plan", "plan.plan", *DATA, "--exit-code")) == cli.EXIT_OK
    out = capsys.readouterr().out
    assert "no change to what the plan pays" in out
    assert "No payout change" in out


def test_exit_code_zero_when_the_change_pays_nobody_differently(repo, capsys):
    # A tier nobody in the history reaches: the plan changes, payouts do not.
    (repo / "plan.plan").write_text(edit(PLAN, "    from 100% at 15%",
                                         "    from 100% to 300% at 15%\n    from 300% at 20%"))
    assert cli.main(diff("HEAD~1:plan.plan", "plan.plan", *DATA, "--exit-code")) == cli.EXIT_OK
    assert "tier from 300% at 20% added" in capsys.readouterr().out


def test_without_exit_code_a_change_exits_zero(repo):
    assert cli.main(diff("HEAD~1:plan.plan", "HEAD:plan.plan", *DATA)) == cli.EXIT_OK


def test_exit_code_without_data_tells_whether_the_plan_changed(repo):
    assert cli.main(diff("HEAD~1:plan.plan", "HEAD:plan.plan", "--exit-code")) == 2
    assert cli.main(diff("HEAD:plan.plan", "plan.plan", "--exit-code")) == cli.EXIT_OK


def test_exit_code_makes_every_error_one(repo, capsys):
    assert cli.main(diff("nosuchrev:plan.plan", "plan.plan", "--exit-code")) == 1
    assert cli.main(diff("plan.plan", "plan.plan", "--deals", "nowhere.csv", "--roster",
                         "roster.csv", "--exit-code")) == 1
    with pytest.raises(SystemExit) as exc:  # a usage error must not read as "payouts change"
        cli.main(diff("plan.plan", "plan.plan", "--exit-code", "--no-such-option"))
    assert exc.value.code == 1
    with pytest.raises(SystemExit) as exc:
        cli.main(diff("plan.plan", "plan.plan", "--no-such-option"))
    assert exc.value.code == cli.EXIT_USAGE


def test_deals_without_roster_is_a_usage_error(repo, capsys):
    assert cli.main(diff("plan.plan", "plan.plan", "--deals", "events.csv")) == cli.EXIT_USAGE
    assert "give the data" in capsys.readouterr().err


def test_data_directory(repo, capsys):
    assert cli.main(diff("HEAD~1:plan.plan", "HEAD:plan.plan", "--data", ".", "--format",
                         "json")) == cli.EXIT_OK
    assert json.loads(capsys.readouterr().out)["impact"]["totals"]["difference"] == "1800.00"


def test_missing_data_file(repo, capsys):
    assert cli.main(diff("plan.plan", "plan.plan", "--deals", "nowhere.csv", "--roster",
                         "roster.csv")) == cli.EXIT_USAGE


def test_bad_period(repo, capsys):
    assert cli.main(diff("plan.plan", "plan.plan", *DATA, "--period", "Q5")) == cli.EXIT_USAGE
    assert "'Q5' is not a period" in capsys.readouterr().err


# ------------------------------------------------------------------------------ formats


def test_text_lists_rules_behind_each_change(repo, capsys):
    (repo / "plan.plan").write_text(edit(edit(PLAN, "from 100% at 15%", "from 100% at 18%"),
                                         "pay 500 USD", "pay 800 USD"))
    assert cli.main(diff("HEAD~1:plan.plan", "plan.plan", *DATA)) == cli.EXIT_OK
    out = capsys.readouterr().out
    # bob: the P3 SPIFF (+300) and his Q3 deal's upper tier (20,000 × 3% = +600)
    bob = next(line for line in out.splitlines() if line.strip("│ ").startswith("bob"))
    assert "+900.00" in bob and "Core commission +600.00" in bob and "P3 launch +300.00" in bob
    assert "2 payee(s) gain, 0 lose, 2 unchanged" in out


def test_a_renamed_rule_that_also_changes_is_told_apart_from_its_old_name(repo, capsys):
    # Renamed and changed, the rule is removed under its old name and added under its new
    # one, both labelled "Core commission": the Rules column names which is which.
    renamed = edit(edit(PLAN, "commission core", "commission base"),
                   "reverse core at", "reverse base at")
    (repo / "plan.plan").write_text(edit(edit(renamed, "expect core for", "expect base for"),
                                         "from 100% at 15%", "from 100% at 18%"))
    assert cli.main(diff("HEAD~1:plan.plan", "plan.plan", *DATA)) == cli.EXIT_OK
    out = " ".join(capsys.readouterr().out.replace("│", " ").split())
    assert "Core commission (base) +" in out and "Core commission (core) -" in out


def test_a_changed_quota_that_the_data_replaces_says_so(repo, capsys):
    # The quota rows win over the plan's values: a raised quota then changes nothing on
    # them, and the review must not leave that to be read as the change's effect.
    (repo / "quotas.csv").write_text("payee_id,quota,period,amount,currency\n"
                                     "ana,bookings,2027-Q1,100000,USD\n"
                                     "bob,bookings,2027-Q2,100000,USD\n")
    (repo / "plan.plan").write_text(edit(PLAN, "100,000 USD per quarter",
                                         "120,000 USD per quarter"))
    args = diff("HEAD~1:plan.plan", "plan.plan", *DATA, "--format", "json")
    assert cli.main([*args, "--quotas", "quotas.csv"]) == cli.EXIT_OK
    notes = json.loads(capsys.readouterr().out)["impact"]["notes"]
    assert notes == ["quota bookings: the data's 2 quota row(s) for it replace the plan's "
                     "values for the payees and periods they cover, so a change of those "
                     "values does not show there"]
    assert cli.main(args) == cli.EXIT_OK  # no quota rows: the plan's values are used
    assert json.loads(capsys.readouterr().out)["impact"]["notes"] == []


def test_text_by_period_shows_each_payee_per_period(repo, capsys):
    assert cli.main(diff("HEAD~1:plan.plan", "HEAD:plan.plan", *DATA,
                         "--by-period", "quarter")) == cli.EXIT_OK
    out = capsys.readouterr().out
    assert "By quarter and payee (USD)" in out
    rows = [line.replace("│", " ").split() for line in out.splitlines()]
    # ana: Q1 140,000 USD, 100,000 at 10% and 40,000 at 15% → 18%
    assert ["ana", "2027-Q1", "16,000.00", "17,200.00", "+1,200.00"] in rows


def test_a_new_field_the_data_does_not_carry_says_so(repo, capsys):
    # The history has no region column: the SPIFF stops paying for want of data, which the
    # review must say rather than leave as the change's effect.
    plan = edit(PLAN, "deal.product text", "deal.product text\n  deal.region text")
    (repo / "plan.plan").write_text(edit(plan, 'where deal.product is "P3"',
                                         'where deal.product is "P3" and deal.region is "EMEA"'))
    assert cli.main(diff("HEAD~1:plan.plan", "plan.plan", *DATA, "--format", "json")) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["impact"]["notes"] == ["field deal.region: no record of the data has a value "
                                      "for it, so every rule that reads it finds none"]
    assert doc["impact"]["totals"]["difference"] == "-500.00"  # bob's P3 deal in Q2


def test_text_all_payees(repo, capsys):
    assert cli.main(diff("HEAD~1:plan.plan", "HEAD:plan.plan", *DATA, "--all-payees")) == 0
    out = capsys.readouterr().out
    assert any(line.strip("│ ").startswith("dan") for line in out.splitlines())


def test_json_is_versioned_deterministic_and_complete(repo, capsys):
    args = diff("HEAD~1:plan.plan", "HEAD:plan.plan", *DATA, "--format", "json",
                "--by-period", "quarter")
    assert cli.main(args) == cli.EXIT_OK
    first = capsys.readouterr().out
    assert cli.main(args) == cli.EXIT_OK
    assert capsys.readouterr().out == first
    doc = json.loads(first)
    assert doc["format_version"] == 1
    assert doc["old"]["ref"] == "HEAD~1:plan.plan" and doc["new"]["ref"] == "HEAD:plan.plan"
    assert doc["plan_changed"] is True and doc["payouts_changed"] is True
    change = doc["changes"][0]
    assert change["detail"] == "tier from 100%: rate 15% → 18%"
    assert change["old"] == {"path": "HEAD~1:plan.plan", "line": 22}
    impact = doc["impact"]
    assert impact["currency"] == "USD" and impact["period_unit"] == "quarter"
    assert (impact["payees_gain"], impact["payees_lose"], impact["payees_unchanged"]) == (2, 0, 2)
    payees = {p["payee"]: p for p in impact["payees"]}
    assert list(payees) == ["ana", "bob", "cy", "dan"]
    assert payees["ana"]["difference"] == "1200.00"
    assert payees["ana"]["rules"] == [{"rule": "core", "title": "Core commission",
                                       "old": "16000.00", "new": "17200.00",
                                       "difference": "1200.00"}]
    assert payees["ana"]["periods"] == [{"period": "2027-Q1", "old": "16000.00",
                                         "new": "17200.00", "difference": "1200.00"}]
    assert payees["bob"]["difference"] == "600.00"
    assert payees["dan"]["status"] == "unchanged" and payees["dan"]["percent"] is None
    assert impact["totals"]["difference"] == "1800.00"
    assert [p["period"] for p in impact["periods"]] == ["2027-Q1", "2027-Q2", "2027-Q3"]


def test_period_window_limits_the_comparison(repo, capsys):
    assert cli.main(diff("HEAD~1:plan.plan", "HEAD:plan.plan", *DATA, "--format", "json",
                         "--period", "2027-Q3")) == cli.EXIT_OK
    impact = json.loads(capsys.readouterr().out)["impact"]
    assert impact["window"] == {"label": "2027-Q3", "start": "2027-07-01", "end": "2027-09-30"}
    assert {p["payee"]: p["difference"] for p in impact["payees"]
            if p["status"] != "unchanged"} == {"bob": "600.00"}


def test_clawback_differences_are_shown_under_the_clawback_rule(repo, capsys):
    (repo / "plan.plan").write_text(edit(PLAN, "reverse core at original amounts",
                                         "reverse core at 50% of original amounts"))
    assert cli.main(diff("HEAD~1:plan.plan", "plan.plan", *DATA, "--format", "json")) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["changes"][0]["text"] == ("Early churn: reverse at original amounts → at 50% of "
                                         "original amounts")
    cy = next(p for p in doc["impact"]["payees"] if p["payee"] == "cy")
    assert cy["rules"] == [{"rule": "churn", "title": "Early churn", "old": "-3000.00",
                            "new": "-1500.00", "difference": "1500.00"}]


def test_markdown_golden(repo, capsys):
    (repo / "plan.plan").write_text(edit(edit(PLAN, "from 100% at 15%", "from 100% at 18%"),
                                         "during 2027-04-01 to 2027-06-30",
                                         "during 2027-02-01 to 2027-06-30"))
    assert cli.main(diff("HEAD~1:plan.plan", "plan.plan", *DATA, "--format", "markdown",
                         "--by-period", "quarter")) == cli.EXIT_OK
    _golden("tier_and_window.md", capsys.readouterr().out)


def test_markdown_golden_without_payout_change(repo, capsys):
    (repo / "plan.plan").write_text(edit(PLAN, "# A small plan", "# Reworded"))
    assert cli.main(diff("HEAD~1:plan.plan", "plan.plan", *DATA, "--format", "markdown")) == 0
    _golden("comments_only.md", capsys.readouterr().out)


def _golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"{path} is missing; run with UPDATE_GOLDEN=1 to create it"
    assert actual == path.read_text(encoding="utf-8"), (
        f"{path.name} differs; refresh with UPDATE_GOLDEN=1 and review the diff")


def test_markdown_stays_under_the_comment_limit():
    old = _plan(PLAN)
    new = _plan(edit(PLAN, "from 100% at 15%", "from 100% at 18%"))
    payees = tuple(PayeeImpact(payee=f"payee-{i:05d}", old=Decimal(1000 + i),
                               new=Decimal(1100 + i), old_paid=Decimal(0), new_paid=Decimal(0),
                               rules=(RuleDelta("core", "Core commission", Decimal(1000 + i),
                                                Decimal(1100 + i)),))
                   for i in range(5000))
    impact = Impact(currency="USD", window=None, range="2027-01-01 to 2027-12-31",
                    payees=payees)
    text = review.to_markdown(review.Review("a.plan", "b.plan", api.diff_plans(old, new),
                                            impact))
    assert len(text) < review.MARKDOWN_LIMIT
    assert "All 5000 payee(s) with a difference" in text
    assert "rows are not shown, to keep this comment under 60,000 characters" in text
    assert text.count("<details>") == text.count("</details>") == 1
    small = review.to_markdown(review.Review("a.plan", "b.plan", api.diff_plans(old, new),
                                             attrs.evolve(impact, payees=payees[:20])))
    assert "not shown" not in small and small.count("| payee-") == 10 + 20


def test_markdown_escapes_table_characters():
    assert review.md("a|b_c*d<e>") == "a\\|b\\_c\\*d&lt;e&gt;"


# ------------------------------------------------------------------------------ one evaluation each


def test_each_plan_is_evaluated_once_on_data_loaded_once(repo, monkeypatch, capsys):
    from incentive_dsl.data import loaders

    calls = {"load": 0, "run": 0}
    load, run = loaders.load_dataset, api.evaluate_versions

    def counting_load(*a, **k):
        calls["load"] += 1
        return load(*a, **k)

    def counting_run(*a, **k):
        calls["run"] += 1
        return run(*a, **k)

    monkeypatch.setattr(loaders, "load_dataset", counting_load)
    monkeypatch.setattr(api, "evaluate_versions", counting_run)  # what api.run evaluates with
    assert cli.main(diff("HEAD~1:plan.plan", "HEAD:plan.plan", *DATA, "--by-period")) == 0
    assert calls == {"load": 1, "run": 2}


def test_data_is_read_with_the_fields_of_both_plans(repo, capsys):
    # The new plan no longer declares deal.product: the shared data must still carry it for
    # the old plan's SPIFF, and must not reject the column for the new plan.
    new = edit(edit(PLAN, "fields\n  deal.product text\n", ""), textwrap.dedent("""\
        spiff p3 "P3 launch"
          on deal booked where deal.product is "P3"
          during 2027-04-01 to 2027-06-30
          pay 500 USD
        """), "")
    new = edit(new, ' product "P1"', "")
    (repo / "plan.plan").write_text(new)
    assert cli.main(diff("HEAD~1:plan.plan", "plan.plan", *DATA, "--format", "json")) == 0
    doc = json.loads(capsys.readouterr().out)
    bob = next(p for p in doc["impact"]["payees"] if p["payee"] == "bob")
    assert bob["rules"] == [{"rule": "p3", "title": "P3 launch", "old": "500.00", "new": "0.00",
                             "difference": "-500.00"}]
    assert {c["text"] for c in doc["changes"]} == {
        "field deal.product: removed (was text)",
        'example "Over quota": its data or expectations changed',
        'P3 launch: removed (was: on deal booked where deal.product is "P3", pay 500 USD, '
        "during 2027-04-01 to 2027-06-30)"}


def test_field_and_example_headings_name_them_once(repo, capsys):
    """A field's or an example's heading is its name: no "(example Over quota)" after
    'example "Over quota"', no "(field product)" after "field deal.product"."""
    new = edit(edit(PLAN, "deal.product text", "deal.product one of \"P1\", \"P3\""),
               "is 17,500 USD", "is 17,000 USD")
    (repo / "plan.plan").write_text(new)
    assert cli.main(diff("HEAD~1:plan.plan", "plan.plan")) == 0
    out = capsys.readouterr().out
    headings = [line.strip() for line in out.splitlines()
                if line.strip().startswith(("field ", "example "))]
    assert headings == ["field deal.product", 'example "Over quota"'], out
    assert cli.main(diff("HEAD~1:plan.plan", "plan.plan", "--format", "markdown")) == 0
    out = capsys.readouterr().out
    assert "- **field deal.product**\n" in out and '- **example "Over quota"**\n' in out


# ------------------------------------------------------------------------------ offsets and rounding

EXTRA = textwrap.dedent("""\
    commission extra "Extra"
      on bookings
      rate 1%

    spiff p3 "P3 launch"
    """)


def _offset(plan: str) -> str:
    """Both core tiers one point lower, and a new 1% commission: a payee without a
    clawback earns the same in total, from other rules."""
    lower = edit(edit(plan, "from 0% to 100% at 10%", "from 0% to 100% at 9%"),
                 "from 100% at 15%", "from 100% at 14%")
    return edit(lower, 'spiff p3 "P3 launch"\n', EXTRA)


def test_a_payee_whose_rule_changes_offset_is_not_counted_unchanged(repo, capsys):
    (repo / "plan.plan").write_text(_offset(PLAN))
    assert cli.main(diff("HEAD~1:plan.plan", "plan.plan", *DATA, "--format", "json")) == 0
    doc = json.loads(capsys.readouterr().out)
    impact = doc["impact"]
    payees = {p["payee"]: p for p in impact["payees"]}
    # ana (140,000 USD booked) and bob (170,000): -1% core, +1% extra; cy's cancelled deal
    # keeps its 1% extra (300.00), which no clawback reverses.
    assert payees["ana"]["difference"] == "0.00" and payees["ana"]["status"] == "net zero"
    assert [(r["rule"], r["difference"]) for r in payees["ana"]["rules"]] == [
        ("core", "-1400.00"), ("extra", "1400.00")]
    assert payees["bob"]["status"] == "net zero" and payees["cy"]["status"] == "gain"
    assert payees["dan"]["status"] == "unchanged" and payees["dan"]["rules"] == []
    assert (impact["payees_gain"], impact["payees_lose"], impact["payees_net_zero"],
            impact["payees_unchanged"]) == (1, 0, 2, 1)
    assert doc["summary"].endswith("1 payee(s) gain, 0 lose, 2 changed with no net difference "
                                   "in earnings, 1 unchanged.")


def test_offsetting_changes_alone_are_no_payout_change_but_are_said(repo, capsys):
    (repo / "plan.plan").write_text(_offset(PLAN))
    # In Q1 only ana books: her rules change, her pay does not.
    args = diff("HEAD~1:plan.plan", "plan.plan", *DATA, "--period", "2027-Q1")
    assert cli.main([*args, "--exit-code"]) == cli.EXIT_OK
    out = " ".join(capsys.readouterr().out.replace("│", " ").split())
    assert "No payout change on the history (2027-Q1): total earnings stay" in out
    assert ("1 payee(s) changed with no net difference: the changes of their rules offset."
            in out)
    assert "ana 16,000.00 16,000.00 0.00 Core commission -1,400.00; Extra +1,400.00" in out


ROUNDED = edit(PLAN, "  roles AE\n", "  roles AE\n  rounding half up per statement\n")


def test_per_statement_breakdowns_reconcile_with_a_rounding_row(repo, capsys):
    (repo / "old.plan").write_text(ROUNDED)
    (repo / "plan.plan").write_text(edit(ROUNDED, 'spiff p3 "P3 launch"\n',
                                         EXTRA.replace("rate 1%", "rate 2.5%")))
    (repo / "events.csv").write_text(edit(EVENTS, "80000,USD", "80000.03,USD"))
    assert cli.main(diff("old.plan", "plan.plan", *DATA, "--format", "json",
                         "--by-period", "month")) == 0
    impact = json.loads(capsys.readouterr().out)["impact"]
    ana = next(p for p in impact["payees"] if p["payee"] == "ana")
    # Lines are kept exact: core 16,000.0045 stays 16,000.00 (half up), extra 2,000.00075 +
    # 1,500 = 3,500.00 on its own, but the total 19,500.00525 rounds up to 19,500.01.
    assert (ana["old"], ana["new"]) == ("16000.00", "19500.01")
    assert [(r["rule"], r["title"], r["old"], r["new"]) for r in ana["rules"]] == [
        ("extra", "Extra", "0.00", "3500.00"), ("rounding", "Rounding", "0.00", "0.01")]
    assert [(r["period"], r["old"], r["new"]) for r in ana["periods"]] == [
        ("2027-01", "8000.00", "10000.00"), ("2027-02", "8000.00", "9500.00"),
        ("rounding", "0.00", "0.01")]
    for side in ("old", "new"):
        assert (sum(Decimal(r[side]) for r in impact["periods"])
                == Decimal(impact["totals"][side]))


def test_a_change_of_currency_is_refused_on_a_history(repo, capsys):
    # A difference of dollars and euros is no amount of money: with a history the review is
    # refused (exit 2, or 1 under --exit-code where 2 means "payouts change"), naming each
    # plan's currency line; without one the plan changes are still shown.
    (repo / "plan.plan").write_text(PLAN.replace("USD", "EUR"))
    (repo / "events.csv").write_text(EVENTS.replace(",USD,", ",,"))
    (repo / "fx.csv").write_text("currency,target,date,rate\nEUR,USD,2027-01-01,1.25\n")
    assert cli.main(diff("HEAD~1:plan.plan", "plan.plan", "--data", ".")) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert ("incentive diff: the plans pay in different currencies, USD (HEAD~1:plan.plan:3), "
            "EUR (plan.plan:3): their payouts cannot be compared as amounts of money, so no "
            "payout impact is computed\n  hint: review the change of currency without --data"
            ) in captured.err
    assert cli.main(diff("HEAD~1:plan.plan", "plan.plan", "--data", ".", "--exit-code")) == 1
    assert "different currencies" in capsys.readouterr().err
    assert cli.main(diff("HEAD~1:plan.plan", "plan.plan")) == 0
    assert "currency USD → EUR" in capsys.readouterr().out
    old, new = api.read_plan("HEAD~1:plan.plan").plan, api.read_plan("plan.plan").plan
    dataset, _ = api.load_data("events.csv", "roster.csv", fx="fx.csv", plan=new)
    with pytest.raises(ValueError, match="different currencies, USD"):
        api.review("old", "new", old, new, dataset)
    from incentive_dsl.audit.impact import impact

    with pytest.raises(ValueError, match="different currencies, USD"):  # the function itself
        impact(api.run(old, dataset), api.run(new, dataset))


def test_a_paid_difference_off_by_rounding_per_statement_is_explained(tmp_path, capsys):
    # Statements round each quarter to the cent, the earnings difference is rounded once over
    # the year: fay.b's paid difference is a cent under it, and the report says why.
    old = SHIPPED / "sales_manager.plan"
    new = tmp_path / "sales_manager.plan"
    new.write_text(edit(old.read_text(), "pay 2% of team", "pay 2.013% of team"))
    args = diff(str(old), str(new), "--data", str(SHIPPED / "data"))
    assert cli.main(args) == 0
    out = " ".join(capsys.readouterr().out.replace("│", " ").split())
    assert "fay.b 34,575.98 34,800.73 +224.75 +0.7% +224.74" in out
    note = ("Paid difference is not Difference by rounding: fay.b -0.01 USD. The plans round "
            "half even per statement: a statement's pay is rounded to the cent in each pay "
            "period, while Old, New and Difference are the window's earnings added exactly and "
            "rounded once")
    assert note in out
    assert cli.main([*args, "--format", "json"]) == 0
    impact = json.loads(capsys.readouterr().out)["impact"]
    assert note in impact["notes"]
    fay = next(p for p in impact["payees"] if p["payee"] == "fay.b")
    assert (Decimal(fay["new_paid"]) - Decimal(fay["old_paid"]), Decimal(fay["difference"])) \
        == (Decimal("224.74"), Decimal("224.75"))
    # Over three quarters a tenth is still held back: rounding is a part of the gap, said so.
    assert cli.main([*args, "--to", "2027-09-30", "--format", "json"]) == 0
    [note] = [n for n in json.loads(capsys.readouterr().out)["impact"]["notes"]
              if n.startswith("Paid difference")]
    assert note.startswith("Paid difference is not Difference partly by rounding (the rest is "
                           "pay held back, or paid before or after the window): ")
    assert "USD, of which -0.01 USD rounding; " in note and "; in total " in note


SHIPPED = Path(__file__).parent.parent / "plans"


def test_a_change_of_rounding_on_a_shipped_plan(tmp_path, capsys):
    # Half even per line → half up per statement moves some payees by a cent either way.
    old = SHIPPED / "enterprise_ae.plan"
    new = tmp_path / "enterprise_ae.plan"
    new.write_text(old.read_text().replace("rounding half even per line",
                                           "rounding half up per statement"))
    args = diff(str(old), str(new), "--data", str(SHIPPED / "data"), "--by-period", "quarter")
    assert cli.main([*args, "--format", "json"]) == 0
    impact = json.loads(capsys.readouterr().out)["impact"]
    # The payees' rounding rows cancel out over all of them: no 0.00 → 0.00 rounding period.
    assert [r["period"] for r in impact["periods"]] == [
        "2027-Q1", "2027-Q2", "2027-Q3", "2027-Q4"]
    for side in ("old", "new"):
        assert (sum(Decimal(r[side]) for r in impact["periods"])
                == Decimal(impact["totals"][side]))
    assert cli.main([*args, "--format", "markdown"]) == 0
    rows: dict[str, str] = {}  # each payee's first row: the table of largest changes
    for line in capsys.readouterr().out.splitlines():
        if line.startswith(("| eva.d ", "| mo.r ")):
            rows.setdefault(line.split(" | ")[0], line)
    # A cent on tens of thousands: signed as the difference is, gain or loss.
    assert "| -0.01 | -0.0% |" in rows["| eva.d"] and "| +0.01 | +0.0% |" in rows["| mo.r"]


MODES = ("half up", "half even", "half down", "up", "down")
# Rates in thousandths of a percent: a line of a deal in cents has up to seven decimals.
RATES = st.integers(1, 30_000).map(lambda n: f"{Decimal(n) / 1000}%")


def _rounded_plan(mode: str, low: str, high: str, extra: str) -> str:
    plan = edit(PLAN, "  roles AE\n", f"  roles AE\n  rounding {mode} per statement\n")
    plan = edit(edit(plan, "at 10%", f"at {low}"), "at 15%", f"at {high}")
    return edit(plan, 'spiff p3 "P3 launch"\n', EXTRA.replace("rate 1%", f"rate {extra}"))


@st.composite
def histories(draw):
    deals = []
    for i in range(draw(st.integers(1, 8))):
        deal = f"D{i}"
        day = dt.date(2027, 1, 1) + dt.timedelta(days=draw(st.integers(0, 300)))
        deals.append(Event(id=f"{deal}-b", deal=deal, date=day, kind="booked",
                           amount=Decimal(draw(st.integers(1, 20_000_000))) / 100,
                           currency="USD", owner=draw(st.sampled_from(("ana", "bob", "cy"))),
                           fields=(("product", draw(st.sampled_from(("P1", "P3")))),)))
        if draw(st.booleans()):
            deals.append(Event(id=f"{deal}-c", deal=deal, date=day + dt.timedelta(days=30),
                               kind="cancelled"))
    return Dataset(events=tuple(deals), payees=tuple(
        PayeeRecord(id=pid, role="AE", start=dt.date(2027, 1, 1)) for pid in ("ana", "bob", "cy")))


@given(modes=st.tuples(st.sampled_from(MODES), st.sampled_from(MODES)),
       rates=st.tuples(RATES, RATES, RATES, RATES, RATES, RATES), data=histories(),
       unit=st.sampled_from(("month", "quarter", "pay")),
       window=st.sampled_from((None, "2027-Q2", "2027-H2")))
def test_per_statement_breakdowns_add_up_to_the_totals(modes, rates, data, unit, window):
    """With `rounding ... per statement` the lines are exact and every figure is rounded: the
    rules and the periods listed for a payee still add up to the payee's difference, and the
    periods of all payees to the totals shown, to the cent."""
    old = _plan(_rounded_plan(modes[0], *rates[:3]))
    new = _plan(_rounded_plan(modes[1], *rates[3:]))
    period = None if window is None else api.window([new], window, None, None)
    runs = [api.run(plan, data) for plan in (old, new)]
    assert all(r.ok for r in runs)
    result = impact(*runs, payees=("ana", "bob", "cy"), window=period, by_period=unit)
    for p in result.payees:
        assert sum((r.difference for r in p.rules), Decimal(0)) == p.difference, p
        assert sum((r.difference for r in p.periods), Decimal(0)) == p.difference, p
    for side in ("old", "new"):
        assert (sum((getattr(r, side) for r in result.periods), Decimal(0))
                == getattr(result, side))


# ------------------------------------------------------------------------------ semantic changes


def _plan(text: str, path: str = "p.plan") -> m.Plan:
    parsed = api.parse_text(path, text)
    assert not parsed.diagnostics, parsed.diagnostics
    from incentive_dsl.check import check_trees

    plans, diags = check_trees([(parsed.tree, text)])
    assert plans and not any(d.is_error for d in diags), diags
    return plans[0]


def changes(old: str, new: str) -> list[str]:
    return [c.text for c in api.diff_plans(_plan(old, "old.plan"), _plan(new, "new.plan")).changes]


def test_tier_rate_change():
    assert changes(PLAN, edit(PLAN, "from 0% to 100% at 10%", "from 0% to 100% at 11%")) == [
        "Core commission: tier from 0% to 100%: rate 10% → 11%"]


def test_new_tier_row():
    new = edit(PLAN, "    from 100% at 15%", "    from 100% to 150% at 15%\n    from 150% at 20%")
    assert changes(PLAN, new) == ["Core commission: tier from 100% → from 100% to 150%",
                                  "Core commission: tier from 150% at 20% added"]


def test_moved_tier_bound_reads_as_two_changed_rows():
    new = edit(PLAN, "from 0% to 100% at 10%\n    from 100% at 15%",
               "from 0% to 120% at 10%\n    from 120% at 15%")
    assert changes(PLAN, new) == ["Core commission: tier from 0% to 100% → from 0% to 120%",
                                  "Core commission: tier from 100% → from 120%"]


def test_a_rule_that_changes_kind_is_removed_and_added():
    new = edit(PLAN, 'spiff p3 "P3 launch"\n  on deal booked where deal.product is "P3"\n'
               '  during 2027-04-01 to 2027-06-30\n  pay 500 USD',
               'bonus p3 "P3 launch"\n  step on attainment per quarter\n    at 100% pay 500 USD')
    assert [c.split(":")[1].strip() for c in changes(PLAN, new)] == ["added", "removed (was"]


def test_removed_tier_row():
    new = edit(PLAN, "    from 0% to 100% at 10%\n    from 100% at 15%", "    from 0% at 10%")
    assert changes(PLAN, new) == ["Core commission: tier from 0% to 100% → from 0%",
                                  "Core commission: tier from 100% at 15% removed"]


def test_cap_change_added_and_removed():
    assert changes(PLAN, edit(PLAN, "cap 50,000 USD per year", "cap 60,000 USD per year")) == [
        "Core commission: cap per year: 50,000 USD → 60,000 USD"]
    assert changes(PLAN, edit(PLAN, "  cap 50,000 USD per year\n", "")) == [
        "Core commission: cap 50,000 USD per year removed"]
    assert changes(PLAN, edit(PLAN, "cap 50,000 USD per year",
                              "cap 50,000 USD per year\n  cap 10,000 USD per deal")) == [
        "Core commission: cap 10,000 USD per deal added"]


def test_removed_and_added_rules():
    without = edit(PLAN, textwrap.dedent("""\
        spiff p3 "P3 launch"
          on deal booked where deal.product is "P3"
          during 2027-04-01 to 2027-06-30
          pay 500 USD

        """), "")
    assert changes(PLAN, without) == [
        'P3 launch: removed (was: on deal booked where deal.product is "P3", pay 500 USD, '
        "during 2027-04-01 to 2027-06-30)"]
    assert changes(without, PLAN) == [
        'P3 launch: added: on deal booked where deal.product is "P3", pay 500 USD, '
        "during 2027-04-01 to 2027-06-30"]


def test_renamed_label():
    assert changes(PLAN, edit(PLAN, 'commission core "Core commission"',
                              'commission core "Core new-business commission"')) == [
        'commission core: label "Core commission" → "Core new-business commission"']


def test_renamed_rule():
    new = edit(PLAN, "spiff p3 ", "spiff p3_launch ")
    assert changes(PLAN, new) == ["P3 launch: renamed from p3 to p3_launch"]


def test_comments_and_layout_only_are_no_change():
    reworded = edit(PLAN, "# A small plan for the diff tests.", "# Rewritten.\n# Twice.")
    reworded = edit(reworded, "  on bookings\n", "  # the base\n  on bookings  # bookings\n")
    reworded = edit(reworded, "100,000 USD per quarter", "100000 USD per quarter")
    reworded = edit(reworded, "at 15%", "at 15.0%")
    reworded = edit(reworded, "\n\nspiff", "\n\n\n\nspiff")
    assert changes(PLAN, reworded) == []
    assert not api.diff_plans(_plan(PLAN), _plan(reworded)).changed


def test_window_quota_and_payout_changes():
    new = edit(PLAN, "during 2027-04-01 to 2027-06-30", "during 2027-04-01 to 2027-07-31")
    new = edit(new, "100,000 USD per quarter", "110,000 USD per quarter")
    new += "\npayout\n  paid quarterly\n  hold back 10% until year end\n"
    assert changes(PLAN, new) == [
        "Bookings quota: 100,000 USD per quarter → 110,000 USD per quarter",
        "P3 launch: window 2027-04-01 to 2027-06-30 → 2027-04-01 to 2027-07-31",
        "payout: paid monthly → paid quarterly",
        "payout: holdback: none → hold back 10% until year end"]


def test_credit_measure_and_condition_changes():
    new = edit(PLAN, "  on deal booked\n\nmeasure",
               '  on deal booked where deal.product is "P1"\n\nmeasure')
    new = edit(new, "measure attainment = bookings / quota bookings",
               "measure attainment = bookings / quota bookings * 2")
    new = edit(new, "  cap 50,000 USD per year\n",
               "  cap 50,000 USD per year\n  when attainment reaches 50%\n")
    assert changes(PLAN, new) == [
        'Bookings: on deal booked → on deal booked where deal.product is "P1"',
        "measure attainment: = bookings / quota bookings → = bookings / quota bookings * 2",
        "Core commission: condition added: when attainment reaches 50%"]


def test_changes_cite_lines_on_both_sides():
    new = edit(PLAN, "# A small plan for the diff tests.\n", "# One\n# Two\n# Three\n")
    new = edit(new, "from 100% at 15%", "from 100% at 16%")
    (change,) = api.diff_plans(_plan(PLAN, "old.plan"), _plan(new, "new.plan")).changes
    assert (change.old.path, change.old.line) == ("old.plan", 22)
    assert (change.new.path, change.new.line) == ("new.plan", 24)


def test_a_new_effective_range_cites_the_effective_line():
    """Not the plan's first line: a version split moves this line, and a reviewer looks for
    it."""
    new = edit(PLAN, "effective 2027-01-01 to 2027-12-31", "effective 2027-01-01 to 2028-12-31")
    (change,) = api.diff_plans(_plan(PLAN, "old.plan"), _plan(new, "new.plan")).changes
    assert change.text == "plan: effective 2027-01-01 to 2027-12-31 → 2027-01-01 to 2028-12-31"
    assert (change.old.line, change.new.line) == (4, 4)


def test_every_model_field_is_put_into_words():
    """A field added to the checked model must get words in plandiff (or be marked as not
    compared): otherwise it would only be reported by its field name."""
    missing = {}
    for cls in plandiff.WORDED:
        names = {f.name for f in attrs.fields(cls)
                 if f.type not in ("Span", "Span | None")}
        left = names - plandiff.WORDED[cls]
        if left:
            missing[cls.__name__] = sorted(left)
    assert missing == {}
    specs = {m.CommissionSpec, m.BonusSpec, m.SpiffSpec, m.StageRewardSpec,
             m.ActivityRewardSpec, m.PoolSpec, m.OverrideSpec, m.CreditSpec, m.MeasureSpec,
             m.QuotaSpec, m.ClawbackSpec, m.PayoutSpec, m.Plan}
    assert specs <= set(plandiff.WORDED)


def test_shipped_plans_compare_equal_to_themselves():
    for path in api.discover([str(Path(__file__).parent.parent / "plans")]):
        loaded = api.read_plan(path)
        assert loaded.plan is not None, path
        assert api.diff_plans(loaded.plan, loaded.plan).changes == ()
