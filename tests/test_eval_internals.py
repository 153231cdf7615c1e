"""The interpreter's economies, each checked against the plain thing it replaces: deferred
traces against eager ones, the column store of skips against records, the event index
against a scan, the reuse of a tier key against computing it again, the paused garbage
collector (for runs and for loading) against the caller's setting and against leftover
reference cycles, and the stages' makers of line records against the record classes."""

from __future__ import annotations

import copy
import datetime as dt
import decimal
import gc
import inspect
import pickle
from decimal import Decimal

import attrs
import pytest

from incentive_dsl import api
from incentive_dsl.check import check_trees
from incentive_dsl.data.mapping import load_mapping  # imported before the collector is watched
from incentive_dsl.data.records import Dataset, Event, PayeeRecord
from incentive_dsl.eval.context import Deals, EventIndex, Fx
from incentive_dsl.eval.measures import MeasureEngine
from incentive_dsl.eval import records
from incentive_dsl.eval.records import DeferredTrace, Skip, Skips, Trace
from incentive_dsl.span import Span
from incentive_dsl.syntax import parse_text
from shipped import ROOT, load_shipped_data

SPAN = Span("p.plan", 3, 1, 3, 20)


def test_deferred_trace_reads_like_the_eager_one_and_renders_once():
    calls = []

    def render(amount, event):
        calls.append(event)
        return (f"{amount} because", f"{amount} x 1", [("credit", str(amount))], (event,),
                ("c1",), (SPAN,))

    lazy = DeferredTrace(render, (Decimal("5.00"), "E1"), "core", "Core", SPAN)
    eager = Trace(rule="core", label="Core", span=SPAN, because="5.00 because",
                  arithmetic="5.00 x 1", values=(("credit", "5.00"),), events=("E1",),
                  inputs=("c1",), touched=(SPAN,))
    assert lazy == eager and eager == lazy and hash(lazy) == hash(eager)
    assert attrs.asdict(lazy) == attrs.asdict(eager)
    assert lazy.because == "5.00 because" and lazy.touched == (SPAN,)
    assert calls == ["E1"]  # made once, on the first read
    assert lazy != attrs.evolve(eager, because="other")


def test_skips_keep_order_and_read_as_records():
    skips = Skips()
    skips.add("core", "E1", "not new business", dt.date(2027, 1, 5))
    skips.add("bonus", "ana 2027-Q1", "below the threshold")
    records = [Skip(rule="core", subject="E1", reason="not new business",
                    date=dt.date(2027, 1, 5)),
               Skip(rule="bonus", subject="ana 2027-Q1", reason="below the threshold")]
    assert list(skips) == records and skips == records and len(skips) == 2
    assert skips[1] == records[1] and skips[:1] == records[:1] and skips[-1] == records[-1]
    assert Skips(records) == skips


def test_payout_lines_paid_when_earned_are_kept_as_their_earning_lines():
    plan = api.load_plan(str(ROOT / "plans" / "sdr_activity.plan")).plan
    result = api.run(plan, load_shipped_data(plan)[0])
    payouts = result.payouts
    assert isinstance(payouts, records.PayoutLines)
    kept = payouts._items
    earned = [i for i, item in enumerate(kept) if isinstance(item, records.EarningLine)]
    assert earned and len(earned) < len(kept)  # and lines of other kinds kept as they are
    lines = list(payouts)
    assert all(type(ln) in (records.PayoutLine, records.TWINS[records.PayoutLine])
               for ln in lines)
    assert [payouts[i] for i in range(len(payouts))] == lines == payouts[:]
    assert payouts == tuple(lines) and hash(payouts) == hash(tuple(lines))
    assert payouts + () == tuple(lines) and () + payouts == tuple(lines)
    for i in earned:
        line, earning = lines[i], kept[i]
        period = result.plan.calendar.period_of(earning.date, "month").label
        assert (line.payee, line.pay_period, line.kind, line.amount, line.earning) == \
            (earning.payee, period, "earning", earning.amount, earning.id)
        assert line.trace.because.startswith("payable when earned: ")
        assert line.trace.inputs == (earning.id,)


