"""Loading data files into input records: deal events, the roster, quotas, FX rates, territory
indexes, and the whole dataset of a run.

Every loader reads a CSV (.csv) or JSON Lines (.jsonl) file and returns its records with every
problem found, as diagnostics pointing at file, line and column; nothing is printed or raised.
A row with a problem is left out, and all problems of all rows are reported. Each record keeps
its `Source` (file, line). `load_dataset` loads all files, runs the checks across files
(`validate`), leaves out the records those checks reject, and returns the `Dataset` with events
in processing order. The file formats are described in docs/data.md.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import os
import stat
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal

import attrs

from incentive_dsl.check.model import Plan
from incentive_dsl.collector import collector_paused
from incentive_dsl.data.fast import clean_events, clean_quotas
from incentive_dsl.data.records import (
    EVENT_KINDS, Dataset, Event, FxRate, PayeeRecord, QuotaRecord, Source, TerritoryIndex,
)
from incentive_dsl.data.rows import Columns, FileReader, RowReader
from incentive_dsl.data.tables import Row, Table, read_table
from incentive_dsl.data.validate import check_dataset, validate
from incentive_dsl.data.values import (
    BadValue, parse_amount, parse_count, parse_currency, parse_date, parse_index,
    parse_positive, parse_splits, split_text_pairs, suggest,
)
from incentive_dsl.diagnostics import Diagnostic, Related, Severity
from incentive_dsl.periods import Calendar, not_a_period_message
from incentive_dsl.progress import EVERY, QUIET, Meter

__all__ = ["load_dataset", "load_events", "load_fx", "load_quotas", "load_roster",
           "load_territories", "validate"]

PathLike = str | os.PathLike

EVENT_COLUMNS = Columns(
    "an events file",
    ("event_id", "deal_id", "date", "kind", "amount", "currency", "owner", "splits", "stage",
     "activity", "channel", "term_months"),
    ("event_id", "date", "kind"), field_owner="deal")
ROSTER_COLUMNS = Columns(
    "a roster",
    ("payee_id", "role", "start", "end", "manager", "team", "territory", "effective_from"),
    ("payee_id", "role", "start"), field_owner="payee")
QUOTA_COLUMNS = Columns("a quotas file", ("payee_id", "quota", "period", "amount", "currency"),
                        ("payee_id", "quota", "period", "amount"))
FX_COLUMNS = Columns("an FX file", ("currency", "target", "date", "rate"),
                     ("currency", "target", "date", "rate"))
TERRITORY_COLUMNS = Columns("a territories file", ("territory", "index"), ("territory", "index"))

NEEDS_AMOUNT = ("booked", "amended", "invoiced", "collected")
HAS_AMOUNT = (*NEEDS_AMOUNT, "stage")
SUBJECT_COLUMN = {"stage": "stage", "activity": "activity", "touch": "channel"}
SUBJECT_NEEDED = {"stage": "a stage event names the stage reached",
                  "activity": "an activity event names the kind of activity",
                  "touch": "a touch names its channel"}
KIND_ALIASES = {"won": "booked", "closed won": "booked", "closed-won": "booked",
                "closed_won": "booked", "closedwon": "booked", "booking": "booked",
                "canceled": "cancelled", "cancel": "cancelled", "cancellation": "cancelled",
                "churned": "cancelled", "amend": "amended", "amendment": "amended",
                "invoice": "invoiced", "payment": "collected", "paid": "collected",
                "collect": "collected", "meeting": "activity", "call": "activity"}


@attrs.define
class Loaded:
    """One file's records, its diagnostics, its table (for positions) and the keys of the rows
    left out ('deal:D1' for a bad booking, 'payee:ana', 'currency:EUR'), so that the checks
    across files do not report what follows from a row already reported."""

    records: list
    diags: list[Diagnostic]
    table: Table | None = None
    rejected: set[str] = attrs.Factory(set)


# ------------------------------------------------------------------------------ values


def parse_kind(text: str) -> str:
    if text in EVENT_KINDS:
        return sys.intern(text)  # the kind's one copy (see RowReader.name)
    alias = KIND_ALIASES.get(text.lower())
    hint = (f"write '{alias}'" if alias else
            suggest(text, EVENT_KINDS) or f"the kinds are {', '.join(EVENT_KINDS)}")
    raise BadValue(f"'{text}' is not an event kind", hint)


def parse_term(text: str) -> int:
    months = parse_count(text, "number of months")
    if months < 1:
        raise BadValue("a contract term is at least 1 month")
    return months


_CALENDAR = Calendar()  # made once: a quotas file asks for a period on every row


def parse_period(text: str) -> str:
    if _CALENDAR.parse(text) is not None:
        return text
    hint = "periods look like 2027-Q1, 2027-03, 2027-H1, 2027 or FY2027"
    meant = _CALENDAR.respelt(text)
    if _CALENDAR.parse(text.upper()) is not None:
        hint = f"write {text.upper()}"
    elif meant is not None:  # 2027-3, 2027Q1: as --period says it
        hint = f"did you mean {meant}?"
    elif "/" in text:
        hint = ("a quota is given per month or longer (2027-03, 2027-Q1); a semi-monthly or "
                "bi-weekly pay period takes its quota from the days of the months it covers")
    raise BadValue(not_a_period_message(text), hint)


def split_pairs(cell_text: str, data: object) -> list[tuple[str, str]]:
    if data is None:
        return split_text_pairs(cell_text)
    if not isinstance(data, dict):
        raise BadValue("a list is not a split", 'write {"ana": 60, "bob": 40} or "ana:60;bob:40"')
    pairs = []
    for payee, share in data.items():
        if isinstance(share, (Decimal, str)) and not isinstance(share, bool):
            pairs.append((payee.strip(), str(share)))
        else:
            raise BadValue(f"the share of '{payee}' is not a percentage",
                           'write {"ana": 60, "bob": 40}')
    return pairs


def _article(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


# ------------------------------------------------------------------------------ rows


def _unique(r: RowReader, seen: dict, key: object, column: str, message: str,
            hint: str) -> None:
    """Record the row under `key`; a second row with the same key is a D-DUPLICATE."""
    if key is None:
        return
    first: Row | None = seen.get(key)
    if first is None:
        seen[key] = r.row
        return
    cell = r.row.cells.get(column)
    first_cell = first.cells.get(column)
    r.report("D-DUPLICATE", cell.span if cell else r.row.span, message, hint,
             [Related(first_cell.span if first_cell else first.span,
                      f"first on line {first.line}")])


def _event(r: RowReader, plan: Plan | None, seen: dict) -> tuple[Event | None, set[str]]:
    eid = r.text("event_id", "every event needs an id")
    kind = r.value("kind", parse_kind, "D-KIND",
                   f"every event needs a kind ({', '.join(EVENT_KINDS)})")
    day = r.value("date", parse_date, "D-DATE", "every event needs a date")
    deal = r.text("deal_id", f"{_article(kind)} event names its deal"
                  if kind not in (None, "activity") else None)
    amount = currency = None
    if kind is None or kind in HAS_AMOUNT:
        amount = r.value("amount", parse_amount, "D-AMOUNT",
                         f"{_article(kind)} event needs an amount" if kind in NEEDS_AMOUNT
                         else None)
        currency = r.value("currency", parse_currency, "D-CURRENCY")
        if amount is not None and r.cell("currency") is None:
            if plan is not None:
                currency = plan.currency
            else:
                r.missing("currency", "an amount needs its currency (when the plan is given, "
                          "its currency fills empty cells)")
    owner = r.name("owner", {"booked": "a booked event needs its owner (the deal owner)",
                             "activity": "an activity needs the payee who did it"}.get(kind))
    splits: tuple = ()
    cell = r.cell("splits")
    if cell is not None and kind in (None, "booked"):
        try:
            splits = parse_splits(split_pairs(cell.text, cell.data))
        except BadValue as e:
            r.report("D-SPLITS", cell.span, f"{r.file.label('splits')}: {e.message}", e.hint)
    subject = None
    if kind in SUBJECT_COLUMN:
        subject = r.name(SUBJECT_COLUMN[kind], SUBJECT_NEEDED[kind])
    term = None
    if kind in (None, "booked"):
        term = r.value("term_months", parse_term, "D-NUMBER")
    fields = r.fields(currency, plan.currency if plan else None)
    _unique(r, seen, eid, "event_id", f"event id '{eid}' is used twice",
            "every event needs its own id")
    if not r.ok:
        return None, _deal_key(deal, kind)
    return Event(id=eid, deal=deal or "", date=day, kind=kind, amount=amount,
                 currency=currency if amount is not None else None, owner=owner,
                 splits=splits, subject=subject, term_months=term, fields=fields,
                 source=Source(r.path, r.row.line)), set()


def _deal_key(deal: str | None, kind: str | None) -> set[str]:
    """The key of a rejected event row that may be its deal's booking (its kind is 'booked' or
    unreadable): the deal's later events are then not reported as orphans."""
    return {f"deal:{deal}"} if deal and kind in (None, "booked") else set()


