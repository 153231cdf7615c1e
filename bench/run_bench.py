"""Benchmark: the interpreter (incentive_dsl.eval.run.evaluate, full traces kept) against a
hand-written baseline, on one of two workloads: `reference` (bench/baseline.py on
bench/reference.plan, about 3% of the events give credit) and `credit` (bench/baseline_credit.py
on bench/credit_heavy.plan, every closed-won deal gives credit).

    PYTHONPATH=. python bench/run_bench.py                      # 100k and 1M events
    PYTHONPATH=. python bench/run_bench.py --sizes 100k,300k    # other sizes (k/M suffixes)
    PYTHONPATH=. python bench/run_bench.py --with-10m           # adds 10M (hours, ~tens of GB)
    PYTHONPATH=. python bench/run_bench.py --profile            # + cProfile of the interpreter
                                                                #   on the smallest size
    PYTHONPATH=. python bench/run_bench.py --json results.json  # also write the numbers
    PYTHONPATH=. python bench/run_bench.py --rounds 1           # one process each (faster)
    PYTHONPATH=. python bench/run_bench.py --no-gc-pause        # interpreter: pause_gc=False
    PYTHONPATH=. python bench/run_bench.py --workload credit --end-to-end   # 100k and 1M deals

Datasets come from bench/gen_data.py (300 payees, 2026-01-01 + 2 years, seed 7: 2026 is
history, the plan year is 2027), or for `credit` from bench/gen_credit.py (sizes count deals;
one rep per 100 deals, seed 7), and are cached in --cache (default
/tmp/incentive-bench/<size>, credit-<size> for `credit`), reused when their manifest matches. Each measurement runs in its own process, which reads the
files into an in-memory Dataset with bench/csvdata.py (not timed), then times `--reps` runs
(`--reps-large` from 1M events on; both 5 by default) and reports the medians of wall-clock and
CPU time (process_time: steadier than wall time on a shared machine), the CPU time of a full
garbage collection after each run (its result still held) and, for the interpreter, of reading
every trace once; the process's peak memory (ru_maxrss) is reported with and without the
Dataset (measured right after reading it). The two implementations' processes alternate for
`--rounds` rounds (default 3); ratios are the median of the rounds' ratios. The
interpreter and the baseline must agree to the cent on every payee-month (their payouts are
hashed and compared); the loader (load_dataset) is timed once on the smallest size and its
diagnostics counted. A run slower than --timeout seconds (default 1800) is stopped and
reported as such.

With --end-to-end (workload `credit`), each round also times whole processes from the
command line, reading the CSV files and writing statements: `bench/baseline_credit.py DIR
OUT.csv` (its own csv reader and loop) against `incentive run PLAN --data DIR --format csv`
and `--format json` (the full document, every line with its trace); CPU time and peak
memory are the child process's (wait4), and the statements' pay must agree with the
baseline's to the cent.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import hashlib
import io
import json
import os
import platform
import pstats
import resource
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for p in (ROOT, HERE):
    if p not in sys.path:
        sys.path.insert(0, p)

GEN_ARGS = ["--payees", "300", "--start", "2026-01-01", "--years", "2", "--seed", "7"]
DEALS_PER_REP = 100  # workload `credit`: 1M deals, 10,000 reps


def parse_size(text: str) -> int:
    text = text.strip().lower()
    mult = {"k": 1_000, "m": 1_000_000}.get(text[-1], 1)
    return int(float(text[:-1] if text[-1] in "km" else text) * mult)


def label(n: int) -> str:
    return f"{n // 1_000_000}M" if n % 1_000_000 == 0 else f"{n // 1000}k"


def maxrss_mb() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r / 1024 if sys.platform != "darwin" else r / 1024 / 1024


# ------------------------------------------------------------------------------ data


def dataset_dir(cache: str, n: int, workload: str = "reference") -> str:
    """Generate (or reuse) the dataset of about n events (`credit`: n deals)."""
    if workload == "credit":
        return _credit_dir(cache, n)
    out = os.path.join(cache, label(n))
    want = ["--events", str(n), *GEN_ARGS]
    manifest = os.path.join(out, "manifest.json")
    if os.path.exists(manifest):
        with open(manifest) as f:
            m = json.load(f)
        a = m["arguments"]
        have = ["--events", str(a["events"]), "--payees", str(a["payees"]), "--start",
                a["start"], "--years", str(a["years"]), "--seed", str(a["seed"])]
        if have == want and a.get("activity_share") == 0.25 and \
                a.get("fields", "type,product,segment") == "type,product,segment":
            return out
    print(f"generating {label(n)} events into {out} ...", flush=True)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, os.path.join(HERE, "gen_data.py"), out, *want], check=True)
    print(f"  generated in {time.perf_counter() - t0:.1f} s", flush=True)
    return out


def _credit_dir(cache: str, n: int) -> str:
    out = os.path.join(cache, f"credit-{label(n)}")
    want = {"deals": n, "reps": max(1, n // DEALS_PER_REP), "seed": 7}
    manifest = os.path.join(out, "manifest.json")
    if os.path.exists(manifest):
        with open(manifest) as f:
            if json.load(f)["arguments"] == want:
                return out
    print(f"generating {label(n)} deals into {out} ...", flush=True)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, os.path.join(HERE, "gen_credit.py"), out,
                    *(x for k, v in want.items() for x in (f"--{k}", str(v)))], check=True)
    print(f"  generated in {time.perf_counter() - t0:.1f} s", flush=True)
    return out


# ------------------------------------------------------------------------------ worker


def payout_digest(paid: dict) -> tuple[str, int]:
    h = hashlib.sha256()
    rows = sorted((p, m, str(v.quantize(type(v)("0.01")))) for (p, m), v in paid.items() if v)
    for r in rows:
        h.update(repr(r).encode())
    return h.hexdigest()[:16], len(rows)


def worker(impl: str, workload: str, directory: str, reps: int, profile: str | None) -> dict:
    import csvdata
    from check_baseline import WORKLOADS, interpreter_payouts, load_reference_plan
    from incentive_dsl.eval.run import evaluate

    plan = load_reference_plan(workload)
    baseline_payouts = WORKLOADS[workload][1]
    t0 = time.perf_counter()
    dataset = csvdata.read_dataset(directory)
    read_s = time.perf_counter() - t0
    rss_data = maxrss_mb()
    times, cpu, collect, paid, traces = [], [], [], None, None
    for rep in range(reps):
        t0, c0 = time.perf_counter(), time.process_time()
        if impl == "interpreter":
            if profile:
                prof = cProfile.Profile(time.process_time)  # CPU time: the machine is shared
                prof.enable()
            result = evaluate(plan, dataset,
                              pause_gc=os.environ.get("BENCH_PAUSE_GC", "1") == "1")
            if profile:
                prof.disable()
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
            collect.append(_full_collection())
            if not result.ok:
                raise SystemExit("; ".join(d.message for d in result.diagnostics))
            if rep == 0:
                traces = _read_traces(result)
            paid = interpreter_payouts(result)
            info = {"credit_lines": len(result.credits), "earning_lines": len(result.earnings),
                    "payout_lines": len(result.payouts), "statements": len(result.statements)}
            del result
        else:
            paid = baseline_payouts(dataset)
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
            collect.append(_full_collection())
            info = {}
    digest, months = payout_digest(paid)
    out = {"impl": impl, "events": len(dataset.events), "read_s": read_s, "times": times,
           "median_s": statistics.median(times), "cpu_times": cpu,
           "median_cpu_s": statistics.median(cpu), "rss_after_read_mb": rss_data,
           "peak_rss_mb": maxrss_mb(), "digest": digest, "payee_months": months,
           "total_paid": str(sum(paid.values())), "collect_s": statistics.median(collect),
           **info}
    if traces is not None:
        out["read_traces_s"] = traces
    if profile:
        s = io.StringIO()
        st = pstats.Stats(prof, stream=s)
        st.sort_stats("cumulative").print_stats(25)
        st.sort_stats("tottime").print_stats(15)
        with open(profile, "w") as f:
            f.write(s.getvalue())
        out["profile"] = profile
    return out


def _full_collection() -> float:
    """CPU seconds of a full garbage collection right after a run, its result still held:
    the collector's work that a run leaves to the process (most of it is the dataset's)."""
    c0 = time.process_time()
    gc.collect()
    return time.process_time() - c0


def _read_traces(result) -> float:
    """CPU seconds to read every trace of a result (a run writes trace texts when they are
    first read): the cost a reader of all of them pays, e.g. the full JSON output."""
    c0 = time.process_time()
    for line in (*result.credits, *result.earnings, *result.payouts):
        line.trace.because, line.trace.values
    return time.process_time() - c0


def loader_worker(workload: str, directory: str) -> dict:
    from check_baseline import data_files, load_reference_plan
    from incentive_dsl.data.loaders import load_dataset

    plan = load_reference_plan(workload)
    paths = data_files(directory)
    t0, c0 = time.perf_counter(), time.process_time()
    dataset, diags = load_dataset(paths[0], paths[1], quotas=paths[2], fx=paths[3],
                                  territories=paths[4], plan=plan)
    return {"impl": "loader", "events": len(dataset.events),
            "median_s": time.perf_counter() - t0, "median_cpu_s": time.process_time() - c0,
            "diagnostics": len(diags),
            "errors": sum(1 for d in diags if d.is_error), "peak_rss_mb": maxrss_mb()}


def compile_package() -> None:
    """The package's bytecode, as pip writes it when it installs the package: the timed
    command-line runs then start as an installed `incentive` does. Run from a checkout with
    PYTHONDONTWRITEBYTECODE set (as on some machines), each would otherwise compile every
    module from source first (about 0.1 s CPU of a run)."""
    import compileall

    compileall.compile_dir(os.path.join(ROOT, "incentive_dsl"), quiet=1)


def end_to_end(impl: str, workload: str, directory: str, out: str, timeout: float) -> dict:
    """One whole process from the command line, reading the files and writing its output:
    wall time, and the child's CPU time and peak memory."""
    from check_baseline import WORKLOADS

    if impl == "baseline":
        cmd = [sys.executable, os.path.join(HERE, "baseline_credit.py"), directory, out]
    else:
        cmd = [sys.executable, "-m", "incentive_dsl.cli", "run", WORKLOADS[workload][0],
               "--data", directory, "--format", impl.split("-")[1], "--output", out]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [ROOT, HERE, os.environ.get("PYTHONPATH", "")]))
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    timer = threading.Timer(timeout, proc.kill)
    timer.start()
    _, status, usage = os.wait4(proc.pid, 0)
    timer.cancel()
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace").strip()
    proc.stderr.close()
    if proc.returncode != 0:
        return {"impl": impl, "error": err.splitlines()[-1:] or [f"exit {proc.returncode}"]}
    rss = usage.ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)
    return {"impl": impl, "median_s": wall, "median_cpu_s": usage.ru_utime + usage.ru_stime,
            "peak_rss_mb": rss, "output_mb": os.path.getsize(out) / 1e6}


