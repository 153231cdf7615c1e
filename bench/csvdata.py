"""Read the CSV files written by bench/gen_data.py into an incentive_dsl Dataset, directly.

This is a minimal reader for trusted, generated files (no validation, no diagnostics): the
benchmark uses it to build the in-memory Dataset it times the interpreter and the baseline on,
so that neither timing includes file parsing. Files from anywhere else go through
incentive_dsl.data.loaders.load_dataset, which validates them (bench/check_baseline.py and
bench/run_bench.py use it to check that generated files load without diagnostics).

Equal values are shared (dates, ids, currencies, field tuples), which keeps a 1,000,000-event
Dataset to a few hundred MB. Events come back in processing order (Event.sort_key), as the
loader returns them; splits are (payee, fraction) pairs sorted by payee, as the loader reads
them.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import sys
from decimal import Decimal

from incentive_dsl.data.loaders import fingerprint
from incentive_dsl.data.records import (
    Dataset, Event, FxRate, PayeeRecord, QuotaRecord, Source, TerritoryIndex)

CUSTOM = ("product", "segment", "type")  # sorted by name, as the loader orders fields
SUBJECT = {"stage": "stage", "activity": "activity", "touch": "channel"}


def _cache():
    store: dict = {}

    def get(key, make):
        v = store.get(key)
        if v is None:
            v = store[key] = make(key)
        return v
    return get


def read_events(path: str, with_source: bool = False) -> list[Event]:
    intern = sys.intern
    get = _cache()
    out = []
    with open(path, newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        col = {name: i for i, name in enumerate(header)}
        i_id, i_deal, i_date, i_kind = col["event_id"], col["deal_id"], col["date"], col["kind"]
        i_amount, i_cur, i_owner = col["amount"], col["currency"], col["owner"]
        # Optional columns: a missing one reads as an empty cell (the row's extra last cell).
        i_splits, i_term = col.get("splits", -1), col.get("term_months", -1)
        subj = {k: col.get(c, -1) for k, c in SUBJECT.items()}
        custom = [(name, col[name]) for name in CUSTOM if name in col]
        for line, row in enumerate(reader, start=2):
            row.append("")
            kind = intern(row[i_kind])
            amount = row[i_amount]
            splits = row[i_splits]
            fields = tuple((n, row[i]) for n, i in custom if row[i])
            term = row[i_term]
            out.append(Event(
                id=row[i_id], deal=intern(row[i_deal]),
                date=get(("d", row[i_date]), lambda k: dt.date.fromisoformat(k[1])),
                kind=kind,
                amount=Decimal(amount) if amount else None,
                currency=intern(row[i_cur]) if amount and row[i_cur] else None,
                owner=intern(row[i_owner]) if row[i_owner] else None,
                splits=get(("s", splits), lambda k: _splits(k[1])) if splits else (),
                subject=intern(row[subj[kind]]) if kind in subj else None,
                term_months=int(term) if term else None,
                fields=get(("f", fields), lambda k: k[1]) if fields else (),
                source=Source(path, line) if with_source else None))
    out.sort(key=Event.sort_key)
    return out


def _splits(text: str) -> tuple[tuple[str, Decimal], ...]:
    pairs = []
    for piece in text.split(";"):
        payee, share = piece.split(":")
        pairs.append((sys.intern(payee.strip()), (Decimal(share.strip()) / 100).normalize()))
    return tuple(sorted(pairs))


def _date(text: str) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def read_roster(path: str) -> list[PayeeRecord]:
    with open(path, newline="") as f:
        return [PayeeRecord(id=r["payee_id"], role=r["role"], start=_date(r["start"]),
                            end=_date(r.get("end")), manager=r.get("manager") or None,
                            team=r.get("team") or None, territory=r.get("territory") or None,
                            effective_from=_date(r.get("effective_from")))
                for r in csv.DictReader(f)]


def read_quotas(path: str) -> list[QuotaRecord]:
    with open(path, newline="") as f:
        return [QuotaRecord(payee=r["payee_id"], quota=r["quota"], period=r["period"],
                            amount=Decimal(r["amount"]), currency=r["currency"] or None)
                for r in csv.DictReader(f)]


def read_fx(path: str) -> list[FxRate]:
    with open(path, newline="") as f:
        return [FxRate(currency=r["currency"], target=r["target"], date=_date(r["date"]),
                       rate=Decimal(r["rate"])) for r in csv.DictReader(f)]


def read_territories(path: str) -> list[TerritoryIndex]:
    out = []
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            text = r["index"]
            index = Decimal(text[:-1]) / 100 if text.endswith("%") else Decimal(text)
            out.append(TerritoryIndex(territory=r["territory"], index=index))
    return out


def read_dataset(directory: str) -> Dataset:
    """The files as a Dataset, with the same file fingerprint load_dataset gives it (so a run
    is stamped as it would be from the command line)."""
    names = ("events.csv", "roster.csv", "quotas.csv", "fx.csv", "territories.csv")
    sources = tuple(p for p in (os.path.join(directory, n) for n in names) if os.path.exists(p))

    def read(reader, name):  # quotas, FX rates and territory indexes are optional
        path = os.path.join(directory, name)
        return tuple(reader(path)) if os.path.exists(path) else ()
    return Dataset(events=read(read_events, "events.csv"), payees=read(read_roster, "roster.csv"),
                   quotas=read(read_quotas, "quotas.csv"), fx=read(read_fx, "fx.csv"),
                   territories=read(read_territories, "territories.csv"),
                   sources=sources, fingerprint=fingerprint(sources))
