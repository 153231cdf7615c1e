"""Parsing the shipped plans, and the inputs that must never raise."""

from pathlib import Path

import pytest

from incentive_dsl.syntax import format_file, parse_path, parse_text
from incentive_dsl.syntax import nodes as n

PLANS = sorted(Path(__file__).parents[1].joinpath("plans").rglob("*.plan"))


@pytest.mark.parametrize("path", PLANS, ids=lambda p: p.name)
def test_shipped_plan_parses_and_is_canonical(path):
    result = parse_path(str(path))
    assert result.diagnostics == ()
    assert format_file(result.tree) == path.read_text()


def test_sample_plan_tree_shape():
    text = (
        'commission core "Core commission"\n'
        "  on bookings\n"
        "  marginal rates by attainment per quarter\n"
        "    from 0% to 100% at 8%  # base\n"
        "    from 100% at 12%\n"
    )
    tree = parse_text("t.plan", text).tree
    (block,) = tree.blocks
    assert isinstance(block, n.CommissionBlock)
    assert block.name.text == "core" and block.label.value == "Core commission"
    base, table = block.items
    assert base.credit.text == "bookings"
    assert table.mode == "marginal" and table.key.text == "attainment" and table.period == "quarter"
    low, high = table.items
    assert (low.low.value, low.high.value, low.rate.value) == (0, 1, n.Percent(raw="8%").value)
    assert low.trailing.text == "# base"
    assert high.high is None
    assert block.span.line == 1 and low.span.line == 4 and low.span.column == 5


@pytest.mark.parametrize("text, expected", [
    ("", []), ("\n\n\n", []),  # empty: nothing to parse (the checker says there is no plan)
    ("   indented", [("E-INDENT", 1, 1)]), ("((((", [("E-BLOCK", 1, 1)]),
    ("plan", [("E-SYNTAX", 1, 5)]), ("\x00\x01", [("E-SYNTAX", 1, 1)]),
    ("plan \"x\n", [("E-SYNTAX", 1, 6)]),
    ("measure m = " + "(" * 1000 + "1" + ")" * 1000, [("E-DEPTH", 1, 113)]),
    ("measure m = " + "1 + " * 3000 + "1", [("E-DEPTH", 1, 11617)]),
    ("commission c\n\tat 8%\n", [("E-INDENT", 2, 1)]),
    ("commission c\n    on x\n  on y\n", [("E-INDENT", 3, 1)]),
])
def test_bad_text_gives_diagnostics_not_exceptions(text, expected):
    result = parse_text("t.plan", text)
    assert all(d.span.path == "t.plan" for d in result.diagnostics)
    assert [(d.code, d.span.line, d.span.column) for d in result.diagnostics] == expected
    assert result.tree.blocks == ()  # a block with an error is left out


def test_every_block_reports_its_own_error():
    text = "comission a\n  on x\n\ncredit b\n  on deal boked\n\nbonus c\n  step on x per yeer\n"
    codes = [(d.code, d.span.line) for d in parse_text("t.plan", text).diagnostics]
    assert codes == [("E-BLOCK", 1), ("E-SYNTAX", 5), ("E-SYNTAX", 8)]


def test_files_that_are_not_plans(tmp_path):
    binary = tmp_path / "b.plan"
    binary.write_bytes(b"plan \x00")
    latin = tmp_path / "l.plan"
    latin.write_bytes(b'plan "caf\xe9"\n')
    for path, code in [(binary, "E-ENCODING"), (latin, "E-ENCODING"), (tmp_path, "E-FILE"),
                       (tmp_path / "missing.plan", "E-FILE")]:
        (d,) = parse_path(str(path)).diagnostics
        assert d.code == code
    (d,) = parse_path(str(latin)).diagnostics
    assert (d.span.line, d.span.column) == (1, 10)


def test_the_block_keywords_are_the_grammars():
    """The list the messages suggest from (and a broken block's header is read with) is the
    grammar's own: a block missing from it is never suggested (`compensaton`)."""
    import re

    from incentive_dsl.syntax.messages import BLOCK_KEYWORDS
    from incentive_dsl.syntax.parser import grammar_text

    starts = re.findall(r'^[a-z_]+_block: "([a-z]+)"', grammar_text(), flags=re.M)
    assert len(starts) > 10 and sorted(BLOCK_KEYWORDS) == sorted(starts)


def test_a_second_mistake_in_a_block_is_reported_after_a_broken_table_row():
    """The row's table is taken out (past a comment line between the header and its rows)
    before the block is parsed again for a second mistake."""
    text = ('commission core "C"\n  on bookings\n  marginal rates by attainment per quarter\n'
            '    # the tiers\n    from 0% to 100% at 8% x\n    from 100% at 12%\n'
            '  cap 1,000 USD per yr\n')
    diags = parse_text("p.plan", text).diagnostics
    assert [(d.code, d.span.line, d.span.column) for d in diags] == [
        ("E-SYNTAX", 5, 27), ("E-SYNTAX", 7, 21)]


def test_lines_that_do_not_belong_in_a_block_are_one_error():
    """A header line that cut a block in two leaves every later line of the other block out
    of place: the first one's error says it, not one per line."""
    text = ('example "One deal"\n  payee ana role AE from 2027-01-01\n'
            'commission core "C"\n  on bookings\n  rate 8%\n'
            '  expect core for ana in 2027-Q1 is 8,000 USD\n'
            '  expect core for ana in 2027-Q2 is 8,000 USD\n')
    diags = parse_text("p.plan", text).diagnostics
    assert [(d.code, d.span.line) for d in diags] == [("E-SYNTAX", 6)]


def test_an_indented_header_is_one_error_not_one_per_line_of_its_block():
    """An indented `payout` header glues the payout block to the bonus above it: its lines are
    read in the bonus block and refused there; the header's error says it for all of them."""
    text = ('bonus target "Target bonus"\n  linear on attainment per quarter\n'
            '    from 50% pay 0 USD\n    to 100% pay 800 USD\n\n'
            '  payout\n  paid monthly\n  hold back 10% until 2027-12-31\n')
    diags = parse_text("p.plan", text).diagnostics
    assert [(d.code, d.span.line, d.span.column) for d in diags] == [("E-SYNTAX", 6, 3)]
