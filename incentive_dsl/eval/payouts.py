"""Stage 5: earning lines -> payout lines and statements, pay period by pay period.

The schedule decides when a deal's earnings become payable (at the earning, or as the deal's
money is collected or invoiced); holdbacks withhold a share and release it later; draws top up
a pay period to a guaranteed minimum and, when recoverable, are recovered from later pay;
advances are paid whatever was earned and recovered from the pay periods after them.

Rounding happens here and only here. `per line`: each earning line is rounded once, then its
legs are allocated cent-exactly. `per statement`: lines stay exact and each payee's pay period
total is rounded, the difference shown as a `rounding` line. A statement's base salary and
target incentive (never part of its pay) are each rounded once, from their exact values for
the pay period, with the plan's rounding mode.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections import defaultdict
from decimal import Decimal

from incentive_dsl.check.model import Plan
from incentive_dsl.data.records import Roster
from incentive_dsl.eval.context import Deals, Fx
from incentive_dsl.eval.money import (
    ZERO, allocate, div, exact, fmt, fmt_pct, mul, quantum, round_money, to_money)
from incentive_dsl.eval.records import (DeferredTrace, EarningLine, PaidHead, PayoutLine,
                                        PayoutLines, Statement, Trace, payout_line)
from incentive_dsl.periods import FREQUENCY_UNIT, Period
from incentive_dsl.progress import EVERY, QUIET, Meter

# Lines tied to one deal follow the payout schedule; a clawback follows it too, so the part of
# a cancelled deal's commission that was waiting for collection is simply never paid.
# A true-up re-rates earlier deals' money, so it is paid at once, not on the crossing deal's
# schedule.
ONE = Decimal(1)
_AMOUNT = operator.attrgetter("amount")
DEAL_KINDS = ("commission", "capped", "netting", "spiff", "stage", "condition", "clawback")


def _when_earned(cur: str) -> str:
    return "payable when earned"


def _when_booked(cur: str, share: Decimal) -> str:
    return f"{fmt_pct(share)} payable when booked"


def _when_moved(cur: str, share: Decimal, event: str, got: Decimal, day: dt.date,
                move: str) -> str:
    return f"{fmt_pct(share)} payable when {event}: {fmt(got, cur)} {event} on {day} ({move})"


def _awaiting(cur: str, event: str, deal: str) -> str:
    return f"awaiting {event.replace('ed', 'ion')} of deal {deal}"


def _leg_texts(cur: str, phrase, earning: EarningLine, *args) -> tuple:
    """A payout line's trace (see `Later`): why this part is payable now, then the earning
    line's own reason and arithmetic."""
    because, arithmetic = earning.trace.texts()[:2]
    return f"{phrase(cur, *args)}: {because}", arithmetic, (), (), (earning.id,), ()


def _awaiting_texts(cur: str, earning_ids: tuple[str, ...], phrase, *args) -> tuple:
    """The trace of what a deal's lines still wait for: why the first of them waits."""
    return phrase(cur, *args), "", (), (), earning_ids, ()


_EARNED = (_when_earned,)  # the reason of a leg paid when its line is earned


def payable_amount(plan: Plan, line: EarningLine) -> Decimal:
    """What an earning line's payout legs add up to: the line rounded once when rounding is per
    line, else the exact line (its statement is rounded)."""
    amount = line.amount
    if plan.rounding.point != "line" or (
            type(amount) is Decimal and amount.same_quantum(quantum(plan.currency))):
        return amount  # exact, or rounded already (as most are): not another copy
    return round_money(amount, plan.currency, plan.rounding.mode)


def _months_between(a: dt.date, b: dt.date) -> int:
    return (b.year - a.year) * 12 + b.month - a.month


