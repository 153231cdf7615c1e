"""What changed between two checked plans, in plan words ("Core commission: tier from 100% to
150%: rate 12% → 13%"), for plan reviews.

The checked models (check/model.py) are compared, never the text: spans, comments, layout and the
spelling of literals (`250,000` or `250000`, `8%` or `8.0%`, redundant parentheses) do not count,
so a change of comments or layout only gives no change at all. Rules are matched by name; a rule
whose name changed and nothing else is reported as renamed. Inside a rule, tier rows are matched
by their lower bound, bonus steps by threshold, caps and floors by kind and scope, quota values
by roles and dates, pay lines by stage or activity. Every model field is compared: the ones
without words of their own here are still reported, by field name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal

import attrs

from incentive_dsl.check import model as m
from incentive_dsl.eval.money import CONTEXT, fmt, fmt_pct
from incentive_dsl.periods import MONTH_NAMES, months_text, unit_text
from incentive_dsl.span import Span
from incentive_dsl.syntax import nodes as n
from incentive_dsl.syntax.format import DRAW_RECOVERY_WORDS
from incentive_dsl.syntax.format import expr as show

KEYWORDS = {m.CommissionSpec: "commission", m.BonusSpec: "bonus", m.SpiffSpec: "SPIFF",
            m.StageRewardSpec: "stage reward", m.ActivityRewardSpec: "activity reward",
            m.PoolSpec: "pool", m.OverrideSpec: "override", m.QuotaSpec: "quota",
            m.CreditSpec: "credit", m.MeasureSpec: "measure", m.ClawbackSpec: "clawback"}

# Fields that carry no meaning: where the text was, how it was spelled, what it hashed to.
NOT_COMPARED: dict[type, frozenset[str]] = {
    m.Plan: frozenset({"path", "source_hash", "span"}),
    m.TierRowSpec: frozenset({"span", "text"}),
    m.Rounding: frozenset({"stated"}),
}


@attrs.frozen
class Change:
    """One difference, attached to the rule (or plan part) it belongs to."""

    section: str  # one of SECTIONS
    kind: str  # the rule's keyword (commission, SPIFF, quota ...), or plan, payout, field, example
    name: str | None  # the rule's name; None for the plan header and the payout block
    title: str  # what the rule is called: its label, else "kind name"
    action: str  # added, removed, renamed, changed
    detail: str  # "tier from 100% to 150%: rate 12% → 13%"
    old: Span | None = None  # the line in the old plan, when there is one
    new: Span | None = None

    @property
    def text(self) -> str:
        return f"{self.title}: {self.detail}"

    def to_json(self) -> dict:
        def place(span: Span | None) -> dict | None:
            return None if span is None else {"path": span.path, "line": span.line}
        return {"section": self.section, "kind": self.kind, "name": self.name,
                "title": self.title, "action": self.action, "detail": self.detail,
                "text": self.text, "old": place(self.old), "new": place(self.new)}


@attrs.frozen
class PlanDiff:
    old: m.Plan
    new: m.Plan
    changes: tuple[Change, ...]
    # Between versions of plans (diff_versions): the first and last day (None: open) on which
    # `old` and `new` are the versions in effect; None between two single plans.
    days: tuple[dt.date, dt.date | None] | None = None

    @property
    def changed(self) -> bool:
        return bool(self.changes)

    @property
    def compared(self) -> str | None:
        """Which versions are compared, on which days; None between two single plans."""
        if self.days is None:
            return None
        start, end = self.days
        days = f"{start} to {end}" if end is not None else f"from {start}"
        old, new = self.old.version, self.new.version
        if old == new:
            named = "" if old is None else f' (version "{old}")'
        else:
            named = " (version {} → {})".format(*('none' if v is None else f'"{v}"'
                                                  for v in (old, new)))
        return f"{days}: {self.old.path} → {self.new.path}{named}"


def diff_plans(old: m.Plan, new: m.Plan) -> PlanDiff:
    """Every semantic difference between two checked plans, in a stable order: plan header,
    fields, quotas, credits, measures, components, clawbacks, payout, examples; inside each,
    the new plan's order, then what was removed in the old plan's order; then compensation."""
    d = _Differ(old, new)
    d.header()
    d.fields()
    d.rules("quota", old.quotas, new.quotas, d.quota)
    d.rules("credit", old.credits, new.credits, d.credit)
    d.rules("measure", old.measures, new.measures, d.measure)
    d.rules("component", old.components, new.components, d.component)
    d.rules("clawback", old.clawbacks, new.clawbacks, d.clawback)
    d.payout()
    d.compensation()
    d.examples()
    return PlanDiff(old, new, tuple(d.changes))


def diff_versions(old: Sequence[m.Plan], new: Sequence[m.Plan]) -> tuple[PlanDiff, ...]:
    """The changes between two plans given as their versions (oldest first): for each stretch
    of days on which the same two versions are in effect, those two compared. On days one
    side does not cover, its version nearest in time stands in (a version added after the
    old plan's last is compared with that last). Two single plans give one diff without days."""
    if len(old) == 1 and len(new) == 1:
        return (diff_plans(old[0], new[0]),)

    def in_effect(versions: Sequence[m.Plan], day: dt.date) -> m.Plan:
        started = [v for v in versions if v.effective_start <= day]
        return started[-1] if started else versions[0]

    stretches: list[tuple[dt.date, m.Plan, m.Plan]] = []
    for day in sorted({v.effective_start for v in (*old, *new)}):
        pair = (in_effect(old, day), in_effect(new, day))
        if not stretches or stretches[-1][1:] != pair:
            stretches.append((day, *pair))
    ends = [v.effective_end for v in (*old, *new)]
    last = None if None in ends else max(ends)
    out = []
    for i, (day, o, n) in enumerate(stretches):
        end = stretches[i + 1][0] - dt.timedelta(days=1) if i + 1 < len(stretches) else last
        out.append(attrs.evolve(diff_plans(o, n), days=(day, end)))
    return tuple(out)


# ------------------------------------------------------------------------------ comparison


def canonical(value: object) -> object:
    """A value with everything that does not change a payout removed: spans, comments, the
    spelling of literals, redundant parentheses. Two parts of plans mean the same exactly when
    their canonical forms are equal."""
    if isinstance(value, Span):
        return None
    if isinstance(value, n.Paren):
        return canonical(value.inner)
    if isinstance(value, n.Node) and hasattr(value, "raw") and hasattr(type(value), "value"):
        return (type(value).__name__, value.value)
    if attrs.has(type(value)):
        skip = NOT_COMPARED.get(type(value), frozenset({"span"}))
        if isinstance(value, n.Statement):
            skip = skip | {"leading", "trailing"}
        return (type(value).__name__, tuple(
            (f.name, canonical(getattr(value, f.name))) for f in attrs.fields(type(value))
            if f.name not in skip))
    if isinstance(value, (tuple, list)):
        return tuple(canonical(v) for v in value)
    return value


def same(a: object, b: object) -> bool:
    return canonical(a) == canonical(b)


# ------------------------------------------------------------------------------ plan words



def _for_roles_from(text: str, v: m.QuotaValueSpec | m.CompensationSpec) -> str:
    """A quota value or compensation line's roles and dates, as plan text writes them."""
    if v.roles:
        text += f" for role {', '.join(v.roles)}"
    if v.start is not None:
        text += f" from {v.start}" + (f" to {v.end}" if v.end is not None else "")
    return text

class Words:
    """One plan's values in plan words: 250,000 USD, 12%, 2027-04-01 to 2027-06-30."""

    def __init__(self, plan: m.Plan) -> None:
        self.plan = plan
        self.cur = plan.currency

    def money(self, amount: Decimal) -> str:
        if amount == amount.to_integral_value():
            return f"{amount.quantize(Decimal(1), context=CONTEXT):,f} {self.cur}"
        return fmt(amount, self.cur)

    @staticmethod
    def number(value: Decimal) -> str:
        return f"{value.normalize(CONTEXT):,f}" if value != 0 else "0"

    def key_kind(self, key: str | None) -> str:
        spec = self.plan.measure(key) if key else None
        return spec.kind if spec is not None else "money"

    def value(self, amount: Decimal, kind: str) -> str:
        if kind == "percent":
            return fmt_pct(amount)
        if kind in ("count", "number"):
            return self.number(amount)
        return self.money(amount)

    @staticmethod
    def expr(e: n.Expr | None) -> str:
        return "" if e is None else show(e)

    @staticmethod
    def window(w: m.Window | None) -> str:
        if w is None:
            return "none (the whole plan)"
        return f"{w.start} to {w.end}" if w.end is not None else f"from {w.start}"

    @staticmethod
    def roles(roles: Sequence[str]) -> str:
        return f"for role {', '.join(roles)}" if roles else "for every role"

    def limit(self, lim: m.LimitSpec) -> str:
        return f"{lim.kind} {self.money(lim.amount)} {_scope(lim.scope)}"

    # tier tables

    def table_head(self, t: m.TierTableSpec) -> str:
        if t.key is None:
            return f"{t.mode} rates by deal amount"
        return f"{t.mode} rates by {t.key} per {unit_text(t.period)}"

    def bounds(self, t: m.TierTableSpec, row: m.TierRowSpec) -> str:
        kind = self.key_kind(t.key)
        high = f" to {self.value(row.high, kind)}" if row.high is not None else ""
        return f"from {self.value(row.low, kind)}{high}"

    def rate(self, t: m.TierTableSpec, rate: Decimal) -> str:
        return fmt_pct(rate) if t.rate_kind == "percent" else self.money(rate)

    def row(self, t: m.TierTableSpec, row: m.TierRowSpec) -> str:
        return f"{self.bounds(t, row)} at {self.rate(t, row.rate)}"

    def accelerator(self, a: m.AcceleratorSpec) -> str:
        return (f"{a.kind} {a.factor.normalize(CONTEXT):f}x by {a.key} per "
                f"{unit_text(a.period)} {a.side} {self.value(a.threshold, self.key_kind(a.key))}")

    def commission_pay(self, c: m.CommissionSpec) -> str:
        if c.table is None:
            return f"rate {self.expr(c.rate)}"
        rows = ", ".join(self.row(c.table, r) for r in c.table.rows)
        return f"{self.table_head(c.table)}: {rows}"

    # bonuses

    def schedule(self, b: m.BonusSpec) -> str:
        return f"{b.schedule} on {b.key} per {unit_text(b.period)}"

    def step(self, b: m.BonusSpec, row: m.StepRowSpec, word: str = "at") -> str:
        return f"{word} {self.value(row.threshold, self.key_kind(b.key))} pay {self.expr(row.pay)}"

    def steps(self, b: m.BonusSpec) -> str:
        if b.schedule == "linear" and len(b.steps) == 2:
            return f"{self.step(b, b.steps[0], 'from')}, {self.step(b, b.steps[1], 'to')}"
        return ", ".join(self.step(b, r) for r in b.steps)

    # events and credits

    def trigger(self, t: m.TriggerSpec) -> str:
        if t.kind == "stage":
            text = f'on deal reaching "{t.subject}"'
        elif t.kind == "activity":
            text = f'on activity "{t.subject}"'
        else:
            text = f"on deal {t.event}"
        return text + (f" where {self.expr(t.where)}" if t.where is not None else "")

    def pay_line(self, kind: str, p: m.EventPaySpec) -> str:
        on = f'on deal reaching "{p.subject}"' if kind == "stage" else f'on activity "{p.subject}"'
        where = f" where {self.expr(p.where)}" if p.where is not None else ""
        return f"{on}{where} pay {self.expr(p.pay)}"

    @staticmethod
    def split(c: m.CreditSpec) -> str:
        if c.split == "recorded":
            return "split as recorded"
        if c.split == "evenly":
            return "split evenly"
        if c.split == "by role":
            return "split by role " + ", ".join(f"{r} {fmt_pct(s)}" for r, s in c.role_shares)
        return "to owner"

    @staticmethod
    def overlays(c: m.CreditSpec) -> str:
        return "; ".join(f"overlay role {', '.join(roles)} at {fmt_pct(s)}"
                         for roles, s in c.overlays) or "none"

    @staticmethod
    def attribution(c: m.CreditSpec) -> str:
        if c.attribution is None:
            return "none"
        if c.attribution == "position" and c.position_weights is not None:
            first, middle, last = (fmt_pct(w) for w in c.position_weights)
            return f"attribute by position {first} first, {middle} middle, {last} last"
        return f"attribute by {c.attribution}"

    # quotas

    def quota_value(self, q: m.QuotaSpec, v: m.QuotaValueSpec) -> str:
        amount = self.money(v.amount) if q.kind == "money" else self.number(v.amount)
        return _for_roles_from(f"{amount} per {unit_text(v.per)}", v)

    def compensation_line(self, c: m.CompensationSpec) -> str:
        return _for_roles_from(f"{c.kind} {self.expr(c.amount)} per {c.per}", c)

    def forecast(self, f: m.ForecastSpec | None) -> str:
        if f is None:
            return "none"
        uplift = f"{fmt_pct(f.uplift)} of " if f.uplift != 1 else ""
        unit = f.unit if f.count == 1 or f.unit.endswith("s") else f"{f.unit}s"
        return f"forecast {uplift}{f.method} of {f.measure} over {f.count} {unit}"

    @staticmethod
    def ramp(ramp: Sequence[Decimal]) -> str:
        if not ramp:
            return "none"
        return "ramp " + ", ".join(f"month {i} at {fmt_pct(r)}" for i, r in enumerate(ramp, 1))

    def quota(self, q: m.QuotaSpec) -> str:
        parts = [self.quota_value(q, v) for v in q.values]
        if q.from_data:
            parts.append("from data")
        if q.forecast is not None:
            parts.append(self.forecast(q.forecast))
        if q.proration:
            parts.append(f"prorate by active {q.proration}")
        if q.ramp:
            parts.append(self.ramp(q.ramp))
        if q.normalize:
            parts.append("normalize by territory index")
        return "; ".join(parts)

    # clawbacks and payout

    @staticmethod
    def within(c: m.ClawbackSpec) -> str:
        return f"when deal cancelled within {c.within_count} {c.within_unit} of booking"

    @staticmethod
    def reverse_share(share: Decimal) -> str:
        return "at original amounts" if share == 1 else f"at {fmt_pct(share)} of original amounts"

    @staticmethod
    def schedule_legs(legs: Sequence[tuple[str, Decimal]]) -> str:
        return ", ".join(f"{fmt_pct(s)} when {event}" for event, s in legs)

    @staticmethod
    def holdback(h: m.HoldbackSpec | None) -> str:
        if h is None:
            return "none"
        share = fmt_pct(h.share)
        if h.release == "for":
            length = f"{h.months} months" if h.months is not None else f"{h.days} days"
            return f"hold back {share} for {length}"
        if h.release == "until":
            return f"hold back {share} until {h.date}"
        return f"hold back {share} until year end"

    def draw(self, d: m.DrawSpec | None) -> str:
        if d is None:
            return "none"
        recovery = DRAW_RECOVERY_WORDS[d.recovery]
        text = f"draw {self.money(d.amount)} per {unit_text(d.per)} {recovery}"
        if d.months is not None:
            text += f" for the first {months_text(d.months)} of employment"
        if d.forgiveness == "at":
            text += f" forgiven at {d.forgive_date}"
        elif d.forgiveness == "termination":
            text += " forgiven on termination"
        return text

    def advance(self, a: m.AdvanceSpec | None) -> str:
        """The advance's lines, as the plan states them."""
        if a is None:
            return "none"
        text = f"advance {self.money(a.amount)} " + (
            "at hire" if a.per is None else f"per {a.per}" + (
                f" for the first {months_text(a.months)} of employment" if a.months else ""))
        text += "; recover advances from later pay" + (
            f" at most {fmt_pct(a.recovery_share)} of each payout"
            if a.recovery_share is not None else "")
        if a.forgiveness == "at":
            text += f"; forgive advances at {a.forgive_date}"
        elif a.forgiveness == "termination":
            text += "; forgive advances on termination"
        return text

    # any value, for fields without words of their own

    def any(self, value: object) -> str:
        if value is None:
            return "none"
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, Decimal):
            return self.number(value)
        if isinstance(value, n.Expr):
            return self.expr(value)
        if isinstance(value, (tuple, list)):
            return ", ".join(self.any(v) for v in value) or "none"
        if attrs.has(type(value)):
            return ", ".join(f"{f.name.replace('_', ' ')} {self.any(getattr(value, f.name))}"
                             for f in attrs.fields(type(value)) if f.name != "span")
        return str(value)


