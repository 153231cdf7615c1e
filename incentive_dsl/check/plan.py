"""Syntax tree of one plan file -> checked `Plan` (check/model.py) plus diagnostics.

Each rule of plan sanity is a small named function with its own diagnostic code (see
docs/diagnostics.md). A block with an error still yields as much of its spec as can be trusted,
but a file with any error yields no Plan: the interpreter only ever sees clean plans.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

import attrs

from incentive_dsl.check import model as m
from incentive_dsl.check import scope as sc
from incentive_dsl.check import types as ty
from incentive_dsl.check.exprs import (
    COMPENSATION, COMPENSATION_NAMES, EVENT_ACTIVITY, EVENT_DEAL, PERIOD, RATE, ExprChecker,
    check_date, constant, number_as_percent, ratio_as_percent)
from incentive_dsl.check.types import Type
from incentive_dsl.diagnostics import Diagnostic, Related, Severity, closest, error, warning
from incentive_dsl.limits import (
    MAX_CHAIN, date_problem, duration_problem, find_bidi, number_problem)
from incentive_dsl.minor_units import minor_digits
from incentive_dsl.periods import (
    DAYS_PER_UNIT, FREQUENCY_UNIT, MONTH_NAMES, MONTHS_PER_UNIT, UNIT_DAYS, Calendar, month_end,
    not_a_period_message)
from incentive_dsl.span import Span
from incentive_dsl.syntax import nodes as n
from incentive_dsl.syntax.format import expr as show
from incentive_dsl.syntax.parser import BrokenBlock

ONE, ZERO = Decimal(1), Decimal(0)

# The field type a literal value of an example line suggests, to declare an unknown field.
FIELD_TYPE_OF = {n.Text: "text", n.Money: "money", n.Number: "number", n.Percent: "percent",
                 n.DateLit: "date", n.Duration: "duration", n.Bool: "yes or no"}

COMPONENT_BLOCKS = {
    n.CommissionBlock: "commission", n.BonusBlock: "bonus", n.SpiffBlock: "SPIFF",
    n.StageRewardBlock: "stage reward", n.ActivityRewardBlock: "activity reward",
    n.PoolBlock: "team pool", n.OverrideBlock: "manager override",
}
RULE_BLOCKS = {n.QuotaBlock: (sc.QUOTA, "quota"), n.CreditBlock: (sc.CREDIT, "credit"),
               n.MeasureBlock: (sc.MEASURE, "measure"), n.ClawbackBlock: (sc.CLAWBACK, "clawback"),
               **{k: (sc.COMPONENT, v) for k, v in COMPONENT_BLOCKS.items()}}

# A block with syntax errors the rest of a plan can be checked without: a rule block by its
# keyword (whose name is then known), a payout (the plan is checked as if paid monthly) or an
# example. The plan header, fields and compensation blocks declare what every rule reads.
RULE_KEYWORDS = {"quota": RULE_BLOCKS[n.QuotaBlock], "credit": RULE_BLOCKS[n.CreditBlock],
                 "measure": RULE_BLOCKS[n.MeasureBlock], "clawback": RULE_BLOCKS[n.ClawbackBlock],
                 "commission": RULE_BLOCKS[n.CommissionBlock], "bonus": RULE_BLOCKS[n.BonusBlock],
                 "spiff": RULE_BLOCKS[n.SpiffBlock], "pool": RULE_BLOCKS[n.PoolBlock],
                 "override": RULE_BLOCKS[n.OverrideBlock],
                 "stage reward": RULE_BLOCKS[n.StageRewardBlock],
                 "activity reward": RULE_BLOCKS[n.ActivityRewardBlock]}
CHECKED_WITHOUT = ("payout", "example")
# A broken block whose lines, but for these, parsed (`BrokenBlock.salvage`) stands in for it in
# checking the rest: the lines left out, by their first word, declare nothing the rest is read
# with (a rounding mode, the roles paid, the FX basis have defaults and name nothing), or a
# field, which the rest then reads without knowing its type, or the roles, which the rest then
# reads as the roles it names (`roles_lost`), or a list of stages, channels or activities (the
# rest then names any), or the effective range or the version (checked where they are read:
# a file of a plan with syntax errors gives no plan), or a compensation line (the rest reads
# the payee's base salary and target incentive by name, whatever the lines say). Not the
# currency (the plan's amounts may be in several) nor the fiscal year (periods move with it).
# In a rule, a limit, a condition or an accelerator only changes what it pays: the
# rest of the rule is checked without it (a clawback's `when` is its window, which it needs).
SALVAGED_WITHOUT = {"plan": re.compile("applies|rounding|convert|roles|stages|channels|"
                                       "activities|effective|version"),
                    "fields": re.compile(r"(?:deal|payee)\.[A-Za-z_][A-Za-z0-9_]*"),
                    "compensation": re.compile("base|target"),
                    **{keyword: re.compile("cap|floor|when|accelerate|decelerate")
                       for keyword in RULE_KEYWORDS},
                    "clawback": re.compile("cap|floor")}

FIELD_KINDS = {"text": ty.T_TEXT, "number": ty.T_NUMBER, "count": ty.T_COUNT,
               "percent": ty.T_PERCENT, "date": ty.T_DATE, "duration": ty.T_DURATION,
               "yes or no": ty.T_BOOL}
BUILTIN_DEAL = ("amount", "annual_value", "term", "id", "owner", "date", "booked_on", "stage")
BUILTIN_PAYEE = ("id", "role", "team", "territory", "manager", "start", "end")
# An unknown stage or activity is reported once; this many of its other uses are shown as notes.
MAX_USES_SHOWN = 2


def with_pay_unit(tree: n.PlanFile, unit: str) -> n.PlanFile:
    """`tree` with every `per pay period` written as the unit of the plan's pay period, so the
    rules below the syntax see one kind of period name. Period units are only written on the
    lines of a block (quota values, tier tables, schedules, limits, draws, ...), so only those
    are looked at: expressions, most of a tree, never hold one."""
    def resolved(item: n.Statement) -> n.Statement:
        changes = {f: unit for f in ("period", "scope")
                   if getattr(item, f, None) == "pay period"}
        return attrs.evolve(item, **changes) if changes else item

    blocks = []
    for block in tree.blocks:
        items = tuple(resolved(i) for i in block.items)
        same = all(a is b for a, b in zip(items, block.items))
        blocks.append(block if same else attrs.evolve(block, items=items))
    if all(a is b for a, b in zip(blocks, tree.blocks)):
        return tree
    return attrs.evolve(tree, blocks=tuple(blocks))


def source_hash(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8")).hexdigest()


class PlanChecker:
    """Checks one file. `run()` returns the Plan (None if any error) and all diagnostics."""

    def __init__(self, tree: n.PlanFile, source: str,
                 broken: tuple[BrokenBlock, ...] = ()) -> None:
        self.tree = tree
        self.source = source
        self.broken = broken
        self.lost_fields: list[tuple[str, ...]] = []  # (owner, name) of broken field lines
        self.compensation_lost = False  # lines of the compensation block are broken
        self.header_lost: set[str] = set()  # the first words of the header's broken lines
        self.diags: list[Diagnostic] = []
        self.scope = sc.Scope()
        self.currency = "XXX"
        self.calendar = Calendar()
        self.effective: tuple[dt.date, dt.date | None] | None = None
        self.fx_basis = "event date"
        self.applies_to: tuple[str, ...] = ()
        # An `applies to` role that is not declared is reported once; since the role meant is
        # unknown, no role is then reported as one the plan does not apply to.
        self.applies_in_error = False
        # Each component clawbacks reverse: (its name in a reverse line, that clawback's roles,
        # `during` window and name), to find two clawbacks reversing the same lines.
        self.reversed: dict[str, list[tuple[n.Ident, tuple[str, ...], m.Window | None, str]]] = \
            defaultdict(list)
        self.frequency = "monthly"
        # Uses of each stage or activity the header does not declare, keyed by (kind, name).
        self.unknown_subjects: dict[tuple[str, str], list[n.Text]] = defaultdict(list)
        self.used_subjects: set[tuple[str, str]] = set()  # the declared ones something uses

    # ------------------------------------------------------------------ helpers

    def err(self, code: str, node: n.Node | Span, message: str, hint: str | None = None,
            related: Iterable[Related] = ()) -> None:
        span = node if isinstance(node, Span) else node.span
        self.diags.append(error(code, span, message, hint, tuple(related)))

    def warn(self, code: str, node: n.Node | Span, message: str, hint: str | None = None) -> None:
        span = node if isinstance(node, Span) else node.span
        self.diags.append(warning(code, span, message, hint))

    def const(self, e: n.Expr, want: str, what: str) -> Decimal | None:
        """A fixed value of kind `want` (money means the plan currency), or a diagnostic."""
        value = constant(e)
        if value is None:
            t = self.x.infer(e, PERIOD)
            if not t.unknown:
                self.err("E-CONSTANT", e, f"{what} must be a fixed value, not '{show(e)}'",
                         "write a number with its unit, e.g. 10,000 USD or 120%")
            return None
        amount, t = value
        if want == "money-or-count" and t.kind in (ty.NUMBER, ty.COUNT):
            return amount
        if want in (ty.MONEY, "money-or-count"):
            if t.kind != ty.MONEY:
                hint = f"write {show(e)} {self.currency}" if t.numeric else \
                    f"write a fixed amount, e.g. 10,000 {self.currency}" \
                    if t.kind == ty.PERCENT else None
                self.err("E-UNIT", e, f"{what} must be money in {self.currency}, but this is {t}",
                         hint)
                return None
            if t.currency != self.currency:
                self.err("E-CURRENCY-MIX", e, f"{what} must be in the plan currency "
                         f"{self.currency}, but this is {t}",
                         f"write the amount in {self.currency}")
                return None
            return amount
        if want == ty.PERCENT and t.kind != ty.PERCENT:
            hint = number_as_percent(e) if t.numeric else None
            self.err("E-UNIT", e, f"{what} must be a percentage, but this is {t}", hint)
            return None
        if want == ty.NUMBER and not t.numeric:
            self.err("E-UNIT", e, f"{what} must be a plain number, but this is {t}")
            return None
        if want == "key" and t.kind not in (ty.PERCENT, ty.MONEY, ty.NUMBER, ty.COUNT):
            self.err("E-UNIT", e, f"{what} must be a percentage, money or a number, not {t}")
            return None
        return amount

    def key_kind(self, name: str, node: n.Node) -> Type:
        sym = self.scope.lookup(name, sc.MEASURE, sc.CREDIT)
        if sym is None:
            self.err("E-NAME", node, f"unknown measure or credit '{name}'",
                     sc.suggest(name, self.scope.names(sc.MEASURE, sc.CREDIT)))
            return ty.UNKNOWN
        if sym.kind == sc.CREDIT:
            return ty.money(self.currency)
        return self.x.measure_types.get(name, ty.UNKNOWN)

    def bound_unit_ok(self, key: Type, value_node: n.Expr, what: str,
                      key_name: str = "the table's key") -> Decimal | None:
        value = constant(value_node)
        if value is None:
            self.err("E-CONSTANT", value_node, f"{what} must be a fixed value, not "
                     f"'{show(value_node)}'")
            return None
        amount, t = value
        if key.unknown:
            return amount
        ok = (t.kind == key.kind and (t.kind != ty.MONEY or t.currency == key.currency)) or \
            (t.numeric and key.numeric)
        if not ok:
            example = {ty.PERCENT: "100%", ty.MONEY: f"250,000 {self.currency}"}.get(key.kind, "10")
            hint = (ratio_as_percent(value_node) if t.numeric and key.kind == ty.PERCENT else
                    f"write {show(value_node)} {key.currency}"
                    if t.numeric and key.kind == ty.MONEY else
                    f"write bounds in the key's unit, e.g. {example}")
            self.err("E-TIER-KEY-UNIT", value_node,
                     f"{what} is {t}, but {key_name} is {key}", hint)
            return None
        return amount

    def roles(self, ids: tuple[n.Ident, ...]) -> tuple[str, ...]:
        out = []
        for r in ids:
            if r.text not in self.scope.roles:
                self.err("E-ROLE", r, f"unknown role '{r.text}'",
                         sc.suggest(r.text, self.scope.roles) or
                         f"declare it in the plan header: roles ..., {r.text}")
            elif self.applies_to and not (self.applies_in_error or self.roles_lost) and \
                    r.text not in self.applies_to:  # (without the roles, `applies` is unchecked)
                self.err("E-ROLE", r, f"the plan does not apply to role '{r.text}'",
                         f"add it to 'applies to role {', '.join(self.applies_to)}'")
            out.append(r.text)
        return tuple(out)

    def window(self, r: n.DateRange, keyword: str) -> m.Window | None:
        """`keyword` is the word the range follows on its line, to show the fix in full."""
        if not check_date(r.start, self.diags) or (r.end and not check_date(r.end, self.diags)):
            return None
        start, end = r.start.value, r.end.value if r.end else None
        if end is not None and end < start:
            self.err("E-RANGE", r, f"the range ends ({end}) before it starts ({start})",
                     f"a range runs from its first day to its last, both included: write "
                     f"{keyword} {r.end.raw} to {r.start.raw}")
            return None
        return m.Window(start=start, end=end)

    def single(self, items: tuple[n.Statement, ...], cls: type, what: str) -> list:
        found = [i for i in items if isinstance(i, cls)]
        for extra in found[1:]:
            self.err("E-REPEATED", extra, f"{what} is given twice in this block",
                     related=[Related(found[0].span, "first given here")],
                     hint="keep one line")
        return found

    @property
    def roles_lost(self) -> bool:
        """The header's roles line is broken (see `named_roles`)."""
        return "roles" in self.header_lost

    def require(self, block: n.Block, found: list, what: str, example: str) -> bool:
        if not found and isinstance(block, n.PlanBlock) and what.split()[0] in self.header_lost:
            return False  # written, on a broken line: its syntax error says so
        if not found:
            self.err("E-MISSING", head(block), f"{self.block_title(block)} has no {what}",
                     f"add a line such as: {example}")
            return False
        return True

    @staticmethod
    def block_title(block: n.Block) -> str:
        if isinstance(block, n.PlanBlock):
            return f"the plan header {block.name.raw}"
        if isinstance(block, n.RuleBlock):
            kind = RULE_BLOCKS.get(type(block), (None, "block"))[1]
            return f"{kind} '{block.name.text}'"
        return "the block"

    # ------------------------------------------------------------------ limits

    def check_limits(self) -> bool:
        """Every literal within the bounds of incentive_dsl/limits.py (digits, years, durations);
        False, with an E-RANGE error on each literal beyond them, if any is not."""
        ok = True
        for node in n.walk(self.tree):
            problem = None
            if isinstance(node, (n.Number, n.Percent, n.Multiplier)):
                problem = number_problem(node.raw.rstrip("%x"))
                what = "this number"
            elif isinstance(node, n.DateLit):
                try:
                    problem = date_problem(node.value)
                except ValueError:
                    continue  # not a calendar date: reported as E-DATE by the checks
                what = f"the date {node.raw}"
            elif isinstance(node, n.Duration) and not number_problem(node.count.raw):
                days = node.count.value * DAYS_PER_UNIT[node.unit.rstrip("s")]
                problem = duration_problem(days)
                what = "this duration"
            if problem:
                ok = False
                self.err("E-RANGE", node, f"{what} {problem}",
                         "see the limits in docs/language.md")
        return ok

    def check_bidi(self) -> None:
        """Characters that reorder text on screen make a plan read differently than it runs."""
        for line, column, name in find_bidi(self.source):
            self.warn("W-BIDI", Span(self.tree.path, line, column, line, column + 1),
                      f"this line contains the invisible bidirectional control character "
                      f"{name}: the text may be shown in a different order than it is read",
                      "delete the character (a text editor may show it only as a gap)")

    # ------------------------------------------------------------------ run

    def run(self) -> tuple[m.Plan | None, list[Diagnostic]]:
        salvaged = [b.salvage for b in self.broken if b.salvage is not None and
                    b.keyword in SALVAGED_WITHOUT and (b.name or b.keyword not in RULE_KEYWORDS)
                    and all(SALVAGED_WITHOUT[b.keyword].fullmatch(word) for word in b.lost)]
        # Fields declared on broken lines: known, of no known type (no error where read).
        self.lost_fields = [tuple(word.split(".")) for b in self.broken
                            if b.salvage in salvaged and b.keyword == "fields"
                            for word in b.lost]
        self.compensation_lost = any(b.salvage in salvaged and b.keyword == "compensation"
                                     for b in self.broken)
        self.header_lost = {word for b in self.broken if b.salvage in salvaged and
                            b.keyword == "plan" for word in b.lost}
        if not all(b.keyword in CHECKED_WITHOUT or RULE_KEYWORDS.get(b.keyword) and b.name
                   or b.salvage in salvaged for b in self.broken):
            return None, self.diags  # the rest could not be checked without false errors
        if salvaged:
            self.tree = attrs.evolve(self.tree, blocks=tuple(sorted(
                (*self.tree.blocks, *salvaged), key=lambda b: b.span.line)))
        self.check_bidi()
        if not self.check_limits():
            return None, self.diags  # nothing beyond the limits reaches the other checks
        blocks = self.tree.blocks
        plans = [b for b in blocks if isinstance(b, n.PlanBlock)]
        if not plans:
            where = blocks[0].span if blocks else Span.point(self.tree.path, 1, 1)
            self.err("E-PLAN", where, "this file has no plan header",
                     'start the file with: plan "Name" and its currency and effective lines')
            return None, self.diags
        for extra in plans[1:]:
            self.err("E-PLAN", extra, "a file holds one plan; this is a second plan header",
                     "put each plan (or plan version) in its own file",
                     [Related(plans[0].span, "the first plan header is here")])
        header = self.check_header(plans[0])
        payouts = [b for b in blocks if isinstance(b, n.PayoutBlock)]
        self.check_pay_periods(payouts[0] if payouts else None)
        if header is not None:
            header["calendar"] = self.calendar
        self.tree = with_pay_unit(self.tree, FREQUENCY_UNIT[self.frequency])
        blocks = self.tree.blocks
        payouts = [b for b in blocks if isinstance(b, n.PayoutBlock)]
        comp_blocks = [b for b in blocks if isinstance(b, n.CompensationBlock)]
        self.declare(blocks, compensation=bool(comp_blocks))
        self.declare_broken()
        fields = self.check_fields([b for b in blocks if isinstance(b, n.FieldsBlock)])
        quota_kinds = {b.name.text: self.quota_kind(b) for b in blocks
                       if isinstance(b, n.QuotaBlock)}
        self.x = ExprChecker(
            scope=self.scope, currency=self.currency, calendar=self.calendar,
            deal_fields=self.deal_fields(fields), payee_fields=self.payee_fields(fields),
            activity_fields={"kind": Type(ty.ENUM, values=self.scope.activities,
                                          name="activity.kind") if self.scope.activities
                             else ty.T_TEXT, "date": ty.T_DATE, "id": ty.T_TEXT},
            measure_types={}, quota_types=quota_kinds, diags=self.diags,
            compensation=bool(comp_blocks))
        measures = self.check_measures([b for b in blocks if isinstance(b, n.MeasureBlock)])
        quotas, credits, components, clawbacks, examples = [], [], [], [], []
        payout = m.PayoutSpec()
        for extra in payouts[1:]:
            self.err("E-REPEATED", extra, "the plan has two payout blocks",
                     related=[Related(payouts[0].span, "the first is here")])
        for extra in comp_blocks[1:]:
            self.err("E-REPEATED", head(extra), "the plan has two compensation blocks",
                     "state every base salary and target incentive in one block",
                     [Related(head(comp_blocks[0]), "the first is here")])
        compensation = self.check_compensation(comp_blocks[0]) if comp_blocks else ()
        for block in blocks:
            if isinstance(block, n.QuotaBlock):
                quotas.append(self.check_quota(block))
            elif isinstance(block, n.CreditBlock):
                credits.append(self.check_credit(block))
            elif type(block) in COMPONENT_BLOCKS:
                components.append(getattr(self, "check_" + type(block).__name__)(block))
            elif isinstance(block, n.ClawbackBlock):
                clawbacks.append(self.check_clawback(block))
            elif isinstance(block, n.PayoutBlock) and block is payouts[0]:
                payout = self.check_payout(block)
            elif isinstance(block, n.ExampleBlock):
                twin = next((e for e in examples if e.name == block.name.value), None)
                if twin is not None:
                    self.err("E-DUPLICATE", block.name, f"two examples are named {block.name.raw}",
                             "give each example its own name: test results cite it",
                             [Related(twin.span, "the first one")])
                examples.append(self.check_example(block))
        self.report_unknown_subjects()
        self.check_component_order(blocks)
        self.check_unused(blocks)
        if clawbacks:
            self.check_cancelled_credit(blocks, credits)
        if not examples and not any(b.keyword == "example" for b in self.broken):
            self.warn("W-NO-EXAMPLE", plans[0], f"plan {plans[0].name.raw} has no worked example",
                      "add an example block with a payee, a deal and an expected payout; "
                      "`incentive test` runs it")
        if any(d.severity is Severity.ERROR for d in self.diags) or header is None or \
                self.broken:
            return None, self.diags
        plan = m.Plan(
            **header, quotas=tuple(quotas), credits=tuple(credits), measures=tuple(measures),
            components=tuple(components), clawbacks=tuple(clawbacks), payout=payout,
            compensation=compensation, examples=tuple(examples), fields=tuple(fields.values()),
            stages=self.scope.stages, channels=self.scope.channels,
            activities=self.scope.activities)
        return plan, self.diags

    def check_pay_periods(self, payout: n.PayoutBlock | None) -> None:
        """The pay frequency, read before the rules: `per pay period` means its pay period,
        and a bi-weekly calendar counts fortnights from the stated day."""
        freq = next((i for i in payout.items if isinstance(i, n.Frequency)), None) \
            if payout is not None else None
        if freq is None:
            return
        start = None
        if freq.frequency == "biweekly":
            if freq.start is None:
                self.err("E-PAY-PERIOD", freq, "bi-weekly pay periods are counted from a stated "
                         "day, and this line states none",
                         f"write the first day of one pay period: paid biweekly from "
                         f"{self.effective[0] if self.effective else '2027-01-04'}")
                return  # the rules are checked as if paid monthly
            if not check_date(freq.start, self.diags):
                return
            start = freq.start.value
        elif freq.start is not None:
            self.err("E-PAY-PERIOD", freq.start, f"{freq.frequency} pay periods start on fixed "
                     "days; only bi-weekly ones are counted from a stated day",
                     f"write: paid {freq.frequency}")
        self.frequency = freq.frequency
        self.calendar = Calendar(self.calendar.fiscal_start, FREQUENCY_UNIT[freq.frequency],
                                 start)

    # ------------------------------------------------------------------ header and names

    def check_header(self, block: n.PlanBlock) -> dict | None:
        items = block.items
        for cls, what in ((n.CurrencyDecl, "the currency"), (n.EffectiveDecl, "the effective range"),
                          (n.VersionDecl, "the version"), (n.RolesDecl, "the roles"),
                          (n.AppliesDecl, "'applies to'"), (n.FiscalDecl, "the fiscal year"),
                          (n.RoundingDecl, "the rounding"), (n.FxDecl, "the conversion rule")):
            self.single(items, cls, what)
        for kind in ("stages", "channels", "activities"):
            self.single(tuple(i for i in items if isinstance(i, n.VocabularyDecl)
                              and i.kind == kind), n.VocabularyDecl, f"the {kind}")
        currency = next((i for i in items if isinstance(i, n.CurrencyDecl)), None)
        effective = next((i for i in items if isinstance(i, n.EffectiveDecl)), None)
        ok = True
        if currency is None:
            ok = self.require(block, [], "currency line", "currency USD")
            # Go on with the currency the plan's amounts are written in, so one missing line
            # does not turn every amount into a currency error: the most used one (the first
            # amount may be the odd one out), the earliest on a tie.
            used = [x.currency for x in n.walk(self.tree) if isinstance(x, n.Money)]
            self.currency = max(used, key=used.count) if used else "USD"
        else:
            self.currency = currency.code.text
        if effective is None:
            ok = self.require(block, [], "effective line", "effective 2027-01-01 to 2027-12-31")
        else:
            window = self.window(effective.range, "effective")
            if window is None:
                ok = False
            else:
                self.effective = (window.start, window.end)
        fiscal = next((i for i in items if isinstance(i, n.FiscalDecl)), None)
        if fiscal is not None:
            self.calendar = Calendar(MONTH_NAMES.index(fiscal.month.text) + 1)
        declared = next((i for i in items if isinstance(i, n.RolesDecl)), None)
        applies = next((i for i in items if isinstance(i, n.AppliesDecl)), None)
        for decl in (declared, applies):
            if decl is None:
                continue
            seen: dict[str, Span] = {}
            for r in decl.roles:
                if r.text in seen:
                    self.err("E-DUPLICATE", r, f"role '{r.text}' is listed twice",
                             "list each role once", [Related(seen[r.text], "first listed here")])
                seen[r.text] = r.span
                self.scope.roles.setdefault(r.text, r.span)
        if declared is not None and applies is not None:
            for r in applies.roles:
                if all(r.text != d.text for d in declared.roles):
                    self.applies_in_error = True
                    self.err("E-ROLE", r, f"role '{r.text}' is not among the plan's roles",
                             sc.suggest(r.text, [d.text for d in declared.roles]) or
                             f"add it to: roles {', '.join(d.text for d in declared.roles)}")
        if self.roles_lost:
            for r in self.named_roles():
                self.scope.roles.setdefault(r.text, r.span)
        self.applies_to = tuple(r.text for r in applies.roles) if applies else ()
        for v in (i for i in items if isinstance(i, n.VocabularyDecl)):
            values = tuple(t.value for t in v.values)
            for i, t in enumerate(v.values):
                if t.value in values[:i]:
                    first = v.values[values.index(t.value)]
                    self.err("E-DUPLICATE", t, f"{t.raw} is listed twice in {v.kind}",
                             "list each value once", [Related(first.span, "first listed here")])
            setattr(self.scope, v.kind, tuple(dict.fromkeys(values)))
        rounding = next((i for i in items if isinstance(i, n.RoundingDecl)), None)
        fx = next((i for i in items if isinstance(i, n.FxDecl)), None)
        self.fx_basis = fx.basis if fx else "event date"
        version = next((i for i in items if isinstance(i, n.VersionDecl)), None)
        if not ok:
            return None
        return dict(
            name=block.name.value, path=self.tree.path, source_hash=source_hash(self.source),
            span=block.span, currency=self.currency, effective_start=self.effective[0],
            effective_end=self.effective[1], calendar=self.calendar,
            version=version.label.value if version else None,
            effective_span=effective.span,
            roles=tuple(self.scope.roles), applies_to=self.applies_to,
            rounding=m.Rounding(mode=rounding.mode, point=rounding.point)
            if rounding else m.Rounding(),
            fx_basis=self.fx_basis)

    def declare(self, blocks: tuple[n.Block, ...], compensation: bool = False) -> None:
        for block in blocks:
            kind = RULE_BLOCKS.get(type(block))
            if kind is None:
                continue
            name = block.name
            table = self.scope.table(kind[0])
            if compensation and table is self.scope.rules and name.text in COMPENSATION_NAMES:
                self.err("E-DUPLICATE", name, f"the name '{name.text}' is the payee's "
                         f"{COMPENSATION_NAMES[name.text]}, stated in the compensation block",
                         "choose another name: in a rule, this name reads the compensation "
                         "block")
                continue
            previous = table.get(name.text)
            if previous is not None:
                self.err("E-DUPLICATE", name, f"the name '{name.text}' is already used by the "
                         f"{previous.detail} on line {previous.span.line}",
                         "every credit, measure and rule needs its own name (quotas have "
                         "their own names, written 'quota NAME')",
                         [Related(previous.span, f"'{name.text}' is first declared here")])
                continue
            table[name.text] = sc.Symbol(kind[0], name.text, name.span, kind[1])

    def declare_broken(self) -> None:
        """The names the blocks with syntax errors define are known, and the names their
        text may use count as used: their absence is no error of the rest of the plan."""
        for b in self.broken:
            for keyword, name in ((b.keyword, b.name), *b.nested):
                kind = RULE_KEYWORDS.get(keyword)
                if kind is not None and name not in self.scope.table(kind[0]):
                    self.scope.table(kind[0])[name] = sc.Symbol(
                        kind[0], name, Span.point(self.tree.path, b.line, 1), kind[1])
        words = frozenset().union(*(b.words for b in self.broken))
        for sym in [*self.scope.rules.values(), *self.scope.quotas.values()]:
            sym.used = sym.used or sym.name in words

    def check_fields(self, blocks: list[n.FieldsBlock]) -> dict[tuple[str, str], m.FieldSpec]:
        out: dict[tuple[str, str], m.FieldSpec] = {}
        spans: dict[tuple[str, str], Span] = {}
        for block in blocks:
            for f in block.items:
                key = (f.owner, f.name.text)
                builtin = BUILTIN_DEAL if f.owner == "deal" else BUILTIN_PAYEE
                if f.name.text in builtin:
                    self.err("E-DUPLICATE", f.name, f"{f.owner}.{f.name.text} is a built-in field",
                             "choose another name; built-in fields need no declaration")
                    continue
                if key in out:
                    self.err("E-DUPLICATE", f.name, f"{f.owner}.{f.name.text} is declared twice",
                             related=[Related(spans[key], "first declared here")])
                    continue
                options = tuple(o.value for o in f.options)
                out[key] = m.FieldSpec(owner=f.owner, name=f.name.text, kind=f.kind,
                                       options=options)
                spans[key] = f.name.span
        return out

    def field_type(self, f: m.FieldSpec) -> Type:
        if f.kind == "money":
            return ty.money(self.currency)
        if f.kind == "one of":
            return Type(ty.ENUM, values=f.options, name=f"{f.owner}.{f.name}")
        return FIELD_KINDS[f.kind]

    def deal_fields(self, fields) -> dict[str, Type]:
        stage = (Type(ty.ENUM, values=self.scope.stages, name="deal.stage")
                 if self.scope.stages else ty.T_TEXT)
        out = {"amount": ty.money(self.currency), "annual_value": ty.money(self.currency),
               "term": ty.T_DURATION, "id": ty.T_TEXT, "owner": ty.T_TEXT, "date": ty.T_DATE,
               "booked_on": ty.T_DATE, "stage": stage}
        out.update({f.name: self.field_type(f) for f in fields.values() if f.owner == "deal"})
        out.update({name: ty.UNKNOWN for owner, name in self.lost_fields
                    if owner == "deal" and name not in out})
        return out

    def named_roles(self) -> list[n.Ident]:
        """The roles the file names outside the plan header (rules, compensation, examples):
        with the header's roles line broken, the roles the rest is checked with, so that none
        of them is reported unknown for the broken line's sake."""
        out = []
        for node in n.walk(self.tree):
            if isinstance(getattr(node, "roles", None), tuple):
                out += node.roles
            elif isinstance(node, n.SplitRule) and node.mode == "by role":
                out += (s.name for s in node.shares)
            elif isinstance(node, n.ExamplePayee):
                out += (a.value for a in node.attrs if a.key == "role")
        return out

    def payee_fields(self, fields) -> dict[str, Type]:
        # With the roles line broken, a role compared in an expression may be one the file
        # names nowhere else: read as text, not as one of the roles found.
        role = ty.T_TEXT if self.roles_lost else Type(ty.ENUM, values=tuple(self.scope.roles),
                                                      name="role")
        out = {"id": ty.T_TEXT, "role": role,
               "team": ty.T_TEXT, "territory": ty.T_TEXT, "manager": ty.T_TEXT,
               "start": ty.T_DATE, "end": ty.T_DATE}
        out.update({f.name: self.field_type(f) for f in fields.values() if f.owner == "payee"})
        out.update({name: ty.UNKNOWN for owner, name in self.lost_fields
                    if owner == "payee" and name not in out})
        return out

    def check_unused(self, blocks: tuple[n.Block, ...]) -> None:
        if any(d.is_error for d in self.diags):
            return  # a misspelt reference would make its target look unused: no cascades
        for sym in [*self.scope.rules.values(), *self.scope.quotas.values()]:
            if not sym.used and sym.kind in (sc.QUOTA, sc.CREDIT, sc.MEASURE):
                self.warn("W-UNUSED", sym.span, f"the {sym.detail} '{sym.name}' is never used",
                          "remove it, or use it in a measure or a rule")

    # ------------------------------------------------------------------ components reading components

    def check_component_order(self, blocks: tuple[n.Block, ...]) -> None:
        """A rule may read what another rule pays (`measure club_earned = club`) only if that
        rule is computed first: per-event rules (stage and activity rewards, SPIFFs,
        commissions), then bonuses, pools and overrides, each kind in file order."""
        kinds = (n.StageRewardBlock, n.ActivityRewardBlock, n.SpiffBlock, n.CommissionBlock,
                 n.BonusBlock, n.PoolBlock, n.OverrideBlock)
        comps = [b for b in blocks if type(b) in kinds]
        rank = {b.name.text: (kinds.index(type(b)), i) for i, b in enumerate(comps)}
        measures = {b.name.text: b for b in blocks if isinstance(b, n.MeasureBlock)}

        def reads(node: n.Node) -> dict[str, n.Node]:
            """Components a node reads, directly or through measures: name -> where."""
            found: dict[str, n.Node] = {}
            todo, seen = [(node, None)], set()
            while todo:
                expr, via = todo.pop()
                for x in n.walk(expr):
                    if not isinstance(x, (n.Ref, n.TeamRef)):
                        continue
                    name = x.name.text
                    if name in rank:
                        found.setdefault(name, via or x)
                    elif name in measures and name not in seen:
                        seen.add(name)
                        todo.append((measures[name].expr, via or x))
            return found

        for b in comps:
            # Everything the block reads: its expressions (one walk) and its keys (names).
            found = reads(b)
            for i in n.walk(b):
                key = getattr(i, "key", None)
                if isinstance(i, (n.TierTable, n.Accelerator, n.StepSchedule,
                                  n.LinearSchedule)) and key is not None:
                    for name, where in reads(n.Ref(name=key, span=key.span)).items():
                        found.setdefault(name, where)
            own = b.name.text
            late = [(name, where) for name, where in found.items() if rank[name] >= rank[own]
                    and not (name == own and where.name.text == own)]  # direct: E-CYCLE
            for name, where in late[:1]:  # one report per rule
                if name == own:
                    self.err("E-CYCLE", where, f"'{own}' depends on its own earnings through "
                             f"the measure '{where.name.text}'",
                             "a rule's condition or rate cannot use what the rule itself pays")
                    continue
                via = f" through the measure '{where.name.text}'" \
                    if where.name.text != name else ""
                same_kind = rank[name][0] == rank[own][0]
                self.err("E-ORDER", where, f"'{own}' reads what '{name}' pays{via}, but "
                         f"'{name}' is computed after it",
                         f"move '{name}' above '{own}' in the file: rules of one kind are "
                         "computed in file order" if same_kind else
                         "rules are computed in this order: stage and activity rewards, SPIFFs, "
                         "commissions, then bonuses, pools and overrides (each kind in file "
                         "order); a rule can read only the rules before it")

    # ------------------------------------------------------------------ measures

    def check_measures(self, blocks: list[n.MeasureBlock]) -> list[m.MeasureSpec]:
        # A measure whose name was already taken (E-DUPLICATE) is not checked again.
        by_name = {b.name.text: b for b in blocks
                   if self.scope.rules.get(b.name.text) is not None
                   and self.scope.rules[b.name.text].span == b.name.span}
        order = self.measure_order(by_name)
        specs = {}
        for name in order:
            b = by_name[name]
            t = self.x.infer(b.expr, PERIOD)
            if not t.unknown and t.kind not in (ty.MONEY, ty.PERCENT, ty.COUNT, ty.NUMBER):
                self.err("E-UNIT", b.expr, f"measure '{name}' must be an amount, a percentage "
                         f"or a count, but it is {t}")
                t = ty.UNKNOWN
            self.x.measure_types[name] = t
            specs[name] = m.MeasureSpec(name=name, label=b.label.value if b.label else name,
                                        expr=b.expr, kind=t.kind, span=b.span)
        return [specs[b.name.text] for b in blocks if b.name.text in specs]

    def measure_order(self, by_name: dict[str, n.MeasureBlock]) -> list[str]:
        """Measures in dependency order; a cycle is an error (evaluation must terminate)."""
        deps = {name: [r for r in refs(b.expr) if r in by_name] for name, b in by_name.items()}
        order: list[str] = []
        state: dict[str, int] = {}
        cyclic: set[str] = set()
        for root in by_name:
            stack = [(root, iter(deps[root]))]
            if state.get(root):
                continue
            state[root] = 1
            while stack:
                name, it = stack[-1]
                nxt = next(it, None)
                if nxt is None:
                    stack.pop()
                    state[name] = 2
                    order.append(name)
                elif state.get(nxt) == 1:
                    names = [s for s, _ in stack]
                    cycle = names[names.index(nxt):] + [nxt]
                    self.err("E-CYCLE", by_name[name].name,
                             f"measures depend on each other in a circle: {' -> '.join(cycle)}",
                             "a measure cannot be defined in terms of itself")
                    cyclic.update(cycle)
                elif not state.get(nxt):
                    state[nxt] = 1
                    stack.append((nxt, iter(deps[nxt])))
        # Each measure is evaluated inside the measures it reads: a bounded chain keeps that
        # nesting (and the Python stack) bounded.
        depth: dict[str, int] = {}
        for name in order:
            depth[name] = 1 + max((depth.get(d, 0) for d in deps[name] if d not in cyclic),
                                  default=0)
            if depth[name] == MAX_CHAIN + 1:
                self.err("E-DEPTH", by_name[name].name,
                         f"measure '{name}' is defined through a chain of more than "
                         f"{MAX_CHAIN} measures", "define it more directly, from fewer measures")
        # Measures on a cycle are left unchecked (their type is unknown); the others are checked.
        return [o for o in order if o not in cyclic]

    # ------------------------------------------------------------------ quotas

    def quota_kind(self, b: n.QuotaBlock) -> Type:
        for item in b.items:
            if isinstance(item, n.QuotaValue):
                c = constant(item.amount)
                if c is not None and c[1].kind == ty.MONEY:
                    # A value in another currency is reported on its own line; measures see
                    # the quota in the plan currency, so the error does not cascade.
                    return ty.money(self.currency)
                if c is not None:
                    return ty.T_COUNT
        return ty.money(self.currency)

    def check_quota(self, b: n.QuotaBlock) -> m.QuotaSpec:
        values, kinds = [], set()
        for v in (i for i in b.items if isinstance(i, n.QuotaValue)):
            amount = self.const(v.amount, "money-or-count", "a quota")
            window = self.window(v.valid, "from") if v.valid else None
            c = constant(v.amount)
            if c is not None:
                kinds.add(ty.MONEY if c[1].kind == ty.MONEY else ty.COUNT)
            if amount is not None and amount < 0:
                self.err("E-RANGE", v.amount, "a quota cannot be negative")
            if v.period not in MONTHS_PER_UNIT:
                self.err("E-PERIOD-FIT", v, f"a quota is stated per month, quarter, half or year, "
                         f"not per {self.frequency} pay period",
                         "state it per month or longer: a pay period's quota is the days of "
                         "each month it covers")
            values.append(m.QuotaValueSpec(
                amount=amount or ZERO, per=v.period, roles=self.roles(v.roles),
                start=window.start if window else None, end=window.end if window else None,
                span=v.span))
        if len(kinds) > 1:
            self.err("E-UNIT", b.name, f"quota '{b.name.text}' mixes money and counts",
                     "a quota is either an amount of money or a count, for every role")
        self.check_quota_overlaps(values)
        forecasts = self.single(b.items, n.QuotaForecast, "a forecast")
        from_data = self.single(b.items, n.QuotaFromData, "'from data'")
        prorations = self.single(b.items, n.QuotaProration, "the proration")
        ramps = self.single(b.items, n.QuotaRamp, "the ramp")
        normalize = self.single(b.items, n.QuotaNormalize, "the normalisation")
        if not values and not forecasts and not from_data:
            self.require(b, [], "value", "250,000 USD per quarter  (or: from data, or: forecast ...)")
        if forecasts and values:
            self.err("E-QUOTA", forecasts[0], "a quota is either forecast or given as values, "
                     "not both", related=[Related(values[0].span, "a value is given here")])
        forecast = self.check_forecast(b, forecasts[0]) if forecasts else None
        ramp = self.check_ramp(ramps[0]) if ramps else ()
        return m.QuotaSpec(
            name=b.name.text, label=b.label.value if b.label else b.name.text, span=b.span,
            kind=(kinds.pop() if len(kinds) == 1 else ty.MONEY), values=tuple(values),
            from_data=bool(from_data), forecast=forecast,
            proration=prorations[0].basis if prorations else None, ramp=ramp,
            normalize=bool(normalize))

    def check_quota_overlaps(self, values: list[m.QuotaValueSpec]) -> None:
        """Two values for the same role in force on the same day would make the quota
        ambiguous. A value for named roles overrides one without roles, so only values of the
        same kind can clash."""
        self.check_overlaps(values, "E-QUOTA-OVERLAP", "two quota values", "value")

    def check_overlaps(self, values: list, code: str, what: str, noun: str) -> None:
        """Dated, role-specific values (quota values, compensation lines: each with `roles`,
        `start`, `end` and `span`) of which at most one may apply to a role on a day; one
        for named roles overrides one without roles, so only values of the same kind clash."""
        # One sweep per role over the values sorted by start (not every pair: a block of
        # thousands of equal lines must not give millions of errors): each value that starts
        # inside an earlier-starting one is reported once, with the one it overlaps.
        lanes: dict[tuple[bool, str], list[int]] = defaultdict(list)
        for i, v in enumerate(values):
            for role in v.roles or ("every role",):
                lanes[(bool(v.roles), role)].append(i)
        clash: dict[int, int] = {}
        for lane in lanes.values():
            lane.sort(key=lambda i: (values[i].start or dt.date.min, i))
            reach = None  # the value seen so far that ends last
            for i in lane:
                v = values[i]
                if reach is not None and (v.start or dt.date.min) <= (
                        values[reach].end or dt.date.max):
                    clash.setdefault(i, reach)
                if reach is None or (v.end or dt.date.max) > (values[reach].end or dt.date.max):
                    reach = i
        for i in sorted(clash):
            a, b = values[clash[i]], values[i]
            shared = (set(a.roles) & set(b.roles)) if a.roles else {"every role"}
            self.err(code, b.span, f"{what} apply to {', '.join(sorted(shared))} at the "
                     "same time", f"give each {noun} its own roles or its own "
                     "'from DATE to DATE' range",
                     [Related(a.span, f"the other {noun} is here")])

    def check_forecast(self, b: n.QuotaBlock, f: n.QuotaForecast) -> m.ForecastSpec | None:
        count = int(f.count.value) if f.count.value == int(f.count.value) else 0
        unit = f.unit.rstrip("s")
        need = {"trailing average": 1, "linear trend": 2}.get(f.method)
        if need is None:  # seasonal naive needs the same period one year back
            need = 12 // MONTHS_PER_UNIT[unit]
        if count < 1:
            self.err("E-FORECAST", f.count, "the history must be a whole number of periods, "
                     "at least 1", f"e.g. over {max(need, 4)} {unit}s")
            return None
        if count < need:
            self.err("E-FORECAST-HISTORY", f, f"a {f.method} forecast needs at least {need} "
                     f"{unit}s of history, but this one looks at {count}",
                     f"write: over {need} {unit}s")
        sym = self.scope.lookup(f.measure.text, sc.MEASURE, sc.CREDIT)
        if sym is None:
            self.err("E-NAME", f.measure, f"unknown measure or credit '{f.measure.text}'",
                     sc.suggest(f.measure.text, self.scope.names(sc.MEASURE, sc.CREDIT)))
            return None
        if sym.kind == sc.MEASURE and b.name.text in quota_refs_of(f.measure.text, self.tree):
            self.err("E-CYCLE", f.measure, f"quota '{b.name.text}' is forecast from "
                     f"'{f.measure.text}', which itself uses quota '{b.name.text}'",
                     "forecast from a credit or a measure that does not use this quota")
            return None
        uplift = f.uplift.value if f.uplift is not None else ONE
        return m.ForecastSpec(method=f.method, measure=f.measure.text, count=count, unit=unit,
                              uplift=uplift, span=f.span)

    def check_ramp(self, r: n.QuotaRamp) -> tuple[Decimal, ...]:
        shares: list[Decimal] = []
        for i, step in enumerate(r.steps, start=1):
            if step.month.value != i:
                self.err("E-RAMP", step.month, f"ramp steps must be months 1, 2, 3 … in order; "
                         f"expected month {i} here")
                return ()
            shares.append(step.share.value)
        return tuple(shares)

    # ------------------------------------------------------------------ credits

    def trigger(self, t: n.Trigger) -> m.TriggerSpec:
        ctx = EVENT_ACTIVITY if t.kind == "activity" else EVENT_DEAL
        self.subject(t.kind, t.subject)
        if t.where is not None:
            self.x.expect(t.where, ctx, ty.BOOL, "the 'where' condition")
        return m.TriggerSpec(kind=t.kind, event=t.event,
                             subject=t.subject.value if t.subject else None, where=t.where,
                             span=t.span)

    def subject(self, kind: str, text: n.Text | None) -> None:
        if text is None:
            return
        declared = self.scope.stages if kind == "stage" else self.scope.activities
        if ("stages" if kind == "stage" else "activities") in self.header_lost:
            return  # its list is on a broken line: any name may be in it
        if text.value not in declared:
            self.unknown_subjects[(kind, text.value)].append(text)
        else:
            self.used_subjects.add((kind, text.value))

    def report_unknown_subjects(self) -> None:
        """One error per unknown stage or activity, at its first use, noting the others: a
        misspelt name in the header would otherwise be reported at every event that uses it."""
        for (kind, _), uses in self.unknown_subjects.items():
            uses = sorted(uses, key=lambda t: (t.span.path, t.span.line, t.span.column))
            first, others = uses[0], uses[1:]
            declared = self.scope.stages if kind == "stage" else self.scope.activities
            plural = "activities" if kind == "activity" else "stages"
            shown = others[:MAX_USES_SHOWN]
            related = [Related(t.span, "also used here") for t in shown]
            rest = others[MAX_USES_SHOWN:]
            if rest:
                related[-1] = Related(shown[-1].span, f"also used here, and {len(rest)} more "
                                      f"use{'s' if len(rest) > 1 else ''}")
            close = closest(first.value, declared)
            if close is None:
                hint = f"declare it in the plan header: {plural} {first.raw}"
            elif (kind, close) in self.used_subjects:
                hint = f'did you mean "{close}"?'
            else:  # the declared spelling is used nowhere: the header is the likely slip
                hint = (f'the plan header declares "{close}", which nothing uses: if that is '
                        f'the misspelling, write "{first.value}" there instead')
            self.err("E-NAME", first, f"unknown {kind} {first.raw}", hint, related)

    def common(self, b: n.RuleBlock, period: str | None = None) -> dict:
        roles = self.single(b.items, n.RolesFilter, "the roles")
        during = self.single(b.items, n.During, "the date window")
        whens = self.single(b.items, n.When, "the condition")
        limits = []
        for lim in (i for i in b.items if isinstance(i, n.Limit)):
            spec = self.check_limit(b, lim, period)
            if spec is not None:
                limits.append(spec)
        when = whens[0].condition if whens else None
        if when is not None:
            self.x.expect(when, PERIOD, ty.BOOL, "the 'when' condition")
            if b.name.text in refs(when):
                self.err("E-CYCLE", whens[0], f"'{b.name.text}' depends on its own earnings",
                         "a rule's condition cannot use what the rule itself pays")
        return dict(name=b.name.text, label=b.label.value if b.label else b.name.text, span=b.span,
                    roles=self.roles(roles[0].roles) if roles else (),
                    during=self.window(during[0].range, "during") if during else None,
                    limits=tuple(limits), when=when)

    def check_credit(self, b: n.CreditBlock) -> m.CreditSpec:
        common = self.common(b)
        for lim in (i for i in b.items if isinstance(i, n.Limit)):
            self.err("E-LIMIT-SCOPE", lim, "caps and floors belong on the rules that pay, not on "
                     "credits", "move this line to the commission that uses the credit")
        for w in (i for i in b.items if isinstance(i, n.When)):
            self.err("E-CONTEXT", w, "a credit has no 'when' line; filter events with "
                     "'on deal booked where ...'")
        triggers = self.single(b.items, n.OnEvent, "the event")
        if not self.require(b, triggers, "'on' line", 'on deal booked where deal.type is "new_business"'):
            trigger = m.TriggerSpec(kind="deal", event="booked", subject=None, where=None,
                                    span=b.span)
        else:
            trigger = self.trigger(triggers[0].trigger)
        ctx = EVENT_ACTIVITY if trigger.kind == "activity" else EVENT_DEAL
        values = self.single(b.items, n.ValueLine, "the value")
        if values:
            self.x.expect(values[0].value, ctx, ty.MONEY, "a credit's value")
        splits = self.single(b.items, n.SplitRule, "the split")
        split = splits[0] if splits else None
        role_shares: tuple = ()
        if split is not None and split.mode == "by role":
            role_shares = self.check_role_split(b, split)
        overlays = []
        for o in (i for i in b.items if isinstance(i, n.Overlay)):
            overlays.append((self.roles(o.roles), o.share.value))
            if o.share.value <= 0:
                self.err("E-RANGE", o.share, "an overlay share must be above 0%")
        rollups = self.single(b.items, n.RollUp, "the roll-up")
        attributions = self.single(b.items, n.Attribution, "the attribution")
        digital = self.single(b.items, n.DigitalCredit, "the digital share")
        weights = None
        if attributions:
            a = attributions[0]
            if a.model == "position":
                weights = tuple(w.value for w in a.weights)
                total = sum(weights)
                if total != 1:
                    self.err("E-SHARES", a, f"position weights total {fmt_pct(total)}, not 100%",
                             "e.g. attribute by position 40% first, 20% middle, 40% last")
            if split is not None and split.mode != "owner":
                self.err("E-SHARES", split, "a credit is either split or attributed by touches, "
                         "not both", related=[Related(a.span, "the attribution is here")])
            if trigger.kind != "deal":
                self.err("E-CONTEXT", a, "touch attribution applies to deal events only")
        if digital and not attributions:
            self.err("E-MISSING", digital[0], "digital touch credit needs an 'attribute by' line")
        cancelled = self.single(b.items, n.CancelledCredit, "what cancelled deals do")
        if cancelled and (trigger.kind != "deal" or trigger.event != "booked"):
            self.err("E-CONTEXT", cancelled[0], "only a credit 'on deal booked' can say what a "
                     "cancelled deal does to it", "remove the line")
        if trigger.kind == "activity" and (split is not None or overlays):
            self.err("E-CONTEXT", split or b, "an activity is credited to the payee who did it; "
                     "it cannot be split")
        return m.CreditSpec(
            **common, trigger=trigger, value=values[0].value if values else None,
            split=split.mode if split else "owner", role_shares=role_shares,
            overlays=tuple(overlays), rollup=rollups[0].scope if rollups else None,
            attribution=attributions[0].model if attributions else None,
            position_weights=weights, digital_share=digital[0].share.value if digital else ZERO,
            cancelled=cancelled[0].choice if cancelled else "keep")

    def check_cancelled_credit(self, blocks, credits: list[m.CreditSpec]) -> None:
        """A plan that claws back cancelled deals must say whether they still count toward
        attainment: two plans can differ there and both be reasonable."""
        for b, spec in zip((b for b in blocks if isinstance(b, n.CreditBlock)), credits):
            t = spec.trigger
            stated = any(isinstance(i, n.CancelledCredit) for i in b.items)
            if t.kind == "deal" and t.event == "booked" and not stated:
                self.warn("W-CANCELLED-CREDIT", b.name,
                          f"credit '{b.name.text}' does not say whether a cancelled deal still "
                          "counts toward attainment (the plan claws cancelled deals back); it is "
                          "kept",
                          "add 'cancelled deals keep their credit' (tier positions keep the deal) "
                          "or 'cancelled deals lose their credit' (taken back at the cancellation)")

    def check_role_split(self, b: n.CreditBlock, split: n.SplitRule) -> tuple:
        seen: dict[str, Span] = {}
        shares = []
        for s in split.shares:
            self.roles((s.name,))
            if s.name.text in seen:
                self.err("E-DUPLICATE", s.name, f"role {s.name.text} appears twice in the split",
                         related=[Related(seen[s.name.text], "first here")])
            seen[s.name.text] = s.span
            shares.append((s.name.text, s.share.value))
        total = sum(v for _, v in shares)
        if total != 1:
            hint = ("the shares of a split must total 100%; credit that goes to a role on top of "
                    "the split is an overlay: overlay role X at 100%") if total > 1 else \
                "the shares of a split must total 100%"
            self.err("E-SHARES", split, f"the split totals {fmt_pct(total)}, not 100%", hint)
        return tuple(shares)

    # ------------------------------------------------------------------ limits and periods

    def check_limit(self, b: n.RuleBlock, lim: n.Limit, period: str | None) -> m.LimitSpec | None:
        amount = self.const(lim.amount, ty.MONEY, f"a {lim.kind}")
        if amount is None:
            return None
        if amount < 0:
            self.err("E-RANGE", lim.amount, f"a {lim.kind} cannot be negative")
            return None
        if lim.kind == "floor" and lim.scope in ("deal", "total"):
            self.err("E-LIMIT-SCOPE", lim, f"a floor is a minimum per period, not "
                     f"{'per deal' if lim.scope == 'deal' else 'in total'}",
                     "write e.g. floor 500 USD per month")
            return None
        if lim.scope == "deal" and isinstance(b, (n.BonusBlock, n.PoolBlock, n.OverrideBlock,
                                                  n.ActivityRewardBlock)):
            self.err("E-LIMIT-SCOPE", lim, f"a {self.block_title(b).split(' ')[0]} is not paid "
                     "per deal, so it cannot be capped per deal")
            return None
        if period and lim.scope in UNIT_DAYS and UNIT_DAYS[lim.scope] < UNIT_DAYS[period]:
            self.err("E-LIMIT-PERIOD", lim, f"this rule is measured per {period}, so it cannot "
                     f"be limited per {lim.scope}",
                     f"limit it per {period} or per a longer period")
            return None
        if lim.scope in UNIT_DAYS:
            self.period_fits(lim.scope, lim)
        return m.LimitSpec(kind=lim.kind, amount=amount, scope=lim.scope, span=lim.span)

    def period_fits(self, unit: str, node: n.Node) -> None:
        """A period longer than the plan's effective range would be measured on part of it."""
        if self.effective is None or self.effective[1] is None or unit not in MONTHS_PER_UNIT:
            return  # a pay period shorter than a month fits any plan of a month or more
        start, end = self.effective
        months = (end.year - start.year) * 12 + end.month - start.month + 1
        if MONTHS_PER_UNIT[unit] > months:
            self.err("E-PERIOD-FIT", node, f"the plan is in effect {start} to {end}, shorter "
                     f"than a {unit}: a {unit}ly amount would be measured on part of a {unit}",
                     "use a shorter period, or extend the plan's effective range")

    # ------------------------------------------------------------------ commission

    def check_CommissionBlock(self, b: n.CommissionBlock) -> m.CommissionSpec:
        tables = self.single(b.items, n.TierTable, "a tier table")
        rates = self.single(b.items, n.RateLine, "the rate")
        table = tables[0] if tables else None
        period = (table.period if table and table.period else None)
        accels = [i for i in b.items if isinstance(i, n.Accelerator)]
        if period is None and accels and accels[0].period:
            period = accels[0].period
        common = self.common(b, period)
        bases = self.single(b.items, n.BaseLine, "the base")
        base = ""
        if self.require(b, bases, "base", "on bookings"):
            base = bases[0].credit.text
            if self.scope.lookup(base, sc.CREDIT) is None:
                self.err("E-NAME", bases[0].credit, f"unknown credit '{base}'",
                         sc.suggest(base, self.scope.names(sc.CREDIT)))
        if table and rates:
            self.err("E-RATE", rates[0], "a commission has a rate or a tier table, not both",
                     related=[Related(table.span, "the tier table is here")])
        if not table and not rates:
            self.require(b, [], "rate", "rate 8%  (or a tier table: marginal rates by ...)")
        if rates:
            t = self.x.infer(rates[0].rate, RATE)
            if not t.unknown and t.kind != ty.PERCENT:
                r = rates[0].rate
                # `rate 8% of deal.amount`: the rate already applies to the credit.
                of = isinstance(r, n.Binary) and r.op == "of" and isinstance(r.left, n.Percent)
                self.err("E-UNIT", r, f"a commission rate must be a percentage, but "
                         f"this is {t}",
                         number_as_percent(r) if t.numeric else
                         f"a rate applies to the credit itself: write rate {show(r.left)}"
                         if of else self.money_rate_hint(r) if t.kind == ty.MONEY else None)
        table_spec = self.check_tiers(b, table) if table else None
        accel_specs = [a for a in (self.check_accel(a) for a in accels) if a is not None]
        if table_spec and common["limits"]:
            self.unreachable_tiers(b, table_spec, common["limits"])
        if period:
            self.period_fits(period, table or accels[0])
        return m.CommissionSpec(**common, base=base, rate=rates[0].rate if rates else None,
                                table=table_spec, accelerators=tuple(accel_specs),
                                period=period or "month")

    @staticmethod
    def money_rate_hint(r: n.Expr) -> str:
        """`rate 8 USD`: a percentage was meant, or a fixed amount per deal, which is a SPIFF."""
        if isinstance(r, n.Money):
            return (f"a rate is a percentage of the credit: write rate {r.amount.raw}%; to pay "
                    f"a fixed {show(r)} per deal, use a SPIFF: spiff NAME, on deal booked, "
                    f"pay {show(r)}")
        return ("a rate is a percentage of the credit, e.g. rate 8%; an amount of money per "
                "deal is paid by a SPIFF: spiff NAME, on deal booked, pay AMOUNT")

    def check_tiers(self, b: n.CommissionBlock, t: n.TierTable) -> m.TierTableSpec | None:
        ok = rows_ok = True
        if t.mode is None:
            self.err("E-TIER-MODE", t, "the tier table does not say how tiers apply",
                     "start it with 'marginal rates' (each tier's rate on the part inside the "
                     "tier) or 'retroactive rates' (the reached tier's rate on everything)")
            ok = False
        if t.key is not None:
            key = self.key_kind(t.key.text, t.key)
            if t.period is None:
                self.err("E-TIER-PERIOD", t, f"the table is keyed on '{t.key.text}', which "
                         "accumulates over a period, but no period is given",
                         f"say which: rates by {t.key.text} per quarter")
                ok = False
        else:
            key = ty.money(self.currency)
        bounds = [i for i in t.items if isinstance(i, n.BoundRule)]
        for extra in bounds[1:]:
            self.err("E-REPEATED", extra, "the boundary rule is given twice")
        rows: list[m.TierRowSpec] = []
        shapes: list[m.TierRowSpec | None] = []  # per row, None where a bound is in error
        tier_rows = [i for i in t.items if isinstance(i, n.TierRow)]
        if not tier_rows:
            self.err("E-TIER-EMPTY", t, "the tier table has no rows",
                     "add rows such as: from 0% to 100% at 8%")
            return None
        for row in tier_rows:
            low = self.bound_unit_ok(key, row.low, "the tier's lower bound")
            high = self.bound_unit_ok(key, row.high, "the tier's upper bound") \
                if row.high is not None else None
            rate = self.const(row.rate, ty.PERCENT, "a tier rate")
            if rate is None:
                ok = False  # the bounds can still be checked for gaps and overlaps
            if low is None or (row.high is not None and high is None):
                rows_ok = False
                shapes.append(None)
                continue
            rows.append(m.TierRowSpec(low=low, high=high, rate=rate or ZERO, span=row.span,
                                      text=f"{show(row.low)}" + (f" to {show(row.high)}"
                                                                 if row.high else " and above")))
            shapes.append(rows[-1])
        # The rows with good bounds are still checked against each other, so a gap between
        # them is reported with the unit error of another row.
        rows_ok = self.tier_shape(shapes, tier_rows) and rows_ok
        if not (ok and rows_ok):
            return None
        return m.TierTableSpec(mode=t.mode, key=t.key.text if t.key else None,
                               period=t.period or "month",
                               bound=bounds[0].side if bounds else "above",
                               rate_kind=ty.PERCENT, rows=tuple(rows), span=t.span)

    def tier_shape(self, rows: list[m.TierRowSpec | None], nodes: list[n.TierRow]) -> bool:
        """Bounds increase, start at zero, no gap, no overlap, only the last row is open. A row
        given as None (a bound in error) is not compared with its neighbours."""
        ok = True
        if rows[0] is not None and rows[0].low != 0:
            c = constant(nodes[0].low)
            kind = c[1] if c is not None else ty.UNKNOWN
            zero = "0%" if kind.kind == ty.PERCENT else \
                f"0 {kind.currency}" if kind.kind == ty.MONEY else "0"
            self.err("E-TIER-START", nodes[0].low, "the first tier must start at 0",
                     f"start it at {zero}: values below the first bound would have no rate")
            ok = False
        for i, (row, node) in enumerate(zip(rows, nodes)):
            if row is None:
                continue
            if row.high is not None and row.high <= row.low:
                self.err("E-TIER-ORDER", node.high, "a tier must end above where it starts",
                         f"bounds increase from one row to the next: end this tier above "
                         f"{show(node.low)}")
                ok = False
            if row.high is None and i != len(rows) - 1:
                self.err("E-TIER-OPEN", node, "only the last tier may be open-ended",
                         related=[Related(nodes[i + 1].span, "this tier follows it")])
                ok = False
            before = rows[i - 1] if i > 0 else None
            reversed_rows = (row.high is not None and row.high <= row.low) or (
                before is not None and before.high is not None and before.high <= before.low)
            if before is not None and before.high is not None and not reversed_rows:
                prev = before.high
                if row.low > prev:
                    self.err("E-TIER-GAP", node.low, f"gap between tiers: nothing covers "
                             f"{show(nodes[i - 1].high)} to {show(node.low)}",
                             f"start this tier at {show(nodes[i - 1].high)}",
                             [Related(nodes[i - 1].span, "the tier before ends here")])
                    ok = False
                elif row.low < prev:
                    self.err("E-TIER-OVERLAP", node.low, f"tiers overlap: "
                             f"{show(node.low)} to {show(nodes[i - 1].high)} is in two tiers",
                             f"start this tier at {show(nodes[i - 1].high)}",
                             [Related(nodes[i - 1].span, "the tier before ends here")])
                    ok = False
        if rows[-1] is not None and rows[-1].high is not None:
            self.err("E-TIER-OPEN", nodes[-1], f"the last tier ends at {show(nodes[-1].high)}: "
                     "values above it would have no rate",
                     f"make it open-ended: from {show(nodes[-1].low)} at {show(nodes[-1].rate)}")
            ok = False
        return ok

    def unreachable_tiers(self, b: n.CommissionBlock, table: m.TierTableSpec,
                          limits: tuple[m.LimitSpec, ...]) -> None:
        """Warn about tiers a period cap makes unreachable (key in money, or attainment on a
        single fixed quota)."""
        scale = self.key_scale(table)
        if scale is None:
            return
        for lim in limits:
            if lim.kind != "cap" or lim.scope != table.period:
                continue
            earned = ZERO
            for row in table.rows:
                if earned >= lim.amount and row.low > 0:
                    self.warn("W-TIER-UNREACHABLE", row.span,
                              f"this tier can never pay: the {lim.scope}ly cap of "
                              f"{lim.amount:,} {self.currency} is reached before it starts",
                              "raise the cap or remove the tier")
                    return
                if row.high is not None:
                    earned += (row.high - row.low) * scale * row.rate

    def key_scale(self, table: m.TierTableSpec) -> Decimal | None:
        """Money per unit of the key, when it is fixed by the plan."""
        if table.key is None:
            return ONE
        if self.scope.rules.get(table.key, sc.Symbol("", "", Span.point("", 0, 0), "")).kind \
                == sc.CREDIT:
            return ONE
        measure = next((b for b in self.tree.blocks if isinstance(b, n.MeasureBlock)
                        and b.name.text == table.key), None)
        if measure is None or not isinstance(measure.expr, n.Binary) or measure.expr.op != "/" \
                or not isinstance(measure.expr.right, n.QuotaRef):
            return None
        quota = next((b for b in self.tree.blocks if isinstance(b, n.QuotaBlock)
                      and b.name.text == measure.expr.right.name.text), None)
        values = [i for i in quota.items if isinstance(i, n.QuotaValue)] if quota else []
        if len(values) != 1 or any(not isinstance(i, n.QuotaValue) for i in quota.items):
            return None
        amount = constant(values[0].amount)
        if amount is None or table.period not in MONTHS_PER_UNIT or \
                values[0].period not in MONTHS_PER_UNIT:
            return None
        per_month = amount[0] / MONTHS_PER_UNIT[values[0].period]
        return per_month * MONTHS_PER_UNIT[table.period]

    def check_accel(self, a: n.Accelerator) -> m.AcceleratorSpec | None:
        key = self.key_kind(a.key.text, a.key)
        threshold = self.bound_unit_ok(key, a.threshold, "the threshold",
                                       f"'{a.key.text}'")
        if a.period is None:
            self.err("E-TIER-PERIOD", a, f"say over which period {a.key.text} is measured",
                     f"e.g. {a.kind} {a.factor.raw} by {a.key.text} per quarter {a.side} "
                     f"{show(a.threshold)}")
            return None
        if a.kind == "accelerate" and (a.side != "above" or a.factor.value < 1):
            self.err("E-ACCELERATOR", a, "an accelerator raises the rate above a threshold: "
                     "use a factor of at least 1x and 'above'",
                     "to lower the rate below a threshold, use 'decelerate 0.5x ... below'")
            return None
        if a.kind == "decelerate" and (a.side != "below" or a.factor.value > 1):
            self.err("E-ACCELERATOR", a, "a decelerator lowers the rate below a threshold: "
                     "use a factor of at most 1x and 'below'")
            return None
        if threshold is None:
            return None
        return m.AcceleratorSpec(kind=a.kind, factor=a.factor.value, key=a.key.text,
                                 period=a.period, side=a.side, threshold=threshold, span=a.span)

    # ------------------------------------------------------------------ other components

    def check_BonusBlock(self, b: n.BonusBlock) -> m.BonusSpec:
        steps = self.single(b.items, n.StepSchedule, "a schedule")
        linears = self.single(b.items, n.LinearSchedule, "a schedule")
        if steps and linears:
            self.err("E-REPEATED", linears[0], "a bonus has one schedule: step or linear",
                     related=[Related(steps[0].span, "the step schedule is here")])
        schedule = (steps or linears or [None])[0]
        period = schedule.period if schedule else None
        common = self.common(b, period)
        if schedule is None:
            self.require(b, [], "schedule", "step on attainment per year  (with rows: at 120% pay 10,000 USD)")
            return m.BonusSpec(**common, schedule="step", key="", period="year")
        self.period_fits(schedule.period, schedule)
        key = self.key_kind(schedule.key.text, schedule.key)
        rows: list[m.StepRowSpec] = []
        nodes: list[n.StepRow | n.LinearPoint] = []
        points = schedule.rows if isinstance(schedule, n.StepSchedule) else \
            (schedule.low, schedule.high)
        for row in points:
            threshold = self.bound_unit_ok(key, row.threshold, "the threshold",
                                           f"'{schedule.key.text}'")
            self.x.expect(row.pay, PERIOD, ty.MONEY, "a bonus amount")
            if threshold is not None:
                rows.append(m.StepRowSpec(threshold=threshold, pay=row.pay, span=row.span))
                nodes.append(row)
        for (a, an), (c, cn) in zip(zip(rows, nodes), zip(rows[1:], nodes[1:])):
            if c.threshold <= a.threshold:
                low, high = show(an.threshold), show(cn.threshold)
                if isinstance(cn, n.LinearPoint):
                    hint = (f"a linear schedule runs from the lower threshold to the higher: "
                            f"swap them, from {high} ... then to {low} ..."
                            if c.threshold < a.threshold
                            else f"end the schedule above where it starts ({low})")
                else:
                    hint = (f"put the rows in increasing order of threshold: the row at {high} "
                            f"goes before the row at {low}" if c.threshold < a.threshold else
                            f"each threshold appears once: keep one row at {high}")
                self.err("E-TIER-ORDER", cn.threshold, "thresholds must increase from row to row",
                         hint, [Related(an.threshold.span, "the threshold of the row before")])
        return m.BonusSpec(**common, schedule="step" if isinstance(schedule, n.StepSchedule)
                           else "linear", key=schedule.key.text, period=schedule.period,
                           steps=tuple(rows))

    def check_SpiffBlock(self, b: n.SpiffBlock) -> m.SpiffSpec:
        common = self.common(b)
        self.no_when(b)
        triggers = self.single(b.items, n.OnEvent, "the event")
        pays = self.single(b.items, n.PayLine, "the amount")
        trigger = self.trigger(triggers[0].trigger) if self.require(
            b, triggers, "'on' line", 'on deal booked where deal.product is "P3"') else None
        ctx = EVENT_ACTIVITY if trigger and trigger.kind == "activity" else EVENT_DEAL
        if self.require(b, pays, "amount", "pay 500 USD"):
            self.x.expect(pays[0].amount, ctx, ty.MONEY, "a SPIFF amount")
        budgets = self.single(b.items, n.Budget, "the budget")
        budget = self.const(budgets[0].amount, ty.MONEY, "a SPIFF budget") if budgets else None
        if budget is not None and budget <= 0:
            self.err("E-RANGE", budgets[0].amount, "a SPIFF budget must be above 0",
                     "remove the budget line for a SPIFF without a limit")
        windows = [i for i in b.items if isinstance(i, n.During)]
        if not windows:
            self.warn("W-SPIFF-WINDOW", b.name, f"SPIFF '{b.name.text}' has no 'during' window: "
                      "it pays for the whole plan", "add: during 2027-04-01 to 2027-06-30")
        elif common["during"] is not None and self.effective is not None:
            w, (start, end) = common["during"], self.effective
            if (w.end is not None and w.end < start) or (end is not None and w.start > end):
                self.warn("W-SPIFF-WINDOW", windows[0], f"SPIFF '{b.name.text}' can never pay: "
                          f"its window lies outside the plan's effective range ({start} to "
                          f"{end or 'open'})", "move the window inside the plan's range")
        dummy = m.TriggerSpec(kind="deal", event="booked", subject=None, where=None, span=b.span)
        return m.SpiffSpec(**common, trigger=trigger or dummy, budget=budget,
                           pay=pays[0].amount if pays else n.Money(amount=n.Number(raw="0"),
                                                                   currency=self.currency))

    def no_when(self, b: n.RuleBlock) -> None:
        for w in (i for i in b.items if isinstance(i, n.When)):
            self.err("E-CONTEXT", w, "this rule pays per event; filter events with "
                     "'where' on its 'on' line instead of a 'when' line")

    def event_pays(self, b: n.RuleBlock, cls: type, kind: str) -> tuple[m.EventPaySpec, ...]:
        out = []
        ctx = EVENT_ACTIVITY if kind == "activity" else EVENT_DEAL
        subjects: dict[str, Span] = {}
        for p in (i for i in b.items if isinstance(i, cls)):
            subject = p.stage if kind == "stage" else p.activity
            self.subject(kind, subject)
            if subject.value in subjects:
                self.err("E-DUPLICATE", subject, f"{subject.raw} is rewarded twice in this block",
                         related=[Related(subjects[subject.value], "first here")])
            subjects[subject.value] = subject.span
            if p.where is not None:
                self.x.expect(p.where, ctx, ty.BOOL, "the 'where' condition")
            self.x.expect(p.amount, ctx, ty.MONEY, "a reward")
            out.append(m.EventPaySpec(subject=subject.value, where=p.where, pay=p.amount,
                                      span=p.span))
        if not out:
            example = 'on deal reaching "proposal" pay 150 USD' if kind == "stage" else \
                'on activity "meeting" pay 30 USD'
            self.require(b, [], "reward line", example)
        return tuple(out)

    def check_StageRewardBlock(self, b: n.StageRewardBlock) -> m.StageRewardSpec:
        common = self.common(b)
        self.no_when(b)
        nets = self.single(b.items, n.NetAgainst, "the netting")
        net = None
        if nets:
            net = nets[0].component.text
            sym = self.scope.lookup(net, sc.COMPONENT)
            if sym is None or sym.detail != "commission":
                self.err("E-NAME", nets[0].component, f"'{net}' is not a commission",
                         sc.suggest(net, [c.name for c in self.scope.rules.values()
                                          if c.detail == "commission"]))
        return m.StageRewardSpec(**common, pays=self.event_pays(b, n.StagePay, "stage"),
                                 net_against=net)

    def check_ActivityRewardBlock(self, b: n.ActivityRewardBlock) -> m.ActivityRewardSpec:
        common = self.common(b)
        self.no_when(b)
        return m.ActivityRewardSpec(**common, pays=self.event_pays(b, n.ActivityPay, "activity"))

    def periodic(self, b: n.RuleBlock, verb: str, example: str) -> tuple[n.Expr, str]:
        amounts = [i for i in b.items if isinstance(i, n.PeriodicAmount) and i.verb == verb]
        self.single(tuple(amounts), n.PeriodicAmount, "the amount")
        if not self.require(b, amounts, "amount", example):
            return n.Money(amount=n.Number(raw="0"), currency=self.currency), "month"
        self.x.expect(amounts[0].amount, PERIOD, ty.MONEY, "the amount")
        self.period_fits(amounts[0].period, amounts[0])
        return amounts[0].amount, amounts[0].period

    def check_PoolBlock(self, b: n.PoolBlock) -> m.PoolSpec:
        fund, period = self.periodic(b, "fund", "fund 1% of team bookings per quarter")
        common = self.common(b, period)
        shares = self.single(b.items, n.ShareRule, "the sharing rule")
        share, by = "equally", None
        if self.require(b, shares, "sharing rule", "share equally  (or: share by bookings)"):
            share = shares[0].mode
            if share == "by":
                by = shares[0].by.text
                if self.scope.lookup(by, sc.CREDIT) is None:
                    self.err("E-NAME", shares[0].by, f"unknown credit '{by}'",
                             sc.suggest(by, self.scope.names(sc.CREDIT)))
        return m.PoolSpec(**common, fund=fund, period=period, share=share, share_by=by)

    def check_OverrideBlock(self, b: n.OverrideBlock) -> m.OverrideSpec:
        pay, period = self.periodic(b, "pay", "pay 2% of team bookings per quarter")
        common = self.common(b, period)
        return m.OverrideSpec(**common, pay=pay, period=period)

    # ------------------------------------------------------------------ clawbacks, payout

    def check_clawback(self, b: n.ClawbackBlock) -> m.ClawbackSpec:
        windows = self.single(b.items, n.CancelWindow, "the window")
        reverses = self.single(b.items, n.Reverse, "what is reversed")
        roles = self.single(b.items, n.RolesFilter, "the roles")
        during = self.single(b.items, n.During, "the date window")
        count, unit = 0, "days"
        if self.require(b, windows, "window", "when deal cancelled within 90 days of booking"):
            d = windows[0].within
            count, unit = int(d.count.value), d.unit
            if d.count.value <= 0 or d.count.value != int(d.count.value):
                self.err("E-RANGE", d, "the window must be a whole number of days, weeks or "
                         "months, above 0")
        names: tuple[str, ...] = ()
        share = ONE
        wrong: set[str] = set()  # names reported as not reversible: not compared again
        if self.require(b, reverses, "'reverse' line", "reverse core at original amounts"):
            r = reverses[0]
            first: dict[str, Span] = {}
            for c in r.components:
                if c.text in first:  # it would be reversed twice: a cancelled deal pays -100%
                    self.err("E-DUPLICATE", c, f"'{c.text}' is reversed twice in this line",
                             "name each component once",
                             [Related(first[c.text], "first named here")])
                    continue
                first[c.text] = c.span
                sym = self.scope.lookup(c.text)
                if sym is None or sym.kind != sc.COMPONENT or sym.detail in (
                        "bonus", "team pool", "manager override", "activity reward"):
                    wrong.add(c.text)
                if sym is not None and sym.detail in ("bonus", "team pool", "manager override",
                                                      "activity reward"):
                    how = "per activity" if sym.detail == "activity reward" else "per period"
                    self.err("E-CLAWBACK", c, f"the {sym.detail} '{c.text}' is paid {how}, "
                             "not per deal, so a cancelled deal has nothing of it to reverse",
                             "reverse commissions, SPIFFs and stage rewards")
                elif sym is None and c.text not in self.scope.quotas:
                    self.err("E-NAME", c, f"unknown name '{c.text}'",
                             sc.suggest(c.text, self.scope.names(sc.COMPONENT)) or
                             "reverse commissions, SPIFFs or rewards by their names")
                elif sym is None or sym.kind != sc.COMPONENT:
                    what = f"the {sym.detail} '{c.text}'" if sym else f"'{c.text}'"
                    self.err("E-CLAWBACK", c, f"{what} is not a paying rule that can be reversed",
                             sc.suggest(c.text, self.scope.names(sc.COMPONENT)) or
                             "reverse commissions, SPIFFs or rewards by their names")
            names = tuple(first)
            if r.share is not None:
                share = r.share.value
                if not 0 < share <= 1:
                    self.err("E-RANGE", r.share, "the reversed share must be above 0% and at "
                             "most 100%")
        role_list = self.roles(roles[0].roles) if roles else ()
        window = self.window(during[0].range, "during") if during else None
        if reverses:
            self.check_reversed_once(b.name.text, reverses[0], role_list, window, wrong)
        return m.ClawbackSpec(name=b.name.text, label=b.label.value if b.label else b.name.text,
                              span=b.span, within_count=count, within_unit=unit,
                              components=names, share=share, roles=role_list, during=window)

    def check_reversed_once(self, claw: str, reverse: n.Reverse, roles: tuple[str, ...],
                            window: m.Window | None, wrong: set[str]) -> None:
        """A component reversed by two clawbacks whose roles and `during` windows overlap:
        both cancellation windows start at the booking, so a deal cancelled soon enough would
        be reversed twice."""
        named: set[str] = set()
        for c in reverse.components:
            if c.text in named or c.text in wrong:  # reported already
                continue
            named.add(c.text)
            earlier = self.reversed[c.text]
            clash = next((e for e in earlier if _windows_overlap(window, e[2]) and (
                not roles or not e[1] or set(roles) & set(e[1]))), None)
            earlier.append((c, roles, window, claw))
            if clash is not None:
                self.err("E-CLAWBACK", c, f"'{c.text}' is also reversed by clawback '{clash[3]}':"
                         " a deal cancelled within both windows would be reversed twice",
                         "reverse each component in one clawback, or give the clawbacks roles "
                         "or 'during' windows that do not overlap",
                         [Related(clash[0].span, "reversed here too")])

    def check_payout(self, b: n.PayoutBlock) -> m.PayoutSpec:
        freqs = self.single(b.items, n.Frequency, "the pay frequency")
        schedules = self.single(b.items, n.Schedule, "the schedule")
        holdbacks = self.single(b.items, n.Holdback, "the holdback")
        draws = self.single(b.items, n.Draw, "the draw")
        advances = self.single(b.items, n.Advance, "the advance")
        recovers = self.single(b.items, n.RecoverAdvances, "the recovery of advances")
        forgives = self.single(b.items, n.ForgiveAdvances, "the forgiveness of advances")
        frequency = freqs[0].frequency if freqs else "monthly"
        schedule: tuple = ((("booked", ONE),))
        if schedules:
            s = schedules[0]
            events = [leg.event for leg in s.legs]
            if len(set(events)) != len(events):
                self.err("E-SHARES", s, "each event may appear once in the schedule")
            total = sum(leg.share.value for leg in s.legs)
            if total != 1:
                self.err("E-SHARES", s, f"the schedule pays {fmt_pct(total)} of earnings, "
                         "not 100%", "e.g. 50% when booked, 50% when collected")
            schedule = tuple((leg.event, leg.share.value) for leg in s.legs)
        holdback = None
        if holdbacks:
            h = holdbacks[0]
            if not 0 < h.share.value < 1:
                release = (f"for {h.duration.count.raw} {h.duration.unit}" if h.duration else
                           f"until {h.date.raw}" if h.date else "until year end")
                self.err("E-RANGE", h.share, "a holdback must be above 0% and below 100%",
                         f"it is the part of each payout kept back, e.g. hold back 10% {release}"
                         + ("; to keep nothing back, remove the line" if h.share.value == 0
                            else ""))
            months = days = None
            if h.duration is not None and h.duration.count.value != int(h.duration.count.value):
                self.err("E-RANGE", h.duration, "a holdback lasts a whole number of days, weeks "
                         "or months", "e.g. hold back 10% for 3 months")
            if h.duration is not None:
                count = int(h.duration.count.value)
                unit = h.duration.unit.rstrip("s")
                if unit in ("day", "week"):
                    days = count * (7 if unit == "week" else 1)
                else:
                    months = count * MONTHS_PER_UNIT[unit]
            date = h.date.value if h.date is not None and check_date(h.date, self.diags) else None
            holdback = m.HoldbackSpec(share=h.share.value, release=h.release, months=months,
                                      days=days, date=date, span=h.span)
        draw = None
        if draws:
            d = draws[0]
            amount = self.const(d.amount, ty.MONEY, "a draw")
            pay_unit = FREQUENCY_UNIT[frequency]
            if d.period != pay_unit:
                self.err("E-PERIOD-FIT", d, f"the draw is per {d.period}, but pay periods are "
                         f"{frequency}", f"write the draw per {pay_unit}"
                         if pay_unit in MONTHS_PER_UNIT else "write the draw per pay period")
            forgive = d.forgive_date.value if d.forgive_date is not None and \
                check_date(d.forgive_date, self.diags) else None
            if d.months is not None and (d.months.value != int(d.months.value)
                                         or d.months.value < 1):
                self.err("E-RANGE", d.months, "the draw lasts a whole number of months, at "
                         "least 1", "e.g. for the first 3 months of employment")
            if d.recovery == "non-recoverable" and d.forgiveness is not None:
                self.err("E-DRAW", d, "a non-recoverable draw is never owed, so it cannot be "
                         "forgiven", "remove the 'forgiven ...' part")
            if amount is not None:
                draw = m.DrawSpec(amount=amount, per=d.period, recovery=d.recovery,
                                  months=int(d.months.value) if d.months is not None else None,
                                  forgiveness=d.forgiveness, forgive_date=forgive, span=d.span)
        advance = self.check_advance(advances, recovers, forgives, draws, frequency)
        limits = []
        for lim in (i for i in b.items if isinstance(i, n.Limit)):
            if lim.scope == "deal":
                self.err("E-LIMIT-SCOPE", lim, f"a payout {lim.kind} applies to a payee's total "
                         "per period, not per deal",
                         f"put a per-deal {lim.kind} on the commission instead"
                         if lim.kind == "cap" else "write e.g. floor 500 USD per month")
                continue
            amount = self.const(lim.amount, ty.MONEY, f"a {lim.kind}")
            if amount is not None and amount < 0:
                self.err("E-RANGE", lim.amount, f"a {lim.kind} cannot be negative")
                continue
            if lim.scope in MONTHS_PER_UNIT:
                self.period_fits(lim.scope, lim)
            if amount is not None:
                limits.append(m.LimitSpec(kind=lim.kind, amount=amount, scope=lim.scope,
                                          span=lim.span))
        return m.PayoutSpec(frequency=frequency, schedule=schedule, holdback=holdback, draw=draw,
                            advance=advance, limits=tuple(limits), span=b.span)

    def check_advance(self, advances: list[n.Advance], recovers: list[n.RecoverAdvances],
                      forgives: list[n.ForgiveAdvances], draws: list[n.Draw],
                      frequency: str) -> m.AdvanceSpec | None:
        """The advance and its recovery and forgiveness lines, which only make sense together."""
        if not advances:
            for line in (*recovers[:1], *forgives[:1]):
                what = "recovers" if isinstance(line, n.RecoverAdvances) else "forgives"
                self.err("E-ADVANCE", line, f"this line {what} advances, but the plan pays "
                         "none", "add an advance line, e.g. advance 3,000 USD per month for "
                         "the first 3 months of employment, or remove this line")
            return None
        a = advances[0]
        if draws:
            self.err("E-ADVANCE", a, "a plan pays a draw or an advance, not both: both would "
                     "claim the same later pay (the draw tops it up or recovers from it, the "
                     "advance is recovered from it)", "keep either the draw or the advance",
                     related=[Related(draws[0].span, "the draw is here")])
        amount = self.const(a.amount, ty.MONEY, "an advance")
        if amount is not None and amount <= 0:
            self.err("E-RANGE", a.amount, "an advance must be more than 0")
            amount = None
        months = None
        if a.period is not None:
            pay_unit = FREQUENCY_UNIT[frequency]
            if a.period != pay_unit:
                # Only calendar units are words of the language; a semi-monthly or bi-weekly
                # pay period is written `per pay period`.
                self.err("E-PERIOD-FIT", a, f"the advance is per {a.period}, but pay periods "
                         f"are {frequency}", f"write the advance per {pay_unit}, or per pay "
                         "period" if pay_unit in MONTHS_PER_UNIT else
                         "write the advance per pay period")
            if a.months is not None and (a.months.value != int(a.months.value)
                                         or a.months.value < 1):
                self.err("E-RANGE", a.months, "the advance lasts a whole number of months, at "
                         "least 1", "e.g. for the first 3 months of employment")
            elif a.months is not None:
                months = int(a.months.value)
        share = None
        if not recovers:
            self.err("E-ADVANCE", a, "an advance is recovered from later pay, but the plan "
                     "does not say how", "add a line: recover advances from later pay "
                     "(optionally: at most 50% of each payout)")
        elif recovers[0].share is not None:
            share = recovers[0].share.value
            if not 0 < share <= 1:
                self.err("E-RANGE", recovers[0].share, "the share of each payout that "
                         "recovers advances must be above 0% and at most 100%")
        forgiveness = forgive_date = None
        if forgives:
            f = forgives[0]
            forgiveness = f.when
            if f.date is not None and check_date(f.date, self.diags):
                forgive_date = f.date.value
        if amount is None:
            return None
        return m.AdvanceSpec(amount=amount, per=a.period, months=months, recovery_share=share,
                             forgiveness=forgiveness, forgive_date=forgive_date, span=a.span)

    # ------------------------------------------------------------------ examples

    # ------------------------------------------------------------------ compensation

    def check_compensation(self, b: n.CompensationBlock) -> tuple[m.CompensationSpec, ...]:
        """Base salaries and target incentives: money per month or longer, read per payee
        per day (payee fields and fixed amounts; a target incentive may read base_salary), at
        most one line of each kind for a role on a day."""
        specs: dict[str, list[m.CompensationSpec]] = {"base salary": [], "target incentive": []}
        reads_base: list[tuple[n.Ref, m.CompensationSpec]] = []
        for line in b.items:
            what = f"a {line.kind}"
            salary_refs = [r for r in n.walk(line.amount)
                           if isinstance(r, n.Ref) and r.name.text == "base_salary"
                           and self.scope.lookup("base_salary") is None]
            if line.kind == "base salary" and salary_refs:
                self.err("E-CONTEXT", salary_refs[0], "a base salary cannot be stated in terms "
                         "of base_salary", "state it as an amount, or read a payee field: "
                         "base salary payee.base_salary per year")
            elif (c := constant(line.amount)) is not None and c[1].kind == ty.PERCENT:
                self.err("E-UNIT", line.amount, f"{what} must be money in {self.currency}, but "
                         "this is a percentage",
                         f"write an amount, e.g. 60,000 {self.currency}"
                         if line.kind == "base salary" else
                         f"a share of the base salary is written {show(line.amount)} of "
                         "base_salary")
            else:
                t = self.x.expect(line.amount, COMPENSATION, ty.MONEY, what)
                if not t.unknown and c is not None and c[0] < 0:
                    self.err("E-RANGE", line.amount, f"{what} cannot be negative")
            if line.period not in MONTHS_PER_UNIT:
                self.err("E-PERIOD-FIT", line, f"{what} is stated per month, quarter, half or "
                         f"year, not per {self.frequency} pay period",
                         "state it per month or longer: a pay period's amount is the days of "
                         "each month it covers")
            window = self.window(line.valid, "from") if line.valid else None
            spec = m.CompensationSpec(
                kind=line.kind, amount=line.amount, per=line.period,
                roles=self.roles(line.roles), start=window.start if window else None,
                end=window.end if window else None, span=line.span)
            specs[line.kind].append(spec)
            if line.kind == "target incentive" and salary_refs:
                reads_base.append((salary_refs[0], spec))
        for kind, lines in specs.items():
            self.check_overlaps(lines, "E-COMPENSATION-OVERLAP", f"two {kind} lines", "line")
        # A base salary line of an unknown role is reported as such (E-ROLE), not as a role
        # without a salary too; nor is a role whose salary line is broken.
        if not self.compensation_lost and not any(
                r not in self.scope.roles for s in specs["base salary"] for r in s.roles):
            for ref, spec in reads_base:
                self.check_base_read(ref, spec, specs["base salary"])
        return tuple(s for lines in specs.values() for s in lines)

    def check_base_read(self, ref: n.Ref, target: m.CompensationSpec,
                        bases: list[m.CompensationSpec]) -> None:
        """A target incentive read from base_salary needs a base salary on each of its days
        in the plan: without one it would be 0 on those days, silently."""
        if self.effective is None:
            return
        lo = max(self.effective[0], target.start or self.effective[0])
        ends = [d for d in (self.effective[1], target.end) if d is not None]
        hi = min(ends) if ends else dt.date.max
        roles = [r for r in target.roles or self.applies_to or tuple(self.scope.roles)
                 if r in self.scope.roles]  # an unknown role is reported as such (E-ROLE)
        for role in roles or ([] if target.roles else [""]):
            spans = sorted((b.start or dt.date.min, b.end or dt.date.max) for b in bases
                           if not b.roles or role in b.roles)
            day: dt.date | None = lo  # the first day not covered yet
            for start, end in spans:
                if start > day:
                    break
                if end >= hi:
                    day = None
                    break
                day = max(day, end + dt.timedelta(days=1))
            if day is not None and day <= hi:
                whose = f"role {role} has" if role else "the plan states"
                since = f" from {day}" if spans else ""
                self.err("E-NO-BASE-SALARY", ref, f"this target incentive reads base_salary, "
                         f"but {whose} no base salary line{since}",
                         f"add one, e.g. base salary 90,000 {self.currency} per year"
                         f"{f' for role {role}' if role else ''}{since}")
                return

    def check_example(self, b: n.ExampleBlock) -> m.ExampleSpec:
        payees: dict[str, list[n.ExamplePayee]] = {}  # a payee's lines: a row, then changes
        for p in (i for i in b.items if isinstance(i, n.ExamplePayee)):
            earlier = payees.setdefault(p.payee.text, [])
            if earlier and not _later_from(p, earlier[-1]):
                self.err("E-DUPLICATE", p.payee, f"payee {p.payee.text} is described twice",
                         "a second line for a payee records a change (a new manager, role or "
                         "territory) from its `from` date, which must be later than the date "
                         "of the line before",
                         related=[Related(earlier[-1].span, "first here")])
            earlier.append(p)
            keys = [a.key for a in p.attrs]
            for a in p.attrs:
                if keys.count(a.key) > 1:
                    self.err("E-DUPLICATE", a, f"'{a.key}' is given twice for {p.payee.text}")
                    break
            if "role" not in keys:
                self.err("E-EXAMPLE", p, f"payee {p.payee.text} has no role",
                         f"write: payee {p.payee.text} role AE from 2027-01-01")
            for a in p.attrs:
                if a.key == "role" and a.value.text not in self.scope.roles:
                    # Examples may describe people the plan does not pay (the AE on an SDR's
                    # deal), so a role need only be declared.
                    self.err("E-ROLE", a.value, f"unknown role '{a.value.text}'",
                             sc.suggest(a.value.text, self.scope.roles) or
                             f"declare it in the plan header: roles ..., {a.value.text}")
                elif a.key in ("from", "to"):
                    check_date(a.value, self.diags)

        role = (self.applies_to or tuple(self.scope.roles) or ("AE",))[0]
        start = self.effective[0] if self.effective else None
        example_payee = f"role {role}" + (f" from {start}" if start else "")

        def known(ident: n.Ident) -> None:
            if ident.text not in payees:
                self.err("E-EXAMPLE-PAYEE", ident, f"payee '{ident.text}' is not described in "
                         "this example", sc.suggest(ident.text, payees) or
                         f"add a line: payee {ident.text} {example_payee}")

        for p in (p for lines in payees.values() for p in lines):
            for a in p.attrs:
                if a.key == "manager":
                    known(a.value)
        booked: dict[str, dt.date | None] = {}  # deal -> its booking date
        for item in b.items:
            if isinstance(item, n.ExampleEvent):
                self.check_example_event(item, known, booked)
            elif isinstance(item, n.ExampleActivity):
                self.subject("activity", item.activity)
                check_date(item.date, self.diags)
                known(item.by)
            elif isinstance(item, n.ExampleQuota):
                if self.scope.lookup(item.quota.text, sc.QUOTA) is None:
                    self.err("E-NAME", item.quota, f"unknown quota '{item.quota.text}'",
                             sc.suggest(item.quota.text, self.scope.names(sc.QUOTA), "quota {}"))
                known(item.payee)
                self.example_period(item.period)
                want = self.x.quota_types.get(item.quota.text)
                self.const(item.amount, ty.MONEY if want is not None and want.kind == ty.MONEY
                           else "money-or-count", "a quota")
            elif isinstance(item, n.ExampleFx):
                if item.target.currency != self.currency:
                    self.err("E-CURRENCY-MIX", item.target, f"rates convert to the plan "
                             f"currency {self.currency}, not {item.target.currency}",
                             f"write it the other way round: fx {show(item.target)} is "
                             f"{show(item.source)} from {item.date.raw}"
                             if item.source.currency == self.currency else None)
                for side in (item.source, item.target):
                    if side.amount.value <= 0:  # the rate is target / source
                        self.err("E-RANGE", side, "an fx line converts a positive amount into "
                                 f"a positive amount, not {show(side)}",
                                 f"e.g. fx 1 {item.source.currency} is 1.08 "
                                 f"{item.target.currency} from {item.date.raw}")
                check_date(item.date, self.diags)
            elif isinstance(item, n.Expectation):
                self.check_expectation(item, known)
        if not any(isinstance(i, n.Expectation) for i in b.items):
            self.err("E-EXAMPLE", b, f"example {b.name.raw} expects nothing",
                     f"add a line such as: {self.sample_expectation(payees)}")
        self.check_example_dates(b)
        self.check_example_fx(b)
        return m.ExampleSpec(name=b.name.value, span=b.span, block=b)

    def check_example_dates(self, b: n.ExampleBlock) -> None:
        """An event the example's run can never see: dated outside the plan's effective range
        where nothing reads it. Before the plan, events are still read as history by a forecast
        quota, as the start of a deal with later events, or by an expected period reaching back
        to them; after it, only by an expected period reaching forward to them."""
        if self.effective is None:
            return
        start, end = self.effective
        events = [i for i in b.items if isinstance(i, (n.ExampleEvent, n.ExampleActivity))
                  and _date(i.date) is not None]
        periods = [p for p in (self.calendar.parse(x.period.raw) for x in b.items
                               if isinstance(x, n.Expectation)) if p is not None]
        # A quota with syntax errors may be a forecast, reading events before the plan.
        history = any(isinstance(i, n.QuotaForecast) for q in self.tree.blocks
                      if isinstance(q, n.QuotaBlock) for i in q.items) or \
            any(b.keyword == "quota" for b in self.broken)
        deals_in_range = {_deal(e) for e in events if isinstance(e, n.ExampleEvent)
                          and _date(e.date) >= start}
        for e in events:
            day = _date(e.date)
            if day < start:
                if history or any(p.start <= day for p in periods) or (
                        isinstance(e, n.ExampleEvent) and _deal(e) in deals_in_range):
                    continue
                side = "before"
            elif end is not None and day > end:
                if any(p.end >= day for p in periods):
                    continue
                side = "after"
            else:
                continue
            if isinstance(e, n.ExampleActivity):
                what = f"activity {e.activity.raw}"
            elif e.kind in ("stage", "touch"):
                what = f"deal {_deal(e)} {e.kind} {e.subject.raw}"
            else:
                what = f"deal {_deal(e)} {e.kind}"
            moved = _same_day_in(day, start, end)
            self.err("E-EXAMPLE-DATE", e.date, f"{what} on {day} is {side} the plan's "
                     f"effective range ({start} to {end or 'open'}): the example's run never "
                     "uses it", (f"did you mean {moved}? " if moved else "") +
                     f"date the example's events from {start}" +
                     (f" to {end}" if end is not None else ""))

    def check_example_fx(self, b: n.ExampleBlock) -> None:
        """Every amount in another currency needs an `fx` line of the example in force on the
        day it is converted, or the example's run stops on it."""
        rates: dict[str, list[dt.date]] = {}
        for f in b.items:
            if isinstance(f, n.ExampleFx) and _date(f.date) is not None:
                # A rate written the wrong way round is reported as such (E-CURRENCY-MIX), not
                # again on every amount it was meant for.
                meant = f.source if f.target.currency == self.currency else f.target
                rates.setdefault(meant.currency, []).append(_date(f.date))
        for item in b.items:
            amounts: list[tuple[n.Money, dt.date]] = []
            if isinstance(item, (n.ExampleEvent, n.ExampleActivity)):
                day = _date(item.date)
                if day is not None and self.fx_basis == "period end":
                    day = month_end(day.year, day.month)
                amounts = [(a.value, day) for a in item.attrs
                           if a.key == "amount" and isinstance(a.value, n.Money)]
            elif isinstance(item, n.ExampleQuota) and isinstance(item.amount, n.Money):
                # A quota row is converted at the rate of its period's last day (language §5.3).
                period = self.calendar.parse(item.period.raw)
                amounts = [(item.amount, period.end if period else None)]
            for money, day in amounts:
                if money.currency == self.currency or day is None:
                    continue
                at = Span(money.span.path, money.span.end_line,
                          money.span.end_column - len(money.currency),
                          money.span.end_line, money.span.end_column)
                known = rates.get(money.currency)
                if not known:
                    self.err("E-EXAMPLE-FX", at, f"no fx line of this example converts "
                             f"{money.currency} to the plan currency {self.currency}",
                             f"add a line such as: fx 1 {money.currency} is 1.08 "
                             f"{self.currency} from {min(day, self.effective[0]) if self.effective else day}")
                elif min(known) > day:
                    self.err("E-EXAMPLE-FX", at, f"no {money.currency} rate is in force on "
                             f"{day}: this example's first {money.currency}->{self.currency} "
                             f"rate is from {min(known)}",
                             f"date the fx line on or before {day}: a rate is used from its "
                             "date on")

    def check_example_event(self, e: n.ExampleEvent, known,
                            booked: dict[str, dt.date | None]) -> None:
        deal = e.deal.text if isinstance(e.deal, n.Ident) else e.deal.value
        check_date(e.date, self.diags)
        keys = [a.key for a in e.attrs]
        if e.kind == "stage":
            self.subject("stage", e.subject)
        if e.kind == "touch" and self.scope.channels and e.subject.value not in \
                self.scope.channels:
            self.err("E-NAME", e.subject, f"unknown channel {e.subject.raw}",
                     sc.suggest_text(e.subject.value, self.scope.channels) or
                     "declare it in the plan header: channels ...")
        if e.kind == "booked":
            booked.setdefault(deal, _date(e.date))
            for needed in ("by", "amount"):
                if needed not in keys:
                    self.err("E-EXAMPLE", e, f"the booking of {deal} needs '{needed}'",
                             f"e.g. deal {deal} booked {e.date.raw} by ana amount 10,000 USD")
        elif e.kind in ("cancelled", "collected", "invoiced", "amended") and deal not in booked:
            self.err("E-EXAMPLE", e, f"deal {deal} is {e.kind} before it is booked",
                     "list the booking first")
        elif e.kind in ("cancelled", "collected", "invoiced", "amended") and \
                None not in (booked[deal], _date(e.date)) and _date(e.date) < booked[deal]:
            # Events run in date order (language §5.2): this one would meet no booking.
            self.err("E-EXAMPLE", e.date, f"deal {deal} is {e.kind} on {e.date.raw}, before "
                     f"its booking on {booked[deal]}",
                     f"date it on or after {booked[deal]}, or correct the booking's date")
        if e.kind in ("collected", "invoiced", "amended") and "amount" not in keys:
            self.err("E-EXAMPLE", e, f"'{e.kind}' needs an amount")
        for a in e.attrs:
            if a.key == "by":
                known(a.value)
            elif a.key == "split":
                first: dict[str, n.Share] = {}
                merged: dict[str, Decimal] = {}
                for s in a.value:
                    known(s.name)
                    merged[s.name.text] = merged.get(s.name.text, ZERO) + s.share.value
                for s in a.value:
                    if s.name.text not in first:
                        first[s.name.text] = s
                        continue
                    # Each participant is one row of the recorded split: a second share for
                    # the same payee is a typo for another payee, or one share written in two.
                    shares = ", ".join(f"{who} {fmt_pct(v)}" for who, v in merged.items())
                    self.err("E-DUPLICATE", s.name, f"{s.name.text} appears twice in the split",
                             f"name each payee once: split {shares}, or name the other "
                             "participant here",
                             [Related(first[s.name.text].name.span, "first here")])
                total = sum(s.share.value for s in a.value)
                if total != 1:
                    self.err("E-SHARES", a, f"the recorded split totals {fmt_pct(total)}, "
                             "not 100%", "the percentages of a split must total 100%")
            elif a.key == "amount":
                c = constant(a.value)
                if c is not None and c[1].kind != ty.MONEY:
                    self.err("E-UNIT", a.value, "an amount needs a currency")
            elif a.key == "term":
                # The contract length, which deal.term and deal.annual_value read.
                if e.kind != "booked" or not isinstance(a.value, n.Duration) or \
                        a.value.unit.rstrip("s") not in ("month", "year") or \
                        a.value.count.value != int(a.value.count.value):
                    self.err("E-FIELD", a, "the contract term is set on the booking, in whole "
                             "months or years", f"e.g. deal {deal} booked {e.date.raw} by ana "
                             "amount 90,000 USD term 36 months")
            elif a.custom:
                spec = self.x.deal_fields.get(a.key)
                if spec is None or a.key in BUILTIN_DEAL:
                    named = n.NAME_PATTERN.fullmatch(a.key)
                    # The caret under the key (the pair is written key first), not its value;
                    # a key that is not a name is written in quotes.
                    key = attrs.evolve(a.span, end_line=a.span.line,
                                       end_column=a.span.column + len(a.key) + 2 * (not named))
                    self.err("E-FIELD", key, f"unknown deal field '{a.key}'",
                             sc.suggest(a.key, [k for k in self.x.deal_fields
                                                if k not in BUILTIN_DEAL]) or
                             (f"declare it in the fields block: deal.{a.key} "
                              f"{FIELD_TYPE_OF.get(type(a.value), 'text')}" if named else
                              "a field's name is one word of letters, digits and _, e.g. "
                              + ("_".join(re.findall(r"[A-Za-z0-9]+", a.key)) or "size")))
                    continue
                got = self.x.infer(a.value, PERIOD)
                if got.unknown or spec.unknown:  # a field declared on a broken line
                    continue
                if spec.kind == ty.ENUM:
                    if got.kind != ty.TEXT or a.value.value not in spec.values:
                        self.err("E-FIELD", a.value, f"{show(a.value)} is not a value of "
                                 f"deal.{a.key}, which is {spec}",
                                 sc.suggest(a.value.value, spec.values)
                                 if isinstance(a.value, n.Text) else None)
                elif ty.comparable(spec, got) or (spec.kind != got.kind and not
                                                  (spec.numeric and got.numeric)):
                    self.err("E-FIELD", a.value, f"deal.{a.key} is {spec}, but this is {got}")

    def sample_expectation(self, payees) -> str:
        """An `expect` line written with this plan's names: its first rule, the example's
        first payee, the plan's first quarter and currency (the amount is for the writer)."""
        rules = self.scope.names(sc.COMPONENT)
        start = self.effective[0] if self.effective else dt.date(2027, 1, 1)
        quarter = self.calendar.period_of(start, "quarter").label
        return (f"expect {rules[0] if rules else 'total'} for {next(iter(payees), 'ana')} "
                f"in {quarter} is 1,000 {self.currency}  # the amount worked out by hand")

    def example_period(self, p: n.PeriodLit | n.YearLit):
        period = self.calendar.parse(p.raw)
        if period is None:
            self.err("E-PERIOD", p, not_a_period_message(p.raw),
                     "periods look like 2027-Q1, 2027-03, 2027-H2 or 2027")
            return None
        if self.effective is not None:
            start, end = self.effective
            if period.end < start or (end is not None and period.start > end):
                first = self.calendar.period_of(start, "quarter").label
                self.err("E-EXAMPLE-PERIOD", p, f"{p.raw} ({period.start} to {period.end}) is "
                         f"outside the plan's effective range ({start} to {end or 'open'})",
                         "with a fiscal year, 2027-Q1 names the first quarter of FY2027"
                         if self.calendar.fiscal else
                         f"name a period inside the plan, e.g. {first}")
                return None
        return period

    def check_expectation(self, x: n.Expectation, known) -> None:
        known(x.payee)
        self.example_period(x.period)
        want = ty.money(self.currency)
        if x.kind == "rule":
            sym = self.scope.lookup(x.target.text)
            if sym is not None and sym.kind == sc.CLAWBACK:
                self.err("E-EXAMPLE-RULE", x.target, f"'{x.target.text}' is a clawback: it has "
                         "no earnings of its own",
                         "expect the component it reverses; its lines include the reversal")
                return
            if sym is None or sym.kind not in (sc.COMPONENT, sc.CREDIT, sc.MEASURE):
                self.err("E-EXAMPLE-RULE", x.target, f"'{x.target.text}' is not a rule, credit "
                         "or measure of this plan",
                         sc.suggest(x.target.text, self.scope.names(sc.COMPONENT, sc.CREDIT,
                                                                    sc.MEASURE)) or
                         "expect a component, credit or measure, or 'total' or 'paid'")
                return
            if sym.kind == sc.MEASURE:
                want = self.x.measure_types.get(x.target.text, ty.UNKNOWN)
        c = constant(x.value)
        if c is None:
            self.err("E-CONSTANT", x.value, "an expected value must be a fixed value")
            return
        got = c[1]
        if want.unknown:
            return
        if got != want and not (got.numeric and want.numeric):
            such = {ty.MONEY: f"26,000 {want.currency}", ty.PERCENT: "120%", ty.COUNT: "12",
                    ty.NUMBER: "12"}.get(want.kind)
            # A plain number missing its unit is shown back with the unit: `3,000` -> 3,000 USD.
            if got.numeric and want.kind == ty.MONEY:
                hint = f"write {show(x.value)} {want.currency}"
            elif got.numeric and want.kind == ty.PERCENT:
                hint = ratio_as_percent(x.value)
            else:
                hint = f"write the value as {want}" + (f", e.g. {such}" if such else "")
            self.err("E-EXAMPLE-UNIT", x.value, f"the expected value is {got}, but "
                     f"{x.target.text if x.target else x.kind} is {want}", hint)
            return
        if want.kind == ty.MONEY:
            digits = minor_digits(want.currency)
            units = c[0].scaleb(digits)
            if units != units.to_integral_value():
                # `incentive test` compares money rounded to the minor unit (as it is paid): a
                # finer expected amount passes for any amount that rounds the same.
                self.warn("W-EXAMPLE-PRECISION", x.value, f"{show(x.value)} is finer than "
                          f"{want.currency} is paid in ({digits} decimals): it is compared "
                          "rounded to that, and matches any amount that rounds the same",
                          f"write the amount with at most {digits} decimals, as it is paid"
                          if digits else "write the amount without decimals, as it is paid")


