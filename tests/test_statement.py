"""Rep statements (audit/statement.py, `incentive statement`): the numbers are the run's,
hand-computed here on a small plan with a holdback, a clawback that leaves pay carried, and a
deal awaiting collection; the page is self-contained and escapes the data's text; every pay
period row adds up to what it paid on the shipped plans; and, when chromium is installed, a
real headless browser renders the page (DOM and screenshot) and prints it to PDF."""

import datetime as dt
import re
import struct
import subprocess
import tempfile
import zlib
from decimal import Decimal as D
from pathlib import Path

import attrs
import pytest

from incentive_dsl import api, cli
from incentive_dsl.audit import statement as rep
from incentive_dsl.check import check_trees
from incentive_dsl.data.records import Dataset, Event, PayeeRecord
from incentive_dsl.syntax import parse_text

from shipped import load_shipped_data

ROOT = Path(__file__).parents[1]

PLAN = '''\
plan "Statement test"
  currency USD
  effective 2027-01-01 to 2027-12-31
  roles AE
  rounding half even per line

quota bookings "Bookings quota"
  30,000 USD per quarter

credit bookings "Bookings"
  on deal booked

measure attainment "Attainment" = bookings / quota bookings

commission core "Core commission"
  on bookings
  rate 10%

clawback cancel "Cancellation clawback"
  when deal cancelled within 90 days of booking
  reverse core at original amounts

payout
  paid monthly
  50% when booked, 50% when collected
  hold back 10% for 1 month
'''

ANA = '<b>Ana & "co"</b>'  # payee ids are untrusted text


def _ev(i, deal, day, kind, amount=None):
    return Event(id=i, deal=deal, date=day, kind=kind, owner=ANA,
                 amount=None if amount is None else D(amount),
                 currency="USD" if amount is not None else None)


def _run():
    parsed = parse_text("st.plan", PLAN)
    (plan,), diags = check_trees([(parsed.tree, PLAN)])
    assert not [d for d in diags if d.is_error]
    events = (_ev("E1", "D1", dt.date(2027, 1, 10), "booked", 10_000),
              _ev("E2", "D2", dt.date(2027, 1, 20), "booked", 20_000),
              _ev("E3", "D3", dt.date(2027, 2, 1), "booked", 5_000),
              _ev("E4", "D1", dt.date(2027, 2, 15), "collected", 10_000),
              _ev("E5", "D3", dt.date(2027, 3, 5), "cancelled"))
    data = Dataset(events=events,
                   payees=(PayeeRecord(id=ANA, role="AE", start=dt.date(2026, 1, 1)),))
    window = api.window(plan, "2027-Q1")
    return api.run(plan, data, window.end), window


def test_statement_numbers_hand_computed():
    result, window = _run()
    st = api.statement(result, ANA, window)
    # January: 10% of D1 and D2 = 3,000, half when booked: 1,500 payable, 10% held: 1,350.
    # February: D1's collected half 500 + D3's booked half 250 = 750, 75 held, January's 150
    # released: 825. March: D3 cancelled: its paid half, -250, clawed back; February's 75
    # released; pay would be -175: nothing paid, 175 carried forward.
    assert [(r.pay_period, r.paid) for r in st.rows] == [
        ("2027-01", D("1350.00")), ("2027-02", D("825.00")), ("2027-03", D("0.00"))]
    assert [r.carry for r in st.rows] == [0, 0, D("175.00")]
    assert st.earned == D("3000")  # 1,000 + 2,000 + 500 - 500 (the clawback)
    assert st.paid == D("2175.00")
    assert (st.term("held back"), st.term("released")) == (D("-225.00"), D("225.00"))
    assert st.balance("negative pay carried forward") == D("175.00")
    assert st.term("awaiting collection") == D("-1000.00")  # D2's half; D3's nets out
    # earned - awaiting - held + released + carried forward = paid
    assert st.earned + sum(a for _, a in st.terms) == st.paid
    # The same numbers as `run`: its statements are the rows.
    assert st.rows == tuple(s for s in result.statements if s.payee == ANA)
    # Year to date against 10,000 a month: 30,000 / 10,000, 35,000 / 20,000, 35,000 / 30,000.
    (att,) = st.attainment
    assert [(p.month, p.quota) for p in att.points] == [
        ("2027-01", 10_000), ("2027-02", 20_000), ("2027-03", 30_000)]
    assert [round(p.value, 6) for p in att.points] == [D(3), D("1.75"), D("1.166667")]
    deals = {(d.deal, d.kind): d for d in st.deals}
    assert deals[("D2", "commission")].credit == D("20000")
    assert deals[("D2", "commission")].amount == D("2000")
    assert deals[("D3", "clawback")].amount == D("-500")


