"""How a payee's earnings in a period become their pay: the statement's identity, term by term.

"Earned" means one thing everywhere (run, explain, diff): every earning line of the payee dated
in the period, caps, unmet conditions and clawbacks included. "Paid" is what the statements of
the pay periods lying wholly inside the period pay. The terms between them, each with its sign
on pay, add up exactly:

    earned
    − paid in later pay periods       (money earned here, payable in a later pay period)
    − awaiting collection             (earned here, still waiting for the customer's money)
    + earned before, paid now         (earlier earnings that became payable in the period)
    − held back / + released
    + drawn / − recovered
    + advanced / − advances recovered
    + carried forward / − carried from earlier pay periods, recovered
    ± prior-period adjustments        (with a ledger: corrections of closed pay periods)
    ± paid here, corrected later      (what later pay periods corrected of the window's pay)
    ± rounding to the cent
    = paid

Nothing is recomputed: the terms are read from the run's earning and payout lines (a leg of
an earning line names its line and its pay period). For one pay period the terms are the
statement's own flows (`eval.records.Statement`), which a test holds them to. For a period
of several pay periods they are the sums of those statements' flows, as `run` adds them up: money
earned in January and paid in February is "paid in later pay periods" for January and "earned
before, paid now" for February, and so for the quarter too (the two cancel out in it), so that
each figure can be found on the pay periods' statements.
"""

from __future__ import annotations

import bisect
import decimal
from collections import defaultdict
from decimal import Decimal

import attrs

from incentive_dsl.audit.index import index
from incentive_dsl.audit.ledger import ADJUSTMENT, CARRY
from incentive_dsl.eval.money import CONTEXT, ZERO
from incentive_dsl.eval.payouts import payable_amount
from incentive_dsl.eval.run import RunResult
from incentive_dsl.periods import Period

# Payout kinds that are not legs of an earning line, with their term (by the sign of the line).
_OTHER = {"holdback": ("held back", "held back"), "release": ("released", "released"),
          "draw": ("drawn", "drawn"), "recovery": ("draw recovered", "draw recovered"),
          "advance": ("advanced", "advanced"),
          "advance recovery": ("advances recovered", "advances recovered"),
          "carried": ("carried forward: pay would be negative, nothing is taken from pay",
                      "carried from earlier pay periods, recovered"),
          "rounding": ("rounding to the cent", "rounding to the cent"),
          CARRY: ("prior-period adjustments carried forward",
                  "prior-period adjustments carried from earlier, recovered")}

# With a ledger: the window's pay as recorded, less today's figure for it, which prior-period
# adjustments in later pay periods have paid back or recovered.
CORRECTED = "paid here, corrected in later pay periods"


@attrs.frozen
class Reconciliation:
    earned: Decimal
    paid: Decimal
    terms: tuple[tuple[str, Decimal], ...]  # (what, amount with its sign on pay), in order
    pay_periods: tuple[str, ...]  # the pay periods wholly inside the window
    owed: tuple[tuple[str, Decimal], ...]  # balances still owed after the window

    @property
    def balances(self) -> bool:
        """Whether earned plus the terms, in order, is paid."""
        total = self.earned
        for _, amount in self.terms:
            total += amount
        return total == self.paid


def reconcile(result: RunResult, payee: str, window: Period) -> Reconciliation:
    """The terms for one payee and period, added in the run's decimal context (as the
    statements add them)."""
    with decimal.localcontext(CONTEXT):
        return _reconcile(result, payee, window)


