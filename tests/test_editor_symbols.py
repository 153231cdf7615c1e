"""The name index behind hover and go-to-definition (incentive_dsl/editor/symbols.py)."""

from pathlib import Path

import pytest

from incentive_dsl.editor.symbols import BUILTIN_NAMES, FIELD, analyze

ROOT = Path(__file__).resolve().parents[1]
PLANS = sorted([*ROOT.glob("plans/**/*.plan"), *ROOT.glob("tests/mechanics/*.plan")])


@pytest.mark.parametrize("path", PLANS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_name_of_a_clean_plan_resolves(path):
    result = analyze(str(path), path.read_text("utf-8"))
    assert not any(d.is_error for d in result.diagnostics)
    uses = [o for o in result.occurrences if not o.definition]
    unresolved = [(o.span.line, o.key) for o in uses if result.definition(o) is None
                  and not (o.key[0] == FIELD and o.key[1:] in result.builtin_fields)
                  and o.key not in BUILTIN_NAMES]
    assert not unresolved
    for o in result.occurrences:  # each occurrence spans exactly its name in the source
        assert result.line_text(o.span.line)[o.span.column - 1:o.span.end_column - 1] == o.key[-1]


def test_the_index_sees_every_kind_of_use():
    text = (ROOT / "plans" / "enterprise_ae.plan").read_text("utf-8")
    result = analyze("enterprise_ae.plan", text)
    kinds = {o.key[0] for o in result.occurrences if not o.definition}
    assert kinds == {"rule", "quota", "field", "role", "payee"}


def test_a_file_with_syntax_errors_still_indexes_and_checks_its_other_blocks():
    text = ('plan "P"\n  currency USD\n  effective 2027-01-01 to 2027-12-31\n\n'
            "credit bookings\n  on deal booked\n\ncommission core\n  on bookings\n  rate at 8%\n"
            "\nmeasure m = bookings + 1 day\n")
    result = analyze("p.plan", text)
    assert [d.code for d in result.diagnostics] == ["W-NO-EXAMPLE", "E-SYNTAX", "E-UNIT"]
    use = result.at(12, 13)
    assert use is not None and use.key == ("rule", "bookings")
    assert result.definition(use).span.line == 5
    # Checked as `incentive check` checks it: the credit has its type.
    assert result.describe(use).startswith("credit `bookings`: money in USD\n")


def test_builtin_fields_have_their_type():
    text = ('plan "P"\n  currency EUR\n  effective 2027-01-01 to 2027-12-31\n\n'
            "credit big\n  on deal booked where deal.amount > 10 EUR\n")
    result = analyze("p.plan", text)
    use = result.at(6, 30)
    assert use.key == ("field", "deal", "amount")
    assert result.describe(use) == "built-in field `deal.amount`: money in EUR"
