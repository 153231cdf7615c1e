"""Shared test settings: hypothesis profiles.

`ci` (HYPOTHESIS_PROFILE=ci, set by .ci/run) is bounded and derandomized, so a CI run is
reproducible: the same commit gives the same examples. `dev` (the default) draws new random
examples on every run, which is how new bugs are found locally. `deep` draws 20 times as
many where a test does not set its own number, for a long hunt (`HYPOTHESIS_PROFILE=deep python
-m pytest -q`: the fourteen files with property tests took 19 minutes on a 2-core machine); a
failure is kept in `.hypothesis/` and replayed first by the next run of any profile but `ci`.
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=150, deadline=None, derandomize=True,
                          database=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=60, deadline=None)
settings.register_profile("deep", max_examples=1200, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
