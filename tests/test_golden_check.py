"""Golden corpus of checking mistakes a sales-ops author really makes (tests/golden/check/).

Each NAME.plan is a small, realistic plan, valid except for one kind of mistake in names, units,
tiers, shares, periods, quotas, payout or examples. Each is checked on its own with
api.check_paths, the way `incentive check NAME.plan` would. A directory NAME/ is one case whose
files are checked together (versions of one plan): every *.plan file in it, or, if it holds a
paths.txt, exactly the paths listed there (one per line, relative to the directory, `#` starts
a comment), which is how a missing file is shown.

Two things are checked, as for the syntax corpus (tests/test_golden_syntax.py):

1. Inline expectations. A comment of the form

       ### E-TIER-GAP 20:10 gap between tiers

   means: a diagnostic with code E-TIER-GAP at line 20, column 10 of this file whose message
   contains "gap between tiers". The marker stands at the end of the offending line, or on a
   line of its own when it cannot. In a directory case a marker may name another file of the
   case before the position (`### E-FILE old.plan 1:1 no such file`); markers in paths.txt
   always do. The set of markers must equal the set of diagnostics.

   A marker `### MISSED CODE LINE:COL what should be said` records a mistake the checker does
   not report yet (a known gap, listed for the checker's owner). It asserts that no diagnostic
   with that code is reported there; once the checker reports it, the test fails and the
   marker should become an ordinary one.

2. The full rendered output, `render_all(diagnostics, sources)` with repo-relative paths, is
   kept in NAME.expected (followed by one newline). Refresh them all with:

       UPDATE_GOLDEN=1 python -m pytest tests/test_golden_check.py

   and review the diff before committing it.

This module also checks that every diagnostic code in the registry (incentive_dsl/codes.py) is
met by a marker of this corpus or of the syntax corpus, and that the shipped plans are clean.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from incentive_dsl import api, codes
from incentive_dsl.diagnostics import render_all
from incentive_dsl.syntax.parser import strip_comments

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden" / "check"
SYNTAX_GOLDEN = ROOT / "tests" / "golden" / "syntax"
PLANS = sorted((ROOT / "plans").rglob("*.plan"))
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
PATHS_FILE = "paths.txt"

# Codes found only while running plans on data: no plan file can show them to `check`.
RUN_TIME_LAYERS = (codes.DATA, codes.LEDGER)  # ledger: tests/test_ledger_hardening.py

MARK = "###"
MARKER_RE = re.compile(
    r"^(?P<missed>MISSED )?(?P<code>[EW]-[A-Z]+(?:-[A-Z]+)*) "
    r"(?:(?P<file>[\w.-]+\.plan) )?(?P<line>\d+):(?P<column>\d+) (?P<text>\S.*?)\s*$")

CASES = sorted([p for p in GOLDEN.glob("*.plan") if p.is_file()]
               + [p for p in GOLDEN.iterdir() if p.is_dir()])


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _name(case: Path) -> str:
    return case.stem if case.is_file() else case.name


def _text(path: Path) -> str:
    """A file's text for reading markers: undecodable bytes (an encoding case) replaced."""
    text = path.read_bytes().decode("utf-8-sig", errors="replace")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def case_paths(case: Path) -> list[Path]:
    """The paths the case checks, in the order given to check_paths."""
    if case.is_file():
        return [case]
    listing = case / PATHS_FILE
    if listing.exists():
        entries = (line.split("#", 1)[0].strip() for line in _text(listing).split("\n"))
        return [case / entry for entry in entries if entry]
    return sorted(case.glob("*.plan"))


def marker_files(case: Path) -> list[Path]:
    """The files of a case that may hold markers."""
    if case.is_file():
        return [case]
    return sorted(p for p in case.iterdir()
                  if p.is_file() and (p.suffix == ".plan" or p.name == PATHS_FILE))


