"""The public Python surface of incentive-dsl. The command line is a thin layer over it.

    from incentive_dsl import api
    result = api.check_paths(["plans/"])
    for d in result.diagnostics:
        print(api.render(d, result.sources))

Every function returns values (trees, diagnostics, results); none prints or exits.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import attrs

from incentive_dsl.check import Plan, check_trees
from incentive_dsl.diagnostics import Diagnostic, render, render_all
from incentive_dsl.syntax import format_file, parse_path, parse_text
from incentive_dsl.syntax.nodes import PlanFile

__all__ = [
    "CheckResult", "FormatResult", "check_paths", "discover", "format_path", "format_text",
    "parse_path", "parse_text", "render", "render_all",
]

PLAN_SUFFIX = ".plan"


def discover(paths: Iterable[str]) -> list[str]:
    """Plan files named by `paths`: files as given, directories searched for *.plan files."""
    found: list[str] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found.extend(str(f) for f in sorted(p.rglob(f"*{PLAN_SUFFIX}")) if f.is_file())
        else:
            found.append(raw)
    return list(dict.fromkeys(found))


@attrs.frozen
class CheckResult:
    """Trees of the files that parsed, every diagnostic of every file, and the sources
    (for rendering excerpts)."""

    files: tuple[PlanFile, ...]
    plans: tuple[Plan, ...]
    diagnostics: tuple[Diagnostic, ...]
    sources: dict[str, str]

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)


def check_paths(paths: Iterable[str]) -> CheckResult:
    """Parse and check every plan file named by `paths`, reporting all problems at once.
    Files with syntax errors are not type-checked (their trees are incomplete)."""
    files, diags, sources, clean = [], [], {}, []
    for path in discover(paths):
        result = parse_path(path)
        sources[path] = result.source
        diags.extend(result.diagnostics)
        files.append(result.tree)
        if not any(d.is_error for d in result.diagnostics):
            clean.append((result.tree, result.source))
    plans, found = check_trees(clean)
    diags.extend(found)
    diags.sort(key=Diagnostic.sort_key)
    return CheckResult(tuple(files), tuple(plans), tuple(diags), sources)


@attrs.frozen
class FormatResult:
    path: str
    original: str
    formatted: str | None  # None when the file has syntax errors and cannot be formatted
    diagnostics: tuple[Diagnostic, ...]

    @property
    def changed(self) -> bool:
        return self.formatted is not None and self.formatted != self.original


class FormatterBug(Exception):
    """The formatter produced text that does not parse back to the same tree (a bug)."""


def format_text(path: str, text: str) -> FormatResult:
    parsed = parse_text(path, text)
    if any(d.is_error for d in parsed.diagnostics):
        return FormatResult(path, text, None, parsed.diagnostics)
    formatted = format_file(parsed.tree)
    # Guard: formatting must never change meaning; refuse to write rather than lose anything.
    again = parse_text(path, formatted)
    if again.diagnostics or again.tree != parsed.tree:
        raise FormatterBug(f"formatting {path} would change its meaning")
    return FormatResult(path, text, formatted, ())


def format_path(path: str) -> FormatResult:
    parsed = parse_path(path)
    if any(d.is_error for d in parsed.diagnostics):
        return FormatResult(path, parsed.source, None, parsed.diagnostics)
    return format_text(path, parsed.source)