def _event(eid, deal, day, kind, **kw):
    return Event(id=eid, deal=deal, date=dt.date(2027, 1, day), kind=kind, **kw)


def test_event_index_groups_by_kind_and_deal_in_processing_order():
    events = (_event("E3", "D2", 3, "collected", amount=Decimal(5)),
              _event("E1", "D1", 1, "booked", amount=Decimal(10), owner="ana"),
              _event("E2", "D1", 2, "collected", amount=Decimal(4)),
              _event("E5", "D1", 5, "collected", amount=Decimal(6)),
              _event("E4", "D3", 4, "stage", subject="proposal"))
    index = EventIndex(tuple(sorted(events, key=Event.sort_key)))
    assert [e.id for e in index.by_kind["collected"]] == ["E2", "E3", "E5"]
    assert [e.id for e in index.of_deal("collected", "D1")] == ["E2", "E5"]
    assert index.of_deal("collected", "D9") == []
    deals = Deals(index, Fx((), "USD"))
    assert deals.get("D1").amount == 10 and deals.get("D1").owner == "ana"
    assert [e.id for e in deals.get("D3").stages] == ["E4"]  # made when first asked for
    assert deals.get("D9") is None and deals.get(None) is None


PLAN = """plan "Two credits"
  currency USD
  effective 2027-01-01 to 2027-12-31
  roles AE
  applies to role AE

fields
  deal.type one of "new", "renewal"

quota bookings "Quota"
  100 USD per quarter for role AE

credit new "New"
  on deal booked where deal.type is "new"

credit renewals "Renewals"
  on deal booked where deal.type is "renewal"

measure own "Own" = new / quota bookings
measure both "Both" = (new + renewals) / quota bookings

commission core "Core"
  on new
  marginal rates by {key} per quarter
    from 0% to 100% at 10%
    from 100% at 20%
"""


def _plan(key: str):
    text = PLAN.format(key=key)
    (plan,), diags = check_trees([(parse_text("two.plan", text).tree, text)])
    assert not [d for d in diags if d.is_error], [str(d) for d in diags]
    return plan


def _run(key: str):
    return _evaluate(_plan(key))


def _evaluate(plan):
    payees = (PayeeRecord(id="ana", role="AE", start=dt.date(2027, 1, 1)),)
    events = [_event(f"E{i}", f"D{i}", i, "booked", amount=Decimal(amount), owner="ana",
                     fields=(("type", kind),))
              for i, (amount, kind) in enumerate(
                  [(60, "new"), (50, "renewal"), (30, "new"), (40, "new")], start=1)]
    return plan, api.run(plan, Dataset(events=tuple(events), payees=payees))


def test_tier_key_reuse_only_when_the_measure_steps_with_the_base():
    plan, result = _run("own")
    engine: MeasureEngine = result.engine
    assert engine.steps_with("own", "new") and not engine.steps_with("both", "new")
    # own: 60 at 10% = 6; 30 from 60% to 90% at 10% = 3; 40 from 90% to 130%:
    # 10 at 10% + 30 at 20% = 7
    assert [ln.amount for ln in result.earnings] == [Decimal(6), Decimal(3), Decimal(7)]
    plan, result = _run("both")
    # both: the renewal of 50 moves the key between the first and second new deals:
    # 60 at 10% = 6; 30 from 110% to 140% at 20% = 6; 40 from 140% at 20% = 8
    assert [ln.amount for ln in result.earnings] == [Decimal(6), Decimal(6), Decimal(8)]


@pytest.mark.parametrize("plan", ["enterprise_ae.plan", "split_deals.plan",
                                  "sales_manager.plan", "omnichannel.plan"])
def test_tier_key_reuse_changes_nothing_on_the_shipped_data(plan, monkeypatch):
    loaded = api.load_plan(str(ROOT / "plans" / plan))
    dataset, _ = load_shipped_data(loaded.plan)
    reused = api.run(loaded.versions, dataset)
    monkeypatch.setattr(MeasureEngine, "steps_with", lambda self, name, credit: False)
    computed = api.run(loaded.versions, dataset)
    assert reused.earnings == computed.earnings and reused.earnings