def _readable(parse: Callable[[str], object], text: str | None) -> object:
    try:
        return parse(text) if text else None
    except BadValue:
        return None


# The keys of a row left out before its cells were read one by one (tables.Table.broken),
# from one reading of its cells, as the row's builder gives them for a rejected row.

def _event_keys(cells: dict[str, str]) -> set[str]:
    return _deal_key(cells.get("deal_id"), _readable(parse_kind, cells.get("kind")))


def _payee_keys(cells: dict[str, str]) -> set[str]:
    return {f"payee:{cells['payee_id']}"} if cells.get("payee_id") else set()


def _fx_keys(cells: dict[str, str]) -> set[str]:
    currency = _readable(parse_currency, cells.get("currency"))
    return {f"currency:{currency}"} if currency else set()


def _territory_keys(cells: dict[str, str]) -> set[str]:
    return {f"territory:{cells['territory']}"} if cells.get("territory") else set()


def _payee(r: RowReader, plan: Plan | None, seen: dict) -> tuple[PayeeRecord | None, set[str]]:
    pid = r.text("payee_id", "every roster row names its payee")
    role = r.text("role", "every payee needs a role")
    start = r.value("start", parse_date, "D-DATE", "every payee needs a start date")
    end = r.value("end", parse_date, "D-DATE")
    manager = r.text("manager")
    team = r.text("team")
    territory = r.text("territory")
    effective = r.value("effective_from", parse_date, "D-DATE")
    fields = r.fields(None, plan.currency if plan else None)
    when = f"effective from {effective}" if effective else "without effective_from"
    key_read = effective is not None or r.cell("effective_from") is None
    _unique(r, seen, (pid and key_read) and (pid, effective),
            "effective_from" if effective else "payee_id",
            f"payee '{pid}' has a second row {when}",
            "record a change as a new row with a later effective_from date")
    if not r.ok:
        return None, {f"payee:{pid}"} if pid else set()
    return PayeeRecord(id=pid, role=role, start=start, end=end, manager=manager, team=team,
                       territory=territory, effective_from=effective, fields=fields,
                       source=Source(r.path, r.row.line)), set()


