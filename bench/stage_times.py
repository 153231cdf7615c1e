"""CPU time of each stage of one evaluation of bench/credit_heavy.plan on a credit-heavy
history (written by gen_credit.py; run_bench.py caches them in /tmp/incentive-bench): credits,
the commission (and, inside it, rounding the split shares as a whole), the SPIFF, the clawback,
the earnings stage in all, payouts and statements, and the whole `evaluate`. The data is read
once; the plan is evaluated --runs times and each figure is its minimum over the runs.

    PYTHONPATH=. python bench/stage_times.py /tmp/incentive-bench/credit-100k --runs 3

The stages are timed by wrapping their methods in this process only (the interpreter is not
changed); the wrapped methods add a few microseconds per call, not per line.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import csvdata  # noqa: E402
from check_baseline import load_reference_plan  # noqa: E402
from incentive_dsl.eval import credits, earnings, payouts  # noqa: E402
from incentive_dsl.eval.run import evaluate  # noqa: E402

STAGES = (  # (label, class, method), in the order they are reported
    ("credits", credits.CreditStage, "run"),
    ("commission", earnings.EarningStage, "commission"),
    ("split-share rounding", earnings.EarningStage, "_round_rated"),
    ("spiff", earnings.EarningStage, "spiff"),
    ("clawback", earnings.EarningStage, "clawback"),
    ("earnings in all", earnings.EarningStage, "run"),
    ("payouts and statements", payouts.PayoutStage, "run"),
)


def _timed(times: dict[str, float], label: str, method):
    def wrapper(*args, **kwargs):
        start = time.process_time()
        try:
            return method(*args, **kwargs)
        finally:
            times[label] = times.get(label, 0.0) + time.process_time() - start
    return wrapper


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("directory", help="a gen_credit.py history")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args(argv)
    plan = load_reference_plan("credit")
    dataset = csvdata.read_dataset(args.directory)
    times: dict[str, float] = {}
    for label, cls, name in STAGES:
        setattr(cls, name, _timed(times, label, getattr(cls, name)))
    best: dict[str, float] = {}
    for _ in range(args.runs):
        times.clear()
        start = time.process_time()
        result = evaluate(plan, dataset)
        times["evaluate"] = time.process_time() - start
        del result
        for label, value in times.items():
            best[label] = min(best.get(label, value), value)
    print(f"{args.directory}, minimum of {args.runs} run(s), CPU seconds")
    for label in [s[0] for s in STAGES] + ["evaluate"]:
        print(f"  {label:24} {best.get(label, 0.0):8.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
