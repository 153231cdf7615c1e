"""Benchmark: `incentive check` on 100 generated plan files of about 200 lines each.

    PYTHONPATH=. python bench/check_bench.py                 # the issue's figure (target < 2 s)
    PYTHONPATH=. python bench/check_bench.py --reps 9        # more repetitions
    PYTHONPATH=. python bench/check_bench.py --profile       # + where the time goes (cProfile)
    PYTHONPATH=. python bench/check_bench.py --files 300 --lines 400 --json out.json

The plans come from bench/gen_plans.py (seeded, deterministic; --seed) and are written to a
temporary directory (or --dir). Three things are timed, each --reps times (default 7), and
reported as median, min and max of wall-clock time, with the median CPU time next to it (CPU
time is steadier than wall time on a shared machine):

- end to end: `python -m incentive_dsl.cli check DIR` in a subprocess, as a user runs it
  (interpreter start-up, imports, building the parser, reading, parsing, checking, printing);
- start-up alone: the same command on one tiny plan file, so the fixed cost can be told from
  the cost per file;
- in process: `api.check_paths([DIR])` in this process once the parser is built, split into
  reading + parsing (`parse_path` per file) and checking (`check_trees`).

Before timing, the run checks that every generated file parses and checks without errors (the
figure is for real work, not for files rejected early). With --profile, cProfile runs over one
end-to-end check in process (imports and parser construction included, in a fresh
interpreter) and prints the top 25 functions by cumulative time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for p in (ROOT, HERE):
    if p not in sys.path:
        sys.path.insert(0, p)

import gen_plans  # noqa: E402

TINY_PLAN = '''plan "Tiny"
  currency USD
  effective 2027-01-01 to 2027-12-31

credit bookings "Bookings"
  on deal booked

commission core "Core"
  on bookings
  rate 8%

example "One deal"
  payee ana role AE from 2027-01-01
  deal D1 booked 2027-02-10 by ana amount 1,000 USD
  expect core for ana in 2027-Q1 is 80 USD
'''

PROFILE_SCRIPT = """
import cProfile, pstats, sys, io
profiler = cProfile.Profile()
profiler.enable()
from incentive_dsl import api
result = api.check_paths([sys.argv[1]])
profiler.disable()
assert result.ok, [d.message for d in result.diagnostics if d.is_error][:5]
for order, count in (("cumulative", int(sys.argv[2])), ("tottime", 15)):
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(count)
    print(f"--- by {order} time, top {count}")
    print(out.getvalue())
"""


def env() -> dict[str, str]:
    e = dict(os.environ)
    e["PYTHONPATH"] = ROOT + (os.pathsep + e["PYTHONPATH"] if e.get("PYTHONPATH") else "")
    return e


def run_cli(target: str) -> tuple[float, float, int, str]:
    """(wall seconds, CPU seconds of the child, exit code, last output line) of one
    `python -m incentive_dsl.cli check TARGET`."""
    before = os.times()
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "incentive_dsl.cli", "check", target],
                          cwd=ROOT, env=env(), capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = os.times()
    cpu = (after.children_user - before.children_user) + \
        (after.children_system - before.children_system)
    last = (proc.stdout.strip().splitlines() or proc.stderr.strip().splitlines() or [""])[-1]
    return wall, cpu, proc.returncode, last


def timed(fn, reps: int) -> tuple[list[float], list[float], object]:
    walls, cpus, result = [], [], None
    for _ in range(reps):
        c0, t0 = time.process_time(), time.perf_counter()
        result = fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return walls, cpus, result


def summary(walls: list[float], cpus: list[float]) -> dict[str, float]:
    return {"median": statistics.median(walls), "min": min(walls), "max": max(walls),
            "cpu_median": statistics.median(cpus)}


def show(label: str, s: dict[str, float]) -> str:
    return (f"{label:<34} median {s['median']:6.3f} s   min {s['min']:6.3f}   "
            f"max {s['max']:6.3f}   (CPU median {s['cpu_median']:6.3f} s)")


def commit() -> str:
    """The commit measured, with '+changes' when the working tree differs from it."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                              capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "incentive_dsl",
                                "grammar"], cwd=ROOT, capture_output=True, text=True).stdout
        return (head or "unknown") + ("+changes" if dirty.strip() else "")
    except OSError:
        return "unknown"


