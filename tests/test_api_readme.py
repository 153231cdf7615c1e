"""The Python API as README.md shows it: the sample runs as written, and a caller's mistakes
(a plan with errors, a mistyped period) come back as errors that say what is wrong, not as
an AttributeError deep inside a run or as a silent 'everything'."""

import re

import pytest

from incentive_dsl import api
from shipped import ROOT, load_shipped_data

BAD_PLAN = 'plan "x"\n  currency USD\n  rule foo:\n'


def _readme_sample() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Python API", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_readme_python_sample_runs_as_written(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)  # its paths are relative to the repository
    exec(compile(_readme_sample(), "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "abe.d 2027-01 275.00" in out.splitlines()
    assert "how earned becomes paid in 2027-Q1" in out


def test_a_mistyped_period_raises_and_says_why():
    plan = api.load_plan(str(ROOT / "plans" / "enterprise_ae.plan")).plan
    with pytest.raises(api.NotAPeriod, match="write it in capitals, 2027-Q1"):
        api.window(plan, "2027-q1")
    with pytest.raises(api.NotAPeriod,
                       match="'2027-Q5' is not a period: a year has quarters Q1 to Q4"):
        api.window([plan], "2027-Q5")


def test_a_plan_with_errors_is_named_when_it_is_used(tmp_path):
    path = tmp_path / "bad.plan"
    path.write_text(BAD_PLAN, encoding="utf-8")
    loaded = api.load_plan(str(path))
    assert loaded.plan is None and loaded.diagnostics
    good = api.load_plan(str(ROOT / "plans" / "enterprise_ae.plan")).plan
    dataset, _ = load_shipped_data(good)
    for call in (lambda: api.run(loaded.plan, dataset),
                 lambda: api.window(loaded.plan, "2027-Q1"),
                 lambda: api.plan_document(loaded.plan)):
        with pytest.raises(TypeError, match="load_plan gives plan=None when the plan has errors"):
            call()


def test_the_sample_stops_on_a_plan_with_errors(tmp_path, monkeypatch):
    (tmp_path / "plans").mkdir()
    (tmp_path / "plans" / "enterprise_ae.plan").write_text(BAD_PLAN, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as stop:
        exec(compile(_readme_sample(), "README.md", "exec"), {})
    assert "error[E-SYNTAX]" in str(stop.value.code)


def test_data_with_a_bad_row_gives_the_other_records_and_api_run_evaluates_them(tmp_path):
    # As README.md says: the command line refuses data with errors; api.run runs what it gets.
    plan = api.load_plan(str(ROOT / "plans" / "enterprise_ae.plan")).plan
    lines = (ROOT / "plans" / "data" / "events.csv").read_text(encoding="utf-8").splitlines()
    bad = lines[5].split(",")
    lines[5] = ",".join([*bad[:2], "2027-13-45", *bad[3:]])
    events = tmp_path / "events.csv"
    events.write_text("\n".join(lines) + "\n", encoding="utf-8")
    data = ROOT / "plans" / "data"
    dataset, problems = api.load_data(str(events), str(data / "roster.csv"),
                                      quotas=str(data / "quotas.csv"), fx=str(data / "fx.csv"),
                                      territories=str(data / "territories.csv"), plan=plan)
    assert [d.code for d in problems if d.is_error] == ["D-DATE"]
    assert "events.csv:6:" in api.render_all(problems, {})
    assert bad[0] not in {e.id for e in dataset.events} and len(dataset.events) == len(lines) - 2
    assert api.run(plan, dataset).statements
