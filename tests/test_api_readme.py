"""The Python API as README.md shows it: a caller's mistakes (a mistyped period) come back as
errors that say what is wrong, not as an AttributeError deep inside a run or as a silent
'everything'."""

import pytest

from incentive_dsl import api
from shipped import ROOT


def test_a_mistyped_period_raises_and_says_why():
    plan = api.load_plan(str(ROOT / "plans" / "enterprise_ae.plan")).plan
    with pytest.raises(api.NotAPeriod, match="write it in capitals, 2027-Q1"):
        api.window(plan, "2027-q1")
    with pytest.raises(api.NotAPeriod, match=r"'2027-Q5' is not a period \(e.g. 2027-Q1"):
        api.window([plan], "2027-Q5")
