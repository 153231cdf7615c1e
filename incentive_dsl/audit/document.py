"""The plan document: a checked plan written out as the document a rep reads and signs, in
Markdown and in self-contained HTML.

It is generated from the checked plan (check/model.py), never from the text or a parse tree,
so the document and the plan that pays cannot drift apart: terms in plain words, tier and step
tables, eligibility, quotas, credit rules, the payout schedule, the worked examples with the
results the evaluator computes for them (audit/examples.py runs them), the effective dates,
the version and the plan's content hash, and an acknowledgement to sign.

Both formats render one list of blocks (`Doc`), so they always say the same thing.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import attrs

from incentive_dsl.audit.examples import ExampleResult, run_example
from incentive_dsl.audit.plandiff import Words
from incentive_dsl.check import model as m
from incentive_dsl.eval.money import fmt_pct
from incentive_dsl.periods import MONTH_NAMES, months_text
from incentive_dsl.syntax import nodes as n
from incentive_dsl.syntax.format import statement_lines

# ------------------------------------------------------------------------------ the blocks


@attrs.frozen
class Heading:
    level: int
    text: str


@attrs.frozen
class Para:
    text: str


@attrs.frozen
class Bullets:
    items: tuple[str, ...]


@attrs.frozen
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    right: tuple[int, ...] = ()  # columns aligned right (numbers)


@attrs.frozen
class Code:
    lines: tuple[str, ...]


@attrs.frozen
class Signature:
    lines: tuple[str, ...]  # "Payee name", "Signature", "Date" ...


Block = Heading | Para | Bullets | Table | Code | Signature


# ------------------------------------------------------------------------------ plain words


SCOPE = {"deal": "per deal", "month": "per month", "quarter": "per quarter",
         "half": "per half-year", "year": "per year", "total": "in total",
         "semimonth": "per pay period", "biweek": "per pay period"}
PERIOD = {"month": "month", "quarter": "quarter", "half": "half-year", "year": "year",
          "semimonth": "pay period (half-month)", "biweek": "pay period (two weeks)"}
# How often pay comes, in the words of the document.
FREQUENCY = {"semimonthly": "twice a month, for the 1st to the 15th and the 16th to the "
                            "month's end",
             "biweekly": "every two weeks"}


class Terms(Words):
    """Plan values in the words of a signed plan document."""

    def limits(self, limits: Sequence[m.LimitSpec]) -> list[str]:
        out = []
        for lim in limits:
            verb = "is capped at" if lim.kind == "cap" else "is at least"
            out.append(f"The total {verb} {self.money(lim.amount)} {SCOPE[lim.scope]}.")
        return out

    def common(self, rule) -> list[str]:
        out = []
        if rule.roles:
            out.append(f"Applies to role {_list(rule.roles)} only.")
        if rule.during is not None:
            end = f" to {rule.during.end}" if rule.during.end is not None else " on"
            out.append(f"Counts events dated from {rule.during.start}{end}.")
        if rule.when is not None:
            out.append(f"Paid only in periods when {self.expr(rule.when)}.")
        return out + self.limits(rule.limits)

    def key(self, key: str | None) -> str:
        """A measure or credit by its label (and name, which the tables and examples use)."""
        if key is None:
            return "the deal amount"
        spec = self.plan.measure(key) or next(
            (c for c in self.plan.credits if c.name == key), None)
        if spec is not None and spec.label != key:
            return f"{spec.label} ({key})"
        return key

    def tiers(self, t: m.TierTableSpec) -> Table:
        kind = self.key_kind(t.key)
        rate = "Rate" if t.rate_kind == "percent" else "Pay per unit"
        rows = tuple((self.value(r.low, kind),
                      self.value(r.high, kind) if r.high is not None else "and above",
                      self.rate(t, r.rate)) for r in t.rows)
        return Table(("From", "To", rate), rows, (0, 1, 2))

    def tier_words(self, t: m.TierTableSpec) -> str:
        over = f"{self.key(t.key)} per {PERIOD.get(t.period, t.period)}"
        if t.mode == "marginal":
            how = ("Marginal tiers: each rate applies only to the part of the credit that falls "
                   f"within its tier of {over}, so a deal that crosses a tier boundary is paid "
                   "partly at each rate.")
        else:
            how = (f"Retroactive tiers: the tier reached by {over} sets the rate for all the "
                   "credit of the period, including what was paid before the tier was reached "
                   "(the difference is paid as a true-up).")
        side = "above" if t.bound == "above" else "below"
        return f"{how} A value exactly on a boundary belongs to the tier {side} it."


    def accelerated(self, a: m.AcceleratorSpec) -> str:
        side = "Above" if a.side == "above" else "Below"
        what = "an accelerator" if a.kind == "accelerate" else "a decelerator"
        return (f"{side} {self.value(a.threshold, self.key_kind(a.key))} {self.key(a.key)} per "
                f"{PERIOD.get(a.period, a.period)}, the rates are multiplied by "
                f"{a.factor.normalize():f} ({what}).")

    def rule_names(self, names: Sequence[str]) -> str:
        found = [self.plan.component(x) for x in names]
        texts = [f"{c.label} ({c.name})" if c is not None and c.label != c.name else x
                 for c, x in zip(found, names)]
        return texts[0] if len(texts) == 1 else f"{', '.join(texts[:-1])} and {texts[-1]}"


def _list(names: Sequence[str]) -> str:
    return ", ".join(names)


def _first_upper(text: str) -> str:
    return text[:1].upper() + text[1:]


# ------------------------------------------------------------------------------ the document


def build(plan: m.Plan, results: Sequence[ExampleResult] | None = None) -> list[Block]:
    """The document of a checked plan. `results` are its examples' results (run here when not
    given)."""
    words = Terms(plan)
    if results is None:
        results = [run_example(plan, ex) for ex in plan.examples]
    out: list[Block] = [Heading(1, plan.name)]
    end = plan.effective_end or "further notice"
    cal = ("calendar years" if plan.calendar.fiscal_start == 1 else
           f"fiscal years starting in {MONTH_NAMES[plan.calendar.fiscal_start - 1].title()}")
    out.append(Table(("", ""), (
        ("Version", plan.version or "(none stated)"),
        ("Effective", f"{plan.effective_start} to {end}"),
        ("Covers", _covers(plan.applies_to or plan.roles)),
        ("Currency", plan.currency),
        ("Periods", cal),
        ("Plan file", plan.path),
        ("Plan hash (SHA-256)", plan.source_hash),
    )))
    out.append(Para(
        "This document is generated from the plan file identified by the hash above; the plan "
        "file is what computes your pay. Amounts are in "
        f"{plan.currency}; money is rounded {plan.rounding.mode} to the cent "
        f"{'on each line' if plan.rounding.point == 'line' else 'on each statement'}."))
    out += _compensation(plan, words)
    out += _quotas(plan, words)
    out += _credits(plan, words)
    if plan.measures:
        out.append(Heading(2, "Measures"))
        out.append(Table(("Measure", "Definition"),
                         tuple((ms.label if ms.label != ms.name else ms.name,
                                f"{ms.name} = {words.expr(ms.expr)}") for ms in plan.measures)))
    out += _components(plan, words)
    out += _clawbacks(plan, w=words)
    out += _payout(plan, words)
    out += _examples(plan, results)
    out += _acknowledgement(plan)
    return out


def _covers(roles: Sequence[str]) -> str:
    if not roles:
        return "every payee"
    return f"role{'s' if len(roles) > 1 else ''} {_list(roles)}"


def _compensation(plan: m.Plan, w: Terms) -> list[Block]:
    if not plan.compensation:
        return []
    items = []
    for c in plan.compensation:
        dates = "" if c.start is None else (
            f", from {c.start}" + (f" to {c.end}" if c.end is not None else ""))
        roles = f" for role {_list(c.roles)}" if c.roles else ""
        items.append(f"{_first_upper(c.kind)}: {w.expr(c.amount)} per "
                     f"{PERIOD[c.per]}{roles}{dates}.")
    reads = [c for c in plan.compensation if c.kind == "target incentive" and any(
        isinstance(e, n.Ref) and e.name.text == "base_salary" for e in n.walk(c.amount))]
    if reads:
        items.append("In a target incentive, base_salary is your base salary on the same day, "
                     "per the same period.")
    return [Heading(2, "Base salary and target incentive"), Bullets(tuple(items)), Para(
        "Your base salary is paid by payroll, not by this plan: it is stated here, and on your "
        "statements beside your pay, with your target incentive, so that you can see your "
        "target total compensation (base salary plus target incentive). Amounts count the days "
        "you are employed in a role a line covers, month by month: a yearly amount is a "
        "twelfth of it each month, and a partial month counts its days. Where a rule pays "
        "target_incentive (or reads base_salary or target_total_compensation), it is your "
        "amount for the rule's period: a quarterly bonus paying target_incentive pays a "
        "quarter of a yearly target.")]


def _quotas(plan: m.Plan, w: Terms) -> list[Block]:
    if not plan.quotas:
        return []
    out: list[Block] = [Heading(2, "Quotas")]
    for q in plan.quotas:
        out.append(Heading(3, f"{q.label} ({q.name})"))
        items = []
        for v in q.values:
            items.append(w.quota_value(q, v) + ".")
        if q.from_data:
            items.append("Set for each payee in the quota table.")
        if q.forecast is not None:
            items.append(f"{_first_upper(w.forecast(q.forecast))}.")
        if q.proration:
            items.append(f"Prorated by the {q.proration} you are active in the period (a "
                         "partial period has a partial quota).")
        if q.ramp:
            items.append(f"New hires ramp: {w.ramp(q.ramp)[5:]} of the quota.")
        if q.normalize:
            items.append("Normalised by your territory's index.")
        out.append(Bullets(tuple(items)))
    return out


def _credits(plan: m.Plan, w: Terms) -> list[Block]:
    if not plan.credits:
        return []
    out: list[Block] = [Heading(2, "How credit is given")]
    for c in plan.credits:
        out.append(Heading(3, f"{c.label} ({c.name})"))
        items = [f"Credit {w.trigger(c.trigger)}"
                 + (f", valued at {w.expr(c.value)}" if c.value is not None else
                    ", valued at the deal amount") + "."]
        items.append({"recorded": "Split as recorded in the CRM (the shares total 100%).",
                      "evenly": "Split evenly between the people on the deal.",
                      "by role": f"Split by role: {w.split(c)[14:]}.",
                      "owner": "Credited to the deal owner."}.get(c.split, c.split))
        if c.overlays:
            items.append(f"Overlay credit on top of the split: {w.overlays(c)}.")
        if c.rollup:
            items.append(f"Rolled up to {c.rollup}.")
        items.append("A cancelled deal keeps its credit (a clawback may still take back pay)."
                     if c.cancelled == "keep" else
                     "A cancelled deal's credit is taken back at its cancellation.")
        if c.digital_share:
            items.append(f"Digital touches credit the deal owner at {fmt_pct(c.digital_share)}.")
        if c.attribution:
            items.append(f"Credit is attributed {w.attribution(c).removeprefix('attribute ')} "
                         "among the touches.")
        items += w.common(c)
        out.append(Bullets(tuple(items)))
    return out


def _components(plan: m.Plan, w: Terms) -> list[Block]:
    out: list[Block] = [Heading(2, "What you earn")]
    for c in plan.components:
        out.append(Heading(3, f"{c.label} ({c.name})"))
        if isinstance(c, m.CommissionSpec):
            if c.table is not None:
                out.append(Para(f"Commission on {w.key(c.base)}. {w.tier_words(c.table)}"))
                out.append(w.tiers(c.table))
            else:
                out.append(Para(f"Commission on {w.key(c.base)} at {w.expr(c.rate)}."))
            extra = [w.accelerated(a) for a in c.accelerators]
        elif isinstance(c, m.BonusSpec):
            kind = w.key_kind(c.key)
            over = f"{w.key(c.key)} per {PERIOD.get(c.period, c.period)}"
            if c.schedule == "step":
                out.append(Para(f"A bonus on {over}: the highest step reached pays."))
                out.append(Table(("When it reaches", "Pay"), tuple(
                    (w.value(r.threshold, kind), w.expr(r.pay)) for r in c.steps), (0, 1)))
            else:
                low, high = c.steps
                out.append(Para(
                    f"A bonus on {over}, rising in a straight line from "
                    f"{w.expr(low.pay)} at {w.value(low.threshold, kind)} to "
                    f"{w.expr(high.pay)} at {w.value(high.threshold, kind)}."))
            extra = []
        elif isinstance(c, m.SpiffSpec):
            out.append(Para(f"Pays {w.expr(c.pay)} {w.trigger(c.trigger)}."))
            extra = [] if c.budget is None else [
                f"A budget of {w.money(c.budget)} is shared by every payee, first come first "
                "served: the deal that reaches it gets what is left, later deals nothing."]
        elif isinstance(c, (m.StageRewardSpec, m.ActivityRewardSpec)):
            what = "stage" if isinstance(c, m.StageRewardSpec) else "activity"
            out.append(Table(("When", "Condition", "Pay"), tuple(
                (f'deal reaches "{p.subject}"' if what == "stage" else f'activity "{p.subject}"',
                 w.expr(p.where) if p.where is not None else "", w.expr(p.pay))
                for p in c.pays), (2,)))
            extra = []
            if isinstance(c, m.StageRewardSpec) and c.net_against:
                extra.append(f"Netted against {c.net_against} when the deal is won (never "
                             "below zero for the deal).")
        elif isinstance(c, m.PoolSpec):
            share = "equally" if c.share == "equally" else f"in proportion to {c.share_by}"
            out.append(Para(f"A team pool funded with {w.expr(c.fund)} per "
                            f"{PERIOD.get(c.period, c.period)}, shared {share}."))
            extra = []
        else:  # OverrideSpec
            out.append(Para(f"A manager override of {w.expr(c.pay)} per "
                            f"{PERIOD.get(c.period, c.period)}."))
            extra = []
        items = extra + w.common(c)
        if items:
            out.append(Bullets(tuple(items)))
    return out


def _clawbacks(plan: m.Plan, w: Terms) -> list[Block]:
    if not plan.clawbacks:
        return []
    out: list[Block] = [Heading(2, "Clawbacks")]
    items = []
    for c in plan.clawbacks:
        share = "in full" if c.share == 1 else f"at {fmt_pct(c.share)}"
        items.append(f"{c.label}: if a deal is cancelled within {c.within_count} "
                     f"{c.within_unit} of booking, what {w.rule_names(c.components)} paid on "
                     "it is "
                     f"taken back {share}, at the original amounts. Nothing is taken from a "
                     "paycheck: a negative balance is carried forward and recovered from later "
                     "pay.")
    out.append(Bullets(tuple(items)))
    return out


def _payout(plan: m.Plan, w: Terms) -> list[Block]:
    p = plan.payout
    items = [f"You are paid {FREQUENCY.get(p.frequency, p.frequency)}" + (
        f", for the fortnights counted from {plan.calendar.pay_start}" if
        p.frequency == "biweekly" else "") + "."]
    legs = p.schedule
    if len(legs) == 1 and legs[0][0] == "booked":
        items.append("Earnings are payable in the pay period they are earned in.")
    else:
        items.append(f"Deal earnings are payable {w.schedule_legs(legs)}; what waits for the "
                     "customer's payment is paid when it comes in.")
    if p.holdback is not None:
        items.append(f"{_first_upper(w.holdback(p.holdback))}: withheld from each pay period's "
                     "earnings and released then.")
    if p.draw is not None:
        items.append(f"{_first_upper(w.draw(p.draw))}: a guaranteed minimum pay per pay "
                     "period.")
    if p.advance is not None:
        items.append(_advance(p.advance, w))
    items += w.limits(p.limits)
    return [Heading(2, "When you are paid"), Bullets(tuple(items))]


def _advance(a: m.AdvanceSpec, w: Terms) -> str:
    """The advance in plain words: when it is paid, how it is paid back, what is forgiven."""
    if a.per is None:
        paid = (f"An advance of {w.money(a.amount)} is paid in the pay period you start in, "
                "whatever you earn.")
    else:
        first = f" of your first {months_text(a.months)} of employment" if a.months else ""
        paid = (f"An advance of {w.money(a.amount)} is paid each {a.per}{first}, whatever "
                "you earn.")
    share = ("each later payout goes" if a.recovery_share is None
             else f"at most {fmt_pct(a.recovery_share)} of each later payout goes")
    back = (f" Advances are owed: from the first pay period after the last advance, {share} "
            "to repay them until they are repaid (pay is never below zero).")
    if a.forgiveness == "termination":
        end = " Whatever is still owed when you leave is forgiven."
    elif a.forgiveness == "at":
        end = f" Whatever is still owed on {a.forgive_date} is forgiven."
    else:
        end = " Whatever is still owed when you leave is not forgiven by this plan."
    return paid + back + end


def _examples(plan: m.Plan, results: Sequence[ExampleResult]) -> list[Block]:
    if not results:
        return []
    out: list[Block] = [
        Heading(2, "Worked examples"),
        Para("Each example is part of the plan file; the results below are computed by the "
             "same evaluator that computes your pay.")]
    for r in results:
        out.append(Heading(3, r.example.name))
        out.append(Code(tuple(statement_lines(r.example.block))))
        # A run stopped by an error (a missing exchange rate) computed nothing: its zeros are
        # not results to set against the stated ones.
        errors = [d.message for d in r.run.diagnostics if d.is_error]
        if errors:
            out.append(Para("This example could not be computed: " + "; ".join(errors) + "."))
        rows = tuple((o.text.removeprefix("expect "), o.show(o.expected, plan.currency),
                      *(("—", "not computed") if errors else
                        (o.show(o.actual, plan.currency), "agrees" if o.passed else "DIFFERS")))
                     for o in r.outcomes)
        out.append(Table(("Expectation", "Stated", "Computed", ""), rows, (1, 2)))
    return out


def _acknowledgement(plan: m.Plan) -> list[Block]:
    version = f", version {plan.version}," if plan.version else ""
    return [
        Heading(2, "Acknowledgement"),
        Para(f"I have received and read the plan \"{plan.name}\"{version} effective "
             f"{plan.effective_start}, identified by the plan hash {plan.source_hash[:16]}…, "
             "including its worked examples, and I understand how my incentive pay is "
             "computed under it."),
        Signature(("Payee name", "Signature", "Date", "Manager name", "Manager signature",
                   "Date")),
    ]


# ------------------------------------------------------------------------------ rendering


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md_text(text: str) -> str:
    # Plan texts are untrusted: nothing in them may become Markdown markup or raw HTML.
    out = []
    for ch in text:
        out.append("\\" + ch if ch in "\\`*_{}[]<>#|!&" else ch)
    return "".join(out)


def to_markdown(blocks: Sequence[Block]) -> str:
    out: list[str] = []
    for b in blocks:
        if isinstance(b, Heading):
            out.append(f"{'#' * b.level} {_md_text(b.text)}")
        elif isinstance(b, Para):
            out.append(_md_text(b.text))
        elif isinstance(b, Bullets):
            out.append("\n".join(f"- {_md_text(i)}" for i in b.items))
        elif isinstance(b, Table):
            head = "| " + " | ".join(_md_cell(_md_text(h)) for h in b.header) + " |"
            rule = "| " + " | ".join("---:" if i in b.right else "---"
                                     for i in range(len(b.header))) + " |"
            rows = ["| " + " | ".join(_md_cell(_md_text(c)) for c in row) + " |"
                    for row in b.rows]
            out.append("\n".join([head, rule, *rows]))
        elif isinstance(b, Code):
            fence = "````" if any("```" in ln for ln in b.lines) else "```"
            out.append("\n".join([fence + "text", *b.lines, fence]))
        elif isinstance(b, Signature):
            out.append("\n\n".join(f"{_md_text(label)}: ______________________________"
                                   for label in b.lines))
    return "\n\n".join(out) + "\n"


CSS = """
body{font-family:Georgia,"Times New Roman",serif;color:#1d2733;max-width:820px;margin:32px auto;
 padding:0 24px;line-height:1.45}