def _quota(r: RowReader, plan: Plan | None, seen: dict) -> tuple[QuotaRecord | None, set[str]]:
    pid = r.text("payee_id", "every quota row names its payee")
    quota = r.text("quota", "every quota row names the plan's quota (e.g. bookings)")
    period = r.value("period", parse_period, "D-PERIOD", "every quota row names its period")
    amount = r.value("amount", parse_amount, "D-AMOUNT", "every quota row needs an amount")
    currency = r.value("currency", parse_currency, "D-CURRENCY")
    _unique(r, seen, (pid and quota and period) and (pid, quota, period), "period",
            f"a second quota '{quota}' for '{pid}' in {period}", "keep one row per period")
    if not r.ok:
        return None, set()
    return QuotaRecord(payee=pid, quota=quota, period=period, amount=amount, currency=currency,
                       source=Source(r.path, r.row.line)), set()


def _fx(r: RowReader, plan: Plan | None, seen: dict) -> tuple[FxRate | None, set[str]]:
    currency = r.value("currency", parse_currency, "D-CURRENCY", "every rate names its currency")
    target = r.value("target", parse_currency, "D-CURRENCY",
                     "every rate names the currency it converts to")
    day = r.value("date", parse_date, "D-DATE", "every rate has the date it applies from")
    rate = r.value("rate", lambda s: parse_positive(s, "rate"), "D-NUMBER",
                   "every row needs its rate")
    if currency and currency == target:
        r.report("D-CURRENCY", r.cell("target").span, f"a rate from {currency} to {currency}",
                 "a rate converts one currency into another")
    _unique(r, seen, (currency and target and day) and (currency, target, day), "date",
            f"a second {currency}→{target} rate dated {day}", "keep one rate per date")
    if not r.ok:
        return None, {f"currency:{currency}"} if currency else set()
    return FxRate(currency=currency, target=target, date=day, rate=rate,
                  source=Source(r.path, r.row.line)), set()


