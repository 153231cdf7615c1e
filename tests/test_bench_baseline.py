"""The hand-written baseline (bench/baseline.py) and the interpreter pay the same under
bench/reference.plan, to the cent, per payee and pay period, on small generated histories;
and the generator (bench/gen_data.py) is deterministic and writes files that load cleanly."""

from __future__ import annotations

import hashlib
import os
import sys
from decimal import Decimal

import pytest

BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench")
sys.path.insert(0, BENCH)

import check_baseline  # noqa: E402
import gen_data  # noqa: E402

# Two shapes: a single plan year (every event counts, many commission lines per payee), and
# the benchmark's shape of a history year plus the plan year. The seeds were chosen so that
# both have splits, amendments, SPIFFs and clawbacks inside 2027.
CASES = {
    "plan-year": ["--events", "3000", "--payees", "30", "--seed", "11", "--start", "2027-01-01",
                  "--years", "1", "--activity-share", "0.1"],
    "two-years": ["--events", "3000", "--payees", "40", "--seed", "1"],
}


@pytest.fixture(scope="module", params=sorted(CASES))
def generated(request, tmp_path_factory):
    out = tmp_path_factory.mktemp(request.param)
    gen_data.main([str(out), *CASES[request.param]])
    return str(out)


def test_baseline_matches_interpreter_to_the_cent(generated):
    diffs, info = check_baseline.check(generated, verbose=False)
    assert info["load_diagnostics"] == 0, "generated files should load without diagnostics"
    assert not diffs, "\n".join(f"{p} {m}: interpreter {a}, baseline {b}"
                                for p, m, a, b in diffs[:20])
    kinds = info["earning_kinds"]
    assert kinds.get("commission", 0) > 30 and kinds.get("spiff") and kinds.get("clawback")
    assert info["total_interpreter"] == info["total_baseline"] > Decimal(0)


def test_generator_is_deterministic(tmp_path):
    args = ["--events", "1500", "--payees", "25", "--seed", "5"]
    digests = []
    for run in ("a", "b"):
        gen_data.main([str(tmp_path / run), *args])
        h = hashlib.sha256()
        for name in check_baseline.FILES:
            h.update((tmp_path / run / name).read_bytes())
        digests.append(h.hexdigest())
    assert digests[0] == digests[1]


REPRO = os.path.join(BENCH, "repro")


def test_reproducers_of_fixed_interpreter_issues_pass():
    """bench/repro holds the reproducers of interpreter issues the baseline work found; they
    are fixed and kept as regression checks (bench/README.md, "Interpreter issues found")."""
    import subprocess

    from incentive_dsl import api

    results, checked = api.run_examples([REPRO])
    assert checked.ok and results
    failed = [r for r in results if not r.passed]
    assert not failed, [r.example.name for r in failed]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [os.path.dirname(BENCH), os.environ.get("PYTHONPATH", "")]))
    for script in sorted(f for f in os.listdir(REPRO) if f.endswith(".py")):
        done = subprocess.run([sys.executable, os.path.join(REPRO, script)], env=env,
                              capture_output=True, text=True)
        assert done.returncode == 0, f"{script}: {done.stdout}{done.stderr}"


def test_credit_heavy_baseline_matches_interpreter(tmp_path):
    """The credit-heavy workload (bench/gen_credit.py, bench/credit_heavy.plan): every won deal
    gives credit; bench/baseline_credit.py pays the same to the cent, from the Dataset and from
    its own CSV reader."""
    import baseline_credit
    import gen_credit

    gen_credit.main([str(tmp_path), "--deals", "3000", "--reps", "30", "--seed", "7"])
    diffs, info = check_baseline.check(str(tmp_path), verbose=False, workload="credit")
    assert info["load_diagnostics"] == 0
    assert not diffs, diffs[:20]
    kinds = info["earning_kinds"]
    assert kinds["commission"] > 3000 and kinds["spiff"] and kinds["clawback"]
    assert info["total_interpreter"] == info["total_baseline"] > Decimal(0)
    paid = baseline_credit.run(str(tmp_path), str(tmp_path / "statements.csv"))
    assert sum(paid.values()) == info["total_baseline"]
