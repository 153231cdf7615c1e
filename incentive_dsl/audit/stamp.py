"""Run stamps: what a run read and which tool produced it, so a result can be reproduced.

A stamp holds the plan's content hash, the plan's git revision when the file is in a git
repository (asked of git by the tool, never by the plan), a hash of the input records and the
tool version. It holds no wall-clock time: the same inputs give byte-identical outputs.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import attrs

from incentive_dsl import __version__


@attrs.frozen
class RunStamp:
    plan: str
    plan_path: str
    plan_version: str | None
    plan_hash: str
    plan_git_revision: str | None
    data_hash: str
    data_files: tuple[str, ...]
    tool_version: str
    start: str
    end: str

    def to_json(self) -> dict:
        return attrs.asdict(self)


def git_revision(path: str) -> str | None:
    """The last commit that touched `path`, with '+modified' if the file differs from it."""
    p = Path(path).resolve()
    try:
        rev = subprocess.run(["git", "log", "-1", "--format=%H", "--", p.name], cwd=p.parent,
                             capture_output=True, text=True, timeout=10, check=False)
        if rev.returncode != 0 or not rev.stdout.strip():
            return None
        dirty = subprocess.run(["git", "diff", "--quiet", "HEAD", "--", p.name], cwd=p.parent,
                               capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return rev.stdout.strip() + ("+modified" if dirty.returncode == 1 else "")


def make_stamp(plan, dataset, start, end) -> RunStamp:
    return RunStamp(plan=plan.name, plan_path=plan.path, plan_version=plan.version,
                    plan_hash=plan.source_hash, plan_git_revision=git_revision(plan.path),
                    data_hash=dataset.data_hash(), data_files=dataset.sources,
                    tool_version=__version__, start=str(start), end=str(end))
