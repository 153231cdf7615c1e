"""The columnar engine against hand-written SQL, on a credit-heavy history.

    PYTHONPATH=. python bench/columnar_bench.py                 # 1M deals, 3 rounds
    PYTHONPATH=. python bench/columnar_bench.py --deals 100000 --rounds 5
    PYTHONPATH=. python bench/columnar_bench.py --workload credit   # credit_heavy.plan, 1M deals

`--workload credit` times bench/credit_heavy.plan (rounded per line, splits as recorded) on a
bench/gen_credit.py history (seed 7; bench/run_bench.py's cached /tmp/incentive-bench/credit-1M
when there) against `BASELINE_CREDIT`, a query written by hand for that plan in integers.

The history (`generate`, seeded): DEALS deals in 2027 over REPS account executives (5% hired
during the year; their deals before their start earn nothing), 90% won (a booking; lost deals leave no
event), 30% of the won split 60/40 with a second rep, a product field (P3 earns the SPIFF in
Q2), 8% of the won cancelled 1 to 150 days after booking. The plan is bench/columnar.plan:
marginal 8/12/15% tiers on quarterly attainment, the SPIFF, a 90-day clawback, paid monthly,
rounded per statement.

Both queries read the same DuckDB tables, filled from the CSV files by SQL (not timed): the
compiled query (`incentive_dsl.columnar.compile_plan`) and `BASELINE`, a query written by hand
for this plan alone (it knows there are no amendments, no other currencies, one roster row per
rep, no quota rows). Each round times one run of each on the same connection; the report gives
the median of each and the median of the rounds' ratios, the load average before and after,
and checks that both give the same statements to the cent.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from incentive_dsl import api  # noqa: E402
from incentive_dsl.columnar import compile_plan  # noqa: E402
from incentive_dsl.columnar.compiler import DAYS  # noqa: E402
from incentive_dsl.columnar.runner import connect  # noqa: E402

PLAN = os.path.join(ROOT, "bench", "columnar.plan")
CREDIT_PLAN = os.path.join(ROOT, "bench", "credit_heavy.plan")
YEAR = dt.date(2027, 1, 1)


def generate(out: str, deals: int = 1_000_000, reps: int = 10_000, seed: int = 14) -> None:
    """Write events.csv, roster.csv and empty quotas/fx/territories files (docs/data.md)."""
    rng = random.Random(seed)
    os.makedirs(out, exist_ok=True)
    ids = [f"r{i:05d}" for i in range(1, reps + 1)]
    with open(os.path.join(out, "roster.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["payee_id", "role", "start", "end", "manager", "team", "territory",
                    "effective_from"])
        for pid in ids:
            start = YEAR + dt.timedelta(days=rng.randrange(180)) if rng.random() < 0.05 \
                else dt.date(2025, 1, 1)
            w.writerow([pid, "AE", start, "", "", "", "", start])
    for name, header in (("quotas.csv", "payee_id,quota,period,amount,currency"),
                         ("fx.csv", "currency,target,date,rate"),
                         ("territories.csv", "territory,index")):
        with open(os.path.join(out, name), "w") as f:
            f.write(header + "\n")
    rows = []
    for i in range(1, deals + 1):
        if rng.random() >= 0.9:
            continue  # lost: no event
        deal = f"D{i:07d}"
        day = YEAR + dt.timedelta(days=rng.randrange(365))
        owner = rng.choice(ids)
        amount = f"{rng.randrange(100_000, 2_000_000) / 100:.2f}"
        splits = ""
        if rng.random() < 0.3:
            other = rng.choice(ids)
            if other != owner:
                splits = f"{owner}:60;{other}:40"
        product = rng.choice(("P1", "P2", "P3", "P4"))
        rows.append((day, deal, "booked", amount, owner, splits, product))
        if rng.random() < 0.08:
            rows.append((day + dt.timedelta(days=rng.randrange(1, 151)), deal, "cancelled", "",
                         "", "", ""))
    rows.sort(key=lambda r: (r[0], r[2] == "cancelled", r[1]))
    with open(os.path.join(out, "events.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["event_id", "deal_id", "date", "kind", "amount", "currency", "owner",
                    "splits", "product"])
        for n, (day, deal, kind, amount, owner, splits, product) in enumerate(rows, 1):
            w.writerow([f"E{n:08d}", deal, day, kind, amount, "USD" if amount else "", owner,
                        splits, product])


def _events_and_splits(con) -> None:
    """The query's events and splits tables from the table `raw` of the events file."""
    con.execute("""
CREATE OR REPLACE TABLE events AS SELECT event_id AS id, deal_id AS deal, date AS day, kind,
  amount, currency, owner, product AS f_product FROM raw""")
    con.execute("""
CREATE OR REPLACE TABLE splits AS
SELECT event_id, split_part(part, ':', 1) AS payee,
  CAST(CAST(split_part(part, ':', 2) AS DECIMAL(18,6)) * CAST('0.01' AS DECIMAL(3,2))
       AS DECIMAL(38,12)) AS share
FROM (SELECT event_id, unnest(string_split(splits, ';')) AS part FROM raw
      WHERE kind = 'booked' AND splits IS NOT NULL AND splits <> '')""")


