"""Names a plan declares, and looking them up with "did you mean …?" suggestions.

Rule names (credits, measures, components, clawbacks) share one namespace so a name in an
expression, a diff or a statement means exactly one thing. Quotas have their own: a quota is
always written `quota NAME`, so `quota bookings` and the credit `bookings` cannot be confused.
Roles, fields, stages, channels and activities have their own too.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from incentive_dsl.diagnostics import closest
from incentive_dsl.span import Span

QUOTA, CREDIT, MEASURE, COMPONENT, CLAWBACK = "quota", "credit", "measure", "component", "clawback"


@attrs.define
class Symbol:
    kind: str
    name: str
    span: Span
    detail: str  # e.g. "commission", "bonus": what the block is
    used: bool = False


def suggest(name: str, candidates: Iterable[str], written: str = "{}") -> str | None:
    """A 'did you mean' hint for a misspelt name, or None. `written` is how the name is written
    where it is used (`deal.{}`, `quota {}`), so the hint can be copied as it stands."""
    close = closest(name, candidates)
    return f"did you mean '{written.format(close)}'?" if close else None


def suggest_text(value: str, candidates: Iterable[str]) -> str | None:
    """A 'did you mean' hint for a misspelt text (a stage, an activity, a listed value), shown
    in double quotes as it is written: single quotes do not make a text."""
    close = closest(value, candidates)
    return f'did you mean "{close}"?' if close else None


@attrs.define
class Scope:
    rules: dict[str, Symbol] = attrs.Factory(dict)
    quotas: dict[str, Symbol] = attrs.Factory(dict)
    roles: dict[str, Span] = attrs.Factory(dict)
    stages: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    activities: tuple[str, ...] = ()

    def table(self, kind: str) -> dict[str, Symbol]:
        return self.quotas if kind == QUOTA else self.rules

    def lookup(self, name: str, *kinds: str) -> Symbol | None:
        sym = (self.quotas if kinds == (QUOTA,) else self.rules).get(name)
        if sym is not None and (not kinds or sym.kind in kinds):
            sym.used = True
            return sym
        return None

    def names(self, *kinds: str) -> list[str]:
        symbols = [*self.rules.values(), *self.quotas.values()]
        return [s.name for s in symbols if not kinds or s.kind in kinds]