def test_html_is_self_contained_and_escaped():
    result, window = _run()
    page = api.statement_html(api.statement(result, ANA, window))
    assert "<b>Ana" not in page and "&lt;b&gt;Ana &amp; &quot;co&quot;&lt;/b&gt;" in page
    for outside in ("<script", "http://", "https://", "src=", "href=", "url(", "@import"):
        assert outside not in page.lower()
    assert "<svg" in page and "<style>" in page
    # Signs are explicit: the clawback and the holdback show a real minus sign.
    assert "\u2212500.00" in page and "\u2212225.00 USD" in page
    assert "+3,000.00 USD" in page  # earned
    again = api.statement_html(api.statement(result, ANA, window))
    assert again == page  # deterministic


def test_file_names_are_safe():
    assert rep.file_stem("abe.d", "2027-Q1") == "abe.d_2027-Q1"
    tricky = rep.file_stem("../../etc/passwd", "2027-Q1")
    assert "/" not in tricky and not tricky.startswith(".")
    assert rep.file_stem("a/b", "2027") != rep.file_stem("a_b", "2027")


@pytest.fixture(scope="module")
def shipped():
    loaded = api.load_plan(str(ROOT / "plans" / "enterprise_ae.plan"))
    dataset, _ = load_shipped_data(loaded.plan)
    window = api.window(loaded.plan, "2027-Q1")
    return loaded.plan, dataset, window, api.run(loaded.plan, dataset, window.end)


def test_rows_add_up_to_paid_on_shipped_plan(shipped):
    plan, dataset, window, result = shipped
    payees = rep.payees_of(result, window)
    assert len(payees) > 20
    for payee in payees:
        st = api.statement(result, payee, window)
        for r in st.rows:  # the page's columns are the flows that add up to paid
            assert sum(getattr(r, c) for c, _ in rep.COLUMNS if c != "paid") == r.paid
        assert st.earned + sum(a for _, a in st.terms) == st.paid
        tree = api.explain(result, payee, window)
        head = tree.text  # explain's earned and paid are the statement's
        assert f"earned {rep.fmt(st.earned, 'USD')}" in head and \
            f"paid {rep.fmt(st.paid, 'USD')}" in head


def test_cli_writes_one_page_per_payee(tmp_path, capsys):
    out = tmp_path / "out"
    code = cli.main(["statement", str(ROOT / "plans" / "enterprise_ae.plan"), "--data",
                     str(ROOT / "plans" / "data"), "--period", "2027-Q1", "--payee", "abe.d",
                     "--payee", "ana.b", "--output-dir", str(out)])
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == ["abe.d_2027-Q1.html", "ana.b_2027-Q1.html"]
    assert "Commission statement: abe.d" in (out / "abe.d_2027-Q1.html").read_text()
    code = cli.main(["statement", str(ROOT / "plans" / "enterprise_ae.plan"), "--data",
                     str(ROOT / "plans" / "data"), "--payee", "abe", "--output-dir", str(out)])
    assert code == 2 and "no payee 'abe'" in capsys.readouterr().err


