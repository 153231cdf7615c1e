"""A program's mistakes in calling the Python API come back as errors that name the mistake
and its fix, raised at the API, not as a TypeError or AttributeError from deep inside a run,
and never as a silently wrong answer."""

import copy
import datetime as dt
import json
import pickle
from decimal import Decimal
from pathlib import Path

import pytest

from incentive_dsl import api
from shipped import DATA, ROOT, load_shipped_data

PLAN = str(ROOT / "plans" / "enterprise_ae.plan")


@pytest.mark.parametrize("one", [PLAN, Path(PLAN)])
@pytest.mark.parametrize("call", [api.discover, api.check_paths, api.run_examples])
def test_one_path_given_where_a_list_is_wanted_is_refused(call, one):
    # Iterated letter by letter, the path's '/' would check every plan file on the disk.
    with pytest.raises(TypeError, match=r"a list of paths, not one path: write \['/"):
        call(one)


def test_a_list_of_one_path_is_checked():
    assert api.check_paths([PLAN]).ok and len(api.check_paths([PLAN]).plans) == 1


@pytest.fixture(scope="module")
def shipped():
    loaded = api.load_plan(PLAN)
    dataset, problems = load_shipped_data(loaded.plan)
    assert not any(d.is_error for d in problems)
    return loaded, dataset


@pytest.mark.parametrize("call", [
    lambda plan, dataset: api.run(plan, dataset),
    lambda plan, dataset: api.window(plan, "2027-Q1"),
    lambda plan, dataset: api.plan_document(plan),
    lambda plan, dataset: api.load_data(str(DATA / "events.csv"), str(DATA / "roster.csv"),
                                        plan=plan),
])
def test_what_load_plan_returns_is_not_taken_for_the_plan(shipped, call):
    loaded, dataset = shipped
    with pytest.raises(TypeError, match="pass loaded.plan, not what load_plan returns"):
        call(loaded, dataset)


@pytest.mark.parametrize("plan", [[], "plans/enterprise_ae.plan", 7])
def test_what_is_not_a_plan_is_named(shipped, plan):
    with pytest.raises(TypeError, match=r"not a plan: .*; pass api.load_plan\(path\).plan"):
        api.run(plan, shipped[1])
    with pytest.raises(TypeError, match="not a plan"):
        api.window(plan, "2027-Q1")


@pytest.mark.parametrize("call", [api.run, api.run_columnar])
def test_load_datas_pair_is_not_taken_for_the_dataset(shipped, call):
    loaded, dataset = shipped
    with pytest.raises(TypeError, match=r"not a dataset: tuple; load_data returns "
                                        r"\(dataset, diagnostics\): unpack it"):
        call(loaded.plan, (dataset, ()))


@pytest.mark.parametrize("call", [
    lambda result, plan: api.explain(result, "abe.d", "2027-Q1"),
    lambda result, plan: api.explain(result, "abe.d", api.window(plan)),  # None: everything
    lambda result, plan: api.statement(result, "abe.d", "2027-01"),
    lambda result, plan: api.accruals(result, "2027-Q1"),
    lambda result, plan: api.amortisation(result, 24, period="2027"),
])
def test_a_period_name_where_a_period_is_wanted_says_how_to_get_one(shipped, call):
    loaded, dataset = shipped
    result = api.run(loaded.plan, dataset, until=dt.date(2027, 3, 31))
    with pytest.raises(TypeError, match=r"period is a Period, not .*; "
                                        r"api.window\(plan, '2027-Q1'\) gives the Period"):
        call(result, loaded.plan)


@pytest.mark.parametrize("call, fix", [
    (lambda plan, data: api.window(plan, start="2027-01-01"),
     r"start is a datetime.date, not str '2027-01-01'; write "
     r"datetime.date.fromisoformat\('2027-01-01'\)"),
    (lambda plan, data: api.window(plan, end=dt.datetime(2027, 3, 31, 12)),
     r"end is a datetime.date, not datetime .*; write end.date\(\)"),
    (lambda plan, data: api.run(plan, data, until="2027-03-31"),
     r"until is a datetime.date, not str"),
    (lambda plan, data: api.open_deals(plan, data, "abe.d", date=20270331),
     r"date is a datetime.date, not int 20270331; write a datetime.date"),
    # text that is no ISO date is not told to go through fromisoformat, which would refuse it
    (lambda plan, data: api.run(plan, data, until="31/03/2027"),
     r"until is a datetime.date, not str '31/03/2027'; write a datetime.date, "
     r"e.g. datetime.date\(2027, 3, 31\)$"),
])
def test_a_date_that_is_not_a_date_is_named(shipped, call, fix):
    loaded, dataset = shipped
    with pytest.raises(TypeError, match=fix):
        call(loaded.plan, dataset)