def load_tables(con, data: str) -> None:
    """The compiled query's input tables, read from the CSV files by DuckDB."""
    ev = os.path.join(data, "events.csv")
    con.execute(f"""
CREATE OR REPLACE TABLE raw AS SELECT * FROM read_csv('{ev}', header = true, columns = {{
  'event_id': 'VARCHAR', 'deal_id': 'VARCHAR', 'date': 'DATE', 'kind': 'VARCHAR',
  'amount': 'DECIMAL(38,6)', 'currency': 'VARCHAR', 'owner': 'VARCHAR', 'splits': 'VARCHAR',
  'product': 'VARCHAR'}})""")
    _events_and_splits(con)
    roster = os.path.join(data, "roster.csv")
    con.execute(f"""
CREATE OR REPLACE TABLE roster AS
SELECT payee_id AS id, role, start AS start_day, "end" AS end_day, effective_from,
  CAST(row_number() OVER (ORDER BY payee_id, effective_from) AS INTEGER) AS ord
FROM read_csv('{roster}', header = true, columns = {{'payee_id': 'VARCHAR',
  'role': 'VARCHAR', 'start': 'DATE', 'end': 'DATE', 'manager': 'VARCHAR', 'team': 'VARCHAR',
  'territory': 'VARCHAR', 'effective_from': 'DATE'}})""")
    con.execute("CREATE OR REPLACE TABLE fx (currency VARCHAR, day DATE, "
                "rate DECIMAL(38,12), ord INTEGER, inverse BOOLEAN)")
    con.execute("CREATE OR REPLACE TABLE quota_rows (payee VARCHAR, quota VARCHAR, "
                "first_month INTEGER, months INTEGER, amount DECIMAL(38,6), ord INTEGER)")
    con.execute("DROP TABLE raw")


