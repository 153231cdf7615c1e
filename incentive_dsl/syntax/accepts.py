"""What the grammar accepts next after the start of a block: for the editor's completion,
which must not see the parser or its tokens (Lark objects stay in the syntax layer).

The text is fed to the grammar's LALR parser with its indentation post-lexer, stopped where the
text runs out: the dedents the post-lexer adds there would close the blocks the cursor is
still inside.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import NamedTuple

from lark.exceptions import LarkError

from incentive_dsl.syntax.messages import GluedWord
from incentive_dsl.syntax.parser import _Indenter, grammar_text
from incentive_dsl.syntax.table import load_parser


class Token(NamedTuple):
    type: str  # the grammar's terminal name: NAME, _NL, a keyword's terminal
    value: str


class _Watched(_Indenter):
    """The indentation post-lexer, saying when the text has run out."""

    def process(self, stream: Iterator) -> Iterator:
        self.exhausted = False

        def watch() -> Iterator:
            yield from stream
            self.exhausted = True
        return super().process(watch())


@cache
def _parser():
    # A parser of its own (not the one files are parsed with): its post-lexer keeps state.
    indenter = _Watched()
    return load_parser(grammar_text(), postlex=indenter), indenter


@cache
def keywords() -> dict[str, str]:
    """The grammar's literal terminals: terminal name -> the text it matches."""
    lark, _ = _parser()
    return {t.name: t.pattern.value for t in lark.terminals if t.pattern.type == "str"}


def accepted(text: str) -> tuple[list[Token], frozenset[str]] | None:
    """The tokens of `text` and the terminals the parser accepts after them, or None when
    `text` is not the start of a block."""
    lark, indenter = _parser()
    indenter.text = text
    tokens = []
    try:
        ip = lark.parse_interactive(text, start="block")
        for token in ip.iter_parse():
            if indenter.exhausted:
                break
            tokens.append(Token(token.type, str(token)))
        return tokens, frozenset(ip.accepts())
    except (LarkError, GluedWord):
        return None
