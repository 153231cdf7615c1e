"""Diagnostics: the one error type shared by every phase (syntax, checker, data loading).

Diagnostics are values, accumulated in lists and returned alongside results; exceptions are
reserved for bugs. `render` prints the human form used everywhere:

    plans/ae.plan:12:7: error[E-SYNTAX]: expected a percentage such as 8% after 'at'
       12 |     from 0% to 100% at 8
          |                        ^
       = hint: write the rate with a % sign, e.g. 8%
"""

from __future__ import annotations

import difflib
import enum
import functools
import json
import re
from collections.abc import Iterable, Mapping, Sequence

import attrs

from incentive_dsl.limits import BIDI_CONTROLS
from incentive_dsl.span import Span


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


@attrs.frozen
class Related:
    """A second place a diagnostic talks about ("the quota is in EUR here")."""

    span: Span
    message: str


@attrs.frozen
class Diagnostic:
    """One problem found in a plan or a data file."""

    code: str
    severity: Severity
    span: Span
    message: str
    hint: str | None = None
    related: tuple[Related, ...] = ()

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def sort_key(self) -> tuple:
        return (self.span.path, self.span.line, self.span.column, self.code, self.message)

    def to_json(self) -> dict:
        def place(span: Span) -> dict:
            return {
                "path": span.path,
                "line": span.line,
                "column": span.column,
                "end_line": span.end_line,
                "end_column": span.end_column,
            }

        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "hint": self.hint,
            **place(self.span),
            "related": [{"message": r.message, **place(r.span)} for r in self.related],
        }


def error(code: str, span: Span, message: str, hint: str | None = None,
          related: Sequence[Related] = ()) -> Diagnostic:
    return Diagnostic(code, Severity.ERROR, span, message, hint, tuple(related))


def warning(code: str, span: Span, message: str, hint: str | None = None,
            related: Sequence[Related] = ()) -> Diagnostic:
    return Diagnostic(code, Severity.WARNING, span, message, hint, tuple(related))


def closest(word: str, candidates: Iterable[str], ignore_case: bool = False) -> str | None:
    """The candidate `word` is most likely a misspelling of (or the other way round), or None:
    for the 'did you mean' hints of every phase. `ignore_case` compares the words in lower
    case (ids typed on a command line, often with capitals: `Abe.D` for `abe.d`)."""
    candidates = sorted(set(candidates))
    fold = str.lower if ignore_case else str
    folded = {fold(c): c for c in candidates}
    close = difflib.get_close_matches(fold(word), list(folded), n=1, cutoff=0.6)
    if close:
        return folded[close[0]]
    lowered = {c.lower(): c for c in candidates}
    if word.lower() in lowered:
        return lowered[word.lower()]
    # Short names (rule names such as p3) are below difflib's cutoff after one slip.
    return next((c for c in candidates if _one_letter_apart(fold(word), fold(c))), None)


_LOOK_ALIKE = str.maketrans("oil", "011")  # in lower case: O and 0, I and l and 1


def closest_id(word: str, candidates: Iterable[str]) -> str | None:
    """The id `word` is plausibly a mistyped form of, or None: for deal ids, which `closest`
    would match on a long shared prefix (D00000123 and D00000456 are two-thirds alike). The one
    id equal but for case, spaces and look-alike characters (O for 0, l or I for 1); else the
    one id nearest within one character replaced, added, dropped or two swapped, or two
    replaced. None when no id, or more than one, is that near: sequential
    ids are all a character apart, and a guess among them would send the user to another deal."""
    def norm(s: str) -> str:
        return "".join(s.split()).casefold()

    target = norm(word)
    alike = target.translate(_LOOK_ALIKE)
    by_distance: dict[int, set[str]] = {}
    for c in set(candidates):
        other = norm(c)
        if other.translate(_LOOK_ALIKE) == alike:
            distance = 0
        elif len(other) == len(target):
            diffs = [i for i, (x, y) in enumerate(zip(other, target)) if x != y]
            if len(diffs) > 2 or 2 * len(diffs) > len(target):  # most of a short id: no typo
                continue
            swapped = len(diffs) == 2 and diffs[1] == diffs[0] + 1 and \
                other[diffs[0]] == target[diffs[1]] and other[diffs[1]] == target[diffs[0]]
            distance = 1 if swapped else len(diffs)
        elif _one_letter_apart(other, target):
            distance = 1
        else:
            continue
        by_distance.setdefault(distance, set()).add(c)
    if not by_distance:
        return None
    nearest = by_distance[min(by_distance)]
    return next(iter(nearest)) if len(nearest) == 1 else None


