"""Rep statements: one self-contained HTML page per payee and period (and a PDF from it when a
renderer is installed).

A statement shows the numbers `run` and `explain` show, read from the same records, never
recomputed: the pay periods' statements with their flows from earned to paid (as `run
--by-period` prints them; each row adds up to its paid), the reconciliation of the period's
earned and paid term by term with what is still owed (audit/reconcile.py, as `explain` shows
it), the earning lines dated in the period with their credit and reason text, year-to-date
attainment against each quota (the plan's own measure, evaluated by the run's measure engine
over the year to date), and, with a ledger, the prior-period adjustments it pays.

The page is one file: inline CSS, an inline SVG chart, no script and no external reference.
Every text that comes from the plan or the data (payee ids, rule labels, reasons) is escaped.
"""

from __future__ import annotations

import html
import importlib.util
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import attrs

from incentive_dsl.audit.explain import not_paid
from incentive_dsl.audit.ledger import CHANGED, references
from incentive_dsl.audit.reconcile import CORRECTED, reconcile
from incentive_dsl.audit.render import HEADERS
from incentive_dsl.eval.money import CONTEXT, ZERO, fmt, fmt_pct, round_money
from incentive_dsl.eval.records import STATEMENT_FLOWS, Statement
from incentive_dsl.eval.run import RunResult
from incentive_dsl.periods import Period
from incentive_dsl.syntax import nodes as n

# The pay-period columns: the statement's flows, which add up to its paid.
COLUMNS = tuple((c, HEADERS[c]) for c in (*STATEMENT_FLOWS, "paid"))


@attrs.frozen
class DealLine:
    """One earning line dated in the period, as `explain` lists it."""

    date: str
    rule: str
    label: str
    kind: str
    deal: str | None
    credit: Decimal | None  # the credit it was computed from, when it has one
    amount: Decimal
    reason: str
    arithmetic: str


@attrs.frozen
class AttainmentPoint:
    """One month of the chart; values for display (a quota prorated by days is a fraction
    without a decimal form: shown to 34 digits, never added into an amount)."""

    month: str
    quota: Decimal  # the quota for the year to date
    value: Decimal  # the measure over the year to date


def _shown(value) -> Decimal:
    if isinstance(value, Fraction):
        return CONTEXT.divide(Decimal(value.numerator), Decimal(value.denominator))
    return value


@attrs.frozen
class Attainment:
    quota: str
    label: str
    quota_kind: str  # money or count
    measure: str
    measure_label: str
    kind: str  # the measure's kind: percent, number ...
    year: str
    points: tuple[AttainmentPoint, ...]


@attrs.frozen
class TargetCompensation:
    """The compensation block's amounts for the period and the year to date, each the sum of
    the pay periods' statements (rounded there once per pay period), beside what was earned."""

    year: str  # the (fiscal) year label
    ytd_start: str
    base: Decimal
    target: Decimal
    base_ytd: Decimal
    target_ytd: Decimal
    earned_ytd: Decimal

    @property
    def total(self) -> Decimal:
        return self.base + self.target

    @property
    def total_ytd(self) -> Decimal:
        return self.base_ytd + self.target_ytd


@attrs.frozen
class Adjustment:
    pay_period: str
    closed_period: str
    what: str
    old: Decimal
    new: Decimal
    amount: Decimal
    cause: str


@attrs.frozen
class PayeeStatement:
    """Everything a rep statement shows, as values (rendered by `to_html`)."""

    plan: str
    plan_version: str | None
    plan_hash: str
    data_hash: str
    tool_version: str
    currency: str
    payee: str
    role: str | None
    manager: str | None
    territory: str | None
    period: str
    start: str
    end: str
    earned: Decimal  # every earning line dated in the period (the one meaning of earned)
    paid: Decimal  # paid on the statements of the pay periods inside the period
    terms: tuple[tuple[str, Decimal], ...]  # earned to paid, each with its sign on pay
    owed: tuple[tuple[str, Decimal], ...]  # balances still owed after the period
    rows: tuple[Statement, ...]
    deals: tuple[DealLine, ...]
    attainment: tuple[Attainment, ...]
    adjustments: tuple[Adjustment, ...]
    ledger: str | None  # the ledger read, if any
    closed: tuple[str, ...]  # closed pay periods of the window (shown as recorded)
    compensation: TargetCompensation | None = None  # a plan with a compensation block
    # Why nothing was earned (explain's "not paid"), when nothing was.
    not_paid: tuple[str, ...] = ()

    def term(self, name: str) -> Decimal:
        """A reconciliation term by its name (zero when the period has none)."""
        return sum((amount for what, amount in self.terms if what == name), ZERO)

    def balance(self, name: str) -> Decimal:
        """A balance still owed after the period, by its name (zero when there is none)."""
        return sum((amount for what, amount in self.owed if what == name), ZERO)


