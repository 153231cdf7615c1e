"""What each stage of evaluation produces. Every record carries its provenance: the rule and
source span it came from, the input events, and a `Trace` with the intermediate values and
the arithmetic, so any cent can be explained.

Amounts are exact Decimals in the plan currency. `EarningLine.amount` is exact; the payout
stage rounds as the plan says.
"""

from __future__ import annotations

import abc
import contextlib
import datetime as dt
import decimal
import functools
import itertools
import operator
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal

import attrs

from incentive_dsl.eval.money import CONTEXT
from incentive_dsl.span import Span

record = attrs.frozen(kw_only=True)


@record
class Trace:
    """Why a line has its amount, in business words and in arithmetic."""

    rule: str  # the rule's name, e.g. "core"
    label: str  # its label, e.g. "Core commission"
    span: Span  # the rule line (or tier row) in the plan
    because: str  # "12% of 50,000.00 USD because your 2027-Q1 attainment was 100%–150%"
    arithmetic: str = ""  # "50,000.00 × 12% = 6,000.00"
    values: tuple[tuple[str, str], ...] = ()  # intermediate values, in order
    events: tuple[str, ...] = ()  # input event ids
    inputs: tuple[str, ...] = ()  # ids of the credit or earning lines it was computed from
    touched: tuple[Span, ...] = ()  # other plan lines it went through (tier rows, accelerators)

    def texts(self) -> tuple:
        """(because, arithmetic, values, events, inputs, touched), read at once: for a trace
        that writes its texts from another's."""
        return self.because, self.arithmetic, self.values, self.events, self.inputs, self.touched


_TEXTS = CONTEXT.copy()  # the decimal context deferred trace texts are made in


@contextlib.contextmanager
def texts_context():
    """The decimal context deferred traces make their texts in, entered once by a reader of
    many of them (the JSON output): each then finds it set instead of entering it and leaving
    it again. Nothing else should run in it."""
    reader = decimal.getcontext()
    decimal.setcontext(_TEXTS)
    try:
        yield
    finally:
        decimal.setcontext(reader)


class DeferredTrace(Trace):
    """A trace whose contents past its rule (texts, values, events, inputs, touched lines) are
    made when first read, by `render(*args)`, from values captured when the line was made. A
    run keeps every trace but few are ever read: writing the texts of all of them cost more
    than computing the amounts, and keeping their parts as objects costs memory and garbage
    collector time. To everything that reads it (equality, hashing, `attrs.asdict`, JSON) it is
    a `Trace` with the same contents; `args` must be values that do not change afterwards.

    `render` returns (because, arithmetic, values, events, inputs, touched)."""

    __slots__ = ("_render", "_args", "_made")

    def __init__(self, render=None, args: tuple = (), rule: str = "", label: str = "",
                 span: Span | None = None, because: str = "", arithmetic: str = "",
                 values=(), events=(), inputs=(), touched=()) -> None:
        # The base class is frozen: its slots are set through their descriptors, which costs
        # half of `object.__setattr__` (a run makes several traces per credit line).
        set_rule, set_label, set_span, set_render, set_args, set_made = _TRACE_SLOTS
        set_rule(self, rule)
        set_label(self, label)
        set_span(self, span)
        set_render(self, render)
        set_args(self, args)
        # `attrs.evolve` calls the class with every field by name and no render function.
        set_made(self, None if render is not None else (
            because, arithmetic, tuple(values), tuple(events), tuple(inputs), tuple(touched)))

    def contents(self, keep: bool = False) -> tuple:
        """The trace's fields, in order (rule, label, span, because, arithmetic, values,
        events, inputs, touched), made without being kept when they have not been read yet:
        for a reader that reads every trace once (the JSON output). With `keep`, kept as
        reading a field keeps them (for a trace that other traces read again)."""
        if keep:
            return (self.rule, self.label, self.span, *self._contents())
        args, made = self._args, self._made  # in this order: see _contents
        return (self.rule, self.label, self.span, *(made or self._make(args)))

    def _contents(self) -> tuple:
        # The arguments are read before the result: `_made` is set before `_args` is cleared,
        # so a thread that finds the arguments cleared finds the result made.
        args, made = self._args, self._made
        if made is None:
            made = self._make(args)
            set_args, set_made = _TRACE_SLOTS[4:]  # (the slots' own setters: see __init__)
            set_made(self, made)
            set_args(self, ())  # what it was made from can go
        return made

    texts = _contents  # (one call: the trace of every payout line reads its earning line's)

    def _make(self, args: tuple) -> tuple:
        return _texts(self._render, args)

    def __reduce__(self):
        # Copied or pickled as the plain trace it reads as (its render function may be a
        # closure, and attrs' own state handling would write to the properties below).
        return _trace, ({f.name: getattr(self, f.name) for f in attrs.fields(Trace)},)

    # These shadow the base class's slots: reading one makes them all, once.
    because = property(lambda self: self._contents()[0])
    arithmetic = property(lambda self: self._contents()[1])
    values = property(lambda self: self._contents()[2])
    events = property(lambda self: self._contents()[3])
    inputs = property(lambda self: self._contents()[4])
    touched = property(lambda self: self._contents()[5])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Trace):
            return NotImplemented
        return _fields(self) == _fields(other)

    __hash__ = Trace.__hash__


