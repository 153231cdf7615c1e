"""The payout ledger: close, adjustments, integrity (docs/ledger.md).

Every scenario starts from the same small plan and data (two AEs, monthly pay, a recoverable
draw, a clawback) whose first quarter is worked out by hand below, closes the quarter, then
changes the data or the plan and checks the prior-period adjustments line by line.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest

from incentive_dsl import api, cli
from incentive_dsl.audit import ledger
from test_explain import COLLECT_PLAN  # 10%, half paid when booked, half when collected

PLAN = """\
plan "Ledger test AE"
  currency USD
  effective 2027-01-01 to 2027-12-31
  roles AE
  rounding half even per line

quota bookings "Bookings quota"
  100,000 USD per quarter
  no proration

credit bookings "Bookings"
  on deal booked

measure attainment = bookings / quota bookings

commission core "Core commission"
  on bookings
  marginal rates by attainment per quarter
    each bound belongs to the tier above
    from 0% to 100% at 10%
    from 100% at 15%

clawback churn "Early churn"
  when deal cancelled within 120 days of booking
  reverse core at original amounts

payout
  paid monthly
  draw 1,000 USD per month recoverable from all earnings
"""

ROSTER = "payee_id,role,start\nana,AE,2027-01-01\nbob,AE,2027-01-01\n"

# By hand, Q1 (10% below quota; draw 1,000 a month, recovered from all earnings):
#   2027-01  ana earning 2,000 (D1)            bob draw 1,000
#   2027-02  ana draw 1,000                    bob earning 3,000 (D2), recovery -1,000
#   2027-03  ana earning 6,000 (D3), recovery -1,000    bob draw 1,000
EVENTS = [
    ("E1", "D1", "2027-01-10", "booked", "20000", "ana"),
    ("E2", "D2", "2027-02-15", "booked", "30000", "bob"),
    ("E3", "D3", "2027-03-05", "booked", "60000", "ana"),
    ("E4", "D4", "2027-04-10", "booked", "10000", "ana"),
]


class Workspace:
    def __init__(self, root: Path, capsys) -> None:
        self.root, self.capsys = root, capsys
        self.plan = root / "t.plan"
        self.plan.write_text(PLAN, encoding="utf-8")
        (root / "roster.csv").write_text(ROSTER, encoding="utf-8")
        self.ledger = str(root / ".incentive" / "ledger.sqlite")
        self.write_events(EVENTS)

    def write_events(self, events) -> None:
        rows = ["event_id,deal_id,date,kind,amount,currency,owner"]
        for e, d, day, kind, amount, owner in events:
            rows.append(f"{e},{d},{day},{kind},{amount},{'USD' if amount else ''},{owner}")
        (self.root / "events.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")

    def edit_plan(self, old: str, new: str) -> None:
        text = self.plan.read_text(encoding="utf-8")
        assert old in text
        self.plan.write_text(text.replace(old, new), encoding="utf-8")

    def data(self) -> list[str]:
        return ["--deals", str(self.root / "events.csv"), "--roster",
                str(self.root / "roster.csv")]

    def cli(self, *args: str) -> tuple[int, str, str]:
        if args[:1] == ("close",):  # the history is in 2027, after today and its last event
            args = (*args, "--early")
        self.capsys.readouterr()
        code = cli.main(list(args))
        out, err = self.capsys.readouterr()
        return code, out, err

    def close(self, period: str, *extra: str) -> tuple[int, str, str]:
        return self.cli("close", period, str(self.plan), *self.data(), *extra)

    def run_json(self, period: str) -> dict:
        code, out, err = self.cli("run", str(self.plan), *self.data(), "--period", period,
                                  "--ledger", self.ledger, "--format", "json")
        assert code == 0, err
        return json.loads(out)

    def api_ledger_view(self, period: str):
        """The run up to the end of `period` through the API, its window and its ledger view
        (what `finance accruals --ledger` reads)."""
        loaded = api.load_plan(str(self.plan))
        dataset, _ = api.load_data(str(self.root / "events.csv"), str(self.root / "roster.csv"),
                                   plan=loaded.plan)
        window = api.window(loaded.plan, period, whole_pay_periods=False)
        result = api.run(loaded.versions, dataset, window.end)
        return result, window, api.with_ledger(result, dataset, self.ledger, window)

    def line_id(self, payee: str, period: str, kind: str, earning: str | None = None) -> int:
        found = [ln.id for ln in api.ledger_history(self.ledger).lines
                 if (ln.payee, ln.pay_period, ln.kind) == (payee, period, kind)
                 and (earning is None or ln.earning == earning)]
        assert len(found) == 1, found
        return found[0]


@pytest.fixture
def ws(tmp_path, capsys) -> Workspace:
    return Workspace(tmp_path, capsys)


def adjustments(doc: dict) -> list[tuple]:
    return [(a["payee"], a["closed_period"], a["kind"], a["earning"], a["old"], a["new"],
             a["amount"], a["cause"], tuple(a["original"]))
            for a in doc["ledger"]["adjustments"]]


def paid(doc: dict, payee: str, period: str) -> Decimal:
    return sum((Decimal(s["paid"]) for s in doc["statements"]
                if (s["payee"], s["pay_period"]) == (payee, period)), Decimal(0))


# ------------------------------------------------------------------------------ close


def test_close_records_the_quarter_and_the_ledger_verifies(ws):
    code, out, err = ws.close("2027-Q1")
    assert code == 0, err
    assert "closed 2027-01, 2027-02, 2027-03" in out
    assert Path(ws.ledger).is_file()  # the default: .incentive/ledger.sqlite beside the plan
    h = api.ledger_history(ws.ledger)
    got = sorted((ln.pay_period, ln.payee, ln.kind, str(ln.amount)) for ln in h.lines)
    assert got == sorted([
        ("2027-01", "ana", "earning", "2000.00"), ("2027-01", "bob", "draw", "1000.00"),
        ("2027-02", "ana", "draw", "1000.00"), ("2027-02", "bob", "earning", "3000.00"),
        ("2027-02", "bob", "recovery", "-1000.00"), ("2027-03", "ana", "earning", "6000.00"),
        ("2027-03", "ana", "recovery", "-1000.00"), ("2027-03", "bob", "draw", "1000.00")])
    assert [str(p.paid) for p in h.periods] == ["3000.00", "3000.00", "6000.00"]
    run = h.runs[0]
    assert run.plan_hash == api.load_plan(str(ws.plan)).plan.source_hash
    assert run.tool_version and run.created_by and run.created_at and run.data_hash
    assert run.plan_sources[0]["text"] == PLAN  # the plan as it was paid, kept verbatim
    report = api.verify_ledger(ws.ledger)
    assert report.ok and report.records == 1 + 8 + 6 + 3
    code, out, _ = ws.cli("ledger", "verify", "--plan", str(ws.plan))
    assert code == 0 and "intact" in out


def test_closing_a_closed_period_is_refused_and_changes_nothing(ws):
    assert ws.close("2027-01")[0] == 0
    before = api.verify_ledger(ws.ledger).head
    code, out, err = ws.close("2027-01")
    assert code == ledger_exit_refused()
    assert "2027-01 of \"Ledger test AE\" is already closed (ledger run #1" in err
    assert "cannot be reopened" in err and "2027-02" in err
    assert ws.close("2027-Q2")[0] == ledger_exit_refused()  # February is open
    assert api.verify_ledger(ws.ledger).head == before


def ledger_exit_refused() -> int:
    return cli.EXIT_REFUSED


def test_periods_are_closed_in_order(ws):
    code, _, err = ws.close("2027-03")
    assert code == ledger_exit_refused()
    assert "2027-03 cannot be closed while 2027-01 is open" in err
    assert ws.close("2027-01")[0] == 0
    code, _, err = ws.close("2027-03")
    assert code == ledger_exit_refused() and "while 2027-02 is open" in err
    assert ws.close("2027-02")[0] == 0
    assert ws.close("2027-03")[0] == 0


def test_bad_periods_and_options_are_usage_errors(ws):
    assert ws.close("2027-13")[0] == cli.EXIT_USAGE
    assert ws.close("2027-01", "--period", "2027-01")[0] == cli.EXIT_USAGE
    code, _, err = ws.cli("run", str(ws.plan), *ws.data(), "--ledger",
                          str(ws.root / "missing.sqlite"))
    assert code == cli.EXIT_USAGE and "no ledger at" in err
    code, _, err = ws.cli("ledger", "verify")
    assert code == cli.EXIT_USAGE and "--ledger FILE" in err
    not_ledger = ws.root / "other.sqlite"
    sqlite3.connect(not_ledger).execute("CREATE TABLE t (x)").connection.commit()
    code, _, err = ws.cli("ledger", "show", "--ledger", str(not_ledger))
    assert code == cli.EXIT_USAGE and "not an incentive-dsl ledger" in err


def test_a_quarterly_plan_closes_quarters_only(ws):
    ws.edit_plan("  paid monthly\n  draw 1,000 USD per month", "  paid quarterly\n"
                 "  draw 3,000 USD per quarter")
    code, _, err = ws.close("2027-02")
    assert code == cli.EXIT_USAGE and "paid quarterly: close 2027-Q1" in err
    assert ws.close("2027-Q1")[0] == 0


def test_a_period_after_the_plans_effective_range_is_not_closed(ws):
    """Closing is for good: a pay period that starts after the plan ends is never closed. A
    period wholly after the range is refused (exit 2, the plan's range named, nothing
    recorded); of one reaching past it, the pay periods in the plan are closed and the later
    ones named as left open. `run` still reports a range reaching past it."""
    ws.edit_plan("effective 2027-01-01 to 2027-12-31", "effective 2027-01-01 to 2027-06-30")
    code, out, err = ws.close("2027-07")
    assert code == cli.EXIT_USAGE and not out
    assert err == (
        "incentive close: error[E-LEDGER-PERIOD]: '2027-07' is outside the effective range of "
        "\"Ledger test AE\" (2027-01-01 to 2027-06-30): no pay period of the plan ends in it, "
        "and a close is for good\n   = hint: the plan's last pay period is 2027-06; later pay "
        "periods are closed under the plan (or the new version of it) that pays them\n")
    assert not Path(ws.ledger).exists()
    code, out, err = ws.close("2027")
    assert code == 0, err
    assert out.startswith('closed 2027-01, 2027-02, 2027-03, 2027-04, 2027-05, 2027-06 of '
                          '"Ledger test AE"')
    assert ("not closed: 2027-07 to 2027-12 of 2027 start after \"Ledger test AE\" ends "
            "(2027-06-30); close them under the plan (or the new version of it) that pays "
            "them\n") in out
    assert [p.label for p in api.ledger_history(ws.ledger).periods][-1] == "2027-06"
    code, _, err = ws.close("2027-Q3")
    assert code == cli.EXIT_USAGE and "is outside the effective range" in err
    assert ws.close("2027-H1")[0] == ledger_exit_refused()  # closed already
    with pytest.raises(ledger.PeriodError, match="outside the effective range"):
        ledger.pay_periods([api.load_plan(str(ws.plan)).plan], "2028-01")
    # A report of a range reaching past the plan is still made; one wholly after it is not.
    assert ws.cli("run", str(ws.plan), *ws.data(), "--from", "2027-06-01", "--to",
                  "2027-09-30")[0] == 0
    code, _, err = ws.cli("run", str(ws.plan), *ws.data(), "--period", "2027-Q3")
    assert code == cli.EXIT_USAGE and "outside the plan's effective range" in err


def test_a_biweekly_plan_closes_the_fortnights_that_end_in_a_quarter(ws):
    """As a run's window: `close 2027-Q1` closes the fortnights that end in the quarter, the
    one across the new year included; once the first is closed, closing the quarter closes
    the rest, and closing it again is refused with the next fortnight to close named."""
    ws.edit_plan("  paid monthly\n  draw 1,000 USD per month",
                 "  paid biweekly from 2027-01-04\n  draw 500 USD per pay period")
    assert ws.close("2026-12-21/2027-01-03")[0] == 0
    code, out, err = ws.close("2027-Q1")
    assert code == 0, err
    assert "already closed: 2026-12-21/2027-01-03 of 2027-Q1, closed before (unchanged)" in out
    closed = [p.label for p in api.ledger_history(ws.ledger).periods]
    assert closed[:2] == ["2026-12-21/2027-01-03", "2027-01-04/17"]
    assert closed[-1] == "2027-03-15/28" and len(closed) == 7
    code, _, err = ws.close("2027-Q1")
    assert code == cli.EXIT_REFUSED and "already closed" in err
    assert "close the next pay period (2027-03-29/04-11)" in err


def test_a_biweekly_quarter_is_closed_whole(ws):
    ws.edit_plan("  paid monthly\n  draw 1,000 USD per month",
                 "  paid biweekly from 2027-01-04\n  draw 500 USD per pay period")
    assert ws.close("2027-Q1")[0] == 0
    closed = [p.label for p in api.ledger_history(ws.ledger).periods]
    assert closed[0] == "2026-12-21/2027-01-03" and closed[-1] == "2027-03-15/28"
    assert len(closed) == 7


# ------------------------------------------------------------------------------ adjustments


def test_a_data_change_in_a_closed_period_pays_an_adjustment_in_the_next(ws):
    assert ws.close("2027-Q1")[0] == 0
    original = ws.line_id("bob", "2027-02", "earning")
    events = [e if e[0] != "E2" else ("E2", "D2", "2027-02-15", "booked", "50000", "bob")
              for e in EVENTS]
    ws.write_events(events)
    doc = ws.run_json("2027-Q2")
    assert adjustments(doc) == [
        ("bob", "2027-02", "earning", "core:commission:bob:E2", "3000.00", "5000.00",
         "2000.00", "data change", (f"lines #{original}",))]
    line = [p for p in doc["payouts"] if p["kind"] == "prior-period adjustment"]
    assert len(line) == 1 and line[0]["pay_period"] == "2027-04"
    assert line[0]["earning"] == "core:commission:bob:E2"
    assert line[0]["trace"]["because"] == (
        "prior-period adjustment for 2027-02 (closed), deal D2, rule core (earning line): "
        "3,000.00 USD -> 5,000.00 USD (data change) [earning core:commission:bob:E2; original "
        f"lines #{original}]")
    assert dict(map(tuple, line[0]["trace"]["values"]))["closed period"] == "2027-02"
    # April pays bob his draw (1,000, recomputed) and the 2,000 correction.
    assert paid(doc, "bob", "2027-04") == Decimal("3000.00")
    assert doc["ledger"]["closed"] == ["2027-01", "2027-02", "2027-03"]
    assert doc["ledger"]["open_period"] == "2027-04"


def test_closed_periods_show_what_was_paid(ws):
    assert ws.close("2027-Q1")[0] == 0
    ws.write_events([e if e[0] != "E2" else ("E2", "D2", "2027-02-15", "booked", "50000", "bob")
                     for e in EVENTS])
    doc = ws.run_json("2027")
    assert paid(doc, "bob", "2027-02") == Decimal("2000.00")  # as closed, not 4,000
    feb = [p for p in doc["payouts"] if (p["payee"], p["pay_period"]) == ("bob", "2027-02")]
    assert sorted(p["amount"] for p in feb) == ["-1000.00", "3000.00"]
    assert paid(doc, "bob", "2027-04") == Decimal("3000.00")


def test_a_plan_change_pays_adjustments_citing_the_plan(ws):
    assert ws.close("2027-Q1")[0] == 0
    ws.edit_plan("from 0% to 100% at 10%", "from 0% to 100% at 12%")
    doc = ws.run_json("2027-04")
    assert adjustments(doc) == [
        ("ana", "2027-01", "earning", "core:commission:ana:E1", "2000.00", "2400.00", "400.00",
         "plan change", (f"lines #{ws.line_id('ana', '2027-01', 'earning')}",)),
        ("ana", "2027-03", "earning", "core:commission:ana:E3", "6000.00", "7200.00", "1200.00",
         "plan change", (f"lines #{ws.line_id('ana', '2027-03', 'earning')}",)),
        ("bob", "2027-02", "earning", "core:commission:bob:E2", "3000.00", "3600.00", "600.00",
         "plan change", (f"lines #{ws.line_id('bob', '2027-02', 'earning')}",))]


def test_plan_and_data_changes_are_told_apart_line_by_line(ws):
    assert ws.close("2027-Q1")[0] == 0
    ws.edit_plan("from 0% to 100% at 10%", "from 0% to 100% at 12%")
    ws.write_events([e if e[0] != "E2" else ("E2", "D2", "2027-02-15", "booked", "50000", "bob")
                     for e in EVENTS])
    doc = ws.run_json("2027-04")
    got = {(a[0], a[1], a[4], a[5], a[7]) for a in adjustments(doc)}
    assert got == {
        ("ana", "2027-01", "2000.00", "2400.00", "plan change"),
        ("ana", "2027-03", "6000.00", "7200.00", "plan change"),
        # bob's deal changed and so did the rate: 3,000 -> 5,000 by the data, -> 6,000 by the
        # plan, in two lines
        ("bob", "2027-02", "3000.00", "5000.00", "data change"),
        ("bob", "2027-02", "5000.00", "6000.00", "plan change")}


def test_adjustments_are_recorded_when_the_next_period_closes_and_settle(ws):
    assert ws.close("2027-Q1")[0] == 0
    original = ws.line_id("bob", "2027-02", "earning")
    ws.write_events([e if e[0] != "E2" else ("E2", "D2", "2027-02-15", "booked", "50000", "bob")
                     for e in EVENTS])
    code, out, err = ws.close("2027-04")
    assert code == 0, err
    assert "prior-period adjustments paid in 2027-04: 1 line(s), net +2,000.00 USD" in out
    recorded = [ln for ln in api.ledger_history(ws.ledger).lines
                if ln.kind == "prior-period adjustment"]
    assert len(recorded) == 1 and recorded[0].pay_period == "2027-04"
    assert recorded[0].adjusts == {"period": "2027-02", "kind": "earning",
                                   "earning": "core:commission:bob:E2", "old": "3000.00",
                                   "new": "5000.00", "cause": "data change",
                                   "lines": [f"lines #{original}"], "deal": "D2",
                                   "change": "changed"}
    # Paid: nothing more to correct.
    assert adjustments(ws.run_json("2027-05")) == []
    # A second correction of the same line starts from what was paid: 3,000 + 2,000.
    ws.write_events([e if e[0] != "E2" else ("E2", "D2", "2027-02-15", "booked", "40000", "bob")
                     for e in EVENTS])
    assert adjustments(ws.run_json("2027-05")) == [
        ("bob", "2027-02", "earning", "core:commission:bob:E2", "5000.00", "4000.00",
         "-1000.00", "data change", (f"lines #{original}", f"lines #{recorded[0].id}"))]
    assert api.verify_ledger(ws.ledger).ok


def test_a_clawback_dated_in_a_closed_period_is_an_adjustment(ws):
    assert ws.close("2027-Q1")[0] == 0
    ws.write_events([*EVENTS, ("E5", "D1", "2027-03-20", "cancelled", "", "")])
    doc = ws.run_json("2027-Q2")
    (adj,) = adjustments(doc)
    payee, period, kind, earning, old, new, amount, cause, original = adj
    assert (payee, period, kind, old, new, amount, cause, original) == (
        "ana", "2027-03", "earning", "0", "-2000.00", "-2000.00", "data change", ())
    assert earning.startswith("churn:clawback:ana")
    # April: 1,000 earned - 2,000 clawed back = -1,000: nothing is taken back from pay, the
    # rest is carried to May, where it is recovered from the draw.
    carried = [(p["pay_period"], p["amount"]) for p in doc["payouts"]
               if p["kind"] == "carried adjustment"]
    assert carried == [("2027-04", "1000.00"), ("2027-05", "-1000.00")]
    assert paid(doc, "ana", "2027-04") == 0
    assert paid(doc, "ana", "2027-05") == 0


def test_a_clawback_in_an_open_period_is_an_ordinary_line(ws):
    assert ws.close("2027-Q1")[0] == 0
    ws.write_events([*EVENTS, ("E5", "D1", "2027-04-20", "cancelled", "", "")])
    doc = ws.run_json("2027-04")
    assert adjustments(doc) == []
    claw = [p for p in doc["payouts"] if (p["earning"] or "").startswith("churn:clawback")]
    assert [(p["pay_period"], p["amount"]) for p in claw] == [("2027-04", "-2000.00")]


def test_draw_recovery_flows_through_adjustments(ws):
    assert ws.close("2027-Q1")[0] == 0
    # A deal bob booked in January arrives late: his January draw was not needed, and his
    # February recovery had nothing to recover.
    ws.write_events([*EVENTS, ("E6", "D6", "2027-01-20", "booked", "15000", "bob")])
    doc = ws.run_json("2027-04")
    got = {(a[1], a[2], a[4], a[5], a[6]) for a in adjustments(doc) if a[0] == "bob"}
    assert got == {("2027-01", "earning", "0", "1500.00", "1500.00"),
                   ("2027-01", "draw", "1000.00", "0", "-1000.00"),
                   ("2027-02", "recovery", "-1000.00", "0", "1000.00")}


def test_cumulative_pay_equals_the_recomputation(ws):
    """What was paid for the closed periods, plus what the first open one pays, plus what is
    carried, equals what today's plan and data pay over the same periods."""
    assert ws.close("2027-Q1")[0] == 0
    ws.edit_plan("from 0% to 100% at 10%", "from 0% to 100% at 11%")
    ws.write_events([*EVENTS, ("E5", "D3", "2027-03-25", "cancelled", "", ""),
                     ("E6", "D6", "2027-01-20", "booked", "15000", "bob")])
    doc = ws.run_json("2027")
    loaded = api.load_plan(str(ws.plan))
    dataset, _ = api.load_data(str(ws.root / "events.csv"), str(ws.root / "roster.csv"),
                               plan=loaded.plan)
    fresh = api.run(loaded.versions, dataset)
    for payee in ("ana", "bob"):
        through = [f"2027-{m:02d}" for m in range(1, 13)]
        ledger_paid = sum((paid(doc, payee, p) for p in through), Decimal(0))
        carried = sum((Decimal(p["amount"]) for p in doc["payouts"]
                       if p["payee"] == payee and p["kind"] == "carried adjustment"),
                      Decimal(0))
        recomputed = sum((s.paid for s in fresh.statements if s.payee == payee), Decimal(0))
        assert ledger_paid + carried == recomputed, payee