def build(result: RunResult, payee: str, window: Period, ledger_view=None) -> PayeeStatement:
    """The statement of `payee` for `window` from a run (with `ledger_view`, an
    audit.ledger.LedgerRun of that run: closed pay periods as recorded, adjustments)."""
    if ledger_view is not None:
        result = ledger_view.result
    plan, cur = result.plan, result.plan.currency
    rows = tuple(s for s in result.statements if s.payee == payee
                 and window.start <= s.start and s.end <= window.end)
    periods = {s.pay_period for s in rows}
    money = reconcile(result, payee, window)
    credits = {c.id: c for c in result.credits if c.payee == payee}
    deals = []
    for e in result.earnings:
        if e.payee != payee or not window.contains(e.date):
            continue
        amounts = [credits[i].amount for i in e.trace.inputs if i in credits]
        deals.append(DealLine(
            date=e.date.isoformat(), rule=e.component, label=_label(plan, e.component),
            kind=e.kind, deal=e.deal, credit=sum(amounts, ZERO) if amounts else None,
            amount=e.amount, reason=e.trace.because, arithmetic=e.trace.arithmetic))
    adjustments = ()
    closed: tuple[str, ...] = ()
    if ledger_view is not None:
        closed = tuple(c for c in ledger_view.closed if c in periods)
        adjustments = tuple(
            Adjustment(a.pay_period, a.closed_period,
                       # old and new have columns of their own: a change of amount is
                       # not repeated here, a line that is new or removed is said
                       a.subject() + ("" if a.change == CHANGED else f", {a.change}")
                       + f" [{references(a.earning, a.original)}]", a.old, a.new, a.amount,
                       a.cause)
            for a in ledger_view.adjustments if a.payee == payee and a.pay_period in periods)
    record = None
    engine = result.engine
    if engine is not None and payee in engine.roster:
        record = engine.roster.at(payee, min(window.end, engine.roster.employment(payee)[1]
                                             or window.end))
    stamps = result.versions or (result.stamp,)
    return PayeeStatement(
        plan=plan.name, plan_version=plan.version,
        plan_hash=", ".join(s.plan_hash for s in stamps), data_hash=result.stamp.data_hash,
        tool_version=result.stamp.tool_version, currency=cur, payee=payee,
        role=record.role if record else None, manager=record.manager if record else None,
        territory=record.territory if record else None, period=window.label,
        start=window.start.isoformat(), end=window.end.isoformat(), earned=money.earned,
        paid=money.paid, terms=money.terms, owed=money.owed, rows=rows, deals=tuple(deals),
        attainment=_attainment(result, payee, window), adjustments=adjustments,
        ledger=ledger_view.path if ledger_view is not None else None, closed=closed,
        compensation=_target_compensation(result, payee, window, rows),
        not_paid=() if deals else tuple(not_paid(result, payee, window)))


def _target_compensation(result: RunResult, payee: str, window: Period,
                         rows: tuple[Statement, ...]) -> TargetCompensation | None:
    plan = result.plan
    if not plan.compensation:
        return None
    year = plan.calendar.period_of(window.end, "year")
    start = max(year.start, plan.effective_start)
    # The pay periods that end in the year up to the window's end (a fortnight across New
    # Year belongs to the year it ends in, as in reports: api.window).
    ytd = [s for s in result.statements if s.payee == payee and start <= s.end <= window.end]
    start = min((s.start for s in ytd), default=start)

    def total(statements, field: str) -> Decimal:
        return sum((getattr(s, field) for s in statements), ZERO)
    return TargetCompensation(
        year=year.label, ytd_start=start.isoformat(), base=total(rows, "base_salary"),
        target=total(rows, "target_incentive"), base_ytd=total(ytd, "base_salary"),
        target_ytd=total(ytd, "target_incentive"), earned_ytd=total(ytd, "earned"))


