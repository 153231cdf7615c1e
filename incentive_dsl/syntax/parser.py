"""Text -> syntax tree. Reads plan files safely, takes comments out, parses block by block.

Guarantees:
- `parse_text` and `parse_path` never raise on bad input: every problem (missing file, a
  directory, binary or non-UTF-8 content, syntax errors, excessive nesting) is a Diagnostic.
- All syntax errors of a file are reported, at least one per top-level block: each block is
  parsed on its own, so an error in one block cannot hide the next.
- The returned tree holds only nodes from nodes.py, never a Lark object.
"""

from __future__ import annotations

import difflib
import threading
from collections.abc import Iterator
from functools import cache
from importlib import resources
from pathlib import Path

import attrs
from lark import Lark, Token
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from lark.indenter import DedentError, Indenter

from incentive_dsl.diagnostics import Diagnostic, error
from incentive_dsl.syntax import nodes as n
from incentive_dsl.syntax.build import Builder, CommentTable
from incentive_dsl.span import Span

MAX_DEPTH = 100  # deepest expression accepted; deeper input is refused, never recursed into
MAX_SYNTAX_ERRORS = 50  # per file; the rest are counted in one closing diagnostic
MAX_FILE_BYTES = 50 * 1024 * 1024

BLOCK_KEYWORDS = (
    "plan", "fields", "quota", "credit", "measure", "commission", "bonus", "spiff", "stage",
    "activity", "pool", "override", "clawback", "payout", "example",
)

# An example of each kind of line, shown as the hint when that line does not parse.
LINE_EXAMPLES = {
    "plan": 'plan "Enterprise AE 2027"',
    "currency": "currency USD",
    "effective": "effective 2027-01-01 to 2027-12-31",
    "version": 'version "2027.2"',
    "roles": "roles AE, SE, SDR, MGR",
    "applies": "applies to role AE, SE",
    "fiscal": "fiscal year starts in february",
    "rounding": "rounding half even per line",
    "convert": "convert currencies at rate on event date",
    "stages": 'stages "discovery", "demo", "proposal"',
    "channels": 'channels "email", "web", "partner", "rep"',
    "activities": 'activities "meeting", "qualified_demo"',
    "fields": "fields   (then indented lines such as: deal.segment one of \"smb\", \"ent\")",
    "quota": 'quota bookings "Bookings quota"',
    "forecast": "forecast 110% of trailing average of bookings over 4 quarters",
    "prorate": "prorate by active days",
    "ramp": "ramp month 1 at 25%, month 2 at 50%, month 3 at 75%",
    "normalize": "normalize by territory index",
    "credit": 'credit bookings "New-business bookings"',
    "on": 'on deal booked where deal.type is "new_business"',
    "value": "value deal.annual_value",
    "split": "split as recorded  /  split evenly  /  split by role AE 70%, SE 30%",
    "overlay": "overlay role SE at 100%",
    "roll": "roll up to managers",
    "attribute": "attribute by position 40% first, 20% middle, 40% last",
    "digital": "digital touches credit owner at 50%",
    "measure": "measure attainment = bookings / quota bookings",
    "commission": 'commission core "Core commission"',
    "rate": "rate 8%",
    "marginal": "marginal rates by attainment per quarter",
    "retroactive": "retroactive rates by attainment per quarter",
    "rates": "marginal rates by attainment per quarter",
    "from": "from 100% to 150% at 12%",
    "each": "each bound belongs to the tier above",
    "accelerate": "accelerate 1.5x by attainment per quarter above 100%",
    "decelerate": "decelerate 0.5x by attainment per quarter below 50%",
    "cap": "cap 150,000 USD per year",
    "floor": "floor 1,000 USD per month",
    "when": "when attainment reaches 80%",
    "for": "for role AE, SE",
    "during": "during 2027-04-01 to 2027-06-30",
    "bonus": 'bonus club "Club kicker"',
    "step": "step on attainment per year   (then indented rows: at 120% pay 10,000 USD)",
    "linear": "linear on attainment per quarter   (then: from 80% pay 0 USD / to 120% pay 6,000 USD)",
    "at": "at 120% pay 10,000 USD",
    "to": "to 120% pay 6,000 USD",
    "spiff": 'spiff p3 "P3 launch"',
    "pay": "pay 500 USD",
    "stage": 'stage reward presale "Pre-sale milestones"',
    "net": "net against core when deal booked",
    "activity": 'activity reward demos "Qualified demos"',
    "pool": 'pool team_pool "Team pool"',
    "fund": "fund 2% of team bookings per quarter",
    "share": "share equally  /  share by bookings",
    "override": 'override mgr "Manager override"',
    "clawback": 'clawback churn "Early churn"',
    "reverse": "reverse core, p3 at original amounts",
    "payout": "payout   (then indented lines such as: paid monthly)",
    "paid": "paid monthly",
    "hold": "hold back 10% until year end",
    "draw": "draw 2,000 USD per month recoverable from excess for the first 3 months of employment",
    "example": 'example "Crossing into the accelerator"',
    "payee": "payee ana role AE from 2027-01-01 manager mia",
    "deal": 'deal D1 booked 2027-02-10 by ana amount 300,000 USD type "new_business"',
    "fx": "fx 1 EUR is 1.08 USD from 2027-01-01",
    "territory": 'territory "east" index 110%',
    "expect": "expect core for ana in 2027-Q1 is 26,000 USD",
}

