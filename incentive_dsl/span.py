"""Source positions: every syntax node and every diagnostic points at a `Span`.

Lines and columns are 1-based; `end_column` is exclusive, so a span of one character has
`end_column == column + 1`. Spans never take part in node equality (see syntax/nodes.py), so a tree
parsed from reformatted text compares equal to the original.
"""

from __future__ import annotations

import attrs


@attrs.frozen(order=True)
class Span:
    """A range of characters in one source file."""

    path: str
    line: int
    column: int
    end_line: int
    end_column: int

    @classmethod
    def point(cls, path: str, line: int, column: int) -> Span:
        return cls(path, line, column, line, column + 1)

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


NO_SPAN = Span("<generated>", 0, 0, 0, 0)
