"""The checks of events read what they need from one pass over them (validate.EventFacts):
each still finds what it found looking at every event itself."""

from __future__ import annotations

from incentive_dsl.data.loaders import load_dataset
from incentive_dsl.diagnostics import Severity

HEADER = "event_id,deal_id,date,kind,amount,currency,owner,splits\n"
ROSTER = ("payee_id,role,start,end\n"
          "ana,AE,2027-01-01,\n"
          "bob,SE,2027-01-01,\n"
          "sam,SDR,2027-03-01,2027-06-30\n")


def _load(tmp_path, events: str):
    (tmp_path / "events.csv").write_text(HEADER + events, encoding="utf-8")
    (tmp_path / "roster.csv").write_text(ROSTER, encoding="utf-8")
    return load_dataset(str(tmp_path / "events.csv"), str(tmp_path / "roster.csv"))


def test_a_split_payee_not_employed_is_found_when_the_owner_is(tmp_path):
    dataset, diags = _load(tmp_path, "E1,D1,2027-02-10,booked,100,USD,ana,ana:50;sam:50\n"
                                     "E2,D2,2027-04-01,booked,100,USD,bob,bob:50;sam:50\n"
                                     "E3,D2,2027-08-01,invoiced,100,USD,sam,\n"
                                     "E4,D3,2027-12-01,booked,100,USD,ana,\n")
    # sam's split of E1 (before they start), not E2 (employed), nor the invoice (not an act)
    assert [(d.code, d.span.line, d.severity) for d in diags] == [
        ("D-PAYEE", 2, Severity.WARNING)]
    assert diags[0].message.startswith("'sam' is not employed on 2027-02-10")
    assert len(dataset.events) == 4


def test_an_orphan_is_found_and_its_deal_suggested_among_every_booking(tmp_path):
    dataset, diags = _load(tmp_path, "E1,D1,2027-02-10,booked,100,USD,ana,\n"
                                     "E2,DEAL-77,2027-02-11,booked,100,USD,ana,\n"
                                     "E3,D1,2027-02-12,collected,100,USD,,\n"
                                     "E4,DEAL-7Z,2027-03-01,cancelled,,,,\n"
                                     "E5,D1,2027-01-05,cancelled,,,,\n")
    assert [(d.code, d.span.line) for d in diags] == [("D-ORPHAN", 5), ("D-ORPHAN", 6)]
    assert diags[0].hint == "did you mean 'DEAL-77'?"  # a deal with no other event
    assert "before it is booked on 2027-02-10" in diags[1].message
    assert [e.id for e in dataset.events] == ["E1", "E2", "E3"]


def test_a_deal_booked_twice_is_reported_at_its_second_booking(tmp_path):
    _, diags = _load(tmp_path, "E1,D1,2027-02-10,booked,100,USD,ana,\n"
                               "E2,D1,2027-03-10,booked,100,USD,bob,\n"
                               "E3,D1,2027-04-10,cancelled,,,,\n")
    assert [(d.code, d.span.line) for d in diags] == [("D-DUPLICATE", 3)]
    assert diags[0].message == "deal 'D1' is booked twice (first on 2027-02-10)"
