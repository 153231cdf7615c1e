"""The editor grammars (Pygments lexer, VS Code TextMate grammar) against the language's
grammar: every keyword of grammar/incentive.lark is highlighted by both, neither lists a word
the language does not have, and every shipped plan lexes without an error token."""

import json
import re
from pathlib import Path

import pytest
from pygments.lexers import get_lexer_by_name, get_lexer_for_filename
from pygments.token import Error, Keyword, Operator

from incentive_dsl.editor.keywords import grammar_keywords
from incentive_dsl.editor.pygments_lexer import KEYWORDS, MONTHS, IncentiveLexer
from incentive_dsl.syntax import parse_path

ROOT = Path(__file__).resolve().parents[1]
VSCODE = ROOT / "editors" / "vscode"
PLANS = sorted([*ROOT.glob("plans/**/*.plan"), *ROOT.glob("tests/mechanics/*.plan"),
                *ROOT.glob("tests/golden/**/*.plan")])


def _parses(path: Path) -> bool:
    return not any(d.is_error for d in parse_path(str(path)).diagnostics)


# Every plan that parses (the golden syntax cases are broken on purpose).
SHIPPED = [p for p in PLANS if _parses(p)]
BROKEN = ["dollar_sign_money", "smart_quotes", "programmer_operators"]


def test_the_shipped_plans_are_lexed():
    assert len(SHIPPED) > 60 and any(p.name == "enterprise_ae.plan" for p in SHIPPED)


def test_grammar_keywords_are_read():
    words = grammar_keywords()
    # A sample from different parts of the grammar, so a broken reader cannot pass vacuously.
    assert {"plan", "commission", "non-recoverable", "reaches", "semiannually", "yes"} <= words
    assert "NAME" not in words and "+" not in words


def test_pygments_keywords_match_the_grammar():
    assert KEYWORDS == grammar_keywords()


def _lex(text: str):
    return [(t, v) for t, v in IncentiveLexer().get_tokens(text) if v.strip()]


@pytest.mark.parametrize("word", sorted(grammar_keywords()))
def test_pygments_highlights_every_keyword(word):
    ((token, value),) = _lex(f"  {word}\n")
    assert value == word
    assert token in Keyword or token in Operator.Word, token


def test_pygments_tokens_of_a_plan():
    tokens = _lex('commission core "Core"\n  on deal booked where deal.type is "new" # c\n'
                  "  from 0% to 100% at 8%\n  cap 150,000 USD per year\n"
                  "  rate 2027-Q1 or 2027-01-31 and 1.5x\n")
    assert [str(t) for t, _ in tokens[:3]] == ["Token.Keyword.Declaration", "Token.Name.Function",
                                               "Token.Literal.String.Double"]
    kinds = {v: str(t) for t, v in reversed(tokens)}  # the first occurrence of each text
    assert kinds["deal"] == "Token.Keyword"  # `on deal booked`; `deal.type` is a field
    assert kinds["type"] == "Token.Name.Attribute"
    assert kinds["is"] == "Token.Operator.Word"
    assert kinds["150,000"] == "Token.Literal.Number"
    assert kinds["USD"] == "Token.Name.Constant"
    assert kinds["8%"] == kinds["1.5x"] == "Token.Literal.Number.Float"
    assert kinds["2027-Q1"] == kinds["2027-01-31"] == "Token.Literal.Date"
    assert kinds["# c"] == "Token.Comment.Single"


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
def test_pygments_lexes_shipped_plans_without_errors(path):
    text = path.read_text("utf-8")
    errors = [(v, i) for i, (t, v) in enumerate(IncentiveLexer().get_tokens(text)) if t in Error]
    assert not errors


@pytest.mark.parametrize("name", BROKEN)
def test_pygments_marks_what_no_plan_may_hold(name):
    text = (ROOT / "tests" / "golden" / "syntax" / f"{name}.plan").read_text("utf-8")
    assert any(t in Error for t, _ in IncentiveLexer().get_tokens(text))


def test_pygments_entry_point_finds_the_lexer():
    assert isinstance(get_lexer_by_name("incentive"), IncentiveLexer)
    assert isinstance(get_lexer_for_filename("enterprise_ae.plan"), IncentiveLexer)


# ------------------------------------------------------------------------------ TextMate


def _tm_grammar() -> dict:
    return json.loads((VSCODE / "syntaxes" / "incentive.tmLanguage.json").read_text("utf-8"))


def _tm_patterns(node):
    if isinstance(node, dict):
        if "match" in node:
            yield node
        for value in node.values():
            yield from _tm_patterns(value)
    elif isinstance(node, list):
        for value in node:
            yield from _tm_patterns(value)


def _tm_keyword_patterns():
    return [p for p in _tm_patterns(_tm_grammar()["repository"]["keyword"])]


@pytest.mark.parametrize("word", sorted(grammar_keywords()))
def test_textmate_highlights_every_keyword(word):
    # TextMate grammars use Oniguruma regexes; these patterns use only what Python's re
    # shares with it (alternations, lookarounds), so re decides the same.
    scopes = [p["name"] for p in _tm_keyword_patterns() if re.fullmatch(p["match"], word)]
    assert scopes, f"'{word}' is not highlighted by the TextMate grammar"
    assert scopes[0].startswith(("keyword.", "constant.language", "storage.type")), scopes


def test_textmate_lists_no_word_the_grammar_lacks():
    listed = set()
    for p in _tm_keyword_patterns():
        body = re.search(r"\(\?:([^()]*)\)", p["match"]).group(1)
        listed |= set(body.split("|"))
    assert listed - set(MONTHS) == set(grammar_keywords())


def test_textmate_keywords_stay_whole_words():
    (keywords,) = [p for p in _tm_keyword_patterns() if p["name"] == "keyword.other.incentive"]
    for text in ("my_deal", "dealer", "x.deal", "recoverable_x", "re-deal"):
        assert re.search(keywords["match"], text) is None, text
    assert re.search(keywords["match"], "non-recoverable").group() == "non-recoverable"


def test_vscode_extension_wires_the_grammar():
    package = json.loads((VSCODE / "package.json").read_text("utf-8"))
    (lang,) = package["contributes"]["languages"]
    (grammar,) = package["contributes"]["grammars"]
    assert lang["extensions"] == [".plan"] and grammar["language"] == lang["id"]
    assert (VSCODE / grammar["path"]).resolve() == VSCODE / "syntaxes" / "incentive.tmLanguage.json"
    assert grammar["scopeName"] == _tm_grammar()["scopeName"]
    config = json.loads((VSCODE / lang["configuration"]).read_text("utf-8"))
    assert config["comments"]["lineComment"] == "#"
