"""Text -> syntax tree. Reads plan files safely, takes comments out, parses block by block.

Guarantees:
- `parse_text` and `parse_path` never raise on bad input: every problem (missing file, a
  directory, binary or non-UTF-8 content, syntax errors, excessive nesting) is a Diagnostic.
- All syntax errors of a file are reported, at least one per top-level block: each block is
  parsed on its own, so an error in one block cannot hide the next.
- The returned tree holds only nodes from nodes.py, never a Lark object.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from functools import cache
from importlib import resources
from pathlib import Path

import attrs
from lark import Token
from lark.exceptions import UnexpectedInput
from lark.indenter import DedentError, Indenter

from incentive_dsl.files import FileTooLarge, read_regular
from incentive_dsl.diagnostics import Diagnostic, error
from incentive_dsl.limits import MAX_EXPRESSION_DEPTH
from incentive_dsl.syntax import nodes as n
from incentive_dsl.syntax.build import VALUE_TERMINALS, Builder, CommentTable
from incentive_dsl.syntax.messages import (
    BLOCK_KEYWORDS, TWO_WORD_BLOCKS, GluedWord, describe, indented_header, plan_start)
from incentive_dsl.syntax.table import load_parser
from incentive_dsl.span import Span

MAX_DEPTH = MAX_EXPRESSION_DEPTH  # deeper input is refused, never recursed into
MAX_SYNTAX_ERRORS = 50  # per file; the rest are counted in one closing diagnostic
MAX_FILE_BYTES = 50 * 1024 * 1024
# Input files that are never plans (docs/data.md, docs/mapping.md).
DATA_SUFFIXES = (".csv", ".tsv", ".jsonl", ".json", ".toml")


@attrs.frozen
class BrokenBlock:
    """A block left out of the tree for its errors, as far as its header line can be read, so
    the checker can check the rest without blaming its absence. `keyword` is None when the
    line does not plainly start a block (or for lines belonging to no block); `name` is the
    name a rule block defines, None when there is none or it cannot be read; `words` are the
    names the block's text may use."""

    line: int
    keyword: str | None
    name: str | None
    words: frozenset[str]
    # The block parsed without its broken lines (each error's line, and the lines indented
    # under it), when that parses, and the first words of the lines left out: the checker
    # may read the rest of the file with it when no line it needs was left out.
    salvage: n.Block | None = attrs.field(default=None, eq=False)
    lost: tuple[str, ...] = ()
    # (keyword, name) of the block headers indented into it (read as its lines): they define
    # their names as well.
    nested: tuple[tuple[str, str], ...] = ()


# Conservative: the keyword and the name as the grammar spells them, the name ending where a
# NAME token ends (a label, `=`, or the end of the line follows).
_BROKEN_HEADER = re.compile(
    "(?P<keyword>" + "|".join(re.escape(TWO_WORD_BLOCKS.get(k, k)) for k in BLOCK_KEYWORDS)
    + r")(?![A-Za-z0-9_])(?:[ ]+(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?=[ \"=]|$))?")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _broken(first_line: int, lines: tuple[str, ...], salvage: n.Block | None = None,
            lost: tuple[str, ...] = (), problems: tuple[Diagnostic, ...] = ()) -> BrokenBlock:
    """The broken block of `lines`; `problems`, its syntax errors, say which of its lines are
    block headers written indented (E-INDENT at the start of a line of its body)."""
    found = _BROKEN_HEADER.match(lines[0])
    indented = (lines[p.span.line - first_line].lstrip(" ") for p in problems
                if p.code == "E-INDENT" and p.span.line > first_line)
    nested = tuple((h["keyword"], h["name"]) for h in map(_BROKEN_HEADER.match, indented)
                   if h is not None and h["name"])
    return BrokenBlock(first_line, found["keyword"] if found else None,
                       found["name"] if found else None,
                       frozenset(w for line in lines for w in _WORD.findall(line)), salvage, lost,
                       nested)


