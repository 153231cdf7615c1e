"""The plan document (audit/document.py, `incentive document`): generated from the checked
plan for every shipped plan, in Markdown and HTML; a golden Markdown document of a small plan
(tests/golden/document/); the documents committed in plans/documents/ are those their plans
generate now; untrusted plan text is escaped; examples show their computed results."""

import os
from pathlib import Path

import pytest

from incentive_dsl import api, cli
from incentive_dsl.audit import document
from incentive_dsl.check import model as m
from incentive_dsl.syntax import nodes as n
from test_test_failures import TOO_LARGE  # an example that stops at the computing limit

ROOT = Path(__file__).parents[1]
GOLDEN = ROOT / "tests" / "golden" / "document"
# Every shipped plan: a new one at the top of plans/ needs its document too.
SHIPPED = [*(f"plans/{p.name}" for p in sorted((ROOT / "plans").glob("*.plan"))),
           "plans/crm/field_sales.plan", "plans/operations"]
REGENERATE = "incentive document {plan} --output {doc}"


def _load(path: str):
    loaded = api.load_plan(path)
    assert loaded.plan is not None, path
    return loaded.versions


@pytest.fixture(autouse=True)
def _at_root(monkeypatch):
    # Documents name the plan file as it was given: relative to the repository.
    monkeypatch.chdir(ROOT)


def test_golden_markdown():
    golden = GOLDEN / "commission.md"
    text = api.plan_document(_load("tests/golden/document/commission.plan"))
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8"), (
        "the generated document changed; if that is intended, run UPDATE_GOLDEN=1 python -m "
        "pytest tests/test_document.py")


@pytest.mark.parametrize("plan", SHIPPED)
def test_committed_documents_are_current(plan):
    doc = ROOT / "plans" / "documents" / f"{Path(plan).stem}.md"
    assert api.plan_document(_load(plan)) == doc.read_text(encoding="utf-8"), (
        f"{doc.relative_to(ROOT)} no longer matches its plan; regenerate it: "
        + REGENERATE.format(plan=plan, doc=doc.relative_to(ROOT)))


@pytest.mark.parametrize("plan", SHIPPED)
def test_every_term_is_in_the_document(plan):
    versions = _load(plan)
    md = api.plan_document(versions)
    page = api.plan_document(versions, "html")
    unescaped = md.replace("\\", "")
    for p in versions:
        for text in (p.name, p.source_hash, str(p.effective_start), p.currency):
            assert text in unescaped and text in page
        for c in p.components:
            assert f"{c.label} ({c.name})" in unescaped
            if isinstance(c, m.CommissionSpec) and c.table is not None:
                assert unescaped.count("| From | To |") >= 1
                for row in c.table.rows:
                    assert document.Terms(p).rate(c.table, row.rate) in unescaped
            if isinstance(c, m.BonusSpec) and c.schedule == "step":
                for row in c.steps:
                    assert document.Terms(p).expr(row.pay) in unescaped
        for ex in p.examples:
            assert f"### {ex.name}" in unescaped.replace("\\", "")
    expectations = sum(isinstance(item, n.Expectation) for p in versions for ex in p.examples
                       for item in ex.block.items)
    assert unescaped.count("| agrees |") == expectations > 0
    assert "Acknowledgement" in md and "Signature" in page
    for outside in ("<script", "http://", "https://", "src=", "href="):
        assert outside not in page


def test_untrusted_text_is_escaped():
    versions = _load("tests/golden/document/commission.plan")
    page = api.plan_document(versions, "html")
    assert "Golden &lt;Plan&gt; &amp; *co*" in page and "<Plan>" not in page
    md = api.plan_document(versions)
    assert md.startswith("# Golden \\<Plan\\> \\& \\*co\\*\n")
    assert "Bookings \\| net" in md  # a pipe in a label cannot split a table cell


def test_a_failing_example_shows_both_values(tmp_path):
    text = (GOLDEN / "commission.plan").read_text(encoding="utf-8").replace(
        "is 8,400 EUR  # all of it at 7%", "is 8,000 EUR")
    path = tmp_path / "wrong.plan"
    path.write_text(text, encoding="utf-8")
    md = api.plan_document(_load(str(path)))
    assert "| core for ana in 2027-Q1 is 8,000 EUR | 8,000.00 EUR | 8,400.00 EUR | DIFFERS |" in md


def test_cli_document(tmp_path, capsys):
    out = tmp_path / "doc.html"
    assert cli.main(["document", "plans/enterprise_ae.plan", "--format", "html", "--output",
                     str(out)]) == 0
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    # The format follows the file's extension when not given.
    page = tmp_path / "plan.HTML"
    assert cli.main(["document", "plans/split_deals.plan", "--output", str(page)]) == 0
    assert page.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert cli.main(["document", "plans/split_deals.plan"]) == 0
    assert capsys.readouterr().out.startswith("# Split deals 2027\n")
    assert cli.main(["document", "plans/nope.plan"]) == 2


def test_an_example_that_could_not_be_run_shows_why_not_zeros(tmp_path):
    # A value beyond the computing limit stops the example's run (a missing FX rate would be
    # caught by the checker first: E-EXAMPLE-FX).
    path = tmp_path / "too_large.plan"
    path.write_text(TOO_LARGE, encoding="utf-8")
    md = api.plan_document(_load(str(path)))
    assert "This example could not be computed: 'deal.amount \\* 1,000,000,000,000' comes to " \
        "1.000E+25, beyond the largest value a plan may compute" in md, md
    assert "| core for ana in 2027-01 is 800 EUR | 800.00 EUR | — | not computed |" in md
    assert "DIFFERS" not in md and "| 0.00 EUR |" not in md
