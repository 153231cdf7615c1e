"""The one Lark transformer: Lark parse events in, frozen syntax nodes (nodes.py) out.

It runs inline in the LALR parser (no intermediate Lark tree and no recursion, so deeply nested
input cannot exhaust the Python stack here) with `keep_all_tokens`, so every node's span starts
at its first keyword. Comments are attached by line from a `CommentTable` built before parsing.
"""

from __future__ import annotations

import attrs
from lark import Token, Transformer

from incentive_dsl.syntax import nodes as n
from incentive_dsl.span import Span

# Terminals whose text is the value the author wrote; every other token is a keyword,
# punctuation or layout and carries no information beyond its position.
VALUE_TERMINALS = frozenset(
    {"NAME", "STRING", "NUMBER", "PERCENT", "MULTIPLIER", "DATE", "PERIOD", "CURRENCY", "MONTH",
     "COMPARE"}
)
LAYOUT_TERMINALS = frozenset({"_NL", "_INDENT", "_DEDENT"})


@attrs.frozen
class CommentTable:
    """Comments of a file, keyed by the code line they belong to."""

    leading: dict[int, tuple[n.Comment, ...]]
    trailing: dict[int, n.Comment]
    after_last: tuple[n.Comment, ...]


class Word(str):
    """A keyword (or keyword phrase) chosen by the author, with its position."""

    span: Span


