"""The keywords of the plan language, read from grammar/incentive.lark.

The Pygments lexer and the TextMate grammar list their keywords by hand, grouped by what
they mean (a block keyword, a word operator, a type); tests/test_editor_grammars.py checks
both lists against this set, so a keyword added to the grammar cannot go unhighlighted.
"""

from __future__ import annotations

import re
from functools import cache

from incentive_dsl.syntax.parser import grammar_text

_LITERAL = re.compile(r'"([^"\\]*)"')
_WORD = re.compile(r"[a-z][a-z-]*")


@cache
def grammar_keywords() -> frozenset[str]:
    """Every word the grammar spells out as a literal ("plan", "non-recoverable", ...)."""
    lines = (line for line in grammar_text().splitlines() if not line.lstrip().startswith("//"))
    return frozenset(w for line in lines for w in _LITERAL.findall(line) if _WORD.fullmatch(w))
