"""Statements reconcile on their face (audit/reconcile.py, eval.records.Statement).

Exhaustively over the shipped plans and data: every statement's flows add up to what it pays,
its `earned` is the earning lines dated in its pay period, the run table and the JSON add up
row by row, and for every payee and every month, quarter and year, explain's terms take earned
to paid exactly. "Earned" is one number in run, explain and diff. With a ledger, explain shows
the prior-period adjustments and what is still carried.
"""

from __future__ import annotations

import decimal
import json
from collections import defaultdict
from decimal import Decimal

import attrs
import pytest
from rich.console import Console

from incentive_dsl import api, cli
from incentive_dsl.audit import render
from incentive_dsl.audit.impact import impact
from incentive_dsl.audit.reconcile import reconcile
from incentive_dsl.eval.money import CONTEXT, ZERO, fmt, round_money
from incentive_dsl.eval.payouts import payable_amount
from incentive_dsl.eval.records import STATEMENT_FLOWS
from incentive_dsl.periods import FREQUENCY_UNIT
from shipped import ROOT, load_shipped_data
from test_ledger import EVENTS, Workspace

PLANS = ["enterprise_ae.plan", "sales_manager.plan", "sdr_activity.plan", "split_deals.plan",
         "presale_enterprise.plan", "omnichannel.plan", "operations",
         "inside_sales_retroactive.plan", "inside_sales_biweekly.plan"]


@pytest.fixture(scope="module", params=PLANS)
def shipped(request):
    loaded = api.load_plan(str(ROOT / "plans" / request.param))
    dataset, _ = load_shipped_data(loaded.plan)
    result = api.run(loaded.versions, dataset)
    assert result.ok
    return result


def _per_payee(result):
    """The run cut into one small result per payee (reconcile reads one payee's lines)."""
    earnings, payouts, statements = defaultdict(list), defaultdict(list), defaultdict(list)
    for ln in result.earnings:
        earnings[ln.payee].append(ln)
    for p in result.payouts:
        payouts[p.payee].append(p)
    for s in result.statements:
        statements[s.payee].append(s)
    for payee in sorted(statements):
        yield payee, attrs.evolve(result, earnings=tuple(earnings[payee]),
                                  payouts=tuple(payouts[payee]),
                                  statements=tuple(statements[payee]))


def test_every_statement_adds_up_to_what_it_pays(shipped):
    with decimal.localcontext(CONTEXT):  # the run's context: the statements' additions
        _statements_add_up(shipped)


def _statements_add_up(shipped):
    cal = shipped.plan.calendar
    unit = FREQUENCY_UNIT[shipped.plan.payout.frequency]
    earned = defaultdict(lambda: ZERO)  # added in the run's order, as the statements add them
    for ln in shipped.earnings:
        earned[ln.payee, cal.period_of(ln.date, unit).label] += ln.amount
    for s in shipped.statements:
        flows = sum((getattr(s, f) for f in STATEMENT_FLOWS), ZERO)
        assert flows == s.paid, (s.payee, s.pay_period,
                                 {f: getattr(s, f) for f in STATEMENT_FLOWS})
        assert s.earned == earned.pop((s.payee, s.pay_period), ZERO), (s.payee, s.pay_period)
    # Every earning line is on a statement: nothing earned goes missing between them.
    assert not earned
    assert any(s.awaiting or s.later for s in shipped.statements) or \
        shipped.plan.payout.schedule[0][0] == "booked"


def test_explain_takes_earned_to_paid_for_every_payee_and_period(shipped):
    with decimal.localcontext(CONTEXT):
        _explain_identity(shipped)


def _explain_identity(shipped):
    plan = shipped.plan
    cal = plan.calendar
    year = cal.parse("2027")
    windows = [year, *cal.periods(year.start, year.end, "quarter"),
               *cal.periods(year.start, year.end, "month")]
    pay_unit = FREQUENCY_UNIT[plan.payout.frequency]
    if pay_unit not in ("month", "quarter", "year"):  # pay periods shorter than a month
        windows += cal.periods(year.start, year.end, pay_unit)
    checked = 0
    for payee, mine in _per_payee(shipped):
        by_label = {s.pay_period: s for s in mine.statements}
        for w in windows:
            r = reconcile(mine, payee, w)
            assert r.balances, (payee, w.label, r)
            assert r.earned == sum((ln.amount for ln in mine.earnings if w.contains(ln.date)),
                                   ZERO)
            s = by_label.get(w.label)
            if s is None:
                continue
            # For one pay period, the terms are the statement's own flows.
            terms = dict(r.terms)
            assert r.paid == s.paid and r.earned == s.earned
            assert -terms.get("awaiting collection", ZERO) == -s.awaiting
            assert terms.get("paid in later pay periods", ZERO) == s.later
            assert terms.get("earned before, paid now", ZERO) == s.earlier
            assert terms.get("held back", ZERO) == s.held
            assert terms.get("released", ZERO) == s.released
            assert terms.get("drawn", ZERO) == s.drawn
            assert terms.get("draw recovered", ZERO) == s.recovered
            assert terms.get("advanced", ZERO) == s.advanced
            assert terms.get("advances recovered", ZERO) == s.advance_recovered
            # Rounding is read as the rest (it takes the last-digit residue of 34-digit
            # additions, which differs with the order of addition); it is what rounding the
            # lines and the statement to the cent added.
            rounded = sum((payable_amount(plan, ln) - ln.amount for ln in mine.earnings
                           if w.contains(ln.date)), ZERO) + sum(
                (p.amount for p in mine.payouts if p.kind == "rounding"
                 and p.pay_period == w.label), ZERO)
            for value in (terms.get("rounding to the cent", ZERO), s.rounding):
                assert abs(value - rounded) < Decimal("1e-20"), (payee, w.label, value, rounded)
            checked += 1
    assert checked