@pytest.mark.parametrize("enabled", [True, False])
def test_the_collector_is_paused_for_a_run_and_restored(enabled, monkeypatch):
    seen = []
    plan, _ = _run("own")
    dataset = Dataset(events=(), payees=())
    real = MeasureEngine.add_credits
    monkeypatch.setattr(MeasureEngine, "add_credits",
                        lambda self, lines: (seen.append(gc.isenabled()), real(self, lines)))
    (gc.enable if enabled else gc.disable)()
    try:
        api.run(plan, dataset)
        assert seen == [False] and gc.isenabled() == enabled
    finally:
        gc.enable()


def test_a_dropped_result_leaves_no_garbage_cycles():
    # evaluate hands its records to the collector's oldest generation (see run._gc_paused):
    # that is only right if they are freed by reference counting once the result is dropped.
    _, result = _run("own")
    assert result.earnings and result.engine.evaluator.engine is result.engine
    plan = _plan("both")
    gc.collect()
    gc.disable()
    try:
        _, result = _evaluate(plan)
        del result
        assert gc.collect() == 0
    finally:
        gc.enable()


ACCELERATED = """plan "Two accelerators"
  currency USD
  effective 2027-01-01 to 2027-12-31
  roles AE
  applies to role AE

quota bookings "Quota"
  100 USD per quarter for role AE

credit new "New"
  on deal booked

measure own "Own" = new / quota bookings

commission core "Core"
  on new
  marginal rates by deal amount
    from 0 USD at 10%
  accelerate 1.5x by own per quarter above 100%
  accelerate 2x by own per quarter above 150%
"""


def _check(text: str):
    (plan,), diags = check_trees([(parse_text("t.plan", text).tree, text)])
    assert not [d for d in diags if d.is_error], [str(d) for d in diags]
    return plan


def _deals(plan, amounts):
    payees = (PayeeRecord(id="ana", role="AE", start=dt.date(2027, 1, 1)),)
    events = [_event(f"E{i}", f"D{i}", i, "booked", amount=Decimal(a), owner="ana")
              for i, a in enumerate(amounts, start=1)]
    return api.run(plan, Dataset(events=tuple(events), payees=payees))


def test_two_accelerators_on_one_key_read_it_before_and_after_each_line():
    result = _deals(_check(ACCELERATED), [60, 60, 60])
    # own goes 0 -> 60% -> 120% -> 180%.
    # D1: 60 at 10% = 6.00
    # D2: 60% -> 120%: 40 at 10% + 20 above 100% at 10% x 1.5 = 4.00 + 3.00 = 7.00
    # D3: 120% -> 180%: 30 at 10% x 1.5 + 30 above 150% at 10% x 1.5 x 2 = 4.50 + 9.00 = 13.50
    assert [ln.amount for ln in result.earnings] == [Decimal(6), Decimal(7), Decimal("13.5")]


def test_trace_texts_do_not_depend_on_the_readers_decimal_context():
    text = """plan "Thirds"
  currency USD
  effective 2027-01-01 to 2027-12-31
  roles AE
  applies to role AE

credit new "New"
  on deal booked

measure third "Third" = count(new) / 3

commission core "Core"
  on new
  marginal rates by third per quarter
    from 0 to 1 at 10%
    from 1 at 20%
"""
    result = _deals(_check(text), [60, 60])
    with decimal.localcontext(decimal.Context(prec=6)):
        because = result.earnings[1].trace.because
    # A third is kept exact (a fraction) and shown to four decimals, whatever the reader's
    # precision.
    assert "went from ≈0.3333 to ≈0.6667" in because, because


