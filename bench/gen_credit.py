"""Seeded generator of credit-heavy sales histories for bench/credit_heavy.plan: every
closed-won deal gives credit.

    python bench/gen_credit.py OUT_DIR [--deals 1000000] [--reps 10000] [--seed 7]

Writes, in the formats of docs/data.md, plus `manifest.json` (the arguments and row counts):

    events.csv   event_id,deal_id,date,kind,amount,currency,owner,splits,product,stage
    roster.csv   payee_id,role,start,end
    quotas.csv   payee_id,quota,period,amount,currency

The history: `--reps` AEs, all employed before 2027, of whom 3% leave during 2027 (and take
no deal afterwards; a clawback after they leave still reverses their lines). `--deals` deals dated uniformly over 2027, each owned by
a rep: 90% are won (a `booked` row, log-normal amounts in USD with a median of 20,000, product
P1..P4 at 40/30/15/15%), the others end with a `stage` row `lost`; 30% of the won deals are
split 60/40 between the owner and another rep (`owner:60;other:40`); 8% of the won deals are
cancelled 1 to 150 days after booking (about 60% of them inside the plan's 90-day clawback
window; cancellations after 2027 are not written). Quotas: one `bookings` row per rep per
quarter of 2027, around the rep's expected credit (so quarterly attainment spreads around
100% and every tier is crossed), in USD. Events are written in date order.

Streaming: deals are generated day by day; only cancellations wait (in a heap), so memory is
proportional to the deals cancelled in flight. The output depends only on the arguments and
the Python version.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import heapq
import json
import math
import os
import random
import sys
import time

YEAR = 2027
FIRST_DAY, LAST_DAY = dt.date(YEAR, 1, 1), dt.date(YEAR, 12, 31)
WON, SPLIT, CANCELLED = 0.90, 0.30, 0.08
MEDIAN, SIGMA = 20_000, 0.6
PRODUCTS = (("P1", 0.40), ("P2", 0.30), ("P3", 0.15), ("P4", 0.15))
LEAVERS = 0.03


def _product(rng: random.Random) -> str:
    x = rng.random()
    for name, w in PRODUCTS:
        x -= w
        if x < 0:
            return name
    return PRODUCTS[-1][0]


def generate(out: str, deals: int, reps: int, seed: int) -> dict:
    rng = random.Random(seed)
    os.makedirs(out, exist_ok=True)
    ids = [f"r{i:05d}" for i in range(1, reps + 1)]
    end = {}
    for rep in rng.sample(ids, k=round(reps * LEAVERS)):
        end[rep] = FIRST_DAY + dt.timedelta(days=rng.randint(30, 330))

    def rep_on(day: dt.date, other_than: str | None = None) -> str:
        """A rep employed on `day` (a leaver takes no deal after leaving)."""
        while True:
            rep = ids[rng.randrange(reps)]
            if rep != other_than and (rep not in end or day <= end[rep]):
                return rep

    with open(os.path.join(out, "roster.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["payee_id", "role", "start", "end"])
        for rep in ids:
            start = dt.date(YEAR - 1, 1, 1) + dt.timedelta(days=rng.randint(0, 300))
            w.writerow([rep, "AE", start.isoformat(), end[rep].isoformat() if rep in end else ""])
    # A rep's expected credit per quarter: a quarter of its won deals at the mean amount.
    mean = MEDIAN * math.exp(SIGMA ** 2 / 2)
    expected = deals / reps * WON * mean / 4
    quota_rows = 0
    with open(os.path.join(out, "quotas.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["payee_id", "quota", "period", "amount", "currency"])
        for rep in ids:
            for q in range(1, 5):
                amount = round(expected * rng.uniform(0.8, 1.25), -3)
                w.writerow([rep, "bookings", f"{YEAR}-Q{q}", f"{amount:.0f}", "USD"])
                quota_rows += 1
    counts = {"booked": 0, "stage": 0, "cancelled": 0}
    split_count = 0
    days = (LAST_DAY - FIRST_DAY).days + 1
    per_day = [deals // days + (1 if d < deals % days else 0) for d in range(days)]
    pending: list[tuple[dt.date, int, str]] = []  # (date, deal number, deal id): cancellations
    written = 0
    deal_no = 0
    with open(os.path.join(out, "events.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["event_id", "deal_id", "date", "kind", "amount", "currency", "owner",
                    "splits", "product", "stage"])

        def emit(deal: str, day: dt.date, kind: str, amount="", owner="", splits="",
                 product="", stage="") -> None:
            nonlocal written
            written += 1
            counts[kind] += 1
            w.writerow([f"E{written:08d}", deal, day.isoformat(), kind, amount,
                        "USD" if amount else "", owner, splits, product, stage])

        for d in range(days):
            day = FIRST_DAY + dt.timedelta(days=d)
            while pending and pending[0][0] <= day:
                when, _, deal = heapq.heappop(pending)
                emit(deal, when, "cancelled")
            for _ in range(per_day[d]):
                deal_no += 1
                deal = f"D{deal_no:08d}"
                owner = rep_on(day)
                if rng.random() >= WON:
                    emit(deal, day, "stage", owner=owner, stage="lost")
                    continue
                amount = f"{MEDIAN * math.exp(rng.gauss(0, SIGMA)):.2f}"
                splits = ""
                if rng.random() < SPLIT:
                    other = rep_on(day, owner)
                    splits = f"{owner}:60;{other}:40"
                    split_count += 1
                emit(deal, day, "booked", amount, owner, splits, _product(rng))
                if rng.random() < CANCELLED:
                    when = day + dt.timedelta(days=rng.randint(1, 150))
                    if when <= LAST_DAY:
                        heapq.heappush(pending, (when, deal_no, deal))
        while pending:
            when, _, deal = heapq.heappop(pending)
            emit(deal, when, "cancelled")
    manifest = {"generator": "gen_credit.py",
                "arguments": {"deals": deals, "reps": reps, "seed": seed},
                "python": sys.version.split()[0],
                "rows": {"events": written, "roster": reps, "quotas": quota_rows},
                "events_by_kind": counts, "split_bookings": split_count}
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
    return manifest


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out")
    ap.add_argument("--deals", type=int, default=1_000_000)
    ap.add_argument("--reps", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    m = generate(args.out, args.deals, args.reps, args.seed)
    print(f"{m['rows']['events']} events ({m['events_by_kind']}) for {args.reps} reps in "
          f"{args.out} in {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