def machine() -> str:
    cpus = os.cpu_count()
    try:
        load = "load %.2f %.2f %.2f" % os.getloadavg()
    except OSError:
        load = "load n/a"
    return (f"{platform.python_implementation()} {platform.python_version()} on "
            f"{platform.machine()}, {cpus} CPU(s), {load}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--files", type=int, default=100)
    p.add_argument("--lines", type=int, default=200)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--reps", type=int, default=7)
    p.add_argument("--dir", help="write the plans here (default: a temporary directory)")
    p.add_argument("--profile", action="store_true", help="also profile one check (cProfile)")
    p.add_argument("--top", type=int, default=25, help="functions shown by --profile")
    p.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = p.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        plan_dir = args.dir or os.path.join(tmp, "plans")
        paths = gen_plans.generate(plan_dir, args.files, args.lines, args.seed)
        lines = sum(open(x, encoding="utf-8").read().count("\n") for x in paths)
        tiny = os.path.join(tmp, "tiny.plan")
        with open(tiny, "w", encoding="utf-8") as f:
            f.write(TINY_PLAN)
        print(f"incentive check benchmark: {len(paths)} files, {lines} lines "
              f"({lines / len(paths):.0f} per file), seed {args.seed}, {args.reps} repetitions")
        print(f"machine: {machine()}; commit {commit()}")

        # In process first: makes sure the plans are clean, builds the parser.
        from incentive_dsl import api
        from incentive_dsl.check import check_trees
        from incentive_dsl.syntax import parse_path
        from incentive_dsl.syntax.parser import _grammar

        t0 = time.perf_counter()
        _grammar()
        build = time.perf_counter() - t0
        first = api.check_paths([plan_dir])
        errors = [d for d in first.diagnostics if d.is_error]
        warnings = [d for d in first.diagnostics if not d.is_error]
        if errors or len(first.plans) != len(paths):
            for d in errors[:10]:
                print(api.render(d, first.sources), file=sys.stderr)
            print(f"the generated plans have {len(errors)} error(s): fix bench/gen_plans.py",
                  file=sys.stderr)
            return 1
        print(f"check result: {len(first.plans)} plans, 0 errors, {len(warnings)} warnings")

        cli_walls, cli_cpus = [], []
        for _ in range(args.reps):
            wall, cpu, code, last = run_cli(plan_dir)
            if code != 0:
                print(f"incentive check exited {code}: {last}", file=sys.stderr)
                return 1
            cli_walls.append(wall)
            cli_cpus.append(cpu)
        start_walls, start_cpus = [], []
        for _ in range(args.reps):
            wall, cpu, code, _ = run_cli(tiny)
            start_walls.append(wall)
            start_cpus.append(cpu)

        files = api.discover([plan_dir])
        in_walls, in_cpus, _ = timed(lambda: api.check_paths([plan_dir]), args.reps)
        parse_walls, parse_cpus, parsed = timed(lambda: [parse_path(f) for f in files], args.reps)
        pairs = [(r.tree, r.source) for r in parsed]
        check_walls, check_cpus, _ = timed(lambda: check_trees(pairs), args.reps)

        figures = {
            "files": len(paths), "lines": lines, "seed": args.seed, "reps": args.reps,
            "machine": machine(), "commit": commit(),
            "cli_end_to_end": summary(cli_walls, cli_cpus),
            "cli_startup_one_tiny_file": summary(start_walls, start_cpus),
            "in_process_check_paths": summary(in_walls, in_cpus),
            "in_process_read_and_parse": summary(parse_walls, parse_cpus),
            "in_process_check_trees": summary(check_walls, check_cpus),
            "parser_build_once": build,
        }
        print()
        print(show("incentive check DIR (subprocess)", figures["cli_end_to_end"]))
        print(show("  start-up: check one tiny file", figures["cli_startup_one_tiny_file"]))
        print(show("api.check_paths (in process)", figures["in_process_check_paths"]))
        print(show("  reading + parsing", figures["in_process_read_and_parse"]))
        print(show("  checking (check_trees)", figures["in_process_check_trees"]))
        print(f"{'  building the parser (once)':<34} {build:6.3f} s")
        median = figures["cli_end_to_end"]["median"]
        print()
        print(f"end to end median {median:.2f} s: {'under' if median < 2 else 'OVER'} the 2 s "
              "target")

        if args.profile:
            out = subprocess.run([sys.executable, "-c", PROFILE_SCRIPT, plan_dir, str(args.top)],
                                 cwd=ROOT, env=env(), capture_output=True, text=True)
            print()
            print("cProfile of one in-process check in a fresh interpreter (imports and parser "
                  "build, or loading it from the cache, included):")
            print(out.stdout or out.stderr)

        if args.json:
            with open(args.json, "w", encoding="utf-8") as f:
                json.dump(figures, f, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