def test_results_and_traces_pickle_copy_and_hash_like_plain_records():
    plan, result = _run("own")
    trace = result.earnings[0].trace
    assert isinstance(trace, DeferredTrace)
    for copied in (pickle.loads(pickle.dumps(result)), copy.deepcopy(result)):
        assert copied == result and hash(copied) == hash(result)
        assert copied.engine.evaluator.engine is copied.engine
        assert copied.engine.measure("own", "ana", plan.calendar.parse("2027-Q1")) == \
            result.engine.measure("own", "ana", plan.calendar.parse("2027-Q1"))
    assert copy.copy(trace) == trace
    changed = attrs.evolve(trace, because="other")
    assert changed.because == "other" and changed.arithmetic == trace.arithmetic
    skips = Skips([Skip(rule="r", subject="s", reason="x")])
    assert skips + () == tuple(skips) and hash(skips) == hash(tuple(skips))
    assert Skips() != "" and Skips() == ()


@pytest.mark.parametrize("pause", [True, False])
def test_pause_gc_false_leaves_the_collector_running(pause, monkeypatch):
    seen = []
    real = MeasureEngine.add_credits
    monkeypatch.setattr(MeasureEngine, "add_credits",
                        lambda self, lines: (seen.append(gc.isenabled()), real(self, lines)))
    api.run(_plan("own"), Dataset(events=(), payees=()), pause_gc=pause)
    assert seen == [not pause] and gc.isenabled()


def test_overlapping_jobs_share_one_pause_and_restore_the_first_setting():
    # Two jobs in two threads, the first ending before the second: entered and left by hand
    # in that order, so the test does not depend on how the threads happen to be scheduled.
    from incentive_dsl.collector import collector_paused
    first, second = collector_paused(), collector_paused()
    first.__enter__()
    second.__enter__()  # finds the collector off: it must not take that as the setting
    first.__exit__(None, None, None)
    assert not gc.isenabled()  # the second job still runs
    second.__exit__(None, None, None)
    assert gc.isenabled()


@pytest.mark.parametrize("mapped", [False, True])
def test_loading_leaves_no_garbage_cycles_and_restores_the_collector(mapped):
    # Loaders pause the collector and promote what they made, like runs (incentive_dsl.collector).
    plan = api.load_plan(str(ROOT / "plans" / ("crm/field_sales.plan" if mapped else
                                               "enterprise_ae.plan"))).plan
    gc.collect()
    gc.disable()
    try:
        if mapped:
            dataset, diags = load_mapping(str(ROOT / "plans" / "crm" / "crm.toml"), plan)
        else:
            dataset, diags = load_shipped_data(plan)
        assert dataset.events and not gc.isenabled()
        assert gc.collect() == 0  # nothing made while loading was left in a cycle
        del dataset, diags
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_jobs_that_may_leave_cycles_are_not_promoted(monkeypatch):
    from incentive_dsl import collector
    frozen = []
    monkeypatch.setattr(collector.gc, "freeze", lambda: frozen.append("freeze"))
    monkeypatch.setattr(collector.gc, "unfreeze", lambda: frozen.append("unfreeze"))
    with collector.collector_paused(promote=False):
        assert not gc.isenabled()
    assert gc.isenabled() and frozen == []
    with collector.collector_paused():
        with collector.collector_paused(promote=False):  # one job of the two may leave cycles
            pass
    assert frozen == []
    with collector.collector_paused():
        pass
    assert frozen == ["freeze", "unfreeze"] and gc.isenabled()


def test_checking_plans_pauses_the_collector(monkeypatch):
    seen = []
    real = api.check_trees
    monkeypatch.setattr(api, "check_trees",
                        lambda trees: (seen.append(gc.isenabled()), real(trees))[1])
    result = api.check_paths([str(ROOT / "plans" / "sdr_activity.plan")])
    assert result.plans and seen == [False] and gc.isenabled()