def statement_pay(path: str) -> dict[tuple[str, str], str]:
    """Pay per payee and month from a statement CSV (the CLI's or the baseline's), months
    that pay nothing left out."""
    import csv
    from decimal import Decimal

    with open(path, newline="") as f:
        return {(r["payee"], r["pay_period"]): r["paid"] for r in csv.DictReader(f)
                if Decimal(r["paid"])}


def run_worker(args: list[str], timeout: float) -> dict:
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", *args]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [ROOT, HERE, os.environ.get("PYTHONPATH", "")]))
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"impl": args[0], "timeout_s": timeout}
    if done.returncode != 0:
        return {"impl": args[0], "error": done.stderr.strip().splitlines()[-1:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------------------ main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="100k,1M")
    ap.add_argument("--with-10m", action="store_true", help="also run 10M events")
    ap.add_argument("--reps", type=int, default=5, help="repetitions below 1M events")
    ap.add_argument("--reps-large", type=int, default=5, help="repetitions from 1M events")
    ap.add_argument("--rounds", type=int, default=3,
                    help="alternate baseline and interpreter processes this many times")
    ap.add_argument("--cache", default="/tmp/incentive-bench")
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument("--profile", action="store_true",
                    help="cProfile the interpreter on the smallest size")
    ap.add_argument("--no-loader", action="store_true", help="skip timing load_dataset")
    ap.add_argument("--no-gc-pause", action="store_true",
                    help="run the interpreter with pause_gc=False (the collector left on)")
    ap.add_argument("--workload", choices=("reference", "credit"), default="reference")
    ap.add_argument("--end-to-end", action="store_true",
                    help="(credit) also time whole command-line runs, CSV and JSON output")
    ap.add_argument("--json-up-to", default="100k",
                    help="end to end: JSON output only up to this size (1M deals write ~4 GB)")
    ap.add_argument("--json", help="write the results to this file")
    ap.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.worker:
        impl = args.worker[0]
        if impl == "loader":
            print(json.dumps(loader_worker(args.worker[1], args.worker[2])))
        else:
            profile = args.worker[4] if len(args.worker) > 4 else None
            print(json.dumps(worker(impl, args.worker[1], args.worker[2], int(args.worker[3]),
                                    profile)))
        return 0
    if args.end_to_end and args.workload != "credit":
        ap.error("--end-to-end needs --workload credit (the reference baseline reads no files)")
    if args.end_to_end:
        compile_package()

    if args.no_gc_pause:
        os.environ["BENCH_PAUSE_GC"] = "0"  # read by the workers
    sizes = sorted(parse_size(s) for s in args.sizes.split(","))
    if args.with_10m and 10_000_000 not in sizes:
        sizes.append(10_000_000)
    print(f"python {platform.python_version()} on {platform.machine()}, "
          f"{os.cpu_count()} CPUs; sizes {', '.join(label(n) for n in sizes)}", flush=True)
    results: dict = {"python": platform.python_version(), "machine": platform.machine(),
                     "cpus": os.cpu_count(), "workload": args.workload,
                     "generator": GEN_ARGS if args.workload == "reference" else
                     f"gen_credit.py --deals N --reps N/{DEALS_PER_REP} --seed 7",
                     "commit": _commit(), "load": os.getloadavg(), "sizes": {}}
    print(f"incentive_dsl at {results['commit']}", flush=True)
    for i, n in enumerate(sizes):
        directory = dataset_dir(args.cache, n, args.workload)
        reps = args.reps if n < 1_000_000 else args.reps_large
        row = results["sizes"][label(n)] = {"rounds": []}
        # Rounds alternate the two: a machine that slows down or speeds up between processes
        # moves both sides of a round alike, and the ratio is the median over the rounds.
        for k in range(args.rounds):
            pair = {}
            for impl in ("baseline", "interpreter"):
                print(f"{label(n)}: {impl} x{reps}"
                      f"{f' (round {k + 1} of {args.rounds})' if args.rounds > 1 else ''} ...",
                      flush=True)
                pair[impl] = run_worker([impl, args.workload, directory, str(reps)],
                                        args.timeout)
                print("  " + _summary(pair[impl]), flush=True)
            if args.end_to_end:
                json_too = n <= parse_size(args.json_up_to)
                for impl in ("baseline", "cli-csv", "cli-json")[:3 if json_too else 2]:
                    ext = "json" if impl == "cli-json" else "csv"
                    out = os.path.join(args.cache, f"e2e-{impl}.{ext}")
                    r = pair[f"e2e {impl}"] = end_to_end(impl, args.workload, directory, out,
                                                         args.timeout)
                    if impl != "cli-json" and "error" not in r:
                        r["pay"] = statement_pay(out)
                    elif os.path.exists(out):
                        os.remove(out)  # a JSON document of gigabytes
                    print(f"  end to end, {impl}: " + _summary(r), flush=True)
            row["rounds"].append(pair)
        for impl in ("baseline", "interpreter"):
            row[impl] = _over_rounds([pair[impl] for pair in row["rounds"]])
        if args.end_to_end:
            _end_to_end_report(row)
        if args.profile and i == 0:  # a separate, untimed run: cProfile slows it down
            path = os.path.join(args.cache, f"profile_{label(n)}.txt")
            r = run_worker(["interpreter", args.workload, directory, "1", path], args.timeout)
            row["profile"] = path
            print(f"  profile of one interpreter run under cProfile "
                  f"({r.get('median_cpu_s', 0):.1f} s CPU): {path}", flush=True)
        b, t = row["baseline"], row["interpreter"]
        if "median_s" in b and "median_s" in t:
            pairs = [p for p in row["rounds"] if "median_s" in p["baseline"]
                     and "median_s" in p["interpreter"]]
            row["ratio"] = statistics.median(
                p["interpreter"]["median_s"] / p["baseline"]["median_s"] for p in pairs)
            row["ratio_cpu"] = statistics.median(
                p["interpreter"]["median_cpu_s"] / p["baseline"]["median_cpu_s"] for p in pairs)
            row["agree"] = all(p["baseline"]["digest"] == p["interpreter"]["digest"]
                               for p in pairs)
            rounds = f" (median of {len(pairs)} rounds)" if len(pairs) > 1 else ""
            print(f"  interpreter/baseline = {row['ratio']:.1f}x wall, "
                  f"{row['ratio_cpu']:.1f}x CPU{rounds}; payouts "
                  f"{'identical' if row['agree'] else 'DIFFER'} "
                  f"({t['payee_months']} payee-months, {t['total_paid']} USD)", flush=True)
        if i == 0 and not args.no_loader:
            r = run_worker(["loader", args.workload, directory], args.timeout)
            row["loader"] = r
            print(f"  load_dataset: {_summary(r)}; {r.get('diagnostics')} diagnostics",
                  flush=True)
    labels = list(results["sizes"])
    for a, b in zip(labels, labels[1:]):
        ra, rb = results["sizes"][a], results["sizes"][b]
        for impl in ("baseline", "interpreter"):
            if "median_s" in ra[impl] and "median_s" in rb[impl]:
                ev = rb[impl]["events"] / ra[impl]["events"]
                f = rb[impl]["median_s"] / ra[impl]["median_s"]
                fc = rb[impl]["median_cpu_s"] / ra[impl]["median_cpu_s"]
                results.setdefault("scaling", {})[f"{impl} {a}->{b}"] = {
                    "events_x": ev, "time_x": f, "cpu_x": fc}
                print(f"scaling {impl} {a} -> {b}: {ev:.1f}x events -> {f:.1f}x wall time, "
                      f"{fc:.1f}x CPU time")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return 0


def _end_to_end_report(row: dict) -> None:
    """Medians of the end-to-end runs over the rounds, ratios per round, and whether the
    CLI's statements pay what the baseline's do."""
    pairs = row["rounds"]
    e2e = row["end_to_end"] = {}
    for impl in ("baseline", "cli-csv", "cli-json"):
        if f"e2e {impl}" not in pairs[0]:
            continue
        done = [p[f"e2e {impl}"] for p in pairs if "median_s" in p[f"e2e {impl}"]]
        if not done:
            e2e[impl] = pairs[0][f"e2e {impl}"]
            continue
        e2e[impl] = {k: statistics.median(r[k] for r in done)
                     for k in ("median_s", "median_cpu_s", "peak_rss_mb", "output_mb")}
        e2e[impl]["times"] = [r["median_s"] for r in done]
    for num, den in (("cli-csv", "baseline"), ("cli-json", "cli-csv")):
        ok = [p for p in pairs if "median_s" in p.get(f"e2e {num}", {})
              and "median_s" in p.get(f"e2e {den}", {})]
        if ok:
            for unit, key in (("wall", "median_s"), ("cpu", "median_cpu_s")):
                e2e[f"{num} / {den} {unit}"] = statistics.median(
                    p[f"e2e {num}"][key] / p[f"e2e {den}"][key] for p in ok)
    agree = [p["e2e cli-csv"].get("pay") == p["e2e baseline"].get("pay") for p in pairs
             if "pay" in p["e2e cli-csv"] and "pay" in p["e2e baseline"]]
    e2e["statements_agree"] = bool(agree) and all(agree)
    for p in pairs:
        for impl in ("baseline", "cli-csv"):
            p[f"e2e {impl}"].pop("pay", None)
    for num, den in (("cli-csv", "baseline"), ("cli-json", "cli-csv")):
        if f"{num} / {den} wall" in e2e:
            print(f"  end to end {num} / {den} = {e2e[f'{num} / {den} wall']:.1f}x wall, "
                  f"{e2e[f'{num} / {den} cpu']:.1f}x CPU", flush=True)
    print(f"  end to end: statements {'agree with' if e2e['statements_agree'] else 'DIFFER from'}"
          " the baseline's", flush=True)


def _over_rounds(runs: list[dict]) -> dict:
    """One implementation's figures over the rounds: the first round's, with the medians
    taken over every round's runs."""
    done = [r for r in runs if "median_s" in r]
    if not done:
        return runs[0]
    out = dict(done[0])
    for key in ("times", "cpu_times"):
        out[key] = [t for r in done for t in r[key]]
    out["median_s"] = statistics.median(out["times"])
    out["median_cpu_s"] = statistics.median(out["cpu_times"])
    out["peak_rss_mb"] = max(r["peak_rss_mb"] for r in done)
    for key in ("collect_s", "read_traces_s"):
        if key in out:
            out[key] = statistics.median(r[key] for r in done)
    return out


def _commit() -> str:
    """HEAD, and whether incentive_dsl/ has uncommitted changes (the code measured)."""
    try:
        head = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "incentive_dsl"],
                               capture_output=True, text=True).stdout.strip()
        return head + (" + uncommitted changes in incentive_dsl/" if dirty else "")
    except OSError:
        return "unknown"


def _summary(r: dict) -> str:
    if "timeout_s" in r:
        return f"stopped after {r['timeout_s']:.0f} s"
    if "error" in r:
        return f"failed: {r['error']}"
    times = ", ".join(f"{t:.2f}" for t in r.get("times", []))
    out = f"median {r['median_s']:.2f} s wall"
    if times:
        out += f" [{times}]"
    if "median_cpu_s" in r:
        out += f", {r['median_cpu_s']:.2f} s CPU"
    if "collect_s" in r:
        out += f"; then a full collection {r['collect_s']:.2f} s"
    if "read_traces_s" in r:
        out += f", reading every trace {r['read_traces_s']:.2f} s"
    if "events" in r:
        out += f", {r['events']} events"
    out += f", peak RSS {r['peak_rss_mb']:.0f} MB"
    if "output_mb" in r:
        out += f", wrote {r['output_mb']:.0f} MB"
    if "rss_after_read_mb" in r:
        out += f" ({r['rss_after_read_mb']:.0f} MB after reading the data)"
    return out


if __name__ == "__main__":
    sys.exit(main())
