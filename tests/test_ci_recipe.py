"""The GitHub Actions recipe of docs/ci.md, run as written: its "Plan review" step's shell script
is taken from the page and run with bash in a real repository (a pull-request branch against an
`origin/main`), with `incentive` on PATH. What the next step posts is what it finds in
reviews/: one file per changed plan, each with the marker that lets the comment be updated.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.test_diff import EVENTS, PLAN, ROSTER, edit, git

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")


def review_step(doc: str) -> str:
    """The `run: |` script of the workflow's "Plan review" step."""
    lines = doc.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.strip() == "- name: Plan review")
    run = next(i for i in range(start, len(lines)) if lines[i].strip() == "run: |")
    indent = len(lines[run + 1]) - len(lines[run + 1].lstrip())
    body = []
    for ln in lines[run + 1:]:
        if ln.strip() and len(ln) - len(ln.lstrip()) < indent:
            break
        body.append(ln)
    return textwrap.dedent("\n".join(body))


def run_step(repo: Path, script: str) -> subprocess.CompletedProcess:
    bin_dir = repo.parent / "bin"
    bin_dir.mkdir()
    tool = bin_dir / "incentive"
    tool.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m incentive_dsl.cli "$@"\n')
    tool.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
           "PYTHONPATH": str(ROOT), "BASE_REF": "main"}
    # GitHub runs `run:` scripts with `bash -e {0}` and -o pipefail
    return subprocess.run(["bash", "-eo", "pipefail", "-c", script], cwd=repo, env=env,
                          capture_output=True, text=True)


def test_the_review_step_marks_every_changed_plan(tmp_path):
    repo = tmp_path / "plans-repo"
    (repo / "plans" / "data").mkdir(parents=True)
    git(repo, "init", "-q")
    (repo / "plans" / "data" / "events.csv").write_text(EVENTS)
    (repo / "plans" / "data" / "roster.csv").write_text(ROSTER)
    for name in ("edited", "renamed"):
        (repo / "plans" / f"{name}.plan").write_text(PLAN)
    # unlike the other plans, or git would take its deletion for a rename
    (repo / "plans" / "deleted.plan").write_text('plan "An old plan"\n  currency EUR\n')
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "base")
    git(repo, "update-ref", "refs/remotes/origin/main", "HEAD")
    raised = edit(PLAN, "from 100% at 15%", "from 100% at 18%")
    (repo / "plans" / "edited.plan").write_text(raised)
    git(repo, "mv", "plans/renamed.plan", "plans/moved.plan")
    (repo / "plans" / "moved.plan").write_text(raised)
    git(repo, "rm", "-q", "plans/deleted.plan")
    (repo / "plans" / "added.plan").write_text('plan "A new plan"\n  currency USD\n')
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "the pull request")

    done = run_step(repo, review_step((ROOT / "docs" / "ci.md").read_text()))
    assert done.returncode == 0, done.stderr
    reviews = {p.name: p.read_text() for p in (repo / "reviews").iterdir()}
    assert sorted(reviews) == ["plans_added.plan.md", "plans_deleted.plan.md",
                               "plans_edited.plan.md", "plans_moved.plan.md"]
    for name, body in reviews.items():
        plan = "plans/" + name.removeprefix("plans_").removesuffix(".md")
        assert f"<!-- incentive-diff {plan} -->" in body, name  # the comment is updated in place
    assert "rate 15% → 18%" in reviews["plans_edited.plan.md"]
    # the renamed plan is compared with its old path
    assert "renamed.plan` → `plans/moved.plan`" in reviews["plans_moved.plan.md"]
    assert "rate 15% → 18%" in reviews["plans_moved.plan.md"]
    assert "new plan file" in reviews["plans_added.plan.md"]
    assert "deleted" in reviews["plans_deleted.plan.md"]