def test_dates_and_periods_given_right_are_taken(shipped):
    loaded, dataset = shipped
    q1 = api.window(loaded.plan, start=dt.date(2027, 1, 1), end=dt.date(2027, 3, 31))
    assert (q1.start, q1.end) == (dt.date(2027, 1, 1), dt.date(2027, 3, 31))
    result = api.run(loaded.plan, dataset, until=q1.end)
    assert api.statement(result, "abe.d", api.window(loaded.plan, "2027-01")).paid > 0


@pytest.fixture(scope="module")
def q1_run(shipped):
    loaded, dataset = shipped
    return api.run(loaded.plan, dataset, until=dt.date(2027, 3, 31))


@pytest.mark.parametrize("rules, error, message", [
    (["cor"], ValueError, "no rule 'cor' in the plan; did you mean 'core'?"),
    (["core", "nope"], ValueError, "no rule 'nope' in the plan$"),
    ("core", TypeError, r"rules is a list of rule names: write \['core'\]"),
])
def test_amortisation_of_a_rule_the_plan_lacks_is_refused_not_empty(q1_run, rules, error,
                                                                    message):
    with pytest.raises(error, match=message):
        api.amortisation(q1_run, 24, rules)
    assert api.amortisation(q1_run, 24, ["core"])  # the rule named right has a schedule


def test_amortisation_over_less_than_a_month_is_refused_even_with_no_lines(q1_run):
    empty = api.window(q1_run.plan, "2026")  # before the plan: no earning line
    assert api.amortisation(q1_run, 1, period=empty) == []
    with pytest.raises(ValueError, match="benefit_months is at least 1, not 0"):
        api.amortisation(q1_run, 0, period=empty)


@pytest.mark.parametrize("fmt", ["pdf", "HTML", "md"])
def test_a_plan_document_in_a_format_it_does_not_write_is_refused(shipped, fmt):
    with pytest.raises(ValueError, match=f"fmt is 'markdown' or 'html', not '{fmt}'"):
        api.plan_document(shipped[0].plan, fmt)
    assert api.plan_document(shipped[0].plan, "html").lstrip().lower().startswith("<!doctype")


@pytest.mark.parametrize("payee, message", [
    ("Abe.D", r"no payee 'Abe.D' in the roster; did you mean 'abe.d'\?"),
    ("nobody", "no payee 'nobody' in the roster$"),
])
def test_a_statement_for_a_payee_not_in_the_roster_is_refused_not_all_zero(q1_run, payee,
                                                                           message):
    january = api.window(q1_run.plan, "2027-01")
    with pytest.raises(ValueError, match=message):
        api.statement(q1_run, payee, january)
    assert api.statement(q1_run, "abe.d", january).paid == 275


def test_every_public_name_of_the_api_is_exported():
    # `from incentive_dsl.api import *` and documentation tools read __all__.
    defined = {name for name, value in vars(api).items() if not name.startswith("_")
               and getattr(value, "__module__", None) == api.__name__}
    assert defined <= set(api.__all__)
    assert all(hasattr(api, name) for name in api.__all__)


@pytest.mark.parametrize("period", [2027, dt.date(2027, 1, 1)])
def test_a_period_that_is_not_text_is_named(shipped, period):
    with pytest.raises(TypeError, match=f"period is a period name such as '2027-Q1', not "
                                        f"{type(period).__name__}"):
        api.window(shipped[0].plan, period)
    assert api.window(shipped[0].plan, "2027").label == "2027"


def test_explaining_a_deal_not_in_the_data_is_refused_not_an_empty_tree(q1_run):
    q1 = api.window(q1_run.plan, "2027-Q1")
    with pytest.raises(ValueError, match=r"no deal 'd0001027' in the data; "
                                         r"did you mean 'D0001027'\?"):
        api.explain(q1_run, "abe.d", q1, deal="d0001027")
    # an id sharing a long prefix with many is no typo of one of them: nothing suggested
    with pytest.raises(ValueError, match=r"^no deal 'D0000000' in the data$"):
        api.explain(q1_run, "abe.d", q1, deal="D0000000")
    assert "D0001027" in "\n".join(api.explain(q1_run, "abe.d", q1, deal="D0001027").lines())
    # a payee the plan does not pay is explained, not refused
    assert "nobody is not in the roster" in "\n".join(api.explain(q1_run, "nobody", q1).lines())