def test_run_with_a_ledger_is_deterministic_and_keeps_time_out(ws):
    assert ws.close("2027-Q1")[0] == 0
    ws.edit_plan("from 0% to 100% at 10%", "from 0% to 100% at 12%")
    args = ("run", str(ws.plan), *ws.data(), "--ledger", ws.ledger, "--format", "json")
    first, second = ws.cli(*args), ws.cli(*args)
    assert first[0] == 0 and first[1] == second[1]
    run = api.ledger_history(ws.ledger).runs[0]
    assert run.created_at not in first[1] and run.created_by not in first[1]


def test_api_close_and_view(ws):
    loaded = api.load_plan(str(ws.plan))
    dataset, _ = api.load_data(str(ws.root / "events.csv"), str(ws.root / "roster.csv"),
                               plan=loaded.plan)
    with pytest.raises(ledger.Refused, match="'2027-01' has not ended"):
        api.close_period(loaded.versions, dataset, "2027-01")  # after today
    done = api.close_period(loaded.versions, dataset, "2027-01", early=True)
    assert done.path == api.default_ledger(str(ws.plan)) == ws.ledger
    assert [p.label for p in done.periods] == ["2027-01"] and done.lines == 2
    with pytest.raises(ledger.Refused, match="already closed"):
        api.close_period(loaded.versions, dataset, "2027-01", early=True)
    with pytest.raises(ledger.PeriodError):
        api.close_period(loaded.versions, dataset, "2026-12", early=True)
    result = api.run(loaded.versions, dataset, None)
    view = api.with_ledger(result, dataset, ws.ledger)
    assert view.closed == ("2027-01",) and view.open_period == "2027-02"
    assert view.adjustments == ()


