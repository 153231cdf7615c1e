"""Check that a hand-written baseline and the interpreter pay exactly the same: the same
amount per payee and pay period, to the cent. Two workloads: `reference` (bench/baseline.py
and bench/reference.plan on histories of bench/gen_data.py) and `credit` (bench/baseline_credit.py
and bench/credit_heavy.plan on histories of bench/gen_credit.py).

    PYTHONPATH=. python bench/check_baseline.py DATA_DIR     # files from bench/gen_data.py
    PYTHONPATH=. python bench/check_baseline.py --generate 3000 [--seed 7]
    PYTHONPATH=. python bench/check_baseline.py --workload credit --generate 3000  # deals

With --generate, a dataset of about that many events is generated into a temporary directory
first. The data is read with incentive_dsl's loader (load_dataset) when it is available and the
files load without diagnostics are required; `--fast-reader` uses bench/csvdata.py instead.
Exit status 0 when every payee-month agrees, 1 otherwise (the differences are listed).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections import defaultdict
from decimal import Decimal

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for p in (ROOT, HERE):
    if p not in sys.path:
        sys.path.insert(0, p)

import baseline  # noqa: E402
import baseline_credit  # noqa: E402
import csvdata  # noqa: E402
import gen_credit  # noqa: E402
import gen_data  # noqa: E402
from incentive_dsl import api  # noqa: E402
from incentive_dsl.eval.run import evaluate  # noqa: E402

PLAN = os.path.join(HERE, "reference.plan")
FILES = ("events.csv", "roster.csv", "quotas.csv", "fx.csv", "territories.csv")
# workload -> (plan, the baseline's payouts(dataset))
WORKLOADS = {"reference": (PLAN, baseline.payouts),
             "credit": (os.path.join(HERE, "credit_heavy.plan"), baseline_credit.payouts)}


def load_reference_plan(workload: str = "reference"):
    loaded = api.load_plan(WORKLOADS[workload][0])
    if loaded.plan is None:
        raise SystemExit(api.render_all(loaded.diagnostics, loaded.sources))
    return loaded.plan


def data_files(directory: str) -> list[str | None]:
    """The paths of FILES in the directory (None for an optional file that is not there)."""
    paths = [os.path.join(directory, f) for f in FILES]
    return [p if i < 2 or os.path.exists(p) else None for i, p in enumerate(paths)]


def loader_available() -> bool:
    try:
        from incentive_dsl.data.loaders import load_dataset  # noqa: F401
    except Exception:  # noqa: BLE001 - not there yet, or still being written
        return False
    return True


def load(directory: str, plan, fast: bool = False):
    """The Dataset and the loader's diagnostics (none with the fast reader)."""
    if fast or not loader_available():
        return csvdata.read_dataset(directory), ()
    from incentive_dsl.data.loaders import load_dataset

    paths = data_files(directory)
    dataset, diags = load_dataset(paths[0], paths[1], quotas=paths[2], fx=paths[3],
                                  territories=paths[4], plan=plan)
    return dataset, tuple(diags)


def interpreter_payouts(result) -> dict[tuple[str, str], Decimal]:
    paid: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for s in result.statements:
        paid[(s.payee, s.pay_period)] += s.paid
    return dict(paid)


def compare(ours: dict, theirs: dict) -> list[tuple[str, str, Decimal, Decimal]]:
    """[(payee, month, interpreter, baseline)] where they differ (missing counts as 0)."""
    out = []
    for key in sorted(set(ours) | set(theirs)):
        a, b = ours.get(key, Decimal(0)), theirs.get(key, Decimal(0))
        if a != b:
            out.append((*key, a, b))
    return out


def check(directory: str, fast: bool = False, verbose: bool = True,
          workload: str = "reference") -> tuple[list, dict]:
    plan = load_reference_plan(workload)
    dataset, diags = load(directory, plan, fast)
    errors = [d for d in diags if d.is_error]
    result = evaluate(plan, dataset)
    if not result.ok:
        raise SystemExit("interpreter: " + "; ".join(d.message for d in result.diagnostics))
    interp = interpreter_payouts(result)
    base = WORKLOADS[workload][1](dataset)
    diffs = compare(interp, base)
    info = {"events": len(dataset.events), "payee_months": len(set(interp) | set(base)),
            "total_interpreter": sum(interp.values(), Decimal(0)),
            "total_baseline": sum(base.values(), Decimal(0)),
            "earning_kinds": _kinds(result), "load_diagnostics": len(diags),
            "load_errors": len(errors)}
    if verbose:
        print(f"{info['events']} events, {info['payee_months']} payee-months, paid "
              f"{info['total_interpreter']} (interpreter) / {info['total_baseline']} "
              f"(baseline); earning lines {info['earning_kinds']}")
        if diags:
            print(f"loader: {len(diags)} diagnostics ({len(errors)} errors)")
            for d in diags[:10]:
                print(f"  {d.span.path}:{d.span.line}: {d.code}: {d.message}")
        for payee, month, a, b in diffs[:40]:
            print(f"DIFF {payee} {month}: interpreter {a} baseline {b} (difference {a - b})")
        print("identical to the cent" if not diffs else f"{len(diffs)} payee-months differ")
    return diffs, info


def _kinds(result) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for ln in result.earnings:
        counts[ln.kind] += 1
    return dict(sorted(counts.items()))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data", nargs="?", help="a directory written by bench/gen_data.py")
    ap.add_argument("--workload", choices=sorted(WORKLOADS), default="reference")
    ap.add_argument("--generate", type=int, metavar="N",
                    help="generate a dataset of about N events (credit: N deals) first")
    ap.add_argument("--payees", type=int, default=60)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--fast-reader", action="store_true",
                    help="read the files with bench/csvdata.py, not the loader")
    args = ap.parse_args(argv)
    if args.generate:
        tmp = tempfile.mkdtemp(prefix="incentive-check-")
        if args.workload == "credit":
            gen_credit.main([tmp, "--deals", str(args.generate), "--reps", str(args.payees),
                             "--seed", str(args.seed)])
        else:
            gen_data.main([tmp, "--events", str(args.generate), "--payees", str(args.payees),
                           "--seed", str(args.seed)])
        args.data = tmp
    if not args.data:
        ap.error("give a data directory or --generate N")
    diffs, info = check(args.data, fast=args.fast_reader, workload=args.workload)
    return 1 if diffs or info["load_errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
