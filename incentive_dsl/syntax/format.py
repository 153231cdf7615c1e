"""Syntax tree -> canonical text (`incentive fmt`).

The canonical layout: two spaces per indentation level, one space between tokens, no space
inside parentheses or before commas, comments on their own lines indented like the statement
they stand above, trailing comments two spaces after the code, one blank line between blocks
(none between consecutive one-line `measure` blocks), a final newline.

Formatting changes layout only: literals keep the author's spelling and every token is printed
in its original order, so the sequence of non-blank tokens is unchanged (tests/test_syntax_properties.py).
Printing is driven by the tree, so `parse(format(tree)) == tree` for any tree this module can
print, and `format` is idempotent.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from incentive_dsl.periods import DURATION_WORDS, months_text
from incentive_dsl.syntax import nodes as n

INDENT = "  "


def format_file(tree: n.PlanFile) -> str:
    out: list[str] = []
    previous: n.Block | None = None
    for block in tree.blocks:
        if previous is not None and not (
            isinstance(block, n.MeasureBlock) and isinstance(previous, n.MeasureBlock)
            and not block.leading
        ):
            out.append("")
        _statement(block, 0, out)
        previous = block
    if tree.trailing_comments:
        if out:
            out.append("")
        out.extend(c.text for c in tree.trailing_comments)
    return "\n".join(out) + "\n" if out else ""


def statement_lines(stmt: n.Statement) -> list[str]:
    """One block (or statement) in the canonical layout, with its comments: how generated
    documents quote a plan's worked examples."""
    out: list[str] = []
    _statement(stmt, 0, out)
    return out


def _statement(stmt: n.Statement, depth: int, out: list[str]) -> None:
    pad = INDENT * depth
    for c in stmt.leading:
        out.append(pad + c.text)
    line = pad + _HEAD[type(stmt)](stmt)
    if stmt.trailing is not None:
        line += "  " + stmt.trailing.text
    out.append(line)
    for child in _body(stmt):
        _statement(child, depth + 1, out)


def _body(stmt: n.Statement) -> tuple[n.Statement, ...]:
    if isinstance(stmt, (n.Block, n.TierTable)):
        return stmt.items
    if isinstance(stmt, n.StepSchedule):
        return stmt.rows
    if isinstance(stmt, n.LinearSchedule):
        return (stmt.low, stmt.high)
    return ()


# ------------------------------------------------------------------------------ expressions


def expr(e: n.Expr) -> str:
    """The canonical text of an expression (also used by diagnostics and explanations). The
    tree keeps the author's parentheses as Paren nodes, so printing never adds or drops any."""
    return _EXPR[type(e)](e)


def _join(items, sep: str = ", ") -> str:
    return sep.join(items)


_EXPR: dict[type, Callable[[n.Expr], str]] = {
    n.Number: lambda e: e.raw,
    n.Percent: lambda e: e.raw,
    n.Multiplier: lambda e: e.raw,
    n.Money: lambda e: f"{e.amount.raw} {e.currency}",
    n.Duration: lambda e: f"{e.count.raw} {e.unit}",
    n.DateLit: lambda e: e.raw,
    n.PeriodLit: lambda e: e.raw,
    n.YearLit: lambda e: e.raw,
    n.Text: lambda e: e.raw,
    n.Bool: lambda e: "true" if e.value else "false",
    n.Ref: lambda e: e.name.text,
    n.FieldRef: lambda e: ".".join(p.text for p in e.parts),
    n.QuotaRef: lambda e: f"quota {e.name.text}",
    n.TeamRef: lambda e: f"team {e.name.text}",
    n.Call: lambda e: f"{e.func.text}({_call_args(e)})",
    n.Paren: lambda e: f"({expr(e.inner)})",
    n.Unary: lambda e: f"-{expr(e.operand)}" if e.op == "-" else f"not {expr(e.operand)}",
    n.Binary: lambda e: f"{expr(e.left)} {e.op} {expr(e.right)}",
    n.OneOf: lambda e: (f"{expr(e.operand)} is {'not ' if e.negated else ''}one of "
                        f"({_join(expr(o) for o in e.options)})"),
    n.InRange: lambda e: (f"{expr(e.operand)} {'not in' if e.negated else 'in'} "
                          f"{expr(e.low)} to {expr(e.high)}"),
    n.IfThenElse: lambda e: (f"if {expr(e.condition)} then {expr(e.then)} "
                             f"else {expr(e.otherwise)}"),
}