class Marker(tuple):
    """(missed, code, path, line, column, text, where); `where` is file:line of the marker."""

    missed = property(lambda self: self[0])
    code = property(lambda self: self[1])
    path = property(lambda self: self[2])
    line = property(lambda self: self[3])
    column = property(lambda self: self[4])
    text = property(lambda self: self[5])
    where = property(lambda self: self[6])

    def __str__(self) -> str:
        missed = "MISSED " if self.missed else ""
        return f"{MARK} {missed}{self.code} {self.path}:{self.line}:{self.column} {self.text}"


def parse_markers(path: Path, text: str) -> list[Marker]:
    """Every marker written in `path` (whose text is `text`)."""
    markers = []
    for number, line in enumerate(text.split("\n"), start=1):
        at = line.find(MARK)
        if at < 0:
            continue
        inline = bool(line[:at].strip())
        for chunk in line[at:].split(MARK)[1:]:
            m = MARKER_RE.match(chunk.strip())
            where = f"{_rel(path)}:{number}"
            if m is None:
                raise AssertionError(f"{where}: malformed marker {MARK}{chunk!r}; write {MARK} "
                                     "[MISSED] CODE [FILE] LINE:COLUMN message substring")
            target = path.parent / m["file"] if m["file"] else path
            if path.name == PATHS_FILE and not m["file"]:
                raise AssertionError(f"{where}: a marker in {PATHS_FILE} must name its file")
            mline, mcol = int(m["line"]), int(m["column"])
            if inline and target == path and mline != number:
                raise AssertionError(f"{where}: an inline marker must name its own line, not "
                                     f"{mline}; put it on a line of its own instead")
            markers.append(Marker((bool(m["missed"]), m["code"], _rel(target), mline, mcol,
                                   m["text"], where)))
    return markers


def case_markers(case: Path) -> list[Marker]:
    return [m for f in marker_files(case) for m in parse_markers(f, _text(f))]


def match(markers, diagnostics) -> tuple[list, list, list]:
    """(unmet markers, unexpected diagnostics, MISSED markers that are now reported)."""
    left = list(diagnostics)
    unmet, now_reported = [], []
    for mk in markers:
        place = (mk.path, mk.code, mk.line, mk.column)
        found = [d for d in left
                 if (d.span.path, d.code, d.span.line, d.span.column) == place
                 and (mk.missed or mk.text in d.message)]
        if mk.missed:
            if found:
                now_reported.append(mk)
        elif found:
            left.remove(found[0])
        else:
            unmet.append(mk)
    return unmet, left, now_reported


def check_case(case: Path, monkeypatch) -> api.CheckResult:
    monkeypatch.chdir(ROOT)  # diagnostics then carry repo-relative paths, as in .expected
    return api.check_paths([_rel(p) for p in case_paths(case)])


def test_corpus_is_complete():
    assert len(CASES) >= 65
    names = {_name(c) for c in CASES}
    assert len(names) == len(CASES), "a file case and a directory case share a name"
    expected = {p.stem for p in GOLDEN.glob("*.expected")}
    if UPDATE:  # drop outputs of removed cases; the cases below write the missing ones
        for stem in expected - names:
            (GOLDEN / f"{stem}.expected").unlink()
        return
    assert expected == names, "every case (NAME.plan or NAME/) needs a NAME.expected and back"