@pytest.mark.parametrize("call", [
    lambda plan, data, who: api.hypothetical_deal(plan, data, who, {"amount": "1,000"}),
    lambda plan, data, who: api.open_deals(plan, data, who),
    lambda plan, data, who: api.estimate(plan, data, who, []),
    lambda plan, data, who: api.scenarios(plan, data, who, []),
])
def test_an_estimate_for_a_payee_not_in_the_roster_is_refused_not_all_zero(shipped, call):
    loaded, dataset = shipped
    with pytest.raises(ValueError, match=r"no payee 'Abe.D' in the roster; "
                                         r"did you mean 'abe.d'\?"):
        call(loaded.plan, dataset, "Abe.D")
    call(loaded.plan, dataset, "abe.d")


def test_accruals_from_a_run_past_the_period_are_refused_not_wrong(shipped, q1_run):
    loaded, dataset = shipped
    q1 = api.window(loaded.plan, "2027-Q1")
    year = api.run(loaded.plan, dataset)
    with pytest.raises(ValueError, match=r"accruals are as of 2027-03-31, and this run goes on "
                                         r"past it: run up to it, api.run\(plan, dataset, "
                                         r"until=period.end\)"):
        api.accruals(year, q1)
    (abe,) = [a for a in api.accruals(q1_run, q1) if a.payee == "abe.d"]
    assert abe.awaiting_collection == Decimal("33548.50")  # the full run's figure: 23,381.09


def test_closing_a_period_given_as_a_period_says_to_give_its_name(shipped, tmp_path):
    loaded, dataset = shipped
    january = api.window(loaded.plan, "2027-01")
    ledger = str(tmp_path / "ledger.sqlite")
    with pytest.raises(TypeError, match=r"period is a period name such as '2027-Q1', not "
                                        r"Period .* \(its name: '2027-01'\)"):
        api.close_period(loaded.plan, dataset, january, ledger)
    closed = api.close_period(loaded.plan, dataset, "2027-01", ledger, early=True)  # after today
    assert [p.label for p in closed.periods] == ["2027-01"]


@pytest.mark.parametrize("bounds", [{"start": dt.date(2027, 2, 1)},
                                    {"end": dt.date(2027, 2, 28)}])
def test_a_period_and_a_range_together_are_refused_not_one_dropped(shipped, bounds):
    with pytest.raises(ValueError, match=r"give a period or a range \(start, end\), not both"):
        api.window(shipped[0].plan, "2027-Q1", **bounds)


@pytest.mark.parametrize("call", [
    lambda result, dataset, path: api.with_ledger(result, dataset, path),
    lambda result, dataset, path: api.verify_ledger(path),
    lambda result, dataset, path: api.ledger_history(path),
])
def test_reading_a_ledger_that_is_not_there_raises_the_documented_ledger_error(
        shipped, q1_run, tmp_path, call):
    from incentive_dsl.audit.ledger import LedgerError

    path = str(tmp_path / "none.sqlite")
    with pytest.raises(LedgerError, match="no ledger at this path") as raised:
        call(q1_run, shipped[1], path)
    assert raised.value.render().startswith(f"{path}: error[E-LEDGER-FILE]: no ledger")
    assert not (tmp_path / "none.sqlite").exists()  # reading creates nothing


@pytest.mark.parametrize("call", [
    lambda plan, data: api.diff_plans(plan, plan),
    lambda plan, data: api.hypothetical_deal(plan, data, "abe.d", {"amount": "1,000"}),
    lambda plan, data: api.open_deals(plan, data, "abe.d"),
])
def test_functions_of_one_plan_name_what_is_not_one(shipped, call):
    loaded, dataset = shipped
    with pytest.raises(TypeError, match="pass loaded.plan, not what load_plan returns"):
        call(loaded, dataset)
    with pytest.raises(TypeError, match="load_plan gives plan=None when the plan has errors"):
        call(None, dataset)
    call(loaded.plan, dataset)


def test_a_review_with_a_window_name_or_an_unknown_unit_is_refused_before_running(shipped):
    loaded, dataset = shipped
    plan = loaded.plan
    with pytest.raises(TypeError, match=r"window is a Period, not '2027-Q1'"):
        api.review("a", "b", plan, plan, dataset, "2027-Q1")
    with pytest.raises(ValueError, match="by_period is one of pay, month, quarter, half, year, "
                                         "not 'fortnight'"):
        api.review("a", "b", plan, plan, dataset, by_period="fortnight")
    review, diags = api.review("a", "b", plan, plan, dataset, api.window(plan, "2027-Q1"),
                               by_period="month")
    assert review.impact is not None and not any(d.is_error for d in diags)