def _call_args(e: n.Call) -> str:
    text = _join(expr(a) for a in e.args)
    if e.where is not None:
        text += f" where {expr(e.where)}"
    return text


# ------------------------------------------------------------------------------ statements


def _names(ids: tuple[n.Ident, ...]) -> str:
    return _join(i.text for i in ids)


def _texts(values: tuple[n.Text, ...]) -> str:
    return _join(v.raw for v in values)


def _range(r: n.DateRange) -> str:
    return f"{r.start.raw} to {r.end.raw}" if r.end is not None else f"from {r.start.raw}"


def _rule(keyword: str, b: n.RuleBlock) -> str:
    return f"{keyword} {b.name.text}" + (f" {b.label.raw}" if b.label is not None else "")


def _where(w: n.Expr | None) -> str:
    return f" where {expr(w)}" if w is not None else ""


def _trigger(t: n.Trigger) -> str:
    if t.kind == "deal":
        return f"on deal {t.event}{_where(t.where)}"
    if t.kind == "stage":
        return f"on deal reaching {t.subject.raw}{_where(t.where)}"
    return f"on activity {t.subject.raw}{_where(t.where)}"


def _quota_value(s: n.QuotaValue) -> str:
    return _for_roles_from(f"{expr(s.amount)} per {s.period}", s)


def _for_roles_from(text: str, s: n.QuotaValue | n.CompensationAmount) -> str:
    if s.roles:
        text += f" for role {_names(s.roles)}"
    if s.valid is not None:
        text += f" from {s.valid.start.raw}"
        if s.valid.end is not None:
            text += f" to {s.valid.end.raw}"
    return text


def _forecast(s: n.QuotaForecast) -> str:
    uplift = f"{s.uplift.raw} of " if s.uplift is not None else ""
    return f"forecast {uplift}{s.method} of {s.measure.text} over {s.count.raw} {s.unit}"


def _split(s: n.SplitRule) -> str:
    if s.mode == "recorded":
        return "split as recorded"
    if s.mode == "evenly":
        return "split evenly"
    if s.mode == "owner":
        return "to owner"
    return "split by role " + _join(f"{sh.name.text} {sh.share.raw}" for sh in s.shares)


def _attribution(s: n.Attribution) -> str:
    if s.model == "position":
        first, middle, last = (w.raw for w in s.weights)
        return f"attribute by position {first} first, {middle} middle, {last} last"
    return f"attribute by {s.model}"


def _tier_table(s: n.TierTable) -> str:
    mode = f"{s.mode} " if s.mode is not None else ""
    key = s.key.text if s.key is not None else "deal amount"
    period = f" per {s.period}" if s.period is not None else ""
    return f"{mode}rates by {key}{period}"


def _tier_row(s: n.TierRow) -> str:
    high = f" to {expr(s.high)}" if s.high is not None else ""
    return f"from {expr(s.low)}{high} at {expr(s.rate)}"


def _accelerator(s: n.Accelerator) -> str:
    period = f" per {s.period}" if s.period is not None else ""
    return f"{s.kind} {s.factor.raw} by {s.key.text}{period} {s.side} {expr(s.threshold)}"


def _limit(s: n.Limit) -> str:
    scope = "in total" if s.scope == "total" else f"per {s.scope}"
    return f"{s.kind} {expr(s.amount)} {scope}"


def _holdback(s: n.Holdback) -> str:
    if s.release == "for":
        return f"hold back {s.share.raw} for {expr(s.duration)}"
    if s.release == "until":
        return f"hold back {s.share.raw} until {s.date.raw}"
    return f"hold back {s.share.raw} until year end"


# How a draw's recovery mode is written (also used when a plan diff shows it).
DRAW_RECOVERY_WORDS = {"non-recoverable": "non-recoverable", "excess": "recoverable from excess",
                       "all earnings": "recoverable from all earnings"}


def _draw(s: n.Draw) -> str:
    recovery = DRAW_RECOVERY_WORDS[s.recovery]
    text = f"draw {expr(s.amount)} per {s.period} {recovery}"
    if s.months is not None:
        text += f" for the first {months_text(s.months.raw)} of employment"
    if s.forgiveness == "at":
        text += f" forgiven at {s.forgive_date.raw}"
    elif s.forgiveness == "termination":
        text += " forgiven on termination"
    return text


def _advance(s: n.Advance) -> str:
    if s.period is None:
        return f"advance {expr(s.amount)} at hire"
    return (f"advance {expr(s.amount)} per {s.period} for the first {months_text(s.months.raw)} of "
            "employment")


