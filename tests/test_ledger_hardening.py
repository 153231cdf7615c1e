"""A ledger that cannot be trusted is never used (docs/ledger.md, Integrity).

Every case of issue 13 on the ledger: a broken hash chain, a tampered record that still
chains, a deleted seal, an empty or table-less file, a renamed plan, a plan now paid on other
pay periods, a lock held past the timeout, a ledger path that is no regular file. Each gives a
coded diagnostic naming the ledger file (and the record at fault), the documented exit code,
and leaves the ledger byte for byte as it was. Each code of the ledger layer of
incentive_dsl/codes.py is shown here (the golden case the registry asks for).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from pathlib import Path

import pytest

from incentive_dsl import api, cli, codes
from incentive_dsl.audit import ledger
from test_ledger import DROP_TRIGGERS, EVENTS, Workspace, _sql


@pytest.fixture
def ws(tmp_path, capsys) -> Workspace:
    return Workspace(tmp_path, capsys)


def rechain(path: str) -> None:
    """Recompute every record's seq, links and hash in chain order, and reset the id
    counters and triggers: what someone who edits records and knows the hashing would do. Only the
    content checks of `verify` can still tell."""
    con = sqlite3.connect(path)
    con.row_factory = sqlite3.Row
    for name in ledger.TRIGGER_NAMES:
        con.execute(f"DROP TRIGGER IF EXISTS {name}")
    rows = sorted(((dict(r), t) for t in ledger.TABLES
                   for r in con.execute(f"SELECT * FROM {t}")), key=lambda x: x[0]["seq"])
    prev = ledger.GENESIS
    sealed: dict[tuple, list[tuple[str, int, str]]] = {}  # (plan, period, run) -> records
    for n, (row, table) in enumerate(rows, 1):
        row["seq"], row["prev_hash"] = n, prev
        if table == "periods":  # the seal, over the records as re-hashed
            hashes = [h for _, _, h in sorted(sealed.get(
                (row["plan"], row["pay_period"], row["run_id"]), []))]
            row["digest"] = hashlib.sha256("\n".join(hashes).encode()).hexdigest()
        row["hash"] = prev = ledger.record_hash(prev, table, row)
        if table in ("lines", "statements"):
            sealed.setdefault((row["plan"], row["pay_period"], row["run_id"]), []).append(
                (table[0], n, row["hash"]))
        con.execute(f"UPDATE {table} SET seq = ?, prev_hash = ?, hash = ? WHERE id = ?",
                    (-n, row["prev_hash"], row["hash"], row["id"]))  # -n: seq is unique
        if table == "periods":
            con.execute("UPDATE periods SET digest = ? WHERE id = ?", (row["digest"], row["id"]))
    for table in ledger.TABLES:
        con.execute(f"UPDATE {table} SET seq = -seq")
        con.execute("UPDATE sqlite_sequence SET seq = (SELECT coalesce(max(id), 0) FROM "
                    f"{table}) WHERE name = '{table}'")
    con.commit()
    con.executescript(ledger._triggers())  # and the append-only triggers put back
    con.close()


def snapshot(path: str) -> bytes:
    return Path(path).read_bytes()


def everything(ws: Workspace, period: str = "2027-04", run_period: str = "2027-Q2"
               ) -> dict[str, tuple[int, str, str]]:
    """Each command that reads the ledger: (exit code, stdout, stderr)."""
    return {
        "close": ws.close(period),
        "run": ws.cli("run", str(ws.plan), *ws.data(), "--period", run_period, "--ledger",
                      ws.ledger, "--format", "json"),
        "verify": ws.cli("ledger", "verify", "--ledger", ws.ledger),
        "show": ws.cli("ledger", "show", "--ledger", ws.ledger),
    }


# ------------------------------------------------------------------------------ broken chains


def test_close_and_run_refuse_a_chain_verify_reports_broken(ws):
    """A tampered amount must never become a real adjustment."""
    assert ws.close("2027-Q1")[0] == 0
    target = ws.line_id("bob", "2027-02", "earning")
    _sql(ws.ledger, *DROP_TRIGGERS,
         f"UPDATE lines SET amount = '30000.00' WHERE id = {target}")
    before = snapshot(ws.ledger)
    found = everything(ws)
    for command in ("close", "run"):
        code, out, err = found[command]
        assert code == cli.EXIT_PROBLEMS, (command, err)
        assert f"{ws.ledger}: error[E-LEDGER-BROKEN]: the ledger is broken: lines #{target}" \
            in err and "does not match its hash" in err, err
        assert "nothing was read from it or written to it" in err and not out
        assert "Traceback" not in err
    assert found["verify"][0] == cli.EXIT_PROBLEMS
    assert f"BROKEN: lines #{target}" in found["verify"][1]
    assert snapshot(ws.ledger) == before


@pytest.mark.parametrize("damage, what", [
    ("UPDATE lines SET record = '{not json' WHERE id = 2", "its JSON is damaged"),
    ("UPDATE lines SET amount = 'lots' WHERE id = 2", "'lots' is not an amount"),
    ("UPDATE lines SET amount = '1E+999999' WHERE id = 2", "'1E+999999' is not an amount"),
    ("UPDATE lines SET amount = 'NaN' WHERE id = 2", "'NaN' is not an amount"),
    ("UPDATE lines SET record = '{}' WHERE id = 2", "the field 'amount' is missing"),
    ("UPDATE lines SET record = '[1]' WHERE id = 2", "it holds list, not dict"),
    ("UPDATE statements SET paid = '9e99' WHERE id = 2", "'9e99' is not an amount"),
    ("UPDATE runs SET periods = 'x' WHERE id = 1", "its JSON is damaged"),
    ("UPDATE runs SET plan_sources = '[{}]' WHERE id = 1", "the field 'path' is missing"),
    ("UPDATE runs SET pay_unit = 'fortnight' WHERE id = 1", "'fortnight' is unknown"),
    ("UPDATE periods SET end_date = '2027-02-30' WHERE id = 1", "day is out of range"),
    ("UPDATE periods SET paid_total = 'Infinity' WHERE id = 1", "'Infinity' is not an amount"),
])
def test_a_record_that_chains_but_cannot_be_read_is_named(ws, damage, what):
    """Edited and re-hashed with the whole chain after it: the hashes hold, the content does
    not. Every command names the file and the record, none raises."""
    assert ws.close("2027-Q1")[0] == 0
    table, rid = damage.split()[1], damage.rsplit("=", 1)[1].strip()
    _sql(ws.ledger, *DROP_TRIGGERS, damage)
    rechain(ws.ledger)
    before = snapshot(ws.ledger)
    found = everything(ws)
    name = f"{table} #{rid} (seq "
    for command, (code, out, err) in found.items():
        assert "Traceback" not in err and "internal error" not in err, (command, err)
        assert code == cli.EXIT_PROBLEMS, (command, code, err)
        if command == "verify":
            assert f"BROKEN: {name}" in out and "content cannot be read" in out and what in out
        else:
            assert f"{ws.ledger}: error[E-LEDGER-BROKEN]: " in err and name in err, err
            assert what in err, err
    assert snapshot(ws.ledger) == before


@pytest.mark.parametrize("damage, said", [
    ("UPDATE lines SET pay_period = '2027-04' WHERE id = 1",
     "lines #1 (seq 2): it belongs to pay period '2027-04', which its close did not seal"),
    ("UPDATE statements SET run_id = 7 WHERE id = 1",
     "statements #1 (seq 4): it belongs to pay period '2027-01', which its close did not seal"),
])
def test_a_record_moved_out_of_its_period_is_named(ws, damage, said):
    assert ws.close("2027-01")[0] == 0
    _sql(ws.ledger, *DROP_TRIGGERS, damage)
    rechain(ws.ledger)
    assert said in [str(p) for p in api.verify_ledger(ws.ledger).problems]
    code, _, err = ws.close("2027-02")
    assert code == cli.EXIT_PROBLEMS and "error[E-LEDGER-BROKEN]" in err


def test_an_adjustment_of_a_period_never_closed_is_named(ws):
    assert ws.close("2027-01")[0] == 0
    ws.write_events([e if e[0] != "E1" else ("E1", "D1", "2027-01-10", "booked", "30000", "ana")
                     for e in EVENTS])
    assert ws.close("2027-02")[0] == 0
    adjustment = ws.line_id("ana", "2027-02", "prior-period adjustment")
    assert api.verify_ledger(ws.ledger).ok
    _sql(ws.ledger, *DROP_TRIGGERS,
         f"UPDATE lines SET adj_period = '2026-12' WHERE id = {adjustment}")
    rechain(ws.ledger)
    problems = [str(p) for p in api.verify_ledger(ws.ledger).problems]
    assert any(p.startswith(f"lines #{adjustment} ") and "corrects pay period '2026-12', "
               "which was not closed before it" in p for p in problems), problems
    for code, _, err in (ws.close("2027-03"), everything(ws)["run"]):
        assert code == cli.EXIT_PROBLEMS and "error[E-LEDGER-BROKEN]" in err, err


def test_a_deleted_seal_is_named_even_with_the_chain_rebuilt(ws):
    assert ws.close("2027-Q1")[0] == 0
    _sql(ws.ledger, *DROP_TRIGGERS, "DELETE FROM periods WHERE id = 2")
    report = api.verify_ledger(ws.ledger)
    assert not report.ok and "missing (deleted)" in str(report.problems[0])
    _sql(ws.ledger, "UPDATE periods SET id = 2 WHERE id = 3")
    rechain(ws.ledger)
    problems = [str(p) for p in api.verify_ledger(ws.ledger).problems]
    assert "runs #1 (seq 1): it closed 2027-01, 2027-02, 2027-03 but the ledger holds seals " \
        "for 2027-01, 2027-03" in problems
    unsealed = [p for p in problems if "pay period '2027-02', which its close did not seal" in p]
    assert len(unsealed) == len(problems) - 1 == 3 + 2  # February's lines and statements
    before = snapshot(ws.ledger)
    for command, (code, out, err) in everything(ws).items():
        assert code == cli.EXIT_PROBLEMS and "Traceback" not in err, (command, err)
        assert "runs #1 (seq 1)" in out + err, (command, out, err)
    assert snapshot(ws.ledger) == before


def test_verify_head_fails_on_an_empty_or_table_less_file(ws):
    empty = ws.root / "empty.sqlite"
    empty.write_bytes(b"")
    tableless = ws.root / "tableless.sqlite"
    sqlite3.connect(tableless).execute("PRAGMA user_version = 0").connection.close()
    dropped = ws.root / "dropped.sqlite"
    assert ws.close("2027-01", "--ledger", str(dropped))[0] == 0
    _sql(str(dropped), *(f"DROP TABLE {t}" for t in ledger.TABLES))
    for path in (empty, tableless, dropped):
        code, out, err = ws.cli("ledger", "verify", "--ledger", str(path), "--head",
                                "3b1a98f66b902954")
        assert code == cli.EXIT_PROBLEMS, (path, out, err)
        assert "BROKEN" in out and "is not in the chain" in out, out
        code, out, _ = ws.cli("ledger", "verify", "--ledger", str(path))
        assert code == cli.EXIT_PROBLEMS and "BROKEN" in out and "intact" not in out, out
    assert "no ledger tables" in out
    for path, code, said in ((empty, cli.EXIT_USAGE, "error[E-LEDGER-FILE]: this file holds no "
                              "ledger tables"),
                             (dropped, cli.EXIT_PROBLEMS, "error[E-LEDGER-BROKEN]")):
        for args in (("run", str(ws.plan), *ws.data(), "--ledger", str(path)),
                     ("ledger", "show", "--ledger", str(path))):
            got, _, err = ws.cli(*args)
            assert got == code and said in err, (args, err)


@pytest.mark.parametrize("head", ["", "zzzz1234", "3b1a98f", "3b1a 98f66b"])
def test_verify_head_that_is_no_hash_is_a_usage_error(ws, head):
    """A mistyped head is not a ledger whose records were deleted (exit 1, BROKEN), and an
    empty one (`--head "$HEAD"` with HEAD unset) does not skip the check."""
    assert ws.close("2027-01")[0] == 0
    try:
        code = cli.main(["ledger", "verify", "--ledger", ws.ledger, "--head", head])
    except SystemExit as exc:
        code = exc.code
    out, err = ws.capsys.readouterr()
    assert code == cli.EXIT_USAGE and not out, out
    assert f"argument --head: '{head}' is not a head hash" in err
    head = ws.cli("ledger", "verify", "--ledger", ws.ledger)[1].split()[-1]
    code, out, _ = ws.cli("ledger", "verify", "--ledger", ws.ledger, "--head", head[:8].upper())
    assert code == 0 and "intact" in out


def test_a_refused_first_close_creates_no_ledger(ws):
    code, _, err = ws.close("2027-02")
    assert code == cli.EXIT_REFUSED and "while 2027-01 is open" in err
    assert not (ws.root / ".incentive").exists()


def test_a_close_that_finds_no_ledger_names_the_path(ws):
    """A plan moved away from its ledger, or a mistyped --ledger, finds no ledger: the refusal
    names the path it looked at and says there is none, not only that 2027-01 is open."""
    assert ws.close("2027-01")[0] == 0
    wrong = str(ws.root / "legder.sqlite")
    code, _, err = ws.close("2027-02", "--ledger", wrong)
    assert code == cli.EXIT_REFUSED and not os.path.exists(wrong)
    assert f"{wrong}: error[E-LEDGER-REFUSED]: 2027-02 cannot be closed while 2027-01 is " \
        "open" in err
    assert "hint: there is no ledger at this path yet; if earlier pay periods were closed in " \
        "another ledger, give it with --ledger" in err


# ------------------------------------------------------------------------------ the plan


def test_a_renamed_plan_cannot_close_closed_months_again(ws):
    assert ws.close("2027-Q1")[0] == 0
    before = snapshot(ws.ledger)
    ws.edit_plan('plan "Ledger test AE"', 'plan "Ledger test AE (renamed)"')
    for code, out, err in (ws.close("2027-01"), ws.close("2027-04"), everything(ws)["run"]):
        assert code == cli.EXIT_REFUSED, err
        assert f"{ws.ledger}: error[E-LEDGER-PLAN]: \"Ledger test AE (renamed)\" is " \
               f"\"Ledger test AE\" renamed" in err, err
        assert "2027-01 to 2027-03" in err and 'keep the name "Ledger test AE"' in err
    assert snapshot(ws.ledger) == before


def test_a_renamed_and_moved_plan_is_recognised_by_its_text(ws):
    assert ws.close("2027-Q1")[0] == 0
    moved = ws.root / "elsewhere" / "renamed.plan"
    moved.parent.mkdir()
    moved.write_text(ws.plan.read_text(encoding="utf-8").replace(
        'plan "Ledger test AE"', 'plan "AE 2027"'), encoding="utf-8")
    args = ("close", "2027-01", str(moved), *ws.data(), "--ledger", ws.ledger)
    code, _, err = ws.cli(*args)
    assert code == cli.EXIT_REFUSED and "error[E-LEDGER-PLAN]" in err
    assert '"AE 2027" is "Ledger test AE" renamed' in err
    # A copy for another team may differ only in its name: --new-plan says it is one.
    assert ws.cli(*args, "--new-plan")[0] == 0
    # The same file under a new name is a rename, --new-plan or not.
    ws.edit_plan('plan "Ledger test AE"', 'plan "Renamed AE"')
    code, _, err = ws.cli("close", "2027-04", str(ws.plan),
                          *ws.data(), "--new-plan")
    assert code == cli.EXIT_REFUSED and '"Renamed AE" is "Ledger test AE" renamed' in err


def test_a_new_plan_in_a_shared_ledger_needs_new_plan(ws):
    """Renamed, moved and edited cannot be recognised: a plan new to a ledger that holds
    others is refused until the close says it is a new plan."""
    assert ws.close("2027-Q1")[0] == 0
    other = ws.root / "other.plan"
    other.write_text(ws.plan.read_text(encoding="utf-8").replace(
        'plan "Ledger test AE"', 'plan "Other AE"').replace("at 10%", "at 11%"),
        encoding="utf-8")
    args = ("close", "2027-01", str(other), *ws.data(), "--ledger", ws.ledger)
    code, _, err = ws.cli(*args)
    assert code == cli.EXIT_REFUSED and "error[E-LEDGER-PLAN]" in err
    assert 'holds closes of "Ledger test AE"' in err and "--new-plan" in err
    code, _, err = ws.cli(*args, "--new-plan")
    assert code == 0, err
    assert ws.cli(*args)[0] == cli.EXIT_REFUSED  # now known: 2027-01 is closed
    assert api.verify_ledger(ws.ledger).ok


QUARTERLY = ("  paid monthly\n  draw 1,000 USD per month",
             "  paid quarterly\n  draw 3,000 USD per quarter")
FISCAL = ("  currency USD\n", "  currency USD\n  fiscal year starts in april\n")


@pytest.mark.parametrize("first, then, period, said", [
    (None, QUARTERLY, "2027-Q2", "its closed pay periods are months, it is now paid quarterly"),
    (QUARTERLY, FISCAL, "2028-Q1", "its fiscal year started in month 1, now in month 4"),
])
def test_other_pay_periods_are_refused(ws, first, then, period, said):
    """Paid quarterly, the recomputation has no 2027-01 .. 2027-03: every closed month would
    be reversed; a quarterly plan's quarters move with its fiscal year."""
    if first:
        ws.edit_plan(*first)
    assert ws.close("2027-Q1")[0] == 0
    before = snapshot(ws.ledger)
    ws.edit_plan(*then)
    assert api.check_paths([str(ws.plan)]).ok
    found = everything(ws, period, period)
    for command in ("close", "run"):
        code, out, err = found[command]
        assert code == cli.EXIT_REFUSED, (command, err)
        assert "error[E-LEDGER-PLAN]" in err and said in err and not out, err
    assert snapshot(ws.ledger) == before