def _errors_raised(shipped):
    from incentive_dsl.audit.estimate import DealError
    from incentive_dsl.audit.ledger import Refused

    plan = shipped[0].plan
    try:
        api.window(plan, start=dt.date(2027, 1, 5), end=dt.date(2027, 1, 20))
    except api.EmptyWindow as empty:
        yield empty, ("window", "holding")
    try:
        api.hypothetical_deal(plan, shipped[1], "abe.d", {"amount": "lots"})
    except DealError as deal:
        yield deal, ("message", "hint")
    yield Refused("closed", hint="close the next one", path="l.sqlite"), ("message", "hint",
                                                                          "path")


@pytest.mark.parametrize("how", [lambda e: pickle.loads(pickle.dumps(e)), copy.copy,
                                 copy.deepcopy])
def test_the_documented_errors_pickle_and_copy_with_their_fields(shipped, how):
    # A worker process's error reaches its parent pickled: EmptyWindow could not be rebuilt,
    # and the others came back without their hint and path.
    found = list(_errors_raised(shipped))
    assert len(found) == 3
    for error, fields in found:
        again = how(error)
        assert type(again) is type(error) and str(again) == str(error)
        assert [getattr(again, f) for f in fields] == [getattr(error, f) for f in fields]
        assert all(getattr(again, f) is not None for f in fields)


def test_paths_given_as_pathlib_paths_load_as_their_text(tmp_path):
    # A Path kept in the plan and its spans made the stamp unwritable as JSON, the plan
    # document fail ('PosixPath' object is not iterable) and the plan unequal to itself.
    by_text = api.load_plan(PLAN)
    by_path = api.load_plan(Path(PLAN))
    assert by_path == by_text and isinstance(by_path.plan.span.path, str)
    assert api.plan_document(by_path.plan) == api.plan_document(by_text.plan)
    dataset, problems = api.load_data(*(DATA / f for f in ("events.csv", "roster.csv")),
                                      quotas=DATA / "quotas.csv", fx=DATA / "fx.csv",
                                      territories=DATA / "territories.csv", plan=by_path.plan)
    assert not any(d.is_error for d in problems)
    stamp = api.run(by_path.plan, dataset, until=dt.date(2027, 1, 31)).stamp
    json.dumps(stamp.to_json())
    bad = tmp_path / "bad.plan"
    bad.write_text('plan "x"\n  currency USD\n  rule foo:\n', encoding="utf-8")
    checked = api.check_paths([bad, PLAN])  # a Path and a str: their diagnostics sort
    assert [d.span.path for d in checked.diagnostics if d.is_error] == [str(bad)]
    assert "rule foo" in api.render_all(checked.diagnostics, checked.sources)


def test_explaining_many_deals_passes_over_the_events_once(shipped, monkeypatch):
    """The deal ids explain checks against are collected once per run (with the run's index),
    not on every call: a program explaining each deal of a large run would otherwise pay a pass
    each."""
    from incentive_dsl.audit import index

    loaded, dataset = shipped
    result = api.run(loaded.plan, dataset, until=dt.date(2027, 1, 31))
    passes = []
    build = index.build
    monkeypatch.setattr(index, "build", lambda r: passes.append(r) or build(r))
    jan = api.window(loaded.plan, "2027-01")
    deals = sorted({e.deal for e in dataset.events if e.kind == "booked"})[:5]
    for deal in deals:
        api.explain(result, "abe.d", jan, deal=deal)
    with pytest.raises(ValueError, match="no deal 'nope' in the data"):
        api.explain(result, "abe.d", jan, deal="nope")
    assert len(passes) == 1 and passes[0] is result


@pytest.mark.parametrize("call", [
    lambda plan, data, until: api.run(plan, data, until=until),
    lambda plan, data, until: api.run([plan], data, until),
    lambda plan, data, until: api.prepare_columnar(plan, data, until),
])
def test_a_run_until_before_the_plan_starts_is_refused_not_empty(shipped, call):
    loaded, dataset = shipped
    with pytest.raises(ValueError, match=r"^until 2026-12-31 is before the plan starts "
                                         r"\(2027-01-01\): there is nothing to run"):
        call(loaded.plan, dataset, dt.date(2026, 12, 31))
    # the plan's first day is a run, not a mistake
    assert api.run(loaded.plan, dataset, until=dt.date(2027, 1, 1)).ok
