"""Progress of loading, evaluating and writing JSON (incentive_dsl/progress.py): each stage
is announced with its size and advanced within it; the command line shows a bar on a terminal
and nothing when stderr is not one."""

from __future__ import annotations

import io

from incentive_dsl import api, cli
from incentive_dsl.progress import EVERY, TerminalMeter
from tests.shipped import DATA, ROOT


class Recorder:
    def __init__(self) -> None:
        self.stages: list[tuple[str, int]] = []
        self.updates: dict[str, list[int]] = {}

    def stage(self, name: str, total: int) -> None:
        self.stages.append((name, total))
        self.updates[name] = []

    def update(self, done: int) -> None:
        self.updates[self.stages[-1][0]].append(done)


def _load(meter=None):
    plan = api.load_plan(str(ROOT / "plans" / "enterprise_ae.plan")).plan
    dataset, _ = api.load_data(str(DATA / "events.csv"), str(DATA / "roster.csv"),
                               quotas=str(DATA / "quotas.csv"), fx=str(DATA / "fx.csv"),
                               territories=str(DATA / "territories.csv"), plan=plan, meter=meter)
    return plan, dataset


def test_loading_and_evaluating_report_each_stage_and_advance():
    meter = Recorder()
    plan, dataset = _load(meter)
    result = api.run(plan, dataset, meter=meter)
    names = [name for name, _ in meter.stages]
    assert names == ["reading events.csv", "reading roster.csv", "reading quotas.csv",
                     "reading fx.csv", "reading territories.csv", "checking the files together",
                     "evaluating: credits", "evaluating: earnings",
                     "evaluating: clawbacks and caps", "evaluating: payouts",
                     "evaluating: statements"]
    totals = dict(meter.stages)
    lines = (DATA / "events.csv").read_text().count("\n")
    assert totals["reading events.csv"] == lines
    assert totals["evaluating: credits"] == len(dataset.events)
    assert totals["evaluating: earnings"] == len(result.credits)
    assert totals["evaluating: payouts"] == len(result.earnings)
    assert totals["evaluating: statements"] == len({p.id for p in dataset.payees})  # looked at
    # Each counted stage ends at its size: a bar never stops short.
    for name in ("evaluating: earnings", "evaluating: payouts"):
        assert meter.updates[name][-1] == totals[name], name
    # 15,895 events: updates at every EVERY lines or events, never past the stage's size.
    assert meter.updates["reading events.csv"] == list(range(EVERY, lines + 1, EVERY))
    for name, total in meter.stages:
        done = meter.updates[name]
        assert done == sorted(done) and all(0 <= d <= total for d in done), name
    assert meter.updates["evaluating: credits"] and meter.updates["evaluating: earnings"]


def test_terminal_meter_draws_a_bar_with_the_stage_names():
    from rich.console import Console

    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100)
    plan, dataset = _load()
    with TerminalMeter(console) as meter:
        api.run(plan, dataset, meter=meter)
    text = out.getvalue()
    assert "evaluating: credits" in text and "evaluating: payouts" in text


def test_nothing_is_shown_when_stderr_is_not_a_terminal(capsys, tmp_path):
    out = tmp_path / "statements.csv"
    code = cli.main(["run", str(ROOT / "plans" / "enterprise_ae.plan"), "--data", str(DATA),
                     "--format", "csv", "--output", str(out)])
    assert code == cli.EXIT_OK
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""
    assert out.read_text().startswith("payee,pay_period,")


def test_writing_json_reports_the_records_written(monkeypatch):
    from incentive_dsl.audit import render

    monkeypatch.setattr(render, "EVERY", 100)  # the sample run writes a few thousand records
    plan, dataset = _load()
    result = api.run(plan, dataset)
    meter, out = Recorder(), io.StringIO()
    render.write_json(out, result, meter=meter)
    records = (len(result.statements) + len(result.payouts) + len(result.earnings)
               + len(result.credits) + len(result.skips))
    assert meter.stages == [("writing JSON", records)] and records > 1000
    assert meter.updates["writing JSON"] == list(range(100, records + 1, 100))
    plain = io.StringIO()
    render.write_json(plain, result)
    assert out.getvalue() == plain.getvalue()  # told or not, the same document