def _territory(r: RowReader, plan: Plan | None,
               seen: dict) -> tuple[TerritoryIndex | None, set[str]]:
    name = r.text("territory", "every row names its territory")
    index = r.value("index", parse_index, "D-NUMBER", "every territory needs its index")
    _unique(r, seen, name, "territory", f"territory '{name}' has a second index",
            "keep one row per territory")
    if not r.ok:
        return None, {f"territory:{name}"} if name else set()
    return TerritoryIndex(territory=name, index=index, source=Source(r.path, r.row.line)), set()


RowBuilder = Callable[[RowReader, Plan | None, dict], tuple[object, set[str]]]
BrokenKeys = Callable[[dict[str, str]], set[str]]


def _no_keys(cells: dict[str, str]) -> set[str]:
    return set()


def _load(path: PathLike, columns: Columns, build: RowBuilder, plan: Plan | None,
          meter: Meter = QUIET, broken_keys: BrokenKeys = _no_keys) -> Loaded:
    table, diags = read_table(os.fspath(path))
    if table is None:
        return Loaded([], diags)
    custom = ([f for f in plan.fields if f.owner == columns.field_owner]
              if plan is not None and columns.field_owner else [])
    reader = FileReader(table, columns, custom)
    reader.check_columns()
    out = Loaded([], diags, table)
    out.rejected.update(*map(broken_keys, table.broken))
    seen: dict = {}
    for row in table.rows if not reader.unusable else ():
        if not row.line % EVERY:
            meter.update(row.line)
        record, rejected = build(RowReader(reader, row), plan, seen)
        out.rejected |= rejected
        if record is not None:
            out.records.append(record)
    out.diags.extend(reader.finish())
    out.diags.sort(key=Diagnostic.sort_key)
    return out


def _events(path: PathLike, plan: Plan | None, meter: Meter = QUIET) -> Loaded:
    records = clean_events(os.fspath(path), EVENT_COLUMNS, plan, meter)
    if records is not None:  # a clean CSV file, read in one pass (see data/fast.py)
        return Loaded(records, [])
    return _load(path, EVENT_COLUMNS, _event, plan, meter, _event_keys)


def _roster(path: PathLike, plan: Plan | None) -> Loaded:
    loaded = _load(path, ROSTER_COLUMNS, _payee, plan, broken_keys=_payee_keys)
    # Unlike an empty quota or FX file, a roster without payees leaves nobody to pay: any run
    # on it would pay nothing, so it is an error, not a warning.
    loaded.diags = [attrs.evolve(d, severity=Severity.ERROR, message=f"{d.message}: the roster "
                                 "names no payee, so nobody can be paid")
                    if d.code == "D-EMPTY" else d for d in loaded.diags]
    return loaded


def _quotas(path: PathLike) -> Loaded:
    records = clean_quotas(os.fspath(path), QUOTA_COLUMNS)
    if records is not None:  # a clean CSV file, read in one pass (see data/fast.py)
        return Loaded(records, [])
    return _load(path, QUOTA_COLUMNS, _quota, None)