# The plan written by hand as one query over the same tables: bookings split 60/40 to the
# cent, quarterly running credit against the quota (exact, in units of 1/DAYS of a
# cent-month, as the compiled query keeps quotas), marginal pieces in money, the SPIFF, the 90-day clawback, monthly statements
# (earned: every earning line of the month, exact) with negative pay carried forward, each
# statement rounded half even (the plan rounds per statement).
BASELINE = f"""
WITH bk AS (
  SELECT e.id, e.deal, e.day, e.amount, e.owner, e.f_product,
    row_number() OVER (ORDER BY e.day, e.deal, e.id) AS seq
  FROM events e WHERE e.kind = 'booked'),
cx AS (SELECT deal, min(day) AS cancel_day FROM events WHERE kind = 'cancelled' GROUP BY deal),
sh AS (
  SELECT b.seq, b.deal, b.day, coalesce(s.payee, b.owner) AS payee,
    CAST(round(b.amount * 100) AS HUGEINT) AS units,
    coalesce(CAST(s.share * 100 AS HUGEINT), 100) AS w
  FROM bk b LEFT JOIN splits s ON s.event_id = b.id),
al AS (
  SELECT *, units * w // 100 AS fl, units * w % 100 AS rem,
    units - sum(units * w // 100) OVER (PARTITION BY seq) AS left_,
    row_number() OVER (PARTITION BY seq ORDER BY units * w % 100 DESC, payee) AS rk
  FROM sh),
cr AS (
  SELECT a.seq, a.deal, a.day, a.payee, a.fl + CASE WHEN a.rk <= a.left_ THEN 1 ELSE 0 END AS c,
    (year(a.day) * 12 + month(a.day) - 1) // 3 * 3 AS q
  FROM al a JOIN roster r ON r.id = a.payee AND r.start_day <= a.day
    AND (r.end_day IS NULL OR a.day <= r.end_day)),
run AS (
  SELECT *, sum(c) OVER (PARTITION BY payee, q ORDER BY seq ROWS UNBOUNDED PRECEDING) AS c1
  FROM cr WHERE day BETWEEN DATE '2027-01-01' AND DATE '2027-12-31'),
qm AS (
  SELECT p.payee, p.q, sum(CAST(25000000 AS HUGEINT) * 4 * {DAYS}) AS n
  FROM (SELECT DISTINCT payee, q FROM run) p
  CROSS JOIN (SELECT 0 AS i UNION ALL SELECT 1 UNION ALL SELECT 2) m
  JOIN roster r ON r.id = p.payee,
  LATERAL (SELECT make_date(CAST((p.q + m.i) // 12 AS INTEGER),
                            CAST((p.q + m.i) % 12 + 1 AS INTEGER), 1) AS ms) d
  GROUP BY p.payee, p.q),
quota AS (
  SELECT payee, q, CAST((n // {12 * DAYS}) * CAST('100000000000000000000' AS HUGEINT)
      + (n % {12 * DAYS}) * CAST('100000000000000000000' AS HUGEINT) // {12 * DAYS}
      AS DECIMAL(38,0)) * CAST('0.0000000000000000000001' AS DECIMAL(23,22)) AS quota
  FROM qm),
pc AS (
  SELECT r.payee, r.deal, r.day, r.c,
    CAST(CAST(r.c1 - r.c AS DECIMAL(38,0)) * CAST('0.01' AS DECIMAL(3,2)) AS DECIMAL(38,20)) AS k0,
    CAST(CAST(r.c1 AS DECIMAL(38,0)) * CAST('0.01' AS DECIMAL(3,2)) AS DECIMAL(38,20)) AS k1,
    q.quota
  FROM run r JOIN quota q ON q.payee = r.payee AND q.q = r.q),
comm AS (
  SELECT payee, deal, day, 'core' AS comp, CAST(CASE WHEN quota = 0 THEN
      CAST(c AS DECIMAL(38,0)) * CAST('0.0008' AS DECIMAL(4,4)) ELSE
      (CASE WHEN c < 0 THEN -1 ELSE 1 END) * (
        greatest(0, least(hi, quota) - lo) * CAST('0.08' AS DECIMAL(2,2))
        + greatest(0, least(hi, quota * CAST('1.5' AS DECIMAL(2,1))) - greatest(lo, quota))
          * CAST('0.12' AS DECIMAL(2,2))
        + greatest(0, hi - greatest(lo, quota * CAST('1.5' AS DECIMAL(2,1))))
          * CAST('0.15' AS DECIMAL(2,2))) END AS DECIMAL(38,20)) AS amount
  FROM (SELECT *, least(k0, k1) AS lo, greatest(k0, k1) AS hi FROM pc)),
spiff AS (
  SELECT b.owner AS payee, b.deal, b.day, 'p3' AS comp, CAST(500 AS DECIMAL(38,20)) AS amount
  FROM bk b JOIN roster r ON r.id = b.owner AND r.start_day <= b.day
    AND (r.end_day IS NULL OR b.day <= r.end_day)
  WHERE b.f_product = 'P3' AND b.day BETWEEN DATE '2027-04-01' AND DATE '2027-06-30'),
earned AS (SELECT * FROM comm UNION ALL SELECT * FROM spiff),
lines AS (
  SELECT payee, day, amount, FALSE AS claw FROM earned
  UNION ALL
  SELECT e.payee, x.cancel_day, -e.amount, TRUE FROM earned e
  JOIN cx x ON x.deal = e.deal
  JOIN bk b ON b.deal = e.deal
  WHERE x.cancel_day <= b.day + INTERVAL 90 DAY AND e.day <= x.cancel_day AND e.amount <> 0
    AND x.cancel_day <= DATE '2027-12-31'),
months AS (SELECT 2027 * 12 + i AS m FROM range(12) t(i)),
grid AS (
  SELECT p.payee, mo.m, count(c.amount) AS n,
    coalesce(sum(c.amount), CAST(0 AS DECIMAL(38,20))) AS x,
    coalesce(sum(CASE WHEN c.claw THEN c.amount ELSE 0 END), CAST(0 AS DECIMAL(38,20))) AS claw
  FROM (SELECT id AS payee FROM roster) p CROSS JOIN months mo
  LEFT JOIN (SELECT payee, year(day) * 12 + month(day) - 1 AS m, claw, amount FROM lines) c
    ON c.payee = p.payee AND c.m = mo.m
  GROUP BY p.payee, mo.m),
carry AS (
  SELECT *, greatest(max(total) OVER w, CAST(0 AS DECIMAL(38,20))) - total AS carried
  FROM (SELECT *, sum(x) OVER w AS total FROM grid
        WINDOW w AS (PARTITION BY payee ORDER BY m ROWS UNBOUNDED PRECEDING))
  WINDOW w AS (PARTITION BY payee ORDER BY m ROWS UNBOUNDED PRECEDING)),
st AS (
  SELECT *, CAST(x - coalesce(lag(carried) OVER (PARTITION BY payee ORDER BY m), 0) + carried
                 AS DECIMAL(38,20)) AS due,
    coalesce(lag(carried) OVER (PARTITION BY payee ORDER BY m), 0) AS before
  FROM carry)
SELECT s.payee, strftime(make_date(CAST(s.m // 12 AS INTEGER), CAST(s.m % 12 + 1 AS INTEGER), 1),
                         '%Y-%m') AS pay_period,
  s.x AS earned, s.claw AS clawed_back,
  CASE WHEN abs(s.due - CAST(s.due AS DECIMAL(38,2))) = 0.005
            AND CAST(CAST(s.due AS DECIMAL(38,2)) * 100 AS HUGEINT) % 2 <> 0
       THEN CAST(s.due AS DECIMAL(38,2)) - (CASE WHEN s.due < 0 THEN -1 ELSE 1 END) * 0.01
       ELSE CAST(s.due AS DECIMAL(38,2)) END AS paid,
  s.carried
FROM st s JOIN roster r ON r.id = s.payee
WHERE s.n > 0 OR s.before <> 0 OR (r.start_day <= last_day(make_date(CAST(s.m // 12 AS INTEGER),
  CAST(s.m % 12 + 1 AS INTEGER), 1)))
ORDER BY s.payee, s.m
"""


