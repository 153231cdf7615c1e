"""Parse benchmark: `parse_text` (text -> syntax tree) on a generated ~5,000-line plan.

    /tmp/v/bin/python bench/parse_bench.py                       # 7 timed runs, 5,000 lines
    /tmp/v/bin/python bench/parse_bench.py --repeat 15 --lines 20000 --seed 7

(any Python with lark and attrs installed works; the repository root is put on sys.path.)

The plan comes from bench/gen_plan.py (seeded, so every run parses the same text; it checks
clean and its worked examples pass). The grammar is compiled (or loaded from its cache) before
timing, by a warm-up parse; each timed run is one call of `parse_text` on the whole text (comments taken out, block
by block LALR parse, tree built). Reported: median, min and max of wall-clock time
(perf_counter) and of CPU time (process_time, steadier when the machine is shared), and lines
per second at the median. The parse is checked once, untimed: no diagnostics, and formatting the
tree gives back the text.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for p in (ROOT, HERE):
    if p not in sys.path:
        sys.path.insert(0, p)

from gen_plan import generate  # noqa: E402

from incentive_dsl.syntax import format_file, parse_text  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=5000, help="size of the generated plan (5000)")
    ap.add_argument("--seed", type=int, default=2027, help="seed of the generated plan (2027)")
    ap.add_argument("--repeat", type=int, default=7, help="timed runs (7)")
    args = ap.parse_args(argv)

    text = generate(args.lines, args.seed)
    lines = text.count("\n")
    path = f"generated-{args.lines}-{args.seed}.plan"

    t0 = time.perf_counter()
    result = parse_text(path, text)  # warm-up: compiles the grammar, or loads it from the cache
    first = time.perf_counter() - t0
    if result.diagnostics:
        for d in result.diagnostics[:5]:
            print(f"{d.span}: {d.code}: {d.message}", file=sys.stderr)
        print("the generated plan does not parse cleanly; not timing it", file=sys.stderr)
        return 1
    canonical = format_file(result.tree) == text
    blocks = len(result.tree.blocks)

    walls, cpus = [], []
    for _ in range(args.repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        parse_text(path, text)
        cpus.append(time.process_time() - c0)
        walls.append(time.perf_counter() - w0)

    med_wall, med_cpu = statistics.median(walls), statistics.median(cpus)
    print(f"parse_text on {lines:,} lines, {len(text):,} characters, {blocks} blocks "
          f"(seed {args.seed}; format round trip {'exact' if canonical else 'CHANGED THE TEXT'})")
    print(f"python {platform.python_version()} on {platform.machine()}, "
          f"{os.cpu_count()} CPUs; {args.repeat} timed runs after a warm-up of "
          f"{first * 1000:.0f} ms (grammar compiled or loaded)")
    print(f"wall: median {med_wall * 1000:.1f} ms, min {min(walls) * 1000:.1f} ms, "
          f"max {max(walls) * 1000:.1f} ms")
    print(f"cpu:  median {med_cpu * 1000:.1f} ms, min {min(cpus) * 1000:.1f} ms, "
          f"max {max(cpus) * 1000:.1f} ms")
    print(f"lines/second at the median: {lines / med_wall:,.0f} wall, {lines / med_cpu:,.0f} cpu")
    return 0 if canonical else 1


if __name__ == "__main__":
    raise SystemExit(main())