def _label(plan, name: str) -> str:
    comp = plan.component(name)
    return comp.label if comp is not None else ("Plan-wide cap" if name == "payout" else name)


def _attainment(result: RunResult, payee: str, window: Period) -> tuple[Attainment, ...]:
    """Year-to-date attainment for each quota: the plan's measure that divides by it,
    evaluated over the fiscal year up to the end of each month of the year to date."""
    engine, plan = result.engine, result.plan
    if engine is None or payee not in engine.roster:
        return ()
    year = plan.calendar.period_of(window.end, "year")
    start = max(year.start, plan.effective_start)
    months = plan.calendar.periods(start, window.end, "month")
    out = []
    for q in plan.quotas:
        for ms in plan.measures:
            if not any(isinstance(e, n.QuotaRef) and e.name.text == q.name
                       for e in n.walk(ms.expr)):
                continue
            points = []
            for m in months:
                end = min(m.end, window.end)  # a pay period may end inside a month
                ytd = Period(start, end, "range", f"{start} to {end}")
                points.append(AttainmentPoint(
                    m.label, _shown(engine.quota_total(q.name, (payee,), ytd)),
                    _shown(engine.measure(ms.name, payee, ytd))))
            out.append(Attainment(q.name, q.label, q.kind, ms.name, ms.label or ms.name, ms.kind,
                                  year.label, tuple(points)))
    return tuple(out)


# ------------------------------------------------------------------------------ HTML


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


SHOWN = Decimal("0.0001")  # exact amounts with more digits are shown to four decimals


def _money(amount: Decimal, cur: str, sign: bool = False) -> str:
    # An exact amount keeps the digits past the cent that matter (5,928.126), but not the
    # 34-digit tail of a repeating quotient: shown, not rounded in any sum.
    if amount != amount.quantize(SHOWN, context=CONTEXT):
        amount = amount.quantize(SHOWN, context=CONTEXT)
    # A real minus sign: "-" is easily lost in a printed statement.
    text = fmt(abs(amount), cur)
    if amount < 0:
        return "\u2212" + text
    return ("+" + text) if sign and amount > 0 else text


def _value(value: Decimal, kind: str, cur: str) -> str:
    if kind == "percent":
        return fmt_pct(value)
    if kind == "money":
        return fmt(value, cur)
    return f"{value.normalize(CONTEXT):f}"


CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
 color:#1d2733;margin:0;background:#f4f6f9}
main{max-width:1000px;margin:24px auto;background:#fff;padding:32px 40px;
 box-shadow:0 1px 4px rgba(0,0,0,.12)}
