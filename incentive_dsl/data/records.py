"""Input records: deal events, the roster, quotas, FX rates and territory indexes.

These are what loaders (CSV, JSON Lines, CRM mappings, plan examples) produce and the interpreter
consumes. Amounts are exact Decimals in the currency they were recorded in; conversion to the
plan currency happens in evaluation, with the dated FX table. Every record keeps `source`
(file and row) so a payout line can point back at the row it came from.
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
from collections import defaultdict
from decimal import Decimal
from itertools import groupby
from operator import attrgetter

import attrs

EVENT_KINDS = ("booked", "stage", "cancelled", "amended", "invoiced", "collected", "activity",
               "touch")
# Same-day events are processed in this order, then by event id: a deal is booked before it is
# amended, invoiced, collected or cancelled on the same day.
KIND_ORDER = {k: i for i, k in enumerate(
    ("touch", "stage", "activity", "booked", "amended", "invoiced", "collected", "cancelled"))}


@attrs.frozen(weakref_slot=False)  # one per record, never weakly referred to: 8 bytes less
class Source:
    """Where a record came from: a file and a 1-based row (line) number."""

    path: str
    row: int

    def __str__(self) -> str:
        return f"{self.path}:{self.row}"


# Never weakly referred to either: a run's largest table, 16 bytes less per event.
@attrs.frozen(kw_only=True, weakref_slot=False)
class Event:
    id: str
    deal: str
    date: dt.date
    kind: str  # one of EVENT_KINDS
    amount: Decimal | None = None
    currency: str | None = None
    owner: str | None = None  # the deal owner (booked), the actor (activity, touch, stage)
    splits: tuple[tuple[str, Decimal], ...] = ()  # (payee, fraction) recorded at booking
    subject: str | None = None  # the stage, activity kind or touch channel
    term_months: int | None = None  # contract length (booked)
    fields: tuple[tuple[str, object], ...] = ()  # custom deal fields declared by the plan
    source: Source | None = attrs.field(default=None, eq=False)

    def sort_key(self) -> tuple:
        return (self.date, KIND_ORDER[self.kind], self.deal, self.id)

    def field(self, name: str) -> object:
        for key, value in self.fields:  # a handful of fields: a scan beats building a dict
            if key == name:
                return value
        return None


@attrs.frozen(kw_only=True)
class PayeeRecord:
    """One payee as of `effective_from`: a later row for the same id records a change (a new
    role, team or manager) from its date; earlier history is kept."""

    id: str
    role: str
    start: dt.date
    end: dt.date | None = None
    manager: str | None = None
    team: str | None = None
    territory: str | None = None
    effective_from: dt.date | None = None
    fields: tuple[tuple[str, object], ...] = ()
    name: str | None = None  # the display name statements show (the id when None)
    source: Source | None = attrs.field(default=None, eq=False)


@attrs.frozen(kw_only=True)
class QuotaRecord:
    payee: str
    quota: str
    period: str  # a period label as written in plans (2027-Q1, 2027-03, 2027)
    amount: Decimal
    currency: str | None = None
    source: Source | None = attrs.field(default=None, eq=False)


@attrs.frozen(kw_only=True)
class FxRate:
    """1 unit of `currency` is worth `rate` units of `target`, from `date` on; with `inverse`,
    1 unit of `target` is worth `rate` units of `currency` (CRMs quote rates per unit of the
    corporate currency), and amounts are converted by an exactly rounded division."""

    currency: str
    target: str
    date: dt.date
    rate: Decimal
    inverse: bool = False
    source: Source | None = attrs.field(default=None, eq=False)


@attrs.frozen(kw_only=True)
class TerritoryIndex:
    territory: str
    index: Decimal  # a fraction: 1.10 for 110%
    source: Source | None = attrs.field(default=None, eq=False)


class Roster:
    """Payees with their effective-dated history, and the reporting lines."""

    def __init__(self, records: list[PayeeRecord]) -> None:
        self.records = sorted(records, key=lambda r: (r.id, r.effective_from or dt.date.min))
        self._by_id: dict[str, list[PayeeRecord]] = defaultdict(list)
        for r in self.records:
            self._by_id[r.id].append(r)
        self._starts = {pid: [r.effective_from or dt.date.min for r in rs]
                        for pid, rs in self._by_id.items()}
        # Asked for every credit line: made once.
        self._employment = {pid: (rs[0].start, rs[-1].end) for pid, rs in self._by_id.items()}
        self._only = {pid: rs[0] for pid, rs in self._by_id.items() if len(rs) == 1}

    def ids(self) -> list[str]:
        return sorted(self._by_id)

    def __contains__(self, payee: str) -> bool:
        return payee in self._by_id

    def at(self, payee: str, day: dt.date) -> PayeeRecord | None:
        """The payee's record in force on `day` (None if unknown)."""
        only = self._only.get(payee)
        if only is not None:
            return only
        rows = self._by_id.get(payee)
        if not rows:
            return None
        i = bisect.bisect_right(self._starts[payee], day) - 1
        return rows[max(i, 0)]

    def only(self, payee: str) -> PayeeRecord | None:
        """The payee's record when they have one row (nothing changes over their history)."""
        return self._only.get(payee)

    def records_of(self, payee: str) -> list[PayeeRecord]:
        """The payee's rows, in order of their dates."""
        return self._by_id.get(payee, [])

    def first(self, payee: str) -> PayeeRecord | None:
        rows = self._by_id.get(payee)
        return rows[0] if rows else None

    def employment(self, payee: str) -> tuple[dt.date, dt.date | None]:
        return self._employment[payee]

    def active_on(self, payee: str, day: dt.date) -> bool:
        start, end = self._employment[payee]
        return start <= day and (end is None or day <= end)

    def active_days(self, payee: str, start: dt.date, end: dt.date) -> int:
        s, e = self._employment[payee]
        lo, hi = max(s, start), min(e or end, end)
        return max(0, (hi - lo).days + 1)

    def role_on(self, payee: str, day: dt.date) -> str | None:
        r = self.at(payee, day)
        return r.role if r else None

    def managers_of(self, payee: str, day: dt.date) -> list[str]:
        """The payee's manager, their manager, and so on (a cycle in the data stops the walk)."""
        chain, seen = [], {payee}
        r = self.at(payee, day)
        while r is not None and r.manager and r.manager not in seen:
            chain.append(r.manager)
            seen.add(r.manager)
            r = self.at(r.manager, day)
        return chain

    def reporting_spans(self, start: dt.date, end: dt.date
                        ) -> dict[str, list[tuple[str, dt.date, dt.date]]]:
        """Who reported to whom between `start` and `end`, day by day: manager ->
        [(payee, first day, last day)], each stretch clipped to the payee's employment and
        stretches of one payee under one manager that follow each other joined."""
        out: dict[str, list[tuple[str, dt.date, dt.date]]] = defaultdict(list)
        for pid, rows in sorted(self._by_id.items()):
            first, last = self._employment[pid]
            lo_all, hi_all = max(start, first), min(end, last or end)
            for i, r in enumerate(rows):
                if not r.manager:
                    continue
                # As `at` reads the rows: the first is in force before its own date too.
                lo = max(lo_all, self._starts[pid][i]) if i else lo_all
                hi = hi_all if i + 1 == len(rows) else min(
                    hi_all, self._starts[pid][i + 1] - dt.timedelta(days=1))
                if lo > hi:
                    continue
                spans = out[r.manager]
                if spans and spans[-1][0] == pid and spans[-1][2] + dt.timedelta(days=1) == lo:
                    spans[-1] = (pid, spans[-1][1], hi)
                else:
                    spans.append((pid, lo, hi))
        return out