TERMINAL_WORDS = {
    "NAME": "a name",
    "STRING": 'a quoted text such as "proposal"',
    "NUMBER": "a number",
    "PERCENT": "a percentage such as 8%",
    "MULTIPLIER": "a multiplier such as 1.5x",
    "DATE": "a date such as 2027-03-31",
    "PERIOD": "a period such as 2027-Q1 or 2027-03",
    "CURRENCY": "a currency code such as USD",
    "MONTH": "a month name such as february",
    "COMPARE": "a comparison such as >=",
    "_NL": "the end of the line",
    "_INDENT": "indented lines below this one",
    "_DEDENT": "the end of the block",
    "$END": "the end of the block",
}


@attrs.frozen
class ParseResult:
    tree: n.PlanFile
    diagnostics: tuple[Diagnostic, ...]
    source: str


class _Indenter(Indenter):
    """Lark's indentation post-lexer, remembering the last tokens for error messages."""

    NL_type = "_NL"
    OPEN_PAREN_types: list[str] = []
    CLOSE_PAREN_types: list[str] = []
    INDENT_type = "_INDENT"
    DEDENT_type = "_DEDENT"
    tab_len = 8

    def __init__(self) -> None:
        super().__init__()
        self.history: list[Token] = []

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        self.history = []
        for tok in super().process(stream):
            if tok.type not in ("_INDENT", "_DEDENT"):
                self.history = [*self.history[-1:], tok]
            yield tok


class _Grammar:
    """The compiled parser, built once per process. Lark's inline transformer keeps per-parse
    state, so parses are serialised by a lock."""

    def __init__(self) -> None:
        self.builder = Builder()
        self.indenter = _Indenter()
        self.lark = Lark(
            grammar_text(), parser="lalr", lexer="contextual", postlex=self.indenter,
            start="block", keep_all_tokens=True, maybe_placeholders=True,
            transformer=self.builder,
        )
        self.lock = threading.Lock()
        self.keyword_text = {t.name: t.pattern.value for t in self.lark.terminals
                             if t.pattern.type == "str"}


def grammar_text() -> str:
    """The grammar shipped inside the package, or the repository's grammar/ in a checkout."""
    packaged = resources.files("incentive_dsl").joinpath("grammar/incentive.lark")
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    return (Path(__file__).resolve().parents[2] / "grammar" / "incentive.lark").read_text("utf-8")


@cache
def _grammar() -> _Grammar:
    return _Grammar()


# ------------------------------------------------------------------------------ reading files