def test_ledger_show_filters_by_payee_and_period(ws):
    assert ws.close("2027-Q1")[0] == 0
    ws.write_events([e if e[0] != "E2" else ("E2", "D2", "2027-02-15", "booked", "50000", "bob")
                     for e in EVENTS])
    assert ws.close("2027-04")[0] == 0
    code, out, _ = ws.cli("ledger", "show", "--ledger", ws.ledger, "--payee", "bob")
    assert code == 0 and " ana " not in out and "bob" in out
    assert "run #1" in out and "run #2" in out
    code, out, _ = ws.cli("ledger", "show", "--ledger", ws.ledger, "--period", "2027-02")
    # the period, and the correction paid for it in 2027-04
    assert "2027-02 (2027-02-01 to 2027-02-28)" in out and "2027-01 (" not in out
    assert ("for 2027-02, deal D2, rule core (earning line): 3,000.00 -> 5,000.00 (data change) "
            "[earning core:commission:bob:E2; original lines #") in out
    code, out, _ = ws.cli("ledger", "show", "--plan", str(ws.plan), "--period", "2027-Q1",
                          "--format", "json")
    doc = json.loads(out)
    assert [p["pay_period"] for p in doc["periods"]][:3] == ["2027-01", "2027-02", "2027-03"]


def test_ledger_show_payee_paid_by_a_statement_alone(ws):
    """Without the draw bob earns nothing in January: his statement is recorded, without a
    line. `--payee bob` accepted him, then showed "0 close(s) shown", as if never closed."""
    ws.edit_plan("  draw 1,000 USD per month recoverable from all earnings\n", "")
    assert ws.close("2027-01")[0] == 0
    assert [ln.payee for ln in api.ledger_history(ws.ledger).lines] == ["ana"]
    code, out, _ = ws.cli("ledger", "show", "--ledger", ws.ledger, "--payee", "bob")
    assert code == 0 and "1 close(s) shown" in out and "run #1" in out
    assert "2027-01 (2027-01-01 to 2027-01-31): paid 2,000.00 USD on 2 statement(s)" in out
    code, out, _ = ws.cli("ledger", "show", "--ledger", ws.ledger, "--payee", "bob",
                          "--period", "2027-Q2")
    assert code == 0 and "0 close(s) shown" in out