def refs(e: n.Node) -> list[str]:
    """Names referred to by an expression (measures, credits, components)."""
    return [x.name.text for x in n.walk(e) if isinstance(x, (n.Ref, n.TeamRef))]


def quota_refs_of(measure: str, tree: n.PlanFile) -> set[str]:
    """Quotas a measure uses, following the measures it uses."""
    measures = {b.name.text: b for b in tree.blocks if isinstance(b, n.MeasureBlock)}
    seen, todo, quotas = set(), [measure], set()
    while todo:
        name = todo.pop()
        if name in seen or name not in measures:
            continue
        seen.add(name)
        for node in n.walk(measures[name].expr):
            if isinstance(node, n.QuotaRef):
                quotas.add(node.name.text)
            elif isinstance(node, (n.Ref, n.TeamRef)):
                todo.append(node.name.text)
    return quotas


def head(block: n.Block) -> Span:
    """The span of a block's header line (a block's own span covers its whole body)."""
    end = block.name.span if isinstance(block, n.RuleBlock) else \
        block.name.span if isinstance(block, (n.PlanBlock, n.ExampleBlock)) else None
    s = block.span
    if end is None:
        return Span(s.path, s.line, s.column, s.line, s.column + 1)
    return Span(s.path, s.line, s.column, end.end_line, end.end_column)


