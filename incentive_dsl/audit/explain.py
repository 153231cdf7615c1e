"""Explanations a rep can follow: a payee's pay for a period as a tree of reasons.

    ana, 2027-Q1: earned 26,000.00 USD, paid 13,000.00 USD
    └── Core commission (core) — plans/ae.plan:29
        └── deal D1: 26,000.00 USD
            12% of 50,000.00 USD because your 2027-Q1 attainment went from 0% to 120% …
            ├── 250,000.00 USD × 8% + 50,000.00 USD × 12% = 26,000.00 USD
            └── credit 300,000.00 USD from event D1-booked (data/deals.csv:14)

The tree is built as plain data (`Node`) so the CLI can print it with rich and tests can
read it; nothing here recomputes a value: it only reads the traces the stages recorded.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections import defaultdict
from decimal import Decimal
from fractions import Fraction

import attrs

from incentive_dsl.audit.index import index
from incentive_dsl.audit.reconcile import reconcile
from incentive_dsl.check.model import PoolSpec
from incentive_dsl.eval.credits import eligible
from incentive_dsl.eval.money import CONTEXT, ZERO, div, exact, fmt, fmt_pct
from incentive_dsl.eval.records import EarningLine
from incentive_dsl.eval.run import RunResult
from incentive_dsl.periods import FREQUENCY_UNIT, Period, month_number
from incentive_dsl.syntax import nodes as n
from incentive_dsl.syntax.format import expr as show


@attrs.define
class Node:
    text: str
    children: list[Node] = attrs.Factory(list)

    def add(self, text: str) -> Node:
        child = Node(text)
        self.children.append(child)
        return child

    def to_dict(self) -> dict:
        return {"text": self.text, "children": [c.to_dict() for c in self.children]}

    def lines(self, indent: str = "") -> list[str]:
        out = [indent + self.text] if indent or self.text else []
        for i, c in enumerate(self.children):
            last = i == len(self.children) - 1
            head = indent.replace("├── ", "│   ").replace("└── ", "    ")
            out += c.lines(head + ("└── " if last else "├── "))
        return out


def _where(span) -> str:
    return f"{span.path}:{span.line}"


def explain(result: RunResult, payee: str, window: Period, deal: str | None = None,
            grouped: bool = False) -> Node:
    """`grouped`: "not paid" says once the reason many skips share (text for people); else
    every skip has its line."""
    # Totals are added in the run's decimal context, so they are the statements' numbers.
    with decimal.localcontext(CONTEXT):
        return _explain(result, payee, window, deal, grouped)


def _explain(result: RunResult, payee: str, window: Period, deal: str | None,
             grouped: bool) -> Node:
    plan = result.plan
    cur = plan.currency
    ix = index(result)
    events = ix.events
    credits = ix.credits
    own = {e.id: e for e in ix.earnings_of.get(payee, ())}
    earnings = [e for e in own.values() if window.contains(e.date)
                and (deal is None or e.deal == deal)]
    statements = [s for s in ix.statements_of.get(payee, ())
                  if window.start <= s.start and s.end <= window.end]
    earned = sum((e.amount for e in earnings), ZERO)
    paid = sum((s.paid for s in statements), ZERO)
    what = f" on deal {deal}" if deal else ""
    shown = f"{ix.names[payee]} ({payee})" if payee in ix.names else payee
    root = Node(f"{shown}, {window.label}{what}: earned {fmt(earned, cur)}"
                + ("" if deal else f", paid {fmt(paid, cur)}"))
    by_component: dict[str, list[EarningLine]] = defaultdict(list)
    for e in earnings:
        by_component[e.component].append(e)
    for name, lines in by_component.items():
        comp = plan.component(name)
        label = comp.label if comp else "Plan-wide cap"
        span = comp.span if comp else plan.span
        total = sum((ln.amount for ln in lines), ZERO)
        branch = root.add(f"{label} ({name}): {fmt(total, cur)} — rule '{name}', {_where(span)}")
        for ln in lines:
            subject = f"deal {ln.deal}" if ln.deal else ln.period
            item = branch.add(f"{ln.kind} {subject} on {ln.date}: {fmt(ln.amount, cur)} — "
                              f"{ln.trace.because}")
            if ln.trace.arithmetic:
                item.add(ln.trace.arithmetic)
            if ln.trace.span != span:
                item.add(f"rule '{ln.trace.rule}', {_where(ln.trace.span)}")
            for name_, value in ln.trace.values:
                if name_ != "credit":
                    item.add(f"{name_}: {value}")
            for ref in ln.trace.inputs:
                c = credits.get(ref)
                if c is None and ref in own:  # a clawback's input: the line it reverses
                    was = own[ref]
                    node = item.add(f"reverses the {was.kind} line of deal {was.deal} on "
                                    f"{was.date}: {fmt(was.amount, cur)} — {was.trace.because}")
                    if was.trace.arithmetic:
                        node.add(was.trace.arithmetic)
                if c is not None:
                    src = events.get(c.event)
                    where = f" ({src.source})" if src is not None and src.source else ""
                    item.add(f"credit {fmt(c.amount, cur)} from event {c.event}{where}: "
                             f"{c.trace.because}")
    absent = no_statement(result, payee, window)
    if deal and absent is not None:  # a deal earns nothing for a payee the plan never pays
        root.add(absent)
    elif not deal:
        if absent is None:
            _quotas(result, payee, window, root)
            _compensation(result, payee, window, root)
            _payouts(result, payee, window, statements, root)
        else:  # the plan's quotas and targets are not theirs: only why it pays them nothing
            root.add(absent)
        if absent is None or earnings:
            _reconciliation(result, payee, window, root)
    skipped = _skips(result, payee, window, deal, events, earnings)
    if skipped:
        branch = root.add("not paid")
        for line in _grouped(result, skipped, events) if grouped else [
                _skip_line(result, s, events) for s in skipped]:
            branch.add(line)
    elif deal and absent is None and not earnings:
        reason = _not_theirs(result, payee, window, deal, ix.deal_events.get(deal, ()))
        if reason:
            root.add(reason)
    return root


def not_paid(result: RunResult, payee: str, window: Period) -> list[str]:
    """Why events of the payee's in `window` earned them nothing: `explain`'s "not paid", as
    text for people (many skips of one rule for one reason on one line)."""
    ix = index(result)
    earnings = [e for e in ix.earnings_of.get(payee, ()) if window.contains(e.date)]
    return _grouped(result, _skips(result, payee, window, None, ix.events, earnings),
                    ix.events)


def _skip_line(result: RunResult, s, events) -> str:
    return f"{s.rule}: {s.subject} — " \
        f"{skip_reason(result.plan, s.rule, s.reason, events.get(s.subject))}"


# Fewer skips with one reason than this are listed one by one in grouped text.
_GROUP = 3


def _grouped(result: RunResult, skips, events) -> list[str]:
    """The skips one line a rule and reason, in order of first appearance: "demos: 26 'meeting'
    activities not paid — <reason>: E1, E2, E3 and 23 more" (few are listed one by one)."""
    groups: dict[tuple[str, str], list] = defaultdict(list)
    for s in skips:
        groups[s.rule, skip_reason(result.plan, s.rule, s.reason, events.get(s.subject))] \
            .append(s)
    out = []
    for (rule, reason), members in groups.items():
        if len(members) < _GROUP:
            out += [f"{rule}: {s.subject} — {reason}" for s in members]
            continue
        ids = ", ".join(s.subject for s in members[:_GROUP])
        more = f" and {len(members) - _GROUP} more" if len(members) > _GROUP else ""
        out.append(f"{rule}: {len(members)} {_noun([events.get(s.subject) for s in members])} "
                   f"not paid — {reason}: {ids}{more}")
    return out


