"""The streamed JSON output (audit/render.py write_json) is exactly the document json.dumps
writes of the run's records, and writing it keeps no trace text in memory."""

from __future__ import annotations

import io
import json

import pytest

from incentive_dsl import api
from incentive_dsl.audit import render
from incentive_dsl.eval.records import DeferredTrace
from tests.shipped import ROOT, load_shipped_data


def _whole_document(result, window, lines=True) -> str:
    """The document built whole, then dumped: what the streamed writer must write."""
    statements = [s for s in result.statements if render.in_window(s, window)]
    periods = {s.pay_period for s in statements}
    doc = {
        "format_version": render.FORMAT_VERSION,
        "stamp": result.stamp.to_json(),
        "window": None if window is None else {"label": window.label,
                                                "start": window.start.isoformat(),
                                                "end": window.end.isoformat()},
        "currency": result.plan.currency,
        "statements": [render._record(s) for s in statements],
        "diagnostics": [d.to_json() for d in result.diagnostics],
    }
    if lines:
        doc["payouts"] = [render._record(p) for p in result.payouts
                          if window is None or p.pay_period in periods]
        doc["earnings"] = [render._record(e) for e in result.earnings
                           if window is None or window.contains(e.date)]
        doc["credits"] = [render._record(c) for c in result.credits
                          if window is None or window.contains(c.date)]
        doc["skipped"] = [render._record(s) for s in result.skips
                          if window is None or s.date is None or window.contains(s.date)]
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@pytest.fixture(scope="module")
def run():
    plan = api.load_plan(str(ROOT / "plans" / "enterprise_ae.plan")).plan
    dataset, _ = load_shipped_data(plan)
    return plan, api.run(plan, dataset)


@pytest.mark.parametrize("period", [None, "2027-Q2"])
def test_streamed_json_is_the_whole_document(run, period):
    plan, result = run
    window = api.window(plan, period)
    out = io.StringIO()
    render.write_json(out, result, window)
    expected = _whole_document(result, window)
    assert out.getvalue() == expected
    assert render.to_json(result, window, lines=False) == _whole_document(result, window, False)
    assert "×" in expected and len(json.loads(expected)["credits"]) > 10


def test_writing_every_trace_keeps_none_of_their_texts():
    plan2 = api.load_plan(str(ROOT / "plans" / "enterprise_ae.plan")).plan
    dataset, _ = load_shipped_data(plan2)
    fresh = api.run(plan2, dataset)
    render.write_json(io.StringIO(), fresh)
    # (An earning line's texts are read, and kept, by the traces of the payouts of it.)
    deferred = [ln.trace for ln in (*fresh.credits, *fresh.payouts)
                if isinstance(ln.trace, DeferredTrace)]
    assert len(deferred) > 1000
    assert all(t._made is None for t in deferred)
    assert deferred[0].because  # still readable afterwards, and kept once read
    assert deferred[0]._made is not None