def test_a_monthly_plan_may_move_its_fiscal_year(ws):
    """Months stay months: only the quota periods change, paid as adjustments."""
    assert ws.close("2027-Q1")[0] == 0
    ws.edit_plan(*FISCAL)
    assert ws.close("2027-04")[0] == 0


# ------------------------------------------------------------------------------ the file


def test_a_lock_held_past_the_timeout_exits_4(ws, monkeypatch):
    assert ws.close("2027-01")[0] == 0
    monkeypatch.setattr(ledger, "DEFAULT_TIMEOUT", 0.1)
    holder = sqlite3.connect(ws.ledger, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # not even readers get in
    try:
        found = everything(ws, "2027-02")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    for command, (code, out, err) in found.items():
        assert code == cli.EXIT_REFUSED, (command, code, out, err)
        assert f"{ws.ledger}: error[E-LEDGER-BUSY]: the ledger is busy" in err, err
    assert [p.label for p in api.ledger_history(ws.ledger).periods] == ["2027-01"]


def test_ledger_paths_that_are_no_regular_file(ws):
    fifo = ws.root / "fifo.sqlite"
    os.mkfifo(fifo)
    loop = ws.root / "loop.sqlite"
    loop.symlink_to(loop)
    dangling = ws.root / "dangling.sqlite"
    dangling.symlink_to(ws.root / "nowhere.sqlite")
    long_name = ws.root / ("x" * 300 + ".sqlite")
    cases = {str(fifo): "not a regular file", "/dev/zero": "not a regular file",
             str(loop): "cannot be used", str(dangling): "symbolic link to nothing",
             str(long_name): "File name too long", str(ws.root): "is a directory"}
    for path, said in cases.items():
        for args in (("close", "2027-01", str(ws.plan), *ws.data(), "--ledger", path),
                     ("run", str(ws.plan), *ws.data(), "--ledger", path),
                     ("ledger", "verify", "--ledger", path),
                     ("ledger", "show", "--ledger", path)):
            code, _, err = ws.cli(*args)
            assert code == cli.EXIT_USAGE, (args, err)
            assert f"{path}: error[E-LEDGER-FILE]: " in err and said in err, (args, err)
    assert not (ws.root / "nowhere.sqlite").exists()


def test_incentive_beside_the_plan_being_a_file(ws):
    (ws.root / ".incentive").write_text("not a directory\n", encoding="utf-8")
    code, _, err = ws.close("2027-01")
    assert code == cli.EXIT_USAGE and "error[E-LEDGER-FILE]" in err
    assert f"{ws.root / '.incentive'} is a file, not a directory" in err
    assert "Traceback" not in err
    code, _, err = ws.cli("ledger", "verify", "--plan", str(ws.plan))
    assert code == cli.EXIT_USAGE and "error[E-LEDGER-FILE]" in err


# ------------------------------------------------------------------------------ the codes


def _broken(ws):
    assert ws.close("2027-01")[0] == 0
    _sql(ws.ledger, *DROP_TRIGGERS, "UPDATE lines SET amount = '30000.00' WHERE id = 1")
    return ws.close("2027-02")


def _refused(ws):
    return ws.close("2027-02")


def _busy(ws):
    ws.close("2027-01")
    holder = sqlite3.connect(ws.ledger, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        return ws.close("2027-02")
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def _plan(ws):
    assert ws.close("2027-01")[0] == 0
    ws.edit_plan('plan "Ledger test AE"', 'plan "Ledger test AE 2.0"')
    return ws.close("2027-02")


SCENARIOS = {
    "E-LEDGER-FILE": lambda ws: ws.cli("run", str(ws.plan), *ws.data(), "--ledger",
                                       str(ws.root / "ledger.db")),
    "E-LEDGER-BROKEN": _broken,
    "E-LEDGER-REFUSED": _refused,
    "E-LEDGER-BUSY": _busy,
    "E-LEDGER-PLAN": _plan,
    "E-LEDGER-PERIOD": lambda ws: ws.close("2027-02-01"),
}


def test_every_ledger_code_has_a_case():
    assert set(SCENARIOS) == {c for c, e in codes.CODES.items() if e.layer == codes.LEDGER}


@pytest.mark.parametrize("code", sorted(SCENARIOS))
def test_ledger_code_is_reported(ws, code, monkeypatch):
    monkeypatch.setattr(ledger, "DEFAULT_TIMEOUT", 0.1)
    status, out, err = SCENARIOS[code](ws)
    assert f"error[{code}]: " in err, err
    assert status == {"E-LEDGER-BROKEN": cli.EXIT_PROBLEMS, "E-LEDGER-FILE": cli.EXIT_USAGE,
                      "E-LEDGER-PERIOD": cli.EXIT_USAGE}.get(code, cli.EXIT_REFUSED)
    assert codes.explain(code) is not None


@pytest.mark.parametrize("command", ["run", "explain", "statement"])
def test_the_help_of_a_command_reading_a_ledger_lists_its_refusal(ws, capsys, command):
    """run, explain and statement exit 4 when --ledger refuses the plan: their --help says so,
    as close's and the top-level one do."""
    assert ws.close("2027-Q1")[0] == 0
    ws.edit_plan('plan "Ledger test AE"', 'plan "Ledger test AE (renamed)"')
    extra = {"run": (), "explain": ("--payee", "bob"),
             "statement": ("--output-dir", str(ws.root / "statements"))}[command]
    code, _, err = ws.cli(command, str(ws.plan), *ws.data(), "--period", "2027-Q2",
                          "--ledger", ws.ledger, *extra)
    assert code == cli.EXIT_REFUSED and "error[E-LEDGER-PLAN]" in err, err
    for words in ([command, "--help"], ["--help"]):
        with pytest.raises(SystemExit):
            cli.main(words)
        assert "\n  4  refused by the ledger" in capsys.readouterr().out
    docs = Path(__file__).resolve().parents[1] / "docs"
    for page in ("diagnostics.md", "ledger.md"):
        assert f"`{command}`" in (docs / page).read_text(encoding="utf-8")


@pytest.mark.parametrize("keep", [0.5, 0.97])
def test_a_ledger_file_cut_short_is_broken_with_a_hint(ws, keep):
    """A ledger truncated (a copy cut short, a full disk) is a broken ledger, exit 1 with the
    way back, for every command; it said E-LEDGER-FILE (exit 2) without a hint, or exit 1 only
    from verify, depending on where the cut fell."""
    assert ws.close("2027-01")[0] == 0
    data = Path(ws.ledger).read_bytes()
    Path(ws.ledger).write_bytes(data[:int(len(data) * keep) // 4096 * 4096 + 100])
    before = snapshot(ws.ledger)
    code, out, err = ws.cli("ledger", "verify", "--ledger", ws.ledger)
    assert code == cli.EXIT_PROBLEMS and "BROKEN" in out and "damage" in out, (out, err)
    for args in (("ledger", "show", "--ledger", ws.ledger),
                 ("run", str(ws.plan), *ws.data(), "--ledger", ws.ledger),
                 ("close", "2027-02", str(ws.plan), *ws.data(), "--ledger", ws.ledger)):
        code, _, err = ws.cli(*args)
        assert code == cli.EXIT_PROBLEMS and "error[E-LEDGER-BROKEN]" in err, (args, err)
        assert "restore the ledger from a backup" in err and "Traceback" not in err, err
    assert snapshot(ws.ledger) == before


def test_close_starts_no_ledger_in_an_existing_empty_file(ws):
    """`verify` calls an empty file broken (a ledger wiped to nothing): `close` refuses it as
    `run --ledger` and `ledger show` do, instead of starting a new history there that pays
    every pay period again. Where no file is, it creates the ledger."""
    empty = ws.root / "empty.sqlite"
    empty.write_bytes(b"")
    code, out, err = ws.close("2027-01", "--ledger", str(empty))
    assert code == cli.EXIT_USAGE and "error[E-LEDGER-FILE]: this file holds no ledger tables" \
        in err and "remove the file" in err and "Traceback" not in err, (out, err)
    assert empty.read_bytes() == b""
    assert ws.close("2027-01", "--ledger", str(ws.root / "new.sqlite"))[0] == 0


def test_ledger_show_says_a_period_is_not_closed_and_which_are(ws):
    """`ledger show --period` of an open period said only "0 close(s) shown", as if the period
    had paid nothing; it names the closed pay periods (exit 0: the ledger was printed)."""
    assert ws.close("2027-Q1")[0] == 0
    code, out, err = ws.cli("ledger", "show", "--ledger", ws.ledger, "--period", "2027-05")
    assert code == 0, err
    assert '2027-05 is not closed; closed: 2027-01 to 2027-03 of "Ledger test AE"' in out, out
    code, out, _ = ws.cli("ledger", "show", "--ledger", ws.ledger, "--period", "2027-02")
    assert code == 0 and "not closed" not in out and "1 close(s) shown" in out, out


def test_verify_reports_a_deleted_seal_without_a_flood(ws):
    """A deleted seal leaves every line and statement of its period unsealed: verify named the
    gap, then listed each of them. It names the gap first and each problem once, with how many
    records it hits; --format json still lists each."""
    assert ws.close("2027-Q1")[0] == 0
    _sql(ws.ledger, "DROP TRIGGER periods_no_delete", "DELETE FROM periods WHERE id = 1")
    code, out, _ = ws.cli("ledger", "verify", "--ledger", ws.ledger)
    assert code == cli.EXIT_PROBLEMS
    text = out.splitlines()
    assert "BROKEN: " in text[0] and "of the chain before it are missing (deleted)" in text[0], out
    unsealed = [t for t in text if "which its close did not seal" in t]
    assert len(unsealed) == 1 and "more record(s), up to statements #" in out, out
    assert "--format json lists each" in out and "restore the ledger from a backup" in out
    code, out, _ = ws.cli("ledger", "verify", "--ledger", ws.ledger, "--format", "json")
    assert code == cli.EXIT_PROBLEMS
    assert sum("which its close did not seal" in p["text"]
               for p in json.loads(out)["problems"]) > 2


def test_amounts_are_written_to_the_minor_unit_and_old_records_still_verify(ws):
    """A zero amount was written "0" beside "275.00". New records hold "0.00"; a ledger whose
    records hold "0" (written before) still verifies, and its next close finds nothing to
    adjust, since only the text differs."""
    assert ws.close("2027-01")[0] == 0
    con = sqlite3.connect(ws.ledger)
    texts = [v for r in con.execute("SELECT paid, adjusted, record FROM statements")
             for v in (r[0], r[1], *json.loads(r[2]).values())]
    texts += [r[0] for r in con.execute("SELECT amount FROM lines UNION ALL "
                                        "SELECT paid_total FROM periods")]
    con.close()
    assert "0.00" in texts and "0" not in texts, texts
    # The ledger as the earlier version wrote it: zeros as "0", the chain as it was hashed.
    _sql(ws.ledger, *DROP_TRIGGERS,
         "UPDATE statements SET paid = '0' WHERE paid = '0.00'",
         "UPDATE statements SET adjusted = '0' WHERE adjusted = '0.00'",
         "UPDATE statements SET record = replace(record, '\"0.00\"', '\"0\"')")
    rechain(ws.ledger)
    assert api.verify_ledger(ws.ledger).ok
    code, out, err = ws.close("2027-02")
    assert code == 0 and "prior-period adjustments" not in out, (out, err)
    assert api.verify_ledger(ws.ledger).ok