def _attr_value(a: n.Attr) -> str:
    if isinstance(a.value, tuple):
        return _join(f"{sh.name.text} {sh.share.raw}" for sh in a.value)
    if isinstance(a.value, n.Ident):
        return a.value.text
    return expr(a.value)


# A custom field's key is written bare where it reads back as that key, else quoted: a word the
# line's own attributes begin with, a word that would go on with the value before it (an
# operator, `per`, `at`, `to`: `x 5 in 0%` reads `5 in 0%` as one expression; `first` and `from`
# after money), a key that is not a name, and, after a value that is a plain number, a key the
# number would take as its unit (`seats 5 ARR 120,000 USD` reads `5 ARR` as money, `seats 5
# months 12` reads `5 months` as a duration). tests/test_syntax_properties.py tries every
# keyword of the grammar after every kind of value.
_ATTR_WORDS = frozenset({"by", "amount", "split", "and", "at", "else", "first", "from", "in",
                         "is", "not", "of", "or", "pay", "per", "reaches", "then", "to",
                         "where"})
_CURRENCY_LIKE = re.compile(r"[A-Z]{3}")


def _key(a: n.Attr, after_number: bool) -> str:
    key = a.key
    if not a.custom or (n.NAME_PATTERN.fullmatch(key) and key not in _ATTR_WORDS and not (
            after_number and (key in DURATION_WORDS or _CURRENCY_LIKE.fullmatch(key)))):
        return key
    return '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _attrs(attrs: tuple[n.Attr, ...]) -> str:
    out, after_number = [], False
    for a in attrs:
        out.append(f" {_key(a, after_number)} {_attr_value(a)}")
        after_number = isinstance(a.value, n.Number)
    return "".join(out)


def _event(s: n.ExampleEvent) -> str:
    deal = s.deal.text if isinstance(s.deal, n.Ident) else s.deal.raw
    kind = f"{s.kind} {s.subject.raw}" if s.subject is not None else s.kind
    return f"deal {deal} {kind} {s.date.raw}{_attrs(s.attrs)}"


def _expectation(s: n.Expectation) -> str:
    target = s.target.text if s.kind == "rule" else s.kind
    return f"expect {target} for {s.payee.text} in {expr(s.period)} is {expr(s.value)}"


