"""The registry of diagnostic codes: what each code means, why it matters for payouts, and a
bad plan fragment next to its fix.

It backs `incentive explain-code CODE` and docs/diagnostics.md, which is generated from it:

    python -m incentive_dsl.codes > docs/diagnostics.md

Tests keep the three in step: every code the package can emit has an entry here, every entry
is exercised by a golden file (tests/golden/syntax/, tests/golden/check/), and
docs/diagnostics.md equals render_markdown().
"""

from __future__ import annotations

import difflib
import textwrap

import attrs

FILE, SYNTAX, CHECK, VERSIONS = "file", "syntax", "check", "versions"

LAYER_TITLES = {
    FILE: "Reading files",
    SYNTAX: "Syntax",
    CHECK: "Checking a plan",
    VERSIONS: "Checking versions of a plan",
}


@attrs.frozen
class Code:
    """One diagnostic code. `bad` and `fixed` are short plan fragments (several lines)."""

    code: str
    title: str
    layer: str
    explanation: str
    bad: str
    fixed: str

    @property
    def severity(self) -> str:
        return "warning" if self.code.startswith("W-") else "error"


def _entry(code: str, title: str, layer: str, explanation: str, bad: str, fixed: str) -> Code:
    return Code(code, title, layer, " ".join(explanation.split()),
                textwrap.dedent(bad).strip("\n"), textwrap.dedent(fixed).strip("\n"))


_ENTRIES = [
    _entry("E-FILE", "the file cannot be read", FILE, """
        The path names no file, a directory, or a file too large or unreadable. Nothing in it
        is checked, so none of its rules would be paid.""", """
        $ incentive check plans/enterprise_ae_2027.plan   # the file was renamed
        """, """
        $ incentive check plans/enterprise_ae.plan
        """),
]

CODES: dict[str, Code] = {e.code: e for e in _ENTRIES}


def lookup(code: str) -> Code | None:
    """The entry for `code` (case and surrounding spaces do not matter), or None."""
    return CODES.get(code.strip().upper())


def suggest(code: str) -> str | None:
    """The closest known code, for a "did you mean" hint."""
    wanted = code.strip().upper()
    close = difflib.get_close_matches(wanted, list(CODES), n=1, cutoff=0.6)
    if not close:
        close = [c for c in CODES if wanted and (c.startswith(wanted) or wanted in c)][:1]
    return close[0] if close else None


def _indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line if line else line for line in text.split("\n"))


def explain(code: str) -> str | None:
    """The text `incentive explain-code CODE` prints, or None for an unknown code."""
    e = lookup(code)
    if e is None:
        return None
    wrapped = textwrap.fill(e.explanation, width=88)
    return (f"{e.code} ({e.severity}): {e.title}\n\n{wrapped}\n\n"
            f"For example, this is wrong:\n\n{_indent(e.bad)}\n\n"
            f"and this is right:\n\n{_indent(e.fixed)}\n")


def render_markdown() -> str:
    return "# Diagnostics\n"


if __name__ == "__main__":
    print(render_markdown(), end="")
