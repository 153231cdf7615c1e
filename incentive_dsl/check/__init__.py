"""The checker: syntax trees -> checked plans (check/model.py) and diagnostics.

It guarantees what the interpreter relies on: names resolve, units agree, tier tables are
contiguous, shares total 100%, periods fit. Checks across files (versions of one plan) run
after each file is checked on its own. Diagnostics are returned sorted, never raised.
"""

from __future__ import annotations

from collections.abc import Sequence

from incentive_dsl.check.model import Plan
from incentive_dsl.check.plan import PlanChecker
from incentive_dsl.check.versions import check_versions
from incentive_dsl.diagnostics import Diagnostic
from incentive_dsl.syntax.nodes import PlanFile
from incentive_dsl.syntax.parser import BrokenBlock

__all__ = ["Plan", "check_trees"]


def check_trees(trees: Sequence[tuple[PlanFile, str]
                                | tuple[PlanFile, str, tuple[BrokenBlock, ...]]]
                ) -> tuple[list[Plan], list[Diagnostic]]:
    """Check parsed files (tree, source text, and for a file with syntax errors the blocks
    its parse left out: `ParseResult.broken`). Plans are returned only for error-free files."""
    plans: list[Plan] = []
    diags: list[Diagnostic] = []
    for tree, source, *broken in trees:
        plan, found = PlanChecker(tree, source, *broken).run()
        diags.extend(found)
        if plan is not None:
            plans.append(plan)
    diags.extend(check_versions(plans))
    return plans, sorted(diags, key=Diagnostic.sort_key)
