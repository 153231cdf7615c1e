"""Completion: what may be written at a position of a plan file.

The words come from the parser's own tables: the syntax layer (`syntax.accepts`) feeds the text
of the cursor's block up to the cursor to the grammar's parser and says which tokens it
accepts next. Its keywords are offered as they are; where it accepts a name, the
line's last keyword says which names fit (`on` in a commission takes a credit, `for role` a
role, `quota` a quota, an expression a measure, a credit or a component) and the plan's
definitions supply them (in a measure's expression, not the measure itself nor the measures
that read it: either would be a cycle); where it accepts a period, the periods of the plan's
effective dates. After `deal.` or `payee.` come the built-in fields and the plan's declared
ones. `word_at` says which columns the word being typed takes: what a completion replaces.
A position the parser cannot reach (inside a comment or text, after a syntax error) offers
nothing.
"""

from __future__ import annotations

import datetime as dt
import re

import attrs

from incentive_dsl.check import plan as checking
from incentive_dsl.editor.symbols import BUILTIN_NAMES, FIELD, QUOTA, ROLE, RULE, Analysis
from incentive_dsl.limits import FIRST_YEAR, LAST_YEAR
from incentive_dsl.periods import MONTH_NAMES, Calendar
from incentive_dsl.syntax import nodes as n
from incentive_dsl.syntax.accepts import accepted, keywords
from incentive_dsl.syntax.parser import comment_start, strip_comments

KEYWORD, NAME, FIELD_NAME, PERIOD = "keyword", "name", "field", "period"

_WORD = re.compile(r"[a-z][a-z-]*")
_PARTIAL = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*$")
_FIELD_PREFIX = re.compile(r"(?<![\w.])(deal|payee)\.[A-Za-z0-9_]*$")
_CREDITS = frozenset({"credit"})
_MEASURES_OR_CREDITS = frozenset({"measure", "credit"})
_COMPONENTS = frozenset(checking.COMPONENT_BLOCKS.values())
# What an expression may name: every rule but quotas (named `quota x`) and clawbacks.
_EXPRESSION = _MEASURES_OR_CREDITS | _COMPONENTS
# The keyword before a name slot, and the rules it takes, as the checker resolves them.
_RULE_SLOTS = {"on": _MEASURES_OR_CREDITS, "by": _MEASURES_OR_CREDITS,
               "team": _MEASURES_OR_CREDITS, "of": _MEASURES_OR_CREDITS,
               "reverse": _COMPONENTS, "against": _COMPONENTS, "expect": _COMPONENTS}
_PAYEE_SLOTS = frozenset({"for", "by", "manager", "split"})  # in an example
_PAYEE_LINE = re.compile(r"\s+payee\s+([A-Za-z_][A-Za-z0-9_]*)")
_YEARS = 4  # the most years of periods offered
_SKIPPED = frozenset({"NAME", "COMMA", "PERCENT"})  # inside a list of names (or shares)
_WORD_REST = re.compile(r"[A-Za-z0-9_-]*")


@attrs.frozen
class Item:
    label: str
    kind: str  # KEYWORD, NAME, FIELD_NAME or PERIOD
    detail: str


def complete(result: Analysis, line: int, column: int) -> list[Item]:
    """What may be written at 0-based `line` and `column` (characters) of the analysed text."""
    source = result.source
    if source.startswith("\ufeff"):  # a byte-order mark is not code; the editor counts it
        source = source[1:]
        column -= line == 0
    lines = source.split("\n")
    if not 0 <= line < len(lines):
        return []
    before = lines[line].rstrip("\r")[:max(column, 0)]
    if comment_start(before) is not None or before.count('"') % 2:
        return []  # in a comment or a text
    code_lines, _ = strip_comments(result.path, source)
    header = _header(code_lines, line, before)
    block = code_lines[header].split()[0] if header is not None else ""
    field = _FIELD_PREFIX.search(before)
    if field is not None:
        return [] if block == "fields" else _fields(result, field[1])
    partial = _PARTIAL.search(before)
    start = before[:partial.start()] if partial else before
    if not start:
        text = ""  # at the left margin: a block starts
    elif header is None:
        return []  # indented above the first block: nothing can be written there
    else:
        text = "\n".join(code_lines[header:line] + [start])
    found = accepted(text)
    if found is None:
        return []
    tokens, accepts = found
    words = keywords()
    items = [Item(w, KEYWORD, "keyword") for w in sorted({words[t] for t in accepts
                                                         if t in words})
             if _WORD.fullmatch(w)]
    if "NAME" in accepts:
        items += _names(result, tokens, accepts, code_lines[header:])
    elif "PERIOD" in accepts:
        items += [Item(p, PERIOD, "period") for p in _periods(result)]
    return items


def word_at(source: str, line: int, column: int) -> tuple[int, int]:
    """The columns of the word being typed at 0-based `line` and `column` of `source`: where
    it starts (the cursor, when nothing is typed yet) and where it ends, past the cursor when
    the cursor is inside a word. A field after `deal.` is the part after the dot."""
    lines = source.split("\n")
    if not 0 <= line < len(lines):
        return column, column
    text = lines[line].rstrip("\r")
    column = min(max(column, 0), len(text))
    partial = _PARTIAL.search(text[:column])
    start = partial.start() if partial else column
    field = _FIELD_PREFIX.search(text[:column])
    if field is not None:
        start = max(start, text.rfind(".", 0, column) + 1)
    return start, column + _WORD_REST.match(text, column).end() - column