h1{font-size:24px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 10px;
 border-bottom:2px solid #dfe4ea;padding-bottom:4px}
.sub{color:#5b6775;margin:0 0 18px}
.cards{display:grid;grid-template-columns:repeat(3,1fr);gap:12px}
.card{border:1px solid #dfe4ea;border-radius:6px;padding:10px 14px}
.card .k{font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:#5b6775}
.card .v{font-size:22px;font-weight:600;margin:2px 0;font-variant-numeric:tabular-nums}
.card .n{font-size:12px;color:#5b6775}
.card.paid{border-color:#2f7d4f;background:#f1f9f4}
table{border-collapse:collapse;width:100%;font-size:13px}
table.narrow{width:auto;min-width:60%}
th,td{padding:5px 7px;border-bottom:1px solid #e6eaef;vertical-align:top;text-align:left}
th{background:#f4f6f9;font-weight:600}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.total td{font-weight:600;border-top:2px solid #c9d1da}
td.date{white-space:nowrap}.neg{color:#b03a2e}.reason{color:#39434f}
.arith{color:#6b7785;font-size:12px}
.meta{font-size:12px;color:#5b6775;margin-top:28px;word-break:break-all}
.note{font-size:13px;color:#39434f}
@media print{body{background:#fff}main{box-shadow:none;margin:0;max-width:none;padding:0}}
"""


def _card(title: str, value: str, note: str, cls: str = "") -> str:
    return (f'<div class="card {cls}"><div class="k">{_e(title)}</div>'
            f'<div class="v">{_e(value)}</div><div class="n">{_e(note)}</div></div>')


def _num(amount: Decimal, cur: str, sign: bool = False) -> str:
    """A table cell: the amount with the currency's minor unit, without the currency code
    (the page states it once)."""
    text = _money(amount, cur, sign)[:-len(cur) - 1]
    return f'<td class="{"num neg" if amount < 0 else "num"}">{_e(text)}</td>'


def to_html(st: PayeeStatement) -> str:
    cur = st.currency
    title = f"{st.payee} — {st.period} — {st.plan}"
    who = ", ".join(x for x in (f"role {st.role}" if st.role else "",
                                f"manager {st.manager}" if st.manager else "",
                                f"territory {st.territory}" if st.territory else "") if x)
    version = f" (version {_e(st.plan_version)})" if st.plan_version else ""
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>{_e(title)}</title><style>{CSS}</style></head><body><main>",
           f"<h1>Commission statement: {_e(st.payee)}</h1>",
           f'<p class="sub">{_e(st.plan)}{version}'
           f" · {_e(st.period)} ({_e(st.start)} to {_e(st.end)}) · amounts in {_e(cur)}"
           f"{' · ' + _e(who) if who else ''}</p>"]
    out.append('<h2>Summary</h2><div class="cards" id="summary">')
    out.append(_card("Earned", _money(st.earned, cur, True),
                     "every earning dated in the period, caps and clawbacks included"))
    out.append(_card("Paid", _money(st.paid, cur), "paid in the period's pay periods", "paid"))
    later = -st.term("paid in later pay periods")
    out.append(_card("Awaiting collection", _money(-st.term("awaiting collection"), cur),
                     "of this period's earnings, paid when the customer pays"
                     + (f"; {_money(later, cur)} more is paid in a pay period after the one "
                          "it was earned in"
                        if later else "")))
    held, released = st.term("held back"), st.term("released")
    out.append(_card("Held back", _money(held, cur, True),
                     f"withheld this period; released {_money(released, cur, True)}"))
    # With a ledger, prior-period adjustments that would make pay negative are carried too:
    # the card must not say "nothing carried" while the reconciliation above owes them.
    carries = (("negative pay", st.balance("negative pay carried forward")),
               ("prior-period adjustments", st.balance("prior-period adjustments carried forward")))
    carried = sum((amount for _, amount in carries), ZERO)
    what = " and ".join(name for name, amount in carries if amount)
    out.append(_card("Carried forward", _money(-carried, cur, True),
                     f"{what} carried to later pay periods and recovered from them"
                     if what else "nothing carried: pay is never negative"))
    draw = st.balance("draw balance")
    out.append(_card("Draw balance owed", _money(draw, cur),
                     "recovered from later pay as the plan says" if draw else "no draw owed"))
    advance = st.balance("advance balance")
    if advance or any(r.advanced or r.advance_recovered for r in st.rows):
        out.append(_card("Advance balance owed", _money(advance, cur),
                         "paid whatever was earned, recovered from later pay as the plan says"
                         if advance else "advances fully recovered or forgiven"))
    out.append("</div>")
    out.append(_compensation(st))
    out.append(_reconciliation(st))
    out.append(_pay_table(st))
    out.append(_chart_section(st))
    out.append(_deals_table(st))
    out.append(_adjustments(st))
    out.append(f'<p class="meta">Plan hash {_e(st.plan_hash)} · data hash {_e(st.data_hash)} · '
               f"incentive-dsl {_e(st.tool_version)}. The same plan and data give this "
               "statement byte for byte; <code>incentive explain</code> shows every line with "
               "its rule, source line and input rows.</p>")
    out.append("</main></body></html>\n")
    return "\n".join(out)


def _compensation(st: PayeeStatement) -> str:
    """Target total compensation: base salary (paid by payroll, not by this plan) and target
    incentive for the period and the year to date, what was earned against the target, and the
    pay mix."""
    c, cur = st.compensation, st.currency
    if c is None:
        return ""
    rows = "".join(
        f"<tr{attr}><td>{_e(what)}</td>{_num(now, cur)}{_num(ytd, cur)}</tr>"
        for what, now, ytd, attr in (
            ("Base salary (paid by payroll)", c.base, c.base_ytd, ""),
            ("Target incentive", c.target, c.target_ytd, ""),
            ("Target total compensation", c.total, c.total_ytd, ' class="total" id="ttc"')))
    notes = []
    if c.target_ytd:
        notes.append(f"Earned {_money(c.earned_ytd, cur)} from {c.ytd_start} to {st.end}: "
                     f"{fmt_pct(_share(c.earned_ytd, c.target_ytd))} of the target "
                     "incentive to date.")
    if c.total_ytd:
        notes.append(f"Pay mix: {fmt_pct(_share(c.base_ytd, c.total_ytd))} base salary, "
                     f"{fmt_pct(_share(c.target_ytd, c.total_ytd))} target incentive.")
    notes.append("The base salary is paid by payroll: it is not part of the pay on this "
                 "statement.")
    return (f'<h2>Target total compensation</h2><table id="compensation" class="narrow">'
            f'<tr><th></th><th class="num">{_e(st.period)}</th><th class="num">Year to date '
            f"({_e(c.year)})</th></tr>{rows}</table>"
            f'<p class="note">{_e(" ".join(notes))}</p>')


def _share(part: Decimal, whole: Decimal) -> Decimal:
    """A share for display, to a tenth of a percent (half even)."""
    return CONTEXT.divide(part, whole).quantize(Decimal("0.001"), context=CONTEXT)


def _reconciliation(st: PayeeStatement) -> str:
    """Earned, each term with its sign on pay, = paid, and what is still owed: the identity
    `explain` prints (audit/reconcile.py)."""
    cur = st.currency
    rows = [f'<tr><td>Earned in {_e(st.period)}</td>{_num(st.earned, cur)}</tr>']
    rows += [f"<tr><td>{_e(name[:1].upper() + name[1:])}</td>{_num(amount, cur, True)}</tr>"
             for name, amount in st.terms]
    rows.append(f'<tr class="total" id="reconciled"><td>Paid</td>{_num(st.paid, cur)}</tr>')
    rows += [f'<tr><td>Still owed after {_e(st.period)}: {_e(name)}</td>{_num(amount, cur)}'
             "</tr>" for name, amount in st.owed]
    return ('<h2>How earned becomes paid</h2><table id="reconciliation" class="narrow">'
            + "".join(rows) + "</table>")


def _pay_table(st: PayeeStatement) -> str:
    cur = st.currency
    shown = [(c, t) for c, t in COLUMNS
             if c in ("earned", "paid") or any(getattr(r, c) for r in st.rows)]
    head = "".join(f'<th class="num">{_e(t)}</th>' for _, t in shown)
    body = []
    for r in st.rows:
        mark = " (closed)" if r.pay_period in st.closed else ""
        body.append(f"<tr><td>{_e(r.pay_period + mark)}</td>"
                    + "".join(_num(getattr(r, c), cur) for c, _ in shown) + "</tr>")
    totals = "".join(_num(sum((getattr(r, c) for r in st.rows), ZERO), cur) for c, _ in shown)
    body.append(f'<tr class="total" id="pay-total"><td>Total</td>{totals}</tr>')
    note = ("Each row adds up to its paid amount: what was earned in the pay period, less what "
            "is paid later or awaits the customer's payment, plus earlier earnings payable now; "
            "held back is released in a later pay period; carried is negative pay (a clawback "
            "larger than the period's earnings) taken out of this period and recovered from "
            "later pay: nothing is ever taken back from a paycheck.")
    if any(r.advanced or r.advance_recovered for r in st.rows):
        note += (" An advance is paid whatever was earned; advance recovered is what later pay "
                 "gave back of it.")
    return (f'<h2>Pay periods</h2><table id="pay"><tr><th>Pay period</th>{head}</tr>'
            + "".join(body) + f'</table><p class="note">{_e(note)}</p>')


def _deals_table(st: PayeeStatement) -> str:
    cur = st.currency
    if not st.deals:
        why = "".join(f"<li>{_e(line)}</li>" for line in st.not_paid)
        return ("<h2>Earnings</h2><p class=\"note\">Nothing was earned in this period"
                + (f".</p><p>Why:</p><ul id=\"not-paid\">{why}</ul>" if why else ".</p>"))
    rows = []
    for d in st.deals:
        credit = _num(d.credit, cur) if d.credit is not None else '<td class="num"></td>'
        arith = f'<div class="arith">{_e(d.arithmetic)}</div>' if d.arithmetic else ""
        rows.append(f"<tr><td class=\"date\">{_e(d.date)}</td><td>{_e(d.deal or '')}</td>"
                    f"<td>{_e(d.label)}<div class=\"arith\">{_e(d.kind)} · rule {_e(d.rule)}"
                    f"</div></td>{credit}{_num(d.amount, cur)}"
                    f'<td class="reason">{_e(d.reason)}{arith}</td></tr>')
    rows.append(f'<tr class="total" id="earned-total"><td colspan="4">Total earned</td>'
                f"{_num(st.earned, cur)}<td></td></tr>")
    return ('<h2>Earnings: every deal, its credit and commission</h2><table id="deals">'
            '<tr><th>Date</th><th>Deal</th><th>Rule</th><th class="num">Credit</th>'
            '<th class="num">Amount</th><th>Why</th></tr>' + "".join(rows) + "</table>")


def _adjustments(st: PayeeStatement) -> str:
    cur = st.currency
    if st.ledger is None:
        return ""
    if not st.adjustments:
        corrected = st.term(CORRECTED)
        if corrected:  # this period's pay was corrected after it, so today's figure differs
            return (f'<h2>Prior-period adjustments</h2><p class="note">None paid in this '
                    f"period. Later pay periods corrected the earnings it paid by "
                    f"{_e(_money(-corrected, cur, True))} (prior-period adjustments recorded in "
                    f"{_e(st.ledger)}).</p>")
        return (f'<h2>Prior-period adjustments</h2><p class="note">None: the recomputation '
                f"agrees with what was paid for the closed pay periods in {_e(st.ledger)}.</p>")
    rows = "".join(
        f"<tr><td>{_e(a.pay_period)}</td><td>{_e(a.closed_period)}</td><td>{_e(a.what)}</td>"
        f"{_num(a.old, cur)}{_num(a.new, cur)}{_num(a.amount, cur, True)}<td>{_e(a.cause)}</td>"
        "</tr>" for a in st.adjustments)
    return ('<h2>Prior-period adjustments</h2><table id="adjustments"><tr><th>Paid in</th>'
            '<th>Corrects</th><th>Line</th><th class="num">Paid before</th>'
            '<th class="num">Now</th><th class="num">Adjustment</th><th>Cause</th></tr>'
            + rows + "</table>")


def _chart_section(st: PayeeStatement) -> str:
    if not st.attainment:
        return ('<h2>Year-to-date attainment</h2><p class="note">This plan sets no quota for '
                "this payee.</p>")
    parts = []
    for a in st.attainment:
        parts.append(f"<h2>Year-to-date attainment: {_e(a.label)} ({_e(a.year)})</h2>")
        parts.append(_svg_chart(a))
        measure = a.measure_label[:1].upper() + a.measure_label[1:]
        rows = "".join(
            f"<tr><td>{_e(p.month)}</td>"
            f"<td class=\"num\">{_e(_quota(p.quota, a, st.currency))}</td>"
            f"<td class=\"num\">{_e(_value(p.value, a.kind, st.currency))}</td></tr>"
            for p in a.points)
        parts.append(f'<table class="attainment"><tr><th>Through</th>'
                     f'<th class="num">Quota to date</th><th class="num">{_e(measure)} to '
                     f"date</th></tr>{rows}</table>")
    return "\n".join(parts)


def _quota(amount: Decimal, a: Attainment, cur: str) -> str:
    """A quota to date for reading: monthly shares of a quarterly quota are exact fractions
    (96,666.666...), shown to the cent (or to two decimals for a count)."""
    if a.quota_kind == "money":
        return fmt(round_money(amount, cur), cur)
    return f"{round_money(amount, 'XXX').normalize(CONTEXT):f}"


def _svg_chart(a: Attainment) -> str:
    """Bars of the year-to-date measure per month against the 100% (quota) line."""
    w, h, left, bottom, top = 720, 220, 48, 28, 16
    values = [p.value for p in a.points]
    target = Decimal(1) if a.kind == "percent" else max((p.quota for p in a.points), default=ZERO)
    high = max([target * Decimal("1.2"), *values]) or Decimal(1)
    plot_h = h - bottom - top
    step = (w - left - 8) / max(len(values), 1)
    bar = step * 0.6

    def y(v: Decimal) -> float:
        return top + plot_h - float(v / high) * plot_h

    out = [f'<svg width="{w}" height="{h}" '
           f'viewBox="0 0 {w} {h}" role="img" aria-label="year-to-date {_e(a.measure)} by month">',
           f'<line x1="{left}" y1="{top + plot_h}" x2="{w - 8}" y2="{top + plot_h}" '
           'stroke="#9aa5b1"/>']
    for i, p in enumerate(a.points):
        x = left + i * step + (step - bar) / 2
        top_y = y(max(p.value, ZERO))
        colour = "#2f7d4f" if p.value >= target else "#3b6ea5"
        out.append(f'<rect x="{x:.1f}" y="{top_y:.1f}" width="{bar:.1f}" '
                   f'height="{top + plot_h - top_y:.1f}" fill="{colour}"/>')
        label = _value(p.value, a.kind, "") if a.kind == "percent" else ""
        if label:
            out.append(f'<text x="{x + bar / 2:.1f}" y="{top_y - 3:.1f}" font-size="11" '
                       f'text-anchor="middle" fill="#1d2733">{_e(label)}</text>')
        out.append(f'<text x="{x + bar / 2:.1f}" y="{h - 10}" font-size="11" '
                   f'text-anchor="middle" fill="#5b6775">{_e(p.month)}</text>')
    ty = y(target)
    out.append(f'<line x1="{left}" y1="{ty:.1f}" x2="{w - 8}" y2="{ty:.1f}" stroke="#b03a2e" '
               'stroke-dasharray="5,4"/>')
    out.append(f'<text x="{left - 4}" y="{ty + 4:.1f}" font-size="11" text-anchor="end" '
               f'fill="#b03a2e">{"100%" if a.kind == "percent" else "quota"}</text>')
    out.append("</svg>")
    return "".join(out)


# ------------------------------------------------------------------------------ files, PDF


def file_stem(payee: str, period: str) -> str:
    """A safe file name for a payee's statement: payee ids are untrusted text ("../x", "a/b"
    or an empty-looking id must not name another place); an id changed by the cleaning gets a
    short hash so two ids never share a file."""
    import hashlib

    clean = re.sub(r"[^A-Za-z0-9._-]+", "_", payee).strip("._") or "payee"
    if clean != payee:
        clean += "-" + hashlib.sha256(payee.encode()).hexdigest()[:8]
    return f"{clean}_{re.sub(r'[^A-Za-z0-9._-]+', '_', period)}"


CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run",
                  "--disable-dev-shm-usage")


def chromium() -> str | None:
    """The headless browser on PATH, if any (chromium, chromium-browser, google-chrome)."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


def pdf_renderer() -> str | None:
    """What can turn a statement into a PDF: 'weasyprint' (the Python package) or the path of
    a headless chromium; None when neither is installed."""
    if importlib.util.find_spec("weasyprint") is not None:
        return "weasyprint"
    return chromium()


def browser_command(browser: str, profile: str, *args: str) -> list[str]:
    return [browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args]


def write_pdf(html_path: str, pdf_path: str, timeout: float = 120) -> str | None:
    """Print `html_path` to `pdf_path`; None when done, else what went wrong."""
    renderer = pdf_renderer()
    if renderer is None:
        return ("no PDF renderer is installed: install chromium (apt-get install chromium) or "
                "weasyprint (pip install weasyprint)")
    if renderer == "weasyprint":
        import weasyprint

        weasyprint.HTML(filename=html_path).write_pdf(pdf_path)
        return None
    with tempfile.TemporaryDirectory() as profile:
        try:
            done = subprocess.run(
                browser_command(renderer, profile, "--no-pdf-header-footer",
                                f"--print-to-pdf={Path(pdf_path).resolve()}",
                                Path(html_path).resolve().as_uri()),
                capture_output=True, text=True, timeout=timeout, check=False)
        except (OSError, subprocess.SubprocessError) as exc:
            return f"{renderer} failed: {exc}"
    if done.returncode != 0 or not Path(pdf_path).is_file():
        return f"{renderer} failed (exit {done.returncode}): {done.stderr.strip()[-300:]}"
    return None


def payees_of(result: RunResult, window: Period, wanted: Sequence[str] = ()) -> list[str]:
    """The payees with a statement in the window (every covered payee has one), or `wanted`."""
    if wanted:
        return list(dict.fromkeys(wanted))
    return sorted({s.payee for s in result.statements
                   if window.start <= s.start and s.end <= window.end})