def load_credit_tables(con, data: str) -> None:
    """The compiled query's input tables for a gen_credit.py history, read by DuckDB."""
    ev = os.path.join(data, "events.csv")
    con.execute(f"""
CREATE OR REPLACE TABLE raw AS SELECT * FROM read_csv('{ev}', header = true, columns = {{
  'event_id': 'VARCHAR', 'deal_id': 'VARCHAR', 'date': 'DATE', 'kind': 'VARCHAR',
  'amount': 'DECIMAL(38,6)', 'currency': 'VARCHAR', 'owner': 'VARCHAR', 'splits': 'VARCHAR',
  'product': 'VARCHAR', 'stage': 'VARCHAR'}})""")
    _events_and_splits(con)
    roster = os.path.join(data, "roster.csv")
    con.execute(f"""
CREATE OR REPLACE TABLE roster AS
SELECT payee_id AS id, role, start AS start_day, "end" AS end_day,
  CAST(NULL AS DATE) AS effective_from,
  CAST(row_number() OVER (ORDER BY payee_id) AS INTEGER) AS ord
FROM read_csv('{roster}', header = true, columns = {{'payee_id': 'VARCHAR',
  'role': 'VARCHAR', 'start': 'DATE', 'end': 'DATE'}})""")
    quotas = os.path.join(data, "quotas.csv")
    con.execute(f"""
CREATE OR REPLACE TABLE quota_rows AS
SELECT payee_id AS payee, quota,
  CAST(CAST(left(period, 4) AS INTEGER) * 12 + (CAST(right(period, 1) AS INTEGER) - 1) * 3
       AS INTEGER) AS first_month, 3 AS months, amount,
  CAST(row_number() OVER () AS INTEGER) AS ord
FROM read_csv('{quotas}', header = true, columns = {{'payee_id': 'VARCHAR',
  'quota': 'VARCHAR', 'period': 'VARCHAR', 'amount': 'DECIMAL(38,6)', 'currency': 'VARCHAR'}})
""")
    con.execute("CREATE OR REPLACE TABLE fx (currency VARCHAR, day DATE, "
                "rate DECIMAL(38,12), ord INTEGER, inverse BOOLEAN)")
    con.execute("DROP TABLE raw")