def test_ledger_show_refuses_a_payee_it_has_never_recorded(ws):
    """A mistyped --payee showed "0 close(s) shown", as for a payee never paid: it is refused
    as explain refuses it, with the id meant (exit 2)."""
    assert ws.close("2027-01")[0] == 0
    code, out, err = ws.cli("ledger", "show", "--ledger", ws.ledger, "--payee", "BOB")
    assert code == cli.EXIT_USAGE and not out
    assert err == (f"incentive ledger show: {ws.ledger}: no payee 'BOB' in the ledger; did you "
                   "mean 'bob'?\n")
    code, out, err = ws.cli("ledger", "show", "--plan", str(ws.plan), "--payee", "zed")
    assert code == cli.EXIT_USAGE
    assert "no payee 'zed' in the ledger for \"" in err  # only that plan's payees
    code, out, _ = ws.cli("ledger", "show", "--ledger", ws.ledger, "--payee", "bob")
    assert code == 0 and "bob" in out


def test_ledger_show_refuses_a_period_that_is_not_one(ws):
    assert ws.close("2027-01")[0] == 0
    for bad, why in (("garbage", " (e.g. 2027-Q1, 2027-03"),
                     ("2027-Q5", ": a year has quarters Q1 to Q4, not Q5")):
        code, out, err = ws.cli("ledger", "show", "--ledger", ws.ledger, "--period", bad)
        assert code == cli.EXIT_USAGE and not out
        assert f"error[E-LEDGER-PERIOD]: '{bad}' is not a period{why}" in err