def test_a_rounded_earning_line_keeps_every_other_field():
    # EarningLine.rounded() builds the copy field by field (for speed): a field added later
    # must be carried too, as attrs.evolve would.
    from incentive_dsl.eval.records import EarningLine, Trace
    from incentive_dsl.span import Span
    values = {f.name: f"v{i}" for i, f in enumerate(attrs.fields(EarningLine))}
    values.update(date=dt.date(2027, 1, 1), amount=Decimal("1.005"), trace=Trace(
        rule="r", label="R", span=Span.point("p", 1, 1), because="b"))
    line = EarningLine(**values)
    other = Trace(rule="r", label="R", span=Span.point("p", 1, 1), because="c")
    assert line.rounded(Decimal("1.00"), other) == attrs.evolve(line, amount=Decimal("1.00"),
                                                                  trace=other)
    assert line.rounded(Decimal("1.01")) == attrs.evolve(line, amount=Decimal("1.01"))


@pytest.mark.parametrize("cls, maker", [(records.CreditLine, records.credit_line),
                                        (records.EarningLine, records.earning_line),
                                        (records.PayoutLine, records.payout_line)])
def test_record_makers_make_what_the_classes_make(cls, maker):
    """The makers of records made once per line (the stages' lines) take exactly the record's fields, and make a record equal to the
    class's, frozen like it."""
    names = [f.name for f in attrs.fields(cls)]
    assert list(inspect.signature(maker).parameters) == names
    trace = Trace(rule="r", label="R", span=Span("p", 1, 1, 1, 2), because="b")
    values = {name: f"{name}-value" for name in names} | {
        "date": dt.date(2027, 1, 2), "amount": Decimal("1.50"), "trace": trace}
    values = {name: values[name] for name in names}
    made = maker(**values)
    assert type(made) is cls and made == cls(**values) and hash(made) == hash(cls(**values))
    assert attrs.asdict(made) == attrs.asdict(cls(**values))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        made.amount = Decimal(2)


@pytest.mark.parametrize("cls, maker", [(records.CreditLine, records.credit_line),
                                        (records.EarningLine, records.earning_line),
                                        (records.PayoutLine, records.payout_line)])
def test_a_line_given_what_makes_its_trace_reads_as_the_line_with_the_trace(cls, maker):
    """A maker given the tuple (head, *args) instead of a trace, the head being the tuple
    (render, rule, label, span, *fixed) that lines share, makes a line whose trace is made on
    its first read, and kept; until then the line is equal to, hashed, shown, copied and
    evolved as the line made with that trace."""
    calls = []

    def render(amount, event):
        calls.append(event)
        return f"{amount} because", f"{amount} x 1", (("credit", str(amount)),), (event,), (), ()

    names = [f.name for f in attrs.fields(cls)]
    values = {name: f"{name}-value" for name in names} | {
        "date": dt.date(2027, 1, 2), "amount": Decimal("1.50")}
    values = {name: values[name] for name in names if name != "trace"}
    head = (render, "core", "Core", SPAN, Decimal("5.00"))
    later = maker(**values, trace=(head, "E1"))
    plain = cls(**values, trace=DeferredTrace(render, (Decimal("5.00"), "E1"), "core", "Core",
                                              SPAN))
    assert isinstance(later, cls) and type(records.raw_trace(later)) is tuple and not calls
    assert records.trace_contents(later) == records.trace_contents(plain)
    assert type(records.raw_trace(later)) is tuple  # read (by the writer) without being kept
    calls.clear()
    trace = later.trace
    assert trace is later.trace and trace is records.raw_trace(later)  # made once, then kept
    assert trace.because == "5.00 because" and trace.values == (("credit", "5.00"),)
    assert calls == ["E1"]
    assert repr(later) == repr(plain) and later == plain and plain == later and not later != plain
    assert hash(later) == hash(plain) and attrs.asdict(later) == attrs.asdict(plain)
    assert later != attrs.evolve(plain, amount=Decimal("1.51"))
    for copied in (copy.copy(later), pickle.loads(pickle.dumps(later))):
        assert type(copied) is cls and copied == plain
    evolved = attrs.evolve(later, amount=Decimal("2"))
    assert evolved == attrs.evolve(plain, amount=Decimal("2"))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        later.trace = plain.trace



