"""The ledger under a killed `close` and under two `close` commands at once.

A `close` of a month with a few thousand payout lines runs in a subprocess and is killed with
SIGKILL at random points: just after it has written its first records (it reports each chunk
with --verbose), at a random point from when it starts writing (sometimes after its commit),
or at a random delay from its start. After every kill the ledger verifies, holds either the
whole close or nothing of it, and takes the next close. The trials stay under 20 seconds
whatever the machine's speed (a slow one runs fewer of them).
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from incentive_dsl import api
from incentive_dsl.audit import ledger

ROOT = Path(__file__).resolve().parent.parent

PLAN = """\
plan "Ledger kill test"
  currency USD
  effective 2027-01-01 to 2027-12-31
  roles AE
  rounding half even per line

credit bookings "Bookings"
  on deal booked

commission core "Core commission"
  on bookings
  rate 5%

payout
  paid monthly
  draw 500 USD per month recoverable from all earnings
"""

PAYEES, DEALS = 1200, 1200
BUDGET = 16.0  # seconds for the kill trials; setup and the final checks come on top
pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("ledger_crash")
    (root / "k.plan").write_text(PLAN, encoding="utf-8")
    rng = random.Random(7)
    with open(root / "roster.csv", "w", encoding="utf-8") as f:
        f.write("payee_id,role,start\n")
        for i in range(PAYEES):
            f.write(f"p{i:04d},AE,2027-01-01\n")
    with open(root / "events.csv", "w", encoding="utf-8") as f:
        f.write("event_id,deal_id,date,kind,amount,currency,owner\n")
        for d in range(DEALS):
            day = 1 + rng.randrange(59)
            date = f"2027-01-{day:02d}" if day <= 31 else f"2027-02-{day - 31:02d}"
            f.write(f"E{d},D{d},{date},booked,{rng.randrange(1000, 30000)},USD,"
                    f"p{rng.randrange(PAYEES):04d}\n")
    loaded = api.load_plan(str(root / "k.plan"))
    dataset, diags = api.load_data(str(root / "events.csv"), str(root / "roster.csv"),
                                   plan=loaded.plan)
    assert not any(d.is_error for d in diags)
    base = str(root / "base.sqlite")
    # The history is in 2027, after today: its closes are early.
    api.close_period(loaded.versions, dataset, "2027-01", base, early=True)
    reference = str(root / "reference.sqlite")
    shutil.copy(base, reference)
    done = api.close_period(loaded.versions, dataset, "2027-02", reference, early=True)
    return root, loaded, dataset, base, done


def _close(root: Path, path: str, verbose: bool = True) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "incentive_dsl.cli", "close", "2027-02", str(root / "k.plan"),
           "--deals", str(root / "events.csv"), "--roster", str(root / "roster.csv"),
           "--ledger", path, "--early"]
    if verbose:
        cmd.append("--verbose")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen(cmd, cwd=root, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _state(path: str) -> tuple[str, ...]:
    return tuple(p.label for p in api.ledger_history(path).periods)


def test_a_close_killed_at_random_points_leaves_the_ledger_as_it_was(workspace):
    root, loaded, dataset, base, reference = workspace
    base_head = api.verify_ledger(base).head
    rng = random.Random()
    started = time.monotonic()
    outcomes, mid_write = [], 0
    trial = 0
    while trial < 2 or (time.monotonic() - started < BUDGET - 3.5 and trial < 10):
        path = str(root / f"trial{trial}.sqlite")
        shutil.copy(base, path)
        proc = _close(root, path)
        t0 = time.monotonic()
        if trial % 3 == 2:
            time.sleep(rng.uniform(0.0, 2.0))  # anywhere, usually while it evaluates
        else:
            # Wait until the first chunk of records is written inside the transaction (or
            # until it starts writing), then kill it soon (or at any point of the writing,
            # or after the commit).
            marker = "recorded " if trial % 3 == 0 else "recording "
            for line in proc.stderr:
                if marker in line:
                    break
            time.sleep(rng.uniform(0, 0.03) if trial % 3 == 0 else rng.uniform(0, 0.8))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if Path(path + "-journal").exists():
            mid_write += 1  # killed inside the write transaction: a hot journal is left
        report = api.verify_ledger(path)
        assert report.ok, (trial, report.problems)
        state = _state(path)
        if state == ("2027-01",):
            assert report.head == base_head
            outcomes.append("nothing")
        else:
            assert state == ("2027-01", "2027-02")
            h = api.ledger_history(path)
            feb = h.periods[-1]
            want = reference.periods[0]
            assert (feb.line_count, feb.statement_count, feb.paid) == (
                want.line_count, want.statement_count, want.paid)
            assert len([ln for ln in h.lines if ln.pay_period == "2027-02"]) == want.line_count
            outcomes.append("all")
        outcomes[-1] += f" after {time.monotonic() - t0:.2f}s"
        trial += 1
    assert time.monotonic() - started < 20, outcomes  # the trials' budget
    assert mid_write >= 1, outcomes  # at least one kill landed inside the transaction
    # The last ledger is still usable: the next close goes through.
    path = str(root / f"trial{trial - 1}.sqlite")
    nxt = "2027-02" if _state(path) == ("2027-01",) else "2027-03"
    done = api.close_period(loaded.versions, dataset, nxt, path, early=True)
    assert [p.label for p in done.periods] == [nxt]
    assert api.verify_ledger(path).ok


def test_two_closes_at_once_one_succeeds_the_other_is_refused(workspace):
    root, _, _, base, reference = workspace
    path = str(root / "concurrent.sqlite")
    shutil.copy(base, path)
    procs = [_close(root, path, verbose=False) for _ in range(2)]
    results = [(p.wait(timeout=60), p.stdout.read(), p.stderr.read()) for p in procs]
    for p in procs:
        p.stdout.close()
        p.stderr.close()
    codes = sorted(r[0] for r in results)
    assert codes == [0, 4], results
    refused = next(r for r in results if r[0] == 4)[2]
    assert ("error[E-LEDGER-REFUSED]" in refused and "already closed" in refused) or \
        "error[E-LEDGER-BUSY]" in refused
    assert "Traceback" not in refused
    assert api.verify_ledger(path).ok
    h = api.ledger_history(path)
    assert [p.label for p in h.periods] == ["2027-01", "2027-02"]
    assert len(h.runs) == 2
    assert h.periods[-1].line_count == reference.periods[0].line_count


def test_a_busy_ledger_is_refused_cleanly(workspace, tmp_path):
    root, loaded, dataset, base, _ = workspace
    path = str(tmp_path / "busy.sqlite")
    shutil.copy(base, path)
    import sqlite3

    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the ledger
    try:
        with pytest.raises(ledger.Refused, match="busy"):
            ledger.close(path, loaded.versions, dataset, "2027-02", timeout=0.2, early=True)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert _state(path) == ("2027-01",)
    assert api.verify_ledger(path).ok
