"""Time loading a credit-heavy dataset (written by gen_credit.py): `load_dataset` with every
check, against the hand-written reader of baseline_credit.py (`read`, no checks). Each load is a
fresh process; the two alternate for --rounds rounds, and the CPU-time medians, their ratio
(issue 14 asks for at most 2x) and each side's largest peak memory are reported. --against
DIR also times `load_dataset` of another checkout (e.g. `git worktree add DIR REV`), in the same
rounds, for a before/after comparison on a machine whose speed drifts.

    PYTHONPATH=. python bench/load_bench.py /tmp/incentive-bench/credit-100k --rounds 5
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def worker(kind: str, directory: str) -> dict:
    if kind == "reader":
        sys.path.insert(0, HERE)
        from baseline_credit import read

        c0 = time.process_time()
        read(directory)
        return {"cpu_s": time.process_time() - c0, "peak_rss_mb": _maxrss_mb()}
    from incentive_dsl import api
    from incentive_dsl.data.loaders import load_dataset

    plan = api.load_plan(os.path.join(HERE, "credit_heavy.plan")).plan
    c0 = time.process_time()
    dataset, diags = load_dataset(*(os.path.join(directory, f"{name}.csv")
                                    for name in ("events", "roster", "quotas")), plan=plan)
    return {"cpu_s": time.process_time() - c0, "peak_rss_mb": _maxrss_mb(),
            "events": len(dataset.events), "diagnostics": len(diags)}


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(kind: str, directory: str, checkout: str) -> dict:
    env = {**os.environ, "PYTHONPATH": checkout}
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--worker", kind,
                          directory], env=env, check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("directory", help="a folder written by gen_credit.py")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--against", help="another checkout whose load_dataset is timed too")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.directory)))
        return 0
    sides = {"load_dataset": ROOT, "reader": ROOT}
    if args.against:
        sides = {"load_dataset (--against)": os.path.abspath(args.against), **sides}
    results: dict[str, list[dict]] = {name: [] for name in sides}
    for _ in range(args.rounds):
        for name, checkout in sides.items():
            results[name].append(run("reader" if name == "reader" else "loader",
                                     args.directory, checkout))
    reader = statistics.median(r["cpu_s"] for r in results["reader"])
    for name, runs in results.items():
        cpu = statistics.median(r["cpu_s"] for r in runs)
        each = " / ".join(f"{r['cpu_s']:.2f}" for r in runs)
        print(f"{name:26} CPU {each} s, median "
              f"{cpu:.2f} s ({cpu / reader:.2f}x the reader), peak "
              f"{max(r['peak_rss_mb'] for r in runs):,.0f} MB")
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
