"""Plan texts named by a path or by a git revision: `plans/ae.plan`, `origin/main:plans/ae.plan`.

A name that is an existing file is read from disk. Otherwise `REV:path` is read with
`git show REV:path` in the repository of the current directory, exactly as git reads it: the
path is relative to the repository's top directory (`REV:./path` for the current directory),
and an empty REV (`:path`) is the staged version. Problems come back as `E-FILE` diagnostics
that say whether the revision or the path is missing; nothing is raised.
"""

from __future__ import annotations

import os
import subprocess

from incentive_dsl.diagnostics import Diagnostic, error
from incentive_dsl.span import Span
from incentive_dsl.syntax.parser import MAX_FILE_BYTES, decode_source, read_source

GIT_TIMEOUT = 30  # seconds; a `git show` of one file is instant unless the repository is broken


def is_revision(ref: str) -> bool:
    """Whether `ref` names a file at a git revision (`REV:path`) rather than a file on disk."""
    if os.path.isfile(ref) or ":" not in ref:
        return False
    rev, _, path = ref.partition(":")
    # `C:\plans\ae.plan` is a Windows path, not revision `C`.
    return bool(path) and not (len(rev) == 1 and rev.isalpha() and path[:1] in ("\\", "/"))


def read_plan_text(ref: str) -> tuple[str | None, list[Diagnostic]]:
    """The text of the plan named by `ref` (a path, or `REV:path`), or None with diagnostics."""
    if not is_revision(ref):
        return read_source(ref)
    rev, _, path = ref.partition(":")
    at = Span.point(ref, 1, 1)
    if rev:
        found = _git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
        if isinstance(found, str):
            return None, [error("E-FILE", at, f"cannot read {ref}: {found}")]
        if found.returncode != 0:
            where = _git("rev-parse", "--show-toplevel")
            if isinstance(where, str) or where.returncode != 0:
                return None, [error("E-FILE", at, f"cannot read {ref}: the current directory "
                                    "is not inside a git repository",
                                    "run the command from the repository, or give a file path")]
            return None, [error("E-FILE", at, f"cannot read {ref}: there is no revision "
                                f"'{rev}' in the git repository",
                                "name a branch, tag or commit that exists here (in CI, fetch "
                                "it first, e.g. git fetch origin main)")]
    shown = _git("show", "--no-textconv", f"{rev}:{path}", binary=True)
    if isinstance(shown, str):
        return None, [error("E-FILE", at, f"cannot read {ref}: {shown}")]
    if shown.returncode != 0:
        what = f"revision '{rev}'" if rev else "the staging area (index)"
        return None, [error("E-FILE", at, f"cannot read {ref}: there is no file '{path}' in "
                            f"{what}",
                            "the path after ':' is relative to the repository's top directory; "
                            "write REV:./path for a path relative to the current directory")]
    if len(shown.stdout) > MAX_FILE_BYTES:
        return None, [error("E-FILE", at, f"{ref} is {len(shown.stdout):,} bytes; plan files are "
                            f"limited to {MAX_FILE_BYTES:,} bytes")]
    return decode_source(ref, shown.stdout)


def read_plan_texts(ref: str) -> tuple[list[tuple[str, str]] | None, list[Diagnostic]]:
    """The plan files named by `ref`, each as (its name, its text): one file, or every *.plan
    file under a directory at a git revision (`main:plans/operations`, the versions of one
    plan), by path; or None with diagnostics."""
    if not is_revision(ref):
        text, diags = read_source(ref)
        return (None if text is None else [(ref, text)]), diags
    rev, _, path = ref.partition(":")
    kind = _git("cat-file", "-t", f"{rev}:{path}") if rev else None
    if isinstance(kind, str) or kind is None or kind.stdout.strip() != "tree":
        text, diags = read_plan_text(ref)
        return (None if text is None else [(ref, text)]), diags
    listed = _git("ls-tree", "-r", "-z", "--name-only", f"{rev}:{path}")
    if isinstance(listed, str) or listed.returncode != 0:
        why = listed if isinstance(listed, str) else listed.stderr.strip()
        return None, [error("E-FILE", Span.point(ref, 1, 1), f"cannot read {ref}: {why}")]
    folder = path.rstrip("/")
    names = sorted(n for n in listed.stdout.split("\0") if n.endswith(".plan"))
    if not names:
        return None, [error("E-FILE", Span.point(ref, 1, 1),
                            f"{ref} holds no plan files (*.plan)",
                            "name a plan file, or a directory of its versions")]
    out, diags = [], []
    for name in names:
        file = f"{rev}:{folder}/{name}"
        text, found = read_plan_text(file)
        diags += found
        if text is not None:
            out.append((file, text))
    return (out if not any(d.is_error for d in diags) else None), diags


# The repository is as untrusted as the plan: its configuration can name commands git runs
# (core.fsmonitor on every index refresh, hooks, a signature program for log.showSignature,
# external diff drivers, text conversions, clean filters). Each git call here turns the first
# three off, and none uses a command that would run the others (`show --no-textconv`, no
# `git diff` of the work tree: see stamp.git_revision).
SAFE_CONFIG = ("-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null",
               "-c", "log.showSignature=false", "--no-pager")


def git(*args: str, cwd: str | None = None, binary: bool = False,
        timeout: float = GIT_TIMEOUT) -> subprocess.CompletedProcess | str:
    """Run git (in `cwd`, default the current directory) with the repository's command
    settings turned off; a string says why it could not run."""
    return git_all(args, cwd=cwd, binary=binary, timeout=timeout)[0]


def git_all(*commands: tuple[str, ...], cwd: str | None = None, binary: bool = False,
            timeout: float = GIT_TIMEOUT) -> list[subprocess.CompletedProcess | str]:
    """`git` of each of `commands` (argument tuples), all started at once: a few questions
    take about the time of one (a run's stamp asks three)."""
    env = dict(os.environ, GIT_TERMINAL_PROMPT="0", GIT_OPTIONAL_LOCKS="0")
    started: list[subprocess.Popen | str] = []
    for args in commands:
        try:
            started.append(subprocess.Popen(
                ["git", *SAFE_CONFIG, *args], cwd=cwd, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, text=not binary, env=env, stdin=subprocess.DEVNULL))
        except FileNotFoundError:
            started.append("git is not installed (or not on PATH)")
        except (OSError, subprocess.SubprocessError) as exc:
            started.append(f"git failed: {exc}")
    done: list[subprocess.CompletedProcess | str] = []
    for proc in started:
        if isinstance(proc, str):
            done.append(proc)
            continue
        try:  # (as `subprocess.run` waits: a process past its time is killed)
            out, err = proc.communicate(timeout=timeout)
        except subprocess.SubprocessError as exc:
            proc.kill()
            proc.communicate()
            done.append(f"git failed: {exc}")
            continue
        done.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return done


def _git(*args: str, binary: bool = False) -> subprocess.CompletedProcess | str:
    return git(*args, binary=binary)