# bench/credit_heavy.plan written by hand as one query, in integers only, for the histories of
# gen_credit.py (it knows: one booking per deal in 2027, amounts in whole cents, splits in
# whole percents, one roster row per rep, every rep an AE, quota rows per quarter in USD).
# Credit: the booking's cents split by the percents, floors first, leftover cents to the
# largest remainders, ties to the first payee id; kept if the payee is employed that day.
# Commission: with C0, C1 the payee's quarterly credit before and after the line and Q the
# quota, all in units of half a micro-dollar (so that Q x 1.5 is whole), the line earns
# 8 x |[C0,C1] below Q| + 12 x |... between Q and 1.5 Q| + 15 x |... above 1.5 Q| in units of
# 1/(2 x 10^6) of a cent. Rounded half even per line; the lines of one split booking as a
# whole, then shared to the cent in proportion to their exact amounts, leftover cents to the
# largest remainders, ties to the first payee id. SPIFF 250 USD on P3 bookings of April to
# September; a deal cancelled within 90 days has its lines dated on or before the
# cancellation reversed; monthly pay, negative pay carried forward.
CREDIT_DEN = 2 * 10 ** 6  # units of a cent in the exact commission amounts
BASELINE_CREDIT = f"""
WITH bk AS (
  SELECT id, deal, day, amount, owner, f_product,
    row_number() OVER (ORDER BY day, deal, id) AS seq
  FROM events WHERE kind = 'booked' AND day BETWEEN DATE '2027-01-01' AND DATE '2027-12-31'),
cx AS (SELECT deal, min(day) AS cancel_day FROM events WHERE kind = 'cancelled' GROUP BY deal),
sh AS (
  SELECT b.seq, b.deal, b.day, coalesce(s.payee, b.owner) AS payee,
    CAST(b.amount * 100 AS HUGEINT) AS units,
    coalesce(CAST(s.share * 100 AS HUGEINT), 100) AS w
  FROM bk b LEFT JOIN splits s ON s.event_id = b.id),
al AS (
  SELECT *, units * w // 100 AS fl,
    units - sum(units * w // 100) OVER (PARTITION BY seq) AS left_,
    row_number() OVER (PARTITION BY seq ORDER BY units * w % 100 DESC, payee) AS rk
  FROM sh),
cr AS (
  SELECT a.seq, a.deal, a.day, a.payee,
    a.fl + CASE WHEN a.rk <= a.left_ THEN 1 ELSE 0 END AS c,
    (month(a.day) - 1) // 3 AS qi
  FROM al a JOIN roster r ON r.id = a.payee AND r.start_day <= a.day
    AND (r.end_day IS NULL OR a.day <= r.end_day)),
run AS (
  SELECT c.*, sum(c.c) OVER (PARTITION BY c.payee, c.qi ORDER BY c.seq
                             ROWS UNBOUNDED PRECEDING) AS c1,
    CAST(coalesce(q.amount, 400000) * 1000000 AS HUGEINT) AS qm
  FROM cr c LEFT JOIN quota_rows q ON q.payee = c.payee AND q.quota = 'bookings'
    AND q.first_month = 2027 * 12 + c.qi * 3),
ex AS (
  SELECT seq, deal, day, payee,
    8 * greatest(0, least(k1, q1) - k0)
    + 12 * greatest(0, least(k1, q15) - greatest(k0, q1))
    + 15 * greatest(0, k1 - greatest(k0, q15)) AS n
  FROM (SELECT *, (c1 - c) * 20000 AS k0, c1 * 20000 AS k1, qm * 2 AS q1, qm * 3 AS q15
        FROM run)),
grp AS (
  SELECT *, count(*) OVER s AS k, sum(n) OVER s AS nsum FROM ex
  WINDOW s AS (PARTITION BY seq)),
whole AS (
  SELECT *, nsum // {CREDIT_DEN} + CASE WHEN 2 * (nsum % {CREDIT_DEN}) > {CREDIT_DEN}
      OR (2 * (nsum % {CREDIT_DEN}) = {CREDIT_DEN} AND (nsum // {CREDIT_DEN}) % 2 = 1)
      THEN 1 ELSE 0 END AS wc,
    n // {CREDIT_DEN} + CASE WHEN 2 * (n % {CREDIT_DEN}) > {CREDIT_DEN}
      OR (2 * (n % {CREDIT_DEN}) = {CREDIT_DEN} AND (n // {CREDIT_DEN}) % 2 = 1)
      THEN 1 ELSE 0 END AS own
  FROM grp),
shared AS (
  SELECT *, wc - sum(fl) OVER s AS left_,
    row_number() OVER (PARTITION BY seq ORDER BY rem DESC, payee) AS rk
  FROM (SELECT *, CASE WHEN nsum = 0 THEN 0 ELSE wc * n // nsum END AS fl,
          CASE WHEN nsum = 0 THEN 0 ELSE wc * n % nsum END AS rem
        FROM whole WHERE k >= 2)
  WINDOW s AS (PARTITION BY seq)),
earned AS (
  SELECT payee, deal, day, own AS cents FROM whole WHERE k < 2
  UNION ALL
  SELECT payee, deal, day, fl + CASE WHEN rk <= left_ THEN 1 ELSE 0 END FROM shared
  UNION ALL
  SELECT b.owner, b.deal, b.day, CAST(25000 AS HUGEINT) FROM bk b
  JOIN roster r ON r.id = b.owner AND r.start_day <= b.day
    AND (r.end_day IS NULL OR b.day <= r.end_day)
  WHERE b.f_product = 'P3' AND b.day BETWEEN DATE '2027-04-01' AND DATE '2027-09-30'),
lines AS (
  SELECT payee, day, cents, FALSE AS claw FROM earned
  UNION ALL
  SELECT e.payee, x.cancel_day, -e.cents, TRUE FROM earned e
  JOIN cx x ON x.deal = e.deal
  JOIN bk b ON b.deal = e.deal
  WHERE x.cancel_day <= b.day + INTERVAL 90 DAY AND e.day <= x.cancel_day AND e.cents <> 0
    AND x.cancel_day <= DATE '2027-12-31'),
months AS (SELECT 2027 * 12 + i AS m FROM range(12) t(i)),
grid AS (
  SELECT p.payee, mo.m, count(c.cents) AS n, coalesce(sum(c.cents), 0) AS x,
    coalesce(sum(CASE WHEN c.claw THEN c.cents ELSE 0 END), 0) AS claw
  FROM (SELECT id AS payee FROM roster) p CROSS JOIN months mo
  LEFT JOIN (SELECT payee, year(day) * 12 + month(day) - 1 AS m, claw, cents FROM lines) c
    ON c.payee = p.payee AND c.m = mo.m
  GROUP BY p.payee, mo.m),
carry AS (
  SELECT *, greatest(max(total) OVER w, 0) - total AS carried
  FROM (SELECT *, sum(x) OVER w AS total FROM grid
        WINDOW w AS (PARTITION BY payee ORDER BY m ROWS UNBOUNDED PRECEDING))
  WINDOW w AS (PARTITION BY payee ORDER BY m ROWS UNBOUNDED PRECEDING)),
st AS (
  SELECT *, coalesce(lag(carried) OVER (PARTITION BY payee ORDER BY m), 0) AS before
  FROM carry)
SELECT s.payee, strftime(make_date(CAST(s.m // 12 AS INTEGER), CAST(s.m % 12 + 1 AS INTEGER), 1),
                         '%Y-%m') AS pay_period,
  CAST(s.x AS DECIMAL(38,0)) * CAST('0.01' AS DECIMAL(3,2)) AS earned,
  CAST(s.claw AS DECIMAL(38,0)) * CAST('0.01' AS DECIMAL(3,2)) AS clawed_back,
  CAST(s.x - s.before + s.carried AS DECIMAL(38,0)) * CAST('0.01' AS DECIMAL(3,2)) AS paid,
  CAST(s.carried AS DECIMAL(38,0)) * CAST('0.01' AS DECIMAL(3,2)) AS carried
FROM st s JOIN roster r ON r.id = s.payee
WHERE s.n > 0 OR s.before <> 0 OR (r.start_day <= last_day(make_date(CAST(s.m // 12 AS INTEGER),
  CAST(s.m % 12 + 1 AS INTEGER), 1)) AND (r.end_day IS NULL
  OR r.end_day >= make_date(CAST(s.m // 12 AS INTEGER), CAST(s.m % 12 + 1 AS INTEGER), 1)))
ORDER BY s.payee, s.m
"""


