"""A Pygments lexer for plan files (`pygmentize -l incentive`, or Markdown fences written
```incentive): registered through the `pygments.lexers` entry point in pyproject.toml.

The language reserves a keyword only where it may appear (the parser's lexer is contextual),
so this lexer, working line by line without the grammar, highlights a keyword wherever it
stands; `deal.type` and other field paths are matched first so their parts stay names. Block
keywords at the start of a line are declarations and the name after them a definition.
"""

from __future__ import annotations

from pygments.lexer import RegexLexer, bygroups, words
from pygments.token import (Comment, Keyword, Literal, Name, Number, Operator, Punctuation,
                            String, Whitespace)

__all__ = ["IncentiveLexer", "KEYWORDS"]

# Blocks whose header is `KEYWORD NAME ["label"]`.
NAMED_BLOCKS = ("quota", "credit", "measure", "commission", "bonus", "spiff", "pool",
                "override", "clawback")
OTHER_BLOCKS = ("plan", "fields", "payout", "example", "stage", "activity", "reward",
                "compensation")
WORD_OPERATORS = ("and", "or", "not", "is", "in", "of", "reaches", "if", "then", "else")
CONSTANTS = ("true", "false")
TYPES = ("text", "number", "count", "money", "percent", "date", "duration", "yes", "no", "one")
OTHER_KEYWORDS = (
    "advance", "advances", "base", "biweekly", "forgive", "hire", "incentive", "later", "most",
    "recover", "salary", "semimonthly", "target",
    "above", "accelerate", "active", "activities", "against", "all", "amended", "amount",
    "amounts", "annually", "applies", "as", "at", "attribute", "average", "back", "belongs",
    "below", "booked", "booking", "bound", "budget", "by", "cancelled", "cap", "channels",
    "collected", "come",
    "convert", "currencies", "currency", "data", "day", "days", "deal", "deals", "decelerate",
    "digital",
    "direct", "down", "draw", "during", "each", "earnings", "effective", "employment", "end",
    "equally", "even", "evenly", "event", "excess", "expect", "first", "fiscal", "floor", "for",
    "forecast", "forgiven", "from", "fund", "fx", "half", "hold", "index", "invoiced", "keep",
    "last",
    "line", "linear", "lose", "manager", "managers", "marginal", "middle", "month", "monthly", "months",
    "naive", "net", "non-recoverable", "normalize", "on", "original", "over", "overlay", "owner",
    "paid", "pay", "payee", "per", "period", "position", "prorate", "proration", "quarter",
    "quarterly", "quarters", "ramp", "rate", "rates", "reaching", "recorded", "recoverable",
    "retroactive", "reverse", "role", "roles", "roll", "rounding", "seasonal", "semiannually",
    "served",
    "share", "split", "stages", "starts", "statement", "step", "team", "termination",
    "territory", "the", "their", "tier", "to", "total", "touch", "touches", "trailing", "trend", "until",
    "up", "value", "version", "week", "weeks", "when", "where", "within", "year", "years",
)
KEYWORDS = frozenset((*NAMED_BLOCKS, *OTHER_BLOCKS, *WORD_OPERATORS, *CONSTANTS, *TYPES,
                      *OTHER_KEYWORDS))
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
          "september", "october", "november", "december")

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_NUMBER = r"(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?"
_WORD_START = r"(?<![\w.-])"  # a keyword is a whole word, never a field's part
_WORD_END = r"(?![\w-])"


class IncentiveLexer(RegexLexer):
    name = "Incentive plan"
    aliases = ["incentive", "incentive-plan"]
    filenames = ["*.plan"]
    mimetypes = ["text/x-incentive-plan"]

    tokens = {
        "root": [
            (r"#.*?$", Comment.Single),
            (r"\s+", Whitespace),
            (r'"(?:[^"\\\n]|\\.)*"', String.Double),
            (rf"^({'|'.join(NAMED_BLOCKS)})(\s+)({_NAME})",
             bygroups(Keyword.Declaration, Whitespace, Name.Function)),
            (r"^(stage|activity)(\s+)(reward)(\s+)(" + _NAME + ")",
             bygroups(Keyword.Declaration, Whitespace, Keyword.Declaration, Whitespace,
                      Name.Function)),
            (r"^(plan|fields|payout|example)\b", Keyword.Declaration),
            (r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?![\w-])", Literal.Date),
            (r"(?:FY[0-9]{4}(?:-Q[0-9]|-H[0-9])?(?!\w)|[0-9]{4}-(?:Q[0-9]|H[0-9]|[0-9]{2})(?![\w-]))",
             Literal.Date),
            (_NUMBER + r"%", Number.Float),
            (r"[0-9]+(?:\.[0-9]+)?x(?!\w)", Number.Float),
            (rf"({_NUMBER})(\s+)([A-Z]{{3}})(?!\w)", bygroups(Number, Whitespace, Name.Constant)),
            (_NUMBER + r"(?![\w%])", Number),
            (r"(currency)(\s+)([A-Z]{3})(?!\w)", bygroups(Keyword, Whitespace, Name.Constant)),
            (rf"(deal|payee|activity)(\.)({_NAME})", bygroups(Name.Builtin, Punctuation,
                                                                Name.Attribute)),
            (rf"({_NAME})(\.)({_NAME})", bygroups(Name.Variable, Punctuation, Name.Attribute)),
            (words(WORD_OPERATORS, prefix=_WORD_START, suffix=_WORD_END), Operator.Word),
            (words(CONSTANTS, prefix=_WORD_START, suffix=_WORD_END), Keyword.Constant),
            (words(TYPES, prefix=_WORD_START, suffix=_WORD_END), Keyword.Type),
            (words(MONTHS, prefix=_WORD_START, suffix=_WORD_END), Name.Constant),
            (words((*NAMED_BLOCKS, *OTHER_BLOCKS, *OTHER_KEYWORDS), prefix=_WORD_START,
                   suffix=_WORD_END), Keyword),
            (_NAME, Name),
            (r">=|<=|!=|=|>|<|\+|-|\*|/", Operator),
            (r"[,.()]", Punctuation),
        ],
    }
