"""Fuzzing the command line: no input gives an internal error or hangs.

Plans, data files (CSV and JSON Lines), a mapping (TOML) and command-line arguments, each a
shipped input changed by a few mutations aimed at the limits (tests/fuzzing.py), are run
through `incentive` in-process. Every one must end with exit code 0, 1 or 2 within the time
limit: bad input is a diagnostic, never exit 3 or a traceback. About 1,500 inputs per
run; bench/fuzz.py runs a hundred thousand and counts the outcomes.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fuzzing as F

SECONDS = 10  # per input; the slowest seen take well under one


@pytest.fixture(scope="module")
def ws():
    workspace = F.Workspace()
    yield workspace
    workspace.close()


def _fuzz(ws: F.Workspace, kind: str, seed: int) -> None:
    argv = F.CASES[kind](ws, random.Random(seed))
    code, _ = F.outcome(argv, ws, SECONDS)
    assert code in (0, 1, 2), (argv, code)


seeds = st.integers(0, 2**32 - 1)


@settings(max_examples=600)
@given(seed=seeds)
def test_fuzzed_plans(ws, seed):
    _fuzz(ws, "plan", seed)


@settings(max_examples=300)
@given(seed=seeds)
def test_fuzzed_data_files(ws, seed):
    _fuzz(ws, "data", seed)


@settings(max_examples=300)
@given(seed=seeds)
def test_fuzzed_mappings(ws, seed):
    _fuzz(ws, "mapping", seed)


@settings(max_examples=300)
@given(seed=seeds)
def test_fuzzed_arguments(ws, seed):
    _fuzz(ws, "args", seed)


def test_the_fuzzer_reaches_the_limits(ws):
    """The mutations do reach the edges: a few hundred inputs give the limit diagnostics
    (otherwise the properties above would pass on inputs that never come near them)."""
    rng = random.Random(7)
    seen: set[str] = set()
    # Up to 1000 inputs of each kind, stopping once its codes are seen: which inputs a seed
    # gives depends on the set of seed files, which grows with tests/mechanics/, and about 1
    # plan mutation in 80 reaches E-RANGE.
    for kind, codes in (("plan", {"E-RANGE", "W-BIDI", "E-SYNTAX"}), ("data", {"D-AMOUNT"}),
                        ("mapping", {"D-MAP"})):
        for _ in range(1000):
            _, err = F.outcome(F.CASES[kind](ws, rng), ws, SECONDS)
            seen |= set(F.CODE.findall(err))
            if codes <= seen:
                break
    assert {"E-RANGE", "W-BIDI", "D-AMOUNT", "D-MAP", "E-SYNTAX"} <= seen, sorted(seen)