@attrs.frozen
class ParseResult:
    tree: n.PlanFile
    diagnostics: tuple[Diagnostic, ...]
    source: str
    broken: tuple[BrokenBlock, ...] = ()  # the blocks with errors, left out of `tree`


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
        self.text = ""

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        self.history = []
        for tok in super().process(stream):
            if tok.type not in ("_INDENT", "_DEDENT"):
                self.history = [*self.history[-2:], tok]
                if tok.type not in VALUE_TERMINALS and tok.type != "_NL":
                    self._check_word_end(tok)
            yield tok

    def _check_word_end(self, tok: Token) -> None:
        """Lark matches a keyword even when it is only the start of a longer word
        (`paidmonthly`); a keyword must end where the word ends."""
        end = tok.end_pos
        if tok.value[-1:].isalnum() and end < len(self.text) and \
                (self.text[end].isalnum() or self.text[end] == "_"):
            stop = end
            while stop < len(self.text) and (self.text[stop].isalnum() or self.text[stop] == "_"):
                stop += 1
            raise GluedWord(tok, self.text[tok.start_pos:stop])


class _Grammar:
    """The compiled parser, built once per process. Lark's inline transformer keeps per-parse
    state, so parses are serialised by a lock."""

    def __init__(self) -> None:
        self.builder = Builder()
        self.indenter = _Indenter()
        self.lark = load_parser(grammar_text(), postlex=self.indenter,
                                transformer=self.builder)
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
    at = Span.point(path, 1, 1)
    try:
        data = read_regular(path, MAX_FILE_BYTES)
    except IsADirectoryError:
        return None, [error("E-FILE", at, f"{path} is a directory, not a plan file",
                            "give plan files, or use a command that accepts directories")]
    except FileTooLarge:
        return None, [error("E-FILE", at, f"{path} is larger than {MAX_FILE_BYTES:,} bytes; "
                            "plan files are limited to that")]
    except FileNotFoundError:
        return None, [error("E-FILE", at, f"no such file: {path}")]
    except OSError as exc:
        return None, [error("E-FILE", at, f"cannot read {path}: {exc.strerror or exc}")]
    if Path(path).suffix.lower() in DATA_SUFFIXES:
        # A data file given as the plan (the arguments swapped) would be parsed line by line
        # into dozens of "unknown block" errors.
        return None, [error("E-FILE", at, f"{path} is a data file, not a plan file",
                            "give the plan file first; data goes to --data DIR (or --deals, "
                            "--roster ... FILE, or --map FILE for a mapping)")]
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


def comment_start(line: str) -> int | None:
    """Column index of a `#` that starts a comment (outside a quoted text), or None."""
    if "#" not in line:
        return None
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
        at = comment_start(line)
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
    tabbed: bool = False  # indented with tabs: already reported, not parsed (no second error)