def _fx_rates(path: PathLike) -> Loaded:
    return _load(path, FX_COLUMNS, _fx, None, broken_keys=_fx_keys)


def _territories(path: PathLike) -> Loaded:
    return _load(path, TERRITORY_COLUMNS, _territory, None, broken_keys=_territory_keys)


# ------------------------------------------------------------------------------ public API


def load_events(path: PathLike, plan: Plan | None = None) -> tuple[list[Event], list[Diagnostic]]:
    """Deal events (and activities and touches) from a CSV or JSON Lines file. With a plan,
    its custom deal fields are read and its currency fills empty currency cells."""
    loaded = _events(path, plan)
    return loaded.records, loaded.diags


def load_roster(path: PathLike,
                plan: Plan | None = None) -> tuple[list[PayeeRecord], list[Diagnostic]]:
    """Payees, one row per payee and effective_from date; with a plan, its custom payee fields."""
    loaded = _roster(path, plan)
    return loaded.records, loaded.diags


def load_quotas(path: PathLike) -> tuple[list[QuotaRecord], list[Diagnostic]]:
    loaded = _quotas(path)
    return loaded.records, loaded.diags


def load_fx(path: PathLike) -> tuple[list[FxRate], list[Diagnostic]]:
    loaded = _fx_rates(path)
    return loaded.records, loaded.diags


def load_territories(path: PathLike) -> tuple[list[TerritoryIndex], list[Diagnostic]]:
    loaded = _territories(path)
    return loaded.records, loaded.diags


def load_keyed(kind: str, path: PathLike) -> Loaded:
    """A quotas, fx or territories file (`kind`) as `load_dataset` reads it, with the keys of
    its rows left out (`Loaded.rejected`): for a loader that checks the files together itself
    (data/mapping.py), so that a rate row left out is not followed by 'no rate' errors."""
    return {"quotas": _quotas, "fx": _fx_rates, "territories": _territories}[kind](path)


def make_dataset(events: Iterable[Event], payees: Iterable[PayeeRecord],
                 quotas: Iterable[QuotaRecord] = (), fx: Iterable[FxRate] = (),
                 territories: Iterable[TerritoryIndex] = (),
                 sources: Iterable[str] = (), fingerprint: str | None = None) -> Dataset:
    """A dataset in canonical order: events in processing order (Event.sort_key), the other
    records by their keys, so that the order of input rows does not matter."""
    return Dataset(
        events=events,  # Dataset puts them in processing order
        payees=tuple(sorted(payees, key=lambda p: (p.id, p.effective_from or dt.date.min))),
        quotas=tuple(sorted(quotas, key=lambda q: (q.payee, q.quota, q.period))),
        fx=tuple(sorted(fx, key=lambda f: (f.currency, f.target, f.date))),
        territories=tuple(sorted(territories, key=lambda t: t.territory)),
        sources=tuple(sources), fingerprint=fingerprint)


def load_dataset(deals: PathLike | Sequence[PathLike], roster: PathLike,
                 quotas: PathLike | None = None, fx: PathLike | None = None,
                 territories: PathLike | None = None, plan: Plan | None = None,
                 pause_gc: bool = True,
                 meter: Meter | None = None) -> tuple[Dataset, list[Diagnostic]]:
    """Load every file, check them together, and return the dataset of the records without
    errors and every diagnostic of every file, sorted by file, line and column. `deals` is one
    events file or a list of them. `pause_gc`: see `incentive_dsl.collector`; `meter` is told
    each file read, by lines (see `incentive_dsl.progress`)."""
    with collector_paused(pause_gc):
        return _load_dataset(deals, roster, quotas, fx, territories, plan, meter or QUIET)


