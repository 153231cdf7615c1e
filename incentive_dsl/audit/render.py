"""Run results as JSON, CSV and terminal tables.

JSON is versioned (`format_version`) and deterministic: keys sorted, amounts as exact decimal
strings, records in evaluation order, no timestamps, so two runs on the same inputs give
byte-identical output. Money in tables and CSV is rounded to the currency's minor unit for
display only; the JSON keeps exact values. A statement's amounts are written with at least the
currency's minor digits (`0.00`, not `0`: a total that no line went into starts as a bare 0),
more when an exact amount has them (`statement_record`).

The JSON document is written piece by piece (`write_json`), record by record, never built whole
in memory: a run's lines with their traces make a document of gigabytes. Its text is exactly
`json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False)` of the document `_record`
describes (tests/test_render_stream.py checks it against that).
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import itertools
import json
import operator
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import BinaryIO, TextIO

import attrs

from incentive_dsl.collector import collector_paused
from incentive_dsl.eval.money import MINOR_DIGITS, ZERO, fmt
from incentive_dsl.eval.records import (STATEMENT_FLOWS, TWINS, CreditLine, DeferredTrace,
                                        EarningLine, PayoutLine, Skip, Skips, Statement, Trace,
                                        keep_texts, texts_context, trace_contents)
from incentive_dsl.eval.run import RunResult
from incentive_dsl.periods import Period
from incentive_dsl.progress import EVERY, QUIET, Meter
from incentive_dsl.span import Span

FORMAT_VERSION = 1
# The table's columns: the statement's flows, which add up to `paid` (eval.records.Statement).
STATEMENT_COLUMNS = (*STATEMENT_FLOWS, "paid")
HEADERS = {"earned": "Earned", "later": "Paid later", "awaiting": "Awaiting",
           "earlier": "Earned before", "held": "Held", "released": "Released", "drawn": "Drawn",
           "recovered": "Recovered", "advanced": "Advanced",
           "advance_recovered": "Advance recovered", "carry": "Carried", "rounding": "Rounding",
           "adjusted": "Adjusted", "paid": "Paid"}
# CSV adds how much of `earned` caps and clawbacks are, and the balances after the period.
CSV_COLUMNS = (*STATEMENT_COLUMNS, "capped", "clawed_back", "draw_balance", "carried",
               "advance_balance")
# A plan with a compensation block: the pay period's base salary and target incentive, shown
# after Paid (payroll pays the base salary; neither is part of Paid).
COMPENSATION_COLUMNS = ("base_salary", "target_incentive")
COMPENSATION_HEADERS = {"base_salary": "Base salary", "target_incentive": "Target incentive"}


def _record(rec) -> dict:
    def convert(inst, field, value):
        if isinstance(value, Decimal):
            return format(value, "f")  # never exponent notation such as 2.000E+4
        if hasattr(value, "isoformat"):
            return value.isoformat()
        return value
    return attrs.asdict(rec, value_serializer=convert)


def statement_record(statement: Statement, currency: str) -> dict:
    """A statement as the JSON document has it: every amount (all are money) padded with zeros
    to the currency's minor digits, so equal amounts read alike; the value is unchanged."""
    digits = MINOR_DIGITS.get(currency, 2)
    record = _record(statement)
    for key, value in record.items():
        if type(getattr(statement, key)) is Decimal:
            record[key] = _padded(value, digits)
    return record


def _padded(text: str, digits: int) -> str:
    """A plain decimal text with at least `digits` decimals."""
    point = text.find(".")
    have = 0 if point < 0 else len(text) - point - 1
    if have >= digits:
        return text
    return text + ("." if point < 0 else "") + "0" * (digits - have)


def payee_labels(result: RunResult) -> dict[str, str]:
    """Payee id -> what tables show: the display name the roster gives (a CRM's 18-character
    user ids mean nothing to a reader), with the id after a name two payees share; payees
    without a name are shown by id and are not in the dict."""
    rows = result.engine.dataset.payees if result.engine is not None else result.roster
    names: dict[str, str] = {}
    for r in rows:
        if r.name:
            names[r.id] = r.name  # the latest row's name
    shared = {n for n in names.values() if list(names.values()).count(n) > 1}
    return {pid: f"{n} ({pid})" if n in shared else n for pid, n in names.items()}


