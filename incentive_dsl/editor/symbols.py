"""What an editor asks of one plan file: its diagnostics, and for a position the name there,
its definition and what it is (hover, go-to-definition).

`analyze` parses and checks the text as `incentive check` does (a file with syntax errors is
not type-checked, its tree being incomplete) and indexes the syntax tree's names: every
definition (rules, quotas, fields, roles, example payees) and every use. Names and kinds
come from the checker's scope, types from its expression checker; positions are the spans
of syntax nodes, so nothing of Lark is involved.
"""

from __future__ import annotations

from collections.abc import Iterator

import attrs

from incentive_dsl.check import plan as checking
from incentive_dsl.check.types import Type, money
from incentive_dsl.diagnostics import Diagnostic
from incentive_dsl.span import Span
from incentive_dsl.syntax import nodes as n
from incentive_dsl.syntax import parse_text

RULE, QUOTA, FIELD, ROLE, PAYEE = "rule", "quota", "field", "role", "payee"

# Which identifiers of which statements name what (the rest are definitions, found below).
_USES: dict[tuple[type, str], str] = {
    (n.Ref, "name"): RULE, (n.TeamRef, "name"): RULE, (n.QuotaRef, "name"): QUOTA,
    (n.BaseLine, "credit"): RULE, (n.TierTable, "key"): RULE, (n.Accelerator, "key"): RULE,
    (n.StepSchedule, "key"): RULE, (n.LinearSchedule, "key"): RULE,
    (n.NetAgainst, "component"): RULE, (n.ShareRule, "by"): RULE,
    (n.Reverse, "components"): RULE, (n.QuotaForecast, "measure"): RULE,
    (n.Expectation, "target"): RULE, (n.ExampleQuota, "quota"): QUOTA,
    (n.RolesFilter, "roles"): ROLE, (n.AppliesDecl, "roles"): ROLE,
    (n.QuotaValue, "roles"): ROLE, (n.Overlay, "roles"): ROLE,
    (n.Expectation, "payee"): PAYEE, (n.ExampleQuota, "payee"): PAYEE,
    (n.ExampleActivity, "by"): PAYEE,
}
_ATTR_USES = {"role": ROLE, "by": PAYEE, "manager": PAYEE}
# Names the language defines (a plan may not declare them).
BUILTIN_NAMES = {(RULE, "activities"): "built-in `activities`: the payee's activities in the "
                                       "period, counted with count(activities where ...)",
                 **{(RULE, name): f"built-in `{name}`: money, the payee's {what} for the "
                    "period (the plan's compensation block)" for name, what in (
                        ("base_salary", "base salary"), ("target_incentive", "target incentive"),
                        ("target_total_compensation",
                         "target total compensation (base salary plus target incentive)"))}}


@attrs.frozen
class Definition:
    key: tuple  # (kind, name) or (FIELD, owner, name) or (PAYEE, example index, name)
    span: Span  # the name where it is declared
    what: str  # "commission", "measure", "deal field", "role", "example payee", ...
    type: Type | None  # the value it stands for, when the checker knows it


@attrs.frozen
class Occurrence:
    span: Span
    key: tuple
    definition: bool


@attrs.frozen
class Analysis:
    path: str
    source: str
    diagnostics: tuple[Diagnostic, ...]
    definitions: dict[tuple, Definition]
    occurrences: tuple[Occurrence, ...]
    builtin_fields: dict[tuple[str, str], Type]
    tree: n.PlanFile  # the blocks that parse (a block with a syntax error is left out)

    def at(self, line: int, column: int) -> Occurrence | None:
        """The name at a 1-based line and column, if any."""
        for occ in self.occurrences:
            s = occ.span
            if s.line == line and s.column <= column < s.end_column:
                return occ
        return None

    def definition(self, occ: Occurrence) -> Definition | None:
        return self.definitions.get(occ.key)

    def line_text(self, line: int) -> str:
        lines = self.source.split("\n")  # spans count only \n as a line break
        return lines[line - 1].rstrip("\r") if 0 < line <= len(lines) else ""

    def describe(self, occ: Occurrence) -> str | None:
        """Markdown for a hover: what the name is, its type, and its definition line."""
        d = self.definition(occ)
        if d is None and occ.key in BUILTIN_NAMES:
            return BUILTIN_NAMES[occ.key]
        if d is None:
            if occ.key[0] == FIELD and (occ.key[1], occ.key[2]) in self.builtin_fields:
                t = self.builtin_fields[(occ.key[1], occ.key[2])]
                return f"built-in field `{occ.key[1]}.{occ.key[2]}`: {t}"
            return None
        name = ".".join(occ.key[1:]) if occ.key[0] == FIELD else occ.key[-1]
        head = f"{d.what} `{name}`" + (f": {d.type}" if d.type is not None else "")
        code = self.line_text(d.span.line).strip()
        return f"{head}\n\n```incentive\n{code}\n```\n\nline {d.span.line}"


