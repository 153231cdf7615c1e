"""Every worked example of every plan in tests/mechanics/, one pytest case per example.

Each file in tests/mechanics/ exercises one mechanic of docs/language.md with hand-computed
expectations (the arithmetic is written in a comment on each `expect` line). A file must check
with no errors (api.check_paths); each example is then run with audit.examples.run_example and
every expectation must hold. On failure the message shows expected vs actual for every
expectation, with the earning lines behind the actual value and their traces.

Examples the interpreter gets wrong (it disagrees with docs/language.md or with hand
arithmetic) are listed in XFAIL with the bug; they are strict xfails, so fixing the bug makes the
test fail until the entry is removed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from incentive_dsl import api
from incentive_dsl.audit.examples import ExampleResult, run_example
from incentive_dsl.eval.money import fmt

MECHANICS = Path(__file__).parent / "mechanics"
FILES = sorted(MECHANICS.glob("*.plan"))

# (file stem, example name) -> reason. Strict: an entry that starts passing fails the run.
XFAIL: dict[tuple[str, str], str] = {
}


def _check(path: Path):
    result = api.check_paths([str(path)])
    errors = [d for d in result.diagnostics if d.is_error]
    return result, errors


def _cases():
    cases = []
    for path in FILES:
        result, errors = _check(path)
        if errors or not result.plans:
            # Still produce one case so the failure is reported against the file.
            cases.append(pytest.param(path, None, id=f"{path.stem}::<check>"))
            continue
        for example in result.plans[0].examples:
            marks = []
            reason = XFAIL.get((path.stem, example.name))
            if reason is not None:
                marks.append(pytest.mark.xfail(strict=True, reason=reason))
            cases.append(pytest.param(path, example.name, id=f"{path.stem}::{example.name}",
                                      marks=marks))
    return cases


def test_every_mechanic_has_a_file():
    assert len(FILES) >= 30, [f.name for f in FILES]


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_file_checks_without_errors(path: Path):
    result, errors = _check(path)
    assert not errors, "\n".join(api.render(d, result.sources) for d in errors)
    assert len(result.plans) == 1
    assert result.plans[0].examples, f"{path.name} has no example"


def _explain(res: ExampleResult) -> str:
    cur = res.plan.currency
    out = [f"example {res.example.name!r} in {res.plan.path}"]
    for d in res.run.diagnostics:
        out.append(f"  run diagnostic: {d.code}: {d.message}")
    for o in res.outcomes:
        mark = "ok  " if o.passed else "FAIL"
        out.append(f"  {mark} {o.text}  (line {o.span.line}): expected "
                   f"{o.show(o.expected, cur)}, actual {o.show(o.actual, cur)}")
        if not o.passed:
            for ln in o.lines:
                out.append(f"         {ln.kind:<10} {ln.date} {fmt(ln.amount, cur):>18}  "
                           f"{ln.trace.because} [{ln.trace.arithmetic}]")
    if not all(o.passed for o in res.outcomes):
        out.append("  all earning lines:")
        for ln in res.run.earnings:
            out.append(f"    {ln.payee:<5} {ln.component:<10} {ln.kind:<10} {ln.date} "
                       f"{fmt(ln.amount, cur):>18}  {ln.trace.because} [{ln.trace.arithmetic}]")
        out.append("  payout lines:")
        for pl in res.run.payouts:
            out.append(f"    {pl.payee:<5} {pl.pay_period:<10} {pl.kind:<20} "
                       f"{fmt(pl.amount, cur):>18}  {pl.trace.because}")
    return "\n".join(out)


@pytest.mark.parametrize("path,example", _cases())
def test_example(path: Path, example: str | None):
    result, errors = _check(path)
    assert not errors, "\n".join(api.render(d, result.sources) for d in errors)
    plan = result.plans[0]
    spec = next(x for x in plan.examples if x.name == example)
    res = run_example(plan, spec)
    assert res.outcomes, f"example {example!r} expects nothing"
    if not res.passed:
        pytest.fail(_explain(res), pytrace=False)