def _cpu() -> float:
    """CPU time of this process, DuckDB's threads included (the machine is shared: wall-clock
    time depends on what else runs)."""
    return time.process_time()


def loadavg() -> str:
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def credit_data(deals: int, reps: int, cache: str = "/tmp/incentive-bench") -> str:
    """A gen_credit.py history (seed 7), reused from bench/run_bench.py's cache when there."""
    import json

    label = f"{deals // 1_000_000}M" if deals % 1_000_000 == 0 else f"{deals // 1000}k"
    out = os.path.join(cache, f"credit-{label}")
    want = {"deals": deals, "reps": reps, "seed": 7}
    manifest = os.path.join(out, "manifest.json")
    if os.path.exists(manifest):
        with open(manifest) as f:
            if json.load(f)["arguments"] == want:
                return out
    out = os.path.join(cache, f"credit-{deals}-{reps}")
    if not os.path.exists(os.path.join(out, "manifest.json")):
        sys.path.insert(0, os.path.join(ROOT, "bench"))
        import gen_credit

        gen_credit.main([out, "--deals", str(deals), "--reps", str(reps), "--seed", "7"])
    return out


def phases(data: str) -> dict:
    """CPU time of each step `incentive run PLAN --data DIR --engine columnar --format csv`
    takes, in this process (the same API calls as the CLI): checking the plan, reading the
    files into a Dataset (api.load_data, with full validation), filling DuckDB's tables from
    it, the query, and writing the CSV."""
    from incentive_dsl.audit import render
    from incentive_dsl.columnar import runner

    out = {}
    c = time.process_time()
    plan = api.load_plan(CREDIT_PLAN).plan
    out["plan"] = time.process_time() - c
    c = time.process_time()
    dataset, _ = api.load_data(*(os.path.join(data, f"{t}.csv") for t in ("events", "roster")),
                               quotas=os.path.join(data, "quotas.csv"), plan=plan)
    out["load_data"] = time.process_time() - c
    rng = runner.run_range(plan, dataset)
    compiled = compile_plan(plan, rng.start, rng.end, rng.pay_end)
    con = connect()
    c = time.process_time()
    runner.load(con, plan, dataset, compiled)
    out["fill_tables"] = time.process_time() - c
    c = time.process_time()
    done = runner.statements(con, compiled)
    out["query"] = time.process_time() - c
    c = time.process_time()
    result, _ = api.run_columnar(plan, dataset)  # the whole engine call, as the CLI makes it
    out["run_columnar"] = time.process_time() - c
    c = time.process_time()
    text = render.statements_csv(result)
    out["write_csv"] = time.process_time() - c
    out["statements"], out["csv_mb"] = len(done), len(text) / 1e6
    return out