def _texts(render, args: tuple) -> tuple:
    """`render(*args)`: a deferred trace's texts, values, events, inputs and touched lines."""
    # Written in the run's decimal context, whatever the reader's: the text must not depend on
    # who reads it first. A trace read while another is made (a rounded line's reads its
    # commission's) finds it set already: entering a context costs as much as a short text.
    reader = decimal.getcontext()
    if reader is not _TEXTS:
        decimal.setcontext(_TEXTS)
    try:
        made = render(*args)
    finally:
        if reader is not _TEXTS:
            decimal.setcontext(reader)
    because, arithmetic, values, events, inputs, touched = made
    if type(made) is tuple and type(values) is tuple and type(events) is tuple and \
            type(inputs) is tuple and type(touched) is tuple:
        return made  # as render functions return them
    return because, arithmetic, tuple(values), tuple(events), tuple(inputs), tuple(touched)


# The setters of the slots a DeferredTrace's __init__ fills, in its order.
_TRACE_SLOTS = (*(Trace.__dict__[name].__set__ for name in ("rule", "label", "span")),
                *(DeferredTrace.__dict__[name].__set__ for name in ("_render", "_args", "_made")))


def _trace(fields: dict) -> Trace:
    return Trace(**fields)


_trace_fields = operator.attrgetter(*(f.name for f in attrs.fields(Trace)))


def _fields(trace: Trace) -> tuple:
    return _trace_fields(trace)


@record
class CreditLine:
    """Credit to one payee from one event, under one credit rule."""

    id: str
    credit: str
    payee: str
    deal: str | None
    event: str
    date: dt.date
    amount: Decimal
    kind: str  # owner, split, role split, overlay, roll-up, touch
    trace: Trace


@record
class EarningLine:
    """Money earned (or taken back) under one component."""

    id: str
    component: str
    kind: str  # commission, true-up, capped, floor, condition, netting, bonus, spiff, stage,
    # activity, pool, override, clawback, plan cap
    payee: str
    date: dt.date
    period: str  # the measurement period label
    amount: Decimal
    deal: str | None
    trace: Trace

    def rounded(self, amount: Decimal, trace: Trace | Later | None = None) -> EarningLine:
        """This line with another amount (and trace): made directly, since `attrs.evolve`
        costs several times as much and rounding per line makes one per line."""
        return earning_line(id=self.id, component=self.component, kind=self.kind,
                            payee=self.payee, date=self.date, period=self.period, amount=amount,
                            deal=self.deal, trace=raw_trace(self) if trace is None else trace)


@record
class PayoutLine:
    """Money paid (or withheld) in one pay period."""

    payee: str
    pay_period: str
    kind: str  # earning, awaiting collection, holdback, release, draw, recovery, forgiven,
    # rounding
    amount: Decimal
    earning: str | None  # the earning line it pays
    trace: Trace


# A line's trace can also be given as the tuple (head, *args), where `head` is the tuple
# (render, rule, label, span, *fixed) that the lines of one rule share: the
# `DeferredTrace(render, (*fixed, *args), rule, label, span)` it stands for is made when the
# line's trace is first read, and kept. A run makes several lines per credit line and reads
# few traces: until then each line keeps one short tuple of its own values, not a trace object
# and its tuple of arguments (the object alone took a tenth of a run's time to make, and a
# sixth of its memory), nor a copy of what its rule's lines have in common. The makers below
# give such a line a twin of its record class (`_traced_later`) that reads the tuple.
Later = tuple