class PayoutStage:
    def __init__(self, plan: Plan, roster: Roster, deals: Deals, fx: Fx,
                 start: dt.date, end: dt.date, compensation=None) -> None:
        self.plan, self.roster, self.deals, self.fx = plan, roster, deals, fx
        # (kind, payee, first day, last day) -> the exact amount (MeasureEngine.compensation),
        # for a plan with a compensation block.
        self.compensation = compensation if plan.compensation else None
        self.spec = plan.payout
        self.cur = plan.currency
        self.unit = FREQUENCY_UNIT[self.spec.frequency]
        self.start, self.end = start, end
        self.periods = plan.calendar.periods(start, end, self.unit)
        schedule = self.spec.schedule
        self._weights = [share for _, share in schedule]
        self._at_once = len(schedule) == 1 and schedule[0][0] == "booked"

    def _trace(self, rule: str, because: str, arithmetic: str = "", inputs=()) -> Trace:
        return Trace(rule=rule, label="Payout", span=self.spec.span or self.plan.span,
                     because=because, arithmetic=arithmetic, inputs=tuple(inputs))

    def _round(self, amount: Decimal) -> Decimal:
        return round_money(amount, self.cur, self.plan.rounding.mode)

    # ------------------------------------------------------------------ legs

    def legs(self, line: EarningLine) -> list[tuple[dt.date | None, Decimal, tuple]]:
        """When each part of an earning line is payable: [(day or None if not yet, amount,
        why)]. Amounts add up to the line (rounded first when rounding is per line). `why` is
        (phrase function, its arguments after the currency), written when a trace is read."""
        per_line = self.plan.rounding.point == "line"
        amount = payable_amount(self.plan, line)
        schedule = self.spec.schedule
        if self._at_once or line.kind not in DEAL_KINDS or not line.deal:
            return [(line.date, amount, _EARNED)]
        deal = self.deals.get(line.deal)
        if deal is None:
            return [(line.date, amount, _EARNED)]
        weights = self._weights
        if per_line:
            parts = allocate(amount, weights, self.cur)
        else:
            parts = [mul(amount, w) for w in weights]
        out: list[tuple[dt.date | None, Decimal, tuple]] = []
        for (event, share), part in zip(schedule, parts):
            if event == "booked":
                out.append((line.date, part, (_when_booked, share)))
                continue
            moves = deal.collections if event == "collected" else deal.invoices
            base = deal.amount
            paid = collected = ZERO
            # What is released by a collection is the part times the share of the deal
            # collected so far, less what earlier collections released: exact, or rounded to
            # the minor unit where that share has no finite decimal form (a third collected),
            # and never more than the part. A negative line (a clawback, an amendment down) is
            # released with the money collected, exactly like the line it corrects.
            for mv in moves:  # in processing order already (date, kind, deal, id)
                if abs(paid) >= abs(part) or not base:
                    break
                got = self.fx.convert(mv.amount or ZERO, mv.currency, mv.date, mv)[0]
                collected += got
                share = min(ONE, div(collected, base))
                released = part if share == ONE else mul(part, share)
                released = self._round(released) if per_line else \
                    to_money(released, self.cur, self.plan.rounding.mode)
                piece = released - paid
                if piece:
                    out.append((max(mv.date, line.date), piece,
                                (_when_moved, share, event, got, mv.date, mv.id)))
                    paid += piece
            if part - paid:
                out.append((None, part - paid, (_awaiting, event, deal.id)))
        return out

    # ------------------------------------------------------------------ run

    def run(self, earnings: list[EarningLine],
            meter: Meter = QUIET) -> tuple[PayoutLines, list[Statement]]:
        # Each (payee, pay period)'s lines; an earning line paid whole stands for its own.
        payable: dict[tuple[str, str], list[PayoutLine | EarningLine]] = defaultdict(list)
        # Parts waiting for money: (earning line, amount, why), netted per deal below.
        awaiting: dict[str, list[tuple[EarningLine, Decimal, tuple]]] = defaultdict(list)
        span = self.spec.span or self.plan.span
        start, end, cur, unit = self.start, self.end, self.cur, self.unit
        period_of = self.plan.calendar.period_of
        # What each (payee, pay period) earned and where it went: the statement's flows.
        flows: dict[tuple[str, str], dict[str, Decimal]] = {}

        def flow(key: tuple[str, str]) -> dict[str, Decimal]:
            f = flows.get(key)
            if f is None:
                f = flows[key] = dict.fromkeys(
                    ("earned", "capped", "clawed_back", "later", "awaiting", "earlier"), ZERO)
            return f

        at_once = self._at_once
        # `payable_amount`, inline for the usual schedule: a line rounded already (most) is paid
        # as it is.
        per_line, minor, mode = self.plan.rounding.point == "line", quantum(cur), \
            self.plan.rounding.mode
        labels: dict[dt.date, str] = {}  # the pay period of each day lines are dated
        heads: dict[tuple, tuple] = {}  # the payout lines' trace heads (see `Later`)

        earned_heads: dict[str, tuple] = {}  # the usual ones (paid when earned), by component

        def head_of(component: str, phrase) -> tuple:
            head = heads.get((component, phrase))
            if head is None:
                head = heads[(component, phrase)] = (_leg_texts, component, "Payout", span,
                                                     cur, phrase)
                if phrase is _when_earned:  # (its lines' trace is the head alone: `PaidHead`)
                    head = earned_heads[component] = heads[(component, phrase)] = \
                        PaidHead(head)
            return head
        for i, line in enumerate(earnings):
            if not i % EVERY:
                meter.update(i)
            day = line.date
            label = labels.get(day)
            if label is None:
                label = labels[day] = period_of(max(day, start), unit).label
            own = (line.payee, label)
            mine = flows.get(own) or flow(own)
            mine["earned"] += line.amount
            if line.kind in ("capped", "plan cap", "condition"):
                mine["capped"] += line.amount
            elif line.kind == "clawback":
                mine["clawed_back"] += line.amount
            if at_once and day <= end:  # the usual schedule, paid in the line's pay period
                amount = line.amount
                # (made for every component, since `PayoutLines` makes its lines with it)
                head = earned_heads.get(line.component) or head_of(line.component,
                                                                   _when_earned)
                if per_line and not (type(amount) is Decimal and amount.same_quantum(minor)):
                    payable[own].append(payout_line(
                        payee=line.payee, pay_period=label, kind="earning",
                        amount=round_money(amount, cur, mode), earning=line, trace=head))
                else:  # paid whole: the earning line stands for its payout line (`PayoutLines`)
                    payable[own].append(line)
                continue
            # Another schedule's legs, or a line paid when earned after the run's last day.
            for day, amount, why in ((line.date, payable_amount(self.plan, line), _EARNED),) \
                    if at_once else self.legs(line):
                if day is not None and day > end:
                    # Payable after the run's last day: from the run's point of view, still
                    # waiting for the money.
                    day, why = None, (_awaiting, why[2], line.deal)
                if day is None:
                    awaiting[line.payee].append((line, amount, why))
                    mine["awaiting"] -= amount
                    continue
                label = own[1] if day == line.date else period_of(max(day, start), unit).label
                if label != own[1]:
                    mine["later"] -= amount
                    flow((line.payee, label))["earlier"] += amount
                payable[(line.payee, label)].append(payout_line(
                    payee=line.payee, pay_period=label, kind="earning", amount=amount,
                    earning=line,
                    trace=(head_of(line.component, why[0]), line, *why[1:])))
        meter.update(len(earnings))
        # Everyone the plan covers gets a statement, including those who earned nothing.
        payees = sorted({p for p, _ in flows} | set(self.roster.ids()))
        meter.stage("evaluating: statements", len(payees))
        lines = PayoutLines(earned_heads)
        statements: list[Statement] = []
        for n, payee in enumerate(payees):
            if not n % 256:  # a payee's pay periods are much more work than a line
                meter.update(n)
            held_queue: list[tuple[dt.date, Decimal, str]] = []
            balance = ZERO
            advance_balance = ZERO
            carried = ZERO  # a negative pay period (clawbacks beyond earnings) carried forward
            for pp in self.periods:
                period_lines = payable.pop((payee, pp.label), None) or []
                earned = sum(map(_AMOUNT, period_lines), ZERO)
                extra: list[PayoutLine] = []
                if carried:
                    extra.append(self._pl(payee, pp, "carried", -carried,
                                          f"{fmt(carried, self.cur)} carried from earlier pay "
                                          "periods is recovered"))
                # Holdback of this period's positive pay, and releases falling due now.
                if self.spec.holdback is not None and earned > 0:
                    hold = self._round(mul(earned, self.spec.holdback.share))
                    if hold:
                        due = self._release_day(pp)
                        held_queue.append((due, hold, pp.label))
                        extra.append(self._pl(payee, pp, "holdback", -hold, (
                            f"{fmt_pct(self.spec.holdback.share)} of {fmt(earned, self.cur)} "
                            f"held back until {due}")))
                for due, amount, origin in list(held_queue):
                    if due <= pp.end:
                        held_queue.remove((due, amount, origin))
                        extra.append(self._pl(payee, pp, "release", amount,
                                              f"release of the holdback from {origin}"))
                subtotal = earned + sum(map(_AMOUNT, extra), ZERO)
                carried = ZERO
                if subtotal < 0:
                    # Nothing is taken back from pay: the amount is carried forward (before any
                    # draw, which then tops up from zero).
                    carried = -subtotal
                    extra.append(self._pl(payee, pp, "carried", carried,
                                          f"pay would be {fmt(subtotal, self.cur)}: nothing is "
                                          "taken back from pay; the amount is carried forward and "
                                          "recovered from later pay"))
                    subtotal = ZERO
                subtotal, balance, draw_lines = self._draw(payee, pp, subtotal, balance)
                extra += draw_lines
                subtotal, advance_balance, advance_lines = self._advance(
                    payee, pp, subtotal, advance_balance)
                extra += advance_lines
                period_lines += extra
                if self.plan.rounding.point == "statement":
                    exact = sum(map(_AMOUNT, period_lines), ZERO)
                    diff = self._round(exact) - exact
                    if diff:
                        period_lines.append(self._pl(payee, pp, "rounding", diff,
                                                     f"statement total {fmt(exact, self.cur)} "
                                                     f"rounded {self.plan.rounding.mode}"))
                earned = flows.get((payee, pp.label))
                if not period_lines and earned is None and not self._active_in(payee, pp):
                    continue
                lines.add(period_lines, pp.label)
                statements.append(self._statement(payee, pp, period_lines, extra, earned,
                                                  balance, carried, advance_balance))
            lines.add(self._net_awaiting(awaiting.get(payee, [])), None)
        return lines, statements

    def _net_awaiting(self, waiting: list[tuple[EarningLine, Decimal, tuple]]
                      ) -> list[PayoutLine]:
        """One line per deal still waiting for its money; a cancelled deal's commission and its
        clawback cancel out here and leave nothing waiting."""
        per_deal: dict[str, list[tuple[EarningLine, Decimal, tuple]]] = defaultdict(list)
        for part in waiting:
            per_deal[part[0].deal or ""].append(part)
        out = []
        span = self.spec.span or self.plan.span
        for deal, group in per_deal.items():
            total = sum((amount for _, amount, _ in group), ZERO)
            if total:
                first, _, why = group[0]
                ids = tuple(line.id for line, _, _ in group)
                out.append(PayoutLine(
                    payee=first.payee, pay_period="(awaiting)", kind="awaiting collection",
                    amount=total, earning=first.id if len(group) == 1 else None,
                    trace=DeferredTrace(_awaiting_texts, (self.cur, ids, *why), first.component,
                                        "Payout", span)))
        return out

    def _active_in(self, payee: str, pp: Period) -> bool:
        """Employed in the pay period in a role the plan covers (an empty statement is still
        a statement for them)."""
        if payee not in self.roster or not self.roster.active_days(payee, pp.start, pp.end):
            return False
        if not self.plan.applies_to:
            return True
        start, end = self.roster.employment(payee)
        day = min(pp.end, end or pp.end)
        return self.roster.role_on(payee, max(day, start)) in self.plan.applies_to

    def _pl(self, payee: str, pp: Period, kind: str, amount: Decimal, because: str,
            arithmetic: str | None = None) -> PayoutLine:
        if self.plan.rounding.point == "line":
            amount = self._round(amount)
        return PayoutLine(payee=payee, pay_period=pp.label, kind=kind, amount=amount,
                          earning=None, trace=self._trace(
                              "payout", because, arithmetic or fmt(amount, self.cur)))

    def _release_day(self, pp: Period) -> dt.date:
        h = self.spec.holdback
        if h.release == "until":
            return h.date
        if h.release == "year end":
            return self.plan.calendar.period_of(pp.end, "year").end
        if h.days is not None:
            return pp.end + dt.timedelta(days=h.days)
        index = pp.end.year * 12 + pp.end.month - 1 + h.months
        return self.plan.calendar.period_of(dt.date(index // 12, index % 12 + 1, 1), "month").end

    def _covered_on(self, payee: str, day: dt.date) -> bool:
        """Employed on `day` in a role the plan covers, while the plan is in effect: when a
        draw is guaranteed and an advance is paid."""
        if payee not in self.roster or not self.roster.active_on(payee, day):
            return False
        if day < self.plan.effective_start or (self.plan.effective_end is not None
                                               and day > self.plan.effective_end):
            return False
        role = self.roster.role_on(payee, day)
        return not self.plan.applies_to or role in self.plan.applies_to

    def _draw_applies(self, payee: str, day: dt.date) -> bool:
        d = self.spec.draw
        if d is None or not self._covered_on(payee, day):
            return False
        if d.months is None:
            return True
        start = self.roster.employment(payee)[0]
        return _months_between(start, day) < d.months

    def _draw(self, payee: str, pp: Period, subtotal: Decimal,
              balance: Decimal) -> tuple[Decimal, Decimal, list[PayoutLine]]:
        d = self.spec.draw
        out: list[PayoutLine] = []
        if d is None or payee not in self.roster:
            return subtotal, balance, out
        day = min(pp.end, self.roster.employment(payee)[1] or pp.end)
        in_force = self._draw_applies(payee, max(pp.start, self.roster.employment(payee)[0])) \
            and self.roster.active_days(payee, pp.start, pp.end)
        # Recovery first: only from money this period actually pays.
        if balance > 0 and subtotal > 0:
            room = subtotal - d.amount if d.recovery == "excess" and in_force else subtotal
            take = min(balance, max(room, ZERO))
            if take:
                balance -= take
                subtotal -= take
                out.append(self._pl(payee, pp, "recovery", -take,
                                    f"recovery of the draw balance ({d.recovery}); "
                                    f"{fmt(balance, self.cur)} still owed"))
        recovered = bool(out)
        # A period that recovered the balance is not topped up again: lending back what was
        # just recovered would make "recoverable from all earnings" mean nothing.
        if in_force and subtotal < d.amount and not recovered:
            top = d.amount - max(subtotal, ZERO)  # a negative period is carried, not drawn
            subtotal = max(subtotal, ZERO) + top
            if d.recovery != "non-recoverable":
                balance += top
            out.append(self._pl(payee, pp, "draw", top,
                                f"draw: pay topped up to the guaranteed {fmt(d.amount, self.cur)} "
                                f"({'forgiven' if d.recovery == 'non-recoverable' else 'owed'})"))
        forgive = (d.forgiveness == "at" and d.forgive_date is not None and
                   pp.contains(d.forgive_date)) or (
            d.forgiveness == "termination" and self.roster.employment(payee)[1] is not None and
            pp.contains(self.roster.employment(payee)[1]))
        if forgive and balance > 0:
            out.append(self._pl(payee, pp, "forgiven", ZERO,
                                f"draw balance of {fmt(balance, self.cur)} forgiven on {day}"))
            balance = ZERO
        return subtotal, balance, out

    def _advance_month(self, payee: str, pp: Period) -> int | None:
        """The month of employment (1 = the month of the start date) in which this pay period
        pays the advance, or None when it pays none: a periodic advance in each pay period
        whose first day of employment is in the first months, an advance at hire in the pay
        period of the start date; either only to a payee the plan covers on that day."""
        a = self.spec.advance
        start = self.roster.employment(payee)[0]
        day = start if a.per is None else max(pp.start, start)
        if not pp.contains(day) or not self._covered_on(payee, day):
            return None
        month = _months_between(start, day) + 1
        return month if a.months is None or month <= a.months else None

    def _advance(self, payee: str, pp: Period, subtotal: Decimal,
                 balance: Decimal) -> tuple[Decimal, Decimal, list[PayoutLine]]:
        """After carry and holdback: pay the advance (owed), or recover what is owed from a
        pay period that pays none; then forgive the balance when the plan says so."""
        a = self.spec.advance
        out: list[PayoutLine] = []
        if a is None or payee not in self.roster:
            return subtotal, balance, out
        cur = self.cur
        month = self._advance_month(payee, pp)
        if month is not None:
            when = (f"at hire ({self.roster.employment(payee)[0]})" if a.per is None else
                    f"for month {month} of the first {a.months} months of employment")
            line = self._pl(payee, pp, "advance", a.amount,
                            f"advance {when}, paid whatever was earned; "
                            f"{fmt(balance + a.amount, cur)} owed, recovered from later pay")
            out.append(line)
            balance += line.amount
            subtotal += line.amount
        elif balance > 0 and subtotal > 0:
            # Recovery never takes more than the pay period pays, so pay stays at 0 or more.
            if a.recovery_share is None:
                room, how = subtotal, f"from this pay period's pay of {fmt(subtotal, cur)}"
            else:
                # Rounded down: "at most 50%" never takes half a cent more than half.
                room = min(subtotal, round_money(mul(subtotal, a.recovery_share), cur, "down"))
                how = (f"from at most {fmt_pct(a.recovery_share)} of this pay period's pay of "
                       f"{fmt(subtotal, cur)} ({fmt(room, cur)})")
            take = min(balance, room)
            if take:
                balance -= take
                subtotal -= take
                out.append(self._pl(
                    payee, pp, "advance recovery", -take,
                    f"recovery of advances {how}; {fmt(balance, cur)} still owed",
                    f"min(owed {fmt(balance + take, cur)}, {fmt(room, cur)}) = "
                    f"{fmt(take, cur)}"))
        end = self.roster.employment(payee)[1]
        day = a.forgive_date if a.forgiveness == "at" else \
            end if a.forgiveness == "termination" else None
        if day is not None and pp.contains(day) and balance > 0:
            reason = "on termination" if a.forgiveness == "termination" else "as the plan says"
            out.append(self._pl(payee, pp, "advance forgiven", ZERO,
                                f"advance balance of {fmt(balance, cur)} forgiven on {day} "
                                f"({reason})"))
            balance = ZERO
        return subtotal, balance, out

    def _statement(self, payee: str, pp: Period, lines: list[PayoutLine | EarningLine],
                   extra: list[PayoutLine], earned: dict[str, Decimal] | None,
                   balance: Decimal, carried: Decimal,
                   advance_balance: Decimal) -> Statement:
        """The statement of `lines`; `extra` are those of them that are not earnings (nor
        rounding), the only ones of the kinds it totals."""
        totals = dict.fromkeys(("holdback", "release", "draw", "recovery", "carried", "advance",
                                "advance recovery"), ZERO)
        paid = sum(map(_AMOUNT, lines), ZERO)
        for ln in extra:  # each total added up in line order
            if ln.kind in totals:
                totals[ln.kind] += ln.amount
        if self.plan.rounding.point == "statement":  # a whole number of cents already:
            paid = self._round(paid)  # written with the minor unit's digits, not the lines'
        f = earned or dict.fromkeys(("earned", "capped", "clawed_back", "later", "awaiting",
                                     "earlier"), ZERO)
        # Rounding is what is left between the other flows and what is paid (amounts are
        # exact, so that is the rounding to the cent of legs and statements), so that the
        # statement adds up exactly on its face.
        others = (f["earned"] + f["later"] + f["awaiting"] + f["earlier"] + totals["holdback"]
                  + totals["release"] + totals["draw"] + totals["recovery"] + totals["carried"]
                  + totals["advance"] + totals["advance recovery"])
        return Statement(
            payee=payee, pay_period=pp.label, start=pp.start, end=pp.end, earned=f["earned"],
            capped=f["capped"], clawed_back=f["clawed_back"], held=totals["holdback"],
            released=totals["release"], drawn=totals["draw"], recovered=totals["recovery"],
            paid=paid, draw_balance=balance, carried=carried, later=f["later"],
            awaiting=f["awaiting"], earlier=f["earlier"], carry=totals["carried"],
            rounding=paid - others, advanced=totals["advance"],
            advance_recovered=totals["advance recovery"], advance_balance=advance_balance,
            **self._compensation(payee, pp))

    def _compensation(self, payee: str, pp: Period) -> dict[str, Decimal]:
        if self.compensation is None:
            return {}
        return {kind.replace(" ", "_"): self._round(exact(self.compensation(
            kind, payee, pp.start, pp.end))) for kind in ("base salary", "target incentive")}
