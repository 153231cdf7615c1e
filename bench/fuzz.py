"""Long fuzz run of the command line (not collected by pytest): counts outcomes.

    python bench/fuzz.py --inputs 100000 --seed 1 [--jobs 2] [--kinds plan,data,mapping,args]

Each input is a shipped plan, data file, mapping or command line changed by the mutations of
tests/fuzzing.py (the same as the bounded suite tests/test_fuzz.py runs in CI), run through
`incentive` in-process under a time limit. Prints, per kind of input, the exit codes and the
diagnostic codes seen, the slowest inputs, and every internal error (exit 3) or hang, each
with its seed so it can be replayed:

    python bench/fuzz.py --replay plan:12345

Exit code 1 if any input gave an internal error or a hang.
"""

from __future__ import annotations

import argparse
import collections
import multiprocessing
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import fuzzing as F  # noqa: E402

SECONDS = 20.0


def _work(job: tuple[str, list[int]]) -> dict:
    kind, seeds = job
    ws = F.Workspace()
    exits: collections.Counter = collections.Counter()
    codes: collections.Counter = collections.Counter()
    bad, slow = [], []
    try:
        for seed in seeds:
            argv = F.CASES[kind](ws, random.Random(seed))
            start = time.perf_counter()
            try:
                code, out = F.run_cli(argv, ws.dir, SECONDS)
            except F.Timeout:
                exits["hang"] += 1
                bad.append((kind, seed, "hang", argv))
                continue
            took = time.perf_counter() - start
            if code == 3 or "internal error" in out:
                bad.append((kind, seed, out[-600:], argv))
            exits[code] += 1
            codes.update(set(F.CODE.findall(out)))
            slow.append((took, kind, seed))
            slow = sorted(slow, reverse=True)[:5]
    finally:
        ws.close()
    return {"kind": kind, "exits": exits, "codes": codes, "bad": bad, "slow": slow,
            "n": len(seeds)}


def summary(results: dict, kinds: list[str], seconds: float, args) -> str:
    total = sum(r["n"] for r in results.values())
    out = [f"{total:,} inputs in {seconds:,.0f} s (seed {args.seed}, {args.jobs} job(s), "
           f"limit {SECONDS:.0f} s per input)"]
    bad_all = []
    for kind in kinds:
        r = results.get(kind)
        if r is None:
            continue
        exits = ", ".join(f"exit {k}: {v:,}" for k, v in sorted(r["exits"].items(), key=str))
        out.append(f"\n{kind}: {r['n']:,} inputs; {exits}")
        codes = ", ".join(f"{c} {v:,}" for c, v in sorted(r["codes"].items()))
        out.append(f"  inputs reporting each code: {codes}")
        out.append("  slowest: " + ", ".join(f"{t:.2f} s ({k}:{s})" for t, k, s in r["slow"]))
        bad_all += r["bad"]
    out.append(f"\ninternal errors or hangs: {len(bad_all)}")
    for kind, seed, what, argv in bad_all[:20]:
        out.append(f"  {kind}:{seed}: {argv!r}\n    {what!r}")
    return "\n".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--inputs", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--kinds", default="plan,data,mapping,args")
    ap.add_argument("--report", metavar="FILE", help="keep the summary so far in FILE")
    ap.add_argument("--replay", metavar="KIND:SEED", help="run one input and show its output")
    args = ap.parse_args()
    if args.replay:
        kind, seed = args.replay.split(":")
        ws = F.Workspace()
        argv = F.CASES[kind](ws, random.Random(int(seed)))
        code, out = F.run_cli(argv, ws.dir, SECONDS)
        print(argv, "->", code)
        print(out)
        return 0
    kinds = args.kinds.split(",")
    rng = random.Random(args.seed)
    per_kind = {k: [rng.randrange(2**32) for _ in range(args.inputs // len(kinds))]
                for k in kinds}
    chunk = 200
    # Kinds take turns, so a run stopped early has covered them all alike.
    jobs = [(k, seeds[i:i + chunk]) for i in range(0, args.inputs // len(kinds), chunk)
            for k, seeds in per_kind.items()]
    start = time.perf_counter()
    results: dict[str, dict] = {}
    with multiprocessing.Pool(args.jobs) as pool:
        for r in pool.imap_unordered(_work, jobs):
            agg = results.setdefault(r["kind"], {"exits": collections.Counter(),
                                                 "codes": collections.Counter(), "bad": [],
                                                 "slow": [], "n": 0})
            agg["exits"].update(r["exits"])
            agg["codes"].update(r["codes"])
            agg["bad"] += r["bad"]
            agg["slow"] = sorted(agg["slow"] + r["slow"], reverse=True)[:5]
            agg["n"] += r["n"]
            if args.report:  # the summary so far, kept current: a long run may be stopped
                Path(args.report).write_text(
                    summary(results, kinds, time.perf_counter() - start, args) + "\n")
            done = sum(a["n"] for a in results.values())
            print(f"{done:,} inputs, {time.perf_counter() - start:,.0f} s, "
                  f"{sum(len(a['bad']) for a in results.values())} internal errors or hangs",
                  file=sys.stderr, flush=True)
    print(summary(results, kinds, time.perf_counter() - start, args))
    bad_all = [b for r in results.values() for b in r["bad"]]
    return 1 if bad_all else 0


if __name__ == "__main__":
    sys.exit(main())
