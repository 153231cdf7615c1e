"""Checks across the records of a dataset: what no single row can tell.

Each check is a small function over the whole dataset (duplicates, bookings, payees,
employment, the roster, the plan's names, currencies, quotas, territories) that reports
diagnostics pointing at the offending record's row and cell. `check_dataset` also returns the
records with an error, which `load_dataset` leaves out; checks run once over all loaded records,
so leaving a record out never creates new problems. Keys of rows the loaders already rejected
('deal:D1', 'payee:ana', 'currency:EUR') silence the problems that would only repeat them.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from functools import cached_property
from operator import attrgetter, itemgetter

from incentive_dsl.check.model import Plan
from incentive_dsl.data.records import Dataset, Event, Roster
from incentive_dsl.data.tables import Row, Table, read_table
from incentive_dsl.data.values import suggest
from incentive_dsl.diagnostics import Diagnostic, Related, closest_id, error, warning
from incentive_dsl.span import NO_SPAN, Span

OWNER_ACTS = ("booked", "stage", "activity", "touch")  # the owner is the one who acted
NEEDS_BOOKING = ("cancelled", "amended", "invoiced", "collected")
_PAYEE = itemgetter(0)  # of a split's (payee, share)


class Places:
    """Record -> span of one of its cells, from the tables read (files are read again only
    when no table is given, e.g. for records loaded earlier)."""

    def __init__(self, tables: Mapping[str, Table] | None = None) -> None:
        self.tables: dict[str, Table | None] = dict(tables or {})
        self.rows: dict[str, dict[int, Row]] = {}

    def _row(self, path: str, line: int) -> Row | None:
        if path not in self.rows:
            if path not in self.tables:
                try:
                    self.tables[path] = read_table(path)[0]
                except Exception:  # positions are a nicety: never fail a check for them
                    self.tables[path] = None
            table = self.tables[path]
            self.rows[path] = {r.line: r for r in table.rows} if table is not None else {}
        return self.rows[path].get(line)

    def span(self, record: object, column: str | None = None) -> Span:
        source = getattr(record, "source", None)
        if source is None:
            return NO_SPAN
        row = self._row(source.path, source.row)
        if row is None:
            return Span.point(source.path, source.row, 1)
        cell = row.cells.get(column) if column else None
        return cell.span if cell is not None else row.span


class Checks:
    def __init__(self, dataset: Dataset, plan: Plan | None, places: Places,
                 rejected: set[str], unique: set[str] = frozenset()) -> None:
        self.data, self.plan, self.places, self.rejected = dataset, plan, places, rejected
        self.unique = unique  # see check_dataset
        self.diags: list[Diagnostic] = []
        self.bad: set[int] = set()
        self.order = {p: i for i, p in enumerate(dataset.sources)}

    @cached_property
    def events(self) -> EventFacts:
        """What the checks of events need, in one pass (made by the first to ask, after
        check_roster)."""
        return EventFacts(self.data)

    def at(self, record: object, column: str | None = None) -> Span:
        return self.places.span(record, column)

    def err(self, code: str, record: object, column: str | None, message: str,
            hint: str | None = None, related: Iterable[Related] = ()) -> None:
        self.diags.append(error(code, self.at(record, column), message, hint, tuple(related)))
        self.bad.add(id(record))

    def warn(self, code: str, record: object, column: str | None, message: str,
             hint: str | None = None) -> None:
        self.diags.append(warning(code, self.at(record, column), message, hint))

    def file_order(self, record: object) -> tuple:
        s = getattr(record, "source", None)
        if s is None:
            return (len(self.order), "", 0)
        return (self.order.get(s.path, len(self.order)), s.path, s.row)

    def first_seen(self, record: object, column: str) -> Related:
        s = record.source
        where = f"line {s.row}" if s is not None else "another record"
        return Related(self.at(record, column), f"first on {where}")


class EventFacts:
    """What several checks need to know of the events, gathered in one pass over them: four
    checks made six passes over every event, and then look only at the few they need (the
    checks of 1M deals in about a sixth less time, in alternated runs)."""

    def __init__(self, dataset: Dataset) -> None:
        events = dataset.events
        self.roster = Roster(list(dataset.payees))
        roster = self.roster
        # The payees not employed from the first event's date to the last's: only they can act
        # outside their employment (check_employment).
        unsteady = {p for p in roster.ids()
                    if not (roster.active_on(p, events[0].date)
                            and roster.active_on(p, events[-1].date))} if events else set()
        self.booked: list[Event] = []  # in processing order, as each list here
        # the deals booked: a set, not a dict of their bookings, which at a million deals
        # takes twice the time to fill (check_bookings looks up only the few it needs)
        self.deals: set[str] = set()
        self.needing: list[Event] = []  # events that need their deal's booking
        self.unsteady: list[Event] = []  # acts naming an unsteady payee (owner or split)
        self.currencies: set[str | None] = set()
        booked, deals, needing, acts = self.booked, self.deals, self.needing, self.unsteady
        owners: set[str | None] = set()
        pairs: set[tuple] = set()  # the (payee, share) pairs of splits: a loader shares them
        currencies = self.currencies
        for e in events:
            kind, owner, splits = e.kind, e.owner, e.splits
            if kind == "booked":
                booked.append(e)
                deals.add(e.deal)
            elif kind in NEEDS_BOOKING:
                needing.append(e)
            owners.add(owner)
            currencies.add(e.currency)
            if splits:
                pairs.update(splits)
                if kind in OWNER_ACTS and unsteady and (
                        owner in unsteady or not unsteady.isdisjoint(map(_PAYEE, splits))):
                    acts.append(e)
            elif owner in unsteady and kind in OWNER_ACTS:
                acts.append(e)
        # owners (None for none) and split payees
        self.named: set[str | None] = owners.union(map(_PAYEE, pairs))


# ------------------------------------------------------------------------------ the checks


def check_duplicates(c: Checks) -> None:
    d = c.data
    # attrgetter: the keys of every record are taken, and a lambda per record costs more
    groups = (
        ("events", d.events, attrgetter("id"), "event_id",
         lambda e: f"event id '{e.id}' is used twice", "every event needs its own id"),
        ("payees", d.payees, attrgetter("id", "effective_from"),
         lambda p: "effective_from" if p.effective_from else "payee_id",
         lambda p: f"payee '{p.id}' has a second row "
                   + (f"effective from {p.effective_from}" if p.effective_from
                      else "without effective_from"),
         "record a change as a new row with a later effective_from date"),
        ("quotas", d.quotas, attrgetter("payee", "quota", "period"), "period",
         lambda q: f"a second quota '{q.quota}' for '{q.payee}' in {q.period}",
         "keep one row per period"),
        ("fx", d.fx, attrgetter("currency", "target", "date"), "date",
         lambda f: f"a second {f.currency}→{f.target} rate dated {f.date}",
         "keep one rate per date"),
        ("territories", d.territories, attrgetter("territory"), "territory",
         lambda t: f"territory '{t.territory}' has a second index", "keep one row per territory"),
    )
    for name, records, key, column, message, hint in groups:
        if name in c.unique or len(set(map(key, records))) == len(records):
            continue  # no key twice (the common case): no need to sort into file order
        first: dict = {}
        for rec in sorted(records, key=c.file_order):
            col = column(rec) if callable(column) else column
            k = key(rec)
            if k in first:
                c.err("D-DUPLICATE", rec, col, message(rec), hint,
                      [c.first_seen(first[k], col)])
            else:
                first[k] = rec


def check_bookings(c: Checks) -> None:
    """One booking per deal; cancelled, amended, invoiced and collected events need the deal's
    booking dated on or before them."""
    booked = c.events.booked
    if len(c.events.deals) == len(booked):  # no deal twice (the common case): nothing to
        # report, and only the bookings of deals with later events are looked up
        wanted = {e.deal for e in c.events.needing}
        bookings: dict[str, Event] = {e.deal: e for e in booked if e.deal in wanted}
        booked = []
    else:  # some deal twice: the first is reported
        bookings = {}
        booked = sorted(booked, key=lambda e: (e.date, c.file_order(e)))
    for e in booked:
        first = bookings.get(e.deal)
        if first is None:
            bookings[e.deal] = e
            continue
        c.err("D-DUPLICATE", e, "deal_id", f"deal '{e.deal}' is booked twice (first on "
              f"{first.date})", "book a deal once; record later changes as 'amended' events",
              [c.first_seen(first, "deal_id")])
    for e in c.events.needing:
        if f"deal:{e.deal}" in c.rejected:
            continue
        booking = bookings.get(e.deal)
        if booking is None:
            near = closest_id(e.deal, c.events.deals)
            c.err("D-ORPHAN", e, "deal_id", f"deal '{e.deal}' is {e.kind} but never "
                  "booked", f"did you mean '{near}'?" if near else
                  "add the deal's booked event, or check the deal id")
        elif booking.date > e.date:
            c.err("D-ORPHAN", e, "date", f"deal '{e.deal}' is {e.kind} on {e.date}, "
                  f"before it is booked on {booking.date}",
                  "check the dates: a deal is booked before anything else happens to it",
                  [Related(c.at(booking, "date"), "the booking")])


def check_payees(c: Checks) -> None:
    """Every payee named by an event, a split, a manager or a quota is in the roster."""
    if not c.data.payees:
        return  # an empty roster is reported by its loader; naming every payee would be noise
    ids = {p.id for p in c.data.payees}
    events = c.data.events
    # The names no roster row has: usually none, and the events need no more look.
    if not c.events.named - ids - {None}:
        events = ()

    def unknown(payee: str | None) -> bool:
        return payee is not None and payee not in ids and f"payee:{payee}" not in c.rejected

    # One error per payee and kind of record, at the first record naming them in file order:
    # one payee missing from the roster (or misspelt there) would otherwise be an error per
    # event of their history, and per quota row.
    uses: dict[tuple[str, str], list[tuple[object, str, str]]] = defaultdict(list)
    for e in events:
        if unknown(e.owner):
            uses[e.owner, "events"].append(
                (e, "owner", "the owner" if e.kind == "booked" else "payee"))
        for payee, _ in e.splits:
            if unknown(payee):
                uses[payee, "events"].append((e, "splits", "split payee"))
    for p in c.data.payees:
        if unknown(p.manager):
            uses[p.manager, "roster rows"].append((p, "manager", "manager"))
    for q in c.data.quotas:
        if unknown(q.payee):
            uses[q.payee, "quota rows"].append((q, "payee_id", "payee"))
    for (payee, noun), found in uses.items():
        found.sort(key=lambda use: c.file_order(use[0]))  # stable: an owner before its splits
        record, column, role = found[0]
        named_by = {id(use[0]) for use in found}
        more = f" ({len(named_by)} {noun} name '{payee}')" if len(named_by) > 1 else ""
        c.err("D-PAYEE", record, column, f"{role} '{payee}' is not in the roster{more}",
              suggest(payee, ids) or "add the payee to the roster, or check the id")
        c.bad.update(named_by)


def check_employment(c: Checks) -> None:
    """A warning for an event whose payee is not employed on its date."""
    events = c.data.events
    if not c.data.payees or not events:
        return
    roster = c.events.roster
    # Only payees not employed from the first event's date to the last's (events are in
    # processing order, by date first) can have an event outside their employment. A payee
    # with a rejected roster row is left out: that row is reported, and the dates it leaves
    # (end before start, or the payee's other rows) would give a warning per event.
    first, last = events[0].date, events[-1].date
    short = {p for p in roster.ids() if f"payee:{p}" not in c.rejected
             and not (roster.active_on(p, first) and roster.active_on(p, last))}
    if not short:
        return

    def employed(payee: str, e: Event, column: str) -> None:
        if not roster.active_on(payee, e.date):
            start, end = roster.employment(payee)
            c.warn("D-PAYEE", e, column, f"'{payee}' is not employed on {e.date} (employed "
                   f"from {start}{f' to {end}' if end else ''})",
                   "check the event date and the roster's start and end dates")

    for e in c.events.unsteady:  # the events that can name one of them
        if e.kind in OWNER_ACTS:
            if e.owner in short:
                employed(e.owner, e, "owner")
            for payee, _ in e.splits:
                if payee in short:
                    employed(payee, e, "splits")


def check_roster(c: Checks) -> None:
    """End dates after start dates, rows taking effect within the employment, no manager
    cycles, roles the plan knows."""
    roster = Roster(list(c.data.payees))
    for p in c.data.payees:
        since = p.effective_from
        # Employment starts with the earliest row (docs/data.md): a row taking effect before
        # that would apply on days the payee is not employed.
        hired = roster.first(p.id).start
        if p.end is not None and p.end < p.start:
            c.err("D-ROSTER", p, "end", f"payee '{p.id}' ends on {p.end}, before starting on "
                  f"{p.start}", "the end date is the last day of employment, on or after start")
        elif since is not None and since < hired:
            c.err("D-ROSTER", p, "effective_from", f"payee '{p.id}' has a row taking effect on "
                  f"{since}, before starting on {hired}",
                  "a change takes effect during the employment; leave effective_from empty "
                  "for the row in force from the start")
        elif since is not None and p.end is not None and p.end < since:
            c.err("D-ROSTER", p, "end", f"payee '{p.id}' ends on {p.end}, before this row "
                  f"takes effect on {since}", "the end date is the last day of employment, "
                  "on or after the row's effective_from", [Related(c.at(p, "effective_from"),
                                                          "the row takes effect here")])
        else:
            continue
        c.rejected.add(f"payee:{p.id}")  # see check_employment
    check_manager_cycles(c)
    if c.plan is not None and c.plan.roles:
        for p in c.data.payees:
            if p.role not in c.plan.roles:
                c.warn("D-ROLE", p, "role", f"role '{p.role}' is not one of the plan's roles "
                       f"({', '.join(c.plan.roles)}); '{p.id}' is not covered by this plan",
                       suggest(p.role, c.plan.roles))


def check_manager_cycles(c: Checks) -> None:
    """Reporting lines must not loop, on any day. A loop that appears on a day includes a payee
    whose row takes effect that day, so only those payees are walked from (all on the first)."""
    payees = list(c.data.payees)
    if not payees:
        return
    roster = Roster(payees)
    changes: dict[dt.date, set[str]] = defaultdict(set)
    for p in payees:
        changes[p.effective_from or dt.date.min].add(p.id)
    changes[dt.date.min] = set(roster.ids())
    reported: set[frozenset[str]] = set()
    for day in sorted(changes):
        for pid in sorted(changes[day]):
            path, walk = [], pid
            while walk in roster and walk not in path:
                path.append(walk)
                walk = roster.at(walk, day).manager
            if walk != pid or frozenset(path) in reported:
                continue
            reported.add(frozenset(path))
            rows = [roster.at(m, day) for m in path]
            chain = " → ".join([*path, pid])
            since = f" (from {day})" if day != dt.date.min else ""
            c.err("D-ROSTER", rows[0], "manager",
                  f"'{pid}' is their own manager{since}" if len(path) == 1 else
                  f"the managers form a cycle: {chain}{since}",
                  "every chain of managers must end at someone without a manager",
                  [Related(c.at(r, "manager"), f"{r.id}'s manager is {r.manager}")
                   for r in rows[1:]])
            c.bad.update(id(r) for r in rows)


def check_names(c: Checks) -> None:
    """Stages, activities and channels the plan declares (when it declares a list)."""
    if c.plan is None or not (c.plan.stages or c.plan.activities or c.plan.channels):
        return  # no list declared: any name will do
    vocab = {"stage": ("stage", c.plan.stages, "stages"),
             "activity": ("activity", c.plan.activities, "activities"),
             "touch": ("channel", c.plan.channels, "channels")}
    for e in c.data.events:
        if e.kind not in vocab or e.subject is None:
            continue
        column, names, plural = vocab[e.kind]
        if names and e.subject not in names:
            listed = ", ".join(f"'{n}'" for n in names)
            c.err("D-STAGE", e, column, f"{column} '{e.subject}' is not one of the plan's "
                  f"{plural} ({listed})", suggest(e.subject, names) or
                  f"use one of {listed}, or declare it in the plan: {plural} \"...\"")


def check_currencies(c: Checks) -> None:
    """Every currency other than the plan's has a rate to the plan currency dated on or before
    the day it is needed (the event date; a quota's period end). One diagnostic per currency,
    at the earliest record that needs a missing rate."""
    plan = c.plan
    if plan is None:
        return
    rates: dict[tuple[str, str], list[dt.date]] = defaultdict(list)
    for f in c.data.fx:
        rates[(f.currency, f.target)].append(f.date)
    for dates in rates.values():
        dates.sort()
    # events in the plan currency need no rate: left out at once (they are most events), and
    # without a look at each when every event is (c.events.currencies)
    events = c.data.events if c.events.currencies - {None, "", plan.currency} else ()
    needs: list[tuple[str, dt.date, object, str]] = [
        (e.currency, e.date, e, "currency") for e in events
        if e.currency and e.currency != plan.currency]
    for q in c.data.quotas:
        spec = next((s for s in plan.quotas if s.name == q.quota), None)
        if spec is not None and spec.kind == "count" and q.currency:
            c.err("D-CURRENCY", q, "currency", f"quota '{q.quota}' is a count; its rows have no "
                  "currency", "leave the currency empty")
            continue
        period = plan.calendar.parse(q.period)
        if q.currency and period is not None:
            needs.append((q.currency, period.end, q, "currency"))
    missing: dict[str, list[tuple[dt.date, object, str]]] = defaultdict(list)
    for currency, day, record, column in needs:
        if currency == plan.currency or f"currency:{currency}" in c.rejected:
            continue
        dates = rates.get((currency, plan.currency), [])
        if bisect.bisect_right(dates, day) == 0:
            missing[currency].append((day, record, column))
    for currency, items in sorted(missing.items()):
        items.sort(key=lambda t: (t[0], c.file_order(t[1])))
        day, record, column = items[0]
        more = f" ({len(items)} records in {currency} need one)" if len(items) > 1 else ""
        dates = rates.get((currency, plan.currency), [])
        if dates:
            hint = (f"the first {currency}→{plan.currency} rate is dated {dates[0]}; add one "
                    f"dated on or before {day}")
        elif (plan.currency, currency) in rates:
            hint = (f"the FX file has {plan.currency}→{currency} rates, but converting needs "
                    f"{currency}→{plan.currency}: a row {currency},{plan.currency},DATE,RATE "
                    f"(1 {currency} = RATE {plan.currency})")
        elif not c.data.fx:  # no FX file given (or an empty one): "the FX file" is not there
            hint = (f"no FX rates were read: give an FX file (--fx FILE, fx.csv in --data, or "
                    f"[fx] in a mapping; docs/data.md) with a row {currency},{plan.currency},"
                    f"{day},RATE (1 {currency} = RATE {plan.currency})")
        else:
            hint = (f"add a row to the FX file: {currency},{plan.currency},{day},RATE "
                    f"(1 {currency} = RATE {plan.currency})")
        c.err("D-CURRENCY", record, column, f"no FX rate from {currency} to {plan.currency} on "
              f"or before {day}{more}", hint)
        for _, rec, _ in items[1:]:
            c.bad.add(id(rec))


def check_quotas(c: Checks) -> None:
    """Quota rows name a quota the plan declares. A misspelt name is an error; rows of a
    shared quota table for quotas this plan does not have are ignored, with one warning."""
    if c.plan is None:
        return
    names = [q.name for q in c.plan.quotas]
    ignored: dict[str, int] = {}
    first: dict[str, object] = {}
    for q in c.data.quotas:
        if q.quota in names:
            continue
        close = suggest(q.quota, names)
        if close:
            c.err("D-QUOTA", q, "quota", f"quota '{q.quota}' is not a quota of the plan", close)
        else:
            ignored[q.quota] = ignored.get(q.quota, 0) + 1
            first.setdefault(q.quota, q)
    for name, count in ignored.items():
        c.warn("D-QUOTA", first[name], "quota", f"quota '{name}' is not a quota of this plan: "
               f"its {count} row(s) are ignored",
               f"the plan's quotas are {', '.join(names)}" if names else
               "the plan declares no quotas")


def check_territories(c: Checks) -> None:
    """A warning for a payee whose territory has no index (when there is an index table)."""
    if not c.data.territories:
        return
    names = {t.territory for t in c.data.territories}
    for p in c.data.payees:
        if p.territory and p.territory not in names and f"territory:{p.territory}" not in \
                c.rejected:
            c.warn("D-TERRITORY", p, "territory", f"territory '{p.territory}' has no index",
                   suggest(p.territory, names) or "add it to the territories file")


# check_roster first: the payees whose rows it rejects are not checked against their events
CHECKS = (check_duplicates, check_roster, check_bookings, check_payees, check_employment,
          check_names, check_currencies, check_quotas, check_territories)


def check_dataset(dataset: Dataset, plan: Plan | None = None,
                  tables: Mapping[str, Table] | None = None,
                  rejected: Iterable[str] = (),
                  unique: Iterable[str] = ()) -> tuple[list[Diagnostic], set[int]]:
    """Every problem across the dataset's records, and the ids (`id()`) of the records with an
    error. `unique` names the kinds of records (events, payees, quotas, fx, territories) known
    to have no key twice, so that looking for repeats is left out."""
    c = Checks(dataset, plan, Places(tables), set(rejected), set(unique))
    for check in CHECKS:
        check(c)
    return sorted(c.diags, key=Diagnostic.sort_key), c.bad


def validate(dataset: Dataset, plan: Plan | None = None) -> list[Diagnostic]:
    """Problems across the files of a dataset, each pointing at the offending row (and cell,
    when the record's file can be read)."""
    return check_dataset(dataset, plan)[0]