def _header(code_lines: list[str], line: int, before: str) -> int | None:
    """The 0-based line of the block header the cursor is under (its own line when the
    cursor is on a header), None above the first block or at the left margin."""
    if before[:1].strip():
        return line
    if not before:
        return None
    for i in range(line - 1, -1, -1):
        if code_lines[i][:1].strip():
            return i
    return None


def _names(result: Analysis, tokens: list, accepts: set[str], block_lines: list[str]
           ) -> list[Item]:
    if not any(t.type == "_NL" for t in tokens) and not any(t.type == "NAME" for t in tokens):
        return []  # the name a block header declares
    keyword = next((t for t in reversed(tokens) if t.type not in _SKIPPED
                    and t.type != "_NL"), None)
    word = keyword.value if keyword is not None else ""
    block = tokens[0].value
    if word == "payee" and block == "example":
        return []  # an example payee is declared here
    if word == "role":
        return _defined(result, lambda key, d: key[0] == ROLE)
    if word == "quota":
        return _defined(result, lambda key, d: key[0] == QUOTA)
    if block == "example" and word in _PAYEE_SLOTS:
        # This example's payees, read from its lines: the block being edited does not parse.
        payees = []
        for code in block_lines[1:]:
            if code[:1].strip():
                break
            declared = _PAYEE_LINE.match(code)
            if declared and declared[1] not in payees:
                payees.append(declared[1])
        return [Item(p, NAME, "example payee") for p in payees]
    if word == "on" and block == "commission" or word == "by" and block == "pool":
        kinds = _CREDITS
    elif "LPAR" in accepts:  # an expression: `(` may start it too
        kinds = _EXPRESSION
    else:
        kinds = _RULE_SLOTS.get(word, _EXPRESSION)
    cyclic = _reading(result, tokens[1].value) if block == "measure" and len(tokens) > 1 \
        and tokens[1].type == "NAME" else frozenset()
    items = _defined(result, lambda key, d: key[0] == RULE and d.what in kinds
                     and not (d.what == "measure" and key[-1] in cyclic))
    if kinds is _EXPRESSION:
        items += [Item(key[1], NAME, "built-in") for key in sorted(BUILTIN_NAMES)]
    return items


def _reading(result: Analysis, measure: str) -> frozenset[str]:
    """`measure` and the measures that read it, directly or through others: in its own
    expression each of them would be a cycle (E-CYCLE)."""
    reads: dict[str, set[str]] = {}
    for block in result.tree.blocks:
        if isinstance(block, n.MeasureBlock):
            reads[block.name.text] = {x.name.text for x in n.walk(block.expr)
                                      if isinstance(x, n.Ref)}
    found = {measure}
    grew = True
    while grew:
        grew = False
        for name, names in reads.items():
            if name not in found and names & found:
                found.add(name)
                grew = True
    return frozenset(found)


def _defined(result: Analysis, wanted) -> list[Item]:
    return [Item(key[-1], NAME, d.what) for key, d in
            sorted(result.definitions.items(), key=lambda kv: kv[1].span.line)
            if wanted(key, d)]


def _fields(result: Analysis, owner: str) -> list[Item]:
    builtin = checking.BUILTIN_DEAL if owner == "deal" else checking.BUILTIN_PAYEE
    declared = [key[2] for key in result.definitions if key[0] == FIELD and key[1] == owner]
    return [Item(name, FIELD_NAME, f"built-in {owner} field") for name in builtin] + \
        [Item(name, FIELD_NAME, f"{owner} field") for name in declared if name not in builtin]


def _periods(result: Analysis) -> list[str]:
    """The names of the periods the plan's effective dates cover: quarters, halves, years and
    months, as the plan's (fiscal) calendar names them."""
    plan = next((b for b in result.tree.blocks if isinstance(b, n.PlanBlock)), None)
    if plan is None:
        return []
    effective = next((i for i in plan.items if isinstance(i, n.EffectiveDecl)), None)
    fiscal = next((i for i in plan.items if isinstance(i, n.FiscalDecl)), None)
    if effective is None:
        return []
    try:
        start = effective.range.start.value
        end = effective.range.end.value if effective.range.end is not None else None
    except ValueError:  # a date that does not exist: the checker says so
        return []
    if not FIRST_YEAR <= start.year <= LAST_YEAR:
        return []  # the checker's error; its periods have no names
    # An open range offers its first year; a long one its first years, enough to choose from
    # (and none past the years a plan may use).
    last = dt.date(min(start.year + _YEARS, LAST_YEAR), 12, 31)
    end = min(end, last) if end is not None else dt.date(start.year, 12, 31)
    calendar = Calendar(MONTH_NAMES.index(fiscal.month.text) + 1) if fiscal else Calendar()
    return [p.label for unit in ("quarter", "half", "year", "month")
            for p in calendar.periods(start, end, unit)]