def test_ledger_show_says_a_period_in_lower_case_is_written_in_capitals(ws):
    """As `run --period` says it (periods.Calendar.not_a_period)."""
    assert ws.close("2027-01")[0] == 0
    for bad, meant in (("2027-q1", "2027-Q1"), ("fy2027", "FY2027")):
        code, out, err = ws.cli("ledger", "show", "--ledger", ws.ledger, "--period", bad)
        assert code == cli.EXIT_USAGE and not out
        assert err == (f"incentive ledger show: {ws.ledger}: error[E-LEDGER-PERIOD]: '{bad}' is "
                       f"not a period: write it in capitals, {meant}\n")
    code, _, err = ws.close("2027-q2")
    assert code == cli.EXIT_USAGE
    assert "error[E-LEDGER-PERIOD]: '2027-q2' is not a period: write it in capitals, 2027-Q2" in err


def test_ledger_show_names_the_pay_period_holding_a_period_in_which_none_ends(ws):
    """A month of a plan paid quarterly shows nothing, so it is refused with the reason and the
    pay period to ask for, as `run --period` refuses it (api.EmptyWindow); the quarter's last
    month holds the quarter's end and shows it."""
    ws.edit_plan("  paid monthly\n  draw 1,000 USD per month", "  paid quarterly\n"
                 "  draw 3,000 USD per quarter")
    assert ws.close("2027-Q1")[0] == 0
    for how in (("--ledger", ws.ledger), ("--plan", str(ws.plan))):
        code, out, err = ws.cli("ledger", "show", *how, "--period", "2027-02")
        assert code == cli.EXIT_USAGE and not out
        assert err == (
            f"incentive ledger show: {ws.ledger}: error[E-LEDGER-PERIOD]: no pay period of "
            "\"Ledger test AE\" ends in 2027-02: nothing to show (the plan is paid quarterly, and "
            "a period shows the pay periods that end in it)\n"
            "   = hint: the pay period 2027-Q1 (2027-01-01 to 2027-03-31) holds it: --period "
            "2027-Q1\n")
    code, out, _ = ws.cli("ledger", "show", "--ledger", ws.ledger, "--period", "2027-03")
    assert code == 0 and "2027-Q1 (2027-01-01 to 2027-03-31): paid" in out


def test_ledger_show_selects_the_pay_periods_that_end_in_the_period(tmp_path, capsys):
    # As run's window: the fortnight 2026-12-21/2027-01-03 belongs to January, Q1 and 2027.
    root = Path(__file__).resolve().parents[1]
    path = str(tmp_path / "ledger.sqlite")
    plan = str(root / "plans/inside_sales_biweekly.plan")
    assert cli.main(["close", "2026-12-21/2027-01-03", plan, "--data", str(root / "plans/data"),
                     "--ledger", path, "--early"]) == 0
    shown = "2026-12-21/2027-01-03 (2026-12-21 to 2027-01-03): paid"
    for period, held in (("2027-01", True), ("2027-Q1", True), ("2027", True),
                         ("2026-12-21/2027-01-03", True), ("2026-12", False), ("2026", False)):
        capsys.readouterr()
        assert cli.main(["ledger", "show", "--ledger", path, "--period", period]) == 0
        assert (shown in capsys.readouterr().out) == held, period


def test_a_run_names_a_single_closed_period_once(ws):
    assert ws.close("2027-01")[0] == 0
    code, _, err = ws.cli("run", str(ws.plan), *ws.data(), "--period", "2027-01", "--ledger",
                          ws.ledger)
    assert code == 0 and "2027-01 is closed: closed pay periods show what was paid" in err


# ------------------------------------------------------------------------------ integrity


def _sql(path: str, *statements: str) -> None:
    con = sqlite3.connect(path)
    try:
        for s in statements:
            con.execute(s)
        con.commit()
    finally:
        con.close()


DROP_TRIGGERS = [f"DROP TRIGGER {name}" for name in ledger.TRIGGER_NAMES]


def test_the_ledger_refuses_updates_and_deletes(ws):
    assert ws.close("2027-01")[0] == 0
    for statement in ("UPDATE lines SET amount = '9999.00' WHERE id = 1",
                      "DELETE FROM lines WHERE id = 1", "DELETE FROM runs",
                      "UPDATE periods SET paid_total = '0'"):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            _sql(ws.ledger, statement)
    assert api.verify_ledger(ws.ledger).ok


def test_verify_names_an_edited_record(ws):
    assert ws.close("2027-Q1")[0] == 0
    target = ws.line_id("bob", "2027-02", "earning")
    _sql(ws.ledger, *DROP_TRIGGERS,
         f"UPDATE lines SET amount = '30000.00' WHERE id = {target}")
    report = api.verify_ledger(ws.ledger)
    assert not report.ok
    first = report.problems[0]
    assert (first.table, first.id) == ("lines", target) and "edited" in first.message
    code, out, _ = ws.cli("ledger", "verify", "--ledger", ws.ledger)
    assert code == cli.EXIT_PROBLEMS
    assert f"BROKEN: lines #{target}" in out and "lines_no_update is missing" in out


def test_verify_names_an_edited_and_rehashed_record_by_the_broken_link(ws):
    assert ws.close("2027-Q1")[0] == 0
    con = sqlite3.connect(ws.ledger)
    con.row_factory = sqlite3.Row
    for s in DROP_TRIGGERS:
        con.execute(s)
    row = dict(con.execute("SELECT * FROM statements WHERE id = 2").fetchone())
    row["paid"] = "1.00"
    row["hash"] = ledger.record_hash(row["prev_hash"], "statements", row)
    con.execute("UPDATE statements SET paid = ?, hash = ? WHERE id = 2", (row["paid"], row["hash"]))
    con.commit()
    nxt = con.execute("SELECT seq FROM statements WHERE id = 2").fetchone()[0] + 1
    con.close()
    first = api.verify_ledger(ws.ledger).problems[0]
    assert first.seq == nxt and "link to the record before it is broken" in first.message


def test_verify_names_a_deleted_record(ws):
    assert ws.close("2027-Q1")[0] == 0
    _sql(ws.ledger, *DROP_TRIGGERS, "DELETE FROM lines WHERE id = 3")
    report = api.verify_ledger(ws.ledger)
    first = report.problems[0]
    assert (first.table, first.id) == ("lines", 4)
    assert "missing (deleted)" in first.message
    assert any(p.table == "periods" and "seal of 2027-02" in p.message for p in report.problems)