def _later_trace(later: Later) -> DeferredTrace:
    head = later[0]
    return DeferredTrace(head[0], (*head[4:], *later[1:]), head[1], head[2], head[3])


def _traced_later(cls: type, raw=None, more: dict | None = None) -> type:
    """A subclass of the line record `cls` whose `trace` field is read through a property
    that makes the trace from the tuple its slot holds (see above), or from the tuple `raw`
    reads from the line. To every reader it is a `cls`: equal to and hashed as the `cls` with
    the same fields, shown and copied as one (a copy or pickle is a `cls`); `attrs.evolve` and
    `attrs.asdict` read its trace. `more`: other attributes of the class."""
    slot = cls.__dict__["trace"]
    get, put = raw or slot.__get__, slot.__set__
    names = tuple(f.name for f in attrs.fields(cls))
    fields = operator.attrgetter(*names)

    def trace(self) -> Trace:
        made = get(self)
        if type(made) is tuple:
            made = _later_trace(made)
            put(self, made)  # two threads may both make it: equal traces, one kept
        return made

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, cls):
            return NotImplemented
        return fields(self) == fields(other)

    def __reduce__(self):
        return _remade, (cls, dict(zip(names, fields(self))))

    return type(cls.__name__, (cls,), {
        "__slots__": (), "__qualname__": cls.__qualname__, "__module__": cls.__module__,
        "__doc__": cls.__doc__, "trace": property(trace, put), "__eq__": __eq__,
        "__hash__": cls.__hash__, "__reduce__": __reduce__, **(more or {})})


def _remade(cls: type, fields: dict):
    return cls(**fields)


def trace_contents(line) -> tuple:
    """The fields of a line's trace, in order (`DeferredTrace.contents`), made without being
    kept when they have not been read yet: for a reader that reads every line's once (the JSON
    output). A TypeError for a trace of another type."""
    raw = _RAW_TRACE.get(type(line))
    made = line.trace if raw is None else raw(line)
    kind = type(made)
    if kind is tuple:
        head = made[0]
        if decimal.getcontext() is _TEXTS:  # (the JSON output's) `_texts`, written out
            because, arithmetic, values, events, inputs, touched = \
                head[0](*head[4:], *made[1:])
            if type(values) is not tuple or type(events) is not tuple or \
                    type(inputs) is not tuple or type(touched) is not tuple:
                values, events, inputs, touched = (tuple(values), tuple(events), tuple(inputs),
                                                   tuple(touched))
            return head[1], head[2], head[3], because, arithmetic, values, events, inputs, touched
        return (head[1], head[2], head[3], *_texts(head[0], (*head[4:], *made[1:])))
    if kind is DeferredTrace:
        return made.contents()
    if kind is Trace:
        return _trace_fields(made)
    raise TypeError(f"not a trace: {kind.__name__}")


def keep_texts(line) -> None:
    """Make a line's trace texts and keep them, as reading its trace does: for a reader that
    reads them again (the JSON output's earning lines, which their payouts' traces read). A
    trace still a tuple is made with its texts, not made and then read."""
    raw = _RAW_TRACE.get(type(line))
    made = line.trace if raw is None else raw(line)
    if type(made) is tuple:
        head = made[0]
        _PUT_TRACE[type(line)](line, DeferredTrace(
            None, (), head[1], head[2], head[3], *_texts(head[0], (*head[4:], *made[1:]))))
    elif type(made) is DeferredTrace:
        made.texts()


def raw_trace(line) -> Trace | Later:
    """A line's trace as it holds it: the trace, or the tuple it is made from when first read
    (for a stage that makes another line's trace from it without reading it)."""
    raw = _RAW_TRACE.get(type(line))
    return line.trace if raw is None else raw(line)


# Makers of the line records for the stages, which make several per credit line: the same
# record as the class makes from the same fields, in half the time. The classes are frozen, so
# attrs' __init__ sets each field through `object.__setattr__`; these set the slots through
# their descriptors. Each takes exactly the record's fields (tests/test_eval_internals.py),
# the trace possibly as the tuple it is made from (see `Later`).
_new = object.__new__


def _slot_setters(cls: type) -> tuple:
    return tuple(getattr(cls, f.name).__set__ for f in attrs.fields(cls))