def _table_rows(result, window=None, by_period=False) -> list[list[str]]:
    console = Console(record=True, width=400, file=open("/dev/null", "w"))
    console.print(render.statement_table(result, window, by_period=by_period))
    rows = []
    for line in console.export_text().splitlines():
        if line.startswith("│"):
            rows.append([c.strip() for c in line.strip("│").split("│")])
        elif line.startswith("┃"):
            header = [c.strip() for c in line.strip("┃").split("┃")]
    return header, rows


def _amount(cell: str) -> Decimal:
    return Decimal(cell.replace(",", "")) if cell else ZERO


@pytest.mark.parametrize("by_period", [False, True])
def test_every_column_of_the_run_table_adds_up_to_paid(shipped, by_period):
    window = shipped.plan.calendar.parse("2027-Q1")
    header, rows = _table_rows(shipped, window, by_period)
    assert header[-1] == "Paid" and "Earned" in header
    first = 2 if by_period else 1
    assert rows
    for row in rows:
        cells = [_amount(c) for c in row[first:]]
        assert sum(cells[:-1], ZERO) == cells[-1], (header, row)


def test_json_statements_add_up(shipped):
    doc = json.loads(render.to_json(shipped, lines=False))
    for s in doc["statements"]:
        assert sum((Decimal(s[f]) for f in STATEMENT_FLOWS), ZERO) == Decimal(s["paid"]), s


def test_earned_is_one_number_in_run_explain_and_diff():
    loaded = api.load_plan(str(ROOT / "plans" / "enterprise_ae.plan"))
    dataset, _ = load_shipped_data(loaded.plan)
    q1 = loaded.plan.calendar.parse("2027-Q1")
    result = api.run(loaded.versions, dataset, q1.end)
    diff = {p.payee: p for p in impact(result, result, window=q1).payees}
    cur, mode = result.plan.currency, result.plan.rounding.mode
    for payee in ("abe.d", "dee.l", "eli.g"):
        in_run = sum((s.earned for s in result.statements if s.payee == payee
                      and q1.start <= s.start and s.end <= q1.end), ZERO)
        r = reconcile(result, payee, q1)
        assert in_run == r.earned
        assert diff[payee].new == round_money(in_run, cur, mode)
        tree = api.explain(result, payee, q1)
        assert tree.text.startswith(f"{payee}, 2027-Q1: earned {fmt(in_run, cur)}")
        lines = "\n".join(tree.lines())
        assert f"earned {fmt(in_run, cur)}" in lines and f"= paid {fmt(r.paid, cur)}" in lines


def test_explain_spells_out_awaiting_collection_with_its_sign():
    loaded = api.load_plan(str(ROOT / "plans" / "enterprise_ae.plan"))
    dataset, _ = load_shipped_data(loaded.plan)
    q1 = loaded.plan.calendar.parse("2027-Q1")
    result = api.run(loaded.versions, dataset, q1.end)
    text = "\n".join(api.explain(result, "abe.d", q1).lines())
    # 50% when booked, 50% when collected: half of the 65,746.998 commission (rounded per
    # line when it is made, to 65,747.00) waits for the customer's money at the end of the
    # quarter; earned is already in cents, so no rounding term is left.
    assert "earned 72,097.00 USD" in text
    assert "− awaiting collection 33,548.50 USD" in text
    assert "rounding to the cent" not in text
    assert "= paid 38,548.50 USD" in text


@pytest.fixture
def ws(tmp_path, capsys) -> Workspace:
    return Workspace(tmp_path, capsys)