def test_verify_sees_the_newest_records_deleted(ws):
    assert ws.close("2027-01")[0] == 0
    kept = api.verify_ledger(ws.ledger).head
    code, out, _ = ws.close("2027-02")
    head = out.split("head ")[1].split()[0]
    # Remove the whole second close, as if it never happened.
    _sql(ws.ledger, *DROP_TRIGGERS, *(f"DELETE FROM {t} WHERE run_id = 2" for t in
                                      ("lines", "statements", "periods")),
         "DELETE FROM runs WHERE id = 2")
    report = api.verify_ledger(ws.ledger)
    assert not report.ok and "id counter is past them" in str(report.problems[0])
    # ... and with the id counters reset too, the head kept from the close still tells.
    _sql(ws.ledger, "UPDATE sqlite_sequence SET seq = (SELECT max(id) FROM lines) "
         "WHERE name = 'lines'",
         "UPDATE sqlite_sequence SET seq = (SELECT max(id) FROM statements) "
         "WHERE name = 'statements'",
         "UPDATE sqlite_sequence SET seq = 1 WHERE name IN ('runs', 'periods')")
    assert api.verify_ledger(ws.ledger, kept).problems == tuple(
        p for p in api.verify_ledger(ws.ledger, kept).problems if "trigger" in p.message)
    report = api.verify_ledger(ws.ledger, head[:16])
    assert any("not in the chain" in p.message for p in report.problems)


def test_close_refuses_a_tampered_head(ws):
    assert ws.close("2027-01")[0] == 0
    _sql(ws.ledger, *DROP_TRIGGERS, "UPDATE periods SET paid_total = '0.00'")
    before = Path(ws.ledger).read_bytes()
    code, _, err = ws.close("2027-02")
    assert code == cli.EXIT_PROBLEMS
    assert f"{ws.ledger}: error[E-LEDGER-BROKEN]: the ledger is broken: periods #1" in err
    assert Path(ws.ledger).read_bytes() == before  # nothing was written


def _accruals_csv(ws, period: str, *extra: str) -> dict[str, dict[str, str]]:
    code, out, err = ws.cli("finance", "accruals", str(ws.plan), *ws.data(), "--period",
                            period, *extra)
    assert code == 0, err
    return {r["payee"]: r for r in csv.DictReader(io.StringIO(out))}


@pytest.mark.parametrize("close_april", [False, True])
def test_accruals_with_the_ledger_net_the_carried_adjustment(ws, close_april):
    """A clawback that arrives after its month is closed is an adjustment in April larger than
    April's pay: 1,000 is carried forward. The accrual at 2027-04-30 is what is earned to date
    less what the ledger paid: the carried 1,000 is to recover, not a liability of zero."""
    ws.edit_plan("  draw 1,000 USD per month recoverable from all earnings\n", "")
    assert ws.close("2027-Q1")[0] == 0  # ana paid 2,000 (D1) + 6,000 (D3)
    ws.write_events([*EVENTS, ("E5", "D1", "2027-03-20", "cancelled", "", "")])
    if close_april:
        code, out, err = ws.close("2027-04")
        assert code == 0, err
    ana = _accruals_csv(ws, "2027-04", "--ledger", ws.ledger)["ana"]
    # Earned to date 6,000 + 1,000 (D4); paid 8,000 in Q1 and nothing in April.
    assert (ana["paid_in_period"], ana["unpaid_payable"], ana["carried_forward"],
            ana["accrued"]) == ("0.00", "0.00", "1000.00", "-1000.00")
    # Without the ledger the recomputation is taken as paid: nothing is carried.
    assert _accruals_csv(ws, "2027-04")["ana"]["accrued"] == "0.00"
    # The API takes the same view.
    result, window, view = ws.api_ledger_view("2027-04")
    (row,) = [r for r in api.accruals(result, window, view) if r.payee == "ana"]
    assert row.accrued == Decimal("-1000.00")


def test_accruals_with_a_ledger_path_that_is_no_ledger(ws):
    assert ws.close("2027-01")[0] == 0
    code, out, err = ws.cli("finance", "accruals", str(ws.plan), *ws.data(), "--period",
                            "2027-02", "--ledger", ws.ledger + "x")
    assert code == cli.EXIT_USAGE and not out
    assert err.startswith("incentive finance accruals: ") and "E-LEDGER-FILE" in err


def test_the_close_summary_says_what_was_paid_and_what_carried(ws):
    """An adjustment that would make pay negative is partly paid (taken from April's pay) and
    partly carried: the summary does not call it paid."""
    ws.edit_plan("  draw 1,000 USD per month recoverable from all earnings\n", "")
    assert ws.close("2027-Q1")[0] == 0
    ws.write_events([*EVENTS, ("E5", "D1", "2027-03-20", "cancelled", "", "")])
    code, out, err = ws.close("2027-04")
    assert code == 0, err
    # ana: -2,000 (D1 clawed back) against April's 1,000 (D4).
    assert ("prior-period adjustments in 2027-04: 1 line(s), net -2,000.00 USD: 1,000.00 USD "
            "recovered from the pay of 2027-04, 1,000.00 USD carried forward") in out
    assert "paid in 2027-04" not in out
    assert "  ana  carried forward 1,000.00 USD\n" in out
    code, out, err = ws.close("2027-05", "--format", "json")
    assert code == 0, err
    assert json.loads(out)["carried"] == [{"payee": "ana", "before": "1000.00",
                                           "after": "1000.00"}]
    code, out, err = ws.close("2027-06")
    assert ("1,000.00 USD of prior-period adjustments carried from earlier pay periods: 0.00 "
            "USD recovered from the pay of 2027-06, 1,000.00 USD carried forward") in out
    assert "  ana  carried forward 1,000.00 USD (carried in: 1,000.00 USD)\n" in out
    # `ledger show` says what each carried-adjustment line does, not just "ledger".
    code, out, _ = ws.cli("ledger", "show", "--ledger", ws.ledger, "--period", "2027-06")
    assert code == 0 and "  ledger\n" not in out
    assert ("carried adjustment       -1,000.00  recovered from pay: prior-period adjustments "
            "carried from earlier pay periods\n") in out
    assert ("carried adjustment        1,000.00  carried forward: nothing is taken back from "
            "pay\n") in out