def credit_line(*, id: str | None, credit: str, payee: str, deal: str | None, event: str,
                date: dt.date, amount: Decimal, kind: str, trace: Trace | Later) -> CreditLine:
    """The credit line with these fields. With a trace given as a tuple, `id` None stands for
    "credit:event:payee:kind", made when read (see `CreditHead`)."""
    line = _new(_CREDIT_LATER if type(trace) is tuple else CreditLine)
    s_id, s_credit, s_payee, s_deal, s_event, s_date, s_amount, s_kind, s_trace = _CREDIT_SLOTS
    s_id(line, id)
    s_credit(line, credit)
    s_payee(line, payee)
    s_deal(line, deal)
    s_event(line, event)
    s_date(line, date)
    s_amount(line, amount)
    s_kind(line, kind)
    s_trace(line, trace)
    return line


def earning_line(*, id: str, component: str, kind: str, payee: str, date: dt.date,
                 period: str, amount: Decimal, deal: str | None,
                 trace: Trace | Later) -> EarningLine:
    line = _new(_EARNING_LATER if type(trace) is tuple else EarningLine)
    s_id, s_component, s_kind, s_payee, s_date, s_period, s_amount, s_deal, s_trace = \
        _EARNING_SLOTS
    s_id(line, id)
    s_component(line, component)
    s_kind(line, kind)
    s_payee(line, payee)
    s_date(line, date)
    s_period(line, period)
    s_amount(line, amount)
    s_deal(line, deal)
    s_trace(line, trace)
    return line


def payout_line(*, payee: str, pay_period: str, kind: str, amount: Decimal,
                earning: str | EarningLine | None, trace: Trace | Later) -> PayoutLine:
    """The payout line with these fields. `earning` an earning line stands for its id, read
    when read (see `_payout_earning`); `trace` then may be a `PaidHead`."""
    line = _new(_PAYOUT_LATER if type(trace) is tuple or earning is not None and
                type(earning) is not str else PayoutLine)
    s_payee, s_pay_period, s_kind, s_amount, s_earning, s_trace = _PAYOUT_SLOTS
    s_payee(line, payee)
    s_pay_period(line, pay_period)
    s_kind(line, kind)
    s_amount(line, amount)
    s_earning(line, earning)
    s_trace(line, trace)
    return line


def rounded_unread(line: EarningLine, amount: Decimal, trace: Later) -> EarningLine:
    """`line.rounded(amount, trace)` for a line that its maker has not handed on, so nobody
    has read it (a split share waiting to be rounded with its deal's other shares): its amount
    and trace are set in place, as a trace is when first read, not copied into another record
    (a run rounds one per share)."""
    if type(line) is not _EARNING_LATER or type(trace) is not tuple:
        return line.rounded(amount, trace)
    _SET_EARNING_AMOUNT(line, amount)
    _SET_EARNING_TRACE(line, trace)
    return line


class CreditHead(tuple):
    """The head of the credit stage's lines of one rule (see `Later`), marking the shorter
    tuples it heads: (head, value, weight, detail, *how), without what the line holds
    already (its amount and event) and, for a booking in the plan currency (`how` empty),
    without the booking's phrase, whose deal is the line's and whose amount is the value;
    (head, weight, detail) when the value is the line's amount too (all of such a booking to
    one payee), a tuple the rule's lines with that detail share. The full tuple is made when
    the trace is read. Lines made
    with such a tuple leave their ids to be made when read, from the fields they are made of
    ("credit:event:payee:kind"), unless given one (an id with a suffix): the id of every
    credit line would be a string kept per line that few outputs read."""

    __slots__ = ()


_GET_CREDIT_TRACE, _GET_CREDIT_ID = CreditLine.trace.__get__, CreditLine.id.__get__


def _credit_trace(line: CreditLine) -> Trace | Later:
    """A credit line's trace as it holds it, a short tuple made the full one (`CreditHead`)."""
    made = _GET_CREDIT_TRACE(line)
    if type(made) is tuple and type(made[0]) is CreditHead:
        if len(made) == 3:
            head, weight, detail = made
            value = line.amount
            return (head, value, weight, value, detail, line.event, "deal {} booked at {}{}",
                    line.deal, value, "")
        head, value, weight, detail, *how = made
        return (head, value, weight, line.amount, detail, line.event,
                *(how or ("deal {} booked at {}{}", line.deal, value, "")))
    return made


def _credit_id(line: CreditLine) -> str:
    made = _GET_CREDIT_ID(line)
    return f"{line.credit}:{line.event}:{line.payee}:{line.kind}" if made is None else made


