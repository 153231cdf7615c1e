"""Syntax error messages in plan words: Lark's exceptions -> one Diagnostic with a hint.

Never shows Lark's terminal names. The hint is the most specific one that applies: a known
slip (a `$`, curly quotes, `8,5%`, `250k`), a close keyword ("did you mean 'booked'?"), or else an
example of the line being written, chosen by the block and the line's first word.
"""

from __future__ import annotations

import difflib
import re
from decimal import Decimal
from typing import NamedTuple

from lark import Token
from lark.exceptions import UnexpectedCharacters, UnexpectedToken
from lark.indenter import DedentError

from incentive_dsl.diagnostics import Diagnostic, closest, error
from incentive_dsl.periods import DURATION_WORDS, MONTH_NAMES, Calendar, part_problem
from incentive_dsl.span import Span

# The first word of each block, as the grammar's `*_block` rules begin
# (tests/test_syntax_basics.py checks them against the grammar).
BLOCK_KEYWORDS = (
    "plan", "fields", "quota", "credit", "measure", "commission", "bonus", "spiff", "stage",
    "activity", "pool", "override", "clawback", "compensation", "payout", "example",
)
TWO_WORD_BLOCKS = {"stage": "stage reward", "activity": "activity reward"}

# An example of each kind of line, shown as the hint when that line does not parse. Keys are
# (block keyword, first word of the line) or just the first word.
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
    "fields": 'fields  (then indented lines such as: deal.segment one of "smb", "ent")',
    "deal.": 'deal.segment one of "smb", "ent"   (or: deal.seats count)',
    "payee.": "payee.region text",
    "quota": 'quota bookings "Bookings quota"',
    ("quota", "<number>"): "250,000 USD per quarter for role AE",
    ("quota", "from"): "from data",
    "forecast": "forecast 110% of trailing average of bookings over 4 quarters",
    "prorate": "prorate by active days",
    "ramp": "ramp month 1 at 25%, month 2 at 50%, month 3 at 75%",
    "normalize": "normalize by territory index",
    "credit": 'credit bookings "New-business bookings"',
    "on": 'on deal booked where deal.type is "new_business"',
    ("commission", "on"): "on bookings",
    ("stage", "on"): 'on deal reaching "proposal" pay 150 USD',
    ("activity", "on"): 'on activity "meeting" pay 30 USD',
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
    ("bonus", "from"): "from 80% pay 0 USD",
    "each": "each bound belongs to the tier above",
    "accelerate": "accelerate 1.5x by attainment per quarter above 100%",
    "decelerate": "decelerate 0.5x by attainment per quarter below 50%",
    "cap": "cap 150,000 USD per year",
    "floor": "floor 1,000 USD per month",
    "when": "when attainment reaches 80%",
    ("clawback", "when"): "when deal cancelled within 90 days of booking",
    "for": "for role AE, SE",
    "during": "during 2027-04-01 to 2027-06-30",
    "bonus": 'bonus club "Club kicker"',
    "step": "step on attainment per year   (then indented rows: at 120% pay 10,000 USD)",
    "linear": "linear on attainment per quarter   (then: from 80% pay 0 USD / to 120% pay 6,000 USD)",
    "at": "at 120% pay 10,000 USD",
    "to": "to 120% pay 6,000 USD",
    "spiff": 'spiff p3 "P3 launch"',
    "pay": "pay 500 USD",
    ("override", "pay"): "pay 2% of team bookings per quarter",
    "stage": 'stage reward presale "Pre-sale milestones"',
    "net": "net against core when deal booked",
    "activity": 'activity reward demos "Qualified demos"',
    ("example", "activity"): 'activity "qualified_demo" 2027-01-05 by ana',
    "pool": 'pool team_pool "Team pool"',
    "fund": "fund 2% of team bookings per quarter",
    "share": "share equally  /  share by bookings",
    "override": 'override mgr "Manager override"',
    "clawback": 'clawback churn "Early churn"',
    "reverse": "reverse core, p3 at original amounts",
    "payout": "payout  (then indented lines such as: paid monthly)",
    "paid": "paid monthly",
    ("payout", "<number>"): "50% when booked, 50% when collected",
    "hold": "hold back 10% until year end",
    "draw": "draw 2,000 USD per month recoverable from excess for the first 3 months of employment",
    "advance": "advance 3,000 USD per pay period for the first 3 months of employment",
    "recover": "recover advances from later pay at most 50% of each payout",
    "forgive": "forgive advances on termination",
    "compensation": "compensation  (then indented lines such as: base salary 90,000 USD per "
                    "year)",
    "base": "base salary 90,000 USD per year for role AE",
    "target": "target incentive 40% of base_salary per year",
    "example": 'example "Crossing into the accelerator"',
    "payee": "payee ana role AE from 2027-01-01 manager mia",
    "deal": 'deal D1 booked 2027-02-10 by ana amount 300,000 USD type "new_business"',
    "fx": "fx 1 EUR is 1.08 USD from 2027-01-01",
    "territory": 'territory "east" index 110%',
    ("example", "quota"): "quota bookings for ana in 2027-Q1 is 250,000 USD",
    "expect": "expect core for ana in 2027-Q1 is 26,000 USD",
}

