"""What the run keeps per deal and per credit line: the compact forms still read as before."""

from __future__ import annotations

import datetime as dt
import pickle
import sys
from decimal import Decimal

from incentive_dsl.data.records import Event
from incentive_dsl.eval.context import Deal, Deals, EventIndex, Fx
from incentive_dsl.eval.measures import CreditSeries
from incentive_dsl.eval.records import CreditLine


def _event(eid, deal, day, kind, **kw):
    return Event(id=eid, deal=deal, date=dt.date(2027, 1, day), kind=kind, **kw)


def test_a_deal_reads_its_first_cancellation_from_the_index():
    events = (_event("E1", "D1", 1, "booked", amount=Decimal(10), owner="ana"),
              _event("E2", "D1", 2, "cancelled"),
              _event("E3", "D1", 3, "cancelled"),
              _event("E4", "D2", 4, "cancelled"),
              _event("E5", "D3", 5, "booked", amount=Decimal(7), owner="bob"),
              _event("E6", "D4", 6, "stage", subject="proposal"))
    index = EventIndex(tuple(sorted(events, key=Event.sort_key)))
    deals = Deals(index, Fx((), "USD"))
    assert list(deals.made) == ["D1", "D3", "D2"]  # bookings first, then cancellations
    assert deals.get("D1").cancelled.id == "E2"  # the first, not the last
    assert deals.get("D2").cancelled.id == "E4" and deals.get("D2").booked is None
    assert deals.get("D3").cancelled is None and deals.get("D4").cancelled is None
    other = deals.get("D1").copy(Decimal(3))
    assert (other.id, other.booked.id, other.cancelled.id, other.amount) == \
        ("D1", "E1", "E2", Decimal(3))
    again = pickle.loads(pickle.dumps(deals.get("D1")))
    assert (again.id, again.cancelled.id, again.amount) == ("D1", "E2", Decimal(10))


def test_a_deal_takes_no_more_than_four_slots():
    # (five would put each of a run's deals in the allocator's next size class)
    assert len(Deal.__slots__) == 4 and not hasattr(Deal("D1", None), "__dict__")
    assert sys.getsizeof(Deal("D1", None)) <= 64


def _line(seq: int, day: int, amount: str) -> CreditLine:
    return CreditLine(id=f"c:E{seq}:ana:owner", credit="c", payee="ana", deal=None,
                      event=f"E{seq}", date=dt.date(2027, 1, day), amount=Decimal(amount),
                      kind="owner", trace=None)


def test_a_series_numbers_lines_in_four_bytes_and_widens_past_them():
    series = CreditSeries()
    series.extend([3, 5], [_line(3, 1, "1.50"), _line(5, 2, "2.25")])
    assert series.seqs.itemsize == 4 and list(series.seqs) == [3, 5]
    big = 2 ** 31 + 7
    series.extend([big], [_line(big, 3, "1")])
    assert list(series.seqs) == [3, 5, big]
    assert series.totals == [Decimal("1.50"), Decimal("3.75"), Decimal("4.75")]
    assert series.total(dt.date(2027, 1, 2), dt.date(2027, 1, 3), 5) == Decimal("2.25")
    assert series.total(dt.date(2027, 1, 1), dt.date(2027, 1, 3), big) == Decimal("4.75")