h1{font-size:28px;margin-bottom:12px}h2{font-size:20px;margin-top:32px;
 border-bottom:1px solid #c9d1da}h3{font-size:16px;margin-bottom:6px}
table{border-collapse:collapse;margin:8px 0 12px}th,td{border:1px solid #c9d1da;
 padding:4px 10px;text-align:left;vertical-align:top}th{background:#f1f3f6}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
pre{background:#f6f8fa;padding:10px;font-size:13px;overflow-x:auto}
.sign{display:grid;grid-template-columns:1fr 1fr;gap:28px 40px;margin-top:24px}
.sign div{border-top:1px solid #1d2733;padding-top:4px;font-size:13px;margin-top:28px}
@media print{body{margin:0}}
"""


def to_html(blocks: Sequence[Block]) -> str:
    e = html.escape
    title = next((b.text for b in blocks if isinstance(b, Heading)), "Plan")
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>{e(title)}</title><style>{CSS}</style></head><body>"]
    for b in blocks:
        if isinstance(b, Heading):
            out.append(f"<h{b.level}>{e(b.text)}</h{b.level}>")
        elif isinstance(b, Para):
            out.append(f"<p>{e(b.text)}</p>")
        elif isinstance(b, Bullets):
            out.append("<ul>" + "".join(f"<li>{e(i)}</li>" for i in b.items) + "</ul>")
        elif isinstance(b, Table):
            def cell(tag: str, i: int, text: str) -> str:
                cls = ' class="num"' if i in b.right else ""
                return f"<{tag}{cls}>{e(text)}</{tag}>"
            head = "".join(cell("th", i, h) for i, h in enumerate(b.header)) \
                if any(b.header) else ""
            rows = "".join("<tr>" + "".join(cell("td", i, c) for i, c in enumerate(row))
                           + "</tr>" for row in b.rows)
            out.append(f"<table>{'<tr>' + head + '</tr>' if head else ''}{rows}</table>")
        elif isinstance(b, Code):
            out.append("<pre>" + e("\n".join(b.lines)) + "</pre>")
        elif isinstance(b, Signature):
            out.append('<div class="sign">' + "".join(f"<div>{e(label)}</div>"
                                                      for label in b.lines) + "</div>")
    out.append("</body></html>\n")
    return "\n".join(out)


def render(plans: Sequence[m.Plan], fmt: str = "markdown") -> str:
    """The document of a plan, or of each version of one plan in turn (oldest first), as
    Markdown or as one HTML page."""
    blocks = [b for plan in plans for b in build(plan)]
    return to_html(blocks) if fmt == "html" else to_markdown(blocks)
