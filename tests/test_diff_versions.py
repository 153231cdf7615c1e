"""`incentive diff` between plans given as directories of versions (plans/operations: two
half-year versions): each side's versions are run together as `run` runs them, and each
stretch of days compares the two versions in effect on it, naming them."""

from __future__ import annotations

import json
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from incentive_dsl import api, cli
from incentive_dsl.eval.money import round_money

ROOT = Path(__file__).resolve().parents[1]
OPERATIONS = ROOT / "plans/operations"
DATA = ["--data", str(ROOT / "plans/data")]
H1, H2 = "commission_2027_h1.plan", "commission_2027_h2.plan"


@pytest.fixture
def changed(tmp_path) -> Path:
    """plans/operations with the second version's upper rate raised from 9% to 10%."""
    folder = tmp_path / "operations"
    shutil.copytree(OPERATIONS, folder)
    plan = folder / H2
    text = plan.read_text(encoding="utf-8")
    assert "from 200,000 USD at 9%" in text
    plan.write_text(text.replace("from 200,000 USD at 9%", "from 200,000 USD at 10%"),
                    encoding="utf-8")
    return folder


def _cli(capsys, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _earned(path: Path, window=None) -> Decimal:
    """Total earnings of a plan (all its versions) as `run` evaluates them."""
    loaded = api.load_plan(str(path))
    dataset, _ = api.load_data(str(ROOT / "plans/data/events.csv"),
                               str(ROOT / "plans/data/roster.csv"),
                               quotas=str(ROOT / "plans/data/quotas.csv"),
                               fx=str(ROOT / "plans/data/fx.csv"), plan=loaded.plan)
    result = api.run(loaded.versions, dataset, window.end if window else None)
    return sum((ln.amount for ln in result.earnings
                if window is None or window.contains(ln.date)), Decimal(0))


def test_two_version_directories_compare_every_version_as_run_does(changed, capsys):
    code, out, err = _cli(capsys, "diff", str(OPERATIONS), str(changed), *DATA,
                          "--format", "json")
    assert code == cli.EXIT_OK, err
    doc = json.loads(out)
    # The rule change is found in the second version, and said to be there.
    assert [c["text"] for c in doc["changes"]] == [
        "Commission on first-year value: tier from 200,000 USD: rate 9% → 10%"]
    versions = [(v["days"], Path(v["old"]["ref"]).name, Path(v["new"]["ref"]).name,
                 len(v["changes"])) for v in doc["versions"]]
    assert versions == [({"start": "2027-01-01", "end": "2027-06-30"}, H1, H1, 0),
                        ({"start": "2027-07-01", "end": "2027-12-31"}, H2, H2, 1)]
    # Both halves are paid on each side: the totals are those of running every version.
    impact = doc["impact"]
    assert impact["range"] == "2027-01-01 to 2027-12-31"
    assert Decimal(impact["totals"]["old"]) == round_money(_earned(OPERATIONS), "USD")
    assert Decimal(impact["totals"]["new"]) == round_money(_earned(changed), "USD")
    assert Decimal(impact["totals"]["difference"]) > 0
    # The first half is not changed: a window of it shows no difference.
    code, out, _ = _cli(capsys, "diff", str(OPERATIONS), str(changed), *DATA, "--period",
                        "2027-H1", "--format", "json", "--exit-code")
    assert code == cli.EXIT_OK and json.loads(out)["payouts_changed"] is False
    assert _cli(capsys, "diff", str(OPERATIONS), str(changed), *DATA, "--period",
                "2027-H2", "--exit-code")[0] == 2


def test_the_text_review_names_the_versions_compared(changed, capsys, monkeypatch):
    monkeypatch.chdir(changed.parent)  # short paths: the report is 120 columns wide
    shutil.copytree(OPERATIONS, "old")
    code, out, _ = _cli(capsys, "diff", "old", "operations")
    assert code == cli.EXIT_OK
    assert out.split("\n") == [
        "AE operations 2027: old → operations",
        f"  2027-01-01 to 2027-06-30: old/{H1} → operations/{H1} (version \"2027.1\")",
        "    no change to what the plan pays (comments and layout are not compared)",
        f"  2027-07-01 to 2027-12-31: old/{H2} → operations/{H2} (version \"2027.2\")",
        "    Commission on first-year value (commission core)",
        f"      tier from 200,000 USD: rate 9% → 10%  operations/{H2}:25",
        "1 change(s) to the plan; no history was given, so the payout impact was not computed.",
        ""]
    code, out, _ = _cli(capsys, "diff", "old", "operations", "--format", "markdown")
    h2 = H2.replace("_", "\\_")  # markdown
    assert (f"#### 2027-07-01 to 2027-12-31: old/{h2} → operations/{h2} (version \"2027.2\")\n"
            "\n- **Commission on first-year value** (`commission core`)\n"
            "  - tier from 200,000 USD: rate 9% → 10% (line 25)\n") in out


def test_a_plan_file_against_a_directory_of_versions(capsys):
    """A plan split into versions: each new version is compared with the old file, the
    payouts with both versions run."""
    code, out, _ = _cli(capsys, "diff", str(OPERATIONS / H1), str(OPERATIONS), *DATA,
                        "--format", "json")
    assert code == cli.EXIT_OK
    doc = json.loads(out)
    assert [(v["days"]["start"], Path(v["old"]["ref"]).name, Path(v["new"]["ref"]).name,
             bool(v["changes"])) for v in doc["versions"]] == [
        ("2027-01-01", H1, H1, False), ("2027-07-01", H1, H2, True)]
    second = doc["versions"][1]["changes"]
    assert "effective 2027-01-01 to 2027-06-30 → 2027-07-01 to 2027-12-31" in [
        c["detail"] for c in second]
    impact = doc["impact"]
    assert Decimal(impact["totals"]["old"]) == round_money(_earned(OPERATIONS / H1), "USD")
    assert Decimal(impact["totals"]["new"]) == round_money(_earned(OPERATIONS), "USD")
    assert "each side's versions are run together" in impact["notes"][-1]


def test_two_plan_files_have_no_versions_in_the_review(capsys):
    code, out, _ = _cli(capsys, "diff", str(OPERATIONS / H2), str(OPERATIONS / H2),
                        "--format", "json")
    doc = json.loads(out)
    assert code == cli.EXIT_OK and doc["versions"] == [] and doc["changes"] == []


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_a_directory_at_a_git_revision(changed, tmp_path, monkeypatch, capsys):
    def git(*args: str) -> None:
        subprocess.run(["git", "-c", "user.email=t@t", "-c", "user.name=t", *args],
                       cwd=tmp_path, check=True, capture_output=True)

    repo = tmp_path
    shutil.copytree(OPERATIONS, repo / "plans")
    git("init", "-q")
    git("add", ".")
    git("commit", "-qm", "versions")
    monkeypatch.chdir(repo)
    code, out, err = _cli(capsys, "diff", "HEAD:plans", str(changed), "--format", "json")
    assert code == cli.EXIT_OK, err
    doc = json.loads(out)
    assert [v["old"]["ref"] for v in doc["versions"]] == [f"HEAD:plans/{H1}", f"HEAD:plans/{H2}"]
    assert len(doc["changes"]) == 1
    code, _, err = _cli(capsys, "diff", "HEAD:nowhere", str(changed))
    assert code == cli.EXIT_USAGE and "there is no file 'nowhere' in revision 'HEAD'" in err
    (repo / "plans" / "other.plan").write_text((ROOT / "plans/sales_manager.plan").read_text())
    git("add", ".")
    git("commit", "-qm", "another plan")
    code, _, err = _cli(capsys, "diff", "HEAD:plans", str(changed))
    assert code == cli.EXIT_USAGE and "HEAD:plans holds 2 different plans" in err
