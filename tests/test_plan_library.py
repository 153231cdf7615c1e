"""The shipped plan library on the shipped data: every plan checks clean, every worked example
passes, every component pays someone a non-zero amount (no rule is dead on real data), and
every line has its own id."""

import re
from collections import defaultdict

import pytest

from incentive_dsl import api
from shipped import ROOT, load_shipped_data

LIBRARY = ["enterprise_ae.plan", "sdr_activity.plan", "sales_manager.plan", "split_deals.plan",
           "presale_enterprise.plan", "omnichannel.plan", "operations",
           "inside_sales_retroactive.plan", "inside_sales_biweekly.plan",
           "target_bonus.plan"]


@pytest.fixture(scope="module", params=LIBRARY)
def evaluated(request):
    loaded = api.load_plan(str(ROOT / "plans" / request.param))
    assert loaded.plan is not None, [str(d) for d in loaded.diagnostics if d.is_error]
    dataset, diags = load_shipped_data(loaded.plan)
    assert not [d for d in diags if d.is_error]
    return loaded, api.run(loaded.versions, dataset)


def test_every_component_pays_someone(evaluated):
    loaded, result = evaluated
    assert result.ok
    paid: dict[str, set[str]] = defaultdict(set)
    for line in result.earnings:
        if line.amount > 0 and line.kind not in ("capped", "clawback", "netting"):
            paid[line.component].add(line.payee)
    components = {c.name for plan in loaded.versions for c in plan.components}
    dead = sorted(c for c in components if not paid.get(c))
    assert not dead, f"components that pay nobody on the shipped data: {dead}"
    assert sum(s.paid for s in result.statements) > 0


def test_every_line_has_its_own_id(evaluated):
    """Earning and payout traces, the ledger and `explain --deal` find lines by id: no two
    credit lines, and no two earning lines, of a run share one."""
    _, result = evaluated
    for lines in (result.credits, result.earnings):
        ids = [line.id for line in lines]
        assert len(ids) == len(set(ids)), [i for i in ids if ids.count(i) > 1][:5]


def test_examples_of_the_library_pass():
    results, checked = api.run_examples([str(ROOT / "plans")])
    assert checked.ok
    failed = [f"{r.plan.name} / {r.example.name}" for r in results if not r.passed]
    assert results and not failed


NUMBERS = {w: i for i, w in enumerate(
    "one two three four five six seven eight nine ten eleven twelve".split(), start=1)}


def test_the_readme_counts_the_worked_examples_of_a_library_plan_right():
    # A row of README's library table that says how many worked examples its plan has.
    rows = re.findall(r"^\| \[plans/([^\]]+)\]\([^)]*\) \|(.*)$",
                      (ROOT / "README.md").read_text(encoding="utf-8"), re.M)
    counted = [(plan, NUMBERS[m[1]]) for plan, text in rows
               if (m := re.search(r"\b(" + "|".join(NUMBERS) + r") worked examples?", text))]
    assert counted  # the table still says it somewhere
    for plan, said in counted:
        loaded = api.load_plan(str(ROOT / "plans" / plan))
        assert said == sum(len(p.examples) for p in loaded.versions), plan
