"""The streamed JSON output (audit/render.py write_json) is exactly the document json.dumps
writes of the run's records, and writing it keeps no trace text in memory."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal
from fractions import Fraction

import attrs
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from incentive_dsl import api
from incentive_dsl.audit import render
from incentive_dsl.eval.records import (CreditLine, DeferredTrace, EarningLine, PayoutLine, Skip,
                                        Statement, Trace, raw_trace)
from incentive_dsl.span import Span
from tests.shipped import ROOT, load_shipped_data


def _whole_document(result, window, lines=True) -> str:
    """The document built whole, then dumped: what the streamed writer must write."""
    statements = [s for s in result.statements if render.in_window(s, window)]
    periods = {s.pay_period for s in statements}
    doc = {
        "format_version": render.FORMAT_VERSION,
        "stamp": result.stamp.to_json(),
        "window": None if window is None else {"label": window.label,
                                                "start": window.start.isoformat(),
                                                "end": window.end.isoformat()},
        "currency": result.plan.currency,
        "statements": [render.statement_record(s, result.plan.currency) for s in statements],
        "diagnostics": [d.to_json() for d in result.diagnostics],
    }
    if lines:
        doc["payouts"] = [render._record(p) for p in result.payouts
                          if window is None or p.pay_period in periods]
        doc["earnings"] = [render._record(e) for e in result.earnings
                           if window is None or window.contains(e.date)]
        doc["credits"] = [render._record(c) for c in result.credits
                          if window is None or window.contains(c.date)]
        doc["skipped"] = [render._record(s) for s in result.skips
                          if window is None or s.date is None or window.contains(s.date)]
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@pytest.fixture(scope="module")
def run():
    plan = api.load_plan(str(ROOT / "plans" / "enterprise_ae.plan")).plan
    dataset, _ = load_shipped_data(plan)
    return plan, api.run(plan, dataset)


@pytest.mark.parametrize("period", [None, "2027-Q2"])
def test_streamed_json_is_the_whole_document(run, period):
    plan, result = run
    window = api.window(plan, period)
    out = io.StringIO()
    render.write_json(out, result, window)
    expected = _whole_document(result, window)
    assert out.getvalue() == expected
    assert render.to_json(result, window, lines=False) == _whole_document(result, window, False)
    assert "×" in expected and len(json.loads(expected)["credits"]) > 10
    binary = io.BytesIO()  # a binary stream gets the document's UTF-8
    render.write_json(binary, result, window)
    assert binary.getvalue() == expected.encode()


@given(st.text(st.characters(max_codepoint=0x2FF) | st.sampled_from("×é\u2014\U0001F600")))
@example("\u00c3\u00d7\u0083\u00c2")  # the UTF-8 of one is not taken for another
def test_the_binary_document_is_the_utf8_of_its_text(text):
    assert render._utf8(text) == text.encode()
    assert render._utf8(f"×{text}é") == f"×{text}é".encode()


def test_writing_every_trace_keeps_none_of_their_texts():
    plan2 = api.load_plan(str(ROOT / "plans" / "enterprise_ae.plan")).plan
    dataset, _ = load_shipped_data(plan2)
    fresh = api.run(plan2, dataset)
    render.write_json(io.StringIO(), fresh)
    # (An earning line's texts are read, and kept, by the traces of the payouts of it.) A line
    # given what makes its trace still holds only that; a deferred trace has made no texts.
    held = [raw_trace(ln) for ln in (*fresh.credits, *fresh.payouts)]
    assert sum(type(t) is tuple for t in held) > 1000
    assert all(type(t) is tuple or t._made is None for t in held
               if type(t) is tuple or isinstance(t, DeferredTrace))
    line = next(ln for ln in fresh.credits if type(raw_trace(ln)) is tuple)
    assert line.trace.because  # still readable afterwards, and kept once read
    assert raw_trace(line) is line.trace and line.trace._made is not None


# Records of any contents: the writer's templates and shortcuts (strings straight to the C
# encoder, traces and spans by layout) must write what json.dumps writes, or fall back on the
# general path; texts that need escaping, non-ASCII and control characters, odd Decimals, and
# trace fields of unusual types (lists, pairs that are not tuples of strings, spans missing).
_texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12) | st.sampled_from(
    ['"quoted"', "back\\slash", "tab\tnew\nline\r", "\x00\x1f\x7f", "×–≈ 12.5%", "😀", ""])
_amounts = st.decimals(allow_nan=False, allow_infinity=False) | st.sampled_from(
    [Decimal("2.000E+4"), Decimal("-0.00"), Decimal("1E-9"), Decimal("0E+3"), Decimal("NaN")])
_spans = st.builds(Span, path=_texts, line=st.integers(1, 9), column=st.integers(1, 9),
                   end_line=st.integers(1, 9), end_column=st.integers(1, 9))
_odd = st.one_of(st.none(), st.integers(-5, 5), _amounts, st.booleans(), _spans)
_strings = st.lists(_texts, max_size=3).map(tuple)
# Each field as a deferred trace has it, or else of an unusual type.
_usual = dict(rule=_texts, label=_texts, span=_spans, because=_texts, arithmetic=_texts,
              values=st.lists(st.tuples(_texts, _texts), max_size=3).map(tuple),
              events=_strings, inputs=_strings, touched=st.lists(_spans, max_size=2).map(tuple))
_unusual = dict(
    rule=_odd, label=_odd, span=_odd, because=_odd, arithmetic=_odd,
    values=st.one_of(
        st.lists(st.tuples(_texts, _texts), min_size=1, max_size=2),
        st.lists(st.one_of(st.tuples(_texts, _texts), st.lists(_texts, max_size=2),
                           st.tuples(), st.tuples(_texts, _odd), st.tuples(_texts), _texts, _odd),
                 min_size=1, max_size=3).map(tuple)),
    events=st.one_of(st.lists(_texts, max_size=2), _texts, _odd,
                     st.lists(_texts | _odd, min_size=1, max_size=3).map(tuple)),
    inputs=st.one_of(st.lists(_texts, max_size=2), _texts,
                     st.lists(_texts | _odd, min_size=1, max_size=3).map(tuple)),
    touched=st.one_of(st.lists(_spans, max_size=2), _texts,
                      st.lists(_spans | _odd, min_size=1, max_size=2).map(tuple)))


@st.composite
def _traces(draw):
    fields = {k: draw(v) for k, v in _usual.items()}
    for odd in draw(st.lists(st.sampled_from(sorted(_unusual)), max_size=2)):
        fields[odd] = draw(_unusual[odd])
    return _trace(fields, draw(st.booleans()))


_MADE = ("because", "arithmetic", "values", "events", "inputs", "touched")


def _trace(fields: dict, deferred: bool) -> Trace:
    """A trace of these fields, or a deferred one made of them when it can hold them (it makes
    its lists tuples)."""
    if not deferred or not all(isinstance(fields[k], (tuple, list, str)) for k in _MADE[2:]):
        return Trace(**fields)
    made = tuple(fields.pop(k) for k in _MADE)
    return DeferredTrace(lambda: made, (), **fields)


_SPAN = Span(path='p"\\é', line=1, column=2, end_line=3, end_column=4)
_ODD_FIELDS = [  # each a trap for a shortcut that would write it as the usual type
    {"values": ("ab",)}, {"values": (["a", "b"],)}, {"values": (("a",), ("b", "c", "d"))},
    {"values": ((),)}, {"values": (("a", 1),)}, {"values": (None,)}, {"values": [("a", "b")]},
    {"events": "ab"}, {"events": ["a"]}, {"events": ("a", 1)}, {"events": (None,)},
    {"inputs": "xy"}, {"inputs": ("x", Decimal("1.0"))}, {"touched": (_SPAN, None)},
    {"touched": [_SPAN]}, {"touched": "ab"}, {"span": None}, {"span": 5}, {"label": None},
    {"because": 5}, {"rule": Decimal("2E+4")}, {"arithmetic": True}]


@pytest.mark.parametrize("odd", _ODD_FIELDS, ids=str)
@pytest.mark.parametrize("deferred", [False, True])
def test_a_trace_with_unusual_fields_is_written_as_json_dumps_writes_it(odd, deferred):
    fields = dict(rule="r\x00", label="l\u2028", span=_SPAN, because='b"\\', arithmetic="a\t×",
                  values=(("credit", "1 USD"),), events=("E1",), inputs=("i",),
                  touched=(_SPAN,)) | odd
    _assert_written_as_json_dumps_writes(CreditLine(
        id="id", credit="credit", payee="p", deal=None, event="E1", date=dt.date(2027, 1, 2),
        amount=Decimal("1.50"), kind="split", trace=_trace(fields, deferred)))


def _assert_written_as_json_dumps_writes(record, text: str | None = None) -> None:
    assert (render._record_text(record) if text is None else text) == json.dumps(
        render._record(record), indent=2, sort_keys=True,
        ensure_ascii=False).replace("\n", "\n    ")


# A line's fields as the stages make them, or else of another type (the line templates' traps).
_amounts_or_not = _amounts | st.sampled_from([1, Fraction(1, 3), None, "1.50"])
_dates = st.just(dt.date(2027, 1, 2)) | st.sampled_from([dt.datetime(2027, 1, 2, 3, 4), None])
_or_none = _texts | st.none() | st.sampled_from([7, Decimal("7")])


@given(kind=st.sampled_from(["credit", "earning", "payout"]), trace=_traces(),
       amount=_amounts_or_not, date=_dates, deal=_or_none, texts=st.tuples(_texts, _or_none))
@example(kind="credit", trace=Trace(rule="r", label="l", span=None, because=""), amount=Decimal(1),
         date=None, deal=None, texts=("i", "k"))
@example(kind="earning", trace=Trace(rule="r", label="l", span=None, because=""), amount=1,
         date=dt.date(2027, 1, 2), deal=7, texts=("i", None))
@example(kind="payout", trace=Trace(rule="r", label="l", span=None, because=""),
         amount=Decimal("2E+1"), date=None, deal=Decimal(7), texts=("2027-01", "k"))
def test_any_line_is_written_as_json_dumps_writes_it(kind, trace, amount, date, deal, texts):
    if isinstance(amount, Fraction):  # json.dumps cannot write it: neither can the writer
        return
    common = dict(amount=amount, kind=texts[1], payee="p\u00e9", trace=trace)
    if kind == "credit":
        line = CreditLine(id=texts[0], credit="c", deal=deal, event="E\n1", date=date, **common)
    elif kind == "earning":
        line = EarningLine(id=texts[0], component="c", date=date, period="2027-Q1", deal=deal,
                           **common)
    else:
        line = PayoutLine(pay_period=texts[0], earning=deal, **common)
    _assert_written_as_json_dumps_writes(line)


@pytest.mark.parametrize("row", [
    ("r", "E1", "why", dt.date(2027, 1, 2)), ("r", "ana 2027-01", 'a "quoted"\nreason', None),
    ("r", 5, "x", dt.datetime(2027, 1, 2, 3, 4)), ("r\u2028", "s", None, "2027-01-02")])
def test_a_skip_is_written_from_its_fields_as_json_dumps_writes_it(row):
    rule, subject, reason, date = row
    _assert_written_as_json_dumps_writes(Skip(rule=rule, subject=subject, reason=reason,
                                              date=date), render._skip_text(row))


_STATEMENT = Statement(payee="ana", pay_period="2027-01", start=dt.date(2027, 1, 1),
                       end=dt.date(2027, 1, 31), earned=Decimal("1250.5"), capped=Decimal(0),
                       clawed_back=Decimal("-10.00"), held=Decimal("-0"), released=Decimal(0),
                       drawn=Decimal("0.001"), recovered=Decimal(0), paid=Decimal("1240.50"),
                       draw_balance=Decimal("2E+3"))


@pytest.mark.parametrize("currency", ["USD", "JPY", "BHD"])
@pytest.mark.parametrize("changes", [
    {}, {"earned": Decimal("2.000E+4")}, {"paid": Decimal("-0.00")}, {"later": Decimal("1E-9")},
    {"payee": 'a "quoted"\nname ×'}, {"paid": 1}, {"carried": None},
    {"start": dt.datetime(2027, 1, 2, 3, 4)}, {"pay_period": 7}], ids=str)
def test_a_statement_is_written_as_json_dumps_writes_its_record(changes, currency):
    statement = attrs.evolve(_STATEMENT, **changes)
    assert render._statement_text(statement, currency) == json.dumps(
        render.statement_record(statement, currency), indent=2, sort_keys=True,
        ensure_ascii=False).replace("\n", "\n    ")


@pytest.mark.parametrize("kind", ["owner", ["owner"], ("owner",), 7])
def test_lines_written_together_reuse_no_text_of_another_field(kind):
    """The batch writer keeps the texts of repeated fields and of a trace's one touched span:
    a field of another type after them (unhashable, or equal to none as text), and a span of
    other fields, are still written as json.dumps writes them."""
    def line(kind, span):
        return CreditLine(id="i", credit="c", payee='p"é', deal=None, event="E1",
                          date=dt.date(2027, 1, 2), amount=Decimal("1.50"), kind=kind,
                          trace=Trace(rule="r", label="l", span=span, because="b",
                                      values=(("credit", "1 USD"),), touched=(span,)))
    other = attrs.evolve(_SPAN, line=9)
    lines = [line("owner", _SPAN), line(kind, _SPAN), line("owner", other), line(kind, other)]
    for rec, text in zip(lines, render._records_text(lines), strict=True):
        _assert_written_as_json_dumps_writes(rec, text)


def test_the_json_written_to_a_file_is_the_json_written_to_stdout(tmp_path, capsys):
    """`--output` gets the document's UTF-8 from the binary writer (`_utf8`), stdout its text:
    the same bytes, a payee named beyond ASCII included."""
    import shutil

    from incentive_dsl import cli

    data = tmp_path / "data"
    shutil.copytree(ROOT / "plans" / "data", data)
    for csv in data.glob("*.csv"):  # a payee whose id is not ASCII (é, and a CJK one)
        csv.write_text(csv.read_text("utf-8").replace("ana.b", "anaé.b").replace(
            "abe.d", "阿部.d"), "utf-8")
    args = ["run", str(ROOT / "plans" / "enterprise_ae.plan"), "--data", str(data),
            "--format", "json"]
    capsys.readouterr()
    assert cli.main(args) == cli.EXIT_OK
    printed = capsys.readouterr().out
    assert "anaé.b" in printed and "阿部.d" in printed and "×" in printed
    out = tmp_path / "run.json"
    assert cli.main([*args, "--output", str(out)]) == cli.EXIT_OK
    assert out.read_bytes() == printed.encode("utf-8")
