"""The shared 'did you mean' matchers: diagnostics.closest, case-sensitive for plan names and
data columns, case-insensitive for ids typed on the command line; diagnostics.closest_id for
deal ids, which only a plausible slip may be taken for."""

from incentive_dsl.diagnostics import closest, closest_id


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


def test_an_id_is_suggested_only_for_a_plausible_typo():
    """closest_id: ids sharing a long prefix are not alike for that (closest would match them)."""
    booked = ["D00000123", "D00000456", "D00000789"]
    assert closest("D00000124x", booked) is not None  # what closest_id must not do
    assert closest_id("D00000124x", booked) is None
    assert closest_id("D00000910", booked) is None  # three characters apart from each
    assert closest_id("D00000132", booked) == "D00000123"  # two characters swapped
    assert closest_id("D0000O123", booked) == "D00000123"  # a letter O for a zero
    assert closest_id("D0000123", booked) == "D00000123"  # a zero dropped
    assert closest_id("D00000193", booked) == "D00000123"  # one replaced: nearer than two
    assert closest_id(" d00000456 ", booked) == "D00000456"  # case and spaces
    assert closest_id("D-1", ["D1", "D77"]) == "D1"
    assert closest_id("ab", ["xy"]) is None  # all of a short id replaced is no typo


def test_no_id_is_guessed_among_several_as_near():
    """Sequential ids are all a character apart: none is suggested for a missing one."""
    assert closest_id("D00000124", ["D00000123", "D00000125"]) is None
    assert closest_id("D00000124", ["D00000123", "D00000457"]) == "D00000123"
    assert closest_id("ANA", ["ana", "Ana"]) is None  # which of the two is meant is unknown


def test_look_alike_characters_make_an_id_nearest():
    """An O for a 0 or an l for a 1 is the id meant, though other ids are a character away."""
    booked = ["D0001027", "D0001127", "D0001227"]
    assert closest_id("D0001O27", booked) == "D0001027"
    assert closest_id("D000l127", booked) == "D0001127"
    assert closest_id("D0001X27", booked) is None  # a character apart from each: no guess