def end_to_end(cmd: list[str], out: str) -> dict:
    """One whole process: wall time, and the child's CPU time and peak memory (wait4)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")]))
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0 or "note:" in err:
        raise SystemExit(f"{' '.join(cmd)}: {err.strip()}")
    with open(out, newline="") as f:
        pay = {(r["payee"], r["pay_period"]): Decimal(r["paid"]) for r in csv.DictReader(f)
               if Decimal(r["paid"])}
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime,
            "rss_mb": usage.ru_maxrss / 1024, "pay": pay}


def main_end_to_end(data: str, rounds: int) -> int:
    """`incentive run bench/credit_heavy.plan --data DIR --engine columnar --format csv`
    against `python bench/baseline_credit.py DIR OUT.csv`, alternating, `rounds` times."""
    tmp = tempfile.mkdtemp(prefix="incentive-e2e-")
    cmds = {"baseline": [sys.executable, os.path.join(ROOT, "bench", "baseline_credit.py"), data,
                         os.path.join(tmp, "baseline.csv")],
            "columnar": [sys.executable, "-m", "incentive_dsl.cli", "run", CREDIT_PLAN,
                         "--data", data, "--engine", "columnar", "--format", "csv",
                         "--output", os.path.join(tmp, "columnar.csv")]}
    runs = {k: [] for k in cmds}
    same = True
    for r in range(rounds):
        for name, cmd in cmds.items():
            runs[name].append(end_to_end(cmd, cmd[-1]))
        a, b = runs["baseline"][-1], runs["columnar"][-1]
        same = same and a.pop("pay") == b.pop("pay")
        print(f"round {r + 1}: baseline_credit.py {a['wall']:.1f} s ({a['cpu']:.1f} s CPU, "
              f"{a['rss_mb']:.0f} MB), incentive run --engine columnar {b['wall']:.1f} s "
              f"({b['cpu']:.1f} s CPU, {b['rss_mb']:.0f} MB); load average {loadavg()}",
              flush=True)
    med = {k: {f: statistics.median(x[f] for x in v) for f in ("wall", "cpu", "rss_mb")}
           for k, v in runs.items()}
    ratio = statistics.median(b["cpu"] / a["cpu"] for a, b in zip(runs["baseline"],
                                                                  runs["columnar"]))
    print(f"median of {rounds}: baseline_credit.py {med['baseline']['wall']:.1f} s "
          f"({med['baseline']['cpu']:.1f} s CPU, {med['baseline']['rss_mb']:.0f} MB peak), "
          f"CLI --engine columnar {med['columnar']['wall']:.1f} s "
          f"({med['columnar']['cpu']:.1f} s CPU, {med['columnar']['rss_mb']:.0f} MB peak), "
          f"{ratio:.2f}x CPU; pay per payee and month the same to the cent: {same}")
    return 0 if same else 1


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workload", choices=("columnar", "credit"), default="columnar",
                    help="columnar.plan on this script's history, or credit_heavy.plan on "
                    "a gen_credit.py history")
    ap.add_argument("--deals", type=int, default=1_000_000)
    ap.add_argument("--reps", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--data", help="(columnar) where its generated histories are cached, "
                    "suffixed with the deals (default /tmp/incentive-bench/columnar); credit "
                    "histories are run_bench.py's, chosen by --deals and --reps")
    ap.add_argument("--end-to-end", action="store_true",
                    help="(credit) time whole command lines instead: the CLI with --engine "
                    "columnar against bench/baseline_credit.py, child CPU time and peak memory")
    ap.add_argument("--phases", action="store_true",
                    help="(credit) CPU time of each step of the CLI's columnar run")
    args = ap.parse_args(argv)
    if (args.end_to_end or args.phases) and args.workload != "credit":
        ap.error("--end-to-end and --phases need --workload credit")
    if args.data and args.workload == "credit":
        ap.error("--data is for --workload columnar: --workload credit reads run_bench.py's "
                 "cached history for --deals and --reps")
    if args.phases:
        import json

        print(json.dumps(phases(credit_data(args.deals, args.reps))))
        return 0
    if args.end_to_end:
        return main_end_to_end(credit_data(args.deals, args.reps), args.rounds)
    if args.workload == "credit":
        data, plan_path, loader, baseline = (credit_data(args.deals, args.reps), CREDIT_PLAN,
                                             load_credit_tables, BASELINE_CREDIT)
    else:
        data, plan_path, loader, baseline = (
            f"{args.data or '/tmp/incentive-bench/columnar'}-{args.deals}", PLAN, load_tables,
            BASELINE)
        if not os.path.exists(os.path.join(data, "events.csv")):
            t = time.perf_counter()
            generate(data, args.deals, args.reps)
            print(f"generated {data} in {time.perf_counter() - t:.1f} s")
    plan = api.load_plan(plan_path).plan
    compiled = compile_plan(plan, plan.effective_start, plan.effective_end, plan.effective_end)
    con = connect()
    t = time.perf_counter()
    loader(con, data)
    events = con.execute("SELECT count(*) FROM events").fetchone()[0]
    print(f"{os.path.basename(plan_path)} on {data}: loaded {events:,} events into DuckDB in "
          f"{time.perf_counter() - t:.1f} s; load average {loadavg()}")
    times = {"baseline": [], "columnar": []}
    cpu = {"baseline": [], "columnar": []}
    ratios, cpu_ratios = [], []
    results = {}
    for r in range(args.rounds):
        for name, sql in (("baseline", baseline), ("columnar", compiled.sql)):
            c, t = _cpu(), time.perf_counter()
            results[name] = con.execute(sql).fetchall()
            times[name].append(time.perf_counter() - t)
            cpu[name].append(_cpu() - c)
        ratios.append(times["columnar"][-1] / times["baseline"][-1])
        cpu_ratios.append(cpu["columnar"][-1] / cpu["baseline"][-1])
        print(f"round {r + 1}: baseline {times['baseline'][-1]:.2f} s "
              f"({cpu['baseline'][-1]:.2f} s CPU), columnar {times['columnar'][-1]:.2f} s "
              f"({cpu['columnar'][-1]:.2f} s CPU), ratio {ratios[-1]:.2f}x "
              f"({cpu_ratios[-1]:.2f}x CPU)")
    base = {(p, pp): (e, c, paid, carried) for p, pp, e, c, paid, carried in results["baseline"]}
    mine = {(p, pp): (e, c, paid, carried) for p, pp, _, _, e, _, c, paid, carried, *_
            in results["columnar"]}
    same = base == mine
    total = sum(v[2] for v in mine.values())
    print(f"statements: {len(mine):,}; the same to the cent: {same}; paid in all {total:,} USD")
    print(f"median: baseline {statistics.median(times['baseline']):.2f} s "
          f"({statistics.median(cpu['baseline']):.2f} s CPU), columnar "
          f"{statistics.median(times['columnar']):.2f} s "
          f"({statistics.median(cpu['columnar']):.2f} s CPU), ratio "
          f"{statistics.median(ratios):.2f}x ({statistics.median(cpu_ratios):.2f}x CPU) "
          f"(median of {args.rounds} rounds); load average {loadavg()}")
    if not same:
        diff = sorted(set(base.items()) ^ set(mine.items()))[:10]
        print("differences:", diff)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