def _scope(scope: str) -> str:
    return "in total" if scope == "total" else f"per {unit_text(scope)}"


def title_of(spec: object) -> str:
    """What messages call a rule: its label when it has one, else its keyword and name."""
    label, name = getattr(spec, "label", None), getattr(spec, "name", None)
    if label and label != name:
        return label
    return f"{KEYWORDS.get(type(spec), type(spec).__name__)} {name}"


# ------------------------------------------------------------------------------ the differ

Found = tuple[str, Span | None, Span | None]  # a detail and its lines in the old and new plan
RuleCompare = Callable[[object, object], list[Found]]

# The fields each comparison below puts into words; the rest are reported by field name.
WORDED: dict[type, frozenset[str]] = {}


def _worded(cls: type, *fields: str) -> None:
    WORDED[cls] = frozenset(fields) | NOT_COMPARED.get(cls, frozenset({"span"}))


COMMON = ("name", "label", "span", "roles", "during", "limits", "when")
_worded(m.CommissionSpec, *COMMON, "base", "rate", "table", "accelerators", "period")
_worded(m.BonusSpec, *COMMON, "schedule", "key", "period", "bound", "steps")
_worded(m.SpiffSpec, *COMMON, "trigger", "pay", "budget")
_worded(m.StageRewardSpec, *COMMON, "pays", "net_against")
_worded(m.ActivityRewardSpec, *COMMON, "pays")
_worded(m.PoolSpec, *COMMON, "fund", "period", "share", "share_by")
_worded(m.OverrideSpec, *COMMON, "pay", "period")
_worded(m.CreditSpec, *COMMON, "trigger", "value", "split", "role_shares", "overlays", "rollup",
        "attribution", "position_weights", "digital_share", "cancelled")