def _noun(events) -> str:
    """What a group of skipped subjects are: "'meeting' activities", "events", "periods"."""
    if all(e is not None for e in events):
        kinds = {(e.kind, e.subject) for e in events}
        if len(kinds) == 1 and next(iter(kinds))[0] == "activity":
            return f"'{next(iter(kinds))[1]}' activities"
        return "events"
    return "periods" if not any(events) else "events and periods"


def _skips(result: RunResult, payee: str, window: Period, deal: str | None, events,
           earnings) -> list:
    # A rule may skip a split partner's share of an event and still credit the payee theirs:
    # that skip is the partner's, not a reason the payee was not paid.
    ix = index(result)
    gave = {(c.credit, c.event) for c in ix.credits_of.get(payee, ()) if c.amount}
    gave.update((e.component, event) for e in earnings if e.amount for event in e.trace.events)
    skipped = [s for s in ix.skips_of.get(payee, ())
               if (s.date is None or window.contains(s.date))
               and (deal is None or (s.subject in events and events[s.subject].deal == deal))
               and (s.rule, s.subject) not in gave]
    if deal is None:
        skipped += _team_skips(result, payee, window)
    return skipped


def _team_skips(result: RunResult, payee: str, window: Period) -> list:
    """The skips of a team rule (a pool: subject 'team of MANAGER PERIOD') of a team the payee
    belonged to and could share in: a member's pool that paid nothing is theirs to be told."""
    engine = result.engine
    if engine is None:
        return []
    out = []
    for s in index(result).team_skips:
        comp = result.plan.component(s.rule)
        if (not s.subject.startswith("team of ") or comp is None or s.date is None
                or not window.contains(s.date)):
            continue
        manager = s.subject[len("team of "):].rsplit(" ", 1)[0]
        period = result.plan.calendar.period_of(s.date, comp.period)
        if payee in engine.team_ids(manager, period) and eligible(
                result.plan, comp.roles, engine.roster, payee,
                min(period.end, engine.roster.employment(payee)[1] or period.end)) is None:
            out.append(s)
    return out


