"""A run: one checked plan evaluated on one dataset over a range of days.

`evaluate` chains the stages (credits, measures, earnings, payouts) inside a fixed decimal
context, so results never depend on the caller's settings, and stamps the result with what it
read. Problems in the data that only evaluation can find (a missing FX rate) come back as
diagnostics, never as exceptions.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable, Sequence

import attrs

from incentive_dsl.audit.stamp import RunStamp, make_stamp
from incentive_dsl.check.model import Plan
from incentive_dsl.collector import collector_paused
from incentive_dsl.data.records import Dataset, PayeeRecord, Roster
from incentive_dsl.diagnostics import Diagnostic, error, warning
from incentive_dsl.eval.context import Deals, EvaluationError, EventIndex, Fx
from incentive_dsl.eval.credits import CreditStage
from incentive_dsl.eval.earnings import EarningStage
from incentive_dsl.eval.measures import MeasureEngine
from incentive_dsl.eval.money import CONTEXT
from incentive_dsl.eval.payouts import PayoutStage
from incentive_dsl.eval.records import (
    STATEMENT_FLOWS, CreditLine, EarningLine, PayoutLine, Skip, Statement)
from incentive_dsl.progress import QUIET, Meter
from incentive_dsl.span import Span


@attrs.frozen
class RunResult:
    plan: Plan
    stamp: RunStamp
    credits: tuple[CreditLine, ...]
    earnings: tuple[EarningLine, ...]
    payouts: Sequence[PayoutLine]  # PayoutLines from a run
    statements: tuple[Statement, ...]
    skips: Sequence[Skip]  # Skips from a run
    diagnostics: tuple[Diagnostic, ...]
    engine: MeasureEngine | None = attrs.field(default=None, eq=False, repr=False)
    versions: tuple[RunStamp, ...] = ()  # when several versions of a plan were run together
    # The roster's rows when no engine is kept (a columnar run): the names statements show.
    roster: tuple[PayeeRecord, ...] = attrs.field(default=(), eq=False, repr=False)

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)


def default_range(plan: Plan, dataset: Dataset) -> tuple[dt.date, dt.date]:
    end = plan.effective_end
    if end is None:
        end = max((e.date for e in dataset.events), default=plan.effective_start)
    return plan.effective_start, end


def evaluate(plan: Plan, dataset: Dataset, start: dt.date | None = None,
             end: dt.date | None = None,
             progress: Callable[[str], None] | None = None,
             pause_gc: bool = True, meter: Meter | None = None) -> RunResult:
    """Evaluate `plan` on `dataset` for the days start..end (default: the plan's effective
    range), clipped to the plan's effective range. `progress` is told each stage's name as it
    starts; `meter` is told each stage's size and how far it is (the CLI's progress bar, see
    `incentive_dsl.progress`). `pause_gc`: pause the process's garbage collector during the
    run (see `incentive_dsl.collector`)."""
    meter = meter or QUIET

    def step(stage: str, total: int) -> None:
        if progress is not None:
            progress(stage)
        meter.stage(f"evaluating: {stage}", total)

    d_start, d_end = default_range(plan, dataset)
    start = max(start or d_start, plan.effective_start)
    pay_end = end or d_end
    # Earnings stop at the plan's end; pay goes on to `end`, so money earned under this plan
    # but paid later (collections, holdback releases) is still paid by it.
    end = min(pay_end, plan.effective_end or pay_end)
    stamp = make_stamp(plan, dataset, start, end)
    notes: list[tuple[str, Span | None]] = []
    with decimal.localcontext(CONTEXT), collector_paused(pause_gc):
        try:
            step("credits", len(dataset.events))
            roster = Roster(list(dataset.payees))
            fx = Fx(dataset.fx, plan.currency, plan.fx_basis)
            index = EventIndex(dataset.events)
            deals = Deals(index, fx)
            engine = MeasureEngine(plan, dataset, roster, fx, deals, notes)
            credits, credit_skips = CreditStage(plan, index, deals, fx, roster,
                                                engine.evaluator).run(meter)
            engine.add_credits(credits)
            step("earnings", len(credits))
            earnings, skips = EarningStage(plan, engine, roster, deals,
                                           engine.evaluator, start, end, claw_end=pay_end,
                                           skips=credit_skips).run(meter)
            step("payouts", len(earnings))
            payouts, statements = PayoutStage(plan, roster, deals, fx, start,
                                               max(end, pay_end),
                                               engine.compensation).run(earnings, meter)
        except EvaluationError as exc:
            src = exc.event.source if exc.event is not None else None
            span = exc.span or (Span.point(src.path, src.row, 1) if src else plan.span)
            where = f" (on {src.path}:{src.row})" if src and exc.span else ""
            return RunResult(plan, stamp, (), (), (), (), (),
                             (error("E-DATA", span, exc.message + where,
                                    exc.hint or "add the missing rate to the FX table"),))
        except decimal.DecimalException as exc:
            # Beyond the 34 exact digits of the money context; limits.py keeps data and plan
            # values far below, so only a computation of many products can get here.
            return RunResult(plan, stamp, (), (), (), (), (),
                             (error("E-DATA", plan.span, "a value computed in this run is too "
                                    f"large for exact arithmetic ({type(exc).__name__})",
                                    "check the data for huge amounts or tiny quotas"),))
    diags = tuple(warning("W-DATA", span or plan.span, note) for note, span in notes)
    return RunResult(plan, stamp, tuple(credits), tuple(earnings), payouts,
                     tuple(statements), skips, diags, engine)


def evaluate_versions(plans: Sequence[Plan], dataset: Dataset, end: dt.date | None = None,
                      progress: Callable[[str], None] | None = None,
                      pause_gc: bool = True, meter: Meter | None = None) -> RunResult:
    """Evaluate the versions of one plan (the checker has made sure their effective ranges
    follow each other) and merge their results. Each version earns on the events dated in its
    own range and pays what it earned, even after it ends; nothing else carries over from one
    version to the next (a yearly cap or a draw balance starts again with the new version)."""
    plans = sorted(plans, key=lambda p: p.effective_start)
    if len(plans) == 1:
        return evaluate(plans[0], dataset, end=end, progress=progress, pause_gc=pause_gc,
                        meter=meter)
    end = end or max(default_range(p, dataset)[1] for p in plans)
    results = [evaluate(p, dataset, end=end, progress=progress, pause_gc=pause_gc, meter=meter)
               for p in plans]

    def mine(plan: Plan, day: dt.date | None) -> bool:
        return day is None or (plan.effective_start <= day and (
            plan.effective_end is None or day <= plan.effective_end))

    merged: dict[tuple[str, str], Statement] = {}
    for r in results:
        for st in r.statements:
            key = (st.payee, st.pay_period)
            if key not in merged:
                merged[key] = st
                continue
            old = merged[key]
            merged[key] = attrs.evolve(old, **{f: getattr(old, f) + getattr(st, f) for f in (
                *STATEMENT_FLOWS, "capped", "clawed_back", "paid", "draw_balance", "carried",
                "advance_balance", "base_salary", "target_incentive")})
    last = results[-1]
    return RunResult(
        plan=last.plan, stamp=last.stamp,
        credits=tuple(c for r in results for c in r.credits if mine(r.plan, c.date)),
        earnings=tuple(sorted((e for r in results for e in r.earnings),
                              key=lambda e: (e.date, e.payee, e.component, e.id))),
        payouts=tuple(p for r in results for p in r.payouts),
        statements=tuple(sorted(merged.values(), key=lambda s: (s.payee, s.start))),
        skips=tuple(s for r in results for s in r.skips if mine(r.plan, s.date)),
        diagnostics=tuple(d for r in results for d in r.diagnostics),
        engine=last.engine, versions=tuple(r.stamp for r in results))
