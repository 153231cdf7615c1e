"""A plan review, as `incentive diff` shows it: the semantic changes between two plans and
their payout impact on a history, as a terminal report, a pull-request comment (markdown) or
JSON for programs.

The markdown always stays under `MARKDOWN_LIMIT` characters (GitHub refuses comments over
65,536): the summary, the changes and the largest changes come first, the full tables are folded
in <details> and cut, with a note, when they would not fit. The JSON is versioned
(`format_version`) and deterministic: keys sorted, amounts as decimal strings rounded to the
currency's minor unit, payees by id.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from decimal import Decimal

import attrs

from incentive_dsl.audit.impact import Impact, PayeeImpact
from incentive_dsl.audit.plandiff import Change, PlanDiff
from incentive_dsl.eval.money import fmt
from incentive_dsl.periods import unit_text

FORMAT_VERSION = 1
MARKDOWN_LIMIT = 60_000
TOP = 10  # payees in "largest changes"
MAX_CHANGE_CHARS = 20_000  # of the markdown's list of plan changes


@attrs.frozen
class Review:
    old_ref: str  # as given: a path, a directory of versions, or REV:path
    new_ref: str
    # One diff between two single plans (a PlanDiff alone is taken as it); between versions
    # of plans, one per stretch of days with the same two versions in effect
    # (plandiff.diff_versions), oldest first.
    diffs: tuple[PlanDiff, ...] = attrs.field(
        converter=lambda d: (d,) if isinstance(d, PlanDiff) else tuple(d))
    impact: Impact | None  # None when no history was given

    @property
    def changes(self) -> tuple[Change, ...]:
        return tuple(c for d in self.diffs for c in d.changes)

    @property
    def new_plan(self):
        return self.diffs[-1].new

    @property
    def payouts_changed(self) -> bool:
        """Whether pay changes: on the history when one is given, else whether the plan's
        meaning changed at all."""
        if self.impact is None:
            return bool(self.changes)
        return self.impact.changed


# ------------------------------------------------------------------------------ amounts


def money(amount: Decimal) -> str:
    return fmt(amount)


def signed(amount: Decimal) -> str:
    return ("+" if amount > 0 else "") + fmt(amount) if amount else "0.00"


def pct(p: PayeeImpact | Impact) -> str:
    if not p.difference:
        return ""
    if p.percent is None:
        return "new" if p.new else ""
    # Signed by the difference: a gain under 0.05% is +0.0%, as a loss is -0.0%.
    return f"{'+' if p.difference > 0 else ''}{p.percent}%"


def rules_text(p: PayeeImpact) -> str:
    return "; ".join(f"{r.title} {signed(r.difference)}" for r in p.rules)


def _window(impact: Impact) -> str:
    # As `run` titles it: a range names the pay periods it holds when they are not the range
    # as asked (api.window).
    return impact.range if impact.window is None else impact.window.label


def _paid_differs(impact: Impact) -> bool:
    return any(p.paid_difference != p.difference for p in impact.payees)


def summary(review: Review) -> str:
    """One sentence: does pay change, by how much, for how many payees."""
    impact = review.impact
    if impact is None:
        if not review.changes:
            return "No change to what the plan pays: only comments or layout differ."
        return (f"{len(review.changes)} change(s) to the plan; no history was given, so "
                "the payout impact was not computed.")
    cur = impact.currency
    # A payee listed with a difference is never counted as unchanged: one whose total stays
    # the same while its rules (or what it is paid in the window) change is counted apart.
    net_zero = impact.count("net zero")
    counts = (f"{impact.count('gain')} payee(s) gain, {impact.count('loss')} lose, "
              + (f"{net_zero} changed with no net difference in earnings, " if net_zero else "")
              + f"{impact.count('unchanged')} unchanged")
    if not impact.changed:
        text = (f"No payout change on the history ({_window(impact)}): total earnings stay "
                f"{money(impact.old)} {cur} for {len(impact.payees)} payee(s).")
        if net_zero:
            text += (f" {net_zero} payee(s) changed with no net difference: the changes of "
                     "their rules offset.")
        return text
    text = (f"Payouts change on the history ({_window(impact)}): total earnings "
            f"{money(impact.old)} → {money(impact.new)} {cur} ({signed(impact.difference)} "
            f"{cur}{', ' + pct(impact) if pct(impact) else ''}); {counts}.")
    if impact.new_paid != impact.old_paid and _paid_differs(impact):
        text += f" Paid in that time: {money(impact.old_paid)} → {money(impact.new_paid)} {cur}."
    return text


def grouped(changes: Iterable[Change]) -> list[tuple[Change, list[Change]]]:
    """Changes grouped by the rule they belong to, in order of first appearance."""
    groups: dict[tuple, list[Change]] = {}
    for c in changes:
        groups.setdefault((c.section, c.kind, c.name), []).append(c)
    return [(items[0], items) for items in groups.values()]


def _names(c: Change) -> tuple[str, str | None]:
    """A group's title, and the rule's keyword and name when the title is a label."""
    if c.kind in ("field", "example"):  # titled by their own name (field deal.type)
        return c.title, None
    plain = f"{c.kind} {c.name}" if c.name is not None else c.kind
    return c.title, None if c.title == plain else plain


def _heading(c: Change) -> str:
    title, plain = _names(c)
    return title if plain is None else f"{title} ({plain})"


def _place(c: Change) -> str:
    span = c.new or c.old
    return "" if span is None else f"{span.path}:{span.line}"


# ------------------------------------------------------------------------------ text


def print_text(review: Review, console, all_payees: bool = False) -> None:
    """The terminal report, printed on a rich Console."""
    from rich.markup import escape
    from rich.table import Table

    console.print(f"[bold]{escape(review.new_plan.name)}[/bold]: {escape(review.old_ref)} → "
                  f"{escape(review.new_ref)}")
    for d in review.diffs:
        indent = "  "
        if d.compared is not None:  # versions: which two, on which days
            console.print(f"  [bold]{escape(d.compared)}[/bold]")
            indent = "    "
        if not d.changes:
            console.print(f"{indent}no change to what the plan pays (comments and layout are "
                          "not compared)")
        for head, items in grouped(d.changes):
            console.print(f"{indent}[bold]{escape(_heading(head))}[/bold]")
            for c in items:
                place = _place(c)
                console.print(f"{indent}  {escape(c.detail)}"
                              + (f"  [dim]{escape(place)}[/dim]" if place else ""))
    impact = review.impact
    if impact is not None:
        rows = impact.payees if all_payees else impact.changed_payees()
        paid = _paid_differs(impact)
        table = Table(title=f"Payout impact, {_window(impact)} ({impact.currency})",
                      show_lines=False)
        table.add_column("Payee")
        for col in ("Old", "New", "Difference", "%"):
            table.add_column(col, justify="right")
        if paid:
            table.add_column("Paid difference", justify="right")
        table.add_column("Rules")
        for p in rows:
            cells = [escape(p.payee), money(p.old), money(p.new), signed(p.difference), pct(p)]
            if paid:
                cells.append(signed(p.paid_difference))
            table.add_row(*cells, escape(rules_text(p)))
        total = ["[bold]total[/bold]", money(impact.old), money(impact.new),
                 signed(impact.difference), pct(impact)]
        if paid:
            total.append(signed(impact.new_paid - impact.old_paid))
        table.add_row(*total, "", end_section=True)
        console.print()
        console.print(table)
        if impact.period_unit is not None and impact.periods:
            per = Table(title=f"By {unit_text(impact.period_unit)} ({impact.currency})")
            per.add_column("Period")
            for col in ("Old", "New", "Difference"):
                per.add_column(col, justify="right")
            for row in impact.periods:
                per.add_row(row.period, money(row.old), money(row.new), signed(row.difference))
            console.print(per)
            # Who changes in which period, as the markdown and JSON have it.
            each = Table(
                title=f"By {unit_text(impact.period_unit)} and payee ({impact.currency})")
            each.add_column("Payee")
            each.add_column("Period")
            for col in ("Old", "New", "Difference"):
                each.add_column(col, justify="right")
            for p in rows:
                for row in p.periods:
                    each.add_row(escape(p.payee), row.period, money(row.old), money(row.new),
                                 signed(row.difference))
            if each.row_count:
                console.print(each)
        for note in impact.notes:
            console.print(f"note: {escape(note)}")
    console.print(escape(summary(review)))


# ------------------------------------------------------------------------------ markdown


def md(text: str) -> str:
    """Text safe inside markdown (tables included): markup characters escaped."""
    out = text.replace("\\", "\\\\")
    for ch in "`*_[]|#":
        out = out.replace(ch, "\\" + ch)
    return out.replace("<", "&lt;").replace(">", "&gt;").replace("\n", " ")


def _payee_row(p: PayeeImpact, paid: bool) -> str:
    cells = [md(p.payee), money(p.old), money(p.new), signed(p.difference), pct(p)]
    if paid:
        cells.append(signed(p.paid_difference))
    cells.append(md(rules_text(p)))
    return "| " + " | ".join(cells) + " |"


def _payee_head(paid: bool) -> list[str]:
    cols = ["Payee", "Old", "New", "Difference", "%"] + (["Paid difference"] if paid else [])
    cols.append("Rules")
    align = ["---", "---:", "---:", "---:", "---:"] + (["---:"] if paid else []) + ["---"]
    return ["| " + " | ".join(cols) + " |", "| " + " | ".join(align) + " |"]


def to_markdown(review: Review, command: str = "incentive diff",
                limit: int = MARKDOWN_LIMIT) -> str:
    """A pull-request comment, always shorter than `limit` characters."""
    impact = review.impact
    out = [f"## Plan review: {md(review.new_plan.name)}", "",
           f"`{review.old_ref}` → `{review.new_ref}`", "", md(summary(review)), ""]
    out += _md_changes(review)
    if impact is not None:
        paid = _paid_differs(impact)
        changed = impact.changed_payees()
        if changed:
            out += [f"### Largest changes ({md(impact.currency)})", ""]
            out += _payee_head(paid) + [_payee_row(p, paid) for p in changed[:TOP]]
            out.append("")
        out += [f"> {md(note)}" for note in impact.notes]
        if impact.notes:
            out.append("")
        tail = ["", "</details>", ""]
        folded: list[tuple[str, list[str], list[str]]] = []
        if changed:
            folded.append((f"All {len(changed)} payee(s) with a difference", _payee_head(paid),
                           [_payee_row(p, paid) for p in changed]))
        if impact.period_unit is not None and impact.periods:
            rows = [f"| {md(r.period)} | {money(r.old)} | {money(r.new)} | "
                    f"{signed(r.difference)} |" for r in impact.periods]
            folded.append((f"By {unit_text(impact.period_unit)}: all payees",
                           ["| Period | Old | New | Difference |",
                            "| --- | ---: | ---: | ---: |"], rows))
            rows = [f"| {md(p.payee)} | {md(r.period)} | {money(r.old)} | {money(r.new)} | "
                    f"{signed(r.difference)} |" for p in changed for r in p.periods]
            if rows:
                folded.append((f"By {unit_text(impact.period_unit)} and payee",
                               ["| Payee | Period | Old | New | Difference |",
                                "| --- | --- | ---: | ---: | ---: |"], rows))
        note_room = 400  # for the note saying rows were cut
        for title, head, rows in folded:
            used = len("\n".join(out)) + note_room * (len(folded) + 1)
            block = ["<details>", f"<summary>{md(title)}</summary>", "", *head]
            room = limit - used - len("\n".join(block + tail))
            kept = []
            for row in rows:
                if room - len(row) - 1 < 0:
                    break
                kept.append(row)
                room -= len(row) + 1
            out += block + kept + tail
            if len(kept) < len(rows):
                out += [f"_{len(rows) - len(kept)} of {len(rows)} rows are not shown, to keep "
                        f"this comment under {limit:,} characters; run `{command} --format "
                        f"json` for all of them._", ""]
    text = "\n".join(out).rstrip() + "\n"
    return text if len(text) < limit else text[: limit - 200] + "\n\n_(cut)_\n"


def _md_changes(review: Review) -> list[str]:
    changes = review.changes
    versions = any(d.compared is not None for d in review.diffs)
    if not changes and not versions:
        return ["### Plan changes", "", "No change to what the plan pays: comments and layout "
                "are not compared.", ""]
    out = [f"### Plan changes ({len(changes)})", ""]
    size, shown = 0, 0
    for d in review.diffs:
        lines = []
        if d.compared is not None:
            lines += [f"#### {md(d.compared)}", ""]
            if not d.changes:
                lines += ["No change to what the plan pays.", ""]
        for head, items in grouped(d.changes):
            title, plain = _names(head)
            lines.append(f"- **{md(title)}**" + (f" (`{plain}`)" if plain else ""))
            for c in items:
                span = c.new or c.old
                where = f" (line {span.line})" if span is not None else ""
                lines.append(f"  - {md(c.detail)}{where}")
        if d.compared is not None and d.changes:
            lines.append("")
        size += sum(len(x) + 1 for x in lines)
        if size > MAX_CHANGE_CHARS:
            break
        out += lines
        shown += len(d.changes)
    if shown < len(changes):
        out.append(f"- _{len(changes) - shown} more change(s) not shown; see the JSON "
                   "output_")
    if not versions or shown < len(changes):
        out.append("")
    return out


# ------------------------------------------------------------------------------ json


def to_json(review: Review) -> str:
    impact = review.impact

    def side(ref: str, plan) -> dict:
        return {"ref": ref, "plan": plan.name, "version": plan.version,
                "plan_hash": plan.source_hash, "currency": plan.currency}

    def days(d: PlanDiff) -> dict | None:
        if d.days is None:
            return None
        return {"start": d.days[0].isoformat(),
                "end": None if d.days[1] is None else d.days[1].isoformat()}

    doc: dict = {
        "format_version": FORMAT_VERSION,
        "old": side(review.old_ref, review.diffs[-1].old),
        "new": side(review.new_ref, review.new_plan),
        "plan_changed": bool(review.changes),
        "changes": [c.to_json() for c in review.changes],
        # Between versions of plans, which two versions each stretch of days compares.
        "versions": [{"days": days(d), "old": side(d.old.path, d.old),
                      "new": side(d.new.path, d.new),
                      "changes": [c.to_json() for c in d.changes]}
                     for d in review.diffs if d.days is not None],
        "payouts_changed": review.payouts_changed if impact is not None else None,
        "summary": summary(review),
        "impact": None if impact is None else _impact_json(impact),
    }
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _impact_json(impact: Impact) -> dict:
    def amounts(x) -> dict:
        return {"old": str(x.old), "new": str(x.new), "difference": str(x.difference)}

    w = impact.window
    return {
        "currency": impact.currency,
        "range": impact.range,
        "window": None if w is None else {"label": w.label, "start": w.start.isoformat(),
                                          "end": w.end.isoformat()},
        "totals": {**amounts(impact), "percent": _pct_json(impact.percent),
                   "old_paid": str(impact.old_paid), "new_paid": str(impact.new_paid)},
        "payees_gain": impact.count("gain"),
        "payees_lose": impact.count("loss"),
        "payees_net_zero": impact.count("net zero"),
        "payees_unchanged": impact.count("unchanged"),
        "period_unit": impact.period_unit,
        "periods": [{"period": r.period, **amounts(r)} for r in impact.periods],
        "payees": [{"payee": p.payee, **amounts(p), "percent": _pct_json(p.percent),
                    "old_paid": str(p.old_paid), "new_paid": str(p.new_paid),
                    "status": p.status,
                    "rules": [{"rule": r.rule, "title": r.title, **amounts(r)} for r in p.rules],
                    "periods": [{"period": r.period, **amounts(r)} for r in p.periods]}
                   for p in impact.payees],
        "notes": list(impact.notes),
    }


def _pct_json(value: Decimal | None) -> str | None:
    return None if value is None else str(value)