class PaidHead(tuple):
    """The head of the trace of the payout lines that pay their earning line when it is earned
    (see `Later`): such a line's trace is the head alone, standing for the tuple (head,
    earning line), its earning line being the one it keeps for its `earning` field."""

    __slots__ = ()


_GET_PAYOUT_TRACE, _GET_PAYOUT_EARNING = PayoutLine.trace.__get__, PayoutLine.earning.__get__


def _payout_trace(line: PayoutLine) -> Trace | Later:
    """A payout line's trace as it holds it, a `PaidHead` made the tuple it stands for."""
    made = _GET_PAYOUT_TRACE(line)
    return (made, _GET_PAYOUT_EARNING(line)) if type(made) is PaidHead else made


def _payout_earning(line: PayoutLine) -> str | None:
    # The id of the earning line it pays, read from that line, which it keeps instead: its
    # trace is then the head alone (`PaidHead`), not a tuple kept per line.
    made = _GET_PAYOUT_EARNING(line)
    return made if made is None or type(made) is str else made.id


_CREDIT_SLOTS = _slot_setters(CreditLine)
_EARNING_SLOTS = _slot_setters(EarningLine)
_PAYOUT_SLOTS = _slot_setters(PayoutLine)
_SET_EARNING_AMOUNT, _SET_EARNING_TRACE = EarningLine.amount.__set__, EarningLine.trace.__set__
_CREDIT_LATER = _traced_later(CreditLine, _credit_trace, {
    "id": property(_credit_id, CreditLine.__dict__["id"].__set__)})
_EARNING_LATER = _traced_later(EarningLine)
_PAYOUT_LATER = _traced_later(PayoutLine, _payout_trace, {
    "earning": property(_payout_earning, PayoutLine.__dict__["earning"].__set__)})
# Each line record's twin whose trace is made when read (for readers that go by exact type).
TWINS = {CreditLine: _CREDIT_LATER, EarningLine: _EARNING_LATER, PayoutLine: _PAYOUT_LATER}
# The slot a twin's trace is kept in, read as it is (the made trace or its tuple).
_RAW_TRACE = {twin: cls.__dict__["trace"].__get__ for cls, twin in TWINS.items()} | {
    _CREDIT_LATER: _credit_trace, _PAYOUT_LATER: _payout_trace}
_PUT_TRACE = {twin: cls.__dict__["trace"].__set__ for cls, twin in TWINS.items()}


@record
class Skip:
    """An event or a payee-period that earned nothing under a rule, and why."""

    rule: str
    subject: str  # an event id or "payee period"
    reason: str
    date: dt.date | None = None


@functools.lru_cache(maxsize=4096)
def outside_window(day: dt.date) -> str:
    """Why a rule with a window skips an event dated `day`: one text per day, which the events
    of that day share (a large run can skip tens of thousands)."""
    return f"dated {day}, outside the rule's window"


class _Records(Sequence):
    """A sequence of records kept in another form, each made when read (`_one`): equal to the
    same records as a tuple or a list, hashed and added like the tuple (a run adds to it while
    it runs, and nothing changes it afterwards)."""

    __slots__ = ()

    @abc.abstractmethod
    def _one(self, i: int):
        """The record at index `i`, made."""

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self._one(j) for j in range(*i.indices(len(self)))]
        return self._one(i)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, (_Records, tuple, list)):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other))

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __add__(self, other) -> tuple:
        return (*self, *other)

    def __radd__(self, other) -> tuple:
        return (*other, *self)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({list(self)!r})"


class Skips(_Records):
    """A run's skips, in the order they were found, stored by column: a large run skips tens
    of thousands of events (every booking a rule's condition turns away), and a record each
    would be as many objects to keep and to scan for the garbage collector. Reading one makes
    its `Skip`."""

    __slots__ = ("_rules", "_subjects", "_reasons", "_dates")

    def __init__(self, skips: Iterable[Skip] = ()) -> None:
        self._rules: list[str] = []
        self._subjects: list[str] = []
        self._reasons: list[str] = []
        self._dates: list[dt.date | None] = []
        for s in skips:
            self.add(s.rule, s.subject, s.reason, s.date)

    def add(self, rule: str, subject: str, reason: str, date: dt.date | None = None) -> None:
        self._rules.append(rule)
        self._subjects.append(subject)
        self._reasons.append(reason)
        self._dates.append(date)

    def __len__(self) -> int:
        return len(self._rules)

    def _one(self, i: int) -> Skip:
        return Skip(rule=self._rules[i], subject=self._subjects[i], reason=self._reasons[i],
                    date=self._dates[i])

    def __iter__(self) -> Iterator[Skip]:
        for args in zip(self._rules, self._subjects, self._reasons, self._dates):
            yield Skip(rule=args[0], subject=args[1], reason=args[2], date=args[3])

    def rows(self) -> Iterator[tuple[str, str, str, dt.date | None]]:
        """The skips' fields (rule, subject, reason, date), without making their records."""
        return zip(self._rules, self._subjects, self._reasons, self._dates)