def _chunks(path: str, code_lines: list[str], diags: list[Diagnostic]) -> list[_Chunk]:
    chunks: list[tuple[int, list[str]]] = []
    orphans = 0  # indented lines before the first block
    for number, line in enumerate(code_lines, start=1):
        if not line.strip():
            if chunks:
                chunks[-1][1].append("")
            continue
        indent = len(line) - len(line.lstrip(" \t"))
        if "\t" in line[:indent]:
            diags.append(error("E-INDENT", Span(path, number, 1, number, indent + 1),
                               "indentation uses a tab character",
                               "replace the tab with spaces (two per indentation level)"))
        if indent == 0:
            chunks.append((number, [line]))
        elif not chunks:
            # Only the first: the lines after it are mended by the same fix.
            if not orphans and line.split()[0] in BLOCK_KEYWORDS:
                diags.append(error("E-INDENT", Span(path, number, 1, number, indent + 1),
                                   f"'{line.split()[0]}' starts a block, but this line is "
                                   "indented", "write block headers at the left margin"))
            elif not orphans:
                diags.append(error("E-INDENT", Span(path, number, 1, number, indent + 1),
                                   "this line is indented but belongs to no block",
                                   "start the file with a block such as: plan \"Name\""))
            orphans += 1
        else:
            chunks[-1][1].append(line)
    return [_Chunk(first, tuple(lines), any("\t" in ln[:len(ln) - len(ln.lstrip(" \t"))]
                                            for ln in lines))
            for first, lines in chunks]


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
    chunks = _chunks(path, code_lines, diags)
    first = chunks[0].first_line if chunks else len(code_lines) + 1
    orphans = [line for line in code_lines[:first - 1] if line.strip()]
    # Lines before the first block: what they were meant to be is not known.
    broken = [BrokenBlock(1, None, None, frozenset())] if orphans else []
    whole = _parse_whole(path, code_lines, chunks, comments, g) if not diags else None
    if whole is not None:
        chunks = []  # parsed in one go: nothing to report block by block
        blocks = list(whole)
    for chunk in chunks:
        if chunk.tabbed:
            broken.append(_broken(chunk.first_line, chunk.lines))
            continue
        block, problems, lost = _parse_block(path, chunk, comments, g, code_lines)
        if problems:
            broken.append(_broken(chunk.first_line, chunk.lines, block, lost, tuple(problems)))
            for problem in problems:
                syntax_errors += 1
                if syntax_errors <= MAX_SYNTAX_ERRORS:
                    diags.append(problem)
            continue
        # Each level of nesting takes at least two characters of one line, so only a long line
        # can nest past the limit: short blocks skip the walk.
        deep = _depth_exceeded(block) if max(map(len, chunk.lines)) > MAX_DEPTH else None
        if deep is not None:
            diags.append(error("E-DEPTH", deep.span,
                               f"this expression is nested more than {MAX_DEPTH} levels deep",
                               "split it into named measures"))
            broken.append(_broken(chunk.first_line, chunk.lines))
            continue
        blocks.append(block)
    if syntax_errors > MAX_SYNTAX_ERRORS:
        last = len(code_lines)
        diags.append(error("E-SYNTAX", Span.point(path, last, 1),
                           f"… and {syntax_errors - MAX_SYNTAX_ERRORS} more blocks with syntax "
                           "errors not shown", "fix the errors above and check again"))
    tree = n.PlanFile(path=path, blocks=tuple(blocks), trailing_comments=comments.after_last,
                      span=Span(path, 1, 1, max(1, len(code_lines)), 1))
    return ParseResult(tree, tuple(sorted(diags, key=Diagnostic.sort_key)), text, tuple(broken))


MAX_ERRORS_PER_BLOCK = 10