def test_adjustment_lines_name_the_deal_rule_and_what_changed(ws):
    """A reviewer reads the deal, the rule and the change (amounts, a new line, a line
    removed), with the earning and original line ids kept for audit; in the close, `ledger
    show` and statements alike."""
    assert ws.close("2027-Q1")[0] == 0
    feb = ws.line_id("bob", "2027-02", "earning")
    # D2 moves to April (February's line is removed); bob's late D6 is a new January line.
    ws.write_events([e if e[0] != "E2" else ("E2", "D2", "2027-04-15", "booked", "30000", "bob")
                     for e in EVENTS] + [("E6", "D6", "2027-01-20", "booked", "15000", "bob")])
    code, out, err = ws.close("2027-04")
    assert code == 0, err
    assert ("  bob  +1,500.00 USD  for 2027-01, deal D6, rule core (earning line): new line, "
            "1,500.00 (data change) [earning core:commission:bob:E6; no original line]\n") in out
    removed = ("for 2027-02, deal D2, rule core (earning line): line removed, was 3,000.00 "
               f"(data change) [earning core:commission:bob:E2; original lines #{feb}]")
    assert f"  bob  -3,000.00 USD  {removed}\n" in out
    code, out, _ = ws.cli("ledger", "show", "--ledger", ws.ledger, "--payee", "bob",
                          "--period", "2027-04")
    assert code == 0 and removed in out
    loaded = api.load_plan(str(ws.plan))
    dataset, _ = api.load_data(str(ws.root / "events.csv"), str(ws.root / "roster.csv"),
                               plan=loaded.plan)
    window = api.window(loaded.plan, "2027-05")
    ws.write_events(EVENTS)  # D6 was never booked after all: its paid line is removed
    dataset, _ = api.load_data(str(ws.root / "events.csv"), str(ws.root / "roster.csv"),
                               plan=loaded.plan)
    result = api.run(loaded.versions, dataset, window.end)
    view = api.with_ledger(result, dataset, ws.ledger, window)
    st = api.statement(result, "bob", window, view)
    whats = [a.what for a in st.adjustments]
    # D2 is back in February: a line again, of which nothing is paid after its removal.
    assert any(w.startswith("deal D2, rule core (earning line) [earning core:commission:bob:"
                            f"E2; original lines #{feb}, lines #") for w in whats), whats
    # D6's events are gone from the data: the deal is named from the ledger's record of the
    # adjustment that paid its line.
    assert any(w.startswith("deal D6, rule core (earning line), line removed [earning "
                            "core:commission:bob:E6; original lines #") for w in whats), whats


def test_accruals_before_the_last_close_are_not_read_from_the_ledger(ws):
    """The ledger keeps what was paid, not what had been paid by a date: accruals as of a day
    before the end of the last closed pay period are refused with the ledger (exit 2, the
    period to give named), not an internal error nor figures counting later pay as unpaid."""
    assert ws.close("2027-Q1")[0] == 0
    code, out, err = ws.cli("finance", "accruals", str(ws.plan), *ws.data(), "--period",
                            "2027-02", "--ledger", ws.ledger)
    assert code == cli.EXIT_USAGE and not out
    assert err == (f"incentive finance accruals: accruals as of 2027-02-28 cannot be read from "
                   f"the ledger {ws.ledger}: 2027-03 is closed there and ends after that date. "
                   "Give a period that ends on or after 2027-03-31 (the end of the last closed "
                   "pay period), or leave out --ledger for today's recomputation\n")
    # As of the end of the last closed pay period, it is read.
    assert _accruals_csv(ws, "2027-03", "--ledger", ws.ledger)["ana"]["as_of"] == "2027-03-31"
    result, window, view = ws.api_ledger_view("2027-02")
    with pytest.raises(ValueError, match="2027-03 is closed there"):
        api.accruals(result, window, view)


def test_accruals_at_the_last_close_count_the_corrections_still_to_pay(ws):
    """As of the end of the last closed pay period the corrections are not paid yet (the
    first open pay period pays them) but owed already: bob was paid 3,000 for D2, which is
    now 10,000 (1,000 earned), so 2,000 is to recover, whether read at the close or after."""
    ws.edit_plan("  draw 1,000 USD per month recoverable from all earnings\n", "")
    assert ws.close("2027-Q1")[0] == 0
    ws.write_events([e if e[0] != "E2" else ("E2", "D2", "2027-02-15", "booked", "10000", "bob")
                     for e in EVENTS])
    march = _accruals_csv(ws, "2027-03", "--ledger", ws.ledger)["bob"]
    assert (march["paid_in_period"], march["unpaid_payable"], march["carried_forward"],
            march["accrued"]) == ("0.00", "-2000.00", "0.00", "-2000.00")
    april = _accruals_csv(ws, "2027-04", "--ledger", ws.ledger)["bob"]
    assert (april["unpaid_payable"], april["carried_forward"], april["accrued"]) == (
        "0.00", "2000.00", "-2000.00")


def test_ledger_show_of_a_plan_the_ledger_does_not_hold_is_refused(ws):
    """`ledger show --plan` of a renamed plan showed "0 close(s) shown" (and "nothing is
    closed in this ledger" with --period), as if nothing had been paid: it is refused (exit
    2), naming the plans the ledger holds."""
    assert ws.close("2027-01")[0] == 0
    ws.edit_plan('plan "Ledger test AE"', 'plan "Ledger test AE 2"')
    for extra in ((), ("--period", "2027-01")):
        code, out, err = ws.cli("ledger", "show", "--plan", str(ws.plan), *extra)
        assert code == cli.EXIT_USAGE and not out
        assert err == (f"incentive ledger show: {ws.ledger}: no close of plan \"Ledger test AE "
                       f"2\" (of {ws.plan}) in the ledger, which holds \"Ledger test AE\"; was "
                       "the plan \"Ledger test AE\" renamed?\n")
    assert ws.cli("ledger", "show", "--ledger", ws.ledger)[0] == 0


def test_a_quarter_whose_first_months_are_closed_closes_the_rest(ws):
    """Closing 2027-Q2 after April was closed on its own closes May and June, saying April
    was closed already; the quarter closed whole is refused, as is one with earlier months
    open."""
    code, _, err = ws.close("2027-Q2")
    assert code == ledger_exit_refused() and "while 2027-01 is open" in err
    assert ws.close("2027-Q1")[0] == 0 and ws.close("2027-04")[0] == 0
    code, out, err = ws.close("2027-Q2")
    assert code == 0, err
    assert out.startswith('closed 2027-05, 2027-06 of "Ledger test AE" (ledger run #3')
    assert "already closed: 2027-04 of 2027-Q2, closed before (unchanged)\n" in out
    assert [p.label for p in api.ledger_history(ws.ledger).periods] == [
        "2027-01", "2027-02", "2027-03", "2027-04", "2027-05", "2027-06"]
    before = api.verify_ledger(ws.ledger).head
    code, _, err = ws.close("2027-H1")
    assert code == ledger_exit_refused()
    assert ('2027-01 to 2027-06 of "Ledger test AE" are already closed (ledger runs #1, #2, '
            "#3)") in err and "close the next pay period (2027-07)" in err
    assert api.verify_ledger(ws.ledger).head == before