def _windows_overlap(a: m.Window | None, b: m.Window | None) -> bool:
    """Whether two `during` windows share a day (no window: every day)."""
    if a is None or b is None:
        return True
    return (a.end is None or b.start <= a.end) and (b.end is None or a.start <= b.end)


def fmt_pct(value: Decimal) -> str:
    return f"{(value * 100).normalize():f}%"


def _date(d: n.DateLit) -> dt.date | None:
    """The date of a literal, or None for one that is not a calendar date (E-DATE)."""
    try:
        return d.value
    except ValueError:
        return None


def _deal(e: n.ExampleEvent) -> str:
    return e.deal.text if isinstance(e.deal, n.Ident) else e.deal.value


def _same_day_in(day: dt.date, start: dt.date, end: dt.date | None) -> dt.date | None:
    """`day` moved to a year of the plan's range (2026-02-10 -> 2027-02-10): the usual slip
    is the year."""
    for year in range(start.year, (end or start).year + 1):
        try:
            moved = day.replace(year=year)
        except ValueError:  # 29 February
            continue
        if start <= moved and (end is None or moved <= end):
            return moved
    return None


def _later_from(line: n.ExamplePayee, before: n.ExamplePayee) -> bool:
    """Whether a payee line starts later than the line before it (a change, not a repeat). A
    `from` that is not a calendar date (2027-02-30, reported as E-DATE) is taken as later: the
    line is not reported as a repeat as well."""
    dates = []
    for x in (line, before):
        given = next((a.value for a in x.attrs if a.key == "from"), None)
        try:
            dates.append(getattr(given, "value", None))
        except ValueError:
            return True
    return dates[0] is not None and (dates[1] is None or dates[0] > dates[1])