class PayoutLines(_Records):
    """A run's payout lines, in order. A line that pays its earning line whole, when earned,
    is kept as that earning line and its pay period (the usual schedule makes one per
    earning line, so a record each would be a third more lines to keep); reading it makes
    its `PayoutLine` (an equal one each time). The others are kept as they are."""

    __slots__ = ("_items", "_periods", "_heads")

    def __init__(self, heads: dict[str, PaidHead] | None = None) -> None:
        self._items: list[PayoutLine | EarningLine] = []
        self._periods: list[str | None] = []  # an earning line's pay period; None for a line
        self._heads = heads if heads is not None else {}  # the trace head by component

    def add(self, lines: Iterable[PayoutLine | EarningLine], period: str | None) -> None:
        """`lines`, an earning line among them standing for the line that pays it whole in
        pay period `period`, with the trace head `PaidHead` of its component (in `heads`)."""
        before = len(self._items)
        self._items += lines
        self._periods += itertools.repeat(period, len(self._items) - before)

    def _line(self, item: PayoutLine | EarningLine, period: str | None) -> PayoutLine:
        if period is None or isinstance(item, PayoutLine):
            return item
        return payout_line(payee=item.payee, pay_period=period, kind="earning",
                           amount=item.amount, earning=item, trace=self._heads[item.component])

    def __len__(self) -> int:
        return len(self._items)

    def _one(self, i: int) -> PayoutLine:
        return self._line(self._items[i], self._periods[i])

    def __iter__(self) -> Iterator[PayoutLine]:
        return itertools.starmap(self._line, zip(self._items, self._periods))


# A statement's flows, in the order they take `earned` to `paid`: their sum is `paid`.
STATEMENT_FLOWS = ("earned", "later", "awaiting", "earlier", "held", "released", "drawn",
                   "recovered", "advanced", "advance_recovered", "carry", "rounding", "adjusted")


@record
class Statement:
    """One payee's pay period. `earned` is every earning line dated in the pay period (the one
    meaning of "earned" everywhere: caps, unmet conditions and clawbacks included, `capped` and
    `clawed_back` saying how much of it they are); the other flows (`STATEMENT_FLOWS`, each
    with the sign it has on pay) take it to `paid`."""

    payee: str
    pay_period: str
    start: dt.date
    end: dt.date
    earned: Decimal
    capped: Decimal  # of `earned`: cap and unmet-condition lines (negative)
    clawed_back: Decimal  # of `earned`: clawback lines (negative)
    held: Decimal  # holdbacks (negative)
    released: Decimal  # holdbacks released (positive)
    drawn: Decimal  # draws (positive)
    recovered: Decimal  # draw recoveries (negative)
    paid: Decimal
    draw_balance: Decimal  # draw still owed after this pay period
    carried: Decimal = Decimal(0)  # negative pay carried forward after this pay period
    later: Decimal = Decimal(0)  # of `earned`, payable in a later pay period (negative)
    awaiting: Decimal = Decimal(0)  # of `earned`, still waiting for money at the run's end
    earlier: Decimal = Decimal(0)  # earned in an earlier pay period, payable now (positive)
    carry: Decimal = Decimal(0)  # carried forward (positive) or recovered (negative) lines
    rounding: Decimal = Decimal(0)  # earning lines or the statement rounded to the cent
    adjusted: Decimal = Decimal(0)  # prior-period adjustments and their carried lines (ledger)
    advanced: Decimal = Decimal(0)  # advances paid (positive)
    advance_recovered: Decimal = Decimal(0)  # advances recovered (negative)
    advance_balance: Decimal = Decimal(0)  # advances still owed after this pay period
    # The pay period's base salary and target incentive (the plan's compensation block), each
    # rounded once to the minor unit: shown beside pay, never part of it (payroll pays the
    # base salary; the target is what the plan's rules aim to pay).
    base_salary: Decimal = Decimal(0)
    target_incentive: Decimal = Decimal(0)
