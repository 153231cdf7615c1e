"""Stage 2: events -> credit lines. Who gets credit for which event, how much, under which rule.

Allocation is cent-exact: a credited value is rounded to the cent once, then split with
`money.allocate`, so the parts of a split always add up to the whole. Overlay and roll-up
credit are deliberate extra credit and are marked as such. Credit is computed for every event
in the data, including history before the plan starts (forecast quotas read it); the plan's
effective range limits earnings, not credit.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from decimal import Decimal

import attrs

from incentive_dsl.check.model import CreditSpec, Plan
from incentive_dsl.data.records import Event, Roster
from incentive_dsl.eval.context import Deal, Deals, Env, Evaluator, EventIndex, Fx
from incentive_dsl.eval.money import (ZERO, add, allocate, div, fmt, fmt_pct, fmt_rate, mul,
                                      quantum, round_money, sub)
from incentive_dsl.eval.records import (CreditHead, CreditLine, Skips, credit_line,
                                        outside_window)
from incentive_dsl.progress import EVERY, QUIET, Meter

ONE = Decimal(1)
LINE_KINDS = {"owner": 0, "split": 0, "role split": 0, "touch": 0, "overlay": 1, "roll-up": 2,
              "cancelled": 3}


def _kinds(spec: CreditSpec) -> tuple[str, ...]:
    """The event kinds a credit rule can match."""
    t = spec.trigger
    if t.kind == "deal":
        if t.event == "booked":  # a cancellation takes the credit back if the rule says so
            return ("booked", "amended", "cancelled") if spec.cancelled == "lose" else \
                ("booked", "amended")
        return (t.event,)
    return ("stage",) if t.kind == "stage" else ("activity",)


def _matches(spec: CreditSpec, e: Event) -> bool:
    t = spec.trigger
    if t.kind == "deal":
        return e.kind == t.event or (t.event == "booked" and e.kind == "amended")
    if t.kind == "stage":
        return e.kind == "stage" and e.subject == t.subject
    return e.kind == "activity" and e.subject == t.subject


def event_actor(e: Event, deal: Deal | None) -> str | None:
    """Who an event is about: the doer of an activity or a stage (its `by`), else the deal's
    owner (the booking's), else whoever the event row names."""
    if e.kind in ("activity", "stage") and e.owner:
        return e.owner
    if deal is not None:  # `deal.owner`, read once
        booked = deal.booked
        if booked is not None and booked.owner:
            return booked.owner
    return e.owner


def eligible(plan: Plan, roles: tuple[str, ...], roster: Roster, payee: str, day) -> str | None:
    """None if the payee can earn under a rule with these roles on `day`, else the reason."""
    if payee not in roster:
        return f"{payee} is not in the roster"
    if not roster.active_on(payee, day):
        return f"{payee} is not employed on {day}"
    role = roster.role_on(payee, day)
    if plan.applies_to and role not in plan.applies_to:
        return f"{payee}'s role {role} is not covered by the plan"
    if roles and role not in roles:
        return f"{payee}'s role {role} is not one of {', '.join(roles)}"
    return None


class Eligibility:
    """`eligible` for one plan and roster, answering from what is known once per rule's roles
    and payee when the payee has a single roster row (then only the day's employment is
    checked); payees with several rows are asked `eligible` each time. The same answers."""

    def __init__(self, plan: Plan, roster: Roster) -> None:
        self.plan, self.roster = plan, roster
        # (roles, payee) -> (start, end, the reason their role is not covered, or None); or
        # None for a payee with several rows
        self._fixed: dict[tuple, tuple | None] = {}

    def __call__(self, roles: tuple[str, ...], payee: str, day) -> str | None:
        key = (roles, payee)
        try:
            fixed = self._fixed[key]
        except KeyError:
            fixed = self._fixed[key] = self._fix(roles, payee)
        if fixed is None:
            return eligible(self.plan, roles, self.roster, payee, day)
        start, end, reason = fixed
        if start is None:
            return reason
        if day < start or (end is not None and day > end):
            return f"{payee} is not employed on {day}"
        return reason

    def window(self, roles: tuple[str, ...], payee: str) -> tuple:
        """(first day, last day, answer): the days on which this answers `answer` for the
        payee without looking further (its employment, when it has a single roster row; else
        no days), for a caller that asks about many days of one payee."""
        key = (roles, payee)
        try:
            fixed = self._fixed[key]
        except KeyError:
            fixed = self._fixed[key] = self._fix(roles, payee)
        if fixed is None or fixed[0] is None:
            return dt.date.max, dt.date.min, None
        start, end, reason = fixed
        return start, dt.date.max if end is None else end, reason

    def _fix(self, roles: tuple[str, ...], payee: str) -> tuple | None:
        if payee not in self.roster:
            return None, None, f"{payee} is not in the roster"
        only = self.roster.only(payee)
        if only is None:
            return None
        start, end = self.roster.employment(payee)
        if end is not None and end < start:
            return None
        # Asked on a day of employment, `eligible` gives the role's reason (or None).
        return start, end, eligible(self.plan, roles, self.roster, payee, start)


class CreditStage:
    def __init__(self, plan: Plan, index: EventIndex, deals: Deals, fx: Fx,
                 roster: Roster, evaluator: Evaluator) -> None:
        self.plan, self.index, self.deals, self.fx = plan, index, deals, fx
        self.roster, self.evaluator = roster, evaluator
        self.skips = Skips()
        self.lines: list[CreditLine] = []
        self._previous_amount: dict[tuple[str, str], Decimal] = {}
        # Only amendments read the amount a deal had: without any, it is not kept per booking.
        self._amends = bool(index.by_kind["amended"])
        # (credit, deal) -> the deal's credit lines so far, for credits whose cancelled deals
        # lose their credit
        self._of_deal: dict[tuple[str, str], list[CreditLine]] = defaultdict(list)
        self._where = {c.name: evaluator.function(c.trigger.where)
                       if c.trigger.where is not None else None for c in plan.credits}
        self.eligible = Eligibility(plan, roster)
        self._event_ids: dict[str, int] = {}  # the current event's line ids, and how many
        self._made = deals.made
        # Each rule's `Eligibility.window` by payee, for `_line`
        self._windows: dict[str, dict[str, tuple]] = {c.name: {} for c in plan.credits}
        self._minor = quantum(plan.currency)
        # Each rule's trace head (see `Later`): what the traces of its lines share.
        self._heads = {c.name: CreditHead((_credit_texts, c.name, c.label, c.span,
                                           plan.currency)) for c in plan.credits}
        # (rule, detail) -> the trace tuple its plain bookings' lines share (`CreditHead`)
        self._plains: dict[tuple[str, str], tuple] = {}

    def run(self, meter: Meter = QUIET) -> tuple[list[CreditLine], Skips]:
        order = {c.name: i for i, c in enumerate(self.plan.credits)}
        specs_for: dict[str, list[CreditSpec]] = {}
        # Whether a rule matches every event of a kind (a deal trigger: `_matches` reads the
        # kind alone), or `_matches` must look at the event (None).
        always: dict[tuple[str, str], bool | None] = {}
        for spec in self.plan.credits:
            for kind in _kinds(spec):
                specs_for.setdefault(kind, []).append(spec)
                t = spec.trigger
                always[(spec.name, kind)] = None if t.kind != "deal" else \
                    kind == t.event or (t.event == "booked" and kind == "amended")
        # Per kind: the rules to check, and whether an event's lines are sorted (one rule's
        # own shares are made in payee order already, see `_credit`; the lines of several
        # rules, overlays and roll-ups are not).
        checks = {kind: ([(spec, always[(spec.name, kind)]) for spec in specs],
                         len(specs) > 1 or bool(specs[0].overlays) or specs[0].rollup is not None)
                  for kind, specs in specs_for.items()}
        lines = self.lines

        def rank(ln: CreditLine) -> tuple:
            return (order[ln.credit], LINE_KINDS[ln.kind], ln.payee, ln.id)

        # Events come in processing order (date, kind, deal, id), and credit follows it: it
        # decides which deal crosses a tier. An event's own lines go by rule, kind and payee.
        groups = [self.index.by_kind[kind] for kind in specs_for if self.index.by_kind[kind]]
        # Each group is in processing order: sorting them together merges the runs.
        events = groups[0] if len(groups) == 1 else [] if not groups else sorted(
            itertools.chain.from_iterable(groups), key=Event.sort_key)
        skipped = len(self.index.events) - len(events)  # events no credit rule looks at
        event_ids = self._event_ids
        for i, e in enumerate(events):
            if not i % EVERY:
                meter.update(skipped + i)
            rules, mixed = checks[e.kind]
            first = len(lines)
            if event_ids:
                event_ids.clear()
            for spec, matched in rules:
                if matched or (matched is None and _matches(spec, e)):
                    self._credit(spec, e)
                elif e.kind == "cancelled":  # a credit on bookings whose deals lose it
                    self._take_back(spec, e)
            if mixed and len(lines) - first > 1:
                lines[first:] = sorted(lines[first:], key=rank)
        return lines, self.skips

    def _skip(self, spec: CreditSpec, e: Event, reason: str) -> None:
        self.skips.add(spec.name, e.id, reason, e.date)

    def _credit(self, spec: CreditSpec, e: Event) -> None:
        event_kind = e.kind
        # (a booked or cancelled deal is made up front: looked up without a call)
        deal = None if event_kind == "activity" else \
            self._made.get(e.deal) or self.deals.get(e.deal)
        if event_kind == "amended" and (deal is None or deal.booked is None):
            return
        if spec.during is not None and not spec.during.contains(e.date):
            self._skip(spec, e, outside_window(e.date))
            return
        actor = event_actor(e, deal)
        where = self._where[spec.name]
        env = Env(payee=actor, day=e.date, deal=deal, event=e) \
            if spec.value is not None or where is not None else None
        if where is not None and not where(env):
            self._skip(spec, e, "the rule's 'where' condition does not hold")
            return
        value, how = self._value(spec, e, deal, env)
        if event_kind == "amended" and value == 0:
            return
        shares, detail = self._shares(spec, e, deal, actor)
        if not shares:
            self._skip(spec, e, detail)
            return
        # Payee order, not recorded order, decides who gets a leftover cent: the result must not
        # depend on how the CRM happened to list the split.
        # Two lines of one payee and kind need numbering (`_line`): not when the payees differ.
        count = len(shares)
        distinct = count == 1
        if count == 2:  # (a two-way split, the usual one: compared, not sorted)
            a, b = shares
            pa, pb = a[0], b[0]
            distinct = pa != pb
            if pa is not None and pb is not None and distinct:  # (two payees: their order)
                if pb < pa:
                    shares = [b, a]
            elif (pb is None, pb or "", b[2]) < (pa is None, pa or "", a[2]):
                shares = [b, a]
            amounts = allocate(value, [shares[0][1], shares[1][1]], self.plan.currency)
        elif count > 1:
            shares = sorted(shares, key=lambda s: (s[0] is None, s[0] or "", s[2]))
            amounts = allocate(value, [w for _, w, _ in shares], self.plan.currency)
        elif shares[0][1] is ONE and value.same_quantum(self._minor):
            amounts = (value,)  # all to one payee, in minor units already: `allocate`'s answer
        else:
            amounts = allocate(value, [shares[0][1]], self.plan.currency)
        direct = [] if spec.rollup is not None else None  # (read by a roll-up only)
        for (payee, weight, kind), amount in zip(shares, amounts):
            if payee is None:
                self._skip(spec, e, f"{fmt(amount, self.plan.currency)} of credit went to "
                           "digital touches")
                continue
            line = self._line(spec, e, payee, kind, amount, value, weight, how, detail,
                              counted=not distinct)
            if line is not None and direct is not None:
                direct.append(line)
        for roles, share in spec.overlays:
            for payee in self._participants(deal, actor):
                if self.roster.role_on(payee, e.date) in roles:
                    amount = round_money(mul(value, share), self.plan.currency)
                    self._line(spec, e, payee, "overlay", amount, value, share, how,
                               f"overlay credit for role {', '.join(roles)}")
        if direct:
            for line in direct:
                chain = self.roster.managers_of(line.payee, e.date)
                if spec.rollup == "direct manager":
                    chain = chain[:1]
                for manager in chain:
                    self._line(spec, e, manager, "roll-up", line.amount, value, None, how,
                               f"rolled up from {line.payee}", source=line.payee)

    def _take_back(self, spec: CreditSpec, e: Event) -> None:
        """`cancelled deals lose their credit`: at the deal's (first) cancellation, each payee's
        credit from the deal is taken back by a negative `cancelled` line dated that day, so
        attainment counts the deal until then and not after."""
        deal = self.deals.get(e.deal)
        if deal is None or deal.cancelled is not e:
            return  # a deal is cancelled once: a second cancellation takes nothing back
        if spec.during is not None and not spec.during.contains(e.date):
            self._skip(spec, e, outside_window(e.date))
            return
        held: dict[str, Decimal] = {}
        for ln in self._of_deal.pop((spec.name, e.deal), ()):
            held[ln.payee] = held.get(ln.payee, ZERO) + ln.amount
        if not any(held.values()):
            self._skip(spec, e, f"deal {e.deal} has no credit under this rule to take back")
            return
        how = ("deal {} was cancelled on {}: its credit is taken back (cancelled deals lose "
               "their credit)", e.deal, e.date)
        for payee, amount in sorted(held.items()):
            if amount:
                self._line(spec, e, payee, "cancelled", -amount, -amount, None, how,
                           f"{payee} held {fmt(amount, self.plan.currency)} of it")

    def _value(self, spec: CreditSpec, e: Event, deal: Deal | None,
               env: Env) -> tuple[Decimal, tuple]:
        """The value credited, and how it was found: a phrase whose `{}` are filled in with its
        other items (amounts in the plan currency) when the trace is read."""
        cur = self.plan.currency
        if spec.value is not None:
            if e.kind == "amended" and deal is not None:
                # An amendment changes the value by the difference it makes to the expression.
                new = self.fx.convert(e.amount or ZERO, e.currency, e.date, e)[0]
                old = self._previous_amount.get((spec.name, deal.id), deal.amount)
                self._previous_amount[(spec.name, deal.id)] = new
                before, after = deal.copy(old), deal.copy(new)
                delta = sub(self.evaluator.amount(spec.value, attrs.evolve(env, deal=after)),
                            self.evaluator.amount(spec.value, attrs.evolve(env, deal=before)))
                return round_money(delta, cur), ("deal {} amended from {} to {}: the rule's "
                                                  "value changes", deal.id, old, new)
            raw = self.evaluator.amount(spec.value, env)
            if e.kind == "booked" and deal is not None and self._amends:
                self._previous_amount[(spec.name, deal.id)] = deal.amount
            return round_money(raw, cur), ("the rule's value",)
        if e.kind == "booked" and deal is not None:
            if self._amends:
                self._previous_amount[(spec.name, deal.id)] = deal.amount
            booked = deal.booked
            # The deal's amount was converted when the deals were read: its rate is looked up
            # again only for a booking in another currency (few).
            rate = None if booked.currency is None or booked.currency == self.fx.currency \
                else self.fx.convert(booked.amount or ZERO, booked.currency, booked.date,
                                     booked)[1]
            # (Without a rate, the trace makes this phrase from the line: `CreditHead`.)
            return deal.amount, () if rate is None else (
                "deal {} booked at {}{}", deal.id, deal.amount, _converted(booked, rate))
        if e.kind == "amended" and deal is not None:
            new, rate = self.fx.convert(e.amount or ZERO, e.currency, e.date, e)
            old = self._previous_amount.get((spec.name, deal.id), deal.amount)
            self._previous_amount[(spec.name, deal.id)] = new
            return new - old, ("deal {} amended from {} to {}{}", deal.id, old, new,
                               _converted(e, rate))
        if e.amount is None:
            return ZERO, ("{} event without an amount", e.kind)
        amount, rate = self.fx.convert(e.amount, e.currency, e.date, e)
        return amount, ("{} {}{}", e.kind, amount, _converted(e, rate))

    def _participants(self, deal: Deal | None, actor: str | None) -> list[str]:
        if deal is not None and deal.booked is not None and deal.booked.splits:
            return [p for p, _ in deal.booked.splits]
        return [actor] if actor else []

    def _shares(self, spec: CreditSpec, e: Event, deal: Deal | None,
                actor: str | None) -> tuple[list[tuple[str | None, Decimal, str]], str]:
        if spec.attribution is not None and deal is not None:
            return self._touch_shares(spec, e, deal, actor)
        if actor is None:
            return [], "the event names no owner"
        if spec.split == "recorded":
            if deal is not None and deal.booked is not None and deal.booked.splits:
                return ([(p, w, "split") for p, w in deal.booked.splits],
                        "split as recorded on the deal")
            return [(actor, ONE, "owner")], "no split recorded: all to the owner"
        if spec.split == "evenly":
            people = self._participants(deal, actor)
            return [(p, ONE, "split") for p in people], f"split evenly among {len(people)}"
        if spec.split == "by role":
            people = self._participants(deal, actor)
            out: list[tuple[str | None, Decimal, str]] = []
            for role, share in spec.role_shares:
                holders = [p for p in people if self.roster.role_on(p, e.date) == role]
                if holders:
                    out += [(p, div(share, Decimal(len(holders))), "role split") for p in holders]
                else:
                    out.append((actor, share, "role split"))
            return out, "split by role " + ", ".join(f"{r} {fmt_pct(s)}"
                                                     for r, s in spec.role_shares)
        return [(actor, ONE, "owner")], "credited to the owner"

    def _touch_shares(self, spec: CreditSpec, e: Event, deal: Deal,
                      actor: str | None) -> tuple[list[tuple[str | None, Decimal, str]], str]:
        touches = sorted((t for t in deal.touches if t.date <= e.date),
                         key=lambda t: (t.date, t.id))
        if not touches:
            return ([(actor, ONE, "owner")] if actor else [],
                    "no touches recorded: all to the owner")
        count = len(touches)
        if spec.attribution == "first touch":
            weights = [ONE] + [ZERO] * (count - 1)
        elif spec.attribution == "last touch":
            weights = [ZERO] * (count - 1) + [ONE]
        elif spec.attribution == "linear touches":
            weights = [div(ONE, Decimal(count))] * count
        else:
            first, middle, last = spec.position_weights
            if count == 1:
                weights = [ONE]
            elif count == 2:
                half = div(middle, Decimal(2))
                weights = [add(first, half), add(last, half)]
            else:
                weights = [first] + [div(middle, Decimal(count - 2))] * (count - 2) + [last]
        by_payee: dict[str | None, Decimal] = {}
        for t, w in zip(touches, weights):
            if t.owner:
                by_payee[t.owner] = add(by_payee.get(t.owner, ZERO), w)
            else:
                digital = mul(w, spec.digital_share)
                if digital and actor:
                    by_payee[actor] = add(by_payee.get(actor, ZERO), digital)
                by_payee[None] = add(by_payee.get(None, ZERO), sub(w, digital))
        shares = [(p, w, "touch") for p, w in sorted(by_payee.items(), key=lambda kv: (
            kv[0] is None, kv[0] or "")) if w]
        return shares, f"{spec.attribution} attribution over {count} touches"

    def _plain(self, rule: str, detail: str) -> tuple:
        """The trace tuple of a line of `rule` that credits all of a booking in the plan
        currency to one payee, made once (`_plains`): shared by all such lines with the same
        detail."""
        made = self._plains[(rule, detail)] = (self._heads[rule], ONE, detail)
        return made

    def _line(self, spec: CreditSpec, e: Event, payee: str, kind: str, amount: Decimal,
              value: Decimal, weight: Decimal | None, how: tuple, detail: str,
              source: str | None = None, counted: bool = True) -> CreditLine | None:
        day = e.date
        windows = self._windows[spec.name]
        window = windows.get(payee)
        if window is None:
            window = windows[payee] = self.eligible.window(spec.roles, payee)
        start, end, reason = window
        if not start <= day <= end:
            reason = self.eligible(spec.roles, payee, day)
        if reason is not None:
            self._skip(spec, e, reason)
            return None
        if counted or source:
            # A payee can get two lines of one kind from one event (the actor standing in for
            # two roles nobody holds): the second is `#2`, so that every line has its own id.
            suffix = f":{source}" if source else ""
            base = f"{spec.name}:{e.id}:{payee}:{kind}{suffix}"
            n = self._event_ids[base] = self._event_ids.get(base, 0) + 1
            line_id = None if n == 1 and not suffix else base if n == 1 else f"{base}#{n}"
        else:  # (not `counted`: the caller's lines are one per payee)
            line_id = None
        line = credit_line(  # (the id made when read, when it is the plain one: `CreditHead`)
            id=line_id,
            credit=spec.name, payee=payee, deal=e.deal if e.kind != "activity" else None,
            event=e.id, date=day, amount=amount, kind=kind,
            trace=(self._heads[spec.name], value, weight, detail, *how) if how or
            weight is not ONE or amount is not value else
            self._plains.get((spec.name, detail)) or self._plain(spec.name, detail))
        self.lines.append(line)
        if spec.cancelled == "lose" and line.deal is not None and kind != "cancelled":
            self._of_deal[(spec.name, line.deal)].append(line)
        return line


def _converted(e: Event, r) -> str:
    """How an event's amount became the plan currency's, for the trace: the amount as recorded
    and the rate `r` (an `FxRate`, None for an amount in the plan currency) with its row.
    Without it a converted credit would show a number found nowhere in the data."""
    if r is None:
        return ""
    how = (f"÷ {r.rate}, the {r.target}→{r.currency}" if r.inverse else
           f"× {r.rate}, the {r.currency}→{r.target}")
    where = f", {r.source}" if r.source is not None else ""
    return f" ({fmt(e.amount or ZERO, e.currency)} {how} rate of {r.date}{where})"


def _credit_texts(cur: str, value: Decimal, weight: Decimal | None, amount: Decimal,
                  detail: str, event: str, how: str, *how_args) -> tuple:
    """A credit line's trace (see `DeferredTrace`); `how` is `_value`'s phrase."""
    rate = fmt_rate(weight) if weight is not None and weight != ONE else ""
    share = f" × {rate}" if rate else ""
    shown = fmt(value, cur)
    # All of the value (no split): equal nonzero amounts of one type are shown alike.
    credited = shown if amount == value and amount and type(amount) is type(value) else \
        fmt(amount, cur)
    phrase = how.format(*[shown if v is value else fmt(v, cur) if isinstance(v, Decimal) else v
                          for v in how_args])  # (the value is usually one of them)
    # The reason names the payee's share: "split as recorded on the deal" alone does not say
    # which part of the deal this line is.
    portion = f" ({rate} to this payee)" if rate else ""  # (`fmt_rate` is `fmt_pct`, kept)
    return (f"{phrase}; {detail}{portion}", f"{shown}{share} = {credited}",
            (("value", shown), ("credited", credited)), (event,), (), ())