class Builder(Transformer):
    """Callbacks named after grammar rules. Set `path`, `line_offset` and `comments` before each
    parse; the instance is owned by one parser and used under its lock."""

    def __init__(self) -> None:
        super().__init__(visit_tokens=False)
        self.path = "<input>"
        self.line_offset = 0
        self.comments = CommentTable({}, {}, ())

    # ------------------------------------------------------------------ helpers

    def _tok_span(self, t: Token) -> Span:
        off = self.line_offset
        return Span(self.path, t.line + off, t.column, t.end_line + off, t.end_column)

    def _span_of(self, item: object) -> Span | None:
        if isinstance(item, Token):
            return None if item.type in LAYOUT_TERMINALS else self._tok_span(item)
        if isinstance(item, (n.Node, Word)):
            return item.span
        if isinstance(item, tuple) and item:
            first, last = self._span_of(item[0]), self._span_of(item[-1])
            if first and last:
                return Span(first.path, first.line, first.column, last.end_line, last.end_column)
        return None

    def _span(self, children: list) -> Span:
        # Only the first and the last positioned child matter: scan in from both ends.
        first = next(s for s in map(self._span_of, children) if s is not None)
        last = next(s for s in map(self._span_of, reversed(children)) if s is not None)
        return Span(first.path, first.line, first.column, last.end_line, last.end_column)

    @staticmethod
    def _vals(children: list) -> list:
        """The meaningful children: values, nodes, words, None placeholders; not keywords."""
        out = []
        for c in children:
            if isinstance(c, Token):
                if c.type in VALUE_TERMINALS:
                    out.append(c)
            else:
                out.append(c)
        return out

    def _stmt(self, cls: type, children: list, **fields) -> n.Statement:
        span = self._span(children)
        return cls(
            span=span,
            leading=self.comments.leading.get(span.line, ()),
            trailing=self.comments.trailing.get(span.line),
            **fields,
        )

    def _ident(self, tok: Token) -> n.Ident:
        return n.Ident(text=str(tok), span=self._tok_span(tok))

    def _word(self, children: list) -> Word:
        w = Word(" ".join(str(c) for c in children if isinstance(c, Token)))
        w.span = self._span(children)
        return w

    def _lit(self, cls: type, children: list) -> n.Expr:
        (tok,) = [c for c in children if isinstance(c, Token)]
        return cls(raw=str(tok), span=self._tok_span(tok))

    # ------------------------------------------------------------------ keyword choices

    def keyword_choice(self, c):
        """Rules such as `period_unit` whose value is the keyword the author chose."""
        return self._word(c)

    # ------------------------------------------------------------------ shared parts

    def name_list(self, c):
        return tuple(self._ident(t) for t in c if isinstance(t, Token) and t.type == "NAME")

    def string_list(self, c):
        return tuple(self._lit(n.Text, [t]) for t in c if isinstance(t, Token) and t.type == "STRING")

    def closed_range(self, c):
        a, b = [self._lit(n.DateLit, [t]) for t in self._vals(c)]
        return n.DateRange(start=a, end=b, span=self._span(c))

    def open_range(self, c):
        (a,) = [self._lit(n.DateLit, [t]) for t in self._vals(c)]
        return n.DateRange(start=a, end=None, span=self._span(c))

    def role_share(self, c):
        name, pct = self._vals(c)
        return n.Share(name=self._ident(name), share=self._lit(n.Percent, [pct]), span=self._span(c))

    def money(self, c):
        num, cur = self._vals(c)
        return n.Money(amount=self._lit(n.Number, [num]), currency=str(cur), span=self._span(c))

    def count(self, c):
        return self._lit(n.Number, c)

    def duration(self, c):
        num, unit = self._vals(c)
        return n.Duration(count=self._lit(n.Number, [num]), unit=str(unit), span=self._span(c))

    def where(self, c):
        return self._vals(c)[0]

    def roles_filter(self, c):
        return self._stmt(n.RolesFilter, c, roles=self._vals(c)[0])

    def during_line(self, c):
        return self._stmt(n.During, c, range=self._vals(c)[0])

    def when_line(self, c):
        return self._stmt(n.When, c, condition=self._vals(c)[0])

    def limit_line(self, c):
        kind, amount, scope = self._vals(c)
        return self._stmt(n.Limit, c, kind=str(kind), amount=amount, scope=str(scope))

    def per_deal(self, c):
        return self._word([c[1]])

    def per_period(self, c):
        return c[1]

    def in_total(self, c):
        return self._word([c[1]])

    def _rule_block(self, cls: type, c: list, **extra) -> n.RuleBlock:
        v = self._vals(c)
        name, label = v[0], v[1]
        items = tuple(x for x in v[2:] if isinstance(x, n.Statement))
        return self._stmt(cls, c, name=self._ident(name),
                          label=self._lit(n.Text, [label]) if label is not None else None,
                          items=items, **extra)

    # ------------------------------------------------------------------ plan header

    def plan_file(self, c):
        return tuple(x for x in c if isinstance(x, n.Block))

    def plan_block(self, c):
        v = self._vals(c)
        return self._stmt(n.PlanBlock, c, name=self._lit(n.Text, [v[0]]), items=tuple(v[1:]))

    def currency_decl(self, c):
        return self._stmt(n.CurrencyDecl, c, code=self._ident(self._vals(c)[0]))

    def effective_decl(self, c):
        return self._stmt(n.EffectiveDecl, c, range=self._vals(c)[0])

    def version_decl(self, c):
        return self._stmt(n.VersionDecl, c, label=self._lit(n.Text, self._vals(c)))

    def roles_decl(self, c):
        return self._stmt(n.RolesDecl, c, roles=self._vals(c)[0])

    def applies_decl(self, c):
        return self._stmt(n.AppliesDecl, c, roles=self._vals(c)[0])

    def fiscal_decl(self, c):
        return self._stmt(n.FiscalDecl, c, month=self._ident(self._vals(c)[0]))

    def rounding_decl(self, c):
        mode, point = self._vals(c)
        return self._stmt(n.RoundingDecl, c, mode=str(mode), point=str(point))

    def fx_decl(self, c):
        return self._stmt(n.FxDecl, c, basis=str(self._vals(c)[0]))

    def vocabulary_decl(self, c):
        kind, values = self._vals(c)
        return self._stmt(n.VocabularyDecl, c, kind=str(kind), values=values)

    # ------------------------------------------------------------------ fields

    def fields_block(self, c):
        return self._stmt(n.FieldsBlock, c, items=tuple(self._vals(c)))

    def field_decl(self, c):
        owner, name, ftype = self._vals(c)
        kind, options = ftype
        return self._stmt(n.FieldDecl, c, owner=str(owner), name=self._ident(name), kind=kind,
                          options=options)

    def field_type(self, c):
        return (str(self._vals(c)[0]), ())

    def enum_type(self, c):
        return ("one of", self._vals(c)[0])

    # ------------------------------------------------------------------ quotas

    def quota_block(self, c):
        return self._rule_block(n.QuotaBlock, c)

    def quota_value(self, c):
        amount, period, roles, valid = self._vals(c)
        return self._stmt(n.QuotaValue, c, amount=amount, period=str(period),
                          roles=roles or (), valid=valid)

    def role_suffix(self, c):
        return self._vals(c)[0]

    def from_suffix(self, c):
        start, end = self._vals(c)
        return n.DateRange(start=self._lit(n.DateLit, [start]), end=end, span=self._span(c))

    def to_date(self, c):
        return self._lit(n.DateLit, self._vals(c))

    def share_of(self, c):
        return self._lit(n.Percent, self._vals(c))

    def per_suffix(self, c):
        return self._vals(c)[0]

    def tier_upper(self, c):
        return self._vals(c)[0]

    def quota_from_data(self, c):
        return self._stmt(n.QuotaFromData, c)

    def quota_forecast(self, c):
        uplift, method, measure, count, unit = self._vals(c)
        return self._stmt(
            n.QuotaForecast, c,
            uplift=uplift,
            method=str(method), measure=self._ident(measure), count=self._lit(n.Number, [count]),
            unit=str(unit),
        )

    def quota_prorate(self, c):
        return self._stmt(n.QuotaProration, c, basis=str(self._vals(c)[0]))

    def quota_no_proration(self, c):
        return self._stmt(n.QuotaProration, c, basis=None)

    def quota_ramp(self, c):
        return self._stmt(n.QuotaRamp, c, steps=tuple(self._vals(c)))

    def ramp_step(self, c):
        month, pct = self._vals(c)
        return n.RampStep(month=self._lit(n.Number, [month]), share=self._lit(n.Percent, [pct]),
                          span=self._span(c))

    def quota_normalize(self, c):
        return self._stmt(n.QuotaNormalize, c)

    # ------------------------------------------------------------------ credits

    def credit_block(self, c):
        return self._rule_block(n.CreditBlock, c)

    def trigger_line(self, c):
        return self._stmt(n.OnEvent, c, trigger=self._vals(c)[0])

    def deal_trigger(self, c):
        event, where = self._vals(c)
        return n.Trigger(kind="deal", event=str(event), subject=None, where=where,
                         span=self._span(c))

    def stage_trigger(self, c):
        stage, where = self._vals(c)
        return n.Trigger(kind="stage", event=None, subject=self._lit(n.Text, [stage]),
                         where=where, span=self._span(c))

    def activity_trigger(self, c):
        activity, where = self._vals(c)
        return n.Trigger(kind="activity", event=None, subject=self._lit(n.Text, [activity]),
                         where=where, span=self._span(c))

    def value_line(self, c):
        return self._stmt(n.ValueLine, c, value=self._vals(c)[0])

    def split_recorded(self, c):
        return self._stmt(n.SplitRule, c, mode="recorded")

    def split_evenly(self, c):
        return self._stmt(n.SplitRule, c, mode="evenly")

    def split_by_role(self, c):
        return self._stmt(n.SplitRule, c, mode="by role", shares=tuple(self._vals(c)))

    def credit_owner(self, c):
        return self._stmt(n.SplitRule, c, mode="owner")

    def overlay_line(self, c):
        roles, pct = self._vals(c)
        return self._stmt(n.Overlay, c, roles=roles, share=self._lit(n.Percent, [pct]))

    def rollup_line(self, c):
        return self._stmt(n.RollUp, c, scope=str(self._vals(c)[0]))

    def attribution_line(self, c):
        model, weights = self._vals(c)[0]
        # The model's Word is spanned over its words and weights: the line's span ends there.
        return self._stmt(n.Attribution, [*c, model], model=str(model), weights=weights)

    def first_touch(self, c):
        return (self._word(c), ())

    def last_touch(self, c):
        return (self._word(c), ())

    def linear_touches(self, c):
        return (self._word(c), ())

    def position_touches(self, c):
        model = Word("position")
        model.span = self._span(c)
        return (model, tuple(self._lit(n.Percent, [t]) for t in self._vals(c)))

    def digital_line(self, c):
        return self._stmt(n.DigitalCredit, c, share=self._lit(n.Percent, self._vals(c)))

    def budget_line(self, c):
        return self._stmt(n.Budget, c, amount=self._vals(c)[0])

    def cancelled_line(self, c):
        return self._stmt(n.CancelledCredit, c, choice=str(self._vals(c)[0]))

    # ------------------------------------------------------------------ measures

    def measure_block(self, c):
        name, label, expr = self._vals(c)
        return self._stmt(n.MeasureBlock, c, name=self._ident(name),
                          label=self._lit(n.Text, [label]) if label is not None else None,
                          expr=expr)

    # ------------------------------------------------------------------ commission

    def commission_block(self, c):
        return self._rule_block(n.CommissionBlock, c)

    def base_line(self, c):
        return self._stmt(n.BaseLine, c, credit=self._ident(self._vals(c)[0]))

    def rate_line(self, c):
        return self._stmt(n.RateLine, c, rate=self._vals(c)[0])

    def tier_table(self, c):
        v = self._vals(c)
        mode, key, period = v[0], v[1], v[2]
        return self._stmt(n.TierTable, c, mode=str(mode) if mode is not None else None,
                          key=key, period=str(period) if period is not None else None,
                          items=tuple(v[3:]))

    def tier_key(self, c):
        return self._ident(self._vals(c)[0])

    def deal_amount_key(self, c):
        return None

    def bound_rule(self, c):
        return self._stmt(n.BoundRule, c, side=str(self._vals(c)[0]))

    def tier_row(self, c):
        low, high, rate = self._vals(c)
        return self._stmt(n.TierRow, c, low=low, high=high, rate=rate)

    def accel_line(self, c):
        kind, factor, key, period, side, threshold = self._vals(c)
        return self._stmt(n.Accelerator, c, kind=str(kind), factor=self._lit(n.Multiplier, [factor]),
                          key=self._ident(key), period=str(period) if period is not None else None,
                          side=str(side), threshold=threshold)

    # ------------------------------------------------------------------ bonuses

    def bonus_block(self, c):
        return self._rule_block(n.BonusBlock, c)

    def step_schedule(self, c):
        v = self._vals(c)
        return self._stmt(n.StepSchedule, c, key=self._ident(v[0]), period=str(v[1]),
                          rows=tuple(v[2:]))

    def step_row(self, c):
        threshold, pay = self._vals(c)
        return self._stmt(n.StepRow, c, threshold=threshold, pay=pay)

    def linear_schedule(self, c):
        key, period, low, high = self._vals(c)
        return self._stmt(n.LinearSchedule, c, key=self._ident(key), period=str(period),
                          low=low, high=high)

    def linear_from(self, c):
        threshold, pay = self._vals(c)
        return self._stmt(n.LinearPoint, c, end="from", threshold=threshold, pay=pay)

    def linear_to(self, c):
        threshold, pay = self._vals(c)
        return self._stmt(n.LinearPoint, c, end="to", threshold=threshold, pay=pay)

    # ------------------------------------------------------------------ event rewards

    def spiff_block(self, c):
        return self._rule_block(n.SpiffBlock, c)

    def pay_line(self, c):
        return self._stmt(n.PayLine, c, amount=self._vals(c)[0])

    def stage_block(self, c):
        return self._rule_block(n.StageRewardBlock, c)

    def stage_pay(self, c):
        stage, where, amount = self._vals(c)
        return self._stmt(n.StagePay, c, stage=self._lit(n.Text, [stage]), where=where,
                          amount=amount)

    def net_line(self, c):
        return self._stmt(n.NetAgainst, c, component=self._ident(self._vals(c)[0]))

    def activity_block(self, c):
        return self._rule_block(n.ActivityRewardBlock, c)

    def activity_pay(self, c):
        activity, where, amount = self._vals(c)
        return self._stmt(n.ActivityPay, c, activity=self._lit(n.Text, [activity]), where=where,
                          amount=amount)

    # ------------------------------------------------------------------ pools and overrides

    def pool_block(self, c):
        return self._rule_block(n.PoolBlock, c)

    def fund_line(self, c):
        amount, period = self._vals(c)
        return self._stmt(n.PeriodicAmount, c, verb="fund", amount=amount, period=str(period))

    def share_equally(self, c):
        return self._stmt(n.ShareRule, c, mode="equally")

    def share_by(self, c):
        return self._stmt(n.ShareRule, c, mode="by", by=self._ident(self._vals(c)[0]))

    def override_block(self, c):
        return self._rule_block(n.OverrideBlock, c)

    def periodic_pay(self, c):
        amount, period = self._vals(c)
        return self._stmt(n.PeriodicAmount, c, verb="pay", amount=amount, period=str(period))

    # ------------------------------------------------------------------ clawbacks

    def clawback_block(self, c):
        return self._rule_block(n.ClawbackBlock, c)

    def cancel_window(self, c):
        return self._stmt(n.CancelWindow, c, within=self._vals(c)[0])

    def reverse_line(self, c):
        names, share = self._vals(c)
        return self._stmt(n.Reverse, c, components=names, share=share)

    # ------------------------------------------------------------------ payout

    def payout_block(self, c):
        return self._stmt(n.PayoutBlock, c, items=tuple(self._vals(c)))

    def frequency_line(self, c):
        frequency, start = self._vals(c)
        return self._stmt(n.Frequency, c, frequency=str(frequency), start=start)

    def pay_start(self, c):
        return self._lit(n.DateLit, self._vals(c))

    def advance_periodic(self, c):
        amount, period, months = self._vals(c)
        return self._stmt(n.Advance, c, amount=amount, period=str(period), months=months)

    def advance_at_hire(self, c):
        (amount,) = self._vals(c)
        return self._stmt(n.Advance, c, amount=amount)

    def recover_line(self, c):
        (share,) = self._vals(c)
        return self._stmt(n.RecoverAdvances, c, share=share)

    def recover_share(self, c):
        return self._lit(n.Percent, self._vals(c))

    def forgive_advances_at(self, c):
        return self._stmt(n.ForgiveAdvances, c, when="at",
                          date=self._lit(n.DateLit, self._vals(c)))

    def forgive_advances_on_termination(self, c):
        return self._stmt(n.ForgiveAdvances, c, when="termination")

    def compensation_block(self, c):
        return self._stmt(n.CompensationBlock, c, items=tuple(self._vals(c)))

    def salary_line(self, c):
        return self._compensation("base salary", c)

    def target_line(self, c):
        return self._compensation("target incentive", c)

    def _compensation(self, kind: str, c):
        amount, period, roles, valid = self._vals(c)
        return self._stmt(n.CompensationAmount, c, kind=kind, amount=amount, period=str(period),
                          roles=roles or (), valid=valid)

    def schedule_line(self, c):
        return self._stmt(n.Schedule, c, legs=tuple(self._vals(c)))

    def schedule_leg(self, c):
        share, event = self._vals(c)
        return n.ScheduleLeg(share=self._lit(n.Percent, [share]), event=str(event),
                             span=self._span(c))

    def holdback_for(self, c):
        share, duration = self._vals(c)
        return self._stmt(n.Holdback, c, share=self._lit(n.Percent, [share]), release="for",
                          duration=duration)

    def holdback_until(self, c):
        share, date = self._vals(c)
        return self._stmt(n.Holdback, c, share=self._lit(n.Percent, [share]), release="until",
                          date=self._lit(n.DateLit, [date]))

    def holdback_year_end(self, c):
        return self._stmt(n.Holdback, c, share=self._lit(n.Percent, self._vals(c)),
                          release="year end")

    def draw_line(self, c):
        amount, period, recovery, months, forgiveness = self._vals(c)
        kind, date = forgiveness if forgiveness is not None else (None, None)
        return self._stmt(n.Draw, c, amount=amount, period=str(period), recovery=recovery,
                          months=months, forgiveness=kind, forgive_date=date)

    def draw_non_recoverable(self, c):
        return "non-recoverable"

    def draw_from_excess(self, c):
        return "excess"

    def draw_from_all(self, c):
        return "all earnings"

    def draw_limit(self, c):
        return self._lit(n.Number, self._vals(c))

    def forgiven_at(self, c):
        return ("at", self._lit(n.DateLit, self._vals(c)))

    def forgiven_on_termination(self, c):
        return ("termination", None)

    # ------------------------------------------------------------------ examples

    def example_block(self, c):
        v = self._vals(c)
        return self._stmt(n.ExampleBlock, c, name=self._lit(n.Text, [v[0]]), items=tuple(v[1:]))

    def example_payee(self, c):
        v = self._vals(c)
        return self._stmt(n.ExamplePayee, c, payee=self._ident(v[0]), attrs=tuple(v[1:]))

    def _attr(self, key: str, value, c, custom: bool = False) -> n.Attr:
        return n.Attr(key=key, value=value, custom=custom, span=self._span(c))

    def payee_role(self, c):
        return self._attr("role", self._ident(self._vals(c)[0]), c)

    def payee_from(self, c):
        return self._attr("from", self._lit(n.DateLit, self._vals(c)), c)

    def payee_to(self, c):
        return self._attr("to", self._lit(n.DateLit, self._vals(c)), c)

    def payee_manager(self, c):
        return self._attr("manager", self._ident(self._vals(c)[0]), c)

    def payee_team(self, c):
        return self._attr("team", self._lit(n.Text, self._vals(c)), c)

    def payee_territory(self, c):
        return self._attr("territory", self._lit(n.Text, self._vals(c)), c)

    def example_event(self, c):
        v = self._vals(c)
        deal = v[0]
        deal_node = self._ident(deal) if deal.type == "NAME" else self._lit(n.Text, [deal])
        kind, subject = v[1]
        return self._stmt(n.ExampleEvent, c, deal=deal_node, kind=kind, subject=subject,
                          date=self._lit(n.DateLit, [v[2]]), attrs=tuple(v[3:]))

    def event_kind(self, c):
        return (str(self._vals(c)[0]), None)

    def stage_event(self, c):
        return ("stage", self._lit(n.Text, self._vals(c)))

    def touch_event(self, c):
        return ("touch", self._lit(n.Text, self._vals(c)))

    def by_attr(self, c):
        return self._attr("by", self._ident(self._vals(c)[0]), c)

    def amount_attr(self, c):
        return self._attr("amount", self._vals(c)[0], c)

    def split_attr(self, c):
        return self._attr("split", tuple(self._vals(c)), c)

    def field_attr(self, c):
        name, value = self._vals(c)
        key = n.Text(raw=str(name)).value if name.type == "STRING" else str(name)
        return self._attr(key, value, c, custom=True)

    def example_activity(self, c):
        v = self._vals(c)
        return self._stmt(n.ExampleActivity, c, activity=self._lit(n.Text, [v[0]]),
                          date=self._lit(n.DateLit, [v[1]]), by=self._ident(v[2]),
                          attrs=tuple(v[3:]))

    def example_quota(self, c):
        quota, payee, period, amount = self._vals(c)
        return self._stmt(n.ExampleQuota, c, quota=self._ident(quota), payee=self._ident(payee),
                          period=period, amount=amount)

    def example_fx(self, c):
        source, target, date = self._vals(c)
        return self._stmt(n.ExampleFx, c, source=source, target=target,
                          date=self._lit(n.DateLit, [date]))

    def example_territory(self, c):
        name, index = self._vals(c)
        return self._stmt(n.ExampleTerritory, c, territory=self._lit(n.Text, [name]),
                          index=self._lit(n.Percent, [index]))

    def expectation(self, c):
        (kind, target), payee, period, value = self._vals(c)
        return self._stmt(n.Expectation, c, kind=kind, target=target, payee=self._ident(payee),
                          period=period, value=value)

    def expect_target(self, c):
        return ("rule", self._ident(self._vals(c)[0]))

    def expect_total(self, c):
        return ("total", None)

    def expect_paid(self, c):
        return ("paid", None)

    def period(self, c):
        return self._lit(n.PeriodLit, c)

    def year(self, c):
        return self._lit(n.YearLit, c)

    # ------------------------------------------------------------------ expressions

    def if_then_else(self, c):
        cond, then, otherwise = self._vals(c)
        return n.IfThenElse(condition=cond, then=then, otherwise=otherwise, span=self._span(c))

    def _binary(self, op: str, c: list) -> n.Binary:
        left, right = [x for x in self._vals(c) if not isinstance(x, Token)]
        return n.Binary(op=op, left=left, right=right, span=self._span(c))

    def or_op(self, c):
        return self._binary("or", c)

    def and_op(self, c):
        return self._binary("and", c)

    def not_op(self, c):
        return n.Unary(op="not", operand=self._vals(c)[0], span=self._span(c))

    def compare(self, c):
        left, op, right = self._vals(c)
        return n.Binary(op=str(op), left=left, right=right, span=self._span(c))

    def reaches(self, c):
        return self._binary("reaches", c)

    def is_op(self, c):
        return self._binary("is", c)

    def is_not_op(self, c):
        return self._binary("is not", c)

    def one_of(self, c):
        operand, options = self._vals(c)
        return n.OneOf(operand=operand, options=options, span=self._span(c))

    def not_one_of(self, c):
        operand, options = self._vals(c)
        return n.OneOf(operand=operand, options=options, negated=True, span=self._span(c))

    def in_op(self, c):
        return self._binary("in", c)

    def not_in_op(self, c):
        return self._binary("not in", c)

    def in_range(self, c):
        operand, low, high = self._vals(c)
        return n.InRange(operand=operand, low=low, high=high, span=self._span(c))

    def not_in_range(self, c):
        operand, low, high = self._vals(c)
        return n.InRange(operand=operand, low=low, high=high, negated=True, span=self._span(c))

    def add(self, c):
        return self._binary("+", c)

    def sub(self, c):
        return self._binary("-", c)

    def mul(self, c):
        return self._binary("*", c)

    def div(self, c):
        return self._binary("/", c)

    def of_op(self, c):
        return self._binary("of", c)

    def neg(self, c):
        return n.Unary(op="-", operand=self._vals(c)[0], span=self._span(c))

    def ref(self, c):
        return n.Ref(name=self._ident(c[0]), span=self._span(c))

    def field(self, c):
        parts = tuple(self._ident(t) for t in self._vals(c))
        return n.FieldRef(parts=parts, span=self._span(c))

    def quota_ref(self, c):
        return n.QuotaRef(name=self._ident(self._vals(c)[0]), span=self._span(c))

    def team_ref(self, c):
        return n.TeamRef(name=self._ident(self._vals(c)[0]), span=self._span(c))

    def call(self, c):
        v = self._vals(c)
        args, where = v[1] if v[1] is not None else ((), None)
        return n.Call(func=self._ident(v[0]), args=args, where=where, span=self._span(c))

    def call_args(self, c):
        v = self._vals(c)
        return tuple(v[:-1]), v[-1]

    def expr_list(self, c):
        return tuple(self._vals(c))

    def paren(self, c):
        return n.Paren(inner=self._vals(c)[0], span=self._span(c))

    def number(self, c):
        return self._lit(n.Number, c)

    def percent(self, c):
        return self._lit(n.Percent, c)

    def multiplier(self, c):
        return self._lit(n.Multiplier, c)

    def date(self, c):
        return self._lit(n.DateLit, c)

    def text(self, c):
        return self._lit(n.Text, c)

    def true(self, c):
        return n.Bool(value=True, span=self._span(c))

    def false(self, c):
        return n.Bool(value=False, span=self._span(c))


# Rules whose value is the keyword (or keyword phrase) the author chose.
KEYWORD_CHOICE_RULES = (
    "round_mode", "rounding_point", "fx_basis", "vocabulary_kind", "field_owner", "field_kind",
    "forecast_method", "proration_basis", "deal_event", "rollup_scope", "cancelled_choice",
    "tier_mode", "bound_side", "accel_kind", "accel_side", "frequency", "schedule_event",
    "limit_kind", "period_unit", "period_units", "duration_unit",
)
for _rule in KEYWORD_CHOICE_RULES:
    setattr(Builder, _rule, Builder.keyword_choice)
