"""Benchmark: the whole CRM sample (plans/crm/: 8,800 opportunities, 41 payees) through its
mapping, evaluated by plans/crm/field_sales.plan.

    PYTHONPATH=. python bench/crm_bench.py             # 7 runs, medians
    PYTHONPATH=. python bench/crm_bench.py --reps 11 --json crm.json

Each run is a fresh process (so nothing is cached between runs: the grammar, the plan, the
export are read again) that times, with wall-clock and CPU time (process_time: steadier on a
shared machine):

    plan      parse and check the plan file
    read      read the export through the mapping (api.load_mapping, with the plan)
    evaluate  evaluate the plan on the dataset (api.run: credits, earnings, payouts, traces)
    total     the three together: what `incentive run --map` spends before printing

and checks the result (no errors; commission bases reconcile with the won close values). The
medians over the runs are printed; the target for the whole sample is under 2 s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PLAN = "plans/crm/field_sales.plan"
MAPPING = "plans/crm/crm.toml"
STEPS = ("plan", "read", "evaluate", "total")


def one_run() -> dict:
    """One measured run, in this process (the --worker side)."""
    t0, c0 = time.perf_counter(), time.process_time()
    from incentive_dsl import api

    loaded = api.load_plan(PLAN)
    t1, c1 = time.perf_counter(), time.process_time()
    dataset, diags = api.load_mapping(MAPPING, plan=loaded.plan)
    t2, c2 = time.perf_counter(), time.process_time()
    result = api.run(loaded.versions, dataset)
    t3, c3 = time.perf_counter(), time.process_time()
    assert not any(d.is_error for d in diags) and result.ok
    won = sum(e.amount for e in dataset.events if e.kind == "booked")
    credits = {c.id: c.amount for c in result.credits}
    bases = sum(credits[e.trace.inputs[0]] for e in result.earnings
                if e.component == "core" and e.kind == "commission")
    assert bases == won, (bases, won)
    return {"wall": {"plan": t1 - t0, "read": t2 - t1, "evaluate": t3 - t2, "total": t3 - t0},
            "cpu": {"plan": c1 - c0, "read": c2 - c1, "evaluate": c3 - c2, "total": c3 - c0},
            "events": len(dataset.events), "payees": len(dataset.payees),
            "statements": len(result.statements), "earning_lines": len(result.earnings)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=7, help="runs (default 7)")
    parser.add_argument("--json", metavar="FILE", help="also write the numbers as JSON")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    os.chdir(ROOT)
    if args.worker:
        print(json.dumps(one_run()))
        return 0
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    runs = []
    for i in range(args.reps):
        out = subprocess.run([sys.executable, __file__, "--worker"], env=env, check=True,
                             capture_output=True, text=True).stdout
        runs.append(json.loads(out))
        r = runs[-1]
        print(f"run {i + 1}: " + "  ".join(
            f"{s} {r['wall'][s]:.3f}s (cpu {r['cpu'][s]:.3f}s)" for s in STEPS), flush=True)
    first = runs[0]
    print(f"\n{first['events']:,} events, {first['payees']} payees -> {first['statements']} "
          f"statements, {first['earning_lines']:,} earning lines; median of {len(runs)} runs:")
    medians = {kind: {s: statistics.median(r[kind][s] for r in runs) for s in STEPS}
               for kind in ("wall", "cpu")}
    for s in STEPS:
        print(f"  {s:9} {medians['wall'][s]:6.3f} s wall   {medians['cpu'][s]:6.3f} s cpu")
    print(f"  (Python {platform.python_version()}, {platform.machine()}, "
          f"load average {os.getloadavg()[0]:.2f})")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"runs": runs, "median": medians, "load": os.getloadavg()[0],
                       "python": platform.python_version()}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