def _parse_block(path: str, chunk: _Chunk, comments: CommentTable, g: _Grammar,
                 code_lines: list[str]
                 ) -> tuple[n.Block | None, list[Diagnostic], tuple[str, ...]]:
    """One block parsed: its tree and no errors, or the syntax errors found in it with the
    tree of the block without the lines they are on when that parses (see
    `BrokenBlock.salvage`) and those lines' first words. After an error, the block is parsed
    again without the line it is on (and the lines indented under that line), so that a second
    mistake further down is reported in the same check, not after the first is fixed. Only
    errors on later lines are kept: one on the header, an indentation error, or one that is
    not after the line taken out may come from taking it out."""
    lines = list(chunk.lines)
    problems: list[Diagnostic] = []
    lost: list[str] = []
    start = plan_start(code_lines)
    body = min((len(line) - len(line.lstrip(" ")) for line in lines[1:] if line.strip()),
               default=0)  # the indentation of the block's own lines
    while True:
        block_text = "\n".join(lines).rstrip() + "\n"
        with g.lock:
            g.builder.path = path
            g.builder.line_offset = chunk.first_line - 1
            g.builder.comments = comments
            g.indenter.text = block_text
            try:
                block = g.lark.parse(block_text, start="block")
                problem = None
            except (UnexpectedInput, DedentError, GluedWord) as exc:
                problem = describe(exc, path, chunk.first_line, tuple(lines),
                                   g.indenter.history, g.keyword_text, start)
        if problem is None:
            return block, problems, tuple(lost)
        at = problem.span.line - chunk.first_line  # the line's index in the block
        # On a line of the block's body with code, and not an indentation error.
        takeable = 0 < at < len(lines) and lines[at].strip() != "" and \
            problem.code != "E-INDENT"
        starts = takeable and _at_first_word(problem, lines[at])
        # Lines refused at their first word one after the other: lines that do not belong in
        # the block (a header line cut it in two); the first error says it for all of them.
        if problems and (not takeable or at <= last or starts and refused_first):
            return None, problems, ()
        problems.append(problem)
        refused_first = starts
        header = _BROKEN_HEADER.match(lines[at].lstrip(" ")) if starts else None
        if header is not None and header["name"]:  # said as where its indentation is no level
            problems[-1] = indented_header(path, problem.span.line,
                                           len(lines[at]) - len(lines[at].lstrip(" ")),
                                           header["keyword"])
        # A block's keyword refused: an indented header, which glued the next block to this
        # one; what follows it is that block's, read in the wrong one.
        if not takeable or len(problems) == MAX_ERRORS_PER_BLOCK or \
                starts and lines[at].split()[0] in BLOCK_KEYWORDS:
            return None, problems, ()
        last = at
        depth = len(lines[at]) - len(lines[at].lstrip(" "))
        # A row of a table or schedule goes with the line that owns it and its other rows (a
        # schedule's `to` row needs its `from` row).
        if depth > body:
            # The nearest line above with code indented less: the one that owns the row.
            owner = next((i for i in range(at - 1, 0, -1) if lines[i].strip() and
                          len(lines[i]) - len(lines[i].lstrip(" ")) < depth), None)
            if owner is not None:
                at, depth = owner, len(lines[owner]) - len(lines[owner].lstrip(" "))
        lost.append(lines[at].split()[0])
        lines[at] = ""
        for i in range(at + 1, len(lines)):
            if lines[i].strip() and len(lines[i]) - len(lines[i].lstrip(" ")) <= depth:
                break
            lines[i] = ""


def _at_first_word(problem: Diagnostic, line: str) -> bool:
    """Whether `problem` refuses the first word of its line."""
    return problem.span.column == len(line) - len(line.lstrip(" ")) + 1


def _parse_whole(path: str, code_lines: list[str], chunks: list[_Chunk],
                 comments: CommentTable, g: _Grammar) -> tuple[n.Block, ...] | None:
    """The file's blocks parsed in one go (fast), or None if anything is wrong: the caller then
    parses block by block, to report every error."""
    if not chunks:
        return None
    first = chunks[0].first_line
    lines = code_lines[first - 1:]
    text = "\n".join(lines).rstrip() + "\n"
    with g.lock:
        g.builder.path = path
        g.builder.line_offset = first - 1
        g.builder.comments = comments
        g.indenter.text = text
        try:
            blocks = g.lark.parse(text, start="plan_file")
        except (UnexpectedInput, DedentError, GluedWord):
            return None
    # Each level of nesting takes at least two characters of one line, so only a long line
    # can nest past the limit: short files skip the walk.
    if max(map(len, lines)) > MAX_DEPTH and any(_depth_exceeded(b) for b in blocks):
        return None
    return blocks


def parse_path(path: str) -> ParseResult:
    text, diags = read_source(path)
    if text is None:
        empty = n.PlanFile(path=path, blocks=())
        # For the excerpt under an encoding error, show the file as best it can be read.
        try:
            shown = read_regular(path, MAX_FILE_BYTES).decode("utf-8", "replace").replace(
                "\x00", "\ufffd")
        except OSError:
            shown = ""
        return ParseResult(empty, tuple(diags), shown)
    return parse_text(path, text)