def skip_reason(plan, rule: str, reason: str, event=None) -> str:
    """A skip's reason as the run recorded it, with what the record leaves out: the 'where'
    condition that does not hold (a stage or activity reward's: the one of the event's
    stage or activity), the fund of a pool that had nothing to share."""
    spec = next((r for r in (*plan.credits, *plan.components) if r.name == rule), None)
    where = getattr(getattr(spec, "trigger", None), "where", None)
    if event is not None and getattr(spec, "pays", None):
        where = next((p.where for p in spec.pays if p.subject == event.subject), None)
    if "'where' condition" in reason and where is not None:
        return f"{reason} (where {show(where)})"
    if reason == "nothing to share" and isinstance(spec, PoolSpec):
        return f"nothing to share: its fund, '{show(spec.fund)}', came to 0"
    return reason


def _not_theirs(result: RunResult, payee: str, window: Period, deal: str,
                events) -> str | None:
    """Why a deal earns the payee nothing when no rule skipped it for them: none of its events
    is in the window, or it is someone else's deal (they are neither its owner nor in its
    split, and got no credit on it). None when neither is so."""
    head = f"no earning on deal {deal} for {payee} in {window.label}: "
    mine = sorted((e for e in events if e.deal == deal), key=lambda e: e.sort_key())
    if mine and not any(window.contains(e.date) for e in mine):
        return head + (f"none of its events is dated in it (they are dated {mine[0].date}"
                       + (f" to {mine[-1].date})" if mine[-1].date != mine[0].date else ")"))
    credited = [c for c in index(result).credits_of.get(payee, ()) if c.deal == deal
                and window.contains(c.date)]
    if credited:
        # A manager's credit rolled up from a report: paid through the team's figures for
        # the period (an override), which no line of this deal's carries.
        cur = result.plan.currency
        return head + ("; ".join(f"it credits them {fmt(c.amount, cur)} of {c.credit} "
                                 f"({c.trace.because})" for c in credited)
                       + f", which counts in their figures for the period but earns nothing "
                         f"on the deal itself: see explain without --deal for what those "
                         f"figures earned")
    if any(c.deal == deal for c in index(result).credits_of.get(payee, ())):
        return None
    booked = [e for e in mine if e.kind == "booked"]
    if booked and all(e.owner != payee and payee not in dict(e.splits) for e in booked):
        last = booked[-1]
        split = "; ".join(f"{p} {fmt_pct(share)}" for p, share in last.splits)
        return head + (f"it is {last.owner}'s deal" + (f" (split {split})" if split else "")
                       + f", and {payee} has no credit on it")
    return None


def _holds_pay_period(plan, window: Period) -> bool:
    """Whether a whole pay period of the plan lies inside `window`."""
    unit = FREQUENCY_UNIT[plan.payout.frequency]
    first = plan.calendar.period_of(window.start, unit)
    if first.start < window.start:
        if first.end >= window.end:
            return False
        first = plan.calendar.period_of(first.end + dt.timedelta(days=1), unit)
    return first.end <= window.end


