"""The shared 'did you mean' matcher (diagnostics.closest), case-sensitive for plan names and
data columns, case-insensitive for ids typed on the command line."""

from incentive_dsl.diagnostics import closest


def test_case_sensitive_matching_is_unchanged():
    assert closest("attainmnt", ["attainment", "bookings"]) == "attainment"
    assert closest("p4", ["p3", "core"]) == "p3"  # one slip in a short name
    assert closest("CORE", ["core", "milestones"]) == "core"  # only the case differs
    assert closest("ABE.X", ["abe.d", "ana.b"]) is None


def test_ignore_case_compares_lower_case_and_answers_as_written():
    assert closest("ABE.X", ["abe.d", "ana.b"], ignore_case=True) == "abe.d"
    assert closest("d0001O27", ["D0001027", "D0002000"], ignore_case=True) == "D0001027"
    assert closest("P4", ["p3", "core"], ignore_case=True) == "p3"
    assert closest("zzz", ["abe.d"], ignore_case=True) is None