def not_found(what: str, name: str, place: str, known) -> str:
    """"no payee 'x' in the roster", with the name meant when one is close (ignoring case:
    ids are often typed with capitals). A deal id is matched as D-ORPHAN matches it
    (`closest_id`): deal ids share long prefixes, and an id that shares one is another deal."""
    near = closest_id(name, known) if what == "deal" else \
        closest(name, known, ignore_case=True)
    return f"no {what} '{name}' in {place}" + (f"; did you mean '{near}'?" if near else "")


def payee_not_found(word: str, payees: Iterable, place: str = "the roster") -> str:
    """"no payee 'x' in the roster" for a payee given by id or display name (`payees`: the
    roster's rows): with the payees whose id or display name contains `word` (ignoring case,
    `Darcel` for Darcel Schlecht), else the one whose id or name is closest to it."""
    rows = {r.id: getattr(r, "name", None) for r in payees}

    def shown(i: str) -> str:
        return f"'{i}'" + (f" ({rows[i]})" if rows[i] and rows[i] != i else "")

    folded = word.casefold()
    found = sorted(i for i, name in rows.items()
                   if folded and (folded in i.casefold() or folded in (name or "").casefold()))
    if not found:
        names = {name: i for i, name in rows.items() if name}
        near = closest(word, [*rows, *names], ignore_case=True)
        found = [names.get(near, near)] if near else []
    head = f"no payee '{word}' in {place}"
    if len(found) == 1:
        return f"{head}; did you mean {shown(found[0])}?"
    if found:
        more = f" (and {len(found) - 5} more)" if len(found) > 5 else ""
        return f"{head}; did you mean one of {', '.join(shown(i) for i in found[:5])}{more}?"
    return head


def _one_letter_apart(a: str, b: str) -> bool:
    """Whether one letter replaced, added or dropped turns `a` into `b`."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b)) == 1
    short, long = sorted((a, b), key=len)
    return any(long[:i] + long[i + 1:] == short for i in range(len(long)))


@functools.lru_cache(maxsize=16)
def _lines(text: str) -> tuple[str, ...]:
    """The lines of a source, split once for all the diagnostics shown from it (a string's
    hash is computed once and kept, so finding them again costs nothing)."""
    # Spans count only \n as a line break, as here; a data file without any \n ends its lines
    # with a lone \r, and the loader counts those (data/tables.decode).
    return tuple(text.split("\n" if "\n" in text else "\r"))


_SHOWN = {ord(c): "\ufffd" for c in BIDI_CONTROLS}
_INNER_CR = re.compile(r"\r(?!$)")


def _excerpt(span: Span, sources: Mapping[str, str]) -> list[str]:
    text = sources.get(span.path)
    if not text or span.line < 1:
        return []
    lines = _lines(text)
    if span.line > len(lines):
        return []
    # A bidirectional control character would reorder the excerpt on screen: shown as U+FFFD;
    # a carriage return inside the line (a CRLF line's end aside) would send the rest of it
    # over its start: shown as U+240D
    source_line = _INNER_CR.sub("\u240d", lines[span.line - 1].expandtabs(1).translate(_SHOWN))
    width = len(str(span.line))
    end = span.end_column if span.end_line == span.line else len(source_line) + 1
    carets = "^" * max(1, end - span.column)
    gutter = " " * width
    return [
        f" {span.line} | {source_line}",
        f" {gutter} | {' ' * (span.column - 1)}{carets}",
    ]


def render(diagnostic: Diagnostic, sources: Mapping[str, str]) -> str:
    """The text form: location, code, message, source line with carets, related places, hint."""
    d = diagnostic
    out = [f"{d.span}: {d.severity.value}[{d.code}]: {d.message}"]
    out += _excerpt(d.span, sources)
    for rel in d.related:
        out.append(f"   = note: {rel.message} ({rel.span})")
        out += ["  " + line for line in _excerpt(rel.span, sources)]
    if d.hint:
        out.append(f"   = hint: {d.hint}")
    return "\n".join(out)


def render_all(diagnostics: Iterable[Diagnostic], sources: Mapping[str, str]) -> str:
    return "\n\n".join(render(d, sources) for d in diagnostics)


def to_json(diagnostics: Iterable[Diagnostic]) -> str:
    return json.dumps({"format_version": 1, "diagnostics": [d.to_json() for d in diagnostics]},
                      indent=2, sort_keys=True)
