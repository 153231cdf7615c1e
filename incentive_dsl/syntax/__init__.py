"""The syntax layer: plan text -> syntax tree of frozen nodes with spans and comments, and back.

Lark is used only inside this package; nothing it returns carries a Lark object.
"""

from incentive_dsl.syntax.format import format_file
from incentive_dsl.syntax.parser import ParseResult, parse_path, parse_text

__all__ = ["ParseResult", "format_file", "parse_path", "parse_text"]