def _reconcile(result: RunResult, payee: str, window: Period) -> Reconciliation:
    plan = result.plan
    ix = index(result)
    own_statements = ix.statements_of.get(payee, ())
    statements = [s for s in own_statements
                  if window.start <= s.start and s.end <= window.end]
    inside = {s.pay_period for s in statements}
    starts = {s.pay_period: s.start for s in own_statements}
    mine = {ln.id: ln for ln in ix.earnings_of.get(payee, ()) if window.contains(ln.date)}
    dated_in = _pay_period_of(statements)
    earned = sum((ln.amount for ln in mine.values()), ZERO)
    settled: dict[str, Decimal] = defaultdict(lambda: ZERO)  # earning line -> legs so far
    terms: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for p in ix.payouts_of.get(payee, ()):
        if p.kind == "awaiting collection":
            continue
        here = p.pay_period in inside
        if p.kind in ("earning", ADJUSTMENT) and p.earning is not None:
            ours = p.earning in mine
            if ours:
                settled[p.earning] += p.amount
            if p.kind == ADJUSTMENT:
                if here and not ours:
                    terms["adjusted"] += p.amount
                elif ours and not here:  # not paid in the window: no adjustment of its pay
                    terms["corrected"] -= p.amount
                continue
            if ours and not here:
                after = starts.get(p.pay_period, window.end) > window.end
                terms["later" if after else "around"] -= p.amount
            elif here and not ours:
                terms["earlier"] += p.amount
            elif here and dated_in(mine[p.earning].date) not in (None, p.pay_period):
                # Earned in one pay period of the window, paid in a later one: as the
                # statements of those pay periods show it (and run's columns, their sums).
                terms["later"] -= p.amount
                terms["earlier"] += p.amount
            continue
        if not here:
            continue
        if p.kind == ADJUSTMENT:
            terms["adjusted"] += p.amount
        elif p.kind in _OTHER:
            name = _OTHER[p.kind][0 if p.amount >= 0 else 1]
            terms[name] += p.amount
        elif p.kind not in ("forgiven", "advance forgiven"):  # forgiving pays nothing
            terms[p.kind] += p.amount
    awaiting = sum((payable_amount(plan, ln) for ln in mine.values()), ZERO) - sum(
        settled.values(), ZERO)
    around = ", ".join(sorted({s.pay_period for s in own_statements
                               if s.pay_period not in inside and s.start <= window.end
                               and s.end >= window.start}))
    ordered = [
        ("paid in later pay periods", terms.pop("later", ZERO)),
        (f"paid in {around or 'pay periods not inside the period'}", terms.pop("around", ZERO)),
        ("awaiting collection", -awaiting),
        ("earned before, paid now", terms.pop("earlier", ZERO)),
    ]
    for kind in ("holdback", "release", "draw", "recovery", "advance", "advance recovery",
                 "carried"):
        for name in dict.fromkeys(_OTHER[kind]):
            ordered.append((name, terms.pop(name, ZERO)))
    ordered.append(("prior-period adjustments", terms.pop("adjusted", ZERO)))
    ordered.append((CORRECTED, terms.pop("corrected", ZERO)))
    for name in dict.fromkeys(_OTHER[CARRY]):
        ordered.append((name, terms.pop(name, ZERO)))
    terms.pop("rounding to the cent", None)
    ordered += sorted(terms.items())
    paid = sum((s.paid for s in statements), ZERO)
    # Last, what rounding to the cent added (rounded legs and statements), read as what is
    # left between the other terms and the pay, so the identity holds exactly.
    total = earned
    for _, amount in ordered:
        total += amount
    ordered.append(("rounding to the cent", paid - total))
    shown = tuple((name, amount) for name, amount in ordered
                  if amount or name in ("paid in later pay periods", "awaiting collection"))
    owed = []
    if statements:
        last = max(statements, key=lambda s: s.start)
        if last.carried:
            owed.append(("negative pay carried forward", last.carried))
        if last.draw_balance:
            owed.append(("draw balance", last.draw_balance))
        if last.advance_balance:
            owed.append(("advance balance", last.advance_balance))
    ledger_carry = sum((p.amount for p in ix.payouts_of.get(payee, ()) if p.kind == CARRY
                        and starts.get(p.pay_period, window.end) <= window.end), ZERO)
    if ledger_carry:
        owed.append(("prior-period adjustments carried forward", ledger_carry))
    return Reconciliation(earned, paid, shown, tuple(sorted(inside, key=starts.get)),
                          tuple(owed))


def _pay_period_of(statements):
    """The pay period (of `statements`, sorted by start) a day falls in, or None."""
    ordered = sorted(statements, key=lambda s: s.start)
    starts = [s.start for s in ordered]

    def of(day):
        i = bisect.bisect_right(starts, day) - 1
        return ordered[i].pay_period if i >= 0 and day <= ordered[i].end else None
    return of