_worded(m.MeasureSpec, "name", "label", "expr", "kind", "span")
_worded(m.QuotaSpec, "name", "label", "span", "kind", "values", "from_data", "forecast",
        "proration", "ramp", "normalize")
_worded(m.ClawbackSpec, "name", "label", "span", "within_count", "within_unit", "components",
        "share", "roles", "during")
_worded(m.PayoutSpec, "frequency", "schedule", "holdback", "draw", "advance", "limits", "span")
_worded(m.Plan, "name", "currency", "effective_start", "effective_end", "calendar", "version",
        "roles", "applies_to", "rounding", "fx_basis", "stages", "channels", "activities",
        "fields", "quotas", "credits", "measures", "components", "clawbacks", "payout",
        "compensation", "examples")


class _Differ:
    def __init__(self, old: m.Plan, new: m.Plan) -> None:
        self.old, self.new = old, new
        self.ow, self.nw = Words(old), Words(new)
        self.changes: list[Change] = []

    def emit(self, section: str, kind: str, name: str | None, title: str, action: str,
             found: Iterable[Found]) -> None:
        for detail, o, nw in found:
            self.changes.append(Change(section=section, kind=kind, name=name, title=title,
                                       action=action, detail=detail, old=o, new=nw))

    @staticmethod
    def arrow(what: str, old: str, new: str, o: Span | None, nw: Span | None) -> Found:
        return (f"{what} {old} → {new}" if what else f"{old} → {new}", o, nw)

    def leftovers(self, old: object, new: object) -> list[Found]:
        """Fields no comparison here puts into words (a model grown since): by field name."""
        out = []
        for f in attrs.fields(type(new)):
            if f.name in WORDED.get(type(new), ()) or same(getattr(old, f.name),
                                                            getattr(new, f.name)):
                continue
            out.append(self.arrow(f.name.replace("_", " ") + ":", self.ow.any(getattr(
                old, f.name)), self.nw.any(getattr(new, f.name)), getattr(old, "span", None),
                getattr(new, "span", None)))
        return out

    # -------------------------------------------------------------- plan header and fields

    def header(self) -> None:
        o, nw = self.old, self.new
        found: list[Found] = []

        def check(what: str, a: object, b: object, say: Callable[[object], str] = str,
                  spans: tuple[Span | None, Span | None] = (o.span, nw.span)) -> None:
            if not same(a, b):
                found.append(self.arrow(what, say(a), say(b), *spans))

        check("plan name", o.name, nw.name, lambda v: f'"{v}"')
        check("version", o.version, nw.version, lambda v: "none" if v is None else f'"{v}"')
        check("currency", o.currency, nw.currency)
        check("effective", (o.effective_start, o.effective_end),
              (nw.effective_start, nw.effective_end),
              lambda v: f"{v[0]} to {v[1]}" if v[1] is not None else f"from {v[0]}",
              (o.effective_span or o.span, nw.effective_span or nw.span))  # its own line
        check("fiscal year starts in", o.calendar.fiscal_start, nw.calendar.fiscal_start,
              lambda v: MONTH_NAMES[v - 1].capitalize())
        check("roles", o.roles, nw.roles, lambda v: ", ".join(v) or "none")
        check("applies to", o.applies_to, nw.applies_to,
              lambda v: f"role {', '.join(v)}" if v else "every role")
        check("rounding", o.rounding, nw.rounding, lambda r: f"{r.mode} per {r.point}")
        check("currency conversion at the rate on the", o.fx_basis, nw.fx_basis)
        for vocab in ("stages", "channels", "activities"):
            check(vocab, getattr(o, vocab), getattr(nw, vocab),
                  lambda v: ", ".join(f'"{s}"' for s in v) or "any")
        found += self.leftovers(o, nw)
        self.emit("plan", "plan", None, "plan", "changed", found)

    def fields(self) -> None:
        def key(f: m.FieldSpec) -> tuple:
            return (f.owner, f.name)

        def say(f: m.FieldSpec) -> str:
            return f.kind + (" " + ", ".join(f'"{x}"' for x in f.options) if f.options else "")

        old = {key(f): f for f in self.old.fields}
        new = {key(f): f for f in self.new.fields}
        for k, f in new.items():
            title = f"field {f.owner}.{f.name}"
            if k not in old:
                self.emit("field", "field", f.name, title, "added", [(f"added: {say(f)}",
                                                                        None, None)])
            elif not same(old[k], f):
                self.emit("field", "field", f.name, title, "changed",
                          [self.arrow("", say(old[k]), say(f), None, None)])
        for k, f in old.items():
            if k not in new:
                self.emit("field", "field", f.name, f"field {f.owner}.{f.name}", "removed",
                          [(f"removed (was {say(f)})", None, None)])

    # -------------------------------------------------------------- rules

    def rules(self, section: str, old: Sequence, new: Sequence, compare: RuleCompare) -> None:
        old_by = {r.name: r for r in old}
        new_by = {r.name: r for r in new}
        added = [r for r in new if r.name not in old_by or type(old_by[r.name]) is not type(r)]
        removed = [r for r in old if r.name not in new_by or type(new_by[r.name]) is not type(r)]
        renamed: dict[str, object] = {}  # new name -> old rule
        for r in added:
            twin = next((o for o in removed if type(o) is type(r) and o not in renamed.values()
                         and self._same_but_name(o, r)), None)
            if twin is not None:
                renamed[r.name] = twin
        for r in new:
            kind = KEYWORDS[type(r)]
            if r.name in renamed:
                before = renamed[r.name]
                found = [(f"renamed from {before.name} to {r.name}", before.span, r.span)]
                if before.label != r.label:
                    found.append(self.arrow("label", f'"{before.label}"', f'"{r.label}"',
                                            before.span, r.span))
                self.emit(section, kind, r.name, title_of(r), "renamed", found)
            elif r in added:
                self.emit(section, kind, r.name, title_of(r), "added",
                          [(f"added: {self.summary(self.nw, r)}", None, r.span)])
            else:
                before = old_by[r.name]
                found = compare(before, r)
                # A relabelled rule is called by its keyword and name, which both plans share.
                title = title_of(r) if before.label == r.label else f"{kind} {r.name}"
                if found:
                    self.emit(section, kind, r.name, title, "changed", found)
        for r in removed:
            if r not in renamed.values():
                self.emit(section, KEYWORDS[type(r)], r.name, title_of(r), "removed",
                          [(f"removed (was: {self.summary(self.ow, r)})", r.span, None)])

    @staticmethod
    def _same_but_name(a: object, b: object) -> bool:
        return same(attrs.evolve(a, name="", label=""), attrs.evolve(b, name="", label=""))

    def summary(self, w: Words, r: object) -> str:
        """A rule in one line, for rules added or removed."""
        if isinstance(r, m.CommissionSpec):
            text = f"on {r.base}, {w.commission_pay(r)}"
            text += "".join(f", {w.accelerator(a)}" for a in r.accelerators)
        elif isinstance(r, m.BonusSpec):
            text = f"{w.schedule(r)}: {w.steps(r)}"
        elif isinstance(r, m.SpiffSpec):
            text = f"{w.trigger(r.trigger)}, pay {w.expr(r.pay)}"
        elif isinstance(r, (m.StageRewardSpec, m.ActivityRewardSpec)):
            kind = "stage" if isinstance(r, m.StageRewardSpec) else "activity"
            text = "; ".join(w.pay_line(kind, p) for p in r.pays)
            if getattr(r, "net_against", None):
                text += f"; net against {r.net_against} when deal booked"
        elif isinstance(r, m.PoolSpec):
            text = f"fund {w.expr(r.fund)} per {unit_text(r.period)}, " + (
                "share equally" if r.share == "equally" else f"share by {r.share_by}")
        elif isinstance(r, m.OverrideSpec):
            text = f"pay {w.expr(r.pay)} per {unit_text(r.period)}"
        elif isinstance(r, m.CreditSpec):
            text = f"{w.trigger(r.trigger)}, {w.split(r)}"
        elif isinstance(r, m.MeasureSpec):
            return f"= {w.expr(r.expr)}"
        elif isinstance(r, m.QuotaSpec):
            return w.quota(r)
        elif isinstance(r, m.ClawbackSpec):
            text = (f"{w.within(r)}, reverse {', '.join(r.components)} "
                    f"{w.reverse_share(r.share)}")
        else:
            return w.any(r)
        if r.roles:
            text += f", {w.roles(r.roles)}"
        if r.during is not None:
            text += f", during {w.window(r.during)}"
        for lim in getattr(r, "limits", ()):
            text += f", {w.limit(lim)}"
        if getattr(r, "when", None) is not None:
            text += f", when {w.expr(r.when)}"
        return text

    def common(self, o, nw) -> list[Found]:
        out: list[Found] = []
        if o.label != nw.label:
            out.append(self.arrow("label", f'"{o.label}"', f'"{nw.label}"', o.span, nw.span))
        if not same(o.roles, nw.roles):
            out.append(self.arrow("", self.ow.roles(o.roles), self.nw.roles(nw.roles), o.span,
                                  nw.span))
        if not same(o.during, nw.during):
            out.append(self.arrow("window", self.ow.window(o.during), self.nw.window(nw.during),
                                  o.span, nw.span))
        out += self.limits(o.limits, nw.limits)
        if not same(o.when, nw.when):
            if o.when is None:
                out.append((f"condition added: when {self.nw.expr(nw.when)}", None, nw.span))
            elif nw.when is None:
                out.append((f"condition removed (was: when {self.ow.expr(o.when)})", o.span,
                            None))
            else:
                out.append(self.arrow("condition", f"when {self.ow.expr(o.when)}",
                                      f"when {self.nw.expr(nw.when)}", o.span, nw.span))
        return out

    def limits(self, old: Sequence[m.LimitSpec], new: Sequence[m.LimitSpec]) -> list[Found]:
        return self.keyed(
            old, new, _occurrence_key(lambda lim: (lim.kind, lim.scope)),
            describe_old=self.ow.limit, describe_new=self.nw.limit,
            changed=lambda a, b: self.arrow(f"{a.kind} {_scope(a.scope)}:",
                                            self.ow.money(a.amount), self.nw.money(b.amount),
                                            a.span, b.span))

    def keyed(self, old: Sequence, new: Sequence, key: Callable[[Sequence], list],
              describe_old: Callable, describe_new: Callable,
              changed: Callable[[object, object], Found], noun: str = "") -> list[Found]:
        """Items matched by key: changed ones, then added, then removed."""
        old_keys, new_keys = key(old), key(new)
        old_by = dict(zip(old_keys, old))
        new_by = dict(zip(new_keys, new))
        out: list[Found] = []
        prefix = f"{noun} " if noun else ""
        for k, item in zip(new_keys, new):
            if k in old_by and not same(old_by[k], item):
                out.append(changed(old_by[k], item))
            elif k not in old_by:
                out.append((f"{prefix}{describe_new(item)} added", None, item.span))
        for k, item in zip(old_keys, old):
            if k not in new_by:
                out.append((f"{prefix}{describe_old(item)} removed", item.span, None))
        return out

    # -------------------------------------------------------------- per kind of rule

    def component(self, o, nw) -> list[Found]:
        out = self.common(o, nw)
        compare = {m.CommissionSpec: self.commission, m.BonusSpec: self.bonus,
                   m.SpiffSpec: self.spiff, m.StageRewardSpec: self.event_pays,
                   m.ActivityRewardSpec: self.event_pays, m.PoolSpec: self.pool,
                   m.OverrideSpec: self.override}[type(nw)]
        return compare(o, nw) + out + self.leftovers(o, nw)

    def commission(self, o: m.CommissionSpec, nw: m.CommissionSpec) -> list[Found]:
        ow, w = self.ow, self.nw
        out: list[Found] = []
        if o.base != nw.base:
            out.append(self.arrow("", f"on {o.base}", f"on {nw.base}", o.span, nw.span))
        if o.table is None or nw.table is None:
            if not (same(o.rate, nw.rate) and same(o.table, nw.table)):
                span_o = o.table.span if o.table else o.span
                span_n = nw.table.span if nw.table else nw.span
                if o.table is None and nw.table is None:
                    out.append(self.arrow("rate", ow.expr(o.rate), w.expr(nw.rate), span_o,
                                          span_n))
                else:
                    out.append(self.arrow("", ow.commission_pay(o), w.commission_pay(nw), span_o,
                                          span_n))
        else:
            out += self.table(o.table, nw.table)
        out += self.keyed(
            o.accelerators, nw.accelerators, _occurrence_key(lambda a: (a.kind,)),
            describe_old=ow.accelerator, describe_new=w.accelerator,
            changed=lambda a, b: self.arrow("", ow.accelerator(a), w.accelerator(b), a.span,
                                            b.span))
        return out

    def table(self, o: m.TierTableSpec, nw: m.TierTableSpec) -> list[Found]:
        ow, w = self.ow, self.nw
        out: list[Found] = []
        if (o.mode, o.key, o.period, o.rate_kind) != (nw.mode, nw.key, nw.period, nw.rate_kind):
            out.append(self.arrow("tier table:", ow.table_head(o), w.table_head(nw), o.span,
                                  nw.span))
        if o.bound != nw.bound:
            out.append(self.arrow("each bound belongs to the tier", o.bound, nw.bound, o.span,
                                  nw.span))

        def changed(a: m.TierRowSpec, b: m.TierRowSpec) -> Found:
            if (a.low, a.high) == (b.low, b.high):
                return self.arrow(f"tier {w.bounds(nw, b)}: rate", ow.rate(o, a.rate),
                                  w.rate(nw, b.rate), a.span, b.span)
            if a.rate == b.rate:
                return self.arrow("tier", ow.bounds(o, a), w.bounds(nw, b), a.span, b.span)
            return self.arrow("tier", ow.row(o, a), w.row(nw, b), a.span, b.span)

        out += self.keyed(o.rows, nw.rows, _row_key(o.rows, nw.rows, lambda r: (r.low,)),
                          describe_old=lambda r: ow.row(o, r), describe_new=lambda r: w.row(nw, r),
                          changed=changed, noun="tier")
        return out

    def bonus(self, o: m.BonusSpec, nw: m.BonusSpec) -> list[Found]:
        ow, w = self.ow, self.nw
        out: list[Found] = []
        if (o.schedule, o.key, o.period) != (nw.schedule, nw.key, nw.period):
            out.append(self.arrow("schedule:", ow.schedule(o), w.schedule(nw), o.span, nw.span))
        if o.bound != nw.bound:
            out.append(self.arrow("each bound belongs to the step", o.bound, nw.bound, o.span,
                                  nw.span))
        if o.schedule != nw.schedule or nw.schedule != "step":
            if not same(o.steps, nw.steps):
                first = lambda b: b.steps[0].span if b.steps else b.span  # noqa: E731
                out.append(self.arrow("", ow.steps(o), w.steps(nw), first(o), first(nw)))
            return out
        def changed(a: m.StepRowSpec, b: m.StepRowSpec) -> Found:
            if a.threshold == b.threshold:
                return self.arrow(f"step at {w.value(b.threshold, w.key_kind(nw.key))}: pay",
                                  ow.expr(a.pay), w.expr(b.pay), a.span, b.span)
            return self.arrow("step", ow.step(o, a), w.step(nw, b), a.span, b.span)

        out += self.keyed(
            o.steps, nw.steps, _row_key(o.steps, nw.steps, lambda r: (r.threshold,)),
            describe_old=lambda r: ow.step(o, r), describe_new=lambda r: w.step(nw, r),
            changed=changed, noun="step")
        return out

    def spiff(self, o: m.SpiffSpec, nw: m.SpiffSpec) -> list[Found]:
        out: list[Found] = []
        if not same(o.trigger, nw.trigger):
            out.append(self.arrow("", self.ow.trigger(o.trigger), self.nw.trigger(nw.trigger),
                                  o.trigger.span, nw.trigger.span))
        if not same(o.pay, nw.pay):
            out.append(self.arrow("pay", self.ow.expr(o.pay), self.nw.expr(nw.pay), o.span,
                                  nw.span))
        if o.budget != nw.budget:
            out.append(self.arrow(
                "budget (first come, first served)",
                self.ow.money(o.budget) if o.budget is not None else "none",
                self.nw.money(nw.budget) if nw.budget is not None else "none", o.span, nw.span))
        return out

    def event_pays(self, o, nw) -> list[Found]:
        kind = "stage" if isinstance(nw, m.StageRewardSpec) else "activity"
        ow, w = self.ow, self.nw

        def changed(a: m.EventPaySpec, b: m.EventPaySpec) -> Found:
            head = (f'on deal reaching "{b.subject}"' if kind == "stage"
                    else f'on activity "{b.subject}"')
            if same(a.where, b.where):
                return self.arrow(f"{head}: pay", ow.expr(a.pay), w.expr(b.pay), a.span, b.span)
            return self.arrow("", ow.pay_line(kind, a), w.pay_line(kind, b), a.span, b.span)

        out = self.keyed(o.pays, nw.pays, _occurrence_key(lambda p: (p.subject,)),
                         describe_old=lambda p: ow.pay_line(kind, p),
                         describe_new=lambda p: w.pay_line(kind, p), changed=changed)
        if getattr(o, "net_against", None) != getattr(nw, "net_against", None):
            out.append(self.arrow("net against", o.net_against or "nothing",
                                  nw.net_against or "nothing", o.span, nw.span))
        return out

    def pool(self, o: m.PoolSpec, nw: m.PoolSpec) -> list[Found]:
        out: list[Found] = []
        if not same((o.fund, o.period), (nw.fund, nw.period)):
            out.append(self.arrow("fund", f"{self.ow.expr(o.fund)} per {unit_text(o.period)}",
                                  f"{self.nw.expr(nw.fund)} per {unit_text(nw.period)}",
                                  o.span, nw.span))
        if (o.share, o.share_by) != (nw.share, nw.share_by):
            def say(p: m.PoolSpec) -> str:
                return "share equally" if p.share == "equally" else f"share by {p.share_by}"
            out.append(self.arrow("", say(o), say(nw), o.span, nw.span))
        return out

    def override(self, o: m.OverrideSpec, nw: m.OverrideSpec) -> list[Found]:
        if same((o.pay, o.period), (nw.pay, nw.period)):
            return []
        return [self.arrow("pay", f"{self.ow.expr(o.pay)} per {unit_text(o.period)}",
                           f"{self.nw.expr(nw.pay)} per {unit_text(nw.period)}", o.span, nw.span)]

    def credit(self, o: m.CreditSpec, nw: m.CreditSpec) -> list[Found]:
        ow, w = self.ow, self.nw
        out: list[Found] = []
        if not same(o.trigger, nw.trigger):
            out.append(self.arrow("", ow.trigger(o.trigger), w.trigger(nw.trigger),
                                  o.trigger.span, nw.trigger.span))
        if not same(o.value, nw.value):
            out.append(self.arrow("value", ow.expr(o.value) or "the event amount",
                                  w.expr(nw.value) or "the event amount", o.span, nw.span))
        if not same((o.split, o.role_shares), (nw.split, nw.role_shares)):
            out.append(self.arrow("", ow.split(o), w.split(nw), o.span, nw.span))
        if not same(o.overlays, nw.overlays):
            out.append(self.arrow("overlay:", ow.overlays(o), w.overlays(nw), o.span, nw.span))
        if o.rollup != nw.rollup:
            out.append(self.arrow("roll-up:", f"to {o.rollup}" if o.rollup else "none",
                                  f"to {nw.rollup}" if nw.rollup else "none", o.span, nw.span))
        if not same((o.attribution, o.position_weights), (nw.attribution, nw.position_weights)):
            out.append(self.arrow("attribution:", ow.attribution(o), w.attribution(nw), o.span,
                                  nw.span))
        if o.digital_share != nw.digital_share:
            out.append(self.arrow("digital touches credit the owner at",
                                  fmt_pct(o.digital_share), fmt_pct(nw.digital_share), o.span,
                                  nw.span))
        if o.cancelled != nw.cancelled:
            out.append(self.arrow("cancelled deals", f"{o.cancelled} their credit",
                                  f"{nw.cancelled} their credit", o.span, nw.span))
        return out + self.common(o, nw) + self.leftovers(o, nw)

    def measure(self, o: m.MeasureSpec, nw: m.MeasureSpec) -> list[Found]:
        out: list[Found] = []
        if o.label != nw.label:
            out.append(self.arrow("label", f'"{o.label}"', f'"{nw.label}"', o.span, nw.span))
        if not same(o.expr, nw.expr):
            out.append(self.arrow("", f"= {self.ow.expr(o.expr)}", f"= {self.nw.expr(nw.expr)}",
                                  o.span, nw.span))
        return out + self.leftovers(o, nw)

    def quota(self, o: m.QuotaSpec, nw: m.QuotaSpec) -> list[Found]:
        ow, w = self.ow, self.nw
        out: list[Found] = []
        if o.label != nw.label:
            out.append(self.arrow("label", f'"{o.label}"', f'"{nw.label}"', o.span, nw.span))
        out += self.keyed(
            o.values, nw.values, _occurrence_key(lambda v: (v.roles, v.start, v.end)),
            describe_old=lambda v: ow.quota_value(o, v),
            describe_new=lambda v: w.quota_value(nw, v),
            changed=lambda a, b: self.arrow("", ow.quota_value(o, a), w.quota_value(nw, b),
                                            a.span, b.span))
        if o.from_data != nw.from_data:
            out.append(("from data " + ("added" if nw.from_data else "removed"), o.span,
                        nw.span))
        if not same(o.forecast, nw.forecast):
            out.append(self.arrow("", ow.forecast(o.forecast), w.forecast(nw.forecast), o.span,
                                  nw.span))
        if o.proration != nw.proration:
            out.append(self.arrow("proration:", f"by active {o.proration}" if o.proration
                                  else "none", f"by active {nw.proration}" if nw.proration
                                  else "none", o.span, nw.span))
        if not same(o.ramp, nw.ramp):
            out.append(self.arrow("", ow.ramp(o.ramp), w.ramp(nw.ramp), o.span, nw.span))
        if o.normalize != nw.normalize:
            out.append(("normalize by territory index " + ("added" if nw.normalize
                                                           else "removed"), o.span, nw.span))
        return out + self.leftovers(o, nw)

    def clawback(self, o: m.ClawbackSpec, nw: m.ClawbackSpec) -> list[Found]:
        out: list[Found] = []
        if o.label != nw.label:
            out.append(self.arrow("label", f'"{o.label}"', f'"{nw.label}"', o.span, nw.span))
        if (o.within_count, o.within_unit) != (nw.within_count, nw.within_unit):
            out.append(self.arrow("", self.ow.within(o), self.nw.within(nw), o.span, nw.span))
        if o.components != nw.components:
            out.append(self.arrow("reverse", ", ".join(o.components), ", ".join(nw.components),
                                  o.span, nw.span))
        if o.share != nw.share:
            out.append(self.arrow("reverse", Words.reverse_share(o.share),
                                  Words.reverse_share(nw.share), o.span, nw.span))
        if not same(o.roles, nw.roles):
            out.append(self.arrow("", Words.roles(o.roles), Words.roles(nw.roles), o.span,
                                  nw.span))
        if not same(o.during, nw.during):
            out.append(self.arrow("window", Words.window(o.during), Words.window(nw.during),
                                  o.span, nw.span))
        return out + self.leftovers(o, nw)

    # -------------------------------------------------------------- payout and examples

    def payout(self) -> None:
        o, nw = self.old.payout, self.new.payout
        so, sn = o.span or self.old.span, nw.span or self.new.span
        out: list[Found] = []
        was, now = self.old.calendar.pay_start, self.new.calendar.pay_start
        if o.frequency != nw.frequency or was != now:
            out.append(self.arrow("", f"paid {o.frequency}" + (f" from {was}" if was else ""),
                                  f"paid {nw.frequency}" + (f" from {now}" if now else ""), so, sn))
        if not same(o.schedule, nw.schedule):
            out.append(self.arrow("schedule", Words.schedule_legs(o.schedule),
                                  Words.schedule_legs(nw.schedule), so, sn))
        if not same(o.holdback, nw.holdback):
            out.append(self.arrow("holdback:", Words.holdback(o.holdback),
                                  Words.holdback(nw.holdback), o.holdback.span if o.holdback
                                  else so, nw.holdback.span if nw.holdback else sn))
        if not same(o.draw, nw.draw):
            out.append(self.arrow("draw:", self.ow.draw(o.draw), self.nw.draw(nw.draw),
                                  o.draw.span if o.draw else so, nw.draw.span if nw.draw else sn))
        if not same(o.advance, nw.advance):
            out.append(self.arrow("advance:", self.ow.advance(o.advance),
                                  self.nw.advance(nw.advance), o.advance.span if o.advance
                                  else so, nw.advance.span if nw.advance else sn))
        out += self.limits(o.limits, nw.limits)
        out += self.leftovers(o, nw)
        self.emit("payout", "payout", None, "payout", "changed", out)

    def compensation(self) -> None:
        """Base salary and target incentive lines, matched by kind, roles and dates."""
        ow, w = self.ow, self.nw
        self.emit("compensation", "compensation", None, "compensation", "changed", self.keyed(
            self.old.compensation, self.new.compensation,
            _occurrence_key(lambda c: (c.kind, c.roles, c.start, c.end)),
            describe_old=ow.compensation_line, describe_new=w.compensation_line,
            changed=lambda a, b: self.arrow("", ow.compensation_line(a),
                                            w.compensation_line(b), a.span, b.span)))

    def examples(self) -> None:
        old = {e.name: e for e in self.old.examples}
        new = {e.name: e for e in self.new.examples}
        for name, e in new.items():
            title = f'example "{name}"'
            if name not in old:
                self.emit("example", "example", name, title, "added", [("added", None, e.span)])
            elif not same(old[name].block, e.block):
                self.emit("example", "example", name, title, "changed",
                          [("its data or expectations changed", old[name].span, e.span)])
        for name, e in old.items():
            if name not in new:
                self.emit("example", "example", name, f'example "{name}"', "removed",
                          [("removed", e.span, None)])


def _row_key(old: Sequence, new: Sequence,
             bound: Callable[[object], tuple]) -> Callable[[Sequence], list]:
    """How rows of a tier table or a step schedule are matched. With as many rows on both
    sides, by position: moving a bound changes two rows, which then read as two changed rows
    rather than one removed and one added. Otherwise (a row was added or removed) by their
    lower bound, so the untouched rows still match."""
    if len(old) == len(new):
        return lambda rows: list(range(len(rows)))
    return _occurrence_key(bound)


def _occurrence_key(key: Callable[[object], tuple]) -> Callable[[Sequence], list]:
    """Keys for a list of items: `key(item)` plus its occurrence number among equal keys, so
    two caps per year (or two rows with one lower bound) still get distinct keys."""
    def keys(items: Sequence) -> list:
        seen: dict = {}
        out = []
        for item in items:
            k = canonical(key(item))
            seen[k] = seen.get(k, 0) + 1
            out.append((k, seen[k]))
        return out
    return keys
