"""Memory that one evaluation of bench/credit_heavy.plan keeps, measured by tracemalloc: what
`evaluate` allocated and still holds when it returns (its result: credit, earning and payout
lines with what their traces are made from, statements, measures), in all, per credit line,
and by the line of the interpreter that allocated it. Unlike a peak RSS, the figure does not
move with the allocator's fragmentation or the machine.

    PYTHONPATH=. python bench/kept_memory.py /tmp/incentive-bench/credit-100k --top 15

The data is read first (`csvdata.py`, not counted). tracemalloc slows the run about threefold.
"""

from __future__ import annotations

import argparse
import os
import sys
import tracemalloc

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import csvdata  # noqa: E402
import incentive_dsl  # noqa: E402
from check_baseline import load_reference_plan  # noqa: E402
from incentive_dsl.eval.run import evaluate  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("directory", help="a gen_credit.py history")
    ap.add_argument("--top", type=int, default=15, help="allocation sites to list")
    args = ap.parse_args(argv)
    plan = load_reference_plan("credit")
    dataset = csvdata.read_dataset(args.directory)
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    result = evaluate(plan, dataset)
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    sites = after.compare_to(before, "lineno")
    kept = sum(s.size_diff for s in sites)
    lines = len(result.credits)
    print(f"{args.directory}: {kept / 1e6:.1f} MB kept by the result, {lines:,} credit lines, "
          f"{kept / lines:,.0f} bytes per credit line")
    root = os.path.dirname(os.path.dirname(incentive_dsl.__file__)) + os.sep
    for s in sites[:args.top]:
        frame = s.traceback[0]
        print(f"  {s.size_diff / 1e6:6.1f} MB {s.count_diff:9,} blocks  "
              f"{frame.filename.removeprefix(root)}:{frame.lineno}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
