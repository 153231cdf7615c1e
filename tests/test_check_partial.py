"""Checking a file with syntax errors: the blocks that parsed are checked, and nothing is
reported merely because a block with errors is absent (docs/language.md §24). The golden
cases tests/golden/check/syntax_error_in_*.plan show single situations; this module breaks
every block of every shipped plan in turn."""

from __future__ import annotations

from pathlib import Path

import pytest

from incentive_dsl import api
from incentive_dsl.syntax.parser import comment_start, parse_text

ROOT = Path(__file__).resolve().parents[1]
PLANS = sorted((ROOT / "plans").rglob("*.plan"))
# A mistake the checker finds in any plan, added as a block of its own: it shows that the
# rest of a file with a broken block is checked.
PLANTED = "measure planted = 5% + 3 days"
# Blocks every other block is read with: when one is broken, the rest is not checked.
UNCHECKED_WITHOUT = ("plan", "fields", "compensation")


def _headers(text: str) -> list[int]:
    """Indexes of the block header lines of `text`."""
    return [i for i, line in enumerate(text.split("\n")) if line[:1] not in ("", " ", "#")]


def _broken_at(text: str, index: int) -> str:
    """`text` with a stray token at the end of the code of line `index`."""
    lines = text.split("\n")
    line = lines[index]
    at = comment_start(line)
    at = len(line) if at is None else at
    lines[index] = f"{line[:at].rstrip()} @ {line[at:]}".rstrip()
    return "\n".join(lines)


@pytest.mark.parametrize("plan", PLANS, ids=lambda p: p.relative_to(ROOT / "plans").as_posix())
def test_breaking_one_block_of_a_shipped_plan_reports_that_block_only(plan, tmp_path):
    text = plan.read_text(encoding="utf-8").rstrip("\n") + f"\n\n{PLANTED}\n"
    planted_line = text.count("\n")
    intact = api.check_paths([_write(tmp_path, text)])
    assert [(d.code, d.span.line) for d in intact.diagnostics] == [("E-UNIT", planted_line)]
    for index in _headers(text)[:-1]:  # not the planted block itself
        broken = _broken_at(text, index)
        result = api.check_paths([_write(tmp_path, broken)])
        keyword = broken.split("\n")[index].split()[0]
        want = [("E-SYNTAX", index + 1)]
        if keyword not in UNCHECKED_WITHOUT:
            want.append(("E-UNIT", planted_line))
        got = [(d.code, d.span.line) for d in result.diagnostics]
        assert got == want, f"{plan.name}: line {index + 1} broken: {result.diagnostics}"
        assert result.plans == ()


# A block broken only on these lines (by their first word) is checked without them, and so is
# the rest of the file: they declare nothing the rest is read with.
LEFT_OUT = {"plan": ("applies", "rounding", "convert", "roles", "stages", "channels",
                     "activities", "effective", "version"),
            **{k: ("cap", "floor", "when", "accelerate", "decelerate")
               for k in ("commission", "bonus", "spiff", "pool", "override", "stage",
                         "activity", "credit", "measure", "quota")},
            "clawback": ("cap", "floor"), "compensation": ("base", "target")}


@pytest.mark.parametrize("plan", PLANS, ids=lambda p: p.relative_to(ROOT / "plans").as_posix())
def test_a_broken_line_that_declares_nothing_leaves_the_rest_checked(plan, tmp_path):
    """A broken `rounding`, `applies to` or `convert` line of the plan header, a broken field
    line (its field then read without its type), and a broken limit, condition or
    accelerator of a rule declare nothing the rest is read with: the block without the line
    stands in, and the rest of the file (and of the block) is checked. So does a broken
    `roles` line: the rest is read with the roles it names; a broken list of stages,
    channels or activities: the rest may name any; and a broken effective range or version.
    A broken line that declares what the rest is read with (currency, fiscal year) still
    stops the rest."""
    text = plan.read_text(encoding="utf-8").rstrip("\n") + f"\n\n{PLANTED}\n"
    planted_line = text.count("\n")
    lines = text.split("\n")
    keyword = None
    for index, line in enumerate(lines[:-2]):
        if line[:1] not in ("", " ", "#"):
            keyword = line.split()[0]
            continue
        word = line.split()[0] if line.strip() else "#"
        leaves_rest = word in LEFT_OUT.get(keyword, ()) or keyword == "fields"
        if word.startswith("#") or not (keyword in ("plan", "fields") or leaves_rest):
            continue
        result = api.check_paths([_write(tmp_path, _broken_at(text, index))])
        want = [("E-SYNTAX", index + 1)] + ([("E-UNIT", planted_line)] if leaves_rest else [])
        got = [(d.code, d.span.line) for d in result.diagnostics]
        assert got == want, f"{plan.name}: line {index + 1} broken: {result.diagnostics}"
        assert result.plans == ()


def _write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "plan.plan"
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("header, keyword, name", [
    ("commission core", "commission", "core"),
    ('commission core "Core commission" @', "commission", "core"),
    ("measure attainment = bookings // quota bookings", "measure", "attainment"),
    ('quota bookings "Bookings quota"', "quota", "bookings"),
    ("stage reward demo_done", "stage reward", "demo_done"),
    ("payout @", "payout", None),
    ("commission 3x", "commission", None),
    ("commission core-x", "commission", None),
    ("comission core", None, None),
])
def test_a_broken_block_is_known_by_its_header_line(header, keyword, name):
    result = parse_text("p.plan", f"{header}\n  on bookings )\n")
    assert [(b.line, b.keyword, b.name) for b in result.broken] == [(1, keyword, name)]
    assert "bookings" in result.broken[0].words


