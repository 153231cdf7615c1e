"""Events in processing order (records.in_processing_order) are sorted by `Event.sort_key`,
stably: it sorts by date, then each day by keys made in C, and must give that same order."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from incentive_dsl.data.records import EVENT_KINDS, Event, in_processing_order

events = st.lists(st.builds(
    lambda eid, deal, day, kind: Event(id=eid, deal=deal, date=dt.date(2027, 1, day), kind=kind),
    st.sampled_from(["E1", "E2", "E10"]), st.sampled_from(["", "D1", "D2"]),
    st.integers(1, 3), st.sampled_from(EVENT_KINDS)), max_size=40)


@settings(max_examples=200, deadline=None)
@given(events=events)
def test_processing_order_is_a_stable_sort_by_sort_key(events):
    ordered = in_processing_order(events)
    expected = sorted(events, key=Event.sort_key)
    assert len(ordered) == len(expected)
    assert all(a is b for a, b in zip(ordered, expected))  # equal events kept in input order
