"""A run's lines by payee (and its events by id and deal), built once per result.

`explain`, `reconcile` and the statements read one payee's lines at a time; explaining every
payee or deal of a large run must not pass over all of the run's lines on each call. The index
is kept by the result's identity and dropped with the result (RunResult keeps its fields).
"""

from __future__ import annotations

import weakref
from collections import defaultdict

import attrs

from incentive_dsl.eval.run import RunResult


@attrs.frozen
class RunIndex:
    events: dict  # event id -> event
    deal_events: dict  # deal id -> its events, in the data's order
    deals: frozenset  # the ids of the data's deals (of every event but activities)
    credits: dict  # credit line id -> line
    credits_of: dict  # payee -> their credit lines
    earnings_of: dict  # payee -> their earning lines, in the run's order
    payouts_of: dict  # payee -> their payout lines, in the run's order
    statements_of: dict  # payee -> their statements, in the run's order
    skips_of: dict  # payee -> skips of their events and of subjects "PAYEE ..."
    team_skips: tuple  # skips of a team rule (subject "team of MANAGER PERIOD")
    names: dict  # payee id -> display name, where the roster has one


_INDEXES: dict[int, RunIndex] = {}


def index(result: RunResult) -> RunIndex:
    """The index of `result`, built on the first call for it."""
    found = _INDEXES.get(id(result))
    if found is None:
        found = _INDEXES[id(result)] = build(result)
        # The id may be reused once the result is gone: the entry goes with it.
        weakref.finalize(result, _INDEXES.pop, id(result), None)
    return found


def build(result: RunResult) -> RunIndex:
    engine = result.engine
    events, deal_events = {}, defaultdict(list)
    if engine is not None:
        for e in engine.dataset.events:
            events[e.id] = e
            deal_events[e.deal].append(e)
    credits, credits_of = {}, defaultdict(list)
    for c in result.credits:
        credits[c.id] = c
        credits_of[c.payee].append(c)
    earnings_of, payouts_of, statements_of = defaultdict(list), defaultdict(list), \
        defaultdict(list)
    for ln in result.earnings:
        earnings_of[ln.payee].append(ln)
    for p in result.payouts:
        payouts_of[p.payee].append(p)
    for s in result.statements:
        statements_of[s.payee].append(s)
    skips_of, team = defaultdict(list), []
    for s in result.skips:
        subject = s.subject
        keys = {subject[:i] for i, ch in enumerate(subject) if ch == " "}  # "PAYEE PERIOD"
        event = events.get(subject)
        if event is not None:
            keys.add(event.owner)
            keys.update(p for p, _ in event.splits)
        for key in keys:
            skips_of[key].append(s)
        if subject.startswith("team of "):
            team.append(s)
    names = {r.id: r.name for r in engine.dataset.payees if r.name} if engine is not None \
        else {}
    deals = frozenset(e.deal for e in events.values() if e.kind != "activity")
    return RunIndex(events, dict(deal_events), deals, credits, dict(credits_of), dict(earnings_of),
                    dict(payouts_of), dict(statements_of), dict(skips_of), tuple(team), names)
