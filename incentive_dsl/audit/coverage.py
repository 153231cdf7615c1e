"""Coverage of plans by their worked examples: which rules, tier rows, bonus steps, pay lines,
accelerators, caps, floors and clawbacks at least one example reaches.

It is read from the traces the examples' runs recorded, never by evaluating anything again:
an earning line's `trace.rule` names its rule and `trace.span` its line (a tier row, a step, a
pay line, or the cap or floor that made a `capped` or `floor` line); `trace.touched` lists the
tier rows and accelerators a commission line went through; a clawback line carries the
clawback rule, a credit line its credit rule. A cap counts as reached only when it bites, since an example that never reaches a
cap does not test it. Targets are listed in source order, so the report reads like the plan.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal

import attrs

from incentive_dsl.audit.examples import ExampleResult
from incentive_dsl.check import model as m
from incentive_dsl.eval.run import RunResult
from incentive_dsl.span import Span

# Earning lines that are not the rule's own pay: adjustments made by other lines of the plan.
ADJUSTMENTS = ("capped", "floor", "plan cap", "plan floor", "clawback")


@attrs.frozen
class Target:
    """One thing an example can reach, with the line it is written on."""

    kind: str  # credit, commission, bonus, ..., tier row, step, pay line, accelerator, cap, ...
    rule: str  # the rule it belongs to ("payout" for the payout block)
    what: str  # "commission", "tier row of core"
    span: Span


@attrs.frozen
class PlanCoverage:
    plan: m.Plan
    examples: int
    targets: tuple[Target, ...]
    reached: tuple[bool, ...]  # one per target

    @property
    def missed(self) -> tuple[Target, ...]:
        return tuple(t for t, hit in zip(self.targets, self.reached) if not hit)

    @property
    def hits(self) -> int:
        return sum(self.reached)

    @property
    def percent(self) -> float:
        return percent(self.hits, len(self.targets))


@attrs.frozen
class Coverage:
    plans: tuple[PlanCoverage, ...]

    @property
    def total(self) -> int:
        return sum(len(p.targets) for p in self.plans)

    @property
    def hits(self) -> int:
        return sum(p.hits for p in self.plans)

    @property
    def percent(self) -> float:
        return percent(self.hits, self.total)

    def below(self, minimum: float) -> bool:
        """Whether coverage is below `minimum` percent (compared exactly, without rounding)."""
        return self.hits * 100 < Decimal(str(minimum)) * self.total

    def to_json(self) -> dict:
        return {"targets": self.total, "reached": self.hits, "percent": round(self.percent, 1),
                "plans": [{"path": p.plan.path, "plan": p.plan.name, "examples": p.examples,
                           "targets": len(p.targets), "reached": p.hits,
                           "percent": round(p.percent, 1),
                           "missed": [{"kind": t.kind, "rule": t.rule, "what": t.what,
                                       "path": t.span.path, "line": t.span.line}
                                      for t in p.missed]}
                          for p in self.plans]}


def percent(hits: int, total: int) -> float:
    return 100.0 if total == 0 else 100.0 * hits / total


def coverage(plans: Sequence[m.Plan], results: Iterable[ExampleResult]) -> Coverage:
    """The coverage of each plan by the runs of its examples (`results` of any plans)."""
    runs: dict[int, list[RunResult]] = defaultdict(list)
    for r in results:
        runs[id(r.plan)].append(r.run)
    return Coverage(tuple(plan_coverage(plan, runs.get(id(plan), ())) for plan in plans))


def plan_coverage(plan: m.Plan, runs: Sequence[RunResult]) -> PlanCoverage:
    found = targets(plan)
    seen = _Seen(plan, runs)
    return PlanCoverage(plan, len(runs), tuple(found), tuple(seen.reached(t) for t in found))


def targets(plan: m.Plan) -> list[Target]:
    """Everything in `plan` an example can reach, in source order."""
    out: list[Target] = []
    for c in plan.credits:
        out.append(Target("credit", c.name, "credit", c.span))
    for comp in plan.components:
        kind = _keyword(comp)
        out.append(Target(kind, comp.name, kind, comp.span))
        if isinstance(comp, m.CommissionSpec):
            for row in comp.table.rows if comp.table is not None else ():
                out.append(Target("tier row", comp.name, f"tier row of {comp.name}", row.span))
            for acc in comp.accelerators:
                out.append(Target(acc.kind, comp.name, f"{acc.kind} of {comp.name}", acc.span))
        if isinstance(comp, m.BonusSpec) and comp.schedule == "step":
            for step in comp.steps:
                out.append(Target("step", comp.name, f"step of {comp.name}", step.span))
        for pay in getattr(comp, "pays", ()):
            out.append(Target("pay line", comp.name, f"pay line of {comp.name}", pay.span))
        for lim in comp.limits:
            out.append(Target(lim.kind, comp.name, f"{lim.kind} of {comp.name}", lim.span))
    for claw in plan.clawbacks:
        out.append(Target("clawback", claw.name, "clawback", claw.span))
    for lim in plan.payout.limits:
        out.append(Target(f"payout {lim.kind}", "payout", f"payout {lim.kind}", lim.span))
    return sorted(out, key=lambda t: (t.span.line, t.span.column))


class _Seen:
    """What the runs' traces show was reached."""

    def __init__(self, plan: m.Plan, runs: Sequence[RunResult]) -> None:
        self.plan = plan
        self.credits: set[str] = set()
        self.rules: set[str] = set()  # rules that paid a line of their own
        self.lines: set[tuple[str, Span]] = set()  # (rule, span) of every earning line
        self.adjusted: set[Span] = set()  # spans of caps and floors that made a line
        self.clawbacks: set[str] = set()
        self.touched: set[tuple[str, Span]] = set()  # tier rows and accelerators gone through
        for run in runs:
            for c in run.credits:
                self.credits.add(c.trace.rule)
            for ln in run.earnings:
                t = ln.trace
                self.lines.add((t.rule, t.span))
                if ln.kind == "clawback":
                    self.clawbacks.add(t.rule)
                elif ln.kind in ADJUSTMENTS:
                    self.adjusted.add(t.span)
                else:
                    self.rules.add(t.rule)
                self.touched.update((t.rule, span) for span in t.touched)

    def reached(self, target: Target) -> bool:
        kind = target.kind
        if kind == "credit":
            return target.rule in self.credits
        if kind == "clawback":
            return target.rule in self.clawbacks
        if kind in ("cap", "floor") or kind.startswith("payout "):
            return target.span in self.adjusted
        if kind in ("tier row", "accelerate", "decelerate"):
            return (target.rule, target.span) in self.lines | self.touched
        if kind in ("step", "pay line"):
            return (target.rule, target.span) in self.lines
        return target.rule in self.rules


def _keyword(comp: object) -> str:
    return {m.CommissionSpec: "commission", m.BonusSpec: "bonus", m.SpiffSpec: "spiff",
            m.StageRewardSpec: "stage reward", m.ActivityRewardSpec: "activity reward",
            m.PoolSpec: "pool", m.OverrideSpec: "override"}[type(comp)]


def source_line(span: Span, sources: Mapping[str, str]) -> str:
    """The text of the line a span starts on, without its indentation."""
    lines = sources.get(span.path, "").splitlines()
    return lines[span.line - 1].strip() if 0 < span.line <= len(lines) else ""
