"""Benchmark: start-up of `incentive check` on one tiny plan file, in fresh processes.

    PYTHONPATH=. python bench/startup_bench.py             # 9 runs
    PYTHONPATH=. python bench/startup_bench.py --reps 15
    PYTHONPATH=/other/checkout python bench/startup_bench.py   # another version, to compare

Prints the median and minimum wall-clock time and the median CPU time (user + system of the
child; steadier than wall time on a shared machine). Start-up is the interpreter, the imports
and loading the compiled parser (incentive_dsl/syntax/table.py), which every command pays.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

TINY_PLAN = """plan "Tiny"
  currency USD
  effective 2027-01-01 to 2027-12-31

credit bookings "Bookings"
  on deal booked

commission core "Core"
  on bookings
  rate 8%
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=9)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        plan = os.path.join(tmp, "tiny.plan")
        with open(plan, "w", encoding="utf-8") as f:
            f.write(TINY_PLAN)
        walls, cpus = [], []
        for _ in range(args.reps):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "incentive_dsl.cli", "check", plan],
                                  capture_output=True, text=True)
            walls.append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
            if done.returncode != 0:
                sys.exit(done.stderr)
    print(f"incentive check, one tiny plan, {args.reps} runs: wall median "
          f"{statistics.median(walls):.3f} s (min {min(walls):.3f} s), CPU median "
          f"{statistics.median(cpus):.3f} s")


if __name__ == "__main__":
    main()
