"""Time `incentive check` on plans that give thousands of diagnostics (issue 13: rendering and
reporting them must be linear in their number).

    python bench/diagnostics_bench.py [--duplicates 16000] [--quota-lines 2000]
    PYTHONPATH=/abs/path/of/old/checkout python bench/diagnostics_bench.py   # the code before

Two generated plans, each checked once in a fresh process: the flat-rate mechanics plan
followed by N copies of one measure (N-1 E-DUPLICATE errors, each shown with the first
definition), and the same plan with a quota of M equal lines (each overlaps the ones before).
Prints the wall-clock and CPU seconds and the number of errors of each (CPU time is the
figure to compare on a shared machine).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASE = (ROOT / "tests" / "mechanics" / "flat_rate.plan").read_text("utf-8")


def timed_check(path: Path) -> tuple[float, float, int]:
    """Wall-clock and CPU seconds of the check, and its number of errors."""
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "incentive_dsl.cli", "check", str(path)],
                          capture_output=True, text=True, env=os.environ.copy(),
                          cwd=path.parent)  # not the checkout: PYTHONPATH chooses the code
    took = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    used = after.ru_utime - cpu.ru_utime + after.ru_stime - cpu.ru_stime
    return took, used, (done.stdout + done.stderr).count("error[")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--duplicates", type=int, default=16000)
    ap.add_argument("--quota-lines", type=int, default=2000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        dup = Path(tmp) / "duplicates.plan"
        dup.write_text(BASE + "\nmeasure m = bookings\n" * args.duplicates, "utf-8")
        quota = Path(tmp) / "quota_lines.plan"
        quota.write_text(BASE + "\nquota bookings\n" + "  250,000 USD per quarter\n"
                         * args.quota_lines, "utf-8")
        for name, path in (("duplicate measures", dup), ("equal quota lines", quota)):
            took, used, count = timed_check(path)
            print(f"{name}: {took:.1f} s wall, {used:.1f} s CPU, {count:,} errors")


if __name__ == "__main__":
    main()