def test_a_payee_standing_in_for_two_roles_gets_lines_with_their_own_ids():
    """With nobody in the SE role, the owner takes both role shares of a deal: two credit
    lines from one event for one payee, and so two commission lines; the second of each gets
    `#2`, so that every line has its own id."""
    from tests.test_eval_properties import booking, header, payee, plan_from_text, run
    text = (header("Roles") + "credit bookings\n  on deal booked\n"
            "  split by role AE 70%, SE 30%\n\ncommission core\n  on bookings\n  rate 10%\n")
    result = run(plan_from_text(text), [booking("D1", dt.date(2027, 2, 1), "ana",
                                                Decimal("1000.00"))], [payee("ana")])
    assert [(ln.id, ln.amount) for ln in result.credits] == [
        ("bookings:D1-booked:ana:role split", Decimal("700.00")),
        ("bookings:D1-booked:ana:role split#2", Decimal("300.00"))]
    assert [(ln.id, ln.amount) for ln in result.earnings] == [
        ("core:commission:ana:D1-booked", Decimal("70.00")),
        ("core:commission:ana:D1-booked#2", Decimal("30.00"))]


@pytest.mark.parametrize("amount", ["1000.00", "1000.005", "1000.015", "1000", "1E+3",
                                    "0.10", "-250.50", "-250.505", "1234.5"])
def test_a_booking_credited_whole_to_its_owner_is_allocate_s_answer(amount):
    """A booking all to one payee takes its amount as it is when it is in minor units already
    (the common case, without `allocate`): the credit is `allocate`'s answer for every amount,
    its digits included (a shorter or longer exponent is rounded to the cent, half even)."""
    from incentive_dsl.eval.money import allocate
    from tests.test_eval_properties import booking, header, payee, plan_from_text, run
    text = (header("Owner") + "credit bookings\n  on deal booked\n\n"
            "commission core\n  on bookings\n  rate 10%\n")
    result = run(plan_from_text(text), [booking("D1", dt.date(2027, 2, 1), "ana",
                                                Decimal(amount))], [payee("ana")])
    [line] = result.credits
    [expected] = allocate(Decimal(amount), [Decimal(1)], "USD")
    assert str(line.amount) == str(expected)


def test_a_credit_line_under_a_credit_head_reads_as_the_line_with_its_id_and_full_trace():
    """A credit line given no id and a short trace tuple under a `CreditHead` (what the credit
    stage keeps per line) reads its id from its fields and its trace from the full tuple:
    equal to, hashed, copied and evolved as the line made with both."""
    def render(cur, value, weight, amount, detail, event, how, *args):
        return (f"{how.format(*args)}; {detail}", f"{value} × {weight} = {amount} {cur}",
                (), (event,), (), ())

    head = records.CreditHead((render, "core", "Core", SPAN, "USD"))
    fields = dict(credit="bookings", payee="ana", deal="D1", event="E1",
                  date=dt.date(2027, 1, 2), amount=Decimal("5.00"), kind="owner")
    value = Decimal("5.00")
    full = (head, value, Decimal(1), value, "all to the owner", "E1", "deal {} booked at {}{}",
            "D1", value, "")
    plain = records.CreditLine(id="bookings:E1:ana:owner", **fields,
                               trace=records._later_trace(full))
    for short in ((head, value, Decimal(1), "all to the owner"),  # a booking's phrase left out
                  (head, Decimal(1), "all to the owner")):  # the value the line's amount too
        line = records.credit_line(id=None, **fields, trace=short)
        assert records.raw_trace(line) == full and records.trace_contents(line) == \
            records.trace_contents(plain)
        assert line.id == "bookings:E1:ana:owner" and line == plain and hash(line) == hash(plain)
        assert line.trace.because == "deal D1 booked at 5.00; all to the owner"
        assert copy.copy(line) == plain and pickle.loads(pickle.dumps(line)) == plain
        assert attrs.evolve(line, amount=Decimal(6)) == attrs.evolve(plain, amount=Decimal(6))
    given = records.credit_line(id="bookings:E1:ana:roll-up:bo", **fields,
                                trace=(head, value, None, "rolled up"))
    assert given.id == "bookings:E1:ana:roll-up:bo"
