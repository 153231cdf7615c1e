"""The diagnostic code registry (incentive_dsl/codes.py) and docs/diagnostics.md.

Every code the package can emit has an entry, the `D-` codes of data files included; the
document is generated from the registry and must not go stale. The wrong and fixed fragments are
checked: plan fragments by the checker (that every plan code is also shown by a golden file is
checked in tests/test_golden_check.py), data files by the data loaders.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

import pytest

from incentive_dsl import codes

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "incentive_dsl"
DOC = ROOT / "docs" / "diagnostics.md"
CODE_LITERAL = re.compile(r"""["']([EWD]-[A-Z]+(?:-[A-Z]+)*)["']""")


def emitted_codes() -> dict[str, set[str]]:
    """Code -> the package files (relative to incentive_dsl/) whose source names it."""
    found: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "codes.py" and path.parent == PACKAGE:
            continue
        for code in CODE_LITERAL.findall(path.read_text(encoding="utf-8")):
            found.setdefault(code, set()).add(path.relative_to(PACKAGE).as_posix())
    return found


def test_every_emitted_code_is_registered():
    missing = sorted(set(emitted_codes()) - set(codes.CODES))
    assert not missing, (f"add an entry to incentive_dsl/codes.py for {', '.join(missing)} "
                         "(and a golden case), then refresh docs/diagnostics.md")


def test_every_registered_code_is_emitted():
    stale = sorted(set(codes.CODES) - set(emitted_codes()))
    assert not stale, f"no code emits {', '.join(stale)} any more: remove its entry"


def test_run_time_codes_come_from_the_run():
    """Codes of the data layer are the only ones without a golden plan; they must really be
    found in data (by the loaders or while running plans on data), not by parsing or checking.
    (The CLI names D-FILE to choose its exit code.)"""
    where = emitted_codes()
    for e in codes.CODES.values():
        if e.layer == codes.DATA:
            assert all(f.startswith(("eval/", "data/")) or (f, e.code) == ("cli.py", "D-FILE")
                       for f in where[e.code]), (e.code, where[e.code])
            assert any(f.startswith(("eval/", "data/")) for f in where[e.code]), e.code


def test_every_data_file_code_is_registered_as_data():
    """Every D- code the source names is registered, in the data layer, with a data file (or
    command line) as its example instead of a plan fragment."""
    data_codes = {c for c in emitted_codes() if c.startswith("D-")}
    assert data_codes, "the data loaders emit D- codes"
    assert not data_codes - set(codes.CODES), sorted(data_codes - set(codes.CODES))
    for code in sorted(data_codes):
        entry = codes.CODES[code]
        assert entry.layer == codes.DATA, code
        assert entry.lang in ("csv", "toml", "text"), (code, entry.lang)
        assert (entry.file is None) == (entry.lang == "text"), code
    for entry in codes.CODES.values():
        if entry.lang != "plan" and entry.layer != codes.LEDGER:
            assert entry.code.startswith("D-"), entry.code


@pytest.mark.parametrize("entry", codes.CODES.values(), ids=lambda e: e.code)
def test_entry_is_complete(entry: codes.Code):
    assert re.fullmatch(r"[EWD]-[A-Z]+(-[A-Z]+)*", entry.code)
    assert entry.layer in codes.LAYERS
    assert entry.title and len(entry.title) <= 70 and entry.title == entry.title.strip()
    assert not entry.title.endswith("."), "titles are phrases, without a full stop"
    assert len(entry.explanation) >= 80 and entry.explanation.endswith(".")
    assert entry.bad.strip() and entry.fixed.strip() and entry.bad != entry.fixed
    assert "\t" not in entry.fixed, "the fixed example is laid out as `incentive fmt` would"
    if entry.code.startswith("D-"):
        assert entry.severities and set(entry.severities) <= {"error", "warning", "note"}
        assert entry.severity == " or ".join(entry.severities)
    else:
        assert not entry.severities
        assert (entry.severity == "warning") == entry.code.startswith("W-")


def test_lookup_and_suggest():
    assert codes.lookup(" e-tier-gap ") is codes.CODES["E-TIER-GAP"]
    assert codes.lookup(" d-payee ") is codes.CODES["D-PAYEE"]
    assert codes.lookup("E-NOPE") is None
    assert codes.suggest("E-TIER-GAPS") == "E-TIER-GAP"
    assert codes.suggest("D-PAYE") == "D-PAYEE"
    assert codes.suggest("xyzzy") is None


def test_docs_are_generated_from_the_registry():
    text = codes.render_markdown()
    assert DOC.read_text(encoding="utf-8") == text, (
        "docs/diagnostics.md is stale; refresh it with: "
        "python -m incentive_dsl.codes > docs/diagnostics.md")


def test_docs_cover_every_code_and_the_format():
    text = codes.render_markdown()
    for code in codes.CODES:
        assert f"\n### {code}\n" in text
        assert f"](#{codes.anchor(code)})" in text
    assert "python -m incentive_dsl.codes > docs/diagnostics.md" in text
    assert "PATH:LINE:COLUMN: SEVERITY[CODE]: MESSAGE" in text
    for exit_code in ("`0`", "`1`", "`2`", "`3`"):
        assert f"| {exit_code} |" in text


def test_data_examples_render_as_data_files():
    text = codes.render_markdown()
    for e in codes.CODES.values():
        section = text.split(f"\n### {e.code}\n", 1)[1].split("\n### ", 1)[0]
        assert section.count(f"```{e.lang}\n") == 2, e.code
        if e.file is not None:
            assert f"Wrong (`{e.file}`):" in section and f"Right (`{e.file}`):" in section
        explained = codes.explain(e.code)
        assert (f"Wrong ({e.file}):" in explained) == (e.file is not None), e.code


# ------------------------------------------------------------------ the examples are right

CONTEXT_HEADER = """plan "Enterprise AE 2027"
  currency USD
  effective 2027-01-01 to 2027-12-31
  roles AE, SE
"""
# Declarations the fragments may use; each is added unless the fragment declares it itself.
CONTEXT_BLOCKS = {
    "fields": "fields\n  deal.product text\n",
    "quota bookings": 'quota bookings "Bookings quota"\n  250,000 USD per quarter\n',
    "credit bookings": 'credit bookings "New-business bookings"\n  on deal booked\n'
                       "  split as recorded\n",
    "measure attainment": "measure attainment = bookings / quota bookings\n",
    "commission core": 'commission core "Core commission"\n  on bookings\n'
                       "  marginal rates by attainment per quarter\n"
                       "    from 0% to 100% at 8%\n    from 100% at 12%\n",
}
# Fragments that are not plan text, or not one file (file, data and versions layers aside).
NOT_A_FRAGMENT = {"E-DEPTH"}  # its wrong example stands for 101 levels of parentheses


def in_context(fragment: str) -> str:
    """A whole plan file around a fragment: the header (unless the fragment starts with its
    own) and the declarations it does not make itself."""
    if fragment.startswith("plan "):
        header, _, rest = fragment.partition("\n\n")
        if "\n  roles " not in header:
            header += "\n  roles AE, SE"
        header += "\n"
    else:
        header, rest = CONTEXT_HEADER, fragment
    blocks = [b for key, b in CONTEXT_BLOCKS.items()
              if not re.search(rf"^{key}\b", fragment, re.M)]
    return "\n".join([header, *blocks, rest, ""])


def codes_found(text: str) -> set[str]:
    from incentive_dsl.check import check_trees
    from incentive_dsl.syntax import parse_text

    parsed = parse_text("fragment.plan", text)
    if any(d.is_error for d in parsed.diagnostics):
        return {d.code for d in parsed.diagnostics}
    _, found = check_trees([(parsed.tree, text)])
    return {d.code for d in found}


@pytest.mark.parametrize(
    "entry", [e for e in codes.CODES.values()
              if e.layer in (codes.SYNTAX, codes.CHECK) and e.code not in NOT_A_FRAGMENT],
    ids=lambda e: e.code)
def test_examples_show_their_code(entry: codes.Code):
    """In a small plan around it, the wrong fragment gets the code; the fixed one gets neither
    it nor any error."""
    bad = entry.bad + "\n" if entry.code == "E-PLAN" else in_context(entry.bad)
    assert entry.code in codes_found(bad), bad
    found = codes_found(in_context(entry.fixed))
    assert entry.code not in found and not any(c.startswith("E-") for c in found), found


# ------------------------------------------------------------------ the data examples are right

# A plan and a small dataset the data fragments are loaded with: each fragment is a whole file
# that replaces the file of the same name; the other files are these.
DATA_PLAN = """plan "Data fragments"
  currency USD
  effective 2027-01-01 to 2027-12-31
  roles AE, SE, MGR
  stages "discovery", "demo", "proposal"
  activities "meeting"
  channels "email", "rep"

fields
  deal.type one of "new_business", "renewal", "expansion"

quota bookings "Bookings quota"
  250,000 USD per quarter
  from data
  normalize by territory index

credit bookings "Bookings"
  on deal booked
  split as recorded

measure attainment = bookings / quota bookings

commission core "Core commission"
  on bookings
  rate 10%
  when attainment reaches 0%
"""
DATA_FILES = {
    "events.csv": 'event_id,deal_id,date,kind,amount,currency,owner\n'
                  'E1,D1,2027-02-10,booked,"100,000.00",USD,ana\n'
                  'E2,D2,2027-03-05,booked,"50,000.00",EUR,ana\n',
    "roster.csv": "payee_id,role,start,end,manager,team,territory\n"
                  "mia,MGR,2027-01-01,,,west,east\n"
                  "ana,AE,2027-01-01,,mia,west,east\n"
                  "sam,SE,2027-01-01,,mia,west,east\n",
    "quotas.csv": 'payee_id,quota,period,amount,currency\nana,bookings,2027-Q1,"250,000",USD\n',
    "fx.csv": "currency,target,date,rate\nEUR,USD,2027-01-01,1.08\n",
    "territories.csv": "territory,index\neast,110%\nwest,95%\n",
}
# Data entries whose fragments are not a file of this dataset: a CRM mapping's TOML (the
# mapping tests, tests/test_mapping.py, show those codes) and a command line (tested below).
NOT_A_DATA_FILE = {"D-MAP", "D-ALIAS", "D-MAPPED", "D-FILE"}


def _data_plan():
    from incentive_dsl.check import check_trees
    from incentive_dsl.syntax import parse_text

    parsed = parse_text("data_fragments.plan", DATA_PLAN)
    plans, found = check_trees([(parsed.tree, DATA_PLAN)])
    assert plans, [d.message for d in found]
    return plans[0]


def data_codes_found(tmp_path, file: str, content: bytes) -> tuple[set[str], list]:
    """Load the context dataset with `file` replaced by `content`: (codes, error messages)."""
    from incentive_dsl.data.loaders import load_dataset

    for name, text in DATA_FILES.items():
        (tmp_path / name).write_bytes(text.encode("utf-8"))
    (tmp_path / file).write_bytes(content)
    _, diags = load_dataset(tmp_path / "events.csv", tmp_path / "roster.csv",
                            quotas=tmp_path / "quotas.csv", fx=tmp_path / "fx.csv",
                            territories=tmp_path / "territories.csv", plan=_data_plan())
    return {d.code for d in diags}, [f"{d.code}: {d.message}" for d in diags if d.is_error]


def _as_bytes(entry: codes.Code, text: str, bad: bool) -> bytes:
    if entry.code == "D-ENCODING" and bad:
        # The fragment writes the Windows-1252 byte it stands for as \xe9.
        return codecs.decode(text, "unicode_escape").encode("cp1252") + b"\n"
    return (text + "\n").encode("utf-8")


def test_the_context_data_is_clean(tmp_path):
    found, errors = data_codes_found(tmp_path, "events.csv", DATA_FILES["events.csv"].encode())
    assert not found, found


@pytest.mark.parametrize(
    "entry", [e for e in codes.CODES.values() if e.code.startswith("D-")
              and e.code not in NOT_A_DATA_FILE], ids=lambda e: e.code)
def test_data_examples_show_their_code(entry: codes.Code, tmp_path):
    """Loaded with the context dataset, the wrong file gets the code; the fixed one gets
    neither it nor any error."""
    assert entry.file in DATA_FILES, entry.file
    found, _ = data_codes_found(tmp_path, entry.file, _as_bytes(entry, entry.bad, bad=True))
    assert entry.code in found, (entry.bad, found)
    found, errors = data_codes_found(tmp_path, entry.file, _as_bytes(entry, entry.fixed, False))
    assert entry.code not in found and not errors, (entry.fixed, found, errors)


def test_file_example_shows_its_code(tmp_path):
    """D-FILE's example names a spreadsheet where a CSV file is needed."""
    from incentive_dsl.data.loaders import load_events

    entry = codes.CODES["D-FILE"]
    bad = re.search(r"--deals (\S+)", entry.bad).group(1)
    fixed = re.search(r"--deals (\S+)", entry.fixed).group(1)
    assert bad.endswith(".xlsx") and fixed.endswith(".csv")
    for name in (bad, fixed):
        (tmp_path / Path(name).name).write_text(DATA_FILES["events.csv"], encoding="utf-8")
    _, diags = load_events(tmp_path / Path(bad).name)
    assert "D-FILE" in {d.code for d in diags}
    _, diags = load_events(tmp_path / Path(fixed).name)
    assert not diags