def test_cli_pdf_without_renderer_says_so(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(rep, "pdf_renderer", lambda: None)
    code = cli.main(["statement", str(ROOT / "plans" / "enterprise_ae.plan"), "--data",
                     str(ROOT / "plans" / "data"), "--period", "2027-01", "--pdf",
                     "--output-dir", str(tmp_path)])
    assert code == 2
    assert "no PDF renderer is installed" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


# ------------------------------------------------------------------------------ real browser

BROWSER = rep.chromium()
needs_browser = pytest.mark.skipif(
    BROWSER is None, reason="no headless chromium on PATH (apt-get install chromium): the "
                            "browser rendering tests are skipped")


def _browser(*args: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(rep.browser_command(BROWSER, profile, *args), capture_output=True,
                              timeout=120, check=False)


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    result, window = _run()
    path = tmp_path_factory.mktemp("page") / "ana.html"
    path.write_text(api.statement_html(api.statement(result, ANA, window)), encoding="utf-8")
    return path


@needs_browser
def test_browser_renders_the_totals(page):
    done = _browser("--dump-dom", page.as_uri())
    assert done.returncode == 0, done.stderr[-500:]
    dom = done.stdout.decode()
    # The browser parsed the payee's name as text, not as markup.
    assert "<b>" not in dom and "&lt;b&gt;Ana &amp; \"co\"&lt;/b&gt;" in dom
    total = re.search(r'<tr class="total" id="pay-total">(.*?)</tr>', dom, re.S).group(1)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", total)
    assert cells[0] == "Total" and cells[1] == "3,000.00" and cells[-1] == "2,175.00"
    paid = re.search(r'<tr class="total" id="reconciled">(.*?)</tr>', dom, re.S).group(1)
    assert re.findall(r"<td[^>]*>(.*?)</td>", paid) == ["Paid", "2,175.00"]
    assert dom.count("<rect") == 3  # one bar per month of the year to date


def _png_rows(data: bytes) -> tuple[int, int, set[bytes]]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height, bpp = 8, b"", 0, 0, 4
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            bpp = {2: 3, 6: 4}[colour] * depth // 8
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = 1 + width * bpp
    assert len(raw) == stride * height
    return width, height, {raw[i * stride:(i + 1) * stride] for i in range(height)}


@needs_browser
def test_browser_screenshot_has_content(page, tmp_path):
    shot = tmp_path / "shot.png"
    done = _browser("--window-size=1000,1200", f"--screenshot={shot}", page.as_uri())
    assert done.returncode == 0 and shot.is_file(), done.stderr[-500:]
    width, height, rows = _png_rows(shot.read_bytes())
    assert (width, height) == (1000, 1200)
    # A blank page gives a handful of distinct scanlines; text, tables and the chart hundreds.
    assert len(rows) > 200


@needs_browser
def test_pdf_via_chromium(page, tmp_path, monkeypatch):
    monkeypatch.setattr(rep, "pdf_renderer", lambda: BROWSER)
    pdf = tmp_path / "ana.pdf"
    assert rep.write_pdf(str(page), str(pdf)) is None
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-") and len(data) > 5_000


def _january_closed(tmp_path):
    """The plan loaded from a file, its data, and a ledger in which 2027-01 is closed."""
    plan_path = tmp_path / "st.plan"
    plan_path.write_text(PLAN, encoding="utf-8")
    loaded = api.load_plan(str(plan_path))
    result, _ = _run()
    data = result.engine.dataset
    ledger_path = str(tmp_path / "ledger.sqlite")
    api.close_period(loaded.versions, data, "2027-01", ledger_path, early=True)  # after today
    return loaded, data, ledger_path


def test_prior_period_adjustments_from_the_ledger(tmp_path):
    loaded, data, ledger_path = _january_closed(tmp_path)
    # D1 was booked at 12,000, not 10,000: January paid 500 of its commission, now 600, and
    # held 150 where 10% of 1,600 is 160.
    events = tuple(e if e.id != "E1" else attrs.evolve(e, amount=D(12_000))
                   for e in data.events)
    data = attrs.evolve(data, events=events)
    window = api.window(loaded.plan, "2027-02")
    rerun = api.run(loaded.versions, data, window.end)
    view = api.with_ledger(rerun, data, ledger_path, window)
    st = api.statement(rerun, ANA, window, view)
    got = sorted((a.closed_period, a.what.split(" [")[0], a.old, a.new, a.amount)
                 for a in st.adjustments)
    assert got == [("2027-01", "deal D1, rule core (earning line)", D("500.00"), D("600.00"),
                    D("100.00")),
                   ("2027-01", "rule payout (holdback line)", D("-150.00"), D("-160.00"),
                    D("-10.00"))]
    (row,) = st.rows
    assert row.adjusted == D("90.00")
    assert sum(getattr(row, c) for c, _ in rep.COLUMNS if c != "paid") == row.paid
    assert st.term("prior-period adjustments") == D("90.00")
    page = api.statement_html(st)
    assert 'id="adjustments"' in page and "data change" in page


def test_carried_prior_period_adjustments_show_on_the_summary(tmp_path):
    """A late cancellation that would make pay negative is carried forward: the summary card
    says so instead of "nothing carried"."""
    loaded, data, ledger_path = _january_closed(tmp_path)
    # D2 cancelled in January, after the close: January paid 1,000 of its commission and held
    # 150 where 10% of D1's 500 is 50: adjustments -1,000 + 100 = -900. February pays D3's
    # booked half 250, D1's collected half 500, less 75 held, plus January's 50 released:
    # 725 - 900 = -175, carried forward.
    data = attrs.evolve(data, events=data.events + (
        _ev("E6", "D2", dt.date(2027, 1, 25), "cancelled"),))
    window = api.window(loaded.plan, "2027-02")
    rerun = api.run(loaded.versions, data, window.end)
    st = api.statement(rerun, ANA, window, api.with_ledger(rerun, data, ledger_path, window))
    assert st.term("prior-period adjustments") == D("-900.00")
    assert st.balance("prior-period adjustments carried forward") == D("175.00")
    assert st.paid == 0
    card = re.search(r'Carried forward</div><div class="v">([^<]*)</div>'
                     r'<div class="n">([^<]*)</div>', api.statement_html(st)).groups()
    assert card == ("−175.00 USD", "prior-period adjustments carried to later pay periods "
                                  "and recovered from them")


def test_a_closed_period_corrected_later_says_so(tmp_path):
    """January's statement, read after February paid a correction of it, reconciles through
    the correction, named as such: it is no adjustment paid in January, and the page does not
    say that the recomputation agrees with what January paid."""
    loaded, data, ledger_path = _january_closed(tmp_path)
    # D1 booked at 12,000, not 10,000: February pays January's corrections, +100 of the
    # earning and -10 of the holdback.
    data = attrs.evolve(data, events=tuple(
        e if e.id != "E1" else attrs.evolve(e, amount=D(12_000)) for e in data.events))
    rerun = api.run(loaded.versions, data, api.window(loaded.plan, "2027-02").end)
    api.close_period(loaded.versions, data, "2027-02", ledger_path, result=rerun, early=True)
    window = api.window(loaded.plan, "2027-01")
    st = api.statement(rerun, ANA, window, api.with_ledger(rerun, data, ledger_path, window))
    # January paid 1,350; today it earns 3,200, 1,600 payable, 160 held: 1,440.
    assert st.paid == D("1350.00") and st.earned == D("3200")
    assert st.term("prior-period adjustments") == 0
    # Held back is as recorded (-150); D1's earning, paid 500 in January, is now 600.
    assert st.term("paid here, corrected in later pay periods") == D("-100.00")
    assert st.earned + sum(a for _, a in st.terms) == st.paid
    page = api.statement_html(st)
    assert "recomputation agrees" not in page
    assert ("None paid in this period. Later pay periods corrected the earnings it paid by "
            "+100.00 USD") in page


SPIFF_ONLY = '''\
plan "SPIFF only"
  currency USD
  effective 2027-01-01 to 2027-12-31
  roles AE
  rounding half even per line

spiff big "Big deals"
  on deal booked where deal.amount >= 50,000 USD
  during 2027-01-01 to 2027-12-31
  pay 500 USD
'''


def test_a_statement_with_nothing_earned_says_why(tmp_path):
    # ana's one deal is under the SPIFF's 50,000: the page said only "Nothing was earned in
    # this period", where explain lists the rule that turned the deal away and why.
    (tmp_path / "s.plan").write_text(SPIFF_ONLY)
    (tmp_path / "events.csv").write_text("event_id,deal_id,date,kind,amount,currency,owner\n"
                                         'E1,D1,2027-02-10,booked,"10,000",USD,ana\n')
    (tmp_path / "roster.csv").write_text("payee_id,role,start\nana,AE,2026-01-01\n")
    plan = api.load_plan(str(tmp_path / "s.plan")).plan
    dataset, _ = api.load_data(str(tmp_path / "events.csv"), str(tmp_path / "roster.csv"),
                               plan=plan)
    st = api.statement(api.run(plan, dataset), "ana", plan.calendar.parse("2027-Q1"))
    reason = ("big: E1 — the SPIFF's 'where' condition does not hold "
              "(where deal.amount >= 50,000 USD)")
    assert st.not_paid == (reason,)
    page = api.statement_html(st)
    assert ('<ul id="not-paid"><li>' + reason.replace("'", "&#x27;").replace(">", "&gt;")
            + "</li></ul>") in page


def test_a_statement_groups_many_skips_of_one_rule_for_one_reason_as_explain_does(tmp_path):
    # Five deals under the SPIFF's 50,000: one line for the rule and reason, the first three
    # deals named, as `explain` says it, not five lines with the same reason.
    (tmp_path / "s.plan").write_text(SPIFF_ONLY)
    rows = "".join(f'E{i},D{i},2027-02-1{i},booked,"10,000",USD,ana\n' for i in range(1, 6))
    (tmp_path / "events.csv").write_text("event_id,deal_id,date,kind,amount,currency,owner\n"
                                         + rows)
    (tmp_path / "roster.csv").write_text("payee_id,role,start\nana,AE,2026-01-01\n")
    plan = api.load_plan(str(tmp_path / "s.plan")).plan
    dataset, _ = api.load_data(str(tmp_path / "events.csv"), str(tmp_path / "roster.csv"),
                               plan=plan)
    result = api.run(plan, dataset)
    st = api.statement(result, "ana", plan.calendar.parse("2027-Q1"))
    assert st.not_paid == ("big: 5 events not paid — the SPIFF's 'where' condition does not "
                           "hold (where deal.amount >= 50,000 USD): E1, E2, E3 and 2 more",)
    explained = api.explain(result, "ana", plan.calendar.parse("2027-Q1"), grouped=True)
    assert any(line.endswith(st.not_paid[0]) for line in explained.lines())