def in_window(statement: Statement, window: Period | None) -> bool:
    return window is None or (window.start <= statement.start and statement.end <= window.end)


def to_json(result: RunResult, window: Period | None = None, lines: bool = True) -> str:
    """The run as one JSON document (see `write_json`, which writes the same text)."""
    return "".join(iter_json(result, window, lines))


def write_json(out: TextIO | BinaryIO, result: RunResult, window: Period | None = None,
               lines: bool = True, meter: Meter = QUIET) -> None:
    """Write the JSON document of the run to `out` piece by piece (see the module docstring):
    a text stream, or a binary one, which gets the document's UTF-8 (`_utf8`: faster than a
    text stream's encoder). The garbage collector is paused meanwhile: the texts of a million
    traces make as many short-lived tuples, none in a cycle, and its scans of them and of the
    run's records cost more than a third of the writing (see `incentive_dsl.collector`); and
    the traces' decimal context is entered once, not once per trace. `meter` is told how many
    records are written (a progress bar: at a million lines this takes a while)."""
    write = out.write
    if isinstance(out, (io.RawIOBase, io.BufferedIOBase)):
        def write(text: str, put=out.write) -> None:
            put(_utf8(text))
    chunk: list[str] = []  # small pieces, written together
    size = 0
    with collector_paused(), texts_context():
        for piece in iter_json(result, window, lines, meter):
            if len(piece) > 1 << 16:  # a batch of records: written as it is, not copied again
                if chunk:
                    write("".join(chunk))
                    chunk, size = [], 0
                write(piece)
                continue
            chunk.append(piece)
            size += len(piece)
            if size > 1 << 16:
                write("".join(chunk))
                chunk, size = [], 0
        write("".join(chunk))


# The non-ASCII Latin-1 characters met in the document (a trace's "×"), as (Latin-1, UTF-8):
# from U+00C4 on, whose Latin-1 byte is no byte of another's UTF-8 (C2, C3, 80 to BF), so
# that replacing them one after another cannot replace the UTF-8 of one made before.
_LATIN: list[tuple[bytes, bytes]] = []


def _utf8(text: str) -> bytes:
    """`text.encode()`. The document's text is ASCII but for a few kinds of Latin-1 characters
    (the arithmetic's "×"): its Latin-1 bytes are a copy, and its UTF-8 those with each such
    character replaced, several times faster than the encoder, which looks at every character
    of a text that is not all ASCII."""
    try:
        data = text.encode("latin-1")
    except UnicodeEncodeError:  # (beyond Latin-1)
        return text.encode()
    rest = data
    for latin, _ in _LATIN:
        rest = rest.replace(latin, b"")
    if not rest.isascii():  # another character: made known for the next texts
        for code in sorted(set(rest.translate(None, _ASCII))):
            if code >= 0xC4 and len(_LATIN) < 8:
                _LATIN.append((bytes((code,)), chr(code).encode()))
        return text.encode()
    for latin, utf8 in _LATIN:
        data = data.replace(latin, utf8)
    return data


_ASCII = bytes(range(128))


