"""The plan's git repository is untrusted: reading its revision runs none of the commands its
configuration names (core.fsmonitor, clean filters, hooks), audit/revisions.py and stamp.py."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from incentive_dsl import cli
from incentive_dsl.audit.stamp import git_revision

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")

PLAN = 'plan "T"\n  currency USD\n  effective 2027-01-01 to 2027-12-31\n'


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.email=t@t", "-c", "user.name=t", *args], cwd=repo,
                          check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def hostile(tmp_path):
    """A repository whose configuration runs a command that leaves a marker file: as the
    fsmonitor, as the clean filter of *.plan files, and as every hook."""
    repo = tmp_path / "repo"
    repo.mkdir()
    marker = tmp_path / "MARKER"
    script = tmp_path / "evil.sh"
    script.write_text(f"#!/bin/sh\ntouch {marker}\ncat\n", encoding="utf-8")
    script.chmod(0o755)
    _git(repo, "init", "-q")
    (repo / "p.plan").write_text(PLAN, encoding="utf-8")
    _git(repo, "add", "p.plan")
    _git(repo, "commit", "-qm", "plan")
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    for hook in ("post-checkout", "post-index-change", "reference-transaction"):
        (hooks / hook).symlink_to(script)
    _git(repo, "config", "core.fsmonitor", str(script))
    _git(repo, "config", "filter.evil.clean", str(script))
    _git(repo, "config", "core.hooksPath", str(hooks))
    (repo / ".git" / "info" / "attributes").write_text("*.plan filter=evil\n",
                                                       encoding="utf-8")
    assert not marker.exists()
    # The repository does run the command for git's own `diff` (what the stamp used to run).
    subprocess.run(["git", "diff", "--quiet", "HEAD", "--", "p.plan"], cwd=repo,
                   capture_output=True)
    assert marker.exists()
    marker.unlink()
    return repo, marker


def test_the_revision_is_read_without_running_repository_commands(hostile):
    repo, marker = hostile
    head = _git(repo, "rev-parse", "HEAD")
    assert git_revision(str(repo / "p.plan")) == head
    (repo / "p.plan").write_text(PLAN + "# edited\n", encoding="utf-8")
    assert git_revision(str(repo / "p.plan")) == head + "+modified"
    assert not marker.exists()


def test_run_and_diff_run_no_repository_commands(hostile, tmp_path, capsys, monkeypatch):
    repo, marker = hostile
    (tmp_path / "e.csv").write_text("event_id,deal_id,date,kind,amount,currency,owner\n"
                                    "E1,D1,2027-02-01,booked,100,USD,ana\n", encoding="utf-8")
    (tmp_path / "r.csv").write_text("payee_id,role,start\nana,AE,2027-01-01\n",
                                    encoding="utf-8")
    code = cli.main(["run", str(repo / "p.plan"), "--deals", str(tmp_path / "e.csv"),
                     "--roster", str(tmp_path / "r.csv"), "--format", "json"])
    out = capsys.readouterr().out
    assert code == 0 and json.loads(out)["stamp"]["plan_git_revision"].startswith(
        _git(repo, "rev-parse", "HEAD"))
    monkeypatch.chdir(repo)
    assert cli.main(["diff", "HEAD:p.plan", ":p.plan"]) == 0
    assert not marker.exists()
