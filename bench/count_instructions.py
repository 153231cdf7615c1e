"""Instructions per evaluation of bench/credit_heavy.plan, counted by valgrind's callgrind: a
count that does not depend on the machine's load, for comparing two versions of the
interpreter on a busy machine. Two processes read the history and evaluate the plan once and
three times; half their difference is one evaluation, without the start and the reading.
`--baseline` also counts bench/baseline_credit.py's evaluation of the same history (from the
same in-memory Dataset, as run_bench.py times it) and prints the ratio: the evaluation goal
of issue 14 measured without the machine's load.

    python bench/gen_credit.py /tmp/credit-5k --deals 5000 --reps 50 --seed 11
    PYTHONPATH=. python bench/count_instructions.py /tmp/credit-5k
    PYTHONPATH=. python bench/count_instructions.py /tmp/credit-5k --baseline

Needs valgrind on the PATH; each process runs about 50 times slower under it (about a minute
for 5,000 deals).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def evaluate(directory: str, times: int, who: str) -> None:
    sys.path.insert(0, HERE)
    import csvdata

    dataset = csvdata.read_dataset(directory)
    if who == "baseline":
        from baseline_credit import payouts
        for _ in range(times):
            payouts(dataset)
        return
    from check_baseline import load_reference_plan
    from incentive_dsl.eval.run import evaluate as run

    plan = load_reference_plan("credit")
    for _ in range(times):
        result = run(plan, dataset)
        del result  # (nothing kept between runs)


def collected(directory: str, times: int, who: str) -> int:
    """The instructions callgrind counts for a process that evaluates `times` times."""
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
         os.path.abspath(__file__), "--worker", who, directory, str(times)],
        capture_output=True, text=True, check=True)
    return int(re.search(r"Collected : (\d+)", done.stderr).group(1))


def per_evaluation(directory: str, who: str) -> int:
    return (collected(directory, 3, who) - collected(directory, 1, who)) // 2


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("directory", help="a gen_credit.py history")
    ap.add_argument("--baseline", action="store_true",
                    help="also count baseline_credit.py's evaluation, and the ratio")
    ap.add_argument("--worker", choices=("interpreter", "baseline"), help=argparse.SUPPRESS)
    ap.add_argument("times", nargs="?", type=int, default=1, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        evaluate(args.directory, args.times, args.worker)
        return 0
    mine = per_evaluation(args.directory, "interpreter")
    print(f"{mine / 1e6:,.0f} M instructions per evaluation ({args.directory})")
    if args.baseline:
        base = per_evaluation(args.directory, "baseline")
        print(f"{base / 1e6:,.0f} M instructions per evaluation by the baseline: "
              f"the interpreter {mine / base:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