def iter_json(result: RunResult, window: Period | None = None,
              lines: bool = True, meter: Meter = QUIET) -> Iterator[str]:
    """The JSON document of the run, in pieces: statements, diagnostics and, with `lines`,
    every payout, earning and credit line with its trace, and the skips; keys sorted."""
    statements = [s for s in result.statements if in_window(s, window)]
    periods = {s.pay_period for s in statements}
    small = {
        "format_version": FORMAT_VERSION,
        "stamp": result.stamp.to_json(),
        "window": None if window is None else {"label": window.label,
                                                "start": window.start.isoformat(),
                                                "end": window.end.isoformat()},
        "currency": result.plan.currency,
        "diagnostics": [d.to_json() for d in result.diagnostics],
    }
    records: dict[str, Iterable] = {"statements": statements}
    if lines:
        records["payouts"] = result.payouts if window is None else (
            p for p in result.payouts if p.pay_period in periods)
        records["earnings"] = result.earnings if window is None else (
            e for e in result.earnings if window.contains(e.date))
        records["credits"] = result.credits if window is None else (
            c for c in result.credits if window.contains(c.date))
        # Skips (tens of thousands in a large run) are written from their fields.
        skips = result.skips.rows() if type(result.skips) is Skips else \
            ((s.rule, s.subject, s.reason, s.date) for s in result.skips)
        records["skipped"] = skips if window is None else (
            s for s in skips if s[3] is None or window.contains(s[3]))
    # At most this many records (a window writes fewer): the progress bar's size.
    meter.stage("writing JSON", len(statements) + (len(result.payouts) + len(result.earnings)
                                                   + len(result.credits) + len(result.skips)
                                                   if lines else 0))
    written = 0
    yield "{"
    for i, key in enumerate(sorted((*small, *records))):
        yield f'{"," if i else ""}\n  {_string(key)}: '
        if key in small:
            yield json.dumps(small[key], indent=2, sort_keys=True,
                             ensure_ascii=False).replace("\n", "\n  ")
            continue
        # An earning line's trace texts are made and kept before it is written: the traces of
        # its payouts read them again, written later, and keep them anyway.
        keep = key == "earnings"
        write = _skip_text if key == "skipped" else functools.partial(
            _statement_text, currency=result.plan.currency) if key == "statements" \
            else None  # (`_records_text`)
        rest, sep = iter(records[key]), "[\n    "  # records are attrs classes (skips: fields)
        while batch := list(itertools.islice(rest, 256)):
            if keep:
                for rec in batch:
                    keep_texts(rec)
            yield sep
            yield ",\n    ".join(_records_text(batch) if write is None
                                   else [write(rec) for rec in batch])
            sep = ",\n    "
            for done in range(written // EVERY + 1, (written + len(batch)) // EVERY + 1):
                meter.update(done * EVERY)
            written += len(batch)
        yield "[]" if sep[0] == "[" else "\n  ]"
    yield "\n}\n"


# What json.dumps(_record(rec), indent=2, sort_keys=True, ensure_ascii=False) writes, written
# straight from the record: no dictionary of each record is built, and a deferred trace's
# texts are written without being kept (a document of a million lines would keep them all),
# but for an earning line's (`iter_json`).
_string = json.encoder.encode_basestring  # ensure_ascii=False; a TypeError for a non-string


def _encode(value, indent: str) -> str:
    kind = type(value)
    if kind is str:
        return _string(value)
    if value is None:
        return "null"
    if kind is Decimal:
        return f'"{value:f}"'  # never exponent notation such as 2.000E+4
    if kind is DeferredTrace or kind is Trace:
        return _trace(value, indent)
    if kind is dt.date or kind is dt.datetime:
        return f'"{value.isoformat()}"'
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return str(value)
    inner = indent + "  "
    if kind is tuple or kind is list:
        if not value:
            return "[]"
        return _list([_encode(v, inner) for v in value], indent)
    if kind is Span:
        return _span(value, indent)
    if attrs.has(kind):
        return _attrs(value, indent)
    if kind is dict:
        values = value
    else:  # anything else a record may hold, as json.dumps writes it
        return json.dumps(_record_value(value), indent=2, sort_keys=True,
                          ensure_ascii=False).replace("\n", "\n" + indent)
    if not values:
        return "{}"
    sep = ",\n" + inner
    body = sep.join([f"{_string(k)}: {_encode(values[k], inner)}" for k in sorted(values)])
    return f"{{\n{inner}{body}\n{indent}}}"


def _record_text(rec) -> str:
    """A record of the document's lists, at their indent (`_records_text`)."""
    return _records_text((rec,))[0]


def _records_text(records: Iterable) -> list[str]:
    """Records of the document's lists, at their indent: credit, earning and payout lines (its
    bulk) by templates of their fields, anything else (or a line with a field of another type
    than its usual one) by the general layout. (One loop for all: a call per line costs.)"""
    texts = []
    templates = _LINE_TEMPLATES
    for rec in records:
        template = templates.get(type(rec))
        if template is not None and type(amount := rec.amount) is Decimal:
            text = str(amount)  # what `format(amount, "f")` writes, unless in exponent form
            try:
                texts.append(template(rec, text if "E" not in text else format(amount, "f")))
                continue
            except TypeError:  # a field of another type (the C string encoder's, an
                # unhashable one's in a dict of texts, a date's, or `trace_contents`')
                pass
        texts.append(_attrs(rec, "    "))
    return texts


def _statement_text(statement: Statement, currency: str) -> str:
    """A statement as `statement_record` has it, at its indent: from its fields, by the
    general layout if one is of another type than its usual one."""
    digits = MINOR_DIGITS.get(currency, 2)
    parts = []
    for key, value in zip(_STATEMENT_KEYS, _statement_fields(statement)):
        kind = type(value)
        if kind is Decimal:
            text = str(value)  # the text `format(value, "f")` makes, unless in exponent form
            if "E" in text:
                text = format(value, "f")
            if text[-digits - 1:-digits] != ".":  # (most have the minor digits already)
                text = _padded(text, digits)
            parts.append(f'{key}"{text}"')
        elif kind is dt.date:
            parts.append(key + _date(value))
        elif kind is str:
            parts.append(key + _string(value))
        else:
            return _encode(statement_record(statement, currency), "    ")
    return f"{{\n      {_F.join(parts)}\n    }}"


# A statement's fields in key order, and the text before each value.
_STATEMENT_NAMES = sorted(f.name for f in attrs.fields(Statement))
_statement_fields = operator.attrgetter(*_STATEMENT_NAMES)
_STATEMENT_KEYS = tuple(f"{_string(name)}: " for name in _STATEMENT_NAMES)


def _skip_text(row: tuple) -> str:
    """A skip from its fields (`Skips.rows`), as `_record_text` writes its `Skip`."""
    rule, subject, reason, date = row
    try:
        return (f'{{\n      "date": {"null" if date is None else _date(date)}{_F}"reason": '
                f'{_string(reason)}{_F}"rule": {_string(rule)}{_F}"subject": '
                f'{_string(subject)}\n    }}')
    except TypeError:  # a field of another type
        return _attrs(Skip(rule=rule, subject=subject, reason=reason, date=date), "    ")


_DATES: dict[dt.date, str] = {}  # dates as written: a run's lines repeat a year's days


def _date(day: dt.date) -> str:
    text = _DATES.get(day)
    if text is None:
        if type(day) is not dt.date:
            raise TypeError("not a date")
        text = f'"{day.isoformat()}"'
        if len(_DATES) < 65536:
            _DATES[day] = text
    return text


_F = ",\n      "  # between a line's fields
# The texts of the fields that a run's lines repeat (payees, kinds, rules, periods), made once.
_QUOTED: dict[str, str] = {}


def _quoted(text: str) -> str:
    quoted = _string(text)  # (a TypeError for a non-string, as the templates expect)
    if len(_QUOTED) < 65536:
        _QUOTED[text] = quoted
    return quoted


def _credit_line(c: CreditLine, amount: str) -> str:
    known = _QUOTED.get
    return (f'{{\n      "amount": "{amount}"{_F}"credit": '
            f'{known(c.credit) or _quoted(c.credit)}{_F}"date": '
            f'{_DATES.get(c.date) or _date(c.date)}{_F}"deal": '
            f'{"null" if c.deal is None else _string(c.deal)}{_F}"event": '
            f'{_string(c.event)}{_F}"id": {_string(c.id)}{_F}"kind": '
            f'{known(c.kind) or _quoted(c.kind)}{_F}"payee": '
            f'{known(c.payee) or _quoted(c.payee)}{_F}"trace": '
            f'{_line_trace(trace_contents(c))}\n    }}')


def _earning_line(e: EarningLine, amount: str) -> str:
    known = _QUOTED.get
    return (f'{{\n      "amount": "{amount}"{_F}"component": '
            f'{known(e.component) or _quoted(e.component)}{_F}'
            f'"date": {_DATES.get(e.date) or _date(e.date)}{_F}"deal": '
            f'{"null" if e.deal is None else _string(e.deal)}{_F}"id": '
            f'{_string(e.id)}{_F}"kind": {known(e.kind) or _quoted(e.kind)}{_F}"payee": '
            f'{known(e.payee) or _quoted(e.payee)}{_F}"period": '
            f'{known(e.period) or _quoted(e.period)}{_F}"trace": '
            f'{_line_trace(trace_contents(e))}\n    }}')


def _payout_line(p: PayoutLine, amount: str) -> str:
    known = _QUOTED.get
    return (f'{{\n      "amount": "{amount}"{_F}"earning": '
            f'{"null" if p.earning is None else _string(p.earning)}{_F}"kind": '
            f'{known(p.kind) or _quoted(p.kind)}{_F}"pay_period": '
            f'{known(p.pay_period) or _quoted(p.pay_period)}{_F}"payee": '
            f'{known(p.payee) or _quoted(p.payee)}{_F}"trace": '
            f'{_line_trace(trace_contents(p))}\n    }}')


_LINE_TEMPLATES = {CreditLine: _credit_line, EarningLine: _earning_line, PayoutLine: _payout_line}
_LINE_TEMPLATES |= {twin: _LINE_TEMPLATES[cls] for cls, twin in TWINS.items()}
for _kind, _keys in ((CreditLine, "amount credit date deal event id kind payee trace"),
                     (EarningLine, "amount component date deal id kind payee period trace"),
                     (PayoutLine, "amount earning kind pay_period payee trace")):
    assert sorted(f.name for f in attrs.fields(_kind)) == _keys.split(), _kind
assert [f.name for f in attrs.fields(Skip)] == ["rule", "subject", "reason", "date"]


# Per record class: its fields in key order, read at once, and the text before each value.
_LAYOUTS: dict[type, tuple[operator.attrgetter, tuple[str, ...]]] = {}


def _attrs(value, indent: str) -> str:
    layout = _LAYOUTS.get(type(value))
    if layout is None:
        names = sorted(f.name for f in attrs.fields(type(value)))
        if not names:
            return "{}"
        layout = _LAYOUTS[type(value)] = (operator.attrgetter(*names, names[0]),
                                          tuple(f"{_string(n)}: " for n in names))
    read, keys = layout
    inner = indent + "  "
    parts = []
    # (The first name is read twice so that the getter always returns a tuple.)
    for key, v in zip(keys, read(value)):
        kind = type(v)
        if kind is str:
            parts.append(key + _string(v))
        elif kind is Decimal:
            parts.append(f'{key}"{v:f}"')
        else:
            parts.append(key + _encode(v, inner))
    sep = ",\n" + inner
    return f"{{\n{inner}{sep.join(parts)}\n{indent}}}"


# Traces and spans are most of the document: written by templates of their fields in key order.
_SPAN_KEYS = ("column", "end_column", "end_line", "line", "path")
_TRACE_KEYS = ("arithmetic", "because", "events", "inputs", "label", "rule", "span", "touched",
               "values")
_TRACE_FIELDS = tuple(f.name for f in attrs.fields(Trace))  # the order `contents` returns
_trace_fields = operator.attrgetter(*_TRACE_FIELDS)
assert tuple(sorted(f.name for f in attrs.fields(Span))) == _SPAN_KEYS
assert tuple(sorted(_TRACE_FIELDS)) == _TRACE_KEYS
# A plan has few spans and every line repeats them: their texts by the span's identity (a hash
# of its fields would cost more than the lookup saves), each kept with its span.
_spans: dict[tuple[int, str], tuple[Span, str]] = {}


def _span(span: Span, indent: str) -> str:
    known = _spans.get((id(span), indent))
    if known is not None and known[0] is span:
        return known[1]
    if all(type(getattr(span, k)) is int for k in _SPAN_KEYS[:4]) and type(span.path) is str:
        i = ",\n" + indent + "  "
        text = (f'{{\n{indent}  "column": {span.column}{i}"end_column": {span.end_column}'
                f'{i}"end_line": {span.end_line}{i}"line": {span.line}{i}"path": '
                f'{_string(span.path)}\n{indent}}}')
    else:
        text = _encode({k: getattr(span, k) for k in _SPAN_KEYS}, indent)
    if len(_spans) < 4096:
        _spans[(id(span), indent)] = (span, text)
    return text


def _trace(trace: Trace, indent: str) -> str:
    return _trace_writer(indent)(
        trace.contents() if type(trace) is DeferredTrace else _trace_fields(trace))


@functools.cache
def _trace_writer(indent: str):
    """The writer of traces at `indent`, from their fields in order (`DeferredTrace.contents`),
    with their fixed text made once: what comes before
    and after each field's value; before and after the item of a list of one (most traces have
    one event or input and at most one touched line); the text from the label to the touched
    lines' key (a rule's label, rule and span are the same on all its lines), by rule, label
    and span; and before each value of the values (a few names, such as "credit", that every
    line of a rule repeats), by name."""
    inner = indent + "  "
    item = inner + "  "
    opening, before_because, before_events, before_inputs, before_values = (
        f'{"," if i else "{"}\n{inner}"{key}": '
        for i, key in enumerate(("arithmetic", "because", "events", "inputs", "values")))
    close = f"\n{indent}}}"
    one, one_end = f"[\n{item}", f"\n{inner}]"
    # The text between the values' lists (and the fields around them) for the usual shape: a
    # list of one or none.
    after_because_one = f"{before_events}{one}"
    after_event_one = f"{one_end}{before_inputs}{one}"
    after_event_none = f"{one_end}{before_inputs}[]"
    none_before_inputs_one = f"{before_events}[]{before_inputs}{one}"
    pair_end = f"\n{item}]"
    values_end = f"{pair_end}\n{inner}]"  # after the last value's pair
    middles: dict[tuple, tuple[Span, str]] = {}  # by (rule, label, the span's identity)
    marks_of: dict[int, tuple[Span, str]] = {}  # a list of one touched span, by its identity
    first_heads: dict[str, str] = {}
    next_heads: dict[str, str] = {}

    def middle(rule: str, label: str, span: Span) -> tuple[Span, str]:
        text = (f',\n{inner}"label": {_string(label)},\n{inner}"rule": {_string(rule)},\n'
                f'{inner}"span": '
                f'{_span(span, inner) if type(span) is Span else _encode(span, inner)},\n'
                f'{inner}"touched": ')
        known = (span, text)  # kept with its span (see `_spans`)
        if type(span) is Span and len(middles) < 4096:
            middles[(rule, label, id(span))] = known
        return known

    def touched_one(span: Span) -> str:
        text = f"{one}{_span(span, item)}{one_end}"
        if len(marks_of) < 4096:
            marks_of[id(span)] = (span, text)  # kept with its span (see `_spans`)
        return text

    def head(name: str, heads: dict[str, str]) -> str:
        # Each value's head holds the end of the value before it (`pair_end`), but the first's.
        text = (f'{"[" if heads is first_heads else pair_end + ","}\n{item}[\n{item}  '
                f'{_string(name)},\n{item}  ')
        if len(heads) < 4096:
            heads[name] = text
        return text

    def write(fields: tuple) -> str:
        rule, label, span, because, arithmetic, values, events, inputs, touched = fields
        if type(values) is tuple and type(events) is tuple and type(inputs) is tuple and \
                type(touched) is tuple:  # as a deferred trace always has them
            try:
                known = middles.get((rule, label, id(span)))
                if known is None or known[0] is not span:
                    known = middle(rule, label, span)
                # One text of the fields in order, the usual shapes without a text of each list
                if len(events) == 1:
                    if len(inputs) == 1:
                        lists = (f"{after_because_one}{_string(events[0])}{after_event_one}"
                                 f"{_string(inputs[0])}{one_end}")
                    elif not inputs:
                        lists = f"{after_because_one}{_string(events[0])}{after_event_none}"
                    else:
                        lists = (f"{after_because_one}{_string(events[0])}{one_end}"
                                 f"{before_inputs}{_strings(inputs, inner)}")
                elif not events and len(inputs) == 1:
                    lists = f"{none_before_inputs_one}{_string(inputs[0])}{one_end}"
                else:
                    lists = (f"{before_events}{_strings(events, inner)}{before_inputs}"
                             f"{_strings(inputs, inner)}")
                if not touched:
                    marks = "[]"
                elif len(touched) == 1 and type(mark := touched[0]) is Span:
                    known_marks = marks_of.get(id(mark))
                    marks = known_marks[1] if known_marks is not None and \
                        known_marks[0] is mark else touched_one(mark)
                else:
                    marks = _spans_list(touched, inner)
                count = len(values)
                if count == 2:  # (as most lines have: two pairs of strings, or three)
                    pair0, pair1 = values
                    if type(pair0) is not tuple or type(pair1) is not tuple:
                        raise TypeError("not a pair")
                    (name0, value0), (name1, value1) = pair0, pair1  # (a ValueError if not)
                    pairs = (f"{first_heads.get(name0) or head(name0, first_heads)}"
                             f"{_string(value0)}{next_heads.get(name1) or head(name1, next_heads)}"
                             f"{_string(value1)}{values_end}")
                elif count == 3:
                    pair0, pair1, pair2 = values
                    if type(pair0) is not tuple or type(pair1) is not tuple or \
                            type(pair2) is not tuple:
                        raise TypeError("not a pair")
                    (name0, value0), (name1, value1), (name2, value2) = pair0, pair1, pair2
                    pairs = (f"{first_heads.get(name0) or head(name0, first_heads)}"
                             f"{_string(value0)}{next_heads.get(name1) or head(name1, next_heads)}"
                             f"{_string(value1)}{next_heads.get(name2) or head(name2, next_heads)}"
                             f"{_string(value2)}{values_end}")
                elif values:
                    heads, out = first_heads, []
                    for pair in values:
                        if type(pair) is not tuple or len(pair) != 2:
                            raise TypeError("not a pair")  # written the general way
                        name, value = pair
                        out += (heads.get(name) or head(name, heads), _string(value))
                        heads = next_heads
                    out.append(values_end)
                    pairs = "".join(out)
                else:
                    pairs = "[]"
                return (f"{opening}{_string(arithmetic)}{before_because}{_string(because)}"
                        f"{lists}{known[1]}{marks}{before_values}{pairs}{close}")
            except (TypeError, ValueError):  # a text or a list item that is not a string, a
                # value that is not a pair
                pass
        return _encode(dict(zip(_TRACE_FIELDS, fields)), indent)

    return write


# The trace of a credit, earning or payout line, from its fields (`trace_contents`: made
# without being kept if it has not been read).
_line_trace = _trace_writer("      ")


def _strings(items: tuple, indent: str) -> str:
    """A tuple of strings (a TypeError for anything else)."""
    if not items:
        return "[]"
    return _list(map(_string, items), indent)


def _spans_list(spans: tuple, indent: str) -> str:
    if not spans:
        return "[]"
    inner = indent + "  "
    return _list([_span(s, inner) if type(s) is Span else _encode(s, inner) for s in spans],
                 indent)


def _list(texts: Iterable[str], indent: str) -> str:
    """A list of items written at `indent` + 2, laid out as json.dumps lays it out."""
    inner = indent + "  "
    sep = ",\n" + inner
    return f"[\n{inner}{sep.join(texts)}\n{indent}]"


def _record_value(value):
    if isinstance(value, Decimal):
        return format(value, "f")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def statements_csv(result: RunResult, window: Period | None = None) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    names = payee_labels(result)  # a payee_name column only when the roster has names
    columns = (*CSV_COLUMNS, *(COMPENSATION_COLUMNS if result.plan.compensation else ()))
    w.writerow(["payee", *(["payee_name"] if names else []), "pay_period", "start", "end",
                *columns, "currency"])
    cur = result.plan.currency
    amounts = operator.attrgetter(*columns)  # (a statement's cells read in C, in one call)
    for s in result.statements:
        if in_window(s, window):
            w.writerow([s.payee, *([names.get(s.payee, s.payee)] if names else []),
                        s.pay_period, s.start, s.end, *map(_csv_amount, amounts(s)), cur])
    return out.getvalue()


def _csv_amount(value) -> str:
    """`fmt(value)` without thousands separators. An amount with at most two decimals (every
    cell of most statements: cents, or a whole 0) is its plain decimal text padded to two,
    which is that already, and much cheaper to make."""
    if value is ZERO:  # most cells of a statement (nothing of that kind happened)
        return "0.00"
    if type(value) is Decimal:
        text = format(value, "f")
        point = text.find(".")
        if point < 0:
            return text + ".00"
        if len(text) - point == 3:
            return text
        if len(text) - point == 2:
            return text + "0"
    return fmt(value, None).replace(",", "")


def payout_lines_csv(result: RunResult, window: Period | None = None) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    names = payee_labels(result)
    w.writerow(["payee", *(["payee_name"] if names else []), "pay_period", "kind", "amount",
                "rule", "earning", "explanation", "arithmetic"])
    periods = {s.pay_period for s in result.statements if in_window(s, window)}
    for p in result.payouts:
        if window is None or p.pay_period in periods:
            w.writerow([p.payee, *([names.get(p.payee, p.payee)] if names else []),
                        p.pay_period, p.kind, str(p.amount), p.trace.rule,
                        p.earning or "", p.trace.because, p.trace.arithmetic])
    return out.getvalue()


def statement_table(result: RunResult, window: Period | None = None, by_period: bool = False):
    """A rich Table of statements: one row per payee over the window (with `by_period`, one row
    per payee and pay period, and a total per payee), and a grand total. Every column is a flow
    of the statement, so each row adds up to its Paid; columns that are zero throughout (no
    holdback, no draw, no ledger) are left out. A plan with a compensation block adds Base
    salary and Target incentive after Paid (not part of it)."""
    from rich.table import Table

    cur = result.plan.currency
    first = result.versions[0] if result.versions else result.stamp
    span = window.label if window else f"{first.start} to {result.stamp.end}"
    if window is None and result.statements:
        # Pay periods shorter than a month can begin before the plan and end after it: the
        # title names the ones the table covers, as a window's does.
        lo = min(result.statements, key=lambda s: s.start)
        hi = max(result.statements, key=lambda s: s.end)
        if str(lo.start) < first.start or str(hi.end) > result.stamp.end:  # (ISO texts)
            span += f", pay periods {lo.pay_period} to {hi.pay_period}"
    table = Table(title=f"{result.plan.name} — {span} ({cur})")
    table.add_column("Payee")
    if by_period:
        table.add_column("Period")
    by_payee: dict[str, list[Statement]] = {}
    for s in result.statements:
        if in_window(s, window):
            by_payee.setdefault(s.payee, []).append(s)
    everyone = [s for rows in by_payee.values() for s in rows]
    columns = [c for c in STATEMENT_COLUMNS if c in ("earned", "paid")
               or any(getattr(s, c) for s in everyone)]
    if result.plan.compensation:
        columns += COMPENSATION_COLUMNS
    for col in columns:
        table.add_column({**HEADERS, **COMPENSATION_HEADERS}[col], justify="right")

    def totals(rows: list[Statement]) -> list[str]:
        return [_cell(sum((getattr(s, c) for s in rows), ZERO)) for c in columns]

    names = payee_labels(result)
    for payee, rows in by_payee.items():
        label = names.get(payee, payee)
        if not by_period:
            table.add_row(label, *totals(rows))
            continue
        for s in rows:
            table.add_row(label, s.pay_period, *(_cell(getattr(s, c)) for c in columns))
        table.add_row("", "[bold]total[/bold]", *(f"[bold]{x}[/bold]" for x in totals(rows)),
                      end_section=True)
    if everyone:
        label = f"all {len(by_payee)} payee{'s' if len(by_payee) != 1 else ''}"
        table.add_row(f"[bold]{label}[/bold]", *([""] if by_period else []),
                      *(f"[bold]{x}[/bold]" for x in totals(everyone)), end_section=True)
    return table


def _cell(amount: Decimal) -> str:
    return "" if amount == 0 else fmt(amount)