def test_a_line_whose_deal_left_the_data_is_named_from_the_ledger(ws):
    """D2 is deleted from the data after February was closed: its line is removed, and the
    adjustment names deal D2 from the ledger's record of the line, not the earning id alone."""
    assert ws.close("2027-Q1")[0] == 0
    feb = ws.line_id("bob", "2027-02", "earning")
    ws.write_events([e for e in EVENTS if e[1] != "D2"])
    code, out, err = ws.close("2027-04")
    assert code == 0, err
    assert ("  bob  -3,000.00 USD  for 2027-02, deal D2, rule core (earning line): line removed, "
            f"was 3,000.00 (data change) [earning core:commission:bob:E2; original lines #{feb}]"
            "\n") in out
    assert api.verify_ledger(ws.ledger).ok


@pytest.mark.parametrize("earning, deal", [
    ("core:commission:ana:E12", "D12"),
    ("core:commission:ana:E12#2", "D12"),  # the second line of one kind from one event
    ("core:commission:ana:D1:booked", "D1"),  # a mapping's event id holds colons
    ("core:commission:ana:D1:amended:2#3", "D1b"),
    ("kicker:bonus:ana:2027-Q1", None),  # a period's line: no event, no deal
    ("odd", None),
])
def test_a_removed_line_finds_its_deal_by_the_event_its_id_ends_with(earning, deal):
    events = {"E12": "D12", "D1:booked": "D1", "booked": "D9", "D1:amended:2": "D1b",
              "2": "D2"}
    assert ledger._deal_of(earning, {}, events) == deal


HOLDBACK_PLAN = COLLECT_PLAN + "  hold back 10% for 1 month\n"


def test_accruals_with_the_ledger_keep_a_corrected_holdback_as_held(ws):
    """A collection recorded after January is closed makes January pay 500 more, 50 of it held
    back: the correction pays 450 and holds 50. Earned to date (3,000) is always what was paid
    plus what is accrued; the 50 is held back, not gone."""
    ws.plan.write_text(HOLDBACK_PLAN, encoding="utf-8")
    ws.write_events([("E1", "D1", "2027-01-10", "booked", "10000", "ana"),
                     ("E2", "D2", "2027-01-20", "booked", "20000", "ana")])
    assert ws.close("2027-01")[0] == 0  # paid 1,500 less 150 held: 1,350
    ws.write_events([("E1", "D1", "2027-01-10", "booked", "10000", "ana"),
                     ("E2", "D2", "2027-01-20", "booked", "20000", "ana"),
                     ("E3", "D1", "2027-01-25", "collected", "10000", "")])
    jan = _accruals_csv(ws, "2027-01", "--ledger", ws.ledger)["ana"]
    assert (jan["unpaid_payable"], jan["held_back"], jan["awaiting_collection"],
            jan["accrued"]) == ("450.00", "200.00", "1000.00", "1650.00")  # 3,000 - 1,350
    # February pays the correction (450) and releases January's 200: 1,350 + 650 paid.
    feb = _accruals_csv(ws, "2027-02", "--ledger", ws.ledger)["ana"]
    assert (feb["held_back"], feb["accrued"]) == ("0.00", "1000.00")  # D2's uncollected half


def test_verify_refuses_a_directory_of_several_plans_as_run_does(ws):
    # The ledger in ws.root is t.plan's; with a second plan beside it, `--plan DIR` does not say
    # which plan's ledger is meant: verify used to check that ledger quietly.
    assert ws.close("2027-Q1")[0] == 0
    other = PLAN.replace('plan "', 'plan "Other ', 1)
    assert other != PLAN
    (ws.root / "other.plan").write_text(other, encoding="utf-8")
    code, out, err = ws.cli("ledger", "verify", "--plan", str(ws.root))
    assert code == cli.EXIT_USAGE
    assert "holds 2 different plans" in out + err and "intact" not in out
    # A plan file names its ledger: it is verified.
    code, out, _ = ws.cli("ledger", "verify", "--plan", str(ws.plan))
    assert code == 0 and f"ledger {ws.ledger}: intact" in out


def test_a_period_that_has_not_ended_is_not_closed(ws, capsys):
    # The history is in 2027, after today: `close 2027` would close months nobody has
    # worked yet, for good. Refused (exit 4), nothing recorded, no ledger created; --early
    # says the data is complete and closes them.
    args = ["close", "2027", str(ws.plan), *ws.data()]
    assert cli.main(args) == cli.EXIT_REFUSED
    err = capsys.readouterr().err
    today = dt.datetime.now(dt.timezone.utc).date()
    assert (f"error[E-LEDGER-REFUSED]: 2027-01 to 2027-12 of '2027' have not ended: the first "
            f"ends on 2027-01-31, and today is {today} and the data's last event is on "
            "2027-04-10; a close is for good, so nothing was closed") in err
    assert "= hint: close them once they have ended and the data is in; --early closes" in err
    assert not Path(ws.ledger).exists()
    assert cli.main(["close", "2027-01", str(ws.plan), *ws.data(), "--early"]) == 0


def test_pay_periods_after_the_data_are_not_closed(ws):
    # A year later the calendar has ended, but the data stops on 2027-04-10: April and what
    # follows may still miss events. The months that ended in the data are named.
    loaded = api.load_plan(str(ws.plan))
    dataset, _ = api.load_data(str(ws.root / "events.csv"), str(ws.root / "roster.csv"),
                               plan=loaded.plan)
    later = dt.datetime(2028, 2, 1, tzinfo=dt.timezone.utc)
    with pytest.raises(ledger.Refused) as refused:
        ledger.close(ws.ledger, loaded.versions, dataset, "2027", now=later)
    assert refused.value.message == (
        "2027-04 to 2027-12 of '2027' have not ended: the first ends on 2027-04-30, and the "
        "data's last event is on 2027-04-10; a close is for good, so nothing was closed")
    assert refused.value.hint.startswith(
        "close the pay periods that have ended (2027-01 to 2027-03) now, and the rest once "
        "they end and their data is in; --early")
    assert not Path(ws.ledger).exists()
    done = ledger.close(ws.ledger, loaded.versions, dataset, "2027-Q1", now=later)
    assert [p.label for p in done.periods] == ["2027-01", "2027-02", "2027-03"]
    with pytest.raises(ledger.Refused, match="'2027-04' has not ended: it ends on 2027-04-30"):
        ledger.close(ws.ledger, loaded.versions, dataset, "2027-04", now=later)


def test_a_closed_period_not_ended_is_said_to_be_closed(ws, capsys):
    # Closed early, then asked again without --early: the answer is that it is closed, not
    # that it has not ended.
    assert cli.main(["close", "2027-01", str(ws.plan), *ws.data(), "--early"]) == 0
    capsys.readouterr()
    assert cli.main(["close", "2027-01", str(ws.plan), *ws.data()]) == cli.EXIT_REFUSED
    err = capsys.readouterr().err
    assert "2027-01 of \"Ledger test AE\" is already closed" in err and "not ended" not in err
    # A quarter whose first month is closed: the rest has not ended.
    assert cli.main(["close", "2027-Q1", str(ws.plan), *ws.data()]) == cli.EXIT_REFUSED
    assert "2027-02 to 2027-03 of '2027-Q1' have not ended" in capsys.readouterr().err