def no_statement(result: RunResult, payee: str, window: Period) -> str | None:
    """Why the payee has no statement in `window`; None when they have one, or when the
    window holds no whole pay period (nobody has a statement in it: `_reconciliation` says
    so)."""
    if not _holds_pay_period(result.plan, window) or any(
            s.payee == payee and window.start <= s.start and s.end <= window.end
            for s in index(result).statements_of.get(payee, ())):
        return None
    head = f"no statement in {window.label}: "
    covered = result.plan.applies_to
    roster = result.engine.roster if result.engine is not None else None
    if roster is None or payee not in roster:
        return head + f"{payee} is not in the roster, so the plan pays them nothing"
    if not roster.active_days(payee, window.start, window.end):
        start, end = roster.employment(payee)
        return head + (f"{payee} was not employed in it (employed from {start}"
                       f"{f' to {end}' if end else ''})")
    # As statements are made (PayoutStage._active_in): the role held on the last day of
    # each pay period the payee is employed in (or of the employment, when it ends first).
    start, end = roster.employment(payee)
    unit = FREQUENCY_UNIT[result.plan.payout.frequency]
    held = list(dict.fromkeys(
        roster.role_on(payee, max(min(p.end, end or p.end), start))
        for p in result.plan.calendar.periods(window.start, window.end, unit)
        if window.start <= p.start and p.end <= window.end
        and roster.active_days(payee, p.start, p.end)))
    if covered and held and not set(held) & set(covered):
        return head + (f"{payee} ({', '.join(held)}) holds no role this plan covers "
                       f"({', '.join(sorted(covered))}) at the end of its pay periods, so the "
                       "plan pays them nothing")
    return head + (f"{payee} was not employed in a role this plan covers in any pay period "
                   "that lies wholly inside it")


def _compensation(result: RunResult, payee: str, window: Period, root: Node) -> None:
    """Base salary and target incentive for the window: paid by payroll, not in `paid`, shown
    so that earnings can be read against the target."""
    engine, cur = result.engine, result.plan.currency
    if engine is None or not result.plan.compensation or payee not in engine.roster:
        return
    branch = root.add("compensation (paid by payroll, not part of paid)")
    values = {name: engine.compensation_total(name, (payee,), window)
              for name in ("base_salary", "target_incentive", "target_total_compensation")}
    for name, value in values.items():
        branch.add(f"{name.replace('_', ' ')} for {window.label}: {fmt(value, cur)}")
    earned = sum((ln.amount for ln in index(result).earnings_of.get(payee, ())
                  if window.contains(ln.date)), ZERO)
    if values["target_incentive"]:
        branch.add(f"earned {fmt(earned, cur)} = "
                   f"{fmt_pct(div(earned, values['target_incentive']))} of the target incentive")


def _team_quota_rules(plan, quota: str) -> list:
    """The rules that measure a team against `quota` (`team attainment`, where attainment
    reads it): a manager's override is paid on the team's quota, not on their own. Not a
    pool: it pays the members of a team, measured as their manager's."""
    measures = {m.name: m for m in plan.measures}

    def reads(name: str, seen: set[str]) -> bool:
        if name in seen or name not in measures:
            return False
        seen.add(name)
        return any(isinstance(x, n.QuotaRef) and x.name.text == quota
                   or isinstance(x, (n.Ref, n.TeamRef)) and reads(x.name.text, seen)
                   for x in n.walk(measures[name].expr))
    return [c for c in plan.components if not isinstance(c, PoolSpec)
            and getattr(c, "period", None) and any(
        isinstance(x, n.TeamRef) and reads(x.name.text, set())
        for f in attrs.fields(type(c)) if isinstance(getattr(c, f.name), n.Node)
        for x in n.walk(getattr(c, f.name)))]


def _team_quota(result: RunResult, payee: str, window: Period, quota: str):
    """(the rules, the payee's team's quota over the window) when a rule measured the
    payee's team against `quota` in the window (it paid them, or said why not); else None."""
    engine, ix = result.engine, index(result)
    ran = {ln.component for ln in ix.earnings_of.get(payee, ()) if window.contains(ln.date)}
    ran.update(s.rule for s in ix.skips_of.get(payee, ()) if s.subject.startswith(payee + " ")
               and s.date is not None and window.contains(s.date))
    rules = [c for c in _team_quota_rules(result.plan, quota) if c.name in ran]
    if not rules:
        return None
    periods = [p for p in result.plan.calendar.periods(window.start, window.end,
                                                       rules[0].period)
               if window.start <= p.start and p.end <= window.end]
    # Added exactly: a prorated quota may have no finite decimal form.
    total = sum((Fraction(engine.quota_total(quota, tuple(engine.team(payee, p)), p))
                 for p in periods), Fraction(0))
    return rules, exact(total)


