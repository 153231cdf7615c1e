"""Golden corpus of syntax mistakes a sales-ops author really makes (tests/golden/syntax/).

Each NAME.plan is a small, realistic plan fragment with one kind of mistake (some files repeat it
in two or three blocks, to show that every block's error is reported). Two things are checked:

1. Inline expectations, starlark-go style. A comment of the form

       ### E-SYNTAX 4:24 expected a percentage

   means: a diagnostic with code E-SYNTAX at line 4, column 24 whose message contains
   "expected a percentage". The marker stands at the end of the offending line; where it cannot
   (the `#` would be inside an unterminated "text", or the error is reported on another line) it
   stands on a line of its own starting with `###`. Several markers may share a line. The set of
   markers must equal the set of diagnostics: every diagnostic is expected, every marker is met.
   Markers are ordinary comments, which the parser removes before parsing.

2. The full rendered output, `render_all(diagnostics, {path: text})` with the repo-relative path
   tests/golden/syntax/NAME.plan, is kept in NAME.expected (followed by one newline so the file
   ends like a text file). Refresh them all with:

       UPDATE_GOLDEN=1 python -m pytest tests/test_golden_syntax.py

   and review the diff before committing it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from incentive_dsl.diagnostics import render_all
from incentive_dsl.syntax.parser import decode_source, parse_text, strip_comments

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden" / "syntax"
CASES = sorted(GOLDEN.glob("*.plan"))
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"

MARK = "###"
MARKER_RE = re.compile(r"^(?P<code>E-[A-Z]+) (?P<line>\d+):(?P<column>\d+) (?P<text>\S.*?)\s*$")


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _source(path: Path) -> str:
    """The file's text exactly as the command line would see it (BOM and CRLF handled)."""
    text, diags = decode_source(_rel(path), path.read_bytes())
    assert text is not None, diags
    return text


def parse_markers(text: str) -> list[tuple[str, int, int, str, int]]:
    """(code, line, column, substring, line the marker stands on) for every marker in `text`."""
    markers = []
    for number, line in enumerate(text.split("\n"), start=1):
        at = line.find(MARK)
        if at < 0:
            continue
        inline = bool(line[:at].strip())
        for chunk in line[at:].split(MARK)[1:]:
            m = MARKER_RE.match(chunk.strip())
            if m is None:
                raise AssertionError(f"line {number}: malformed marker {MARK}{chunk!r}; "
                                     f"write {MARK} CODE LINE:COLUMN message substring")
            mline, mcol = int(m["line"]), int(m["column"])
            if inline and mline != number:
                raise AssertionError(f"line {number}: an inline marker must name its own line, "
                                     f"not {mline}; put it on a line of its own instead")
            markers.append((m["code"], mline, mcol, m["text"], number))
    return markers


def match(markers, diagnostics) -> tuple[list, list]:
    """Pair markers with diagnostics; returns (unmatched markers, unmatched diagnostics)."""
    left = list(diagnostics)
    missing = []
    for code, line, column, text, at in markers:
        for d in left:
            if (d.code, d.span.line, d.span.column) == (code, line, column) and text in d.message:
                left.remove(d)
                break
        else:
            missing.append((code, line, column, text, at))
    return missing, left


def test_corpus_is_complete():
    assert len(CASES) >= 35
    expected = {p.stem for p in GOLDEN.glob("*.expected")}
    if UPDATE:  # drop outputs of removed cases; the cases below write the missing ones
        for stem in expected - {p.stem for p in CASES}:
            (GOLDEN / f"{stem}.expected").unlink()
        return
    assert expected == {p.stem for p in CASES}, "every NAME.plan needs a NAME.expected and back"


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_golden_syntax(path: Path):
    rel = _rel(path)
    text = _source(path)

    # A marker swallowed by an unterminated "text is code, not a comment: it would change the
    # input and silently never be checked.
    code_lines, _ = strip_comments(rel, text)
    for number, code in enumerate(code_lines, start=1):
        assert MARK not in code, (f"{rel}:{number}: this marker is inside a quoted text; "
                                  "put it on a line of its own")

    diagnostics = parse_text(rel, text).diagnostics
    assert all(d.span.path == rel for d in diagnostics)

    rendered = render_all(diagnostics, {rel: text}) + "\n"
    golden = path.with_suffix(".expected")
    if UPDATE:
        golden.write_text(rendered, encoding="utf-8", newline="\n")

    markers = parse_markers(text)
    assert markers, f"{rel} has no {MARK} markers: every corpus file shows a mistake"
    missing, unexpected = match(markers, diagnostics)
    problems = [f"  marker on line {at} not met: {MARK} {code} {line}:{col} {sub}"
                for code, line, col, sub, at in missing]
    problems += [f"  unexpected diagnostic: {MARK} {d.code} {d.span.line}:{d.span.column} "
                 f"{d.message}" for d in unexpected]
    assert not problems, f"{rel}:\n" + "\n".join(problems) + "\n\nrendered:\n" + rendered

    # Checked after the markers: editing a marker also changes the source line shown here.
    assert golden.exists(), f"{_rel(golden)} is missing; run with UPDATE_GOLDEN=1 to create it"
    assert rendered == golden.read_text(encoding="utf-8"), (
        f"rendered diagnostics differ from {_rel(golden)}; if the change is intended, "
        "refresh with UPDATE_GOLDEN=1 and review the diff")


def test_markers_can_fail():
    """The matcher itself: a wrong column, code or text, or a missing marker, is reported."""
    path = GOLDEN / "percent_without_sign.plan"
    text = _source(path)
    diagnostics = parse_text(_rel(path), text).diagnostics
    (marker,) = parse_markers(text)
    assert match([marker], diagnostics) == ([], [])
    code, line, column, sub, at = marker
    for wrong in [(code, line, column + 1, sub, at), ("E-BLOCK", line, column, sub, at),
                  (code, line, column, sub + " nowhere", at)]:
        missing, unexpected = match([wrong], diagnostics)
        assert missing == [wrong] and list(unexpected) == list(diagnostics)
    assert match([], diagnostics) == ([], list(diagnostics))