@pytest.mark.parametrize("case", CASES, ids=_name)
def test_golden_check(case: Path, monkeypatch):
    # A marker swallowed by a quoted text is code, not a comment: it would change the input
    # and never be checked.
    for f in marker_files(case):
        if f.suffix != ".plan":
            continue
        code_lines, _ = strip_comments(_rel(f), _text(f))
        for number, code in enumerate(code_lines, start=1):
            assert MARK not in code, (f"{_rel(f)}:{number}: this marker is inside a quoted "
                                      "text; put it on a line of its own")

    result = check_case(case, monkeypatch)
    paths = {_rel(p) for p in case_paths(case)}
    assert all(d.span.path in paths for d in result.diagnostics)

    rendered = render_all(result.diagnostics, result.sources) + "\n"
    golden = GOLDEN / f"{_name(case)}.expected"
    if UPDATE:
        golden.write_text(rendered, encoding="utf-8", newline="\n")

    markers = case_markers(case)
    assert markers, f"{_rel(case)} has no {MARK} markers: every corpus case shows a mistake"
    unmet, unexpected, now_reported = match(markers, result.diagnostics)
    problems = [f"  marker at {mk.where} not met: {mk}" for mk in unmet]
    problems += [f"  unexpected diagnostic: {MARK} {d.code} {d.span.path}:{d.span.line}:"
                 f"{d.span.column} {d.message}" for d in unexpected]
    problems += [f"  the checker now reports what {mk.where} marks as MISSED: make it an "
                 f"ordinary marker: {mk}" for mk in now_reported]
    assert not problems, f"{_rel(case)}:\n" + "\n".join(problems) + "\n\nrendered:\n" + rendered

    # Checked after the markers: editing a marker also changes the source line shown here.
    assert golden.exists(), f"{_rel(golden)} is missing; run with UPDATE_GOLDEN=1 to create it"
    assert rendered == golden.read_text(encoding="utf-8"), (
        f"rendered diagnostics differ from {_rel(golden)}; if the change is intended, "
        "refresh with UPDATE_GOLDEN=1 and review the diff")


def test_markers_can_fail(monkeypatch):
    """The matcher itself: a wrong place, code or text, or a reported MISSED, is caught."""
    case = GOLDEN / "tier_gap.plan"
    diagnostics = check_case(case, monkeypatch).diagnostics
    (marker,) = case_markers(case)
    assert match([marker], diagnostics) == ([], [], [])
    missed, code, path, line, column, text, where = marker
    wrongs = [(missed, code, path, line, column + 1, text, where),
              (missed, "E-TIER-OVERLAP", path, line, column, text, where),
              (missed, code, path, line, column, text + " nowhere", where),
              (missed, code, "tests/golden/check/tier_overlap.plan", line, column, text, where)]
    for wrong in map(Marker, wrongs):
        assert match([wrong], diagnostics) == ([wrong], list(diagnostics), [])
    reported = Marker((True, code, path, line, column, "anything", where))
    assert match([reported], diagnostics) == ([], list(diagnostics), [reported])
    assert match([], diagnostics) == ([], list(diagnostics), [])


def test_every_registered_code_has_a_golden_case():
    """A new diagnostic code fails CI until a golden file shows it (syntax or check corpus).
    Only codes found while running plans on data are exempt: `check` never reports them."""
    hit = {m.code for case in CASES for m in case_markers(case) if not m.missed}
    for path in sorted(SYNTAX_GOLDEN.glob("*.plan")):
        hit |= {m.code for m in parse_markers(path, _text(path)) if not m.missed}
    wanted = {c for c, e in codes.CODES.items() if e.layer not in RUN_TIME_LAYERS}
    missing = sorted(wanted - hit)
    assert not missing, f"no golden file shows {', '.join(missing)}: add a case"


@pytest.mark.parametrize("plan", PLANS, ids=lambda p: p.name)
def test_shipped_plan_has_no_errors(plan: Path, monkeypatch):
    """No errors and no warnings: the library shows plans written as the checker asks."""
    monkeypatch.chdir(ROOT)
    result = api.check_paths([_rel(plan)])
    assert not result.diagnostics, render_all(result.diagnostics, result.sources)
    assert [p.path for p in result.plans] == [_rel(plan)]


def test_shipped_plans_have_no_errors_together(monkeypatch):
    """Checked together too, so the checks across files (plan versions) run on them."""
    monkeypatch.chdir(ROOT)
    result = api.check_paths(["plans"])
    assert result.ok, render_all(result.diagnostics, result.sources)
    assert len(result.plans) == len(PLANS) >= 3
