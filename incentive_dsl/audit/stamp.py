"""Run stamps: what a run read and which tool produced it, so a result can be reproduced.

A stamp holds the plan's content hash, the plan's git revision when the file is in a git
repository (asked of git by the tool, never by the plan), a hash of the input records and the
tool version. It holds no wall-clock time: the same inputs give byte-identical outputs.
"""

from __future__ import annotations

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
    """The last commit that touched `path`, with '+modified' if the file differs from it.

    The plan's repository is untrusted: git runs with its configured commands off
    (revisions.SAFE_CONFIG), and the file is compared with HEAD by blob id (`hash-object
    --no-filters` against `rev-parse HEAD:file`) instead of `git diff`, which would refresh the
    index (core.fsmonitor) and run clean filters. A file stored through a filter or line-end
    conversion therefore reads as modified."""
    from incentive_dsl.audit.revisions import git_all

    try:
        p = Path(path).resolve()
    except (OSError, RuntimeError):
        return None
    where = str(p.parent)
    rev, stored, current = git_all(("log", "-1", "--format=%H", "--", p.name),
                                   ("rev-parse", "--verify", "--quiet", f"HEAD:./{p.name}"),
                                   ("hash-object", "--no-filters", "--", p.name),
                                   cwd=where, timeout=10)
    if isinstance(rev, str) or rev.returncode != 0 or not rev.stdout.strip():
        return None
    same = not isinstance(stored, str) and not isinstance(current, str) and \
        stored.returncode == 0 and current.returncode == 0 and \
        stored.stdout.strip() == current.stdout.strip()
    return rev.stdout.strip() + ("" if same else "+modified")


def make_stamp(plan, dataset, start, end) -> RunStamp:
    return RunStamp(plan=plan.name, plan_path=plan.path, plan_version=plan.version,
                    plan_hash=plan.source_hash, plan_git_revision=git_revision(plan.path),
                    data_hash=dataset.data_hash(), data_files=dataset.sources,
                    tool_version=__version__, start=str(start), end=str(end))