def in_processing_order(events) -> tuple[Event, ...]:
    """Events sorted by `Event.sort_key` (a stable sort: already ordered input costs one pass).
    Sorted by date first, then each day by the whole key: the same order (the key starts with
    the date, and both sorts are stable), without a key tuple for every event alive at once
    (a million events: 100 MB)."""
    ordered = sorted(events, key=_DAY)
    days = [sum(1 for _ in same_day) for _, same_day in groupby(ordered, _DAY)]
    start = 0
    for n in days:
        if n > 1:
            ordered[start:start + n] = sorted(ordered[start:start + n], key=Event.sort_key)
        start += n
    return tuple(ordered)


_DAY = attrgetter("date")


@attrs.frozen
class Dataset:
    """Everything a run reads besides the plan, with a hash of its content for run stamps.
    Events are kept in processing order (`Event.sort_key`), whoever builds the dataset: every
    stage of a run reads them in that order."""

    events: tuple[Event, ...] = attrs.field(converter=in_processing_order)
    payees: tuple[PayeeRecord, ...]
    quotas: tuple[QuotaRecord, ...] = ()
    fx: tuple[FxRate, ...] = ()
    territories: tuple[TerritoryIndex, ...] = ()
    sources: tuple[str, ...] = ()  # the files read, for the record
    # A hash of the files' bytes, set by loaders that read files: cheaper than hashing every
    # record, which matters because every run is stamped with it.
    fingerprint: str | None = attrs.field(default=None, eq=False)

    def data_hash(self) -> str:
        """What a run is stamped with: the files' fingerprint, or the records' hash."""
        return self.fingerprint or self.content_hash()

    def content_hash(self) -> str:
        """A hash of the records (not of file names or row order), so reordering input rows
        does not change it, and numerically equal amounts (60, 60.00) hash alike."""
        h = hashlib.sha256()
        for key, records in ((_event_key, self.events),
                             (_canonical_record, sorted(self.payees, key=lambda r: (
                                 r.id, str(r.effective_from)))),
                             (_canonical_record, sorted(self.quotas, key=lambda q: (
                                 q.payee, q.quota, q.period))),
                             (_canonical_record, sorted(self.fx, key=lambda f: (
                                 f.currency, f.target, f.date))),
                             (_canonical_record, sorted(self.territories,
                                                        key=lambda t: t.territory))):
            h.update("\n".join(map(key, records)).encode())
            h.update(b"\n--\n")
        return h.hexdigest()


def _number(value: Decimal | None) -> str:
    return "" if value is None else format(value.normalize(), "f")


def _event_key(e: Event) -> str:
    # Written out field by field: a dataset can hold millions of events.
    splits = ";".join(f"{p}:{_number(w)}" for p, w in e.splits)
    fields = ";".join(f"{k}={_number(v) if isinstance(v, Decimal) else v}" for k, v in e.fields)
    return (f"{e.id}|{e.deal}|{e.date.isoformat()}|{e.kind}|{_number(e.amount)}|{e.currency}|"
            f"{e.owner}|{splits}|{e.subject}|{e.term_months}|{fields}")


def _canonical_record(rec: object) -> str:
    # a payee without a display name, a rate quoted the usual way, hash as before they existed
    return repr([_canonical(getattr(rec, f.name)) for f in attrs.fields(type(rec))
                 if f.name != "source" and not (f.name == "name" and rec.name is None)
                 and not (f.name == "inverse" and not rec.inverse)])


def _canonical(value: object) -> object:
    """Equal values hash alike: 60, 60.0 and 60.00 are one amount."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, tuple) and value:
        return tuple(_canonical(v) for v in value)
    return value