_HEAD: dict[type, Callable] = {
    # plan header
    n.PlanBlock: lambda s: f"plan {s.name.raw}",
    n.CurrencyDecl: lambda s: f"currency {s.code.text}",
    n.EffectiveDecl: lambda s: f"effective {_range(s.range)}",
    n.VersionDecl: lambda s: f"version {s.label.raw}",
    n.RolesDecl: lambda s: f"roles {_names(s.roles)}",
    n.AppliesDecl: lambda s: f"applies to role {_names(s.roles)}",
    n.FiscalDecl: lambda s: f"fiscal year starts in {s.month.text}",
    n.RoundingDecl: lambda s: f"rounding {s.mode} per {s.point}",
    n.FxDecl: lambda s: f"convert currencies at rate on {s.basis}",
    n.VocabularyDecl: lambda s: f"{s.kind} {_texts(s.values)}",
    # fields
    n.FieldsBlock: lambda s: "fields",
    n.FieldDecl: lambda s: (f"{s.owner}.{s.name.text} " +
                            (f"one of {_texts(s.options)}" if s.kind == "one of" else s.kind)),
    # quotas
    n.QuotaBlock: lambda s: _rule("quota", s),
    n.QuotaValue: _quota_value,
    n.QuotaFromData: lambda s: "from data",
    n.QuotaForecast: _forecast,
    n.QuotaProration: lambda s: (f"prorate by active {s.basis}" if s.basis is not None
                                 else "no proration"),
    n.QuotaRamp: lambda s: "ramp " + _join(f"month {r.month.raw} at {r.share.raw}"
                                            for r in s.steps),
    n.QuotaNormalize: lambda s: "normalize by territory index",
    # credits
    n.CreditBlock: lambda s: _rule("credit", s),
    n.OnEvent: lambda s: _trigger(s.trigger),
    n.ValueLine: lambda s: f"value {expr(s.value)}",
    n.SplitRule: _split,
    n.Overlay: lambda s: f"overlay role {_names(s.roles)} at {s.share.raw}",
    n.RollUp: lambda s: f"roll up to {s.scope}",
    n.Attribution: _attribution,
    n.DigitalCredit: lambda s: f"digital touches credit owner at {s.share.raw}",
    n.CancelledCredit: lambda s: f"cancelled deals {s.choice} their credit",
    n.Budget: lambda s: f"budget {expr(s.amount)} first come first served",
    # measures
    n.MeasureBlock: lambda s: _rule("measure", s) + f" = {expr(s.expr)}",
    # commission
    n.CommissionBlock: lambda s: _rule("commission", s),
    n.BaseLine: lambda s: f"on {s.credit.text}",
    n.RateLine: lambda s: f"rate {expr(s.rate)}",
    n.TierTable: _tier_table,
    n.BoundRule: lambda s: f"each bound belongs to the tier {s.side}",
    n.TierRow: _tier_row,
    n.Accelerator: _accelerator,
    # shared lines
    n.Limit: _limit,
    n.When: lambda s: f"when {expr(s.condition)}",
    n.RolesFilter: lambda s: f"for role {_names(s.roles)}",
    n.During: lambda s: f"during {_range(s.range)}",
    # bonuses
    n.BonusBlock: lambda s: _rule("bonus", s),
    n.StepSchedule: lambda s: f"step on {s.key.text} per {s.period}",
    n.StepRow: lambda s: f"at {expr(s.threshold)} pay {expr(s.pay)}",
    n.LinearSchedule: lambda s: f"linear on {s.key.text} per {s.period}",
    n.LinearPoint: lambda s: f"{s.end} {expr(s.threshold)} pay {expr(s.pay)}",
    # event rewards
    n.SpiffBlock: lambda s: _rule("spiff", s),
    n.PayLine: lambda s: f"pay {expr(s.amount)}",
    n.StageRewardBlock: lambda s: _rule("stage reward", s),
    n.StagePay: lambda s: f"on deal reaching {s.stage.raw}{_where(s.where)} pay {expr(s.amount)}",
    n.NetAgainst: lambda s: f"net against {s.component.text} when deal booked",
    n.ActivityRewardBlock: lambda s: _rule("activity reward", s),
    n.ActivityPay: lambda s: (f"on activity {s.activity.raw}{_where(s.where)} "
                              f"pay {expr(s.amount)}"),
    # pools and overrides
    n.PoolBlock: lambda s: _rule("pool", s),
    n.OverrideBlock: lambda s: _rule("override", s),
    n.PeriodicAmount: lambda s: f"{s.verb} {expr(s.amount)} per {s.period}",
    n.ShareRule: lambda s: "share equally" if s.mode == "equally" else f"share by {s.by.text}",
    # clawbacks
    n.ClawbackBlock: lambda s: _rule("clawback", s),
    n.CancelWindow: lambda s: f"when deal cancelled within {expr(s.within)} of booking",
    n.Reverse: lambda s: (f"reverse {_names(s.components)} at "
                          + (f"{s.share.raw} of " if s.share is not None else "")
                          + "original amounts"),
    # payout
    n.PayoutBlock: lambda s: "payout",
    n.Frequency: lambda s: f"paid {s.frequency}" + (f" from {s.start.raw}" if s.start else ""),
    n.Schedule: lambda s: _join(f"{leg.share.raw} when {leg.event}" for leg in s.legs),
    n.Holdback: _holdback,
    n.Draw: _draw,
    n.Advance: _advance,
    n.RecoverAdvances: lambda s: "recover advances from later pay" + (
        f" at most {s.share.raw} of each payout" if s.share is not None else ""),
    n.ForgiveAdvances: lambda s: ("forgive advances on termination" if s.when == "termination"
                                  else f"forgive advances at {s.date.raw}"),
    # compensation
    n.CompensationBlock: lambda s: "compensation",
    n.CompensationAmount: lambda s: _for_roles_from(f"{s.kind} {expr(s.amount)} per {s.period}",
                                                    s),
    # examples
    n.ExampleBlock: lambda s: f"example {s.name.raw}",
    n.ExamplePayee: lambda s: f"payee {s.payee.text}{_attrs(s.attrs)}",
    n.ExampleEvent: _event,
    n.ExampleActivity: lambda s: (f"activity {s.activity.raw} {s.date.raw} by {s.by.text}"
                                  f"{_attrs(s.attrs)}"),
    n.ExampleQuota: lambda s: (f"quota {s.quota.text} for {s.payee.text} in {expr(s.period)} "
                               f"is {expr(s.amount)}"),
    n.ExampleFx: lambda s: f"fx {expr(s.source)} is {expr(s.target)} from {s.date.raw}",
    n.ExampleTerritory: lambda s: f"territory {s.territory.raw} index {s.index.raw}",
    n.Expectation: _expectation,
}