# Words authors bring from other tools or from the handbook's first sketch, with the fix.
KNOWN_SLIPS = {
    "rep": "example payees are written: payee ana role AE from 2027-01-01",
    "monthly": "write: paid monthly",
    "quarterly": "write: paid quarterly",
    "annually": "write: paid annually",
    "==": "compare with = (or 'is' for texts)",
    "&&": "write 'and'",
    "||": "write 'or'",
    "through": "date ranges are written 2027-01-01 to 2027-03-31",
    "till": "date ranges are written 2027-01-01 to 2027-03-31",
    "until": "date ranges are written 2027-01-01 to 2027-03-31",
}

TERMINAL_WORDS = {
    "NAME": "a name",
    "STRING": 'a quoted text such as "demo"',
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

CHARACTER_HINTS = {
    "'": 'write texts in straight double quotes, e.g. "new_business"',
    "\u2018": 'curly quotes are not quotes here: use straight double quotes "…"',
    "\u2019": 'curly quotes are not quotes here: use straight double quotes "…"',
    "\u201c": 'curly quotes are not quotes here: use straight double quotes "…"',
    "\u201d": 'curly quotes are not quotes here: use straight double quotes "…"',
    "$": "write money as an amount and a currency code, e.g. 250,000 USD",
    "€": "write money as an amount and a currency code, e.g. 250,000 EUR",
    "£": "write money as an amount and a currency code, e.g. 250,000 GBP",
    "%": "write a percentage with the % sign right after the number, e.g. 8%",
    ":": "plan lines do not use colons; docs/language.md shows the form of every line",
    "\u00a0": "a non-breaking space (pasted from a document): type a normal space",
    "\u2013": "date ranges are written with 'to': 2027-01-01 to 2027-03-31",
    "\u2014": "date ranges are written with 'to': 2027-01-01 to 2027-03-31",
    "&": "write 'and'",
    "|": "write 'or'",
}


class GluedWord(Exception):
    """A keyword ran into the next word (`paidmonthly`); raised by the indenting post-lexer."""

    def __init__(self, token: Token, word: str) -> None:
        super().__init__(word)
        self.token, self.word = token, word



def _spaced_name(before: str, word: str) -> str | None:
    """The hint for `base salary` written where the name `base_salary` is meant."""
    if f"{before}_{word}" in ("base_salary", "target_incentive", "target_total"):
        return ("these names are written with underscores: base_salary, target_incentive, "
                "target_total_compensation")
    return None


def percent_hint(raw: str) -> str:
    """The hint for a plain number written where a percentage belongs: `8` -> 8%, but a
    fraction such as `0.06` is most likely meant as 6%, not 0.06%."""
    try:
        value = Decimal(raw.replace(",", ""))
    except ArithmeticError:
        return "write percentages with a % sign, e.g. 8%"
    if 0 < value < 1:
        shown = f"{value.scaleb(2).normalize():f}"
        return f"write percentages with a % sign: {shown}% (not {raw}%, which is a hundredth of it)"
    return f"write percentages with a % sign, e.g. {raw}%"


class PlanStart(NamedTuple):
    """Where the file's plan starts, for hints that complete a period or a date (`Q1` ->
    `2027-Q1`, `febuary` -> `2027-02`)."""

    year: int  # the calendar year and month of its first day
    month: int
    fiscal_year: int  # the (fiscal) year that holds its first day

    def year_of_month(self, month: int) -> int:
        """The calendar year of the first month numbered `month` on or after the start."""
        return self.year if month >= self.month else self.year + 1


def plan_start(lines: list[str]) -> PlanStart | None:
    """The PlanStart of a file, from its `effective` and `fiscal` lines as written; None if
    it has no effective line."""
    start = fiscal = None
    for line in lines:
        words = line.split()
        if start is None and words[:1] == ["effective"] and len(words) > 1:
            start = re.match(r"(\d{4})-(\d{2})-", words[1])
        elif fiscal is None and words[:4] == ["fiscal", "year", "starts", "in"] and \
                len(words) > 4 and words[4] in MONTH_NAMES:
            fiscal = MONTH_NAMES.index(words[4]) + 1
    if start is None:
        return None
    year, month = int(start[1]), int(start[2])
    # A fiscal year is named by the calendar year it ends in (docs/language.md §5.1).
    return PlanStart(year, month, year + 1 if fiscal and fiscal > 1 and month >= fiscal
                     else year)


def _month(word: str) -> str | None:
    """The month name `word` stands for: itself in any case, a misspelling or an abbreviation."""
    lower = word.lower()
    if len(lower) < 3:
        return None
    if lower in MONTH_NAMES:
        return lower
    prefixed = [m for m in MONTH_NAMES if m.startswith(lower)]
    if len(prefixed) == 1:
        return prefixed[0]
    return closest(lower, MONTH_NAMES)


def _period_hint(value: str, rest: str, start: PlanStart | None) -> str | None:
    """The hint for a period written without its year (`Q1`, `q1 2027`) or as a month name
    (`febuary`), where a period such as 2027-Q1 is expected. `rest` is the line after it."""
    after = re.match(r"\s+(\d{4})\b", rest)
    month = _month(value)
    if re.fullmatch(r"[QqHh][1-4]", value):
        year = after[1] if after else start.fiscal_year if start else None
        period = value.upper()
    elif month is not None:
        # Months are calendar months in every calendar (docs/language.md §4.7).
        number = MONTH_NAMES.index(month) + 1
        year = after[1] if after else start.year_of_month(number) if start else None
        period = f"{number:02d}"
    else:
        return None
    fix = (f"a period is written with its year: {year}-{period}" if year else
           f"a period is written with its year, e.g. 2027-{period}")
    return fix if month is None or month == value.lower() else f"did you mean '{month}'? {fix}"


def _a(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def _example(block: str | None, first: str | None) -> str | None:
    if first is None:
        return None
    key = "<number>" if first[:1].isdigit() else first
    for k in ((block, key), key, first.split(".")[0] + "." if "." in first else None):
        if k is not None and k in LINE_EXAMPLES:
            return LINE_EXAMPLES[k]
    return None


def _example_hint(block: str | None, first: str | None) -> str | None:
    example = _example(block, first)
    if example is None:
        return None
    word = first if first and not first[:1].isdigit() else None
    return f"{_a(word)} '{word}' line looks like: {example}" if word else \
        f"this line looks like: {example}"


def _expected_words(expected: set[str], keyword_text: dict[str, str]) -> list[str]:
    words = []
    for name in sorted(expected):
        if name in TERMINAL_WORDS:
            words.append(TERMINAL_WORDS[name])
        elif name in keyword_text:
            words.append(f"'{keyword_text[name]}'")
    if "'pay'" in words and "'quarter'" in words:  # a period unit: the two words `pay period`
        words[words.index("'pay'")] = "'pay period'"
    # Plain descriptions first, then keywords.
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


class _Where:
    """The block being parsed: its lines and what they start with."""

    def __init__(self, path: str, first_line: int, lines: tuple[str, ...]) -> None:
        self.path, self.first_line, self.lines = path, first_line, lines
        self.block = lines[0].split()[0] if lines and lines[0].split() else None

    def text(self, line: int) -> str:
        idx = line - self.first_line
        return self.lines[idx] if 0 <= idx < len(self.lines) else ""

    def first_word(self, line: int) -> str | None:
        words = self.text(line).split()
        return words[0] if words else None


def describe(exc: Exception, path: str, first_line: int, lines: tuple[str, ...],
             history: list[Token], keyword_text: dict[str, str],
             start: PlanStart | None = None) -> Diagnostic:
    """`start` is where the file's plan starts (plan_start), to complete periods in hints."""
    where = _Where(path, first_line, lines)
    off = first_line - 1
    if isinstance(exc, GluedWord):
        return _glued(exc, where, off, keyword_text)
    if isinstance(exc, DedentError):
        return _dedent(where, history, off)
    if isinstance(exc, UnexpectedCharacters):
        return _character(exc, where, off)
    tok = exc.token if isinstance(exc, UnexpectedToken) else Token("$END", "")
    # The lexer's idea of what was expected can lag one token behind; the parser's is exact.
    interactive = getattr(exc, "interactive_parser", None)
    expected = set(interactive.accepts()) if interactive is not None else set(exc.expected or ())
    return _unexpected(tok, expected, history, where, off, keyword_text, start)


def _glued(exc: GluedWord, where: _Where, off: int, keyword_text: dict[str, str]) -> Diagnostic:
    tok = exc.token
    line = tok.line + off
    span = Span(where.path, line, tok.column, line, tok.column + len(exc.word))
    rest = exc.word[len(tok.value):]
    before = where.text(line)[:tok.column - 1].split()
    keywords = {k for k in keyword_text.values() if k.isalpha()}
    # Two glued keywords (`paidmonthly`) are split; otherwise the word is more likely a
    # misspelt keyword (`normalise` is not `no rmalise`).
    near = None if rest in keywords else closest(exc.word, keywords)
    hint = (_spaced_name(before[-1], exc.word) if before else None) or (
        f"did you mean '{near}'?" if near else
        f"did you mean '{tok.value} {rest}'? words are separated by spaces"
        if len(rest) >= 3 or rest in keywords else f"did you mean '{tok.value}'?")
    return error("E-SYNTAX", span, f"unknown word '{exc.word}'", hint)


def _spaces(count: int) -> str:
    return f"{count} space{'' if count == 1 else 's'}"


def indented_header(path: str, line: int, indent: int, keyword: str) -> Diagnostic:
    """A block header written indented, at any indentation (one a block's lines have too, or
    none's)."""
    return error("E-INDENT", Span(path, line, 1, line, indent + 1),
                 f"'{keyword}' starts a block, but this line is indented",
                 "write block headers at the left margin")


def _dedent(where: _Where, history: list[Token], off: int) -> Diagnostic:
    nl = next((t for t in reversed(history) if t.type == "_NL"), None)
    line = (nl.end_line + off) if nl is not None else where.first_line
    text = where.text(line)
    indent = len(text) - len(text.lstrip(" \t"))
    span = Span(where.path, line, 1, line, indent + 1)
    first = where.first_word(line)
    if first in BLOCK_KEYWORDS:
        return indented_header(where.path, line, indent, first)
    levels = sorted({len(t) - len(t.lstrip(" \t")) for t in where.lines[:line - where.first_line]
                     if t.strip()})
    above = ", ".join(str(x) for x in levels)
    return error("E-INDENT", span,
                 f"this line is indented {_spaces(indent)}, which matches no line above it "
                 f"(those are indented {above})",
                 "line it up with the lines of its level" + _too_far(where, line, indent))


def _too_far(where: _Where, line: int, indent: int) -> str:
    """The other fix of a dedent to no level: the innermost open block indented deeper than
    `indent` may be the one too far, by the count found (`; if line 4 above, indented 6 spaces,
    is 2 spaces too far, fix that one`)."""
    # The open blocks at `line`: (indent, its lines at that indent), innermost last.
    blocks: list[tuple[int, list[int]]] = []
    for number, text in enumerate(where.lines[:line - where.first_line], where.first_line):
        if not text.strip():
            continue
        level = len(text) - len(text.lstrip(" \t"))
        while blocks and blocks[-1][0] > level:
            blocks.pop()
        if blocks and blocks[-1][0] == level:
            blocks[-1][1].append(number)
        else:
            blocks.append((level, [number]))
    level, lines = next(((lv, ls) for lv, ls in blocks if lv > indent), (None, []))
    if level is None:
        return ""
    over = level - indent
    far = f"{over} space{'s' if over > 1 else ''} too far"
    shown = f"indented {_spaces(level)}"
    if len(lines) == 1:
        return f"; if line {lines[0]} above, {shown}, is {far}, fix that one"
    joined = "and" if len(lines) == 2 else "to"
    return f"; if lines {lines[0]} {joined} {lines[-1]} above, {shown}, are {far}, fix them"


def _character(exc: UnexpectedCharacters, where: _Where, off: int) -> Diagnostic:
    line, col = exc.line + off, exc.column
    ch = exc.char
    text = where.text(line)
    rest = text[col - 1:]
    hint = CHARACTER_HINTS.get(ch)
    message = f"unexpected character {ch!r} here"
    if ch == '"':
        message, hint = "this quoted text is not closed", 'end it with " on the same line'
    elif re.match(r"\d+(\.\d+)?[kKmM]\b", rest):
        hint = "write the full amount with its currency, e.g. 250,000 USD"
    elif ch.isdigit() and re.match(r"\d+,\d{1,2}%", rest):
        hint = "use a decimal point: e.g. 8.5%"
    elif re.match(r"\d{1,2}/\d{1,2}/\d{2,4}", rest):
        hint = "write dates as year-month-day: 2027-03-31"
    elif re.match(r"\d{4}-\d{1,2}-\d{1,2}", rest):
        hint = "write dates with two-digit months and days: 2027-03-01"
    if hint is None:
        hint = _example_hint(where.block, where.first_word(line))
    return error("E-SYNTAX", Span.point(where.path, line, col), message, hint)


def _taken_as_unit(before: list[Token], tok: Token) -> str | None:
    """The hint for a custom field of an example line named like a unit after a number:
    `seats 5 ARR 120,000 USD` reads ARR as the currency of 5, `seats 5 months 12` reads `5
    months` as a duration (the formatter quotes such a key)."""
    if len(before) < 3:
        return None
    key, number, word = before[-3:]
    if key.type in ("NAME", "STRING") and number.type == "NUMBER" and (
            word.type == "CURRENCY" or str(word) in DURATION_WORDS):
        unit = "currency" if word.type == "CURRENCY" else "unit"
        return (f"after a number, '{word}' is read as its {unit} ({number} {word}): to name a "
                f'field {word}, quote it: "{word}" {tok}')
    return None


def _calendar_slip(tok: Token, expected: set[str], rest: str, span: Span,
                   start: PlanStart | None) -> tuple[Span, str, str] | None:
    """(span, found, hint) for a month name or a period without its year where a date, a
    period or a month is expected (`2027-febuary-10`, `booked febuary 10`, `in Q1`,
    `starts in Febuary`); `rest` is the line after the token."""
    value, found = str(tok), f"'{tok}'"
    spelt = re.match(r"-([A-Za-z]+)(?:-(\d{1,2}))?", rest) if tok.type == "NUMBER" and \
        "DATE" in expected and re.fullmatch(r"\d{4}", value) else None
    month = _month(spelt[1]) if spelt is not None else None
    if spelt is not None and month is not None:
        # `2027-febuary-10`: the month is the mistake, so the caret goes under it.
        start = span.end_column + 1
        span = Span(span.path, span.line, start, span.line, start + len(spelt[1]))
        return span, f"'{value}{spelt[0]}'", _month_fix(
            spelt[1], month, f"dates are written in numbers: {value}-{{month}}-"
            f"{int(spelt[2] or 1):02d}")
    month = _month(value)
    if tok.type not in ("NAME", "MONTH"):
        return None
    if "DATE" in expected and month is not None:
        day = re.match(r"\s+(\d{1,2})\b", rest)
        number = MONTH_NAMES.index(month) + 1
        example = f"{start.year_of_month(number)}-{{month}}" if start else "e.g. 2027-{month}"
        return span, found, _month_fix(
            value, month, f"dates are written in numbers, year first: {example}-"
            f"{int(day[1] if day else 1):02d}")
    if "MONTH" in expected and month is not None:
        return span, found, (f"month names are written in lower case: {month}"
                             if month == value.lower() else f"did you mean '{month}'?")
    if "PERIOD" in expected:
        hint = _period_hint(value, rest, start)
        return (span, found, hint) if hint is not None else None
    return None


def _month_fix(word: str, month: str, fix: str) -> str:
    """`fix` with {month} filled in by the number of `month`, which `word` was written for;
    "did you mean" first when `word` is not that month's name."""
    text = fix.format(month=f"{MONTH_NAMES.index(month) + 1:02d}")
    return text if month == word.lower() else f"did you mean '{month}'? {text}"


def _quoted(line: str, width: int = 40) -> str:
    """A code line named in a message, shortened to its start."""
    text = line.strip()
    return f"'{text if len(text) <= width else text[:width - 1].rstrip() + '…'}'"


def _glued_period(tok: Token, prev: Token | None, where: _Where, off: int) -> Diagnostic | None:
    """E-PERIOD for a period naming a part no year has, or in a spelling periods do not take
    (`2027-Q12`, `2027-3`, `FY2027-13`): the lexer reads no period there but a year, a minus
    and a word, so the parse fails at the minus; the mistake is the period, and it is said as
    the checker says it of `2027-Q5`."""
    if str(tok) != "-" or prev is None or prev.type not in ("NUMBER", "PERIOD") or \
            prev.line != tok.line or prev.end_column != tok.column:
        return None
    line = tok.line + off
    # The word must end there: `2027-04-01/15` is a pay period's label, not a month.
    after = re.match(r"[A-Za-z0-9]+(?![-/.\w])", where.text(line)[tok.end_column - 1:])
    word = f"{prev}-{after[0]}" if after else ""
    if not re.fullmatch(r"(?:FY)?[0-9]{4}-(?:[QH][0-9]+|[0-9]+)", word, re.IGNORECASE) or \
            Calendar().parse(word) is not None and not word.upper().startswith("FY"):
        return None
    meant = Calendar().respelt(word)
    if re.fullmatch(r"FY[0-9]{4}-[0-9]+", word, re.IGNORECASE):
        problem = "months are named by their calendar year and number (2027-03), in a " \
                  "fiscal calendar too"
    else:
        problem = part_problem(word) or (f"did you mean {meant}?" if meant else None)
    return error("E-PERIOD", Span(where.path, line, prev.column, line,
                                  prev.column + len(word)),
                 f"'{word}' is not a period" + (f": {problem}" if problem else ""),
                 "periods look like 2027-Q1, 2027-03, 2027-H2, 2027 or FY2027")


def _unexpected(tok: Token, expected: set[str], history: list[Token], where: _Where, off: int,
                keyword_text: dict[str, str], start: PlanStart | None) -> Diagnostic:
    path = where.path
    before = [h for h in history if h is not tok]
    prev = next((h for h in reversed(before) if h.type != "_NL"), None)
    starts_line = not before or before[-1].type == "_NL"
    if tok.type in ("$END", "_DEDENT") or getattr(tok, "line", None) is None:
        line = (prev.line + off) if prev is not None else where.first_line
        col = prev.end_column if prev is not None else 1
        span = Span.point(path, line, col)
    elif tok.type == "_NL":
        span = Span.point(path, tok.line + off, tok.column)
    elif tok.type == "_INDENT":
        span = Span.point(path, tok.end_line + off, tok.end_column)
    else:
        span = Span(path, tok.line + off, tok.column, tok.end_line + off, tok.end_column)
    found = {"_NL": "the end of the line", "$END": "the end of the block",
             "_DEDENT": "the end of the block", "_INDENT": "an indented line"}.get(
        tok.type, f"'{tok}'")
    first = where.first_word(span.line)
    words = _expected_words(expected, keyword_text)

    glued = _glued_period(tok, prev, where, off)
    if glued is not None:
        return glued
    if prev is None:
        close = difflib.get_close_matches(str(tok).lower(), BLOCK_KEYWORDS, n=1, cutoff=0.6)
        hint = (f"did you mean '{close[0]}'? " if close else "") + \
            "a block starts at the left margin with one of: " + ", ".join(BLOCK_KEYWORDS)
        if str(tok) in LINE_EXAMPLES and str(tok) not in BLOCK_KEYWORDS:
            hint = f"'{tok}' lines belong inside a block: indent this line under its block"
        return error("E-BLOCK", span, f"unknown block {found}", hint)

    if tok.type in ("$END", "_DEDENT") and expected == {"_INDENT"}:
        return error("E-SYNTAX", span, f"'{where.first_word(prev.line + off)}' needs indented "
                     "lines below it", _example_hint(where.block, where.first_word(prev.line + off)))
    if tok.type == "_INDENT":
        # A line indented a little too far is as common as a statement wrapped onto the next;
        # the parser read it as an indented line belonging to the line above.
        line = tok.end_line + off
        above_line = prev.line + off
        above = where.text(above_line)
        spaces = len(above) - len(above.lstrip(" "))
        indent = tok.end_column - 1
        first = where.first_word(line)
        if first in BLOCK_KEYWORDS and spaces == 0:  # a header indented under a one-line block
            return indented_header(path, line, indent, first)
        # Lining up with a header at the margin (a one-line `measure`) would start a block.
        fix = "join it to that line: a measure is a block of one line" if spaces == 0 else (
            f"line it up with that line ({_spaces(spaces)}), or join it to that line: a "
            "statement must fit on one line; only block headers, tier tables and step/linear "
            "schedules take indented lines")
        return error("E-INDENT", Span(path, line, 1, line, indent + 1),
                     f"this line is indented {_spaces(indent)}, deeper than line {above_line} "
                     f"above ({_spaces(spaces)}), which takes no indented lines",
                     f"it was read as continuing line {above_line} ({_quoted(above)}): {fix}")
    if expected == {"_INDENT"}:
        # The rows are there but written at the level of the line that owns them.
        line = span.line
        text = where.text(line)
        indent = len(text) - len(text.lstrip(" "))
        owner = prev.line + off
        return error("E-INDENT", Span(path, line, 1, line, indent + 1),
                     f"line {owner} ({_quoted(where.text(owner))}) takes indented lines, but "
                     f"this line is indented like it ({indent} spaces)",
                     f"indent the lines that belong to line {owner} by two more spaces "
                     f"({indent + 2} spaces)")

    context = f" at the start of this line in the '{where.block}' block" if starts_line else \
        f" after '{prev}'"
    value = str(tok)
    hint: str | None = None
    rest = where.text(span.line)[span.end_column - 1:] if tok.type not in (
        "$END", "_DEDENT", "_NL") else ""
    slip = _calendar_slip(tok, expected, rest, span, start)
    if slip is not None:
        span, found, hint = slip
    message = f"expected {_join(words)}{context}, found {found}"
    keywords = [keyword_text[e] for e in expected if e in keyword_text]
    # A word that is itself a keyword is in the wrong place, not misspelt: no "did you mean".
    close = difflib.get_close_matches(value, keywords, n=1, cutoff=0.75) \
        if tok.type == "NAME" and value not in keyword_text.values() else []
    after_block_keyword = prev is not None and str(prev) in BLOCK_KEYWORDS + ("reward",) and \
        prev.line + off == where.first_line
    if hint is not None:  # a calendar slip, found above
        pass
    elif value in KNOWN_SLIPS:
        hint = KNOWN_SLIPS[value]
    elif prev is not None and _spaced_name(str(prev), value):
        hint = _spaced_name(str(prev), value)
    elif value in ("bi", "semi") and str(prev) == "paid":
        hint = ("write the frequency as one word: " + (
            "paid biweekly from 2027-01-04 (the first day of one of the fortnights)"
            if value == "bi" else "paid semimonthly"))
    elif "DATE" in expected and tok.type == "PERIOD" and len(value) == 7:
        hint = f"a date has its day: e.g. {value}-01"
    elif value == "-" and prev is not None and prev.type in ("NUMBER", "PERIOD") and \
            where.first_word(span.line) == "expect":
        hint = ("an expectation names a month or a longer period (2027-02, 2027-Q1, 2027); its "
                "lines are dated, so a month covers its semi-monthly or bi-weekly pay periods")
    elif where.block == "example" and (taken := _taken_as_unit(before, tok)) is not None:
        hint = taken
    elif "PERCENT" in expected and tok.type == "NUMBER":
        hint = percent_hint(value)
    elif "CURRENCY" in expected and tok.type == "NAME" and len(value) == 3:
        hint = f"currency codes are three capital letters, e.g. {value.upper()}"
    elif "CURRENCY" in expected and tok.type in ("_NL", "$END"):
        hint = "an amount of money needs its currency code, e.g. 250,000 USD"
    elif tok.type == "CURRENCY" and "NUMBER" in expected:
        hint = f"put the amount before the currency, e.g. 250,000 {value}"
    elif value == "," and prev is not None and prev.type == "NUMBER":
        hint = "use a decimal point (8.5%) and thousands commas in groups of three (250,000)"
    elif tok.type == "STRING" and "NAME" in expected and after_block_keyword:
        slug = "_".join(re.findall(r"[a-z0-9]+", value.lower())[:2]) or "name"
        if slug[0].isdigit():
            slug = "x" + slug
        hint = (f"give the block a one-word name before its label, e.g. "
                f"{where.block} {slug} {value}")
    elif tok.type == "NAME" and "STRING" in expected and where.block == "plan" and \
            str(prev) == "plan":
        name = where.text(span.line).strip()[len("plan"):].strip()
        hint = f'write the plan name in double quotes: plan "{name}"'
    elif tok.type == "NAME" and "STRING" in expected:
        hint = f'texts are written in double quotes here: "{tok}"'
    elif (tok.type == "NAME" or value == "-") and prev is not None and prev.type == "NAME" and \
            after_block_keyword:
        hint = f"a name is one word of letters, digits and _, e.g. {prev}_{tok if value != '-' else 'x'}"
    elif where.block == "measure" and any(keyword_text.get(e) == "=" for e in expected):
        hint = "write = after the measure's name: measure attainment = bookings / quota bookings"
    elif value == "per" and where.block == "spiff":
        hint = "a SPIFF pays once per matching event: write pay 500 USD"
    elif value == "per" and where.block == "bonus":
        hint = "give the period on the schedule: step on attainment per year, then rows " \
            "such as: at 120% pay 10,000 USD"
    elif close:
        hint = f"did you mean '{close[0]}'?"
    elif starts_line and value in ("from", "at", "to") and where.block in ("commission", "bonus"):
        hint = "rows of a tier table or schedule are indented under its header line, like the " \
            "rows above"
    if hint is None:
        hint = _example_hint(where.block, first)
    return error("E-SYNTAX", span, message, hint)