def read_source(path: str) -> tuple[str | None, list[Diagnostic]]:
    """The text of a plan file, or diagnostics saying why it cannot be read as one."""
    p = Path(path)
    at = Span.point(path, 1, 1)
    if p.is_dir():
        return None, [error("E-FILE", at, f"{path} is a directory, not a plan file",
                            "give plan files, or use a command that accepts directories")]
    try:
        size = p.stat().st_size
        if size > MAX_FILE_BYTES:
            return None, [error("E-FILE", at, f"{path} is {size:,} bytes; plan files are limited "
                                f"to {MAX_FILE_BYTES:,} bytes")]
        data = p.read_bytes()
    except FileNotFoundError:
        return None, [error("E-FILE", at, f"no such file: {path}")]
    except OSError as exc:
        return None, [error("E-FILE", at, f"cannot read {path}: {exc.strerror or exc}")]
    return decode_source(path, data)


def decode_source(path: str, data: bytes) -> tuple[str | None, list[Diagnostic]]:
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        return None, [error("E-ENCODING", Span.point(path, line, 1),
                            "this file contains NUL bytes: it is binary, not a plan file")]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        column = len(before[before.rfind(b"\n") + 1:].decode("utf-8", "replace")) + 1
        return None, [error("E-ENCODING", Span.point(path, line, column),
                            f"this file is not valid UTF-8 (byte 0x{data[exc.start]:02x})",
                            "save the plan file as UTF-8 text")]
    return text.replace("\r\n", "\n").replace("\r", "\n"), []


# ------------------------------------------------------------------------------ comments


def _split_comment(line: str) -> int | None:
    """Column index of a `#` that starts a comment (outside a quoted text), or None."""
    in_text = False
    i = 0
    while i < len(line):
        ch = line[i]
        if in_text:
            if ch == "\\":
                i += 1
            elif ch == '"':
                in_text = False
        elif ch == '"':
            in_text = True
        elif ch == "#":
            return i
        i += 1
    return None


def strip_comments(path: str, text: str) -> tuple[list[str], CommentTable]:
    """The code lines (comments blanked) and the comments attached to the code lines."""
    code_lines: list[str] = []
    leading: dict[int, tuple[n.Comment, ...]] = {}
    trailing: dict[int, n.Comment] = {}
    pending: list[n.Comment] = []
    for number, line in enumerate(text.split("\n"), start=1):
        at = _split_comment(line)
        code = line if at is None else line[:at]
        if at is not None:
            body = line[at:].rstrip()
            comment = n.Comment(text=body,
                                span=Span(path, number, at + 1, number, at + 1 + len(body)))
            if code.strip():
                trailing[number] = comment
            else:
                pending.append(comment)
        if code.strip() and pending:
            leading[number] = tuple(pending)
            pending = []
        code_lines.append(code.rstrip())
    return code_lines, CommentTable(leading, trailing, tuple(pending))


# ------------------------------------------------------------------------------ parsing


@attrs.frozen
class _Chunk:
    first_line: int  # 1-based line number of the block's header
    lines: tuple[str, ...]


def _chunks(path: str, code_lines: list[str], diags: list[Diagnostic]) -> list[_Chunk]:
    chunks: list[tuple[int, list[str]]] = []
    for number, line in enumerate(code_lines, start=1):
        if not line.strip():
            if chunks:
                chunks[-1][1].append("")
            continue
        indent = len(line) - len(line.lstrip(" \t"))
        if "\t" in line[:indent]:
            diags.append(error("E-INDENT", Span(path, number, 1, number, indent + 1),
                               "indentation uses a tab character",
                               "indent with spaces (two per level); `incentive fmt` does this"))
        if indent == 0:
            chunks.append((number, [line]))
        elif not chunks:
            diags.append(error("E-INDENT", Span(path, number, indent + 1, number, len(line) + 1),
                               "this line is indented but belongs to no block",
                               "start the file with a block such as: plan \"Name\""))
        else:
            chunks[-1][1].append(line)
    return [_Chunk(first, tuple(lines)) for first, lines in chunks]