def test_explain_with_a_ledger_shows_prior_period_adjustments(ws):
    assert ws.close("2027-Q1")[0] == 0
    # D2 was booked at 30,000, closed in February, and is corrected to 50,000: bob's 2,000
    # more commission (10%) is paid in April, the first open pay period.
    ws.write_events([e if e[0] != "E2" else ("E2", "D2", "2027-02-15", "booked", "50000", "bob")
                     for e in EVENTS])
    code, out, err = ws.cli("explain", str(ws.plan), *ws.data(), "--payee", "bob", "--period",
                            "2027-04", "--ledger", ws.ledger)
    assert code == 0, err
    assert ("prior-period adjustment 2,000.00 USD — prior-period adjustment for 2027-02 (closed), "
            "deal D2, rule core (earning line): 3,000.00 USD -> 5,000.00 USD (data change) "
            "[earning core:commission:bob:E2; original lines #") in out
    # April: bob earns nothing, draws 1,000, and is paid the 2,000 correction.
    assert "earned 0.00 USD" in out
    assert "+ drawn 1,000.00 USD" in out
    assert "+ prior-period adjustments 2,000.00 USD" in out
    assert "= paid 3,000.00 USD" in out
    # Without the ledger the correction is not there.
    code, out, _ = ws.cli("explain", str(ws.plan), *ws.data(), "--payee", "bob", "--period",
                          "2027-04")
    assert code == 0 and "prior-period" not in out and "= paid 1,000.00 USD" in out


def test_carried_adjustments_still_owed_appear_on_the_statement(ws):
    assert ws.close("2027-Q1")[0] == 0
    # D1 (2,000 of ana's commission, paid in January) is cancelled in March, after the close:
    # April pays 1,000 of draw less the 2,000 clawback: -1,000 is carried, not taken from pay.
    ws.write_events([*EVENTS, ("E5", "D1", "2027-03-20", "cancelled", "", "")])
    code, out, err = ws.cli("explain", str(ws.plan), *ws.data(), "--payee", "ana", "--period",
                            "2027-04", "--ledger", ws.ledger)
    assert code == 0, err
    assert "− prior-period adjustments 2,000.00 USD" in out
    assert "+ prior-period adjustments carried forward 1,000.00 USD" in out
    assert "= paid 0.00 USD" in out
    assert "still owed after 2027-04: prior-period adjustments carried forward 1,000.00 USD" in out
    # In May it is recovered, and nothing is owed any more.
    code, out, err = ws.cli("explain", str(ws.plan), *ws.data(), "--payee", "ana", "--period",
                            "2027-05", "--ledger", ws.ledger)
    assert code == 0, err
    assert "− prior-period adjustments carried from earlier, recovered 1,000.00 USD" in out
    assert "still owed after 2027-05: prior-period" not in out


def test_run_table_with_a_ledger_adds_up(ws):
    assert ws.close("2027-Q1")[0] == 0
    ws.write_events([*EVENTS, ("E5", "D1", "2027-03-20", "cancelled", "", "")])
    code, out, err = ws.cli("run", str(ws.plan), *ws.data(), "--period", "2027-Q2", "--ledger",
                            ws.ledger, "--by-period")
    assert code == 0, err
    lines = [ln for ln in out.splitlines() if ln.startswith(("│", "┃"))]
    header = [c.strip() for c in lines[0].strip("┃").split("┃")]
    assert "Adjusted" in header and header[-1] == "Paid"
    for line in lines[1:]:
        cells = [_amount(c.strip()) for c in line.strip("│").split("│")[2:]]
        assert sum(cells[:-1], ZERO) == cells[-1], line


# explain's terms and run's columns of the same name (rounding is read as the rest in both).
_COLUMN_TERMS = {"Earned": None, "Paid later": "paid in later pay periods",
                 "Awaiting": "awaiting collection", "Earned before": "earned before, paid now",
                 "Held": "held back", "Released": "released", "Drawn": "drawn",
                 "Recovered": "draw recovered", "Advanced": "advanced",
                 "Advance recovered": "advances recovered", "Paid": None}


def test_explain_terms_of_a_quarter_are_the_run_columns(shipped):
    """A quarter of several pay periods reads the same in `explain` (and the rep statement)
    as in `run`: each term is the sum of its pay periods' columns."""
    labels = render.payee_labels(shipped)
    ids = {labels.get(s.payee, s.payee): s.payee for s in shipped.statements}
    year = shipped.plan.calendar.parse("2027")
    compared = shifted = 0
    for q in shipped.plan.calendar.periods(year.start, year.end, "quarter"):
        quarter = api.window(shipped.plan, q.label)  # as the command line reads --period
        header, rows = _table_rows(shipped, quarter)
        for row in rows[:-1]:  # the last row is the total of all payees
            r = reconcile(shipped, ids[row[0]], quarter)
            terms = dict(r.terms)
            for name, cell in zip(header[1:], row[1:]):
                if name not in _COLUMN_TERMS:
                    continue
                term = _COLUMN_TERMS[name]
                value = r.earned if name == "Earned" else r.paid if name == "Paid" else \
                    terms.get(term, ZERO)
                with decimal.localcontext(CONTEXT):
                    assert render._cell(value) == cell, (row[0], quarter.label, name)
                compared += 1
            shifted += bool(terms.get("paid in later pay periods"))
    assert compared
    # A plan paying on collection defers pay between the months of a quarter.
    if shipped.plan.payout.schedule[0][0] != "booked":
        assert shifted