def _quotas(result: RunResult, payee: str, window: Period, root: Node) -> None:
    engine = result.engine
    if engine is None or not result.plan.quotas or payee not in engine.roster:
        return
    branch = root.add("quotas")
    for q in result.plan.quotas:
        def show_value(value):
            return fmt(value, result.plan.currency) if q.kind == "money" else \
                f"{value.normalize():f}"
        value = engine.quota_total(q.name, (payee,), window)
        team = _team_quota(result, payee, window, q.name)
        if team is not None:
            rules, total = team
            branch.add(f"quota {q.name} of {payee}'s team for {window.label}: "
                       f"{show_value(total)} — what rule "
                       f"{', '.join(repr(c.name) for c in rules)} measured the team against")
            if not value:  # the payee has no quota of their own: the team's is the one used
                continue
        node = branch.add(f"quota {q.name} for {window.label}: {show_value(value)}")
        if q.forecast is not None:
            f = q.forecast
            for p in result.plan.calendar.periods(window.start, window.end, f.unit):
                forecast, history = engine.forecast(f, payee, p)
                uplift = f" × {fmt_pct(f.uplift)}" if f.uplift != 1 else ""
                inputs = ", ".join(f"{label} {fmt(v, result.plan.currency)}"
                                   for label, v in history) or "no history"
                node.add(f"{p.label}: {f.method} of {f.measure} over {f.count} {f.unit}s "
                         f"({inputs}){uplift} = {fmt(forecast, result.plan.currency)} — "
                         f"{_where(f.span)}")
        if q.normalize:
            r = engine.roster.at(payee, window.start)
            index = engine.territory_index.get(r.territory if r else None)
            node.add(f"normalised by territory {r.territory if r else None!r} index "
                     f"{fmt_pct(index) if index is not None else '100% (no index)'}")
        if q.proration:
            node.add(f"prorated by active {q.proration}")
        if q.ramp:
            steps = ", ".join(f"month {i} at {fmt_pct(s)}" for i, s in enumerate(q.ramp, 1))
            text = f"ramped in the first {len(q.ramp)} months of employment ({steps})"
            if payee in engine.roster:
                start = engine.roster.employment(payee)[0]
                # (as the quota is ramped: by the month of employment each month falls in)
                inside = max(1, month_number(start, window.start)) <= min(
                    len(q.ramp), month_number(start, window.end))
                text += (f": {payee} started on {start}, so the ramp "
                         f"{'applies' if inside else 'does not apply'} in {window.label}")
            node.add(text)


def _payouts(result: RunResult, payee: str, window: Period, statements, root: Node) -> None:
    if not statements:
        return
    cur = result.plan.currency
    branch = root.add("payouts")
    periods = {s.pay_period for s in statements}
    ix = index(result)
    payouts = ix.payouts_of.get(payee, ())
    for s in statements:
        node = branch.add(f"{s.pay_period}: paid {fmt(s.paid, cur)}")
        for p in payouts:
            if p.pay_period == s.pay_period and p.kind != "earning":
                node.add(f"{p.kind} {fmt(p.amount, cur)} — {p.trace.because}")
    waiting = sum((p.amount for p in payouts if p.kind == "awaiting collection"), Decimal(0))
    if waiting and periods:
        # The run's awaiting lines hold every period's earnings still unpaid at its last day,
        # not only the window's (reconcile's term): said so, with the window's own part.
        end = max(s.end for s in ix.statements_of[payee])
        own = -dict(reconcile(result, payee, window).terms).get("awaiting collection", ZERO)
        branch.add(f"still awaiting collection on {end}, from the earnings of every period "
                   f"so far: {fmt(waiting, cur)} ({fmt(own, cur)} of it earned in "
                   f"{window.label})")


def _reconciliation(result: RunResult, payee: str, window: Period, root: Node) -> None:
    """earned, each term with its sign on pay, = paid; then what is still owed."""
    cur = result.plan.currency
    r = reconcile(result, payee, window)
    if not _holds_pay_period(result.plan, window):
        root.add(f"no pay period lies wholly inside {window.label}: see the pay period that "
                 f"contains it for what was paid")
    branch = root.add(f"how earned becomes paid in {window.label}")
    branch.add(f"earned {fmt(r.earned, cur)}")
    for name, amount in r.terms:
        branch.add(f"{'+' if amount > 0 else '−'} {name} {fmt(abs(amount), cur)}")
    branch.add(f"= paid {fmt(r.paid, cur)}")
    for name, amount in r.owed:
        branch.add(f"still owed after {window.label}: {name} {fmt(amount, cur)}")
