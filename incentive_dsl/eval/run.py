"""A run: one checked plan evaluated on one dataset over a range of days.

`evaluate` chains the stages (credits, measures, earnings, payouts) inside a fixed decimal
context, so results never depend on the caller's settings, and stamps the result with what it
read. Problems in the data that only evaluation can find (a missing FX rate) come back as
diagnostics, never as exceptions.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable

import attrs

from incentive_dsl.audit.stamp import RunStamp, make_stamp
from incentive_dsl.check.model import Plan
from incentive_dsl.data.records import Dataset, Roster
from incentive_dsl.diagnostics import Diagnostic, error, warning
from incentive_dsl.eval.context import EvaluationError, Fx, build_deals
from incentive_dsl.eval.credits import CreditStage
from incentive_dsl.eval.earnings import EarningStage
from incentive_dsl.eval.measures import MeasureEngine
from incentive_dsl.eval.money import CONTEXT
from incentive_dsl.eval.payouts import PayoutStage
from incentive_dsl.eval.records import CreditLine, EarningLine, PayoutLine, Skip, Statement
from incentive_dsl.span import Span


@attrs.frozen
class RunResult:
    plan: Plan
    stamp: RunStamp
    credits: tuple[CreditLine, ...]
    earnings: tuple[EarningLine, ...]
    payouts: tuple[PayoutLine, ...]
    statements: tuple[Statement, ...]
    skips: tuple[Skip, ...]
    diagnostics: tuple[Diagnostic, ...]
    engine: MeasureEngine | None = attrs.field(default=None, eq=False, repr=False)

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
             progress: Callable[[str], None] | None = None) -> RunResult:
    """Evaluate `plan` on `dataset` for the days start..end (default: the plan's effective
    range), clipped to the plan's effective range. `progress` is told each stage's name as it
    starts (the CLI shows it on a terminal)."""
    step = progress or (lambda stage: None)
    d_start, d_end = default_range(plan, dataset)
    start = max(start or d_start, plan.effective_start)
    end = min(end or d_end, plan.effective_end or end or d_end)
    stamp = make_stamp(plan, dataset, start, end)
    notes: list[str] = []
    with decimal.localcontext(CONTEXT):
        try:
            step("credits")
            roster = Roster(list(dataset.payees))
            fx = Fx(dataset.fx, plan.currency, plan.fx_basis)
            deals = build_deals(dataset, fx)
            engine = MeasureEngine(plan, dataset, roster, fx, deals, notes)
            credits, credit_skips = CreditStage(plan, dataset, deals, fx, roster,
                                                engine.evaluator).run()
            engine.add_credits(credits)
            step("earnings")
            earnings, earning_skips = EarningStage(plan, dataset, engine, roster, deals,
                                                   engine.evaluator, start, end).run()
            step("payouts")
            payouts, statements = PayoutStage(plan, roster, deals, fx, start, end).run(earnings)
        except EvaluationError as exc:
            src = exc.event.source if exc.event is not None else None
            span = Span.point(src.path, src.row, 1) if src else plan.span
            return RunResult(plan, stamp, (), (), (), (), (),
                             (error("E-DATA", span, exc.message,
                                    "add the missing rate to the FX table"),))
    diags = tuple(warning("W-DATA", plan.span, note) for note in notes)
    return RunResult(plan, stamp, tuple(credits), tuple(earnings), tuple(payouts),
                     tuple(statements), tuple(credit_skips + earning_skips), diags, engine)