def analyze(path: str, text: str) -> Analysis:
    """Diagnostics and the name index of the plan file `path` holding `text`."""
    parsed = parse_text(path, text)
    diags = list(parsed.diagnostics)
    checker = None
    if parsed.broken or not any(d.is_error for d in parsed.diagnostics):  # as api.check_paths
        checker = checking.PlanChecker(parsed.tree, text, parsed.broken)
        diags.extend(checker.run()[1])
    types = _Types(checker)
    definitions: dict[tuple, Definition] = {}
    occurrences: list[Occurrence] = []
    for key, ident, what in _definitions(parsed.tree):
        if key not in definitions:  # a duplicate is the checker's error; the first one counts
            definitions[key] = Definition(key, ident.span, what, types.of(key, what))
        occurrences.append(Occurrence(ident.span, key, True))
    occurrences.extend(Occurrence(ident.span, key, False) for key, ident in _uses(parsed.tree))
    return Analysis(path, text, tuple(sorted(diags, key=Diagnostic.sort_key)), definitions,
                    tuple(sorted(occurrences, key=lambda o: (o.span.line, o.span.column))),
                    types.builtin, parsed.tree)


class _Types:
    """The types the checker found (none when the file was not checked)."""

    def __init__(self, checker: checking.PlanChecker | None) -> None:
        x = getattr(checker, "x", None)  # the checker makes it once the header is read
        self.x = x
        self.builtin: dict[tuple[str, str], Type] = {}
        if x is not None:
            for owner, fields, names in (("deal", x.deal_fields, checking.BUILTIN_DEAL),
                                         ("payee", x.payee_fields, checking.BUILTIN_PAYEE)):
                self.builtin.update({(owner, f): fields[f] for f in names if f in fields})

    def of(self, key: tuple, what: str) -> Type | None:
        x = self.x
        if x is None:
            return None
        kind = key[0]
        if kind == QUOTA:
            return x.quota_types.get(key[1])
        if kind == FIELD:
            return (x.deal_fields if key[1] == "deal" else x.payee_fields).get(key[2])
        if kind == RULE and what == "measure":
            return x.measure_types.get(key[1])
        if kind == RULE and what != "clawback":
            return money(x.currency)  # credits credit and components pay the plan currency
        return None


def _definitions(tree: n.PlanFile) -> Iterator[tuple[tuple, n.Ident, str]]:
    for index, block in enumerate(tree.blocks):
        kind = checking.RULE_BLOCKS.get(type(block))
        if kind is not None:
            yield (QUOTA if isinstance(block, n.QuotaBlock) else RULE, block.name.text), \
                block.name, kind[1]
        elif isinstance(block, n.FieldsBlock):
            for f in block.items:
                yield (FIELD, f.owner, f.name.text), f.name, f"{f.owner} field"
        elif isinstance(block, n.PlanBlock):
            for item in block.items:
                if isinstance(item, n.RolesDecl):
                    for r in item.roles:
                        yield (ROLE, r.text), r, "role"
        elif isinstance(block, n.ExampleBlock):
            for item in block.items:
                if isinstance(item, n.ExamplePayee):
                    yield (PAYEE, index, item.payee.text), item.payee, "example payee"


def _uses(tree: n.PlanFile) -> Iterator[tuple[tuple, n.Ident]]:
    for index, block in enumerate(tree.blocks):
        for node in n.walk(block):
            kind_of = type(node)
            for f in attrs.fields(kind_of):
                kind = _USES.get((kind_of, f.name))
                if kind is None:
                    continue
                value = getattr(node, f.name)
                for ident in value if isinstance(value, tuple) else (value,):
                    if isinstance(ident, n.Ident):
                        yield _key(kind, index, ident), ident
            if isinstance(node, n.FieldRef) and len(node.parts) == 2 and \
                    node.parts[0].text in ("deal", "payee"):
                yield (FIELD, node.parts[0].text, node.parts[1].text), node.parts[1]
            elif isinstance(node, n.SplitRule) and node.mode == "by role":
                for share in node.shares:
                    yield (ROLE, share.name.text), share.name
            elif isinstance(node, n.Attr):
                if isinstance(node.value, n.Ident) and node.key in _ATTR_USES:
                    yield _key(_ATTR_USES[node.key], index, node.value), node.value
                elif node.key == "split" and isinstance(node.value, tuple):
                    for share in node.value:
                        yield (PAYEE, index, share.name.text), share.name


def _key(kind: str, block: int, ident: n.Ident) -> tuple:
    # Example payees are declared per example: the same id may be another person in the next.
    return (PAYEE, block, ident.text) if kind == PAYEE else (kind, ident.text)
