"""Shared test settings: hypothesis profiles.

`ci` (HYPOTHESIS_PROFILE=ci, set by .ci/run) is bounded and derandomized, so a CI run is
reproducible: the same commit gives the same examples. `dev` (the default) draws new random
examples on every run, which is how new bugs are found locally.
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=150, deadline=None, derandomize=True,
                          database=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=60, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
