"""Checks across files: the versions of one plan must follow each other without overlap or gap,
and pay on the same pay periods.

Files whose plan headers share a name are versions of one plan. Sorted by start date, each
version must start the day after the previous one ends; only the last may be open-ended. Each
version pays what it earned even after it ends, so versions paid on other pay periods would
give overlapping statements (and the ledger could not close them): they must agree.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence

from incentive_dsl.check.model import Plan
from incentive_dsl.diagnostics import Diagnostic, Related, error


def check_versions(plans: Sequence[Plan]) -> list[Diagnostic]:
    diags: list[Diagnostic] = []
    by_name: dict[str, list[Plan]] = defaultdict(list)
    for plan in plans:
        by_name[plan.name].append(plan)
    for versions in by_name.values():
        versions.sort(key=lambda p: (p.effective_start, p.path))
        for before, after in zip(versions, versions[1:]):
            end = before.effective_end
            if end is None or after.effective_start <= end:
                diags.append(error(
                    "E-VERSION-OVERLAP", after.effective_span or after.span,
                    f"versions of plan \"{after.name}\" overlap: this one starts "
                    f"{after.effective_start}, the one in {before.path} runs to "
                    f"{end or 'no end date'}",
                    f"end the earlier version on {after.effective_start - dt.timedelta(days=1)}",
                    [Related(before.effective_span or before.span, "the earlier version")]))
            elif after.effective_start > end + dt.timedelta(days=1):
                diags.append(error(
                    "E-VERSION-GAP", after.effective_span or after.span,
                    f"versions of plan \"{after.name}\" leave a gap: nothing is in effect from "
                    f"{end + dt.timedelta(days=1)} to "
                    f"{after.effective_start - dt.timedelta(days=1)}",
                    f"start this version on {end + dt.timedelta(days=1)}",
                    [Related(before.effective_span or before.span,
                             "the earlier version ends here")]))
            if _pay(before) != _pay(after):
                diags.append(error(
                    "E-VERSION-PAY", after.payout.span or after.span,
                    f"versions of plan \"{after.name}\" pay on other pay periods: this one is "
                    f"paid {_pay(after)}, the one in {before.path} is paid {_pay(before)}",
                    "keep the pay frequency of the plan; paying otherwise from a date is a new "
                    "plan, with its own name",
                    [Related(before.payout.span or before.span, "the earlier version's payout")]))
    return diags


def _pay(plan: Plan) -> str:
    start = plan.calendar.pay_start
    return plan.payout.frequency + (f" from {start}" if start is not None else "")