def test_a_broken_block_of_unknown_kind_leaves_the_rest_unchecked(tmp_path):
    """`comission core` may define the `core` the example expects: no E-NAME, no E-EXAMPLE-RULE
    can be trusted, so only the syntax error is reported."""
    path = tmp_path / "ae.plan"
    path.write_text('plan "AE"\n  currency USD\n  effective 2027-01-01 to 2027-12-31\n'
                    '  roles AE\n\ncredit bookings\n  on deal booked\n\n'
                    'comission core\n  on bookings\n  rate 8%\n\n'
                    'example "One deal"\n  payee ana role AE from 2027-01-01\n'
                    '  deal D1 booked 2027-02-10 by ana amount 100 USD\n'
                    '  expect core for ana in 2027-Q1 is 8 USD\n', encoding="utf-8")
    loaded = api.load_plan(str(path))
    assert [d.code for d in loaded.diagnostics] == ["E-BLOCK"]
    assert loaded.plan is None


def test_load_plan_reports_both_and_gives_no_plan():
    loaded = api.load_plan(str(ROOT / "tests" / "golden" / "check" / "syntax_error_in_payout.plan"))
    assert [d.code for d in loaded.diagnostics] == ["E-UNIT", "E-SYNTAX"]
    assert loaded.plan is None and loaded.versions == ()


def test_a_rule_broken_on_its_cap_is_checked_without_it(tmp_path):
    """The rest of the rule is checked: the tier rate written without its % sign is reported
    in the same check as the typo in the cap (the first check of a plan shows both)."""
    text = (ROOT / "plans" / "enterprise_ae.plan").read_text(encoding="utf-8")
    text = text.replace("    from 0% to 100% at 8%", "    from 0% to 100% at 8", 1)
    text = text.replace("  cap 150,000 USD per year", "  cap 150,000 USD per yr", 1)
    lines = text.split("\n")
    rate = next(i for i, line in enumerate(lines) if line == "    from 0% to 100% at 8") + 1
    cap = next(i for i, line in enumerate(lines) if line == "  cap 150,000 USD per yr") + 1
    result = api.check_paths([_write(tmp_path, text)])
    assert [(d.code, d.span.line) for d in result.diagnostics] == [
        ("E-UNIT", rate), ("E-SYNTAX", cap)]


def test_a_broken_roles_line_leaves_the_rest_read_with_the_roles_it_names(tmp_path):
    """The typo in the roles line and the tier rate without its % sign are reported in one
    check; a role compared in an expression, named nowhere else, is no error of its own."""
    text = (ROOT / "plans" / "target_bonus.plan").read_text(encoding="utf-8")
    text = text.replace("  roles VP, MGR, AE, SE, SDR\n", "  roles VP, MGR, AE, SE, SDR,\n")
    text = text.replace("    from 100% at 10%\n", "    from 100% at 10\n")
    text = text.replace('  on deal booked where deal.type is "new_business"\n',
                        '  on deal booked where deal.type is "new_business" and '
                        'payee.role is "VP"\n')
    result = api.check_paths([_write(tmp_path, text)])
    got = [(d.code, d.span.line, d.message) for d in result.diagnostics]
    assert [(code, line) for code, line, _ in got] == [("E-SYNTAX", 9), ("E-UNIT", 45)], got
    # Fixed, the same file checks clean but for the rate: the roles it names were declared.
    fixed = api.check_paths([_write(tmp_path, text.replace("SE, SDR,\n", "SE, SDR\n"))])
    assert [(d.code, d.span.line) for d in fixed.diagnostics] == [("E-UNIT", 45)]


def test_a_header_indented_into_the_block_above_defines_its_name(tmp_path):
    """`  measure attainment = …` written under a credit is read as a line of the credit, which
    it breaks: it is said to be an indented header, and the rules that read `attainment` are
    not told it is unknown."""
    text = (ROOT / "plans" / "enterprise_ae.plan").read_text(encoding="utf-8")
    assert "\nmeasure attainment = " in text
    text = text.replace("\nmeasure attainment = ", "\n  measure attainment = ")
    line = text[:text.index("  measure attainment")].count("\n") + 1
    result = api.check_paths([_write(tmp_path, text)])
    assert [(d.code, d.span.line, d.message) for d in result.diagnostics] == [
        ("E-INDENT", line, "'measure' starts a block, but this line is indented")]


def test_a_broken_roles_line_leaves_applies_to_unchecked(tmp_path):
    """Without the roles, a typo in `applies to` (SEE for SE) cannot be told from a role the
    plan leaves out: the lines for role SE are not said to be outside the plan."""
    text = (ROOT / "tests" / "golden" / "check" / "applies_to_misspelt_role.plan").read_text(
        encoding="utf-8").replace("  roles AE, SE, SDR\n", "  roles AE, SE, SDR,\n")
    result = api.check_paths([_write(tmp_path, text)])
    assert [(d.code, d.span.line) for d in result.diagnostics] == [("E-SYNTAX", 6)]