def _depth_exceeded(tree: n.Node) -> n.Node | None:
    """The first node nested deeper than MAX_DEPTH, found without recursion."""
    stack: list[tuple[object, int]] = [(tree, 0)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH and isinstance(value, n.Node):
            return value
        for child in n.children(value):
            stack.append((child, depth + (1 if isinstance(child, n.Node) else 0)))
    return None


def parse_text(path: str, text: str) -> ParseResult:
    """Parse one file's text. Never raises for any input text."""
    diags: list[Diagnostic] = []
    code_lines, comments = strip_comments(path, text)
    blocks: list[n.Block] = []
    g = _grammar()
    syntax_errors = 0
    for chunk in _chunks(path, code_lines, diags):
        block_text = "\n".join(chunk.lines).rstrip() + "\n"
        with g.lock:
            g.builder.path = path
            g.builder.line_offset = chunk.first_line - 1
            g.builder.comments = comments
            try:
                block = g.lark.parse(block_text)
                problem = None
            except (UnexpectedInput, DedentError) as exc:
                problem = _describe(exc, path, chunk, g)
        if problem is not None:
            syntax_errors += 1
            if syntax_errors <= MAX_SYNTAX_ERRORS:
                diags.append(problem)
            continue
        deep = _depth_exceeded(block)
        if deep is not None:
            diags.append(error("E-DEPTH", deep.span,
                               f"this expression is nested more than {MAX_DEPTH} levels deep",
                               "split it into named measures"))
            continue
        blocks.append(block)
    if syntax_errors > MAX_SYNTAX_ERRORS:
        last = len(code_lines)
        diags.append(error("E-SYNTAX", Span.point(path, last, 1),
                           f"… and {syntax_errors - MAX_SYNTAX_ERRORS} more blocks with syntax "
                           "errors not shown", "fix the errors above and check again"))
    tree = n.PlanFile(path=path, blocks=tuple(blocks), trailing_comments=comments.after_last,
                      span=Span(path, 1, 1, max(1, len(code_lines)), 1))
    return ParseResult(tree, tuple(sorted(diags, key=Diagnostic.sort_key)), text)


def parse_path(path: str) -> ParseResult:
    text, diags = read_source(path)
    if text is None:
        empty = n.PlanFile(path=path, blocks=())
        return ParseResult(empty, tuple(diags), "")
    return parse_text(path, text)


# ------------------------------------------------------------------------------ error messages


def _token_words(tok: Token, g: _Grammar) -> str:
    if tok.type in ("_NL", "$END"):
        return "the end of the line"
    if tok.type == "_INDENT":
        return "an indented line"
    if tok.type == "_DEDENT":
        return "the end of the block"
    return f"'{tok}'"


def _expected_words(expected: set[str], g: _Grammar) -> list[str]:
    words = []
    for name in sorted(expected):
        if name in TERMINAL_WORDS:
            words.append(TERMINAL_WORDS[name])
        elif name in g.keyword_text:
            words.append(f"'{g.keyword_text[name]}'")
    # Keep the message readable: plain descriptions first, then keywords.
    words.sort(key=lambda w: (w.startswith("'"), w))
    return list(dict.fromkeys(words))


def _join(words: list[str]) -> str:
    if not words:
        return "something else"
    if len(words) > 8:
        return "one of " + ", ".join(words[:8]) + ", …"
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " or " + words[-1]


def _line_keyword(chunk: _Chunk, line: int) -> str | None:
    idx = line - chunk.first_line
    if 0 <= idx < len(chunk.lines):
        words = chunk.lines[idx].split()
        return words[0] if words else None
    return None


def _describe(exc: Exception, path: str, chunk: _Chunk, g: _Grammar) -> Diagnostic:
    off = chunk.first_line - 1
    history = g.indenter.history
    if isinstance(exc, DedentError):
        tok = history[-1] if history else None
        line = (tok.line + off + 1) if tok is not None else chunk.first_line
        return error("E-INDENT", Span.point(path, line, 1),
                     "this line's indentation matches no line above it",
                     "indent each level by two spaces and line up lines of the same level")
    if isinstance(exc, UnexpectedCharacters):
        line, col = exc.line + off, exc.column
        ch = exc.char
        hint = {
            "'": 'write texts in double quotes, e.g. "new_business"',
            "$": "write money as an amount and a currency code, e.g. 250,000 USD",
            "€": "write money as an amount and a currency code, e.g. 250,000 EUR",
            "£": "write money as an amount and a currency code, e.g. 250,000 GBP",
            "%": "write a percentage with the % sign right after the number, e.g. 8%",
            ":": "plan lines do not use colons; see docs/language.md for the form of this line",
            '"': "a quoted text must end with \" on the same line",
        }.get(ch)
        kw = _line_keyword(chunk, line)
        if hint is None and kw in LINE_EXAMPLES:
            hint = f"a '{kw}' line looks like: {LINE_EXAMPLES[kw]}"
        return error("E-SYNTAX", Span.point(path, line, col),
                     f"unexpected character {ch!r} here", hint)
    if isinstance(exc, (UnexpectedToken, UnexpectedEOF)):
        tok = exc.token if isinstance(exc, UnexpectedToken) else Token("$END", "")
        # The lexer's idea of what was expected can lag one token behind; the parser's is exact.
        interactive = getattr(exc, "interactive_parser", None)
        expected = set(interactive.accepts()) if interactive is not None else set(exc.expected or ())
        prev = None
        for h in reversed(history):
            if h is not tok and h.type != "_NL":
                prev = h
                break
        if tok.type in ("$END", "_DEDENT") or getattr(tok, "line", None) is None:
            last = history[-1] if history else None
            line = (last.line + off) if last is not None and last.line else chunk.first_line
            col = (last.end_column if last is not None and last.end_column else 1)
            span = Span.point(path, line, col)
        else:
            line = tok.line + off
            if tok.type == "_NL":
                span = Span.point(path, line, tok.column)
            elif tok.type == "_INDENT":
                span = Span.point(path, tok.end_line + off, tok.end_column)
            else:
                span = Span(path, line, tok.column, tok.end_line + off, tok.end_column)
        return _unexpected_token(tok, expected, prev, span, chunk, g)
    raise TypeError(exc)  # pragma: no cover - parse_text catches only the types above


def _unexpected_token(tok: Token, expected: set[str], prev: Token | None, span: Span,
                      chunk: _Chunk, g: _Grammar) -> Diagnostic:
    exp_words = _expected_words(expected, g)
    found = _token_words(tok, g)
    kw = _line_keyword(chunk, span.line)
    at_block_start = prev is None
    keywords = [g.keyword_text[e] for e in expected if e in g.keyword_text]
    close = difflib.get_close_matches(str(tok), keywords, n=1, cutoff=0.75) if tok.type == "NAME" else []

    if at_block_start:
        message = f"unknown block {found}"
        close = difflib.get_close_matches(str(tok), BLOCK_KEYWORDS, n=1, cutoff=0.6)
        hint = (f"did you mean '{close[0]}'? " if close else "") + \
            "a block starts at the left margin with one of: " + ", ".join(BLOCK_KEYWORDS)
        if tok.type == "NAME" and str(tok) in LINE_EXAMPLES and str(tok) not in BLOCK_KEYWORDS:
            hint = f"'{tok}' lines belong inside a block: indent this line under its block"
        return error("E-BLOCK", span, message, hint)

    after = f" after '{prev}'" if prev is not None else ""
    message = f"expected {_join(exp_words)}{after}, found {found}"
    hint: str | None = None
    if tok.type == "_INDENT":
        message = f"unexpected indentation{after}"
        hint = "only block headers, tier tables and step/linear schedules take indented lines"
    elif expected == {"_INDENT"}:
        message = f"expected indented lines below the line ending in '{prev}', found {found}"
        hint = "indent the lines that belong to the line above by two more spaces"
    elif "PERCENT" in expected and tok.type in ("NUMBER",):
        hint = f"write percentages with a % sign, e.g. {tok}%"
    elif "CURRENCY" in expected and tok.type == "NAME" and len(str(tok)) == 3:
        hint = f"currency codes are three capital letters, e.g. {str(tok).upper()}"
    elif "CURRENCY" in expected and tok.type in ("_NL", "$END"):
        hint = "an amount of money needs its currency code, e.g. 250,000 USD"
    elif close:
        hint = f"did you mean '{close[0]}'?"
    elif tok.type == "STRING" and "NAME" in expected:
        hint = f"names are written without quotes here: {str(tok)[1:-1]}"
    elif tok.type == "NAME" and "STRING" in expected:
        hint = f'texts are written in double quotes here: "{tok}"'
    if hint is None and kw in LINE_EXAMPLES:
        hint = f"a '{kw}' line looks like: {LINE_EXAMPLES[kw]}"
    return error("E-SYNTAX", span, message, hint)
