"""Running a plan's worked examples: build the example's data, evaluate, compare expectations.

An expectation names what it checks: a component's earnings, a credit, a measure, `total`
(all earnings) or `paid` (payouts) for one payee in one period. Money is compared after
rounding to the plan currency's minor unit with the plan's rounding mode; measures exactly
to four decimal places of a percentage.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from incentive_dsl.check.exprs import constant
from incentive_dsl.check.model import ExampleSpec, Plan
from incentive_dsl.data.examples import example_dataset
from incentive_dsl.eval.money import ZERO, fmt, fmt_number, fmt_pct, round_money, sub
from incentive_dsl.eval.records import EarningLine
from incentive_dsl.eval.run import RunResult, evaluate
from incentive_dsl.periods import Period
from incentive_dsl.span import Span
from incentive_dsl.syntax import nodes as n
from incentive_dsl.syntax.format import expr as show


@attrs.frozen
class Outcome:
    """One `expect` line checked."""

    text: str  # the expectation as written
    span: Span
    expected: Decimal
    actual: Decimal
    unit: str  # money, percent, count, number
    passed: bool
    lines: tuple[EarningLine, ...]  # the earning lines behind the actual value
    what: str = "rule"  # paid, total, rule (a component's earnings) or measure (a credit too)
    payee: str = ""

    def show(self, value: Decimal, currency: str) -> str:
        if self.unit == "percent":
            return fmt_pct(value)
        if self.unit in ("count", "number"):
            return fmt_number(value)
        return fmt(value, currency)


@attrs.frozen
class ExampleResult:
    plan: Plan
    example: ExampleSpec
    run: RunResult
    outcomes: tuple[Outcome, ...]

    @property
    def passed(self) -> bool:
        return self.run.ok and all(o.passed for o in self.outcomes)


def run_example(plan: Plan, example: ExampleSpec) -> ExampleResult:
    result = evaluate(plan, example_dataset(plan, example))
    outcomes = []
    for item in example.block.items:
        if isinstance(item, n.Expectation):
            outcomes.append(_check(plan, result, item))
    return ExampleResult(plan, example, result, tuple(outcomes))


def observe(plan: Plan, result: RunResult, kind: str, target: str | None, payee: str,
            period: Period) -> tuple[Decimal, str, tuple[EarningLine, ...]]:
    """The actual value an expectation looks at: (value, unit, earning lines behind it)."""
    if kind == "paid":
        total = sum((ln.amount for ln in result.payouts if ln.payee == payee
                     and ln.kind != "awaiting collection"
                     and _pay_period_in(plan, ln.pay_period, period)), ZERO)
        return total, "money", ()
    if kind == "total":
        lines = tuple(ln for ln in result.earnings if ln.payee == payee
                      and period.contains(ln.date))
        return sum((ln.amount for ln in lines), ZERO), "money", lines
    if plan.component(target) is not None:
        lines = tuple(ln for ln in result.earnings if ln.payee == payee
                      and ln.component == target and period.contains(ln.date))
        return sum((ln.amount for ln in lines), ZERO), "money", lines
    measure = plan.measure(target)
    value = result.engine.measure(target, payee, period) if result.engine else ZERO
    return value, measure.kind if measure is not None else "money", ()


def _pay_period_in(plan: Plan, label: str, period: Period) -> bool:
    pp = plan.calendar.parse(label)
    return pp is not None and period.start <= pp.start and pp.end <= period.end


def _check(plan: Plan, result: RunResult, x: n.Expectation) -> Outcome:
    period = plan.calendar.parse(x.period.raw)
    target = x.target.text if x.target is not None else None
    actual, unit, lines = observe(plan, result, x.kind, target, x.payee.text, period)
    expected = constant(x.value)[0]
    if unit == "money":
        got = round_money(actual, plan.currency, plan.rounding.mode)
        passed = got == round_money(expected, plan.currency, plan.rounding.mode)
    else:
        got = actual
        passed = abs(sub(actual, expected)) < Decimal("0.000001")
    text = (f"expect {target or x.kind} for {x.payee.text} in {x.period.raw} is "
            f"{show(x.value)}")
    what = (x.kind if x.kind in ("paid", "total")
            else "rule" if plan.component(target) is not None else "measure")
    return Outcome(text=text, span=x.span, expected=expected, actual=got, unit=unit,
                   passed=passed, lines=lines, what=what, payee=x.payee.text)