def _load_dataset(deals: PathLike | Sequence[PathLike], roster: PathLike,
                  quotas: PathLike | None, fx: PathLike | None, territories: PathLike | None,
                  plan: Plan | None, meter: Meter) -> tuple[Dataset, list[Diagnostic]]:
    deal_paths = [deals] if isinstance(deals, (str, os.PathLike)) else list(deals)

    def read(path: PathLike, load: Callable[[PathLike], Loaded]) -> Loaded:
        # counting the lines reads the file: only for someone watching
        meter.stage(f"reading {os.path.basename(path)}", _lines(path) if meter is not QUIET else 0)
        return load(path)

    parts: list[tuple[str, Loaded]] = [
        ("events", read(p, lambda p: _events(p, plan, meter))) for p in deal_paths]
    parts.append(("payees", read(roster, lambda p: _roster(p, plan))))
    for name, path, load in (("quotas", quotas, _quotas), ("fx", fx, _fx_rates),
                             ("territories", territories, _territories)):
        if path is not None:
            parts.append((name, read(path, load)))
    meter.stage("checking the files together", 0)
    groups: dict[str, list] = {name: [] for name in _GROUPS}
    diags: list[Diagnostic] = []
    tables: dict[str, Table] = {}
    rejected: set[str] = set()
    for name, loaded in parts:
        groups[name].extend(loaded.records)
        loaded.records = []  # held by the group
        diags.extend(loaded.diags)
        rejected |= loaded.rejected
        # A table serves only the positions of the checks' diagnostics: kept for a file that
        # has problems already (more are likely), let go otherwise (the quotas of a million
        # deals: 58 MB); `validate.Places` reads a file again if a check reports its rows.
        if loaded.table is not None and loaded.diags:
            tables[loaded.table.path] = loaded.table
        loaded.table = None
    paths = [*deal_paths, roster, *(p for p in (quotas, fx, territories) if p is not None)]
    sources = tuple(dict.fromkeys(os.fspath(p) for p in paths))
    # The fingerprint is given when the dataset is made: attrs.evolve would sort the events again.
    digest = fingerprint(sources)
    dataset = make_dataset(sources=sources, fingerprint=digest, **groups)
    del groups  # the dataset holds the records (a list of a million events: 8 MB)
    # A loader reports a key repeated within its file (`_unique`, or the fast path gives up), so
    # only records read from several files can repeat one.
    files = Counter(name for name, _ in parts)
    found, bad = check_dataset(dataset, plan, tables, rejected,
                               unique=[name for name, n in files.items() if n == 1])
    diags.extend(found)
    if bad:
        dataset = make_dataset(
            sources=sources, fingerprint=digest,
            **{name: [r for r in getattr(dataset, name) if id(r) not in bad] for name in _GROUPS})
    return dataset, sorted(diags, key=Diagnostic.sort_key)


_GROUPS = ("events", "payees", "quotas", "fx", "territories")  # make_dataset's records


def _lines(path: PathLike) -> int:
    """The number of lines of a file, for a progress bar (0 when it cannot be read, and
    for anything but a regular file: opening a pipe would block). Lines end as
    `tables.decode` reads them: with \n, or with \r in a file without any \n."""
    if not os.path.isfile(path):
        return 0
    feeds = returns = 0
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                feeds += block.count(b"\n")
                returns += block.count(b"\r")
    except OSError:
        return 0
    return feeds or returns


def fingerprint(paths: Iterable[str]) -> str | None:
    """sha256 over the files' names and bytes (None if one cannot be read)."""
    h = hashlib.sha256()
    try:
        for path in sorted(paths):
            h.update(os.path.basename(path).encode() + b"\0")
            _hash_file(h, path)
            h.update(b"\0")
    except OSError:
        return None
    return h.hexdigest()


def _hash_file(h: hashlib._Hash, path: str) -> None:
    """Feed the bytes of the regular file at `path` to `h` a block at a time: a copy of a large
    events file would add its size to the peak of loading it, with every record already made.
    Never a pipe or device (they would never end): opened without blocking and checked on the
    descriptor, as `files.read_regular` does."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", path)
        for block in iter(lambda: os.read(fd, 1 << 20), b""):
            h.update(block)
    finally:
        os.close(fd)

