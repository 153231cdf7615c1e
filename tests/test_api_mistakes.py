"""A program's mistakes in calling the Python API come back as errors that name the mistake
and its fix, raised at the API, not as a TypeError or AttributeError from deep inside a run,
and never as a silently wrong answer."""

from pathlib import Path

import pytest

from incentive_dsl import api
from shipped import ROOT

PLAN = str(ROOT / "plans" / "enterprise_ae.plan")


@pytest.mark.parametrize("one", [PLAN, Path(PLAN)])
@pytest.mark.parametrize("call", [api.discover, api.check_paths, api.run_examples])
def test_one_path_given_where_a_list_is_wanted_is_refused(call, one):
    # Iterated letter by letter, the path's '/' would check every plan file on the disk.
    with pytest.raises(TypeError, match=r"a list of paths, not one path: write \['/"):
        call(one)


def test_a_list_of_one_path_is_checked():
    assert api.check_paths([PLAN]).ok and len(api.check_paths([PLAN]).plans) == 1
